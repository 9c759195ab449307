//! Characters that an origin comparing case-insensitively with Unicode rules can turn into
//! ASCII, so that a path segment holding one would match an ASCII literal there but not here.
//!
//! Java's `equalsIgnoreCase`, Go's `strings.EqualFold`, JavaScript's `/iu` and Python's
//! `casefold` all map `ſ` (U+017F) to `s`, `ı` (U+0131) to `i` or `K` (U+212A) to `k`; an origin
//! that applies NFKC also maps `ａ` (U+FF41) to `a` and `ﬁ` to `fi`. A case-insensitive rule
//! table compares literals ASCII-case-insensitively, so `/admın` would dodge an `/admin` rule
//! and reach the origin, which might serve it as `/admin`. Such paths are refused instead
//! ([`PathError::AsciiLookalike`]); a case-sensitive table compares bytes and refuses nothing.
//!
//! The class is generated from Unicode data into `lookalike_table.rs` (see its header); a test
//! recomputes it and fails when the committed table differs.

use crate::lookalike_table::ASCII_LOOKALIKES;
use crate::path::{NormalizedPath, PathError};
use std::cmp::Ordering;

/// Whether `c` is a non-ASCII character whose NFKC form or full case mappings (repeatedly
/// applied) contain an ASCII character; see `lookalike_table.rs` for the exact definition.
/// ASCII characters are never look-alikes.
pub fn is_ascii_lookalike(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    ASCII_LOOKALIKES
        .binary_search_by(|&(first, last)| {
            if last < c {
                Ordering::Less
            } else if first > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

impl NormalizedPath {
    /// The first character of a decoded segment that is an ASCII look-alike
    /// ([`is_ascii_lookalike`]), if any. A path whose decoded text is ASCII has none.
    pub fn first_ascii_lookalike(&self) -> Option<char> {
        if self.decoded_is_ascii() {
            return None;
        }
        self.segments()
            .flat_map(str::chars)
            .find(|&c| is_ascii_lookalike(c))
    }
}

/// The checks a rule table applies to a normalized path before any rule, decided by the
/// table's `case_sensitive` setting alone. [`RuleTable::decide`](crate::RuleTable::decide)
/// applies them itself; [`RuleTable::path_policy`](crate::RuleTable::path_policy) gives them
/// to a caller that refuses a path before it decides (the auth Worker, before it verifies a
/// token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathPolicy {
    case_sensitive: bool,
}

impl PathPolicy {
    /// The policy of a case-insensitive table (the default): ASCII look-alikes are refused.
    pub const CASE_INSENSITIVE: PathPolicy = PathPolicy {
        case_sensitive: false,
    };
    /// The policy of a `case_sensitive = true` table: literals match byte for byte, so a
    /// look-alike can never match one and nothing is refused.
    pub const CASE_SENSITIVE: PathPolicy = PathPolicy {
        case_sensitive: true,
    };

    /// The policy for a table with this `case_sensitive` setting.
    pub const fn new(case_sensitive: bool) -> PathPolicy {
        PathPolicy { case_sensitive }
    }

    /// Whether literals match case-sensitively.
    pub const fn case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// Refuses a path the table could match less strictly than a Unicode-aware origin:
    /// [`PathError::AsciiLookalike`] when case-insensitive and a decoded segment holds an
    /// ASCII look-alike.
    pub fn check(&self, path: &NormalizedPath) -> Result<(), PathError> {
        if !self.case_sensitive && path.first_ascii_lookalike().is_some() {
            return Err(PathError::AsciiLookalike);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::normalize_path;

    #[test]
    fn the_table_is_sorted_disjoint_and_non_ascii() {
        let mut previous: Option<char> = None;
        for &(first, last) in ASCII_LOOKALIKES {
            assert!(first <= last, "{first:?}..={last:?}");
            assert!(!first.is_ascii(), "{first:?}");
            if let Some(p) = previous {
                // Adjacent ranges would have been merged by the generator.
                assert!(u32::from(p) + 1 < u32::from(first), "{p:?} then {first:?}");
            }
            previous = Some(last);
        }
    }

    #[test]
    fn lookup_at_range_edges() {
        for &(first, last) in ASCII_LOOKALIKES {
            assert!(is_ascii_lookalike(first), "{first:?}");
            assert!(is_ascii_lookalike(last), "{last:?}");
            for outside in [u32::from(first) - 1, u32::from(last) + 1] {
                if let Some(c) = char::from_u32(outside) {
                    let inside_another = ASCII_LOOKALIKES.iter().any(|&(a, b)| a <= c && c <= b);
                    assert_eq!(is_ascii_lookalike(c), inside_another, "{c:?}");
                }
            }
        }
        assert!(!is_ascii_lookalike('a'));
        assert!(!is_ascii_lookalike('\u{7f}'));
        assert!(!is_ascii_lookalike('\u{10FFFF}'));
    }

    #[test]
    fn the_policy_follows_the_table_case_setting() {
        let path = normalize_path("/adm%C4%B1n/x").unwrap();
        assert_eq!(path.first_ascii_lookalike(), Some('\u{131}'));
        assert_eq!(
            PathPolicy::CASE_INSENSITIVE.check(&path),
            Err(PathError::AsciiLookalike)
        );
        assert_eq!(PathPolicy::CASE_SENSITIVE.check(&path), Ok(()));
        let plain = normalize_path("/hello/caf%C3%A9").unwrap();
        assert_eq!(plain.first_ascii_lookalike(), None);
        assert_eq!(PathPolicy::CASE_INSENSITIVE.check(&plain), Ok(()));
    }
}
