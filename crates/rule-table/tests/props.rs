//! Property tests: normalization is idempotent, decisions do not depend on the spelling
//! of a path, and no spelling of /admin escapes the admin rule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use proptest::prelude::*;
use rule_table::{normalize_path, Method, Principal, RuleTable, Verdict};

const SEED: &str = include_str!("../../../workers/authz/rules.toml");

/// Pieces that exercise every normalization rule, including the bypass classes.
const TOKENS: &[&str] = &[
    "/",
    "/",
    "/",
    ".",
    "..",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2E",
    "%61",
    "%41",
    "%2f",
    "%5C",
    "%25",
    "%252f",
    "%c3%a9",
    "%c0%ae",
    "%ff",
    "%3b",
    ";",
    "\\",
    " ",
    "%20",
    "%7e",
    "%3",
    "%",
    "%00",
    "a",
    "A",
    "admin",
    "ADMIN",
    "%61dmin",
    "profile",
    "user",
    "secret-data",
    "health",
    "x",
    "7",
    "|",
    "{",
    "?",
    "é",
    "~",
    "-",
    "*",
];

fn raw_path() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.95),
        prop::collection::vec(prop::sample::select(TOKENS), 0..14),
    )
        .prop_map(|(slash, toks)| {
            let mut s = if slash { "/".to_owned() } else { String::new() };
            for t in toks {
                s.push_str(t);
            }
            s
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PROPFIND",
    ])
    .prop_map(|m| Method::parse(m).unwrap())
}

fn principal() -> impl Strategy<Value = Option<Principal>> {
    prop::option::of(
        (
            prop::sample::select(vec!["user", "admin", "a", "USER"]),
            prop::sample::subsequence(vec!["user", "admin", "premium"], 0..3),
            prop::sample::subsequence(vec!["premium", "read"], 0..2),
        )
            .prop_map(|(sub, roles, scopes)| Principal {
                sub: sub.into(),
                roles: roles.into_iter().map(Into::into).collect(),
                scopes: scopes.into_iter().map(Into::into).collect(),
            }),
    )
}

fn seed() -> RuleTable {
    RuleTable::from_toml(SEED).unwrap().table
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn normalization_is_idempotent(raw in raw_path()) {
        if let Ok(n) = normalize_path(&raw) {
            let again = normalize_path(n.as_str()).unwrap();
            prop_assert_eq!(&again, &n);
            // The canonical form has none of the rejected or removable constructs.
            let text = n.as_str();
            prop_assert!(text.starts_with('/'));
            prop_assert!(!text.contains("//"));
            for seg in n.segments() {
                prop_assert!(!seg.is_empty() && seg != "." && seg != "..");
                prop_assert!(!seg.contains('/') && !seg.contains('\\') && !seg.contains(';'));
            }
        }
    }

    #[test]
    fn decision_on_normalized_equals_decision_on_raw(
        raw in raw_path(), m in method(), p in principal()
    ) {
        let t = seed();
        if let Ok(n) = normalize_path(&raw) {
            let renormalized = normalize_path(n.as_str()).unwrap();
            prop_assert_eq!(
                t.decide(&m, &n, p.as_ref()),
                t.decide(&m, &renormalized, p.as_ref())
            );
        }
    }

    #[test]
    fn allowed_forwarded_path_is_stable_and_matches_same_rule(
        raw in raw_path(), m in method(), p in principal()
    ) {
        let t = seed();
        if let Ok(n) = normalize_path(&raw) {
            let d = t.decide(&m, &n, p.as_ref());
            if d.verdict == Verdict::Allow {
                let forwarded = normalize_path(n.as_str()).unwrap();
                prop_assert_eq!(forwarded.as_str(), n.as_str());
                prop_assert_eq!(t.decide(&m, &forwarded, p.as_ref()).rule, d.rule);
            }
        }
    }

    #[test]
    fn no_spelling_of_admin_escapes_the_admin_rule(raw in raw_path(), m in method()) {
        let t = seed();
        let user = Principal { sub: "user".into(), roles: vec!["user".into()], scopes: vec![] };
        if let Ok(n) = normalize_path(&raw) {
            if n.segment(0).is_some_and(|s| s.eq_ignore_ascii_case("admin")) {
                let d = t.decide(&m, &n, Some(&user));
                prop_assert_eq!(d.verdict, Verdict::Forbidden { insufficient_scope: false });
                prop_assert_eq!(d.rule.map(|r| r.index), Some(2));
            }
        }
    }
}
