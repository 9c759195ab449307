//! The hand-off to the authz Worker: the client's identity headers removed, the verified
//! identity and its signed context added, everything else (method, URL, body stream, other
//! headers) passed on unchanged.

use crate::isolate::Isolate;
use handoff::{
    identity_headers, is_client_identity_header, sign_context, Identity, Rejection, CONTEXT_HEADER,
};
use worker::{Env, Headers, Request, RequestInit, RequestRedirect, Response, Result};
use worker_glue::{clone_headers, copy_headers, REQUEST_ID_HEADER};

/// Sends the request on to `AUTHZ`; the authz Worker's answer comes back with our request id.
pub(crate) async fn to_authz(
    req: Request,
    env: &Env,
    isolate: &Isolate,
    identity: Option<&Identity>,
    request_id: &str,
) -> std::result::Result<Response, Rejection> {
    let headers = forwarded_headers(&req, isolate, identity, request_id)?;
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        // The body stays a JS ReadableStream: streamed through, never copied into Wasm.
        .with_body(req.inner().body().map(Into::into));
    let url = req.url().map_err(|_| Rejection::BadRequest)?;
    let request = Request::new_with_init(url.as_str(), &init).map_err(|_| Rejection::BadRequest)?;
    let authz = env.service("AUTHZ").map_err(|_| {
        worker_glue::log_event(
            request_id,
            "config_error",
            "server_misconfigured",
            "the AUTHZ service binding is missing: add [[services]] binding = \"AUTHZ\" to wrangler.auth.toml",
        );
        Rejection::Misconfigured
    })?;
    let response = authz
        .fetch_request(request)
        .await
        .map_err(|e| worker_glue::upstream_failed(request_id, "authz_fetch_failed", &e))?;
    with_request_id(response, request_id)
        .map_err(|e| worker_glue::upstream_failed(request_id, "response_copy_failed", &e))
}

fn forwarded_headers(
    req: &Request,
    isolate: &Isolate,
    identity: Option<&Identity>,
    request_id: &str,
) -> std::result::Result<Headers, Rejection> {
    let config = &isolate.config;
    let headers = copy_headers(req.headers(), |name| {
        is_client_identity_header(name, config.extra_stripped_headers())
            || name == REQUEST_ID_HEADER
    })
    .map_err(|_| Rejection::BadRequest)?;
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|_| Rejection::BadRequest);
    set(REQUEST_ID_HEADER, request_id)?;
    if let Some(identity) = identity {
        for (name, value) in identity_headers(identity).map_err(|e| Rejection::from(&e))? {
            set(name, &value)?;
        }
        set(
            CONTEXT_HEADER,
            &sign_context(identity, config.context_key(), worker_glue::now_seconds()),
        )?;
    }
    Ok(headers)
}

/// The authz Worker's response (headers of a fetched response are immutable: copy them).
fn with_request_id(response: Response, request_id: &str) -> Result<Response> {
    let headers = clone_headers(response.headers())?;
    headers.set(REQUEST_ID_HEADER, request_id)?;
    Ok(response.with_headers(headers))
}
