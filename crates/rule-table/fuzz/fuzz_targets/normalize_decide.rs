//! Normalization + evaluation of the shipped rule table on arbitrary paths.
//!
//! Input: a selector byte (method, identity, roles, scopes), a byte for the subject and for
//! where to respell the path, then the raw path.
//!
//! Properties: nothing panics; normalization is idempotent; spelling the same path another way
//! (an unreserved character percent-encoded, a `/./`, a `//`, a `/seg/..`) normalizes to the
//! same path and gets the same decision; a decision is the same for the same input; it is 400
//! `AsciiLookalike` without a rule exactly when `check_path` refuses the path, and otherwise
//! names a rule unless no rule matched; an allowed request's forwarded path normalizes to
//! itself and matches the same rule; an identity never gets less than anonymous, and more roles
//! and scopes never turn an allow into a denial.
#![no_main]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use libfuzzer_sys::fuzz_target;
use rule_table::{
    normalize_path, Decision, Method, NormalizedPath, Principal, Reason, RuleTable, Verdict,
    MAX_PATH_LEN,
};
use std::sync::OnceLock;

const SEED: &str = include_str!("../../../../workers/authz/rules.toml");
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND",
];

fn table() -> &'static RuleTable {
    static TABLE: OnceLock<RuleTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        RuleTable::from_toml(SEED)
            .expect("seed table is valid")
            .table
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, sub, respell, rest @ ..] = data else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let method = Method::parse(METHODS[usize::from(selector & 7)]).unwrap();
    let principal = (selector & 8 != 0).then(|| Principal {
        sub: ["user", "admin", "42"][usize::from(sub % 3)].to_owned(),
        roles: if selector & 16 != 0 {
            vec!["admin".into()]
        } else {
            vec!["user".into()]
        },
        scopes: if selector & 32 != 0 {
            vec!["premium".into()]
        } else {
            vec![]
        },
    });
    let Ok(path) = normalize_path(raw) else {
        return;
    };
    let again = normalize_path(path.as_str()).expect("a normalized path normalizes");
    assert_eq!(again, path, "normalization is idempotent");

    let decision = table().decide(&method, &path, principal.as_ref());
    assert_eq!(
        decision,
        table().decide(&method, &path, principal.as_ref()),
        "deterministic"
    );
    // A path holding an ASCII look-alike is refused (400) before any rule is tried.
    let refused = table().check_path(&path).is_err();
    assert_eq!(
        decision.reason == Reason::AsciiLookalike,
        refused,
        "a path is refused exactly when check_path refuses it"
    );
    if refused {
        assert_eq!(decision.verdict, Verdict::BadRequest);
    }
    assert_eq!(
        decision.rule.is_none(),
        decision.reason == Reason::NoRuleMatched || refused,
        "a decision names its rule unless none matched or the path was refused"
    );
    if decision.verdict == Verdict::Allow {
        let forwarded = normalize_path(path.as_str()).expect("forwarded path normalizes");
        assert_eq!(forwarded.as_str(), path.as_str());
        let again = table().decide(&method, &forwarded, principal.as_ref());
        assert_eq!(
            again.rule, decision.rule,
            "forwarded path matches the same rule"
        );
        assert_eq!(again.verdict, Verdict::Allow);
    }

    if let Some(spelling) = respelled(&path, *respell, *selector) {
        let normalized = normalize_path(&spelling)
            .unwrap_or_else(|e| panic!("{spelling:?}, a spelling of {path}, is refused: {e:?}"));
        assert_eq!(normalized, path, "{spelling:?} is a spelling of {path}");
        assert_eq!(
            table().decide(&method, &normalized, principal.as_ref()),
            decision
        );
    }

    identity_never_hurts(&method, &path, principal.as_ref(), &decision);
});

/// `path` written another way that must mean the same: one unreserved character
/// percent-encoded, or `/.`, `/` or `/seg/..` put before one of its slashes.
fn respelled(path: &NormalizedPath, respell: u8, selector: u8) -> Option<String> {
    let text = path.as_str();
    if text.len() + 8 > MAX_PATH_LEN {
        return None;
    }
    let bytes = text.as_bytes();
    let start = usize::from(respell) * text.len() / 256;
    if respell & 3 == 0 {
        // Not a hex digit of an existing escape (`%C3`).
        let in_escape = |i: usize| bytes[i.saturating_sub(2)..i].contains(&b'%');
        let at = (start..bytes.len()).find(|&i| {
            let b = bytes[i];
            (b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) && !in_escape(i)
        })?;
        let escape = if selector & 64 != 0 {
            format!("%{:02x}", bytes[at])
        } else {
            format!("%{:02X}", bytes[at])
        };
        return Some(format!("{}{escape}{}", &text[..at], &text[at + 1..]));
    }
    let at = (start..bytes.len())
        .find(|&i| bytes[i] == b'/')
        .unwrap_or(0);
    let insert = ["", "/.", "/", "/seg/.."][usize::from(respell & 3)];
    Some(format!("{}{insert}{}", &text[..at], &text[at..]))
}

/// Anonymous allowed ⇒ every identity allowed by the same rule; an allowed identity stays
/// allowed with more roles and scopes (no condition in a table is negative).
fn identity_never_hurts(
    method: &Method,
    path: &NormalizedPath,
    principal: Option<&Principal>,
    decision: &Decision,
) {
    let richer = |p: &Principal| {
        let mut p = p.clone();
        p.roles.extend(["admin".to_owned(), "user".to_owned()]);
        p.scopes.push("premium".to_owned());
        p
    };
    match principal {
        None if decision.verdict == Verdict::Allow => {
            let someone = Principal {
                sub: "someone".into(),
                roles: vec![],
                scopes: vec![],
            };
            let d = table().decide(method, path, Some(&someone));
            assert_eq!(
                d.verdict,
                Verdict::Allow,
                "an identity got less than anonymous"
            );
            assert_eq!(d.rule, decision.rule);
        }
        Some(p) if decision.verdict == Verdict::Allow => {
            let d = table().decide(method, path, Some(&richer(p)));
            assert_eq!(d.verdict, Verdict::Allow, "more roles or scopes denied");
        }
        _ => {}
    }
}
