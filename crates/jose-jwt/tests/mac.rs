//! Shared-secret tokens (HS256/384/512): known answers computed outside this
//! crate, and the key-confusion class in both directions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{
    verify, verify_mac, Algorithm, AnyToken, ClaimName, ClaimProblem, Error, JwsProblem,
    MacAlgorithm, RustCryptoMac, RustCryptoVerifier, SecretProblem, SharedSecret, UnverifiedToken,
    VerificationOptions,
};
use rsa::pkcs8::EncodePublicKey;
use serde_json::json;

/// The 64 bytes 0x00..0x3f, as base64url (python: `bytes(range(64))`).
const KAT_SECRET: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw";

/// Computed with Python's standard library, outside this crate:
/// ```text
/// import hmac,hashlib,base64,json
/// b=lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()
/// key=bytes(range(64))
/// hd=b(json.dumps({"alg":ALG,"typ":"JWT"},separators=(',',':')).encode())
/// pl=b(json.dumps({"iss":"https://issuer.example/","aud":"api://orders","sub":"alice",
///                  "exp":2000000000},separators=(',',':')).encode())
/// si=hd+"."+pl; print(si+"."+b(hmac.new(key,si.encode(),HASH).digest()))
/// ```
const KAT_TOKENS: [(MacAlgorithm, &str); 3] = [
    (
        MacAlgorithm::Hs256,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLyIsImF1ZCI6ImFwaTovL29yZGVycyIsInN1YiI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwfQ.rDwaz0yXkuMgDHOH3-mHtylCV0ttuAX3vSBlUQEKEx0",
    ),
    (
        MacAlgorithm::Hs384,
        "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLyIsImF1ZCI6ImFwaTovL29yZGVycyIsInN1YiI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwfQ.hPKQMw1CJRdrHXu_0TyVe0UzybCvBWDVgECAoqrJbbBIAmlM98jRLUofixG9SeOg",
    ),
    (
        MacAlgorithm::Hs512,
        "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLyIsImF1ZCI6ImFwaTovL29yZGVycyIsInN1YiI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwfQ.WJHdjTphtvUj5M7rM_uxuJYk0eEnm3AC6wBYHWg-u1CsFxVaGiAhYsARjpo0Qi27Ev3HVfUzBr647t1nwzYTLQ",
    ),
];

fn mac_options(macs: &[MacAlgorithm]) -> VerificationOptions {
    VerificationOptions::with_mac([ISSUER], [AUDIENCE], [], macs.iter().copied()).unwrap()
}

fn kat_secret() -> SharedSecret {
    SharedSecret::from_base64url(KAT_SECRET).unwrap()
}

/// A token MAC'd with HMAC-SHA256 under `key` (the test helper's own HMAC,
/// not the crate's).
fn hs256_token(key: &[u8], header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    format!("{input}.{}", b64(hmac_sha256(key, input.as_bytes())))
}

#[test]
fn rfc7515_a1_hs256_example_verifies_at_the_mac_step() {
    // RFC 7515 Appendix A.1: the JWK's `k` and the compact JWS, verbatim.
    let secret = SharedSecret::from_base64url(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
    )
    .unwrap();
    let jws = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let opts = VerificationOptions::with_mac(["joe"], ["any"], [], [MacAlgorithm::Hs256]).unwrap();
    let token = UnverifiedToken::parse_mac(jws, &opts).unwrap();
    assert_eq!(token.header().alg(), MacAlgorithm::Hs256);
    assert_eq!(token.header().typ(), Some("JWT"));
    let checked = token.check_mac(&secret, &RustCryptoMac).unwrap();
    // Its claims have no `aud`: the claim step (shared with signatures) says so.
    assert_eq!(
        checked.validate_claims(&opts, 1_300_819_000).unwrap_err(),
        Error::ClaimValidationFailed {
            claim: ClaimName::Aud,
            reason: ClaimProblem::Missing
        }
    );
    // Every single flipped bit of the MAC fails.
    let (head, mac) = jws.rsplit_once('.').unwrap();
    let mac = unb64(mac);
    for bit in 0..mac.len() * 8 {
        let mut forged = mac.clone();
        forged[bit / 8] ^= 1 << (bit % 8);
        let forged = format!("{head}.{}", b64(&forged));
        let result = UnverifiedToken::parse_mac(&forged, &opts)
            .and_then(|t| t.check_mac(&secret, &RustCryptoMac).map(|_| ()));
        assert_eq!(result, Err(Error::SignatureVerificationFailed), "bit {bit}");
    }
}

