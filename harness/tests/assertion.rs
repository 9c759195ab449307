//! The assertion to the origin (`X-Edge-Auth-Assertion`), end to end: every forwarded request
//! carries a JWS the authz Worker signed, which an independent verifier (the `jsonwebtoken`
//! crate, and `jose` under Node) accepts against the gateway's published JWK Set, with claims
//! that say exactly what the origin received. Clients' copies never get through; with no key
//! configured there is no header and the published set is empty.

use e2e::{check_all, Alg, AssertionKey, Harness, Response, Seen};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::OnceLock;

const JWKS_PATH: &str = "/.well-known/edge-auth/jwks.json";
const HEADER: &str = "x-edge-auth-assertion";

/// A stack signing with `key`, publishing `previous` as its previous key when given.
fn stack(key: &AssertionKey, previous: Option<&AssertionKey>) -> Harness {
    let (var, value) = key.var();
    let previous = previous.and_then(AssertionKey::public_jwk);
    Harness::start_with(|config, _| {
        let config = config.authz_var(var, value);
        match previous {
            Some(jwk) => config.authz_var("ASSERTION_PREVIOUS_PUBLIC_JWK", jwk.to_string()),
            None => config,
        }
    })
}

/// The P-256 key that the EdDSA stack publishes as its previous key, and the ES256 stack signs
/// with: a rotation seen from both sides.
fn rotated_key() -> &'static AssertionKey {
    static KEY: OnceLock<AssertionKey> = OnceLock::new();
    KEY.get_or_init(AssertionKey::p256)
}

fn eddsa() -> &'static (Harness, AssertionKey) {
    static STACK: OnceLock<(Harness, AssertionKey)> = OnceLock::new();
    STACK.get_or_init(|| {
        let key = AssertionKey::ed25519();
        (stack(&key, Some(rotated_key())), key)
    })
}

fn es256() -> &'static Harness {
    static STACK: OnceLock<Harness> = OnceLock::new();
    STACK.get_or_init(|| stack(rotated_key(), None))
}

/// The gateway's published key set, fetched through the auth Worker (which must not forward it).
fn published(h: &Harness) -> (Response, Value) {
    let response = h.get(JWKS_PATH).send();
    h.assert_status(&response, 200);
    h.assert_not_forwarded(&response);
    let set = response.json();
    (response, set)
}

/// The assertion the origin saw, verified by `jsonwebtoken` against `set` (or the HS512
/// `secret`): `typ`, `alg`, `kid`, signature, `iss` = the gateway, `aud` = the origin, `exp`.
fn verified(h: &Harness, seen: &Seen, set: &Value, secret: Option<&[u8]>) -> Value {
    let all = seen.header_all(HEADER);
    assert_eq!(all.len(), 1, "exactly one assertion header: {all:?}");
    let jwt = all[0];
    let header = jsonwebtoken::decode_header(jwt).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("edge-auth+jwt"));
    let (alg, key) = match secret {
        Some(secret) => {
            assert_eq!(header.kid, None, "HS512 names no key");
            (Algorithm::HS512, DecodingKey::from_secret(secret))
        }
        None => {
            let set: JwkSet = serde_json::from_value(set.clone()).expect("a JWK Set");
            let kid = header.kid.as_deref().expect("a kid");
            let jwk = set.find(kid).expect("the kid is published");
            (
                header.alg,
                DecodingKey::from_jwk(jwk).expect("a usable JWK"),
            )
        }
    };
    assert_eq!(header.alg, alg);
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[h.stack.url()]);
    validation.set_audience(&[h.origin.url()]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("the assertion does not verify: {e}\n{}", h.log_tail()))
        .claims
}

/// `path` and `htm` are what the origin received, `jti` its request id, `exp - iat` the TTL.
fn check_request_claims(claims: &Value, seen: &Seen, ttl: i64) {
    let forwarded = match &seen.query {
        Some(query) => format!("{}?{query}", seen.path),
        None => seen.path.clone(),
    };
    assert_eq!(claims["path"], forwarded.as_str(), "{claims}");
    assert_eq!(claims["htm"], seen.method.as_str(), "{claims}");
    assert_eq!(
        claims["jti"],
        seen.header("x-request-id").unwrap_or("?"),
        "{claims}"
    );
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, ttl, "{claims}");
    let now = e2e::idp::now() as i64;
    assert!((now - 5..=now + 1).contains(&iat), "iat {iat}, now {now}");
}

