//! Fuzzes JWK Set parsing, token parsing and full verification.
//!
//! Input: a mode byte, then two parts split at the first NUL byte.
//! - Even mode: a JWK Set document and a token, both arbitrary.
//! - Odd mode: a JWS header and a payload (arbitrary bytes) that this target signs with the
//!   RFC 8037 Ed25519 key, verified against that key's public JWK, so the fuzzer reaches the
//!   claim checks and the tamper property on every input instead of only on seeds.
//!
//! Properties: nothing panics; verification gives the same answer twice; every accepted key
//! re-parses from its public JWK; whatever verifies has claims that re-encode to exactly the
//! payload's JSON object, the expected issuer and audience, and an `exp`/`nbf` that hold at the
//! verification time; a token signed by the set's key passes the signature check whenever it
//! parses and finds its key; and one changed, dropped or added byte anywhere in a token whose
//! signature checks never passes the signature check.
#![no_main]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use jose_jwt::{
    verify, Algorithm, JwkSet, RustCryptoVerifier, UnverifiedToken, VerificationOptions,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ISSUER: &str = "iss";
const AUDIENCE: &str = "aud";
const NOW: i64 = 1_700_000_000;
const SKEW: i64 = 60;

/// RFC 8037 Appendix A.1 (a published test key: it protects nothing).
const ED25519_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED25519_JWKS: &[u8] = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1",
    "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

fn options() -> &'static VerificationOptions {
    static OPTIONS: OnceLock<VerificationOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        VerificationOptions::new([ISSUER], [AUDIENCE], Algorithm::ALL)
            .unwrap()
            .with_clock_skew_seconds(SKEW as u64)
    })
}

fn signer() -> &'static (SigningKey, JwkSet) {
    static SIGNER: OnceLock<(SigningKey, JwkSet)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let d: [u8; 32] = base64_decode(ED25519_D).try_into().unwrap();
        let set = JwkSet::parse(ED25519_JWKS).unwrap().set;
        (SigningKey::from_bytes(&d), set)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (first, second) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    if mode & 1 == 0 {
        arbitrary_set_and_token(mode, first, second);
    } else {
        signed_by_target(mode, first, second);
    }
});

fn arbitrary_set_and_token(mode: u8, jwks: &[u8], token: &[u8]) {
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    // Parsing a token never needs keys.
    let _ = UnverifiedToken::parse(token, options()).map(|t| t.header().clone());
    let Ok(parsed) = JwkSet::parse(jwks) else {
        return;
    };
    let set = parsed.set;
    for key in set.keys() {
        // Every accepted key re-parses from its public JWK.
        let again = jose_jwt::Jwk::from_value(&key.public_jwk_json()).unwrap();
        assert_eq!(again.public_jwk_json(), key.public_jwk_json());
    }
    check_token(mode, token, &set);
}

fn signed_by_target(mode: u8, header: &[u8], payload: &[u8]) {
    let (key, set) = signer();
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);

    // Completeness: the key that signed it is the set's only key, so once the token parses and
    // selects that key, the signature must check.
    if let Ok(unverified) = UnverifiedToken::parse(&token, options()) {
        if let Ok((_, jwk)) = unverified.select_key(set) {
            assert!(
                unverified.check_signature(jwk, &RustCryptoVerifier).is_ok(),
                "a correctly signed token failed its signature check"
            );
        }
    }
    check_token(mode, &token, set);
}

/// The properties of one token against one set.
fn check_token(mode: u8, token: &str, set: &JwkSet) {
    let result = verify(token, set, options(), NOW);
    assert_eq!(
        result
            .as_ref()
            .map(|v| v.claims().as_map())
            .map_err(|e| e.code()),
        verify(token, set, options(), NOW)
            .as_ref()
            .map(|v| v.claims().as_map())
            .map_err(|e| e.code()),
        "deterministic"
    );
    if let Ok(verified) = &result {
        // Claims re-encode to exactly the payload object.
        let payload = base64_decode(token.split('.').nth(1).unwrap());
        let reparsed: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            &reparsed,
            &serde_json::Value::Object(verified.claims().as_map().clone())
        );
        let claims = verified.claims();
        assert_eq!(claims.iss(), Some(ISSUER));
        assert!(claims.audiences().iter().any(|a| a == AUDIENCE));
        assert!(
            claims.exp().saturating_add(SKEW) >= NOW,
            "expired token verified"
        );
        assert!(
            claims
                .nbf()
                .is_none_or(|nbf| nbf.saturating_sub(SKEW) <= NOW),
            "not-yet-valid token verified"
        );
    }
    if !signature_checks(token, set) {
        return;
    }
    // One changed, dropped or added byte anywhere never passes the signature check.
    let position = usize::from(mode >> 1).wrapping_mul(token.len() / 64 + 1) % token.len();
    let original = token.as_bytes()[position];
    let mut replacement = TOKEN_ALPHABET[usize::from(mode) % TOKEN_ALPHABET.len()];
    if replacement == original {
        replacement = if original == b'A' { b'B' } else { b'A' };
    }
    let mut changed = token.as_bytes().to_vec();
    changed[position] = replacement;
    let mut dropped = token.to_owned();
    dropped.remove(position);
    let mut added = token.to_owned();
    added.insert(position, char::from(replacement));
    for tampered in [String::from_utf8(changed).unwrap(), dropped, added] {
        assert!(
            !signature_checks(&tampered, set),
            "a tampered token passed the signature check"
        );
        assert!(verify(&tampered, set, options(), NOW).is_err());
    }
}

const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=";

fn signature_checks(token: &str, set: &JwkSet) -> bool {
    let Ok(unverified) = UnverifiedToken::parse(token, options()) else {
        return false;
    };
    let Ok((_, key)) = unverified.select_key(set) else {
        return false;
    };
    unverified.check_signature(key, &RustCryptoVerifier).is_ok()
}

fn base64_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}
