//! Upstreams: validation (every message names the rule or the upstream), the path mapping on
//! the normalized path, the shipped `[upstream.ai]`, and what `rules explain` says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{
    explain, normalize_path, HeaderTemplate, JsonTemplate, Method, PathMapping, Placeholder,
    Principal, RuleTable, Template, Verdict,
};

const SEED: &str = include_str!("../../../workers/authz/rules.toml");

const AI: &str = r#"
[upstream.ai]
url = "https://gw.example/v1/acct/gw"
path = "strip_prefix"
bearer_secret = "CF_AI_GATEWAY_TOKEN"
"#;

fn table(src: &str) -> RuleTable {
    match RuleTable::from_toml(src) {
        Ok(c) => c.table,
        Err(e) => panic!("rejected:\n{e}\n{src}"),
    }
}

/// Every error message, in order.
fn messages(src: &str) -> Vec<(String, &'static str)> {
    match RuleTable::from_toml(src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e
            .errors()
            .iter()
            .map(|e| (e.to_string(), e.code()))
            .collect(),
    }
}

fn one(src: &str, code: &str, fragments: &[&str]) {
    let m = messages(src);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].1, code, "{m:?}");
    for f in fragments {
        assert!(m[0].0.contains(f), "{:?} lacks {f:?}", m[0].0);
    }
}

fn user() -> Principal {
    Principal {
        sub: "alice".into(),
        roles: vec![],
        scopes: vec![],
    }
}

/// The mapped path of `raw` under the rule that decides it.
fn mapped(t: &RuleTable, raw: &str) -> Option<String> {
    let path = normalize_path(raw).unwrap();
    let d = t.decide(&Method::Post, &path, Some(&user()));
    assert_eq!(d.verdict, Verdict::Allow, "{raw}");
    let route = t.upstream(d.rule.as_ref()?)?;
    Some(route.upstream.url().full_path(&route.map_path(&path)))
}

#[test]
fn strip_prefix_maps_the_normalized_path_below_the_literal_prefix() {
    let t = table(&format!(
        "{AI}\n[[rule]]\npath = \"/ai/v1/**\"\nupstream = \"ai\"\n\n[[rule]]\npath = \"/**\"\n"
    ));
    for (raw, target) in [
        ("/ai/v1/chat/completions", "/v1/acct/gw/chat/completions"),
        ("/AI/V1/chat", "/v1/acct/gw/chat"),
        ("/ai/v1", "/v1/acct/gw"),
        ("/ai/v1/", "/v1/acct/gw/"),
        // Dot segments, doubled slashes and encoded unreserved characters are resolved before
        // the prefix is counted: the raw text is never cut.
        ("/ai/x/../v1/chat", "/v1/acct/gw/chat"),
        ("/ai//v1//chat", "/v1/acct/gw/chat"),
        ("/%61i/v%31/chat", "/v1/acct/gw/chat"),
        ("/ai/v1/%2e%2e/v1/models", "/v1/acct/gw/models"),
        ("/ai/v1/caf%c3%a9", "/v1/acct/gw/caf%C3%A9"),
    ] {
        assert_eq!(mapped(&t, raw).as_deref(), Some(target), "{raw}");
    }
    // Outside the prefix: the default target (no upstream).
    assert_eq!(mapped(&t, "/ai/v2/chat"), None);
    assert_eq!(mapped(&t, "/aiv1/chat"), None);
}

#[test]
fn normalized_mapping_appends_the_whole_path_to_the_base_path() {
    let t = table(
        "[upstream.u]\nurl = \"http://127.0.0.1:9/base/\"\n[[rule]]\npath = \"/{x}/**\"\nupstream = \"u\"\n",
    );
    assert_eq!(mapped(&t, "/a/b/../c").as_deref(), Some("/base/a/c"));
    let t = table(
        "[upstream.u]\nurl = \"https://u.example\"\n[[rule]]\npath = \"/**\"\nupstream = \"u\"\n",
    );
    assert_eq!(mapped(&t, "/").as_deref(), Some("/"));
    assert_eq!(mapped(&t, "/a/").as_deref(), Some("/a/"));
}

