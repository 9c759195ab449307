//! JWK and JWK Set validation policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{Algorithm, Error, Jwk, JwkProblem, JwkSet, JwksProblem, Unsupported};
use serde_json::{json, Value};

fn refused(jwk: &Value) -> Error {
    Jwk::from_value(jwk).unwrap_err()
}

fn invalid(reason: JwkProblem) -> Error {
    Error::JwkInvalid { reason }
}

fn set_refused(doc: &[u8]) -> Error {
    JwkSet::parse(doc).unwrap_err()
}

#[test]
fn private_members_make_the_key_refused() {
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        let mut jwk = p256_jwk(&p256_key(), None);
        jwk[member] = json!("AQAB");
        let err = refused(&jwk);
        assert_eq!(err, invalid(JwkProblem::PrivateMembers), "{member}");
        assert!(err.to_string().contains("private"), "{member}: {err}");
    }
    let doc = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string();
    assert_eq!(
        set_refused(doc.as_bytes()),
        Error::JwksInvalid {
            reason: JwksProblem::NoUsableKey
        }
    );
}

#[test]
fn ec_points_must_be_on_the_curve_with_exact_lengths() {
    let good = p256_jwk(&p256_key(), None);
    let mut off_curve = good.clone();
    let mut y = unb64(good["y"].as_str().unwrap());
    y[31] ^= 1;
    off_curve["y"] = json!(b64(&y));
    assert_eq!(refused(&off_curve), invalid(JwkProblem::EcNotOnCurve));
    let mut short = good.clone();
    short["x"] = json!(b64(&unb64(good["x"].as_str().unwrap())[1..]));
    assert_eq!(refused(&short), invalid(JwkProblem::EcCoordinateLength));
    let mut padded = good.clone();
    padded["x"] = json!(b64(
        [&[0u8][..], &unb64(good["x"].as_str().unwrap())].concat()
    ));
    assert_eq!(refused(&padded), invalid(JwkProblem::EcCoordinateLength));
    let mut wrong_curve = good.clone();
    wrong_curve["crv"] = json!("P-384");
    assert_eq!(
        refused(&wrong_curve),
        invalid(JwkProblem::EcCoordinateLength)
    );
    let mut zero = good;
    zero["x"] = json!(b64([0u8; 32]));
    zero["y"] = json!(b64([0u8; 32]));
    assert_eq!(refused(&zero), invalid(JwkProblem::EcNotOnCurve));
}

#[test]
fn rsa_keys_need_2048_to_8192_bits_and_a_sane_exponent() {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let small =
        rsa::RsaPublicKey::from_public_key_pem(include_str!("data/rsa1024_test_pub.pem")).unwrap();
    let jwk = json!({"kty": "RSA", "n": b64(small.n().to_bytes_be()), "e": "AQAB"});
    assert_eq!(refused(&jwk), invalid(JwkProblem::RsaModulusTooShort));

    let good = rsa_jwk(&rsa_key(), None);
    let mut huge = good.clone();
    huge["n"] = json!(b64([0xffu8; 1025]));
    assert_eq!(refused(&huge), invalid(JwkProblem::RsaModulusTooLong));
    for e in [
        &[1u8][..],
        &[3],
        &[0x01, 0x00, 0x00],
        &[0x01, 0x00, 0x02],
        &[],
    ] {
        let mut jwk = good.clone();
        jwk["e"] = json!(b64(e));
        assert_eq!(refused(&jwk), invalid(JwkProblem::RsaExponent), "{e:?}");
    }
    let mut even = good.clone();
    let mut n = unb64(good["n"].as_str().unwrap());
    *n.last_mut().unwrap() &= 0xfe;
    even["n"] = json!(b64(&n));
    assert_eq!(refused(&even), invalid(JwkProblem::RsaModulusEven));
    let mut padded_b64 = good;
    padded_b64["e"] = json!("AQAB=");
    assert_eq!(
        refused(&padded_b64),
        invalid(JwkProblem::MemberNotBase64url)
    );
}

#[test]
fn unknown_kty_and_crv_are_not_supported() {
    for (jwk, what) in [
        (
            json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}),
            Unsupported::EcCurve,
        ),
        (
            json!({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}),
            Unsupported::EcCurve,
        ),
        (
            json!({"kty": "OKP", "crv": "X25519", "x": "AA"}),
            Unsupported::OkpCurve,
        ),
        (
            json!({"kty": "OKP", "crv": "Ed448", "x": "AA"}),
            Unsupported::OkpCurve,
        ),
        (json!({"kty": "RSA-PSS"}), Unsupported::KeyType),
    ] {
        assert_eq!(refused(&jwk), Error::NotSupported { what }, "{jwk}");
    }
    assert_eq!(
        refused(&json!({"x": "AA"})),
        invalid(JwkProblem::KtyMissing)
    );
    assert_eq!(refused(&json!([])), invalid(JwkProblem::NotObject));
}

