//! The auth Worker: the only public entry.
//!
//! Per request: refuse what no rule could admit (TRACE, TRACK, CONNECT; a path the authz Worker
//! would refuse before any rule) before looking at a token, take the credential (`edge-auth`),
//! verify it (`jose-jwt`, keys from the
//! per-isolate `jwks-cache`, signature by WebCrypto), strip identity headers the client sent,
//! add the verified identity and its signed context, and pass the request to the authz Worker
//! over the `AUTHZ` service binding. Every decision is made in the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;
mod keys;
mod verify;

include!(concat!(env!("OUT_DIR"), "/path_policy.rs"));

use edge_auth::{LogLine, Outcome, Rejection, RequestUrl, WorkerName};
use rule_table::{normalize_path, Method};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::Request;
use worker::{console_log, Env};
use worker_glue::{header, reject, Answer};

/// The fetch handler the runtime calls (see `worker_glue::serve` for why it is not `#[event]`).
#[wasm_bindgen]
pub fn fetch(req: Request, env: Env, _ctx: JsValue) -> JsValue {
    worker_glue::serve(handle(req, env))
}

async fn handle(req: Request, env: Env) -> Answer {
    let headers = req.headers();
    let request_id = worker_glue::request_id(header(&headers, "cf-ray").as_deref());
    let raw_url = req.url();
    let raw_method = req.method();
    let url = RequestUrl::split(&raw_url);
    let log = LogLine::builder(WorkerName::Auth, &request_id)
        .method(&raw_method)
        .path(url.as_ref().map_or("", |u| u.path()));

    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => {
            return worker_glue::misconfigured(&request_id, &problem, log);
        }
    };
    let realm = isolate.config.realm();

    // Cheap refusals first: nothing these would reject could be forwarded by the authz Worker,
    // so no token is verified for them.
    let method = match Method::parse(&raw_method) {
        Ok(method) => method,
        Err(e) => return reject(Rejection::from(&e), e.code(), realm, &request_id, log),
    };
    let Some(url) = url else {
        return reject(Rejection::BadRequest, "bad_url", realm, &request_id, log);
    };
    if let Err(e) = normalize_path(url.path()).and_then(|path| PATH_POLICY.check(&path)) {
        return reject(Rejection::from(&e), e.code(), realm, &request_id, log);
    }

    let verified = match verify::authenticate(&headers, &env, &isolate, &request_id).await {
        Ok(verified) => verified,
        Err(failure) => {
            let log = failure.annotate(log);
            return reject(failure.rejection, failure.reason, realm, &request_id, log);
        }
    };
    let log = verified.annotate(log);

    match forward::to_authz(
        &req,
        &method,
        &env,
        &isolate,
        verified.identity.as_ref(),
        &request_id,
    )
    .await
    {
        Ok(response) => {
            let reason = if verified.identity.is_some() {
                "verified"
            } else {
                "anonymous"
            };
            console_log!(
                "{}",
                log.outcome(Outcome::Allowed, reason)
                    .status(response.status())
                    .build()
                    .to_json()
            );
            Ok(response)
        }
        Err(not_forwarded) => reject(
            not_forwarded.rejection,
            not_forwarded.reason,
            realm,
            &request_id,
            log,
        ),
    }
}
