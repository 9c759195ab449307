//! The WebCrypto verifier against the same Wycheproof vectors as the RustCrypto one, run in a
//! JS engine with WebCrypto (`cargo xtask test` runs it under Node with wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use jose_jwt::testing::{load_cases, run_cases, run_cases_async, vector_files};
use jose_jwt::{Algorithm, AsyncSignatureVerifier, Error, Jwk, RustCryptoVerifier};
use jose_jwt_webcrypto::{ImportedKeys, WebCryptoVerifier};
use wasm_bindgen_test::wasm_bindgen_test;

/// Each Wycheproof group has its own key: import afresh for every case.
struct FreshImport;

impl AsyncSignatureVerifier for FreshImport {
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let imported = ImportedKeys::default();
        WebCryptoVerifier::new(&imported, 0)
            .verify(alg, key, signing_input, signature)
            .await
    }
}

#[wasm_bindgen_test]
async fn webcrypto_and_rustcrypto_agree_on_every_wycheproof_vector() {
    for file in vector_files() {
        let cases = load_cases(file.json, file.alg).unwrap();
        let web = run_cases_async(&cases, &FreshImport).await;
        let rust = run_cases(&cases, &RustCryptoVerifier);
        assert!(
            web.agrees(),
            "{}: WebCrypto disagrees with Wycheproof: {web:?} (RustCrypto: {rust:?})",
            file.name
        );
        assert_eq!(web, rust, "{}: the two verifiers differ", file.name);
        // Every case was run (none silently skipped), keys refused by the JWK policy included.
        assert!(web.valid_accepted > 0, "{}", file.name);
        assert_eq!(web.key_refused.len(), file.key_refused, "{}", file.name);
        assert_eq!(
            web.total(),
            file.valid + file.invalid + file.acceptable,
            "{}",
            file.name
        );
    }
}

#[wasm_bindgen_test]
async fn imported_keys_are_reused() {
    let file = &vector_files()[0];
    let cases = load_cases(file.json, file.alg).unwrap();
    let case = cases.iter().find(|c| c.key.is_ok()).unwrap();
    let key = case.key.as_ref().unwrap();
    let imported = ImportedKeys::default();
    let verifier = WebCryptoVerifier::new(&imported, 0);
    for _ in 0..3 {
        let _ = verifier
            .verify(case.alg, key, &case.message, &case.signature)
            .await;
    }
    assert_eq!(imported.len(), 1);
}
