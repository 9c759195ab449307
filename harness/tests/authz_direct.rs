//! The authz Worker reached directly — as if it had been given a public route by mistake.
//! Identity must come only from a context signed with `CONTEXT_SECRET` in the last 60 s for
//! this very request: forged headers, forged or stale contexts, and genuine contexts replayed
//! on another request get nothing.

use e2e::context::{identity, now, request_id};
use e2e::{Harness, Response};
use edge_auth::Identity;

const SECRET: &str = "0123456789abcdef0123456789abcdef-authz-direct";

/// A context for `method target` with `request_id`, signed as the auth Worker would have.
fn context_for(secret: &str, id: &Identity, request: (&str, &str, &str), signed_at: i64) -> String {
    e2e::context::signed(secret, id, request, &Default::default(), signed_at)
}

/// The reason code of the authz Worker's log line for `request_id`, waiting a little for the
/// output to be written; empty if it never is.
fn authz_reason(h: &Harness, request_id: &str) -> String {
    h.log_line_of("authz", request_id)
        .and_then(|line| line["reason"].as_str().map(str::to_owned))
        .unwrap_or_default()
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

    // A context that is not one, a v1 context, one signed with another secret, a stale one,
    // one from the future: each otherwise made for this very request.
    let other_secret = "another-secret-that-is-long-enough-0123456789";
    let for_this =
        |secret: &str, id: &str, at: i64| context_for(secret, &admin, ("GET", "/admin/x", id), at);
    type Forge<'a> = &'a dyn Fn(&str) -> String;
    let cases: [(&str, Forge, &str); 5] = [
        (
            "garbage",
            &|_| "v2.eyJzdWIiOiJhZG1pbiJ9.AAAA".to_string(),
            "context_malformed",
        ),
        (
            "v1",
            &|_| format!("v1.eyJzdWIiOiJhZG1pbiJ9.{}", "A".repeat(43)),
            "context_unsupported_version",
        ),
        (
            "wrong secret",
            &|id| for_this(other_secret, id, now()),
            "context_bad_signature",
        ),
        (
            "stale",
            &|id| for_this(SECRET, id, now() - 120),
            "context_stale",
        ),
        (
            "from the future",
            &|id| for_this(SECRET, id, now() + 120),
            "context_from_future",
        ),
    ];
    for (what, forge, reason) in cases {
        let id = request_id();
        let r = h
            .get("/admin/x")
            .header("x-request-id", &id)
            .header("X-Auth-Context", &forge(&id))
            .send();
        assert_unauthorized(&h, &r);
        assert_eq!(authz_reason(&h, &id), reason, "{what}\n{}", h.log_tail());
    }

    // The genuine article: admin reaches the origin, with identity from the context only.
    let id = request_id();
    let r = h
        .get("/admin/x")
        .header("x-request-id", &id)
        .header(
            "x-auth-context",
            &context_for(SECRET, &admin, ("GET", "/admin/x", &id), now()),
        )
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
    let id = request_id();
    let r = h
        .get("/admin/x")
        .header("x-request-id", &id)
        .header(
            "X-Auth-Context",
            &context_for(SECRET, &user, ("GET", "/admin/x", &id), now()),
        )
        .send();
    h.assert_status(&r, 403);
    h.assert_not_forwarded(&r);
}

/// A genuine, fresh admin context captured from one request is worth nothing on any other: not
/// on another path, method or query, nor under another request id — although the admin may do
/// every one of those requests with a context of its own.
#[test]
fn a_context_replayed_on_another_request_is_refused() {
    let h = Harness::start_with(|c, _| c.authz_only().authz_var("CONTEXT_SECRET", SECRET));
    let admin = identity("admin", &["admin"]);
    let captured_id = request_id();
    let captured = context_for(SECRET, &admin, ("GET", "/hello", &captured_id), now());

    // (what, method, target, request id header)
    let other_id = request_id();
    let replays: [(&str, &str, &str, Option<&str>); 8] = [
        ("another path", "GET", "/admin/x", Some(&captured_id)),
        ("a path below", "GET", "/hello/x", Some(&captured_id)),
        ("another method", "DELETE", "/hello", Some(&captured_id)),
        ("HEAD for GET", "HEAD", "/hello", Some(&captured_id)),
        (
            "a query added",
            "GET",
            "/hello?as=admin",
            Some(&captured_id),
        ),
        ("an empty query", "GET", "/hello?", Some(&captured_id)),
        ("another request id", "GET", "/hello", Some(&other_id)),
        ("no request id", "GET", "/hello", None),
    ];
    for (what, method, target, id) in replays {
        let mut req = h
            .request(method, target)
            .header("X-Auth-Context", &captured);
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        let r = req.send();
        assert_eq!(r.status, 401, "{what}: {}\n{}", r.text(), h.log_tail());
        if method != "HEAD" {
            assert_eq!(r.json()["error"], "unauthorized", "{what}: {}", r.text());
        }
        h.assert_not_forwarded(&r);
        if let Some(id) = id.filter(|id| *id != captured_id) {
            assert_eq!(authz_reason(&h, id), "context_mismatch", "{what}");
        }
    }
    // The replays that reused the captured id each wrote a context_mismatch line under it.
    let log = h.stack.log();
    let mismatches = log
        .lines()
        .filter(|l| {
            l.contains("\"worker\":\"authz\"")
                && l.contains(&format!("\"request_id\":\"{captured_id}\""))
                && l.contains("\"reason\":\"context_mismatch\"")
        })
        .count();
    assert_eq!(mismatches, 6, "{}", h.log_tail());

    // The request it was signed for goes through (and may be replayed only as itself, within
    // the freshness window), and so does each of the others with a context of its own.
    let r = h
        .get("/hello")
        .header("x-request-id", &captured_id)
        .header("X-Auth-Context", &captured)
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/hello")
    );
    assert_eq!(seen.header("x-user-id"), Some("admin"));
    for (method, target) in [
        ("GET", "/admin/x"),
        ("DELETE", "/hello"),
        ("GET", "/hello?as=admin"),
    ] {
        let id = request_id();
        let r = h
            .request(method, target)
            .header("x-request-id", &id)
            .header(
                "X-Auth-Context",
                &context_for(SECRET, &admin, (method, target, &id), now()),
            )
            .send();
        h.assert_status(&r, 200);
        assert_eq!(h.seen_once(&r).header("x-user-id"), Some("admin"));
    }
}
