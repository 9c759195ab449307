//! Property tests: no panic on any input, and the invariants that the
//! Workers rely on hold for arbitrary values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use edge_auth::*;
use proptest::prelude::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn key() -> ContextKey {
    ContextKey::new(SECRET).unwrap()
}

/// A request as the Workers see it: method, absolute URL, request id.
type Req = (String, String, String);

fn request() -> impl Strategy<Value = Req> {
    (
        "[A-Za-z]{1,7}",
        "(/[a-zA-Z0-9%._~=&-]{0,6}){1,3}(\\?[a-zA-Z0-9%=&/?-]{0,8})?",
        "[A-Za-z0-9-]{0,12}",
    )
        .prop_map(|(method, target, id)| (method, format!("https://h.example{target}"), id))
}

fn binding(req: &Req) -> (RequestUrl<'_>, &str, &str) {
    (RequestUrl::split(&req.1).unwrap(), &req.0, &req.2)
}

fn sign_for(id: &Identity, req: &Req, now: i64) -> String {
    let (url, method, request_id) = binding(req);
    sign_context(
        id,
        &key(),
        &RequestBinding::new(method, &url, request_id),
        now,
    )
}

fn verify_for(value: &str, req: &Req, now: i64, max_age: i64) -> Result<Identity, ContextError> {
    let (url, method, request_id) = binding(req);
    verify_context(
        value,
        &key(),
        &RequestBinding::new(method, &url, request_id),
        now,
        max_age,
    )
}

fn identity() -> impl Strategy<Value = Identity> {
    (
        any::<String>(),
        proptest::collection::vec(any::<String>(), 0..5),
        proptest::collection::vec(any::<String>(), 0..5),
        proptest::option::of(any::<String>()),
        NOW..NOW + 10_000,
        any::<String>(),
    )
        .prop_map(|(sub, roles, scopes, email, exp, issuer)| Identity {
            sub: format!("s{sub}"),
            roles,
            scopes,
            email,
            exp,
            issuer: format!("i{issuer}"),
            act: None,
        })
}

