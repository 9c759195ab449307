//! Keys the authz Worker signs its assertion with, generated for a test or the demo, as the
//! variables that configure them.

use crate::keys::{b64url, random_id};
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

    fn private_scalar(&self) -> String {
        match self {
            Self::Ed25519 { key, .. } => b64url(&key.to_bytes()),
            Self::P256 { key, .. } => b64url(&key.to_bytes()),
            Self::Hs512(secret) => b64url(secret),
        }
    }
}
