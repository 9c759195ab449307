//! A local identity provider: serves a JWKS (at the OIDC path and at the Cloudflare Access path),
//! rotates keys, misbehaves on demand, and mints tokens.

use crate::keys::{self, Alg, HsAlg, Key};
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
    /// Serve the key set followed by spaces (still valid JSON), `size` bytes in all, with a
    /// `chunked` body (no `Content-Length`) or a `Content-Length` one. Bytes written are
    /// counted ([`IdentityProvider::padded_bytes_sent`]), so a test can tell whether the
    /// reader stopped early.
    Padded {
        /// Total body size in bytes (at least the key set's own size).
        size: usize,
        /// `Transfer-Encoding: chunked` instead of `Content-Length`.
        chunked: bool,
    },
}

/// The piece size of a [`JwksMode::Padded`] body.
const PADDED_CHUNK: usize = 16 * 1024;

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
    /// Body bytes the last padded response managed to write.
    padded_sent: Arc<AtomicUsize>,
}

impl Shared {
    /// The state, once all initial keys exist.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.lock_when(|_| false)
    }

    /// The state, once `enough` holds or all initial keys exist.
    fn lock_when(&self, enough: impl Fn(&State) -> bool) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves consistent data behind.
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.ready
            .wait_while(guard, |s| !s.ready && !enough(s))
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running identity provider. Every control is callable from any thread while it serves.
pub struct IdentityProvider {
    server: Server,
    shared: Arc<Shared>,
    jwt_secret: Vec<u8>,
}

