//! Shared-secret tokens (`HS256`/`HS384`/`HS512`, RFC 7518 §3.2), kept apart
//! from the public-key path by type.
//!
//! The classic key-confusion attack (CVE-2015-9235: an `HS256` token whose MAC
//! is keyed with the issuer's *public* key) needs a verifier that lets one key
//! serve both kinds of algorithm. Here it cannot be written:
//!
//! - [`Algorithm`] cannot name an `HS*` algorithm, and [`MacAlgorithm`] names
//!   nothing else, so a token parsed for one path can never reach the other
//!   path's check;
//! - a [`SharedSecret`] is built only from secret bytes (there is no
//!   conversion from a [`Jwk`](crate::Jwk), a [`JwkSet`](crate::JwkSet) or any
//!   public key; JWK Sets refuse symmetric `k` members anyway);
//! - [`UnverifiedToken::select_key`] exists only for signature algorithms,
//!   [`UnverifiedToken::check_mac`] only for MAC algorithms.
//!
//! Claims are validated by the same code on both paths.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use crate::algorithm::Algorithm;
use crate::b64;
use crate::error::{Error, JwsProblem, SecretProblem, Unsupported};
use crate::header::HeaderAlgorithm;
use crate::options::VerificationOptions;
use crate::token::{SignatureChecked, UnverifiedToken, VerifiedToken};

/// A JWS MAC algorithm: HMAC with SHA-2 (RFC 7518 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MacAlgorithm {
    /// HMAC-SHA-256, a 32-byte MAC.
    Hs256,
    /// HMAC-SHA-384, a 48-byte MAC.
    Hs384,
    /// HMAC-SHA-512, a 64-byte MAC.
    Hs512,
}

impl MacAlgorithm {
    /// Every MAC algorithm, in a fixed order.
    pub const ALL: [MacAlgorithm; 3] = [
        MacAlgorithm::Hs256,
        MacAlgorithm::Hs384,
        MacAlgorithm::Hs512,
    ];

    /// The JOSE name, e.g. `"HS256"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MacAlgorithm::Hs256 => "HS256",
            MacAlgorithm::Hs384 => "HS384",
            MacAlgorithm::Hs512 => "HS512",
        }
    }

    /// The MAC length in bytes (the hash output size), which is also the
    /// shortest secret RFC 7518 §3.2 allows for the algorithm.
    pub fn output_len(&self) -> usize {
        match self {
            MacAlgorithm::Hs256 => 32,
            MacAlgorithm::Hs384 => 48,
            MacAlgorithm::Hs512 => 64,
        }
    }
}

impl FromStr for MacAlgorithm {
    type Err = Error;

    /// Parses a JOSE name exactly (case-sensitive): `HS256`, `HS384`, `HS512`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MacAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(Error::NotSupported {
                what: Unsupported::SignatureAlgorithm,
            })
    }
}

impl fmt::Display for MacAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's `alg` before the branch is chosen: a signature algorithm (checked
/// with a [`JwkSet`](crate::JwkSet)) or a MAC algorithm (checked with a
/// [`SharedSecret`]). For logs and for [`AnyToken::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenAlgorithm {
    /// A public-key signature algorithm.
    Signature(Algorithm),
    /// A shared-secret MAC algorithm.
    Mac(MacAlgorithm),
}

impl TokenAlgorithm {
    /// The JOSE name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenAlgorithm::Signature(alg) => alg.as_str(),
            TokenAlgorithm::Mac(alg) => alg.as_str(),
        }
    }
}

impl From<Algorithm> for TokenAlgorithm {
    fn from(alg: Algorithm) -> Self {
        TokenAlgorithm::Signature(alg)
    }
}

impl From<MacAlgorithm> for TokenAlgorithm {
    fn from(alg: MacAlgorithm) -> Self {
        TokenAlgorithm::Mac(alg)
    }
}

impl FromStr for TokenAlgorithm {
    type Err = Error;

    /// Parses a JOSE name exactly; `none` is [`Error::AlgNotAllowed`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<MacAlgorithm>() {
            Ok(mac) => Ok(TokenAlgorithm::Mac(mac)),
            Err(_) => s.parse::<Algorithm>().map(TokenAlgorithm::Signature),
        }
    }
}

impl fmt::Display for TokenAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl HeaderAlgorithm for MacAlgorithm {
    fn allowed(name: &str, opts: &VerificationOptions) -> Option<Self> {
        name.parse::<MacAlgorithm>()
            .ok()
            .filter(|alg| opts.mac_algorithms().contains(alg))
    }

    /// A MAC is exactly the hash length: a truncated MAC is malformed, never
    /// compared on a prefix.
    fn check_shape(self, signature: &[u8]) -> Result<(), Error> {
        if signature.len() == self.output_len() {
            Ok(())
        } else {
            Err(Error::jws(JwsProblem::SignatureShape))
        }
    }
}

