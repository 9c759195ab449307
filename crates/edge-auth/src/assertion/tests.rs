#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use serde_json::{json, Value};

use crate::{
    authorize, gateway_endpoint, sign_context, Actor, AuthzConfig, AuthzRequest, ConfigError,
    ContextKey, Forward, Identity, Outcome, RequestBinding, RequestUrl, Rules,
};

const NOW: i64 = 1_900_000_000;
const SECRET: &str = "0123456789abcdef0123456789abcdef-assertion";
const REQUEST_ID: &str = "req-7";
/// RFC 8037 A.1.
const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// A P-256 public key computed outside this crate (see jose-jwt's sign tests).
const P256_X: &str = "wr6NHfm8JjGprrMfdpig9isdXJo7SP2tlK_LjEOVNOs";
const P256_Y: &str = "brPJYIyRt_gT8dJKJLyfzn3wezOcEKSM3vhGsWumhSs";

const RULES: &str = r#"
[[rule]]
name = "health"
path = "/health"
methods = ["GET", "HEAD"]
allow = "public"

[[rule]]
path = "/unnamed/**"

[[rule]]
name = "items"
path = "/items/**"
"#;

/// Variables of one configuration.
type Vars<'a> = &'a [(&'a str, &'a str)];

fn signing_jwk() -> String {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": "gw-1", "d": D, "x": X}).to_string()
}

fn previous_jwk() -> String {
    json!({"kty": "EC", "crv": "P-256", "kid": "gw-0", "x": P256_X, "y": P256_Y}).to_string()
}

