//! Reading and validating single variables; every failure names the variable.

use core::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// A configuration variable is missing or invalid.
///
/// Maps to HTTP 500 `server_misconfigured`; the message names the variable
/// and says how to fix it. Secret values are never echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    var: &'static str,
    problem: String,
}

impl ConfigError {
    pub(crate) fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }

    /// The variable at fault.
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// What is wrong with it and how to fix it.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "server_misconfigured"
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration variable {}: {}", self.var, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// A non-secret value, shortened and made printable, for error messages.
pub(crate) fn show(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if value.chars().count() > 64 {
        out.push('…');
    }
    format!("`{out}`")
}

/// Access to the Worker's variables; empty (or all-blank) values count as unset.
pub(crate) struct Env<F>(pub(crate) F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub(crate) fn optional(&self, var: &str) -> Option<String> {
        (self.0)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn required(&self, var: &'static str, hint: &str) -> Result<String, ConfigError> {
        self.optional(var)
            .ok_or_else(|| ConfigError::new(var, format!("is not set or empty; {hint}")))
    }

    /// An integer in `min..=max`, or `default` when unset.
    pub(crate) fn u64_in(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(raw) = self.optional(var) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                var,
                format!(
                    "{} is not a whole number between {min} and {max}; set it in that range or \
                     remove it to use the default ({default})",
                    show(&raw)
                ),
            )),
        }
    }

    /// `true` or `false` (any letter case), or `default` when unset.
    pub(crate) fn bool_or(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.optional(var) else {
            return Ok(default);
        };
        if raw.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if raw.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(ConfigError::new(
                var,
                format!(
                    "{} is not true or false; set it to one of them or remove it to use the \
                     default ({default})",
                    show(&raw)
                ),
            ))
        }
    }

    /// A comma-separated list (items trimmed, empty items dropped).
    pub(crate) fn list(&self, var: &'static str) -> Option<Vec<String>> {
        self.optional(var).map(|raw| split_list(&raw))
    }
}

pub(crate) fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Printable ASCII without spaces (issuers, audiences, claim names, typ).
pub(crate) fn check_word(var: &'static str, item: &str) -> Result<(), ConfigError> {
    if item.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ConfigError::new(
            var,
            format!(
                "item {} contains spaces, control or non-ASCII characters; \
                 use the exact value from your identity provider",
                show(item)
            ),
        ))
    }
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// An absolute URL with a host, no userinfo and no fragment.
pub(crate) fn parse_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new(
            var,
            format!(
                "{} is not an absolute URL ({e}); write it like https://host/path",
                show(raw)
            ),
        )
    })?;
    if url.host().is_none() {
        return Err(ConfigError::new(
            var,
            "has no host; write it like https://host/path",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            var,
            "must not contain user:password@; put credentials nowhere in the URL",
        ));
    }
    if url.fragment().is_some() {
        return Err(ConfigError::new(
            var,
            "must not contain a #fragment; remove it",
        ));
    }
    Ok(url)
}

/// `JWKS_URL`: https, or plain http only to a loopback host (local tests).
pub(crate) fn jwks_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = parse_url(var, raw)?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(ConfigError::new(
            var,
            format!(
                "{} must use https (plain http is allowed only for localhost, 127.0.0.0/8 or [::1])",
                show(raw)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_truncates_and_hides_controls() {
        assert_eq!(show("ab\ncd"), "`ab?cd`");
        let long = "x".repeat(100);
        assert_eq!(show(&long), format!("`{}…`", "x".repeat(64)));
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "http://localhost:8787/jwks",
            "http://LOCALHOST/jwks",
            "http://127.0.0.1/jwks",
            "http://127.1.2.3:9000/jwks",
            "http://[::1]:8080/jwks",
        ] {
            assert!(jwks_url("JWKS_URL", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://[::2]/jwks",
            "http://localhost.example.com/jwks",
            "ftp://localhost/jwks",
        ] {
            let err = jwks_url("JWKS_URL", bad).unwrap_err();
            assert_eq!(err.var(), "JWKS_URL");
            assert!(err.problem().contains("https"), "{err}");
        }
    }

    #[test]
    fn url_shape_errors() {
        for (raw, needle) in [
            ("not a url", "absolute URL"),
            ("https://user:pw@idp.example/jwks", "user:password"),
            ("https://user@idp.example/jwks", "user:password"),
            ("https://idp.example/jwks#x", "fragment"),
            ("/relative/jwks", "absolute URL"),
        ] {
            let err = jwks_url("JWKS_URL", raw).unwrap_err();
            assert!(err.problem().contains(needle), "{raw}: {err}");
            assert_eq!(err.code(), "server_misconfigured");
        }
    }
}
