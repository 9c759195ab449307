//! Every validation error: the message names the rule and the problem.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{RuleTable, TableErrors};

fn errors(src: &str) -> TableErrors {
    match RuleTable::from_toml(src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e,
    }
}

/// Asserts exactly one error with `code`, whose message contains every fragment.
fn one(src: &str, code: &str, fragments: &[&str]) {
    let e = errors(src);
    assert_eq!(e.errors().len(), 1, "{e}");
    let err = &e.errors()[0];
    assert_eq!(err.code(), code, "{err}");
    let msg = err.to_string();
    for f in fragments {
        assert!(msg.contains(f), "{msg:?} lacks {f:?}");
    }
}

const TAIL: &str = "\n[[rule]]\npath = \"/**\"\n";

fn with_tail(rule: &str) -> String {
    format!("[[rule]]\nname = \"r\"\n{rule}\n{TAIL}")
}

#[test]
fn syntax_and_top_level() {
    one(
        "[[rule]\npath = 1",
        "toml_syntax",
        &["table: not valid TOML", "line 1"],
    );
    one("", "no_rules", &["table: no [[rule]] entries"]);
    one(
        &format!("[[rules]]\npath = \"/x\"\n{TAIL}"),
        "unknown_key",
        &[
            "table: unknown key \"rules\"",
            "case_sensitive, upstream, rule",
        ],
    );
    one(
        &format!("case_sensitive = \"yes\"\n{TAIL}"),
        "invalid_value",
        &["\"case_sensitive\" must be true or false"],
    );
    one(
        "rule = 5",
        "invalid_value",
        &["\"rule\" must be an array of tables"],
    );
}

#[test]
fn unknown_keys_all_reported() {
    let e = errors(&with_tail(
        "path = \"/x\"\nrole = [\"a\"]\nmethod = [\"GET\"]",
    ));
    let msgs: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{e}");
    assert!(
        msgs[0].starts_with("rule 1 (\"r\"): unknown key \"method\""),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("rule 1 (\"r\"): unknown key \"role\""),
        "{msgs:?}"
    );
    assert!(msgs[1].contains("roles_any"));
    // Display lists all errors, one per line.
    assert_eq!(e.to_string().lines().count(), 2);
}

#[test]
fn unknown_key_in_alternative() {
    one(
        &with_tail("path = \"/p/{id}\"\nany_of = [{ owner = \"id\" }, { role = [\"a\"] }]"),
        "invalid_value",
        &["rule 1 (\"r\")", "any_of[2]", "role", "allowed keys"],
    );
}

#[test]
fn missing_and_mistyped_values() {
    one(
        &with_tail("methods = [\"GET\"]"),
        "missing_path",
        &["rule 1 (\"r\"): missing \"path\""],
    );
    one(
        &with_tail("path = 5"),
        "invalid_value",
        &["rule 1", "\"path\" must be a string"],
    );
    one(
        &with_tail("path = \"/x\"\nmethods = \"GET\""),
        "invalid_value",
        &["\"methods\" must be a list"],
    );
    one(
        &with_tail("path = \"/x\"\nallow = \"everyone\""),
        "invalid_value",
        &["\"allow\" must be \"public\""],
    );
    one(
        &with_tail("path = \"/x\"\nroles_any = \"admin\""),
        "invalid_value",
        &["\"roles_any\" must be a list of strings"],
    );
}

#[test]
fn methods() {
    one(
        &with_tail("path = \"/x\"\nmethods = [\"TRACE\"]"),
        "bad_method",
        &["rule 1", "\"TRACE\"", "cross-site tracing"],
    );
    one(
        &with_tail("path = \"/x\"\nmethods = [\"CONNECT\"]"),
        "bad_method",
        &["\"CONNECT\" cannot be used"],
    );
    for never in ["TRACK", "trace", "Connect"] {
        one(
            &with_tail(&format!("path = \"/x\"\nmethods = [\"{never}\"]")),
            "bad_method",
            &[&format!("\"{never}\" cannot be used")],
        );
    }
    one(
        &with_tail("path = \"/x\"\nmethods = [\"get\"]"),
        "bad_method",
        &["\"get\" is not upper-case"],
    );
    one(
        &with_tail("path = \"/x\"\nmethods = [\"PROPFIND\"]"),
        "bad_method",
        &["is not one of GET"],
    );
    one(
        &with_tail("path = \"/x\"\nmethods = [\"GET\", \"GET\"]"),
        "duplicate_method",
        &["rule 1", "\"GET\" is listed twice"],
    );
    one(
        &with_tail("path = \"/x\"\nmethods = []"),
        "empty_methods",
        &["rule 1", "\"methods\" is empty"],
    );
}

#[test]
fn path_patterns() {
    let cases = [
        ("admin", "must start with '/'"),
        ("/a//b", "contains '//'"),
        ("/a/../b", "'..' segment"),
        ("/a%20b", "contains '%'"),
        ("/a/", "ends with '/'"),
        ("/**/a", "'**' before the last segment"),
        ("/a*", "mixing '*'"),
        ("/***", "mixing '*'"),
        ("/{id", "malformed parameter"),
        ("/{1d}", "malformed parameter"),
        ("/{id}/{id}", "parameter {id} twice"),
        ("/Admin", "upper-case literal \"Admin\""),
        ("/a;b", "contains ';'"),
    ];
    for (path, frag) in cases {
        let src = with_tail(&format!("path = {path:?}"));
        one(
            &src,
            "invalid_path_pattern",
            &["rule 1 (\"r\")", &format!("path {path:?}"), frag],
        );
    }
    // Upper case is fine when the table is case-sensitive.
    assert!(RuleTable::from_toml(&format!(
        "case_sensitive = true\n{}",
        with_tail("path = \"/Admin\"")
    ))
    .is_ok());
}

