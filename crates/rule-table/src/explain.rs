//! Human-readable account of how a request is decided (for the CLI and debugging).

use crate::conditions::Conditions;
use crate::decide::{Access, Principal, Reason, Rule, RuleTable, Verdict};
use crate::method::{Method, MethodError};
use crate::path::{normalize_path, NormalizedPath, PathError};
use crate::upstream::UpstreamRoute;
use std::fmt::Write;

/// Explains the decision for a request: the normalized path (or why the path is rejected),
/// the rule that matched (index, name, pattern) and why the decision came out as it did.
pub fn explain(
    table: &RuleTable,
    method: &str,
    raw_path: &str,
    principal: Option<&Principal>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "request: {method} {raw_path}");
    match principal {
        None => out.push_str("identity: none (anonymous)\n"),
        Some(p) => {
            let _ = writeln!(
                out,
                "identity: sub {:?}, roles [{}], scopes [{}]",
                p.sub,
                p.roles.join(", "),
                p.scopes.join(", ")
            );
        }
    }
    let method = match Method::parse(method) {
        Ok(m) => m,
        Err(e) => {
            let status = match e {
                MethodError::InvalidToken => "400 Bad Request",
                MethodError::NeverForwarded => "405 Method Not Allowed",
            };
            let _ = writeln!(out, "decision: {status} ({}): {e}", e.code());
            return out;
        }
    };
    let path = match normalize_path(raw_path) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(out, "normalized path: rejected ({}): {e}", e.code());
            out.push_str("decision: 400 Bad Request\n");
            return out;
        }
    };
    let _ = writeln!(out, "normalized path: {path}");
    if let Err(e) = table.check_path(&path) {
        let _ = writeln!(
            out,
            "matched rule: none (the path is refused before any rule)"
        );
        let _ = writeln!(out, "decision: 400 Bad Request [{}]", e.code());
        let _ = writeln!(out, "why: {}", refused_path(&path, e));
        return out;
    }
    let decision = table.decide(&method, &path, principal);
    let verdict = match decision.verdict {
        Verdict::Allow
            if decision
                .rule
                .as_ref()
                .and_then(|r| table.upstream(r))
                .is_some() =>
        {
            "ALLOW (forward to the upstream)".to_owned()
        }
        Verdict::Allow => "ALLOW (forward to origin)".to_owned(),
        Verdict::BadRequest => "400 Bad Request".to_owned(),
        Verdict::Unauthenticated => "401 Unauthorized".to_owned(),
        Verdict::Forbidden {
            insufficient_scope: true,
        } => "403 Forbidden (insufficient_scope)".to_owned(),
        Verdict::Forbidden { .. } => "403 Forbidden".to_owned(),
    };
    match table.matching_rule(&method, &path) {
        None => {
            let _ = writeln!(
                out,
                "matched rule: none of the {} rules matches {method} {path}",
                table.len()
            );
        }
        Some(rule) => {
            let _ = writeln!(
                out,
                "matched rule: {} path {:?} methods {} (allow = {})",
                rule.rref,
                rule.pattern.source(),
                rule.methods.describe(),
                access_name(&rule.access)
            );
        }
    }
    if let Some(route) = decision.rule.as_ref().and_then(|r| table.upstream(r)) {
        out.push_str(&describe_upstream(&route, &path));
    }
    let why = why(table, &method, &path, principal, decision.reason);
    let _ = writeln!(out, "decision: {verdict} [{}]", decision.reason.code());
    let _ = writeln!(out, "why: {why}");
    out
}

/// Why [`RuleTable::check_path`] refused the path, naming the character.
fn refused_path(path: &NormalizedPath, e: PathError) -> String {
    match (e, path.first_ascii_lookalike()) {
        (PathError::AsciiLookalike, Some(c)) => format!(
            "a segment holds {c:?} (U+{:04X}), which Unicode case folding or NFKC turns into ASCII; \
             the table is case-insensitive, so an origin comparing with Unicode rules could read \
             this path as one the rules did not match (with case_sensitive = true literals match \
             byte for byte and it would not be refused)",
            u32::from(c)
        ),
        _ => e.to_string(),
    }
}

