//! `JWKS_SERVICE` run for real: the auth Worker takes its key set from another Worker over a
//! service binding (here `workers/jwks-service.js`, which relays the test's identity provider,
//! so the test rotates keys and breaks the set there). No `JWKS_URL` is configured in these
//! stacks: every key the Worker has came through the binding.

use e2e::{keys, Alg, Harness, JwksMode, Response};
use serde_json::json;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A little more than the 1 s minimum cooldown (and the first backoff).
const PAST_COOLDOWN: Duration = Duration::from_millis(1300);
const SERVICE_SCRIPT: &str = "harness/workers/jwks-service.js";

/// A stack whose auth Worker gets its keys from the service Worker bound as `KEYS`.
fn with_key_service(mode: JwksMode) -> Harness {
    Harness::start_with(|config, idp| {
        idp.set_mode(mode);
        config
            .without_auth_var("JWKS_URL")
            .auth_var("JWKS_SERVICE", "KEYS")
            .auth_var("JWKS_COOLDOWN_SECONDS", "1")
            .auth_var("JWKS_TIMEOUT_MS", "2000")
            .service("KEYS", SERVICE_SCRIPT, &[("JWKS_UPSTREAM", idp.jwks_url())])
    })
}

fn unknown_kid_token(h: &Harness) -> String {
    h.idp.mint_with_header(
        json!({"alg": "ES256", "typ": "JWT", "kid": keys::random_id()}),
        h.idp.standard_claims("user", &["user"]),
    )
}

fn assert_jwks_unavailable(h: &Harness, r: &Response, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}\n{}", r.text(), h.log_tail());
    assert_eq!(r.json()["error"], "jwks_unavailable", "{what}");
    assert!(r.header("retry-after").is_some(), "{what}: no Retry-After");
    h.assert_not_forwarded(r);
}

#[test]
fn keys_from_the_binding_verify_rotate_and_retire() {
    let h = with_key_service(JwksMode::Normal);
    let old = h.token("alice", &["user"]);
    let r = h.get("/hello").bearer(&old).send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header("x-user-id"), Some("alice"));
    let fetched = h.idp.hits();
    assert!(
        fetched >= 1,
        "the set came through the service from the IdP"
    );
    // Every algorithm the set holds.
    for alg in Alg::ALL {
        let r = h
            .get("/hello")
            .bearer(&h.idp.mint(alg, h.idp.standard_claims("bob", &["user"])))
            .send();
        h.assert_status(&r, 200);
        assert_eq!(h.seen_once(&r).header("x-user-id"), Some("bob"), "{alg:?}");
    }

    // Rotation: the new kid verifies on its first request (one refetch through the binding).
    sleep(PAST_COOLDOWN);
    let old_kid = h.idp.key(Alg::Es256).kid().to_string();
    h.idp.rotate(Alg::Es256);
    let new = h.token("carol", &["user"]);
    let r = h.get("/hello").bearer(&new).send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header("x-user-id"), Some("carol"));
    assert_eq!(h.idp.hits(), fetched + 1, "one refetch for the new kid");
    h.assert_status(&h.get("/hello").bearer(&old).send(), 200);

    // Retired: once the set is refetched without it, the old token is refused.
    h.idp.retire(&old_kid);
    sleep(PAST_COOLDOWN);
    h.assert_invalid_token(&h.get("/hello").bearer(&unknown_kid_token(&h)).send());
    assert_eq!(h.idp.hits(), fetched + 2);
    h.assert_invalid_token(&h.get("/hello").bearer(&old).send());
    h.assert_status(&h.get("/hello").bearer(&new).send(), 200);
}

/// The service answering 500, answering garbage, and failing itself (its upstream down, so its
/// own fetch throws): with no key set ever fetched, each is a 503 and the origin sees nothing.
#[test]
fn a_failing_key_service_is_503_jwks_unavailable() {
    let h = with_key_service(JwksMode::Status500);
    for mode in [JwksMode::Status500, JwksMode::Garbage, JwksMode::Down] {
        h.idp.set_mode(mode);
        let before = h.idp.hits();
        let events_before = h.stack.log().matches("jwks_event").count();
        // The first failure may sit in its backoff: ask again until this mode was fetched.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = h.get("/hello").bearer(&h.token("user", &["user"])).send();
            assert_jwks_unavailable(&h, &r, &format!("{mode:?}"));
            let reached = if matches!(mode, JwksMode::Down) {
                // The IdP counts nothing when down; the auth Worker's log shows the attempt.
                h.stack.log().matches("jwks_event").count() > events_before
            } else {
                h.idp.hits() > before
            };
            if reached {
                break;
            }
            assert!(Instant::now() < deadline, "{mode:?} was never fetched");
            sleep(PAST_COOLDOWN);
        }
    }
    // Recovered: the same binding serves the set and tokens verify.
    h.idp.set_mode(JwksMode::Normal);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = h.get("/hello").bearer(&h.token("dave", &["user"])).send();
        if r.status == 200 {
            assert_eq!(h.seen_once(&r).header("x-user-id"), Some("dave"));
            break;
        }
        assert_jwks_unavailable(&h, &r, "recovering");
        assert!(
            Instant::now() < deadline,
            "never recovered\n{}",
            h.log_tail()
        );
        sleep(PAST_COOLDOWN);
    }
}

#[test]
fn a_jwks_service_naming_a_missing_binding_is_500() {
    let h = Harness::start_with(|config, _| {
        config
            .without_auth_var("JWKS_URL")
            .auth_var("JWKS_SERVICE", "NO_SUCH_BINDING")
    });
    let r = h.get("/hello").bearer(&h.token("user", &["user"])).send();
    h.assert_status(&r, 500);
    assert_eq!(r.json()["error"], "server_misconfigured", "{}", r.text());
    h.assert_not_forwarded(&r);
    // The Worker's output reaches the log file a moment after the response: wait for it, as
    // `Harness::log_line_of` does.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !h
        .stack
        .log()
        .contains("JWKS_SERVICE names `NO_SUCH_BINDING`")
        && Instant::now() < deadline
    {
        sleep(Duration::from_millis(50));
    }
    assert!(
        h.stack
            .log()
            .contains("JWKS_SERVICE names `NO_SUCH_BINDING`"),
        "{}",
        h.log_tail()
    );
    assert_eq!(h.idp.hits(), 0);
    // Requests that need no key still work: the public health route.
    h.assert_status(&h.get("/health").send(), 200);
}
