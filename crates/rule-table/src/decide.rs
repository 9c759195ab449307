//! The compiled table and its evaluation: first matching rule decides.

use crate::conditions::Conditions;
use crate::error::RuleRef;
use crate::index::FirstSegmentIndex;
use crate::lookalike::PathPolicy;
use crate::method::{Method, MethodSet};
use crate::path::{NormalizedPath, PathError};
use crate::pattern::Pattern;
use crate::upstream::{Upstream, UpstreamRoute};
use std::sync::Arc;

/// The verified identity making a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principal {
    /// Subject (user id); compared exactly with `owner` parameters.
    pub sub: String,
    /// Roles, compared exactly (case-sensitive).
    pub roles: Vec<String>,
    /// OAuth scopes, compared exactly (case-sensitive).
    pub scopes: Vec<String>,
}

/// The outcome of evaluating a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow, 401 or 403.
    pub verdict: Verdict,
    /// The rule that decided (`None` when no rule matched).
    pub rule: Option<RuleRef>,
    /// Why.
    pub reason: Reason,
    /// For a 403 `insufficient_scope`: every scope the matched rule names (its `scopes_all`,
    /// its `scopes_any` and those of its `any_of` alternatives), in table order without
    /// repeats; a token granted all of them passes every scope condition of the rule. Empty
    /// for every other verdict.
    pub required_scopes: Vec<String>,
}

/// Allow, or the HTTP error to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Forward the request.
    Allow,
    /// 400: the path is refused before any rule (see [`RuleTable::check_path`]).
    BadRequest,
    /// 401: an identity is required and none was given.
    Unauthenticated,
    /// 403: the identity (or anyone, for `deny`) may not do this.
    Forbidden {
        /// A scope condition failed (answer with `error="insufficient_scope"`).
        insufficient_scope: bool,
    },
}

impl Verdict {
    /// The HTTP status to answer with when not allowed (`None` for [`Verdict::Allow`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            Verdict::Allow => None,
            Verdict::BadRequest => Some(400),
            Verdict::Unauthenticated => Some(401),
            Verdict::Forbidden { .. } => Some(403),
        }
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A `public` rule matched.
    PublicRule,
    /// An `authenticated` rule matched and all its conditions held.
    ConditionsMet,
    /// An `authenticated` rule matched but there was no identity.
    NoIdentity,
    /// A `roles_any`/`roles_all` condition failed.
    MissingRole,
    /// A `scopes_any`/`scopes_all` condition failed.
    MissingScope,
    /// The `owner` condition failed.
    NotOwner,
    /// No `any_of` alternative held.
    NoAlternativeMet,
    /// A `deny` rule matched.
    DenyRule,
    /// No rule matched path and method.
    NoRuleMatched,
    /// The path holds an ASCII look-alike and the table is case-insensitive
    /// ([`PathError::AsciiLookalike`]); no rule was consulted.
    AsciiLookalike,
}

impl Reason {
    /// Stable machine-readable code (for logs).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::PublicRule => "public_rule",
            Reason::ConditionsMet => "conditions_met",
            Reason::NoIdentity => "no_identity",
            Reason::MissingRole => "missing_role",
            Reason::MissingScope => "missing_scope",
            Reason::NotOwner => "not_owner",
            Reason::NoAlternativeMet => "no_alternative_met",
            Reason::DenyRule => "deny_rule",
            Reason::NoRuleMatched => "no_rule_matched",
            Reason::AsciiLookalike => PathError::AsciiLookalike.code(),
        }
    }
}

/// What a rule does once it matches.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    Public,
    Deny,
    Authenticated {
        all: Conditions,
        /// Empty: no alternatives required.
        any_of: Vec<Conditions>,
    },
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) rref: RuleRef,
    pub(crate) pattern: Pattern,
    pub(crate) methods: MethodSet,
    pub(crate) access: Access,
    /// Where allowed requests go instead of the default target, and how many segments of the
    /// path `strip_prefix` drops for this rule's pattern.
    pub(crate) upstream: Option<(Arc<Upstream>, usize)>,
}

impl Rule {
    /// Every scope this rule names, in table order without repeats.
    fn scopes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Access::Authenticated { all, any_of } = &self.access {
            for scope in all
                .scopes()
                .chain(any_of.iter().flat_map(Conditions::scopes))
            {
                if !out.contains(&scope) {
                    out.push(scope);
                }
            }
        }
        out
    }

    pub(crate) fn applies(&self, method: &Method, path: &NormalizedPath) -> bool {
        self.methods.contains(method) && self.pattern.matches(path)
    }

    fn evaluate(&self, path: &NormalizedPath, principal: Option<&Principal>) -> (Verdict, Reason) {
        let (all, any_of) = match &self.access {
            Access::Public => return (Verdict::Allow, Reason::PublicRule),
            // Credentials would not help, so anonymous callers get 403 too.
            Access::Deny => {
                let v = Verdict::Forbidden {
                    insufficient_scope: false,
                };
                return (v, Reason::DenyRule);
            }
            Access::Authenticated { all, any_of } => (all, any_of),
        };
        let Some(p) = principal else {
            return (Verdict::Unauthenticated, Reason::NoIdentity);
        };
        let forbidden = |reason: Reason, scope: bool| {
            let v = Verdict::Forbidden {
                insufficient_scope: scope,
            };
            (v, reason)
        };
        if let Err(r) = all.check(p, path) {
            return forbidden(r, r == Reason::MissingScope);
        }
        if any_of.is_empty() {
            return (Verdict::Allow, Reason::ConditionsMet);
        }
        let mut scope_failed = false;
        for alt in any_of {
            match alt.check(p, path) {
                Ok(()) => return (Verdict::Allow, Reason::ConditionsMet),
                Err(r) => scope_failed |= r == Reason::MissingScope,
            }
        }
        forbidden(Reason::NoAlternativeMet, scope_failed)
    }
}

