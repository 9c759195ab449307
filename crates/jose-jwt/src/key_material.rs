//! Decoding and validating the public members of EC, OKP and RSA JWKs.

use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};

use crate::algorithm::KeyFamily;
use crate::b64;
use crate::error::{Error, JwkProblem, Unsupported};

/// RSA moduli below this many bits are refused (RFC 7518 §3.3 requires 2048).
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// RSA moduli above this many bits are refused: they only cost CPU.
pub(crate) const RSA_MAX_BITS: usize = 8192;
/// Smallest accepted public exponent (FIPS 186-5 requires e > 2^16).
const RSA_MIN_EXPONENT: u64 = 65_537;

/// The decoded public key, plus its canonical public JWK members.
#[derive(Clone)]
pub(crate) enum KeyMaterial {
    P256 {
        key: p256::ecdsa::VerifyingKey,
        x: String,
        y: String,
    },
    P384 {
        key: p384::ecdsa::VerifyingKey,
        x: String,
        y: String,
    },
    Ed25519 {
        key: ed25519_dalek::VerifyingKey,
        x: String,
    },
    Rsa {
        key: RsaPublicKey,
        n: String,
        e: String,
        /// Byte length of the modulus: every signature has exactly this length.
        size: usize,
    },
}

impl KeyMaterial {
    pub(crate) fn kty(&self) -> &'static str {
        match self {
            KeyMaterial::P256 { .. } | KeyMaterial::P384 { .. } => "EC",
            KeyMaterial::Ed25519 { .. } => "OKP",
            KeyMaterial::Rsa { .. } => "RSA",
        }
    }

    pub(crate) fn family(&self) -> KeyFamily {
        match self {
            KeyMaterial::P256 { .. } => KeyFamily::P256,
            KeyMaterial::P384 { .. } => KeyFamily::P384,
            KeyMaterial::Ed25519 { .. } => KeyFamily::Ed25519,
            KeyMaterial::Rsa { .. } => KeyFamily::Rsa,
        }
    }

    pub(crate) fn public_members(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: &str| {
            map.insert(k.to_owned(), Value::String(v.to_owned()));
        };
        put("kty", self.kty());
        match self {
            KeyMaterial::P256 { x, y, .. } => {
                put("crv", "P-256");
                put("x", x);
                put("y", y);
            }
            KeyMaterial::P384 { x, y, .. } => {
                put("crv", "P-384");
                put("x", x);
                put("y", y);
            }
            KeyMaterial::Ed25519 { x, .. } => {
                put("crv", "Ed25519");
                put("x", x);
            }
            KeyMaterial::Rsa { n, e, .. } => {
                put("n", n);
                put("e", e);
            }
        }
        map
    }
}

/// A required base64url member, decoded strictly.
fn member(map: &Map<String, Value>, name: &str) -> Result<(String, Vec<u8>), Error> {
    match map.get(name) {
        Some(Value::String(s)) => match b64::decode(s) {
            Some(bytes) => Ok((s.clone(), bytes)),
            None => Err(Error::jwk(JwkProblem::MemberNotBase64url)),
        },
        Some(_) => Err(Error::jwk(JwkProblem::MemberNotString)),
        None => Err(Error::jwk(JwkProblem::MemberMissing)),
    }
}

fn crv(map: &Map<String, Value>) -> Result<&str, Error> {
    match map.get("crv") {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::jwk(JwkProblem::CrvNotString)),
        None => Err(Error::jwk(JwkProblem::CrvMissing)),
    }
}

pub(crate) fn parse_ec(map: &Map<String, Value>) -> Result<KeyMaterial, Error> {
    let curve = crv(map)?;
    let len = match curve {
        "P-256" => 32,
        "P-384" => 48,
        _ => return Err(Error::unsupported(Unsupported::EcCurve)),
    };
    let (x, xb) = member(map, "x")?;
    let (y, yb) = member(map, "y")?;
    // RFC 7518 §6.2.1.2: coordinates are full-length, left-padded.
    if xb.len() != len || yb.len() != len {
        return Err(Error::jwk(JwkProblem::EcCoordinateLength));
    }
    let mut sec1 = Vec::with_capacity(1 + 2 * len);
    sec1.push(0x04);
    sec1.extend_from_slice(&xb);
    sec1.extend_from_slice(&yb);
    // from_sec1_bytes rejects points not on the curve and the identity.
    let not_on_curve = |_| Error::jwk(JwkProblem::EcNotOnCurve);
    if len == 32 {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(not_on_curve)?;
        Ok(KeyMaterial::P256 { key, x, y })
    } else {
        let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(not_on_curve)?;
        Ok(KeyMaterial::P384 { key, x, y })
    }
}

pub(crate) fn parse_okp(map: &Map<String, Value>) -> Result<KeyMaterial, Error> {
    if crv(map)? != "Ed25519" {
        return Err(Error::unsupported(Unsupported::OkpCurve));
    }
    if map.contains_key("y") {
        return Err(Error::jwk(JwkProblem::Ed25519WithY));
    }
    let (x, xb) = member(map, "x")?;
    let bytes: [u8; 32] = xb
        .as_slice()
        .try_into()
        .map_err(|_| Error::jwk(JwkProblem::Ed25519Length))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::jwk(JwkProblem::Ed25519NotAPoint))?;
    // A non-canonical encoding (y >= p) names the same point as another string;
    // refuse it so each key has one encoding.
    if key.to_edwards().compress().to_bytes() != bytes {
        return Err(Error::jwk(JwkProblem::Ed25519NotCanonical));
    }
    // Small-order keys make signatures that verify for many messages.
    if key.is_weak() {
        return Err(Error::jwk(JwkProblem::Ed25519SmallOrder));
    }
    Ok(KeyMaterial::Ed25519 { key, x })
}

pub(crate) fn parse_rsa(map: &Map<String, Value>) -> Result<KeyMaterial, Error> {
    let (n, nb) = member(map, "n")?;
    let (e, eb) = member(map, "e")?;
    let modulus = BigUint::from_bytes_be(&nb);
    let bits = modulus.bits();
    if bits < RSA_MIN_BITS {
        return Err(Error::jwk(JwkProblem::RsaModulusTooShort));
    }
    if bits > RSA_MAX_BITS {
        return Err(Error::jwk(JwkProblem::RsaModulusTooLong));
    }
    if !is_odd(&nb) {
        return Err(Error::jwk(JwkProblem::RsaModulusEven));
    }
    let exponent = BigUint::from_bytes_be(&eb);
    if exponent < BigUint::from(RSA_MIN_EXPONENT)
        || exponent > BigUint::from(RsaPublicKey::MAX_PUB_EXPONENT)
        || !is_odd(&eb)
    {
        return Err(Error::jwk(JwkProblem::RsaExponent));
    }
    let key = RsaPublicKey::new_with_max_size(modulus, exponent, RSA_MAX_BITS)
        .map_err(|_| Error::jwk(JwkProblem::RsaInvalid))?;
    let size = key.size();
    Ok(KeyMaterial::Rsa { key, n, e, size })
}

/// Oddness of a big-endian integer.
fn is_odd(be: &[u8]) -> bool {
    be.last().is_some_and(|b| b & 1 == 1)
}