fn config_with(vars: &[(&str, &str)]) -> Result<AuthzConfig, ConfigError> {
    let mut env: BTreeMap<String, String> = [("CONTEXT_SECRET", SECRET)]
        .into_iter()
        .chain(vars.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.retain(|_, v| !v.is_empty());
    AuthzConfig::from_env(|name| env.get(name).cloned())
}

fn assertion_config() -> AuthzConfig {
    config_with(&[
        ("ASSERTION_SIGNING_JWK", &signing_jwk()),
        ("ORIGIN_URL", "https://origin.internal:8443"),
    ])
    .unwrap()
}

fn rules() -> Rules {
    Rules::compile(RULES).unwrap()
}

fn alice() -> Identity {
    Identity {
        sub: "alice".into(),
        roles: vec!["admin".into(), "ops".into()],
        scopes: vec!["read".into(), "write".into()],
        email: Some("alice@example.com".into()),
        exp: NOW + 600,
        issuer: "https://idp.example/".into(),
        act: None,
    }
}

fn forward(config: &AuthzConfig, identity: Option<&Identity>, method: &str, url: &str) -> Forward {
    let context = identity.map(|id| {
        let split = RequestUrl::split(url).unwrap();
        let binding = RequestBinding::new(method, &split, REQUEST_ID);
        sign_context(id, &ContextKey::new(SECRET).unwrap(), &binding, NOW)
    });
    let request = AuthzRequest {
        method,
        url,
        context: context.as_deref(),
        request_id: Some(REQUEST_ID),
    };
    authorize(&request, NOW, config, &rules()).unwrap()
}

fn claims_of(forward: &Forward) -> Value {
    let assertion = forward.assertion.as_ref().expect("an assertion");
    let json = serde_json::to_value(assertion.claims()).unwrap();
    // The signing input's second part is exactly these claims.
    let part = assertion.signing_input().split('.').nth(1).unwrap();
    let signed: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    assert_eq!(signed, json);
    json
}

#[test]
fn an_authenticated_request_gets_every_claim() {
    let config = assertion_config();
    let f = forward(
        &config,
        Some(&alice()),
        "get",
        "https://api.example/items/./a//b/?q=1&r=%2F",
    );
    assert_eq!(
        f.target,
        "https://origin.internal:8443/items/a/b/?q=1&r=%2F"
    );
    assert_eq!(
        claims_of(&f),
        json!({
            "iss": "https://api.example",
            "aud": "https://origin.internal:8443",
            "sub": "alice",
            "roles": ["admin", "ops"],
            "scope": "read write",
            "email": "alice@example.com",
            "idp": "https://idp.example/",
            "iat": NOW,
            "exp": NOW + 60,
            "jti": REQUEST_ID,
            "htm": "GET",
            "path": "/items/a/b/?q=1&r=%2F",
            "rule": "items",
            "act": {"sub": "edge-auth"},
        })
    );
    // The members go out in this order (a verifier never depends on it, a reader might).
    let part = f
        .assertion
        .unwrap()
        .signing_input()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    assert!(
        text.starts_with(r#"{"iss":"https://api.example","aud":"#),
        "{text}"
    );
    assert!(
        text.ends_with(r#""rule":"items","act":{"sub":"edge-auth"}}"#),
        "{text}"
    );
}

#[test]
fn path_and_htm_are_exactly_what_is_forwarded() {
    let config = assertion_config();
    for (method, url, htm, path) in [
        ("patch", "https://api.example/items/x", "PATCH", "/items/x"),
        (
            "Delete",
            "https://api.example/ITEMS/%7E?",
            "DELETE",
            "/ITEMS/~?",
        ),
        (
            "PURGE",
            "https://api.example/items?a=1&a=2",
            "PURGE",
            "/items?a=1&a=2",
        ),
        (
            "get",
            "https://api.example/items/%61/../b?x=%2F",
            "GET",
            "/items/b?x=%2F",
        ),
    ] {
        let f = forward(&config, Some(&alice()), method, url);
        let claims = claims_of(&f);
        assert_eq!(claims["htm"], htm, "{url}");
        assert_eq!(claims["htm"], f.method.as_str(), "{url}");
        assert_eq!(claims["path"], path, "{url}");
        assert!(f.target.ends_with(path), "{} vs {path}", f.target);
    }
}

#[test]
fn an_anonymous_request_on_a_public_route_is_asserted_without_a_subject() {
    let f = forward(
        &assertion_config(),
        None,
        "GET",
        "https://api.example/health",
    );
    let claims = claims_of(&f);
    for absent in ["sub", "roles", "scope", "email", "idp"] {
        assert!(claims.get(absent).is_none(), "{absent}: {claims}");
    }
    assert_eq!(claims["rule"], "health");
    assert_eq!(claims["act"], json!({"sub": "edge-auth"}));
    assert_eq!(claims["path"], "/health");
}

#[test]
fn the_tokens_act_is_nested_under_the_gateways() {
    let act: Actor =
        serde_json::from_value(json!({"sub": "svc-a", "act": {"sub": "cli"}})).unwrap();
    let delegated = Identity {
        act: Some(act),
        email: None,
        scopes: vec![],
        roles: vec![],
        ..alice()
    };
    let config = config_with(&[
        ("ASSERTION_SIGNING_JWK", &signing_jwk()),
        ("ASSERTION_ACTOR", "gateway-eu"),
    ])
    .unwrap();
    let claims = claims_of(&forward(
        &config,
        Some(&delegated),
        "GET",
        "https://api.example/items",
    ));
    assert_eq!(
        claims["act"],
        json!({"sub": "gateway-eu", "act": {"sub": "svc-a", "act": {"sub": "cli"}}})
    );
    // No e-mail and no scopes: no claim; no roles: an empty array (the caller has none).
    assert!(claims.get("email").is_none() && claims.get("scope").is_none());
    assert_eq!(claims["roles"], json!([]));
    // Without ORIGIN_URL the audience is the request's own origin, as the issuer.
    assert_eq!(claims["aud"], "https://api.example");
    assert_eq!(claims["iss"], "https://api.example");
}

#[test]
fn an_unnamed_rule_is_named_by_its_index() {
    let claims = claims_of(&forward(
        &assertion_config(),
        Some(&alice()),
        "GET",
        "https://api.example/unnamed/x",
    ));
    assert_eq!(claims["rule"], "#2");
}

#[test]
fn issuer_audience_and_ttl_are_configurable_within_bounds() {
    for ttl in ["1", "300"] {
        let config = config_with(&[
            ("ASSERTION_SIGNING_JWK", &signing_jwk()),
            ("ASSERTION_ISSUER", "https://gateway.example"),
            ("ASSERTION_AUDIENCE", "urn:orders"),
            ("ASSERTION_TTL_SECONDS", ttl),
        ])
        .unwrap();
        let claims = claims_of(&forward(&config, None, "GET", "https://api.example/health"));
        assert_eq!(claims["iss"], "https://gateway.example");
        assert_eq!(claims["aud"], "urn:orders");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            ttl.parse::<i64>().unwrap()
        );
    }
    for ttl in ["0", "301", "-1", "60s"] {
        let err = config_with(&[
            ("ASSERTION_SIGNING_JWK", &signing_jwk()),
            ("ASSERTION_TTL_SECONDS", ttl),
        ])
        .unwrap_err();
        assert_eq!(err.var(), "ASSERTION_TTL_SECONDS", "{ttl}");
    }
    let err = config_with(&[
        ("ASSERTION_SIGNING_JWK", &signing_jwk()),
        ("ASSERTION_AUDIENCE", "two words"),
    ])
    .unwrap_err();
    assert_eq!(err.var(), "ASSERTION_AUDIENCE");
}

#[test]
fn no_assertion_configured_means_no_assertion_and_an_empty_key_set() {
    let config = config_with(&[]).unwrap();
    assert!(config.assertion().is_none());
    assert_eq!(
        forward(&config, Some(&alice()), "GET", "https://a.example/items").assertion,
        None
    );
    assert_eq!(jwks(&config).unwrap(), json!({"keys": []}));
}

#[test]
fn the_published_key_set_verifies_what_the_key_signs() {
    let config = config_with(&[
        ("ASSERTION_SIGNING_JWK", &signing_jwk()),
        ("ASSERTION_PREVIOUS_PUBLIC_JWK", &previous_jwk()),
    ])
    .unwrap();
    let set = jwks(&config).unwrap();
    assert_eq!(
        set,
        json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "gw-1", "alg": "EdDSA", "use": "sig"},
            {"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "kid": "gw-0", "alg": "ES256", "use": "sig"},
        ]})
    );
    let f = forward(&config, Some(&alice()), "GET", "https://api.example/items");
    let assertion = f.assertion.unwrap();
    let header = assertion
        .signing_input()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap(),
        json!({"alg": "EdDSA", "typ": "edge-auth+jwt", "kid": "gw-1"})
    );
    // Sign as the Worker would (RFC 8037's key, natively here), verify against the published set.
    let seed: [u8; 32] = URL_SAFE_NO_PAD.decode(D).unwrap().try_into().unwrap();
    let signature =
        ed25519_dalek::SigningKey::from_bytes(&seed).sign(assertion.signing_input().as_bytes());
    let jws = assertion.compact(&signature.to_bytes()).unwrap();
    let parsed = jose_jwt::JwkSet::parse(set.to_string().as_bytes()).unwrap();
    assert!(parsed.rejected.is_empty());
    let options = jose_jwt::VerificationOptions::new(
        ["https://api.example"],
        ["https://api.example"],
        [jose_jwt::Algorithm::EdDsa],
    )
    .unwrap()
    .with_required_typ("edge-auth+jwt");
    let verified = jose_jwt::verify(&jws, &parsed.set, &options, NOW).unwrap();
    assert_eq!(verified.claims().sub(), Some("alice"));
    assert_eq!(assertion.compact(&signature.to_bytes()[..63]), None);
}

