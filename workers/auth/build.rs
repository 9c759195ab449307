//! Validates the rule table and compiles it in (`rule_table::embed`): a table with an error
//! fails the build, so it can never be deployed. Both Workers embed the same table.

fn main() -> std::process::ExitCode {
    rule_table::embed::embed_rules("../authz/rules.toml")
}
