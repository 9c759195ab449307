//! The assertion's configuration (authz Worker): the signing key, the claims' fixed parts, and
//! the gateway's JWK Set, made once per isolate.

use jose_jwt::sign::{SigningAlgorithm, SigningKey};
use jose_jwt::{Algorithm, Error as JoseError, Jwk, JwkProblem};
use serde_json::{json, Value};

use crate::config::parse::{check_word, show, Env};
use crate::config::ConfigError;

/// Default lifetime of an assertion, in seconds.
pub const DEFAULT_ASSERTION_TTL_SECONDS: u64 = 60;
/// Longest lifetime `ASSERTION_TTL_SECONDS` accepts.
pub const MAX_ASSERTION_TTL_SECONDS: u64 = 300;
/// The `act.sub` of every assertion unless `ASSERTION_ACTOR` says otherwise.
pub const DEFAULT_ASSERTION_ACTOR: &str = "edge-auth";
/// The JWK Set when no public key is published (no assertion, or HS512).
pub(crate) const EMPTY_JWKS: &str = r#"{"keys":[]}"#;

const JWK_VAR: &str = "ASSERTION_SIGNING_JWK";
const SECRET_VAR: &str = "ASSERTION_SECRET";
const PREVIOUS_VAR: &str = "ASSERTION_PREVIOUS_PUBLIC_JWK";
/// Every other variable of the assertion: set without a key, they are a mistake.
const OTHER_VARS: [&str; 5] = [
    "ASSERTION_ISSUER",
    "ASSERTION_AUDIENCE",
    "ASSERTION_TTL_SECONDS",
    "ASSERTION_ACTOR",
    PREVIOUS_VAR,
];

/// A validated assertion configuration. `Debug` shows no key material.
#[derive(Debug, Clone)]
pub struct AssertionConfig {
    key: SigningKey,
    issuer: Option<String>,
    audience: Option<String>,
    ttl_seconds: i64,
    actor: String,
    jwks: String,
}

impl AssertionConfig {
    /// `None` when neither `ASSERTION_SIGNING_JWK` nor `ASSERTION_SECRET` is set (and no
    /// other `ASSERTION_*` variable is: one set alone is refused, not ignored).
    pub(crate) fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Option<Self>, ConfigError> {
        let key = match (env.optional(JWK_VAR), env.optional(SECRET_VAR)) {
            (Some(_), Some(_)) => return Err(ConfigError::new(
                SECRET_VAR,
                "is set together with ASSERTION_SIGNING_JWK; keep one: remove ASSERTION_SECRET \
                     to sign with the JWK (EdDSA/ES256, verifiable with the published JWKS), or \
                     remove ASSERTION_SIGNING_JWK to sign with HS512",
            )),
            (Some(jwk), None) => SigningKey::from_private_jwk(jwk.as_bytes())
                .map_err(|e| ConfigError::new(JWK_VAR, e.to_string()))?,
            (None, Some(secret)) => SigningKey::hs512(&secret)
                .map_err(|e| ConfigError::new(SECRET_VAR, e.to_string()))?,
            (None, None) => {
                if let Some(var) = OTHER_VARS.iter().find(|var| env.optional(var).is_some()) {
                    return Err(ConfigError::new(
                        var,
                        "is set but no assertion key is: set ASSERTION_SIGNING_JWK (or \
                         ASSERTION_SECRET) to sign assertions, or remove it",
                    ));
                }
                return Ok(None);
            }
        };
        let word = |var: &'static str| -> Result<Option<String>, ConfigError> {
            env.optional(var)
                .map(|value| check_word(var, &value).map(|()| value))
                .transpose()
        };
        let ttl = env.u64_in(
            "ASSERTION_TTL_SECONDS",
            DEFAULT_ASSERTION_TTL_SECONDS,
            1,
            MAX_ASSERTION_TTL_SECONDS,
        )?;
        let actor = word("ASSERTION_ACTOR")?.unwrap_or_else(|| DEFAULT_ASSERTION_ACTOR.to_owned());
        let previous = env
            .optional(PREVIOUS_VAR)
            .map(|raw| previous_key(&raw, &key))
            .transpose()?;
        let keys: Vec<Value> = key.public_jwk().into_iter().chain(previous).collect();
        Ok(Some(Self {
            issuer: word("ASSERTION_ISSUER")?,
            audience: word("ASSERTION_AUDIENCE")?,
            ttl_seconds: i64::try_from(ttl).unwrap_or(60),
            actor,
            jwks: json!({ "keys": keys }).to_string(),
            key,
        }))
    }

    /// The key assertions are signed with.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }
    /// `ASSERTION_ISSUER`; `None`: the request's own origin.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
    /// `ASSERTION_AUDIENCE`; `None`: the origin's URL origin.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }
    /// `ASSERTION_TTL_SECONDS`: `exp - iat`.
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }
    /// `ASSERTION_ACTOR`: the assertion's `act.sub`.
    pub fn actor(&self) -> &str {
        &self.actor
    }
    /// The gateway's JWK Set (`{"keys":[…]}`): the current public key and the previous one;
    /// empty for HS512.
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }
}

/// `ASSERTION_PREVIOUS_PUBLIC_JWK`: a public Ed25519 or P-256 JWK with a `kid` other than the
/// current key's, as published (`alg` and `use` added).
fn previous_key(raw: &str, current: &SigningKey) -> Result<Value, ConfigError> {
    let problem = |text: String| ConfigError::new(PREVIOUS_VAR, text);
    if current.algorithm() == SigningAlgorithm::Hs512 {
        return Err(problem(
            "is set but assertions are signed with ASSERTION_SECRET (HS512), which publishes no \
             key; remove it"
                .to_owned(),
        ));
    }
    let jwk = Jwk::parse(raw.as_bytes()).map_err(|e| match e {
        JoseError::JwkInvalid {
            reason: JwkProblem::PrivateMembers,
        } => problem(
            "holds private key members (`d`): publish only the public half; remove `d` (and \
             never put a private key in this variable)"
                .to_owned(),
        ),
        other => problem(format!("is not a usable public JWK: {other}")),
    })?;
    let alg = [Algorithm::EdDsa, Algorithm::Es256]
        .into_iter()
        .find(|alg| jwk.fits(*alg))
        .ok_or_else(|| {
            problem("must be an Ed25519 (OKP) or P-256 (EC) key, as the signing key is".to_owned())
        })?;
    let kid = jwk.kid().ok_or_else(|| {
        problem("has no `kid`; give it the key id it was published with".to_owned())
    })?;
    if Some(kid) == current.kid() {
        return Err(problem(format!(
            "has the same kid {} as ASSERTION_SIGNING_JWK; a verifier could not tell the two \
             apart: give the new key a new kid",
            show(kid)
        )));
    }
    let mut published = jwk.public_jwk_json();
    if let Value::Object(map) = &mut published {
        map.insert("alg".into(), Value::String(alg.as_str().into()));
        map.insert("use".into(), Value::String("sig".into()));
    }
    Ok(published)
}
