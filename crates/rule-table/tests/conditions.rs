//! Every rule condition, end to end through the public API: how it is validated (each
//! message in full, top level and inside `any_of`), how it decides, and how `explain`
//! describes its failure. Pins the exact texts so the one-definition table cannot drift.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{explain, normalize_path, Method, Principal, RuleTable, Verdict};

const KEYS: [&str; 5] = [
    "roles_any",
    "roles_all",
    "scopes_any",
    "scopes_all",
    "owner",
];
const LIST_KEYS: [&str; 4] = ["roles_any", "roles_all", "scopes_any", "scopes_all"];
const ALLOWED_IN_ALTERNATIVE: &str =
    "allowed keys: roles_any, roles_all, scopes_any, scopes_all, owner";

/// Every error message, one per line, for a table of one rule (path `/p/{id}`) plus `extra`.
fn messages(extra: &str) -> Vec<String> {
    let src = format!("[[rule]]\npath = \"/p/{{id}}\"\n{extra}\n");
    match RuleTable::from_toml(&src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

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

fn decide(t: &RuleTable, path: &str, p: &Principal) -> (Verdict, &'static str) {
    let d = t.decide(&Method::Get, &normalize_path(path).unwrap(), Some(p));
    (d.verdict, d.reason.code())
}

/// The `why:` line of `rules explain`.
fn why(t: &RuleTable, path: &str, p: &Principal) -> String {
    let out = explain(t, "GET", path, Some(p));
    let line = out.lines().find(|l| l.starts_with("why: ")).unwrap();
    line.trim_start_matches("why: ").to_owned()
}

const F: Verdict = Verdict::Forbidden {
    insufficient_scope: false,
};
const FS: Verdict = Verdict::Forbidden {
    insufficient_scope: true,
};

#[test]
fn an_unknown_rule_key_lists_every_allowed_key() {
    assert_eq!(
        messages("role = [\"a\"]"),
        ["rule 1: unknown key \"role\"; remove it or use one of: name, path, methods, allow, upstream, roles_any, roles_all, scopes_any, scopes_all, owner, any_of"]
    );
}

#[test]
fn mistyped_values_at_the_top_level() {
    for key in LIST_KEYS {
        for bad in ["\"admin\"", "[1]", "5", "{}", "[[\"a\"]]"] {
            assert_eq!(
                messages(&format!("{key} = {bad}")),
                [format!(
                    "rule 1: \"{key}\" must be a list of strings, like [\"admin\"]"
                )],
                "{key} = {bad}"
            );
        }
    }
    for bad in ["5", "[\"id\"]", "true", "{}"] {
        assert_eq!(
            messages(&format!("owner = {bad}")),
            ["rule 1: \"owner\" must be a string naming a path {param}"],
            "owner = {bad}"
        );
    }
}

#[test]
fn empty_lists_entries_and_unknown_params() {
    for key in LIST_KEYS {
        assert_eq!(
            messages(&format!("{key} = []")),
            [format!("rule 1: \"{key}\" is an empty list, which no identity can satisfy; list at least one value or remove the key")]
        );
        assert_eq!(
            messages(&format!("{key} = [\"a\", \"\"]")),
            [format!(
                "rule 1: \"{key}\" contains an empty string; remove it"
            )]
        );
        assert_eq!(
            messages(&format!("any_of = [{{ {key} = [] }}]")),
            [format!("rule 1: \"any_of[1].{key}\" is an empty list, which no identity can satisfy; list at least one value or remove the key")]
        );
        assert_eq!(
            messages(&format!(
                "any_of = [{{ roles_any = [\"x\"] }}, {{ {key} = [\"\"] }}]"
            )),
            [format!(
                "rule 1: \"any_of[2].{key}\" contains an empty string; remove it"
            )]
        );
    }
    assert_eq!(
        messages("owner = \"user\""),
        ["rule 1: owner = \"user\" names no parameter of the path; add a segment {user} to the path or name an existing parameter"]
    );
    assert_eq!(
        messages("any_of = [{ owner = \"x\" }]"),
        ["rule 1: owner = \"x\" names no parameter of the path; add a segment {x} to the path or name an existing parameter"]
    );
}

#[test]
fn several_condition_errors_keep_their_order() {
    // Empty entries first, then empty lists, then owner: the order `rules check` prints.
    assert_eq!(
        messages("roles_any = []\nscopes_all = [\"\"]\nroles_all = [\"\"]\nowner = \"nope\""),
        [
            "rule 1: \"roles_all\" contains an empty string; remove it",
            "rule 1: \"scopes_all\" contains an empty string; remove it",
            "rule 1: \"roles_any\" is an empty list, which no identity can satisfy; list at least one value or remove the key",
            "rule 1: owner = \"nope\" names no parameter of the path; add a segment {nope} to the path or name an existing parameter",
        ]
    );
    // Every mistyped value is reported, in the order roles, scopes, owner.
    assert_eq!(
        messages("owner = 1\nscopes_any = 2\nroles_any = 3"),
        [
            "rule 1: \"roles_any\" must be a list of strings, like [\"admin\"]",
            "rule 1: \"scopes_any\" must be a list of strings, like [\"admin\"]",
            "rule 1: \"owner\" must be a string naming a path {param}",
        ]
    );
}

#[test]
fn a_broken_alternative_reports_its_first_problem() {
    let alt = |inner: &str, problem: &str| {
        assert_eq!(
            messages(&format!("any_of = [{{ roles_any = [\"ok\"] }}, {inner}]")),
            [format!(
                "rule 1: \"any_of[2]\" is not a valid alternative ({problem}); {ALLOWED_IN_ALTERNATIVE}"
            )],
            "{inner}"
        );
    };
    for key in LIST_KEYS {
        alt(
            &format!("{{ {key} = \"x\" }}"),
            "invalid type: string \"x\", expected a sequence",
        );
        alt(
            &format!("{{ {key} = [1] }}"),
            "invalid type: integer `1`, expected a string",
        );
        alt(
            &format!("{{ {key} = {{}} }}"),
            "invalid type: map, expected a sequence",
        );
    }
    alt(
        "{ owner = 5 }",
        "invalid type: integer `5`, expected a string",
    );
    alt(
        "{ owner = [\"id\"] }",
        "invalid type: sequence, expected a string",
    );
    alt(
        "{ owner = 1.5 }",
        "invalid type: floating point `1.5`, expected a string",
    );
    alt(
        "{ owner = true }",
        "invalid type: boolean `true`, expected a string",
    );
    alt(
        "{ role = [\"a\"] }",
        "unknown field `role`, expected one of `roles_any`, `roles_all`, `scopes_any`, `scopes_all`, `owner`",
    );
    // Keys are read in sorted order and the first problem ends the alternative.
    alt(
        "{ zed = 1, owner = 5 }",
        "invalid type: integer `5`, expected a string",
    );
    alt(
        "{ aaa = 1, roles_any = 5 }",
        "unknown field `aaa`, expected one of `roles_any`, `roles_all`, `scopes_any`, `scopes_all`, `owner`",
    );
    // `any_of` and `name` are rule keys, not condition keys.
    alt(
        "{ any_of = [] }",
        "unknown field `any_of`, expected one of `roles_any`, `roles_all`, `scopes_any`, `scopes_all`, `owner`",
    );
}

#[test]
fn every_condition_makes_a_public_or_deny_rule_an_error() {
    for key in KEYS {
        let value = if key == "owner" { "\"id\"" } else { "[\"a\"]" };
        for allow in ["public", "deny"] {
            assert_eq!(
                messages(&format!("allow = \"{allow}\"\n{key} = {value}")),
                [format!("rule 1: allow = \"{allow}\" cannot have conditions (roles_*, scopes_*, owner, any_of); remove them or use allow = \"authenticated\"")],
                "{key} with {allow}"
            );
        }
    }
}

#[test]
fn each_condition_decides_and_explains_its_failure() {
    let t = table(
        "[[rule]]\npath = \"/roles-any\"\nroles_any = [\"admin\", \"ops\"]\n\
         [[rule]]\npath = \"/roles-all\"\nroles_all = [\"a\", \"b\"]\n\
         [[rule]]\npath = \"/scopes-any\"\nscopes_any = [\"read\", \"write\"]\n\
         [[rule]]\npath = \"/scopes-all\"\nscopes_all = [\"r\", \"w\"]\n\
         [[rule]]\npath = \"/u/{id}\"\nowner = \"id\"\n",
    );
    // (path, failing identity, verdict, reason, why, identity that passes)
    let cases = [
        (
            "/roles-any",
            who("u", &["user", "ADMIN"], &["admin"]),
            F,
            "missing_role",
            "needs one of roles [admin, ops]; identity has [user, ADMIN]",
            who("u", &["ops"], &[]),
        ),
        (
            "/roles-all",
            who("u", &["b"], &["a"]),
            F,
            "missing_role",
            "needs all of roles [a, b]; identity has [b]",
            who("u", &["b", "x", "a"], &[]),
        ),
        (
            "/scopes-any",
            who("u", &["read"], &["Read"]),
            FS,
            "missing_scope",
            "needs one of scopes [read, write]; identity has [Read]",
            who("u", &[], &["write"]),
        ),
        (
            "/scopes-all",
            who("u", &["w"], &["r"]),
            FS,
            "missing_scope",
            "needs all of scopes [r, w]; identity has [r]",
            who("u", &[], &["w", "r"]),
        ),
        (
            "/u/bob",
            who("alice", &["bob"], &["bob"]),
            F,
            "not_owner",
            "needs the owner: {id} is \"bob\" but sub is \"alice\"",
            who("bob", &[], &[]),
        ),
    ];
    for (path, fails, verdict, reason, because, passes) in cases {
        assert_eq!(decide(&t, path, &fails), (verdict, reason), "{path}");
        assert_eq!(why(&t, path, &fails), because, "{path}");
        assert_eq!(
            decide(&t, path, &passes),
            (Verdict::Allow, "conditions_met"),
            "{path}"
        );
        assert_eq!(why(&t, path, &passes), "all the rule's conditions hold");
    }
}

#[test]
fn conditions_are_checked_roles_then_scopes_then_owner() {
    let t = table(
        "[[rule]]\npath = \"/u/{id}\"\nowner = \"id\"\nscopes_all = [\"s\"]\nroles_all = [\"r\"]\nscopes_any = [\"t\"]\nroles_any = [\"q\"]\n",
    );
    let steps = [
        (
            who("x", &[], &[]),
            F,
            "missing_role",
            "needs one of roles [q]; identity has []",
        ),
        (
            who("x", &["q"], &[]),
            F,
            "missing_role",
            "needs all of roles [r]; identity has [q]",
        ),
        (
            who("x", &["q", "r"], &[]),
            FS,
            "missing_scope",
            "needs one of scopes [t]; identity has []",
        ),
        (
            who("x", &["q", "r"], &["t"]),
            FS,
            "missing_scope",
            "needs all of scopes [s]; identity has [t]",
        ),
        (
            who("x", &["q", "r"], &["t", "s"]),
            F,
            "not_owner",
            "needs the owner: {id} is \"me\" but sub is \"x\"",
        ),
    ];
    for (p, verdict, reason, because) in steps {
        assert_eq!(decide(&t, "/u/me", &p), (verdict, reason), "{p:?}");
        assert_eq!(why(&t, "/u/me", &p), because, "{p:?}");
    }
    let me = who("me", &["q", "r"], &["t", "s"]);
    assert_eq!(decide(&t, "/u/me", &me), (Verdict::Allow, "conditions_met"));
}

#[test]
fn alternatives_explain_each_failure_and_flag_scope() {
    let t = table(
        "[[rule]]\npath = \"/u/{id}\"\nroles_any = [\"member\"]\n\
         any_of = [{ owner = \"id\" }, { roles_all = [\"admin\", \"audit\"] }, { scopes_any = [\"support\"] }]\n",
    );
    let member = who("x", &["member", "admin"], &[]);
    assert_eq!(decide(&t, "/u/y", &member), (FS, "no_alternative_met"));
    assert_eq!(
        why(&t, "/u/y", &member),
        "no any_of alternative holds (alternative 1: needs the owner: {id} is \"y\" but sub is \"x\"; \
         alternative 2: needs all of roles [admin, audit]; identity has [member, admin]; \
         alternative 3: needs one of scopes [support]; identity has [])"
    );
    // The top-level conditions are checked first and explained alone.
    let outsider = who("y", &["admin", "audit"], &["support"]);
    assert_eq!(decide(&t, "/u/y", &outsider), (F, "missing_role"));
    assert_eq!(
        why(&t, "/u/y", &outsider),
        "needs one of roles [member]; identity has [admin, audit]"
    );
    for p in [
        who("y", &["member"], &[]),
        who("x", &["member", "audit", "admin"], &[]),
        who("x", &["member"], &["support"]),
    ] {
        assert_eq!(
            decide(&t, "/u/y", &p),
            (Verdict::Allow, "conditions_met"),
            "{p:?}"
        );
    }
    // No scope alternative: the 403 is not insufficient_scope.
    let t = table(
        "[[rule]]\npath = \"/u/{id}\"\nany_of = [{ owner = \"id\" }, { roles_any = [\"a\"] }]\n",
    );
    assert_eq!(
        decide(&t, "/u/y", &who("x", &[], &["a"])),
        (F, "no_alternative_met")
    );
}

#[test]
fn an_alternative_must_be_a_table() {
    let alt = |inner: &str, found: &str| {
        assert_eq!(
            messages(&format!("any_of = [{{ owner = \"id\" }}, {inner}]")),
            [format!(
                "rule 1: \"any_of[2]\" is not a valid alternative (invalid type: {found}, expected a table of conditions); {ALLOWED_IN_ALTERNATIVE}"
            )],
            "{inner}"
        );
    };
    alt("\"roles_any\"", "string \"roles_any\"");
    alt("5", "integer `5`");
    alt("1.5", "floating point `1.5`");
    alt("true", "boolean `true`");
    alt("1979-05-27", "date-time");
    alt("[]", "sequence");
    alt("[\"admin\"]", "sequence");
    // A list of every condition's value in table order is not an alternative either (serde
    // would read it positionally; the format has no such syntax, so it is refused).
    alt(
        "[[\"admin\"], [\"a\"], [\"s\"], [\"t\"], \"id\"]",
        "sequence",
    );
}
