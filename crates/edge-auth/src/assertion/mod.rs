//! The assertion the authz Worker gives the origin (`X-Edge-Auth-Assertion`): a JWS it signs
//! for every forwarded request, stating the decision it made — who (or that nobody) is calling,
//! with which roles and scopes, by which rule, for exactly which method and path — so an origin
//! can verify the gateway's word instead of trusting headers, and check that the request it is
//! serving is the one the gateway decided on.
//!
//! [`authorize`](crate::authorize) builds the claims and the signing input ([`mint`]), the
//! Worker signs them with WebCrypto and puts [`UnsignedAssertion::compact`] in the header. The
//! public keys are at [`GATEWAY_JWKS_PATH`](crate::GATEWAY_JWKS_PATH) ([`gateway_endpoint`]).

pub(crate) mod config;
mod jwks;

pub use config::{
    AssertionConfig, DEFAULT_ASSERTION_ACTOR, DEFAULT_ASSERTION_TTL_SECONDS,
    MAX_ASSERTION_TTL_SECONDS,
};
pub(crate) use jwks::gateway_answer;
pub use jwks::{gateway_endpoint, JWKS_CACHE_CONTROL, JWKS_CONTENT_TYPE};

use jose_jwt::sign::{compact, signing_input};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Identity;

/// The header the assertion travels in (clients' copies are stripped by both Workers).
pub const ASSERTION_HEADER: &str = "x-edge-auth-assertion";
/// The assertion's JWS `typ` (RFC 8725 §3.11: explicit typing, so it is never taken for another
/// kind of token, such as an access token, by a verifier that checks `typ`).
pub const ASSERTION_TYP: &str = "edge-auth+jwt";

/// The assertion's claims, members in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssertionClaims {
    /// `ASSERTION_ISSUER`, else the request's own origin.
    pub iss: String,
    /// `ASSERTION_AUDIENCE`, else the origin's URL origin.
    pub aud: String,
    /// The verified subject; absent for an anonymous request on a public route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The subject's roles (absent when anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The subject's scopes, space-separated (absent when anonymous or when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The e-mail address, only when the identity carries one (never an unverified one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The original token's `iss` (absent when anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// Signed at, unix seconds.
    pub iat: i64,
    /// `iat` + `ASSERTION_TTL_SECONDS`.
    pub exp: i64,
    /// The request id (`x-request-id` as the origin receives it).
    pub jti: String,
    /// The method as forwarded.
    pub htm: String,
    /// The normalized path and the query, exactly as forwarded.
    pub path: String,
    /// The rule that allowed the request: its name, or `#<index>` (1-based) for an unnamed one.
    pub rule: String,
    /// RFC 8693 §4.1: `{"sub": ASSERTION_ACTOR}`, with the token's own `act` nested inside.
    pub act: Value,
}

/// An assertion ready to be signed: its claims and the exact bytes the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedAssertion {
    claims: AssertionClaims,
    signing_input: String,
}

impl UnsignedAssertion {
    /// The claims.
    pub fn claims(&self) -> &AssertionClaims {
        &self.claims
    }

    /// `BASE64URL(header).BASE64URL(claims)`: what to sign.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    /// The header value: the compact JWS with `signature` (64 bytes, in its JWS form: Ed25519,
    /// ECDSA `r || s`, HMAC-SHA-512). `None` for a signature of any other length.
    pub fn compact(&self, signature: &[u8]) -> Option<String> {
        compact(&self.signing_input, signature)
    }
}

/// What an assertion states about one allowed request, besides the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decided<'a> {
    pub(crate) identity: Option<&'a Identity>,
    /// The request's own origin (`scheme://host[:port]`).
    pub(crate) request_origin: &'a str,
    /// The origin the request goes to.
    pub(crate) target_origin: &'a str,
    pub(crate) request_id: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path_and_query: &'a str,
    /// The rule that allowed it: 1-based index and name (`""` when unnamed).
    pub(crate) rule: (usize, &'a str),
    pub(crate) now_s: i64,
}

/// The assertion for `decided`, signed by `config`'s key once the Worker has signed its input.
pub(crate) fn mint(
    config: &AssertionConfig,
    decided: &Decided<'_>,
) -> Result<UnsignedAssertion, serde_json::Error> {
    let identity = decided.identity;
    let mut act = Map::new();
    act.insert("sub".into(), Value::String(config.actor().to_owned()));
    if let Some(incoming) = identity.and_then(|id| id.act.as_ref()) {
        act.insert("act".into(), Value::Object(incoming.as_map().clone()));
    }
    let (index, name) = decided.rule;
    let claims = AssertionClaims {
        iss: config.issuer().unwrap_or(decided.request_origin).to_owned(),
        aud: config
            .audience()
            .unwrap_or(decided.target_origin)
            .to_owned(),
        sub: identity.map(|id| id.sub.clone()),
        roles: identity.map(|id| id.roles.clone()),
        scope: identity
            .filter(|id| !id.scopes.is_empty())
            .map(|id| id.scopes.join(" ")),
        email: identity.and_then(|id| id.email.clone()),
        idp: identity.map(|id| id.issuer.clone()),
        iat: decided.now_s,
        exp: decided.now_s.saturating_add(config.ttl_seconds()),
        jti: decided.request_id.to_owned(),
        htm: decided.method.to_owned(),
        path: decided.path_and_query.to_owned(),
        rule: if name.is_empty() {
            format!("#{index}")
        } else {
            name.to_owned()
        },
        act: Value::Object(act),
    };
    let signing_input = signing_input(&config.key().header(ASSERTION_TYP), &claims)?;
    Ok(UnsignedAssertion {
        claims,
        signing_input,
    })
}

#[cfg(test)]
mod tests;
