//! Carrying out an allowed request: to the origin (or the rule's upstream) with the normalized
//! method, path and query, the body as a stream, identity headers from the verified context only
//! (to an upstream only when it asks), the signed assertion when one is configured (likewise),
//! the upstream's own headers and bearer secret, and none of the client's headers that could
//! make the next hop act on another path, method or identity (nor the client's credentials,
//! toward an upstream that does not ask for them).

use edge_auth::{AuthzConfig, Forward, Refusal, Rejection, ASSERTION_HEADER, REQUEST_ID_HEADER};
use web_sys::{Headers, Request, RequestInit, RequestRedirect, Response};
use worker::Env;
use worker_glue::{header, replace_headers};

/// The origin's (or upstream's) response, as it came (status, headers and body stream
/// untouched); or why the request could not be sent, as the refusal to answer.
pub(crate) async fn to_origin(
    req: &Request,
    req_headers: &Headers,
    forward: &Forward,
    assertion: Option<&str>,
    config: &AuthzConfig,
    env: &Env,
    request_id: &str,
) -> Result<Response, Refusal> {
    let refused = |rejection, reason| Refusal::new(rejection, reason, &forward.facts);
    // The upstream's secret, read by its name; checked (set, header-safe) by edge-auth.
    let credential = forward.upstream_credential(|name| worker_glue::read_var(env, name))?;
    let init = RequestInit::new();
    init.set_method(forward.method.as_str());
    init.set_headers(req_headers);
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = req.body() {
        // The body stays a JS ReadableStream: streamed through, never copied into Wasm.
        init.set_body(&body);
    }
    let forwarded = Request::new_with_str_and_init(&forward.target, &init)
        .map_err(|_| refused(Rejection::BadRequest, "request_copy_failed"))?;
    let headers = forwarded.headers();
    let header_edit_failed = |_| refused(Rejection::BadRequest, "header_edit_failed");
    // The identity and upstream headers, the upstream's secret in its `bearer_header`
    // (`authorization` unless the table names another), our request id (the assertion's `jti`
    // is this id: the origin gets the same one), the assertion.
    let set: Vec<(&str, &str)> = forward
        .headers_to_set()
        .chain(
            credential
                .as_ref()
                .map(|(name, value)| (*name, value.as_str())),
        )
        .chain([(REQUEST_ID_HEADER, request_id)])
        .chain(assertion.map(|assertion| (ASSERTION_HEADER, assertion)))
        .collect();
    replace_headers(
        &headers,
        |name| forward.strips(config, name, || header(&headers, name)),
        &set,
    )
    .map_err(header_edit_failed)?;
    worker_glue::fetch_origin(&forwarded).await.map_err(|e| {
        let rejection = worker_glue::upstream_failed(request_id, "origin_fetch_failed", &e);
        refused(rejection, "origin_unreachable")
    })
}