#[test]
fn conditions() {
    one(
        &with_tail("path = \"/x\"\nroles_any = []"),
        "empty_list",
        &["rule 1", "\"roles_any\" is an empty list"],
    );
    one(
        &with_tail("path = \"/x\"\nscopes_all = [\"\"]"),
        "empty_entry",
        &["\"scopes_all\" contains an empty string"],
    );
    one(
        &with_tail("path = \"/p/{id}\"\nowner = \"user\""),
        "owner_unknown_param",
        &["rule 1", "owner = \"user\" names no parameter"],
    );
    one(
        &with_tail("path = \"/x\"\nallow = \"public\"\nroles_any = [\"a\"]"),
        "conditions_with_allow",
        &["allow = \"public\" cannot have conditions"],
    );
    one(
        &with_tail("path = \"/x\"\nallow = \"deny\"\nany_of = [{ roles_any = [\"a\"] }]"),
        "conditions_with_allow",
        &["allow = \"deny\""],
    );
    one(
        &with_tail("path = \"/x\"\nany_of = []"),
        "empty_any_of",
        &["rule 1", "\"any_of\" is empty"],
    );
    one(
        &with_tail("path = \"/x\"\nany_of = [{}]"),
        "empty_alternative",
        &["any_of alternative 1 has no conditions"],
    );
    one(
        &with_tail("path = \"/p/{id}\"\nany_of = [{ owner = \"x\" }]"),
        "owner_unknown_param",
        &["owner = \"x\""],
    );
    one(
        &with_tail("path = \"/x\"\nany_of = [{ scopes_any = [] }]"),
        "empty_list",
        &["\"any_of[1].scopes_any\" is an empty list"],
    );
}

#[test]
fn shadowed_rules_are_errors() {
    let src = "[[rule]]\nname = \"all\"\npath = \"/**\"\n\n[[rule]]\npath = \"/admin/**\"\nroles_any = [\"admin\"]\n";
    one(
        src,
        "shadowed_rule",
        &["rule 2: can never match: rule 1 (\"all\") comes first"],
    );
    let src = "[[rule]]\npath = \"/p/{id}\"\nmethods = [\"GET\", \"PUT\"]\n\n[[rule]]\nname = \"me\"\npath = \"/p/me\"\nmethods = [\"PUT\"]\n";
    one(
        src,
        "shadowed_rule",
        &["rule 2 (\"me\")", "rule 1 comes first"],
    );
}

#[test]
fn partial_shadowing_and_other_warnings() {
    let src = "[[rule]]\npath = \"/p/{id}\"\nmethods = [\"GET\"]\n\n[[rule]]\nname = \"x\"\npath = \"/p/me\"\n\n[[rule]]\nname = \"x\"\npath = \"/q\"\n";
    let c = RuleTable::from_toml(src).unwrap();
    let w: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        c.warnings.iter().map(|w| w.code()).collect::<Vec<_>>(),
        ["partly_shadowed", "duplicate_name", "no_catch_all"],
        "{w:?}"
    );
    assert!(
        w[0].contains("rule 2 (\"x\"): is partly shadowed: for GET the earlier rule 1"),
        "{w:?}"
    );
    assert!(
        w[1].contains("rule 3 (\"x\"): has the same name as rule 2"),
        "{w:?}"
    );
}

#[test]
fn all_errors_are_collected_across_rules() {
    let src = "[[rule]]\npath = \"/a//b\"\nmethods = [\"TRACE\"]\n\n[[rule]]\nname = \"two\"\nroles_any = []\n\n[[rule]]\npath = \"/ok\"\n";
    let e = errors(src);
    let codes: Vec<&str> = e.errors().iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "invalid_path_pattern",
            "bad_method",
            "missing_path",
            "empty_list"
        ],
        "{e}"
    );
    assert_eq!(e.errors()[2].rule().map(|r| r.index), Some(2));
    assert_eq!(e.to_string().lines().count(), 4);
}

#[test]
fn a_deny_rule_for_the_remaining_methods_is_not_a_warning() {
    // "Rule 1 decides GET; rule 2 refuses every other method": the intent, not a mistake.
    let src = "[[rule]]\npath = \"/p/{id}\"\nmethods = [\"GET\"]\n\n[[rule]]\npath = \"/p/{id}\"\nallow = \"deny\"\n\n[[rule]]\npath = \"/**\"\n";
    let c = RuleTable::from_toml(src).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // A deny rule that is entirely covered is still dead code: an error.
    let src = "[[rule]]\npath = \"/p/{id}\"\n\n[[rule]]\npath = \"/p/{id}\"\nallow = \"deny\"\n";
    assert!(RuleTable::from_toml(src).is_err());
}
