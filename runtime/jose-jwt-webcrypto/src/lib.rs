//! The signature step of `jose-jwt`, done by the runtime's WebCrypto (`crypto.subtle`).
//!
//! In workerd, native WebCrypto verifies an ES256 signature about 16× faster than the same
//! check compiled from RustCrypto to Wasm. Everything else about a token — parsing, the
//! algorithm allow-list, key selection, the shape of the signature (exact length, ECDSA `r`,`s`
//! in range, Ed25519 `S < L`), JWK validation, claims — stays in `jose-jwt`, which calls this
//! verifier only for the final cryptographic check.
//!
//! Promises are awaited through `js-task` (no JS closure per await; it also works under any
//! other executor, e.g. the test runner's).
//!
//! Imported keys are kept per key set ([`ImportedKeys`]): a key is imported once, on first use,
//! and reused by every later request of the isolate.
//!
//! The signing side ([`WebCryptoSigner`]) signs the gateway's own assertion: Ed25519, ECDSA
//! P-256 or HMAC SHA-512 with a `jose_jwt::sign::SigningKey`, imported once.
#![forbid(unsafe_code)]

mod params;
mod sign;

pub use sign::{SignError, WebCryptoSigner};

use jose_jwt::{Algorithm, AsyncSignatureVerifier, Error, Jwk, VerifierProblem};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CryptoKey, SubtleCrypto};

/// CryptoKeys imported for one key set, by key index and algorithm (an RSA key without `alg`
/// may serve RS256 and PS256, and WebCrypto binds a key to one algorithm at import).
#[derive(Default)]
pub struct ImportedKeys {
    keys: RefCell<Vec<(usize, Algorithm, CryptoKey)>>,
}

impl ImportedKeys {
    /// How many keys have been imported so far.
    pub fn len(&self) -> usize {
        self.keys.borrow().len()
    }

    /// Whether no key has been imported yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, index: usize, alg: Algorithm) -> Option<CryptoKey> {
        self.keys
            .borrow()
            .iter()
            .find(|(i, a, _)| *i == index && *a == alg)
            .map(|(_, _, key)| key.clone())
    }

    fn insert(&self, index: usize, alg: Algorithm, key: CryptoKey) {
        self.keys.borrow_mut().push((index, alg, key));
    }
}

/// A [`AsyncSignatureVerifier`] on `crypto.subtle`, for the key at `index` of a key set.
pub struct WebCryptoVerifier<'a> {
    imported: &'a ImportedKeys,
    index: usize,
}

impl<'a> WebCryptoVerifier<'a> {
    /// A verifier for the key at `index` of the key set whose imports `imported` keeps.
    pub fn new(imported: &'a ImportedKeys, index: usize) -> Self {
        WebCryptoVerifier { imported, index }
    }

    async fn crypto_key(
        &self,
        subtle: &SubtleCrypto,
        alg: Algorithm,
        key: &Jwk,
    ) -> Result<CryptoKey, Error> {
        // No RefCell borrow is held across the await below: `get` and `insert` borrow briefly.
        if let Some(found) = self.imported.get(self.index, alg) {
            return Ok(found);
        }
        let jwk = params::to_js(&key.public_jwk_json())?;
        let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
        let promise = subtle
            .import_key_with_object("jwk", &jwk, &params::import_params(alg), false, &usages)
            .map_err(|_| Error::VerifierFailed {
                reason: VerifierProblem::KeyImportRefused,
            })?;
        let imported: CryptoKey = js_task::settled(promise)
            .await
            .map_err(|_| Error::VerifierFailed {
                reason: VerifierProblem::KeyImportRefused,
            })?
            .unchecked_into();
        self.imported.insert(self.index, alg, imported.clone());
        Ok(imported)
    }
}

impl AsyncSignatureVerifier for WebCryptoVerifier<'_> {
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let subtle = subtle().ok_or(Error::VerifierFailed {
            reason: VerifierProblem::SubtleUnavailable,
        })?;
        let crypto_key = self.crypto_key(&subtle, alg, key).await?;
        let promise = subtle
            .verify_with_object_and_u8_array_and_u8_array(
                &params::cached_verify_params(alg),
                &crypto_key,
                signature,
                signing_input,
            )
            .map_err(|_| Error::SignatureVerificationFailed)?;
        let valid = js_task::settled(promise)
            .await
            .map_err(|_| Error::SignatureVerificationFailed)?;
        // Fail closed: anything but the boolean `true` is a failed verification.
        if valid.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(Error::SignatureVerificationFailed)
        }
    }
}

thread_local! {
    /// `crypto.subtle`, looked up once per isolate.
    static SUBTLE: Option<SubtleCrypto> = lookup_subtle();
}

fn subtle() -> Option<SubtleCrypto> {
    SUBTLE.with(Clone::clone)
}

fn lookup_subtle() -> Option<SubtleCrypto> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    if crypto.is_undefined() || crypto.is_null() {
        return None;
    }
    Some(crypto.unchecked_into::<web_sys::Crypto>().subtle())
}
