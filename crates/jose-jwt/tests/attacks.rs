//! One named test per attack class.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{
    verify, Algorithm, ClaimName, ClaimProblem, Error, JwkProblem, JwkSet, JwksProblem, JwsProblem,
    JwtProblem, RustCryptoVerifier, SignatureVerifier, Unsupported, UnverifiedToken,
};
use serde_json::json;

const WRONG_SHAPE: Error = Error::JwsInvalid {
    reason: JwsProblem::SignatureShape,
};

fn es256_header(extra: serde_json::Value) -> String {
    let mut h = json!({"alg": "ES256", "kid": "es256"});
    for (k, v) in extra.as_object().unwrap() {
        h[k] = v.clone();
    }
    h.to_string()
}

fn payload() -> Vec<u8> {
    good_claims().to_string().into_bytes()
}

#[test]
fn alg_none_with_empty_signature_is_refused() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"{alg}"}}"#)),
            b64(payload())
        );
        let err = verify(&token, &standard_jwks(), &options(), NOW).unwrap_err();
        assert_eq!(err, Error::AlgNotAllowed, "{alg}");
        assert_eq!(err.code(), "ERR_JOSE_ALG_NOT_ALLOWED");
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic key-confusion forgery: HMAC keyed with the public key's bytes.
    let public_pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(
        &rsa_key().to_public_key(),
        rsa::pkcs8::LineEnding::LF,
    )
    .unwrap();
    let n_bytes = unb64(rsa_jwk(&rsa_key(), None)["n"].as_str().unwrap());
    for secret in [public_pem.as_bytes(), &n_bytes[..]] {
        let input = format!(
            "{}.{}",
            b64(r#"{"alg":"HS256","kid":"rsa"}"#),
            b64(payload())
        );
        let token = format!("{input}.{}", b64(hmac_sha256(secret, input.as_bytes())));
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::AlgNotAllowed
        );
    }
}

#[test]
fn kid_with_path_or_sql_text_is_an_opaque_exact_lookup() {
    let odd_kid = "../../../etc/passwd";
    let set = jwks(&[p256_jwk(&p256_key(), Some(odd_kid))]);
    let sign_with_kid = |kid: &str| {
        let header = json!({"alg": "ES256", "kid": kid}).to_string();
        sign_raw(Algorithm::Es256, &header, &payload())
    };
    // Exactly equal: fine (a kid is just a string).
    assert!(verify(&sign_with_kid(odd_kid), &set, &options(), NOW).is_ok());
    for kid in [
        "' OR '1'='1",
        "../../../etc/passwd' OR '1'='1",
        "../../../etc/passwd\u{0}",
        "../../../etc/PASSWD",
        "/etc/passwd",
        " ../../../etc/passwd",
        "*",
        "",
    ] {
        assert_eq!(
            verify(&sign_with_kid(kid), &set, &options(), NOW).unwrap_err(),
            Error::NoMatchingKey,
            "{kid:?}"
        );
        assert!(!set.contains_kid(kid));
    }
}

