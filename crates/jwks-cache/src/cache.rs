//! The per-isolate cache: state, single flight, and the bookkeeping around
//! [`crate::policy::decide`].
//!
//! Single-threaded by design (a Worker isolate runs one thread): interior
//! mutability through `RefCell`, shared fetches through `Shared` of a
//! `LocalBoxFuture`. No `RefCell` borrow is held across an `.await`, and no
//! caller-supplied closure runs while the state is borrowed.

use core::cell::RefCell;
use core::future::Future;
use core::time::Duration;
use std::rc::Rc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};

use crate::error::{CacheError, FetchError};
use crate::event::{Event, EventQueue};
use crate::policy::{
    backoff_ms, ceil_secs, decide, ms, CachePolicy, Decision, FetchReason, Source, View,
};

/// What the Worker provides: the time, a source of jitter, and how a request waits.
pub trait Environment {
    /// Milliseconds on a clock that does not jump (the Worker's `Date.now()`).
    fn now_ms(&self) -> u64;
    /// A number in `[0, 1)`, spread evenly; values outside are clamped.
    fn jitter(&self) -> f64;
    /// How a request waits for a fetch that another request started.
    ///
    /// `None` (the default): it awaits the shared fetch, and is woken when it
    /// completes. Runtimes that tie every wake-up to the request whose I/O
    /// caused it (Cloudflare Workers: a request waiting only on another
    /// request's I/O is cancelled as hung) return a short timer of the
    /// waiting request's own instead; the cache then checks the shared fetch
    /// each time the timer fires and never registers the waiter with it.
    fn tick(&self) -> Option<LocalBoxFuture<'static, ()>> {
        None
    }
}

/// A successfully fetched key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched<K> {
    /// The parsed, usable key set.
    pub keys: K,
    /// How long it is fresh, normally from
    /// [`crate::freshness_from_cache_control`]; clamped again by the cache.
    pub fresh_for: Duration,
}

/// A key set handed to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup<K> {
    /// The key set. Selecting the token's key in it is the caller's job; if
    /// the kid is missing even after a refetch, the token is rejected (401).
    pub keys: Rc<K>,
    /// Where it came from.
    pub source: Source,
}

type FlightOutput<K> = Result<(Rc<K>, Duration), FetchError>;

/// A fetch in progress, shared by every request that needs its result.
struct Flight<K> {
    id: u64,
    started_at: u64,
    reason: FetchReason,
    fut: Shared<LocalBoxFuture<'static, FlightOutput<K>>>,
}

struct Entry<K> {
    keys: Rc<K>,
    fetched_at: u64,
    fresh_until: u64,
}

struct State<K> {
    entry: Option<Entry<K>>,
    flight: Option<Flight<K>>,
    next_flight_id: u64,
    last_fetch_started: Option<u64>,
    /// Consecutive failed fetches; drives the backoff.
    failures: u32,
    /// No upstream call before this instant.
    retry_at: Option<u64>,
    last_error: Option<FetchError>,
    events: EventQueue,
}

/// The JWKS cache of one isolate. Keep one (in an `Rc`) for the isolate's
/// lifetime; every method takes `&self`.
pub struct JwksCache<K> {
    policy: CachePolicy,
    state: RefCell<State<K>>,
}

/// The outcome of the synchronous part of [`JwksCache::get`].
enum Step<K> {
    Done(Result<Lookup<K>, CacheError>),
    Wait(u64, Shared<LocalBoxFuture<'static, FlightOutput<K>>>),
    Start(FetchReason),
}

impl<K: 'static> JwksCache<K> {
    /// An empty cache with the given policy (repaired by
    /// [`CachePolicy::normalized`]).
    #[must_use]
    pub fn new(policy: CachePolicy) -> Self {
        Self {
            policy: policy.normalized(),
            state: RefCell::new(State {
                entry: None,
                flight: None,
                next_flight_id: 0,
                last_fetch_started: None,
                failures: 0,
                retry_at: None,
                last_error: None,
                events: EventQueue::default(),
            }),
        }
    }

