//! Keys the authz Worker signs its assertion with, generated for a test or the demo, as the
//! variables that configure them.

use crate::keys::{b64url, hmac, random_id, HsAlg};
use p256::ecdsa::signature::Signer as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use serde_json::{json, Value};

/// A fresh assertion key. `Debug` shows no key material.
#[derive(Clone)]
pub enum AssertionKey {
    /// Ed25519 (`EdDSA`), the default.
    Ed25519 {
        /// Key id.
        kid: String,
        /// The private key.
        key: ed25519_dalek::SigningKey,
    },
    /// P-256 (`ES256`).
    P256 {
        /// Key id.
        kid: String,
        /// The private key.
        key: p256::ecdsa::SigningKey,
    },
    /// An HS512 secret (64 random bytes).
    Hs512(Vec<u8>),
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ed25519 { .. } => "AssertionKey::Ed25519",
            Self::P256 { .. } => "AssertionKey::P256",
            Self::Hs512(_) => "AssertionKey::Hs512",
        })
    }
}

impl AssertionKey {
    /// A random Ed25519 key with a random `kid`.
    pub fn ed25519() -> Self {
        Self::Ed25519 {
            kid: format!("gw-ed-{}", random_id()),
            key: ed25519_dalek::SigningKey::generate(&mut OsRng),
        }
    }

    /// A random P-256 key with a random `kid`.
    pub fn p256() -> Self {
        Self::P256 {
            kid: format!("gw-ec-{}", random_id()),
            key: p256::ecdsa::SigningKey::random(&mut OsRng),
        }
    }

    /// A random 64-byte HS512 secret.
    pub fn hs512() -> Self {
        let mut secret = vec![0u8; 64];
        OsRng.fill_bytes(&mut secret);
        Self::Hs512(secret)
    }

    /// The JOSE `alg` it signs with.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519 { .. } => "EdDSA",
            Self::P256 { .. } => "ES256",
            Self::Hs512(_) => "HS512",
        }
    }

    /// The `kid` (`None` for HS512).
    pub fn kid(&self) -> Option<&str> {
        match self {
            Self::Ed25519 { kid, .. } | Self::P256 { kid, .. } => Some(kid),
            Self::Hs512(_) => None,
        }
    }

    /// The authz Worker's variable that configures it, and its value: `ASSERTION_SIGNING_JWK`
    /// (a private JWK) or `ASSERTION_SECRET` (base64url).
    pub fn var(&self) -> (&'static str, String) {
        match self {
            Self::Hs512(secret) => ("ASSERTION_SECRET", b64url(secret)),
            _ => {
                let mut jwk = self.public_jwk().unwrap_or_default();
                jwk["d"] = Value::String(self.private_scalar());
                ("ASSERTION_SIGNING_JWK", jwk.to_string())
            }
        }
    }

    /// The public JWK (`kty`, `crv`, `x`, `y`, `kid`); `None` for HS512.
    pub fn public_jwk(&self) -> Option<Value> {
        match self {
            Self::Ed25519 { kid, key } => Some(json!({
                "kty": "OKP", "crv": "Ed25519", "kid": kid,
                "x": b64url(key.verifying_key().as_bytes()),
            })),
            Self::P256 { kid, key } => {
                let point = key.verifying_key().to_encoded_point(false);
                Some(json!({
                    "kty": "EC", "crv": "P-256", "kid": kid,
                    "x": b64url(point.x()?), "y": b64url(point.y()?),
                }))
            }
            Self::Hs512(_) => None,
        }
    }

    /// The HS512 secret's bytes (`None` for a key pair).
    pub fn secret(&self) -> Option<&[u8]> {
        match self {
            Self::Hs512(secret) => Some(secret),
            _ => None,
        }
    }

    /// Signs `input` (a JWS signing input) as the authz Worker does, in the JWS form of the
    /// signature: Ed25519, ECDSA `r || s`, HMAC-SHA-512. Tests use it to change one part of an
    /// assertion and sign it again with the gateway's own key.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519 { key, .. } => key.sign(input).to_bytes().to_vec(),
            Self::P256 { key, .. } => {
                let signature: p256::ecdsa::Signature = key.sign(input);
                signature.to_bytes().to_vec()
            }
            Self::Hs512(secret) => hmac(HsAlg::Hs512, secret, input),
        }
    }

    fn private_scalar(&self) -> String {
        match self {
            Self::Ed25519 { key, .. } => b64url(&key.to_bytes()),
            Self::P256 { key, .. } => b64url(&key.to_bytes()),
            Self::Hs512(secret) => b64url(secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use p256::ecdsa::signature::Verifier as _;

    /// RFC 8037 A.4: the Ed25519 key of A.1 signing `{"alg":"EdDSA"}` and
    /// "Example of Ed25519 signing".
    #[test]
    fn ed25519_signs_rfc_8037_a4_exactly() {
        let d = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = AssertionKey::Ed25519 {
            kid: "k".into(),
            key: ed25519_dalek::SigningKey::from_bytes(&d.try_into().unwrap()),
        };
        let signature = key.sign(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
        assert_eq!(
            b64url(&signature),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    /// RFC 4231 test case 2 (key "Jefe"); also
    /// `python3 -c "import hmac,hashlib;print(hmac.new(b'Jefe',b'what do ya want for nothing?',hashlib.sha512).hexdigest())"`.
    #[test]
    fn hs512_signs_rfc_4231_case_2() {
        let key = AssertionKey::Hs512(b"Jefe".to_vec());
        let mac = key.sign(b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    /// ES256 in the JWS form: 64 bytes `r || s`, verified by its verifying key (and only its input).
    #[test]
    fn p256_signs_raw_r_s_under_its_own_public_key() {
        let key = AssertionKey::p256();
        let signature = key.sign(b"input");
        assert_eq!(signature.len(), 64);
        let AssertionKey::P256 { key: secret, .. } = &key else {
            unreachable!()
        };
        let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        assert!(secret.verifying_key().verify(b"input", &parsed).is_ok());
        assert!(secret.verifying_key().verify(b"other", &parsed).is_err());
    }
}
