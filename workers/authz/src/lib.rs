//! The authz Worker: reachable only through the auth Worker's service binding.
//!
//! Per request: `edge_auth::route` screens the request once, answers the gateway's JWK Set, and
//! otherwise `edge_auth::authorize` decides (method, normalized path, identity only from a
//! context signed for this very request, the rule table compiled into this Worker: first match,
//! default deny), and an allowed request goes to the origin with exactly the path it matched,
//! and, when configured, the assertion it signs for it (`X-Edge-Auth-Assertion`).
//! Every decision is made in the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;
mod sign;

use edge_auth::{
    AuthzRequest, LogLine, Refusal, Rejection, RequestUrl, Routed, WorkerName, CONTEXT_HEADER,
};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::Request;
use worker::{console_log, Env};
use worker_glue::{header, refuse, Answer, REQUEST_ID_HEADER};

/// The fetch handler the runtime calls (see `worker_glue::serve` for why it is not `#[event]`).
#[wasm_bindgen]
pub fn fetch(req: Request, env: Env, _ctx: JsValue) -> JsValue {
    worker_glue::serve(handle(req, env))
}

async fn handle(req: Request, env: Env) -> Answer {
    let headers = req.headers();
    let given_request_id = header(&headers, REQUEST_ID_HEADER);
    let request_id = worker_glue::request_id(given_request_id.as_deref());
    let (raw_url, raw_method) = (req.url(), req.method());
    let log = LogLine::builder(WorkerName::Authz, &request_id)
        .method(&raw_method)
        .path(RequestUrl::split(&raw_url).map_or("", |u| u.path()));
    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => return worker_glue::misconfigured(&request_id, &problem, log),
    };
    let challenge = isolate.config.challenge(&raw_url);

    let context = header(&headers, CONTEXT_HEADER);
    let request = AuthzRequest {
        method: &raw_method,
        url: &raw_url,
        context: context.as_deref(),
        // The id the origin receives and the assertion names: the auth Worker's (always
        // well-formed), else one of ours, which no context can be bound to.
        request_id: Some(&request_id),
    };
    // The gateway's own endpoints are answered here, before the rule table, never forwarded;
    // everything else is decided by the rule table.
    let now = worker_glue::now_seconds();
    let forward = match edge_auth::route(&request, now, &isolate.config, &isolate.rules) {
        Ok(Routed::Forward(forward)) => forward,
        Ok(Routed::Answer(answer)) => return worker_glue::respond(&answer, &request_id, log),
        Err(refusal) => return refuse(&refusal, &challenge, &request_id, log),
    };
    let assertion = match &forward.assertion {
        None => None,
        Some(unsigned) => match sign::assertion(&isolate, unsigned, &request_id).await {
            Ok(signed) => Some(signed),
            // Fail closed: nothing goes to the origin without the assertion it expects.
            Err(reason) => {
                let refusal = Refusal::new(Rejection::Misconfigured, reason, &forward.facts);
                return refuse(&refusal, &challenge, &request_id, log);
            }
        },
    };
    let log = forward
        .facts
        .annotate(log)
        .outcome(edge_auth::Outcome::Allowed, forward.reason);
    match forward::to_origin(
        &req,
        &headers,
        &forward,
        assertion.as_deref(),
        &isolate.config,
        &env,
        &request_id,
    )
    .await
    {
        Ok(response) => {
            console_log!("{}", log.status(response.status()).build().to_json());
            Ok(response)
        }
        Err(refusal) => refuse(&refusal, &challenge, &request_id, log),
    }
}
