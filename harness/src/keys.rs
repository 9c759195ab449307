//! Signing keys of the local identity provider (and of attackers): generation, JWS signatures
//! in the exact byte form JWS requires, and public JWKs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::signature::SignatureEncoding as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The asymmetric algorithms the identity provider signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256; signature is raw `r || s` (64 bytes).
    Es256,
    /// Ed25519.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
}

impl Alg {
    /// Every algorithm, in the order the JWKS lists them.
    pub const ALL: [Alg; 3] = [Alg::Es256, Alg::EdDsa, Alg::Rs256];

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
            Alg::Rs256 => "RS256",
        }
    }

    /// Parses a JOSE `alg` name (exact case).
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[derive(Clone)]
enum Secret {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
    Rs256(rsa::RsaPrivateKey),
}

/// A private signing key with its key id.
#[derive(Clone)]
pub struct Key {
    kid: String,
    alg: Alg,
    secret: Secret,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key material, even in a failing test.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Generates a fresh key with a random-looking key id.
    pub fn generate(alg: Alg) -> Key {
        let secret = match alg {
            Alg::Es256 => Secret::Es256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Alg::EdDsa => Secret::EdDsa(ed25519_dalek::SigningKey::generate(&mut OsRng)),
            Alg::Rs256 => Secret::Rs256(rsa_key()),
        };
        Key {
            kid: random_id(),
            alg,
            secret,
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Signs `input` (the JWS signing input) and returns the JWS signature bytes.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        match &self.secret {
            Secret::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
            Secret::EdDsa(k) => k.sign(input).to_bytes().to_vec(),
            Secret::Rs256(k) => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.clone())
                .sign(input)
                .to_vec(),
        }
    }

    /// Signs `input` with ECDSA and returns the DER (ASN.1) form that JWS forbids.
    /// `None` for non-ECDSA keys.
    pub fn sign_der(&self, input: &[u8]) -> Option<Vec<u8>> {
        match &self.secret {
            Secret::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(input);
                Some(sig.to_der().as_bytes().to_vec())
            }
            _ => None,
        }
    }

    /// The public JWK, with `kid`, `alg` and `use`.
    pub fn public_jwk(&self) -> Value {
        let (kid, alg) = (self.kid.as_str(), self.alg.name());
        match &self.secret {
            Secret::Es256(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "x": b64url(point.x().map_or(&[][..], |x| &x[..])),
                       "y": b64url(point.y().map_or(&[][..], |y| &y[..])), "kid": kid, "alg": alg, "use": "sig"})
            }
            Secret::EdDsa(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.verifying_key().as_bytes()),
                       "kid": kid, "alg": alg, "use": "sig"})
            }
            Secret::Rs256(k) => {
                json!({"kty": "RSA", "n": b64url(&k.n().to_bytes_be()), "e": b64url(&k.e().to_bytes_be()),
                       "kid": kid, "alg": alg, "use": "sig"})
            }
        }
    }

    /// The public key as SPKI PEM (used as an HMAC secret in algorithm-confusion attacks).
    pub fn public_pem(&self) -> String {
        let pem = match &self.secret {
            Secret::Es256(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            Secret::EdDsa(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            Secret::Rs256(k) => k.to_public_key().to_public_key_pem(LineEnding::LF),
        };
        // Encoding a valid public key cannot fail; an empty secret would only weaken an attack test.
        pem.unwrap_or_default()
    }
}

/// 2048-bit RSA key generation takes seconds in a debug build, so a process makes one key and
/// every RS256 [`Key`] shares it under its own key id: rotation tests need a new `kid`, not new
/// key material. [`warm_up`] starts the work early, in the background.
fn rsa_key() -> rsa::RsaPrivateKey {
    static KEY: OnceLock<Option<rsa::RsaPrivateKey>> = OnceLock::new();
    match KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut OsRng, 2048).ok()) {
        Some(key) => key.clone(),
        None => panic!("RSA key generation failed"),
    }
}

/// Starts generating the process's RSA key on a background thread, so that it overlaps with
/// other start-up work (like starting the Workers).
pub fn warm_up() {
    std::thread::spawn(rsa_key);
}

