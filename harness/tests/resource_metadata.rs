//! OAuth 2.0 Protected Resource Metadata (RFC 9728) and the challenges that point at it
//! (RFC 6750 §3): the auth Worker answers `/.well-known/oauth-protected-resource[/<path>]`
//! itself — no token, no rule, never the origin — and every 401 (and a 403 for a missing
//! scope) names that URL in `resource_metadata`, the same whichever Worker refuses. A real
//! client, the official MCP TypeScript SDK, follows it.

use e2e::context::{identity, now, request_id};
use e2e::stack::free_port;
use e2e::stack::workspace_root;
use e2e::{Harness, Response};
use serde_json::{json, Value};
use std::process::Command;

const METADATA: &str = "/.well-known/oauth-protected-resource";
const SECRET: &str = "0123456789abcdef0123456789abcdef-resource-metadata";

fn challenge(r: &Response) -> &str {
    r.header("www-authenticate").unwrap_or("")
}

/// A 200 metadata answer the origin never saw: public, cacheable JSON for any origin.
fn assert_metadata_answer(h: &Harness, r: &Response) {
    h.assert_status(r, 200);
    h.assert_not_forwarded(r);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

/// The metadata document without `RESOURCE`, for the resource `resource`.
fn expected_document(h: &Harness, resource: &str) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": [h.idp.issuer()],
        "scopes_supported": ["premium"],
        "bearer_methods_supported": ["header"],
    })
}

#[test]
fn metadata_is_answered_without_a_token_for_get_and_head_and_never_forwarded() {
    let h = Harness::shared();
    let base = h.stack.url();
    let r = h.get(METADATA).send();
    assert_metadata_answer(h, &r);
    assert_eq!(r.json(), expected_document(h, &base));
    let line = h.log_line("auth", &r).expect("the auth Worker's log line");
    assert_eq!(
        (&line["outcome"], &line["reason"], &line["status"]),
        (
            &json!("answered"),
            &json!("protected_resource_metadata"),
            &json!(200)
        ),
        "{line}"
    );

    let head = h.request("HEAD", METADATA).send();
    assert_metadata_answer(h, &head);
    assert!(head.body.is_empty());

    // The suffixed form (RFC 9728 §3.1) describes origin + path, on the normalized path; a
    // token, even a broken one, is never looked at.
    for (target, resource) in [
        ("/.well-known/oauth-protected-resource/mcp", "/mcp"),
        (
            "/.well-known/./oauth-protected-resource//mcp/v1/",
            "/mcp/v1",
        ),
        ("/.well-known/oauth%2Dprotected-resource/%6Dcp", "/mcp"),
    ] {
        let r = h.get(target).bearer("not.a.token").send();
        assert_metadata_answer(h, &r);
        assert_eq!(
            r.json()["resource"],
            format!("{base}{resource}"),
            "{target}"
        );
    }

    // Other methods on the path, and look-alike paths, meet the rule table like any request.
    for (method, target) in [
        ("POST", METADATA),
        ("GET", "/.well-known/oauth-protected-resourcex"),
        ("GET", "/x/.well-known/oauth-protected-resource"),
    ] {
        let r = h.request(method, target).send();
        h.assert_status(&r, 401);
        h.assert_not_forwarded(&r);
    }
}