#[test]
fn use_key_ops_and_alg_must_allow_verification() {
    let base = ed_jwk(&ed_key(), Some("ed"));
    let with = |k: &str, v: Value| {
        let mut j = base.clone();
        j[k] = v;
        j
    };
    assert!(Jwk::from_value(&with("use", json!("sig"))).is_ok());
    assert!(Jwk::from_value(&with("key_ops", json!(["verify"]))).is_ok());
    assert_eq!(
        Jwk::from_value(&with("alg", json!("EdDSA"))).unwrap().alg(),
        Some(Algorithm::EdDsa)
    );
    use JwkProblem::*;
    for (bad, problem) in [
        (with("use", json!("enc")), UseNotSig),
        (with("use", json!(1)), UseNotSig),
        (with("key_ops", json!(["sign"])), KeyOpsWithoutVerify),
        (
            with("key_ops", json!(["verify", "verify"])),
            KeyOpsDuplicate,
        ),
        (with("key_ops", json!("verify")), KeyOpsNotStrings),
        (with("key_ops", json!(["verify", 1])), KeyOpsNotStrings),
        (with("alg", json!("ES256")), AlgMismatch),
        (with("alg", json!("HS256")), AlgUnsupported),
        (with("alg", json!("RSA-OAEP")), AlgUnsupported),
        (with("alg", json!(256)), AlgNotString),
        (with("kid", json!(7)), KidNotString),
    ] {
        assert_eq!(refused(&bad), invalid(problem), "{bad}");
    }
}

#[test]
fn a_set_keeps_good_keys_and_reports_the_rest() {
    let doc = json!({"keys": [
        {"kty": "RSA", "kid": "enc-key", "use": "enc", "n": "AQAB", "e": "AQAB"},
        p256_jwk(&p256_key(), Some("good")),
        {"kty": "EC", "kid": "private", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"},
        "not an object",
    ]});
    let parsed = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.set.keys().len(), 1);
    assert_eq!(parsed.set.keys()[0].kid(), Some("good"));
    assert!(parsed.set.contains_kid("good"));
    let rejected: Vec<_> = parsed
        .rejected
        .iter()
        .map(|r| (r.index, r.kid.as_deref(), r.error.clone()))
        .collect();
    assert_eq!(
        rejected,
        [
            // Its 3-byte modulus is refused before its `use` is looked at.
            (0, Some("enc-key"), invalid(JwkProblem::RsaModulusTooShort)),
            (2, Some("private"), invalid(JwkProblem::PrivateMembers)),
            (3, None, invalid(JwkProblem::NotObject)),
        ]
    );
}

#[test]
fn a_set_without_usable_keys_is_an_error() {
    use JwksProblem::*;
    for (doc, problem) in [
        (&br#"{"keys":[]}"#[..], NoUsableKey),
        (br#"{"keys":[{"kty":"oct","k":"AA"}]}"#, NoUsableKey),
        (br#"{"keys":{}}"#, NoKeysArray),
        (br#"{"kids":[]}"#, NoKeysArray),
        (br#"[]"#, NotObject),
        (br#"{"keys":[],"keys":[]}"#, DuplicateMember),
        (b"not json", NotJson),
    ] {
        assert_eq!(
            set_refused(doc),
            Error::JwksInvalid { reason: problem },
            "{}",
            String::from_utf8_lossy(doc)
        );
    }
    assert_eq!(
        JwkSet::from_keys(Vec::new()).unwrap_err(),
        Error::JwksInvalid {
            reason: NoUsableKey
        }
    );
}

#[test]
fn public_jwk_json_holds_only_public_members() {
    let mut jwk = p256_jwk(&p256_key(), Some("k1"));
    jwk["alg"] = json!("ES256");
    jwk["use"] = json!("sig");
    jwk["x-custom"] = json!("dropped");
    let key = Jwk::from_value(&jwk).unwrap();
    let out = key.public_jwk_json();
    let mut names: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["alg", "crv", "kid", "kty", "x", "y"]);
    assert_eq!(out["x"], jwk["x"]);
    // It parses back to an equivalent key.
    assert_eq!(Jwk::from_value(&out).unwrap().public_jwk_json(), out);
}
