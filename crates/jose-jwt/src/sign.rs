//! The signing side: a private signing key parsed into a validated type, and the JWS compact
//! encoding (RFC 7515 §7.1) around a signature made elsewhere.
//!
//! The signature itself is not computed here: a Worker signs with `crypto.subtle` (the
//! `jose-jwt-webcrypto` crate), natively a caller may use RustCrypto. This module gives the
//! exact bytes to sign ([`signing_input`]) and assembles the token ([`compact`]) once the
//! signature, in its JWS form, is back.
//!
//! Three algorithms, the ones a gateway needs to vouch for a request: `EdDSA` (Ed25519, the
//! default), `ES256` (P-256) and `HS512` (a shared secret of at least 64 bytes).

use core::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::b64;

use crate::json::{parse_object, JsonError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Shortest `HS512` secret accepted, in bytes (the hash's block size is 128, its output 64;
/// RFC 7518 §3.2 asks for a key at least as long as the output).
pub const MIN_HS512_SECRET_BYTES: usize = 64;
/// Longest `kid` accepted for a signing key.
pub const MAX_SIGNING_KID_LEN: usize = 128;
/// Every signature this module's algorithms produce is 64 bytes in its JWS form: Ed25519,
/// ECDSA P-256 `r || s`, HMAC-SHA-512.
pub const SIGNATURE_LEN: usize = 64;

/// An algorithm a [`SigningKey`] signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// Ed25519 (RFC 8037).
    EdDsa,
    /// ECDSA P-256 with SHA-256, signature `r || s`.
    Es256,
    /// HMAC with SHA-512.
    Hs512,
}

impl SigningAlgorithm {
    /// The JOSE name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Hs512 => "HS512",
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signing key was refused. Messages name what is wrong, never a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyError {
    /// Not JSON, or a member name repeats.
    NotJson,
    /// Not a JSON object.
    NotObject,
    /// `kid` is absent.
    KidMissing,
    /// `kid` is not a string of 1–128 printable ASCII characters.
    KidInvalid,
    /// `kty` is absent or neither `OKP` nor `EC`.
    KtyUnsupported,
    /// `crv` does not go with `kty` (`OKP` needs `Ed25519`, `EC` needs `P-256`).
    CrvUnsupported,
    /// `d` is absent: this is a public key, and a public key cannot sign.
    PrivateMemberMissing,
    /// `d`, `x` or `y` is not strict base64url of the right length.
    MemberInvalid,
    /// `d` is not a valid private scalar for the curve.
    PrivateKeyInvalid,
    /// `x` (and `y`) are not the public key of `d`: the published key could verify nothing.
    PublicKeyMismatch,
    /// `alg` is present and does not match the key type.
    AlgMismatch,
    /// `use` is present and is not `sig`, or `key_ops` does not allow `sign`.
    UsageNotSign,
    /// A member only RSA or symmetric keys have (`p`, `q`, `k`, …).
    ForeignMembers,
    /// The HS512 secret is not strict base64url.
    SecretNotBase64url,
    /// The HS512 secret is shorter than [`MIN_HS512_SECRET_BYTES`].
    SecretTooShort,
}

impl SigningKeyError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson => "signing_key_not_json",
            Self::NotObject => "signing_key_not_object",
            Self::KidMissing => "signing_key_kid_missing",
            Self::KidInvalid => "signing_key_kid_invalid",
            Self::KtyUnsupported => "signing_key_kty_unsupported",
            Self::CrvUnsupported => "signing_key_crv_unsupported",
            Self::PrivateMemberMissing => "signing_key_not_private",
            Self::MemberInvalid => "signing_key_member_invalid",
            Self::PrivateKeyInvalid => "signing_key_private_invalid",
            Self::PublicKeyMismatch => "signing_key_public_mismatch",
            Self::AlgMismatch => "signing_key_alg_mismatch",
            Self::UsageNotSign => "signing_key_usage",
            Self::ForeignMembers => "signing_key_foreign_members",
            Self::SecretNotBase64url => "signing_secret_not_base64url",
            Self::SecretTooShort => "signing_secret_too_short",
        }
    }
}

