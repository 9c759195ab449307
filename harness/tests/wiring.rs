//! The foundation: a verified caller reaches the origin once, with its identity and the request
//! intact; everything else stops at the edge.

use e2e::Harness;
use serde_json::{json, Value};

fn json_header(value: Option<&str>) -> Value {
    value
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(Value::Null)
}

#[test]
fn a_valid_token_reaches_the_origin_once_with_identity_and_query() {
    let h = Harness::shared();
    let token = h.token("user", &["user"]);
    let r = h.get("/hello?x=1").bearer(&token).send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/hello");
    assert_eq!(seen.query.as_deref(), Some("x=1"));
    assert_eq!(seen.header_all("x-user-id"), ["user"]);
    assert_eq!(json_header(seen.header("x-user-roles")), json!(["user"]));
    // The origin's answer comes back to the client unchanged.
    assert_eq!(r.json()["path"], "/hello");
}

#[test]
fn the_body_of_a_post_is_forwarded() {
    let h = Harness::shared();
    let token = h.token("user", &["user"]);
    let body = r#"{"note":"hello origin","n":[1,2,3]}"#;
    let r = h
        .request("POST", "/hello")
        .bearer(&token)
        .header("Content-Type", "application/json")
        .body(body)
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body, body.as_bytes());
    assert_eq!(seen.header("content-type"), Some("application/json"));
}

#[test]
fn no_token_on_a_protected_route_is_401_and_never_reaches_the_origin() {
    let h = Harness::shared();
    let r = h.get("/hello").send();
    h.assert_status(&r, 401);
    let challenge = r.header("www-authenticate").unwrap_or("");
    assert!(
        challenge.starts_with("Bearer realm="),
        "WWW-Authenticate: {challenge:?}"
    );
    assert!(!challenge.contains("error="), "{challenge:?}");
    assert_eq!(r.json()["error"], "unauthorized");
    h.assert_not_forwarded(&r);
}

#[test]
fn health_is_public() {
    let h = Harness::shared();
    let r = h.get("/health").send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.path, "/health");
    assert_eq!(seen.header("x-user-id"), None);
}

#[test]
fn a_user_on_an_admin_route_is_403_and_never_reaches_the_origin() {
    let h = Harness::shared();
    let r = h.get("/admin/x").bearer(&h.token("user", &["user"])).send();
    h.assert_status(&r, 403);
    assert_eq!(r.json()["error"], "forbidden");
    h.assert_not_forwarded(&r);

    let r = h
        .get("/admin/x")
        .bearer(&h.token("admin", &["admin"]))
        .send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header_all("x-user-id"), ["admin"]);
}

#[test]
fn a_client_sent_identity_never_reaches_the_origin() {
    let h = Harness::shared();
    // Without a token: refused on a protected route…
    let r = h.get("/hello").header("X-User-ID", "admin").send();
    h.assert_status(&r, 401);
    h.assert_not_forwarded(&r);
    // …and stripped on a public one.
    let r = h
        .get("/health")
        .header("X-User-ID", "admin")
        .header("X-User-Roles", r#"["admin"]"#)
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.header("x-user-id"), None);
    assert_eq!(seen.header("x-user-roles"), None);
    // With a token, only the token's identity arrives.
    let r = h
        .get("/hello")
        .bearer(&h.token("user", &["user"]))
        .header("X-User-ID", "admin")
        .send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header_all("x-user-id"), ["user"]);
}
