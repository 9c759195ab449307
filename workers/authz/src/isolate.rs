//! Per-isolate state: the configuration and the rule table compiled into this Worker.

use edge_auth::AuthzConfig;
use rule_table::RuleTable;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;
use worker_glue::{per_isolate, IsolateCell};

/// The rule table users edit; `build.rs` has already refused it if it has an error.
const RULES: &str = include_str!("../rules.toml");

pub(crate) struct Isolate {
    pub(crate) config: AuthzConfig,
    pub(crate) table: RuleTable,
}

thread_local! {
    static ISOLATE: IsolateCell<Isolate> = const { RefCell::new(None) };
}

impl Isolate {
    pub(crate) fn get(env: &Env) -> Result<Rc<Isolate>, String> {
        per_isolate(&ISOLATE, || Isolate::build(env))
    }

    fn build(env: &Env) -> Result<Isolate, String> {
        let config = AuthzConfig::from_env(|name| worker_glue::read_var(env, name))
            .map_err(|e| e.to_string())?;
        // Validated at build time; should it still fail, every request is refused (500).
        let table = RuleTable::from_toml(RULES)
            .map_err(|e| format!("rules.toml: {e}"))?
            .table;
        Ok(Isolate { config, table })
    }
}