#[test]
fn hs512_signs_without_kid_and_publishes_nothing() {
    let secret = URL_SAFE_NO_PAD.encode([9u8; 64]);
    let config = config_with(&[("ASSERTION_SECRET", &secret)]).unwrap();
    assert_eq!(jwks(&config).unwrap(), json!({"keys": []}));
    let f = forward(&config, None, "GET", "https://api.example/health");
    let header = f
        .assertion
        .unwrap()
        .signing_input()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap(),
        json!({"alg": "HS512", "typ": "edge-auth+jwt"})
    );
}

#[test]
fn every_key_misconfiguration_names_its_variable_and_never_echoes_the_key() {
    let secret = URL_SAFE_NO_PAD.encode([9u8; 64]);
    let public_only = json!({"kty": "OKP", "crv": "Ed25519", "kid": "gw-1", "x": X}).to_string();
    let private_previous =
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "gw-0", "d": D, "x": X}).to_string();
    let same_kid =
        json!({"kty": "EC", "crv": "P-256", "kid": "gw-1", "x": P256_X, "y": P256_Y}).to_string();
    let no_kid = json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}).to_string();
    let cases: [(Vars<'_>, &str, &str); 10] = [
        (
            &[
                ("ASSERTION_SIGNING_JWK", &signing_jwk()),
                ("ASSERTION_SECRET", &secret),
            ],
            "ASSERTION_SECRET",
            "remove",
        ),
        (
            &[("ASSERTION_SIGNING_JWK", &public_only)],
            "ASSERTION_SIGNING_JWK",
            "private",
        ),
        (
            &[("ASSERTION_SIGNING_JWK", "{nope")],
            "ASSERTION_SIGNING_JWK",
            "JSON",
        ),
        (
            &[("ASSERTION_SECRET", "c2hvcnQ")],
            "ASSERTION_SECRET",
            "64 bytes",
        ),
        (
            &[
                ("ASSERTION_SIGNING_JWK", &signing_jwk()),
                ("ASSERTION_PREVIOUS_PUBLIC_JWK", &private_previous),
            ],
            "ASSERTION_PREVIOUS_PUBLIC_JWK",
            "`d`",
        ),
        (
            &[
                ("ASSERTION_SIGNING_JWK", &signing_jwk()),
                ("ASSERTION_PREVIOUS_PUBLIC_JWK", &same_kid),
            ],
            "ASSERTION_PREVIOUS_PUBLIC_JWK",
            "same kid",
        ),
        (
            &[
                ("ASSERTION_SIGNING_JWK", &signing_jwk()),
                ("ASSERTION_PREVIOUS_PUBLIC_JWK", &no_kid),
            ],
            "ASSERTION_PREVIOUS_PUBLIC_JWK",
            "kid",
        ),
        (
            &[
                ("ASSERTION_SECRET", &secret),
                ("ASSERTION_PREVIOUS_PUBLIC_JWK", &previous_jwk()),
            ],
            "ASSERTION_PREVIOUS_PUBLIC_JWK",
            "HS512",
        ),
        (
            &[("ASSERTION_ISSUER", "https://gw.example")],
            "ASSERTION_ISSUER",
            "no assertion key",
        ),
        (
            &[("ASSERTION_PREVIOUS_PUBLIC_JWK", &previous_jwk())],
            "ASSERTION_PREVIOUS_PUBLIC_JWK",
            "no assertion key",
        ),
    ];
    for (vars, var, needle) in cases {
        let err = config_with(vars).unwrap_err();
        assert_eq!(err.var(), var, "{vars:?}");
        assert!(err.problem().contains(needle), "{vars:?}: {err}");
        let text = err.to_string();
        assert!(!text.contains(D) && !text.contains(&secret), "{text}");
    }
    let debug = format!("{:?}", assertion_config());
    assert!(!debug.contains(D), "{debug}");
}

