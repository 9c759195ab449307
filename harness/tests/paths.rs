//! Path and method confusion, sent byte for byte with the raw client (a normalizing client would
//! hide these): what the rules decide on is what the origin receives, and nothing ambiguous
//! gets through.

use e2e::context::request_id;
use e2e::{check_all, Harness, Response};
use std::sync::OnceLock;

fn user(h: &Harness) -> String {
    h.token("user", &["user"])
}

fn send(h: &Harness, method: &str, target: &str, token: Option<&str>) -> Response {
    let mut request = h.request(method, target);
    if let Some(token) = token {
        request = request.bearer(token);
    }
    request.send()
}

#[test]
fn encoded_doubled_cased_and_dotted_admin_paths_are_403() {
    let h = Harness::shared();
    let token = user(h);
    let targets = [
        "/admin/x",
        "/%61dmin/x",
        "//admin/x",
        "/ADMIN/x",
        "/Admin/x",
        "/x/../admin/x",
        "/x/%2e%2e/admin/x",
        "/x/%2E%2E/admin/x",
        "/./admin/x",
        "/admin/./x",
        "/admin/",
        "/admin",
    ];
    check_all(&targets, |&target| {
        let r = send(h, "GET", target, Some(&token));
        if r.status != 403 {
            return Err(format!("status {}: {}", r.status, r.text()));
        }
        match h.seen(&r).len() {
            0 => Ok(()),
            n => Err(format!("the origin was reached {n} times")),
        }
    });
}

#[test]
fn ambiguous_paths_are_refused_and_never_forwarded() {
    let h = Harness::shared();
    let user = user(h);
    let admin = h.token("admin", &["admin"]);
    let targets = [
        "/admin%2fx",
        "/admin%2Fx",
        "/admin%252fx",
        "/admin;x/y",
        "/..;/admin",
        "/admin\\x",
        "/admin%5cx",
        "/%c0%ae%c0%ae/admin",
        "/hello%00",
        "/hello/%c0%af",
    ];
    // For the ambiguous forms even an admin gets nothing through: the origin could read such a
    // path differently from the rules. (400; 403 where the runtime already rewrote the path.)
    let cases: Vec<(&str, &str)> = targets
        .iter()
        .flat_map(|&t| [(t, "user"), (t, "admin")])
        .collect();
    check_all(&cases, |&(target, who)| {
        let token = if who == "admin" { &admin } else { &user };
        let r = send(h, "GET", target, Some(token));
        let seen = h.seen(&r);
        if (200..300).contains(&r.status) || !seen.is_empty() {
            // An admin may only pass if the runtime turned it into an unambiguous path.
            let rewritten = seen
                .iter()
                .all(|s| !s.path.contains(['%', ';', '\\']) && s.path.starts_with("/admin"));
            if who == "admin" && seen.len() == 1 && rewritten {
                return Ok(());
            }
            return Err(format!("status {}, origin saw {:?}", r.status, seen));
        }
        if r.status == 400 && r.json()["error"] != "bad_request" {
            return Err(format!("400 with body {}", r.text()));
        }
        Ok(())
    });
}

#[test]
fn the_origin_receives_exactly_the_normalized_path() {
    let h = Harness::shared();
    let token = user(h);
    let cases = [
        ("/hello//world/./x", "/hello/world/x"),
        ("/hello/a/../b", "/hello/b"),
        ("/%68ello", "/hello"),
    ];
    check_all(&cases, |&(target, expected)| {
        let r = send(h, "GET", target, Some(&token));
        let seen = h.seen(&r);
        match seen.as_slice() {
            [s] if r.status == 200 && s.path == expected => Ok(()),
            _ => Err(format!("status {}, origin saw {:?}", r.status, seen)),
        }
    });
}

#[test]
fn a_public_path_in_the_query_does_not_make_a_route_public() {
    let h = Harness::shared();
    for target in ["/hello?y=/health", "/hello?/health", "/admin?x=/health"] {
        let r = send(h, "GET", target, None);
        h.assert_status(&r, 401);
        h.assert_not_forwarded(&r);
    }
}

