//! From TOML text to a validated [`RuleTable`], collecting every error.

use crate::conditions::{self, Conditions, WrittenConditions};
use crate::decide::{Access, Rule, RuleTable};
use crate::error::{RuleRef, TableError, TableErrorKind as K, TableErrors, Warning};
use crate::index::FirstSegmentIndex;
use crate::method::{Method, MethodError, MethodSet};
use crate::pattern::Pattern;
use crate::upstream::{self, PathMapping, Upstream};
use serde::de::{DeserializeOwned, Unexpected};
use std::sync::{Arc, LazyLock};
use toml::{Table, Value};

/// A compiled table plus the warnings found while compiling it.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The table, ready for [`RuleTable::decide`].
    pub table: RuleTable,
    /// Legal but probably unintended things (e.g. partly shadowed rules).
    pub warnings: Vec<Warning>,
}

const TOP_KEYS: &str = "case_sensitive, upstream, rule";
/// The keys of a rule besides its conditions: these come first, then the conditions, then
/// `any_of` (the order "unknown key" messages list them in).
const RULE_KEYS_BEFORE_CONDITIONS: &[&str] = &["name", "path", "methods", "allow", "upstream"];
const ANY_OF: &str = "any_of";

/// Every key of a rule, for "unknown key" messages.
static RULE_KEYS_TEXT: LazyLock<String> = LazyLock::new(|| {
    let keys: Vec<&str> = RULE_KEYS_BEFORE_CONDITIONS
        .iter()
        .copied()
        .chain(conditions::keys())
        .chain([ANY_OF])
        .collect();
    keys.join(", ")
});

/// The keys of an `any_of` alternative, for its messages.
static ALTERNATIVE_KEYS_TEXT: LazyLock<String> =
    LazyLock::new(|| conditions::keys().collect::<Vec<_>>().join(", "));

fn is_rule_key(key: &str) -> bool {
    RULE_KEYS_BEFORE_CONDITIONS.contains(&key) || key == ANY_OF || conditions::find(key).is_some()
}

/// Error collector bound to one rule.
struct Ctx<'a> {
    rref: Option<RuleRef>,
    errors: &'a mut Vec<TableError>,
}

impl Ctx<'_> {
    fn push(&mut self, kind: K) {
        self.errors.push(TableError::new(self.rref.clone(), kind));
    }

    fn get<T: DeserializeOwned>(&mut self, t: &Table, key: &str, expected: &str) -> Option<T> {
        let v = t.get(key)?;
        match v.clone().try_into::<T>() {
            Ok(x) => Some(x),
            Err(_) => {
                self.push(K::InvalidValue {
                    key: key.to_owned(),
                    expected: expected.to_owned(),
                });
                None
            }
        }
    }
}

impl RuleTable {
    /// Parses and validates a rule table; on failure returns every error found.
    pub fn from_toml(src: &str) -> Result<Compiled, TableErrors> {
        let mut errors = Vec::new();
        let top: Table = match src.parse() {
            Ok(t) => t,
            Err(e) => {
                let e: toml::de::Error = e;
                let kind = K::Syntax(e.to_string());
                return Err(TableErrors::new(vec![TableError::new(None, kind)]));
            }
        };
        let mut ctx = Ctx {
            rref: None,
            errors: &mut errors,
        };
        for key in top
            .keys()
            .filter(|k| !matches!(k.as_str(), "case_sensitive" | "rule" | "upstream"))
        {
            ctx.push(K::UnknownKey {
                key: key.clone(),
                allowed: TOP_KEYS,
            });
        }
        let case_sensitive = ctx
            .get::<bool>(&top, "case_sensitive", "must be true or false")
            .unwrap_or(false);
        let entries = match top.get("rule") {
            None => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => {
                ctx.push(K::InvalidValue {
                    key: "rule".into(),
                    expected: "must be an array of tables: write each rule as [[rule]]".into(),
                });
                Vec::new()
            }
        };
        if entries.is_empty() && ctx.errors.is_empty() {
            ctx.push(K::NoRules);
        }
        let (upstreams, declared) = compile_upstreams(&top, &mut errors);
        let mut rules = Vec::with_capacity(entries.len());
        let mut all_ok = true;
        for (i, entry) in entries.iter().enumerate() {
            match compile_rule(
                i + 1,
                entry,
                case_sensitive,
                (&upstreams, &declared),
                &mut errors,
            ) {
                Some(r) => rules.push(r),
                None => all_ok = false,
            }
        }
        let mut warnings = Vec::new();
        // Shadowing is only meaningful when every rule compiled (indices line up).
        if all_ok {
            crate::lint::check_shadowing(&rules, &mut errors, &mut warnings);
        }
        if !errors.is_empty() {
            return Err(TableErrors::new(errors));
        }
        crate::lint::check_names_and_default(&rules, &mut warnings);
        crate::lint::check_unused_upstreams(&rules, &upstreams, &mut warnings);
        Ok(Compiled {
            table: RuleTable {
                index: FirstSegmentIndex::new(rules.iter().map(|r| &r.pattern), case_sensitive),
                rules,
                case_sensitive,
                upstreams,
            },
            warnings,
        })
    }
}

