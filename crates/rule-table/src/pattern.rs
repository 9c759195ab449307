//! Compiled path patterns: pre-split segments, literals folded at compile time.

use crate::path::NormalizedPath;
use std::fmt;

/// One segment of a rule's path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// Exact text (lower-cased when the table is case-insensitive).
    Literal(Box<str>),
    /// `{name}`: exactly one segment, captured.
    Param(Box<str>),
    /// `*`: exactly one segment, not captured.
    Any,
    /// `**` (last only): this path and everything below it.
    Rest,
}

/// A validated path pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    source: Box<str>,
    segs: Vec<Seg>,
    /// Segments before a final `**` (all of them if there is none).
    fixed: usize,
    has_rest: bool,
    case_sensitive: bool,
}

/// What is wrong with a rule's `path` (several may be reported for one path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternProblem {
    /// Does not start with `/`.
    NotAbsolute,
    /// Contains `//`.
    EmptySegment,
    /// Ends with `/`.
    TrailingSlash,
    /// Contains a `.` or `..` segment.
    DotSegment,
    /// Contains `%`.
    Percent,
    /// Contains a character that a normalized path segment cannot hold.
    InvalidChar(char),
    /// `**` before the last segment.
    RestNotLast,
    /// `*` mixed with other text in one segment.
    MixedWildcard(String),
    /// A malformed `{param}` segment.
    BadParam(String),
    /// The same `{param}` twice.
    DuplicateParam(String),
    /// Upper-case literal in a case-insensitive table.
    Uppercase(String),
    /// Longer than 8 KiB.
    TooLong,
}

impl fmt::Display for PatternProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAbsolute => write!(f, "must start with '/'; write it as an absolute path like \"/api/**\""),
            Self::EmptySegment => write!(f, "contains '//' (an empty segment); request paths are normalized so it could never match: use a single '/'"),
            Self::TrailingSlash => write!(f, "ends with '/'; trailing slashes are ignored when matching, so remove it"),
            Self::DotSegment => write!(f, "contains a '.' or '..' segment; request paths have these removed, so write the resolved path"),
            Self::Percent => write!(f, "contains '%'; request segments are compared decoded, so write the character itself"),
            Self::InvalidChar(c) => write!(f, "contains {c:?}, which cannot appear in a normalized path segment; remove it"),
            Self::RestNotLast => write!(f, "uses '**' before the last segment; '**' is only allowed as the final segment (\"/admin/**\")"),
            Self::MixedWildcard(s) => write!(f, "has segment {s:?} mixing '*' with other text; use '*' or '**' as a whole segment, or a {{param}}"),
            Self::BadParam(s) => write!(f, "has malformed parameter segment {s:?}; write a whole segment as {{name}} with a name of letters, digits and '_'"),
            Self::DuplicateParam(p) => write!(f, "uses parameter {{{p}}} twice; give each parameter a distinct name"),
            Self::Uppercase(s) => write!(f, "has upper-case literal {s:?} but the table is case-insensitive; write it in lower case (set case_sensitive = true to match case exactly)"),
            Self::TooLong => write!(f, "is longer than 8 KiB; shorten it"),
        }
    }
}

fn is_literal_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
        )
}

