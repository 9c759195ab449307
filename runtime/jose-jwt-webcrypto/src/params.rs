//! WebCrypto algorithm dictionaries for each JWS algorithm (RFC 7518 §3 ↔ WebCrypto names).

use jose_jwt::{Algorithm, Error, VerifierProblem};
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// The `algorithm` argument of `importKey`.
pub(crate) fn import_params(alg: Algorithm) -> Object {
    match alg {
        Algorithm::Es256 => dict(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
        Algorithm::Es384 => dict(&[("name", "ECDSA"), ("namedCurve", "P-384")]),
        Algorithm::EdDsa => dict(&[("name", "Ed25519")]),
        Algorithm::Rs256 => dict(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
        Algorithm::Rs384 => dict(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-384")]),
        Algorithm::Rs512 => dict(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-512")]),
        Algorithm::Ps256 => dict(&[("name", "RSA-PSS"), ("hash", "SHA-256")]),
        Algorithm::Ps384 => dict(&[("name", "RSA-PSS"), ("hash", "SHA-384")]),
        Algorithm::Ps512 => dict(&[("name", "RSA-PSS"), ("hash", "SHA-512")]),
    }
}

thread_local! {
    /// `verify` parameters by algorithm, made once per isolate: WebCrypto only reads them.
    static VERIFY_PARAMS: std::cell::RefCell<Vec<(Algorithm, Object)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The `algorithm` argument of `verify`, shared by every request of the isolate.
pub(crate) fn cached_verify_params(alg: Algorithm) -> Object {
    VERIFY_PARAMS.with(|cache| {
        if let Some((_, params)) = cache.borrow().iter().find(|(a, _)| *a == alg) {
            return params.clone();
        }
        let params = verify_params(alg);
        cache.borrow_mut().push((alg, params.clone()));
        params
    })
}

/// The `algorithm` argument of `verify`.
pub(crate) fn verify_params(alg: Algorithm) -> Object {
    match alg {
        Algorithm::Es256 => dict(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        Algorithm::Es384 => dict(&[("name", "ECDSA"), ("hash", "SHA-384")]),
        Algorithm::EdDsa => dict(&[("name", "Ed25519")]),
        Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512 => {
            dict(&[("name", "RSASSA-PKCS1-v1_5")])
        }
        // RFC 7518 §3.5: the salt is as long as the hash.
        Algorithm::Ps256 => with_salt(dict(&[("name", "RSA-PSS")]), 32),
        Algorithm::Ps384 => with_salt(dict(&[("name", "RSA-PSS")]), 48),
        Algorithm::Ps512 => with_salt(dict(&[("name", "RSA-PSS")]), 64),
    }
}

/// A JSON value (a validated public JWK) as a JS object for `importKey("jwk", …)`.
pub(crate) fn to_js(value: &serde_json::Value) -> Result<Object, Error> {
    let text = value.to_string();
    let parsed = js_sys::JSON::parse(&text).map_err(|_| Error::VerifierFailed {
        reason: VerifierProblem::KeyNotTransferable,
    })?;
    Ok(Object::from(parsed))
}

fn dict(entries: &[(&str, &str)]) -> Object {
    let object = Object::new();
    for (name, value) in entries {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_str(value));
    }
    object
}

fn with_salt(object: Object, salt_length: u32) -> Object {
    let _ = Reflect::set(
        &object,
        &JsValue::from_str("saltLength"),
        &JsValue::from_f64(f64::from(salt_length)),
    );
    object
}