impl HeaderAlgorithm for TokenAlgorithm {
    fn allowed(name: &str, opts: &VerificationOptions) -> Option<Self> {
        MacAlgorithm::allowed(name, opts)
            .map(TokenAlgorithm::Mac)
            .or_else(|| Algorithm::allowed(name, opts).map(TokenAlgorithm::Signature))
    }

    fn check_shape(self, signature: &[u8]) -> Result<(), Error> {
        match self {
            TokenAlgorithm::Signature(alg) => alg.check_shape(signature),
            TokenAlgorithm::Mac(alg) => alg.check_shape(signature),
        }
    }
}

/// The secret key of the `HS*` algorithms.
///
/// Built only from secret bytes, never from a JWK or a public key. At least
/// [`SharedSecret::MIN_LEN`] bytes; a token is checked with it only when it is
/// at least as long as the token algorithm's hash (RFC 7518 §3.2). `Debug`
/// shows the length only; there is no `PartialEq` (no comparison that could
/// leak timing).
#[derive(Clone)]
pub struct SharedSecret {
    bytes: Box<[u8]>,
}

impl SharedSecret {
    /// The shortest secret accepted at all (HS256's hash length).
    pub const MIN_LEN: usize = 32;

    /// A secret from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::SecretInvalid {
                reason: SecretProblem::TooShort,
            });
        }
        Ok(SharedSecret {
            bytes: bytes.into(),
        })
    }

    /// A secret from strict base64url (URL-safe alphabet, no padding, no
    /// whitespace), the way JWK `k` members and `cargo xtask keygen` write it.
    pub fn from_base64url(text: &str) -> Result<Self, Error> {
        let bytes = b64::decode(text).ok_or(Error::SecretInvalid {
            reason: SecretProblem::NotBase64url,
        })?;
        Self::from_bytes(&bytes)
    }

    /// The secret's length in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret is long enough for `alg` (at least its hash length).
    pub fn supports(&self, alg: MacAlgorithm) -> bool {
        self.bytes.len() >= alg.output_len()
    }

    /// The raw bytes, for a backend that must import them (WebCrypto). Never
    /// log them.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedSecret({} bytes)", self.bytes.len())
    }
}

/// A synchronous MAC backend. Called only after the MAC has the exact length
/// for `alg` and `secret` is long enough for it; it must compare in constant
/// time and return [`Error::SignatureVerificationFailed`] on a mismatch.
pub trait MacVerifier {
    /// Verifies `mac` over `signing_input` with `secret` under `alg`.
    fn verify(
        &self,
        alg: MacAlgorithm,
        secret: &SharedSecret,
        signing_input: &[u8],
        mac: &[u8],
    ) -> Result<(), Error>;
}

/// An asynchronous MAC backend (e.g. WebCrypto `crypto.subtle.verify`).
#[allow(async_fn_in_trait)]
pub trait AsyncMacVerifier {
    /// Verifies `mac` over `signing_input` with `secret` under `alg`.
    async fn verify(
        &self,
        alg: MacAlgorithm,
        secret: &SharedSecret,
        signing_input: &[u8],
        mac: &[u8],
    ) -> Result<(), Error>;
}

/// The pure-Rust backend: the `hmac` crate, whose `verify_slice` compares in
/// constant time.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoMac;

impl MacVerifier for RustCryptoMac {
    fn verify(
        &self,
        alg: MacAlgorithm,
        secret: &SharedSecret,
        signing_input: &[u8],
        mac: &[u8],
    ) -> Result<(), Error> {
        fn check<M: Mac + hmac::digest::KeyInit>(
            key: &[u8],
            input: &[u8],
            mac: &[u8],
        ) -> Result<(), Error> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .map_err(|_| Error::SignatureVerificationFailed)?;
            m.update(input);
            m.verify_slice(mac)
                .map_err(|_| Error::SignatureVerificationFailed)
        }
        let key = secret.expose_bytes();
        match alg {
            MacAlgorithm::Hs256 => check::<Hmac<Sha256>>(key, signing_input, mac),
            MacAlgorithm::Hs384 => check::<Hmac<Sha384>>(key, signing_input, mac),
            MacAlgorithm::Hs512 => check::<Hmac<Sha512>>(key, signing_input, mac),
        }
    }
}

impl AsyncMacVerifier for RustCryptoMac {
    async fn verify(
        &self,
        alg: MacAlgorithm,
        secret: &SharedSecret,
        signing_input: &[u8],
        mac: &[u8],
    ) -> Result<(), Error> {
        MacVerifier::verify(self, alg, secret, signing_input, mac)
    }
}

