//! The authz Worker (skeleton): forwards to the origin.
use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let origin = env.var("ORIGIN_URL").map(|v| v.to_string()).ok();
    let mut url = req.url()?;
    if let Some(origin) = origin {
        let base = worker::Url::parse(&origin)?;
        let _ = url.set_scheme(base.scheme());
        let _ = url.set_host(base.host_str());
        let _ = url.set_port(base.port());
    }
    let mut init = worker::RequestInit::new();
    init.with_method(req.method()).with_headers(req.headers().clone());
    worker::Fetch::Request(Request::new_with_init(url.as_str(), &init)?).send().await
}
