//! `cargo xtask dev`: the whole product on this machine — a demo identity provider (ES256,
//! EdDSA and RS256 keys it generates), an echo origin, and both Workers in workerd, signing
//! the assertion to the origin with an EdDSA key generated at start — with ready-to-paste
//! requests for the demo users and a line that decodes the assertion.

use crate::setup;
use crate::util::{step, Failure, Result};
use e2e::demo::Demo;
use std::io::BufRead;

/// Where the entry Worker listens unless `EDGE_AUTH_PORT` says otherwise.
const DEFAULT_PORT: u16 = 8787;

pub fn run() -> Result<()> {
    let tools = setup::run()?;
    for worker in setup::WORKERS {
        tools.build_worker(worker)?;
    }
    let port = match std::env::var("EDGE_AUTH_PORT") {
        Ok(value) => value
            .parse()
            .map_err(|_| Failure::new(format!("EDGE_AUTH_PORT={value:?} is not a port number")))?,
        Err(_) => DEFAULT_PORT,
    };
    step(
        "dev",
        "starting the identity provider, the origin and both Workers",
    );
    let demo = Demo::start(port).map_err(|e| {
        Failure::new(format!(
            "the demo did not start: {e}. Is port {port} free? Set EDGE_AUTH_PORT to use another."
        ))
    })?;
    print!("{}", instructions(&demo));
    println!("Press Enter for fresh tokens (they last 10 minutes); Ctrl-C stops everything.");

    // Each line on stdin prints fresh tokens; at EOF (no terminal) just keep running.
    let stdin = std::io::stdin();
    for _ in stdin.lock().lines() {
        print!("{}", instructions(&demo));
    }
    loop {
        std::thread::park();
    }
}

fn instructions(demo: &Demo) -> String {
    let harness = &demo.harness;
    let url = harness.stack.url();
    let admin = harness.idp.token("admin", &["admin"]);
    let user = harness.idp.token("user", &["user"]);
    let bearer = |token: &str| format!("-H 'Authorization: Bearer {token}'");
    let access = harness
        .idp
        .access_token("user", &["user"], "user@example.com");
    let ai = format!(
        "-H 'Cf-Access-Jwt-Assertion: {access}' -H 'Content-Type: application/json' \\\n  \
         -d '{{\"model\":\"demo\",\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}]}}'"
    );
    let lines = [
        (
            "200: public route, no token",
            format!("curl -i {url}/health"),
        ),
        (
            "401: protected route, no token",
            format!("curl -i {url}/hello"),
        ),
        (
            "200: any authenticated user",
            format!("curl -i {} {url}/hello", bearer(&user)),
        ),
        (
            "200: admin on the admin area",
            format!("curl -i {} {url}/admin/reports", bearer(&admin)),
        ),
        (
            "403: user on the admin area",
            format!("curl -i {} {url}/admin/reports", bearer(&user)),
        ),
        (
            "401: a token that is not valid",
            format!("curl -i {} {url}/hello", bearer("not.a.token")),
        ),
        (
            "200: the AI proxy (Access token): the gateway echoes what it got, its own token \
             matched, cf-aig-metadata has the user's e-mail, none of the user's credentials",
            format!("curl -i {ai} \\\n  {url}/ai/chat/completions"),
        ),
        (
            "200: a streamed answer (server-sent events; the second event comes after 20 s)",
            format!("curl -N {ai} \\\n  {url}/ai/stream/demo"),
        ),
    ];
    let mut out = format!(
        "\nedge-auth is running: {url}\n  identity provider: {} (JWKS at /.well-known/jwks.json)\n  \
         origin (echoes what reaches it): {}\n  \
         AI gateway (upstream \"ai\", checks its bearer secret {}…, echoes what it got): {}\n  \
         rules: workers/authz/rules.toml (stop, edit, run again)\n\n",
        harness.idp.issuer(),
        harness.origin.url(),
        demo.gateway_token.get(..4).unwrap_or_default(),
        demo.gateway.url(),
    );
    for (expect, command) in lines {
        out.push_str(&format!("# {expect}\n{command}\n\n"));
    }
    // The echo origin answers with the headers it received, the assertion among them.
    out.push_str(&format!(
        "# the assertion the origin received (EdDSA, kid {}), its claims decoded; the keys: {url}/.well-known/edge-auth/jwks.json\n\
         curl -s {} {url}/hello | jq -r '.headers[\"x-edge-auth-assertion\"]' | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null; echo\n\n",
        demo.assertion_key.kid().unwrap_or("?"),
        bearer(&user)
    ));
    out
}
