//! The usual test set-up in one value: an identity provider, an echo origin and a stack wired
//! to both, plus the assertions every end-to-end test needs.

use crate::http::{Request, Response};
use crate::idp::IdentityProvider;
use crate::origin::{EchoOrigin, Seen};
use crate::stack::{Stack, StackConfig};
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An identity provider, an echo origin and both Workers wired to them.
pub struct Harness {
    /// The identity provider the auth Worker trusts.
    pub idp: IdentityProvider,
    /// The origin the authz Worker forwards to.
    pub origin: EchoOrigin,
    /// The Workers.
    pub stack: Stack,
}

impl Harness {
    /// Starts everything with [`StackConfig::demo`]; panics with wrangler's output on failure.
    pub fn start() -> Harness {
        Self::start_with(|config, _| config)
    }

    /// Starts everything with [`StackConfig::demo`] adjusted by `configure`. The identity
    /// provider is passed too, so a test can set its mode or point `JWKS_URL` elsewhere.
    pub fn start_with(
        configure: impl FnOnce(StackConfig, &IdentityProvider) -> StackConfig,
    ) -> Harness {
        match Self::try_start_with(configure) {
            Ok(h) => h,
            Err(e) => panic!("could not start the end-to-end stack: {e}"),
        }
    }

    /// Like [`start_with`](Self::start_with), returning the error instead of panicking.
    pub fn try_start_with(
        configure: impl FnOnce(StackConfig, &IdentityProvider) -> StackConfig,
    ) -> std::io::Result<Harness> {
        let idp = IdentityProvider::start()?;
        let origin = EchoOrigin::start()?;
        let config = configure(StackConfig::demo(&idp, &origin), &idp);
        let stack = Stack::start(config)?;
        // Tests start against a complete key set: a JWKS request that waited for the RSA key
        // could outlast the Worker's fetch timeout.
        idp.wait_ready();
        Ok(Harness { idp, origin, stack })
    }

