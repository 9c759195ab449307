//! The benchmark's rule table, used by every stack: the project's `workers/authz/rules.toml`
//! with [`FILLER_RULES`] rules inserted before its last (catch-all) rule, so that `deep-rule`
//! (a path only the catch-all matches) shows what deciding costs when many rules come first.
//! The Rust pair gets it at build time (`EDGE_AUTH_RULES`); the JS authz Workers get the same
//! filler rules spliced into their `RULES` constant, their matching code untouched.

use crate::scenarios;
use crate::Result;
use rule_table::{normalize_path, Method, Principal, RuleTable, Verdict};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Rules inserted before the catch-all.
pub(crate) const FILLER_RULES: usize = 200;
/// The environment variable that selects the rule table compiled into both Rust Workers.
pub(crate) const RULES_ENV: &str = "EDGE_AUTH_RULES";
/// A path only the first filler rule matches: with a token lacking its role the answer is 403
/// where the table is in effect, 200 (the catch-all) where it is not.
pub(crate) const FILLER_PROBE_PATH: &str = "/bench-filler/0/probe";
/// The last entry of the seed authz.js's `RULES` (the catch-all), before which the JS filler
/// rules go.
const JS_CATCH_ALL: &str = "  { prefix: \"/\", check: () => true },\n];";

/// The generated files.
pub(crate) struct Generated {
    /// The rule table (TOML) for the Rust pair.
    pub(crate) toml: PathBuf,
    /// The seed authz.js and the hardened authz, each with the filler rules.
    pub(crate) jose_authz: PathBuf,
    pub(crate) hardened_authz: PathBuf,
}

fn filler_name(i: usize) -> String {
    format!("bench-filler-{i}")
}

/// The project's table text with the filler rules before its last `[[rule]]`.
pub(crate) fn bench_toml(project: &str) -> Result<String> {
    let last = project
        .match_indices("[[rule]]")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || project.get(i - 1..i) == Some("\n"))
        .last()
        .ok_or("the project's rule table has no [[rule]]")?;
    let (head, tail) = project.split_at(last);
    let mut fillers = format!(
        "# {FILLER_RULES} filler rules inserted by the benchmark before the catch-all (deep-rule \
         scenario); they match only /bench-filler/N/ paths, which no scenario sends. They share\n\
         # their first segment with the deep-rule path, so that the Rust Workers' first-segment\n\
         # index hands all of them to the matching loop: the worst case for it.\n\n"
    );
    for i in 0..FILLER_RULES {
        let name = filler_name(i);
        let _ = writeln!(
            fillers,
            "[[rule]]\nname = \"{name}\"\npath = \"/bench-filler/{i}/**\"\nroles_any = [\"filler-{i}\"]\n"
        );
    }
    Ok(format!("{head}{fillers}{tail}"))
}

/// A JS authz source with the same filler rules before its catch-all entry of `RULES`.
pub(crate) fn bench_js(seed: &str) -> Result<String> {
    if seed.matches(JS_CATCH_ALL).count() != 1 {
        return Err(
            "bench/js authz: expected its RULES constant to end with exactly one catch-all \
             `{ prefix: \"/\", check: () => true }`; the filler rules go before it"
                .into(),
        );
    }
    let mut fillers = String::new();
    for i in 0..FILLER_RULES {
        let _ = writeln!(
            fillers,
            "  {{ prefix: \"/bench-filler/{i}\", check: (u) => u.roles.includes(\"filler-{i}\") }},"
        );
    }
    Ok(seed.replacen(JS_CATCH_ALL, &format!("{fillers}{JS_CATCH_ALL}"), 1))
}

fn compile(text: &str, what: &str) -> Result<RuleTable> {
    RuleTable::from_toml(text)
        .map(|c| c.table)
        .map_err(|e| format!("{what} is invalid:\n{e}").into())
}

/// What `table` decides for `path` (GET) with a plain user and without one: the verdicts and
/// the deciding rule's name.
fn decisions(table: &RuleTable, path: &str) -> Result<Vec<(Verdict, Option<String>)>> {
    let normalized = normalize_path(path).map_err(|e| format!("{path}: {e}"))?;
    let user = Principal {
        sub: "bench-user".to_string(),
        roles: vec!["user".to_string()],
        scopes: Vec::new(),
    };
    Ok([Some(&user), None]
        .into_iter()
        .map(|who| {
            let d = table.decide(&Method::Get, &normalized, who);
            (
                d.verdict,
                d.rule.and_then(|r| r.name.map(|n| n.to_string())),
            )
        })
        .collect())
}

