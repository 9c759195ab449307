//! The key set in the real runtime: rotation, a kid flood, outages after a good fetch, and an
//! identity provider that was never reachable. Each test owns its stack, because each drives
//! the identity provider (and the Worker's per-isolate cache) through its own history.

use e2e::{keys, Alg, Harness, JwksMode};
use serde_json::json;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A little more than the 1 s minimum cooldown (and than the first backoff, < 1 s), so the next
/// unknown kid may fetch again.
const PAST_COOLDOWN: Duration = Duration::from_millis(1300);

fn unknown_kid_token(h: &Harness) -> String {
    h.idp.mint_with_header(
        json!({"alg": "ES256", "typ": "JWT", "kid": keys::random_id()}),
        h.idp.standard_claims("user", &["user"]),
    )
}

/// The `n`th log line (from 1) of a forwarded request with a token of subject `user` (the authz
/// Worker writes it, with the auth Worker's facts from the context),
/// waiting a little for the output to be written; empty if it never is.
fn auth_line(h: &Harness, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = h.stack.log();
        let mut lines = log
            .lines()
            .filter(|l| l.contains("\"worker\":\"authz\"") && l.contains("\"sub\":\"user\""));
        if let Some(line) = lines.nth(n - 1) {
            return line.to_owned();
        }
        if Instant::now() > deadline {
            return String::new();
        }
        sleep(Duration::from_millis(50));
    }
}

fn status(h: &Harness, token: &str) -> u16 {
    h.get("/hello").bearer(token).send().status
}

/// Rotation, then every outage kind after a good fetch, on one stack with a 1 s cooldown and a
/// 1 s fetch timeout. An outage is only observable when the Worker actually refetches, so each
/// one is triggered with an unknown kid, and the test checks that the fetch was attempted.
#[test]
fn rotation_and_outages_after_a_good_fetch() {
    let h = Harness::start_with(|c, _| {
        c.auth_var("JWKS_COOLDOWN_SECONDS", "1")
            .auth_var("JWKS_TIMEOUT_MS", "1000")
    });
    let old = h.token("user", &["user"]);
    let r = h.get("/hello").bearer(&old).send();
    h.assert_status(&r, 200);
    let fetched = h.idp.hits();
    assert!(fetched >= 1, "the first token fetched the JWKS");
    let first = auth_line(&h, 1);
    assert!(
        first.contains("\"kid\"") && !first.contains("cached"),
        "{first}"
    );
    // The same token again is answered from the isolate's verified tokens.
    h.assert_status(&h.get("/hello").bearer(&old).send(), 200);
    let second = auth_line(&h, 2);
    assert!(second.contains("\"cached\":true"), "{}", h.log_tail());

    // Rotation: the new kid is accepted on its first request; the old one while still listed.
    sleep(PAST_COOLDOWN);
    let old_kid = h.idp.key(Alg::Es256).kid().to_string();
    h.idp.rotate(Alg::Es256);
    let new = h.token("user", &["user"]);
    h.assert_status(&h.get("/hello").bearer(&new).send(), 200);
    h.assert_status(&h.get("/hello").bearer(&old).send(), 200);
    assert_eq!(
        h.idp.hits(),
        fetched + 1,
        "one refetch for the new kid\n{}",
        h.log_tail()
    );
    // Retired: after the next refetch the old kid is gone, and the old token with it, although
    // the isolate had verified it (twice).
    h.idp.retire(&old_kid);
    sleep(PAST_COOLDOWN);
    h.assert_invalid_token(&h.get("/hello").bearer(&unknown_kid_token(&h)).send());
    assert_eq!(h.idp.hits(), fetched + 2);
    h.assert_invalid_token(&h.get("/hello").bearer(&old).send());
    h.assert_status(&h.get("/hello").bearer(&new).send(), 200);

    let outages = [
        JwksMode::Status500,
        JwksMode::Garbage,
        JwksMode::Slow(Duration::from_secs(3)),
        JwksMode::Down,
    ];
    for mode in outages {
        sleep(PAST_COOLDOWN);
        h.idp.set_mode(mode);
        let before = h.idp.hits();
        let started = Instant::now();
        let r = h.get("/hello").bearer(&unknown_kid_token(&h)).send();
        let took = started.elapsed();
        h.assert_invalid_token(&r);
        assert_eq!(
            h.idp.hits(),
            before + 1,
            "{mode:?}: the refetch was attempted"
        );
        assert!(
            took < Duration::from_secs(3),
            "{mode:?}: the failed refetch took {took:?} (JWKS_TIMEOUT_MS is 1000)\n{}",
            h.log_tail()
        );
        // The last good key set still verifies valid tokens.
        let r = h.get("/hello").bearer(&new).send();
        assert_eq!(r.status, 200, "{mode:?}: {}\n{}", r.text(), h.log_tail());
        assert_eq!(h.seen_once(&r).header("x-user-id"), Some("user"));

        // Recover, and let a successful refetch reset the backoff before the next outage.
        h.idp.set_mode(JwksMode::Normal);
        let deadline = Instant::now() + Duration::from_secs(20);
        let after = h.idp.hits();
        while h.idp.hits() == after {
            assert!(
                Instant::now() < deadline,
                "{mode:?}: no refetch after recovery"
            );
            sleep(PAST_COOLDOWN);
            assert_ne!(status(&h, &unknown_kid_token(&h)), 200);
        }
    }
}

