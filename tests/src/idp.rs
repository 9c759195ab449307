//! A local identity provider: serves a JWKS (at the OIDC path and at the Cloudflare Access path),
//! rotates keys, misbehaves on demand, and mints tokens.

use crate::keys::{self, Alg, Key};
use crate::server::{Incoming, Reply, Server};
use crate::wire;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The audience of demo tokens (and of the demo stack's `AUDIENCE`).
pub const DEMO_AUDIENCE: &str = "edge-auth-demo";

/// The OIDC-style JWKS path.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The Cloudflare Access certificate path.
pub const ACCESS_CERTS_PATH: &str = "/cdn-cgi/access/certs";

/// How the JWKS endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksMode {
    /// Serve the key set.
    Normal,
    /// Answer 500.
    Status500,
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Wait this long, then serve the key set.
    Slow(Duration),
    /// Accept the connection and close it without answering.
    Down,
}

struct State {
    /// Whether the initial keys exist yet (they are generated in the background).
    ready: bool,
    /// Every listed key, oldest first.
    keys: Vec<Key>,
    /// The key id each algorithm currently signs with.
    current: HashMap<Alg, String>,
    mode: JwksMode,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    hits: AtomicUsize,
    max_age: AtomicU64,
}

impl Shared {
    /// The state, once the initial keys exist.
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves consistent data behind.
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.ready
            .wait_while(guard, |s| !s.ready)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running identity provider. Every control is callable from any thread while it serves.
pub struct IdentityProvider {
    server: Server,
    shared: Arc<Shared>,
}

impl IdentityProvider {
    /// Starts serving on 127.0.0.1 (free port) and generates one key per algorithm. The keys
    /// are made in the background (RSA takes seconds in a debug build) so that starting the
    /// Workers overlaps with it; every use of the keys waits for them.
    pub fn start() -> io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: false,
                keys: Vec::new(),
                current: HashMap::new(),
                mode: JwksMode::Normal,
            }),
            ready: Condvar::new(),
            hits: AtomicUsize::new(0),
            max_age: AtomicU64::new(600),
        });
        let handler_state = Arc::clone(&shared);
        let server = Server::start("idp", Arc::new(move |req| handle(&handler_state, &req)))?;
        let keygen_state = Arc::clone(&shared);
        std::thread::spawn(move || {
            // Should generation ever fail, mark the state ready anyway (with no keys) so that
            // users fail with "no key" instead of waiting forever.
            let keys =
                std::panic::catch_unwind(|| Alg::ALL.into_iter().map(Key::generate).collect())
                    .unwrap_or_else(|_| Vec::new());
            let mut state = keygen_state
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.current = keys
                .iter()
                .map(|k| (k.alg(), k.kid().to_string()))
                .collect();
            state.keys = keys;
            state.ready = true;
            keygen_state.ready.notify_all();
        });
        Ok(Self { server, shared })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The issuer (`iss`) of its tokens, e.g. `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The OIDC-style JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.issuer())
    }

    /// The Cloudflare Access certificate URL (same key set).
    pub fn access_certs_url(&self) -> String {
        format!("{}{ACCESS_CERTS_PATH}", self.issuer())
    }

    /// Sets the `max-age` of the JWKS `Cache-Control` header (default 600).
    pub fn set_max_age(&self, seconds: u64) {
        self.shared.max_age.store(seconds, Ordering::SeqCst);
    }

    /// Sets how the JWKS endpoint behaves from now on.
    pub fn set_mode(&self, mode: JwksMode) {
        self.shared.lock().mode = mode;
    }

    /// How many JWKS requests arrived (in any mode, on either path).
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// Adds a new key for `alg` and signs with it from now on; the old key stays listed until
    /// [`retire`](Self::retire). Returns the new key id.
    pub fn rotate(&self, alg: Alg) -> String {
        let key = Key::generate(alg);
        let kid = key.kid().to_string();
        let mut state = self.shared.lock();
        state.keys.push(key);
        state.current.insert(alg, kid.clone());
        kid
    }

    /// Removes a key from the JWKS (tokens may still be minted with it via [`key_by_kid`](Self::key_by_kid)).
    pub fn retire(&self, kid: &str) {
        self.shared.lock().keys.retain(|k| k.kid() != kid);
    }

    /// The key `alg` currently signs with.
    pub fn key(&self, alg: Alg) -> Key {
        let state = self.shared.lock();
        let current = state.current.get(&alg);
        let by_kid = state
            .keys
            .iter()
            .find(|k| current.is_some_and(|c| c == k.kid()));
        // If the current key was retired, the newest listed key of that algorithm signs.
        match by_kid.or_else(|| state.keys.iter().rev().find(|k| k.alg() == alg)) {
            Some(key) => key.clone(),
            None => panic!("no {} key is listed (was it retired?)", alg.name()),
        }
    }

    /// A listed key by its key id.
    pub fn key_by_kid(&self, kid: &str) -> Option<Key> {
        self.shared
            .lock()
            .keys
            .iter()
            .find(|k| k.kid() == kid)
            .cloned()
    }

    /// The JWKS document as currently served.
    pub fn jwks(&self) -> Value {
        jwks_of(&self.shared.lock().keys)
    }

    /// Claims of a valid token for `sub`: `iss`, `aud` ([`DEMO_AUDIENCE`]), `sub`, `roles`,
    /// `iat` = now and `exp` = now + 600.
    pub fn standard_claims(&self, sub: &str, roles: &[&str]) -> Value {
        let now = now();
        json!({"iss": self.issuer(), "aud": DEMO_AUDIENCE, "sub": sub, "roles": roles,
               "iat": now, "exp": now + 600})
    }

    /// A valid ES256 token with [`standard_claims`](Self::standard_claims).
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        self.mint(Alg::Es256, self.standard_claims(sub, roles))
    }

    /// Signs `claims` with `alg`'s current key; header `{"alg","typ":"JWT","kid"}`.
    pub fn mint(&self, alg: Alg, claims: Value) -> String {
        let key = self.key(alg);
        let header = json!({"alg": alg.name(), "typ": "JWT", "kid": key.kid()});
        sign_with(&key, &header.to_string(), &claims.to_string())
    }

    /// Signs `claims` under an arbitrary header. The signing key is the listed key whose id is
    /// the header's `kid`, else the current key of the header's `alg`; panics if neither exists.
    pub fn mint_with_header(&self, header: Value, claims: Value) -> String {
        let by_kid = header["kid"].as_str().and_then(|kid| self.key_by_kid(kid));
        let key = match by_kid {
            Some(key) => key,
            None => match header["alg"].as_str().and_then(Alg::from_name) {
                Some(alg) => self.key(alg),
                None => panic!("mint_with_header: no key for header {header}"),
            },
        };
        sign_with(&key, &header.to_string(), &claims.to_string())
    }

    /// Signs exact header and payload JSON text (duplicate members, odd spacing) with `alg`'s
    /// current key.
    pub fn sign_raw(&self, alg: Alg, header_json: &str, payload_json: &str) -> String {
        sign_with(&self.key(alg), header_json, payload_json)
    }
}

/// Signs exact header and payload JSON text with `key` and returns the compact JWS.
pub fn sign_with(key: &Key, header_json: &str, payload_json: &str) -> String {
    let input = keys::signing_input(header_json, payload_json);
    format!("{input}.{}", keys::b64url(&key.sign(input.as_bytes())))
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn jwks_of(keys: &[Key]) -> Value {
    json!({"keys": keys.iter().map(Key::public_jwk).collect::<Vec<_>>()})
}

fn handle(shared: &Shared, req: &Incoming) -> Reply {
    let path = req.target.split('?').next().unwrap_or("");
    if path != JWKS_PATH && path != ACCESS_CERTS_PATH {
        return Reply::Bytes(wire::response_bytes(404, &[], b"not found"));
    }
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let mode = shared.lock().mode;
    let json_type = ("Content-Type", "application/json".to_string());
    match mode {
        JwksMode::Down => Reply::Hangup,
        JwksMode::Status500 => Reply::Bytes(wire::response_bytes(500, &[], b"upstream broke")),
        JwksMode::Garbage => Reply::Bytes(wire::response_bytes(
            200,
            &[json_type],
            b"<html>this is not a key set",
        )),
        JwksMode::Slow(delay) => {
            std::thread::sleep(delay);
            Reply::Bytes(serve_jwks(shared))
        }
        JwksMode::Normal => Reply::Bytes(serve_jwks(shared)),
    }
}

fn serve_jwks(shared: &Shared) -> Vec<u8> {
    let body = jwks_of(&shared.lock().keys).to_string();
    let max_age = shared.max_age.load(Ordering::SeqCst);
    wire::response_bytes(
        200,
        &[
            ("Content-Type", "application/json".to_string()),
            ("Cache-Control", format!("public, max-age={max_age}")),
        ],
        body.as_bytes(),
    )
}
