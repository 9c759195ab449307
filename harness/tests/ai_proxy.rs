//! The AI proxy end to end: Cloudflare Access authenticates the user, the rule for `/ai/**`
//! sends the request to the `ai` upstream (a local fake AI gateway) with the gateway's own
//! bearer secret and the user's e-mail in `cf-aig-metadata`, none of the user's credentials or
//! identity headers, and bodies stream through both ways.

use e2e::{Alg, FakeGateway, Harness, Seen};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const GATEWAY_TOKEN: &str = "gw-secret-7d1f0c9a2b4e";

struct Proxy {
    gateway: FakeGateway,
    h: Harness,
}

/// One stack for this binary: Access mode, `[upstream.ai]` pointed at the fake gateway.
fn proxy() -> &'static Proxy {
    static PROXY: OnceLock<Proxy> = OnceLock::new();
    PROXY.get_or_init(|| {
        let gateway = FakeGateway::start(GATEWAY_TOKEN).expect("the fake gateway starts");
        let h =
            Harness::start_with(|c, idp| c.access(idp).ai_gateway(&gateway, Some(GATEWAY_TOKEN)));
        Proxy { gateway, h }
    })
}

/// An Access token (RS256, as Access signs) for `sub` with an e-mail.
fn access_token(h: &Harness, sub: &str, email: &str) -> String {
    let mut claims = h.idp.standard_claims(sub, &["user"]);
    claims["email"] = json!(email);
    h.idp.mint(Alg::Rs256, claims)
}

fn seen_once(p: &Proxy, trace: &str) -> Seen {
    let seen = p.gateway.traced(trace);
    assert_eq!(
        seen.len(),
        1,
        "the gateway saw {} requests\n{}",
        seen.len(),
        p.h.log_tail()
    );
    seen.into_iter().next().unwrap_or_else(|| unreachable!())
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_gateway_gets_its_secret_and_the_users_email_and_none_of_the_users_credentials() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let r = h
        .request("POST", "/ai/chat/completions?trace=1")
        .header("Cf-Access-Jwt-Assertion", &token)
        .header("Cookie", &format!("theme=dark; CF_Authorization={token}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("X-User-ID", "forged")
        .header("cf-aig-metadata", r#"{"user_id":"forged@example.com"}"#)
        // The gateway's own controls: a client's cache key would read another user's answer.
        .header("cf-aig-cache-key", "forged-victim-key")
        .header("CF_AIG_SKIP_CACHE", "true")
        .header("cf-aig-custom-cost", r#"{"total_cost":0}"#)
        .header("cf-aig-authorization", "Bearer forged")
        .header("Content-Type", "application/json")
        .body(&body[..])
        .send();
    h.assert_status(&r, 200);
    let seen = seen_once(p, r.trace.as_deref().unwrap_or_default());
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.path, "/chat/completions",
        "strip_prefix under the gateway's URL"
    );
    assert_eq!(seen.query.as_deref(), Some("trace=1"));
    assert_eq!(seen.body, body);
    assert_eq!(
        seen.header_all("authorization"),
        [format!("Bearer {GATEWAY_TOKEN}")]
    );
    let metadata = seen.header_all("cf-aig-metadata");
    assert_eq!(metadata.len(), 1, "{metadata:?}");
    let metadata: Value = serde_json::from_str(metadata[0]).expect("cf-aig-metadata is JSON");
    assert_eq!(metadata, json!({"user_id": "alice@example.com"}));
    // Nothing of the user's credentials, nor any identity header (the upstream did not ask).
    for (name, value) in &seen.headers {
        assert!(
            !value.contains(&token),
            "the user's token reached the gateway as {name}"
        );
        assert!(!value.contains("forged"), "{name}: {value}");
    }
    for absent in [
        "cf-access-jwt-assertion",
        "cookie",
        "x-user-id",
        "x-user-roles",
        "x-user-scopes",
        "x-user-email",
        "x-auth-context",
        "x-edge-auth-assertion",
        "cf-access-authenticated-user-email",
        "cf-aig-cache-key",
        "cf-aig-skip-cache",
        "cf-aig-custom-cost",
        "cf-aig-authorization",
    ] {
        assert_eq!(seen.header(absent), None, "{absent} reached the gateway");
    }
    // However spelled (the harness's own server keeps names as sent, lower-cased).
    for (name, _) in &seen.headers {
        let folded = name.to_ascii_lowercase().replace('_', "-");
        assert!(
            !folded.starts_with("cf-aig-") || folded == "cf-aig-metadata",
            "the client's {name} reached the gateway"
        );
    }
    assert_eq!(seen.header("content-type"), Some("application/json"));
    // The response is the gateway's; it says the token matched (without echoing it).
    assert_eq!(r.json()["authorized"], true);
    // The request's one log line names the upstream.
    // Found by the request id the gateway received (the response does not carry it).
    let request_id = seen.header("x-request-id").expect("the request id goes on");
    let line = h
        .log_line_of("authz", request_id)
        .expect("the authz Worker's log line");
    assert_eq!(
        (line["upstream"].as_str(), line["status"].as_u64()),
        (Some("ai"), Some(200))
    );
    assert_eq!(
        h.origin
            .traced(r.trace.as_deref().unwrap_or_default())
            .len(),
        0
    );
}

#[test]
fn other_routes_still_go_to_the_origin_with_the_identity() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    let r = h
        .get("/hello")
        .header("Cf-Access-Jwt-Assertion", &token)
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.header_all("x-user-id"), ["alice"]);
    assert_eq!(seen.header("x-user-email"), Some("alice@example.com"));
    assert_eq!(seen.header("cf-aig-metadata"), None);
    assert!(p
        .gateway
        .traced(r.trace.as_deref().unwrap_or_default())
        .is_empty());
}

#[test]
fn without_a_valid_access_token_the_gateway_sees_nothing() {
    let p = proxy();
    let h = &p.h;
    let mut expired = h.idp.standard_claims("alice", &["user"]);
    expired["exp"] = json!(1_000_000_000);
    let expired = h.idp.mint(Alg::Rs256, expired);
    for (what, header) in [
        ("no token", None),
        ("garbage", Some("not.a.token".to_owned())),
        ("expired", Some(expired)),
    ] {
        let mut request = h.request("POST", "/ai/chat/completions").body("{}");
        if let Some(token) = &header {
            request = request.header("Cf-Access-Jwt-Assertion", token);
        }
        let r = request.send();
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert!(
            p.gateway
                .traced(r.trace.as_deref().unwrap_or_default())
                .is_empty(),
            "{what}"
        );
    }
}

#[test]
fn a_gateway_that_drops_the_connection_is_a_502() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    let r = h
        .request("POST", "/ai/hangup")
        .header("Cf-Access-Jwt-Assertion", &token)
        .body("{}")
        .send();
    h.assert_status(&r, 502);
    assert_eq!(r.json()["error"], "bad_gateway");
    assert_eq!(
        seen_once(p, r.trace.as_deref().unwrap_or_default()).path,
        "/hangup"
    );
}

