#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithm;
mod b64;
mod claims;
mod error;
mod header;
mod json;
mod jwk;
mod jwk_set;
mod key_material;
mod mac;
mod options;
mod token;
mod validate;
mod verifier;

/// Signing keys and the JWS compact encoding around a signature made elsewhere.
pub mod sign;
#[cfg(feature = "test-vectors")]
pub mod testing;

pub use algorithm::Algorithm;
pub use claims::Claims;
pub use error::{
    ClaimName, ClaimProblem, Error, JwkProblem, JwksProblem, JwsProblem, JwtProblem,
    OptionsProblem, SecretProblem, Unsupported, VerifierProblem,
};
pub use header::{Header, HeaderAlgorithm};
pub use jwk::Jwk;
pub use jwk_set::{JwkSet, ParsedJwkSet, RejectedJwk};
pub use mac::{
    verify_mac, AnyToken, AsyncMacVerifier, MacAlgorithm, MacVerifier, RustCryptoMac, SharedSecret,
    TokenAlgorithm,
};
pub use options::{VerificationOptions, DEFAULT_MAX_TOKEN_SIZE};
pub use token::{verify, SignatureChecked, UnverifiedToken, VerifiedToken};
pub use verifier::{AsyncSignatureVerifier, RustCryptoVerifier, SignatureVerifier};