#[test]
fn a_fragment_never_reaches_the_origin() {
    let h = Harness::shared();
    let r = send(h, "GET", "/admin#x", Some(&user(h)));
    h.assert_status(&r, 403);
    h.assert_not_forwarded(&r);

    let admin = h.token("admin", &["admin"]);
    let r = send(h, "GET", "/admin/y?q=1#frag", Some(&admin));
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.path, "/admin/y");
    assert_eq!(seen.query.as_deref(), Some("q=1"));
}

#[test]
fn method_and_url_override_headers_are_stripped() {
    let h = Harness::shared();
    let overrides = [
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "DELETE"),
        ("X-Method-Override", "DELETE"),
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
        ("X-Original-URI", "/admin"),
        ("X-Original-Method", "DELETE"),
        ("X-Forwarded-URI", "/admin"),
        ("X-Forwarded-Path", "/admin"),
        ("X-Forwarded-Prefix", "/admin"),
        ("X-Envoy-Original-Path", "/admin"),
        // Look-alikes a CGI-style origin reads as the names above.
        ("X_HTTP_Method_Override", "DELETE"),
        ("X_Original_URL", "/admin"),
        ("x_original_uri", "/admin"),
        ("X_Forwarded_Prefix", "/admin"),
        ("x-envoy_original_path", "/admin"),
    ];
    let mut request = h.get("/hello").bearer(&user(h));
    for (name, value) in overrides {
        request = request.header(name, value);
    }
    let r = request.send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/hello")
    );
    for (name, _) in overrides {
        assert_eq!(seen.header(name), None, "{name} reached the origin");
    }
    // Under no other name either.
    for (name, value) in &seen.headers {
        assert!(
            !["DELETE", "/admin"].contains(&value.as_str()),
            "{name}: {value} reached the origin"
        );
    }
}

#[test]
fn methods_are_matched_as_sent() {
    let h = Harness::shared();
    let user = user(h);
    // /health is public for GET and HEAD only.
    let r = send(h, "HEAD", "/health", None);
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).method, "HEAD");
    for method in ["POST", "OPTIONS", "DELETE"] {
        let r = send(h, method, "/health", None);
        assert_eq!(r.status, 401, "{method} /health: {}", r.text());
        h.assert_not_forwarded(&r);
    }
    // PUT /profile/{id} is owner-or-admin; other methods on someone else's profile must not
    // slip through to a catch-all rule.
    for method in ["PUT", "GET", "HEAD", "OPTIONS", "DELETE", "PATCH"] {
        let r = send(h, method, "/profile/admin", Some(&user));
        assert!(
            !(200..300).contains(&r.status),
            "{method} /profile/admin as user: {}",
            r.status
        );
        h.assert_not_forwarded(&r);
    }
    let r = h
        .request("PUT", "/profile/user")
        .bearer(&user)
        .body("{}")
        .send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).method, "PUT");
}

/// The authz Worker alone as the entry (see `authz_direct.rs`), shared by the tests below that
/// check it applies the same refusals itself. Identity comes from a context signed with
/// [`AUTHZ_SECRET`].
fn authz_only() -> &'static Harness {
    static AUTHZ_ONLY: OnceLock<Harness> = OnceLock::new();
    AUTHZ_ONLY.get_or_init(|| {
        Harness::start_with(|c, _| c.authz_only().authz_var("CONTEXT_SECRET", AUTHZ_SECRET))
    })
}

const AUTHZ_SECRET: &str = "0123456789abcdef0123456789abcdef-paths";

/// A context signed as the auth Worker would have, bound to `method target` and `request_id`
/// exactly as the authz Worker receives them (send it with that `x-request-id`).
fn signed_context(
    sub: &str,
    roles: &[&str],
    (method, target): (&str, &str),
    request_id: &str,
) -> String {
    let identity = e2e::context::identity(sub, roles);
    let request = (method, target, request_id);
    e2e::context::signed(
        AUTHZ_SECRET,
        &identity,
        request,
        &Default::default(),
        e2e::context::now(),
    )
}

/// Whether the local runtime refused the request before any Worker ran. Observed with workerd
/// (`wrangler dev`): its HTTP parser answers 501 "Unrecognized request method" to every method
/// not spelled the way it knows them (`patch`, `Trace`, TRACK); upper-case TRACE reaches the
/// Workers. Production's front line may differ, so the Workers refuse and normalize these
/// themselves; here they must at least never reach the origin.
fn refused_by_the_runtime(r: &Response) -> bool {
    r.status == 501 && r.text().contains("Unrecognized request method")
}