#[test]
fn a_server_sent_events_answer_streams_through_before_it_is_finished() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    let gate = format!("g{}", e2e::keys::random_hex(6));
    let mut open = h
        .request("POST", &format!("/ai/stream/{gate}"))
        .header("Cf-Access-Jwt-Assertion", &token)
        .header("Accept", "text/event-stream")
        .body(r#"{"stream":true}"#)
        .timeout(Duration::from_secs(15))
        .open()
        .expect("a response head");
    assert_eq!(open.status, 200);
    assert_eq!(open.header("content-type"), Some("text/event-stream"));
    let started = Instant::now();
    open.read_until(b"data: event 1").expect("the first event");
    // The client holds event 1 while the gateway is still waiting to send event 2.
    assert!(
        !p.gateway.event2_sent(&gate),
        "event 2 went out before event 1 arrived"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(!p.gateway.event2_sent(&gate));
    p.gateway.release(&gate);
    // To the chunked body's end (the runtime may split events across chunks differently).
    let all = open
        .read_until(b"\r\n0\r\n\r\n")
        .expect("the rest of the stream");
    let text = String::from_utf8_lossy(all);
    assert!(text.contains("data: event 2"), "{text}");
    assert!(p.gateway.event2_sent(&gate));
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_large_request_body_reaches_the_gateway_intact_with_content_length_and_chunked() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    // 12 MiB that are not all the same byte, so a reordered or dropped chunk changes the hash.
    let body: Vec<u8> = (0..12 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let digest = sha256(&body);

    let r = h
        .request("POST", "/ai/upload")
        .header("Cf-Access-Jwt-Assertion", &token)
        .body(body.clone())
        .timeout(Duration::from_secs(60))
        .send();
    h.assert_status(&r, 200);
    assert_eq!(
        (
            r.json()["body_len"].as_u64(),
            r.json()["body_sha256"].as_str()
        ),
        (Some(body.len() as u64), Some(digest.as_str()))
    );

    // Chunked: the same bytes in 64 KiB chunks, no Content-Length.
    let trace = format!("e2e-chunked-{}", e2e::keys::random_hex(6));
    let mut raw = format!(
        "POST /ai/upload HTTP/1.1\r\nHost: {}\r\nCf-Access-Jwt-Assertion: {token}\r\n\
         {}: {trace}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        h.stack.addr(),
        e2e::origin::TRACE_HEADER
    )
    .into_bytes();
    for chunk in body.chunks(64 * 1024) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let r = e2e::http::send_raw_within(h.stack.addr(), &raw, Duration::from_secs(60))
        .expect("a response");
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = seen_once(p, &trace);
    assert_eq!((seen.body.len(), sha256(&seen.body)), (body.len(), digest));
}

#[test]
fn the_gateway_secret_is_in_no_response_and_no_log_line() {
    let p = proxy();
    let h = &p.h;
    let token = access_token(h, "alice", "alice@example.com");
    let mut responses = Vec::new();
    for target in ["/ai/chat/completions", "/ai/hangup", "/ai/x%2Fy", "/hello"] {
        responses.push(
            h.request("POST", target)
                .header("Cf-Access-Jwt-Assertion", &token)
                .body("{}")
                .send(),
        );
    }
    responses.push(h.request("POST", "/ai/chat/completions").body("{}").send());
    for r in &responses {
        assert!(!r.text().contains(GATEWAY_TOKEN), "{}", r.text());
        for (name, value) in &r.headers {
            assert!(!value.contains(GATEWAY_TOKEN), "response header {name}");
        }
    }
    // Let the last lines be written, then look at everything the Workers printed.
    std::thread::sleep(Duration::from_millis(500));
    let log = h.stack.log();
    assert!(
        log.contains("\"upstream\":\"ai\""),
        "the log has the proxied requests"
    );
    // The harness hands the secret to `wrangler dev` as a [vars] entry, which wrangler lists at
    // start ("env.CF_AI_GATEWAY_TOKEN (…) Environment Variable"); a deployed secret is never
    // listed. Every other line, the Workers' output included, must not hold it.
    let leaked: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(GATEWAY_TOKEN) && !l.contains("Environment Variable"))
        .collect();
    assert!(
        leaked.is_empty(),
        "the gateway secret is in the Workers' log: {leaked:?}"
    );
    assert!(
        !log.contains(&token),
        "the user's token is in the Workers' log"
    );
}

/// A deployment that lacks the secret: a 500 naming it on `/ai/**`, every other route works.
#[test]
fn a_missing_secret_is_a_500_naming_it_on_the_ai_routes_only() {
    let gateway = FakeGateway::start(GATEWAY_TOKEN).expect("the fake gateway starts");
    let h = Harness::start_with(|c, idp| c.access(idp).ai_gateway(&gateway, None));
    let token = access_token(&h, "alice", "alice@example.com");
    let r = h
        .request("POST", "/ai/chat/completions")
        .header("Cf-Access-Jwt-Assertion", &token)
        .body("{}")
        .send();
    h.assert_status(&r, 500);
    assert_eq!(r.json()["error"], "server_misconfigured");
    assert!(gateway.requests().is_empty(), "nothing was sent");
    let line = h
        .log_line("authz", &r)
        .expect("the authz Worker's log line");
    assert_eq!(line["reason"], "upstream_secret_missing", "{line}");
    assert_eq!(line["config_name"], "CF_AI_GATEWAY_TOKEN", "{line}");
    assert_eq!(line["upstream"], "ai", "{line}");
    // Other routes are not affected.
    let r = h
        .get("/hello")
        .header("Cf-Access-Jwt-Assertion", &token)
        .send();
    h.assert_status(&r, 200);
    assert_eq!(h.seen_once(&r).header_all("x-user-id"), ["alice"]);
    let r = h.get("/health").send();
    h.assert_status(&r, 200);
}
