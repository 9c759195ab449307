//! Evaluation semantics beyond the seed table: deny, no match, HEAD, conditions, case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{normalize_path, Method, Principal, Reason, RuleTable, Verdict};

fn table(src: &str) -> RuleTable {
    RuleTable::from_toml(src)
        .unwrap_or_else(|e| panic!("{e}"))
        .table
}

fn who(sub: &str, roles: &[&str], scopes: &[&str]) -> Principal {
    Principal {
        sub: sub.into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    }
}

fn verdict(t: &RuleTable, m: &str, path: &str, p: Option<&Principal>) -> (Verdict, &'static str) {
    let d = t.decide(
        &Method::parse(m).unwrap(),
        &normalize_path(path).unwrap(),
        p,
    );
    (d.verdict, d.reason.code())
}

const F: Verdict = Verdict::Forbidden {
    insufficient_scope: false,
};
const FS: Verdict = Verdict::Forbidden {
    insufficient_scope: true,
};

#[test]
fn deny_is_403_for_everyone() {
    let t = table("[[rule]]\npath = \"/internal/**\"\nallow = \"deny\"\n[[rule]]\npath = \"/**\"\nallow = \"public\"\n");
    assert_eq!(verdict(&t, "GET", "/internal/x", None), (F, "deny_rule"));
    assert_eq!(
        verdict(&t, "GET", "/internal", Some(&who("a", &["admin"], &[]))),
        (F, "deny_rule")
    );
    assert_eq!(
        verdict(&t, "GET", "/other", None),
        (Verdict::Allow, "public_rule")
    );
}

#[test]
fn no_rule_matched_is_401_or_403() {
    let t = table("[[rule]]\npath = \"/a\"\nmethods = [\"GET\"]\n");
    assert_eq!(
        verdict(&t, "GET", "/b", None),
        (Verdict::Unauthenticated, "no_rule_matched")
    );
    assert_eq!(
        verdict(&t, "GET", "/b", Some(&who("u", &[], &[]))),
        (F, "no_rule_matched")
    );
    let d = t.decide(&Method::Post, &normalize_path("/a").unwrap(), None);
    assert_eq!((d.rule, d.reason), (None, Reason::NoRuleMatched));
}

#[test]
fn head_and_options_are_their_own_methods() {
    let t = table("[[rule]]\npath = \"/r\"\nmethods = [\"GET\"]\nallow = \"public\"\n[[rule]]\npath = \"/**\"\n");
    assert_eq!(verdict(&t, "GET", "/r", None).0, Verdict::Allow);
    assert_eq!(verdict(&t, "HEAD", "/r", None).0, Verdict::Unauthenticated);
    assert_eq!(
        verdict(&t, "OPTIONS", "/r", None).0,
        Verdict::Unauthenticated
    );
    // The RFC 9110 methods are recognized in any case: "get" is GET.
    assert_eq!(verdict(&t, "get", "/r", None).0, Verdict::Allow);
    assert_eq!(verdict(&t, "hEaD", "/r", None).0, Verdict::Unauthenticated);
}

#[test]
fn a_method_in_another_case_cannot_dodge_a_rule_that_names_it() {
    // Without case folding, "patch" or "delete" would be extension methods: they would skip the
    // deny rule, reach the public catch-all, and an origin folding case would run them.
    let t = table(
        "[[rule]]\npath = \"/doc/**\"\nmethods = [\"PATCH\", \"DELETE\", \"PUT\", \"POST\"]\nallow = \"deny\"\n\
         [[rule]]\npath = \"/**\"\nallow = \"public\"\n",
    );
    for m in ["PATCH", "patch", "Patch", "DELETE", "delete", "put", "pOsT"] {
        assert_eq!(verdict(&t, m, "/doc/1", None), (F, "deny_rule"), "{m}");
    }
    // Extension methods stay byte-exact and only meet rules without `methods`.
    assert_eq!(verdict(&t, "propfind", "/doc/1", None).0, Verdict::Allow);
}

#[test]
fn role_and_scope_conditions() {
    let t = table(
        "[[rule]]\npath = \"/all\"\nroles_all = [\"a\", \"b\"]\n\
         [[rule]]\npath = \"/scopes\"\nscopes_all = [\"r\", \"w\"]\n\
         [[rule]]\npath = \"/mixed\"\nroles_any = [\"a\"]\nscopes_any = [\"s\"]\n\
         [[rule]]\npath = \"/alt\"\nany_of = [{ roles_any = [\"x\"] }, { scopes_any = [\"y\"] }]\n",
    );
    assert_eq!(
        verdict(&t, "GET", "/all", Some(&who("u", &["a"], &[]))),
        (F, "missing_role")
    );
    assert_eq!(
        verdict(&t, "GET", "/all", Some(&who("u", &["b", "a"], &[]))).0,
        Verdict::Allow
    );
    assert_eq!(
        verdict(&t, "GET", "/scopes", Some(&who("u", &[], &["r"]))),
        (FS, "missing_scope")
    );
    assert_eq!(
        verdict(&t, "GET", "/scopes", Some(&who("u", &[], &["w", "r"]))).0,
        Verdict::Allow
    );
    // Roles are checked first, and comparisons are exact.
    assert_eq!(
        verdict(&t, "GET", "/mixed", Some(&who("u", &["A"], &["s"]))),
        (F, "missing_role")
    );
    assert_eq!(
        verdict(&t, "GET", "/mixed", Some(&who("u", &["a"], &["S"]))),
        (FS, "missing_scope")
    );
    assert_eq!(
        verdict(&t, "GET", "/mixed", Some(&who("u", &["a"], &["s"]))).0,
        Verdict::Allow
    );
    // any_of: more scope would have helped, so insufficient_scope is flagged.
    assert_eq!(
        verdict(&t, "GET", "/alt", Some(&who("u", &[], &[]))),
        (FS, "no_alternative_met")
    );
    assert_eq!(
        verdict(&t, "GET", "/alt", Some(&who("u", &[], &["y"]))).0,
        Verdict::Allow
    );
}

