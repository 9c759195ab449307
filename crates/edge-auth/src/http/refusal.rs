//! The one mapping from a rejection to an HTTP response, so every refusal
//! from either Worker has the same shape (RFC 6750 for the bearer parts).

use serde::Serialize;

use crate::{Challenge, Outcome};
use crate::{ContextError, CredentialError, HandoffError};
use rule_table::{MethodError, PathError};

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A token was presented but is not acceptable (401, `invalid_token`).
    InvalidToken {
        /// Short, safe explanation such as `"token expired"`; never token content.
        description: &'static str,
    },
    /// No usable identity for a route that needs one (401, no error code).
    Unauthorized,
    /// Authenticated but not allowed (403).
    Forbidden {
        /// A required scope was missing (`insufficient_scope`; the refusal lists the scopes).
        insufficient_scope: bool,
    },
    /// A gateway endpoint that does not exist: the protected-resource metadata of another
    /// resource than `RESOURCE` (404).
    NotFound,
    /// The request itself is unacceptable (400).
    BadRequest,
    /// A method the edge never forwards: TRACE, TRACK, CONNECT (405, `bad_request`). No
    /// `Allow` header: what is allowed depends on the path and the identity.
    MethodNeverForwarded,
    /// Keys cannot be obtained right now (503).
    JwksUnavailable {
        /// Seconds for `Retry-After`.
        retry_after_seconds: u64,
    },
    /// The Worker's configuration is invalid (500).
    Misconfigured,
    /// The next hop (the authz Worker or the origin) could not be reached (502).
    UpstreamUnavailable,
}

impl Rejection {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidToken { .. } | Self::Unauthorized => 401,
            Self::Forbidden { .. } => 403,
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::MethodNeverForwarded => 405,
            Self::JwksUnavailable { .. } => 503,
            Self::Misconfigured => 500,
            Self::UpstreamUnavailable => 502,
        }
    }

    /// The outcome recorded in the log line.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::InvalidToken { .. } => Outcome::InvalidToken,
            Self::Unauthorized => Outcome::Unauthenticated,
            Self::Forbidden { .. } => Outcome::Forbidden,
            Self::BadRequest | Self::MethodNeverForwarded => Outcome::BadRequest,
            Self::NotFound => Outcome::NotFound,
            Self::JwksUnavailable { .. } => Outcome::JwksUnavailable,
            Self::Misconfigured => Outcome::Misconfigured,
            Self::UpstreamUnavailable => Outcome::UpstreamUnavailable,
        }
    }
}

impl From<&MethodError> for Rejection {
    /// TRACE, TRACK and CONNECT are 405; a method that is no HTTP token is 400.
    fn from(e: &MethodError) -> Self {
        match e {
            MethodError::InvalidToken => Self::BadRequest,
            MethodError::NeverForwarded => Self::MethodNeverForwarded,
        }
    }
}

impl From<&PathError> for Rejection {
    /// Every path the edge refuses (malformed, ambiguous, an ASCII look-alike) is 400.
    fn from(_: &PathError) -> Self {
        Self::BadRequest
    }
}

impl From<&CredentialError> for Rejection {
    /// Another scheme (e.g. `Basic`) is "no Bearer credentials" (RFC 6750
    /// §3.1: no error code); a garbled, oversized or ambiguous credential is
    /// `invalid_token` at once: the request never goes on as anonymous.
    fn from(e: &CredentialError) -> Self {
        match e {
            CredentialError::UnsupportedScheme => Self::Unauthorized,
            CredentialError::Malformed { .. } => Self::InvalidToken {
                description: "malformed token",
            },
            CredentialError::TooLarge { .. } => Self::InvalidToken {
                description: "token too large",
            },
            CredentialError::Conflicting | CredentialError::DuplicateAccessCookie => {
                Self::InvalidToken {
                    description: "conflicting credentials",
                }
            }
        }
    }
}

impl From<&jose_jwt::Error> for Rejection {
    /// Every verification failure is `invalid_token`; the description names the
    /// class of failure only (the log line carries the exact code). An unusable shared
    /// secret is the server's fault: [`Rejection::Misconfigured`].
    fn from(e: &jose_jwt::Error) -> Self {
        use jose_jwt::Error as E;
        let description = match e {
            // The configuration is checked to rule this out; if it happens anyway it is ours
            // to fix, not the client's: 500, never a pass.
            E::SecretInvalid { .. } => return Self::Misconfigured,
            E::Expired => "token expired",
            E::NotYetValid => "token not yet valid",
            E::SignatureVerificationFailed => "signature verification failed",
            E::AlgNotAllowed => "algorithm not allowed",
            E::NoMatchingKey => "no matching key",
            E::MultipleMatchingKeys => "ambiguous key",
            E::ClaimValidationFailed { .. } => "claim validation failed",
            E::TokenTooLarge => "token too large",
            E::NotSupported { .. } => "unsupported token",
            E::JwsInvalid { .. }
            | E::JwtInvalid { .. }
            | E::JwkInvalid { .. }
            | E::JwksInvalid { .. }
            | E::InvalidOptions { .. }
            | E::VerifierFailed { .. } => "malformed token",
        };
        Self::InvalidToken { description }
    }
}

