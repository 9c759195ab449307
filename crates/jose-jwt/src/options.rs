//! What a token must satisfy. There are no permissive defaults: issuers,
//! audiences and algorithms must each be named.

use crate::algorithm::Algorithm;
use crate::error::{Error, OptionsProblem};
use crate::mac::MacAlgorithm;

/// Default maximum compact token size in bytes.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;

/// Verification options (the `jose` `jwtVerify` options, made mandatory where
/// `jose` is lenient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationOptions {
    issuers: Vec<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    mac_algorithms: Vec<MacAlgorithm>,
    required_typ: Option<String>,
    clock_skew: u64,
    max_age: Option<u64>,
    required_claims: Vec<String>,
    max_token_size: usize,
}

impl VerificationOptions {
    /// Options accepting tokens whose `iss` is one of `issuers`, whose `aud`
    /// contains one of `audiences`, signed with one of `algorithms`.
    ///
    /// Each list must be non-empty and hold no empty string. Defaults: no
    /// clock skew (like `jose`; pass e.g. 60 with
    /// [`with_clock_skew_seconds`](Self::with_clock_skew_seconds)), no `typ`
    /// requirement, no max age, 8 KiB maximum token size.
    pub fn new<I, A, S, T>(
        issuers: I,
        audiences: A,
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        A: IntoIterator<Item = T>,
        S: Into<String>,
        T: Into<String>,
    {
        Self::with_mac(issuers, audiences, algorithms, [])
    }

    /// Like [`new`](Self::new), also allowing the shared-secret algorithms
    /// `mac_algorithms` (checked only by [`verify_mac`](crate::verify_mac) and
    /// the [`MacAlgorithm`] branch of [`UnverifiedToken::parse_any`](crate::UnverifiedToken::parse_any)).
    /// Either list may be empty, not both.
    pub fn with_mac<I, A, S, T>(
        issuers: I,
        audiences: A,
        algorithms: impl IntoIterator<Item = Algorithm>,
        mac_algorithms: impl IntoIterator<Item = MacAlgorithm>,
    ) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        A: IntoIterator<Item = T>,
        S: Into<String>,
        T: Into<String>,
    {
        let issuers = non_empty_strings(issuers, OptionsProblem::NoIssuer)?;
        let audiences = non_empty_strings(audiences, OptionsProblem::NoAudience)?;
        let algs = dedup(algorithms);
        let macs = dedup(mac_algorithms);
        if algs.is_empty() && macs.is_empty() {
            return Err(Error::InvalidOptions {
                reason: OptionsProblem::NoAlgorithm,
            });
        }
        Ok(VerificationOptions {
            issuers,
            audiences,
            algorithms: algs,
            mac_algorithms: macs,
            required_typ: None,
            clock_skew: 0,
            max_age: None,
            required_claims: Vec::new(),
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
        })
    }

    /// Requires the header `typ` (e.g. `"at+jwt"`, RFC 9068), compared
    /// case-insensitively and ignoring an `application/` prefix.
    pub fn with_required_typ(mut self, typ: &str) -> Self {
        self.required_typ = Some(normalize_typ(typ));
        self
    }

    /// Tolerance for `exp`, `nbf`, `iat` and max age, in seconds.
    pub fn with_clock_skew_seconds(mut self, seconds: u64) -> Self {
        self.clock_skew = seconds;
        self
    }

    /// Refuses tokens whose `iat` is older than this (and requires `iat`).
    pub fn with_max_age_seconds(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Claims (exact names or dotted paths) that must be present.
    pub fn with_required_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Maximum compact token size in bytes, checked before any decoding.
    pub fn with_max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// The accepted issuers.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The accepted audiences.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The allowed signature algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The allowed shared-secret (MAC) algorithms.
    pub fn mac_algorithms(&self) -> &[MacAlgorithm] {
        &self.mac_algorithms
    }

    /// The required `typ`, normalized (lowercase, no `application/`).
    pub fn required_typ(&self) -> Option<&str> {
        self.required_typ.as_deref()
    }

    /// The clock skew in seconds.
    pub fn clock_skew_seconds(&self) -> u64 {
        self.clock_skew
    }

    /// The maximum token age in seconds, if any.
    pub fn max_age_seconds(&self) -> Option<u64> {
        self.max_age
    }

    /// The required claims.
    pub fn required_claims(&self) -> &[String] {
        &self.required_claims
    }

    /// The maximum token size in bytes.
    pub fn max_token_size(&self) -> usize {
        self.max_token_size
    }
}

fn dedup<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn non_empty_strings<I, S>(items: I, reason: OptionsProblem) -> Result<Vec<String>, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let items: Vec<String> = items.into_iter().map(Into::into).collect();
    if items.is_empty() || items.iter().any(String::is_empty) {
        return Err(Error::InvalidOptions { reason });
    }
    Ok(items)
}

/// RFC 8725 §3.11 / RFC 9068 §4: media types are case-insensitive and the
/// `application/` prefix may be omitted.
pub(crate) fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_required() {
        let algs = [Algorithm::Es256];
        assert!(VerificationOptions::new(["i"], ["a"], algs).is_ok());
        let refused = |reason| Err(Error::InvalidOptions { reason });
        use OptionsProblem::{NoAlgorithm, NoAudience, NoIssuer};
        assert_eq!(
            VerificationOptions::new(Vec::<String>::new(), ["a"], algs),
            refused(NoIssuer)
        );
        assert_eq!(
            VerificationOptions::new(["i"], Vec::<String>::new(), algs),
            refused(NoAudience)
        );
        assert_eq!(
            VerificationOptions::new(["i"], ["a"], []),
            refused(NoAlgorithm)
        );
        assert_eq!(
            VerificationOptions::with_mac(["i"], ["a"], [], []),
            refused(NoAlgorithm)
        );
        let mac_only = VerificationOptions::with_mac(["i"], ["a"], [], [MacAlgorithm::Hs256]);
        assert_eq!(mac_only.map(|o| o.algorithms().len()), Ok(0));
        assert_eq!(
            VerificationOptions::new([""], ["a"], algs),
            refused(NoIssuer)
        );
        assert_eq!(
            VerificationOptions::new(["i"], ["a", ""], algs),
            refused(NoAudience)
        );
    }

    #[test]
    fn typ_is_normalized() {
        assert_eq!(normalize_typ("Application/AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("at+jwt"), "at+jwt");
        let o = VerificationOptions::new(["i"], ["a"], [Algorithm::Es256])
            .unwrap()
            .with_required_typ("application/at+jwt");
        assert_eq!(o.required_typ(), Some("at+jwt"));
    }
}
