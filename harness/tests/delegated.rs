//! The gateway as a key source, the flarelette kit's consumer pattern end to end: the assertion
//! an edge-auth gateway gives its origin (`X-Edge-Auth-Assertion`) is the delegated token a
//! service behind that origin verifies — here by a second edge-auth pair, the internal
//! service's gateway, whose auth Worker takes its keys over a service binding
//! (`JWKS_SERVICE`) from a Worker relaying the first gateway's own key set
//! (`/.well-known/edge-auth/jwks.json`, served at the relay's `/.well-known/jwks.json`).
//!
//! ```text
//! client ─► gateway (auth+authz) ─► origin ── the assertion ──► internal gateway ─► its origin
//!            /.well-known/edge-auth/jwks.json ◄── relay Worker ◄──[KEYS]── JWKS_SERVICE
//! ```
//!
//! Three stacks, one at a time where they can be: the internal gateway, the gateway, then the
//! gateway rotated (a new key, the old one published as ASSERTION_PREVIOUS_PUBLIC_JWK) on the
//! same port, so the relay's upstream stays the same URL. The gateway is down twice: before
//! it first starts (no set ever had: 503) and after the rotation (a set held: its keys work,
//! nothing else does).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e::stack::free_port;
use e2e::{check_all, keys, AssertionKey, Harness, Response};
use serde_json::{json, Value};
use std::thread::sleep;
use std::time::{Duration, Instant};

const GATEWAY_JWKS_PATH: &str = "/.well-known/edge-auth/jwks.json";
const ASSERTION_HEADER: &str = "x-edge-auth-assertion";
const RELAY_SCRIPT: &str = "harness/workers/jwks-service.js";
/// The gateway's ASSERTION_ISSUER, the internal gateway's ISSUER.
const GATEWAY_ISSUER: &str = "https://gateway.example";
/// The gateway's ASSERTION_AUDIENCE, the internal gateway's AUDIENCE.
const INTERNAL_AUDIENCE: &str = "https://internal.example";
/// The internal gateway's own ASSERTION_ACTOR, to see the delegation chain at its origin.
const INTERNAL_ACTOR: &str = "internal-gateway";
/// A little more than the 1 s minimum cooldown (and the first backoff).
const PAST_COOLDOWN: Duration = Duration::from_millis(1300);

/// The gateway on `port`, signing with `key` (publishing `previous` too); its assertions live
/// 300 s, as long as allowed, so the ones taken before a rotation are still valid after it.
fn gateway(port: u16, key: &AssertionKey, previous: Option<&AssertionKey>) -> Harness {
    let (var, value) = key.var();
    let previous = previous.and_then(AssertionKey::public_jwk);
    Harness::start_with(|config, _| {
        let config = config
            .port(port)
            .authz_var(var, value)
            .authz_var("ASSERTION_ISSUER", GATEWAY_ISSUER)
            .authz_var("ASSERTION_AUDIENCE", INTERNAL_AUDIENCE)
            .authz_var("ASSERTION_TTL_SECONDS", "300");
        match previous {
            Some(jwk) => config.authz_var("ASSERTION_PREVIOUS_PUBLIC_JWK", jwk.to_string()),
            None => config,
        }
    })
}

/// The internal service's gateway: tokens are the gateway's assertions (issuer, audience and
/// `typ` of the assertion), keys come through the relay bound as `KEYS`, which fetches the
/// gateway's set from `port`. It signs assertions of its own for its origin.
fn internal_gateway(gateway_port: u16) -> Harness {
    let (var, value) = AssertionKey::ed25519().var();
    let upstream = format!("http://127.0.0.1:{gateway_port}{GATEWAY_JWKS_PATH}");
    Harness::start_with(|config, _| {
        config
            .without_auth_var("JWKS_URL")
            .auth_var("JWKS_SERVICE", "KEYS")
            .auth_var("ISSUER", GATEWAY_ISSUER)
            .auth_var("AUDIENCE", INTERNAL_AUDIENCE)
            .auth_var("REQUIRED_TYP", "edge-auth+jwt")
            .auth_var("JWKS_COOLDOWN_SECONDS", "1")
            .auth_var("JWKS_TIMEOUT_MS", "2000")
            .service("KEYS", RELAY_SCRIPT, &[("JWKS_UPSTREAM", upstream)])
            .authz_var(var, value)
            .authz_var("ASSERTION_ACTOR", INTERNAL_ACTOR)
    })
}