#[test]
fn eddsa_assertions_verify_against_the_published_set_and_say_what_the_origin_received() {
    let (h, key) = eddsa();
    let (response, set) = published(h);
    assert_eq!(
        response.header("content-type"),
        Some("application/jwk-set+json")
    );
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    let mut current = key.public_jwk().unwrap();
    current["alg"] = json!("EdDSA");
    current["use"] = json!("sig");
    let mut previous = rotated_key().public_jwk().unwrap();
    previous["alg"] = json!("ES256");
    previous["use"] = json!("sig");
    assert_eq!(set, json!({"keys": [current, previous]}));
    let line = h
        .log_line("authz", &response)
        .expect("the authz Worker's log line");
    assert_eq!(line["outcome"], "served");
    assert_eq!(line["reason"], "gateway_jwks");

    // A token that is itself delegated: its `act` nests inside the gateway's.
    let mut claims = h.idp.standard_claims("alice", &["admin", "ops"]);
    claims["scope"] = json!("read write");
    claims["email"] = json!("alice@example.com");
    claims["email_verified"] = json!(true);
    claims["act"] = json!({"sub": "svc-reports", "act": {"sub": "cli"}});
    let token = h.idp.mint(Alg::EdDsa, claims);
    let cases = [
        ("GET", "/hello?b=2&a=1"),
        ("DELETE", "/Items/./7/?x=%2F"),
        ("PATCH", "/hello/x"),
        ("POST", "/admin//reports/../stats"),
        ("PUT", "/hello?"),
    ];
    check_all(&cases, |&(method, target)| {
        let response = h.request(method, target).bearer(&token).send();
        if response.status != 200 {
            return Err(format!("status {}: {}", response.status, response.text()));
        }
        let seen = h.seen_once(&response);
        let claims = verified(h, &seen, &set, None);
        check_request_claims(&claims, &seen, 60);
        let rule = if target.starts_with("/admin") {
            "admin-area"
        } else {
            "default-authenticated"
        };
        let expected = json!({
            "sub": "alice", "roles": ["admin", "ops"], "scope": "read write",
            "email": "alice@example.com", "idp": h.idp.issuer(), "rule": rule,
            "act": {"sub": "edge-auth", "act": {"sub": "svc-reports", "act": {"sub": "cli"}}},
        });
        for (name, value) in expected.as_object().unwrap() {
            if &claims[name] != value {
                return Err(format!("{name}: {} instead of {value}", claims[name]));
            }
        }
        Ok(())
    });
}

#[test]
fn an_anonymous_request_is_asserted_without_a_subject() {
    let (h, _) = eddsa();
    let (_, set) = published(h);
    let response = h.get("/health").send();
    h.assert_status(&response, 200);
    let seen = h.seen_once(&response);
    let claims = verified(h, &seen, &set, None);
    check_request_claims(&claims, &seen, 60);
    for absent in ["sub", "roles", "scope", "email", "idp"] {
        assert!(claims.get(absent).is_none(), "{absent} in {claims}");
    }
    assert_eq!(claims["rule"], "health");
    assert_eq!(claims["act"], json!({"sub": "edge-auth"}));
}

#[test]
fn a_clients_copy_of_the_assertion_never_reaches_the_origin() {
    let (h, _) = eddsa();
    let (_, set) = published(h);
    let token = h.token("user", &["user"]);
    let forged = [
        "X-Edge-Auth-Assertion",
        "x-edge-auth-assertion",
        "X-EDGE-AUTH-ASSERTION",
        "x_edge_auth_assertion",
        "X_Edge_Auth_Assertion",
        "x-edge_auth.assertion",
    ];
    check_all(&forged, |name| {
        for (target, bearer) in [("/hello", Some(&token)), ("/health", None)] {
            let value = format!("forged.{}.assertion", name.len());
            let mut request = h.get(target).header(name, &value);
            if let Some(token) = bearer {
                request = request.bearer(token);
            }
            let response = request.send();
            let seen = h.seen_once(&response);
            if let Some((n, _)) = seen.headers.iter().find(|(_, v)| v.contains(&value)) {
                return Err(format!(
                    "{target}: the origin received the client's copy as {n}"
                ));
            }
            // What it got instead is the gateway's, and it verifies.
            verified(h, &seen, &set, None);
        }
        Ok(())
    });
}