    /// The policy in force (normalized).
    #[must_use]
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// The key set for one request.
    ///
    /// `needs_kid` is the token's `kid`, if it names one, and `has_kid` tells
    /// whether a set holds it; an unknown kid triggers a refetch at most once
    /// per `unknown_kid_cooldown`. `fetch` is called only when this request
    /// has to start an upstream fetch; requests arriving meanwhile wait for
    /// that same fetch.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when there is no usable key set and
    /// upstream is failing (or in backoff after failing).
    pub async fn get<F, Fut>(
        &self,
        env: &impl Environment,
        needs_kid: Option<&str>,
        has_kid: impl Fn(&K, &str) -> bool,
        fetch: F,
    ) -> Result<Lookup<K>, CacheError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched<K>, FetchError>> + 'static,
    {
        let now = env.now_ms();
        let held = {
            let mut st = self.state.borrow_mut();
            st.abandon_overdue_flight(&self.policy, now);
            st.drop_overstale(&self.policy, now)
        };
        let kid_known = match (needs_kid, &held) {
            (Some(kid), Some(keys)) => Some(has_kid(keys, kid)),
            _ => None,
        };
        let step = self.state.borrow_mut().step(&self.policy, now, kid_known);
        let (id, out) = match step {
            Step::Done(answer) => return answer,
            Step::Wait(id, fut) => (id, self.wait_for(env, id, fut).await),
            Step::Start(reason) => {
                // The caller's closure runs with no borrow held.
                let fut = fetch()
                    .map(|r| r.map(|f| (Rc::new(f.keys), f.fresh_for)))
                    .boxed_local()
                    .shared();
                let id = self.state.borrow_mut().start(now, reason, fut.clone());
                (id, fut.await)
            }
        };
        let now = env.now_ms();
        let jitter = env.jitter();
        let mut st = self.state.borrow_mut();
        st.drop_overstale(&self.policy, now);
        st.settle(&self.policy, id, &out, now, jitter);
        match out {
            Ok((keys, _)) => Ok(Lookup {
                keys,
                source: Source::Refetched,
            }),
            Err(e) => st.serve_held(now).ok_or(CacheError::Unavailable {
                retry_after_seconds: ceil_secs(st.backoff_left(now)),
                last_error: Some(e),
            }),
        }
    }

    /// Waits for flight `id`, started by another request (see
    /// [`Environment::tick`]). A flight abandoned while waiting (its request
    /// was cancelled and it never finished) counts as a timed-out fetch.
    async fn wait_for(
        &self,
        env: &impl Environment,
        id: u64,
        fut: Shared<LocalBoxFuture<'static, FlightOutput<K>>>,
    ) -> FlightOutput<K> {
        loop {
            if let Some(out) = fut.peek() {
                return out.clone();
            }
            let Some(tick) = env.tick() else {
                return fut.await;
            };
            tick.await;
            let mut st = self.state.borrow_mut();
            st.abandon_overdue_flight(&self.policy, env.now_ms());
            if fut.peek().is_none() && st.flight.as_ref().map(|f| f.id) != Some(id) {
                return Err(FetchError::Timeout);
            }
        }
    }

    /// Warms the cache with a set fetched earlier (say, by another isolate,
    /// from the Cache API) at `fetched_at_ms` with freshness `fresh_for`.
    ///
    /// This is the entry point of the planned key set shared across isolates:
    /// an isolate that finds the issuer's set in the Cache API seeds itself
    /// with it (fetched time from the stored response, freshness from its
    /// `max-age`) instead of fetching, and the usual policy then applies.
    ///
    /// Returns whether it was taken: it is not when the cache already holds a
    /// set fetched at the same time or later, or when the seed is beyond
    /// `max_stale`. A `fetched_at_ms` in the future counts as now.
    pub fn seed(
        &self,
        env: &impl Environment,
        keys: K,
        fetched_at_ms: u64,
        fresh_for: Duration,
    ) -> bool {
        let now = env.now_ms();
        let fetched_at = fetched_at_ms.min(now);
        let fresh_until = fetched_at.saturating_add(ms(self.policy.clamp_fresh_for(fresh_for)));
        if now >= fresh_until.saturating_add(ms(self.policy.max_stale)) {
            return false;
        }
        let mut st = self.state.borrow_mut();
        st.drop_overstale(&self.policy, now);
        if st
            .entry
            .as_ref()
            .is_some_and(|e| e.fetched_at >= fetched_at)
        {
            return false;
        }
        st.entry = Some(Entry {
            keys: Rc::new(keys),
            fetched_at,
            fresh_until,
        });
        true
    }

    /// Takes the events queued since the last call, oldest first, for the
    /// Worker to log. Call it after each `get`.
    pub fn drain_events(&self) -> Vec<Event> {
        self.state.borrow_mut().events.drain()
    }
}

