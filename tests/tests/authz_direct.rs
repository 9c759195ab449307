//! The authz Worker reached directly — as if it had been given a public route by mistake.
//! Identity must come only from a context signed with `CONTEXT_SECRET` in the last 60 s:
//! forged headers, forged or stale contexts get nothing.

use e2e::{Harness, Response};
use handoff::{sign_context, ContextKey, Identity};

const SECRET: &str = "0123456789abcdef0123456789abcdef-authz-direct";

fn identity(sub: &str, roles: &[&str]) -> Identity {
    Identity {
        sub: sub.into(),
        roles: roles.iter().map(|r| (*r).to_string()).collect(),
        scopes: Vec::new(),
        email: None,
        exp: now() + 600,
        issuer: "https://idp.test".into(),
    }
}

fn now() -> i64 {
    i64::try_from(e2e::idp::now()).unwrap()
}

fn context(secret: &str, id: &Identity, signed_at: i64) -> String {
    sign_context(id, &ContextKey::new(secret).unwrap(), signed_at)
}

fn assert_unauthorized(h: &Harness, r: &Response) {
    h.assert_status(r, 401);
    assert_eq!(r.json()["error"], "unauthorized", "{}", r.text());
    h.assert_not_forwarded(r);
}

#[test]
fn only_a_fresh_context_signed_with_the_secret_carries_identity() {
    let h = Harness::start_with(|c, _| c.authz_only().authz_var("CONTEXT_SECRET", SECRET));
    let admin = identity("admin", &["admin"]);

    // Forged identity headers and no context: anonymous, so the admin area is 401.
    let r = h
        .get("/admin/x")
        .header("X-User-ID", "admin")
        .header("X-User-Roles", "[\"admin\"]")
        .send();
    assert_unauthorized(&h, &r);

    // A context that is not one, one signed with another secret, and a stale one.
    let other_secret = "another-secret-that-is-long-enough-0123456789";
    for (what, forged) in [
        ("garbage", "v1.eyJzdWIiOiJhZG1pbiJ9.AAAA".to_string()),
        ("wrong secret", context(other_secret, &admin, now())),
        ("stale", context(SECRET, &admin, now() - 120)),
        ("from the future", context(SECRET, &admin, now() + 120)),
    ] {
        let r = h.get("/admin/x").header("X-Auth-Context", &forged).send();
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        h.assert_not_forwarded(&r);
    }

    // The genuine article: admin reaches the origin, with identity from the context only.
    let r = h
        .get("/admin/x")
        .header("x-auth-context", &context(SECRET, &admin, now()))
        .header("X-User-Email", "forged@example.com")
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.header("x-user-id"), Some("admin"));
    assert_eq!(seen.header("x-user-roles"), Some("[\"admin\"]"));
    assert_eq!(
        seen.header("x-user-email"),
        None,
        "client-sent identity is dropped"
    );
    assert_eq!(
        seen.header("x-auth-context"),
        None,
        "the context stops here"
    );

    // A genuine context for a plain user still meets the rule table: 403.
    let user = identity("user", &["user"]);
    let r = h
        .get("/admin/x")
        .header("X-Auth-Context", &context(SECRET, &user, now()))
        .send();
    h.assert_status(&r, 403);
    h.assert_not_forwarded(&r);
}
