//! The signed identity context (`X-Auth-Context`) passed from the auth Worker
//! to the authz Worker, bound to the one request it was signed for.
//!
//! Wire format: `v2.<payload>.<mac>` where `payload` is the unpadded base64url
//! of a JSON object and `mac` is the unpadded base64url of
//! `HMAC-SHA256(CONTEXT_SECRET, "v2." + payload)`. The payload carries the
//! identity (with the token's `iss` and, when it has one, its bounded `act`
//! chain, which the authz Worker nests into the assertion it signs), `iat`, and `req`: the unpadded base64url of the SHA-256 of the
//! [`RequestBinding`] (method, path and query, request id), each field
//! length-prefixed. The verifier checks the MAC in constant time before it
//! parses anything, then that `req` is the digest of its own request, then
//! freshness.
//!
//! Why a digest inside the signed payload, rather than the binding fed to the
//! MAC alone or the binding's fields copied into the payload: a binding that
//! only enters the MAC makes "another request" indistinguishable from "forged",
//! so operators could not tell a replay (`context_mismatch`) from a wrong
//! secret (`context_bad_signature`); copied fields would make the header grow
//! with the URL (a long query could push it past [`MAX_CONTEXT_HEADER_BYTES`]
//! and refuse a legitimate request) and would copy the query, which may carry
//! secrets of its own, into one more header. The digest is 43 characters for
//! any URL, and the length prefixes leave no field-boundary ambiguity
//! (`"GET /a"` + `""` and `"GET"` + `"/a"` are different inputs).

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::MAX_CLOCK_SKEW_SECONDS;
use crate::{Actor, HandoffError, Identity, RequestUrl};

type HmacSha256 = Hmac<Sha256>;

/// Minimum length of `CONTEXT_SECRET`, in bytes.
pub const MIN_CONTEXT_SECRET_BYTES: usize = 32;
/// Largest context header value the verifier will look at.
pub const MAX_CONTEXT_HEADER_BYTES: usize = 16 * 1024;
/// Default freshness window of a context, in seconds.
pub const DEFAULT_CONTEXT_MAX_AGE_SECONDS: i64 = 60;
/// How far in the future `iat` may be. Both Workers read the same edge
/// clock, so only a little drift between isolates is tolerated.
pub const CONTEXT_FUTURE_SKEW_SECONDS: i64 = 5;

const VERSION: &str = "v2";
const VERSION_PREFIX: &str = "v2.";
/// Length of a base64url (unpadded) HMAC-SHA256 tag.
const MAC_B64_LEN: usize = 43;

/// The HMAC key shared by both Workers, derived from `CONTEXT_SECRET`.
///
/// Holds a keyed HMAC state, not the secret string; `Debug` is redacted.
#[derive(Clone)]
pub struct ContextKey {
    mac: HmacSha256,
}

impl ContextKey {
    /// Key from the `CONTEXT_SECRET` string (its UTF-8 bytes are the key).
    pub fn new(secret: &str) -> Result<Self, HandoffError> {
        if secret.len() < MIN_CONTEXT_SECRET_BYTES {
            return Err(HandoffError::ContextSecretTooShort);
        }
        Self::from_key_bytes(secret.as_bytes())
    }

    /// Any key length; only the length check above is skipped (used for
    /// known-answer tests with the RFC 4231 keys).
    fn from_key_bytes(key: &[u8]) -> Result<Self, HandoffError> {
        // HMAC accepts keys of any length, so this cannot fail in practice.
        let mac =
            HmacSha256::new_from_slice(key).map_err(|_| HandoffError::ContextSecretTooShort)?;
        Ok(Self { mac })
    }

    fn tag(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        mac
    }
}

/// The request a context is signed for and checked against: its method, the path and query
/// of its URL exactly as serialized ([`RequestUrl::target`]: `/a` and `/a?` differ), and its
/// request id (`x-request-id`, set by the auth Worker).
///
/// Both Workers build it the same way, from their own request, and both
/// [`sign_context`] and [`verify_context`] take it, so neither can leave a field out.
/// It limits a captured context to the one request it was made for: replaying that exact
/// request (same method, path, query and request id) inside the freshness window is what
/// remains, with the rights the token already gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBinding<'r> {
    method: &'r str,
    path_and_query: &'r str,
    request_id: &'r str,
}

impl<'r> RequestBinding<'r> {
    /// The binding of a request with this method (as the runtime gives it), URL and request id.
    pub fn new(method: &'r str, url: &RequestUrl<'r>, request_id: &'r str) -> Self {
        Self {
            method,
            path_and_query: url.target(),
            request_id,
        }
    }

