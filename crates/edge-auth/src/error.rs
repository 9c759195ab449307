//! Errors on the signing side of the hand-off (key setup, identity headers).

use core::fmt;

/// Why a context key could not be made or an identity cannot be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoffError {
    /// `CONTEXT_SECRET` is shorter than [`crate::MIN_CONTEXT_SECRET_BYTES`].
    ContextSecretTooShort,
    /// An identity value cannot be put in an HTTP header as it is (it holds
    /// control characters, non-ASCII, or is empty). The Worker must fail
    /// closed rather than forward a mangled identity.
    UnsafeIdentityValue {
        /// The header that would have carried the value.
        header: &'static str,
    },
    /// A verified token lacks what an identity needs, or carries a claim of
    /// the wrong type (e.g. `sub` missing, roles that are not strings). The
    /// token is refused: a malformed claim is never read as "no roles".
    UnusableClaims {
        /// The claim that is missing or malformed (a configured name, never a value).
        claim: String,
        /// What was wrong, as fixed text.
        reason: &'static str,
    },
}

impl HandoffError {
    /// Stable machine-readable code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ContextSecretTooShort => "context_secret_too_short",
            Self::UnsafeIdentityValue { .. } => "unsafe_identity_value",
            Self::UnusableClaims { .. } => "unusable_claims",
        }
    }
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ContextSecretTooShort => f.write_str(
                "CONTEXT_SECRET must be at least 32 characters; \
                 generate one with `openssl rand -hex 32`",
            ),
            Self::UnsafeIdentityValue { header } => write!(
                f,
                "the identity value for {header} is empty or contains characters that are not \
                 printable ASCII; the request is refused rather than forwarded with a mangled \
                 identity (check the identity provider's claim values)"
            ),
            Self::UnusableClaims { claim, reason } => write!(
                f,
                "claim `{claim}` {reason}; check the identity provider's token format \
                 (and ROLES_CLAIM, which names where roles are read from)"
            ),
        }
    }
}

impl std::error::Error for HandoffError {}
