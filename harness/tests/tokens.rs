//! Token verification in the real runtime: every algorithm is accepted, and every attack class
//! gets the same 401 invalid_token answer without reaching the origin.

use e2e::keys::{self, b64url, compact, hs256, signing_input};
use e2e::{check_all, Alg, Harness, IdentityProvider, Key};
use serde_json::{json, Value};

/// A named token; `Debug` shows the name only (tokens can be a megabyte long).
struct Case {
    name: &'static str,
    token: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn case(name: &'static str, token: String) -> Case {
    Case { name, token }
}

fn header(key: &Key) -> Value {
    json!({"alg": key.alg().name(), "typ": "JWT", "kid": key.kid()})
}

fn claims(idp: &IdentityProvider) -> Value {
    idp.standard_claims("user", &["user"])
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// Signs exact JSON text with `key` (header text included verbatim).
fn signed(key: &Key, header_json: &str, payload_json: &str) -> String {
    e2e::idp::sign_with(key, header_json, payload_json)
}

#[test]
fn every_algorithm_is_accepted() {
    let h = Harness::shared();
    check_all(&Alg::ALL, |&alg| {
        let token = h.idp.mint(alg, h.idp.standard_claims("user", &["user"]));
        let r = h.get("/hello").bearer(&token).send();
        if r.status != 200 {
            return Err(format!("status {}: {}", r.status, r.text()));
        }
        match h.seen(&r).as_slice() {
            [seen] if seen.header("x-user-id") == Some("user") => Ok(()),
            other => Err(format!("origin saw {other:?}")),
        }
    });
}

fn header_attacks(h: &Harness, attacker: &IdentityProvider) -> Vec<Case> {
    let idp = &h.idp;
    let es = idp.key(Alg::Es256);
    let rsa = idp.key(Alg::Rs256);
    let ed = idp.key(Alg::EdDsa);
    let payload = claims(idp).to_string();
    let evil = attacker.key(Alg::Es256);

    let none_header = json!({"alg": "none", "typ": "JWT"}).to_string();
    let hs_header = json!({"alg": "HS256", "typ": "JWT", "kid": rsa.kid()}).to_string();
    let hs_input = signing_input(&hs_header, &payload);
    let rsa_jwk = rsa.public_jwk().to_string();
    let rsa_pem = rsa.public_pem();

    let mut cases = vec![
        case(
            "alg none, empty signature",
            compact(&none_header, &payload, &[]),
        ),
        case(
            "alg None with a listed kid",
            compact(
                &json!({"alg": "None", "kid": es.kid()}).to_string(),
                &payload,
                &[],
            ),
        ),
        case(
            "HS256 keyed with the RSA public JWK",
            format!(
                "{hs_input}.{}",
                b64url(&hs256(rsa_jwk.as_bytes(), hs_input.as_bytes()))
            ),
        ),
        case(
            "HS256 keyed with the RSA public PEM",
            format!(
                "{hs_input}.{}",
                b64url(&hs256(rsa_pem.as_bytes(), hs_input.as_bytes()))
            ),
        ),
    ];
    for (name, kid) in [
        ("kid path traversal", "../../etc/passwd"),
        ("kid SQL injection", "' OR 1=1 --"),
    ] {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
        cases.push(case(name, idp.mint_with_header(header, claims(idp))));
    }
    for (name, member) in [("jku", "jku"), ("x5u", "x5u")] {
        let header =
            json!({"alg": "ES256", "typ": "JWT", "kid": evil.kid(), member: attacker.jwks_url()});
        cases.push(case(name, signed(&evil, &header.to_string(), &payload)));
    }
    let embedded =
        json!({"alg": "ES256", "typ": "JWT", "kid": evil.kid(), "jwk": evil.public_jwk()});
    cases.push(case(
        "embedded jwk",
        signed(&evil, &embedded.to_string(), &payload),
    ));
    let embedded_listed_kid =
        json!({"alg": "ES256", "typ": "JWT", "kid": es.kid(), "jwk": evil.public_jwk()});
    cases.push(case(
        "embedded jwk with a listed kid",
        signed(&evil, &embedded_listed_kid.to_string(), &payload),
    ));

    let es_header = header(&es).to_string();
    let es_input = signing_input(&es_header, &payload);
    let valid_sig = es.sign(es_input.as_bytes());
    // The P-256 group order n: r = n is out of range and must not verify.
    let n = hex_bytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut r_is_n = n.clone();
    r_is_n.extend_from_slice(valid_sig.get(32..).unwrap_or_default());
    let mut r_s_n = n.clone();
    r_s_n.extend_from_slice(&n);
    cases.extend([
        case("ECDSA r = s = 0", compact(&es_header, &payload, &[0; 64])),
        case("ECDSA r = n", compact(&es_header, &payload, &r_is_n)),
        case("ECDSA r = s = n", compact(&es_header, &payload, &r_s_n)),
        case(
            "ECDSA DER signature",
            compact(
                &es_header,
                &payload,
                &es.sign_der(es_input.as_bytes()).unwrap_or_default(),
            ),
        ),
        case(
            "ECDSA signature with a trailing byte",
            compact(&es_header, &payload, &[valid_sig.clone(), vec![0]].concat()),
        ),
    ]);

    let crit = json!({"alg": "ES256", "typ": "JWT", "kid": es.kid(), "crit": ["x-unknown"], "x-unknown": true});
    let b64 = json!({"alg": "ES256", "typ": "JWT", "kid": es.kid(), "b64": false, "crit": ["b64"]});
    let nested_header = json!({"alg": "ES256", "typ": "JWT", "kid": es.kid(), "cty": "JWT"});
    let inner = idp.mint(Alg::Es256, claims(idp));
    cases.extend([
        case("unknown crit", signed(&es, &crit.to_string(), &payload)),
        case("b64 false", signed(&es, &b64.to_string(), &payload)),
        case(
            "cty JWT nested token",
            signed(&es, &nested_header.to_string(), &inner),
        ),
    ]);

    // Duplicate members: a parser that keeps the last one would see a valid token.
    let kid = es.kid();
    let dup_alg = format!(r#"{{"alg":"none","alg":"ES256","typ":"JWT","kid":"{kid}"}}"#);
    let dup_alg_rev = format!(r#"{{"alg":"ES256","alg":"none","typ":"JWT","kid":"{kid}"}}"#);
    let c = claims(idp);
    let (iss, exp, iat) = (&c["iss"], &c["exp"], &c["iat"]);
    let aud = e2e::idp::DEMO_AUDIENCE;
    let dup_iss = format!(
        r#"{{"iss":"https://evil.example","iss":{iss},"aud":"{aud}","sub":"user","roles":["user"],"iat":{iat},"exp":{exp}}}"#
    );
    let dup_sub = format!(
        r#"{{"iss":{iss},"aud":"{aud}","sub":"user","sub":"admin","roles":["admin"],"iat":{iat},"exp":{exp}}}"#
    );
    cases.extend([
        case(
            "duplicate alg (none first)",
            signed(&es, &dup_alg, &payload),
        ),
        case(
            "duplicate alg (none last)",
            signed(&es, &dup_alg_rev, &payload),
        ),
        case("duplicate iss", signed(&es, &es_header, &dup_iss)),
        case("duplicate sub", signed(&es, &es_header, &dup_sub)),
    ]);

    // The key's family must match the algorithm the header names.
    cases.extend([
        case(
            "ES256 header, RSA kid, RSA signature",
            signed(
                &rsa,
                &json!({"alg": "ES256", "typ": "JWT", "kid": rsa.kid()}).to_string(),
                &payload,
            ),
        ),
        case(
            "RS256 header, EC kid, EC signature",
            signed(
                &es,
                &json!({"alg": "RS256", "typ": "JWT", "kid": es.kid()}).to_string(),
                &payload,
            ),
        ),
        case(
            "EdDSA header, EC kid, EC signature",
            signed(
                &es,
                &json!({"alg": "EdDSA", "typ": "JWT", "kid": es.kid()}).to_string(),
                &payload,
            ),
        ),
        case(
            "ES256 header, Ed25519 kid, Ed25519 signature",
            signed(
                &ed,
                &json!({"alg": "ES256", "typ": "JWT", "kid": ed.kid()}).to_string(),
                &payload,
            ),
        ),
        case(
            "unknown kid",
            idp.mint_with_header(
                json!({"alg": "ES256", "typ": "JWT", "kid": keys::random_id()}),
                claims(idp),
            ),
        ),
        case(
            "signed by a key the IdP never listed",
            signed(&evil, &es_header, &payload),
        ),
    ]);
    cases
}

fn claim_attacks(idp: &IdentityProvider) -> Vec<Case> {
    let now = e2e::idp::now();
    let mint = |claims: Value| idp.mint(Alg::Es256, claims);
    let c = || claims(idp);
    vec![
        case("aud empty array", mint(with(c(), "aud", json!([])))),
        case("aud a number", mint(with(c(), "aud", json!(123)))),
        case(
            "exp a string",
            mint(with(c(), "exp", json!((now + 600).to_string()))),
        ),
        case("exp 1e300", mint(with(c(), "exp", json!(1e300)))),
        case(
            "nbf a string",
            mint(with(c(), "nbf", json!(now.to_string()))),
        ),
        case("nbf 1e300", mint(with(c(), "nbf", json!(1e300)))),
        case(
            "iat in the future",
            mint(with(c(), "iat", json!(now + 3600))),
        ),
        case(
            "expired",
            mint(with(
                with(c(), "exp", json!(now - 3600)),
                "iat",
                json!(now - 7200),
            )),
        ),
        case("not yet valid", mint(with(c(), "nbf", json!(now + 3600)))),
        case(
            "wrong issuer",
            mint(with(c(), "iss", json!("https://evil.example"))),
        ),
        case(
            "issuer with a trailing slash",
            mint(with(c(), "iss", json!(format!("{}/", idp.issuer())))),
        ),
        case(
            "wrong audience",
            mint(with(c(), "aud", json!("someone-else"))),
        ),
        case("no exp", {
            let mut claims = c();
            claims.as_object_mut().map(|o| o.remove("exp"));
            mint(claims)
        }),
        case(
            "claims not an object",
            idp.sign_raw(
                Alg::Es256,
                &header(&idp.key(Alg::Es256)).to_string(),
                "[1,2]",
            ),
        ),
        case(
            "a 16 KiB token",
            mint(with(c(), "pad", json!("a".repeat(16 * 1024)))),
        ),
        case("garbage", "not.a.token".to_string()),
        case("two parts", "eyJhbGciOiJFUzI1NiJ9.e30".to_string()),
    ]
}

#[test]
fn header_and_signature_attacks_are_rejected() {
    let h = Harness::shared();
    let attacker = IdentityProvider::start().expect("attacker IdP");
    let cases = header_attacks(h, &attacker);
    check_all(&cases, |c| reject(h, &c.token));
    // The Worker must never have followed jku/x5u to the attacker's key set.
    assert_eq!(attacker.hits(), 0, "the Worker fetched the attacker's JWKS");
}

#[test]
fn claim_attacks_are_rejected() {
    let h = Harness::shared();
    check_all(&claim_attacks(&h.idp), |c| reject(h, &c.token));
}

fn reject(h: &Harness, token: &str) -> Result<(), String> {
    let r = h.get("/hello").bearer(token).send();
    h.check_invalid_token(&r)?;
    // The answer never echoes the token (or any part of it).
    let signature = token.rsplit('.').next().unwrap_or("");
    if signature.len() > 8 && r.text().contains(signature) {
        return Err("the response echoes the token".into());
    }
    Ok(())
}

#[test]
fn a_megabyte_token_is_refused_without_reaching_the_origin() {
    let h = Harness::shared();
    let token = h.idp.mint(
        Alg::Es256,
        with(claims(&h.idp), "pad", json!("a".repeat(1024 * 1024))),
    );
    let request = h.get("/hello").bearer(&token);
    // The runtime may refuse the header before the Worker sees it (431/413), or cut the
    // connection; either way nothing may pass.
    match request.try_send() {
        Ok(r) => {
            assert!(
                [401, 413, 431].contains(&r.status),
                "status {}: {}",
                r.status,
                r.text()
            );
            h.assert_not_forwarded(&r);
        }
        Err(e) => eprintln!("connection refused the 1 MiB header: {e}"),
    }
    let big = h
        .origin
        .requests()
        .into_iter()
        .filter(|s| {
            s.header("authorization")
                .is_some_and(|a| a.len() > 1024 * 1024)
        })
        .count();
    assert_eq!(big, 0, "a 1 MiB token reached the origin");
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// `email_verified` decides whether the e-mail reaches the origin: only the JSON boolean `true`
/// (or no such claim, by default) lets it through; the auth Worker's log line says why not. The
/// same holds when the token comes from the isolate's cache of verified tokens.
#[test]
fn an_unverified_email_never_reaches_the_origin() {
    let h = Harness::shared();
    let cases: Vec<(String, Option<Value>, Option<&str>)> = vec![
        ("true".into(), Some(json!(true)), None),
        ("absent".into(), None, None),
        ("false".into(), Some(json!(false)), Some("email_unverified")),
        (
            "string".into(),
            Some(json!("true")),
            Some("email_unverified"),
        ),
        ("null".into(), Some(Value::Null), Some("email_unverified")),
        ("number".into(), Some(json!(1)), Some("email_unverified")),
    ];
    check_all(&cases, |(name, verified, withheld)| {
        let email = format!("{name}-{}@example.com", keys::random_id());
        let mut claims = h.idp.standard_claims("user", &["user"]);
        claims["email"] = json!(email);
        if let Some(verified) = verified {
            claims["email_verified"] = verified.clone();
        }
        let token = h.idp.mint(Alg::Es256, claims);
        // The second request is answered from the cache of verified tokens.
        for round in ["verified", "cached"] {
            let r = h.get("/hello").bearer(&token).send();
            if r.status != 200 {
                return Err(format!("{round}: status {}: {}", r.status, r.text()));
            }
            let seen = h.seen(&r);
            let [seen] = seen.as_slice() else {
                return Err(format!("{round}: origin saw {} requests", seen.len()));
            };
            let expected = withheld.is_none().then_some(email.as_str());
            if seen.header("x-user-email") != expected {
                return Err(format!(
                    "{round}: X-User-Email {:?}, expected {expected:?}",
                    seen.header("x-user-email")
                ));
            }
            if withheld.is_some() && seen.headers.iter().any(|(_, v)| v.contains(&email)) {
                return Err(format!("{round}: the unverified e-mail reached the origin"));
            }
            // Forwarded: the authz Worker writes the request's one line, with the auth Worker's
            // facts from the context.
            let line = h.log_line("authz", &r).ok_or("no authz log line")?;
            if line["email_withheld"].as_str() != *withheld {
                return Err(format!("{round}: log line {line}"));
            }
            if line["cached"].as_bool().unwrap_or(false) != (round == "cached") {
                return Err(format!("{round}: log line {line}"));
            }
        }
        Ok(())
    });
}

/// A `sub` or e-mail that cannot go in a header as it is: refused (401 invalid_token), never
/// rewritten, nothing reaches the origin, and the log line names the reason.
#[test]
fn an_identity_unsafe_for_a_header_is_refused_with_its_own_reason() {
    let h = Harness::shared();
    let unsafe_values = [
        "jos\u{e9}",
        "alice\nX-User-Roles: [\"admin\"]",
        "alice\r\n",
        " alice",
        "tab\tbed",
        "del\u{7f}",
        "\u{1f600}",
    ];
    let mut cases = Vec::new();
    for value in unsafe_values {
        cases.push(("sub", value));
        cases.push(("email", value));
    }
    check_all(&cases, |&(claim, value)| {
        let mut claims = h.idp.standard_claims("user", &["user"]);
        claims[claim] = json!(value);
        let token = h.idp.mint(Alg::Es256, claims);
        let r = h.get("/hello").bearer(&token).send();
        h.check_invalid_token(&r)?;
        let line = h.log_line("auth", &r).ok_or("no auth log line")?;
        if line["reason"] != "unsafe_identity_value" || line["outcome"] != "invalid_token" {
            return Err(format!("log line {line}"));
        }
        Ok(())
    });
}
