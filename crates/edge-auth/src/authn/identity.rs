//! The verified identity: what a token's claims establish about the caller.

use jose_jwt::Claims;
use serde_json::Value;

use crate::{Actor, HandoffError};

/// Who the caller is, as established by the auth Worker from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Subject (`sub` claim).
    pub sub: String,
    /// Roles (from the configured roles claim).
    pub roles: Vec<String>,
    /// Scopes (`scope` / `scp` claim).
    pub scopes: Vec<String>,
    /// E-mail address, if the token has one.
    pub email: Option<String>,
    /// Token expiry, unix seconds.
    pub exp: i64,
    /// Token issuer (`iss` claim).
    pub issuer: String,
    /// Who acts on the subject's behalf (the token's `act` claim, RFC 8693 §4.1), if anyone.
    pub act: Option<Actor>,
}

/// When the token's e-mail address is forwarded as `X-User-Email`.
///
/// An e-mail the issuer has not verified must not pass for the user's (the "nOAuth" account
/// takeover: anyone can put someone else's address on an account at a permissive issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailPolicy {
    /// Forwarded unless the token carries `email_verified` with any value but the JSON
    /// boolean `true` (the default: Cloudflare Access tokens carry no such claim).
    #[default]
    UnlessUnverified,
    /// Forwarded only when the token says `"email_verified": true`
    /// (`REQUIRE_EMAIL_VERIFIED=true`).
    RequireVerified,
}

/// Why the token's e-mail address was not forwarded (the request still goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailWithheld {
    /// `email_verified` is present and not the JSON boolean `true` (`false`, `"true"`, `null`, …).
    Unverified,
    /// `email_verified` is absent and [`EmailPolicy::RequireVerified`] is in force.
    VerificationMissing,
}

impl EmailWithheld {
    /// Stable machine-readable code, for the log line.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unverified => "email_unverified",
            Self::VerificationMissing => "email_verified_missing",
        }
    }

    /// The reason with this [`code`](Self::code), if any.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Unverified, Self::VerificationMissing]
            .into_iter()
            .find(|reason| reason.code() == code)
    }
}

/// What a verified token establishes: the identity, and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedIdentity {
    /// The identity to forward.
    pub identity: Identity,
    /// Set when the token had an e-mail address that is not forwarded, and why.
    pub email_withheld: Option<EmailWithheld>,
}

impl Identity {
    /// The identity a verified token establishes.
    ///
    /// `sub` and `iss` are required. Roles come from `roles_claim` — a full
    /// claim name (`https://example.com/roles`, `cognito:groups`) or a dotted
    /// path (`realm_access.roles`) — as a string or an array of strings;
    /// absent means no roles, anything else refuses the token. Scopes come
    /// from `scope` (space-separated) or `scp`; `email` must be a string if
    /// present, and is carried when `email_policy` allows it (else it is
    /// dropped and the reason returned, never the token refused). `act`, when
    /// present, must be a bounded chain of actors ([`Actor`]), else the token
    /// is refused.
    pub fn from_claims(
        claims: &Claims,
        roles_claim: &str,
        email_policy: EmailPolicy,
    ) -> Result<ClaimedIdentity, HandoffError> {
        let unusable = |claim: &str, reason| HandoffError::UnusableClaims {
            claim: claim.to_owned(),
            reason,
        };
        let sub = claims
            .sub()
            .ok_or_else(|| unusable("sub", "is missing or not a string"))?;
        let issuer = claims
            .iss()
            .ok_or_else(|| unusable("iss", "is missing or not a string"))?;
        let roles = claims
            .string_list(roles_claim)
            .map_err(|_| unusable(roles_claim, "is not a string or an array of strings"))?
            .unwrap_or_default();
        let email = match claims.get("email") {
            None => None,
            Some(Value::String(email)) => Some(email.clone()),
            Some(_) => return Err(unusable("email", "is not a string")),
        };
        let act = claims
            .get("act")
            .map(Actor::from_claim)
            .transpose()
            .map_err(|reason| unusable("act", reason))?;
        let email_withheld = email
            .as_ref()
            .and_then(|_| email_withheld(claims.get("email_verified"), email_policy));
        Ok(ClaimedIdentity {
            identity: Identity {
                sub: sub.to_owned(),
                roles,
                scopes: claims.scopes(),
                email: if email_withheld.is_some() {
                    None
                } else {
                    email
                },
                exp: claims.exp(),
                issuer: issuer.to_owned(),
                act,
            },
            email_withheld,
        })
    }
}

/// Why an e-mail address with this `email_verified` claim is not forwarded, if it is not.
fn email_withheld(verified: Option<&Value>, policy: EmailPolicy) -> Option<EmailWithheld> {
    match (verified, policy) {
        (Some(Value::Bool(true)), _) => None,
        (Some(_), _) => Some(EmailWithheld::Unverified),
        (None, EmailPolicy::UnlessUnverified) => None,
        (None, EmailPolicy::RequireVerified) => Some(EmailWithheld::VerificationMissing),
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod claims_tests;
