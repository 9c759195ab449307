use super::*;

const S: u64 = 1000;

fn p() -> CachePolicy {
    CachePolicy::default()
}

fn view() -> View {
    View::default()
}

#[test]
fn default_policy_is_the_issue_numbers() {
    let d = p();
    assert_eq!(d.default_fresh_for, Duration::from_secs(600));
    assert_eq!(d.min_fresh_for, Duration::from_secs(60));
    assert_eq!(d.max_fresh_for, Duration::from_secs(86_400));
    assert_eq!(d.unknown_kid_cooldown, Duration::from_secs(30));
    assert_eq!(d.max_stale, Duration::from_secs(86_400));
    assert_eq!(d.backoff_initial, Duration::from_secs(1));
    assert_eq!(d.backoff_max, Duration::from_secs(300));
    assert_eq!(d.normalized(), d);
}

#[test]
fn normalized_repairs_inverted_bounds() {
    let bad = CachePolicy {
        min_fresh_for: Duration::from_secs(100),
        max_fresh_for: Duration::from_secs(10),
        default_fresh_for: Duration::ZERO,
        backoff_initial: Duration::ZERO,
        backoff_max: Duration::ZERO,
        ..p()
    }
    .normalized();
    assert_eq!(bad.max_fresh_for, Duration::from_secs(100));
    assert_eq!(bad.default_fresh_for, Duration::from_secs(100));
    assert_eq!(bad.backoff_initial, Duration::from_millis(1));
    assert_eq!(bad.backoff_max, Duration::from_millis(1));
}

#[test]
fn nothing_held_fetches_joins_or_waits_out_the_backoff() {
    assert_eq!(
        decide(&p(), view(), 0),
        Decision::Fetch(FetchReason::Missing)
    );
    let flying = View {
        in_flight: true,
        ..view()
    };
    assert_eq!(decide(&p(), flying, 0), Decision::Join);
    let backing_off = View {
        retry_at: Some(5 * S),
        ..view()
    };
    assert_eq!(
        decide(&p(), backing_off, 2 * S),
        Decision::Unavailable {
            retry_after_ms: 3 * S
        }
    );
    assert_eq!(
        decide(&p(), backing_off, 5 * S),
        Decision::Fetch(FetchReason::Missing)
    );
}

#[test]
fn fresh_set_is_served_until_its_expiry_then_refreshed() {
    let v = View {
        fresh_until: Some(600 * S),
        ..view()
    };
    assert_eq!(decide(&p(), v, 599_999), Decision::Serve(Source::Fresh));
    assert_eq!(
        decide(&p(), v, 600 * S),
        Decision::Fetch(FetchReason::Expired)
    );
    let flying = View {
        in_flight: true,
        ..v
    };
    assert_eq!(decide(&p(), flying, 600 * S), Decision::Join);
    assert_eq!(decide(&p(), flying, 10 * S), Decision::Serve(Source::Fresh));
}

#[test]
fn expired_set_in_backoff_is_served_stale_without_fetching() {
    let v = View {
        fresh_until: Some(600 * S),
        retry_at: Some(700 * S),
        ..view()
    };
    assert_eq!(decide(&p(), v, 650 * S), Decision::Serve(Source::Stale));
    assert_eq!(
        decide(&p(), v, 700 * S),
        Decision::Fetch(FetchReason::Expired)
    );
}