/// Every `[upstream.<name>]`, in name order; an invalid one is reported and left out (so a
/// rule naming it is not reported a second time as naming no upstream, it is kept as a name).
fn compile_upstreams(
    top: &Table,
    errors: &mut Vec<TableError>,
) -> (Vec<Arc<Upstream>>, Vec<String>) {
    let Some(v) = top.get("upstream") else {
        return (Vec::new(), Vec::new());
    };
    let Some(table) = v.as_table() else {
        let kind = K::InvalidValue {
            key: "upstream".into(),
            expected: "must be a table of upstreams: write each as [upstream.<name>]".into(),
        };
        errors.push(TableError::new(None, kind));
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::with_capacity(table.len());
    for (name, value) in table {
        let mut problems = Vec::new();
        match upstream::compile(name, value, &mut problems) {
            Some(u) if problems.is_empty() => out.push(Arc::new(u)),
            _ => {
                for problem in problems {
                    let kind = K::Upstream {
                        name: name.clone(),
                        problem,
                    };
                    errors.push(TableError::new(None, kind));
                }
            }
        }
    }
    (out, table.keys().cloned().collect())
}

/// The rule's `upstream`: the upstream and how many segments `strip_prefix` drops.
fn compile_rule_upstream(
    ctx: &mut Ctx<'_>,
    t: &Table,
    pattern: Option<&Pattern>,
    (upstreams, declared): (&[Arc<Upstream>], &[String]),
) -> Option<Option<(Arc<Upstream>, usize)>> {
    let Some(name) = ctx.get::<String>(t, "upstream", "must be the name of an [upstream.<name>]")
    else {
        return (!t.contains_key("upstream")).then_some(None);
    };
    if declared.contains(&name) && !upstreams.iter().any(|u| u.name() == name) {
        // Declared but invalid: its own errors say why.
        return None;
    }
    let Some(upstream) = upstreams.iter().find(|u| u.name() == name) else {
        ctx.push(K::UnknownUpstream {
            name,
            declared: declared.join(", "),
        });
        return None;
    };
    let pattern = pattern?;
    let strip = match upstream.path_mapping() {
        PathMapping::Normalized => 0,
        PathMapping::StripPrefix => {
            let n = pattern.literal_prefix();
            if n == 0 {
                ctx.push(K::StripPrefixWithoutLiteral {
                    upstream: name,
                    path: pattern.source().to_owned(),
                });
                return None;
            }
            n
        }
    };
    Some(Some((Arc::clone(upstream), strip)))
}

fn compile_rule(
    index: usize,
    entry: &Value,
    case_sensitive: bool,
    upstreams: (&[Arc<Upstream>], &[String]),
    errors: &mut Vec<TableError>,
) -> Option<Rule> {
    let before = errors.len();
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map(Arc::<str>::from);
    let rref = RuleRef { index, name };
    let mut ctx = Ctx {
        rref: Some(rref.clone()),
        errors,
    };
    let Value::Table(t) = entry else {
        ctx.push(K::InvalidValue {
            key: "rule".into(),
            expected: "entries must be tables: write each rule as [[rule]]".into(),
        });
        return None;
    };
    for key in t.keys().filter(|k| !is_rule_key(k)) {
        ctx.push(K::UnknownKey {
            key: key.clone(),
            allowed: RULE_KEYS_TEXT.as_str(),
        });
    }
    ctx.get::<String>(t, "name", "must be a string");
    let pattern = match ctx.get::<String>(t, "path", "must be a string like \"/api/**\"") {
        None if !t.contains_key("path") => {
            ctx.push(K::MissingPath);
            None
        }
        None => None,
        Some(path) => match Pattern::parse(&path, case_sensitive) {
            Ok(p) => Some(p),
            Err(problems) => {
                for problem in problems {
                    let path = path.clone();
                    ctx.push(K::Path { path, problem });
                }
                None
            }
        },
    };
    let methods = compile_methods(&mut ctx, t);
    let allow = match ctx.get::<String>(t, "allow", "must be a string").as_deref() {
        None | Some("authenticated") => Some("authenticated"),
        Some("public") => Some("public"),
        Some("deny") => Some("deny"),
        Some(_) => {
            ctx.push(K::InvalidValue {
                key: "allow".into(),
                expected: "must be \"public\", \"authenticated\" or \"deny\"".into(),
            });
            None
        }
    };
    let upstream = compile_rule_upstream(&mut ctx, t, pattern.as_ref(), upstreams);
    if allow == Some("deny") && t.contains_key("upstream") {
        ctx.push(K::UpstreamOnDeny);
    }
    let written = WrittenConditions::read_rule(t, |k| ctx.push(k));
    let all = written.compile(pattern.as_ref(), "", |k| ctx.push(k));
    let any_of = compile_any_of(&mut ctx, t, pattern.as_ref());
    let has_conditions = t.contains_key(ANY_OF) || conditions::keys().any(|k| t.contains_key(k));
    let access = match allow {
        Some(kind @ ("public" | "deny")) if has_conditions => {
            ctx.push(K::ConditionsWithAllow { allow: kind });
            None
        }
        Some("public") => Some(Access::Public),
        Some("deny") => Some(Access::Deny),
        Some(_) => Some(Access::Authenticated { all, any_of }),
        None => None,
    };
    if ctx.errors.len() != before {
        return None;
    }
    Some(Rule {
        rref,
        pattern: pattern?,
        methods: methods?,
        access: access?,
        upstream: upstream?,
    })
}

fn compile_methods(ctx: &mut Ctx<'_>, t: &Table) -> Option<MethodSet> {
    let Some(list) = ctx.get::<Vec<String>>(
        t,
        "methods",
        "must be a list of method names, like [\"GET\", \"HEAD\"]",
    ) else {
        return (!t.contains_key("methods")).then_some(MethodSet::Any);
    };
    if list.is_empty() {
        ctx.push(K::EmptyMethods);
        return None;
    }
    let mut bits = 0u8;
    let mut ok = true;
    for m in &list {
        let why = match m.as_str() {
            _ if matches!(Method::parse(m), Err(MethodError::NeverForwarded)) => Some(
                "cannot be used in rules: TRACE (and TRACK) echo requests back (cross-site tracing) and CONNECT opens tunnels, so the edge never admits them; remove it",
            ),
            _ if Method::standard(m).is_some() => None,
            _ if Method::standard(&m.to_ascii_uppercase()).is_some() => {
                Some("is not upper-case; write method names in upper case (e.g. \"GET\"; requests match them in any case)")
            }
            _ => Some(
                "is not one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS; use those, or remove \"methods\" to match every method",
            ),
        };
        let bit = Method::standard(m).and_then(|x| x.bit());
        match (why, bit) {
            (None, Some(b)) if bits & b != 0 => {
                ctx.push(K::DuplicateMethod(m.clone()));
                ok = false;
            }
            (None, Some(b)) => bits |= b,
            (why, _) => {
                let why = why.unwrap_or("is not supported");
                ctx.push(K::BadMethod {
                    method: m.clone(),
                    why,
                });
                ok = false;
            }
        }
    }
    ok.then_some(MethodSet::Only(bits))
}

fn compile_any_of(ctx: &mut Ctx<'_>, t: &Table, pattern: Option<&Pattern>) -> Vec<Conditions> {
    let Some(v) = t.get(ANY_OF) else {
        return Vec::new();
    };
    let Some(alts) = v.as_array() else {
        ctx.push(K::InvalidValue {
            key: "any_of".into(),
            expected: "must be a list of condition tables, like [{ owner = \"id\" }, { roles_any = [\"admin\"] }]".into(),
        });
        return Vec::new();
    };
    if alts.is_empty() {
        ctx.push(K::EmptyAnyOf);
    }
    let mut out = Vec::with_capacity(alts.len());
    for (i, alt) in alts.iter().enumerate() {
        let n = i + 1;
        let invalid = |problem: String| K::InvalidValue {
            key: format!("any_of[{n}]"),
            expected: format!(
                "is not a valid alternative ({problem}); allowed keys: {}",
                ALTERNATIVE_KEYS_TEXT.as_str()
            ),
        };
        // Only a table is an alternative.
        let Some(table) = alt.as_table() else {
            let found = unexpected(alt);
            ctx.push(invalid(format!(
                "invalid type: {found}, expected a table of conditions"
            )));
            continue;
        };
        match WrittenConditions::read_alternative(table) {
            Ok(written) => {
                let c = written.compile(pattern, &format!("any_of[{n}]."), |k| ctx.push(k));
                if c.is_empty() && table.is_empty() {
                    ctx.push(K::EmptyAlternative(n));
                }
                out.push(c);
            }
            Err(problem) => ctx.push(invalid(problem)),
        }
    }
    out
}

/// What a TOML value is, in serde's words ("integer `5`", "sequence").
fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::String(s) => Unexpected::Str(s),
        Value::Integer(i) => Unexpected::Signed(*i),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Boolean(b) => Unexpected::Bool(*b),
        Value::Datetime(_) => Unexpected::Other("date-time"),
        Value::Array(_) => Unexpected::Seq,
        Value::Table(_) => Unexpected::Map,
    }
}
