//! Shared test helpers: deterministic keys, a raw token signer (so tests can
//! craft any header/payload bytes), JWKs and default options.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jose_jwt::{Algorithm, JwkSet, VerificationOptions};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const NOW: i64 = 1_700_000_000;
pub const ISSUER: &str = "https://issuer.example/";
pub const AUDIENCE: &str = "api://orders";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Fixed-seed keys: the same every run.
pub fn p256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap()
}

pub fn p256_other_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x33; 32]).unwrap()
}

pub fn p384_key() -> p384::ecdsa::SigningKey {
    p384::ecdsa::SigningKey::from_slice(&[0x12; 48]).unwrap()
}

pub fn ed_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x22; 32])
}

/// The fixed RSA 2048 test key from `tests/data` (generating RSA keys is slow).
pub fn rsa_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(include_str!("../data/rsa2048_test_key.pem")).unwrap()
}

pub fn p256_jwk(key: &p256::ecdsa::SigningKey, kid: Option<&str>) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    with_kid(
        json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
        kid,
    )
}

pub fn p384_jwk(key: &p384::ecdsa::SigningKey, kid: Option<&str>) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    with_kid(
        json!({"kty": "EC", "crv": "P-384", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
        kid,
    )
}

pub fn ed_jwk(key: &ed25519_dalek::SigningKey, kid: Option<&str>) -> Value {
    with_kid(
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().to_bytes())}),
        kid,
    )
}

pub fn rsa_jwk(key: &rsa::RsaPrivateKey, kid: Option<&str>) -> Value {
    with_kid(
        json!({"kty": "RSA", "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be())}),
        kid,
    )
}

fn with_kid(mut jwk: Value, kid: Option<&str>) -> Value {
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    jwk
}

pub fn jwks(keys: &[Value]) -> JwkSet {
    let doc = json!({ "keys": keys });
    let parsed = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    parsed.set
}

/// The standard test key set: one key per family, each with a kid.
pub fn standard_jwks() -> JwkSet {
    jwks(&[
        p256_jwk(&p256_key(), Some("es256")),
        p384_jwk(&p384_key(), Some("es384")),
        ed_jwk(&ed_key(), Some("ed")),
        rsa_jwk(&rsa_key(), Some("rsa")),
    ])
}

pub fn kid_for(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "es256",
        Algorithm::Es384 => "es384",
        Algorithm::EdDsa => "ed",
        _ => "rsa",
    }
}

pub fn options() -> VerificationOptions {
    VerificationOptions::new([ISSUER], [AUDIENCE], Algorithm::ALL).unwrap()
}

/// A claims set that passes `options()` at `NOW`.
pub fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user-42",
        "aud": AUDIENCE,
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "scope": "orders:read orders:write",
    })
}

/// Signs `header.payload` (both raw JSON text, encoded here) with the test
/// key for `alg`. Returns the compact token.
pub fn sign_raw(alg: Algorithm, header_json: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header_json), b64(payload));
    let sig = signature_for(alg, input.as_bytes());
    format!("{input}.{}", b64(sig))
}

pub fn signature_for(alg: Algorithm, input: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::{RandomizedSigner, Signer};
    match alg {
        Algorithm::Es256 => {
            let sig: p256::ecdsa::Signature = p256_key().sign(input);
            sig.to_bytes().to_vec()
        }
        Algorithm::Es384 => {
            let sig: p384::ecdsa::Signature = p384_key().sign(input);
            sig.to_bytes().to_vec()
        }
        Algorithm::EdDsa => ed_key().sign(input).to_bytes().to_vec(),
        Algorithm::Rs256 => rsa_pkcs1::<Sha256>(input),
        Algorithm::Rs384 => rsa_pkcs1::<sha2::Sha384>(input),
        Algorithm::Rs512 => rsa_pkcs1::<sha2::Sha512>(input),
        Algorithm::Ps256 => {
            let key = rsa::pss::SigningKey::<Sha256>::new(rsa_key());
            Box::<[u8]>::from(key.sign_with_rng(&mut FixedRng(7), input)).to_vec()
        }
        Algorithm::Ps384 => {
            let key = rsa::pss::SigningKey::<sha2::Sha384>::new(rsa_key());
            Box::<[u8]>::from(key.sign_with_rng(&mut FixedRng(7), input)).to_vec()
        }
        Algorithm::Ps512 => {
            let key = rsa::pss::SigningKey::<sha2::Sha512>::new(rsa_key());
            Box::<[u8]>::from(key.sign_with_rng(&mut FixedRng(7), input)).to_vec()
        }
    }
}

fn rsa_pkcs1<D>(input: &[u8]) -> Vec<u8>
where
    D: Digest + rsa::pkcs8::spki::der::oid::AssociatedOid,
{
    use p256::ecdsa::signature::Signer;
    let key = rsa::pkcs1v15::SigningKey::<D>::new(rsa_key());
    Box::<[u8]>::from(key.sign(input)).to_vec()
}

/// A standard token for `alg` with `claims`, header `{"alg", "kid", "typ"}`.
pub fn token(alg: Algorithm, claims: &Value) -> String {
    let header = json!({"alg": alg.as_str(), "kid": kid_for(alg), "typ": "at+jwt"});
    sign_raw(alg, &header.to_string(), claims.to_string().as_bytes())
}

/// HMAC-SHA256 (RFC 2104), for the key-confusion test.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.iter().map(|k| k ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A deterministic "RNG" for PSS salts in tests (never for real keys).
pub struct FixedRng(pub u64);

impl rsa::rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = (self.next_u64() >> 56) as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for FixedRng {}
