//! Table validation errors and warnings, each naming the rule and the fix.

use crate::pattern::PatternProblem;
use std::fmt;
use std::sync::Arc;

/// A reference to a rule: its 1-based position in the file and its name, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleRef {
    /// 1-based position in file order.
    pub index: usize,
    /// The rule's `name`, if it has one (shared, so decisions do not allocate).
    pub name: Option<Arc<str>>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "rule {} ({n:?})", self.index),
            None => write!(f, "rule {}", self.index),
        }
    }
}

/// One problem found while compiling a rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    rule: Option<RuleRef>,
    kind: TableErrorKind,
}

impl TableError {
    pub(crate) fn new(rule: Option<RuleRef>, kind: TableErrorKind) -> Self {
        Self { rule, kind }
    }

    /// The rule the problem is in (`None` for table-level problems).
    pub fn rule(&self) -> Option<&RuleRef> {
        self.rule.as_ref()
    }

    /// What is wrong.
    pub fn kind(&self) -> &TableErrorKind {
        &self.kind
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) => write!(f, "{r}: {}", self.kind),
            None => write!(f, "table: {}", self.kind),
        }
    }
}

impl std::error::Error for TableError {}

/// The kinds of rule-table errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableErrorKind {
    /// The file is not valid TOML (the parser's message, with line and column).
    Syntax(String),
    /// A key that is not part of the format.
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys allowed in that place.
        allowed: &'static str,
    },
    /// A key has a value of the wrong type or an unknown value.
    InvalidValue {
        /// The key.
        key: String,
        /// What was expected.
        expected: String,
    },
    /// The table has no `[[rule]]` entries.
    NoRules,
    /// A rule has no `path`.
    MissingPath,
    /// The rule's `path` is not a valid, normalized pattern.
    Path {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        problem: PatternProblem,
    },
    /// A method name that rules cannot use.
    BadMethod {
        /// The method as written.
        method: String,
        /// Why it is refused and what to do.
        why: &'static str,
    },
    /// A method listed twice.
    DuplicateMethod(String),
    /// `methods = []`.
    EmptyMethods,
    /// A role or scope list is empty.
    EmptyList(String),
    /// A role or scope list contains an empty string.
    EmptyEntry(String),
    /// `owner` names a parameter the path does not have.
    OwnerUnknownParam(String),
    /// `allow = "public"` or `"deny"` together with conditions.
    ConditionsWithAllow {
        /// "public" or "deny".
        allow: &'static str,
    },
    /// `any_of = []`.
    EmptyAnyOf,
    /// An `any_of` alternative with no condition.
    EmptyAlternative(usize),
    /// The rule can never match: an earlier rule covers its path and methods.
    Shadowed(RuleRef),
    /// An `[upstream.<name>]` table is invalid.
    Upstream {
        /// The upstream's name.
        name: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A rule names an upstream that is not declared.
    UnknownUpstream {
        /// The name as written.
        name: String,
        /// The declared upstreams, comma-separated (empty when there are none).
        declared: String,
    },
    /// `path = "strip_prefix"` on a rule whose pattern starts with no literal segment.
    StripPrefixWithoutLiteral {
        /// The upstream.
        upstream: String,
        /// The rule's path pattern.
        path: String,
    },
    /// `upstream` on an `allow = "deny"` rule, which never forwards.
    UpstreamOnDeny,
}

impl TableErrorKind {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "toml_syntax",
            Self::UnknownKey { .. } => "unknown_key",
            Self::InvalidValue { .. } => "invalid_value",
            Self::NoRules => "no_rules",
            Self::MissingPath => "missing_path",
            Self::Path { .. } => "invalid_path_pattern",
            Self::BadMethod { .. } => "bad_method",
            Self::DuplicateMethod(_) => "duplicate_method",
            Self::EmptyMethods => "empty_methods",
            Self::EmptyList(_) => "empty_list",
            Self::EmptyEntry(_) => "empty_entry",
            Self::OwnerUnknownParam(_) => "owner_unknown_param",
            Self::ConditionsWithAllow { .. } => "conditions_with_allow",
            Self::EmptyAnyOf => "empty_any_of",
            Self::EmptyAlternative(_) => "empty_alternative",
            Self::Shadowed(_) => "shadowed_rule",
            Self::Upstream { .. } => "invalid_upstream",
            Self::UnknownUpstream { .. } => "unknown_upstream",
            Self::StripPrefixWithoutLiteral { .. } => "strip_prefix_without_literal",
            Self::UpstreamOnDeny => "upstream_on_deny",
        }
    }
}