#[test]
fn unknown_kid_refetches_once_per_cooldown_counting_any_fetch() {
    let v = View {
        fresh_until: Some(600 * S),
        kid_known: Some(false),
        last_fetch_started: Some(100 * S),
        ..view()
    };
    assert_eq!(decide(&p(), v, 129_999), Decision::Serve(Source::Fresh));
    assert_eq!(
        decide(&p(), v, 130 * S),
        Decision::Fetch(FetchReason::UnknownKid)
    );
    // Never fetched (seeded set): allowed at once.
    let seeded = View {
        last_fetch_started: None,
        ..v
    };
    assert_eq!(
        decide(&p(), seeded, 0),
        Decision::Fetch(FetchReason::UnknownKid)
    );
    // A known kid, or no kid at all, never causes a fetch on a fresh set.
    for kid_known in [Some(true), None] {
        let k = View { kid_known, ..v };
        assert_eq!(decide(&p(), k, 500 * S), Decision::Serve(Source::Fresh));
    }
    // Pending fetch: join it, even inside the cooldown.
    let flying = View {
        in_flight: true,
        ..v
    };
    assert_eq!(decide(&p(), flying, 101 * S), Decision::Join);
    // Backoff wins over the cooldown.
    let backing_off = View {
        retry_at: Some(200 * S),
        ..v
    };
    assert_eq!(
        decide(&p(), backing_off, 150 * S),
        Decision::Serve(Source::Fresh)
    );
}

#[test]
fn backoff_doubles_within_equal_jitter_bounds_and_caps() {
    let pol = p();
    let mut base = 1000u64;
    for failures in 1..=20u32 {
        let lo = backoff_ms(&pol, failures, 0.0);
        let hi = backoff_ms(&pol, failures, 0.999_999);
        assert_eq!(lo, base / 2, "attempt {failures}");
        assert!(hi < base && hi >= base - 1, "attempt {failures}: {hi}");
        base = (base * 2).min(300_000);
    }
    assert_eq!(backoff_ms(&pol, 1, 0.5), 750);
    assert_eq!(backoff_ms(&pol, 3, 0.5), 3000);
    assert_eq!(backoff_ms(&pol, u32::MAX, 0.5), 225_000);
}

#[test]
fn backoff_tolerates_bad_jitter_and_tiny_policies() {
    let pol = p();
    assert_eq!(backoff_ms(&pol, 1, f64::NAN), 500);
    assert_eq!(backoff_ms(&pol, 1, -3.0), 500);
    assert_eq!(backoff_ms(&pol, 1, 7.0), 999);
    let tiny = CachePolicy {
        backoff_initial: Duration::ZERO,
        backoff_max: Duration::ZERO,
        ..pol
    };
    assert_eq!(backoff_ms(&tiny, 1, 0.0), 1);
    assert_eq!(backoff_ms(&tiny, 9, 0.99), 1);
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    assert_eq!(ceil_secs(0), 1);
    assert_eq!(ceil_secs(1), 1);
    assert_eq!(ceil_secs(1000), 1);
    assert_eq!(ceil_secs(1001), 2);
    assert_eq!(ms(Duration::MAX), u64::MAX);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn backoff_is_bounded_and_monotone_in_attempts(
            failures in 1u32..200, j in 0.0f64..1.0,
        ) {
            let pol = p();
            let d = backoff_ms(&pol, failures, j);
            prop_assert!((500..300_000).contains(&d));
            // Lower bound of the next attempt is never below this one's.
            prop_assert!(backoff_ms(&pol, failures + 1, 0.0) >= backoff_ms(&pol, failures, 0.0));
        }

        #[test]
        fn decide_never_fetches_during_backoff(
            fresh_until in proptest::option::of(0u64..1_000_000),
            kid_known in proptest::option::of(any::<bool>()),
            in_flight in any::<bool>(),
            retry_at in 1u64..1_000_000,
            last in proptest::option::of(0u64..1_000_000),
            now in 0u64..1_000_000,
        ) {
            let v = View { fresh_until, kid_known, in_flight, retry_at: Some(retry_at), last_fetch_started: last };
            let d = decide(&p(), v, now);
            if now < retry_at {
                prop_assert!(!matches!(d, Decision::Fetch(_)), "{d:?}");
            }
            if fresh_until.is_none() {
                prop_assert!(!matches!(d, Decision::Serve(_)));
            }
            if !in_flight {
                prop_assert_ne!(d, Decision::Join);
            }
        }
    }
}