impl From<&HandoffError> for Rejection {
    /// A verified token whose claims cannot make a trustworthy identity is refused.
    fn from(_: &HandoffError) -> Self {
        Self::InvalidToken {
            description: "unusable identity claims",
        }
    }
}

impl From<&ContextError> for Rejection {
    /// An expired token is the client's to refresh; every other context
    /// failure means the identity cannot be trusted, which is answered as
    /// "no identity" (the log line's reason code tells operators which).
    /// A present-but-bad context must never be downgraded to anonymous access.
    fn from(e: &ContextError) -> Self {
        match e {
            ContextError::Expired => Self::InvalidToken {
                description: "token expired",
            },
            ContextError::TooLarge
            | ContextError::Malformed
            | ContextError::UnsupportedVersion
            | ContextError::BadSignature
            | ContextError::InvalidPayload
            | ContextError::Stale
            | ContextError::FromFuture
            | ContextError::Mismatch => Self::Unauthorized,
        }
    }
}

/// A complete error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// HTTP status.
    pub status: u16,
    /// Header names are lowercase.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: String,
}

impl ErrorResponse {
    /// The `ResponseInit` as JSON, `{"status":…,"headers":{…}}`: the Worker builds the response
    /// from it with one `JSON.parse` instead of one runtime call per header.
    pub fn init_json(&self) -> String {
        init_json(self.status, &self.headers)
    }
}

/// `{"status":…,"headers":{…}}` for a `ResponseInit`.
pub(crate) fn init_json(status: u16, headers: &[(&'static str, String)]) -> String {
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.as_str().into()))
        .collect();
    serde_json::json!({ "status": status, "headers": headers }).to_string()
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

/// Build the response for `rejection`. Every `WWW-Authenticate` names the realm and, when
/// there is one, `resource_metadata` (RFC 9728 §5.1) from `challenge`; an `insufficient_scope`
/// one adds `scope`, the `required_scopes` that are OAuth scope-tokens, space-delimited
/// (RFC 6750 §3). Each value is a quoted-string (see `quoted`).
pub fn error_response(
    rejection: &Rejection,
    required_scopes: &[String],
    challenge: &Challenge<'_>,
    request_id: &str,
) -> ErrorResponse {
    let bearer = || {
        let mut out = format!("Bearer realm=\"{}\"", quoted(challenge.realm()));
        if let Some(url) = challenge.resource_metadata() {
            out.push_str(&format!(", resource_metadata=\"{}\"", quoted(&url)));
        }
        out
    };
    let (error, description, challenge) = match rejection {
        Rejection::InvalidToken { description } => (
            "invalid_token",
            Some(*description),
            Some(format!(
                "{}, error=\"invalid_token\", error_description=\"{}\"",
                bearer(),
                quoted(description)
            )),
        ),
        Rejection::Unauthorized => ("unauthorized", None, Some(bearer())),
        Rejection::Forbidden {
            insufficient_scope: true,
        } => {
            let mut header = format!("{}, error=\"insufficient_scope\"", bearer());
            let scopes: Vec<&str> = required_scopes
                .iter()
                .map(String::as_str)
                .filter(|s| crate::is_scope_token(s))
                .collect();
            if !scopes.is_empty() {
                header.push_str(&format!(", scope=\"{}\"", quoted(&scopes.join(" "))));
            }
            ("insufficient_scope", None, Some(header))
        }
        Rejection::Forbidden {
            insufficient_scope: false,
        } => ("forbidden", None, None),
        Rejection::BadRequest | Rejection::MethodNeverForwarded => ("bad_request", None, None),
        Rejection::NotFound => ("not_found", None, None),
        Rejection::JwksUnavailable { .. } => ("jwks_unavailable", None, None),
        Rejection::Misconfigured => ("server_misconfigured", None, None),
        Rejection::UpstreamUnavailable => ("bad_gateway", None, None),
    };
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("cache-control", "no-store".to_owned()),
        (crate::REQUEST_ID_HEADER, printable(request_id)),
    ];
    if let Some(challenge) = challenge {
        headers.push(("www-authenticate", challenge));
    }
    if let Rejection::JwksUnavailable {
        retry_after_seconds,
    } = rejection
    {
        headers.push(("retry-after", retry_after_seconds.to_string()));
    }
    let body = serde_json::to_string(&Body {
        error,
        error_description: description,
    })
    // Serializing two strings cannot fail; keep a valid body regardless.
    .unwrap_or_else(|_| format!("{{\"error\":\"{error}\"}}"));
    ErrorResponse {
        status: rejection.status(),
        headers,
        body,
    }
}

/// Content for an RFC 9110 quoted-string: `"` and `\` are backslash-escaped,
/// anything not printable ASCII becomes `?` (it cannot be sent in a header).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
#[path = "refusal_tests.rs"]
mod tests;
