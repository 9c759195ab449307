//! The auth Worker (skeleton): hands every request to the authz Worker.
use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let authz = env.service("AUTHZ")?;
    authz.fetch_request(req).await
}