/// A validated, compiled rule table. Build it with [`RuleTable::from_toml`].
#[derive(Debug, Clone)]
pub struct RuleTable {
    pub(crate) rules: Vec<Rule>,
    /// Which rules can match a path, by its first segment (built from `rules`).
    pub(crate) index: FirstSegmentIndex,
    pub(crate) case_sensitive: bool,
    /// Every declared upstream, in name order.
    pub(crate) upstreams: Vec<Arc<Upstream>>,
}

impl RuleTable {
    /// Decides a request. Never fails: the table was validated when compiled.
    ///
    /// First the path must pass [`check_path`](Self::check_path) (else 400, no rule); then
    /// rules are tried in file order, and the first whose path and method match decides.
    pub fn decide(
        &self,
        method: &Method,
        path: &NormalizedPath,
        principal: Option<&Principal>,
    ) -> Decision {
        if self.check_path(path).is_err() {
            return Decision {
                verdict: Verdict::BadRequest,
                rule: None,
                reason: Reason::AsciiLookalike,
                required_scopes: Vec::new(),
            };
        }
        match self.matching_rule(method, path) {
            Some(rule) => {
                let (verdict, reason) = rule.evaluate(path, principal);
                // Listed only when asked for: the allow path allocates nothing for it.
                let required_scopes = match verdict {
                    Verdict::Forbidden {
                        insufficient_scope: true,
                    } => rule.scopes().into_iter().map(str::to_owned).collect(),
                    _ => Vec::new(),
                };
                Decision {
                    verdict,
                    rule: Some(rule.rref.clone()),
                    reason,
                    required_scopes,
                }
            }
            None => Decision {
                verdict: match principal {
                    None => Verdict::Unauthenticated,
                    Some(_) => Verdict::Forbidden {
                        insufficient_scope: false,
                    },
                },
                rule: None,
                reason: Reason::NoRuleMatched,
                required_scopes: Vec::new(),
            },
        }
    }

    /// Every scope any rule names (`scopes_any`, `scopes_all`, inside `any_of` too), sorted,
    /// without repeats: what a protected resource's metadata lists as `scopes_supported`.
    /// It walks the whole table: call it once, not per request.
    pub fn scopes(&self) -> Vec<&str> {
        let mut scopes: Vec<&str> = self.rules.iter().flat_map(Rule::scopes).collect();
        scopes.sort_unstable();
        scopes.dedup();
        scopes
    }

    pub(crate) fn matching_rule(&self, method: &Method, path: &NormalizedPath) -> Option<&Rule> {
        self.index
            .candidates(path)
            .filter_map(|i| self.rules.get(i))
            .find(|r| r.applies(method, path))
    }

    /// The upstream the rule `rule` (from a [`Decision`] of this table) sends its requests to;
    /// `None` for the default target (or a rule of another table).
    pub fn upstream(&self, rule: &RuleRef) -> Option<UpstreamRoute<'_>> {
        let r = self.rules.get(rule.index.checked_sub(1)?)?;
        if r.rref != *rule {
            return None;
        }
        self.upstream_at(rule.index)
    }

    /// The upstream of the rule at 1-based `index` (as a [`RuleRef`] and a log line give it).
    pub fn upstream_at(&self, index: usize) -> Option<UpstreamRoute<'_>> {
        let r = self.rules.get(index.checked_sub(1)?)?;
        r.upstream.as_ref().map(|(upstream, strip)| UpstreamRoute {
            upstream,
            strip_segments: *strip,
        })
    }

    /// Every declared upstream, in name order (a Worker resolves their `url_var`s once).
    pub fn upstreams(&self) -> impl Iterator<Item = &Upstream> + '_ {
        self.upstreams.iter().map(|u| &**u)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the table has no rules (never true for a compiled table).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether literal segments match case-sensitively.
    pub fn case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// The checks this table applies to every path before any rule.
    pub fn path_policy(&self) -> PathPolicy {
        PathPolicy::new(self.case_sensitive)
    }

    /// Refuses a path this table could match less strictly than a Unicode-aware origin
    /// ([`PathError::AsciiLookalike`], case-insensitive tables only). [`decide`](Self::decide)
    /// applies it too; call it first to refuse such a path before anything else is checked.
    pub fn check_path(&self, path: &NormalizedPath) -> Result<(), PathError> {
        self.path_policy().check(path)
    }
}
