//! The closed set of signature algorithms this crate verifies.
//!
//! `none` and the HMAC algorithms are deliberately not representable: a
//! verifier holding public keys must never accept a MAC (RFC 8725 §2.1, §3.1).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Unsupported};

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256, signature `r || s` (64 bytes).
    Es256,
    /// ECDSA on P-384 with SHA-384, signature `r || s` (96 bytes).
    Es384,
    /// Ed25519 (RFC 8037); verified strictly.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt.
    Ps384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt.
    Ps512,
}

/// The key family an algorithm needs (JWK `kty` plus `crv` where there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    P256,
    P384,
    Ed25519,
    Rsa,
}

impl Algorithm {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
    ];

    /// The JOSE name, e.g. `"ES256"` or `"EdDSA"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
        }
    }

    /// The JWK `kty` a key for this algorithm has.
    pub fn key_type(&self) -> &'static str {
        match self.family() {
            KeyFamily::P256 | KeyFamily::P384 => "EC",
            KeyFamily::Ed25519 => "OKP",
            KeyFamily::Rsa => "RSA",
        }
    }

    pub(crate) fn family(&self) -> KeyFamily {
        match self {
            Algorithm::Es256 => KeyFamily::P256,
            Algorithm::Es384 => KeyFamily::P384,
            Algorithm::EdDsa => KeyFamily::Ed25519,
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => KeyFamily::Rsa,
        }
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parses a JOSE name exactly (case-sensitive, as RFC 7515 requires).
    ///
    /// `none` and `HS*` give [`Error::AlgNotAllowed`]; any other unknown name
    /// gives [`Error::NotSupported`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(alg) = Algorithm::ALL.iter().find(|a| a.as_str() == s) {
            return Ok(*alg);
        }
        if s.eq_ignore_ascii_case("none") || s.starts_with("HS") || s.starts_with("hs") {
            return Err(Error::AlgNotAllowed);
        }
        Err(Error::unsupported(Unsupported::SignatureAlgorithm))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_name() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
        }
    }

    #[test]
    fn none_and_hmac_are_never_representable() {
        for name in ["none", "None", "NONE", "HS256", "HS384", "HS512"] {
            assert_eq!(
                name.parse::<Algorithm>(),
                Err(Error::AlgNotAllowed),
                "{name}"
            );
        }
        for name in ["es256", "ES512", "RS1", "", "EdDSA "] {
            assert_eq!(
                name.parse::<Algorithm>(),
                Err(Error::NotSupported {
                    what: Unsupported::SignatureAlgorithm
                }),
                "{name}"
            );
        }
    }
}