#[test]
fn owner_uses_the_decoded_segment() {
    let t = table("[[rule]]\npath = \"/u/{id}/**\"\nowner = \"id\"\n");
    let bob = who("bob smith", &[], &[]);
    assert_eq!(
        verdict(&t, "GET", "/u/bob%20smith/files", Some(&bob)).0,
        Verdict::Allow
    );
    assert_eq!(
        verdict(&t, "GET", "/u/bob%20smith", Some(&bob)).0,
        Verdict::Allow
    );
    assert_eq!(
        verdict(&t, "GET", "/u/bob/files", Some(&bob)),
        (F, "not_owner")
    );
}

#[test]
fn case_sensitive_tables() {
    let src = "case_sensitive = true\n[[rule]]\npath = \"/Admin/**\"\nallow = \"deny\"\n[[rule]]\npath = \"/**\"\nallow = \"public\"\n";
    let t = table(src);
    assert!(t.case_sensitive());
    assert_eq!(verdict(&t, "GET", "/Admin/x", None).0, F);
    assert_eq!(verdict(&t, "GET", "/%41dmin/x", None).0, F);
    assert_eq!(verdict(&t, "GET", "/admin/x", None).0, Verdict::Allow);
}

#[test]
fn decision_names_the_rule() {
    let t = table("[[rule]]\nname = \"first\"\npath = \"/a\"\n[[rule]]\npath = \"/**\"\n");
    let d = t.decide(&Method::Get, &normalize_path("/a").unwrap(), None);
    let r = d.rule.unwrap();
    assert_eq!((r.index, r.name.as_deref()), (1, Some("first")));
    assert_eq!(r.to_string(), "rule 1 (\"first\")");
    assert_eq!(d.verdict.status(), Some(401));
}

fn required_scopes(t: &RuleTable, path: &str, p: &Principal) -> (Verdict, Vec<String>) {
    let d = t.decide(&Method::Get, &normalize_path(path).unwrap(), Some(p));
    (d.verdict, d.required_scopes)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_insufficient_scope_decision_lists_every_scope_the_rule_names() {
    let t = table(concat!(
        "[[rule]]\npath = \"/any\"\nscopes_any = [\"read\", \"admin\"]\n",
        "[[rule]]\npath = \"/all\"\nscopes_all = [\"write\", \"read\", \"write\"]\n",
        "[[rule]]\npath = \"/alt/{id}\"\nscopes_all = [\"base\"]\n",
        "any_of = [{ scopes_any = [\"x\", \"base\"] }, { roles_any = [\"admin\"] }, { scopes_all = [\"y\"], owner = \"id\" }]\n",
        "[[rule]]\npath = \"/role-then-scope\"\nroles_any = [\"staff\"]\nscopes_any = [\"s\"]\n",
        "[[rule]]\npath = \"/**\"\n",
    ));
    let nobody = who("u", &[], &[]);
    // scopes_any: every alternative (any one of them would do); scopes_all: each once.
    assert_eq!(
        required_scopes(&t, "/any", &nobody),
        (FS, names(&["read", "admin"]))
    );
    assert_eq!(
        required_scopes(&t, "/all", &who("u", &[], &["read"])),
        (FS, names(&["write", "read"]))
    );
    // The rule's own scopes first, then each alternative's, in table order, no repeats; the
    // alternatives' other conditions (roles, owner) add nothing.
    assert_eq!(
        required_scopes(&t, "/alt/v", &nobody),
        (FS, names(&["base", "x", "y"]))
    );
    // Not a scope failure: nothing listed.
    assert_eq!(
        required_scopes(&t, "/role-then-scope", &nobody),
        (F, vec![])
    );
    assert_eq!(
        required_scopes(&t, "/any", &who("u", &[], &["admin"])).1,
        Vec::<String>::new()
    );
    assert_eq!(
        required_scopes(&t, "/other", &nobody).1,
        Vec::<String>::new()
    );
    let anonymous = t.decide(&Method::Get, &normalize_path("/any").unwrap(), None);
    assert_eq!(anonymous.verdict, Verdict::Unauthenticated);
    assert!(anonymous.required_scopes.is_empty());
}

#[test]
fn the_table_lists_every_scope_it_names_sorted_once() {
    let t = table(concat!(
        "[[rule]]\npath = \"/a\"\nscopes_any = [\"zeta\", \"alpha\"]\n",
        "[[rule]]\npath = \"/b\"\nroles_any = [\"not-a-scope\"]\nscopes_all = [\"Beta\", \"alpha\"]\n",
        "[[rule]]\npath = \"/c\"\nany_of = [{ scopes_any = [\"gamma\"] }, { roles_any = [\"r\"] }]\n",
        "[[rule]]\npath = \"/c/{id}\"\nany_of = [{ owner = \"id\" }, { scopes_all = [\"delta\"] }]\n",
        "[[rule]]\npath = \"/**\"\nallow = \"public\"\n",
    ))
    ;
    // Byte order: upper case sorts first; roles are not scopes.
    assert_eq!(t.scopes(), ["Beta", "alpha", "delta", "gamma", "zeta"]);
    assert!(table("[[rule]]\npath = \"/**\"\nroles_any = [\"r\"]\n")
        .scopes()
        .is_empty());
}
