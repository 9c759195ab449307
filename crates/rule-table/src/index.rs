//! Which rules can match a path, by its first segment: the rules are still tried in file
//! order, first match decides, but a request no longer walks the rules that name another first
//! segment (`/svc-a/**` is never tried on `/svc-b/x`). Built once per table.
//!
//! A rule whose first segment is a literal can match only paths whose first segment equals it
//! (in any ASCII letter case when the table is case-insensitive: such literals are lower-case
//! ASCII); every other rule (a `{param}`, `*` or `**` first, or the bare `/`) can match any path
//! and is a candidate for all. The candidates for a literal are its own rules and those, merged
//! in table order as they are read (so the index holds each rule once: memory grows with the
//! table, not with literals times wildcard rules).

use std::cmp::Ordering;

use crate::path::NormalizedPath;
use crate::pattern::Pattern;

/// Rule indices (0-based, table order) that may match, by first path segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct FirstSegmentIndex {
    /// Sorted by literal: the rules whose first segment is that literal, in table order.
    by_literal: Vec<(Box<str>, Vec<usize>)>,
    /// The candidates of every other path: the rules without a literal first segment.
    others: Vec<usize>,
    case_sensitive: bool,
}

impl FirstSegmentIndex {
    /// The index of `patterns` (the table's rules' patterns, in order).
    pub(crate) fn new<'p>(
        patterns: impl IntoIterator<Item = &'p Pattern>,
        case_sensitive: bool,
    ) -> Self {
        let mut literal_rules: Vec<(Box<str>, usize)> = Vec::new();
        let mut others = Vec::new();
        for (index, pattern) in patterns.into_iter().enumerate() {
            match pattern.first_literal() {
                Some(literal) => literal_rules.push((literal.into(), index)),
                None => others.push(index),
            }
        }
        // Stable: a literal's rules stay in table order.
        literal_rules.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_literal: Vec<(Box<str>, Vec<usize>)> = Vec::new();
        for (literal, index) in literal_rules {
            match by_literal.last_mut() {
                Some((last, indices)) if *last == literal => indices.push(index),
                _ => by_literal.push((literal, vec![index])),
            }
        }
        Self {
            by_literal,
            others,
            case_sensitive,
        }
    }

    /// The rules that may match `path`, in table order.
    pub(crate) fn candidates(&self, path: &NormalizedPath) -> impl Iterator<Item = usize> + '_ {
        let literal: &[usize] = match path.segment(0) {
            Some(first) => self
                .by_literal
                .binary_search_by(|(literal, _)| self.compare(literal, first))
                .ok()
                .and_then(|at| self.by_literal.get(at))
                .map_or(&[], |(_, indices)| indices.as_slice()),
            None => &[],
        };
        InOrder {
            a: literal.iter().copied().peekable(),
            b: self.others.iter().copied().peekable(),
        }
    }

    /// `literal` against a request's segment, as the rules compare them: exactly, or with the
    /// segment's ASCII letters lower-cased (case-insensitive literals are lower-case ASCII, so
    /// `Equal` here is exactly `eq_ignore_ascii_case`).
    fn compare(&self, literal: &str, segment: &str) -> Ordering {
        if self.case_sensitive {
            literal.cmp(segment)
        } else {
            let folded = segment.bytes().map(|b| b.to_ascii_lowercase());
            literal.bytes().cmp(folded)
        }
    }
}

/// Two ascending lists of rule indices, read as one ascending list.
struct InOrder<A: Iterator<Item = usize>, B: Iterator<Item = usize>> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<A: Iterator<Item = usize>, B: Iterator<Item = usize>> Iterator for InOrder<A, B> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match (self.a.peek(), self.b.peek()) {
            (Some(a), Some(b)) if a < b => self.a.next(),
            (Some(_), None) => self.a.next(),
            _ => self.b.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::normalize_path;
    use proptest::prelude::*;

    fn patterns(sources: &[&str], case_sensitive: bool) -> Vec<Pattern> {
        sources
            .iter()
            .map(|s| Pattern::parse(s, case_sensitive).expect("valid pattern"))
            .collect()
    }

    /// Every rule that matches, in order: what the index must never lose.
    fn matching(patterns: &[Pattern], path: &NormalizedPath) -> Vec<usize> {
        (0..patterns.len())
            .filter(|&i| patterns[i].matches(path))
            .collect()
    }

    #[test]
    fn candidates_are_a_literal_s_rules_and_the_others_in_table_order() {
        let table = patterns(
            &["/a/**", "/{t}/x", "/b", "/a/c", "/**", "/", "/*/y"],
            false,
        );
        let index = FirstSegmentIndex::new(&table, false);
        let at = |p: &str| {
            index
                .candidates(&normalize_path(p).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(at("/a/c"), [0, 1, 3, 4, 5, 6]);
        assert_eq!(at("/A/c"), [0, 1, 3, 4, 5, 6]);
        assert_eq!(at("/b"), [1, 2, 4, 5, 6]);
        assert_eq!(at("/zzz"), [1, 4, 5, 6]);
        assert_eq!(at("/"), [1, 4, 5, 6]);
        // A case-sensitive table compares exactly.
        let exact = patterns(&["/a/**", "/A/**", "/**"], true);
        let index = FirstSegmentIndex::new(&exact, true);
        let at = |p: &str| {
            index
                .candidates(&normalize_path(p).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(at("/a/x"), [0, 2]);
        assert_eq!(at("/A/x"), [1, 2]);
        assert_eq!(at("/b"), [2]);
    }

    fn pattern_source() -> impl Strategy<Value = String> {
        let seg = prop_oneof![
            Just("a".to_owned()),
            Just("b".to_owned()),
            Just("ab".to_owned()),
            Just("A".to_owned()),
            Just("{p}".to_owned()),
            Just("*".to_owned()),
        ];
        (prop::collection::vec(seg, 0..3), any::<bool>()).prop_map(|(segs, rest)| {
            let mut s = String::new();
            for seg in segs {
                s.push('/');
                s.push_str(&seg);
            }
            if rest {
                s.push_str("/**");
            }
            if s.is_empty() {
                s.push('/');
            }
            s
        })
    }

    proptest! {
        /// Whatever the table and path: every rule that matches is a candidate, so the first
        /// match over the candidates is the first match over the whole table.
        #[test]
        fn no_matching_rule_is_ever_left_out(
            sources in prop::collection::vec(pattern_source(), 0..12),
            path in "(/(a|b|ab|A|B|aB|é|c|%41)){0,4}/?",
            case_sensitive in any::<bool>(),
        ) {
            let table: Vec<Pattern> = sources
                .iter()
                .filter_map(|s| Pattern::parse(s, case_sensitive).ok())
                .collect();
            let written: Vec<String> = table.iter().map(|p| format!("{p:?}")).collect();
            let path = match normalize_path(if path.is_empty() { "/" } else { &path }) {
                Ok(p) => p,
                Err(_) => return Ok(()),
            };
            let index = FirstSegmentIndex::new(&table, case_sensitive);
            let candidates: Vec<usize> = index.candidates(&path).collect();
            prop_assert!(candidates.windows(2).all(|w| w[0] < w[1]));
            for i in matching(&table, &path) {
                prop_assert!(candidates.contains(&i), "rule {} ({:?}) left out for {}", i, written.get(i), path);
            }
        }
    }
}
