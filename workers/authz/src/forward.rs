//! Forwarding an allowed request to the origin: the normalized method and path, the query, the
//! body as a stream, identity headers from the verified context only, and no header that could
//! make the origin act on another path, method or identity.

use crate::isolate::Isolate;
use edge_auth::{identity_headers, HeaderPolicy, Identity, Rejection, RequestUrl};
use rule_table::{Method, NormalizedPath};
use web_sys::{Request, RequestInit, RequestRedirect, Response};
use worker_glue::{header, strip_headers};

/// What the rules decided on, and so exactly what goes to the origin.
pub(crate) struct Target<'a> {
    pub(crate) url: &'a RequestUrl<'a>,
    /// Upper-case for the RFC 9110 methods, whatever case the client used.
    pub(crate) method: &'a Method,
    pub(crate) path: &'a NormalizedPath,
}

/// The origin's response, as it came (status, headers and body stream untouched).
pub(crate) async fn to_origin(
    req: &Request,
    target: &Target<'_>,
    isolate: &Isolate,
    identity: Option<&Identity>,
    request_id: &str,
) -> Result<Response, Rejection> {
    let target_url = target_url(target.url, isolate, target.path).ok_or(Rejection::BadRequest)?;
    let init = RequestInit::new();
    init.set_method(target.method.as_str());
    init.set_headers(&req.headers());
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = req.body() {
        // The body stays a JS ReadableStream: streamed through, never copied into Wasm.
        init.set_body(&body);
    }
    let forwarded =
        Request::new_with_str_and_init(&target_url, &init).map_err(|_| Rejection::BadRequest)?;
    // Identity headers are re-set below from the verified context (this also drops the context
    // itself), override headers and `EXTRA_STRIPPED_HEADERS` go, `host` follows the target URL.
    let headers = forwarded.headers();
    let policy = HeaderPolicy::to_origin(
        isolate.config.extra_stripped_headers(),
        identity.and_then(|id| id.email.as_deref()),
    );
    strip_headers(&headers, |name| {
        policy.strips(name, || header(&headers, name))
    })
    .map_err(|_| Rejection::BadRequest)?;
    if let Some(identity) = identity {
        for (name, value) in identity_headers(identity).map_err(|e| Rejection::from(&e))? {
            headers
                .set(name, &value)
                .map_err(|_| Rejection::BadRequest)?;
        }
    }
    worker_glue::fetch_origin(&forwarded)
        .await
        .map_err(|e| worker_glue::upstream_failed(request_id, "origin_fetch_failed", &e))
}

/// `ORIGIN_URL` + normalized path + query when configured; else the request's own origin with
/// the normalized path (production: the route's origin). The fragment never goes on.
fn target_url(url: &RequestUrl<'_>, isolate: &Isolate, path: &NormalizedPath) -> Option<String> {
    let path_and_query = url.path_and_query(path.as_str());
    match isolate.config.origin() {
        Some(origin) => origin.target(&path_and_query),
        // The same check as for ORIGIN_URL: refuse rather than forward a path a URL parser
        // would re-encode into one the rules did not match.
        None => edge_auth::join_origin(url.origin(), &path_and_query),
    }
}