    /// SHA-256 over each field as an 8-byte big-endian length and then its bytes, so no
    /// choice of field values can read as another split of the same bytes.
    fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for field in [self.method, self.path_and_query, self.request_id] {
            hash.update((field.len() as u64).to_be_bytes());
            hash.update(field.as_bytes());
        }
        hash.finalize().into()
    }

    /// [`digest`](Self::digest) as it appears in the payload.
    fn digest_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.digest())
    }
}

impl fmt::Debug for ContextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextKey(<redacted>)")
    }
}

/// Why a context header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextError {
    /// Longer than [`MAX_CONTEXT_HEADER_BYTES`].
    TooLarge,
    /// Not `<version>.<payload>.<mac>` with strict base64url parts.
    Malformed,
    /// A version other than `v2` (a `v1` context, from a release before request binding,
    /// is refused too).
    UnsupportedVersion,
    /// The MAC does not match (wrong secret or tampered value).
    BadSignature,
    /// The MAC matched but the payload is not a valid identity.
    InvalidPayload,
    /// Signed longer ago than the allowed maximum age.
    Stale,
    /// Signed in the future, beyond [`CONTEXT_FUTURE_SKEW_SECONDS`].
    FromFuture,
    /// The token it was made from has expired.
    Expired,
    /// Signed for another request: the method, the path and query, or the request id differ.
    Mismatch,
}

impl ContextError {
    /// Stable machine-readable code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "context_too_large",
            Self::Malformed => "context_malformed",
            Self::UnsupportedVersion => "context_unsupported_version",
            Self::BadSignature => "context_bad_signature",
            Self::InvalidPayload => "context_invalid_payload",
            Self::Stale => "context_stale",
            Self::FromFuture => "context_from_future",
            Self::Expired => "context_expired",
            Self::Mismatch => "context_mismatch",
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "the identity context header is too large",
            Self::Malformed => "the identity context header is malformed (expected v2.<payload>.<mac>)",
            Self::UnsupportedVersion => {
                "the identity context header has an unsupported version; deploy both Workers from the same release"
            }
            Self::BadSignature => {
                "the identity context signature does not match; check that both Workers have the same CONTEXT_SECRET"
            }
            Self::InvalidPayload => {
                "the identity context payload is not a valid identity; deploy both Workers from the same release"
            }
            Self::Stale => "the identity context is too old; it must be used right after it is signed",
            Self::FromFuture => "the identity context was signed in the future; check the clocks",
            Self::Expired => "the token behind the identity context has expired",
            Self::Mismatch => {
                "the identity context was signed for another request (method, path and query, or request id differ); it is valid only for the request the auth Worker signed it for"
            }
        })
    }
}

impl std::error::Error for ContextError {}

/// What the auth Worker tells the authz Worker besides the identity: the digest of the rule
/// table it decided with (a different one means the two were deployed from different tables),
/// and the facts about the token the request's one log line needs. Signed with the identity;
/// every field optional, so a context without them (`ContextNotes::default()`) is byte for byte
/// the context without notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextNotes {
    /// The auth Worker's rule table digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// The rule the auth Worker's own decision matched (its 1-based index): the first hop
    /// decided too, and this is what it concluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The token header's `alg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// The token came from the auth Worker's verified-token cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// Why the token's e-mail was not forwarded (an `EmailWithheld` code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_withheld: Option<String>,
}

impl ContextNotes {
    fn is_empty(&self) -> bool {
        *self == ContextNotes::default()
    }
}

/// The JSON payload, field order fixed (it is part of the wire format).
#[derive(Serialize)]
struct PayloadOut<'a> {
    sub: &'a str,
    roles: &'a [String],
    scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    exp: i64,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<&'a Actor>,
    iat: i64,
    req: &'a str,
    #[serde(skip_serializing_if = "ContextNotes::is_empty")]
    notes: &'a ContextNotes,
}

#[derive(Deserialize)]
struct PayloadIn {
    sub: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    #[serde(default)]
    email: Option<String>,
    exp: i64,
    iss: String,
    /// Validated on the way in ([`Actor`]'s bounds): a payload over them is invalid.
    #[serde(default)]
    act: Option<Actor>,
    iat: i64,
    req: String,
    #[serde(default)]
    notes: ContextNotes,
}

