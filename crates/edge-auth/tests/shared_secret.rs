//! `authenticate` with `HS*` tokens beside a key set, natively: the header's `alg` picks the
//! branch, the secret path never consults the key source, the cached path behaves the same,
//! and every key-confusion direction is a 401.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use edge_auth::{
    authenticate, AuthConfig, Authenticated, CachedToken, KeySource, KeySourceError, Refusal,
    Rejection, RequestCredentials,
};
use hmac::{Hmac, Mac};
use jose_jwt::{JwkSet, MacAlgorithm, RustCryptoVerifier, TokenAlgorithm};
use jwks_cache::VerifiedTokens;
use serde_json::{json, Value};
use sha2::{Sha256, Sha384, Sha512};

const NOW: i64 = 1_900_000_000;
const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "api://orders";
/// 64 bytes 0x00..0x3f (python: base64.urlsafe_b64encode(bytes(range(64))).rstrip(b'=')).
const JWT_SECRET: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw";

fn secret_bytes() -> Vec<u8> {
    (0u8..64).collect()
}

/// RFC 8037 A.1's private key.
fn signing_key() -> SigningKey {
    let seed =
        hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

fn public_jwk() -> Value {
    let x = URL_SAFE_NO_PAD.encode(signing_key().verifying_key().as_bytes());
    json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA"})
}

fn key_set() -> JwkSet {
    let jwks = json!({ "keys": [public_jwk()] });
    JwkSet::parse(jwks.to_string().as_bytes()).unwrap().set
}

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "roles": ["user"], "exp": NOW + 600})
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn mac(alg: &str, key: &[u8], input: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
        m.update(input);
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        "HS256" => run::<Hmac<Sha256>>(key, input),
        "HS384" => run::<Hmac<Sha384>>(key, input),
        "HS512" => run::<Hmac<Sha512>>(key, input),
        other => panic!("{other}"),
    }
}

fn hs_token(alg: &str, key: &[u8], claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": alg, "typ": "JWT"}).to_string()),
        b64(claims.to_string())
    );
    let tag = mac(alg, key, input.as_bytes());
    format!("{input}.{}", b64(tag))
}

fn eddsa_token(claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "EdDSA", "kid": "k1"}).to_string()),
        b64(claims.to_string())
    );
    let sig = signing_key().sign(input.as_bytes()).to_bytes();
    format!("{input}.{}", b64(sig))
}

struct CountingKeys {
    set: Rc<JwkSet>,
    calls: Cell<usize>,
}

impl KeySource for CountingKeys {
    type Keys = JwkSet;
    async fn key_set(&self, _kid: Option<&str>) -> Result<Rc<JwkSet>, KeySourceError> {
        self.calls.set(self.calls.get() + 1);
        Ok(self.set.clone())
    }
}

fn keys() -> CountingKeys {
    CountingKeys {
        set: Rc::new(key_set()),
        calls: Cell::new(0),
    }
}

