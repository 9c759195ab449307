//! The parts of a request URL as the runtime serialized it, without parsing it again.
//!
//! `Request.url` in a Worker is already a WHATWG-serialized absolute URL: its scheme and host
//! are canonical, its path starts with `/`, and `?` and `#` are percent-encoded inside the
//! path. So the path starts at the first `/` after `://` and ends at the first `?` or `#`.
//! Splitting the string is exact for such input and costs a fraction of a full parse inside a
//! Worker; anything else is refused rather than guessed at.

/// A request URL split into origin, path and query (the fragment is dropped: it never
/// reaches a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'u> {
    origin: &'u str,
    target: &'u str,
    path: &'u str,
    query: Option<&'u str>,
}

impl<'u> RequestUrl<'u> {
    /// Splits a serialized absolute `http(s)` URL; `None` for anything else.
    pub fn split(url: &'u str) -> Option<Self> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let scheme_len = url.len() - rest.len();
        let authority_len = rest.find('/')?;
        if authority_len == 0 {
            return None;
        }
        let (origin, tail) = url.split_at(scheme_len + authority_len);
        let tail = match tail.find('#') {
            Some(fragment) => tail.get(..fragment)?,
            None => tail,
        };
        let (path, query) = match tail.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (tail, None),
        };
        Some(RequestUrl {
            origin,
            target: tail,
            path,
            query,
        })
    }

    /// `scheme://host[:port]`, no trailing slash.
    pub fn origin(&self) -> &'u str {
        self.origin
    }

    /// The path, starting with `/`, exactly as serialized (still percent-encoded).
    pub fn path(&self) -> &'u str {
        self.path
    }

    /// The path and query exactly as serialized, `?` included when there is one: `/a` and
    /// `/a?` differ, as they are different requests.
    pub fn target(&self) -> &'u str {
        self.target
    }

    /// The query without its `?` (`Some("")` for a bare `?`).
    pub fn query(&self) -> Option<&'u str> {
        self.query
    }

    /// `path` then `?query` when there is one (no fragment).
    pub fn path_and_query(&self, path: &str) -> String {
        match self.query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_origin_path_and_query() {
        let u = RequestUrl::split("https://api.example:8443/a/b%20c?x=1&y=%3F#frag").unwrap();
        assert_eq!(u.origin(), "https://api.example:8443");
        assert_eq!(u.path(), "/a/b%20c");
        assert_eq!(u.query(), Some("x=1&y=%3F"));
        assert_eq!(u.path_and_query("/n"), "/n?x=1&y=%3F");
        assert_eq!(u.target(), "/a/b%20c?x=1&y=%3F");

        let u = RequestUrl::split("http://127.0.0.1/").unwrap();
        assert_eq!(
            (u.origin(), u.path(), u.query()),
            ("http://127.0.0.1", "/", None)
        );
        assert_eq!(u.path_and_query("/"), "/");

        let u = RequestUrl::split("http://h/p?").unwrap();
        assert_eq!((u.query(), u.target()), (Some(""), "/p?"));
        let u = RequestUrl::split("http://h/p#x?y").unwrap();
        assert_eq!((u.path(), u.query(), u.target()), ("/p", None, "/p"));
    }

    #[test]
    fn refuses_what_the_runtime_never_serializes() {
        for raw in [
            "",
            "/relative",
            "ftp://h/x",
            "https://",
            "https:///x",
            "https://h",
            "h/x",
        ] {
            assert_eq!(RequestUrl::split(raw), None, "{raw}");
        }
    }

    proptest! {
        /// For every URL the reference parser serializes, splitting agrees with it.
        #[test]
        fn agrees_with_the_whatwg_parser(
            host in "[a-z]{1,8}(\\.[a-z]{1,5}){0,2}",
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9%._~!$&'()*+,;=:@?#\\[\\] -]{0,8}){0,4}",
            query in proptest::option::of("[a-zA-Z0-9%=&/?:@ #-]{0,12}"),
            https in any::<bool>(),
        ) {
            let scheme = if https { "https" } else { "http" };
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            let raw = format!("{scheme}://{host}{port}{path}{query}");
            let Ok(parsed) = url::Url::parse(&raw) else { return Ok(()) };
            let serialized = parsed.as_str().to_owned();
            let split = RequestUrl::split(&serialized).expect("a serialized URL splits");
            prop_assert_eq!(split.origin(), parsed.origin().ascii_serialization());
            prop_assert_eq!(split.path(), parsed.path());
            prop_assert_eq!(split.query(), parsed.query());
            let target = match parsed.query() {
                Some(query) => format!("{}?{query}", parsed.path()),
                None => parsed.path().to_owned(),
            };
            prop_assert_eq!(split.target(), target);
        }
    }
}