impl fmt::Display for TableErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(m) => write!(f, "not valid TOML: {}", m.trim_end()),
            Self::UnknownKey { key, allowed } => {
                write!(f, "unknown key {key:?}; remove it or use one of: {allowed}")
            }
            Self::InvalidValue { key, expected } => write!(f, "{key:?} {expected}"),
            Self::NoRules => write!(
                f,
                "no [[rule]] entries, so every request would be denied; add rules (end with path = \"/**\" for a default)"
            ),
            Self::MissingPath => write!(f, "missing \"path\"; every rule needs a path pattern such as \"/api/**\""),
            Self::Path { path, problem } => write!(f, "path {path:?} {problem}"),
            Self::BadMethod { method, why } => write!(f, "method {method:?} {why}"),
            Self::DuplicateMethod(m) => write!(f, "method {m:?} is listed twice in \"methods\"; list it once"),
            Self::EmptyMethods => write!(
                f,
                "\"methods\" is empty, so the rule could never match; list methods or remove the key to match every method"
            ),
            Self::EmptyList(k) => write!(
                f,
                "{k:?} is an empty list, which no identity can satisfy; list at least one value or remove the key"
            ),
            Self::EmptyEntry(k) => write!(f, "{k:?} contains an empty string; remove it"),
            Self::OwnerUnknownParam(p) => write!(
                f,
                "owner = {p:?} names no parameter of the path; add a segment {{{p}}} to the path or name an existing parameter"
            ),
            Self::ConditionsWithAllow { allow } => write!(
                f,
                "allow = {allow:?} cannot have conditions (roles_*, scopes_*, owner, any_of); remove them or use allow = \"authenticated\""
            ),
            Self::EmptyAnyOf => write!(
                f,
                "\"any_of\" is empty, so no alternative could hold; add alternatives or remove the key"
            ),
            Self::EmptyAlternative(n) => write!(
                f,
                "any_of alternative {n} has no conditions, so it always holds; give it conditions or remove the any_of"
            ),
            Self::Shadowed(by) => write!(
                f,
                "can never match: {by} comes first and covers its path and methods; move this rule above it or remove it"
            ),
            Self::Upstream { name, problem } => write!(f, "upstream {name:?}: {problem}"),
            Self::UnknownUpstream { name, declared } if declared.is_empty() => write!(
                f,
                "upstream = {name:?} names no upstream; declare it as [upstream.{name}] with a url"
            ),
            Self::UnknownUpstream { name, declared } => write!(
                f,
                "upstream = {name:?} names no upstream; declare [upstream.{name}] or use one of: {declared}"
            ),
            Self::StripPrefixWithoutLiteral { upstream, path } => write!(
                f,
                "upstream {upstream:?} maps paths with path = \"strip_prefix\", but path {path:?} starts with no literal segment to strip; give the rule a literal prefix (\"/ai/**\") or use path = \"normalized\""
            ),
            Self::UpstreamOnDeny => write!(
                f,
                "allow = \"deny\" never forwards, so \"upstream\" has no effect; remove it"
            ),
        }
    }
}

/// All errors found in a rule table (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableErrors(Vec<TableError>);

impl TableErrors {
    pub(crate) fn new(errors: Vec<TableError>) -> Self {
        Self(errors)
    }

    /// The individual errors, in file order.
    pub fn errors(&self) -> &[TableError] {
        &self.0
    }
}

impl fmt::Display for TableErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TableErrors {}

/// Something legal but probably unintended in a rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    rule: Option<RuleRef>,
    message: String,
    code: &'static str,
}

impl Warning {
    pub(crate) fn new(rule: Option<RuleRef>, code: &'static str, message: String) -> Self {
        Self {
            rule,
            message,
            code,
        }
    }

    /// The rule concerned, if any.
    pub fn rule(&self) -> Option<&RuleRef> {
        self.rule.as_ref()
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) => write!(f, "warning: {r}: {}", self.message),
            None => write!(f, "warning: table: {}", self.message),
        }
    }
}
