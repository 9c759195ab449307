//! HTTP request methods: the standard ones rules may name, the ones the edge never forwards,
//! and any other valid token.

use std::fmt;

/// Longest extension method accepted (no real method comes close).
const MAX_METHOD_LEN: usize = 32;

/// An HTTP request method, as the edge decides on it and forwards it.
///
/// The methods RFC 9110 defines are recognized in any letter case (`get`, `pAtCh`) and always
/// forwarded upper-case: an origin that folds case would otherwise run `patch` as PATCH
/// although no PATCH rule admitted it. Extension methods stay byte-exact (RFC 9110: methods are
/// case-sensitive). TRACE, TRACK and CONNECT are never admitted ([`MethodError::NeverForwarded`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD (matched as HEAD: a GET rule does not admit it unless listed)
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
    /// Any other valid method token, exactly as received; only rules without `methods` match it.
    Other(ExtensionMethod),
}

/// A valid method token that is not one of the methods RFC 9110 defines (and not TRACK).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionMethod(String);

impl ExtensionMethod {
    /// The method token as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a request method was rejected. Exhaustive, so every Worker's status mapping must
/// handle a new kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodError {
    /// Empty, too long, or containing a character not allowed in an HTTP token.
    InvalidToken,
    /// TRACE, TRACK or CONNECT, in any letter case: refused whatever the rule table says
    /// (answer 405).
    NeverForwarded,
}

impl MethodError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_method",
            Self::NeverForwarded => "method_never_forwarded",
        }
    }
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidToken => f.write_str(
                "the request method is not a valid HTTP token (1-32 visible ASCII characters, no separators)",
            ),
            Self::NeverForwarded => f.write_str(
                "the edge never forwards TRACE, TRACK or CONNECT (they echo requests back or open tunnels); use another method",
            ),
        }
    }
}

impl std::error::Error for MethodError {}

/// `tchar` from RFC 9110 section 5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Methods refused in any letter case: the Fetch standard's forbidden methods. TRACE echoes
/// the request back (cross-site tracing: it can expose credential headers to a script), TRACK is IIS's TRACE,
/// CONNECT asks for a tunnel a Worker cannot open.
const NEVER_FORWARDED: [&str; 3] = ["TRACE", "TRACK", "CONNECT"];

impl Method {
    /// Parses a request method: any valid HTTP token, the RFC 9110 methods in any letter case
    /// (normalized to upper case), TRACE, TRACK and CONNECT refused in any letter case.
    pub fn parse(s: &str) -> Result<Method, MethodError> {
        if let Some(m) = Self::standard(s) {
            return Ok(m);
        }
        if s.is_empty() || s.len() > MAX_METHOD_LEN || !s.bytes().all(is_tchar) {
            return Err(MethodError::InvalidToken);
        }
        if NEVER_FORWARDED.iter().any(|m| m.eq_ignore_ascii_case(s)) {
            return Err(MethodError::NeverForwarded);
        }
        if let Some(m) = ALL.iter().find(|m| m.as_str().eq_ignore_ascii_case(s)) {
            return Ok(m.clone());
        }
        Ok(Method::Other(ExtensionMethod(s.to_owned())))
    }

