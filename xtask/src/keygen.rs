//! `cargo xtask keygen [--alg EdDSA|ES256|HS256|HS384|HS512] [--kid ID]`: a fresh key from the
//! operating system's CSPRNG, printed ready for `wrangler secret put`.
//!
//! The secret part (the private JWK, or the base64url shared secret) is the only thing on
//! stdout, on one line, so it can be piped straight into `wrangler secret put NAME`; what it is,
//! where it goes and the public JWK go to stderr. Randomness comes from `OsRng` (getrandom):
//! this runs natively on the operator's machine, never in a Worker.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::util::{Failure, Result};

/// What `keygen` can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    EdDsa,
    Es256,
    Hs256,
    Hs384,
    Hs512,
}

impl KeyAlg {
    const ALL: [KeyAlg; 5] = [
        KeyAlg::EdDsa,
        KeyAlg::Es256,
        KeyAlg::Hs256,
        KeyAlg::Hs384,
        KeyAlg::Hs512,
    ];

    fn name(self) -> &'static str {
        match self {
            KeyAlg::EdDsa => "EdDSA",
            KeyAlg::Es256 => "ES256",
            KeyAlg::Hs256 => "HS256",
            KeyAlg::Hs384 => "HS384",
            KeyAlg::Hs512 => "HS512",
        }
    }

    fn parse(name: &str) -> Option<KeyAlg> {
        KeyAlg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The shared secret's length: the hash length (RFC 7518 §3.2).
    fn secret_len(self) -> Option<usize> {
        match self {
            KeyAlg::Hs256 => Some(32),
            KeyAlg::Hs384 => Some(48),
            KeyAlg::Hs512 => Some(64),
            KeyAlg::EdDsa | KeyAlg::Es256 => None,
        }
    }
}

/// A generated key: `secret` for stdout, `public_jwk` (signature keys) and `instructions` for
/// stderr.
#[derive(Debug)]
pub(crate) struct Generated {
    pub(crate) secret: String,
    pub(crate) public_jwk: Option<Value>,
    pub(crate) instructions: String,
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let usage = || {
        Failure::usage(
            "usage: cargo xtask keygen [--alg EdDSA|ES256|HS256|HS384|HS512] [--kid ID]\n\
             (default EdDSA; kid: the key's RFC 7638 thumbprint)",
        )
    };
    let mut alg = KeyAlg::EdDsa;
    let mut kid = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--alg" => {
                alg = rest
                    .next()
                    .and_then(|name| KeyAlg::parse(name))
                    .ok_or_else(usage)?;
            }
            "--kid" => {
                let id = rest.next().filter(|id| valid_kid(id)).ok_or_else(usage)?;
                kid = Some(id.clone());
            }
            _ => return Err(usage()),
        }
    }
    let generated = generate(alg, kid.as_deref());
    eprintln!("{}", generated.instructions);
    if let Some(public) = &generated.public_jwk {
        eprintln!("public JWK (publish it; safe to share):\n{public}\n");
    }
    println!("{}", generated.secret);
    Ok(())
}

