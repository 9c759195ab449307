//! `rules`: check a rule table, or explain how it decides a request.

use rule_table::{explain, Principal, RuleTable};
use std::process::ExitCode;

const USAGE: &str = "usage:
  rules check <rules.toml>
      validate the table; prints OK and any warnings, or every error (exit status 1)
  rules explain <rules.toml> <METHOD> <path> [--sub S] [--roles a,b] [--scopes x,y] [--anonymous]
      show the normalized path, the rule that matches and why the decision comes out as it does
      (an identity is assumed when --sub, --roles or --scopes is given; default sub is \"user\")";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Invalid(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    /// Bad command line (exit 2).
    Usage(String),
    /// Unreadable or invalid table (exit 1).
    Invalid(String),
}

fn run(args: &[String]) -> Result<String, Failure> {
    match args.split_first() {
        Some((cmd, rest)) if cmd == "check" => match rest {
            [file] => check(file),
            _ => Err(Failure::Usage("check takes exactly one file".into())),
        },
        Some((cmd, rest)) if cmd == "explain" => match rest {
            [file, method, path, opts @ ..] => {
                let principal = parse_identity(opts)?;
                let compiled = load(file)?;
                Ok(explain(&compiled.table, method, path, principal.as_ref()))
            }
            _ => Err(Failure::Usage(
                "explain needs a file, a method and a path".into(),
            )),
        },
        Some((cmd, _)) if cmd == "-h" || cmd == "--help" || cmd == "help" => {
            Ok(format!("{USAGE}\n"))
        }
        Some((cmd, _)) => Err(Failure::Usage(format!("unknown command {cmd:?}"))),
        None => Err(Failure::Usage("no command given".into())),
    }
}

fn load(file: &str) -> Result<rule_table::Compiled, Failure> {
    let src = std::fs::read_to_string(file)
        .map_err(|e| Failure::Invalid(format!("cannot read {file}: {e}")))?;
    RuleTable::from_toml(&src)
        .map_err(|e| Failure::Invalid(format!("{file}: invalid rule table\n{e}")))
}

fn check(file: &str) -> Result<String, Failure> {
    let compiled = load(file)?;
    let mut out = format!("OK: {} rules\n", compiled.table.len());
    for w in &compiled.warnings {
        out.push_str(&format!("{w}\n"));
    }
    Ok(out)
}

fn parse_identity(opts: &[String]) -> Result<Option<Principal>, Failure> {
    let mut p = Principal::default();
    let mut given = false;
    let mut anonymous = false;
    let mut it = opts.iter();
    while let Some(opt) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
        };
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match opt.as_str() {
            "--anonymous" => anonymous = true,
            "--sub" => p.sub = value("--sub")?,
            "--roles" => p.roles = list(value("--roles")?),
            "--scopes" => p.scopes = list(value("--scopes")?),
            other => return Err(Failure::Usage(format!("unknown option {other:?}"))),
        }
        given |= opt != "--anonymous";
    }
    match (anonymous, given) {
        (true, true) => Err(Failure::Usage(
            "--anonymous cannot be combined with --sub, --roles or --scopes".into(),
        )),
        (true, false) | (false, false) => Ok(None),
        (false, true) => {
            if p.sub.is_empty() {
                p.sub = "user".into();
            }
            Ok(Some(p))
        }
    }
}
