//! HTTP request methods: the standard ones rules may name, and any other valid token.

use std::fmt;

/// Longest extension method accepted (no real method comes close).
const MAX_METHOD_LEN: usize = 32;

/// An HTTP request method. Methods are case-sensitive (RFC 9110): `get` is not `GET`.
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
    /// Any other valid method token; only rules without `methods` match it.
    Other(ExtensionMethod),
}

/// A valid method token that is not one of the standard methods rules may name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionMethod(String);

impl ExtensionMethod {
    /// The method token as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a request method was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MethodError {
    /// Empty, too long, or containing a character not allowed in an HTTP token.
    InvalidToken,
}

impl MethodError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_method",
        }
    }
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidToken => f.write_str(
                "the request method is not a valid HTTP token (1-32 visible ASCII characters, no separators)",
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

impl Method {
    /// Parses a request method; any valid HTTP token is accepted.
    pub fn parse(s: &str) -> Result<Method, MethodError> {
        if let Some(m) = Self::standard(s) {
            return Ok(m);
        }
        if s.is_empty() || s.len() > MAX_METHOD_LEN || !s.bytes().all(is_tchar) {
            return Err(MethodError::InvalidToken);
        }
        Ok(Method::Other(ExtensionMethod(s.to_owned())))
    }

    /// The standard method spelled exactly `s`, if any.
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
    fn standard_methods_parse_exactly() {
        assert_eq!(Method::parse("GET"), Ok(Method::Get));
        assert_eq!(Method::parse("OPTIONS"), Ok(Method::Options));
        let lower = Method::parse("get").unwrap();
        assert!(matches!(lower, Method::Other(ref m) if m.as_str() == "get"));
        assert!(matches!(Method::parse("PROPFIND"), Ok(Method::Other(_))));
    }

    #[test]
    fn invalid_tokens_are_rejected() {
        for bad in ["", "GE T", "GET\r\n", "G(ET", "GÉT", &"A".repeat(33)] {
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