/// Never fetched: 503 with Retry-After, nothing forwarded. Then the IdP recovers, and a flood
/// of unknown kids costs at most one extra fetch per cooldown.
#[test]
fn jwks_down_from_the_start_then_recovery_then_a_kid_flood() {
    let h = Harness::start_with(|c, idp| {
        idp.set_mode(JwksMode::Down);
        c.auth_var("JWKS_COOLDOWN_SECONDS", "30")
            .auth_var("JWKS_TIMEOUT_MS", "1000")
    });
    let token = h.token("user", &["user"]);
    let r = h.get("/hello").bearer(&token).send();
    h.assert_status(&r, 503);
    assert_eq!(r.json()["error"], "jwks_unavailable");
    let retry_after: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric Retry-After: {:?}", r.headers));
    assert!(
        (1..=300).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    h.assert_not_forwarded(&r);
    // Anonymous requests to public routes do not need keys.
    h.assert_status(&h.get("/health").send(), 200);

    h.idp.set_mode(JwksMode::Normal);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = h.get("/hello").bearer(&token).send();
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503, "while recovering: {}", r.text());
        h.assert_not_forwarded(&r);
        assert!(Instant::now() < deadline, "the Worker never recovered");
        sleep(Duration::from_millis(500));
    }

    // The flood: 200 tokens with random kids, 8 at a time.
    let before = h.idp.hits();
    let started = Instant::now();
    let tokens: Vec<String> = (0..200).map(|_| unknown_kid_token(&h)).collect();
    std::thread::scope(|s| {
        for chunk in tokens.chunks(25) {
            let h = &h;
            s.spawn(move || {
                for t in chunk {
                    h.assert_invalid_token(&h.get("/hello").bearer(t).send());
                }
            });
        }
    });
    let cooldowns = started.elapsed().as_secs() / 30 + 1;
    let extra = h.idp.hits() - before;
    assert!(
        extra as u64 <= cooldowns,
        "{extra} JWKS fetches for a 200-kid flood over {:?} (cooldown 30 s)",
        started.elapsed()
    );
    // Valid tokens keep working throughout.
    h.assert_status(&h.get("/hello").bearer(&token).send(), 200);
}

/// A cold isolate hit by many callers at once: one JWKS fetch serves them all, and every one of
/// them gets its answer (a fetch shared across requests must not hang any of them).
#[test]
fn concurrent_first_requests_share_one_fetch() {
    let h = Harness::start();
    let tokens: Vec<String> = (0..16).map(|_| h.token("user", &["user"])).collect();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = tokens
            .iter()
            .map(|t| s.spawn(|| h.get("/hello").bearer(t).send().status))
            .collect();
        handles.into_iter().map(|j| j.join().unwrap_or(0)).collect()
    });
    assert!(
        statuses.iter().all(|&s| s == 200),
        "statuses {statuses:?}\n{}",
        h.log_tail()
    );
    assert_eq!(h.idp.hits(), 1, "one fetch for all concurrent callers");
}

/// The size cap holds while the body is read, with or without `Content-Length`: a chunked
/// key set far over `JWKS_MAX_BYTES` is given up after the cap (most of it is never read),
/// one byte over is refused either way, and one exactly at the cap is used.
#[test]
fn the_jwks_size_cap_holds_while_the_body_is_read() {
    const CAP: usize = 4096;
    const HUGE: usize = 32 * 1024 * 1024;
    let h = Harness::start_with(|c, idp| {
        idp.set_mode(JwksMode::Padded {
            size: HUGE,
            chunked: true,
        });
        c.auth_var("JWKS_MAX_BYTES", CAP.to_string())
    });
    assert!(h.idp.jwks_len() < CAP, "the real key set fits the cap");
    let token = h.token("user", &["user"]);

    // Far over the cap, chunked: refused, and the Worker stopped reading (it would otherwise
    // have taken all 32 MiB; what was written is at most what the sockets buffer).
    let r = h.get("/hello").bearer(&token).send();
    h.assert_status(&r, 503);
    assert_eq!(r.json()["error"], "jwks_unavailable");
    h.assert_not_forwarded(&r);
    assert_eq!(h.idp.hits(), 1);
    sleep(Duration::from_millis(500));
    let sent = h.idp.padded_bytes_sent();
    assert!(
        sent < HUGE / 2,
        "the IdP wrote {sent} of {HUGE} bytes: the body was read past the cap"
    );
    assert!(
        h.stack.log().contains("error=too_large"),
        "{}",
        h.log_tail()
    );

    // One byte over the cap, with and without Content-Length: refused.
    for chunked in [true, false] {
        h.idp.set_mode(JwksMode::Padded {
            size: CAP + 1,
            chunked,
        });
        let r = answer_after_next_fetch(&h, &token);
        assert_eq!(r.status, 503, "chunked {chunked}: {}", r.text());
        assert_eq!(r.json()["error"], "jwks_unavailable");
        h.assert_not_forwarded(&r);
    }

    // Exactly at the cap, chunked: the largest key set allowed is used.
    h.idp.set_mode(JwksMode::Padded {
        size: CAP,
        chunked: true,
    });
    let r = answer_after_next_fetch(&h, &token);
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header("x-user-id"), Some("user"));
}

/// Sends the token until the Worker fetches the JWKS again (it backs off after a failure) and
/// returns the answer to the request that waited for that fetch; the requests before it get
/// the uniform 503 and reach nothing.
fn answer_after_next_fetch(h: &Harness, token: &str) -> e2e::Response {
    let before = h.idp.hits();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = h.get("/hello").bearer(token).send();
        if h.idp.hits() > before {
            return r;
        }
        assert_eq!(r.status, 503, "while backing off: {}", r.text());
        h.assert_not_forwarded(&r);
        assert!(Instant::now() < deadline, "the Worker never fetched again");
        sleep(Duration::from_millis(250));
    }
}