#[test]
fn python_known_answers_verify_for_each_hash() {
    for (alg, token) in KAT_TOKENS {
        let verified = verify_mac(token, &kat_secret(), &mac_options(&[alg]), NOW).unwrap();
        assert_eq!(verified.header().alg(), alg);
        assert_eq!(verified.claims().sub(), Some("alice"));
    }
}

#[test]
fn a_wrong_secret_is_refused() {
    let mut other: Vec<u8> = (0u8..64).collect();
    other[63] ^= 1;
    let other = SharedSecret::from_bytes(&other).unwrap();
    for (alg, token) in KAT_TOKENS {
        assert_eq!(
            verify_mac(token, &other, &mac_options(&[alg]), NOW).unwrap_err(),
            Error::SignatureVerificationFailed,
            "{alg}"
        );
    }
}

#[test]
fn a_truncated_or_extended_mac_is_malformed_before_any_crypto() {
    for (alg, token) in KAT_TOKENS {
        let (head, mac) = token.rsplit_once('.').unwrap();
        let mac = unb64(mac);
        for len in [0, 1, 16, 31, mac.len() - 1] {
            let cut = format!("{head}.{}", b64(&mac[..len]));
            assert_eq!(
                verify_mac(&cut, &kat_secret(), &mac_options(&[alg]), NOW).unwrap_err(),
                Error::JwsInvalid {
                    reason: JwsProblem::SignatureShape
                },
                "{alg} cut to {len}"
            );
        }
        let mut longer = mac.clone();
        longer.push(0);
        let longer = format!("{head}.{}", b64(&longer));
        assert!(verify_mac(&longer, &kat_secret(), &mac_options(&[alg]), NOW).is_err());
    }
}

#[test]
fn an_algorithm_not_listed_is_refused_before_any_crypto() {
    // HS384 / HS512 tokens with only HS256 allowed, and so on: AlgNotAllowed, even with the
    // right secret.
    for (alg, token) in KAT_TOKENS {
        let others: Vec<MacAlgorithm> = MacAlgorithm::ALL
            .into_iter()
            .filter(|a| *a != alg)
            .collect();
        assert_eq!(
            verify_mac(token, &kat_secret(), &mac_options(&others), NOW).unwrap_err(),
            Error::AlgNotAllowed,
            "{alg}"
        );
    }
}

#[test]
fn a_secret_shorter_than_the_hash_never_checks_a_mac() {
    let secret32 = SharedSecret::from_bytes(&[0x42; 32]).unwrap();
    let all = mac_options(&MacAlgorithm::ALL);
    for (alg, token) in &KAT_TOKENS[1..] {
        assert_eq!(
            verify_mac(token, &secret32, &all, NOW).unwrap_err(),
            Error::SecretInvalid {
                reason: SecretProblem::ShorterThanHash
            },
            "{alg}"
        );
    }
}

#[test]
fn none_and_empty_macs_are_refused() {
    let claims = good_claims();
    for alg in ["none", "None", "NONE", "HS256"] {
        let token = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"{alg}"}}"#)),
            b64(claims.to_string())
        );
        let result = verify_mac(&token, &kat_secret(), &mac_options(&MacAlgorithm::ALL), NOW);
        assert!(
            matches!(
                result,
                Err(Error::AlgNotAllowed
                    | Error::JwsInvalid {
                        reason: JwsProblem::SignatureShape
                    })
            ),
            "{alg}: {result:?}"
        );
    }
}

#[test]
fn claims_are_validated_as_on_the_signature_path() {
    let secret = [0x5a; 32];
    let header = json!({"alg": "HS256"});
    let opts = mac_options(&[MacAlgorithm::Hs256]);
    let check = |claims: serde_json::Value| {
        let token = hs256_token(&secret, &header, &claims);
        verify_mac(
            &token,
            &SharedSecret::from_bytes(&secret).unwrap(),
            &opts,
            NOW,
        )
        .map(|_| ())
    };
    assert_eq!(check(good_claims()), Ok(()));
    let mut expired = good_claims();
    expired["exp"] = json!(NOW - 1);
    assert_eq!(check(expired), Err(Error::Expired));
    let mut other_iss = good_claims();
    other_iss["iss"] = json!("https://evil.example/");
    assert_eq!(
        check(other_iss),
        Err(Error::ClaimValidationFailed {
            claim: ClaimName::Iss,
            reason: ClaimProblem::UnexpectedIssuer
        })
    );
    let mut other_aud = good_claims();
    other_aud["aud"] = json!("api://other");
    assert!(matches!(
        check(other_aud),
        Err(Error::ClaimValidationFailed {
            claim: ClaimName::Aud,
            ..
        })
    ));
    let mut not_yet = good_claims();
    not_yet["nbf"] = json!(NOW + 100);
    assert_eq!(check(not_yet), Err(Error::NotYetValid));
}

