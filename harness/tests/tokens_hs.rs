//! Shared-secret tokens (HS256/384/512) in the real runtime: accepted only with `JWT_SECRET`
//! and the algorithm listed, next to the public-key algorithms; every key-confusion direction
//! is the uniform 401 and the origin sees nothing; a too-short secret is a 500 naming it.

use e2e::idp::mac_with;
use e2e::keys::{b64url, compact, random_bytes, signing_input};
use e2e::{check_all, Alg, Harness, HsAlg, IdentityProvider};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Both modes: the IdP's three key types and its shared secret for the three HS algorithms.
fn both_modes() -> &'static Harness {
    static BOTH: OnceLock<Harness> = OnceLock::new();
    BOTH.get_or_init(|| {
        Harness::start_with(|config, idp| {
            config
                .auth_var("ALLOWED_ALGS", "ES256,EdDSA,RS256,HS256,HS384,HS512")
                .auth_var("JWT_SECRET", idp.jwt_secret_b64())
        })
    })
}

fn claims(idp: &IdentityProvider, sub: &str) -> Value {
    idp.standard_claims(sub, &["user", "hs"])
}

/// A named token; `Debug` shows the name only.
struct Case {
    name: String,
    token: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

fn case(name: impl Into<String>, token: String) -> Case {
    Case {
        name: name.into(),
        token,
    }
}

#[test]
fn every_hs_algorithm_reaches_the_origin_with_its_identity_also_when_cached() {
    let h = both_modes();
    check_all(&HsAlg::ALL, |&alg| {
        let sub = format!("hs-{}", alg.name());
        let token = h.idp.mint_hs(alg, claims(&h.idp, &sub));
        for cached in [false, true] {
            let r = h.get("/hello").bearer(&token).send();
            if r.status != 200 {
                return Err(format!(
                    "status {} (cached {cached}): {}",
                    r.status,
                    r.text()
                ));
            }
            let seen = h.seen(&r);
            let [seen] = seen.as_slice() else {
                return Err(format!("origin saw {seen:?}"));
            };
            if seen.header("x-user-id") != Some(sub.as_str())
                || seen.header("x-user-roles") != Some(r#"["user","hs"]"#)
            {
                return Err(format!("origin saw {seen:?}"));
            }
            let line = h.log_line("authz", &r).ok_or("no authz log line")?;
            if line["alg"] != alg.name() || line["cached"].as_bool().unwrap_or(false) != cached {
                return Err(format!("log line {line}"));
            }
        }
        Ok(())
    });
    // The public-key algorithms still work next to them.
    check_all(&Alg::ALL, |&alg| {
        let r = h
            .get("/hello")
            .bearer(&h.idp.mint(alg, claims(&h.idp, "pk")))
            .send();
        match (r.status, h.seen(&r).as_slice()) {
            (200, [seen]) if seen.header("x-user-id") == Some("pk") => Ok(()),
            (status, seen) => Err(format!("{status}: origin saw {seen:?}")),
        }
    });
}

#[test]
fn key_confusion_and_forgeries_are_the_uniform_401() {
    let h = both_modes();
    let idp = &h.idp;
    let rsa = idp.key(Alg::Rs256);
    let es = idp.key(Alg::Es256);
    let payload = claims(idp, "mallory").to_string();
    let hs = |kid: Option<&str>| match kid {
        Some(kid) => json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string(),
        None => json!({"alg": "HS256", "typ": "JWT"}).to_string(),
    };
    let good = idp.mint_hs(HsAlg::Hs256, claims(idp, "mallory"));
    let (head, tag) = good.rsplit_once('.').unwrap_or_default();
    let tag = base64_decode(tag);
    let mut cases = Vec::new();
    // CVE-2015-9235: the MAC keyed with the issuer's public key, as PEM and as JWK text, with
    // and without the key's kid.
    for (what, key) in [
        ("RSA public PEM", rsa.public_pem()),
        ("RSA public JWK", rsa.public_jwk().to_string()),
        ("EC public JWK", es.public_jwk().to_string()),
        ("JWKS document", idp.jwks().to_string()),
    ] {
        for kid in [None, Some(rsa.kid())] {
            cases.push(case(
                format!("HS256 keyed with the {what}, kid {kid:?}"),
                mac_with(HsAlg::Hs256, key.as_bytes(), &hs(kid), &payload),
            ));
        }
    }
    cases.push(case(
        "HS256 under another secret",
        mac_with(HsAlg::Hs256, &random_bytes(64), &hs(None), &payload),
    ));
    cases.push(case(
        "HS512 under the first 32 bytes of the secret",
        mac_with(
            HsAlg::Hs512,
            idp.jwt_secret().get(..32).unwrap_or_default(),
            &json!({"alg": "HS512"}).to_string(),
            &payload,
        ),
    ));
    cases.push(case("HS384 header over an HS256 MAC", {
        let header = json!({"alg": "HS384", "typ": "JWT"}).to_string();
        let input = signing_input(&header, &payload);
        let mac = e2e::keys::hmac(HsAlg::Hs256, idp.jwt_secret(), input.as_bytes());
        format!("{input}.{}", b64url(&mac))
    }));
    for len in [0, 16, 31] {
        cases.push(case(
            format!("HS256 MAC truncated to {len} bytes"),
            format!("{head}.{}", b64url(tag.get(..len).unwrap_or_default())),
        ));
    }
    cases.push(case(
        "alg none",
        compact(&json!({"alg": "none"}).to_string(), &payload, &[]),
    ));
    cases.push(case(
        "alg hs256 (wrong case)",
        mac_with(
            HsAlg::Hs256,
            idp.jwt_secret(),
            &json!({"alg": "hs256"}).to_string(),
            &payload,
        ),
    ));
    check_all(&cases, |c| {
        let r = h.get("/hello").bearer(&c.token).send();
        h.check_invalid_token(&r)
    });
}

#[test]
fn hs256_only_refuses_every_other_algorithm() {
    let h = Harness::start_with(|config, idp| {
        config
            .without_auth_var("JWKS_URL")
            .auth_var("ALLOWED_ALGS", "HS256")
            .auth_var(
                "JWT_SECRET",
                b64url(idp.jwt_secret().get(..32).unwrap_or_default()),
            )
    });
    let idp = &h.idp;
    let ok = mac_with(
        HsAlg::Hs256,
        idp.jwt_secret().get(..32).unwrap_or_default(),
        &json!({"alg": "HS256", "typ": "JWT"}).to_string(),
        &claims(idp, "only-hs256").to_string(),
    );
    let r = h.get("/hello").bearer(&ok).send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header("x-user-id"), Some("only-hs256"));

    let mut cases: Vec<Case> = [HsAlg::Hs384, HsAlg::Hs512]
        .into_iter()
        .map(|alg| case(alg.name(), idp.mint_hs(alg, claims(idp, "x"))))
        .collect();
    cases.extend(
        Alg::ALL
            .into_iter()
            .map(|alg| case(alg.name(), idp.mint(alg, claims(idp, "x")))),
    );
    check_all(&cases, |c| {
        let r = h.get("/hello").bearer(&c.token).send();
        h.check_invalid_token(&r)?;
        let line = h.log_line("auth", &r).ok_or("no auth log line")?;
        if line["reason"] != "ERR_JOSE_ALG_NOT_ALLOWED" {
            return Err(format!("log line {line}"));
        }
        Ok(())
    });
    assert_eq!(
        idp.hits(),
        0,
        "the JWKS was fetched with only HS256 allowed"
    );
}

#[test]
fn a_jwt_secret_shorter_than_hs512_needs_is_a_500_naming_it() {
    let h = Harness::start_with(|config, idp| {
        config.auth_var("ALLOWED_ALGS", "ES256,HS512").auth_var(
            "JWT_SECRET",
            b64url(idp.jwt_secret().get(..48).unwrap_or_default()),
        )
    });
    for token in [
        h.idp.mint_hs(HsAlg::Hs512, claims(&h.idp, "x")),
        h.idp.token("user", &["user"]),
    ] {
        let r = h.get("/hello").bearer(&token).send();
        h.assert_status(&r, 500);
        h.assert_not_forwarded(&r);
        let id = h.request_id(&r).expect("a request id on the refusal");
        // The config error is an event line of its own (no `worker` member) with the request's
        // id; the output may take a moment to be written.
        let named = || {
            h.stack.log().lines().any(|line| {
                let Some(json) = line.find('{').and_then(|at| line.get(at..)) else {
                    return false;
                };
                let line: Value = serde_json::from_str(json).unwrap_or_default();
                line["request_id"] == id.as_str()
                    && line["config_error"] == "server_misconfigured"
                    && line["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("JWT_SECRET") && d.contains("64 bytes"))
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !named() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            named(),
            "no config error naming JWT_SECRET:\n{}",
            h.log_tail()
        );
        let secret = h.idp.jwt_secret_b64();
        assert!(
            !h.stack.log().contains(&secret[..40]),
            "the secret reached the log"
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_default()
}