impl fmt::Display for SigningKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotJson => "is not a JSON object (or repeats a member name); give one private JWK",
            Self::NotObject => "is not a JSON object; give one private JWK, not a key set",
            Self::KidMissing => "has no `kid`; add a key id (it names the key in the published JWKS)",
            Self::KidInvalid => "has a `kid` that is not 1 to 128 printable ASCII characters",
            Self::KtyUnsupported => {
                "has a `kty` other than `OKP` (Ed25519) or `EC` (P-256); generate an Ed25519 or P-256 key"
            }
            Self::CrvUnsupported => {
                "has a `crv` that does not go with its `kty` (`OKP` needs `Ed25519`, `EC` needs `P-256`)"
            }
            Self::PrivateMemberMissing => {
                "has no private member `d`: it is a public key, which cannot sign; give the private JWK"
            }
            Self::MemberInvalid => {
                "has a `d`, `x` or `y` that is not strict base64url of the curve's length"
            }
            Self::PrivateKeyInvalid => "has a `d` that is not a valid private key for its curve",
            Self::PublicKeyMismatch => {
                "has an `x`/`y` that is not the public key of its `d`; export the key pair again"
            }
            Self::AlgMismatch => "has an `alg` that does not match its key type (EdDSA for OKP, ES256 for EC)",
            Self::UsageNotSign => "is restricted (`use` or `key_ops`) to something other than signing",
            Self::ForeignMembers => "has members of an RSA or symmetric key (`p`, `q`, `k`, …); give an OKP or EC key",
            Self::SecretNotBase64url => {
                "is not base64url (no padding); generate one with `openssl rand 64 | basenc --base64url | tr -d '=\\n'`"
            }
            Self::SecretTooShort => "decodes to fewer than 64 bytes; use a random secret of at least 64 bytes",
        })
    }
}

impl std::error::Error for SigningKeyError {}

/// What WebCrypto imports to sign with a [`SigningKey`].
#[derive(Debug)]
pub enum KeyImport<'a> {
    /// A private JWK (`importKey("jwk", …)`): `kty`, `crv`, `x`, `y` (EC), `d`.
    PrivateJwk(Value),
    /// The raw HMAC key (`importKey("raw", …)`).
    RawSecret(&'a [u8]),
}

#[derive(Clone)]
enum Secret {
    Ed25519 { d: [u8; 32], x: String },
    P256 { d: Vec<u8>, x: String, y: String },
    Hs512(Vec<u8>),
}

/// A validated private signing key: Ed25519 or P-256 from a private JWK whose public half was
/// checked against its private half, or an HS512 secret. `Debug` shows no key material.
#[derive(Clone)]
pub struct SigningKey {
    kid: Option<String>,
    secret: Secret,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The members a signing JWK may not have: RSA's private parts and the symmetric `k`.
const FOREIGN_MEMBERS: [&str; 6] = ["p", "q", "dp", "dq", "qi", "k"];

impl SigningKey {
    /// A private Ed25519 (`OKP`) or P-256 (`EC`) JWK with a `kid`. The public members must be
    /// the public key of `d` (checked here, so the published key set always verifies).
    pub fn from_private_jwk(json: &[u8]) -> Result<Self, SigningKeyError> {
        let map = match parse_object(json) {
            Ok(Some(map)) => map,
            Ok(None) => return Err(SigningKeyError::NotObject),
            Err(JsonError::Syntax | JsonError::DuplicateMember) => {
                return Err(SigningKeyError::NotJson)
            }
        };
        if FOREIGN_MEMBERS.iter().any(|m| map.contains_key(*m)) {
            return Err(SigningKeyError::ForeignMembers);
        }
        let kid = match map.get("kid") {
            None => return Err(SigningKeyError::KidMissing),
            Some(Value::String(kid)) if is_kid(kid) => kid.clone(),
            Some(_) => return Err(SigningKeyError::KidInvalid),
        };
        let (kty, crv) = (string(&map, "kty"), string(&map, "crv"));
        let alg = match kty {
            Some("OKP") if crv == Some("Ed25519") => SigningAlgorithm::EdDsa,
            Some("EC") if crv == Some("P-256") => SigningAlgorithm::Es256,
            Some("OKP" | "EC") => return Err(SigningKeyError::CrvUnsupported),
            _ => return Err(SigningKeyError::KtyUnsupported),
        };
        check_usage(&map, alg)?;
        if !map.contains_key("d") {
            return Err(SigningKeyError::PrivateMemberMissing);
        }
        let secret = match alg {
            SigningAlgorithm::EdDsa => ed25519(&map)?,
            _ => p256(&map)?,
        };
        Ok(SigningKey {
            kid: Some(kid),
            secret,
        })
    }