impl<K> State<K> {
    /// Drops a set beyond `max_stale`; returns the set still held.
    fn drop_overstale(&mut self, p: &CachePolicy, now: u64) -> Option<Rc<K>> {
        if let Some(e) = &self.entry {
            if now >= e.fresh_until.saturating_add(ms(p.max_stale)) {
                self.events.push(Event::StaleDiscarded {
                    expired_for: Duration::from_millis(now.saturating_sub(e.fresh_until)),
                });
                self.entry = None;
            }
        }
        self.entry.as_ref().map(|e| Rc::clone(&e.keys))
    }

    /// Gives up on a fetch pending longer than `abandon_fetch_after` (its
    /// request was probably cancelled), so that a new one may start. Its
    /// late result, if any, still reaches its own waiters but is not recorded.
    fn abandon_overdue_flight(&mut self, p: &CachePolicy, now: u64) {
        if let Some(f) = &self.flight {
            let pending = now.saturating_sub(f.started_at);
            if pending >= ms(p.abandon_fetch_after) {
                self.events.push(Event::FetchAbandoned {
                    pending_for: Duration::from_millis(pending),
                });
                self.flight = None;
            }
        }
    }

    fn step(&mut self, p: &CachePolicy, now: u64, kid_known: Option<bool>) -> Step<K> {
        let view = View {
            fresh_until: self.entry.as_ref().map(|e| e.fresh_until),
            kid_known,
            in_flight: self.flight.is_some(),
            retry_at: self.retry_at,
            last_fetch_started: self.last_fetch_started,
        };
        match decide(p, view, now) {
            Decision::Serve(source) => match &self.entry {
                Some(e) => Step::Done(Ok(Lookup {
                    keys: Rc::clone(&e.keys),
                    source,
                })),
                // `decide` serves only when a set is held.
                None => Step::Start(FetchReason::Missing),
            },
            Decision::Unavailable { retry_after_ms } => Step::Done(Err(CacheError::Unavailable {
                retry_after_seconds: ceil_secs(retry_after_ms),
                last_error: self.last_error,
            })),
            Decision::Join => match &self.flight {
                Some(f) => Step::Wait(f.id, f.fut.clone()),
                // `decide` joins only when a fetch is pending.
                None => Step::Start(FetchReason::Missing),
            },
            Decision::Fetch(reason) => Step::Start(reason),
        }
    }

    fn start(
        &mut self,
        now: u64,
        reason: FetchReason,
        fut: Shared<LocalBoxFuture<'static, FlightOutput<K>>>,
    ) -> u64 {
        let id = self.next_flight_id;
        self.next_flight_id = id.wrapping_add(1);
        self.last_fetch_started = Some(now);
        self.flight = Some(Flight {
            id,
            started_at: now,
            reason,
            fut,
        });
        id
    }

    /// Records the outcome of flight `id`, once: the first waiter to wake
    /// does it, and an abandoned flight's late result is not recorded.
    fn settle(&mut self, p: &CachePolicy, id: u64, out: &FlightOutput<K>, now: u64, jitter: f64) {
        let reason = match &self.flight {
            Some(f) if f.id == id => f.reason,
            _ => return,
        };
        self.flight = None;
        match out {
            Ok((keys, fresh_for)) => {
                let fresh_for = p.clamp_fresh_for(*fresh_for);
                self.events.push(Event::Refreshed {
                    reason,
                    fresh_for,
                    after_failures: self.failures,
                });
                self.entry = Some(Entry {
                    keys: Rc::clone(keys),
                    fetched_at: now,
                    fresh_until: now.saturating_add(ms(fresh_for)),
                });
                self.failures = 0;
                self.retry_at = None;
                self.last_error = None;
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                let delay = backoff_ms(p, self.failures, jitter);
                self.retry_at = Some(now.saturating_add(delay));
                self.last_error = Some(*e);
                self.events.push(Event::FetchFailed {
                    reason,
                    error: *e,
                    attempt: self.failures,
                    retry_in: Duration::from_millis(delay),
                    serving_previous: self.entry.is_some(),
                });
            }
        }
    }

    fn serve_held(&self, now: u64) -> Option<Lookup<K>> {
        self.entry.as_ref().map(|e| Lookup {
            keys: Rc::clone(&e.keys),
            source: if now < e.fresh_until {
                Source::Fresh
            } else {
                Source::Stale
            },
        })
    }

    fn backoff_left(&self, now: u64) -> u64 {
        self.retry_at.map_or(0, |t| t.saturating_sub(now))
    }
}

#[cfg(test)]
#[path = "cache_tests/mod.rs"]
mod tests;