impl IdentityProvider {
    /// Starts serving on 127.0.0.1 (free port) and generates one key per algorithm. The RSA
    /// key is made in the background (seconds in a debug build) so that starting the Workers
    /// overlaps with it; whatever needs it (the JWKS, RS256 minting) waits for it.
    pub fn start() -> io::Result<Self> {
        let keys: Vec<Key> = [Alg::Es256, Alg::EdDsa]
            .into_iter()
            .map(Key::generate)
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: false,
                current: keys
                    .iter()
                    .map(|k| (k.alg(), k.kid().to_string()))
                    .collect(),
                keys,
                mode: JwksMode::Normal,
            }),
            ready: Condvar::new(),
            hits: AtomicUsize::new(0),
            max_age: AtomicU64::new(600),
            padded_sent: Arc::new(AtomicUsize::new(0)),
        });
        let handler_state = Arc::clone(&shared);
        let server = Server::start("idp", Arc::new(move |req| handle(&handler_state, &req)))?;
        let keygen_state = Arc::clone(&shared);
        std::thread::spawn(move || {
            // Should generation ever fail, mark the state ready anyway (without the key) so
            // that users fail with "no key" instead of waiting forever.
            let rsa = std::panic::catch_unwind(|| Key::generate(Alg::Rs256)).ok();
            let mut state = keygen_state
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(key) = rsa {
                state.current.insert(Alg::Rs256, key.kid().to_string());
                state.keys.push(key);
            }
            state.ready = true;
            keygen_state.ready.notify_all();
        });
        Ok(Self {
            server,
            shared,
            jwt_secret: keys::random_bytes(64),
        })
    }

    /// Blocks until every initial key exists (the RSA key is made in the background).
    pub fn wait_ready(&self) {
        drop(self.shared.lock());
    }

    /// Body bytes the last [`JwksMode::Padded`] response managed to write (a reader that
    /// stopped early leaves this short of the size).
    pub fn padded_bytes_sent(&self) -> usize {
        self.shared.padded_sent.load(Ordering::SeqCst)
    }

    /// The current key set as the JWKS endpoint serves it, without counting a hit.
    pub fn jwks_len(&self) -> usize {
        jwks_of(&self.shared.lock().keys).to_string().len()
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
        let state = self.shared.lock_when(|s| s.current.contains_key(&alg));
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

    /// A valid token as Cloudflare Access makes one: RS256, with an `email` claim.
    pub fn access_token(&self, sub: &str, roles: &[&str], email: &str) -> String {
        let mut claims = self.standard_claims(sub, roles);
        claims["email"] = json!(email);
        self.mint(Alg::Rs256, claims)
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

    /// Its shared secret for `HS*` tokens: 64 random bytes, enough for HS512.
    pub fn jwt_secret(&self) -> &[u8] {
        &self.jwt_secret
    }

    /// [`jwt_secret`](Self::jwt_secret) as the auth Worker's `JWT_SECRET` takes it (base64url).
    pub fn jwt_secret_b64(&self) -> String {
        keys::b64url(&self.jwt_secret)
    }

    /// MACs `claims` with `alg` under [`jwt_secret`](Self::jwt_secret); header
    /// `{"alg","typ":"JWT"}` (no `kid`: optional for shared-secret tokens).
    pub fn mint_hs(&self, alg: HsAlg, claims: Value) -> String {
        let header = json!({"alg": alg.name(), "typ": "JWT"});
        mac_with(
            alg,
            &self.jwt_secret,
            &header.to_string(),
            &claims.to_string(),
        )
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

/// MACs exact header and payload JSON text with `alg` under `secret` and returns the compact JWS.
pub fn mac_with(alg: HsAlg, secret: &[u8], header_json: &str, payload_json: &str) -> String {
    let input = keys::signing_input(header_json, payload_json);
    format!(
        "{input}.{}",
        keys::b64url(&keys::hmac(alg, secret, input.as_bytes()))
    )
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
        JwksMode::Padded { size, chunked } => serve_padded(shared, size, chunked),
    }
}

/// The key set and then spaces up to `size` bytes, written piece by piece.
fn serve_padded(shared: &Shared, size: usize, chunked: bool) -> Reply {
    let json = jwks_of(&shared.lock().keys).to_string().into_bytes();
    let sent = Arc::clone(&shared.padded_sent);
    sent.store(0, Ordering::SeqCst);
    Reply::Stream(Box::new(move |out| {
        let json_type = ("Content-Type", "application/json".to_string());
        let head = if chunked {
            wire::chunked_head(200, &[json_type])
        } else {
            let mut head = wire::response_bytes(200, &[json_type], b"");
            // `response_bytes` ends with the head; its Content-Length of 0 becomes `size`.
            head.truncate(head.len() - "Content-Length: 0\r\n\r\n".len());
            head.extend_from_slice(format!("Content-Length: {size}\r\n\r\n").as_bytes());
            head
        };
        out.write_all(&head)?;
        let mut offset = 0;
        while offset < size {
            let len = PADDED_CHUNK.min(size - offset);
            let piece: Vec<u8> = (offset..offset + len)
                .map(|i| json.get(i).copied().unwrap_or(b' '))
                .collect();
            if chunked {
                out.write_all(&wire::chunk(&piece))?;
            } else {
                out.write_all(&piece)?;
            }
            offset += len;
            sent.store(offset, Ordering::SeqCst);
        }
        if chunked {
            out.write_all(&wire::chunk(b""))?;
        }
        out.flush()
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::get;

    #[test]
    fn serves_the_jwks_on_both_paths_and_counts_hits() {
        let idp = IdentityProvider::start().unwrap();
        idp.set_max_age(77);
        for path in [JWKS_PATH, ACCESS_CERTS_PATH] {
            let r = get(idp.addr(), path, &[]).unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(r.header("cache-control"), Some("public, max-age=77"));
            let kinds: Vec<_> = r.json()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kty"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(kinds, ["EC", "OKP", "RSA"]);
        }
        assert_eq!(get(idp.addr(), "/other", &[]).unwrap().status, 404);
        assert_eq!(idp.hits(), 2);
    }

    #[test]
    fn rotation_adds_and_retire_removes() {
        let idp = IdentityProvider::start().unwrap();
        let old = idp.key(Alg::Es256).kid().to_string();
        let new = idp.rotate(Alg::Es256);
        assert_ne!(old, new);
        let token = idp.mint(Alg::Es256, json!({"sub": "s"}));
        let header = token.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header, json!({"alg": "ES256", "typ": "JWT", "kid": new}));
        let kids = |idp: &IdentityProvider| -> Vec<String> {
            idp.jwks()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(kids(&idp).contains(&old) && kids(&idp).contains(&new));
        idp.retire(&old);
        assert!(!kids(&idp).contains(&old));
        assert_eq!(kids(&idp).len(), 3);
    }

    #[test]
    fn failure_modes() {
        let idp = IdentityProvider::start().unwrap();
        idp.set_mode(JwksMode::Status500);
        assert_eq!(get(idp.addr(), JWKS_PATH, &[]).unwrap().status, 500);
        idp.set_mode(JwksMode::Garbage);
        let r = get(idp.addr(), JWKS_PATH, &[]).unwrap();
        assert_eq!((r.status, r.json()), (200, Value::Null));
        idp.set_mode(JwksMode::Down);
        assert!(get(idp.addr(), JWKS_PATH, &[]).is_err());
        idp.set_mode(JwksMode::Slow(Duration::from_millis(300)));
        let started = std::time::Instant::now();
        assert_eq!(get(idp.addr(), JWKS_PATH, &[]).unwrap().status, 200);
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(idp.hits(), 4);
        for chunked in [true, false] {
            let size = idp.jwks_len() + 40_000;
            idp.set_mode(JwksMode::Padded { size, chunked });
            let r = get(idp.addr(), JWKS_PATH, &[]).unwrap();
            assert_eq!(r.header("content-length").is_none(), chunked);
            assert_eq!(r.body.len(), size);
            assert_eq!(r.json(), idp.jwks(), "the padding is JSON whitespace");
            // The server counts a chunk after writing it: the client may have read the last
            // one first.
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while idp.padded_bytes_sent() != size && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(idp.padded_bytes_sent(), size);
        }
    }

    #[test]
    fn sign_raw_keeps_the_exact_text() {
        let idp = IdentityProvider::start().unwrap();
        let header = r#"{"alg":"ES256","alg":"none"}"#;
        let token = idp.sign_raw(Alg::Es256, header, r#"{"sub":"a","sub":"b"}"#);
        let first = token.split('.').next().unwrap();
        assert_eq!(first, keys::b64url(header.as_bytes()));
        let claims = idp.standard_claims("u", &["r"]);
        assert_eq!(claims["iss"], idp.issuer());
        assert_eq!(claims["aud"], DEMO_AUDIENCE);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            600
        );
    }
}
