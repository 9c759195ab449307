//! The auth Worker: the only public entry.
//!
//! Per request: take the credential (`handoff`), verify it (`jose-jwt`, keys from the
//! per-isolate `jwks-cache`, signature by WebCrypto), strip identity headers the client sent,
//! add the verified identity and its signed context, and pass the request to the authz Worker
//! over the `AUTHZ` service binding. Every decision is made in the crates; this is glue.
#![forbid(unsafe_code)]

mod forward;
mod isolate;
mod keys;
mod verify;

use handoff::{LogLine, Outcome, WorkerName};
use worker::{console_log, event, Context, Env, Request, Response, Result};
use worker_glue::reject;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let cf_ray = req.headers().get("cf-ray").ok().flatten();
    let request_id = worker_glue::request_id(cf_ray.as_deref());
    let path = req.path();
    let log = LogLine::builder(WorkerName::Auth, &request_id)
        .method(req.method().as_ref())
        .path(&path);

    let isolate = match isolate::Isolate::get(&env) {
        Ok(isolate) => isolate,
        Err(problem) => {
            return worker_glue::misconfigured(&request_id, &problem, log);
        }
    };
    let realm = isolate.config.realm().to_owned();

    let verified = match verify::authenticate(&req, &env, &isolate, &request_id).await {
        Ok(verified) => verified,
        Err(failure) => {
            let log = failure.annotate(log);
            return reject(failure.rejection, failure.reason, &realm, &request_id, log);
        }
    };
    let log = verified.annotate(log);

    match forward::to_authz(req, &env, &isolate, verified.identity.as_ref(), &request_id).await {
        Ok(response) => {
            let status = response.status_code();
            let reason = if verified.identity.is_some() {
                "verified"
            } else {
                "anonymous"
            };
            console_log!(
                "{}",
                log.outcome(Outcome::Allowed, reason)
                    .status(status)
                    .build()
                    .to_json()
            );
            Ok(response)
        }
        Err(rejection) => reject(rejection, "authz_unreachable", &realm, &request_id, log),
    }
}
