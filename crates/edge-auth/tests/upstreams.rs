//! `authorize` with upstreams: the target URL, which client headers are stripped and which set,
//! the bearer secret checked by name, and a broken upstream refusing its own routes only.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use edge_auth::{
    authorize, sign_context, AuthzConfig, AuthzRequest, Forward, Identity, LogLine, Refusal,
    Rejection, RequestBinding, RequestUrl, Rules, WorkerName,
};

const NOW: i64 = 1_900_000_000;
const SECRET: &str = "0123456789abcdef0123456789abcdef-upstreams";
const REQUEST_ID: &str = "req-1";
const TOKEN: &str = "gw-token-4f1c8e";

const RULES: &str = r#"
[upstream.ai]
url = "https://gw.example/v1/acct/gw/compat"
url_var = "AI_GATEWAY_URL"
path = "strip_prefix"
bearer_secret = "CF_AI_GATEWAY_TOKEN"
headers.cf-aig-metadata = { json = { user_id = "{email}" } }

# Cloudflare's authenticated AI Gateway: its token in cf-aig-authorization.
[upstream.aig]
url = "https://gateway.ai.cloudflare.com/v1/acct/gw/compat"
path = "strip_prefix"
bearer_secret = "CF_AI_GATEWAY_TOKEN"
bearer_header = "cf-aig-authorization"

[upstream.plain]
url = "https://plain.example/base"
identity_headers = true
forward_client_credentials = true
headers.x-team = "team-{sub}"

[upstream.bare]
url = "https://bare.example"

[[rule]]
name = "ai"
path = "/ai/**"
upstream = "ai"

[[rule]]
name = "aig"
path = "/aig/**"
upstream = "aig"

[[rule]]
name = "plain"
path = "/plain/**"
upstream = "plain"

[[rule]]
name = "bare"
path = "/bare/**"
allow = "public"
upstream = "bare"

[[rule]]
path = "/**"
"#;

fn alice() -> Identity {
    Identity {
        sub: "alice".into(),
        roles: vec!["user".into()],
        scopes: vec![],
        email: Some("alice@example.com".into()),
        exp: NOW + 300,
        issuer: "https://idp.test/".into(),
        act: None,
    }
}

fn config(vars: &[(&str, &str)]) -> (AuthzConfig, Rules) {
    let rules = Rules::compile(RULES).unwrap();
    let get = |name: &str| match name {
        "CONTEXT_SECRET" => Some(SECRET.to_owned()),
        "ORIGIN_URL" => Some("https://origin.example".to_owned()),
        _ => vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned()),
    };
    let config = AuthzConfig::from_env(get)
        .unwrap()
        .with_upstreams(rules.table(), get);
    (config, rules)
}

fn run(
    (config, rules): &(AuthzConfig, Rules),
    url: &str,
    identity: Option<&Identity>,
) -> Result<Forward, Refusal> {
    let context = identity.map(|id| {
        let split = RequestUrl::split(url).unwrap();
        sign_context(
            id,
            config.context_key(),
            &RequestBinding::new("POST", &split, REQUEST_ID),
            NOW,
        )
    });
    let request = AuthzRequest {
        method: "POST",
        url,
        context: context.as_deref(),
        request_id: Some(REQUEST_ID),
    };
    authorize(&request, NOW, config, rules)
}

fn log_json(refusal: &Refusal) -> serde_json::Value {
    let line = refusal
        .annotate(LogLine::builder(WorkerName::Authz, REQUEST_ID))
        .build()
        .to_json();
    serde_json::from_str(&line).unwrap()
}

fn secret(name: &str) -> Option<String> {
    (name == "CF_AI_GATEWAY_TOKEN").then(|| TOKEN.to_owned())
}

