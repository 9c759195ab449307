//! Upstreams at run time: the URL each one goes to in this deployment (its `url_var`, when set,
//! replaces the table's `url`), the headers rendered from the verified identity, and the bearer
//! secret's value checked before anything is sent. The rule table holds the definitions; the
//! authz Worker only reads the secret and sends.

use core::fmt;

use rule_table::{
    HeaderTemplate, JsonTemplate, Placeholder, RuleTable, Upstream, UpstreamUrl, UrlProblem,
};
use serde_json::Value;

use crate::wire::identity_headers::ascii_json;
use crate::{is_header_safe, Identity};

/// Why an upstream's request cannot be sent; every one is a 500 for that upstream's routes
/// only, and names the variable, secret or header (never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The upstream's `url_var` is set to a URL the table would refuse.
    UrlVarInvalid {
        /// The upstream.
        upstream: String,
        /// The variable.
        var: String,
        /// What is wrong with its value.
        problem: UrlProblem,
    },
    /// The upstream's `bearer_secret` is not set on the Worker (or is empty).
    SecretMissing {
        /// The upstream.
        upstream: String,
        /// The secret's name.
        secret: String,
    },
    /// The secret's value cannot go in a header as it is (spaces, controls, non-ASCII).
    SecretUnusable {
        /// The upstream.
        upstream: String,
        /// The secret's name.
        secret: String,
    },
    /// A plain header template rendered a value that is not header-safe (a claim holding a
    /// control or non-ASCII character): refused rather than sent rewritten.
    UnsafeHeaderValue {
        /// The upstream.
        upstream: String,
        /// The header.
        header: String,
    },
}

impl UpstreamError {
    /// Stable machine-readable code (the log line's reason).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UrlVarInvalid { .. } => "upstream_url_invalid",
            Self::SecretMissing { .. } => "upstream_secret_missing",
            Self::SecretUnusable { .. } => "upstream_secret_unusable",
            Self::UnsafeHeaderValue { .. } => "upstream_header_unsafe",
        }
    }

    /// The upstream concerned.
    pub fn upstream(&self) -> &str {
        match self {
            Self::UrlVarInvalid { upstream, .. }
            | Self::SecretMissing { upstream, .. }
            | Self::SecretUnusable { upstream, .. }
            | Self::UnsafeHeaderValue { upstream, .. } => upstream,
        }
    }

    /// The variable, secret or header at fault (a name from the rule table, never a value).
    pub fn name(&self) -> &str {
        match self {
            Self::UrlVarInvalid { var, .. } => var,
            Self::SecretMissing { secret, .. } | Self::SecretUnusable { secret, .. } => secret,
            Self::UnsafeHeaderValue { header, .. } => header,
        }
    }

    /// A fixed code refining [`code`](Self::code) (the URL's problem), for the log line.
    pub fn problem(&self) -> Option<&'static str> {
        match self {
            Self::UrlVarInvalid { problem, .. } => Some(problem.code()),
            _ => None,
        }
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UrlVarInvalid { upstream, var, problem } => write!(
                f,
                "upstream {upstream:?}: variable {var} {problem}; fix it or remove it to use the table's url"
            ),
            Self::SecretMissing { upstream, secret } => write!(
                f,
                "upstream {upstream:?}: secret {secret} is not set; set it with `wrangler secret put {secret} -c wrangler.authz.toml`"
            ),
            Self::SecretUnusable { upstream, secret } => write!(
                f,
                "upstream {upstream:?}: secret {secret} holds spaces, control or non-ASCII characters, so it cannot be sent as a bearer token; set it to the token alone"
            ),
            Self::UnsafeHeaderValue { upstream, header } => write!(
                f,
                "upstream {upstream:?}: header {header} would carry a value with control or non-ASCII characters; the request is refused rather than sent rewritten (declare it as a JSON template, {{ json = … }}, to carry any text)"
            ),
        }
    }
}

impl std::error::Error for UpstreamError {}

/// The URL of every upstream in this deployment: the table's `url`, or its `url_var`'s value
/// when that is set (checked as the table's is).
#[derive(Debug, Clone, Default)]
pub struct UpstreamUrls(Vec<(String, Result<UpstreamUrl, UpstreamError>)>);

impl UpstreamUrls {
    /// Resolves every upstream of `table`; `get` reads a Worker variable (empty is unset).
    pub fn from_env(table: &RuleTable, get: impl Fn(&str) -> Option<String>) -> Self {
        let resolve = |u: &Upstream| {
            let set = u
                .url_var()
                .and_then(|var| Some((var, get(var).filter(|v| !v.trim().is_empty())?)));
            match set {
                None => Ok(u.url().clone()),
                Some((var, raw)) => {
                    UpstreamUrl::parse(&raw).map_err(|problem| UpstreamError::UrlVarInvalid {
                        upstream: u.name().to_owned(),
                        var: var.to_owned(),
                        problem,
                    })
                }
            }
        };
        Self(
            table
                .upstreams()
                .map(|u| (u.name().to_owned(), resolve(u)))
                .collect(),
        )
    }