/// `Ok` if `r` is the Workers' 405 refusal of a method the edge never forwards (or, where
/// `runtime_may_refuse`, the runtime's own 501) and nothing reached the origin.
fn check_never_forwarded(
    h: &Harness,
    r: &Response,
    runtime_may_refuse: bool,
) -> Result<(), String> {
    let seen = h.seen(r);
    if !seen.is_empty() {
        return Err(format!("status {}, the origin saw {seen:?}", r.status));
    }
    if runtime_may_refuse && refused_by_the_runtime(r) {
        return Ok(());
    }
    let problems = [
        (r.status != 405, format!("status {}", r.status)),
        (
            r.json()["error"] != "bad_request",
            format!("body {:?}", r.text()),
        ),
        (r.header("allow").is_some(), "an Allow header".to_string()),
    ];
    let wrong: Vec<String> = problems
        .into_iter()
        .filter_map(|(bad, what)| bad.then_some(what))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// Methods refused in any letter case; only TRACE is also expected to reach the Workers locally.
const NEVER_FORWARDED: [&str; 6] = ["TRACE", "trace", "Trace", "TRACK", "track", "tRaCk"];

#[test]
fn trace_and_track_are_405_before_any_token_is_verified() {
    let h = Harness::shared();
    let user = user(h);
    // /hello is reached by the catch-all rule, which names no methods: the table alone would
    // admit TRACE there. A garbage token would be a 401 if it were looked at.
    let cases: Vec<(&str, &str, Option<&str>)> = NEVER_FORWARDED
        .iter()
        .flat_map(|&m| {
            [
                (m, "/hello", Some(user.as_str())),
                (m, "/hello", None),
                (m, "/hello", Some("not.a.token")),
                (m, "/health", None),
            ]
        })
        .collect();
    check_all(&cases, |&(method, target, token)| {
        check_never_forwarded(h, &send(h, method, target, token), method != "TRACE")
    });
}

#[test]
fn the_authz_worker_refuses_trace_and_track_itself() {
    let h = authz_only();
    check_all(&NEVER_FORWARDED, |&method| {
        let id = request_id();
        let context = signed_context("admin", &["admin"], (method, "/admin/x"), &id);
        let r = h
            .request(method, "/admin/x")
            .header("X-Request-Id", &id)
            .header("X-Auth-Context", &context)
            .send();
        check_never_forwarded(h, &r, method != "TRACE")
    });
}

/// `Ok` if the origin saw the request once, 200, with exactly `expected` as its method, or
/// (where the runtime does not pass the spelling on) the runtime refused it and the origin saw
/// nothing. Never a lower-case method at the origin.
fn check_forwarded_upper_case(h: &Harness, r: &Response, expected: &str) -> Result<(), String> {
    match h.seen(r).as_slice() {
        [s] if r.status == 200 && s.method == expected => Ok(()),
        [] if refused_by_the_runtime(r) => Ok(()),
        seen => Err(format!("status {}, origin saw {seen:?}", r.status)),
    }
}

#[test]
fn standard_methods_in_any_case_reach_the_origin_upper_case() {
    let h = Harness::shared();
    let user = user(h);
    // "patch" is not upper-cased by fetch (which normalizes only DELETE GET HEAD OPTIONS POST
    // PUT): the Workers do it, or an origin folding case would run a PATCH no PATCH rule
    // admitted. "get" must meet the GET rule of /profile/{id}.
    let cases = [
        ("PATCH", "/hello", "PATCH"),
        ("patch", "/hello", "PATCH"),
        ("pAtCh", "/hello", "PATCH"),
        ("get", "/profile/user", "GET"),
        ("put", "/profile/user", "PUT"),
    ];
    check_all(&cases, |&(method, target, expected)| {
        check_forwarded_upper_case(h, &send(h, method, target, Some(&user)), expected)
    });
    // A case variant cannot dodge the owner check either.
    let r = send(h, "pUt", "/profile/admin", Some(&user));
    assert!(matches!(r.status, 403 | 501), "{}: {}", r.status, r.text());
    h.assert_not_forwarded(&r);
}

#[test]
fn the_authz_worker_forwards_the_normalized_method_itself() {
    let h = authz_only();
    check_all(&["PATCH", "patch", "pAtCh"], |&method| {
        let id = request_id();
        let context = signed_context("user", &["user"], (method, "/hello"), &id);
        let r = h
            .request(method, "/hello")
            .header("X-Request-Id", &id)
            .header("X-Auth-Context", &context)
            .send();
        check_forwarded_upper_case(h, &r, "PATCH")
    });
}

/// Paths whose segments hold a character that Unicode case folding or NFKC turns into ASCII.
/// Each would fall through to the catch-all (or a laxer rule) today, while an origin comparing
/// with Unicode rules could serve it as the ASCII path.
const LOOKALIKES: [&str; 10] = [
    "/adm%C4%B1n/x",          // ı (dotless i): Java, Go upper-case it to I
    "/ADM%C4%B0N/x",          // İ (dotted capital I): lower-case i + U+0307
    "/%C5%BFecret-data/x",    // ſ (long s): upper-case S
    "/%E2%84%AAey",           // KELVIN SIGN: lower-case k
    "/profile/%E2%84%AA",     // in a parameter segment too
    "/%EF%BD%81dmin/x",       // fullwidth a: NFKC a
    "/admin/%EF%AC%81le",     // ﬁ ligature: NFKC fi
    "/%F0%9D%90%9Admin/x",    // MATHEMATICAL BOLD SMALL A: NFKC a
    "/hello/caf%C3%A9%C5%BF", // a harmless é does not hide the ſ after it
    "/%E2%80%A5/admin",       // TWO DOT LEADER: NFKC ".."
];

fn check_lookalike_refused(h: &Harness, r: &Response) -> Result<(), String> {
    let seen = h.seen(r);
    if r.status == 400 && r.json()["error"] == "bad_request" && seen.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "status {} {}, origin saw {seen:?}",
            r.status,
            r.text()
        ))
    }
}

