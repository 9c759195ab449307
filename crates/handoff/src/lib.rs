#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]

mod config;
mod context;
mod credential;
mod error;
mod headers;
mod identity;
mod log;
mod request_url;
mod response;

pub use config::{
    join_origin, AuthConfig, AuthzConfig, ConfigError, JwksSource, JwsAlg, OriginUrl,
    DEFAULT_ALLOWED_ALGS, DEFAULT_REALM, JWKS_SERVICE_PATH, MAX_CLOCK_SKEW_SECONDS,
};
pub use context::{
    sign_context, verify_context, ContextError, ContextKey, RequestBinding,
    CONTEXT_FUTURE_SKEW_SECONDS, DEFAULT_CONTEXT_MAX_AGE_SECONDS, MAX_CONTEXT_HEADER_BYTES,
    MIN_CONTEXT_SECRET_BYTES,
};
pub use credential::{
    extract_credential, Credential, CredentialError, CredentialSource, ExtractionMode,
    RequestCredentials, ACCESS_COOKIE_NAME, DEFAULT_MAX_TOKEN_BYTES,
};
pub use error::HandoffError;
pub use headers::{
    is_client_identity_header, is_header_name, override_headers, same_header_name, stripped_kind,
    HeaderPolicy, Hop, StrippedKind, ACCESS_EMAIL_HEADER, CONTEXT_HEADER, REQUEST_ID_HEADER,
};
pub use identity::{
    identity_headers, is_header_safe, ClaimedIdentity, EmailPolicy, EmailWithheld, Identity,
    USER_EMAIL_HEADER, USER_ID_HEADER, USER_ROLES_HEADER, USER_SCOPES_HEADER,
};
pub use log::{request_id, LogLine, LogLineBuilder, Outcome, WorkerName};
pub use request_url::RequestUrl;
pub use response::{error_response, ErrorResponse, Rejection};