    /// The URL for `upstream`: resolved at start, else (not resolved: a configuration built
    /// without [`from_env`](Self::from_env)) the table's own.
    pub(crate) fn url<'a>(
        &'a self,
        upstream: &'a Upstream,
    ) -> Result<&'a UpstreamUrl, UpstreamError> {
        match self.0.iter().find(|(name, _)| name == upstream.name()) {
            Some((_, resolved)) => resolved.as_ref().map_err(Clone::clone),
            None => Ok(upstream.url()),
        }
    }
}

/// What the request to an upstream carries besides the target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamForward {
    /// The upstream's name (for the log line).
    pub name: String,
    /// The NAME of the secret to send as `<bearer_header>: Bearer <value>`.
    pub bearer_secret: Option<String>,
    /// The header the secret goes in (lowercase; `authorization` unless the table says).
    pub bearer_header: String,
    /// The headers rendered from the identity (lowercase names), set after stripping.
    pub headers: Vec<(String, String)>,
    /// The client's `Authorization`, `Cf-Access-Jwt-Assertion` and `Cookie` go on.
    pub forward_client_credentials: bool,
    /// The identity headers (`X-User-*`, the gateway's assertion) go on.
    pub identity_headers: bool,
}

/// The value of one placeholder for this request; `None` when the request has none.
fn placeholder<'a>(
    p: Placeholder,
    identity: Option<&'a Identity>,
    roles: Option<&'a str>,
    request_id: Option<&'a str>,
) -> Option<&'a str> {
    match p {
        Placeholder::Sub => identity.map(|id| id.sub.as_str()),
        Placeholder::Email => identity.and_then(|id| id.email.as_deref()),
        Placeholder::Iss => identity.map(|id| id.issuer.as_str()),
        Placeholder::Roles => roles,
        Placeholder::RequestId => request_id,
    }
}

/// Renders `upstream`'s headers for `identity` (`None`: anonymous) and `request_id`.
///
/// A plain template is sent as rendered and must be header-safe (else the request is refused);
/// one whose placeholder has no value (`{email}` without an e-mail) is left out. A JSON template
/// is serialized compactly with every non-ASCII and control character `\u`-escaped, so any text
/// fits; a missing value is `""`, and a string that is exactly `"{roles}"` is the roles' array.
pub(crate) fn render_headers(
    upstream: &Upstream,
    identity: Option<&Identity>,
    request_id: Option<&str>,
) -> Result<Vec<(String, String)>, UpstreamError> {
    let roles = identity.map(|id| ascii_json(&id.roles));
    let value = |p| placeholder(p, identity, roles.as_deref(), request_id);
    let mut out = Vec::with_capacity(upstream.headers().len());
    for (name, template) in upstream.headers() {
        let rendered = match template {
            HeaderTemplate::Plain(t) => match t.render(value) {
                None => continue,
                Some(v) if is_header_safe(&v) => v,
                Some(_) => {
                    return Err(UpstreamError::UnsafeHeaderValue {
                        upstream: upstream.name().to_owned(),
                        header: name.clone(),
                    })
                }
            },
            HeaderTemplate::Json(j) => ascii_json(&json_value(j, identity, &value)),
        };
        out.push((name.clone(), rendered));
    }
    Ok(out)
}

fn json_value<'a>(
    j: &JsonTemplate,
    identity: Option<&Identity>,
    value: &impl Fn(Placeholder) -> Option<&'a str>,
) -> Value {
    match j {
        JsonTemplate::String(t) if t.only() == Some(Placeholder::Roles) => match identity {
            Some(id) => Value::from(id.roles.clone()),
            None => Value::from(""),
        },
        JsonTemplate::String(t) => {
            Value::from(t.render(|p| value(p).or(Some(""))).unwrap_or_default())
        }
        JsonTemplate::Bool(b) => Value::from(*b),
        JsonTemplate::Integer(i) => Value::from(*i),
        JsonTemplate::Float(f) => Value::from(*f),
        JsonTemplate::Array(a) => a.iter().map(|v| json_value(v, identity, value)).collect(),
        JsonTemplate::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), json_value(v, identity, value)))
                .collect(),
        ),
    }
}

/// `Bearer <value>` for the secret `name` (`value` as the Worker read it, `None`: not set).
/// Surrounding whitespace is dropped (a secret piped in with a newline); what is left must be
/// visible ASCII without spaces.
pub(crate) fn bearer(
    upstream: &str,
    name: &str,
    value: Option<String>,
) -> Result<String, UpstreamError> {
    let value = value.unwrap_or_default();
    let token = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if token.is_empty() {
        return Err(UpstreamError::SecretMissing {
            upstream: upstream.to_owned(),
            secret: name.to_owned(),
        });
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UpstreamError::SecretUnusable {
            upstream: upstream.to_owned(),
            secret: name.to_owned(),
        });
    }
    Ok(format!("Bearer {token}"))
}

#[cfg(test)]
#[path = "upstream_tests.rs"]
mod tests;
