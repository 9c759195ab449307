//! The authz Worker: reachable only through the auth Worker's service binding.
//!
//! Per request: refuse methods the edge never forwards, normalize the path (`rule-table`), trust
//! identity only from a valid, fresh
//! `X-Auth-Context` (`edge-auth`), let the rule table decide (first match, default deny), and
//! forward allowed requests to the origin with the normalized path. Every decision is made in
//! the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;

use edge_auth::{
    verify_context, Identity, LogLine, Outcome, Rejection, RequestBinding, RequestUrl, WorkerName,
    CONTEXT_HEADER,
};
use rule_table::{normalize_path, Method, Principal, Verdict};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::Request;
use worker::{console_log, Env};
use worker_glue::{header, reject, Answer, REQUEST_ID_HEADER};

/// The fetch handler the runtime calls (see `worker_glue::serve` for why it is not `#[event]`).
#[wasm_bindgen]
pub fn fetch(req: Request, env: Env, _ctx: JsValue) -> JsValue {
    worker_glue::serve(handle(req, env))
}

async fn handle(req: Request, env: Env) -> Answer {
    let headers = req.headers();
    let given_request_id = header(&headers, REQUEST_ID_HEADER);
    let request_id = worker_glue::request_id(given_request_id.as_deref());
    let raw_url = req.url();
    let raw_method = req.method();
    let log = LogLine::builder(WorkerName::Authz, &request_id).method(&raw_method);

    let url = RequestUrl::split(&raw_url);

    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => {
            let log = log.path(url.map_or("", |u| u.path()));
            return worker_glue::misconfigured(&request_id, &problem, log);
        }
    };
    let realm = isolate.config.realm();

    let Some(url) = url else {
        return reject(Rejection::BadRequest, "bad_url", realm, &request_id, log);
    };
    // TRACE, TRACK, CONNECT (405) and unusable paths (400) are refused whatever the table says,
    // before the context is looked at; a look-alike path only in a case-insensitive table.
    let method = match Method::parse(&raw_method) {
        Ok(method) => method,
        Err(e) => {
            let log = log.path(url.path());
            return reject(Rejection::from(&e), e.code(), realm, &request_id, log);
        }
    };
    let path = match normalize_path(url.path())
        .and_then(|path| isolate.table.check_path(&path).map(|()| path))
    {
        Ok(path) => path,
        Err(e) => {
            let log = log.path(url.path());
            return reject(Rejection::from(&e), e.code(), realm, &request_id, log);
        }
    };
    let log = log.path(path.as_str());

    // Identity only from a valid, fresh context signed by the auth Worker for this very
    // request; none → anonymous, present but bad → refused (never downgraded to anonymous).
    // The binding is this request as received: its method, its URL's path and query before
    // normalization, and the request id header exactly as given (absent: "", which the auth
    // Worker never signs, so a mismatch).
    let identity: Option<Identity> = match header(&headers, CONTEXT_HEADER) {
        None => None,
        Some(context) => {
            let binding =
                RequestBinding::new(&raw_method, &url, given_request_id.as_deref().unwrap_or(""));
            match verify_context(
                &context,
                isolate.config.context_key(),
                &binding,
                worker_glue::now_seconds(),
                isolate.config.context_max_age_seconds(),
            ) {
                Ok(identity) => Some(identity),
                Err(e) => return reject(Rejection::from(&e), e.code(), realm, &request_id, log),
            }
        }
    };
    let principal = identity.as_ref().map(|id| Principal {
        sub: id.sub.clone(),
        roles: id.roles.clone(),
        scopes: id.scopes.clone(),
    });
    let decision = isolate.table.decide(&method, &path, principal.as_ref());
    let mut log = log.outcome(Outcome::Allowed, decision.reason.code());
    if let Some(rule) = &decision.rule {
        log = log.rule(rule.index, rule.name.as_deref().unwrap_or(""));
    }
    if let Some(id) = &identity {
        log = log.subject(&id.sub);
    }
    let rejection = match decision.verdict {
        Verdict::Allow => None,
        Verdict::BadRequest => Some(Rejection::BadRequest),
        Verdict::Unauthenticated => Some(Rejection::Unauthorized),
        Verdict::Forbidden { insufficient_scope } => {
            Some(Rejection::Forbidden { insufficient_scope })
        }
    };
    if let Some(rejection) = rejection {
        return reject(rejection, decision.reason.code(), realm, &request_id, log);
    }

    let target = forward::Target {
        url: &url,
        method: &method,
        path: &path,
    };
    match forward::to_origin(&req, &target, &isolate, identity.as_ref(), &request_id).await {
        Ok(response) => {
            console_log!("{}", log.status(response.status()).build().to_json());
            Ok(response)
        }
        Err(rejection) => reject(rejection, "origin_unreachable", realm, &request_id, log),
    }
}
