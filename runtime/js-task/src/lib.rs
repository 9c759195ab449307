//! Runs one request's future on the runtime's promises.
//!
//! `wasm-bindgen-futures` makes every `async` export a new `Promise` driven through
//! `queueMicrotask`, and every awaited promise two new JS closures registered with a
//! `FinalizationRegistry`. Measured in workerd, a pair of Workers doing nothing but forwarding
//! paid about 55 µs per request for that alone, a third of what the whole jose pair spends. This
//! crate does the same job with three JS functions made once per isolate:
//!
//! - [`run`] polls the future at once, in the export. A request that needs no I/O (a refusal)
//!   is answered without any promise; otherwise it answers with a promise settled when the
//!   future completes.
//! - [`settled`] awaits a JS promise by attaching the shared callbacks, bound to a slot number
//!   (`Function.prototype.bind` is native and allocates no Wasm closure). When the promise
//!   settles, the task is polled again right there, not one microtask later.
//!
//! Any other future (`wasm-bindgen-futures`' `JsFuture`, timers) still works inside [`run`]: it
//! wakes the task through the standard [`Waker`], and that poll waits for a microtask (the
//! waker may be called while its future holds a lock the poll needs). [`settled`] also works
//! under any other executor. Wasm in a Worker is single-threaded; the
//! state lives in a thread-local.
//!
//! A request the runtime abandons (the client went away) may leave a promise that never
//! settles. Its task is dropped once it is older than [`ABANDONED_AFTER_MS`], checked at most
//! once a minute when a new task starts, so an isolate's memory stays bounded.
#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How old a pending task must be to count as abandoned (Cloudflare answers 524 after 100 s
/// without origin headers; ten minutes is far past anything live).
pub const ABANDONED_AFTER_MS: f64 = 600_000.0;

/// How often, at most, pending tasks are checked for abandonment.
const SWEEP_EVERY_MS: f64 = 60_000.0;

#[wasm_bindgen]
extern "C" {
    /// A function value (`Function.prototype.bind` and `call` without `js-sys`' typed wrappers).
    #[wasm_bindgen(extends = js_sys::Object)]
    type Callable;
    #[wasm_bindgen(method)]
    fn bind(this: &Callable, this_arg: &JsValue, slot: u32) -> Callable;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_task(this: &Callable, this_arg: &JsValue, task: u32) -> Callable;
    #[wasm_bindgen(method, catch)]
    fn call(this: &Callable, this_arg: &JsValue, value: &JsValue) -> Result<JsValue, JsValue>;

    /// A promise, to attach both callbacks at once.
    #[wasm_bindgen(extends = js_sys::Object)]
    type Thenable;
    #[wasm_bindgen(method, catch)]
    fn then(
        this: &Thenable,
        on_fulfilled: &Callable,
        on_rejected: &Callable,
    ) -> Result<JsValue, JsValue>;

    /// A promise made here, with an executor of our own.
    #[wasm_bindgen(extends = js_sys::Object, js_name = Promise)]
    type AnswerPromise;
    #[wasm_bindgen(constructor, js_class = "Promise", catch)]
    fn new(executor: &Callable) -> Result<AnswerPromise, JsValue>;

    #[wasm_bindgen(js_name = queueMicrotask, catch)]
    fn queue_microtask(callback: &Callable) -> Result<(), JsValue>;
}

type BoxedFuture = Pin<Box<dyn Future<Output = JsValue>>>;

struct Task {
    /// `None` while the task is being polled.
    future: Option<BoxedFuture>,
    /// Set when a wake arrives during a poll: poll again before yielding.
    woken: bool,
    /// The answer promise's `resolve`, once the first poll returned `Pending`.
    resolve: Option<Callable>,
    started_ms: f64,
}

/// An awaited promise: its outcome once settled, and who to wake: the task of this executor
/// that awaits it (polled directly), else the waker of whatever executor polled it.
struct Slot {
    outcome: Option<Result<JsValue, JsValue>>,
    task: Option<u32>,
    waker: Option<Waker>,
}

struct Runtime {
    tasks: RefCell<HashMap<u32, Task>>,
    slots: RefCell<HashMap<u32, Slot>>,
    next_id: Cell<u32>,
    last_sweep_ms: Cell<f64>,
    on_fulfilled: Callable,
    on_rejected: Callable,
    executor: Callable,
    poll_later: Callable,
    /// The task being polled, if any (innermost).
    current: Cell<Option<u32>>,
}

