//! The cache end to end with a fake clock and a fake upstream that counts
//! calls and can be told to succeed, fail, or hang until released.

use super::*;
use crate::cache_control::freshness_from_cache_control;
use core::cell::Cell;
use futures_channel::oneshot;
use futures_executor::{block_on, LocalPool};
use futures_util::task::LocalSpawnExt;

type Keys = Vec<String>;

const S: u64 = 1000;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn has(k: &Keys, kid: &str) -> bool {
    k.iter().any(|x| x == kid)
}

struct Clock {
    now: Cell<u64>,
    jitter: Cell<f64>,
}

impl Environment for Clock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn jitter(&self) -> f64 {
        self.jitter.get()
    }
}

#[derive(Clone)]
enum Mode {
    Serve(Vec<&'static str>, Duration),
    Fail(FetchError),
    /// The fetch completes when the test sends on the gate.
    Gate,
}

/// Where a spawned `get` leaves its answer.
type Slot = Rc<RefCell<Option<Result<Lookup<Keys>, CacheError>>>>;

type GateTx = oneshot::Sender<Result<Fetched<Keys>, FetchError>>;

struct Upstream {
    calls: Cell<u32>,
    mode: RefCell<Mode>,
    gates: RefCell<Vec<GateTx>>,
}

impl Upstream {
    fn set(&self, m: Mode) {
        *self.mode.borrow_mut() = m;
    }

    fn serve(&self, kids: &[&'static str], fresh_s: u64) {
        self.set(Mode::Serve(kids.to_vec(), secs(fresh_s)));
    }

    /// Releases the oldest pending gated fetch.
    fn release(&self, r: Result<Fetched<Keys>, FetchError>) {
        let tx = self.gates.borrow_mut().remove(0);
        assert!(tx.send(r).is_ok(), "nobody was waiting");
    }

    fn fetcher(
        self: &Rc<Self>,
    ) -> impl FnOnce() -> LocalBoxFuture<'static, Result<Fetched<Keys>, FetchError>> {
        let up = Rc::clone(self);
        move || {
            up.calls.set(up.calls.get() + 1);
            match up.mode.borrow().clone() {
                Mode::Serve(kids, fresh_for) => {
                    let keys = kids.iter().map(|k| (*k).to_owned()).collect();
                    async move { Ok(Fetched { keys, fresh_for }) }.boxed_local()
                }
                Mode::Fail(e) => async move { Err(e) }.boxed_local(),
                Mode::Gate => {
                    let (tx, rx) = oneshot::channel();
                    up.gates.borrow_mut().push(tx);
                    async move { rx.await.unwrap_or(Err(FetchError::Network)) }.boxed_local()
                }
            }
        }
    }
}

struct H {
    cache: Rc<JwksCache<Keys>>,
    clock: Rc<Clock>,
    up: Rc<Upstream>,
}

fn h() -> H {
    h_with(CachePolicy::default())
}

fn h_with(p: CachePolicy) -> H {
    H {
        cache: Rc::new(JwksCache::new(p)),
        clock: Rc::new(Clock {
            now: Cell::new(1_700_000_000_000),
            jitter: Cell::new(0.5),
        }),
        up: Rc::new(Upstream {
            calls: Cell::new(0),
            mode: RefCell::new(Mode::Fail(FetchError::Network)),
            gates: RefCell::new(Vec::new()),
        }),
    }
}

impl H {
    fn get(&self, kid: Option<&str>) -> Result<Lookup<Keys>, CacheError> {
        block_on(self.cache.get(&*self.clock, kid, has, self.up.fetcher()))
    }

    fn ok(&self, kid: Option<&str>) -> (Source, Keys) {
        let l = self.get(kid).expect("keys");
        (l.source, (*l.keys).clone())
    }

    fn advance_ms(&self, ms: u64) {
        self.clock.now.set(self.clock.now.get() + ms);
    }

    fn calls(&self) -> u32 {
        self.up.calls.get()
    }

    /// Spawns a `get` on the pool; its result lands in the returned slot.
    fn spawn_get(&self, pool: &LocalPool, kid: Option<String>) -> Slot {
        let slot = Rc::new(RefCell::new(None));
        let (cache, clock, up, out) = (
            Rc::clone(&self.cache),
            Rc::clone(&self.clock),
            Rc::clone(&self.up),
            Rc::clone(&slot),
        );
        pool.spawner()
            .spawn_local(async move {
                let r = cache.get(&*clock, kid.as_deref(), has, up.fetcher()).await;
                *out.borrow_mut() = Some(r);
            })
            .unwrap();
        slot
    }
}

fn kids(k: &[&str]) -> Keys {
    k.iter().map(|s| (*s).to_owned()).collect()
}

fn failed_events(ev: &[Event]) -> Vec<(u32, u64)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::FetchFailed {
                attempt, retry_in, ..
            } => Some((*attempt, u64::try_from(retry_in.as_millis()).unwrap())),
            _ => None,
        })
        .collect()
}

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
fn concurrent_random_kids_share_one_fetch() {
    let h = h();
    h.up.serve(&["a"], 3600);
    h.get(None).unwrap();
    h.advance_ms(60 * S);
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..200)
        .map(|i| h.spawn_get(&pool, Some(format!("kid-{i}"))))
        .collect();
    pool.run_until_stalled();
    assert_eq!(h.calls(), 2);
    assert!(slots.iter().all(|s| s.borrow().is_none()), "all wait");
    h.up.release(Ok(Fetched {
        keys: kids(&["a", "kid-7"]),
        fresh_for: secs(3600),
    }));
    pool.run_until_stalled();
    for s in &slots {
        let l = s.borrow_mut().take().unwrap().unwrap();
        assert_eq!(l.source, Source::Refetched);
        assert_eq!(*l.keys, kids(&["a", "kid-7"]));
    }
    assert_eq!(h.calls(), 2);
}