#[test]
fn the_key_set_is_answered_for_get_and_head_only_on_its_normalized_path() {
    let config = assertion_config();
    let answer = |method: &str, url: &str| {
        let request = AuthzRequest {
            method,
            url,
            context: None,
            request_id: None,
        };
        gateway_endpoint(&request, &config, &rules())
    };
    let get = answer("GET", "https://api.example/.well-known/edge-auth/jwks.json").unwrap();
    assert_eq!(get.status, 200);
    assert_eq!(get.content_type, Some("application/jwk-set+json"));
    assert_eq!(get.cache_control, Some("public, max-age=300"));
    assert_eq!(
        get.body.as_deref(),
        Some(config.assertion().unwrap().jwks_json())
    );
    assert_eq!((get.outcome, get.reason), (Outcome::Served, "gateway_jwks"));
    // Public keys, fetched by browser-based verifiers from any origin.
    assert_eq!(
        get.headers("r"),
        vec![
            ("content-type", "application/jwk-set+json".to_owned()),
            ("cache-control", "public, max-age=300".to_owned()),
            ("access-control-allow-origin", "*".to_owned()),
            ("x-request-id", "r".to_owned()),
        ]
    );
    let head = answer(
        "head",
        "https://api.example/.well-known/./edge-auth/jwks.json?x",
    )
    .unwrap();
    assert_eq!(head.body, None);
    assert_eq!(head.headers("r"), get.headers("r"));
    for (method, url) in [
        (
            "POST",
            "https://api.example/.well-known/edge-auth/jwks.json",
        ),
        ("GET", "https://api.example/.well-known/edge-auth/jwks"),
        (
            "GET",
            "https://api.example/.well-known/oauth-protected-resource",
        ),
        (
            "GET",
            "https://api.example/a/../../.well-known/edge-auth/jwks.json",
        ),
        (
            "TRACE",
            "https://api.example/.well-known/edge-auth/jwks.json",
        ),
    ] {
        assert_eq!(answer(method, url), None, "{method} {url}");
    }
}

