//! The conditions a rule can require, one definition each: its key, what it checks (which
//! fixes the shape of its value), the reason it fails with, what `explain` says then and its
//! line in the docs. Parsing, validation, [`RuleTable::decide`](crate::RuleTable::decide),
//! [`explain`](crate::explain) and the documented key lists all come from [`CONDITIONS`];
//! adding a condition that checks like an existing one is one entry there (plus its tests,
//! and `REGENERATE_CONDITION_DOCS=1 cargo test -p rule-table conditions` for the docs); a new
//! kind of check also adds a [`Check`] variant and its arms in [`Condition`].
//!
//! A rule's conditions are compiled into [`Test`]s, which a request evaluates with one
//! `match`: no allocation, no call through a pointer.

use crate::decide::{Principal, Reason};
use crate::error::TableErrorKind as K;
use crate::path::NormalizedPath;
use crate::pattern::Pattern;
use std::fmt;
use toml::{Table, Value};

/// Everything about one condition.
#[derive(Debug)]
pub(crate) struct ConditionDef {
    /// Its key, in a `[[rule]]` or an `any_of` alternative.
    pub(crate) key: &'static str,
    /// What it checks; this also fixes what its value is.
    check: Check,
    /// The decision's reason when it is the first condition to fail.
    fails_with: Reason,
    /// How `explain` describes a failure ("needs one of roles [a, b]; identity has [c]").
    needs: &'static str,
    /// Its value as the docs show it.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by the tests that keep the docs")
    )]
    example: &'static str,
    /// When it holds, as the docs say it (one line).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by the tests that keep the docs")
    )]
    doc: &'static str,
}

/// What a condition checks.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// The value lists names; the identity's `Claim` has at least one of them.
    AnyOf(Claim),
    /// The value lists names; the identity's `Claim` has every one of them.
    AllOf(Claim),
    /// The value names a `{param}` of the path; the segment it captures equals `sub`.
    SegmentIsSub,
}

/// A list of names the identity carries.
#[derive(Debug, Clone, Copy)]
enum Claim {
    Roles,
    Scopes,
}

impl Claim {
    fn of(self, p: &Principal) -> &[String] {
        match self {
            Claim::Roles => &p.roles,
            Claim::Scopes => &p.scopes,
        }
    }
}

/// Every condition, in the order a request checks them (so the first failure, which names
/// the decision's reason and is what `explain` describes, is roles before scopes before owner).
pub(crate) static CONDITIONS: &[ConditionDef] = &[
    ConditionDef {
        key: "roles_any",
        check: Check::AnyOf(Claim::Roles),
        fails_with: Reason::MissingRole,
        needs: "needs one of roles",
        example: "[\"...\"]",
        doc: "the identity has at least one of these roles",
    },
    ConditionDef {
        key: "roles_all",
        check: Check::AllOf(Claim::Roles),
        fails_with: Reason::MissingRole,
        needs: "needs all of roles",
        example: "[\"...\"]",
        doc: "the identity has every one of these roles",
    },
    ConditionDef {
        key: "scopes_any",
        check: Check::AnyOf(Claim::Scopes),
        fails_with: Reason::MissingScope,
        needs: "needs one of scopes",
        example: "[\"...\"]",
        doc: "the token grants at least one of these OAuth scopes",
    },
    ConditionDef {
        key: "scopes_all",
        check: Check::AllOf(Claim::Scopes),
        fails_with: Reason::MissingScope,
        needs: "needs all of scopes",
        example: "[\"...\"]",
        doc: "the token grants every one of these OAuth scopes",
    },
    ConditionDef {
        key: "owner",
        check: Check::SegmentIsSub,
        fails_with: Reason::NotOwner,
        needs: "needs the owner",
        example: "\"id\"",
        doc: "the {id} segment must equal the token's `sub`",
    },
];

/// The condition keys, in table order.
pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
    CONDITIONS.iter().map(|d| d.key)
}

/// The definition for `key`, if it is a condition key.
pub(crate) fn find(key: &str) -> Option<&'static ConditionDef> {
    CONDITIONS.iter().find(|d| d.key == key)
}

/// What a condition's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A non-empty list of non-empty names, compared exactly.
    Names,
    /// The name of a `{param}` of the rule's path.
    PathParam,
}

