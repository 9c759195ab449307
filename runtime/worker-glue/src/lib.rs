//! The runtime boundary both Workers share: the fetch export, reading vars and secrets, the
//! clock, request ids, header edits, and turning a `edge-auth` rejection into the one error
//! response plus its log line.
//!
//! The Workers take and return the runtime's own `Request`/`Response` objects (`web_sys`)
//! rather than the `worker` crate's wrappers, which rebuild every response and re-copy its
//! headers. Measured in workerd, copying a response's headers (`new Headers(h)`) cost as much
//! as all of jose's own work per request, so headers are only ever edited in place on a request
//! or response this Worker made, never copied.
#![forbid(unsafe_code)]

mod fetch;

pub use fetch::{fetch_bounded, FetchTarget};

use edge_auth::{Challenge, GatewayAnswer, LogLineBuilder, Refusal, Rejection, RequestFacts};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::thread::LocalKey;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response, ResponseInit};
use worker::{console_log, Env};

/// The header that carries the request id from the auth Worker to the authz Worker and origin.
pub use edge_auth::REQUEST_ID_HEADER;

/// What a handler answers: a response, or a JS error the runtime turns into a 500.
pub type Answer = Result<Response, JsValue>;

/// Runs a fetch handler: its answer (or a promise of it) for the runtime. An `Err` becomes a
/// rejected promise, which the runtime answers with a 500: never a pass.
pub fn serve(handler: impl Future<Output = Answer> + 'static) -> JsValue {
    js_task::run(async move {
        match handler.await {
            Ok(response) => response.into(),
            Err(error) => js_sys::Promise::reject(&error).into(),
        }
    })
}

#[wasm_bindgen]
extern "C" {
    /// A service binding (`[[services]]` in the wrangler file): `fetch` into another Worker.
    #[wasm_bindgen(extends = js_sys::Object)]
    pub type ServiceBinding;
    #[wasm_bindgen(method, catch, js_name = fetch)]
    fn fetch_request(this: &ServiceBinding, request: &Request) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(request: &Request) -> Result<js_sys::Promise, JsValue>;
}

/// The service binding `name` of this Worker; `None` if there is none by that name.
pub fn service(env: &Env, name: &str) -> Option<ServiceBinding> {
    let binding = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    let has_fetch = js_sys::Reflect::get(&binding, &JsValue::from_str("fetch"))
        .ok()
        .is_some_and(|f| f.is_function());
    has_fetch.then(|| binding.unchecked_into())
}

impl ServiceBinding {
    /// Sends `request` to the bound Worker.
    pub async fn send(&self, request: &Request) -> Result<Response, JsValue> {
        response_of(self.fetch_request(request)?).await
    }
}

/// Sends `request` to the network (the origin).
pub async fn fetch_origin(request: &Request) -> Result<Response, JsValue> {
    response_of(global_fetch(request)?).await
}

async fn response_of(promise: js_sys::Promise) -> Result<Response, JsValue> {
    // `fetch` resolves to a `Response` or rejects (the runtime's contract): no `instanceof`.
    Ok(js_task::settled(promise)
        .await?
        .unchecked_into::<Response>())
}

/// A `[vars]` value or a secret (`wrangler secret put`; `.dev.vars` locally).
pub fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| env.secret(name).ok().map(|v| v.to_string()))
}

/// Milliseconds since the epoch, from the runtime (`SystemTime::now` panics in Wasm).
pub fn now_ms() -> u64 {
    // `Date.now()` itself: `worker::Date::now` makes a `Date` object and calls `getTime` on it.
    // The runtime's clock is never NaN or negative; `as` would saturate such a value to 0.
    js_sys::Date::now() as u64
}

/// Seconds since the epoch.
pub fn now_seconds() -> i64 {
    seconds(now_ms())
}

/// Whole seconds in `ms` milliseconds since the epoch (a clock already read).
pub fn seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1000).unwrap_or(i64::MAX)
}

/// The request id: `given` (e.g. `cf-ray`) when well-formed, else a random one.
pub fn request_id(given: Option<&str>) -> String {
    edge_auth::request_id(given, || {
        let high = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
        let low = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
        format!("{:016x}", (high << 32) | low)
    })
}

