use std::collections::HashMap;

use super::*;
use crate::{AuthConfig, CONTEXT_HEADER};

const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn config(extra: &[(&str, &str)]) -> AuthConfig {
    let mut vars: HashMap<String, String> = [
        ("JWKS_URL", "https://idp.example/.well-known/jwks.json"),
        ("ISSUER", "https://idp.example/"),
        ("AUDIENCE", "api://orders"),
        ("CONTEXT_SECRET", SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    AuthConfig::from_env(|name| vars.get(name).cloned()).unwrap()
}

const TABLE: &str = r#"
[[rule]]
path = "/health"
allow = "public"
[[rule]]
path = "/items/**"
scopes_all = ["items:write", "items:read"]
[[rule]]
path = "/files/{id}"
any_of = [{ owner = "id" }, { scopes_any = ["files:admin", "items:read"] }]
[[rule]]
path = "/odd"
scopes_any = ["has space", "q\"uote"]
[[rule]]
path = "/**"
roles_any = ["user"]
"#;

fn metadata(extra: &[(&str, &str)]) -> ProtectedResourceMetadata {
    let table = RuleTable::from_toml(TABLE).unwrap().table;
    ProtectedResourceMetadata::new(&config(extra), &table)
}

/// The answer to `method url` (absolute), if the metadata endpoint answers it.
fn answer<'m>(
    m: &'m ProtectedResourceMetadata,
    method: &str,
    url: &str,
) -> Option<Result<GatewayAnswer<'m>, Refusal>> {
    let url = RequestUrl::split(url).unwrap();
    let method = Method::parse(method).unwrap();
    let path = rule_table::normalize_path(url.path()).unwrap();
    m.answer(&method, &path, &url)
}

fn body(m: &ProtectedResourceMetadata, url: &str) -> String {
    match answer(m, "GET", url) {
        Some(Ok(response)) => response.body.unwrap().into_owned(),
        other => panic!("{url}: {other:?}"),
    }
}

#[test]
fn resource_metadata_urls_follow_rfc_9728_section_3_1() {
    // RFC 9728 §3.1's own example, then the bare origin (written with or without its `/`),
    // a port, a terminating slash and a deeper path.
    for (resource, metadata_url) in [
        (
            "https://resource.example.com/resource1",
            "https://resource.example.com/.well-known/oauth-protected-resource/resource1",
        ),
        (
            "https://api.example.com",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example.com/",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "http://127.0.0.1:8787/mcp/",
            "http://127.0.0.1:8787/.well-known/oauth-protected-resource/mcp",
        ),
        (
            "https://api.example.com:8443/v1/mcp",
            "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/mcp",
        ),
    ] {
        let parsed = Resource::parse("RESOURCE", resource).unwrap();
        assert_eq!(parsed.identifier(), resource);
        assert_eq!(parsed.metadata_url(), metadata_url, "{resource}");
    }
}

#[test]
fn a_resource_that_could_not_be_named_identically_is_a_config_error() {
    for (raw, needle) in [
        ("http://api.example.com/mcp", "https"),
        ("ftp://api.example.com/mcp", "https"),
        ("https://api.example.com/mcp?x=1", "?query"),
        ("https://api.example.com/mcp#top", "fragment"),
        ("https://user:pw@api.example.com/", "user:password"),
        ("mcp", "absolute URL"),
        // Not as a URL parser writes it: the metadata's `resource` would not be identical.
        (
            "https://API.example.com/mcp",
            "write it as `https://api.example.com/mcp`",
        ),
        (
            "https://api.example.com:443/mcp",
            "write it as `https://api.example.com/mcp`",
        ),
        (
            "HTTPS://api.example.com",
            "write it as `https://api.example.com`",
        ),
        ("https://api.example.com/a b", "canonical"),
        // Paths the gateway would see otherwise.
        ("https://api.example.com/a%2Fb", "would not match"),
        ("https://api.example.com/%61", "would not match"),
        ("https://api.example.com/a//b", "would not match"),
        ("https://api.example.com/a;b", "would not match"),
    ] {
        let err = Resource::parse("RESOURCE", raw).unwrap_err();
        assert_eq!(err.var(), "RESOURCE");
        assert!(err.problem().contains(needle), "{raw}: {err}");
    }
}