/// base64url without padding, as JOSE uses it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Assembles a compact JWS from exact header and payload JSON text and signature bytes.
pub fn compact(header_json: &str, payload_json: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64url(header_json.as_bytes()),
        b64url(payload_json.as_bytes()),
        b64url(signature)
    )
}

/// The JWS signing input for exact header and payload JSON text.
pub fn signing_input(header_json: &str, payload_json: &str) -> String {
    format!(
        "{}.{}",
        b64url(header_json.as_bytes()),
        b64url(payload_json.as_bytes())
    )
}

/// The shared-secret algorithms the identity provider MACs with (RFC 7518 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HsAlg {
    /// HMAC-SHA-256.
    Hs256,
    /// HMAC-SHA-384.
    Hs384,
    /// HMAC-SHA-512.
    Hs512,
}

impl HsAlg {
    /// Every one of them.
    pub const ALL: [HsAlg; 3] = [HsAlg::Hs256, HsAlg::Hs384, HsAlg::Hs512];

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            HsAlg::Hs256 => "HS256",
            HsAlg::Hs384 => "HS384",
            HsAlg::Hs512 => "HS512",
        }
    }
}

/// HMAC of `input` under `secret` with `alg`'s hash.
pub fn hmac(alg: HsAlg, secret: &[u8], input: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], input: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this never fails.
        match <M as hmac::digest::KeyInit>::new_from_slice(secret) {
            Ok(mut mac) => {
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match alg {
        HsAlg::Hs256 => run::<Hmac<sha2::Sha256>>(secret, input),
        HsAlg::Hs384 => run::<Hmac<sha2::Sha384>>(secret, input),
        HsAlg::Hs512 => run::<Hmac<sha2::Sha512>>(secret, input),
    }
}

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// HMAC-SHA256 of `input` under `secret` (for HS256 confusion attacks).
pub fn hs256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// A random-looking identifier (key ids, trace ids): 16 random bytes, base64url.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    b64url(&bytes)
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn es256_signature_is_raw_r_s_and_verifies_against_the_jwk() {
        let key = Key::generate(Alg::Es256);
        let sig = key.sign(b"input");
        assert_eq!(sig.len(), 64);
        let jwk = key.public_jwk();
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
        let point = p256::EncodedPoint::from_affine_coordinates(
            x.as_slice().into(),
            y.as_slice().into(),
            false,
        );
        let vk = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        vk.verify(b"input", &sig).unwrap();
        assert!(vk.verify(b"other", &sig).is_err());
        assert_eq!(key.sign_der(b"input").unwrap()[0], 0x30);
    }

    #[test]
    fn eddsa_and_rsa_verify_against_their_jwks() {
        let ed = Key::generate(Alg::EdDsa);
        let x = URL_SAFE_NO_PAD
            .decode(ed.public_jwk()["x"].as_str().unwrap())
            .unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&ed.sign(b"m")).unwrap();
        vk.verify_strict(b"m", &sig).unwrap();

        let rs = Key::generate(Alg::Rs256);
        let jwk = rs.public_jwk();
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(jwk["e"], "AQAB");
        let pk = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&n),
            rsa::BigUint::from_bytes_be(&[1, 0, 1]),
        )
        .unwrap();
        let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
        let sig = rsa::pkcs1v15::Signature::try_from(rs.sign(b"m").as_slice()).unwrap();
        vk.verify(b"m", &sig).unwrap();
        assert!(rs.public_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn hs256_matches_rfc4231_case_2() {
        let mac = hs256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2_for_every_hash() {
        let hex = |alg| -> String {
            hmac(alg, b"Jefe", b"what do ya want for nothing?")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        assert_eq!(
            hex(HsAlg::Hs256),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(hex(HsAlg::Hs384), "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
        assert_eq!(hex(HsAlg::Hs512), "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    }

    #[test]
    fn ids_are_distinct() {
        assert_ne!(random_id(), random_id());
        assert_eq!(random_hex(32).len(), 64);
    }
}
