//! Wycheproof vector runner, so any [`SignatureVerifier`] or
//! [`AsyncSignatureVerifier`] (e.g. a WebCrypto one in a Worker) can be held
//! to the same vectors as [`RustCryptoVerifier`](crate::RustCryptoVerifier).
//!
//! Every case goes through the same path as a token: the group's public key
//! is parsed as a JWK (from `publicKeyJwk`, or built from the RSA modulus and
//! exponent), then the crate's signature-shape and key checks run, then the
//! verifier. Enabled by the `test-vectors` feature.
//!
//! `acceptable` cases: the only ones in the shipped files are PKCS#1 v1.5
//! signatures whose DigestInfo omits the NULL parameters. We reject them (RFC
//! 8017 §9.2 gives one encoding); the tally reports them separately so a
//! caller can assert its own policy.

use serde_json::Value;

use crate::algorithm::Algorithm;
use crate::b64;
use crate::error::Error;
use crate::jwk::Jwk;
use crate::verifier::{precheck, AsyncSignatureVerifier, SignatureVerifier};

/// What Wycheproof says a case's outcome must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Must verify.
    Valid,
    /// Must fail.
    Invalid,
    /// Either is defensible; see the module docs for our choice.
    Acceptable,
}

/// One test case, ready to run.
#[derive(Debug, Clone)]
pub struct VectorCase {
    /// Wycheproof `tcId`.
    pub tc_id: u64,
    /// The algorithm the file is for.
    pub alg: Algorithm,
    /// The group's key, parsed as a JWK (or why it was refused).
    pub key: Result<Jwk, Error>,
    /// The signed message.
    pub message: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// The required outcome.
    pub expected: Expected,
}

/// Counts of outcomes; the `*_wrong` lists hold the `tcId`s that disagree
/// with Wycheproof.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// `valid` cases that verified.
    pub valid_accepted: usize,
    /// `valid` cases that failed (must be empty).
    pub valid_wrong: Vec<u64>,
    /// `invalid` cases that failed.
    pub invalid_rejected: usize,
    /// `invalid` cases that verified (must be empty).
    pub invalid_wrong: Vec<u64>,
    /// `acceptable` cases that verified.
    pub acceptable_accepted: Vec<u64>,
    /// `acceptable` cases that failed.
    pub acceptable_rejected: usize,
    /// Cases not run because the JWK policy refused their key (e.g. RSA
    /// `e = 3`); counted in none of the fields above.
    pub key_refused: Vec<u64>,
}

impl Tally {
    /// Total number of cases counted.
    pub fn total(&self) -> usize {
        self.valid_accepted
            + self.valid_wrong.len()
            + self.invalid_rejected
            + self.invalid_wrong.len()
            + self.acceptable_accepted.len()
            + self.acceptable_rejected
            + self.key_refused.len()
    }

    /// Whether every `valid` verified and every `invalid` failed.
    pub fn agrees(&self) -> bool {
        self.valid_wrong.is_empty() && self.invalid_wrong.is_empty()
    }

    fn record(&mut self, case: &VectorCase, outcome: &Result<(), Error>) {
        if case.key.is_err() {
            self.key_refused.push(case.tc_id);
            return;
        }
        match (case.expected, outcome.is_ok()) {
            (Expected::Valid, true) => self.valid_accepted += 1,
            (Expected::Valid, false) => self.valid_wrong.push(case.tc_id),
            (Expected::Invalid, false) => self.invalid_rejected += 1,
            (Expected::Invalid, true) => self.invalid_wrong.push(case.tc_id),
            (Expected::Acceptable, true) => self.acceptable_accepted.push(case.tc_id),
            (Expected::Acceptable, false) => self.acceptable_rejected += 1,
        }
    }
}

/// Loads the cases of a Wycheproof verify file (ECDSA P1363, EdDSA, RSA
/// PKCS#1 v1.5 or PSS) for `alg`.
pub fn load_cases(json: &[u8], alg: Algorithm) -> Result<Vec<VectorCase>, String> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
    let groups = doc
        .get("testGroups")
        .and_then(Value::as_array)
        .ok_or("no testGroups")?;
    let mut cases = Vec::new();
    for group in groups {
        let key = group_key(group)?;
        let tests = group
            .get("tests")
            .and_then(Value::as_array)
            .ok_or("group without tests")?;
        for test in tests {
            let field = |name: &str| {
                test.get(name)
                    .and_then(Value::as_str)
                    .ok_or(format!("test without {name}"))
            };
            let expected = match field("result")? {
                "valid" => Expected::Valid,
                "invalid" => Expected::Invalid,
                "acceptable" => Expected::Acceptable,
                other => return Err(format!("unknown result {other}")),
            };
            cases.push(VectorCase {
                tc_id: test.get("tcId").and_then(Value::as_u64).ok_or("no tcId")?,
                alg,
                key: key.clone(),
                message: hex::decode(field("msg")?).map_err(|e| e.to_string())?,
                signature: hex::decode(field("sig")?).map_err(|e| e.to_string())?,
                expected,
            });
        }
    }
    Ok(cases)
}

