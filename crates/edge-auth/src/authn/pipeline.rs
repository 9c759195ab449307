//! [`authenticate`]: credential → verified-token cache → claims (a precheck that can only
//! refuse) → key set → signature → claims → identity, as one function over two seams the
//! caller supplies: where keys come from ([`KeySource`]) and who checks signatures and MACs
//! ([`SignatureProvider`]). The auth Worker supplies the per-isolate JWKS cache and WebCrypto;
//! the tests a fixed key set and RustCrypto.
//!
//! The token's `alg` chooses the branch ([`AnyToken::parse`]): a listed public-key algorithm
//! goes to the key set, a listed `HS*` one to the configured `JWT_SECRET`, anything else is
//! refused before any crypto. Both branches end in the same claim checks.

use std::rc::Rc;

use jose_jwt::{
    AnyToken, AsyncMacVerifier, AsyncSignatureVerifier, JwkSet, RustCryptoMac, RustCryptoVerifier,
    TokenAlgorithm,
};
use jwks_cache::{TokenDigest, VerifiedTokens};

use crate::{
    extract_credential, AuthConfig, EmailWithheld, Identity, Refusal, Rejection,
    RequestCredentials, RequestFacts,
};

/// A key set tokens are checked against.
pub trait KeySet {
    /// The parsed JWKS.
    fn jwks(&self) -> &JwkSet;
}

impl KeySet for JwkSet {
    fn jwks(&self) -> &JwkSet {
        self
    }
}

/// Why a [`KeySource`] has no key set to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySourceError {
    /// No key set could be fetched (and none is cached): 503, retry after this many seconds.
    Unavailable {
        /// For `Retry-After`.
        retry_after_seconds: u64,
    },
    /// The source itself is misconfigured (e.g. a `JWKS_SERVICE` binding the Worker lacks): 500.
    Misconfigured,
}

/// Where the issuer's key set comes from. `kid` is the token's, so a source can refetch for a
/// key it does not know yet. The same `Rc` means the same set: the verified-token cache vouches
/// for a token only while the set it was checked with is the one in use.
#[allow(async_fn_in_trait)]
pub trait KeySource {
    /// The key set type.
    type Keys: KeySet;
    /// The key set to check a token with `kid` against.
    async fn key_set(&self, kid: Option<&str>) -> Result<Rc<Self::Keys>, KeySourceError>;
}

/// A jose-jwt signature provider: the verifier for key number `index` of a key set (a provider
/// may keep per-key state with the set, as WebCrypto keeps imported keys), and the MAC
/// verifier for `HS*` tokens with the configured shared secret.
pub trait SignatureProvider<K> {
    /// The verifier for one key.
    type Verifier<'a>: AsyncSignatureVerifier
    where
        Self: 'a,
        K: 'a;
    /// The MAC verifier.
    type MacVerifier<'a>: AsyncMacVerifier
    where
        Self: 'a;
    /// The verifier for key `index` of `keys`.
    fn verifier<'a>(&'a self, keys: &'a K, index: usize) -> Self::Verifier<'a>;
    /// The verifier for `HS*` tokens.
    fn mac_verifier(&self) -> Self::MacVerifier<'_>;
}

/// RustCrypto needs no per-key state.
impl<K> SignatureProvider<K> for RustCryptoVerifier {
    type Verifier<'a>
        = RustCryptoVerifier
    where
        K: 'a;
    type MacVerifier<'a> = RustCryptoMac;
    fn verifier<'a>(&'a self, _keys: &'a K, _index: usize) -> RustCryptoVerifier {
        *self
    }
    fn mac_verifier(&self) -> RustCryptoMac {
        RustCryptoMac
    }
}

/// What the isolate remembers about a token it verified (see [`VerifiedTokens`]): the
/// identity, and what the log line says about the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    identity: Identity,
    email_withheld: Option<EmailWithheld>,
    kid: Option<String>,
    alg: TokenAlgorithm,
}

/// A request that may go on: with a verified identity, or anonymous (no credential at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The caller, or `None` for a request that carries no credential.
    pub identity: Option<Identity>,
    /// What the log line says about the token.
    pub facts: RequestFacts,
}

impl Authenticated {
    /// The log line's reason code when the request goes on.
    pub fn reason(&self) -> &'static str {
        if self.identity.is_some() {
            "verified"
        } else {
            "anonymous"
        }
    }
}

