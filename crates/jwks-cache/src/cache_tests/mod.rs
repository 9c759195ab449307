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

mod failures;
mod freshness;
mod props;
mod single_flight;
mod ticking;
