//! `GET /.well-known/edge-auth/jwks.json`: the gateway's public keys, answered by the authz
//! Worker (which holds the key) before the rule table, and never forwarded to the origin.

use std::borrow::Cow;

use crate::assertion::config::EMPTY_JWKS;
use crate::{
    screen, AuthzConfig, AuthzRequest, Cors, GatewayAnswer, Outcome, RequestFacts, Rules, WellKnown,
};
use rule_table::{Method, NormalizedPath};

/// The JWK Set's media type (RFC 7517 §8.5.1).
pub const JWKS_CONTENT_TYPE: &str = "application/jwk-set+json";
/// Verifiers may keep the set five minutes: a rotation publishes the next key that long before
/// it signs (see `ASSERTION_PREVIOUS_PUBLIC_JWK`).
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

/// The gateway's own answer to `request`, when it asks for one of the endpoints the authz
/// Worker serves ([`WellKnown::GatewayJwks`]); `None` for every other request, which
/// [`authorize`](crate::authorize) decides (it refuses what the screen refuses, too). The key
/// set is `{"keys":[]}` when no assertion is configured or it is signed with HS512.
pub fn gateway_endpoint<'c>(
    request: &AuthzRequest<'_>,
    config: &'c AuthzConfig,
    rules: &Rules,
) -> Option<GatewayAnswer<'c>> {
    let (method, _, path) =
        screen(request.method, request.url, rules.table().path_policy()).ok()?;
    gateway_answer(&method, &path, config)
}

/// [`gateway_endpoint`] for a request already screened: its method and normalized path.
pub(crate) fn gateway_answer<'c>(
    method: &Method,
    path: &NormalizedPath,
    config: &'c AuthzConfig,
) -> Option<GatewayAnswer<'c>> {
    if WellKnown::recognize(method, path)? != WellKnown::GatewayJwks {
        return None;
    }
    let body = config
        .assertion()
        .map_or(EMPTY_JWKS, |assertion| assertion.jwks_json());
    Some(GatewayAnswer {
        status: 200,
        content_type: Some(JWKS_CONTENT_TYPE),
        cache_control: Some(JWKS_CACHE_CONTROL),
        // Public keys: browser-based verifiers fetch them from other origins.
        cors: Some(Cors::AnyOrigin),
        body: (*method != Method::Head).then_some(Cow::Borrowed(body)),
        outcome: Outcome::Served,
        reason: "gateway_jwks",
        facts: RequestFacts {
            path: Some(path.as_str().to_owned()),
            ..RequestFacts::default()
        },
    })
}