/// The group's public key through the JWK path: `publicKeyJwk` or `keyJwk`
/// when the file has one, else a JWK built from the raw public key.
fn group_key(group: &Value) -> Result<Result<Jwk, Error>, String> {
    if let Some(jwk) = group.get("publicKeyJwk").or_else(|| group.get("keyJwk")) {
        return Ok(Jwk::from_value(jwk));
    }
    let public = group.get("publicKey").ok_or("group without a public key")?;
    // Wycheproof writes ASN.1-style integers (leading zero bytes possible).
    let integer = |name: &str| -> Result<Vec<u8>, String> {
        let s = public
            .get(name)
            .and_then(Value::as_str)
            .ok_or(format!("publicKey without {name}"))?;
        let bytes = hex::decode(s).map_err(|e| e.to_string())?;
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Ok(bytes.get(first..).unwrap_or_default().to_vec())
    };
    let jwk = match public.get("curve").and_then(Value::as_str) {
        Some(curve) => {
            let (crv, len) = match curve {
                "secp256r1" => ("P-256", 32usize),
                "secp384r1" => ("P-384", 48),
                other => return Err(format!("unexpected curve {other}")),
            };
            let coordinate = |name: &str| -> Result<String, String> {
                let raw = integer(name)?;
                let pad = len.checked_sub(raw.len()).ok_or("coordinate too long")?;
                let mut full = vec![0u8; pad];
                full.extend_from_slice(&raw);
                Ok(b64::encode(&full))
            };
            serde_json::json!({"kty": "EC", "crv": crv, "x": coordinate("wx")?, "y": coordinate("wy")?})
        }
        None => serde_json::json!({
            "kty": "RSA",
            "n": b64::encode(&integer("modulus")?),
            "e": b64::encode(&integer("publicExponent")?),
        }),
    };
    Ok(Jwk::from_value(&jwk))
}

/// The checks a token's signature gets ([`UnverifiedToken::check_signature`](crate::UnverifiedToken::check_signature)),
/// applied to a detached message.
pub fn check_detached(
    alg: Algorithm,
    key: &Jwk,
    message: &[u8],
    signature: &[u8],
    verifier: &impl SignatureVerifier,
) -> Result<(), Error> {
    precheck(alg, key, signature)?;
    verifier.verify(alg, key, message, signature)
}

/// [`check_detached`] with an asynchronous verifier.
pub async fn check_detached_async(
    alg: Algorithm,
    key: &Jwk,
    message: &[u8],
    signature: &[u8],
    verifier: &impl AsyncSignatureVerifier,
) -> Result<(), Error> {
    precheck(alg, key, signature)?;
    verifier.verify(alg, key, message, signature).await
}

/// Runs every case through `verifier`.
pub fn run_cases(cases: &[VectorCase], verifier: &impl SignatureVerifier) -> Tally {
    let mut tally = Tally::default();
    for case in cases {
        let outcome = match &case.key {
            Ok(key) => check_detached(case.alg, key, &case.message, &case.signature, verifier),
            Err(e) => Err(e.clone()),
        };
        tally.record(case, &outcome);
    }
    tally
}

/// Runs every case through an asynchronous `verifier`.
pub async fn run_cases_async(
    cases: &[VectorCase],
    verifier: &impl AsyncSignatureVerifier,
) -> Tally {
    let mut tally = Tally::default();
    for case in cases {
        let outcome = match &case.key {
            Ok(key) => {
                check_detached_async(case.alg, key, &case.message, &case.signature, verifier).await
            }
            Err(e) => Err(e.clone()),
        };
        tally.record(case, &outcome);
    }
    tally
}

/// A Wycheproof file shipped with the crate, with its expected case counts.
#[derive(Debug, Clone, Copy)]
pub struct VectorFile {
    /// File name.
    pub name: &'static str,
    /// The algorithm its cases are for.
    pub alg: Algorithm,
    /// The file's JSON.
    pub json: &'static [u8],
    /// Number of `valid` cases.
    pub valid: usize,
    /// Number of `invalid` cases.
    pub invalid: usize,
    /// Number of `acceptable` cases.
    pub acceptable: usize,
    /// Number of cases whose key our JWK policy refuses.
    pub key_refused: usize,
}

macro_rules! vector_file {
    ($name:literal, $alg:expr, $valid:expr, $invalid:expr, $acceptable:expr, $refused:expr) => {
        VectorFile {
            name: $name,
            alg: $alg,
            json: include_bytes!(concat!("../tests/data/wycheproof/", $name)),
            valid: $valid,
            invalid: $invalid,
            acceptable: $acceptable,
            key_refused: $refused,
        }
    };
}

/// The Wycheproof files this crate is tested with (embedded, so a Wasm test
/// without a file system can run them too).
pub fn vector_files() -> [VectorFile; 5] {
    [
        vector_file!(
            "ecdsa_secp256r1_sha256_p1363_test.json",
            Algorithm::Es256,
            173,
            89,
            0,
            0
        ),
        vector_file!(
            "ecdsa_secp384r1_sha384_p1363_test.json",
            Algorithm::Es384,
            193,
            87,
            0,
            0
        ),
        vector_file!("ed25519_test.json", Algorithm::EdDsa, 88, 63, 0, 0),
        vector_file!(
            "rsa_signature_2048_sha256_test.json",
            Algorithm::Rs256,
            9,
            249,
            1,
            2
        ),
        vector_file!(
            "rsa_pss_2048_sha256_mgf1_32_test.json",
            Algorithm::Ps256,
            63,
            45,
            0,
            0
        ),
    ]
}

/// Claims parsed from a JSON payload *without any verification*, for tests of code
/// that consumes verified claims (e.g. identity mapping). Only with `test-vectors`.
pub fn unverified_claims(payload_json: &[u8]) -> Result<crate::Claims, Error> {
    crate::Claims::from_payload(payload_json)
}