#[test]
fn ascii_lookalike_paths_are_400_and_never_forwarded() {
    let h = Harness::shared();
    let user = user(h);
    let admin = h.token("admin", &["admin"]);
    let mut cases: Vec<(&str, &str, Option<&str>)> = LOOKALIKES
        .iter()
        .flat_map(|&t| [("GET", t, Some(user.as_str())), ("GET", t, None)])
        .collect();
    cases.extend([
        // The owner check of /profile/{id} must not be dodged for another user's profile.
        ("PUT", "/prof%C4%B1le/alice", Some(user.as_str())),
        ("PUT", "/prof%C4%B1le/alice", Some(admin.as_str())),
        // Refused before the token is looked at (a garbage token would be a 401).
        ("GET", "/adm%C4%B1n/x", Some("not.a.token")),
    ]);
    check_all(&cases, |&(method, target, token)| {
        check_lookalike_refused(h, &send(h, method, target, token))
    });
}

#[test]
fn the_authz_worker_refuses_ascii_lookalikes_itself() {
    let h = authz_only();
    check_all(&LOOKALIKES, |&target| {
        let id = request_id();
        let context = signed_context("user", &["user"], ("GET", target), &id);
        let r = h
            .request("GET", target)
            .header("X-Request-Id", &id)
            .header("X-Auth-Context", &context)
            .send();
        check_lookalike_refused(h, &r)
    });
}

#[test]
fn ordinary_non_ascii_segments_still_work() {
    let h = Harness::shared();
    let user = user(h);
    // é (composed, or "e" + combining acute), Cyrillic, CJK: no mapping makes them ASCII.
    let cases = [
        "/hello/caf%C3%A9",
        "/hello/cafe%CC%81",
        "/hello/%D0%B0%D0%B1%D0%B2",
        "/hello/%E4%B8%AD%E6%96%87",
    ];
    check_all(&cases, |&target| {
        let r = send(h, "GET", target, Some(&user));
        match h.seen(&r).as_slice() {
            [s] if r.status == 200 && s.path == target => Ok(()),
            seen => Err(format!("status {}, origin saw {seen:?}", r.status)),
        }
    });
}
