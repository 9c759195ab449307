//! One structured JSON log line per request.
//!
//! Every field is typed or sanitized on the way in, and there is no free-form
//! text field: a token, signature or secret has no place to go. The reason
//! is a `&'static str` code (from an error's `code()`), and strings taken from
//! the request are cut short and stripped of anything unprintable.

use serde::Serialize;

use crate::EmailWithheld;
use jose_jwt::TokenAlgorithm;

/// Longest `cf-ray` accepted as a request id.
const MAX_RAY_LEN: usize = 64;
/// Caps for request-derived strings. A `kid` longer than this could smuggle
/// a signature, so it is cut.
const MAX_KID: usize = 64;
const MAX_SUB: usize = 128;
const MAX_PATH: usize = 256;
const MAX_METHOD: usize = 16;
const MAX_RULE_NAME: usize = 64;

/// Which Worker wrote the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerName {
    /// The token-verifying Worker.
    Auth,
    /// The rule-applying Worker.
    Authz,
}

/// What happened to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Passed on.
    Allowed,
    /// Answered by the gateway itself (its own `/.well-known/` endpoint), never forwarded.
    Answered,
    /// A gateway endpoint that does not exist (404).
    NotFound,
    /// No identity where one was needed.
    Unauthenticated,
    /// A token was refused.
    InvalidToken,
    /// Keys could not be fetched.
    JwksUnavailable,
    /// Authenticated but not allowed.
    Forbidden,
    /// Unacceptable request.
    BadRequest,
    /// Invalid configuration.
    Misconfigured,
    /// The next hop could not be reached.
    UpstreamUnavailable,
    /// Answered by the gateway itself (its JWK Set), never forwarded.
    Served,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct RuleRef {
    index: usize,
    name: String,
}

/// A finished log line; serialize it with [`LogLine::to_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    request_id: String,
    worker: WorkerName,
    method: String,
    path: String,
    outcome: Outcome,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<RuleRef>,
    /// The rule the auth Worker's own decision matched (the authz Worker's line only).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_hop_rule: Option<usize>,
    /// The auth Worker decided with another rule table than the authz Worker that wrote this.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    rules_mismatch: bool,
    /// The token was verified earlier in this isolate (no signature check this time).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cached: bool,
    /// Why the token's e-mail address was not forwarded (an [`EmailWithheld`] code).
    #[serde(skip_serializing_if = "Option::is_none")]
    email_withheld: Option<&'static str>,
    /// The upstream the rule chose (absent: the default target).
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<String>,
    /// The variable, secret or header a configuration problem is about (a name, never a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    config_name: Option<String>,
    /// A fixed code refining the reason of a configuration problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    config_problem: Option<&'static str>,
    status: u16,
}

impl LogLine {
    /// Start a line; the outcome defaults to `allowed` / `ok` / 200.
    pub fn builder(worker: WorkerName, request_id: &str) -> LogLineBuilder {
        LogLineBuilder(LogLine {
            request_id: clean(request_id, MAX_RAY_LEN),
            worker,
            method: String::new(),
            path: String::new(),
            outcome: Outcome::Allowed,
            reason: "ok",
            kid: None,
            alg: None,
            sub: None,
            rule: None,
            first_hop_rule: None,
            rules_mismatch: false,
            cached: false,
            email_withheld: None,
            upstream: None,
            config_name: None,
            config_problem: None,
            status: 200,
        })
    }

    /// One JSON object, no newline.
    pub fn to_json(&self) -> String {
        // Only strings and integers: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Builder for [`LogLine`].
#[derive(Debug, Clone)]
pub struct LogLineBuilder(LogLine);

impl LogLineBuilder {
    /// HTTP method (cut to 16 token characters).
    pub fn method(mut self, method: &str) -> Self {
        self.0.method = clean(method, MAX_METHOD);
        self
    }
    /// Request path; any query string or fragment is dropped (they can carry tokens).
    pub fn path(mut self, path: &str) -> Self {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        self.0.path = clean(path, MAX_PATH);
        self
    }
    /// Outcome and its reason code (use an error's `code()`).
    pub fn outcome(mut self, outcome: Outcome, reason: &'static str) -> Self {
        self.0.outcome = outcome;
        self.0.reason = reason;
        self
    }
    /// Key id from the token header.
    pub fn kid(mut self, kid: &str) -> Self {
        self.0.kid = Some(clean(kid, MAX_KID));
        self
    }
    /// Algorithm used (`ES256`, `HS256`, …).
    pub fn alg(mut self, alg: impl Into<TokenAlgorithm>) -> Self {
        self.0.alg = Some(alg.into().as_str());
        self
    }
    /// Subject of the verified identity.
    pub fn subject(mut self, sub: &str) -> Self {
        self.0.sub = Some(clean(sub, MAX_SUB));
        self
    }
    /// The rule that decided (index in the table, and its name).
    pub fn rule(mut self, index: usize, name: &str) -> Self {
        self.0.rule = Some(RuleRef {
            index,
            name: clean(name, MAX_RULE_NAME),
        });
        self
    }
    /// The rule the auth Worker's decision matched, from its context.
    pub fn first_hop_rule(mut self, index: usize) -> Self {
        self.0.first_hop_rule = Some(index);
        self
    }
    /// The auth Worker's rule table differs from this Worker's (`rules_mismatch`).
    pub fn rules_mismatch(mut self) -> Self {
        self.0.rules_mismatch = true;
        self
    }
    /// The token was taken from the isolate's cache of verified tokens.
    pub fn cached(mut self) -> Self {
        self.0.cached = true;
        self
    }
    /// The token's e-mail address was not forwarded, for this reason.
    pub fn email_withheld(mut self, reason: EmailWithheld) -> Self {
        self.0.email_withheld = Some(reason.code());
        self
    }
    /// The upstream the request went (or was to go) to.
    pub fn upstream(mut self, name: &str) -> Self {
        self.0.upstream = Some(clean(name, MAX_RULE_NAME));
        self
    }
    /// The variable, secret or header a configuration problem is about, and its fixed code.
    pub fn config(mut self, name: &str, problem: Option<&'static str>) -> Self {
        self.0.config_name = Some(clean(name, MAX_RULE_NAME));
        self.0.config_problem = problem;
        self
    }
    /// HTTP status returned.
    pub fn status(mut self, status: u16) -> Self {
        self.0.status = status;
        self
    }
    /// Finish.
    pub fn build(self) -> LogLine {
        self.0
    }
}

/// Printable ASCII only (others become `?`), at most `max` characters.
fn clean(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The request id: `cf-ray` when it is present and well-formed (1–64
/// characters of `[A-Za-z0-9-]`), else `fallback()`.
pub fn request_id(cf_ray: Option<&str>, fallback: impl FnOnce() -> String) -> String {
    match cf_ray {
        Some(ray)
            if !ray.is_empty()
                && ray.len() <= MAX_RAY_LEN
                && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            ray.to_owned()
        }
        _ => fallback(),
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
