//! Validates `rules.toml` at build time: a rule table with an error fails the build, so it can
//! never be deployed. Warnings are shown by cargo.

use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=rules.toml");
    let source = match std::fs::read_to_string("rules.toml") {
        Ok(source) => source,
        Err(e) => {
            eprintln!("error: cannot read workers/authz/rules.toml: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rule_table::RuleTable::from_toml(&source) {
        Ok(compiled) => {
            for warning in &compiled.warnings {
                println!("cargo:warning=rules.toml: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!(
                "error: workers/authz/rules.toml is invalid; fix these and build again:\n{errors}"
            );
            ExitCode::FAILURE
        }
    }
}
