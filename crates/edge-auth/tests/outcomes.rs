//! Both pipelines against every row of the outcomes table (README, "situation → status"), one
//! named test per row, natively: a fixed Ed25519 key (RFC 8037's test key), RustCrypto for the
//! signatures, a fake key source and a fixed clock. The Workers add only I/O around these.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use edge_auth::{
    authenticate, authorize, screen, AuthConfig, Authenticated, AuthzConfig, AuthzRequest,
    CachedToken, Challenge, Identity, KeySource, KeySourceError, Refusal, Rejection,
    RequestBinding, RequestCredentials, RequestUrl, Rules,
};
use jose_jwt::{JwkSet, RustCryptoVerifier};
use jwks_cache::VerifiedTokens;
use rule_table::PathPolicy;
use serde_json::{json, Value};

const NOW: i64 = 1_900_000_000;
const SECRET: &str = "0123456789abcdef0123456789abcdef-outcomes";
const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "api://orders";
const REQUEST_ID: &str = "req-1";

const RULES: &str = r#"
[[rule]]
name = "health"
path = "/health"
methods = ["GET", "HEAD"]
allow = "public"

[[rule]]
name = "admin-area"
path = "/admin/**"
roles_any = ["admin"]

[[rule]]
name = "premium-data"
path = "/secret-data/**"
scopes_any = ["premium"]

[[rule]]
name = "items"
path = "/items/**"
"#;

// ---- the fixtures: a key, tokens, a key source, the configurations --------------------------

/// RFC 8037 A.1's private key: fixed, so every token below is the same on every run.
fn signing_key() -> SigningKey {
    let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .expect("hex");
    SigningKey::from_bytes(&seed.try_into().expect("32 bytes"))
}

fn key_set() -> JwkSet {
    let x = URL_SAFE_NO_PAD.encode(signing_key().verifying_key().as_bytes());
    let jwks =
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA"}]});
    JwkSet::parse(jwks.to_string().as_bytes())
        .expect("a valid set")
        .set
}

fn token_with(claims: Value) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(signing_key().sign(signing_input.as_bytes()).to_bytes());
    format!("{signing_input}.{signature}")
}

fn claims(sub: &str, roles: &[&str]) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "roles": roles, "iat": NOW - 10, "exp": NOW + 600})
}

/// A key source that hands out one set (and counts the calls), or fails.
struct FakeKeys {
    set: Result<Rc<JwkSet>, KeySourceError>,
    calls: Cell<usize>,
}

impl FakeKeys {
    fn serving(set: JwkSet) -> Self {
        FakeKeys {
            set: Ok(Rc::new(set)),
            calls: Cell::new(0),
        }
    }
    fn failing(error: KeySourceError) -> Self {
        FakeKeys {
            set: Err(error),
            calls: Cell::new(0),
        }
    }
}

impl KeySource for FakeKeys {
    type Keys = JwkSet;
    async fn key_set(&self, _kid: Option<&str>) -> Result<Rc<JwkSet>, KeySourceError> {
        self.calls.set(self.calls.get() + 1);
        self.set.clone()
    }
}