#[test]
fn embedded_jwk_jku_x5u_x5c_headers_are_ignored() {
    // The attacker signs with their own key and embeds it in every way.
    let attacker = p256_other_key();
    let attacker_jwk = p256_jwk(&attacker, Some("es256"));
    let header = es256_header(json!({
        "jwk": attacker_jwk,
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBszCCAVmgAwIBAgIU"],
    }));
    let input = format!("{}.{}", b64(&header), b64(payload()));
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::Signer::sign(&attacker, input.as_bytes());
    let forged = format!("{input}.{}", b64(sig.to_bytes()));
    // The embedded key would verify it...
    let attacker_set = jwks(std::slice::from_ref(&attacker_jwk));
    assert!(verify(&forged, &attacker_set, &options(), NOW).is_ok());
    // ...but only the caller's set counts.
    assert_eq!(
        verify(&forged, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::SignatureVerificationFailed
    );
    // The same headers on an honestly signed token change nothing.
    let honest = sign_raw(Algorithm::Es256, &header, &payload());
    assert!(verify(&honest, &standard_jwks(), &options(), NOW).is_ok());
}

const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

fn es256_with_signature(sig: &[u8]) -> String {
    let input = format!("{}.{}", b64(es256_header(json!({}))), b64(payload()));
    format!("{input}.{}", b64(sig))
}

#[test]
fn ecdsa_zero_signature_cve_2022_21449_is_refused() {
    let token = es256_with_signature(&[0u8; 64]);
    assert_eq!(
        verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
        WRONG_SHAPE
    );
    // The verifier refuses it too, if called directly (defence in depth).
    let set = standard_jwks();
    assert_eq!(
        RustCryptoVerifier.verify(Algorithm::Es256, &set.keys()[0], b"x", &[0; 64]),
        Err(Error::SignatureVerificationFailed)
    );
}

#[test]
fn ecdsa_r_or_s_not_below_n_is_refused() {
    let n = hex::decode(P256_N).unwrap();
    let good = unb64(
        sign_raw(Algorithm::Es256, &es256_header(json!({})), &payload())
            .rsplit('.')
            .next()
            .unwrap(),
    );
    let (r, s) = good.split_at(32);
    let ff = [0xffu8; 32];
    for (r, s) in [
        (&n[..], s),
        (r, &n[..]),
        (&ff[..], s),
        (r, &ff[..]),
        (&n[..], &n[..]),
    ] {
        let token = es256_with_signature(&[r, s].concat());
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            WRONG_SHAPE
        );
    }
    // The honest signature and its high-S twin (n - s) are both in range and
    // both valid P1363 signatures (WebCrypto accepts both too).
    assert!(verify(
        &es256_with_signature(&good),
        &standard_jwks(),
        &options(),
        NOW
    )
    .is_ok());
    let mut high_s = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        high_s[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    let twin = es256_with_signature(&[r, &high_s[..]].concat());
    assert!(verify(&twin, &standard_jwks(), &options(), NOW).is_ok());
}

#[test]
fn der_encoded_ecdsa_signature_is_refused() {
    let input = format!("{}.{}", b64(es256_header(json!({}))), b64(payload()));
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::Signer::sign(&p256_key(), input.as_bytes());
    let der = sig.to_der();
    let token = format!("{input}.{}", b64(der.as_bytes()));
    assert_eq!(
        verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
        WRONG_SHAPE
    );
}

#[test]
fn ed25519_signature_with_s_not_below_l_is_refused() {
    // S + L verifies under a lax checker (same point); it must be refused.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let header = json!({"alg": "EdDSA", "kid": "ed"}).to_string();
    let token = sign_raw(Algorithm::EdDsa, &header, &payload());
    assert!(verify(&token, &standard_jwks(), &options(), NOW).is_ok());
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = unb64(sig);
    let mut carry = 0u16;
    for (byte, l) in sig[32..].iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    let malleated = format!("{input}.{}", b64(&sig));
    assert_eq!(
        verify(&malleated, &standard_jwks(), &options(), NOW).unwrap_err(),
        WRONG_SHAPE
    );
}

#[test]
fn ed25519_small_order_public_keys_are_refused() {
    let mut minus_one = [0xffu8; 32]; // y = p - 1: order 2
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let mut identity = [0u8; 32]; // y = 1
    identity[0] = 1;
    let mut identity_non_canonical = [0xffu8; 32]; // y = p + 1
    identity_non_canonical[0] = 0xee;
    identity_non_canonical[31] = 0x7f;
    let zero = [0u8; 32]; // y = 0: order 4
    for (x, problem) in [
        (minus_one, JwkProblem::Ed25519SmallOrder),
        (identity, JwkProblem::Ed25519SmallOrder),
        // Refused before its order is looked at: it is the identity's second encoding.
        (identity_non_canonical, JwkProblem::Ed25519NotCanonical),
        (zero, JwkProblem::Ed25519SmallOrder),
    ] {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(x)});
        let err = jose_jwt::Jwk::from_value(&jwk).unwrap_err();
        assert_eq!(err, Error::JwkInvalid { reason: problem });
        let doc = json!({"keys": [jwk]}).to_string();
        assert_eq!(
            JwkSet::parse(doc.as_bytes()).unwrap_err(),
            Error::JwksInvalid {
                reason: JwksProblem::NoUsableKey
            }
        );
    }
}

#[test]
fn unknown_or_empty_crit_is_refused() {
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!(["http://example.com/x"]),
    ] {
        let token = sign_raw(
            Algorithm::Es256,
            &es256_header(json!({ "crit": crit, "exp": 1 })),
            &payload(),
        );
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::NotSupported {
                what: Unsupported::CriticalExtensions
            }
        );
    }
    for crit in [json!([]), json!("exp"), json!([1])] {
        let token = sign_raw(
            Algorithm::Es256,
            &es256_header(json!({ "crit": crit })),
            &payload(),
        );
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::JwsInvalid {
                reason: JwsProblem::CritMalformed
            }
        );
    }
}