#[test]
fn single_flight_success_feeds_every_waiter_one_set() {
    let h = h();
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..50).map(|_| h.spawn_get(&pool, None)).collect();
    pool.run_until_stalled();
    assert_eq!(h.calls(), 1);
    h.up.release(Ok(Fetched {
        keys: kids(&["a"]),
        fresh_for: secs(600),
    }));
    pool.run_until_stalled();
    let first = slots[0].borrow().clone().unwrap().unwrap();
    for s in &slots {
        let l = s.borrow_mut().take().unwrap().unwrap();
        assert_eq!(l.source, Source::Refetched);
        assert!(Rc::ptr_eq(&l.keys, &first.keys));
    }
    let ev = h.cache.drain_events();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(h.ok(None).0, Source::Fresh);
    assert_eq!(h.calls(), 1);
}

#[test]
fn single_flight_failure_is_seen_consistently_by_every_waiter() {
    let h = h();
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..50).map(|_| h.spawn_get(&pool, None)).collect();
    pool.run_until_stalled();
    h.up.release(Err(FetchError::HttpStatus { status: 503 }));
    pool.run_until_stalled();
    let expect = CacheError::Unavailable {
        retry_after_seconds: 1,
        last_error: Some(FetchError::HttpStatus { status: 503 }),
    };
    for s in &slots {
        assert_eq!(s.borrow_mut().take().unwrap().unwrap_err(), expect);
    }
    assert_eq!(h.calls(), 1);
    assert_eq!(failed_events(&h.cache.drain_events()), [(1, 750)]);
}

#[test]
fn a_dropped_initiator_does_not_lose_the_fetch() {
    let h = h();
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    {
        // Poll the initiating request once, then cancel it.
        let mut fut = h
            .cache
            .get(&*h.clock, None, has, h.up.fetcher())
            .boxed_local();
        let waker = futures_util::task::noop_waker();
        let mut cx = core::task::Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    let slot = h.spawn_get(&pool, None);
    pool.run_until_stalled();
    h.up.release(Ok(Fetched {
        keys: kids(&["a"]),
        fresh_for: secs(600),
    }));
    pool.run_until_stalled();
    assert_eq!(
        slot.borrow_mut().take().unwrap().unwrap().source,
        Source::Refetched
    );
    assert_eq!(h.calls(), 1);
}

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

#[test]
fn a_hung_fetch_is_abandoned_and_its_late_result_not_recorded() {
    let h = h();
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let first = h.spawn_get(&pool, None);
    pool.run_until_stalled();
    h.advance_ms(29 * S);
    let joined = h.spawn_get(&pool, None);
    pool.run_until_stalled();
    assert_eq!(h.calls(), 1);
    h.advance_ms(S);
    let fresh = h.spawn_get(&pool, None);
    pool.run_until_stalled();
    assert_eq!(h.calls(), 2);
    assert_eq!(
        h.cache.drain_events(),
        [Event::FetchAbandoned {
            pending_for: secs(30)
        }]
    );
    h.up.release(Ok(Fetched {
        keys: kids(&["late"]),
        fresh_for: secs(600),
    }));
    h.up.release(Ok(Fetched {
        keys: kids(&["new"]),
        fresh_for: secs(600),
    }));
    pool.run_until_stalled();
    let keys_of = |s: &Slot| (*s.borrow_mut().take().unwrap().unwrap().keys).clone();
    assert_eq!(keys_of(&first), kids(&["late"]));
    assert_eq!(keys_of(&joined), kids(&["late"]));
    assert_eq!(keys_of(&fresh), kids(&["new"]));
    assert_eq!(h.ok(None), (Source::Fresh, kids(&["new"])));
}

#[test]
fn callbacks_may_reenter_the_cache_and_the_clock_may_step_back() {
    let h = h();
    h.up.serve(&["a"], 600);
    let cache = Rc::clone(&h.cache);
    let up = h.up.fetcher();
    let reentrant = move || {
        let _ = cache.drain_events();
        up()
    };
    let cache2 = Rc::clone(&h.cache);
    let has_reentrant = move |k: &Keys, kid: &str| {
        let _ = cache2.drain_events();
        has(k, kid)
    };
    block_on(h.cache.get(&*h.clock, Some("a"), &has_reentrant, reentrant)).unwrap();
    block_on(
        h.cache
            .get(&*h.clock, Some("a"), &has_reentrant, h.up.fetcher()),
    )
    .unwrap();
    h.clock.now.set(h.clock.now.get() - 3600 * S);
    assert_eq!(h.ok(Some("a")).0, Source::Fresh);
    assert_eq!(h.calls(), 1);
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
