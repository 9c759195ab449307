//! The authz Worker: reachable only through the auth Worker's service binding.
//!
//! Per request: normalize the path (`rule-table`), trust identity only from a valid, fresh
//! `X-Auth-Context` (`handoff`), let the rule table decide (first match, default deny), and
//! forward allowed requests to the origin with the normalized path. Every decision is made in
//! the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;

use handoff::{verify_context, Identity, LogLine, Outcome, Rejection, WorkerName, CONTEXT_HEADER};
use rule_table::{normalize_path, Method, Principal, Verdict};
use worker::{console_log, event, Context, Env, Request, Response, Result};
use worker_glue::{reject, REQUEST_ID_HEADER};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let given_id = req.headers().get(REQUEST_ID_HEADER).ok().flatten();
    let request_id = worker_glue::request_id(given_id.as_deref());
    let url = req.url()?;
    let log = LogLine::builder(WorkerName::Authz, &request_id).method(req.method().as_ref());

    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => {
            return worker_glue::misconfigured(&request_id, &problem, log.path(url.path()));
        }
    };
    let realm = isolate.config.realm().to_owned();

    let (method, path) = match (
        Method::parse(req.method().as_ref()),
        normalize_path(url.path()),
    ) {
        (Ok(method), Ok(path)) => (method, path),
        (Err(_), _) => {
            return reject(
                Rejection::BadRequest,
                "bad_method",
                &realm,
                &request_id,
                log.path(url.path()),
            );
        }
        (_, Err(e)) => {
            return reject(
                Rejection::BadRequest,
                e.code(),
                &realm,
                &request_id,
                log.path(url.path()),
            );
        }
    };
    let log = log.path(path.as_str());

    // Identity only from a valid, fresh context signed by the auth Worker; none → anonymous,
    // present but bad → refused (never downgraded to anonymous).
    let identity: Option<Identity> = match req.headers().get(CONTEXT_HEADER).ok().flatten() {
        None => None,
        Some(context) => {
            match verify_context(
                &context,
                isolate.config.context_key(),
                worker_glue::now_seconds(),
                isolate.config.context_max_age_seconds(),
            ) {
                Ok(identity) => Some(identity),
                Err(e) => return reject(Rejection::from(&e), e.code(), &realm, &request_id, log),
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
        Verdict::Unauthenticated => Some(Rejection::Unauthorized),
        Verdict::Forbidden { insufficient_scope } => {
            Some(Rejection::Forbidden { insufficient_scope })
        }
    };
    if let Some(rejection) = rejection {
        return reject(rejection, decision.reason.code(), &realm, &request_id, log);
    }

    match forward::to_origin(req, &url, &isolate, &path, identity.as_ref(), &request_id).await {
        Ok(response) => {
            console_log!("{}", log.status(response.status_code()).build().to_json());
            Ok(response)
        }
        Err(rejection) => reject(rejection, "origin_unreachable", &realm, &request_id, log),
    }
}
