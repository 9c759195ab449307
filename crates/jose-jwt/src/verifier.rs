//! Signature backends, and the checks every backend gets for free.
//!
//! The crate checks the signature's shape and the key's fitness before any
//! backend runs, so a backend (RustCrypto here, WebCrypto in a Worker) only
//! does the arithmetic and cannot be tricked by out-of-range values it might
//! handle loosely.

use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::algorithm::{Algorithm, KeyFamily};
use crate::error::{Error, JwsProblem};
use crate::jwk::Jwk;
use crate::key_material::KeyMaterial;

/// A synchronous signature backend.
///
/// It is called only after [`precheck`]-style checks passed: `key` fits `alg`
/// and `signature` has the exact shape for `alg`. Return
/// [`Error::SignatureVerificationFailed`] for a bad signature and
/// [`Error::VerifierFailed`] when the backend itself failed.
pub trait SignatureVerifier {
    /// Verifies `signature` over `signing_input` with `key` under `alg`.
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error>;
}

/// An asynchronous signature backend (e.g. WebCrypto `crypto.subtle.verify`).
///
/// No `Send` bound: Wasm in a Worker is single-threaded.
#[allow(async_fn_in_trait)]
pub trait AsyncSignatureVerifier {
    /// Verifies `signature` over `signing_input` with `key` under `alg`.
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error>;
}

/// The pure-Rust backend: `p256`, `p384`, `ed25519-dalek` (`verify_strict`)
/// and `rsa`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

impl SignatureVerifier for RustCryptoVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        use p256::ecdsa::signature::Verifier as _;
        match (&key.material, alg) {
            (KeyMaterial::P256 { key, .. }, Algorithm::Es256) => {
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                key.verify(signing_input, &sig).map_err(bad)
            }
            (KeyMaterial::P384 { key, .. }, Algorithm::Es384) => {
                let sig = p384::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                key.verify(signing_input, &sig).map_err(bad)
            }
            (KeyMaterial::Ed25519 { key, .. }, Algorithm::EdDsa) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(bad)?;
                key.verify_strict(signing_input, &sig).map_err(bad)
            }
            (KeyMaterial::Rsa { key, .. }, alg) => {
                let result = match alg {
                    Algorithm::Rs256 => key.verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &Sha256::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Rs384 => key.verify(
                        Pkcs1v15Sign::new::<Sha384>(),
                        &Sha384::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Rs512 => key.verify(
                        Pkcs1v15Sign::new::<Sha512>(),
                        &Sha512::digest(signing_input),
                        signature,
                    ),
                    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
                    Algorithm::Ps256 => key.verify(
                        Pss::new::<Sha256>(),
                        &Sha256::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Ps384 => key.verify(
                        Pss::new::<Sha384>(),
                        &Sha384::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Ps512 => key.verify(
                        Pss::new::<Sha512>(),
                        &Sha512::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Es256 | Algorithm::Es384 | Algorithm::EdDsa => {
                        return Err(Error::NoMatchingKey)
                    }
                };
                result.map_err(bad)
            }
            _ => Err(Error::NoMatchingKey),
        }
    }
}

fn bad<E>(_: E) -> Error {
    Error::SignatureVerificationFailed
}

impl AsyncSignatureVerifier for RustCryptoVerifier {
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        SignatureVerifier::verify(self, alg, key, signing_input, signature)
    }
}

/// Checks that depend on the algorithm only: exact length, ECDSA `r` and `s`
/// in `[1, n-1]` (CVE-2022-21449), Ed25519 `S < L`, RSA length in the
/// accepted modulus range. DER-encoded ECDSA has the wrong length and fails.
pub(crate) fn check_signature_shape(alg: Algorithm, sig: &[u8]) -> Result<(), Error> {
    let ok = match alg.family() {
        KeyFamily::P256 => p256::ecdsa::Signature::from_slice(sig).is_ok(),
        KeyFamily::P384 => p384::ecdsa::Signature::from_slice(sig).is_ok(),
        KeyFamily::Ed25519 => sig.len() == 64 && sig.get(32..).is_some_and(scalar_is_canonical),
        KeyFamily::Rsa => (256..=1024).contains(&sig.len()),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::jws(JwsProblem::SignatureShape))
    }
}

/// Checks that need the key: it fits `alg`, and for RSA the signature is
/// exactly the modulus length and, as an integer, below the modulus.
pub(crate) fn precheck(alg: Algorithm, key: &Jwk, sig: &[u8]) -> Result<(), Error> {
    if !key.fits(alg) {
        return Err(Error::NoMatchingKey);
    }
    check_signature_shape(alg, sig)?;
    if let KeyMaterial::Rsa { key, size, .. } = &key.material {
        // Same length, so big-endian byte order equals numeric order.
        if sig.len() != *size || sig >= key.n().to_bytes_be().as_slice() {
            return Err(Error::SignatureVerificationFailed);
        }
    }
    Ok(())
}

/// The Ed25519 group order L, little-endian (RFC 8032 §5.1).
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// `S < L` for a 32-byte little-endian scalar (RFC 8032 §5.1.7 step 1).
fn scalar_is_canonical(s: &[u8]) -> bool {
    s.len() == 32 && s.iter().rev().cmp(ED25519_L.iter().rev()) == std::cmp::Ordering::Less
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_scalar_bound_is_exact() {
        let mut l = ED25519_L;
        assert!(!scalar_is_canonical(&l));
        l[0] -= 1;
        assert!(scalar_is_canonical(&l));
        assert!(scalar_is_canonical(&[0; 32]));
        assert!(!scalar_is_canonical(&[0xff; 32]));
    }

    #[test]
    fn ecdsa_zero_and_out_of_range_scalars_are_malformed() {
        assert!(check_signature_shape(Algorithm::Es256, &[0; 64]).is_err());
        assert!(check_signature_shape(Algorithm::Es256, &[0xff; 64]).is_err());
        assert!(check_signature_shape(Algorithm::Es384, &[0; 96]).is_err());
        let mut one = [0u8; 64];
        one[31] = 1;
        one[63] = 1;
        assert!(check_signature_shape(Algorithm::Es256, &one).is_ok());
        assert!(check_signature_shape(Algorithm::Es256, &one[..63]).is_err());
    }
}