/// Sign `identity` for the request `binding` at time `now_unix`; the result is the header value.
pub fn sign_context(
    identity: &Identity,
    key: &ContextKey,
    binding: &RequestBinding<'_>,
    now_unix: i64,
) -> String {
    sign_context_with_notes(identity, &ContextNotes::default(), key, binding, now_unix)
}

/// [`sign_context`] with the auth Worker's [`ContextNotes`].
pub fn sign_context_with_notes(
    identity: &Identity,
    notes: &ContextNotes,
    key: &ContextKey,
    binding: &RequestBinding<'_>,
    now_unix: i64,
) -> String {
    let req = binding.digest_b64();
    let payload = PayloadOut {
        sub: &identity.sub,
        roles: &identity.roles,
        scopes: &identity.scopes,
        email: identity.email.as_deref(),
        exp: identity.exp,
        iss: &identity.issuer,
        act: identity.act.as_ref(),
        iat: now_unix,
        req: &req,
        notes,
    };
    // Serializing plain strings and integers cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    let mut out = String::with_capacity(VERSION_PREFIX.len() + json.len() * 4 / 3 + 48);
    out.push_str(VERSION_PREFIX);
    URL_SAFE_NO_PAD.encode_string(&json, &mut out);
    let tag = key.tag(&[out.as_bytes()]).finalize().into_bytes();
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut out);
    out
}

/// Verify a context header value for the request `binding` and return the identity it carries.
///
/// Order: size, shape, version, MAC (constant time), then JSON, then the binding (the
/// context must have been signed for this very request: [`ContextError::Mismatch`]
/// otherwise), then time:
/// `iat` may be at most `max_age_seconds` old and at most
/// [`CONTEXT_FUTURE_SKEW_SECONDS`] in the future; the token's `exp` must not
/// have passed by more than [`MAX_CLOCK_SKEW_SECONDS`] — the auth Worker
/// already enforced `exp` with its own configured leeway (capped at that
/// value), and this check only stops a context carrying a clearly dead token.
pub fn verify_context(
    header_value: &str,
    key: &ContextKey,
    binding: &RequestBinding<'_>,
    now_unix: i64,
    max_age_seconds: i64,
) -> Result<Identity, ContextError> {
    open_context(header_value, key, binding, now_unix, max_age_seconds)
        .map(|(identity, _)| identity)
}

/// [`verify_context`], also returning the auth Worker's [`ContextNotes`] (only ever from a
/// context that verified).
pub fn open_context(
    header_value: &str,
    key: &ContextKey,
    binding: &RequestBinding<'_>,
    now_unix: i64,
    max_age_seconds: i64,
) -> Result<(Identity, ContextNotes), ContextError> {
    if header_value.len() > MAX_CONTEXT_HEADER_BYTES {
        return Err(ContextError::TooLarge);
    }
    let mut parts = header_value.split('.');
    let (Some(version), Some(payload_b64), Some(mac_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ContextError::Malformed);
    };
    if version != VERSION {
        return Err(ContextError::UnsupportedVersion);
    }
    if mac_b64.len() != MAC_B64_LEN || payload_b64.is_empty() {
        return Err(ContextError::Malformed);
    }
    let mac = URL_SAFE_NO_PAD
        .decode(mac_b64)
        .map_err(|_| ContextError::Malformed)?;
    key.tag(&[VERSION_PREFIX.as_bytes(), payload_b64.as_bytes()])
        .verify_slice(&mac)
        .map_err(|_| ContextError::BadSignature)?;

    let json = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| ContextError::InvalidPayload)?;
    let p: PayloadIn = serde_json::from_slice(&json).map_err(|_| ContextError::InvalidPayload)?;
    if p.sub.is_empty() || p.iss.is_empty() {
        return Err(ContextError::InvalidPayload);
    }
    // Both digests are of requests the caller knows, and the MAC already authenticated the
    // payload: plain equality leaks nothing.
    if p.req != binding.digest_b64() {
        return Err(ContextError::Mismatch);
    }

    let age = now_unix.saturating_sub(p.iat);
    if age > max_age_seconds.max(0) {
        return Err(ContextError::Stale);
    }
    if age < -CONTEXT_FUTURE_SKEW_SECONDS {
        return Err(ContextError::FromFuture);
    }
    if now_unix >= p.exp.saturating_add(MAX_CLOCK_SKEW_SECONDS) {
        return Err(ContextError::Expired);
    }
    let identity = Identity {
        sub: p.sub,
        roles: p.roles,
        scopes: p.scopes,
        email: p.email,
        exp: p.exp,
        issuer: p.iss,
        act: p.act,
    };
    Ok((identity, p.notes))
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