/// Checks the benchmark table against the project's: every scenario path but the deep one is
/// decided by the same rule, the same way; the deep path is allowed by the catch-all, last,
/// after every filler rule; the probe path is decided by the first filler rule.
pub(crate) fn check(project: &str, bench: &str) -> Result<()> {
    let project_table = compile(project, "workers/authz/rules.toml")?;
    let bench_table = compile(bench, "the benchmark rule table")?;
    if bench_table.len() != project_table.len() + FILLER_RULES {
        return Err("the benchmark rule table does not hold every filler rule".into());
    }
    for path in scenarios::PATHS {
        let (a, b) = (
            decisions(&project_table, path)?,
            decisions(&bench_table, path)?,
        );
        if a != b {
            return Err(format!(
                "{path}: the benchmark rule table decides {b:?}, the project's {a:?}"
            )
            .into());
        }
    }
    let deep = decisions(&bench_table, scenarios::DEEP_RULE_PATH)?;
    let last = decisions(&project_table, scenarios::DEEP_RULE_PATH)?;
    let allowed_by_catch_all =
        matches!(deep.first(), Some((Verdict::Allow, _))) && deep.first() == last.first();
    let normalized = normalize_path(scenarios::DEEP_RULE_PATH).map_err(|e| e.to_string())?;
    let index = bench_table
        .decide(&Method::Get, &normalized, None)
        .rule
        .map(|r| r.index);
    if !allowed_by_catch_all || index != Some(bench_table.len()) {
        return Err(format!(
            "{}: must be allowed by the last rule of the benchmark table (after the fillers)",
            scenarios::DEEP_RULE_PATH
        )
        .into());
    }
    let probe = decisions(&bench_table, FILLER_PROBE_PATH)?;
    if probe.first()
        != Some(&(
            Verdict::Forbidden {
                insufficient_scope: false,
            },
            Some(filler_name(0)),
        ))
    {
        return Err(format!("{FILLER_PROBE_PATH}: expected 403 from {}", filler_name(0)).into());
    }
    Ok(())
}

