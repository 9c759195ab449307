//! Freshness, unknown-kid refetch and its cooldown, rotation, seeding.

use super::*;

#[test]
fn first_fetch_then_fresh_hits_then_refetch_after_max_age() {
    let h = h();
    h.up.serve(&["a"], 300);
    assert_eq!(h.ok(Some("a")), (Source::Refetched, kids(&["a"])));
    assert_eq!(h.calls(), 1);
    for _ in 0..100 {
        h.advance_ms(2_999);
        assert_eq!(h.ok(Some("a")).0, Source::Fresh);
    }
    assert_eq!(h.calls(), 1);
    h.advance_ms(300 * S - 299_900);
    assert_eq!(h.ok(Some("a")).0, Source::Refetched);
    assert_eq!(h.calls(), 2);
    let ev = h.cache.drain_events();
    assert_eq!(
        ev,
        [
            Event::Refreshed {
                reason: FetchReason::Missing,
                fresh_for: secs(300),
                after_failures: 0
            },
            Event::Refreshed {
                reason: FetchReason::Expired,
                fresh_for: secs(300),
                after_failures: 0
            },
        ]
    );
}

#[test]
fn cache_control_freshness_is_clamped_end_to_end() {
    let p = CachePolicy::default();
    for (header, expect_s) in [
        (Some("max-age=5"), 60),
        (Some("no-store"), 60),
        (Some("max-age=900"), 900),
        (Some("max-age=10000000"), 86_400),
        (None, 600),
    ] {
        let h = h();
        let fresh_for = freshness_from_cache_control(header, &p);
        h.up.set(Mode::Serve(vec!["a"], fresh_for));
        h.get(None).unwrap();
        h.advance_ms(expect_s * S - 1);
        assert_eq!(h.ok(None).0, Source::Fresh, "{header:?}");
        h.advance_ms(1);
        assert_eq!(h.ok(None).0, Source::Refetched, "{header:?}");
        assert_eq!(h.calls(), 2);
    }
}

#[test]
fn fetcher_freshness_out_of_bounds_is_clamped_by_the_cache() {
    let h = h();
    h.up.set(Mode::Serve(vec!["a"], Duration::ZERO));
    h.get(None).unwrap();
    h.advance_ms(59 * S);
    assert_eq!(h.ok(None).0, Source::Fresh);
    assert_eq!(h.calls(), 1);
    let ev = h.cache.drain_events();
    assert!(matches!(ev[0], Event::Refreshed { fresh_for, .. } if fresh_for == secs(60)));
}

#[test]
fn unknown_kid_refetches_at_once_outside_the_cooldown() {
    let h = h();
    h.up.serve(&["a"], 600);
    h.get(Some("a")).unwrap();
    h.advance_ms(31 * S);
    h.up.serve(&["a", "b"], 600);
    assert_eq!(h.ok(Some("b")), (Source::Refetched, kids(&["a", "b"])));
    assert_eq!(h.calls(), 2);
    // Now known: no more fetching.
    assert_eq!(h.ok(Some("b")).0, Source::Fresh);
    assert_eq!(h.calls(), 2);
}

#[test]
fn random_kid_flood_costs_one_fetch_per_cooldown() {
    let h = h();
    h.up.serve(&["a"], 3600);
    h.get(None).unwrap();
    h.advance_ms(60 * S);
    // 200 random kids over 29.85 s: one refetch (the first), then none.
    for i in 0..200u64 {
        let kid = format!("random-{:x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (source, keys) = h.ok(Some(&kid));
        assert!(!has(&keys, &kid));
        let expect = if i == 0 {
            Source::Refetched
        } else {
            Source::Fresh
        };
        assert_eq!(source, expect, "request {i}");
        h.advance_ms(150);
    }
    assert_eq!(h.calls(), 2);
    // The cooldown (30 s from the refetch) ends: exactly one more.
    h.advance_ms(150);
    for i in 0..200 {
        h.get(Some(&format!("other-{i}"))).unwrap();
    }
    assert_eq!(h.calls(), 3);
}

#[test]
fn key_rotation_new_kid_accepted_old_kept_while_listed() {
    let h = h();
    h.up.serve(&["k1"], 3600);
    h.get(Some("k1")).unwrap();
    h.advance_ms(120 * S);
    h.up.serve(&["k1", "k2"], 3600);
    assert_eq!(h.ok(Some("k2")), (Source::Refetched, kids(&["k1", "k2"])));
    assert_eq!(h.ok(Some("k1")), (Source::Fresh, kids(&["k1", "k2"])));
    assert_eq!(h.calls(), 2);
    // k1 retired upstream: still served until the set is refreshed.
    h.up.serve(&["k2"], 3600);
    h.advance_ms(1000 * S);
    assert_eq!(h.ok(Some("k1")).0, Source::Fresh);
    h.advance_ms(2600 * S);
    assert_eq!(h.ok(Some("k1")), (Source::Refetched, kids(&["k2"])));
    // The kid is gone: the cache reports the new set; rejecting is the caller's.
    h.advance_ms(10 * S);
    assert_eq!(h.ok(Some("k1")), (Source::Fresh, kids(&["k2"])));
    assert_eq!(h.calls(), 3);
}

#[test]
fn seed_warms_the_cache_and_respects_age() {
    let h = h();
    let now = h.clock.now.get();
    h.up.serve(&["fetched"], 600);
    assert!(h
        .cache
        .seed(&*h.clock, kids(&["seeded"]), now - 100 * S, secs(600)));
    assert_eq!(h.ok(None), (Source::Fresh, kids(&["seeded"])));
    // An older seed does not replace it.
    assert!(!h
        .cache
        .seed(&*h.clock, kids(&["older"]), now - 200 * S, secs(600)));
    // A seed does not start the unknown-kid cooldown.
    assert_eq!(h.ok(Some("new")).0, Source::Refetched);
    assert_eq!(h.calls(), 1);
    // Beyond max_stale: refused.
    let h = self::h();
    let now = h.clock.now.get();
    assert!(!h
        .cache
        .seed(&*h.clock, kids(&["x"]), now - 86_400 * S - 60 * S, secs(60)));
    // From the future (clock skew): counts as now.
    assert!(h
        .cache
        .seed(&*h.clock, kids(&["y"]), now + 3600 * S, secs(60)));
    h.advance_ms(60 * S);
    h.up.serve(&["z"], 600);
    assert_eq!(h.ok(None), (Source::Refetched, kids(&["z"])));
}

#[test]
fn stale_seed_is_served_when_upstream_fails() {
    let h = h();
    let now = h.clock.now.get();
    assert!(h
        .cache
        .seed(&*h.clock, kids(&["s"]), now - 3600 * S, secs(600)));
    assert_eq!(h.ok(None), (Source::Stale, kids(&["s"])));
    assert_eq!(h.calls(), 1);
}
