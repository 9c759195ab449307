//! A single validated public JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2).
//!
//! Parsing checks everything that can be checked without a signature: the key
//! is public only, of a supported type and curve, on its curve and not weak,
//! of a sane size, and usable for verification (`use`, `key_ops`, `alg`).

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::{Error, JwkProblem, Unsupported};
use crate::json::{parse_object, JsonError};
use crate::key_material::{self, KeyMaterial};

/// Members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A validated public key for signature verification.
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<Algorithm>,
    pub(crate) material: KeyMaterial,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.material.kty())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Parses one JWK from JSON text (duplicate member names are rejected).
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        match parse_object(json) {
            Ok(Some(map)) => Self::from_map(&map),
            Ok(None) => Err(Error::jwk(JwkProblem::NotObject)),
            Err(JsonError::DuplicateMember) => Err(Error::jwk(JwkProblem::DuplicateMember)),
            Err(JsonError::Syntax) => Err(Error::jwk(JwkProblem::NotJson)),
        }
    }

    /// Validates one JWK given as a JSON value.
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Self::from_map(map),
            _ => Err(Error::jwk(JwkProblem::NotObject)),
        }
    }

    fn from_map(map: &Map<String, Value>) -> Result<Self, Error> {
        if PRIVATE_MEMBERS.iter().any(|m| map.contains_key(*m)) {
            return Err(Error::jwk(JwkProblem::PrivateMembers));
        }
        let kty = match map.get("kty") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(Error::jwk(JwkProblem::KtyNotString)),
            None => return Err(Error::jwk(JwkProblem::KtyMissing)),
        };
        let material = match kty {
            "EC" => key_material::parse_ec(map)?,
            "OKP" => key_material::parse_okp(map)?,
            "RSA" => key_material::parse_rsa(map)?,
            _ => return Err(Error::unsupported(Unsupported::KeyType)),
        };
        let kid = match map.get("kid") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::jwk(JwkProblem::KidNotString)),
        };
        let alg = match map.get("alg") {
            None => None,
            Some(Value::String(s)) => {
                let alg: Algorithm = s
                    .parse()
                    .map_err(|_| Error::jwk(JwkProblem::AlgUnsupported))?;
                if alg.family() != material.family() {
                    return Err(Error::jwk(JwkProblem::AlgMismatch));
                }
                Some(alg)
            }
            Some(_) => return Err(Error::jwk(JwkProblem::AlgNotString)),
        };
        match map.get("use") {
            None => {}
            Some(Value::String(s)) if s == "sig" => {}
            Some(_) => return Err(Error::jwk(JwkProblem::UseNotSig)),
        }
        if let Some(ops) = map.get("key_ops") {
            check_key_ops(ops)?;
        }
        Ok(Jwk { kid, alg, material })
    }

    /// The key id, compared as an opaque string.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the key is restricted to, when the JWK says so.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The JWK `kty`: `"EC"`, `"OKP"` or `"RSA"`.
    pub fn kty(&self) -> &'static str {
        self.material.kty()
    }

    /// Whether this key may verify a token signed with `alg`: the key family
    /// (kty and curve) fits, and the JWK's own `alg`, when present, is equal.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.material.family() == alg.family() && self.alg.is_none_or(|a| a == alg)
    }

    /// The public key as a JWK object holding only `kty`, `crv`, the public
    /// members, `alg` and `kid` — suitable for WebCrypto `importKey("jwk")`.
    pub fn public_jwk_json(&self) -> Value {
        let mut map = self.material.public_members();
        if let Some(alg) = self.alg {
            map.insert("alg".into(), Value::String(alg.as_str().into()));
        }
        if let Some(kid) = &self.kid {
            map.insert("kid".into(), Value::String(kid.clone()));
        }
        Value::Object(map)
    }
}

fn check_key_ops(ops: &Value) -> Result<(), Error> {
    let Value::Array(items) = ops else {
        return Err(Error::jwk(JwkProblem::KeyOpsNotStrings));
    };
    let mut seen: Vec<&str> = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(op) = item else {
            return Err(Error::jwk(JwkProblem::KeyOpsNotStrings));
        };
        if seen.contains(&op.as_str()) {
            return Err(Error::jwk(JwkProblem::KeyOpsDuplicate));
        }
        seen.push(op);
    }
    if seen.contains(&"verify") {
        Ok(())
    } else {
        Err(Error::jwk(JwkProblem::KeyOpsWithoutVerify))
    }
}