fn config(algs: &str, secret: Option<&str>) -> AuthConfig {
    AuthConfig::from_env(|name| {
        let value = match name {
            "JWKS_URL" if algs.contains("EdDSA") => "https://idp.test/.well-known/jwks.json",
            "ISSUER" => ISSUER,
            "AUDIENCE" => AUDIENCE,
            "CONTEXT_SECRET" => "0123456789abcdef0123456789abcdef-shared",
            "ALLOWED_ALGS" => algs,
            "JWT_SECRET" => secret?,
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap()
}

fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the pipeline waited on a fake that never waits"),
    }
}

fn run(
    token: &str,
    config: &AuthConfig,
    keys: &CountingKeys,
    tokens: &VerifiedTokens<JwkSet, CachedToken>,
) -> Result<Authenticated, Refusal> {
    let authorization = format!("Bearer {token}");
    let credentials = RequestCredentials {
        authorization: Some(&authorization),
        ..RequestCredentials::default()
    };
    ready(authenticate(
        &credentials,
        NOW,
        keys,
        &RustCryptoVerifier,
        tokens,
        config,
    ))
}

fn invalid_token(result: Result<Authenticated, Refusal>) -> Refusal {
    let refusal = result.expect_err("accepted");
    assert!(
        matches!(refusal.rejection, Rejection::InvalidToken { .. }),
        "{refusal:?}"
    );
    assert_eq!(refusal.rejection.status(), 401);
    refusal
}

#[test]
fn every_hs_algorithm_verifies_without_touching_the_key_set() {
    let config = config("EdDSA,HS256,HS384,HS512", Some(JWT_SECRET));
    for alg in MacAlgorithm::ALL {
        let keys = keys();
        let tokens = VerifiedTokens::new(16);
        let token = hs_token(alg.as_str(), &secret_bytes(), &claims("alice"));
        let first = run(&token, &config, &keys, &tokens).unwrap();
        assert_eq!(first.identity.as_ref().unwrap().sub, "alice");
        assert_eq!(first.facts.alg, Some(TokenAlgorithm::Mac(alg)));
        assert!(!first.facts.cached);
        // The cached path: same identity, logged as cached, still no key set.
        let again = run(&token, &config, &keys, &tokens).unwrap();
        assert_eq!(again.identity, first.identity);
        assert!(again.facts.cached);
        assert_eq!(again.facts.alg, Some(TokenAlgorithm::Mac(alg)));
        assert_eq!(keys.calls.get(), 0, "{alg} consulted the key set");
    }
    // The signed branch still goes to the key set, cached or not.
    let keys = keys();
    let tokens = VerifiedTokens::new(16);
    let token = eddsa_token(&claims("bob"));
    assert_eq!(
        run(&token, &config, &keys, &tokens)
            .unwrap()
            .identity
            .unwrap()
            .sub,
        "bob"
    );
    assert!(run(&token, &config, &keys, &tokens).unwrap().facts.cached);
    assert_eq!(keys.calls.get(), 2);
}

/// CVE-2015-9235: the MAC keyed with the issuer's public key (its JWK text, its raw bytes)
/// while both modes are configured.
#[test]
fn a_mac_keyed_with_the_public_key_is_refused() {
    let config = config("EdDSA,HS256", Some(&JWT_SECRET[..43]));
    let jwk_text = public_jwk().to_string();
    let jwks_text = json!({ "keys": [public_jwk()] }).to_string();
    let raw_public = signing_key().verifying_key().to_bytes();
    for key in [jwk_text.as_bytes(), jwks_text.as_bytes(), &raw_public[..]] {
        let keys = keys();
        let token = hs_token("HS256", key, &claims("mallory"));
        let refusal = invalid_token(run(&token, &config, &keys, &VerifiedTokens::new(16)));
        assert_eq!(refusal.reason, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
        assert_eq!(keys.calls.get(), 0);
    }
}

#[test]
fn the_refusal_matrix() {
    let hs256_only = config("HS256", Some(&JWT_SECRET[..43]));
    let hs_all = config("HS256,HS384,HS512", Some(JWT_SECRET));
    let good = hs_token("HS256", &secret_bytes()[..32], &claims("alice"));
    assert!(run(&good, &hs256_only, &keys(), &VerifiedTokens::new(0)).is_ok());

    let mut wrong = secret_bytes()[..32].to_vec();
    wrong[0] ^= 1;
    let (head, tag) = good.rsplit_once('.').unwrap();
    let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
    let cases: Vec<(&str, String, &AuthConfig, &str)> = vec![
        (
            "EdDSA token with only HS allowed",
            eddsa_token(&claims("alice")),
            &hs256_only,
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "HS384 token with HS256-only config",
            hs_token("HS384", &secret_bytes()[..48], &claims("alice")),
            &hs256_only,
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "wrong secret",
            hs_token("HS256", &wrong, &claims("alice")),
            &hs256_only,
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        (
            "truncated MAC",
            format!("{head}.{}", b64(&tag[..16])),
            &hs256_only,
            "ERR_JWS_INVALID",
        ),
        (
            "empty MAC",
            format!("{head}."),
            &hs256_only,
            "ERR_JWS_INVALID",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none"}"#),
                b64(claims("alice").to_string())
            ),
            &hs_all,
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "HS512 token keyed with the first 32 bytes only",
            hs_token("HS512", &secret_bytes()[..32], &claims("alice")),
            &hs_all,
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        (
            "expired HS256 token",
            hs_token(
                "HS256",
                &secret_bytes(),
                &json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "a", "exp": NOW - 120}),
            ),
            &hs_all,
            "ERR_JWT_EXPIRED",
        ),
        (
            "HS256 token for another audience",
            hs_token(
                "HS256",
                &secret_bytes(),
                &json!({"iss": ISSUER, "aud": "api://other", "sub": "a", "exp": NOW + 60}),
            ),
            &hs_all,
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
    ];
    for (what, token, config, code) in cases {
        let keys = keys();
        let refusal = invalid_token(run(&token, config, &keys, &VerifiedTokens::new(16)));
        assert_eq!(refusal.reason, code, "{what}");
        assert_eq!(keys.calls.get(), 0, "{what}: consulted the key set");
    }
}