#[test]
fn the_ai_upstream_gets_its_own_credential_and_the_users_email_but_nothing_of_the_clients() {
    let c = config(&[]);
    let f = run(
        &c,
        "https://api.example/ai/x/../chat/completions?stream=true",
        Some(&alice()),
    )
    .unwrap();
    assert_eq!(
        f.target,
        "https://gw.example/v1/acct/gw/compat/chat/completions?stream=true"
    );
    assert!(f.identity_headers.is_empty());
    assert!(!f.sends_identity());
    let set: Vec<(&str, &str)> = f.headers_to_set().collect();
    assert_eq!(
        set,
        [("cf-aig-metadata", r#"{"user_id":"alice@example.com"}"#)]
    );
    assert_eq!(
        f.upstream_credential(secret).unwrap(),
        Some(("authorization", "Bearer gw-token-4f1c8e".to_owned()))
    );
    let email = || Some("alice@example.com".to_owned());
    for stripped in [
        "authorization",
        "Cf-Access-Jwt-Assertion",
        "cookie",
        "x-user-id",
        "x-auth-context",
        "cf-access-authenticated-user-email",
        "cf-aig-metadata",
        "CF_AIG_METADATA",
    ] {
        assert!(f.strips(&c.0, stripped, email), "{stripped}");
    }
    for kept in ["content-type", "accept", "x-request-id", "openai-beta"] {
        assert!(!f.strips(&c.0, kept, email), "{kept}");
    }
    let line = log_json(&Refusal::new(
        Rejection::Forbidden {
            insufficient_scope: false,
        },
        "x",
        &f.facts,
    ));
    assert_eq!(line["upstream"], "ai");
}

#[test]
fn a_bearer_header_carries_the_secret_and_no_client_copy_of_it_or_of_authorization_goes_on() {
    let c = config(&[]);
    let f = run(
        &c,
        "https://api.example/aig/chat/completions",
        Some(&alice()),
    )
    .unwrap();
    assert_eq!(
        f.target,
        "https://gateway.ai.cloudflare.com/v1/acct/gw/compat/chat/completions"
    );
    assert_eq!(
        f.upstream_credential(secret).unwrap(),
        Some(("cf-aig-authorization", "Bearer gw-token-4f1c8e".to_owned()))
    );
    // Set once, by the Worker, in that header only: not among the templated headers.
    assert_eq!(f.headers_to_set().count(), 0);
    let email = || Some("alice@example.com".to_owned());
    for stripped in [
        "authorization",
        "Authorization",
        "cf-aig-authorization",
        "CF_AIG_AUTHORIZATION",
        "cf.aig.authorization",
        "cookie",
        "cf-access-jwt-assertion",
        "x-user-id",
        // A client never sends the gateway's controls, templated here or not.
        "cf-aig-metadata",
        "cf-aig-authorizationx",
        "cf-aig-cache-key",
    ] {
        assert!(f.strips(&c.0, stripped, email), "{stripped}");
    }
    for kept in [
        "content-type",
        "authorizationx",
        "cf-aig",
        "x-cf-aig-cache-key",
    ] {
        assert!(!f.strips(&c.0, kept, email), "{kept}");
    }
    // The same checks of the secret's value, naming the secret.
    let refusal = f.upstream_credential(|_| None).unwrap_err();
    assert_eq!(refusal.status(), 500);
    let line = log_json(&refusal);
    assert_eq!(
        (&line["reason"], &line["config_name"], &line["upstream"]),
        (
            &serde_json::json!("upstream_secret_missing"),
            &serde_json::json!("CF_AI_GATEWAY_TOKEN"),
            &serde_json::json!("aig")
        )
    );
    // An upstream without a bearer_secret takes nothing from the default bearer header name:
    // the client's Authorization goes on only where it asks for it.
    let plain = run(&c, "https://api.example/plain/a", Some(&alice())).unwrap();
    assert!(!plain.strips(&c.0, "authorization", || None));
}

#[test]
fn an_upstream_that_asks_gets_the_identity_and_the_clients_credentials() {
    let c = config(&[]);
    let f = run(&c, "https://api.example/plain/a", Some(&alice())).unwrap();
    assert_eq!(f.target, "https://plain.example/base/plain/a");
    assert!(f.sends_identity());
    let names: Vec<&str> = f.headers_to_set().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "X-User-ID",
            "X-User-Roles",
            "X-User-Scopes",
            "X-User-Email",
            "x-team"
        ]
    );
    assert_eq!(f.upstream_credential(|_| None).unwrap(), None);
    for kept in ["authorization", "cookie", "cf-access-jwt-assertion"] {
        assert!(!f.strips(&c.0, kept, || None), "{kept}");
    }
    assert!(f.strips(&c.0, "x_team", || None));
}

#[test]
fn an_upstream_without_a_credential_gets_no_client_credentials_by_default() {
    let c = config(&[]);
    let f = run(&c, "https://api.example/bare/x", None).unwrap();
    assert_eq!(f.target, "https://bare.example/bare/x");
    for stripped in ["authorization", "cookie", "cf-access-jwt-assertion"] {
        assert!(f.strips(&c.0, stripped, || None), "{stripped}");
    }
    assert_eq!(f.headers_to_set().count(), 0);
}

#[test]
fn the_default_target_is_unchanged() {
    let c = config(&[]);
    let f = run(&c, "https://api.example/hello?q=1", Some(&alice())).unwrap();
    assert_eq!(f.target, "https://origin.example/hello?q=1");
    assert!(f.upstream.is_none() && f.sends_identity());
    assert_eq!(f.identity_headers.len(), 4);
    for kept in ["authorization", "cookie", "cf-access-jwt-assertion"] {
        assert!(!f.strips(&c.0, kept, || None), "{kept}");
    }
    assert_eq!(f.upstream_credential(|_| None).unwrap(), None);
    assert_eq!(
        log_json(&Refusal::new(Rejection::BadRequest, "x", &f.facts)).get("upstream"),
        None
    );
}

