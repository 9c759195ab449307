#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use ed25519_dalek::Signer as _;
use serde_json::json;

/// RFC 8037 Appendix A.1: the Ed25519 private key (`d`) and its public key (`x`).
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 Appendix A.4: the signing input and its (deterministic) Ed25519 signature.
const RFC8037_A4_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_A4_SIG: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// A P-256 key whose public point was computed outside this crate, with Python's
/// `cryptography`: `ec.derive_private_key(int.from_bytes(b64url(d), 'big'),
/// ec.SECP256R1()).public_key().public_numbers()` → x, y (big-endian, 32 bytes, base64url).
const P256_D: &str = "jpsQnnGQmL-YBIffH1136cLyvYtXuJbm-Q3uQrqPfJU";
const P256_X: &str = "wr6NHfm8JjGprrMfdpig9isdXJo7SP2tlK_LjEOVNOs";
const P256_Y: &str = "brPJYIyRt_gT8dJKJLyfzn3wezOcEKSM3vhGsWumhSs";

fn ed25519_jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1", "d": RFC8037_D, "x": RFC8037_X})
}

fn p256_jwk() -> Value {
    json!({"kty": "EC", "crv": "P-256", "kid": "p1", "d": P256_D, "x": P256_X, "y": P256_Y})
}

fn parse(value: &Value) -> Result<SigningKey, SigningKeyError> {
    SigningKey::from_private_jwk(value.to_string().as_bytes())
}

fn with(mut value: Value, member: &str, v: Value) -> Value {
    value[member] = v;
    value
}

fn without(mut value: Value, member: &str) -> Value {
    value.as_object_mut().unwrap().remove(member);
    value
}

#[test]
fn the_rfc8037_key_signs_the_rfc8037_example() {
    let key = parse(&ed25519_jwk()).unwrap();
    assert_eq!(key.algorithm(), SigningAlgorithm::EdDsa);
    assert_eq!(key.kid(), Some("k1"));
    // The private bytes kept are the RFC's: signing its input gives its signature.
    let Secret::Ed25519 { d, .. } = &key.secret else {
        panic!("not Ed25519")
    };
    let signature = ed25519_dalek::SigningKey::from_bytes(d).sign(RFC8037_A4_INPUT.as_bytes());
    assert_eq!(
        compact(RFC8037_A4_INPUT, &signature.to_bytes()).unwrap(),
        format!("{RFC8037_A4_INPUT}.{RFC8037_A4_SIG}")
    );
    assert_eq!(
        key.public_jwk().unwrap(),
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "k1", "alg": "EdDSA", "use": "sig"})
    );
    let KeyImport::PrivateJwk(import) = key.webcrypto_import() else {
        panic!("an Ed25519 key imports as a JWK")
    };
    assert_eq!(
        import,
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D})
    );
}

#[test]
fn a_p256_key_publishes_the_point_computed_outside() {
    let key = parse(&p256_jwk()).unwrap();
    assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
    assert_eq!(
        key.public_jwk().unwrap(),
        json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "kid": "p1", "alg": "ES256", "use": "sig"})
    );
    let KeyImport::PrivateJwk(import) = key.webcrypto_import() else {
        panic!("a P-256 key imports as a JWK")
    };
    assert_eq!(import["d"], P256_D);
    assert!(import.get("kid").is_none());
}

#[test]
fn a_public_half_that_is_not_the_private_keys_is_refused() {
    // Another valid point each time: the RFC 8037 A.4 `x` of someone else, swapped coordinates.
    let other_x = "_eQqX7hRs1GUgd2gHGMD5UC0Ch2MghUxs8w9ziIG6Wc";
    for jwk in [
        with(ed25519_jwk(), "x", json!(other_x)),
        with(p256_jwk(), "x", json!(P256_Y)),
        with(with(p256_jwk(), "x", json!(P256_Y)), "y", json!(P256_X)),
    ] {
        assert_eq!(
            parse(&jwk).unwrap_err(),
            SigningKeyError::PublicKeyMismatch,
            "{jwk}"
        );
    }
}