#[test]
fn b64_false_is_refused() {
    for b64_value in [json!(false), json!("false"), json!(0)] {
        let token = sign_raw(
            Algorithm::Es256,
            &es256_header(json!({ "b64": b64_value })),
            &payload(),
        );
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::NotSupported {
                what: Unsupported::UnencodedPayload
            }
        );
    }
    // b64: true is the default and harmless.
    let token = sign_raw(
        Algorithm::Es256,
        &es256_header(json!({ "b64": true })),
        &payload(),
    );
    assert!(verify(&token, &standard_jwks(), &options(), NOW).is_ok());
}

#[test]
fn cty_jwt_nested_token_is_not_unwrapped() {
    // The inner token is valid on its own; wrapped, it is just a non-JSON payload.
    let inner = token(Algorithm::Es256, &good_claims());
    assert!(verify(&inner, &standard_jwks(), &options(), NOW).is_ok());
    let outer = sign_raw(
        Algorithm::Es256,
        &es256_header(json!({"cty": "JWT"})),
        inner.as_bytes(),
    );
    assert_eq!(
        verify(&outer, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::JwtInvalid {
            reason: JwtProblem::NotJson
        }
    );
}

#[test]
fn duplicate_alg_iss_sub_members_are_refused() {
    let duplicate_alg = r#"{"alg":"ES256","kid":"es256","alg":"none"}"#;
    let token = sign_raw(Algorithm::Es256, duplicate_alg, &payload());
    assert_eq!(
        verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::JwsInvalid {
            reason: JwsProblem::HeaderDuplicateMember
        }
    );
    let exp = NOW + 300;
    for body in [
        format!(
            r#"{{"iss":"https://evil.example/","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{exp}}}"#
        ),
        format!(
            r#"{{"iss":"{ISSUER}","sub":"alice","sub":"admin","aud":"{AUDIENCE}","exp":{exp}}}"#
        ),
        format!(
            r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{exp},"realm_access":{{"roles":["u"],"roles":["admin"]}}}}"#
        ),
    ] {
        let token = sign_raw(Algorithm::Es256, &es256_header(json!({})), body.as_bytes());
        assert_eq!(
            verify(&token, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::JwtInvalid {
                reason: JwtProblem::DuplicateMember
            }
        );
    }
}

#[test]
fn oversized_tokens_are_refused_before_decoding() {
    // Not even base64: had it been decoded first, the error would differ.
    for size in [16 * 1024, 1024 * 1024] {
        let junk = "!".repeat(size);
        let err = verify(&junk, &standard_jwks(), &options(), NOW).unwrap_err();
        assert_eq!(err, Error::TokenTooLarge);
        assert_eq!(err.code(), "ERR_JWT_TOO_LARGE");
    }
    // The limit is configurable, and a valid token just under it passes.
    let t = token(Algorithm::Es256, &good_claims());
    assert_eq!(
        verify(
            &t,
            &standard_jwks(),
            &options().with_max_token_size(t.len() - 1),
            NOW
        )
        .unwrap_err(),
        Error::TokenTooLarge
    );
    assert!(verify(
        &t,
        &standard_jwks(),
        &options().with_max_token_size(t.len()),
        NOW
    )
    .is_ok());
}

