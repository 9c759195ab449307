//! Per-isolate state: the configuration (read once from `[vars]`/secrets), the rule table, the
//! JWKS cache and the verified tokens, shared by all requests of the isolate.

use crate::keys::KeySet;
use edge_auth::{AuthConfig, CachedToken, ConfigError, ProtectedResourceMetadata, Rules};
use jwks_cache::{CachePolicy, JwksCache, VerifiedTokens};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::Env;
use worker_glue::{per_isolate, IsolateCell};

/// The rule table the Worker was built with: the authz Worker's, so the auth Worker refuses
/// at the first hop exactly what the authz Worker would refuse.
const RULES: &str = include_str!(concat!(env!("OUT_DIR"), "/rules.toml"));

/// What every request of this isolate shares.
pub(crate) struct Isolate {
    pub(crate) config: AuthConfig,
    pub(crate) rules: Rules,
    /// The protected-resource metadata, built once from the configuration and the table.
    pub(crate) metadata: ProtectedResourceMetadata,
    pub(crate) cache: JwksCache<KeySet>,
    pub(crate) tokens: VerifiedTokens<KeySet, CachedToken>,
}

thread_local! {
    static ISOLATE: IsolateCell<Isolate> = const { RefCell::new(None) };
}

impl Isolate {
    /// The isolate's state, built on first use (see [`per_isolate`]).
    pub(crate) fn get(env: &Env) -> Result<Rc<Isolate>, String> {
        per_isolate(&ISOLATE, || Isolate::build(env))
    }

    fn build(env: &Env) -> Result<Isolate, String> {
        let config = AuthConfig::from_env(|name| worker_glue::read_var(env, name))
            .map_err(|e: ConfigError| e.to_string())?;
        let policy = CachePolicy {
            unknown_kid_cooldown: Duration::from_secs(config.jwks_cooldown_seconds()),
            max_stale: Duration::from_secs(config.jwks_max_stale_seconds()),
            ..CachePolicy::default()
        };
        let rules = Rules::compile(RULES)?;
        Ok(Isolate {
            metadata: ProtectedResourceMetadata::new(&config, rules.table()),
            rules,
            tokens: VerifiedTokens::new(config.token_cache_entries()),
            config,
            cache: JwksCache::new(policy),
        })
    }
}