fn auth_config() -> AuthConfig {
    AuthConfig::from_env(|name| {
        let value = match name {
            "JWKS_URL" => "https://idp.test/.well-known/jwks.json",
            "ISSUER" => ISSUER,
            "AUDIENCE" => AUDIENCE,
            "CONTEXT_SECRET" => SECRET,
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("a valid configuration")
}

fn authz_config() -> AuthzConfig {
    AuthzConfig::from_env(|name| match name {
        "CONTEXT_SECRET" => Some(SECRET.to_owned()),
        "ORIGIN_URL" => Some("https://origin.test".to_owned()),
        _ => None,
    })
    .expect("a valid configuration")
}

fn rules() -> Rules {
    Rules::compile(RULES).expect("a valid table")
}

/// Runs a future that never waits on real I/O (the fakes answer at once) to completion.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the pipeline waited although its key source never does"),
    }
}

fn authenticate_bearer(
    authorization: Option<&str>,
    keys: &FakeKeys,
    tokens: &VerifiedTokens<JwkSet, CachedToken>,
) -> Result<Authenticated, Refusal> {
    let credentials = RequestCredentials {
        authorization,
        ..RequestCredentials::default()
    };
    ready(authenticate(
        &credentials,
        NOW,
        keys,
        &RustCryptoVerifier,
        tokens,
        &auth_config(),
    ))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The context the auth Worker would sign for `identity` on `method url`.
fn context_for(identity: &Identity, method: &str, url: &str) -> String {
    let url = RequestUrl::split(url).expect("a URL");
    let binding = RequestBinding::new(method, &url, REQUEST_ID);
    let key = edge_auth::ContextKey::new(SECRET).expect("a long secret");
    edge_auth::sign_context(identity, &key, &binding, NOW)
}

fn user(sub: &str, roles: &[&str], scopes: &[&str]) -> Identity {
    Identity {
        sub: sub.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        email: None,
        exp: NOW + 600,
        issuer: ISSUER.into(),
        act: None,
    }
}

/// `authorize` for `method url` as the auth Worker hands it over: with the context for
/// `identity`, or none.
fn authorize_as(
    identity: Option<&Identity>,
    method: &str,
    url: &str,
) -> Result<edge_auth::Forward, Refusal> {
    let context = identity.map(|id| context_for(id, method, url));
    let request = AuthzRequest {
        method,
        url,
        context: context.as_deref(),
        request_id: Some(REQUEST_ID),
    };
    authorize(&request, NOW, &authz_config(), &rules())
}

/// The status, the body's `error` and the `WWW-Authenticate` value of a refusal.
fn answer(refusal: &Refusal) -> (u16, String, Option<String>) {
    let response = refusal.response(&Challenge::new("edge-auth", None, ""), REQUEST_ID);
    let body: Value = serde_json::from_str(&response.body).expect("a JSON body");
    let challenge = response
        .headers
        .iter()
        .find(|(name, _)| *name == "www-authenticate")
        .map(|(_, value)| value.clone());
    (
        response.status,
        body["error"].as_str().unwrap_or("").to_owned(),
        challenge,
    )
}

fn header(refusal: &Refusal, name: &str) -> Option<String> {
    let response = refusal.response(&Challenge::new("edge-auth", None, ""), REQUEST_ID);
    response
        .headers
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

// ---- one test per row ----------------------------------------------------------------------

#[test]
fn row_token_present_but_invalid_is_401_invalid_token() {
    let keys = FakeKeys::serving(key_set());
    let tokens = VerifiedTokens::new(0);
    let tampered = badly_signed(&token_with(claims("alice", &["user"])));
    let cases = [
        (
            "bad signature",
            bearer(&tampered),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        (
            "expired",
            bearer(&token_with(
                json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": NOW - 3600}),
            )),
            "ERR_JWT_EXPIRED",
        ),
        (
            "other audience",
            bearer(&token_with(
                json!({"iss": ISSUER, "aud": "api://other", "sub": "alice", "exp": NOW + 600}),
            )),
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
        ("not a JWS", "Bearer abc".to_owned(), "ERR_JWS_INVALID"),
        (
            "garbled header",
            "Bearer a b".to_owned(),
            "credential_malformed",
        ),
    ];
    for (what, authorization, reason) in cases {
        let refusal = authenticate_bearer(Some(&authorization), &keys, &tokens).expect_err(what);
        let (status, error, challenge) = answer(&refusal);
        assert_eq!((status, error.as_str()), (401, "invalid_token"), "{what}");
        let challenge = challenge.unwrap_or_default();
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{what}: {challenge}"
        );
        assert_eq!(refusal.reason, reason, "{what}");
    }
}

/// `token` with the first character of its signature changed: still canonical base64url of the
/// right length (the last character, which carries padding bits, is left alone), so only the
/// signature check can refuse it.
fn badly_signed(token: &str) -> String {
    let (input, signature) = token.rsplit_once('.').expect("a compact JWS");
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    format!("{input}.{first}{}", &signature[1..])
}

#[test]
fn a_token_its_claims_refuse_costs_no_key_fetch_and_no_signature_check() {
    let refused_by_claims = [
        (
            "expired",
            json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": NOW - 3600}),
            "ERR_JWT_EXPIRED",
        ),
        (
            "not yet valid",
            json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "nbf": NOW + 3600, "exp": NOW + 7200}),
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
        (
            "other issuer",
            json!({"iss": "https://other.test/", "aud": AUDIENCE, "sub": "alice", "exp": NOW + 600}),
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
        (
            "other audience",
            json!({"iss": ISSUER, "aud": "api://other", "sub": "alice", "exp": NOW + 600}),
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
    ];
    for (what, claims, reason) in refused_by_claims {
        // Even with a signature that would not verify: the claims refuse first.
        let token = badly_signed(&token_with(claims));
        // A key source that would fail: never asked, so the answer is the claims' 401, not 503.
        let keys = FakeKeys::failing(KeySourceError::Unavailable {
            retry_after_seconds: 17,
        });
        let refusal = authenticate_bearer(Some(&bearer(&token)), &keys, &VerifiedTokens::new(0))
            .expect_err(what);
        assert_eq!(answer(&refusal).0, 401, "{what}");
        assert_eq!(refusal.reason, reason, "{what}");
        assert_eq!(keys.calls.get(), 0, "{what}: the key set was asked for");
    }
    // Claims that pass still go to the key set and the signature.
    let keys = FakeKeys::serving(key_set());
    let forged = badly_signed(&token_with(claims("alice", &["admin"])));
    let refusal = authenticate_bearer(Some(&bearer(&forged)), &keys, &VerifiedTokens::new(0))
        .expect_err("a forged signature");
    assert_eq!(refusal.reason, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    assert_eq!(keys.calls.get(), 1);
}

#[test]
fn row_no_key_set_could_be_fetched_is_503_with_retry_after() {
    let keys = FakeKeys::failing(KeySourceError::Unavailable {
        retry_after_seconds: 17,
    });
    let token = token_with(claims("alice", &["user"]));
    let refusal = authenticate_bearer(Some(&bearer(&token)), &keys, &VerifiedTokens::new(0))
        .expect_err("no keys");
    assert_eq!(answer(&refusal), (503, "jwks_unavailable".to_owned(), None));
    assert_eq!(header(&refusal, "retry-after").as_deref(), Some("17"));
    assert_eq!(refusal.reason, "jwks_unavailable");
}

#[test]
fn row_ambiguous_or_malformed_path_is_400_bad_request() {
    let admin = user("root", &["admin"], &[]);
    for url in [
        "https://edge.test/admin%2Fx",
        "https://edge.test/a/../../admin",
        "https://edge.test/admin;x",
        "https://edge.test/adm%C4%B1n/x",
    ] {
        let refusal = authorize_as(Some(&admin), "GET", url).expect_err(url);
        assert_eq!(
            answer(&refusal),
            (400, "bad_request".to_owned(), None),
            "{url}"
        );
        // The auth Worker refuses the same paths before looking at a token.
        let early = screen("GET", url, PathPolicy::CASE_INSENSITIVE).expect_err(url);
        assert_eq!(
            (early.status(), early.reason),
            (400, refusal.reason),
            "{url}"
        );
    }
}

#[test]
fn row_method_the_edge_never_forwards_is_405() {
    for method in ["TRACE", "trace", "TRACK", "CONNECT"] {
        let refusal = authorize_as(None, method, "https://edge.test/health").expect_err(method);
        let (status, error, _) = answer(&refusal);
        assert_eq!((status, error.as_str()), (405, "bad_request"), "{method}");
        assert_eq!(header(&refusal, "allow"), None, "{method}");
        assert_eq!(refusal.reason, "method_never_forwarded", "{method}");
    }
}

#[test]
fn row_no_identity_where_the_rule_needs_one_is_401_unauthorized() {
    let refusal = authorize_as(None, "GET", "https://edge.test/items/1").expect_err("anonymous");
    let (status, error, challenge) = answer(&refusal);
    assert_eq!((status, error.as_str()), (401, "unauthorized"));
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="edge-auth""#));
    // And a request without any credential is anonymous in the auth Worker: it goes on.
    let keys = FakeKeys::serving(key_set());
    let anonymous = authenticate_bearer(None, &keys, &VerifiedTokens::new(0)).expect("goes on");
    assert_eq!(
        (anonymous.identity.clone(), anonymous.reason()),
        (None, "anonymous")
    );
    assert_eq!(keys.calls.get(), 0, "no key set is needed without a token");
}

#[test]
fn row_no_rule_matched_is_401_anonymous_and_403_with_identity() {
    let url = "https://edge.test/unlisted";
    let refusal = authorize_as(None, "GET", url).expect_err("no rule, anonymous");
    assert_eq!(answer(&refusal).0, 401);
    let refusal = authorize_as(Some(&user("alice", &[], &[])), "GET", url).expect_err("no rule");
    assert_eq!(answer(&refusal), (403, "forbidden".to_owned(), None));
    assert_eq!(refusal.reason, "no_rule_matched");
}

#[test]
fn row_identity_present_but_conditions_fail_is_403() {
    let alice = user("alice", &["user"], &["read"]);
    let refusal =
        authorize_as(Some(&alice), "GET", "https://edge.test/admin/x").expect_err("no role");
    assert_eq!(answer(&refusal), (403, "forbidden".to_owned(), None));
    assert_eq!(refusal.facts.rule, Some((2, "admin-area".to_owned())));
    let refusal =
        authorize_as(Some(&alice), "GET", "https://edge.test/secret-data/1").expect_err("no scope");
    let (status, error, challenge) = answer(&refusal);
    assert_eq!((status, error.as_str()), (403, "insufficient_scope"));
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="edge-auth", error="insufficient_scope", scope="premium""#)
    );
    assert_eq!(refusal.required_scopes, ["premium"]);
}

#[test]
fn row_a_context_for_another_request_is_401_and_never_anonymous() {
    let admin = user("root", &["admin"], &[]);
    let captured = context_for(&admin, "GET", "https://edge.test/items/1");
    for (method, url) in [
        ("GET", "https://edge.test/admin/x"),
        ("DELETE", "https://edge.test/items/1"),
        ("GET", "https://edge.test/items/1?x=1"),
    ] {
        let request = AuthzRequest {
            method,
            url,
            context: Some(&captured),
            request_id: Some(REQUEST_ID),
        };
        let refusal = authorize(&request, NOW, &authz_config(), &rules()).expect_err(url);
        assert_eq!(
            (answer(&refusal).0, refusal.reason),
            (401, "context_mismatch"),
            "{method} {url}"
        );
    }
    // On a public route too: a bad context is refused, not read as "no identity".
    let request = AuthzRequest {
        method: "GET",
        url: "https://edge.test/health",
        context: Some("v2.forged.x"),
        request_id: Some(REQUEST_ID),
    };
    let refusal = authorize(&request, NOW, &authz_config(), &rules()).expect_err("forged");
    assert_eq!(answer(&refusal).0, 401);
}

#[test]
fn row_misconfiguration_is_500_server_misconfigured() {
    let keys = FakeKeys::failing(KeySourceError::Misconfigured);
    let token = token_with(claims("alice", &["user"]));
    let refusal = authenticate_bearer(Some(&bearer(&token)), &keys, &VerifiedTokens::new(0))
        .expect_err("misconfigured");
    assert_eq!(
        answer(&refusal),
        (500, "server_misconfigured".to_owned(), None)
    );
    // A missing variable never falls back to a default: the configuration does not build.
    let missing = AuthzConfig::from_env(|_| None).expect_err("no CONTEXT_SECRET");
    assert!(missing.to_string().contains("CONTEXT_SECRET"), "{missing}");
}

#[test]
fn row_next_hop_unreachable_is_502_bad_gateway() {
    // The fetch is the Worker's; the answer is the library's, the same from both Workers.
    let refusal = Refusal::new(
        Rejection::UpstreamUnavailable,
        "origin_unreachable",
        &Default::default(),
    );
    assert_eq!(answer(&refusal), (502, "bad_gateway".to_owned(), None));
}

#[test]
fn row_allowed_goes_to_exactly_the_matched_path_with_the_verified_identity() {
    let keys = FakeKeys::serving(key_set());
    let tokens = VerifiedTokens::new(16);
    let token = token_with(claims("alice", &["admin"]));
    let authenticated = authenticate_bearer(Some(&bearer(&token)), &keys, &tokens).expect("valid");
    let identity = authenticated.identity.clone().expect("an identity");
    assert_eq!(
        (identity.sub.as_str(), identity.roles.as_slice()),
        ("alice", ["admin".to_owned()].as_slice())
    );
    assert_eq!(
        (authenticated.reason(), authenticated.facts.cached),
        ("verified", false)
    );

    let url = "https://edge.test/admin/./a/%7Euser/../b?q=1&r=%2F";
    let forward = authorize_as(Some(&identity), "get", url).expect("allowed");
    assert_eq!(forward.target, "https://origin.test/admin/a/b?q=1&r=%2F");
    assert_eq!(forward.method.as_str(), "GET");
    assert_eq!(forward.facts.rule, Some((2, "admin-area".to_owned())));
    assert!(forward
        .identity_headers
        .contains(&("X-User-ID", "alice".to_owned())));
    assert!(forward
        .identity_headers
        .contains(&("X-User-Roles", r#"["admin"]"#.to_owned())));

    // The same token again comes from the isolate's verified tokens, no signature check.
    let again = authenticate_bearer(Some(&bearer(&token)), &keys, &tokens).expect("cached");
    assert_eq!((again.identity, again.facts.cached), (Some(identity), true));
}

#[test]
fn row_allowed_anonymous_on_a_public_route_carries_no_identity() {
    let forward = authorize_as(None, "HEAD", "https://edge.test/health").expect("public");
    assert_eq!(forward.target, "https://origin.test/health");
    assert_eq!(
        (forward.identity, forward.identity_headers.len()),
        (None, 0)
    );
}

#[test]
fn first_hop_notes_reach_the_authz_line_and_a_foreign_table_is_noted() {
    let alice = user("alice", &["admin"], &[]);
    let url = "https://edge.test/admin/x";
    let with_notes = |digest: &str| {
        let notes = edge_auth::ContextNotes {
            rules: Some(digest.to_owned()),
            rule: Some(2),
            kid: Some("k1".into()),
            alg: Some("EdDSA".into()),
            cached: true,
            email_withheld: Some("email_unverified".into()),
        };
        let binding = RequestBinding::new("GET", &RequestUrl::split(url).unwrap(), REQUEST_ID);
        let key = edge_auth::ContextKey::new(SECRET).unwrap();
        let context = edge_auth::sign_context_with_notes(&alice, &notes, &key, &binding, NOW);
        let request = AuthzRequest {
            method: "GET",
            url,
            context: Some(&context),
            request_id: Some(REQUEST_ID),
        };
        authorize(&request, NOW, &authz_config(), &rules()).expect("allowed")
    };
    let same = with_notes(rules().digest());
    assert!(!same.facts.rules_mismatch);
    assert_eq!(same.facts.first_hop_rule, Some(2));
    assert_eq!(
        (same.facts.kid.as_deref(), same.facts.alg),
        (Some("k1"), Some(jose_jwt::Algorithm::EdDsa.into()))
    );
    assert!(same.facts.cached);
    assert_eq!(
        same.facts.email_withheld,
        Some(edge_auth::EmailWithheld::Unverified)
    );
    let other = with_notes("0123456789abcdef01234567");
    assert!(other.facts.rules_mismatch);
    // Decided with this table regardless.
    assert_eq!(other.facts.rule, Some((2, "admin-area".to_owned())));
}
