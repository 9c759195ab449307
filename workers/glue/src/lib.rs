//! The runtime boundary both Workers share: reading vars and secrets, the clock, request ids,
//! and turning a `handoff` rejection into the one error response plus its log line.
#![forbid(unsafe_code)]

use handoff::{error_response, LogLineBuilder, Rejection};
use std::cell::RefCell;
use std::rc::Rc;
use std::thread::LocalKey;
use worker::{console_log, Date, Env, Headers, Response, Result};

/// The header that carries the request id from the auth Worker to the authz Worker and origin.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A `[vars]` value or a secret (`wrangler secret put`; `.dev.vars` locally).
pub fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| env.secret(name).ok().map(|v| v.to_string()))
}

/// Milliseconds since the epoch, from the runtime (`SystemTime::now` panics in Wasm).
pub fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// Seconds since the epoch.
pub fn now_seconds() -> i64 {
    i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX)
}

/// The request id: `given` (e.g. `cf-ray`) when well-formed, else a random one.
pub fn request_id(given: Option<&str>) -> String {
    handoff::request_id(given, || {
        let high = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
        let low = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
        format!("{:016x}", (high << 32) | low)
    })
}

/// Logs why the next hop failed (the runtime's message, which names no token or secret) and
/// gives the rejection for it: 502.
pub fn upstream_failed(request_id: &str, code: &str, error: &worker::Error) -> Rejection {
    log_event(request_id, "upstream_error", code, &error.to_string());
    Rejection::UpstreamUnavailable
}

/// Answers with the one error shape and writes the request's log line.
pub fn reject(
    rejection: Rejection,
    reason: &'static str,
    realm: &str,
    request_id: &str,
    log: LogLineBuilder,
) -> Result<Response> {
    let realm = if realm.is_empty() {
        handoff::DEFAULT_REALM
    } else {
        realm
    };
    let answer = error_response(&rejection, realm, request_id);
    console_log!(
        "{}",
        log.outcome(rejection.outcome(), reason)
            .status(answer.status)
            .build()
            .to_json()
    );
    let headers = Headers::new();
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    Ok(Response::ok(answer.body)?
        .with_status(answer.status)
        .with_headers(headers))
}

/// A mutable copy of `from` (a fetched request's or response's headers are immutable), made by
/// the runtime in one call rather than header by header through Wasm.
pub fn clone_headers(from: &Headers) -> Result<Headers> {
    Ok(Headers(web_sys::Headers::new_with_headers(&from.0)?))
}

/// A mutable copy of `from` without the headers `skip` refuses (`skip` sees lower-case names).
pub fn copy_headers(from: &Headers, skip: impl Fn(&str) -> bool) -> Result<Headers> {
    let headers = clone_headers(from)?;
    // Only the names cross into Wasm; the values stay in the runtime.
    for name in from.keys() {
        if skip(&name.to_ascii_lowercase()) {
            headers.delete(&name)?;
        }
    }
    Ok(headers)
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
pub fn misconfigured(request_id: &str, problem: &str, log: LogLineBuilder) -> Result<Response> {
    log_event(request_id, "config_error", "server_misconfigured", problem);
    reject(
        Rejection::Misconfigured,
        "server_misconfigured",
        "",
        request_id,
        log,
    )
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
