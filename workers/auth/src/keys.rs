//! The issuer's key set (JWKS) for the cache, fetched over HTTPS or a service binding within
//! `JWKS_TIMEOUT_MS` and `JWKS_MAX_BYTES` (`worker_glue::fetch_bounded`); when and whether to
//! fetch is `jwks-cache`'s decision. Also the two seams `edge_auth::authenticate` takes: this
//! key source and the WebCrypto signature provider.

use crate::isolate::Isolate;
use edge_auth::{
    AuthConfig, JwksSource, KeySource, KeySourceError, SignatureProvider, JWKS_SERVICE_PATH,
};
use futures_util::future::LocalBoxFuture;
use jose_jwt::{JwkSet, RustCryptoMac};
use jose_jwt_webcrypto::{ImportedKeys, WebCryptoVerifier};
use jwks_cache::{freshness_from_cache_control, CachePolicy, Environment, FetchError, Fetched};
use std::rc::Rc;
use std::time::Duration;
use worker::{Delay, Env};
use worker_glue::{fetch_bounded, FetchTarget};

/// A verified-usable key set and the WebCrypto keys imported from it so far.
pub(crate) struct KeySet {
    pub(crate) jwks: JwkSet,
    pub(crate) imported: ImportedKeys,
}

/// The runtime's clock and randomness, for the cache.
pub(crate) struct WorkerEnvironment;

impl Environment for WorkerEnvironment {
    fn now_ms(&self) -> u64 {
        worker_glue::now_ms()
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }

    /// workerd cancels a request that waits only on another request's I/O as hung, so a
    /// request waiting for a shared JWKS fetch polls it on a short timer of its own.
    fn tick(&self) -> Option<LocalBoxFuture<'static, ()>> {
        Some(Box::pin(Delay::from(WAIT_TICK)))
    }
}

/// How often a request waiting for another request's JWKS fetch looks at it again.
const WAIT_TICK: Duration = Duration::from_millis(10);

/// Everything a fetch needs, owned, because the cache may run it after the request that
/// started it has gone.
pub(crate) struct KeyFetch {
    target: FetchTarget,
    timeout: Duration,
    max_bytes: u64,
    policy: CachePolicy,
}

impl KeyFetch {
    pub(crate) fn new(
        config: &AuthConfig,
        env: &Env,
        policy: &CachePolicy,
    ) -> Result<Self, String> {
        let target = match config.jwks() {
            // Only `HS*` allowed: the pipeline never asks for a key set; fail closed if it did.
            None => return Err("no key set is configured (ALLOWED_ALGS lists only HS*)".to_owned()),
            Some(JwksSource::Url(url)) => FetchTarget::Url(url.to_string()),
            Some(JwksSource::Service { binding }) => {
                let missing = |_| {
                    format!("JWKS_SERVICE names `{binding}`, which is not a service binding of this Worker")
                };
                FetchTarget::Service {
                    fetcher: env.service(binding).map_err(missing)?,
                    path: JWKS_SERVICE_PATH,
                }
            }
        };
        Ok(KeyFetch {
            target,
            timeout: Duration::from_millis(config.jwks_timeout_ms()),
            max_bytes: config.jwks_max_bytes(),
            policy: *policy,
        })
    }

    /// One upstream fetch, bounded in time and size.
    pub(crate) async fn run(self) -> Result<Fetched<KeySet>, FetchError> {
        let (response_bytes, cache_control) =
            fetch_bounded(&self.target, self.timeout, self.max_bytes).await?;
        let parsed = JwkSet::parse(&response_bytes).map_err(|e| match e {
            jose_jwt::Error::JwksInvalid {
                reason: jose_jwt::JwksProblem::NoUsableKey,
            } => FetchError::NoUsableKeys,
            _ => FetchError::BadJson,
        })?;
        for rejected in &parsed.rejected {
            // The kid and the reason only: never key material. A fetch serves many requests,
            // so it has no request id of its own.
            worker_glue::log_event(
                "",
                "jwks_key_rejected",
                rejected.error.code(),
                &format!(
                    "key #{} (kid {}) skipped: {}",
                    rejected.index,
                    rejected.kid.as_deref().unwrap_or("none"),
                    rejected.error
                ),
            );
        }
        Ok(Fetched {
            keys: KeySet {
                jwks: parsed.set,
                imported: ImportedKeys::default(),
            },
            fresh_for: freshness_from_cache_control(cache_control.as_deref(), &self.policy),
        })
    }
}

impl edge_auth::KeySet for KeySet {
    fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

/// The pipeline's key source in this Worker: the isolate's cache over [`KeyFetch`], its events
/// logged with the request's id.
pub(crate) struct IsolateKeys<'a> {
    pub(crate) env: &'a Env,
    pub(crate) isolate: &'a Isolate,
    pub(crate) request_id: &'a str,
}

impl KeySource for IsolateKeys<'_> {
    type Keys = KeySet;

    async fn key_set(&self, kid: Option<&str>) -> Result<Rc<KeySet>, KeySourceError> {
        let isolate = self.isolate;
        let fetch = KeyFetch::new(&isolate.config, self.env, isolate.cache.policy()).map_err(
            |problem| {
                worker_glue::log_event(
                    self.request_id,
                    "config_error",
                    "server_misconfigured",
                    &problem,
                );
                KeySourceError::Misconfigured
            },
        )?;
        let lookup = isolate
            .cache
            .get(
                &WorkerEnvironment,
                kid,
                |keys: &KeySet, kid| keys.jwks.contains_kid(kid),
                move || fetch.run(),
            )
            .await;
        for event in isolate.cache.drain_events() {
            worker_glue::log_event(
                self.request_id,
                "jwks_event",
                event.code(),
                &event.to_string(),
            );
        }
        lookup
            .map(|found| found.keys)
            .map_err(|e| KeySourceError::Unavailable {
                retry_after_seconds: e.retry_after_seconds(),
            })
    }
}

/// Signatures by the runtime's WebCrypto, with the keys imported once per key set; `HS*` MACs
/// by the `hmac` crate (constant-time `verify_slice`). Against WebCrypto `verify` with an HMAC
/// key imported once per isolate, in workerd (HS256, cache off, 2000 requests refused at the
/// first hop, 5 interleaved rounds), WebCrypto / hmac was 1.01× the CPU and 1.06× the wall time
/// per request (medians; the MAC is within this machine's noise next to the ~1.7 ms a request
/// costs under `wrangler dev`): no gain, an await and a JS round trip more, so the Rust one
/// stays (it costs the bundle 3.3 KB gzip).
pub(crate) struct WebCrypto;

impl SignatureProvider<KeySet> for WebCrypto {
    type Verifier<'a> = WebCryptoVerifier<'a>;
    type MacVerifier<'a> = RustCryptoMac;
    fn verifier<'a>(&'a self, keys: &'a KeySet, index: usize) -> WebCryptoVerifier<'a> {
        WebCryptoVerifier::new(&keys.imported, index)
    }
    fn mac_verifier(&self) -> RustCryptoMac {
        RustCryptoMac
    }
}
