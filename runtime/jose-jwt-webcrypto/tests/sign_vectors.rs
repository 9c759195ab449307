//! The WebCrypto signer against answers computed outside this code, run in a JS engine with
//! WebCrypto (`cargo xtask test` runs it under Node with wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jose_jwt::sign::{compact, SigningKey};
use jose_jwt::{Algorithm, Jwk, RustCryptoVerifier, SignatureVerifier};
use jose_jwt_webcrypto::WebCryptoSigner;
use wasm_bindgen_test::wasm_bindgen_test;

/// RFC 8037 A.1 (the key) and A.4 (the signing input and its deterministic signature).
const RFC8037_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"k1","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
const RFC8037_A4: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// A P-256 key whose public point was computed with Python's `cryptography` from `d`.
const P256_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"p1","d":"jpsQnnGQmL-YBIffH1136cLyvYtXuJbm-Q3uQrqPfJU","x":"wr6NHfm8JjGprrMfdpig9isdXJo7SP2tlK_LjEOVNOs","y":"brPJYIyRt_gT8dJKJLyfzn3wezOcEKSM3vhGsWumhSs"}"#;

#[wasm_bindgen_test]
async fn ed25519_signs_the_rfc8037_example_exactly() {
    let key = SigningKey::from_private_jwk(RFC8037_JWK.as_bytes()).unwrap();
    let (input, _) = RFC8037_A4.rsplit_once('.').unwrap();
    let signer = WebCryptoSigner::new();
    let signature = signer.sign(&key, input.as_bytes()).await.unwrap();
    assert_eq!(compact(input, &signature).unwrap(), RFC8037_A4);
    // Imported once: the second signature reuses the key and is the same (deterministic).
    assert!(signer.is_imported());
    assert_eq!(
        signer.sign(&key, input.as_bytes()).await.unwrap(),
        signature
    );
}

#[wasm_bindgen_test]
async fn es256_signatures_are_raw_r_s_that_rustcrypto_verifies() {
    let key = SigningKey::from_private_jwk(P256_JWK.as_bytes()).unwrap();
    let public = Jwk::from_value(&key.public_jwk().unwrap()).unwrap();
    let signer = WebCryptoSigner::new();
    for message in [&b"a.b"[..], b"", &[0xffu8; 300][..]] {
        let signature = signer.sign(&key, message).await.unwrap();
        assert_eq!(signature.len(), 64);
        RustCryptoVerifier
            .verify(Algorithm::Es256, &public, message, &signature)
            .unwrap();
        let mut tampered = message.to_vec();
        tampered.push(b'x');
        assert!(RustCryptoVerifier
            .verify(Algorithm::Es256, &public, &tampered, &signature)
            .is_err());
    }
}

#[wasm_bindgen_test]
async fn hs512_matches_rfc4231_test_case_6() {
    // RFC 4231 §4.7: key = 0xaa × 131, data below, HMAC-SHA-512 as given there.
    let secret = URL_SAFE_NO_PAD.encode([0xaa; 131]);
    let key = SigningKey::hs512(&secret).unwrap();
    let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
    let signature = WebCryptoSigner::new().sign(&key, data).await.unwrap();
    assert_eq!(
        hex::encode(signature),
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
         6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
    );
}
