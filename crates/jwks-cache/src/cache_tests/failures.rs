//! Stale-if-error, backoff, unavailability.

use super::*;

#[test]
fn stale_if_error_with_exponential_backoff_up_to_max_stale() {
    let h = h();
    h.up.serve(&["a"], 600);
    h.get(None).unwrap();
    h.cache.drain_events();
    h.up.set(Mode::Fail(FetchError::Timeout));
    h.advance_ms(600 * S);
    let expired_at = h.clock.now.get();
    let limit = expired_at + 86_400 * S;

    let mut expected = Vec::new();
    let mut seen = Vec::new();
    let mut attempt = 0u32;
    let mut base = 1000u64;
    // Walk the backoff: requests inside it are stale hits without upstream.
    while h.clock.now.get() + base < limit {
        let before = h.calls();
        assert_eq!(h.ok(None), (Source::Stale, kids(&["a"])));
        assert_eq!(h.calls(), before + 1, "attempt after backoff");
        attempt += 1;
        let delay = base / 2 + base / 4; // jitter 0.5
        expected.push((attempt, delay));
        for _ in 0..5 {
            h.advance_ms(delay / 6);
            assert_eq!(h.ok(None).0, Source::Stale);
        }
        assert_eq!(h.calls(), before + 1, "no upstream during backoff");
        // The Worker drains after each request (the queue is bounded).
        seen.extend(failed_events(&h.cache.drain_events()));
        h.advance_ms(delay - 5 * (delay / 6));
        base = (base * 2).min(300 * S);
    }
    assert_eq!(seen, expected);
    assert!(attempt > 290, "{attempt}");
    assert_eq!(expected.last().unwrap().1, 225_000);

    // Just before the limit: still stale. At the limit: gone.
    h.clock.now.set(limit - 1);
    assert_eq!(h.ok(None).0, Source::Stale);
    h.clock.now.set(limit);
    let err = h.get(None).unwrap_err();
    assert!(matches!(
        err,
        CacheError::Unavailable {
            last_error: Some(FetchError::Timeout),
            ..
        }
    ));
    let ev = h.cache.drain_events();
    assert!(ev.contains(&Event::StaleDiscarded {
        expired_for: secs(86_400)
    }));
}

#[test]
fn recovery_resets_the_backoff() {
    let h = h();
    h.up.serve(&["a"], 600);
    h.get(None).unwrap();
    h.up.set(Mode::Fail(FetchError::BadJson));
    h.advance_ms(600 * S);
    for _ in 0..3 {
        h.get(None).unwrap();
        h.advance_ms(10 * S);
    }
    h.up.serve(&["b"], 600);
    assert_eq!(h.ok(None), (Source::Refetched, kids(&["b"])));
    let ev = h.cache.drain_events();
    assert!(ev.contains(&Event::Refreshed {
        reason: FetchReason::Expired,
        fresh_for: secs(600),
        after_failures: 3
    }));
    h.up.set(Mode::Fail(FetchError::BadJson));
    h.advance_ms(600 * S);
    h.get(None).unwrap();
    assert_eq!(failed_events(&h.cache.drain_events()), [(1, 750)]);
}

#[test]
fn no_set_ever_is_unavailable_without_hammering() {
    let h = h();
    h.up.set(Mode::Fail(FetchError::Network));
    let unavailable = |secs| CacheError::Unavailable {
        retry_after_seconds: secs,
        last_error: Some(FetchError::Network),
    };
    assert_eq!(h.get(None).unwrap_err(), unavailable(1));
    assert_eq!(h.calls(), 1);
    h.advance_ms(500);
    for _ in 0..100 {
        assert_eq!(h.get(Some("x")).unwrap_err(), unavailable(1));
    }
    assert_eq!(h.calls(), 1);
    h.advance_ms(250);
    assert_eq!(h.get(None).unwrap_err(), unavailable(2)); // 1500 ms
    assert_eq!(h.calls(), 2);
    h.advance_ms(1499);
    assert_eq!(h.get(None).unwrap_err(), unavailable(1));
    assert_eq!(h.calls(), 2);
    // Much later, still failing: the delay is capped at 5 min.
    for _ in 0..30 {
        h.advance_ms(300 * S);
        let _ = h.get(None);
    }
    let e = h.get(None).unwrap_err();
    assert!(e.retry_after_seconds() <= 300, "{e}");
    assert_eq!(
        failed_events(&h.cache.drain_events()).len(),
        usize::try_from(h.calls()).unwrap()
    );
    h.up.serve(&["a"], 600);
    h.advance_ms(300 * S);
    assert_eq!(h.ok(None).0, Source::Refetched);
}

#[test]
fn failed_unknown_kid_refetch_keeps_serving_the_fresh_set() {
    let h = h();
    h.up.serve(&["a"], 600);
    h.get(None).unwrap();
    h.advance_ms(60 * S);
    h.up.set(Mode::Fail(FetchError::Timeout));
    assert_eq!(h.ok(Some("b")), (Source::Fresh, kids(&["a"])));
    let ev = h.cache.drain_events();
    assert!(matches!(
        ev.last(),
        Some(Event::FetchFailed {
            reason: FetchReason::UnknownKid,
            attempt: 1,
            serving_previous: true,
            ..
        })
    ));
}

#[test]
fn custom_policy_is_honoured() {
    let h = h_with(CachePolicy {
        unknown_kid_cooldown: secs(5),
        max_stale: secs(10),
        backoff_initial: secs(2),
        backoff_max: secs(3),
        ..CachePolicy::default()
    });
    h.up.serve(&["a"], 60);
    h.get(None).unwrap();
    h.advance_ms(5 * S);
    assert_eq!(h.ok(Some("b")).0, Source::Refetched);
    h.up.set(Mode::Fail(FetchError::NoUsableKeys));
    h.advance_ms(60 * S);
    assert_eq!(h.ok(None).0, Source::Stale);
    h.advance_ms(10 * S);
    assert!(h.get(None).is_err());
    let f = failed_events(&h.cache.drain_events());
    assert_eq!(f.first(), Some(&(1, 1500)));
    assert!(f.iter().all(|(_, d)| *d < 3000));
}