/// A browser-based client (an MCP client in a web page) asks before it fetches the metadata
/// or the gateway's key set from another origin: the auth Worker answers the preflight itself,
/// on the normalized path, with or without a token, and nothing reaches the authz Worker or
/// the origin.
#[test]
fn cors_preflights_for_the_gateways_endpoints_are_answered_and_never_forwarded() {
    let h = Harness::shared();
    for target in [
        METADATA,
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/./oauth-protected-resource/",
        "/.well-known/edge-auth/jwks.json",
        "/.well-known/edge-auth//jwks.json",
    ] {
        let r = h
            .request("OPTIONS", target)
            .header("Origin", "https://client.example")
            .header("Access-Control-Request-Method", "GET")
            .header(
                "Access-Control-Request-Headers",
                "authorization,mcp-protocol-version",
            )
            .send();
        h.assert_status(&r, 204);
        h.assert_not_forwarded(&r);
        assert!(r.body.is_empty(), "{target}");
        for (name, value) in [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET, HEAD, OPTIONS"),
            (
                "access-control-allow-headers",
                "authorization, mcp-protocol-version",
            ),
            ("access-control-max-age", "86400"),
        ] {
            assert_eq!(r.header(name), Some(value), "{target} {name}");
        }
        assert_eq!(r.header("access-control-allow-credentials"), None);
        let line = h.log_line("auth", &r).expect("the auth Worker's log line");
        assert_eq!(
            (&line["outcome"], &line["reason"], &line["status"]),
            (&json!("answered"), &json!("cors_preflight"), &json!(204)),
            "{line}"
        );
        let workers: Vec<Value> = h
            .log_lines_of(line["request_id"].as_str().unwrap_or_default())
            .iter()
            .map(|l| l["worker"].clone())
            .collect();
        assert_eq!(
            workers,
            [json!("auth")],
            "{target}: only the auth Worker saw it"
        );
    }

    // Requested headers that are not header names are not echoed: the browser stops there.
    let r = h
        .request("OPTIONS", METADATA)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "x-a, x b")
        .send();
    h.assert_status(&r, 204);
    h.assert_not_forwarded(&r);
    assert_eq!(r.header("access-control-allow-headers"), None);

    // OPTIONS anywhere else meets the rule table like any request (default deny here).
    let r = h
        .request("OPTIONS", "/x/.well-known/edge-auth/jwks.json")
        .header("Access-Control-Request-Method", "GET")
        .send();
    h.assert_status(&r, 401);
    h.assert_not_forwarded(&r);
    assert_eq!(r.header("access-control-allow-origin"), None);

    // The key set itself is readable from any origin too.
    let r = h.get("/.well-known/edge-auth/jwks.json").send();
    h.assert_status(&r, 200);
    h.assert_not_forwarded(&r);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("content-type"), Some("application/jwk-set+json"));
}

