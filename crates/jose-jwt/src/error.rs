//! The crate's single error type.
//!
//! Every message is short, fixed text (plus names the caller chose, such as a
//! required claim name), so it is safe to return to a client as an OAuth
//! `error_description`: it never contains the token, a claim value taken from
//! the token, or key material.

use std::fmt;

/// Why a token, key, key set or option was refused.
///
/// Variants mirror the error codes of the JavaScript `jose` library; see
/// [`Error::code`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is larger than the configured maximum; nothing was decoded.
    TokenTooLarge,
    /// The compact JWS is malformed (parts, base64url, header JSON, `crit`, `b64`,
    /// signature shape).
    JwsInvalid {
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// The JWT payload is malformed (not a JSON object, duplicate members, a
    /// registered claim of the wrong type).
    JwtInvalid {
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// The token's `alg` is not in the allow-list (or is `none`/`HS*`, which can
    /// never be allowed).
    AlgNotAllowed,
    /// Something the token or key uses is not implemented (unknown `kty`, `crv`
    /// or algorithm name).
    NotSupported {
        /// What was not supported, as fixed text.
        what: &'static str,
    },
    /// No key in the set fits the token (kty/crv from `alg`, `kid`, `alg`, `use`,
    /// `key_ops`).
    NoMatchingKey,
    /// More than one key in the set fits the token and it carries no `kid` that
    /// tells them apart.
    MultipleMatchingKeys,
    /// The signature does not verify with the selected key.
    SignatureVerificationFailed,
    /// `exp` is in the past (beyond the allowed clock skew).
    Expired,
    /// `nbf` is in the future (beyond the allowed clock skew).
    NotYetValid,
    /// A claim check failed (`iss`, `aud`, `typ`, `iat`, max age, required claims).
    ClaimValidationFailed {
        /// The claim or header parameter that failed (a registered name or one
        /// the caller configured, never a value from the token).
        claim: String,
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// A single JWK is invalid or unusable for verification.
    JwkInvalid {
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// A JWK Set document is invalid or has no usable key.
    JwksInvalid {
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// The verification options are invalid (empty issuer/audience/algorithm list).
    InvalidOptions {
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
    /// A signature backend failed for a reason other than a bad signature (for
    /// example a WebCrypto key import that threw).
    VerifierFailed {
        /// What failed, as fixed text.
        reason: &'static str,
    },
}

impl Error {
    /// A stable, machine-readable code (the `jose` code where one exists).
    ///
    /// `NotYetValid` uses `ERR_JWT_CLAIM_VALIDATION_FAILED` exactly like `jose`
    /// does for `nbf`; match on the variant to tell it apart.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TokenTooLarge => "ERR_JWT_TOO_LARGE",
            Error::JwsInvalid { .. } => "ERR_JWS_INVALID",
            Error::JwtInvalid { .. } => "ERR_JWT_INVALID",
            Error::AlgNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Error::NotSupported { .. } => "ERR_JOSE_NOT_SUPPORTED",
            Error::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Error::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Error::SignatureVerificationFailed => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Error::Expired => "ERR_JWT_EXPIRED",
            Error::NotYetValid | Error::ClaimValidationFailed { .. } => {
                "ERR_JWT_CLAIM_VALIDATION_FAILED"
            }
            Error::JwkInvalid { .. } => "ERR_JWK_INVALID",
            Error::JwksInvalid { .. } => "ERR_JWKS_INVALID",
            Error::InvalidOptions { .. } => "ERR_INVALID_OPTIONS",
            Error::VerifierFailed { .. } => "ERR_JOSE_GENERIC",
        }
    }

    pub(crate) fn jws(reason: &'static str) -> Self {
        Error::JwsInvalid { reason }
    }

    pub(crate) fn jwt(reason: &'static str) -> Self {
        Error::JwtInvalid { reason }
    }

    pub(crate) fn jwk(reason: &'static str) -> Self {
        Error::JwkInvalid { reason }
    }

    pub(crate) fn claim(claim: &str, reason: &'static str) -> Self {
        Error::ClaimValidationFailed {
            claim: claim.to_owned(),
            reason,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TokenTooLarge => f.write_str("token too large"),
            Error::JwsInvalid { reason } => write!(f, "malformed token: {reason}"),
            Error::JwtInvalid { reason } => write!(f, "malformed token claims: {reason}"),
            Error::AlgNotAllowed => f.write_str("token signing algorithm not allowed"),
            Error::NotSupported { what } => write!(f, "not supported: {what}"),
            Error::NoMatchingKey => f.write_str("no key matches the token (check kid and alg)"),
            Error::MultipleMatchingKeys => {
                f.write_str("several keys match the token; it needs a kid to choose one")
            }
            Error::SignatureVerificationFailed => f.write_str("signature verification failed"),
            Error::Expired => f.write_str("token expired"),
            Error::NotYetValid => f.write_str("token not yet valid"),
            Error::ClaimValidationFailed { claim, reason } => {
                write!(f, "claim \"{claim}\" invalid: {reason}")
            }
            Error::JwkInvalid { reason } => write!(f, "invalid key: {reason}"),
            Error::JwksInvalid { reason } => write!(f, "invalid key set: {reason}"),
            Error::InvalidOptions { reason } => write!(f, "invalid verification options: {reason}"),
            Error::VerifierFailed { reason } => {
                write!(f, "signature check could not run: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}
