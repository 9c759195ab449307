//! Random sequences of requests, clock jumps and upstream changes, checked
//! against a small reference model of the policy written out longhand.

use super::*;
use proptest::prelude::*;

const COOLDOWN: u64 = 30 * S;
const MAX_STALE: u64 = 86_400 * S;

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    UpstreamOk(Vec<&'static str>, u64),
    UpstreamFails,
    Get(Option<&'static str>, f64),
}

fn kid() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["k0", "k1", "k2", "k3"])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..2_000).prop_map(Op::Advance),
        2 => (0u64..400_000).prop_map(Op::Advance),
        1 => (0u64..(2 * MAX_STALE)).prop_map(Op::Advance),
        1 => (prop::collection::vec(kid(), 0..4), 0u64..200_000)
            .prop_map(|(k, f)| Op::UpstreamOk(k, f)),
        1 => Just(Op::UpstreamFails),
        6 => (prop::option::of(kid()), 0.0f64..1.0).prop_map(|(k, j)| Op::Get(k, j)),
    ]
}

/// What the test believes the cache holds.
#[derive(Default)]
struct Model {
    held: Option<(Keys, u64)>,
    retry_at: Option<u64>,
    last_fetch: Option<u64>,
    failures: u32,
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let h = h();
    let mut m = Model::default();
    let mut upstream_ok: Option<(Keys, u64)> = None;
    for op in ops {
        let now = h.clock.now.get();
        match op {
            Op::Advance(ms) => h.advance_ms(*ms),
            Op::UpstreamOk(k, fresh_ms) => {
                h.up.set(Mode::Serve(k.clone(), Duration::from_millis(*fresh_ms)));
                upstream_ok = Some((kids(k), (*fresh_ms).clamp(60 * S, 86_400 * S)));
            }
            Op::UpstreamFails => {
                h.up.set(Mode::Fail(FetchError::Network));
                upstream_ok = None;
            }
            Op::Get(want, jitter) => {
                h.clock.jitter.set(*jitter);
                let before = h.calls();
                let got = h.get(*want);
                let fetched = h.calls() - before;
                let events = h.cache.drain_events();

                let usable = m.held.clone().filter(|(_, fu)| now < fu + MAX_STALE);
                let backoff = m.retry_at.is_some_and(|r| now < r);
                let must_fetch = !backoff
                    && match &usable {
                        None => true,
                        Some((_, fu)) if now >= *fu => true,
                        Some((keys, _)) => {
                            want.is_some_and(|k| !has(keys, k))
                                && m.last_fetch.is_none_or(|t| now >= t + COOLDOWN)
                        }
                    };
                prop_assert_eq!(fetched, u32::from(must_fetch), "at {}", now);

                let serve_held = |held: &Option<(Keys, u64)>| match held {
                    Some((keys, fu)) => Ok((
                        if now < *fu {
                            Source::Fresh
                        } else {
                            Source::Stale
                        },
                        keys.clone(),
                    )),
                    None => Err(()),
                };
                let expected = if !must_fetch {
                    serve_held(&usable)
                        .map_err(|()| ceil_secs(m.retry_at.map_or(0, |r| r.saturating_sub(now))))
                } else {
                    m.last_fetch = Some(now);
                    if let Some((keys, fresh_for)) = &upstream_ok {
                        m.held = Some((keys.clone(), now + fresh_for));
                        m.retry_at = None;
                        m.failures = 0;
                        Ok((Source::Refetched, keys.clone()))
                    } else {
                        m.failures += 1;
                        let base = (1000u64 << (m.failures - 1).min(40)).min(300 * S);
                        let delays = failed_events(&events);
                        prop_assert_eq!(delays.len(), 1);
                        let (attempt, delay) = delays[0];
                        prop_assert_eq!(attempt, m.failures);
                        prop_assert!((base / 2..base).contains(&delay), "{} {}", delay, base);
                        m.retry_at = Some(now + delay);
                        serve_held(&usable).map_err(|()| ceil_secs(delay))
                    }
                };
                let actual = got
                    .map(|l| (l.source, (*l.keys).clone()))
                    .map_err(|e| e.retry_after_seconds());
                prop_assert_eq!(actual, expected, "at {}", now);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sequential_behaviour_matches_the_model(ops in prop::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }

    #[test]
    fn freshness_parser_never_panics_and_stays_in_bounds(h in ".{0,64}") {
        let p = CachePolicy::default();
        let f = freshness_from_cache_control(Some(&h), &p);
        prop_assert!(f >= p.min_fresh_for && f <= p.max_fresh_for);
    }

    #[test]
    fn any_valid_max_age_is_clamped(n in any::<u64>(), pre in "[a-z ]{0,12}") {
        let p = CachePolicy::default();
        let got = freshness_from_cache_control(Some(&format!("{pre}, max-age={n}")), &p);
        prop_assert_eq!(got, Duration::from_secs(n.clamp(60, 86_400)));
    }
}
