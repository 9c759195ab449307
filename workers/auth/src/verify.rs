//! The authentication step: credential → token → key → signature (WebCrypto) → claims →
//! identity. Each arrow is a `jose-jwt`, `jwks-cache` or `edge-auth` call; this file only
//! sequences them and records what the log line needs. A token this isolate verified before,
//! with the key set still in use and before its `exp`, skips from credential to identity
//! (`jwks_cache::VerifiedTokens`).

use crate::isolate::Isolate;
use crate::keys::{KeyFetch, KeySet, WorkerEnvironment};
use edge_auth::{
    extract_credential, EmailWithheld, Identity, LogLineBuilder, Rejection, RequestCredentials,
};
use jose_jwt::{Algorithm, UnverifiedToken};
use jose_jwt_webcrypto::WebCryptoVerifier;
use jwks_cache::{CacheError, TokenDigest};
use std::rc::Rc;
use web_sys::Headers;
use worker::Env;
use worker_glue::header;

/// A request that may go on: with a verified identity, or anonymous (no credential at all).
pub(crate) struct Verified {
    pub(crate) identity: Option<Identity>,
    token: TokenFacts,
}

/// A request refused here, and why (the reason is a stable code for the log line).
pub(crate) struct Failure {
    pub(crate) rejection: Rejection,
    pub(crate) reason: &'static str,
    token: TokenFacts,
}

/// What the isolate remembers about a token it verified (see `jwks_cache::VerifiedTokens`):
/// the identity, and what the log line says about the token.
#[derive(Clone)]
pub(crate) struct CachedToken {
    identity: Identity,
    email_withheld: Option<EmailWithheld>,
    kid: Option<String>,
    alg: Algorithm,
}

/// What the log line may say about a token: never the token or its signature.
#[derive(Default, Clone)]
struct TokenFacts {
    kid: Option<String>,
    alg: Option<Algorithm>,
    sub: Option<String>,
    verify_us: Option<u64>,
    cached: bool,
    email_withheld: Option<EmailWithheld>,
}

impl TokenFacts {
    fn annotate(&self, mut log: LogLineBuilder) -> LogLineBuilder {
        if let Some(kid) = &self.kid {
            log = log.kid(kid);
        }
        if let Some(alg) = self.alg {
            log = log.alg(alg);
        }
        if let Some(sub) = &self.sub {
            log = log.subject(sub);
        }
        if let Some(micros) = self.verify_us {
            log = log.verify_us(micros);
        }
        if self.cached {
            log = log.cached();
        }
        if let Some(reason) = self.email_withheld {
            log = log.email_withheld(reason);
        }
        log
    }
}

impl Verified {
    pub(crate) fn annotate(&self, log: LogLineBuilder) -> LogLineBuilder {
        self.token.annotate(log)
    }
}

impl Failure {
    pub(crate) fn annotate(&self, log: LogLineBuilder) -> LogLineBuilder {
        self.token.annotate(log)
    }
}

fn fail(token: &TokenFacts, rejection: Rejection, reason: &'static str) -> Failure {
    Failure {
        rejection,
        reason,
        token: token.clone(),
    }
}

/// Authenticates the request; `Ok` with no identity when it carries no credential at all.
pub(crate) async fn authenticate(
    headers: &Headers,
    env: &Env,
    isolate: &Isolate,
    request_id: &str,
) -> Result<Verified, Failure> {
    let mut facts = TokenFacts::default();
    let authorization = header(headers, "authorization");
    // The Access header and cookie only count when Access is configured: don't fetch them else.
    let (access_assertion, cookie) = if isolate.config.extraction_mode().cloudflare_access {
        (
            header(headers, "cf-access-jwt-assertion"),
            header(headers, "cookie"),
        )
    } else {
        (None, None)
    };
    let credentials = RequestCredentials {
        authorization: authorization.as_deref(),
        access_assertion: access_assertion.as_deref(),
        cookie: cookie.as_deref(),
    };
    let credential = extract_credential(&credentials, isolate.config.extraction_mode())
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let Some(credential) = credential else {
        return Ok(Verified {
            identity: None,
            token: facts,
        });
    };

    let started_ms = worker_glue::now_ms();
    let digest = isolate
        .tokens
        .is_enabled()
        .then(|| TokenDigest::of(credential.token()));
    let hit = digest
        .as_ref()
        .and_then(|digest| isolate.tokens.get(digest, worker_glue::seconds(started_ms)));
    if let Some(hit) = hit {
        facts.alg = Some(hit.value.alg);
        facts.kid.clone_from(&hit.value.kid);
        let keys = key_set(env, isolate, request_id, hit.value.kid.as_deref(), &facts).await?;
        // Only while the set it was verified with is still the one in use; else verify again.
        if hit.verified_with(&keys) {
            facts.sub = Some(hit.value.identity.sub.clone());
            facts.email_withheld = hit.value.email_withheld;
            facts.cached = true;
            return Ok(Verified {
                identity: Some(hit.value.identity),
                token: facts,
            });
        }
    }

    let token = UnverifiedToken::parse(credential.token(), &isolate.options)
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let alg = token.header().alg();
    facts.alg = Some(alg);
    facts.kid = token.header().kid().map(str::to_owned);
    let keys = key_set(env, isolate, request_id, token.header().kid(), &facts).await?;

    let (index, key) = token
        .select_key(&keys.jwks)
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let checked = token
        .check_signature_async(key, &WebCryptoVerifier::new(&keys.imported, index))
        .await
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let now_s = worker_glue::now_seconds();
    let verified = checked
        .validate_claims(&isolate.options, now_s)
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let claimed = Identity::from_claims(
        verified.claims(),
        isolate.config.roles_claim(),
        isolate.config.email_policy(),
    )
    .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let identity = claimed.identity;
    facts.email_withheld = claimed.email_withheld;
    if let Some(digest) = digest {
        let remembered = CachedToken {
            identity: identity.clone(),
            email_withheld: claimed.email_withheld,
            kid: facts.kid.clone(),
            alg,
        };
        let exp = verified.claims().exp();
        isolate.tokens.insert(digest, &keys, remembered, exp, now_s);
    }
    facts.sub = Some(identity.sub.clone());
    facts.verify_us = Some(
        worker_glue::now_ms()
            .saturating_sub(started_ms)
            .saturating_mul(1000),
    );
    Ok(Verified {
        identity: Some(identity),
        token: facts,
    })
}

/// The key set to check a token with (`kid` from the token): the isolate's cached set, or one
/// fetched now (`jwks-cache` decides). Its events go to the log.
async fn key_set(
    env: &Env,
    isolate: &Isolate,
    request_id: &str,
    kid: Option<&str>,
    facts: &TokenFacts,
) -> Result<Rc<KeySet>, Failure> {
    let fetch = KeyFetch::new(&isolate.config, env, isolate.cache.policy()).map_err(|problem| {
        worker_glue::log_event(request_id, "config_error", "server_misconfigured", &problem);
        fail(facts, Rejection::Misconfigured, "server_misconfigured")
    })?;
    let lookup = isolate
        .cache
        .get(
            &WorkerEnvironment,
            kid,
            |keys: &KeySet, kid| keys.jwks.contains_kid(kid),
            move || fetch.run(),
        )
        .await;
    for event in isolate.cache.drain_events() {
        worker_glue::log_event(request_id, "jwks_event", event.code(), &event.to_string());
    }
    lookup.map(|found| found.keys).map_err(|e: CacheError| {
        fail(
            facts,
            Rejection::JwksUnavailable {
                retry_after_seconds: e.retry_after_seconds(),
            },
            "jwks_unavailable",
        )
    })
}