/// The assertion the gateway's origin received for an allowed `GET /hello` by `sub`.
fn assertion_for(gateway: &Harness, sub: &str, roles: &[&str]) -> String {
    let response = gateway
        .get("/hello")
        .bearer(&gateway.token(sub, roles))
        .send();
    gateway.assert_status(&response, 200);
    let seen = gateway.seen_once(&response);
    let all = seen.header_all(ASSERTION_HEADER);
    assert_eq!(all.len(), 1, "exactly one assertion: {all:?}");
    all[0].to_owned()
}

/// The decoded (unverified) header and claims of a compact JWS.
fn parts(jwt: &str) -> (Value, Value) {
    let decode = |part: Option<&str>| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.unwrap_or_default())
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    let mut split = jwt.split('.');
    (decode(split.next()), decode(split.next()))
}

/// `header` and `claims` signed by `key`, as the authz Worker would sign them.
fn signed(key: &AssertionKey, header: &Value, claims: &Value) -> String {
    let (header, claims) = (header.to_string(), claims.to_string());
    let signature = key.sign(keys::signing_input(&header, &claims).as_bytes());
    keys::compact(&header, &claims, &signature)
}

/// Sends `assertion` to the internal gateway as its bearer token; the response.
fn present(internal: &Harness, assertion: &str) -> Response {
    internal.get("/hello").bearer(assertion).send()
}

/// 200, and the internal origin saw the assertion's subject and roles, and an assertion of the
/// internal gateway's own whose `act` chain names both gateways.
fn assert_accepted(internal: &Harness, assertion: &str, what: &str) {
    let response = present(internal, assertion);
    if response.status != 200 {
        panic!(
            "{what}: expected 200, got {}: {}\n{}",
            response.status,
            response.text(),
            internal.log_tail()
        );
    }
    let (_, claims) = parts(assertion);
    let seen = internal.seen_once(&response);
    assert_eq!(seen.header("x-user-id"), claims["sub"].as_str(), "{what}");
    assert_eq!(
        seen.header("x-user-roles"),
        Some(claims["roles"].to_string().as_str()),
        "{what}"
    );
    let (_, own) = parts(
        seen.header(ASSERTION_HEADER)
            .expect("the internal assertion"),
    );
    assert_eq!(own["sub"], claims["sub"], "{what}");
    assert_eq!(own["idp"], GATEWAY_ISSUER, "{what}");
    assert_eq!(
        own["act"],
        json!({"sub": INTERNAL_ACTOR, "act": {"sub": "edge-auth"}}),
        "{what}: the delegation chain"
    );
}