    /// The standard method spelled exactly `s` (upper case), if any.
    pub(crate) fn standard(s: &str) -> Option<Method> {
        Some(match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }

    /// The method token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Other(m) => m.as_str(),
        }
    }

    /// Bit for the method set of a rule; `None` for extension methods.
    pub(crate) fn bit(&self) -> Option<u8> {
        Some(match self {
            Method::Get => 1,
            Method::Head => 1 << 1,
            Method::Post => 1 << 2,
            Method::Put => 1 << 3,
            Method::Delete => 1 << 4,
            Method::Patch => 1 << 5,
            Method::Options => 1 << 6,
            Method::Other(_) => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of methods a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodSet {
    /// No `methods` key: every method, extension methods included.
    Any,
    /// Bit set of standard methods.
    Only(u8),
}

impl MethodSet {
    pub(crate) fn contains(self, m: &Method) -> bool {
        match self {
            MethodSet::Any => true,
            MethodSet::Only(bits) => m.bit().is_some_and(|b| bits & b != 0),
        }
    }

    /// Whether every method in `other` is also in `self`.
    pub(crate) fn covers(self, other: MethodSet) -> bool {
        match (self, other) {
            (MethodSet::Any, _) => true,
            (MethodSet::Only(_), MethodSet::Any) => false,
            (MethodSet::Only(a), MethodSet::Only(b)) => b & !a == 0,
        }
    }

    /// Whether some method is in both sets.
    pub(crate) fn intersects(self, other: MethodSet) -> bool {
        match (self, other) {
            (MethodSet::Only(a), MethodSet::Only(b)) => a & b != 0,
            _ => true,
        }
    }

    /// The methods in both sets.
    pub(crate) fn intersection(self, other: MethodSet) -> MethodSet {
        match (self, other) {
            (MethodSet::Any, x) | (x, MethodSet::Any) => x,
            (MethodSet::Only(a), MethodSet::Only(b)) => MethodSet::Only(a & b),
        }
    }

    /// Names of the methods in the set (for messages).
    pub(crate) fn describe(self) -> String {
        match self {
            MethodSet::Any => "any method".to_owned(),
            MethodSet::Only(bits) => ALL
                .iter()
                .filter(|m| m.bit().is_some_and(|b| bits & b != 0))
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

const ALL: [Method; 7] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Patch,
    Method::Options,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_parse_in_any_case_and_forward_upper_case() {
        let cases = [
            ("GET", Method::Get),
            ("get", Method::Get),
            ("Get", Method::Get),
            ("HEAD", Method::Head),
            ("head", Method::Head),
            ("POST", Method::Post),
            ("post", Method::Post),
            ("PUT", Method::Put),
            ("pUt", Method::Put),
            ("DELETE", Method::Delete),
            ("delete", Method::Delete),
            ("PATCH", Method::Patch),
            ("patch", Method::Patch),
            ("pAtCh", Method::Patch),
            ("OPTIONS", Method::Options),
            ("options", Method::Options),
        ];
        for (raw, expected) in cases {
            let parsed = Method::parse(raw).unwrap();
            assert_eq!(parsed, expected, "{raw}");
            assert_eq!(parsed.as_str(), raw.to_ascii_uppercase(), "{raw}");
        }
    }

    #[test]
    fn trace_track_and_connect_are_never_forwarded_in_any_case() {
        for raw in [
            "TRACE", "trace", "Trace", "tRaCe", "TRACK", "track", "Track", "CONNECT", "connect",
            "Connect",
        ] {
            assert_eq!(
                Method::parse(raw),
                Err(MethodError::NeverForwarded),
                "{raw}"
            );
        }
        assert_eq!(MethodError::NeverForwarded.code(), "method_never_forwarded");
        // Near misses are ordinary extension methods.
        for raw in ["TRACES", "TRAC", "CONNECTX", "XTRACE"] {
            assert!(
                matches!(Method::parse(raw), Ok(Method::Other(ref m)) if m.as_str() == raw),
                "{raw}"
            );
        }
    }

    #[test]
    fn extension_methods_stay_byte_exact() {
        for raw in [
            "PROPFIND", "propfind", "PropFind", "PURGE", "purge", "M-SEARCH", "GETX",
        ] {
            let parsed = Method::parse(raw).unwrap();
            assert!(
                matches!(parsed, Method::Other(ref m) if m.as_str() == raw),
                "{raw}: {parsed:?}"
            );
            assert_eq!(parsed.as_str(), raw);
        }
        assert_ne!(Method::parse("propfind"), Method::parse("PROPFIND"));
    }

    #[test]
    fn invalid_tokens_are_rejected() {
        for bad in [
            "",
            "GE T",
            "GET\r\n",
            "G(ET",
            "GÉT",
            "géT",
            "TRACE ",
            " get",
            &"A".repeat(33),
        ] {
            assert_eq!(
                Method::parse(bad),
                Err(MethodError::InvalidToken),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn method_sets() {
        let get_head = MethodSet::Only(1 | 2);
        assert!(get_head.contains(&Method::Head));
        assert!(!get_head.contains(&Method::Post));
        assert!(!get_head.contains(&Method::parse("PROPFIND").unwrap()));
        assert!(MethodSet::Any.contains(&Method::parse("PROPFIND").unwrap()));
        assert!(get_head.covers(MethodSet::Only(1)));
        assert!(!get_head.covers(MethodSet::Only(1 | 4)));
        assert!(!get_head.covers(MethodSet::Any));
        assert_eq!(get_head.describe(), "GET, HEAD");
    }
}