#[test]
fn an_assertion_signed_under_the_previous_key_verifies_against_the_published_set() {
    let h = es256();
    let (_, own) = published(h);
    let (eddsa, _) = eddsa();
    let (_, rotated) = published(eddsa);
    let response = h.get("/hello").bearer(&h.token("bob", &["user"])).send();
    h.assert_status(&response, 200);
    let seen = h.seen_once(&response);
    let header = jsonwebtoken::decode_header(seen.header(HEADER).unwrap()).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), rotated_key().kid());
    // Against its own set and against the set of the stack that lists it as the previous key.
    for set in [&own, &rotated] {
        let claims = verified(h, &seen, set, None);
        assert_eq!(claims["sub"], "bob");
        check_request_claims(&claims, &seen, 60);
    }
}

#[test]
fn hs512_assertions_verify_with_the_secret_and_publish_no_key() {
    let key = AssertionKey::hs512();
    let h = Harness::start_with(|config, _| {
        let (var, value) = key.var();
        config
            .authz_var(var, value)
            .authz_var("ASSERTION_TTL_SECONDS", "5")
    });
    let (_, set) = published(&h);
    assert_eq!(set, json!({"keys": []}));
    let response = h.get("/hello").bearer(&h.token("carol", &[])).send();
    h.assert_status(&response, 200);
    let seen = h.seen_once(&response);
    let claims = verified(&h, &seen, &set, key.secret());
    assert_eq!(claims["sub"], "carol");
    assert_eq!(claims["roles"], json!([]));
    check_request_claims(&claims, &seen, 5);
    // Another secret does not verify it.
    let other = AssertionKey::hs512();
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[h.origin.url()]);
    let wrong = DecodingKey::from_secret(other.secret().unwrap());
    assert!(
        jsonwebtoken::decode::<Value>(seen.header(HEADER).unwrap(), &wrong, &validation).is_err()
    );
}

#[test]
fn without_a_key_there_is_no_assertion_and_an_empty_set() {
    let h = Harness::shared();
    let (_, set) = published(h);
    assert_eq!(set, json!({"keys": []}));
    let response = h.get("/hello").bearer(&h.token("dave", &[])).send();
    h.assert_status(&response, 200);
    assert_eq!(h.seen_once(&response).header(HEADER), None);
}

/// The README's JavaScript snippet (harness/js/verify-assertion.mjs), run with Node and the
/// `jose` package against a real assertion and the gateway's own endpoint.
#[test]
fn jose_under_node_verifies_a_real_assertion_with_the_remote_key_set() {
    let (h, _) = eddsa();
    let response = h
        .get("/hello?q=1")
        .bearer(&h.token("erin", &["user"]))
        .send();
    h.assert_status(&response, 200);
    let seen = h.seen_once(&response);
    let jwt = seen.header(HEADER).unwrap().to_owned();
    let script = e2e::stack::workspace_root().join("harness/js/verify-assertion.mjs");
    let node = |jwt: &str, audience: &str| {
        Command::new("node")
            .arg(&script)
            .args([&h.stack.url(), &h.stack.url(), audience, jwt])
            .output()
            .expect("node runs")
    };
    let out = node(&jwt, &h.origin.url());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims["sub"], "erin");
    assert_eq!(claims["path"], "/hello?q=1");
    // The same script refuses another audience and a tampered token.
    assert!(!node(&jwt, "https://other.example").status.success());
    // The signature's first character: all six of its bits are used (the last one's are not).
    let at = jwt.rfind('.').unwrap() + 1;
    let swapped = if jwt[at..].starts_with('A') { "B" } else { "A" };
    let tampered = format!("{}{swapped}{}", &jwt[..at], &jwt[at + 1..]);
    assert!(!node(&tampered, &h.origin.url()).status.success());
}