/// `route` (the authz Worker's one entry) screens once and gives what the two steps give apart:
/// the key set where `gateway_endpoint` answers, `authorize`'s forward or refusal elsewhere.
#[test]
fn route_answers_the_key_set_and_otherwise_decides_as_authorize() {
    let config = assertion_config();
    let rules = rules();
    let cases = [
        ("GET", "https://api.example/.well-known/edge-auth/jwks.json"),
        (
            "HEAD",
            "https://api.example/.well-known/./edge-auth/jwks.json",
        ),
        (
            "POST",
            "https://api.example/.well-known/edge-auth/jwks.json",
        ),
        (
            "GET",
            "https://api.example/a/../../.well-known/edge-auth/jwks.json",
        ),
        (
            "TRACE",
            "https://api.example/.well-known/edge-auth/jwks.json",
        ),
        ("GET", "https://api.example/health"),
        ("GET", "https://api.example/items/1"),
        ("GET", "https://api.example/a%2fb"),
        ("G(T", "https://api.example/health"),
        ("GET", "not a url"),
    ];
    let (mut answered, mut forwarded, mut refused) = (0, 0, 0);
    for (method, url) in cases {
        let request = AuthzRequest {
            method,
            url,
            context: None,
            request_id: Some("r"),
        };
        let routed = edge_auth_route(&request, &config, &rules);
        match gateway_endpoint(&request, &config, &rules) {
            Some(answer) => match routed {
                Ok(crate::Routed::Answer(routed)) => {
                    answered += 1;
                    assert_eq!(routed, answer, "{method} {url}");
                }
                other => panic!("{method} {url}: {other:?}"),
            },
            None => {
                let authorized = authorize(&request, NOW, &config, &rules);
                match (routed, authorized) {
                    (Ok(crate::Routed::Forward(routed)), Ok(forward)) => {
                        forwarded += 1;
                        assert_eq!(routed, forward, "{method} {url}");
                    }
                    (Err(routed), Err(refusal)) => {
                        refused += 1;
                        assert_eq!(routed, refusal, "{method} {url}");
                    }
                    other => panic!("{method} {url}: {other:?}"),
                }
            }
        }
    }
    // Every branch was taken: two key-set answers, a forward, refusals.
    assert_eq!((answered, forwarded), (2, 1), "{refused}");
    assert!(refused >= 5);
}

fn edge_auth_route<'c>(
    request: &AuthzRequest<'_>,
    config: &'c AuthzConfig,
    rules: &crate::Rules,
) -> Result<crate::Routed<'c>, crate::Refusal> {
    crate::route(request, NOW, config, rules)
}

fn jwks(config: &AuthzConfig) -> Option<Value> {
    let request = AuthzRequest {
        method: "GET",
        url: "https://api.example/.well-known/edge-auth/jwks.json",
        context: None,
        request_id: None,
    };
    let answer = gateway_endpoint(&request, config, &rules())?;
    Some(serde_json::from_str(answer.body.as_deref().unwrap()).unwrap())
}