/// A header's value; `None` when absent (or when the runtime refuses the name).
pub fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// Every header name, lowercase, fetched from the runtime in one call (not one per header).
pub fn header_names(headers: &Headers) -> Vec<String> {
    let names = js_sys::Array::from(headers.keys().as_ref());
    let joined: String = names.join("\n").into();
    // Header names cannot contain a newline, so the join is unambiguous.
    joined
        .split('\n')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Deletes, in place, every header `strip` matches (`strip` sees lowercase names).
fn strip_headers(headers: &Headers, strip: impl Fn(&str) -> bool) -> Result<(), JsValue> {
    for name in header_names(headers) {
        if strip(&name) {
            headers.delete(&name)?;
        }
    }
    Ok(())
}

/// Edits `headers` in place: deletes every header `strip` matches, then sets each of `set`.
/// A name about to be set is not deleted first: `set` replaces every value the name had, so
/// the delete would be a wasted runtime call (its look-alike spellings are still deleted).
pub fn replace_headers(
    headers: &Headers,
    strip: impl Fn(&str) -> bool,
    set: &[(&str, &str)],
) -> Result<(), JsValue> {
    let set_below = |name: &str| set.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    strip_headers(headers, |name| !set_below(name) && strip(name))?;
    for (name, value) in set {
        headers.set(name, value)?;
    }
    Ok(())
}

/// The runtime's message for a failed fetch (it names no token or secret).
pub fn js_error_message(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error
        .as_string()
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// Logs why the next hop failed and gives the rejection for it: 502.
pub fn upstream_failed(request_id: &str, code: &str, error: &JsValue) -> Rejection {
    log_event(request_id, "upstream_error", code, &js_error_message(error));
    Rejection::UpstreamUnavailable
}

/// Answers with the one error shape and writes the request's log line (the refusal's outcome,
/// reason and facts on `log`). `challenge` is the Worker's realm and metadata URL for this
/// request (`AuthConfig::challenge`, `AuthzConfig::challenge`).
pub fn refuse(
    refusal: &Refusal,
    challenge: &Challenge<'_>,
    request_id: &str,
    log: LogLineBuilder,
) -> Answer {
    let answer = refusal.response(challenge, request_id);
    console_log!("{}", refusal.annotate(log).build().to_json());
    // Status and headers cross into the runtime as one JSON text, not one call per header.
    let init: ResponseInit = js_sys::JSON::parse(&answer.init_json())?.unchecked_into();
    Response::new_with_opt_str_and_init(Some(&answer.body), &init)
}

/// Writes a one-line JSON event that is not the request's own log line (a JWKS refresh, a
/// configuration problem): `{"request_id":…,"<kind>":"<code>","detail":"…"}`.
pub fn log_event(request_id: &str, kind: &str, code: &str, detail: &str) {
    let line = serde_json::json!({
        "request_id": request_id,
        kind: code,
        "detail": detail,
    });
    console_log!("{line}");
}

/// The answer to every request of an isolate whose configuration is invalid: the problem (which
/// names the variable and the fix, never its value) goes to the log, the client gets a 500.
pub fn misconfigured(request_id: &str, problem: &str, log: LogLineBuilder) -> Answer {
    log_event(request_id, "config_error", "server_misconfigured", problem);
    let refusal = Refusal::new(
        Rejection::Misconfigured,
        "server_misconfigured",
        &RequestFacts::default(),
    );
    refuse(&refusal, &Challenge::new("", None, ""), request_id, log)
}

/// Answers with a response the gateway gives itself (one of its endpoints, a preflight), with
/// the request id as on a refusal, and writes the request's log line. The one path for both
/// Workers, as [`refuse`] is for refusals.
pub fn respond(answer: &GatewayAnswer<'_>, request_id: &str, log: LogLineBuilder) -> Answer {
    console_log!("{}", answer.annotate(log).build().to_json());
    // Status and headers cross into the runtime as one JSON text, not one call per header.
    let init: ResponseInit = js_sys::JSON::parse(&answer.init_json(request_id))?.unchecked_into();
    Response::new_with_opt_str_and_init(answer.body.as_deref(), &init)
}

/// A per-isolate value, built on first use and shared by every later request of the isolate.
///
/// A build error is kept too: `[vars]` cannot change within an isolate, so it is reported on
/// every request rather than retried. An `Rc` is handed out so that no borrow of the cell is
/// ever held across an `.await`.
pub type IsolateCell<T> = RefCell<Option<std::result::Result<Rc<T>, String>>>;

/// The value in `cell` (a `thread_local!` [`IsolateCell`]), building it with `build` once.
pub fn per_isolate<T>(
    cell: &'static LocalKey<IsolateCell<T>>,
    build: impl FnOnce() -> std::result::Result<T, String>,
) -> std::result::Result<Rc<T>, String> {
    if let Some(built) = cell.with(|c| c.borrow().clone()) {
        return built;
    }
    let built = build().map(Rc::new);
    cell.with(|c| *c.borrow_mut() = Some(built.clone()));
    built
}
