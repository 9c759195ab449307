//! `ORIGIN_URL`: where the authz Worker sends allowed requests.

use url::Url;

use crate::config::parse::{parse_url, show};
use crate::config::ConfigError;

/// An origin (`scheme://host[:port]`) with no path, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginUrl {
    /// `scheme://host[:port]`, no trailing slash.
    base: String,
}

impl OriginUrl {
    pub(crate) fn parse(var: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let url: Url = parse_url(var, raw)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                var,
                format!("{} must be an http:// or https:// URL", show(raw)),
            ));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(ConfigError::new(
                var,
                format!(
                    "{} must not have a path or query; set only scheme://host[:port] \
                     (the request's own path is appended)",
                    show(raw)
                ),
            ));
        }
        Ok(Self {
            base: url.origin().ascii_serialization(),
        })
    }

    /// `scheme://host[:port]`, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The URL to fetch for an already normalized `path_and_query` (which
    /// must start with `/`). The origin is prefixed textually, so a path like
    /// `//other.host/` stays a path on this origin instead of becoming a host.
    /// `None` for anything that is not printable ASCII or holds a `#`.
    pub fn target(&self, path_and_query: &str) -> Option<String> {
        join_origin(&self.base, path_and_query)
    }
}

/// `origin` (`scheme://host[:port]`, as serialized) followed textually by an already normalized
/// `path_and_query`; `None` unless it starts with `/` and is printable ASCII without `#`, so a
/// URL parser has nothing to re-encode and the origin receives exactly the path the rules
/// matched. [`OriginUrl::target`] and a Worker's own origin both go through here.
pub fn join_origin(origin: &str, path_and_query: &str) -> Option<String> {
    let printable = path_and_query
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'#');
    (path_and_query.starts_with('/') && printable).then(|| format!("{origin}{path_and_query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<OriginUrl, ConfigError> {
        OriginUrl::parse("ORIGIN_URL", raw)
    }

    #[test]
    fn accepts_bare_origins() {
        assert_eq!(
            parse("https://api.internal.example").unwrap().as_str(),
            "https://api.internal.example"
        );
        assert_eq!(
            parse("https://api.example/").unwrap().as_str(),
            "https://api.example"
        );
        assert_eq!(
            parse("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080"
        );
        // Default ports are dropped by the URL standard.
        assert_eq!(
            parse("https://API.example:443").unwrap().as_str(),
            "https://api.example"
        );
    }

    #[test]
    fn rejects_paths_queries_fragments_userinfo_and_other_schemes() {
        for (raw, needle) in [
            ("https://api.example/v1", "path or query"),
            ("https://api.example/?a=1", "path or query"),
            ("https://api.example/#x", "fragment"),
            ("https://u:p@api.example", "user:password"),
            ("ftp://api.example", "http"),
            ("api.example", "absolute URL"),
        ] {
            let err = parse(raw).unwrap_err();
            assert_eq!(err.var(), "ORIGIN_URL");
            assert!(err.problem().contains(needle), "{raw}: {err}");
        }
    }

    #[test]
    fn target_keeps_the_origin_host() {
        let o = parse("https://api.example:8443").unwrap();
        assert_eq!(
            o.target("/items?x=1").as_deref(),
            Some("https://api.example:8443/items?x=1")
        );
        assert_eq!(
            o.target("//evil.example/x").as_deref(),
            Some("https://api.example:8443//evil.example/x")
        );
        assert_eq!(o.target("items"), None);
        assert_eq!(o.target(""), None);
        assert_eq!(o.target("/a b"), None);
        assert_eq!(o.target("/a#b"), None);
        assert_eq!(o.target("/a\r\n"), None);
    }

    #[test]
    fn join_origin_refuses_what_a_parser_would_re_encode() {
        let own = "https://api.example";
        assert_eq!(
            join_origin(own, "/a/b?x=1").as_deref(),
            Some("https://api.example/a/b?x=1")
        );
        for refused in ["", "a", "/a b", "/a#b", "/caf\u{e9}", "/a\tb"] {
            assert_eq!(join_origin(own, refused), None, "{refused:?}");
        }
    }
}
