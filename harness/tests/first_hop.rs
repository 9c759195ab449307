//! Refuse at the first hop: the auth Worker runs the same decision with the same compiled rule
//! table, answers what it refuses itself (the authz Worker is never called), and forwards the
//! rest, which the authz Worker decides again. One log line per request, written by the Worker
//! that finished it; the request id goes to the origin and on every refusal, and on forwarded
//! responses only with `ECHO_REQUEST_ID=true`.

use e2e::{check_all, Harness, Response};
use edge_auth::{ContextNotes, Rules};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The request's log lines once its last one is written (refusals log before they answer;
/// a forwarded request's line follows the origin's response by a moment).
fn lines_of(h: &Harness, id: &str, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = h.log_lines_of(id);
        if lines.len() >= expected || Instant::now() > deadline {
            // A little longer, so a second (unexpected) line has time to show up too.
            std::thread::sleep(Duration::from_millis(200));
            return h.log_lines_of(id);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn only_line(h: &Harness, r: &Response) -> Result<Value, String> {
    let id = h.request_id(r).ok_or("no request id")?;
    match lines_of(h, &id, 1).as_slice() {
        [line] => Ok(line.clone()),
        lines => Err(format!("{} log lines for {id}: {lines:?}", lines.len())),
    }
}

#[test]
fn what_the_auth_worker_refuses_never_reaches_the_authz_worker() {
    let h = Harness::shared();
    let user = h.token("user", &["user"]);
    let mut expired = h.idp.standard_claims("user", &["user"]);
    expired["exp"] = serde_json::json!(1_000_000_000);
    let expired = h.idp.mint(e2e::Alg::Es256, expired);
    let cases: Vec<(&str, &str, Option<String>, u16)> = vec![
        ("GET", "/admin/x", None, 401),
        ("GET", "/admin/x", Some(user.clone()), 403),
        ("GET", "/secret-data/x", Some(user.clone()), 403),
        ("GET", "/profile/someone-else", Some(user.clone()), 403),
        ("DELETE", "/profile/user", Some(user.clone()), 403),
        ("GET", "/hello", None, 401),
        ("GET", "/hello", Some(expired), 401),
        ("GET", "/admin%2Fx", Some(user), 400),
        ("TRACE", "/health", None, 405),
    ];
    check_all(&cases, |(method, target, token, status)| {
        let mut request = h.request(method, target);
        if let Some(token) = token {
            request = request.bearer(token);
        }
        let r = request.send();
        if r.status != *status {
            return Err(format!("status {} ({})", r.status, r.text()));
        }
        if !h.seen(&r).is_empty() {
            return Err("the origin saw it".into());
        }
        let line = only_line(h, &r)?;
        if line["worker"] != "auth" || line["status"] != *status {
            return Err(format!(
                "the request's one line is not the auth Worker's: {line}"
            ));
        }
        Ok(())
    });
}

#[test]
fn an_allowed_request_is_decided_by_both_and_logged_once_by_the_authz_worker() {
    let h = Harness::shared();
    let token = h.token("user", &["user"]);
    let r = h.get("/profile/user").bearer(&token).send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    let id = seen
        .header("x-request-id")
        .expect("the origin gets the request id")
        .to_owned();
    // Not echoed by default (ECHO_REQUEST_ID=false): the response is the origin's as it came.
    assert_eq!(r.header("x-request-id"), None);
    let line = only_line(h, &r).unwrap();
    assert_eq!(line["worker"], "authz", "{line}");
    assert_eq!(line["request_id"], id.as_str());
    // The auth Worker decided too (its rule comes in the context) and with the same table.
    assert_eq!(line["first_hop_rule"], line["rule"]["index"], "{line}");
    assert!(line.get("rules_mismatch").is_none(), "{line}");
    // Its facts about the token are in the same line.
    assert_eq!(line["alg"], "ES256");
    assert!(line["kid"].is_string(), "{line}");
    assert_eq!(line["sub"], "user");

    // A public route without a token: forwarded, one authz line.
    let r = h.get("/health").send();
    h.assert_status(&r, 200);
    assert_eq!(only_line(h, &r).unwrap()["worker"], "authz");
}

#[test]
fn the_request_id_is_echoed_on_forwarded_responses_only_when_asked() {
    let h = Harness::start_with(|c, _| c.auth_var("ECHO_REQUEST_ID", "true"));
    let r = h.get("/hello").bearer(&h.token("user", &["user"])).send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(r.header("x-request-id"), seen.header("x-request-id"));
    assert!(r.header("x-request-id").is_some());
}

const AUTHZ_SECRET: &str = "0123456789abcdef0123456789abcdef-first-hop";

/// A context for `GET target` as the auth Worker signs it, with `rules` as its table digest.
fn context_with_rules(target: &str, id: &str, rules: Option<&str>) -> String {
    let notes = ContextNotes {
        rules: rules.map(str::to_owned),
        ..ContextNotes::default()
    };
    let identity = e2e::context::identity("user", &["user"]);
    e2e::context::signed(
        AUTHZ_SECRET,
        &identity,
        ("GET", target, id),
        &notes,
        e2e::context::now(),
    )
}

#[test]
fn a_context_from_another_rule_table_is_logged_and_decided_by_the_authz_worker() {
    let h = Harness::start_with(|c, _| c.authz_only().authz_var("CONTEXT_SECRET", AUTHZ_SECRET));
    let rules_toml = e2e::stack::workspace_root().join("workers/authz/rules.toml");
    let ours = Rules::compile(&std::fs::read_to_string(rules_toml).unwrap()).unwrap();
    let cases = [
        ("/hello", Some(ours.digest()), 200, false),
        ("/hello", Some("0123456789abcdef01234567"), 200, true),
        ("/hello", None, 200, true),
        // Its own table decides: the other table's verdict counts for nothing.
        ("/admin/x", Some("0123456789abcdef01234567"), 403, true),
    ];
    check_all(&cases, |&(target, rules, status, mismatch)| {
        let id = e2e::context::request_id();
        let r = h
            .get(target)
            .header("X-Request-Id", &id)
            .header("X-Auth-Context", &context_with_rules(target, &id, rules))
            .send();
        if r.status != status {
            return Err(format!("status {} ({})", r.status, r.text()));
        }
        let lines = lines_of(&h, &id, 1);
        let [line] = lines.as_slice() else {
            return Err(format!("log lines: {lines:?}"));
        };
        if line["rules_mismatch"].as_bool().unwrap_or(false) != mismatch {
            return Err(format!("rules_mismatch should be {mismatch}: {line}"));
        }
        Ok(())
    });
}
