//! A local stand-in for an AI gateway behind an upstream: it refuses any request without its
//! bearer secret, records every request (as [`EchoOrigin`](crate::EchoOrigin) does), and
//! answers with what it received, a server-sent-events stream that waits for the test between
//! two events, or a dropped connection.
//!
//! - `…/stream/<gate>`: `text/event-stream`, chunked: `data: event 1`, then it waits (up to
//!   20 s) until the test calls [`FakeGateway::release`] with `<gate>`, then `data: event 2` and
//!   `data: [DONE]`. [`FakeGateway::event2_sent`] says whether the second event has gone out.
//! - `…/hangup`: closes the connection without answering (a gateway that is down).
//! - anything else: 200 with a JSON echo — method, path, query, headers, and the body's length
//!   and SHA-256 (bodies may be large; the bytes themselves are in [`FakeGateway::traced`]).

use crate::origin::{lock, record, Seen};
use crate::server::{Reply, Server};
use crate::wire;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use std::collections::HashSet;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a stream waits for [`FakeGateway::release`] before sending its second event anyway.
const GATE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Gates {
    released: Mutex<HashSet<String>>,
    sent: Mutex<HashSet<String>>,
    changed: Condvar,
}

/// The running fake gateway.
pub struct FakeGateway {
    server: Server,
    seen: Arc<Mutex<Vec<Seen>>>,
    gates: Arc<Gates>,
}

impl FakeGateway {
    /// Starts serving on 127.0.0.1 (free port), accepting only `Authorization: Bearer <secret>`.
    pub fn start(secret: &str) -> io::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gates = Arc::new(Gates::default());
        let (log, gates_in) = (Arc::clone(&seen), Arc::clone(&gates));
        let expected = format!("Bearer {secret}");
        let server = Server::start(
            "gateway",
            Arc::new(move |req| {
                let seen = record(req);
                let authorized = seen.header("authorization") == Some(expected.as_str());
                let path = seen.path.clone();
                let echo = echo_json(&seen, authorized).to_string();
                lock(&log).push(seen);
                if !authorized {
                    return Reply::Bytes(json_response(401, r#"{"error":"wrong gateway token"}"#));
                }
                if path.ends_with("/hangup") {
                    return Reply::Hangup;
                }
                match path.split_once("/stream/") {
                    Some((_, gate)) => stream(Arc::clone(&gates_in), gate.to_owned()),
                    None => Reply::Bytes(json_response(200, &echo)),
                }
            }),
        )?;
        Ok(Self {
            server,
            seen,
            gates,
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }

    /// The requests that carried trace id `trace` (see [`crate::origin::TRACE_HEADER`]).
    pub fn traced(&self, trace: &str) -> Vec<Seen> {
        lock(&self.seen)
            .iter()
            .filter(|s| s.trace() == Some(trace))
            .cloned()
            .collect()
    }

    /// Lets the stream waiting on `gate` send its second event.
    pub fn release(&self, gate: &str) {
        lock_set(&self.gates.released).insert(gate.to_owned());
        self.gates.changed.notify_all();
    }

    /// Whether the stream on `gate` has sent its second event.
    pub fn event2_sent(&self, gate: &str) -> bool {
        lock_set(&self.gates.sent).contains(gate)
    }
}

fn lock_set(set: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json_response(status: u16, body: &str) -> Vec<u8> {
    let headers = [("Content-Type", "application/json".to_string())];
    wire::response_bytes(status, &headers, body.as_bytes())
}

fn stream(gates: Arc<Gates>, gate: String) -> Reply {
    Reply::Stream(Box::new(move |out: &mut dyn Write| {
        let headers = [
            ("Content-Type", "text/event-stream".to_string()),
            ("Cache-Control", "no-cache".to_string()),
        ];
        out.write_all(&wire::chunked_head(200, &headers))?;
        out.write_all(&wire::chunk(b"data: event 1\n\n"))?;
        out.flush()?;
        let deadline = Instant::now() + GATE_TIMEOUT;
        let mut released = lock_set(&gates.released);
        while !released.contains(&gate) && Instant::now() < deadline {
            let wait = deadline.saturating_duration_since(Instant::now());
            released = match gates.changed.wait_timeout(released, wait) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        drop(released);
        lock_set(&gates.sent).insert(gate.clone());
        out.write_all(&wire::chunk(b"data: event 2\n\n"))?;
        out.write_all(&wire::chunk(b"data: [DONE]\n\n"))?;
        out.write_all(&wire::chunk(b""))?;
        out.flush()
    }))
}

fn echo_json(seen: &Seen, authorized: bool) -> Value {
    let mut headers = Map::new();
    // Its own token is not echoed (`authorized` says whether it matched), as a real gateway
    // would not: so a test can assert the secret is in no response.
    for (name, value) in seen.headers.iter().filter(|(n, _)| n != "authorization") {
        headers.insert(name.clone(), Value::String(value.clone()));
    }
    let digest: String = Sha256::digest(&seen.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({
        "authorized": authorized,
        "method": seen.method,
        "path": seen.path,
        "query": seen.query,
        "headers": headers,
        "body_len": seen.body.len(),
        "body_sha256": digest,
    })
}
