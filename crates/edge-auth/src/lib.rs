#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]

mod assertion;
mod authn;
mod authz;
mod config;
mod error;
mod http;
mod wire;

pub use assertion::{
    gateway_endpoint, AssertionClaims, AssertionConfig, UnsignedAssertion, ASSERTION_HEADER,
    ASSERTION_TYP, DEFAULT_ASSERTION_ACTOR, DEFAULT_ASSERTION_TTL_SECONDS, JWKS_CACHE_CONTROL,
    JWKS_CONTENT_TYPE, MAX_ASSERTION_TTL_SECONDS,
};
pub use authn::actor::{Actor, MAX_ACT_BYTES, MAX_ACT_DEPTH};
pub use authn::config::{AuthConfig, JwksSource, DEFAULT_ALLOWED_ALGS, JWKS_SERVICE_PATH};
pub use authn::credential::{
    extract_credential, Credential, CredentialError, CredentialHeaders, CredentialSource,
    ExtractionMode, RequestCredentials, ACCESS_COOKIE_NAME, DEFAULT_MAX_TOKEN_BYTES,
};
pub use authn::identity::{ClaimedIdentity, EmailPolicy, EmailWithheld, Identity};
pub use authn::pipeline::{
    authenticate, Authenticated, CachedToken, KeySet, KeySource, KeySourceError, SignatureProvider,
};
pub use authz::config::AuthzConfig;
pub use authz::origin::{join_origin, OriginUrl};
pub use authz::pipeline::{authorize, decide, route, screen, AuthzRequest, Forward, Routed};
pub use authz::rules::Rules;
pub use authz::upstream::{UpstreamError, UpstreamForward, UpstreamUrls};
pub use config::{ConfigError, DEFAULT_REALM, MAX_CLOCK_SKEW_SECONDS};
pub use error::HandoffError;
pub use http::facts::{Refusal, RequestFacts};
pub use http::gateway_answer::{
    preflight, Cors, GatewayAnswer, ACCESS_CONTROL_REQUEST_HEADERS,
    MAX_PREFLIGHT_REQUEST_HEADERS_BYTES, PREFLIGHT_ALLOW_METHODS, PREFLIGHT_MAX_AGE_SECONDS,
};
pub use http::log::{request_id, LogLine, LogLineBuilder, Outcome, WorkerName};
pub use http::protected_resource::{
    is_scope_token, Challenge, ProtectedResourceMetadata, Resource, BEARER_METHODS_SUPPORTED,
    MAX_RESOURCE_NAME_CHARS, METADATA_CACHE_CONTROL,
};
pub use http::refusal::{error_response, ErrorResponse, Rejection};
pub use http::request_url::RequestUrl;
pub use http::well_known::{WellKnown, GATEWAY_JWKS_PATH, PROTECTED_RESOURCE_PATH};
pub use wire::context::{
    open_context, sign_context, sign_context_with_notes, verify_context, ContextError, ContextKey,
    ContextNotes, RequestBinding, CONTEXT_FUTURE_SKEW_SECONDS, DEFAULT_CONTEXT_MAX_AGE_SECONDS,
    MAX_CONTEXT_HEADER_BYTES, MIN_CONTEXT_SECRET_BYTES,
};
pub use wire::headers::{
    is_client_identity_header, is_header_name, override_headers, same_header_name, stripped_kind,
    HeaderPolicy, Hop, StrippedKind, ACCESS_ASSERTION_HEADER, ACCESS_EMAIL_HEADER,
    AUTHORIZATION_HEADER, CONTEXT_HEADER, COOKIE_HEADER, RAY_HEADER, REQUEST_ID_HEADER,
};
pub use wire::identity_headers::{
    identity_headers, is_header_safe, USER_EMAIL_HEADER, USER_ID_HEADER, USER_ROLES_HEADER,
    USER_SCOPES_HEADER,
};
