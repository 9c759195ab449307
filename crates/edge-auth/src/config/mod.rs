//! What both Workers' configurations share: reading variables and secrets, the context key,
//! the realm, the stripped-header list, and the one error type naming the variable.
//!
//! Pure: the Worker passes a lookup over `env` (vars and secrets). A missing
//! required variable is always an error, never a permissive default. Each Worker's own
//! configuration lives with its pipeline (`authn::config`, `authz::config`).

pub(crate) mod parse;

pub use parse::ConfigError;

use crate::ContextKey;
use parse::{check_word, show, Env};

/// Realm when `REALM` is not set.
pub const DEFAULT_REALM: &str = "edge-auth";
/// Upper bound for `CLOCK_SKEW_SECONDS`.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

const SECRET_HINT: &str = "set it as a secret on both Workers with \
    `openssl rand -hex 32 | wrangler secret put CONTEXT_SECRET`";

pub(crate) fn context_key<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<ContextKey, ConfigError> {
    // Trimmed like every value (both Workers parse it the same way); the
    // value itself never appears in an error, only the length rule.
    let secret = env.required("CONTEXT_SECRET", SECRET_HINT)?;
    ContextKey::new(&secret).map_err(|e| ConfigError::new("CONTEXT_SECRET", e.to_string()))
}

pub(crate) fn realm<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<String, ConfigError> {
    let realm = env
        .optional("REALM")
        .unwrap_or_else(|| DEFAULT_REALM.to_owned());
    let ok = realm.len() <= 64
        && realm
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    if ok {
        Ok(realm)
    } else {
        Err(ConfigError::new(
            "REALM",
            format!(
                "{} must be at most 64 printable ASCII characters without `\"` or `\\`",
                show(&realm)
            ),
        ))
    }
}

/// `RESOURCE`, read the same way by both Workers (each renders the same challenges).
pub(crate) fn resource<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<crate::Resource>, ConfigError> {
    env.optional("RESOURCE")
        .map(|raw| crate::Resource::parse("RESOURCE", &raw))
        .transpose()
}

pub(crate) fn stripped_headers<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Vec<String>, ConfigError> {
    let list = env.list("EXTRA_STRIPPED_HEADERS").unwrap_or_default();
    list.into_iter()
        .map(|name| {
            if crate::is_header_name(&name) {
                Ok(name.to_ascii_lowercase())
            } else {
                Err(ConfigError::new(
                    "EXTRA_STRIPPED_HEADERS",
                    format!("{} is not a valid header name; list names like X-Tenant-ID, comma-separated", show(&name)),
                ))
            }
        })
        .collect()
}

pub(crate) fn word_list(var: &'static str, list: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if list.is_empty() {
        return Err(ConfigError::new(
            var,
            "has no values; list at least one (comma-separated)",
        ));
    }
    for item in &list {
        check_word(var, item)?;
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