proptest! {
    #[test]
    fn extraction_never_panics(
        authorization in proptest::option::of(any::<String>()),
        access in proptest::option::of(any::<String>()),
        cookie in proptest::option::of(any::<String>()),
        cloudflare_access in any::<bool>(),
        max in 0usize..64,
    ) {
        let req = RequestCredentials {
            authorization: authorization.as_deref(),
            access_assertion: access.as_deref(),
            cookie: cookie.as_deref(),
        };
        let mode = ExtractionMode { cloudflare_access, max_token_bytes: max };
        if let Ok(Some(c)) = extract_credential(&req, &mode) {
            // Whatever is returned is a non-empty, in-limit, JWS-alphabet token.
            prop_assert!(!c.token().is_empty() && c.token().len() <= max);
            prop_assert!(c.token().bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        }
    }

    #[test]
    fn bearer_tokens_round_trip(token in "[A-Za-z0-9_.-]{1,200}", scheme in "(?i:bearer)") {
        let header = format!("{scheme} {token}");
        let req = RequestCredentials { authorization: Some(&header), ..RequestCredentials::default() };
        let c = extract_credential(&req, &ExtractionMode::default()).unwrap().unwrap();
        prop_assert_eq!(c.token(), token.as_str());
    }

    #[test]
    fn verification_never_panics(value in any::<String>(), req in request(), now in any::<i64>(), max_age in any::<i64>()) {
        let _ = verify_for(&value, &req, now, max_age);
    }

    #[test]
    fn sign_then_verify_round_trips(id in identity(), req in request(), age in 0i64..=60) {
        let header = sign_for(&id, &req, NOW);
        prop_assert_eq!(verify_for(&header, &req, NOW + age, 60), Ok(id));
    }

    /// A context verifies on exactly the request it was signed for: any other method, path and
    /// query, or request id is a mismatch.
    #[test]
    fn another_request_is_always_a_mismatch(id in identity(), signed_for in request(), presented_on in request()) {
        let header = sign_for(&id, &signed_for, NOW);
        let (a, b) = (binding(&signed_for), binding(&presented_on));
        let same = (a.0.target(), a.1, a.2) == (b.0.target(), b.1, b.2);
        let result = verify_for(&header, &presented_on, NOW, 60);
        if same {
            prop_assert_eq!(result, Ok(id));
        } else {
            prop_assert_eq!(result, Err(ContextError::Mismatch));
        }
    }

    #[test]
    fn any_single_byte_change_is_rejected(id in identity(), req in request(), pos in any::<prop::sample::Index>(), b in 0x21u8..0x7f) {
        let header = sign_for(&id, &req, NOW);
        let i = pos.index(header.len());
        prop_assume!(header.as_bytes()[i] != b);
        let mut bytes = header.into_bytes();
        bytes[i] = b;
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(verify_for(&tampered, &req, NOW, 60).is_err());
    }

    #[test]
    fn identity_headers_are_always_header_safe(id in identity()) {
        match identity_headers(&id) {
            Ok(headers) => {
                for (_, value) in headers {
                    prop_assert!(value.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{:?}", value);
                }
            }
            Err(HandoffError::UnsafeIdentityValue { .. }) => {
                let email_bad = id.email.as_deref().is_some_and(|e| !is_header_safe(e));
                prop_assert!(!is_header_safe(&id.sub) || email_bad);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn config_parsing_never_panics(
        values in proptest::collection::vec(proptest::option::of(any::<String>()), 18),
    ) {
        let names = [
            "JWKS_URL", "ISSUER", "AUDIENCE", "ALLOWED_ALGS", "REQUIRED_TYP", "CLOCK_SKEW_SECONDS",
            "ROLES_CLAIM", "ACCESS_TEAM_DOMAIN", "JWKS_SERVICE", "JWKS_TIMEOUT_MS",
            "JWKS_MAX_STALE_SECONDS", "JWKS_COOLDOWN_SECONDS", "JWKS_MAX_BYTES",
            "EXTRA_STRIPPED_HEADERS", "REALM", "ORIGIN_URL", "RESOURCE", "RESOURCE_NAME",
        ];
        let get = |name: &str| {
            if name == "CONTEXT_SECRET" {
                return Some(SECRET.to_owned());
            }
            names.iter().position(|n| *n == name).and_then(|i| values[i].clone())
        };
        if let Err(e) = AuthConfig::from_env(get) {
            prop_assert!(names.contains(&e.var()), "{}", e);
        }
        if let Err(e) = AuthzConfig::from_env(get) {
            prop_assert!(names.contains(&e.var()), "{}", e);
        }
    }

    #[test]
    fn responses_have_header_safe_values(
        realm in any::<String>(),
        id in any::<String>(),
        retry in any::<u64>(),
        url in prop_oneof![any::<String>(), any::<String>().prop_map(|s| format!("https://{s}/x"))],
        scopes in proptest::collection::vec(any::<String>(), 0..4),
    ) {
        let challenge = Challenge::new(&realm, None, &url);
        for r in [
            Rejection::InvalidToken { description: "token expired" },
            Rejection::Unauthorized,
            Rejection::Forbidden { insufficient_scope: true },
            Rejection::JwksUnavailable { retry_after_seconds: retry },
        ] {
            let resp = error_response(&r, &scopes, &challenge, &id);
            for (_, v) in &resp.headers {
                prop_assert!(v.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{:?}", v);
            }
            // Every quoted-string ends where it should: an unescaped `"` inside a value would
            // leave an odd count of unescaped quotes.
            if let Some((_, c)) = resp.headers.iter().find(|(n, _)| *n == "www-authenticate") {
                let unescaped = c.replace("\\\\", "").replace("\\\"", "");
                prop_assert_eq!(unescaped.matches('"').count() % 2, 0, "{:?}", c);
            }
            let body: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
            prop_assert!(body["error"].is_string());
        }
    }
}