#[test]
fn both_workers_read_resource_and_the_auth_worker_resource_name() {
    let auth = config(&[
        ("RESOURCE", "https://api.example.com/mcp"),
        ("RESOURCE_NAME", "Orders API"),
    ]);
    assert_eq!(
        auth.resource().map(Resource::identifier),
        Some("https://api.example.com/mcp")
    );
    assert_eq!(auth.resource_name(), Some("Orders API"));
    let authz = crate::AuthzConfig::from_env(|name| match name {
        "CONTEXT_SECRET" => Some(SECRET.to_owned()),
        "RESOURCE" => Some("https://api.example.com/mcp".to_owned()),
        _ => None,
    })
    .unwrap();
    assert_eq!(authz.resource(), auth.resource());
    // The same challenge whichever Worker renders it.
    let url = "https://api.example.com/mcp";
    assert_eq!(
        authz.challenge(url).resource_metadata(),
        auth.challenge(url).resource_metadata()
    );
    let err = crate::AuthzConfig::from_env(|name| match name {
        "CONTEXT_SECRET" => Some(SECRET.to_owned()),
        "RESOURCE" => Some("http://api.example.com/".to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(err.var(), "RESOURCE");
    let long = "n".repeat(MAX_RESOURCE_NAME_CHARS + 1);
    for bad in ["tab\there", "line\nbreak", long.as_str()] {
        let vars = [("RESOURCE_NAME", bad)];
        let err = AuthConfig::from_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| match name {
                    "JWKS_URL" => Some("https://idp.example/jwks".to_owned()),
                    "ISSUER" | "AUDIENCE" => Some("x".to_owned()),
                    "CONTEXT_SECRET" => Some(SECRET.to_owned()),
                    _ => None,
                })
        })
        .unwrap_err();
        assert_eq!(err.var(), "RESOURCE_NAME", "{bad:?}");
    }
}

#[test]
fn the_challenge_points_at_resource_or_the_request_origin() {
    let resource = Resource::parse("RESOURCE", "https://api.example.com/mcp").unwrap();
    let set = Challenge::new("r", Some(&resource), "https://other.example/x");
    assert_eq!(
        set.resource_metadata().as_deref(),
        Some("https://api.example.com/.well-known/oauth-protected-resource/mcp")
    );
    let unset = Challenge::new("r", None, "http://127.0.0.1:9/a/b?q=1");
    assert_eq!(
        unset.resource_metadata().as_deref(),
        Some("http://127.0.0.1:9/.well-known/oauth-protected-resource")
    );
    assert_eq!(
        Challenge::new("r", None, "not a url").resource_metadata(),
        None
    );
    assert_eq!(Challenge::new("", None, "").realm(), DEFAULT_REALM);
}

#[test]
fn scope_tokens_are_rfc_6749_nqchar_runs() {
    for ok in [
        "read",
        "items:write",
        "https://api.example.com/x.read",
        "!#[]~",
    ] {
        assert!(is_scope_token(ok), "{ok:?}");
    }
    for bad in [
        "",
        "a b",
        "q\"",
        "back\\slash",
        "tab\t",
        "caf\u{e9}",
        "\u{7f}",
    ] {
        assert!(!is_scope_token(bad), "{bad:?}");
    }
}

#[test]
fn the_metadata_document_without_resource_names_the_request_origin() {
    let m = metadata(&[]);
    // Known answer, written out by hand from RFC 9728 §2: the issuer, the table's scope-tokens
    // sorted (the two odd names left out), header only.
    assert_eq!(
        body(
            &m,
            "https://api.example.com/.well-known/oauth-protected-resource"
        ),
        r#"{"resource":"https://api.example.com","authorization_servers":["https://idp.example/"],"scopes_supported":["files:admin","items:read","items:write"],"bearer_methods_supported":["header"]}"#
    );
    // The suffixed form describes origin + suffix (normalized, terminating slash dropped).
    let suffixed: serde_json::Value = serde_json::from_str(&body(
        &m,
        "http://127.0.0.1:8787/.well-known/oauth-protected-resource/./mcp//v1/",
    ))
    .unwrap();
    assert_eq!(suffixed["resource"], "http://127.0.0.1:8787/mcp/v1");
}

