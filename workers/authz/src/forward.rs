//! Forwarding an allowed request to the origin: the normalized path, the query, the body as a
//! stream, identity headers from the verified context only, and no header that could make the
//! origin act on another path, method or identity.

use crate::isolate::Isolate;
use handoff::{identity_headers, is_client_identity_header, Identity, Rejection};
use rule_table::{NormalizedPath, OVERRIDE_HEADERS};
use worker::{Fetch, Request, RequestInit, RequestRedirect, Response, Url};
use worker_glue::copy_headers;

pub(crate) async fn to_origin(
    req: Request,
    url: &Url,
    isolate: &Isolate,
    path: &NormalizedPath,
    identity: Option<&Identity>,
    request_id: &str,
) -> std::result::Result<Response, Rejection> {
    let target = target_url(url, isolate, path).ok_or(Rejection::BadRequest)?;
    // Identity headers are re-set below from the verified context (this also drops the context
    // itself); `host` follows the target URL.
    let headers = copy_headers(req.headers(), |name| {
        is_client_identity_header(name, &[]) || OVERRIDE_HEADERS.contains(&name) || name == "host"
    })
    .map_err(|_| Rejection::BadRequest)?;
    if let Some(identity) = identity {
        for (name, value) in identity_headers(identity).map_err(|e| Rejection::from(&e))? {
            headers
                .set(name, &value)
                .map_err(|_| Rejection::BadRequest)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(req.inner().body().map(Into::into));
    let request = Request::new_with_init(&target, &init).map_err(|_| Rejection::BadRequest)?;
    Fetch::Request(request)
        .send()
        .await
        .map_err(|e| worker_glue::upstream_failed(request_id, "origin_fetch_failed", &e))
}

/// `ORIGIN_URL` + normalized path + query when configured; else the request's own URL with the
/// normalized path (production: the route's origin). The fragment never goes on.
fn target_url(url: &Url, isolate: &Isolate, path: &NormalizedPath) -> Option<String> {
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", path.as_str()),
        None => path.as_str().to_owned(),
    };
    match isolate.config.origin() {
        Some(origin) => origin.target(&path_and_query),
        None => {
            let mut own = url.clone();
            own.set_fragment(None);
            own.set_path(path.as_str());
            // The URL parser may re-encode; refuse rather than forward a path other than the
            // one the rules matched.
            (own.path() == path.as_str()).then(|| own.to_string())
        }
    }
}
