//! Known-answer tests: the RFC examples, at the signature step (they are JWS,
//! not JWTs with `exp`/`aud`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jose_jwt::{
    Algorithm, ClaimName, ClaimProblem, Error, JwkSet, JwtProblem, RustCryptoVerifier,
    UnverifiedToken, VerificationOptions,
};

fn set_of(jwk: &str) -> JwkSet {
    let doc = format!(r#"{{"keys":[{jwk}]}}"#);
    JwkSet::parse(doc.as_bytes()).unwrap().set
}

fn opts(alg: Algorithm) -> VerificationOptions {
    VerificationOptions::new(["joe"], ["any"], [alg]).unwrap()
}

/// Verifies the example, then shows one flipped signature bit fails.
fn check_example(
    alg: Algorithm,
    jws: &str,
    jwk: &str,
    then: impl FnOnce(jose_jwt::SignatureChecked<'_>),
) {
    let jws = jws.trim();
    let set = set_of(jwk);
    let opts = opts(alg);
    let token = UnverifiedToken::parse(jws, &opts).unwrap();
    assert_eq!(token.header().alg(), alg);
    let (index, key) = token.select_key(&set).unwrap();
    assert_eq!(index, 0);
    let checked = token.check_signature(key, &RustCryptoVerifier).unwrap();

    // Same token with the last signature byte changed (kept canonical).
    let (head, sig) = jws.rsplit_once('.').unwrap();
    let mut bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    let forged = format!(
        "{head}.{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    );
    let result = UnverifiedToken::parse(&forged, &opts)
        .and_then(|t| t.check_signature(key, &RustCryptoVerifier).map(|_| ()));
    assert!(result.is_err(), "a changed signature verified");
    then(checked);
}

#[test]
fn rfc7515_a2_rs256_example_verifies() {
    check_example(
        Algorithm::Rs256,
        include_str!("data/rfc7515_a2_rs256.jws"),
        include_str!("data/rfc7515_a2_rs256.jwk.json"),
        |checked| {
            // Claims are read only after the signature: this set has no aud.
            let opts = VerificationOptions::new(["joe"], ["x"], [Algorithm::Rs256]).unwrap();
            let err = checked.validate_claims(&opts, 1_700_000_000).unwrap_err();
            assert_eq!(
                err,
                Error::ClaimValidationFailed {
                    claim: ClaimName::Aud,
                    reason: ClaimProblem::Missing
                }
            );
        },
    );
}

#[test]
fn rfc7515_a3_es256_example_verifies() {
    check_example(
        Algorithm::Es256,
        include_str!("data/rfc7515_a3_es256.jws"),
        include_str!("data/rfc7515_a3_es256.jwk.json"),
        |checked| {
            // Claims are read only now: the example has iss "joe" but no aud.
            let opts = VerificationOptions::new(["joe"], ["x"], [Algorithm::Es256]).unwrap();
            let err = checked.validate_claims(&opts, 1_300_819_000).unwrap_err();
            assert_eq!(
                err,
                Error::ClaimValidationFailed {
                    claim: ClaimName::Aud,
                    reason: ClaimProblem::Missing
                }
            );
        },
    );
}

#[test]
fn rfc8037_a4_ed25519_example_verifies() {
    check_example(
        Algorithm::EdDsa,
        include_str!("data/rfc8037_a4_eddsa.jws"),
        include_str!("data/rfc8037_a4_eddsa.jwk.json"),
        |checked| {
            // "Example of Ed25519 signing" is not a claims set.
            let opts = opts(Algorithm::EdDsa);
            assert_eq!(
                checked.validate_claims(&opts, 0).unwrap_err(),
                Error::JwtInvalid {
                    reason: JwtProblem::NotJson
                }
            );
        },
    );
}

#[test]
fn rfc_examples_fail_with_the_wrong_algorithm_allowed() {
    let jws = include_str!("data/rfc7515_a3_es256.jws").trim();
    let opts = opts(Algorithm::Rs256);
    assert_eq!(
        UnverifiedToken::parse(jws, &opts).unwrap_err(),
        Error::AlgNotAllowed
    );
}
