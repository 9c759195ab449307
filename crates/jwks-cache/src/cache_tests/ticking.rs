//! Waiting on another request's fetch with a timer of one's own ([`Environment::tick`]), as in
//! Cloudflare Workers: a waiter is never woken by the fetch itself, only by its own ticks.

use super::*;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// Timers that fire only when the test says so (all at once, like a clock tick).
#[derive(Default)]
struct Ticker {
    epoch: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
    made: Cell<u32>,
}

impl Ticker {
    fn fire(&self) {
        self.epoch.set(self.epoch.get() + 1);
        for w in self.wakers.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

struct Tick {
    ticker: Rc<Ticker>,
    epoch: u64,
}

impl Future for Tick {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.ticker.epoch.get() != self.epoch {
            return Poll::Ready(());
        }
        self.ticker.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

struct TickingClock {
    clock: Rc<Clock>,
    ticker: Rc<Ticker>,
}

impl Environment for TickingClock {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
    fn jitter(&self) -> f64 {
        self.clock.jitter()
    }
    fn tick(&self) -> Option<LocalBoxFuture<'static, ()>> {
        self.ticker.made.set(self.ticker.made.get() + 1);
        Some(
            Tick {
                ticker: Rc::clone(&self.ticker),
                epoch: self.ticker.epoch.get(),
            }
            .boxed_local(),
        )
    }
}

fn spawn_ticking(h: &H, env: &Rc<TickingClock>, pool: &LocalPool, kid: Option<&str>) -> Slot {
    let slot = Rc::new(RefCell::new(None));
    let (cache, env, up, out) = (
        Rc::clone(&h.cache),
        Rc::clone(env),
        Rc::clone(&h.up),
        Rc::clone(&slot),
    );
    let kid = kid.map(str::to_owned);
    pool.spawner()
        .spawn_local(async move {
            let r = cache.get(&*env, kid.as_deref(), has, up.fetcher()).await;
            *out.borrow_mut() = Some(r);
        })
        .unwrap();
    slot
}

fn ticking(h: &H) -> Rc<TickingClock> {
    Rc::new(TickingClock {
        clock: Rc::clone(&h.clock),
        ticker: Rc::new(Ticker::default()),
    })
}

#[test]
fn waiters_share_one_fetch_but_wake_only_on_their_own_ticks() {
    let h = h();
    let env = ticking(&h);
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..16)
        .map(|_| spawn_ticking(&h, &env, &pool, None))
        .collect();
    pool.run_until_stalled();
    assert_eq!(h.calls(), 1, "one upstream fetch for all");
    h.up.release(Ok(Fetched {
        keys: kids(&["a"]),
        fresh_for: secs(600),
    }));
    pool.run_until_stalled();
    // The initiator got its answer from the fetch; the others were not woken by it.
    let done = slots.iter().filter(|s| s.borrow().is_some()).count();
    assert_eq!(
        done, 1,
        "only the request that fetched is woken by the fetch"
    );
    env.ticker.fire();
    pool.run_until_stalled();
    let first = slots[0].borrow().clone().unwrap().unwrap();
    for s in &slots {
        let l = s.borrow_mut().take().unwrap().unwrap();
        assert_eq!(*l.keys, kids(&["a"]));
        assert!(Rc::ptr_eq(&l.keys, &first.keys));
    }
    assert_eq!(h.calls(), 1);
    assert_eq!(h.cache.drain_events().len(), 1, "one refresh recorded");
}

#[test]
fn a_failed_shared_fetch_reaches_every_waiter_on_its_next_tick() {
    let h = h();
    let env = ticking(&h);
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..8)
        .map(|_| spawn_ticking(&h, &env, &pool, None))
        .collect();
    pool.run_until_stalled();
    h.up.release(Err(FetchError::HttpStatus { status: 500 }));
    env.ticker.fire();
    pool.run_until_stalled();
    for s in &slots {
        assert!(matches!(
            s.borrow_mut().take().unwrap(),
            Err(CacheError::Unavailable { .. })
        ));
    }
    assert_eq!(h.calls(), 1);
}

#[test]
fn waiters_give_up_on_an_abandoned_fetch_and_the_next_request_fetches_again() {
    let h = h();
    let env = ticking(&h);
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let waiters: Vec<_> = (0..4)
        .map(|_| spawn_ticking(&h, &env, &pool, None))
        .collect();
    pool.run_until_stalled();
    assert_eq!(h.calls(), 1);
    // The fetch never finishes (its request was cancelled): past `abandon_fetch_after`, the
    // waiters stop waiting instead of hanging.
    h.advance_ms(ms(CachePolicy::default().abandon_fetch_after));
    env.ticker.fire();
    pool.run_until_stalled();
    // Three waiters; the first spawned started the fetch and still awaits it.
    let gave_up = waiters
        .iter()
        .filter(|s| matches!(*s.borrow(), Some(Err(CacheError::Unavailable { .. }))))
        .count();
    assert_eq!(gave_up, 3);
    h.up.serve(&["a"], 600);
    let (_, keys) = h.ok(None);
    assert_eq!(keys, kids(&["a"]));
    assert_eq!(h.calls(), 2);
}

#[test]
fn without_ticks_waiters_are_woken_by_the_fetch() {
    // The default (`tick` = None): every waiter is woken by the shared fetch itself.
    let h = h();
    h.up.set(Mode::Gate);
    let mut pool = LocalPool::new();
    let slots: Vec<_> = (0..8).map(|_| h.spawn_get(&pool, None)).collect();
    pool.run_until_stalled();
    h.up.release(Ok(Fetched {
        keys: kids(&["a"]),
        fresh_for: secs(600),
    }));
    pool.run_until_stalled();
    assert!(slots.iter().all(|s| s.borrow().is_some()));
}
