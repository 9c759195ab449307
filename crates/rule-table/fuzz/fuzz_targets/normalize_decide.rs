//! Normalization + evaluation on arbitrary input. Invariant: normalization never panics
//! and is idempotent, and an allowed request's forwarded path, normalized again, is
//! unchanged and matches the same rule.
#![no_main]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use libfuzzer_sys::fuzz_target;
use rule_table::{normalize_path, Method, Principal, RuleTable, Verdict};
use std::sync::OnceLock;

const SEED: &str = include_str!("../../../../workers/authz/rules.toml");
const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"];

fn table() -> &'static RuleTable {
    static TABLE: OnceLock<RuleTable> = OnceLock::new();
    TABLE.get_or_init(|| RuleTable::from_toml(SEED).expect("seed table is valid").table)
}

fuzz_target!(|data: &[u8]| {
    let [selector, sub, rest @ ..] = data else { return };
    let Ok(raw) = std::str::from_utf8(rest) else { return };
    let method = Method::parse(METHODS[usize::from(selector & 7)]).unwrap();
    let principal = (selector & 8 != 0).then(|| Principal {
        sub: ["user", "admin", "42"][usize::from(sub % 3)].to_owned(),
        roles: if selector & 16 != 0 { vec!["admin".into()] } else { vec!["user".into()] },
        scopes: if selector & 32 != 0 { vec!["premium".into()] } else { vec![] },
    });
    let Ok(path) = normalize_path(raw) else { return };
    let again = normalize_path(path.as_str()).expect("a normalized path normalizes");
    assert_eq!(again, path, "normalization is idempotent");
    let decision = table().decide(&method, &path, principal.as_ref());
    if decision.verdict == Verdict::Allow {
        let forwarded = normalize_path(path.as_str()).expect("forwarded path normalizes");
        assert_eq!(forwarded.as_str(), path.as_str());
        let again = table().decide(&method, &forwarded, principal.as_ref());
        assert_eq!(again.rule, decision.rule, "forwarded path matches the same rule");
        assert_eq!(again.verdict, Verdict::Allow);
    }
});