/// Authenticates a request from its `credentials` at `now_s` (unix seconds).
///
/// `Ok` with no identity when the request carries no credential at all (public routes work;
/// the rule table decides). Any credential present but not acceptable — malformed, ambiguous,
/// expired, badly signed, for another audience, with unusable claims — is a [`Refusal`]:
/// never downgraded to anonymous. A token found in `tokens` (verified before, still before its
/// `exp`, and checked with the key set still in use) skips the signature and claim checks.
pub async fn authenticate<S, P>(
    credentials: &RequestCredentials<'_>,
    now_s: i64,
    keys: &S,
    signatures: &P,
    tokens: &VerifiedTokens<S::Keys, CachedToken>,
    config: &AuthConfig,
) -> Result<Authenticated, Refusal>
where
    S: KeySource,
    P: SignatureProvider<S::Keys>,
{
    let mut facts = RequestFacts::default();
    let credential = extract_credential(credentials, config.extraction_mode())
        .map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?;
    let Some(credential) = credential else {
        return Ok(Authenticated {
            identity: None,
            facts,
        });
    };

    let digest = tokens
        .is_enabled()
        .then(|| TokenDigest::of(credential.token()));
    if let Some(hit) = digest.as_ref().and_then(|d| tokens.get(d, now_s)) {
        facts.alg = Some(hit.value.alg);
        facts.kid.clone_from(&hit.value.kid);
        // An `HS*` token was checked with the isolate's one secret, which cannot change while
        // the isolate lives: no key set to consult. A signed token counts only while the set
        // it was verified with is still the one in use; else it is verified again.
        let still_vouched = hit.verified_with_fixed_key()
            || hit.verified_with(&key_set(keys, hit.value.kid.as_deref(), &facts).await?);
        if still_vouched {
            facts.sub = Some(hit.value.identity.sub.clone());
            facts.email_withheld = hit.value.email_withheld;
            facts.cached = true;
            return Ok(Authenticated {
                identity: Some(hit.value.identity),
                facts,
            });
        }
    }

    let options = config.verification_options();
    let refuse = |facts: &RequestFacts, e: &jose_jwt::Error| {
        Refusal::new(Rejection::from(e), e.code(), facts)
    };
    let mut token = AnyToken::parse(credential.token(), options).map_err(|e| refuse(&facts, &e))?;
    let alg = token.alg();
    facts.alg = Some(alg);
    facts.kid = token.kid().map(str::to_owned);
    // Claims that refuse the token anyway (expired, another audience, …) refuse it before any
    // key fetch or signature: a replayed old token costs no WebCrypto call. They are checked
    // again once the signature holds; nothing here can admit a token.
    token
        .precheck_claims(options, now_s)
        .map_err(|e| refuse(&facts, &e))?;
    let (claims, verified_with) = match token {
        AnyToken::Signature(token) => {
            let set = key_set(keys, token.header().kid(), &facts).await?;
            let (index, key) = token
                .select_key(set.jwks())
                .map_err(|e| refuse(&facts, &e))?;
            let checked = token
                .check_signature_async(key, &signatures.verifier(&set, index))
                .await
                .map_err(|e| refuse(&facts, &e))?;
            let verified = checked
                .validate_claims(options, now_s)
                .map_err(|e| refuse(&facts, &e))?;
            (verified.into_claims(), Some(set))
        }
        AnyToken::Mac(token) => {
            // The options allow `HS*` only with a secret (see AuthConfig); without one, fail
            // closed as a misconfiguration.
            let secret = config.jwt_secret().ok_or_else(|| {
                Refusal::new(Rejection::Misconfigured, "server_misconfigured", &facts)
            })?;
            let checked = token
                .check_mac_async(secret, &signatures.mac_verifier())
                .await
                .map_err(|e| refuse(&facts, &e))?;
            let verified = checked
                .validate_claims(options, now_s)
                .map_err(|e| refuse(&facts, &e))?;
            (verified.into_claims(), None)
        }
    };
    let claimed = Identity::from_claims(&claims, config.roles_claim(), config.email_policy())
        .map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?;
    let identity = claimed.identity;
    facts.email_withheld = claimed.email_withheld;
    facts.sub = Some(identity.sub.clone());
    if let Some(digest) = digest {
        let remembered = CachedToken {
            identity: identity.clone(),
            email_withheld: claimed.email_withheld,
            kid: facts.kid.clone(),
            alg,
        };
        match &verified_with {
            Some(set) => tokens.insert(digest, set, remembered, claims.exp(), now_s),
            None => tokens.insert_fixed_key(digest, remembered, claims.exp(), now_s),
        }
    }
    Ok(Authenticated {
        identity: Some(identity),
        facts,
    })
}

async fn key_set<S: KeySource>(
    keys: &S,
    kid: Option<&str>,
    facts: &RequestFacts,
) -> Result<Rc<S::Keys>, Refusal> {
    keys.key_set(kid).await.map_err(|e| match e {
        KeySourceError::Unavailable {
            retry_after_seconds,
        } => Refusal::new(
            Rejection::JwksUnavailable {
                retry_after_seconds,
            },
            "jwks_unavailable",
            facts,
        ),
        KeySourceError::Misconfigured => {
            Refusal::new(Rejection::Misconfigured, "server_misconfigured", facts)
        }
    })
}