#[test]
fn every_malformed_private_jwk_is_refused_with_its_reason() {
    use SigningKeyError as E;
    let cases = [
        (without(ed25519_jwk(), "kid"), E::KidMissing),
        (with(ed25519_jwk(), "kid", json!("")), E::KidInvalid),
        (with(ed25519_jwk(), "kid", json!("a b")), E::KidInvalid),
        (
            with(ed25519_jwk(), "kid", json!("k".repeat(129))),
            E::KidInvalid,
        ),
        (with(ed25519_jwk(), "kid", json!(7)), E::KidInvalid),
        (without(ed25519_jwk(), "d"), E::PrivateMemberMissing),
        (without(p256_jwk(), "d"), E::PrivateMemberMissing),
        (with(ed25519_jwk(), "kty", json!("RSA")), E::KtyUnsupported),
        (without(ed25519_jwk(), "kty"), E::KtyUnsupported),
        (with(ed25519_jwk(), "kty", json!("oct")), E::KtyUnsupported),
        (
            with(ed25519_jwk(), "crv", json!("X25519")),
            E::CrvUnsupported,
        ),
        (with(p256_jwk(), "crv", json!("P-384")), E::CrvUnsupported),
        (
            with(ed25519_jwk(), "crv", json!("P-256")),
            E::CrvUnsupported,
        ),
        (with(ed25519_jwk(), "alg", json!("ES256")), E::AlgMismatch),
        (with(p256_jwk(), "alg", json!("EdDSA")), E::AlgMismatch),
        (with(p256_jwk(), "alg", json!("HS512")), E::AlgMismatch),
        (with(ed25519_jwk(), "use", json!("enc")), E::UsageNotSign),
        (
            with(ed25519_jwk(), "key_ops", json!(["verify"])),
            E::UsageNotSign,
        ),
        (
            with(ed25519_jwk(), "key_ops", json!("sign")),
            E::UsageNotSign,
        ),
        (with(ed25519_jwk(), "k", json!("AAAA")), E::ForeignMembers),
        (with(p256_jwk(), "p", json!("AAAA")), E::ForeignMembers),
        (
            with(ed25519_jwk(), "d", json!(&RFC8037_D[1..])),
            E::MemberInvalid,
        ),
        (
            with(ed25519_jwk(), "d", json!(format!("{RFC8037_D}="))),
            E::MemberInvalid,
        ),
        (with(ed25519_jwk(), "y", json!(RFC8037_X)), E::MemberInvalid),
        (with(p256_jwk(), "y", json!(7)), E::MemberInvalid),
        // n itself is not a private scalar.
        (
            with(
                p256_jwk(),
                "d",
                json!("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE"),
            ),
            E::PrivateKeyInvalid,
        ),
        (
            with(
                p256_jwk(),
                "d",
                json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            E::PrivateKeyInvalid,
        ),
    ];
    for (jwk, expected) in cases {
        assert_eq!(parse(&jwk).unwrap_err(), expected, "{jwk}");
    }
    for (text, expected) in [
        ("not json", E::NotJson),
        (r#"{"kid":"a","kid":"b"}"#, E::NotJson),
        (r#"{"keys":[]}"#, E::KidMissing),
        ("[1]", E::NotObject),
    ] {
        assert_eq!(
            SigningKey::from_private_jwk(text.as_bytes()).unwrap_err(),
            expected,
            "{text}"
        );
    }
    // Usage that allows signing is fine.
    let fine = with(
        with(ed25519_jwk(), "use", json!("sig")),
        "key_ops",
        json!(["sign", "verify"]),
    );
    assert!(parse(&with(fine, "alg", json!("EdDSA"))).is_ok());
}

#[test]
fn hs512_secrets_are_strict_base64url_of_at_least_64_bytes() {
    let b64 = |len: usize| URL_SAFE_NO_PAD.encode(vec![0xffu8; len]);
    let key = SigningKey::hs512(&b64(64)).unwrap();
    assert_eq!(key.algorithm(), SigningAlgorithm::Hs512);
    assert_eq!(key.kid(), None);
    assert_eq!(key.public_jwk(), None);
    assert!(matches!(key.webcrypto_import(), KeyImport::RawSecret(s) if s == [0xffu8; 64]));
    assert_eq!(
        SigningKey::hs512(&b64(63)).unwrap_err(),
        SigningKeyError::SecretTooShort
    );
    for bad in [
        format!("{}=", b64(65)),
        b64(64).replace('_', "/"),
        format!(" {}", b64(64)),
    ] {
        assert_eq!(
            SigningKey::hs512(&bad).unwrap_err(),
            SigningKeyError::SecretNotBase64url,
            "{bad}"
        );
    }
}

#[test]
fn header_and_signing_input_match_an_outside_encoding() {
    let key = parse(&ed25519_jwk()).unwrap();
    let claims = json!({"sub": "alice", "n": 1});
    // python3: e=lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode();
    // e(b'{"alg":"EdDSA","typ":"edge-auth+jwt","kid":"k1"}')+'.'+e(b'{"n":1,"sub":"alice"}')
    // (serde_json orders an object's members by name, as the `json!` value above has them).
    let input = signing_input(&key.header("edge-auth+jwt"), &claims).unwrap();
    assert_eq!(
        input,
        "eyJhbGciOiJFZERTQSIsInR5cCI6ImVkZ2UtYXV0aCtqd3QiLCJraWQiOiJrMSJ9.eyJuIjoxLCJzdWIiOiJhbGljZSJ9"
    );
    let hs = SigningKey::hs512(&URL_SAFE_NO_PAD.encode([1u8; 64])).unwrap();
    assert_eq!(
        serde_json::to_string(&hs.header("edge-auth+jwt")).unwrap(),
        r#"{"alg":"HS512","typ":"edge-auth+jwt"}"#
    );
}

#[test]
fn compact_takes_only_a_jws_form_signature() {
    assert_eq!(compact("a.b", &[0u8; 64]).unwrap().split('.').count(), 3);
    for len in [0, 63, 65, 70, 72] {
        assert_eq!(compact("a.b", &vec![0u8; len]), None, "{len}");
    }
}

#[test]
fn debug_shows_no_key_material() {
    for key in [parse(&ed25519_jwk()).unwrap(), parse(&p256_jwk()).unwrap()] {
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(RFC8037_D) && !shown.contains(P256_D),
            "{shown}"
        );
        assert!(shown.contains("kid"), "{shown}");
    }
}