/// How often the gateway answered its key set so far (its authz Worker logs each one),
/// waiting up to 5 s for the count to reach `at_least` (log lines are written after the
/// response).
fn served_sets(gateway: &Harness, at_least: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let count = gateway
            .stack
            .log()
            .matches(r#""reason":"gateway_jwks""#)
            .count();
        if count >= at_least || Instant::now() > deadline {
            return count;
        }
        sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_gateways_assertion_is_a_delegated_token_for_the_service_behind_it() {
    let port = free_port().expect("a free port");

    // The internal gateway first, while the gateway is not up: the relay's own fetch fails,
    // so no key set was ever had: 503, and its origin sees nothing.
    let internal = internal_gateway(port);
    let some_token = signed(
        &AssertionKey::ed25519(),
        &json!({"alg": "EdDSA", "typ": "edge-auth+jwt", "kid": "gw-ed-unknown"}),
        &json!({"iss": GATEWAY_ISSUER, "aud": INTERNAL_AUDIENCE, "sub": "x",
                "exp": e2e::idp::now() + 300}),
    );
    let response = present(&internal, &some_token);
    internal.assert_status(&response, 503);
    assert_eq!(response.json()["error"], "jwks_unavailable");
    assert!(response.header("retry-after").is_some(), "no Retry-After");
    internal.assert_not_forwarded(&response);

    // The gateway comes up; what its origin received verifies at the internal gateway once
    // its backoff is over.
    let old_key = AssertionKey::ed25519();
    let first = gateway(port, &old_key, None);
    let alice = assertion_for(&first, "alice", &["admin", "ops"]);
    let held = assertion_for(&first, "bob", &["user"]);
    let (header, claims) = parts(&alice);
    assert_eq!(header["typ"], "edge-auth+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], old_key.kid().unwrap_or_default());
    assert_eq!(claims["iss"], GATEWAY_ISSUER);
    assert_eq!(claims["aud"], INTERNAL_AUDIENCE);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = present(&internal, &alice);
        if response.status != 503 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the key set never came through the relay\n{}",
            internal.log_tail()
        );
        sleep(PAST_COOLDOWN);
    }
    assert_accepted(&internal, &alice, "the gateway's assertion");
    assert!(served_sets(&first, 1) >= 1, "the set came from the gateway");

    // One change to the assertion, signed again with the gateway's own key: only the
    // unchanged copy passes, so each refusal is for the change.
    let stranger = AssertionKey::ed25519();
    let with_claim = |name: &str, value: Value| {
        let mut changed = claims.clone();
        changed[name] = value;
        signed(&old_key, &header, &changed)
    };
    let with_header = |name: &str, value: Value| {
        let mut changed = header.clone();
        changed[name] = value;
        signed(&old_key, &changed, &claims)
    };
    assert_accepted(
        &internal,
        &signed(&old_key, &header, &claims),
        "re-signed unchanged",
    );
    let refused = [
        (
            "another audience",
            with_claim("aud", json!("https://other.example")),
        ),
        (
            "the gateway's origin as audience",
            with_claim("aud", json!(first.origin.url())),
        ),
        (
            "another issuer",
            with_claim("iss", json!("https://other-gateway.example")),
        ),
        ("no subject (an anonymous request's assertion)", {
            let mut anonymous = claims.clone();
            if let Some(members) = anonymous.as_object_mut() {
                members.remove("sub");
            }
            signed(&old_key, &header, &anonymous)
        }),
        ("expired", with_claim("exp", json!(e2e::idp::now() - 120))),
        ("typ JWT", with_header("typ", json!("JWT"))),
        ("typ at+jwt", with_header("typ", json!("at+jwt"))),
        ("no typ", {
            let mut untyped = header.clone();
            if let Some(members) = untyped.as_object_mut() {
                members.remove("typ");
            }
            signed(&old_key, &untyped, &claims)
        }),
        (
            "a stranger's key under the gateway's kid",
            signed(&stranger, &header, &claims),
        ),
    ];
    check_all(&refused, |(_, token)| {
        internal.check_invalid_token(&present(&internal, token))
    });

    // Rotation: the gateway restarts on the same port with a new key, publishing the old one
    // as its previous key. The new assertion's kid is unknown: one refetch through the relay.
    drop(first);
    sleep(PAST_COOLDOWN);
    let new_key = AssertionKey::ed25519();
    let rotated = gateway(port, &new_key, Some(&old_key));
    let carol = assertion_for(&rotated, "carol", &["user"]);
    assert_eq!(parts(&carol).0["kid"], new_key.kid().unwrap_or_default());
    assert_eq!(
        served_sets(&rotated, 0),
        0,
        "nothing fetched the new set yet"
    );
    assert_accepted(&internal, &carol, "an assertion under the new key");
    assert_eq!(served_sets(&rotated, 1), 1, "one refetch for the new kid");
    // Signed under the old key and never seen by the internal gateway (so not in its token
    // cache): it verifies against the rotated set, which still lists that key.
    assert_accepted(&internal, &held, "an assertion under the previous key");
    assert_accepted(&internal, &alice, "the first assertion, again");
    assert_eq!(served_sets(&rotated, 1), 1, "known kids need no fetch");

    // The gateway down again, with a set held: the relay fails, and what that set does not
    // verify is refused (401 after a refetch attempt), while its keys keep working.
    let dave = assertion_for(&rotated, "dave", &["user"]);
    drop(rotated);
    sleep(PAST_COOLDOWN);
    let events_before = internal.stack.log().matches("jwks_event").count();
    let unknown = signed(
        &AssertionKey::ed25519(),
        &json!({"alg": "EdDSA", "typ": "edge-auth+jwt", "kid": "gw-ed-unknown"}),
        &claims,
    );
    internal.assert_invalid_token(&present(&internal, &unknown));
    let deadline = Instant::now() + Duration::from_secs(5);
    while internal.stack.log().matches("jwks_event").count() == events_before {
        assert!(
            Instant::now() < deadline,
            "no refetch was attempted\n{}",
            internal.log_tail()
        );
        sleep(Duration::from_millis(50));
    }
    assert_accepted(&internal, &dave, "a held key while the gateway is down");
}
