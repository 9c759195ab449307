//! Per-isolate state: the configuration (with the gateway's JWK Set, made once), the rule table
//! compiled into this Worker, and the imported assertion key.

use edge_auth::{AuthzConfig, Rules};
use jose_jwt_webcrypto::WebCryptoSigner;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;
use worker_glue::{per_isolate, IsolateCell};

/// The rule table the Worker was built with (`build.rs` has already refused it if it has an
/// error); the auth Worker embeds the same one.
const RULES: &str = include_str!(concat!(env!("OUT_DIR"), "/rules.toml"));

pub(crate) struct Isolate {
    pub(crate) config: AuthzConfig,
    pub(crate) rules: Rules,
    /// The assertion key, imported into WebCrypto on first use and kept for the isolate.
    pub(crate) signer: WebCryptoSigner,
}

thread_local! {
    static ISOLATE: IsolateCell<Isolate> = const { RefCell::new(None) };
}

impl Isolate {
    pub(crate) fn get(env: &Env) -> Result<Rc<Isolate>, String> {
        per_isolate(&ISOLATE, || Isolate::build(env))
    }

    fn build(env: &Env) -> Result<Isolate, String> {
        let read = |name: &str| worker_glue::read_var(env, name);
        let rules = Rules::compile(RULES)?;
        // Each upstream's url_var is read once; an invalid one refuses only its routes.
        let config = AuthzConfig::from_env(read)
            .map_err(|e| e.to_string())?
            .with_upstreams(rules.table(), read);
        Ok(Isolate {
            config,
            rules,
            signer: WebCryptoSigner::new(),
        })
    }
}