/// Writes the benchmark table and the two JS authz sources into `out` (checked first).
pub(crate) fn generate(root: &Path, out: &Path) -> Result<Generated> {
    let project = fs::read_to_string(root.join("workers/authz/rules.toml"))?;
    let bench = bench_toml(&project)?;
    check(&project, &bench)?;
    let gen = out.join("gen");
    fs::create_dir_all(&gen)?;
    let toml = out.join("rules.toml");
    fs::write(&toml, bench)?;
    let mut js = Vec::new();
    for (seed, name) in [
        ("authz.js", "jose-authz.js"),
        ("hardened-authz.js", "hardened-authz.js"),
    ] {
        let text = fs::read_to_string(root.join("bench/js").join(seed))?;
        let path = gen.join(name);
        fs::write(&path, bench_js(&text).map_err(|e| format!("{seed}: {e}"))?)?;
        js.push(path);
    }
    let mut js = js.into_iter();
    match (js.next(), js.next()) {
        (Some(jose_authz), Some(hardened_authz)) => Ok(Generated {
            toml: fs::canonicalize(&toml)?,
            jose_authz,
            hardened_authz,
        }),
        _ => Err("missing generated authz source".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> String {
        let root = e2e::stack::workspace_root();
        fs::read_to_string(root.join("workers/authz/rules.toml")).unwrap_or_default()
    }

    fn seed_js(name: &str) -> String {
        let root = e2e::stack::workspace_root();
        fs::read_to_string(root.join("bench/js").join(name)).unwrap_or_default()
    }

    #[test]
    fn the_filler_table_is_valid_without_warnings_and_changes_no_other_scenario() {
        let project = project();
        let bench = bench_toml(&project).unwrap_or_default();
        let compiled = RuleTable::from_toml(&bench);
        let Ok(compiled) = compiled else {
            panic!("the benchmark table must compile: {compiled:?}");
        };
        assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
        assert_eq!(
            compiled.table.len(),
            compile(&project, "project").map_or(0, |t| t.len()) + FILLER_RULES
        );
        assert!(
            check(&project, &bench).is_ok(),
            "{:?}",
            check(&project, &bench)
        );
    }

    #[test]
    fn every_filler_rule_matches_only_its_own_paths() {
        let bench = bench_toml(&project()).unwrap_or_default();
        let table = compile(&bench, "bench");
        let Ok(table) = table else {
            panic!("{:?}", table.err());
        };
        for path in scenarios::PATHS.into_iter().chain([
            scenarios::DEEP_RULE_PATH,
            "/",
            "/bench-filler",
            "/bench-filler/x",
            "/bench-filler/10x/y",
            "/health",
        ]) {
            for (_, rule) in decisions(&table, path).unwrap_or_default() {
                assert!(
                    !rule.is_some_and(|r| r.starts_with("bench-filler-")),
                    "{path} is decided by a filler rule"
                );
            }
        }
        for i in [0, 1, 99, FILLER_RULES - 1] {
            let path = format!("/bench-filler/{i}/x");
            let got = decisions(&table, &path).unwrap_or_default();
            assert_eq!(
                got.first().map(|(_, r)| r.clone()),
                Some(Some(filler_name(i))),
                "{path}"
            );
        }
    }

    #[test]
    fn a_table_changed_under_the_benchmark_is_refused() {
        let project = project();
        // Fillers after the catch-all would never be reached, and the deep path would not be
        // decided last: the check must say so rather than measure something else.
        let wrong = format!(
            "{project}\n[[rule]]\nname = \"late\"\npath = \"/late/**\"\nroles_any = [\"x\"]\n"
        );
        assert!(check(&project, &wrong).is_err());
        let shadowing = bench_toml(&project)
            .unwrap_or_default()
            .replace("path = \"/bench-filler/7/**\"", "path = \"/api/**\"");
        assert!(check(&project, &shadowing).is_err());
        assert!(bench_toml("case_sensitive = true\n").is_err());
    }

    #[test]
    fn the_js_fillers_go_before_the_catch_all_of_both_authz_sources() {
        for name in ["authz.js", "hardened-authz.js"] {
            let seed = seed_js(name);
            let got = bench_js(&seed).unwrap_or_default();
            let first = got.find("/bench-filler/0\"").unwrap_or(usize::MAX);
            let last = got
                .find(&format!("/bench-filler/{}\"", FILLER_RULES - 1))
                .unwrap_or(usize::MAX);
            let catch_all = got.find(JS_CATCH_ALL).unwrap_or(0);
            assert!(first < last && last < catch_all, "{name}");
            assert_eq!(
                got.matches("check: (u) => u.roles.includes(\"filler-")
                    .count(),
                FILLER_RULES
            );
            // The seed's matching (`path === prefix || path.startsWith(prefix + "/")`) sends
            // the probe to the first filler and the deep path past all of them.
            let js_matches = |prefix: &str, path: &str| {
                path == prefix || path.starts_with(&format!("{prefix}/"))
            };
            let prefixes: Vec<String> = (0..FILLER_RULES)
                .map(|i| format!("/bench-filler/{i}"))
                .filter(|p| got.contains(&format!("prefix: \"{p}\"")))
                .collect();
            assert_eq!(prefixes.len(), FILLER_RULES, "{name}");
            let probe: Vec<&String> = prefixes
                .iter()
                .filter(|p| js_matches(p, FILLER_PROBE_PATH))
                .collect();
            assert_eq!(probe, [&prefixes[0]], "{name}");
            assert!(
                !prefixes
                    .iter()
                    .any(|p| js_matches(p, scenarios::DEEP_RULE_PATH)),
                "{name}"
            );
            // Everything else is the seed's, unchanged.
            assert_eq!(
                got.len() - seed.len(),
                got.find(JS_CATCH_ALL).unwrap_or(0) - seed.find(JS_CATCH_ALL).unwrap_or(0)
            );
        }
        assert!(bench_js("const RULES = [];").is_err());
    }

    /// The hardened authz must decide exactly as the seed's: the same table, the same matching.
    #[test]
    fn the_hardened_authz_has_the_seed_rules_and_matching_code() {
        let block = |text: &str| -> String {
            let start = text.find("const RULES = [").unwrap_or(0);
            let rest = text.get(start..).unwrap_or("");
            let matches = rest.find("function matches(").unwrap_or(0);
            let end = rest
                .get(matches..)
                .and_then(|m| m.find("\n}\n"))
                .map_or(0, |e| matches + e + 3);
            rest.get(..end).unwrap_or("").to_string()
        };
        let seed = block(&seed_js("authz.js"));
        assert!(
            seed.contains("function matches(") && seed.len() > 500,
            "{seed}"
        );
        assert_eq!(block(&seed_js("hardened-authz.js")), seed);
    }
}