fn access_name(a: &Access) -> &'static str {
    match a {
        Access::Public => "public",
        Access::Deny => "deny",
        Access::Authenticated { .. } => "authenticated",
    }
}

fn why(
    table: &RuleTable,
    method: &Method,
    path: &NormalizedPath,
    principal: Option<&Principal>,
    reason: Reason,
) -> String {
    let rule = table.matching_rule(method, path);
    match (reason, rule, principal) {
        (Reason::PublicRule, ..) => "the rule is public: no identity needed".into(),
        (Reason::DenyRule, ..) => {
            "the rule denies everyone (403 even without credentials, since none would help)".into()
        }
        (Reason::NoIdentity, ..) => "the rule requires an identity and the request has none".into(),
        (Reason::NoRuleMatched, _, None) => {
            "no rule matched, so the request is denied (401: no identity)".into()
        }
        (Reason::NoRuleMatched, ..) => "no rule matched, so the request is denied".into(),
        (Reason::ConditionsMet, Some(r), _) if has_no_conditions(r) => {
            "the rule only requires an identity".into()
        }
        (Reason::ConditionsMet, ..) => "all the rule's conditions hold".into(),
        (_, Some(r), Some(p)) => failed_conditions(r, path, p),
        _ => reason.code().into(),
    }
}

fn has_no_conditions(r: &Rule) -> bool {
    matches!(&r.access, Access::Authenticated { all, any_of } if all.is_empty() && any_of.is_empty())
}

fn failed_conditions(rule: &Rule, path: &NormalizedPath, p: &Principal) -> String {
    let Access::Authenticated { all, any_of } = &rule.access else {
        return String::new();
    };
    if all.check(p, path).is_err() {
        return describe_failure(all, path, p);
    }
    let alts: Vec<String> = any_of
        .iter()
        .enumerate()
        .map(|(i, a)| format!("alternative {}: {}", i + 1, describe_failure(a, path, p)))
        .collect();
    format!("no any_of alternative holds ({})", alts.join("; "))
}

fn describe_failure(c: &Conditions, path: &NormalizedPath, p: &Principal) -> String {
    match c.first_failure(p, path) {
        None => "holds".into(),
        Some(failed) => failed.explain(p, path),
    }
}

/// The rule's upstream and the URL an allowed request goes to.
fn describe_upstream(route: &UpstreamRoute<'_>, path: &NormalizedPath) -> String {
    let u = route.upstream;
    let mut out = format!(
        "upstream: {:?} (url {}{}, path = \"{}\")\n",
        u.name(),
        u.url(),
        u.url_var()
            .map(|v| format!(", or {v} when that variable is set"))
            .unwrap_or_default(),
        u.path_mapping().as_str(),
    );
    let full = u.url().full_path(&route.map_path(path));
    let _ = writeln!(
        out,
        "target: {}{full} (+ the request's query)",
        u.url().origin()
    );
    let credential = match u.bearer_secret() {
        Some(name) => format!(
            "{}: Bearer <secret {name}>",
            shown_header(u.bearer_header())
        ),
        None if u.forward_client_credentials() => "the client's own credentials".to_owned(),
        None => "none".to_owned(),
    };
    let _ = writeln!(out, "upstream credential: {credential}");
    let mut sets: Vec<&str> = u.headers().iter().map(|(n, _)| n.as_str()).collect();
    if u.identity_headers() {
        sets.push("X-User-*");
    }
    if !sets.is_empty() {
        let _ = writeln!(out, "upstream headers set: {}", sets.join(", "));
    }
    out
}

/// `authorization` as HTTP documents write it; any other name as the table gave it.
fn shown_header(name: &str) -> &str {
    if name == crate::DEFAULT_BEARER_HEADER {
        "Authorization"
    } else {
        name
    }
}