#[test]
fn the_shipped_ai_upstream() {
    let t = table(SEED);
    let ai = t.upstreams().find(|u| u.name() == "ai").unwrap();
    assert_eq!(ai.bearer_secret(), Some("CF_AI_GATEWAY_TOKEN"));
    assert_eq!(ai.url_var(), Some("AI_GATEWAY_URL"));
    assert_eq!(ai.path_mapping(), PathMapping::StripPrefix);
    assert!(!ai.forward_client_credentials());
    assert!(!ai.identity_headers());
    let user_id = Template::parse("{email}").unwrap();
    assert_eq!(
        ai.headers(),
        [(
            "cf-aig-metadata".to_owned(),
            HeaderTemplate::Json(JsonTemplate::Object(vec![(
                "user_id".into(),
                JsonTemplate::String(user_id)
            )]))
        )]
    );
    assert_eq!(
        mapped(&t, "/ai/chat/completions").as_deref(),
        Some("/v1/YOUR_ACCOUNT_ID/YOUR_GATEWAY_ID/compat/chat/completions")
    );
    // Anonymous callers never reach it; other routes keep the default target.
    let path = normalize_path("/ai/chat/completions").unwrap();
    assert_eq!(
        t.decide(&Method::Post, &path, None).verdict,
        Verdict::Unauthenticated
    );
    assert_eq!(mapped(&t, "/hello"), None);
}

#[test]
fn rule_errors_name_the_rule_and_the_upstream() {
    one(
        &format!("{AI}\n[[rule]]\nname = \"chat\"\npath = \"/**\"\nupstream = \"a1\"\n"),
        "unknown_upstream",
        &["rule 1 (\"chat\")", "upstream = \"a1\"", "use one of: ai"],
    );
    one(
        "[[rule]]\npath = \"/**\"\nupstream = \"ai\"\n",
        "unknown_upstream",
        &["rule 1", "[upstream.ai]"],
    );
    for pattern in ["/**", "/{x}/**", "/*/chat"] {
        one(
            &format!("{AI}\n[[rule]]\nname = \"p\"\npath = \"{pattern}\"\nupstream = \"ai\"\n"),
            "strip_prefix_without_literal",
            &["rule 1 (\"p\")", "upstream \"ai\"", pattern, "literal"],
        );
    }
    one(
        &format!("{AI}\n[[rule]]\npath = \"/ai/**\"\nallow = \"deny\"\nupstream = \"ai\"\n[[rule]]\npath = \"/ai/x\"\nupstream = \"ai\"\n"),
        "upstream_on_deny",
        &["rule 1", "deny"],
    );
    one(
        &format!("{AI}\n[[rule]]\npath = \"/ai/**\"\nupstream = 1\n"),
        "invalid_value",
        &["rule 1", "upstream"],
    );
}

