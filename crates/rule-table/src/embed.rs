//! For the Workers' build scripts: the rule table compiled into a Worker, validated when it is
//! built, so a table with an error can never be deployed.
//!
//! The table is `workers/authz/rules.toml` unless the environment variable
//! [`RULES_ENV`] names another file at build time (the benchmark's 200-rule table, say). Both
//! Workers embed the same file, so they decide with the same table.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::RuleTable;

/// The build-time variable that selects another rule table file.
pub const RULES_ENV: &str = "EDGE_AUTH_RULES";

/// Validates the rule table (`default` is relative to the Worker's crate) and copies it to
/// `$OUT_DIR/rules.toml` for `include_str!`. Errors fail the build; warnings are shown by cargo.
pub fn embed_rules(default: &str) -> ExitCode {
    println!("cargo:rerun-if-env-changed={RULES_ENV}");
    let path = match std::env::var_os(RULES_ENV).filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(default),
    };
    println!("cargo:rerun-if-changed={}", path.display());
    let source = match std::fs::read_to_string(&path) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("error: cannot read the rule table {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    match RuleTable::from_toml(&source) {
        Ok(compiled) => {
            for warning in &compiled.warnings {
                println!("cargo:warning={}: {warning}", path.display());
            }
        }
        Err(errors) => {
            eprintln!(
                "error: {} is invalid; fix these and build again:\n{errors}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        eprintln!("error: OUT_DIR is not set (a build script runs under cargo)");
        return ExitCode::FAILURE;
    };
    let target = PathBuf::from(out_dir).join("rules.toml");
    if let Err(e) = std::fs::write(&target, source) {
        eprintln!("error: cannot write {}: {e}", target.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
