//! Fuzzes JWK Set parsing, token parsing and full verification.
//!
//! Input: a JWK Set document and a token, split at the first NUL byte.
//! Properties: nothing panics; whatever verifies has claims that re-encode to
//! the payload's JSON object; and changing one signature byte of a verified
//! token never verifies.
#![no_main]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jose_jwt::{verify, Algorithm, JwkSet, UnverifiedToken, VerificationOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (jwks, token) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let opts = VerificationOptions::new(["iss"], ["aud"], Algorithm::ALL)
        .unwrap()
        .with_clock_skew_seconds(u64::MAX);
    // Parsing a token never needs keys.
    let _ = UnverifiedToken::parse(token, &opts).map(|t| t.header().clone());
    let Ok(parsed) = JwkSet::parse(jwks) else {
        return;
    };
    let set = parsed.set;
    for key in set.keys() {
        // Every accepted key re-parses from its public JWK.
        let again = jose_jwt::Jwk::from_value(&key.public_jwk_json()).unwrap();
        assert_eq!(again.public_jwk_json(), key.public_jwk_json());
    }
    let Ok(verified) = verify(token, &set, &opts, 0) else {
        return;
    };
    // Claims re-encode to exactly the payload object.
    let payload_b64 = token.split('.').nth(1).unwrap();
    let payload = base64_decode(payload_b64);
    let reparsed: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        &reparsed,
        &serde_json::Value::Object(verified.claims().as_map().clone())
    );
    // One changed signature byte never verifies.
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = base64_decode(sig);
    bytes[0] ^= 1;
    let tampered = format!("{head}.{}", base64_encode(&bytes));
    assert!(verify(&tampered, &set, &opts, 0).is_err());
});

fn base64_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