    /// An HS512 secret: strict base64url (no padding) of at least [`MIN_HS512_SECRET_BYTES`].
    pub fn hs512(secret_b64url: &str) -> Result<Self, SigningKeyError> {
        let bytes = b64::decode(secret_b64url).ok_or(SigningKeyError::SecretNotBase64url)?;
        if bytes.len() < MIN_HS512_SECRET_BYTES {
            return Err(SigningKeyError::SecretTooShort);
        }
        Ok(SigningKey {
            kid: None,
            secret: Secret::Hs512(bytes),
        })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        match self.secret {
            Secret::Ed25519 { .. } => SigningAlgorithm::EdDsa,
            Secret::P256 { .. } => SigningAlgorithm::Es256,
            Secret::Hs512(_) => SigningAlgorithm::Hs512,
        }
    }

    /// The key id (always set for a JWK; `None` for an HS512 secret).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public key to publish: `kty`, `crv`, `x` (`y`), `kid`, `alg`, `use: "sig"`.
    /// `None` for an HS512 secret, which has no public half.
    pub fn public_jwk(&self) -> Option<Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: &str| {
            map.insert(k.to_owned(), Value::String(v.to_owned()));
        };
        match &self.secret {
            Secret::Ed25519 { x, .. } => {
                put("kty", "OKP");
                put("crv", "Ed25519");
                put("x", x);
            }
            Secret::P256 { x, y, .. } => {
                put("kty", "EC");
                put("crv", "P-256");
                put("x", x);
                put("y", y);
            }
            Secret::Hs512(_) => return None,
        }
        put("alg", self.algorithm().as_str());
        put("use", "sig");
        if let Some(kid) = &self.kid {
            put("kid", kid);
        }
        Some(Value::Object(map))
    }

    /// What WebCrypto needs to import this key for signing. Holds the private key: hand it to
    /// `importKey` and drop it; never log it.
    pub fn webcrypto_import(&self) -> KeyImport<'_> {
        let jwk = |members: &[(&str, &str)]| {
            let map: Map<String, Value> = members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect();
            KeyImport::PrivateJwk(Value::Object(map))
        };
        match &self.secret {
            Secret::Ed25519 { d, x } => jwk(&[
                ("kty", "OKP"),
                ("crv", "Ed25519"),
                ("x", x),
                ("d", &encode(d)),
            ]),
            Secret::P256 { d, x, y } => jwk(&[
                ("kty", "EC"),
                ("crv", "P-256"),
                ("x", x),
                ("y", y),
                ("d", &encode(d)),
            ]),
            Secret::Hs512(bytes) => KeyImport::RawSecret(bytes),
        }
    }

    /// The JWS protected header for a token of type `typ` signed with this key:
    /// `{"alg":…,"typ":…,"kid":…}` (no `kid` for HS512: one shared secret, nothing to select).
    pub fn header<'a>(&'a self, typ: &'a str) -> JwsHeader<'a> {
        JwsHeader {
            alg: self.algorithm().as_str(),
            typ,
            kid: self.kid(),
        }
    }
}