fn is_param_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Pattern {
    /// Parses and validates a pattern; reports every problem found.
    pub(crate) fn parse(src: &str, case_sensitive: bool) -> Result<Pattern, Vec<PatternProblem>> {
        let mut problems = Vec::new();
        if src.len() > crate::path::MAX_PATH_LEN {
            return Err(vec![PatternProblem::TooLong]);
        }
        let Some(rest) = src.strip_prefix('/') else {
            return Err(vec![PatternProblem::NotAbsolute]);
        };
        let raw: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let last = raw.len().saturating_sub(1);
        let mut segs = Vec::with_capacity(raw.len());
        let mut params: Vec<&str> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            match *s {
                "" if i == last => problems.push(PatternProblem::TrailingSlash),
                "" => problems.push(PatternProblem::EmptySegment),
                "." | ".." => problems.push(PatternProblem::DotSegment),
                "**" if i != last => problems.push(PatternProblem::RestNotLast),
                "**" => segs.push(Seg::Rest),
                "*" => segs.push(Seg::Any),
                _ if s.contains('*') => {
                    problems.push(PatternProblem::MixedWildcard((*s).to_owned()))
                }
                _ if s.starts_with('{') || s.contains(['{', '}']) => {
                    match s.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                        Some(name) if is_param_name(name) => {
                            if params.contains(&name) {
                                problems.push(PatternProblem::DuplicateParam(name.to_owned()));
                            }
                            params.push(name);
                            segs.push(Seg::Param(name.into()));
                        }
                        _ => problems.push(PatternProblem::BadParam((*s).to_owned())),
                    }
                }
                _ => match literal(s, case_sensitive) {
                    Ok(lit) => segs.push(Seg::Literal(lit.into())),
                    Err(p) => problems.push(p),
                },
            }
        }
        if problems.is_empty() {
            let has_rest = matches!(segs.last(), Some(Seg::Rest));
            Ok(Pattern {
                source: src.into(),
                fixed: segs.len().saturating_sub(usize::from(has_rest)),
                has_rest,
                segs,
                case_sensitive,
            })
        } else {
            problems.dedup();
            Err(problems)
        }
    }

    /// The pattern as written in the table.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// How many segments the pattern begins with that are literals (`/ai/v1/**`: 2, `/**`
    /// and `/{x}/**`: 0): what `strip_prefix` may drop.
    pub(crate) fn literal_prefix(&self) -> usize {
        self.segs
            .iter()
            .take_while(|s| matches!(s, Seg::Literal(_)))
            .count()
    }

    /// Index of the segment captured by `{name}`.
    pub(crate) fn param_index(&self, name: &str) -> Option<usize> {
        self.segs
            .iter()
            .position(|s| matches!(s, Seg::Param(p) if &**p == name))
    }

    /// The first segment when it is a literal: only paths beginning with it can match.
    pub(crate) fn first_literal(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Literal(literal)) if self.fixed > 0 => Some(literal),
            _ => None,
        }
    }

    /// Whether the (normalized, decoded) request path matches.
    pub(crate) fn matches(&self, path: &NormalizedPath) -> bool {
        // Length bounds first: most rules are rejected here without touching text.
        let n = path.segment_count();
        if n < self.fixed || (!self.has_rest && n != self.fixed) {
            return false;
        }
        self.segs.iter().zip(path.segments()).all(|(p, s)| match p {
            Seg::Literal(l) if self.case_sensitive => **l == *s,
            Seg::Literal(l) => l.eq_ignore_ascii_case(s),
            Seg::Param(_) | Seg::Any | Seg::Rest => true,
        })
    }

    /// Whether every path this pattern's `other` matches is also matched by `self`.
    pub(crate) fn covers(&self, other: &Pattern) -> bool {
        let mut theirs = other.segs.iter();
        for mine in &self.segs {
            if *mine == Seg::Rest {
                return true;
            }
            let Some(t) = theirs.next() else {
                return false;
            };
            let ok = match (mine, t) {
                (_, Seg::Rest) => false,
                (Seg::Param(_) | Seg::Any, _) => true,
                (Seg::Literal(a), Seg::Literal(b)) if self.case_sensitive => a == b,
                (Seg::Literal(a), Seg::Literal(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        theirs.next().is_none()
    }
}

fn literal(s: &str, case_sensitive: bool) -> Result<String, PatternProblem> {
    if let Some(c) = s
        .chars()
        .find(|&c| !c.is_ascii() || !is_literal_char(c as u8))
    {
        return Err(if c == '%' {
            PatternProblem::Percent
        } else {
            PatternProblem::InvalidChar(c)
        });
    }
    if !case_sensitive && s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(PatternProblem::Uppercase(s.to_owned()));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::normalize_path;

    fn pat(s: &str) -> Pattern {
        Pattern::parse(s, false).unwrap()
    }
    fn m(p: &str, path: &str) -> bool {
        pat(p).matches(&normalize_path(path).unwrap())
    }

    #[test]
    fn matching() {
        assert!(m("/admin/**", "/admin"));
        assert!(m("/admin/**", "/admin/"));
        assert!(m("/admin/**", "/admin/x/y"));
        assert!(m("/admin/**", "/ADMIN/x"));
        assert!(!m("/admin/**", "/administrator"));
        assert!(m("/**", "/"));
        assert!(m("/", "/"));
        assert!(!m("/", "/a"));
        assert!(m("/profile/{id}", "/profile/42"));
        assert!(m("/profile/{id}", "/profile/42/"));
        assert!(!m("/profile/{id}", "/profile/"));
        assert!(!m("/profile/{id}", "/profile/42/x"));
        assert!(m("/a/*/c", "/a/b/c"));
        assert!(m("/health", "/health/"));
        assert!(m("/caf", "/%63af"));
    }

    #[test]
    fn case_sensitive_literals() {
        let p = Pattern::parse("/Admin", true).unwrap();
        assert!(p.matches(&normalize_path("/Admin").unwrap()));
        assert!(!p.matches(&normalize_path("/admin").unwrap()));
    }

    #[test]
    fn problems_are_all_reported() {
        let e = Pattern::parse("/a//b/../**/x*/{id/{p}/{p}/Up/%41/", false).unwrap_err();
        assert_eq!(
            e,
            vec![
                PatternProblem::EmptySegment,
                PatternProblem::DotSegment,
                PatternProblem::RestNotLast,
                PatternProblem::MixedWildcard("x*".into()),
                PatternProblem::BadParam("{id".into()),
                PatternProblem::DuplicateParam("p".into()),
                PatternProblem::Uppercase("Up".into()),
                PatternProblem::Percent,
                PatternProblem::TrailingSlash,
            ]
        );
        assert_eq!(
            Pattern::parse("admin", false).unwrap_err(),
            vec![PatternProblem::NotAbsolute]
        );
        assert_eq!(
            Pattern::parse("/a;b", false).unwrap_err(),
            vec![PatternProblem::InvalidChar(';')]
        );
        assert_eq!(
            Pattern::parse("/a{b}", false).unwrap_err(),
            vec![PatternProblem::BadParam("a{b}".into())]
        );
    }

    #[test]
    fn coverage() {
        assert!(pat("/**").covers(&pat("/admin/{id}")));
        assert!(pat("/admin/**").covers(&pat("/admin")));
        assert!(pat("/admin/**").covers(&pat("/admin/**")));
        assert!(pat("/profile/{id}").covers(&pat("/profile/me")));
        assert!(pat("/profile/*").covers(&pat("/profile/{x}")));
        assert!(!pat("/profile/me").covers(&pat("/profile/{id}")));
        assert!(!pat("/admin/*").covers(&pat("/admin/**")));
        assert!(!pat("/admin/*").covers(&pat("/admin")));
        assert!(!pat("/admin").covers(&pat("/admin/x")));
        assert!(!pat("/a/b").covers(&pat("/a/c")));
    }
}
