//! The hand-off to the authz Worker: the client's identity headers removed, the verified
//! identity and its signed context added, the method normalized, everything else (URL, body
//! stream, other headers) passed on unchanged.

use crate::isolate::Isolate;
use edge_auth::{
    identity_headers, sign_context_with_notes, ContextNotes, HeaderPolicy, Identity, Refusal,
    Rejection, RequestBinding, RequestFacts, RequestUrl, CONTEXT_HEADER, REQUEST_ID_HEADER,
};
use rule_table::Method;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Request, RequestInit, RequestRedirect, Response, ResponseInit};
use worker::Env;
use worker_glue::{header, replace_headers};

/// Why the request was not passed on: the answer, and the log line's reason code.
pub(crate) struct NotForwarded {
    pub(crate) rejection: Rejection,
    pub(crate) reason: &'static str,
}

impl NotForwarded {
    /// The refusal to answer instead, with the request's facts for its log line.
    pub(crate) fn refusal(&self, facts: &RequestFacts) -> Refusal {
        Refusal::new(self.rejection, self.reason, facts)
    }
}

fn not_forwarded(rejection: Rejection, reason: &'static str) -> NotForwarded {
    NotForwarded { rejection, reason }
}

/// What goes to the authz Worker besides the request: the normalized method (upper-case for the
/// RFC 9110 methods, so the decision never rests on what the runtime does with `patch`), the
/// verified identity and the notes signed with it.
pub(crate) struct Handoff<'a> {
    pub(crate) method: &'a Method,
    pub(crate) identity: Option<&'a Identity>,
    pub(crate) notes: ContextNotes,
}

/// Sends the request on to `AUTHZ`; its answer comes back as it is (a refusal already carries
/// our request id; a forwarded response gets it only with `ECHO_REQUEST_ID=true`).
pub(crate) async fn to_authz(
    req: &Request,
    handoff: &Handoff<'_>,
    env: &Env,
    isolate: &Isolate,
    request_id: &str,
) -> Result<Response, NotForwarded> {
    let forwarded = forwarded_request(req, handoff, isolate, request_id)?;
    let Some(authz) = worker_glue::service(env, "AUTHZ") else {
        worker_glue::log_event(
            request_id,
            "config_error",
            "server_misconfigured",
            "the AUTHZ service binding is missing: add [[services]] binding = \"AUTHZ\" to wrangler.auth.toml",
        );
        return Err(not_forwarded(
            Rejection::Misconfigured,
            "server_misconfigured",
        ));
    };
    let unreachable = |code, e: JsValue| {
        let rejection = worker_glue::upstream_failed(request_id, code, &e);
        not_forwarded(rejection, "authz_unreachable")
    };
    let response = authz
        .send(&forwarded)
        .await
        .map_err(|e| unreachable("authz_fetch_failed", e))?;
    if !isolate.config.echo_request_id() {
        return Ok(response);
    }
    with_request_id(response, request_id).map_err(|e| unreachable("response_copy_failed", e))
}

/// A copy of the client's request (made by the runtime: URL, headers, body stream) with the
/// normalized method, its identity headers replaced by ours and the context bound to this copy.
fn forwarded_request(
    req: &Request,
    handoff: &Handoff<'_>,
    isolate: &Isolate,
    request_id: &str,
) -> Result<Request, NotForwarded> {
    let (method, identity) = (handoff.method, handoff.identity);
    let config = &isolate.config;
    let init = RequestInit::new();
    init.set_method(method.as_str());
    // A redirect from behind the authz Worker goes back to the client, never followed here.
    init.set_redirect(RequestRedirect::Manual);
    let forwarded = Request::new_with_request_and_init(req, &init)
        .map_err(|_| not_forwarded(Rejection::BadRequest, "request_copy_failed"))?;
    let headers = forwarded.headers();
    let header_edit_failed = |_| not_forwarded(Rejection::BadRequest, "header_edit_failed");
    // Access's own e-mail header may pass only when Access is the configured source.
    let access_email = config
        .access_team_domain()
        .and(identity.and_then(|id| id.email.as_deref()));
    let policy = HeaderPolicy::to_authz(config.extra_stripped_headers(), access_email);
    let mut set = vec![(REQUEST_ID_HEADER, request_id.to_owned())];
    if let Some(identity) = identity {
        // A `sub` or e-mail that cannot go in a header as it is: refused, never rewritten.
        let identity_headers =
            identity_headers(identity).map_err(|e| not_forwarded(Rejection::from(&e), e.code()))?;
        set.extend(identity_headers);
        // Bound to the request the authz Worker will receive: the copy's own method and URL
        // (the same as the client's) and the request id set on it.
        let (method, url) = (forwarded.method(), forwarded.url());
        let url = RequestUrl::split(&url)
            .ok_or_else(|| not_forwarded(Rejection::BadRequest, "bad_url"))?;
        let binding = RequestBinding::new(&method, &url, request_id);
        let context = sign_context_with_notes(
            identity,
            &handoff.notes,
            config.context_key(),
            &binding,
            worker_glue::now_seconds(),
        );
        set.push((CONTEXT_HEADER, context));
    }
    let set: Vec<(&str, &str)> = set.iter().map(|(n, v)| (*n, v.as_str())).collect();
    replace_headers(
        &headers,
        |name| policy.strips(name, || header(&headers, name)),
        &set,
    )
    .map_err(header_edit_failed)?;
    Ok(forwarded)
}

/// The authz Worker's response with our request id. Its own refusals carry it already, as may
/// an origin that echoes it; otherwise, since a fetched response's headers are immutable, the
/// response is re-made around the same body stream (`new Response(body, response)` takes
/// status, status text and headers from the response itself). A WebSocket upgrade goes back
/// untouched: re-making it would drop the socket.
fn with_request_id(response: Response, request_id: &str) -> Result<Response, JsValue> {
    let present = worker_glue::header(&response.headers(), REQUEST_ID_HEADER);
    if response.status() == 101 || present.as_deref() == Some(request_id) {
        return Ok(response);
    }
    let init: &ResponseInit = response.unchecked_ref();
    let remade = Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), init)?;
    remade.headers().set(REQUEST_ID_HEADER, request_id)?;
    Ok(remade)
}