#[test]
fn the_metadata_document_with_resource_is_fixed_and_only_at_its_url() {
    let m = metadata(&[
        ("RESOURCE", "https://api.example.com/mcp"),
        ("RESOURCE_NAME", "Orders \"API\" \u{e9}"),
        ("ISSUER", "https://a.example/,https://b.example/"),
    ]);
    let expected = r#"{"resource":"https://api.example.com/mcp","authorization_servers":["https://a.example/","https://b.example/"],"scopes_supported":["files:admin","items:read","items:write"],"bearer_methods_supported":["header"],"resource_name":"Orders \"API\" é"}"#;
    for url in [
        "https://api.example.com/.well-known/oauth-protected-resource/mcp",
        "https://api.example.com/.well-known/oauth-protected-resource/mcp/",
        // Another host still gets RESOURCE's document: the identifier is configured.
        "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp",
    ] {
        assert_eq!(body(&m, url), expected, "{url}");
    }
    // A suffix naming another resource (the bare form names the origin) is 404.
    for url in [
        "https://api.example.com/.well-known/oauth-protected-resource",
        "https://api.example.com/.well-known/oauth-protected-resource/MCP",
        "https://api.example.com/.well-known/oauth-protected-resource/mcp/x",
        "https://api.example.com/.well-known/oauth-protected-resource/mc",
    ] {
        match answer(&m, "GET", url) {
            Some(Err(refusal)) => {
                assert_eq!(refusal.rejection, Rejection::NotFound, "{url}");
                assert_eq!(refusal.reason, "resource_mismatch");
                assert_eq!(refusal.status(), 404);
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    let root = metadata(&[("RESOURCE", "https://api.example.com")]);
    let doc: serde_json::Value = serde_json::from_str(&body(
        &root,
        "https://api.example.com/.well-known/oauth-protected-resource",
    ))
    .unwrap();
    assert_eq!(doc["resource"], "https://api.example.com");
    assert!(matches!(
        answer(
            &root,
            "GET",
            "https://api.example.com/.well-known/oauth-protected-resource/x"
        ),
        Some(Err(_))
    ));
}

#[test]
fn the_answer_is_public_cacheable_json_and_head_has_no_body() {
    let m = metadata(&[]);
    let url = "https://api.example.com/.well-known/oauth-protected-resource";
    let get = answer(&m, "GET", url).unwrap().unwrap();
    assert_eq!(get.status, 200);
    assert_eq!(get.outcome, Outcome::Answered);
    assert_eq!(
        get.headers("req-1"),
        vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "public, max-age=300".to_owned()),
            ("access-control-allow-origin", "*".to_owned()),
            ("x-request-id", "req-1".to_owned()),
        ]
    );
    let head = answer(&m, "head", url).unwrap().unwrap();
    assert_eq!(
        (head.status, head.headers("req-1"), head.body),
        (200, get.headers("req-1"), None)
    );
    let init: serde_json::Value = serde_json::from_str(&get.init_json("req-1")).unwrap();
    assert_eq!(init["headers"]["access-control-allow-origin"], "*");
    assert!(!get
        .headers("req-1")
        .iter()
        .any(|(name, _)| *name == CONTEXT_HEADER));
}

#[test]
fn only_get_and_head_on_the_metadata_paths_are_answered() {
    let m = metadata(&[]);
    for (method, url) in [
        (
            "POST",
            "https://a.example/.well-known/oauth-protected-resource",
        ),
        (
            "OPTIONS",
            "https://a.example/.well-known/oauth-protected-resource",
        ),
        (
            "GET",
            "https://a.example/.well-known/oauth-protected-resourcex",
        ),
        (
            "GET",
            "https://a.example/x/.well-known/oauth-protected-resource",
        ),
        (
            "GET",
            "https://a.example/.well-known/oauth-authorization-server",
        ),
        // The gateway's JWKS is another endpoint's business.
        ("GET", "https://a.example/.well-known/edge-auth/jwks.json"),
        ("GET", "https://a.example/health"),
    ] {
        assert!(answer(&m, method, url).is_none(), "{method} {url}");
    }
}

#[test]
fn a_table_without_scopes_has_no_scopes_supported() {
    let table = RuleTable::from_toml("[[rule]]\npath = \"/**\"\n")
        .unwrap()
        .table;
    let m = ProtectedResourceMetadata::new(&config(&[]), &table);
    let doc: serde_json::Value = serde_json::from_str(&body(
        &m,
        "https://a.example/.well-known/oauth-protected-resource",
    ))
    .unwrap();
    assert!(doc.get("scopes_supported").is_none(), "{doc}");
    assert_eq!(
        doc["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
}