    /// One harness per test binary with the demo configuration, shared by its tests (which may
    /// run in parallel: tell your requests apart with [`seen`](Self::seen)). A failed start is
    /// reported by every test that asks, without retrying.
    pub fn shared() -> &'static Harness {
        static SHARED: OnceLock<Result<Harness, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Self::try_start_with(|c, _| c).map_err(|e| e.to_string())) {
            Ok(h) => h,
            Err(e) => panic!("could not start the shared end-to-end stack: {e}"),
        }
    }

    /// A request to the auth Worker.
    pub fn request(&self, method: &str, target: &str) -> Request {
        self.stack.request(method, target)
    }

    /// A `GET` to the auth Worker.
    pub fn get(&self, target: &str) -> Request {
        self.stack.get(target)
    }

    /// A valid ES256 token for `sub` with `roles`.
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        self.idp.token(sub, roles)
    }

    /// What reached the origin for this response's request.
    pub fn seen(&self, response: &Response) -> Vec<Seen> {
        match &response.trace {
            Some(trace) => self.origin.traced(trace),
            None => panic!("this response was not sent with a trace id (use Request::send)"),
        }
    }

    /// The one request the origin saw for `response`; panics (with the Workers' log) otherwise.
    pub fn seen_once(&self, response: &Response) -> Seen {
        let mut seen = self.seen(response);
        if seen.len() != 1 {
            panic!(
                "expected the origin to see this request exactly once, saw it {} times; \
                 response {} {}\n{}",
                seen.len(),
                response.status,
                response.text(),
                self.log_tail()
            );
        }
        seen.remove(0)
    }

    /// Panics (with the Workers' log) if this response's request reached the origin.
    pub fn assert_not_forwarded(&self, response: &Response) {
        let seen = self.seen(response);
        if !seen.is_empty() {
            panic!(
                "the origin was reached ({} {:?}) but must not have been; response {} {}",
                seen[0].method,
                seen[0].path,
                response.status,
                response.text()
            );
        }
    }

    /// `Ok` if `response` is the uniform invalid-token rejection — 401, `WWW-Authenticate:
    /// Bearer … error="invalid_token"`, JSON body `{"error":"invalid_token"}` — and its request
    /// never reached the origin.
    pub fn check_invalid_token(&self, response: &Response) -> Result<(), String> {
        let challenge = response.header("www-authenticate").unwrap_or("");
        let problems = [
            (
                response.status != 401,
                format!("status {}", response.status),
            ),
            (
                !challenge.starts_with("Bearer") || !challenge.contains(r#"error="invalid_token""#),
                format!("WWW-Authenticate {challenge:?}"),
            ),
            (
                response.json()["error"] != "invalid_token",
                format!("body {:?}", response.text()),
            ),
            (
                !self.seen(response).is_empty(),
                "the origin was reached".to_string(),
            ),
        ];
        let wrong: Vec<String> = problems
            .into_iter()
            .filter(|(bad, _)| *bad)
            .map(|(_, what)| what)
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
    }

    /// Panics (with the Workers' log) unless [`check_invalid_token`](Self::check_invalid_token) holds.
    pub fn assert_invalid_token(&self, response: &Response) {
        if let Err(e) = self.check_invalid_token(response) {
            panic!(
                "expected an invalid_token rejection: {e}\n{}",
                self.log_tail()
            );
        }
    }

    /// Panics (with the body and the Workers' log) unless the status is `status`.
    pub fn assert_status(&self, response: &Response, status: u16) {
        if response.status != status {
            panic!(
                "expected status {status}, got {}: {}\n{}",
                response.status,
                response.text(),
                self.log_tail()
            );
        }
    }

    /// The JSON log line `worker` (`"auth"` or `"authz"`) wrote for this response's request
    /// (found by its request id: the response's `x-request-id` on a refusal, the one the origin
    /// saw on a forwarded request), waiting up to 5 s for the output to be written; `None` if
    /// it never is.
    pub fn log_line(&self, worker: &str, response: &Response) -> Option<Value> {
        self.log_line_of(worker, &self.request_id(response)?)
    }

    /// The JSON log line `worker` wrote for the request with `request_id`, waiting up to 5 s
    /// for the output to be written; `None` if it never is.
    pub fn log_line_of(&self, worker: &str, request_id: &str) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .log_lines_of(request_id)
                .into_iter()
                .find(|line| line["worker"] == worker);
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The request id of this response's request: its `x-request-id` (every refusal carries
    /// one), else the one the origin received.
    pub fn request_id(&self, response: &Response) -> Option<String> {
        if let Some(id) = response.header("x-request-id") {
            return Some(id.to_owned());
        }
        let seen = self.seen(response);
        seen.first()?.header("x-request-id").map(str::to_owned)
    }

    /// Every JSON log line of the request with `request_id`, in order, from both Workers.
    pub fn log_lines_of(&self, request_id: &str) -> Vec<Value> {
        self.stack
            .log()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line.get(line.find('{')?..)?).ok())
            .filter(|value| value["request_id"] == request_id && value["worker"].is_string())
            .collect()
    }

    /// The last 40 lines the Workers printed, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = self.stack.log();
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(40);
        format!("--- Workers' log (tail) ---\n{}", lines[start..].join("\n"))
    }
}

/// Runs `check` on every case, several at a time, and panics listing every case that failed
/// (by its `Debug` form), so one run shows all broken cases rather than the first.
pub fn check_all<T: std::fmt::Debug + Sync>(
    cases: &[T],
    check: impl Fn(&T) -> Result<(), String> + Sync,
) {
    const AT_ONCE: usize = 6;
    let mut failures = Vec::new();
    for batch in cases.chunks(AT_ONCE) {
        std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|case| (case, s.spawn(|| check(case))))
                .collect();
            for (case, handle) in handles {
                match handle.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failures.push(format!("{case:?}: {e}")),
                    Err(_) => failures.push(format!("{case:?}: panicked")),
                }
            }
        });
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} cases failed:\n  {}",
            failures.len(),
            cases.len(),
            failures.join("\n  ")
        );
    }
}