thread_local! {
    static RUNTIME: Runtime = Runtime::new();
}

impl Runtime {
    fn new() -> Self {
        // Made once per isolate and never freed: every request shares them.
        let on_fulfilled = Closure::<dyn FnMut(u32, JsValue)>::new(|slot, value| {
            settle(slot, Ok(value));
        });
        let on_rejected = Closure::<dyn FnMut(u32, JsValue)>::new(|slot, error| {
            settle(slot, Err(error));
        });
        let executor = Closure::<dyn FnMut(u32, JsValue)>::new(|task: u32, resolve: JsValue| {
            RUNTIME.with(|rt| {
                if let Some(task) = rt.tasks.borrow_mut().get_mut(&task) {
                    task.resolve = Some(resolve.unchecked_into());
                }
            });
        });
        let poll_later = Closure::<dyn FnMut(u32)>::new(|task: u32| {
            poll_task(task);
        });
        Runtime {
            tasks: RefCell::new(HashMap::new()),
            slots: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            last_sweep_ms: Cell::new(js_sys::Date::now()),
            on_fulfilled: on_fulfilled.into_js_value().unchecked_into(),
            on_rejected: on_rejected.into_js_value().unchecked_into(),
            executor: executor.into_js_value().unchecked_into(),
            poll_later: poll_later.into_js_value().unchecked_into(),
            current: Cell::new(None),
        }
    }

    fn next_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }
}

/// Runs `future` to completion on the runtime's promises. Returns its value when it completes
/// during the first poll, else a promise of it (both are valid answers for a fetch handler).
pub fn run(future: impl Future<Output = JsValue> + 'static) -> JsValue {
    let id = RUNTIME.with(|rt| {
        sweep_abandoned(rt);
        let id = rt.next_id();
        rt.tasks.borrow_mut().insert(
            id,
            Task {
                future: Some(Box::pin(future)),
                woken: false,
                resolve: None,
                started_ms: js_sys::Date::now(),
            },
        );
        id
    });
    if let Some(value) = poll_task(id) {
        return value;
    }
    // Pending: answer with a promise whose `resolve` the task keeps. The executor runs
    // synchronously, so the task cannot complete before `resolve` is stored.
    RUNTIME.with(|rt| {
        let executor = rt.executor.bind(&JsValue::NULL, id);
        match AnswerPromise::new(&executor) {
            Ok(promise) => promise.into(),
            Err(error) => {
                rt.tasks.borrow_mut().remove(&id);
                js_sys::Promise::reject(&error).into()
            }
        }
    })
}

/// Polls task `id` until it completes or waits; `Some(value)` if it completed and nobody holds
/// a promise for it yet (the first poll).
fn poll_task(id: u32) -> Option<JsValue> {
    loop {
        let taken = RUNTIME.with(|rt| {
            let mut tasks = rt.tasks.borrow_mut();
            let task = tasks.get_mut(&id)?;
            match task.future.take() {
                Some(future) => Some(future),
                None => {
                    // Woken while being polled (further up this stack): poll again after.
                    task.woken = true;
                    None
                }
            }
        });
        let mut future = taken?;
        let waker = Waker::from(Arc::new(TaskWaker(id)));
        // No borrow of the runtime is held here: the future may await, wake or run tasks.
        let outer = RUNTIME.with(|rt| rt.current.replace(Some(id)));
        let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
        RUNTIME.with(|rt| rt.current.set(outer));
        match poll {
            Poll::Ready(value) => {
                let task = RUNTIME.with(|rt| rt.tasks.borrow_mut().remove(&id));
                return match task.and_then(|t| t.resolve) {
                    Some(resolve) => {
                        // A throwing `resolve` is the runtime's problem; nothing to undo here.
                        let _ = resolve.call(&JsValue::NULL, &value);
                        None
                    }
                    None => Some(value),
                };
            }
            Poll::Pending => {
                let again = RUNTIME.with(|rt| {
                    let mut tasks = rt.tasks.borrow_mut();
                    match tasks.get_mut(&id) {
                        Some(task) => {
                            task.future = Some(future);
                            std::mem::take(&mut task.woken)
                        }
                        None => false,
                    }
                });
                if !again {
                    return None;
                }
            }
        }
    }
}

