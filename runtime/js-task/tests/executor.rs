//! The executor in a JS engine (Node), through real promises.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use js_sys::Promise;
use js_task::{pending_promises, pending_tasks, run, settled};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// A promise that settles on a later turn of the event loop (not already settled).
fn later(value: &str) -> Promise {
    let make = js_sys::Function::new_with_args(
        "v",
        "return new Promise((resolve) => setTimeout(() => resolve(v), 0))",
    );
    make.call1(&JsValue::NULL, &JsValue::from_str(value))
        .expect("makes a promise")
        .unchecked_into()
}

async fn outcome_of(answer: JsValue) -> JsValue {
    let promise: Promise = answer
        .dyn_into()
        .expect("a pending task answers with a promise");
    JsFuture::from(promise).await.expect("the answer resolves")
}

#[wasm_bindgen_test]
fn a_future_that_needs_no_io_is_answered_without_a_promise() {
    let answer = run(async { JsValue::from_str("refused") });
    assert_eq!(answer.as_string().as_deref(), Some("refused"));
    assert_eq!(pending_tasks(), 0);
}

#[wasm_bindgen_test]
async fn awaited_promises_chain_and_the_answer_resolves_to_the_result() {
    let before = pending_promises();
    let answer = run(async {
        let first = settled(later("a")).await.expect("resolves");
        let second = settled(later("b")).await.expect("resolves");
        JsValue::from_str(&format!(
            "{}{}",
            first.as_string().unwrap_or_default(),
            second.as_string().unwrap_or_default()
        ))
    });
    assert!(
        answer.is_instance_of::<Promise>(),
        "pending work answers with a promise"
    );
    assert_eq!(outcome_of(answer).await.as_string().as_deref(), Some("ab"));
    assert_eq!(pending_tasks(), 0, "the finished task is gone");
    assert_eq!(pending_promises(), before, "no slot is left behind");
}

#[wasm_bindgen_test]
async fn a_rejection_is_an_err_not_a_failed_task() {
    let answer = run(async {
        let rejected = Promise::reject(&JsValue::from_str("boom"));
        match settled(rejected).await {
            Ok(_) => JsValue::from_str("resolved?!"),
            Err(e) => {
                JsValue::from_str(&format!("rejected: {}", e.as_string().unwrap_or_default()))
            }
        }
    });
    assert_eq!(
        outcome_of(answer).await.as_string().as_deref(),
        Some("rejected: boom")
    );
}

#[wasm_bindgen_test]
async fn an_already_settled_promise_still_completes() {
    let answer = run(async {
        settled(Promise::resolve(&JsValue::from_f64(7.0)))
            .await
            .unwrap_or(JsValue::NULL)
    });
    assert_eq!(outcome_of(answer).await.as_f64(), Some(7.0));
}

#[wasm_bindgen_test]
async fn other_futures_wake_the_task_through_the_standard_waker() {
    // `JsFuture` knows nothing of this executor: it wakes through `Waker`.
    let answer = run(async {
        JsFuture::from(later("via JsFuture"))
            .await
            .unwrap_or(JsValue::NULL)
    });
    assert_eq!(
        outcome_of(answer).await.as_string().as_deref(),
        Some("via JsFuture")
    );
}

#[wasm_bindgen_test]
async fn many_tasks_interleave_and_each_gets_its_own_result() {
    let answers: Vec<JsValue> = (0..50)
        .map(|i| {
            run(async move {
                let value = settled(later(&i.to_string()))
                    .await
                    .unwrap_or(JsValue::NULL);
                JsValue::from_str(&format!(
                    "task {i}: {}",
                    value.as_string().unwrap_or_default()
                ))
            })
        })
        .collect();
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(
            outcome_of(answer).await.as_string(),
            Some(format!("task {i}: {i}"))
        );
    }
    assert_eq!(pending_tasks(), 0);
}

#[wasm_bindgen_test]
async fn a_dropped_await_releases_its_slot_and_a_late_settlement_is_ignored() {
    let before = pending_promises();
    let answer = run(async {
        let slow = settled(later("too late"));
        let fast = settled(Promise::resolve(&JsValue::from_str("first")));
        // Poll `slow` once (attaching its callbacks), then drop it unfinished.
        let mut slow = Box::pin(slow);
        let _ = futures_poll_once(slow.as_mut()).await;
        drop(slow);
        fast.await.unwrap_or(JsValue::NULL)
    });
    assert_eq!(
        outcome_of(answer).await.as_string().as_deref(),
        Some("first")
    );
    // Let the dropped promise settle: its callback must find no slot and do nothing.
    JsFuture::from(later("tick")).await.expect("resolves");
    assert_eq!(pending_promises(), before);
}

/// Polls a future exactly once, whatever it returns.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut future: F) -> bool {
    std::future::poll_fn(move |cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut future).poll(cx).is_ready())
    })
    .await
}

#[wasm_bindgen_test]
async fn a_waker_called_under_a_lock_does_not_reenter_the_poll() {
    use std::sync::Mutex;
    use std::task::{Poll, Waker};
    // (done, waker) behind a lock, as shared state in a cache would be.
    let shared = std::rc::Rc::new(Mutex::new((false, None::<Waker>)));
    let waiter = {
        let shared = shared.clone();
        run(async move {
            std::future::poll_fn(|cx| {
                let mut state = shared.lock().unwrap();
                if state.0 {
                    Poll::Ready(JsValue::from_str("done"))
                } else {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await
        })
    };
    // Another task finishes the work and wakes the waiter while still holding the lock: a
    // synchronous re-poll would take the lock again (a panic in Wasm).
    let finisher = run(async move {
        settled(later("x")).await.ok();
        let mut state = shared.lock().unwrap();
        state.0 = true;
        if let Some(waker) = state.1.take() {
            waker.wake();
        }
        drop(state);
        JsValue::NULL
    });
    outcome_of(finisher).await;
    assert_eq!(
        outcome_of(waiter).await.as_string().as_deref(),
        Some("done")
    );
}
