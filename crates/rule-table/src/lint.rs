//! Cross-rule checks: shadowed rules (errors or warnings), duplicate names, no default.

use crate::decide::{Access, Rule};
use crate::error::{TableError, TableErrorKind as K, Warning};
use crate::method::MethodSet;
use crate::pattern::Pattern;
use crate::upstream::Upstream;
use std::sync::Arc;

/// A rule whose path and methods an earlier rule fully covers is dead: an error.
/// Covered for only some methods: a warning naming them — except for a `deny` rule, where
/// "the earlier rule decides those methods, this one refuses the rest" is the intent.
pub(crate) fn check_shadowing(
    rules: &[Rule],
    errors: &mut Vec<TableError>,
    warnings: &mut Vec<Warning>,
) {
    for (j, later) in rules.iter().enumerate() {
        let earlier = rules.get(..j).unwrap_or(&[]);
        let covering = earlier.iter().filter(|e| e.pattern.covers(&later.pattern));
        let mut partly: Vec<&Rule> = Vec::new();
        for e in covering {
            if e.methods.covers(later.methods) {
                let kind = K::Shadowed(e.rref.clone());
                errors.push(TableError::new(Some(later.rref.clone()), kind));
                partly.clear();
                break;
            }
            if e.methods.intersects(later.methods) {
                partly.push(e);
            }
        }
        if matches!(later.access, Access::Deny) {
            continue;
        }
        for e in partly {
            let msg = format!(
                "is partly shadowed: for {} the earlier {} (path {:?}) decides first; narrow this rule's methods or move it up",
                e.methods.intersection(later.methods).describe(),
                e.rref,
                e.pattern.source(),
            );
            warnings.push(Warning::new(
                Some(later.rref.clone()),
                "partly_shadowed",
                msg,
            ));
        }
    }
}

/// Duplicate names and a missing `/**` catch-all are warnings.
pub(crate) fn check_names_and_default(rules: &[Rule], warnings: &mut Vec<Warning>) {
    for (j, r) in rules.iter().enumerate() {
        let Some(name) = &r.rref.name else { continue };
        let earlier = rules.get(..j).unwrap_or(&[]);
        if let Some(first) = earlier.iter().find(|e| e.rref.name.as_ref() == Some(name)) {
            let msg = format!(
                "has the same name as rule {}; give rules distinct names so logs are unambiguous",
                first.rref.index
            );
            warnings.push(Warning::new(Some(r.rref.clone()), "duplicate_name", msg));
        }
    }
    let catch_all = Pattern::parse("/**", false).ok();
    let has_default = rules.iter().any(|r| {
        r.methods == MethodSet::Any && catch_all.as_ref().is_some_and(|c| r.pattern.covers(c))
    });
    if !has_default {
        let msg = "has no final catch-all rule (path = \"/**\"); requests no rule matches are denied (401 anonymous, 403 authenticated)".to_owned();
        warnings.push(Warning::new(None, "no_catch_all", msg));
    }
}

/// An upstream no rule uses is a warning: harmless (nothing reaches it), but probably a rule
/// that was forgotten or misspelled.
pub(crate) fn check_unused_upstreams(
    rules: &[Rule],
    upstreams: &[Arc<Upstream>],
    warnings: &mut Vec<Warning>,
) {
    for u in upstreams {
        let used = rules.iter().any(|r| {
            r.upstream
                .as_ref()
                .is_some_and(|(x, _)| x.name() == u.name())
        });
        if !used {
            let msg = format!(
                "upstream {:?} is declared but no rule has upstream = {:?}; use it or remove it",
                u.name(),
                u.name()
            );
            warnings.push(Warning::new(None, "unused_upstream", msg));
        }
    }
}