/// Wakes a task by number for futures of other crates. They may wake while holding a lock of
/// their own that the next poll takes again, so the poll waits for a microtask.
struct TaskWaker(u32);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let scheduled =
            RUNTIME.with(|rt| queue_microtask(&rt.poll_later.bind_task(&JsValue::NULL, self.0)));
        if scheduled.is_err() {
            // No microtask queue (not a JS runtime we know): poll now rather than never.
            poll_task(self.0);
        }
    }
}

/// Drops tasks pending for longer than [`ABANDONED_AFTER_MS`] (their promise never settled).
fn sweep_abandoned(rt: &Runtime) {
    let now = js_sys::Date::now();
    if now - rt.last_sweep_ms.get() < SWEEP_EVERY_MS {
        return;
    }
    rt.last_sweep_ms.set(now);
    let abandoned: Vec<Task> = {
        let mut tasks = rt.tasks.borrow_mut();
        let old: Vec<u32> = tasks
            .iter()
            .filter(|(_, t)| now - t.started_ms > ABANDONED_AFTER_MS)
            .map(|(id, _)| *id)
            .collect();
        old.iter().filter_map(|id| tasks.remove(id)).collect()
    };
    // Dropped with no borrow held: a future's drop releases its slots.
    drop(abandoned);
}

/// The number of tasks not yet completed (for tests and diagnostics).
pub fn pending_tasks() -> usize {
    RUNTIME.with(|rt| rt.tasks.borrow().len())
}

/// The number of awaited promises not yet settled or dropped (for tests and diagnostics).
pub fn pending_promises() -> usize {
    RUNTIME.with(|rt| rt.slots.borrow().len())
}

fn settle(slot: u32, outcome: Result<JsValue, JsValue>) {
    let waiter = RUNTIME.with(|rt| {
        let mut slots = rt.slots.borrow_mut();
        // No slot: the awaiting future was dropped; nothing waits for this outcome.
        let slot = slots.get_mut(&slot)?;
        slot.outcome = Some(outcome);
        Some((slot.task, slot.waker.take()))
    });
    match waiter {
        // Our own task, and we are in a promise callback holding nothing: poll it right here.
        Some((Some(task), _)) => {
            poll_task(task);
        }
        Some((None, Some(waker))) => waker.wake(),
        _ => {}
    }
}

/// Awaits a JS promise: `Ok` with its value, `Err` with its rejection.
pub fn settled(promise: js_sys::Promise) -> Settled {
    Settled {
        promise: Some(promise),
        slot: None,
    }
}

/// The future of [`settled`].
pub struct Settled {
    promise: Option<js_sys::Promise>,
    slot: Option<u32>,
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(slot) = self.slot {
            let outcome = RUNTIME.with(|rt| {
                let mut slots = rt.slots.borrow_mut();
                let entry = slots.get_mut(&slot)?;
                match entry.outcome.take() {
                    Some(outcome) => {
                        slots.remove(&slot);
                        Some(outcome)
                    }
                    None => {
                        entry.task = rt.current.get();
                        entry.waker = Some(cx.waker().clone());
                        None
                    }
                }
            });
            return match outcome {
                Some(outcome) => {
                    self.slot = None;
                    Poll::Ready(outcome)
                }
                None => Poll::Pending,
            };
        }
        let Some(promise) = self.promise.take() else {
            return Poll::Ready(Err(JsValue::from_str("promise polled after completion")));
        };
        let attached = RUNTIME.with(|rt| {
            let slot = rt.next_id();
            rt.slots.borrow_mut().insert(
                slot,
                Slot {
                    outcome: None,
                    task: rt.current.get(),
                    waker: Some(cx.waker().clone()),
                },
            );
            let thenable: &Thenable = promise.unchecked_ref();
            let result = thenable.then(
                &rt.on_fulfilled.bind(&JsValue::NULL, slot),
                &rt.on_rejected.bind(&JsValue::NULL, slot),
            );
            match result {
                Ok(_) => Ok(slot),
                Err(error) => {
                    rt.slots.borrow_mut().remove(&slot);
                    Err(error)
                }
            }
        });
        match attached {
            Ok(slot) => {
                self.slot = Some(slot);
                Poll::Pending
            }
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            RUNTIME.with(|rt| rt.slots.borrow_mut().remove(&slot));
        }
    }
}