/// A condition's value as written, read but not yet checked against its rule.
#[derive(Debug)]
enum Written {
    Names(Vec<String>),
    PathParam(String),
}

/// Conditions as written (a rule's top level, or one `any_of` alternative), in table order.
#[derive(Debug, Default)]
pub(crate) struct WrittenConditions(Vec<(&'static ConditionDef, Written)>);

impl ConditionDef {
    fn shape(&self) -> Shape {
        match self.check {
            Check::AnyOf(_) | Check::AllOf(_) => Shape::Names,
            Check::SegmentIsSub => Shape::PathParam,
        }
    }

    /// What the value must be, for the message about a mistyped one.
    fn expected(&self) -> &'static str {
        match self.shape() {
            Shape::Names => "must be a list of strings, like [\"admin\"]",
            Shape::PathParam => "must be a string naming a path {param}",
        }
    }

    /// Reads the value; the error is the deserializer's account of the mismatch.
    fn read(&self, v: &Value) -> Result<Written, toml::de::Error> {
        match self.shape() {
            Shape::Names => v.clone().try_into().map(Written::Names),
            Shape::PathParam => v.clone().try_into().map(Written::PathParam),
        }
    }

    /// Checks the value against its rule: the compiled condition, or the problem (`None`:
    /// the rule's path is invalid, which is reported already and fails the rule).
    fn compile(
        &'static self,
        written: Written,
        pattern: Option<&Pattern>,
        prefix: &str,
    ) -> Result<Condition, Option<K>> {
        let names = |names: Vec<String>| {
            let key = format!("{prefix}{}", self.key);
            if names.is_empty() {
                return Err(Some(K::EmptyList(key)));
            }
            if names.iter().any(String::is_empty) {
                return Err(Some(K::EmptyEntry(key)));
            }
            Ok(names.into_boxed_slice())
        };
        let test = match (self.check, written) {
            (Check::AnyOf(claim), Written::Names(n)) => Test::AnyOf(claim, names(n)?),
            (Check::AllOf(claim), Written::Names(n)) => Test::AllOf(claim, names(n)?),
            (Check::SegmentIsSub, Written::PathParam(param)) => {
                let pattern = pattern.ok_or(None)?;
                match pattern.param_index(&param) {
                    Some(segment) => Test::SegmentIsSub {
                        param: param.into_boxed_str(),
                        segment,
                    },
                    // The one path-parameter condition is `owner`, and its error says so.
                    None => return Err(Some(K::OwnerUnknownParam(param))),
                }
            }
            // `read` builds the value of this very shape; should another reach here, the
            // table is refused rather than compiled without the condition.
            (Check::AnyOf(_) | Check::AllOf(_) | Check::SegmentIsSub, _) => {
                return Err(Some(K::InvalidValue {
                    key: format!("{prefix}{}", self.key),
                    expected: self.expected().to_owned(),
                }))
            }
        };
        Ok(Condition { def: self, test })
    }
}

impl WrittenConditions {
    /// Reads the condition keys of a rule; each mistyped value is reported with `invalid`.
    pub(crate) fn read_rule(t: &Table, mut invalid: impl FnMut(K)) -> Self {
        let mut out = Vec::new();
        for def in CONDITIONS {
            let Some(v) = t.get(def.key) else { continue };
            match def.read(v) {
                Ok(w) => out.push((def, w)),
                Err(_) => invalid(K::InvalidValue {
                    key: def.key.to_owned(),
                    expected: def.expected().to_owned(),
                }),
            }
        }
        Self(out)
    }

    /// Reads one `any_of` alternative, key by key; its first problem ends it.
    pub(crate) fn read_alternative(t: &Table) -> Result<Self, String> {
        let mut out = Vec::with_capacity(t.len());
        for (key, v) in t {
            let def = find(key).ok_or_else(|| {
                let expected: Vec<String> = keys().map(|k| format!("`{k}`")).collect();
                format!(
                    "unknown field `{key}`, expected one of {}",
                    expected.join(", ")
                )
            })?;
            let w = def.read(v).map_err(|e| e.message().trim_end().to_owned())?;
            out.push((def, w));
        }
        // Checked in table order, whatever order they were written in.
        out.sort_by_key(|(def, _)| CONDITIONS.iter().position(|d| d.key == def.key));
        Ok(Self(out))
    }

    /// Checks every value against the rule (`prefix` names where they were written, like
    /// `any_of[2].`) and reports each problem with `problem`.
    pub(crate) fn compile(
        self,
        pattern: Option<&Pattern>,
        prefix: &str,
        mut problem: impl FnMut(K),
    ) -> Conditions {
        let mut conditions = Vec::with_capacity(self.0.len());
        let mut problems = Vec::new();
        for (def, written) in self.0 {
            match def.compile(written, pattern, prefix) {
                Ok(c) => conditions.push(c),
                Err(Some(p)) => problems.push(p),
                Err(None) => {}
            }
        }
        // Reported by kind, as `rules check` always has: empty entries, empty lists, params.
        problems.sort_by_key(|p| match p {
            K::EmptyEntry(_) => 0,
            K::EmptyList(_) => 1,
            _ => 2,
        });
        problems.into_iter().for_each(&mut problem);
        Conditions(conditions.into_boxed_slice())
    }
}

/// A condition compiled into a rule.
#[derive(Clone)]
pub(crate) struct Condition {
    def: &'static ConditionDef,
    test: Test,
}

/// A condition's check with its validated value.
#[derive(Debug, Clone)]
enum Test {
    AnyOf(Claim, Box<[String]>),
    AllOf(Claim, Box<[String]>),
    SegmentIsSub {
        param: Box<str>,
        /// The index of the path segment the parameter captures.
        segment: usize,
    },
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:?}", self.def.key, self.test)
    }
}

