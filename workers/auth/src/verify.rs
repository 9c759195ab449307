//! The authentication step: credential → token → key → signature (WebCrypto) → claims →
//! identity. Each arrow is a `jose-jwt`, `jwks-cache` or `handoff` call; this file only
//! sequences them and records what the log line needs.

use crate::isolate::Isolate;
use crate::keys::{KeyFetch, KeySet, WorkerEnvironment};
use handoff::{
    extract_credential, Identity, JwsAlg, LogLineBuilder, Rejection, RequestCredentials,
};
use jose_jwt::UnverifiedToken;
use jwks_cache::CacheError;
use web_sys::Headers;
use webcrypto_verifier::WebCryptoVerifier;
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

/// What the log line may say about a token: never the token or its signature.
#[derive(Default, Clone)]
struct TokenFacts {
    kid: Option<String>,
    alg: Option<JwsAlg>,
    sub: Option<String>,
    verify_us: Option<u64>,
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
    let token = UnverifiedToken::parse(credential.token(), &isolate.options)
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    facts.alg = Some(token.header().alg());
    facts.kid = token.header().kid().map(str::to_owned);

    let fetch = KeyFetch::new(&isolate.config, env, isolate.cache.policy()).map_err(|problem| {
        worker_glue::log_event(request_id, "config_error", "server_misconfigured", &problem);
        fail(&facts, Rejection::Misconfigured, "server_misconfigured")
    })?;
    let lookup = isolate
        .cache
        .get(
            &WorkerEnvironment,
            token.header().kid(),
            |keys: &KeySet, kid| keys.jwks.contains_kid(kid),
            move || fetch.run(),
        )
        .await;
    for event in isolate.cache.drain_events() {
        worker_glue::log_event(request_id, "jwks_event", event.code(), &event.to_string());
    }
    let keys = lookup
        .map_err(|e: CacheError| {
            fail(
                &facts,
                Rejection::JwksUnavailable {
                    retry_after_seconds: e.retry_after_seconds(),
                },
                "jwks_unavailable",
            )
        })?
        .keys;

    let (index, key) = token
        .select_key(&keys.jwks)
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let checked = token
        .check_signature_async(key, &WebCryptoVerifier::new(&keys.imported, index))
        .await
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let verified = checked
        .validate_claims(&isolate.options, worker_glue::now_seconds())
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
    let identity = Identity::from_claims(verified.claims(), isolate.config.roles_claim())
        .map_err(|e| fail(&facts, Rejection::from(&e), e.code()))?;
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
