//! Carrying out an allowed request: to the origin with the normalized method, path and query,
//! the body as a stream, identity headers from the verified context only, and none of the
//! client's headers that could make the origin act on another path, method or identity.

use edge_auth::{AuthzConfig, Forward, Rejection};
use web_sys::{Request, RequestInit, RequestRedirect, Response};
use worker_glue::{header, strip_headers};

/// The origin's response, as it came (status, headers and body stream untouched); or why the
/// request could not be sent, with the log line's reason code.
pub(crate) async fn to_origin(
    req: &Request,
    forward: &Forward,
    config: &AuthzConfig,
    request_id: &str,
) -> Result<Response, (Rejection, &'static str)> {
    let init = RequestInit::new();
    init.set_method(forward.method.as_str());
    init.set_headers(&req.headers());
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = req.body() {
        // The body stays a JS ReadableStream: streamed through, never copied into Wasm.
        init.set_body(&body);
    }
    let forwarded = Request::new_with_str_and_init(&forward.target, &init)
        .map_err(|_| (Rejection::BadRequest, "request_copy_failed"))?;
    let headers = forwarded.headers();
    let policy = forward.header_policy(config);
    let header_edit_failed = |_| (Rejection::BadRequest, "header_edit_failed");
    strip_headers(&headers, |name| {
        policy.strips(name, || header(&headers, name))
    })
    .map_err(header_edit_failed)?;
    for (name, value) in &forward.identity_headers {
        headers.set(name, value).map_err(header_edit_failed)?;
    }
    worker_glue::fetch_origin(&forwarded).await.map_err(|e| {
        let rejection = worker_glue::upstream_failed(request_id, "origin_fetch_failed", &e);
        (rejection, "origin_unreachable")
    })
}