impl Condition {
    fn holds(&self, p: &Principal, path: &NormalizedPath) -> bool {
        match &self.test {
            Test::AnyOf(claim, wanted) => {
                let has = claim.of(p);
                wanted.iter().any(|w| has.contains(w))
            }
            Test::AllOf(claim, wanted) => {
                let has = claim.of(p);
                wanted.iter().all(|w| has.contains(w))
            }
            Test::SegmentIsSub { segment, .. } => path.segment(*segment) == Some(p.sub.as_str()),
        }
    }

    /// What the condition needs that the request does not give (for `explain`).
    pub(crate) fn explain(&self, p: &Principal, path: &NormalizedPath) -> String {
        let needs = self.def.needs;
        match &self.test {
            Test::AnyOf(claim, wanted) | Test::AllOf(claim, wanted) => format!(
                "{needs} [{}]; identity has [{}]",
                wanted.join(", "),
                claim.of(p).join(", ")
            ),
            Test::SegmentIsSub { param, segment } => format!(
                "{needs}: {{{param}}} is {:?} but sub is {:?}",
                path.segment(*segment).unwrap_or(""),
                p.sub
            ),
        }
    }
}

/// A set of conditions that must all hold, in table order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions(Box<[Condition]>);

impl Conditions {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scope names these conditions list (`scopes_any`, `scopes_all`), in table order.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter_map(|c| match &c.test {
                Test::AnyOf(Claim::Scopes, names) | Test::AllOf(Claim::Scopes, names) => {
                    Some(names.iter().map(String::as_str))
                }
                Test::AnyOf(Claim::Roles, _)
                | Test::AllOf(Claim::Roles, _)
                | Test::SegmentIsSub { .. } => None,
            })
            .flatten()
    }

    /// The first condition that fails, in table order.
    pub(crate) fn first_failure(&self, p: &Principal, path: &NormalizedPath) -> Option<&Condition> {
        self.0.iter().find(|c| !c.holds(p, path))
    }

    /// The reason of the first failing condition.
    pub(crate) fn check(&self, p: &Principal, path: &NormalizedPath) -> Result<(), Reason> {
        match self.first_failure(p, path) {
            None => Ok(()),
            Some(c) => Err(c.def.fails_with),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The docs list the conditions from [`CONDITIONS`]; these tests fail when they differ.
    //! `REGENERATE_CONDITION_DOCS=1 cargo test -p rule-table conditions` rewrites them.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::path::{Path, PathBuf};

    const README_BEGIN: &str = "<!-- conditions: generated from src/conditions.rs, do not edit -->";
    const README_END: &str = "<!-- end of conditions -->";
    /// In rules.toml the generated lines sit between these two existing lines.
    const TOML_BEFORE: &str = "#   Conditions (";
    const TOML_AFTER: &str = "#   any_of ";

    fn file(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }

    fn readme_block() -> String {
        let mut out =
            String::from("| key | value | holds when | otherwise |\n| --- | --- | --- | --- |\n");
        for d in CONDITIONS {
            let value = match d.shape() {
                Shape::Names => "a non-empty list of non-empty strings",
                Shape::PathParam => "the name of a `{param}` of the path",
            };
            let scope = match d.fails_with {
                Reason::MissingScope => ", `insufficient_scope`",
                _ => "",
            };
            out.push_str(&format!(
                "| `{}` | {value}, e.g. `{}` | {} | 403{scope}, reason `{}` |\n",
                d.key,
                d.example,
                d.doc,
                d.fails_with.code()
            ));
        }
        out
    }

    fn toml_block() -> String {
        CONDITIONS
            .iter()
            .map(|d| format!("#   {:<10} = {:<19} {}\n", d.key, d.example, d.doc))
            .collect()
    }

    /// Replaces what lies between the line starting with `before` and the next line
    /// starting with `after` by `block`.
    fn splice(text: &str, before: &str, after: &str, block: &str) -> String {
        let start = text.find(before).expect("start marker");
        let start = start + text[start..].find('\n').expect("end of start line") + 1;
        let end = start + text[start..].find(after).expect("end marker");
        format!("{}{block}{}", &text[..start], &text[end..])
    }

    /// Asserts the file holds `block` where it belongs, or rewrites it when asked to.
    fn check(relative: &str, before: &str, after: &str, block: &str) {
        let path = file(relative);
        let text = std::fs::read_to_string(&path).unwrap();
        let wanted = splice(&text, before, after, block);
        if std::env::var_os("REGENERATE_CONDITION_DOCS").is_some() {
            std::fs::write(&path, &wanted).unwrap();
            return;
        }
        assert!(
            text == wanted,
            "{relative} does not list the conditions of src/conditions.rs; run \
             REGENERATE_CONDITION_DOCS=1 cargo test -p rule-table conditions and review the \
             diff. Expected:\n{block}"
        );
    }

    #[test]
    fn the_crate_readme_lists_every_condition() {
        check("README.md", README_BEGIN, README_END, &readme_block());
    }

    #[test]
    fn the_rules_toml_header_lists_every_condition() {
        check(
            "../../workers/authz/rules.toml",
            TOML_BEFORE,
            TOML_AFTER,
            &toml_block(),
        );
    }

    #[test]
    fn the_project_readme_names_every_condition() {
        let text = std::fs::read_to_string(file("../../README.md")).unwrap();
        let start = text.find("## The rule table").unwrap();
        let section = &text[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        let words: Vec<&str> = section
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        for key in keys() {
            assert!(
                words.contains(&key),
                "README.md's rule-table section does not mention the condition {key:?}"
            );
        }
    }

    #[test]
    fn the_conditions_with_allow_message_covers_every_condition() {
        let msg = K::ConditionsWithAllow { allow: "public" }.to_string();
        let listed = msg.split('(').nth(1).unwrap().split(')').next().unwrap();
        let patterns: Vec<&str> = listed.split(", ").collect();
        for key in keys() {
            assert!(
                patterns.iter().any(|p| match p.strip_suffix('*') {
                    Some(prefix) => key.starts_with(prefix),
                    None => *p == key,
                }),
                "{msg:?} does not cover {key:?}"
            );
        }
    }

    #[test]
    fn keys_are_unique_and_not_other_rule_keys() {
        let all: Vec<&str> = keys().collect();
        for (i, k) in all.iter().enumerate() {
            assert!(!all[..i].contains(k), "{k} twice");
            assert!(!["name", "path", "methods", "allow", "any_of"].contains(k));
        }
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_an_error() {
        let owner = find("owner").unwrap();
        // An error, not a rule compiled without the condition.
        let pattern = Pattern::parse("/p/{id}", false).unwrap();
        let refused = owner.compile(Written::Names(vec!["id".into()]), Some(&pattern), "");
        assert!(
            matches!(&refused, Err(Some(K::InvalidValue { key, .. })) if key == "owner"),
            "{refused:?}"
        );
        let roles = find("roles_any").unwrap();
        let refused = roles.compile(
            Written::PathParam("id".into()),
            Some(&pattern),
            "any_of[1].",
        );
        assert!(
            matches!(&refused, Err(Some(K::InvalidValue { key, .. })) if key == "any_of[1].roles_any"),
            "{refused:?}"
        );
    }
}
