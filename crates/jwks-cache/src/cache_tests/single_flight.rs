//! Concurrent requests share one fetch; cancellation, hangs, re-entrancy.

use super::*;

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