/// A JWS protected header, members in this order.
#[derive(Debug, Clone, Serialize)]
pub struct JwsHeader<'a> {
    /// `alg`.
    pub alg: &'static str,
    /// `typ`.
    pub typ: &'a str,
    /// `kid`, when the key has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<&'a str>,
}

/// `BASE64URL(header) || '.' || BASE64URL(claims)`: the bytes the signature covers
/// (RFC 7515 §5.1 step 6), from a header and a claims set that serialize to JSON objects.
pub fn signing_input(
    header: &impl Serialize,
    claims: &impl Serialize,
) -> Result<String, serde_json::Error> {
    let header = serde_json::to_vec(header)?;
    let claims = serde_json::to_vec(claims)?;
    let mut out = encode(&header);
    out.push('.');
    out.push_str(&encode(&claims));
    Ok(out)
}

/// The compact JWS: `signing_input || '.' || BASE64URL(signature)`. `None` unless the
/// signature has the [`SIGNATURE_LEN`] bytes every algorithm here produces in its JWS form (a
/// DER-encoded ECDSA signature, or a truncated one, never goes out).
pub fn compact(signing_input: &str, signature: &[u8]) -> Option<String> {
    (signature.len() == SIGNATURE_LEN).then(|| format!("{signing_input}.{}", encode(signature)))
}

/// Unpadded base64url.
fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_kid(kid: &str) -> bool {
    (1..=MAX_SIGNING_KID_LEN).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_graphic())
}

fn string<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    map.get(name).and_then(Value::as_str)
}

fn check_usage(map: &Map<String, Value>, alg: SigningAlgorithm) -> Result<(), SigningKeyError> {
    match map.get("alg") {
        None => {}
        Some(Value::String(a)) if a == alg.as_str() => {}
        Some(_) => return Err(SigningKeyError::AlgMismatch),
    }
    match map.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err(SigningKeyError::UsageNotSign),
    }
    match map.get("key_ops") {
        None => Ok(()),
        Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("sign")) => Ok(()),
        Some(_) => Err(SigningKeyError::UsageNotSign),
    }
}

/// A base64url member of exactly `len` bytes.
fn member(map: &Map<String, Value>, name: &str, len: usize) -> Result<Vec<u8>, SigningKeyError> {
    string(map, name)
        .and_then(b64::decode)
        .filter(|bytes| bytes.len() == len)
        .ok_or(SigningKeyError::MemberInvalid)
}

fn ed25519(map: &Map<String, Value>) -> Result<Secret, SigningKeyError> {
    if map.contains_key("y") {
        return Err(SigningKeyError::MemberInvalid);
    }
    let d: [u8; 32] = member(map, "d", 32)?
        .try_into()
        .map_err(|_| SigningKeyError::MemberInvalid)?;
    let x = member(map, "x", 32)?;
    // Every 32-byte string is an Ed25519 seed; the public key is derived from it.
    let public = ed25519_dalek::SigningKey::from_bytes(&d).verifying_key();
    if public.to_bytes().as_slice() != x.as_slice() {
        return Err(SigningKeyError::PublicKeyMismatch);
    }
    Ok(Secret::Ed25519 { d, x: encode(&x) })
}

fn p256(map: &Map<String, Value>) -> Result<Secret, SigningKeyError> {
    let d = member(map, "d", 32)?;
    let (x, y) = (member(map, "x", 32)?, member(map, "y", 32)?);
    // Refuses zero and scalars >= n.
    let secret = p256::SecretKey::from_slice(&d).map_err(|_| SigningKeyError::PrivateKeyInvalid)?;
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    if point.x().map(|c| c.as_slice()) != Some(x.as_slice())
        || point.y().map(|c| c.as_slice()) != Some(y.as_slice())
    {
        return Err(SigningKeyError::PublicKeyMismatch);
    }
    Ok(Secret::P256 {
        d,
        x: encode(&x),
        y: encode(&y),
    })
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
