//! A local echo origin: answers every request with what it saw, and records it so tests can
//! assert exactly what reached the origin (and that nothing did).

use crate::server::{Incoming, Reply, Server};
use crate::wire;
use serde_json::{json, Map, Value};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The header the raw client tags each request with, so tests running in parallel against one
/// stack can tell their requests apart at the origin.
pub const TRACE_HEADER: &str = "x-e2e-trace";

/// A request as the origin saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method, as sent.
    pub method: String,
    /// The path exactly as in the request line (before any `?`).
    pub path: String,
    /// The query without the `?`, if the request line had one.
    pub query: Option<String>,
    /// Headers, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::find_header(&self.headers, name)
    }

    /// Every value of a header (name case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The trace id the raw client put on this request, if it arrived.
    pub fn trace(&self) -> Option<&str> {
        self.header(TRACE_HEADER)
    }
}

/// The running echo origin.
pub struct EchoOrigin {
    server: Server,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl EchoOrigin {
    /// Starts serving on 127.0.0.1 (free port).
    pub fn start() -> io::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let server = Server::start(
            "origin",
            Arc::new(move |req| {
                let seen = record(req);
                let body = echo_json(&seen).to_string();
                // Record before answering: once a client has the response, the record is there.
                lock(&log).push(seen);
                Reply::Bytes(wire::response_bytes(
                    200,
                    &[("Content-Type", "application/json".to_string())],
                    body.as_bytes(),
                ))
            }),
        )?;
        Ok(Self { server, seen })
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

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        lock(&self.seen).len()
    }

    /// Forgets every recorded request.
    pub fn reset(&self) {
        lock(&self.seen).clear();
    }

    /// The requests that carried trace id `trace` (see [`TRACE_HEADER`]).
    pub fn traced(&self, trace: &str) -> Vec<Seen> {
        lock(&self.seen)
            .iter()
            .filter(|s| s.trace() == Some(trace))
            .cloned()
            .collect()
    }
}

pub(crate) fn lock(seen: &Mutex<Vec<Seen>>) -> MutexGuard<'_, Vec<Seen>> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn record(req: Incoming) -> Seen {
    let (path, query) = match req.target.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (req.target, None),
    };
    Seen {
        method: req.method,
        path,
        query,
        headers: req.headers,
        body: req.body,
    }
}

fn echo_json(seen: &Seen) -> Value {
    let mut headers = Map::new();
    for (name, value) in &seen.headers {
        // Repeated headers are joined the way HTTP allows folding them.
        let joined = match headers.get(name).and_then(Value::as_str) {
            Some(prev) => format!("{prev}, {value}"),
            None => value.clone(),
        };
        headers.insert(name.clone(), Value::String(joined));
    }
    json!({
        "method": seen.method,
        "path": seen.path,
        "query": seen.query,
        "headers": headers,
        "body": String::from_utf8_lossy(&seen.body),
    })
}
