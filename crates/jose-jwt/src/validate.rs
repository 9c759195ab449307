//! Claim validation: after the signature passed, and optionally before it as a
//! precheck that can only refuse ([`crate::UnverifiedToken::precheck_claims`]).
//!
//! Order: (types were checked when the payload was read) `iss`, `aud`, `typ`,
//! `iat` not in the future, `nbf`, `exp`, max age, required claims. All time
//! arithmetic saturates, so extreme values cannot wrap.

use crate::claims::Claims;
use crate::error::{ClaimName, ClaimProblem, Error};
use crate::options::{normalize_typ, VerificationOptions};

/// Checks `claims` (and the header's `typ`) against `opts` at `now`, for
/// signed and MAC'd tokens alike.
pub(crate) fn validate(
    typ: Option<&str>,
    claims: &Claims,
    opts: &VerificationOptions,
    now: i64,
) -> Result<(), Error> {
    match claims.iss() {
        Some(iss) if opts.issuers().iter().any(|i| i == iss) => {}
        Some(_) => return Err(Error::claim(ClaimName::Iss, ClaimProblem::UnexpectedIssuer)),
        None => return Err(Error::claim(ClaimName::Iss, ClaimProblem::Missing)),
    }
    if !claims.has_audience_claim() {
        return Err(Error::claim(ClaimName::Aud, ClaimProblem::Missing));
    }
    let aud_ok = claims
        .audiences()
        .iter()
        .any(|a| opts.audiences().contains(a));
    if !aud_ok {
        return Err(Error::claim(
            ClaimName::Aud,
            ClaimProblem::UnexpectedAudience,
        ));
    }
    if let Some(required) = opts.required_typ() {
        match typ {
            Some(typ) if normalize_typ(typ) == required => {}
            Some(_) => return Err(Error::claim(ClaimName::Typ, ClaimProblem::UnexpectedType)),
            None => return Err(Error::claim(ClaimName::Typ, ClaimProblem::Missing)),
        }
    }

    let skew = i64::try_from(opts.clock_skew_seconds()).unwrap_or(i64::MAX);
    let latest = now.saturating_add(skew);
    let earliest = now.saturating_sub(skew);
    if let Some(iat) = claims.iat() {
        if iat > latest {
            return Err(Error::claim(ClaimName::Iat, ClaimProblem::IssuedInFuture));
        }
    }
    if let Some(nbf) = claims.nbf() {
        if nbf > latest {
            return Err(Error::NotYetValid);
        }
    }
    // RFC 7519 §4.1.4: the token must not be accepted on or after `exp`.
    if claims.exp() <= earliest {
        return Err(Error::Expired);
    }
    if let Some(max_age) = opts.max_age_seconds() {
        let Some(iat) = claims.iat() else {
            return Err(Error::claim(ClaimName::Iat, ClaimProblem::MissingForMaxAge));
        };
        let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
        if iat.saturating_add(max_age) < earliest {
            return Err(Error::claim(ClaimName::Iat, ClaimProblem::TooOld));
        }
    }
    for name in opts.required_claims() {
        if claims.get(name).is_none() {
            return Err(Error::claim(
                ClaimName::configured(name),
                ClaimProblem::Missing,
            ));
        }
    }
    Ok(())
}
