//! Signing with `crypto.subtle`: Ed25519, ECDSA P-256 with SHA-256 and HMAC SHA-512, each
//! returning the signature in its JWS form (WebCrypto's ECDSA signature is already the raw
//! `r || s` JWS uses). The key is imported once, on first use, and kept for every later
//! signature of the isolate; it is imported non-extractable, for `sign` only.

use core::fmt;
use std::cell::RefCell;

use jose_jwt::sign::{KeyImport, SigningAlgorithm, SigningKey, SIGNATURE_LEN};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::CryptoKey;

use crate::{params, subtle};

/// Why a signature could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// The runtime has no `crypto.subtle`.
    SubtleUnavailable,
    /// `importKey` refused the key (the runtime does not support the algorithm, or the key).
    KeyImportRefused,
    /// `sign` failed.
    SignRefused,
    /// The signature is not the 64 bytes of its JWS form.
    UnexpectedSignature,
}

impl SignError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SubtleUnavailable => "subtle_unavailable",
            Self::KeyImportRefused => "signing_key_import_refused",
            Self::SignRefused => "sign_refused",
            Self::UnexpectedSignature => "signature_unexpected_length",
        }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SubtleUnavailable => "the runtime has no crypto.subtle",
            Self::KeyImportRefused => {
                "crypto.subtle.importKey refused the signing key (is the algorithm supported here?)"
            }
            Self::SignRefused => "crypto.subtle.sign failed",
            Self::UnexpectedSignature => {
                "crypto.subtle.sign returned a signature of unexpected length"
            }
        })
    }
}

impl std::error::Error for SignError {}

/// Signs with one [`SigningKey`] through WebCrypto, importing it once.
#[derive(Default)]
pub struct WebCryptoSigner {
    imported: RefCell<Option<CryptoKey>>,
    /// The `sign` parameters, made on first use: WebCrypto only reads them, so one object
    /// serves every request of the isolate (as the verify parameters do).
    params: RefCell<Option<Object>>,
}

impl WebCryptoSigner {
    /// A signer that has imported nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the key has been imported.
    pub fn is_imported(&self) -> bool {
        self.imported.borrow().is_some()
    }

    /// The signature of `message` with `key`, in its JWS form (64 bytes). Always give the same
    /// `key` to one signer: the first one is the one imported.
    pub async fn sign(&self, key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let subtle = subtle().ok_or(SignError::SubtleUnavailable)?;
        let crypto_key = self.crypto_key(&subtle, key).await?;
        let algorithm = self
            .params
            .borrow_mut()
            .get_or_insert_with(|| sign_params(key.algorithm()))
            .clone();
        let promise = subtle
            .sign_with_object_and_u8_array(&algorithm, &crypto_key, message)
            .map_err(|_| SignError::SignRefused)?;
        let signed = js_task::settled(promise)
            .await
            .map_err(|_| SignError::SignRefused)?;
        let signature = Uint8Array::new(&signed).to_vec();
        if signature.len() == SIGNATURE_LEN {
            Ok(signature)
        } else {
            Err(SignError::UnexpectedSignature)
        }
    }

    async fn crypto_key(
        &self,
        subtle: &web_sys::SubtleCrypto,
        key: &SigningKey,
    ) -> Result<CryptoKey, SignError> {
        // No borrow is held across the await: two first requests may both import; the second
        // import simply replaces the first.
        if let Some(found) = self.imported.borrow().clone() {
            return Ok(found);
        }
        let refused = |_| SignError::KeyImportRefused;
        let usages = js_sys::Array::of1(&JsValue::from_str("sign"));
        let algorithm = import_params(key.algorithm());
        let promise = match key.webcrypto_import() {
            KeyImport::PrivateJwk(jwk) => {
                let jwk = params::to_js(&jwk).map_err(|_| SignError::KeyImportRefused)?;
                subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &usages)
            }
            KeyImport::RawSecret(bytes) => {
                let raw: Object = Uint8Array::from(bytes).unchecked_into();
                subtle.import_key_with_object("raw", &raw, &algorithm, false, &usages)
            }
        }
        .map_err(refused)?;
        let imported: CryptoKey = js_task::settled(promise)
            .await
            .map_err(refused)?
            .unchecked_into();
        *self.imported.borrow_mut() = Some(imported.clone());
        Ok(imported)
    }
}

fn import_params(alg: SigningAlgorithm) -> Object {
    match alg {
        SigningAlgorithm::EdDsa => dict(&[("name", "Ed25519")]),
        SigningAlgorithm::Es256 => dict(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
        SigningAlgorithm::Hs512 => dict(&[("name", "HMAC"), ("hash", "SHA-512")]),
    }
}

fn sign_params(alg: SigningAlgorithm) -> Object {
    match alg {
        SigningAlgorithm::EdDsa => dict(&[("name", "Ed25519")]),
        SigningAlgorithm::Es256 => dict(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        SigningAlgorithm::Hs512 => dict(&[("name", "HMAC")]),
    }
}

fn dict(entries: &[(&str, &str)]) -> Object {
    let object = Object::new();
    for (name, value) in entries {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_str(value));
    }
    object
}