/// A `kid` is printed into JSON and headers: printable ASCII, no quotes or backslashes.
fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 128
        && kid
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// A fresh key for `alg`; `kid` defaults to the public key's RFC 7638 thumbprint.
pub(crate) fn generate(alg: KeyAlg, kid: Option<&str>) -> Generated {
    if let Some(len) = alg.secret_len() {
        let mut bytes = vec![0u8; len];
        OsRng.fill_bytes(&mut bytes);
        return Generated {
            secret: URL_SAFE_NO_PAD.encode(&bytes),
            public_jwk: None,
            instructions: format!(
                "{} shared secret: {len} random bytes, base64url without padding (on stdout).\n\
                 For incoming {} tokens: `npx wrangler secret put JWT_SECRET -c wrangler.auth.toml` \
                 and add {} to ALLOWED_ALGS; give your issuer the same bytes.\n\
                 Or, where a shared-secret assertion is configured: \
                 `npx wrangler secret put ASSERTION_SECRET -c wrangler.authz.toml`.\n\
                 Pipe it straight in: cargo xtask keygen --alg {} | npx wrangler secret put JWT_SECRET -c wrangler.auth.toml\n",
                alg.name(),
                alg.name(),
                alg.name(),
                alg.name()
            ),
        };
    }
    let (public, d) = match alg {
        KeyAlg::Es256 => {
            let key = p256::ecdsa::SigningKey::random(&mut OsRng);
            let point = key.verifying_key().to_encoded_point(false);
            let coordinate = |c: Option<&p256::FieldBytes>| {
                URL_SAFE_NO_PAD.encode(c.map_or(&[][..], |c| &c[..]))
            };
            (
                json!({"kty": "EC", "crv": "P-256", "x": coordinate(point.x()), "y": coordinate(point.y())}),
                URL_SAFE_NO_PAD.encode(key.to_bytes()),
            )
        }
        _ => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())}),
                URL_SAFE_NO_PAD.encode(key.to_bytes()),
            )
        }
    };
    let kid = kid.map_or_else(|| thumbprint(&public), str::to_owned);
    let mut public = public;
    public["kid"] = json!(kid);
    public["alg"] = json!(alg.name());
    public["use"] = json!("sig");
    let mut private = public.clone();
    private["d"] = json!(d);
    Generated {
        secret: private.to_string(),
        public_jwk: Some(public),
        instructions: format!(
            "{} signing key, kid {kid}: the private JWK is on stdout. Keep it secret:\n\
             `npx wrangler secret put ASSERTION_SIGNING_JWK -c wrangler.authz.toml` (paste it, or pipe:\n\
             cargo xtask keygen --alg {} | npx wrangler secret put ASSERTION_SIGNING_JWK -c wrangler.authz.toml).\n",
            alg.name(),
            alg.name()
        ),
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(public: &Value) -> String {
    let canonical = match public["kty"].as_str() {
        Some("EC") => {
            json!({"crv": public["crv"], "kty": "EC", "x": public["x"], "y": public["y"]})
        }
        _ => json!({"crv": public["crv"], "kty": public["kty"], "x": public["x"]}),
    };
    // serde_json's map is ordered by key (no `preserve_order` here), so this is canonical.
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jose_jwt::{Algorithm, JwkSet, VerificationOptions};

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    #[test]
    fn thumbprint_matches_rfc8037_a3() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            thumbprint(&jwk),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    /// Signs a JWT with the private JWK's `d` and verifies it with jose-jwt against the public
    /// JWK: they are one key pair.
    fn signs_and_verifies(alg: KeyAlg, private: &Value, public: &Value) {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": alg.name(), "kid": public["kid"]}).to_string());
        let payload = URL_SAFE_NO_PAD
            .encode(json!({"iss": "i", "aud": "a", "exp": 2_000_000_000}).to_string());
        let input = format!("{header}.{payload}");
        let d = b64(private["d"].as_str().unwrap());
        assert_eq!(d.len(), 32);
        let signature = match alg {
            KeyAlg::Es256 => {
                use p256::ecdsa::signature::Signer as _;
                let key = p256::ecdsa::SigningKey::from_slice(&d).unwrap();
                let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
                sig.to_bytes().to_vec()
            }
            _ => {
                use ed25519_dalek::Signer as _;
                let key = ed25519_dalek::SigningKey::from_bytes(&d.try_into().unwrap());
                key.sign(input.as_bytes()).to_bytes().to_vec()
            }
        };
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
        let set = JwkSet::parse(json!({"keys": [public]}).to_string().as_bytes()).unwrap();
        assert!(set.rejected.is_empty(), "{:?}", set.rejected);
        let jose_alg = if alg == KeyAlg::Es256 {
            Algorithm::Es256
        } else {
            Algorithm::EdDsa
        };
        let opts = VerificationOptions::new(["i"], ["a"], [jose_alg]).unwrap();
        jose_jwt::verify(&token, &set.set, &opts, 1_900_000_000).unwrap();
        // A private JWK is never accepted where public keys are published.
        let leaked = JwkSet::parse(json!({"keys": [private]}).to_string().as_bytes());
        assert!(leaked.map(|p| p.rejected.len() == 1).unwrap_or(true));
    }

    #[test]
    fn signature_keys_are_pairs_with_kid_alg_and_use() {
        for alg in [KeyAlg::EdDsa, KeyAlg::Es256] {
            let one = generate(alg, None);
            let private: Value = serde_json::from_str(&one.secret).unwrap();
            let public = one.public_jwk.clone().unwrap();
            assert_eq!(private["alg"], alg.name());
            assert_eq!(private["use"], "sig");
            assert!(public.get("d").is_none());
            assert_eq!(private["kid"], public["kid"]);
            let mut without_private = private.clone();
            without_private.as_object_mut().unwrap().remove("d");
            assert_eq!(without_private, public);
            // Default kid: the thumbprint of the public key.
            assert_eq!(public["kid"].as_str().unwrap(), thumbprint(&public));
            signs_and_verifies(alg, &private, &public);
            let two = generate(alg, Some("my-key-1"));
            assert_ne!(two.secret, one.secret);
            assert_eq!(two.public_jwk.unwrap()["kid"], "my-key-1");
            assert!(one.instructions.contains("ASSERTION_SIGNING_JWK"));
        }
    }

    #[test]
    fn shared_secrets_have_the_hash_length_and_parse_as_jwt_secret() {
        for (alg, len) in [
            (KeyAlg::Hs256, 32),
            (KeyAlg::Hs384, 48),
            (KeyAlg::Hs512, 64),
        ] {
            let one = generate(alg, None);
            assert_eq!(b64(&one.secret).len(), len);
            assert!(one.public_jwk.is_none());
            assert!(one.instructions.contains("JWT_SECRET"));
            let secret = jose_jwt::SharedSecret::from_base64url(&one.secret).unwrap();
            assert_eq!(secret.byte_len(), len);
            assert_ne!(generate(alg, None).secret, one.secret);
        }
    }

    #[test]
    fn arguments_are_checked() {
        assert!(run(&["--alg".into(), "RS256".into()]).is_err());
        assert!(run(&["--alg".into()]).is_err());
        assert!(run(&["--kid".into(), "a\"b".into()]).is_err());
        assert!(run(&["--bogus".into()]).is_err());
        assert!(valid_kid("2024-01") && !valid_kid("") && !valid_kid("a b"));
    }
}
