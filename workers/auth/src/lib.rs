//! The auth Worker: the only public entry.
//!
//! Per request: refuse what no rule could admit (`edge_auth::screen`), authenticate the
//! credential (`edge_auth::authenticate`: keys from the per-isolate `jwks-cache`, signatures by
//! WebCrypto), and hand the request to the authz Worker over the `AUTHZ` service binding with
//! the client's identity headers replaced by the verified identity and its signed context.
//! Every decision is made in the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;
mod keys;

use edge_auth::{
    ContextNotes, CredentialHeaders, LogLine, Refusal, RequestFacts, RequestUrl, WellKnown,
    WorkerName, ACCESS_CONTROL_REQUEST_HEADERS, RAY_HEADER,
};
use forward::Handoff;
use keys::{IsolateKeys, WebCrypto};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::Request;
use worker::Env;
use worker_glue::{header, refuse, Answer};

/// The fetch handler the runtime calls (see `worker_glue::serve` for why it is not `#[event]`).
#[wasm_bindgen]
pub fn fetch(req: Request, env: Env, _ctx: JsValue) -> JsValue {
    worker_glue::serve(handle(req, env))
}

async fn handle(req: Request, env: Env) -> Answer {
    let headers = req.headers();
    let request_id = worker_glue::request_id(header(&headers, RAY_HEADER).as_deref());
    let (raw_url, raw_method) = (req.url(), req.method());
    let log = LogLine::builder(WorkerName::Auth, &request_id)
        .method(&raw_method)
        .path(RequestUrl::split(&raw_url).map_or("", |u| u.path()));
    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => return worker_glue::misconfigured(&request_id, &problem, log),
    };
    let challenge = isolate.config.challenge(&raw_url);
    let answer = |refusal: Refusal| refuse(&refusal, &challenge, &request_id, log.clone());

    // Cheap refusals first: nothing these refuse could be forwarded, so no token is verified.
    let policy = isolate.rules.table().path_policy();
    let (method, url, path) = match edge_auth::screen(&raw_method, &raw_url, policy) {
        Ok(screened) => screened,
        Err(refusal) => return answer(refusal),
    };
    // A browser's CORS preflight for the gateway's own endpoints: answered here, never forwarded.
    let requested_headers = || header(&headers, ACCESS_CONTROL_REQUEST_HEADERS);
    if let Some(preflight) = edge_auth::preflight(&method, &path, requested_headers) {
        return worker_glue::respond(&preflight, &request_id, log);
    }
    // The gateway's own metadata (RFC 9728): before the rule table, no token, never forwarded.
    match isolate.metadata.answer(&method, &path, &url) {
        Some(Ok(metadata)) => return worker_glue::respond(&metadata, &request_id, log),
        Some(Err(refusal)) => return answer(refusal),
        None => {}
    }
    // The gateway's JWK Set needs no credential: the authz Worker, which holds the key,
    // answers it, before any rule.
    if WellKnown::recognize(&method, &path) == Some(WellKnown::GatewayJwks) {
        let handoff = Handoff {
            method: &method,
            identity: None,
            notes: ContextNotes::default(),
        };
        let facts = RequestFacts {
            path: Some(path.as_str().to_owned()),
            ..RequestFacts::default()
        };
        return forward::to_authz(&req, &handoff, &env, &isolate, &request_id)
            .await
            .or_else(|not_forwarded| answer(not_forwarded.refusal(&facts)));
    }
    let credentials = CredentialHeaders::read(isolate.config.extraction_mode(), |name| {
        header(&headers, name)
    });
    let keys = IsolateKeys {
        env: &env,
        isolate: &isolate,
        request_id: &request_id,
    };
    let authenticated = match edge_auth::authenticate(
        &credentials.credentials(),
        worker_glue::now_seconds(),
        &keys,
        &WebCrypto,
        &isolate.tokens,
        &isolate.config,
    )
    .await
    {
        Ok(authenticated) => authenticated,
        Err(refusal) => return answer(refusal),
    };

    // Refused at the first hop: the same answer the authz Worker would give, without calling it.
    let mut facts = authenticated.facts;
    facts.path = Some(path.as_str().to_owned());
    let identity = authenticated.identity.as_ref();
    if let Err(refusal) =
        edge_auth::decide(&method, &path, identity, isolate.rules.table(), &mut facts)
    {
        return answer(refusal);
    }
    let handoff = Handoff {
        method: &method,
        identity,
        notes: facts.context_notes(&isolate.rules),
    };
    // Forwarded: the authz Worker decides again and writes the request's one log line.
    forward::to_authz(&req, &handoff, &env, &isolate, &request_id)
        .await
        .or_else(|not_forwarded| answer(not_forwarded.refusal(&facts)))
}