/// CVE-2015-9235: an HS256 token whose MAC is keyed with the issuer's public
/// key, as PEM text and as the JWK's JSON text, against a verifier that allows
/// both RS256 (with that key in its set) and HS256 (with its own secret).
#[test]
fn a_mac_keyed_with_the_public_key_never_verifies() {
    let rsa = rsa_key();
    let public_pem = rsa
        .to_public_key()
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    let public_jwk = rsa_jwk(&rsa, Some("rsa")).to_string();
    let set = jwks(&[rsa_jwk(&rsa, Some("rsa"))]);
    let both = VerificationOptions::with_mac(
        [ISSUER],
        [AUDIENCE],
        [Algorithm::Rs256],
        [MacAlgorithm::Hs256],
    )
    .unwrap();
    let secret = SharedSecret::from_bytes(&[0x77; 32]).unwrap();
    for key in [public_pem.as_bytes(), public_jwk.as_bytes()] {
        for header in [
            json!({"alg": "HS256"}),
            json!({"alg": "HS256", "kid": "rsa"}),
        ] {
            let token = hs256_token(key, &header, &good_claims());
            // The header's alg picks the MAC branch: the public key never takes part.
            let AnyToken::Mac(mac) = AnyToken::parse(&token, &both).unwrap() else {
                panic!("an HS256 token took the signature branch");
            };
            assert_eq!(
                mac.check_mac(&secret, &RustCryptoMac).unwrap_err(),
                Error::SignatureVerificationFailed
            );
            // And the signature path refuses it by type, whatever the options allow.
            assert_eq!(
                UnverifiedToken::parse(&token, &both).unwrap_err(),
                Error::AlgNotAllowed
            );
            assert_eq!(
                verify(&token, &set, &both, NOW).unwrap_err(),
                Error::AlgNotAllowed
            );
        }
    }
}

#[test]
fn an_asymmetric_token_never_meets_the_secret() {
    let macs_only = mac_options(&MacAlgorithm::ALL);
    for alg in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa] {
        let token = token(alg, &good_claims());
        assert_eq!(
            AnyToken::parse(&token, &macs_only).unwrap_err(),
            Error::AlgNotAllowed,
            "{alg}"
        );
        assert_eq!(
            verify_mac(&token, &kat_secret(), &macs_only, NOW).unwrap_err(),
            Error::AlgNotAllowed
        );
        // Even when the options allow it, the MAC path cannot parse it.
        let both =
            VerificationOptions::with_mac([ISSUER], [AUDIENCE], [alg], MacAlgorithm::ALL).unwrap();
        assert_eq!(
            UnverifiedToken::parse_mac(&token, &both).unwrap_err(),
            Error::AlgNotAllowed
        );
        let AnyToken::Signature(signed) = AnyToken::parse(&token, &both).unwrap() else {
            panic!("{alg} took the MAC branch");
        };
        let set = standard_jwks();
        let (_, key) = signed.select_key(&set).unwrap();
        assert!(signed.check_signature(key, &RustCryptoVerifier).is_ok());
    }
}

#[test]
fn kid_is_optional_and_kept_for_mac_tokens() {
    let secret = [0x5a; 48];
    let s = SharedSecret::from_bytes(&secret).unwrap();
    let opts = mac_options(&[MacAlgorithm::Hs256]);
    let with = hs256_token(
        &secret,
        &json!({"alg": "HS256", "kid": "k1"}),
        &good_claims(),
    );
    let without = hs256_token(&secret, &json!({"alg": "HS256"}), &good_claims());
    let parsed = AnyToken::parse(&with, &opts).unwrap();
    assert_eq!(parsed.kid(), Some("k1"));
    assert_eq!(parsed.alg().as_str(), "HS256");
    assert_eq!(verify_mac(&with, &s, &opts, NOW).map(|_| ()), Ok(()));
    assert_eq!(verify_mac(&without, &s, &opts, NOW).map(|_| ()), Ok(()));
}
