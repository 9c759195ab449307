//! Fetching the issuer's key set (JWKS) for the cache: over HTTPS or a service binding, with a
//! timeout, no redirects and a size cap that holds while the body is read (it is streamed, never
//! buffered past the cap). When and whether to fetch is `jwks-cache`'s decision. Also the two
//! seams `edge_auth::authenticate` takes: this key source and the WebCrypto signature provider.

use crate::isolate::Isolate;
use edge_auth::{
    AuthConfig, JwksSource, KeySource, KeySourceError, SignatureProvider, JWKS_SERVICE_PATH,
};
use futures_util::future::{select, Either, LocalBoxFuture};
use jose_jwt::JwkSet;
use jose_jwt_webcrypto::{ImportedKeys, WebCryptoVerifier};
use js_sys::Uint8Array;
use jwks_cache::{
    freshness_from_cache_control, CachePolicy, CappedBody, Environment, FetchError, Fetched,
};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult};
use worker::{
    AbortController, Delay, Env, Fetch, Fetcher, Method, Request, RequestInit, RequestRedirect,
    Response, ResponseBody,
};

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
    target: Target,
    timeout: Duration,
    max_bytes: u64,
    policy: CachePolicy,
}

enum Target {
    Url(String),
    Service(Fetcher),
}

impl KeyFetch {
    pub(crate) fn new(
        config: &AuthConfig,
        env: &Env,
        policy: &CachePolicy,
    ) -> Result<Self, String> {
        let target = match config.jwks() {
            JwksSource::Url(url) => Target::Url(url.to_string()),
            JwksSource::Service { binding } => Target::Service(
                env.service(binding)
                    .map_err(|_| format!("JWKS_SERVICE names `{binding}`, which is not a service binding of this Worker"))?,
            ),
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
        let controller = AbortController::default();
        let signal = controller.signal();
        let download = Box::pin(self.download(&signal));
        let timer = Box::pin(Delay::from(self.timeout));
        let (response_bytes, cache_control) = match select(download, timer).await {
            Either::Left((result, _)) => result?,
            Either::Right(_) => {
                controller.abort();
                return Err(FetchError::Timeout);
            }
        };
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

    async fn download(
        &self,
        signal: &worker::AbortSignal,
    ) -> Result<(Vec<u8>, Option<String>), FetchError> {
        let mut init = RequestInit::new();
        init.with_method(Method::Get)
            .with_redirect(RequestRedirect::Manual);
        let response: Response = match &self.target {
            Target::Url(url) => {
                let request =
                    Request::new_with_init(url, &init).map_err(|_| FetchError::Network)?;
                Fetch::Request(request)
                    .send_with_signal(signal)
                    .await
                    .map_err(|_| FetchError::Network)?
            }
            Target::Service(fetcher) => {
                let url = format!("https://jwks.internal{JWKS_SERVICE_PATH}");
                fetcher
                    .fetch(url, Some(init))
                    .await
                    .map_err(|_| FetchError::Network)?
            }
        };
        let status = response.status_code();
        if status != 200 {
            discard_body(&response);
            return Err(FetchError::HttpStatus { status });
        }
        let declared = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok());
        // A declared length over the cap is refused before reading; one within it (or none)
        // is not trusted: the running total is checked chunk by chunk.
        let mut body = match CappedBody::new(self.max_bytes, declared) {
            Ok(body) => body,
            Err(too_large) => {
                discard_body(&response);
                return Err(too_large);
            }
        };
        let cache_control = response.headers().get("cache-control").ok().flatten();
        match response.body() {
            ResponseBody::Stream(stream) => read_capped(stream, &mut body).await?,
            ResponseBody::Body(bytes) => body.append(bytes)?,
            ResponseBody::Empty => {}
        }
        Ok((body.into_bytes(), cache_control))
    }
}

/// Reads `stream` into `body` one chunk at a time. A chunk that would take the body past its
/// cap is neither copied nor kept: the stream is cancelled there (the rest is never read) and
/// the fetch is `TooLarge`. Anything but a byte chunk is a network error.
async fn read_capped(stream: &ReadableStream, body: &mut CappedBody) -> Result<(), FetchError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let stop = |error: FetchError| {
        drop(reader.cancel());
        error
    };
    loop {
        let step: ReadableStreamReadResult = js_task::settled(reader.read())
            .await
            .map_err(|_| FetchError::Network)?
            .unchecked_into();
        match step.get_done() {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => return Err(stop(FetchError::Network)),
        }
        let chunk: Uint8Array = step
            .get_value()
            .dyn_into()
            .map_err(|_| stop(FetchError::Network))?;
        let len = usize::try_from(chunk.length()).unwrap_or(usize::MAX);
        if !body.fits(len) {
            return Err(stop(FetchError::TooLarge));
        }
        // Copied straight from the JS chunk into the space made for it (exactly `len` bytes).
        body.append_with(len, |space| chunk.copy_to(space))
            .map_err(stop)?;
    }
}

/// Cancels a body we will not read: an unread subrequest body otherwise holds the request open.
fn discard_body(response: &Response) {
    if let ResponseBody::Stream(stream) = response.body() {
        drop(stream.cancel());
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

/// Signatures by the runtime's WebCrypto, with the keys imported once per key set.
pub(crate) struct WebCrypto;

impl SignatureProvider<KeySet> for WebCrypto {
    type Verifier<'a> = WebCryptoVerifier<'a>;
    fn verifier<'a>(&'a self, keys: &'a KeySet, index: usize) -> WebCryptoVerifier<'a> {
        WebCryptoVerifier::new(&keys.imported, index)
    }
}