/// What every MAC backend gets checked first: the secret is long enough for
/// the token's algorithm and the MAC is exactly its length.
fn mac_precheck(alg: MacAlgorithm, secret: &SharedSecret, mac: &[u8]) -> Result<(), Error> {
    if !secret.supports(alg) {
        return Err(Error::SecretInvalid {
            reason: SecretProblem::ShorterThanHash,
        });
    }
    alg.check_shape(mac)
}

impl<'t> UnverifiedToken<'t, MacAlgorithm> {
    /// Like [`UnverifiedToken::parse`], for shared-secret tokens: the header's
    /// `alg` must be one of [`VerificationOptions::mac_algorithms`] (any other
    /// name, signature algorithms included, is [`Error::AlgNotAllowed`]), and
    /// the MAC exactly its hash length.
    pub fn parse_mac(token: &'t str, opts: &VerificationOptions) -> Result<Self, Error> {
        Self::parse_as(token, opts)
    }

    /// Verifies the MAC with `secret` through `verifier`.
    pub fn check_mac(
        self,
        secret: &SharedSecret,
        verifier: &impl MacVerifier,
    ) -> Result<SignatureChecked<'t, MacAlgorithm>, Error> {
        let alg = self.header().alg();
        mac_precheck(alg, secret, self.signature())?;
        verifier.verify(alg, secret, self.signing_input(), self.signature())?;
        Ok(self.into_checked())
    }

    /// Verifies the MAC with `secret` through an asynchronous `verifier`.
    pub async fn check_mac_async(
        self,
        secret: &SharedSecret,
        verifier: &impl AsyncMacVerifier,
    ) -> Result<SignatureChecked<'t, MacAlgorithm>, Error> {
        let alg = self.header().alg();
        mac_precheck(alg, secret, self.signature())?;
        verifier
            .verify(alg, secret, self.signing_input(), self.signature())
            .await?;
        Ok(self.into_checked())
    }
}

/// A parsed token on the branch its `alg` chose.
#[derive(Debug, Clone)]
pub enum AnyToken<'t> {
    /// A public-key signature: select a key from a JWK Set.
    Signature(UnverifiedToken<'t>),
    /// A MAC: check it with the shared secret.
    Mac(UnverifiedToken<'t, MacAlgorithm>),
}

impl<'t> AnyToken<'t> {
    /// Parses `token` once (as [`UnverifiedToken::parse`] does) and lets the
    /// header's `alg` choose the branch: one of the options' MAC algorithms
    /// gives [`AnyToken::Mac`], one of its signature algorithms
    /// [`AnyToken::Signature`]; anything else is [`Error::AlgNotAllowed`]
    /// before any crypto.
    pub fn parse(token: &'t str, opts: &VerificationOptions) -> Result<Self, Error> {
        let parsed = UnverifiedToken::<TokenAlgorithm>::parse_as(token, opts)?;
        Ok(match parsed.header().alg() {
            TokenAlgorithm::Signature(alg) => AnyToken::Signature(parsed.with_alg(alg)),
            TokenAlgorithm::Mac(alg) => AnyToken::Mac(parsed.with_alg(alg)),
        })
    }

    /// The token's algorithm.
    pub fn alg(&self) -> TokenAlgorithm {
        match self {
            AnyToken::Signature(t) => TokenAlgorithm::Signature(t.header().alg()),
            AnyToken::Mac(t) => TokenAlgorithm::Mac(t.header().alg()),
        }
    }

    /// The token's `kid`, if any (optional for MAC tokens).
    pub fn kid(&self) -> Option<&str> {
        match self {
            AnyToken::Signature(t) => t.header().kid(),
            AnyToken::Mac(t) => t.header().kid(),
        }
    }

    /// [`UnverifiedToken::precheck_claims`], whichever kind the token is: a
    /// token its claims refuse costs no key lookup and no signature or MAC work.
    pub fn precheck_claims(
        &mut self,
        opts: &VerificationOptions,
        now_unix_seconds: i64,
    ) -> Result<(), Error> {
        match self {
            AnyToken::Signature(t) => t.precheck_claims(opts, now_unix_seconds),
            AnyToken::Mac(t) => t.precheck_claims(opts, now_unix_seconds),
        }
    }
}

/// Verifies a compact `HS*` JWT in one call with [`RustCryptoMac`]: parse
/// (the `alg` must be one of the options' MAC algorithms), check the MAC with
/// `secret`, validate the claims exactly as [`verify`](crate::verify) does.
pub fn verify_mac(
    token: &str,
    secret: &SharedSecret,
    opts: &VerificationOptions,
    now_unix_seconds: i64,
) -> Result<VerifiedToken<MacAlgorithm>, Error> {
    UnverifiedToken::parse_mac(token, opts)?
        .check_mac(secret, &RustCryptoMac)?
        .validate_claims(opts, now_unix_seconds)
}

#[cfg(test)]
#[path = "mac_tests.rs"]
mod tests;