#[test]
fn upstream_errors_name_the_upstream_and_the_fix() {
    let rule = "\n[[rule]]\npath = \"/ai/**\"\nupstream = \"ai\"\n";
    for (upstream, fragments) in [
        ("url = \"http://gw.example/\"", &["upstream \"ai\"", "https"][..]),
        ("url = \"https://gw.example/?a=1\"", &["query"]),
        ("url = \"https://gw.example/#x\"", &["fragment"]),
        ("url = \"https://u:p@gw.example/\"", &["user:password"]),
        ("url = \"gw.example\"", &["absolute URL"]),
        ("path = \"normalized\"", &["no \"url\""]),
        ("url = \"https://gw.example\"\nurl_var = \"ai-url\"", &["url_var", "variable name"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"CONTEXT_SECRET\"", &["bearer_secret", "own variables"]),
        ("url = \"https://gw.example\"\npath = \"strip\"", &["\"strip\"", "strip_prefix"]),
        ("url = \"https://gw.example\"\nbearer = \"X\"", &["unknown key \"bearer\"", "bearer_secret"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nforward_client_credentials = true", &["own credential"]),
        ("url = \"https://gw.example\"\nidentity_headers = \"yes\"", &["identity_headers", "true or false"]),
        ("url = \"https://gw.example\"\nheaders.x-who = \"{mail}\"", &["headers.x-who", "{mail", "{email}"]),
        ("url = \"https://gw.example\"\nheaders.x-who = \"{sub\"", &["headers.x-who", "unclosed"]),
        ("url = \"https://gw.example\"\nheaders.x-who = \"a}b\"", &["headers.x-who", "}}"]),
        ("url = \"https://gw.example\"\nheaders.x-m = { json = { a = [\"{iss}\", { b = \"{nope}\" }] } }", &["json.a[1].b", "{nope"]),
        ("url = \"https://gw.example\"\nheaders.x-m = { text = \"a\" }", &["headers.x-m", "json"]),
        ("url = \"https://gw.example\"\nheaders.\"bad name\" = \"a\"", &["not a valid header name"]),
        ("url = \"https://gw.example\"\nheaders.Authorization = \"Bearer {sub}\"", &["headers.Authorization", "bearer_secret"]),
        ("url = \"https://gw.example\"\nheaders.X_User_ID = \"{sub}\"", &["headers.X_User_ID", "edge sets"]),
        ("url = \"https://gw.example\"\nheaders.cookie = \"{sub}\"", &["headers.cookie"]),
        ("url = \"https://gw.example\"\nheaders.x-a = \"1\"\nheaders.X_A = \"2\"", &["same header"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"cf aig\"", &["\"bearer_header\" = \"cf aig\"", "not a header name"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"\"", &["\"bearer_header\" = \"\"", "not a header name"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"x-a\\r\\nx-b\"", &["bearer_header", "not a header name"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = true", &["bearer_header", "must be a string"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"Cookie\"", &["\"bearer_header\" = \"Cookie\"", "edge sets or removes itself"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"proxy-authorization\"", &["proxy-authorization", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"X_User_ID\"", &["X_User_ID", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"x-auth-context\"", &["x-auth-context", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"X-Request-Id\"", &["X-Request-Id", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"x-edge-auth-assertion\"", &["x-edge-auth-assertion", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"cf_access_jwt_assertion\"", &["cf_access_jwt_assertion", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"Host\"", &["Host", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"transfer-encoding\"", &["transfer-encoding", "edge sets"]),
        ("url = \"https://gw.example\"\nbearer_header = \"cf-aig-authorization\"", &["cf-aig-authorization", "no bearer_secret"]),
        ("url = \"https://gw.example\"\nforward_client_credentials = true\nbearer_header = \"authorization\"", &["bearer_header", "no bearer_secret"]),
        ("url = \"https://gw.example\"\nbearer_secret = \"T\"\nbearer_header = \"cf-aig-authorization\"\nheaders.CF_AIG_Authorization = \"{sub}\"", &["cf-aig-authorization", "templated under headers"]),
    ] {
        let m = messages(&format!("[upstream.ai]\n{upstream}\n{rule}"));
        assert_eq!(m.len(), 1, "{upstream}: {m:?}");
        assert_eq!(m[0].1, "invalid_upstream", "{upstream}: {m:?}");
        assert!(m[0].0.starts_with("table: upstream \"ai\": "), "{m:?}");
        for f in fragments {
            assert!(m[0].0.contains(f), "{upstream}: {:?} lacks {f:?}", m[0].0);
        }
    }
}

#[test]
fn the_bearer_header_defaults_to_authorization_and_may_name_the_upstreams_own() {
    let with = |key: &str| {
        let t = table(&format!(
            "[upstream.gw]\nurl = \"https://gw.example\"\nbearer_secret = \"T\"\n{key}\nheaders.cf-aig-metadata = \"{{sub}}\"\n[[rule]]\npath = \"/**\"\nupstream = \"gw\"\n"
        ));
        let gw = t.upstreams().next().unwrap();
        (
            gw.bearer_header().to_owned(),
            explain(&t, "GET", "/x", Some(&user())),
        )
    };
    let (header, out) = with("");
    assert_eq!(header, "authorization");
    assert!(
        out.contains("upstream credential: Authorization: Bearer <secret T>"),
        "{out}"
    );
    for (key, expected) in [
        ("bearer_header = \"authorization\"", "authorization"),
        ("bearer_header = \"AUTHORIZATION\"", "authorization"),
        // Cloudflare's authenticated AI Gateway.
        (
            "bearer_header = \"cf-aig-authorization\"",
            "cf-aig-authorization",
        ),
        (
            "bearer_header = \"CF-AIG-Authorization\"",
            "cf-aig-authorization",
        ),
        ("bearer_header = \"x-api-key\"", "x-api-key"),
    ] {
        assert_eq!(with(key).0, expected, "{key}");
    }
    let (_, out) = with("bearer_header = \"cf-aig-authorization\"");
    assert!(
        out.contains("upstream credential: cf-aig-authorization: Bearer <secret T>"),
        "{out}"
    );
    // The shipped table's upstream keeps the default.
    let shipped = table(SEED);
    assert_eq!(
        shipped.upstreams().next().unwrap().bearer_header(),
        "authorization"
    );
}

#[test]
fn an_unused_upstream_is_a_warning() {
    let c = RuleTable::from_toml(&format!("{AI}\n[[rule]]\npath = \"/**\"\n")).unwrap();
    let w: Vec<(String, &str)> = c
        .warnings
        .iter()
        .map(|w| (w.to_string(), w.code()))
        .collect();
    assert_eq!(
        w,
        [(
            "warning: table: upstream \"ai\" is declared but no rule has upstream = \"ai\"; use it or remove it".to_owned(),
            "unused_upstream"
        )]
    );
}

#[test]
fn header_templates_keep_their_shape() {
    let t = table(concat!(
        "[upstream.u]\nurl = \"https://u.example\"\n",
        "headers.X-Team = \"team {{{sub}}} of {iss}\"\n",
        "headers.x-meta = { json = { a = 1, b = true, c = [\"{roles}\"], d = { e = \"{request_id}\" } } }\n",
        "[[rule]]\npath = \"/**\"\nupstream = \"u\"\n",
    ));
    let u = t.upstreams().next().unwrap();
    let (name, HeaderTemplate::Plain(plain)) = &u.headers()[0] else {
        panic!("{:?}", u.headers());
    };
    assert_eq!(name, "x-team");
    let rendered = plain.render(|p| match p {
        Placeholder::Sub => Some("s"),
        Placeholder::Iss => Some("https://i"),
        _ => None,
    });
    assert_eq!(rendered.as_deref(), Some("team {s} of https://i"));
    assert!(
        matches!(&u.headers()[1], (n, HeaderTemplate::Json(JsonTemplate::Object(o))) if n == "x-meta" && o.len() == 4)
    );
}

#[test]
fn explain_shows_the_upstream_and_the_target() {
    let out = explain(
        &table(SEED),
        "POST",
        "/ai/x/../chat/completions",
        Some(&user()),
    );
    for line in [
        "matched rule: rule 6 (\"ai-proxy\")",
        "upstream: \"ai\" (url https://gateway.ai.cloudflare.com/v1/YOUR_ACCOUNT_ID/YOUR_GATEWAY_ID/compat, or AI_GATEWAY_URL when that variable is set, path = \"strip_prefix\")",
        "target: https://gateway.ai.cloudflare.com/v1/YOUR_ACCOUNT_ID/YOUR_GATEWAY_ID/compat/chat/completions",
        "upstream credential: Authorization: Bearer <secret CF_AI_GATEWAY_TOKEN>",
        "upstream headers set: cf-aig-metadata",
        "decision: ALLOW (forward to the upstream)",
    ] {
        assert!(out.contains(line), "{out}\nlacks {line:?}");
    }
    let out = explain(&table(SEED), "GET", "/hello", Some(&user()));
    assert!(!out.contains("upstream"), "{out}");
}