#[test]
fn every_401_points_at_metadata_that_answers() {
    let h = Harness::shared();
    let url = format!("{}{METADATA}", h.stack.url());
    let anonymous = h.get("/hello").send();
    let bad_token = h.get("/hello").bearer("e30.e30.AAAA").send();
    let basic = h.get("/hello").header("Authorization", "Basic YTpi").send();
    for r in [&anonymous, &basic] {
        h.assert_status(r, 401);
        h.assert_not_forwarded(r);
        assert_eq!(
            challenge(r),
            format!(r#"Bearer realm="edge-auth", resource_metadata="{url}""#)
        );
    }
    h.assert_invalid_token(&bad_token);
    assert!(
        challenge(&bad_token).starts_with(&format!(
            r#"Bearer realm="edge-auth", resource_metadata="{url}", error="invalid_token""#
        )),
        "{}",
        challenge(&bad_token)
    );
    // The URL answers, with no token.
    let path = url.strip_prefix(&h.stack.url()).unwrap_or_default();
    let r = h.get(path).send();
    assert_metadata_answer(h, &r);
    assert_eq!(r.json()["resource"], h.stack.url());
}

#[test]
fn a_missing_scope_is_403_insufficient_scope_naming_the_rules_scopes() {
    let h = Harness::shared();
    let mut claims = h.idp.standard_claims("user", &["user"]);
    claims["scope"] = json!("read write");
    let token = h.idp.mint(e2e::Alg::Es256, claims);
    let r = h.get("/secret-data/report").bearer(&token).send();
    h.assert_status(&r, 403);
    h.assert_not_forwarded(&r);
    assert_eq!(r.json()["error"], "insufficient_scope");
    assert_eq!(
        challenge(&r),
        format!(
            r#"Bearer realm="edge-auth", resource_metadata="{}{METADATA}", error="insufficient_scope", scope="premium""#,
            h.stack.url()
        )
    );
    // A 403 that more scope would not cure carries no challenge.
    let r = h.get("/admin/x").bearer(&token).send();
    h.assert_status(&r, 403);
    assert_eq!(r.header("www-authenticate"), None);
}

/// What a refusal's client sees, minus what differs per request.
fn refusal_shape(r: &Response) -> (u16, String, Option<String>, Option<String>, Option<String>) {
    let header = |name: &str| r.header(name).map(str::to_owned);
    (
        r.status,
        r.text(),
        header("www-authenticate"),
        header("content-type"),
        header("cache-control"),
    )
}

/// With `RESOURCE` set on both Workers (an MCP server at `/mcp`), only its metadata URL answers,
/// every challenge names it, the authz Worker's refusals are the auth Worker's to the byte, and
/// the MCP SDK finds the authorization server from a 401.
#[test]
fn with_resource_set_challenges_and_metadata_name_it_in_both_workers() {
    let port = free_port().expect("a free port");
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let h = Harness::start_with(|c, _| {
        c.port(port)
            .auth_var("RESOURCE", &resource)
            .auth_var("RESOURCE_NAME", "Orders \"MCP\"")
            .authz_var("RESOURCE", &resource)
    });
    let url = format!("http://127.0.0.1:{port}{METADATA}/mcp");

    for target in [&format!("{METADATA}/mcp"), &format!("{METADATA}/mcp/")] {
        let r = h.get(target).send();
        assert_metadata_answer(&h, &r);
        assert_eq!(
            r.json(),
            json!({
                "resource": resource,
                "authorization_servers": [h.idp.issuer()],
                "scopes_supported": ["premium"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Orders \"MCP\"",
            })
        );
    }
    // Any other suffix names another resource: 404, JSON, nothing forwarded.
    for target in [
        METADATA.to_owned(),
        format!("{METADATA}/other"),
        format!("{METADATA}/mcp/x"),
    ] {
        for method in ["GET", "HEAD"] {
            let r = h.request(method, &target).send();
            h.assert_status(&r, 404);
            h.assert_not_forwarded(&r);
            assert_eq!(r.header("content-type"), Some("application/json"));
            if method == "GET" {
                assert_eq!(r.json()["error"], "not_found", "{target}");
            }
        }
    }

    // Every challenge names RESOURCE's metadata URL, on any path.
    let anonymous = h.get("/mcp").send();
    h.assert_status(&anonymous, 401);
    assert_eq!(
        challenge(&anonymous),
        format!(r#"Bearer realm="edge-auth", resource_metadata="{url}""#)
    );
    let expired = {
        let mut claims = h.idp.standard_claims("user", &["user"]);
        claims["exp"] = json!(1_000_000_000);
        h.get("/hello")
            .bearer(&h.idp.mint(e2e::Alg::Es256, claims))
            .send()
    };
    h.assert_invalid_token(&expired);
    assert!(challenge(&expired).contains(&format!(r#"resource_metadata="{url}""#)));
    let no_premium = h
        .get("/secret-data/x")
        .bearer(&h.token("user", &["user"]))
        .send();
    h.assert_status(&no_premium, 403);
    assert_eq!(
        challenge(&no_premium),
        format!(
            r#"Bearer realm="edge-auth", resource_metadata="{url}", error="insufficient_scope", scope="premium""#
        )
    );

    // The official MCP SDK: 401 → resource_metadata → metadata → resource indicator.
    let sdk = mcp_sdk_discovery(&resource);
    assert_eq!(sdk["status"], 401, "{sdk}");
    assert_eq!(sdk["resource_metadata_url"], url.as_str());
    assert_eq!(sdk["metadata"]["resource"], resource.as_str());
    assert_eq!(
        sdk["metadata"]["authorization_servers"],
        json!([h.idp.issuer()])
    );
    assert_eq!(
        sdk["discovered"], sdk["metadata"],
        "path-aware discovery finds the same"
    );
    assert_eq!(sdk["resource_indicator"], resource.as_str());

    // The authz Worker refuses the same failures with the same answer (its own stack, as the
    // entry, with the same RESOURCE).
    let direct = Harness::start_with(|c, _| {
        c.authz_only()
            .authz_var("CONTEXT_SECRET", SECRET)
            .authz_var("RESOURCE", &resource)
    });
    let r = direct.get("/mcp").send();
    assert_eq!(refusal_shape(&r), refusal_shape(&anonymous));
    let mut user = identity("user", &["user"]);
    user.scopes = vec!["read".into()];
    let id = request_id();
    let context = e2e::context::signed(
        SECRET,
        &user,
        ("GET", "/secret-data/x", &id),
        &Default::default(),
        now(),
    );
    let r = direct
        .get("/secret-data/x")
        .header("x-request-id", &id)
        .header("X-Auth-Context", &context)
        .send();
    direct.assert_not_forwarded(&r);
    assert_eq!(refusal_shape(&r), refusal_shape(&no_premium));
    let line = direct
        .log_line_of("authz", &id)
        .expect("the authz Worker's line");
    assert_eq!(line["reason"], "missing_scope", "{line}");
}

/// Runs `harness/js/mcp-discovery.mjs` on `server_url` and parses what it prints.
fn mcp_sdk_discovery(server_url: &str) -> Value {
    let root = workspace_root();
    let output = Command::new("node")
        .arg(root.join("harness/js/mcp-discovery.mjs"))
        .arg(server_url)
        .current_dir(&root)
        .output()
        .expect("node runs (cargo xtask setup installs the MCP SDK)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the MCP SDK script failed: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}