#[test]
fn empty_or_non_string_audience_is_refused() {
    for (aud, problem) in [
        (json!([]), ClaimProblem::UnexpectedAudience),
        (json!(123), ClaimProblem::NotStringOrStringArray),
        (json!([123]), ClaimProblem::NotStringOrStringArray),
        (json!([AUDIENCE, 1]), ClaimProblem::NotStringOrStringArray),
        (json!(null), ClaimProblem::NotStringOrStringArray),
        (json!({}), ClaimProblem::NotStringOrStringArray),
    ] {
        let mut claims = good_claims();
        claims["aud"] = aud.clone();
        let err = verify(
            &token(Algorithm::Es256, &claims),
            &standard_jwks(),
            &options(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::ClaimValidationFailed {
                claim: ClaimName::Aud,
                reason: problem
            },
            "{aud}"
        );
    }
}

#[test]
fn exp_and_nbf_as_strings_or_huge_numbers_are_refused() {
    use ClaimProblem::{NotNumber, NumberOutOfRange};
    for (claim, value, problem) in [
        (ClaimName::Exp, json!("1700000300"), NotNumber),
        (ClaimName::Exp, json!(1e300), NumberOutOfRange),
        (ClaimName::Exp, json!(-1e300), NumberOutOfRange),
        (ClaimName::Exp, json!(u64::MAX), NumberOutOfRange),
        (ClaimName::Exp, json!(true), NotNumber),
        (ClaimName::Nbf, json!("1"), NotNumber),
        (ClaimName::Nbf, json!(1e300), NumberOutOfRange),
        (ClaimName::Iat, json!("1"), NotNumber),
        (ClaimName::Iat, json!(-1e300), NumberOutOfRange),
    ] {
        let mut claims = good_claims();
        claims[claim.as_str()] = value.clone();
        let err = verify(
            &token(Algorithm::Es256, &claims),
            &standard_jwks(),
            &options(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::ClaimValidationFailed {
                claim: claim.clone(),
                reason: problem
            },
            "{claim}={value}"
        );
    }
    // 1e400 is not a representable JSON number: the payload is malformed.
    let body = format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":1e400}}"#);
    let t = sign_raw(Algorithm::Es256, &es256_header(json!({})), body.as_bytes());
    assert_eq!(
        verify(&t, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::JwtInvalid {
            reason: JwtProblem::NotJson
        }
    );
}

#[test]
fn iat_in_the_future_is_refused() {
    let opts = options().with_clock_skew_seconds(60);
    let mut claims = good_claims();
    claims["iat"] = json!(NOW + 61);
    let err = verify(
        &token(Algorithm::Es256, &claims),
        &standard_jwks(),
        &opts,
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::ClaimValidationFailed {
            claim: ClaimName::Iat,
            reason: ClaimProblem::IssuedInFuture
        }
    );
    claims["iat"] = json!(NOW + 60);
    assert!(verify(
        &token(Algorithm::Es256, &claims),
        &standard_jwks(),
        &opts,
        NOW
    )
    .is_ok());
}

#[test]
fn unknown_kid_is_no_matching_key() {
    let header = json!({"alg": "ES256", "kid": "rotated-away"}).to_string();
    let t = sign_raw(Algorithm::Es256, &header, &payload());
    let set = standard_jwks();
    assert!(!set.contains_kid("rotated-away"));
    let err = verify(&t, &set, &options(), NOW).unwrap_err();
    assert_eq!(err, Error::NoMatchingKey);
    assert_eq!(err.code(), "ERR_JWKS_NO_MATCHING_KEY");
}

#[test]
fn token_for_another_key_type_than_its_alg_is_refused() {
    // Header says RS256 with the EC key's kid: no RSA key has that kid.
    let header = json!({"alg": "RS256", "kid": "es256"}).to_string();
    let t = sign_raw(Algorithm::Rs256, &header, &payload());
    assert_eq!(
        verify(&t, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::NoMatchingKey
    );
    // Only EC keys published: an RS256 token finds nothing.
    let ec_only = jwks(&[p256_jwk(&p256_key(), None)]);
    let header = json!({"alg": "RS256"}).to_string();
    let t = sign_raw(Algorithm::Rs256, &header, &payload());
    assert_eq!(
        verify(&t, &ec_only, &options(), NOW).unwrap_err(),
        Error::NoMatchingKey
    );
    // A caller passing the wrong key explicitly is refused before any crypto.
    let parsed = UnverifiedToken::parse(&t, &options()).unwrap();
    assert_eq!(
        parsed
            .check_signature(&ec_only.keys()[0], &RustCryptoVerifier)
            .unwrap_err(),
        Error::NoMatchingKey
    );
    // An ES256 header over an RSA signature fails on shape.
    let t = sign_raw(
        Algorithm::Rs256,
        &json!({"alg": "ES256"}).to_string(),
        &payload(),
    );
    assert_eq!(
        verify(&t, &standard_jwks(), &options(), NOW).unwrap_err(),
        WRONG_SHAPE
    );
    // A P-384 key never serves an ES256 token.
    let p384_only = jwks(&[p384_jwk(&p384_key(), None)]);
    let t = sign_raw(
        Algorithm::Es256,
        &json!({"alg": "ES256"}).to_string(),
        &payload(),
    );
    assert_eq!(
        verify(&t, &p384_only, &options(), NOW).unwrap_err(),
        Error::NoMatchingKey
    );
}

#[test]
fn error_messages_never_echo_token_content() {
    let mut claims = good_claims();
    claims["aud"] = json!("<script>secret-audience</script>");
    claims["iss"] = json!(ISSUER);
    let t = token(Algorithm::Es256, &claims);
    let err = verify(&t, &standard_jwks(), &options(), NOW).unwrap_err();
    let shown = err.to_string();
    assert_eq!(shown, "claim \"aud\" invalid: unexpected audience");
    assert!(!shown.contains("secret") && !shown.contains(&t));
}