#[test]
fn a_missing_secret_is_a_500_naming_it_on_that_upstreams_routes_only() {
    let c = config(&[]);
    let f = run(&c, "https://api.example/ai/chat", Some(&alice())).unwrap();
    for value in [None, Some(String::new()), Some("two words".to_owned())] {
        let refusal = f.upstream_credential(|_| value.clone()).unwrap_err();
        assert_eq!(refusal.status(), 500);
        let line = log_json(&refusal);
        assert!(
            matches!(
                line["reason"].as_str(),
                Some("upstream_secret_missing" | "upstream_secret_unusable")
            ),
            "{line}"
        );
        assert_eq!(line["config_name"], "CF_AI_GATEWAY_TOKEN");
        assert_eq!(line["upstream"], "ai");
        assert!(!line.to_string().contains("two words"), "{line}");
    }
}

#[test]
fn an_invalid_url_override_is_a_500_naming_the_variable_on_that_upstreams_routes_only() {
    let c = config(&[("AI_GATEWAY_URL", "http://gw.example/")]);
    let refusal = run(&c, "https://api.example/ai/chat", Some(&alice())).unwrap_err();
    assert_eq!(refusal.status(), 500);
    let line = log_json(&refusal);
    assert_eq!(line["reason"], "upstream_url_invalid");
    assert_eq!(line["config_name"], "AI_GATEWAY_URL");
    assert_eq!(line["config_problem"], "url_not_https");
    // Other routes keep working.
    assert!(run(&c, "https://api.example/hello", Some(&alice())).is_ok());
    assert!(run(&c, "https://api.example/plain/x", Some(&alice())).is_ok());
    // Decisions come first: an anonymous caller gets 401, not the 500.
    assert_eq!(
        run(&c, "https://api.example/ai/chat", None)
            .unwrap_err()
            .status(),
        401
    );
    // A valid override replaces the table's URL.
    let c = config(&[("AI_GATEWAY_URL", "http://127.0.0.1:9999/fake")]);
    let f = run(&c, "https://api.example/ai/chat", Some(&alice())).unwrap();
    assert_eq!(f.target, "http://127.0.0.1:9999/fake/chat");
}

#[test]
fn an_identity_value_that_cannot_go_in_a_plain_header_refuses_the_request() {
    let c = config(&[]);
    let odd = Identity {
        sub: "al\u{ef}ce".into(),
        ..alice()
    };
    // X-User-ID would refuse it anyway; the upstream's own header is checked too.
    let refusal = run(&c, "https://api.example/plain/a", Some(&odd)).unwrap_err();
    assert_eq!(refusal.status(), 500);
    let line = log_json(&refusal);
    assert_eq!(
        (line["reason"].as_str(), line["config_name"].as_str()),
        (Some("upstream_header_unsafe"), Some("x-team"))
    );
    // The JSON template carries any e-mail.
    let f = run(
        &c,
        "https://api.example/ai/chat",
        Some(&Identity {
            email: Some("j\u{f6}rg@b\u{fc}cher.example".into()),
            ..alice()
        }),
    )
    .unwrap();
    assert_eq!(
        f.headers_to_set().next(),
        Some((
            "cf-aig-metadata",
            r#"{"user_id":"j\u00f6rg@b\u00fccher.example"}"#
        ))
    );
}

#[test]
fn the_assertion_goes_to_an_upstream_only_when_it_asks_and_states_the_path_it_receives() {
    // 64 bytes, base64url: an HS512 assertion key.
    let key =
        "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQ";
    let c = config(&[("ASSERTION_SECRET", key)]);

    // The ai upstream does not ask for identity headers: no assertion either.
    let ai = run(&c, "https://api.example/ai/chat", Some(&alice())).unwrap();
    assert!(ai.assertion.is_none());

    // The plain upstream asks: the assertion names its origin and the path it receives.
    let plain = run(&c, "https://api.example/plain/a/./b?q=1", Some(&alice())).unwrap();
    assert_eq!(plain.target, "https://plain.example/base/plain/a/b?q=1");
    let claims = plain
        .assertion
        .expect("an upstream that asks gets it")
        .claims()
        .clone();
    assert_eq!(claims.aud, "https://plain.example");
    assert_eq!(claims.path, "/base/plain/a/b?q=1");
    assert_eq!(claims.htm, "POST");
    assert_eq!(claims.sub.as_deref(), Some("alice"));
    assert_eq!(claims.rule, "plain");

    // The default target keeps it, naming ORIGIN_URL's origin.
    let default = run(&c, "https://api.example/other", Some(&alice())).unwrap();
    let claims = default
        .assertion
        .expect("the origin gets it")
        .claims()
        .clone();
    assert_eq!(claims.aud, "https://origin.example");
    assert_eq!(claims.path, "/other");
}
