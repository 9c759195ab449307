//! Decisions of the shipped seed table (workers/authz/rules.toml) for the demo users.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{normalize_path, Decision, Method, Principal, RuleTable, Verdict};

const SEED: &str = include_str!("../../../workers/authz/rules.toml");

fn table() -> RuleTable {
    let c = RuleTable::from_toml(SEED).unwrap_or_else(|e| panic!("seed table invalid:\n{e}"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    c.table
}

fn who(sub: &str, roles: &[&str], scopes: &[&str]) -> Principal {
    Principal {
        sub: sub.into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    }
}

fn admin() -> Principal {
    who("admin", &["admin"], &[])
}
fn user() -> Principal {
    who("user", &["user"], &[])
}

fn decide(t: &RuleTable, m: &str, path: &str, p: Option<&Principal>) -> Decision {
    t.decide(
        &Method::parse(m).unwrap(),
        &normalize_path(path).unwrap(),
        p,
    )
}

const FORBIDDEN: Verdict = Verdict::Forbidden {
    insufficient_scope: false,
};

#[test]
fn seed_has_the_documented_rules() {
    let t = table();
    assert_eq!(t.len(), 7);
    assert!(!t.case_sensitive());
}

#[test]
fn health_is_public_for_get_and_head_only() {
    let t = table();
    for m in ["GET", "HEAD"] {
        let d = decide(&t, m, "/health", None);
        assert_eq!(
            (d.verdict, d.reason.code()),
            (Verdict::Allow, "public_rule")
        );
        assert_eq!(d.rule.as_ref().map(|r| r.index), Some(1));
        assert_eq!(d.rule.and_then(|r| r.name).as_deref(), Some("health"));
    }
    // POST /health falls through to the authenticated default.
    let d = decide(&t, "POST", "/health", None);
    assert_eq!(
        (d.verdict, d.rule.map(|r| r.index)),
        (Verdict::Unauthenticated, Some(7))
    );
}

#[test]
fn admin_area_needs_role_admin() {
    let t = table();
    let d = decide(&t, "GET", "/admin/users", Some(&user()));
    assert_eq!((d.verdict, d.reason.code()), (FORBIDDEN, "missing_role"));
    let d = decide(&t, "GET", "/admin/users", Some(&admin()));
    assert_eq!(
        (d.verdict, d.reason.code()),
        (Verdict::Allow, "conditions_met")
    );
    let d = decide(&t, "GET", "/admin", None);
    assert_eq!(
        (d.verdict, d.reason.code()),
        (Verdict::Unauthenticated, "no_identity")
    );
    // Bypass attempts land on the same rule.
    for raw in [
        "/ADMIN/users",
        "/%61dmin/users",
        "//admin/users",
        "/x/../admin/users",
        "/Admin/",
    ] {
        let d = decide(&t, "DELETE", raw, Some(&user()));
        assert_eq!(
            (d.verdict, d.rule.map(|r| r.index)),
            (FORBIDDEN, Some(2)),
            "{raw}"
        );
    }
}

#[test]
fn profile_is_owner_or_admin() {
    let t = table();
    let d = decide(&t, "PUT", "/profile/user", Some(&user()));
    assert_eq!(
        (d.verdict, d.reason.code()),
        (Verdict::Allow, "conditions_met")
    );
    let d = decide(&t, "GET", "/profile/%75ser", Some(&user()));
    assert_eq!(d.verdict, Verdict::Allow);
    let d = decide(&t, "PUT", "/profile/someone-else", Some(&user()));
    assert_eq!(
        (d.verdict, d.reason.code()),
        (FORBIDDEN, "no_alternative_met")
    );
    // Owner comparison is exact: case matters.
    let d = decide(&t, "PUT", "/profile/USER", Some(&user()));
    assert_eq!(d.verdict, FORBIDDEN);
    let d = decide(&t, "PUT", "/profile/someone-else", Some(&admin()));
    assert_eq!(d.verdict, Verdict::Allow);
    let d = decide(&t, "PUT", "/profile/user", None);
    assert_eq!(d.verdict, Verdict::Unauthenticated);
    // Other methods must not fall through to the authenticated default and skip the owner
    // check: the profile-other-methods rule refuses them, even to the owner.
    for m in ["DELETE", "HEAD", "PATCH", "OPTIONS", "POST"] {
        let d = decide(&t, m, "/profile/someone-else", Some(&user()));
        assert_eq!(
            (d.verdict, d.rule.map(|r| r.index), d.reason.code()),
            (FORBIDDEN, Some(4), "deny_rule"),
            "{m}"
        );
        let d = decide(&t, m, "/profile/user", Some(&user()));
        assert_eq!(d.verdict, FORBIDDEN, "{m} by the owner");
    }
}

#[test]
fn secret_data_needs_scope_premium() {
    let t = table();
    let d = decide(&t, "GET", "/secret-data/report", Some(&user()));
    assert_eq!(
        (d.verdict, d.reason.code()),
        (
            Verdict::Forbidden {
                insufficient_scope: true
            },
            "missing_scope"
        )
    );
    // A role named premium is not a scope.
    let d = decide(
        &t,
        "GET",
        "/secret-data",
        Some(&who("p", &["premium"], &[])),
    );
    assert_eq!(
        d.verdict,
        Verdict::Forbidden {
            insufficient_scope: true
        }
    );
    let d = decide(
        &t,
        "GET",
        "/secret-data/report",
        Some(&who("p", &[], &["premium"])),
    );
    assert_eq!(d.verdict, Verdict::Allow);
    let d = decide(&t, "GET", "/secret-data/report", None);
    assert_eq!(d.verdict, Verdict::Unauthenticated);
}

#[test]
fn everything_else_is_authenticated() {
    let t = table();
    let d = decide(&t, "GET", "/hello", None);
    assert_eq!(
        (d.verdict, d.reason.code()),
        (Verdict::Unauthenticated, "no_identity")
    );
    let d = decide(&t, "GET", "/hello", Some(&user()));
    assert_eq!(
        (d.verdict, d.rule.map(|r| r.index)),
        (Verdict::Allow, Some(7))
    );
    let d = decide(&t, "PROPFIND", "/", Some(&user()));
    assert_eq!(d.verdict, Verdict::Allow);
}
