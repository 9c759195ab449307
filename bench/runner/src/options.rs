//! Command-line options.

use crate::Result;
use std::time::Duration;

pub(crate) const USAGE: &str = "\
usage: cargo run --release -p bench-runner -- [options]
  --duration SECS      measured seconds per scenario, stack, concurrency and round (default 3)
  --rounds N           rounds, the stacks interleaved in each; the report takes each stack's
                       median round (default 5)
  --warmup SECS        unmeasured seconds before each measurement (default 1)
  --tokens N           distinct pre-minted tokens per scenario (default 10000)
  --concurrency LIST   comma-separated connection counts (default 1,32)
  --scenarios LIST     only these scenarios (default: all)
  --soak SECS          soak of each stack in turn at 64 connections, RSS sampled every 10 s
                       (default 180; 0 skips it)
  --inspect ADDR       start the Rust pair's workerd with its inspector on ADDR (for profile.mjs)
  --v8-flags LIST      comma-separated V8 flags for every workerd (e.g. --perf-basic-prof, for perf)
  --candidate DIR      also measure the Rust bundles in DIR/auth and DIR/authz (wrangler dry-run
                       output, built with EDGE_AUTH_RULES=bench/out/rules.toml), next to
                       the Rust pair in every round: an A/B of a lever in one run
  --reuse-bundles      use the bundles of the previous run instead of running wrangler
  --out FILE           where to write the report (default bench/RESULTS.md); its chart goes
                       beside it, the extension .svg";

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) duration: Duration,
    pub(crate) rounds: usize,
    pub(crate) warmup: Duration,
    pub(crate) tokens: usize,
    pub(crate) concurrency: Vec<usize>,
    pub(crate) scenarios: Option<Vec<String>>,
    pub(crate) soak: Duration,
    pub(crate) reuse_bundles: bool,
    pub(crate) inspect: Option<String>,
    pub(crate) v8_flags: Vec<String>,
    pub(crate) candidate: Option<String>,
    pub(crate) out: Option<String>,
    /// The arguments as given, for the report's "command" line.
    pub(crate) args: Vec<String>,
}

impl Options {
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Self> {
        let args: Vec<String> = args.collect();
        let mut options = Self {
            duration: Duration::from_secs(3),
            rounds: 5,
            warmup: Duration::from_secs(1),
            tokens: 10_000,
            concurrency: vec![1, 32],
            scenarios: None,
            soak: Duration::from_secs(180),
            reuse_bundles: false,
            inspect: None,
            v8_flags: Vec::new(),
            candidate: None,
            out: None,
            args: args.clone(),
        };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--duration" => options.duration = seconds(&value()?, 1, 600)?,
                "--rounds" => {
                    options.rounds = value()?.parse().map_err(|_| "--rounds takes a number")?;
                    if !(1..=20).contains(&options.rounds) {
                        return Err("--rounds must be 1..=20".into());
                    }
                }
                "--warmup" => options.warmup = seconds(&value()?, 0, 60)?,
                "--soak" => options.soak = seconds(&value()?, 0, 3600)?,
                "--tokens" => {
                    options.tokens = value()?.parse().map_err(|_| "--tokens takes a number")?;
                    if !(1..=100_000).contains(&options.tokens) {
                        return Err("--tokens must be 1..=100000".into());
                    }
                }
                "--concurrency" => {
                    options.concurrency = value()?
                        .split(',')
                        .map(|c| c.trim().parse::<usize>())
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|_| "--concurrency takes numbers like 1,32")?;
                    if options.concurrency.iter().any(|c| !(1..=256).contains(c)) {
                        return Err("each concurrency must be 1..=256".into());
                    }
                }
                "--scenarios" => {
                    let names: Vec<String> = value()?.split(',').map(str::to_string).collect();
                    // A misspelt name would otherwise run nothing after minutes of bundling.
                    if let Some(unknown) = names
                        .iter()
                        .find(|n| !crate::scenarios::NAMES.contains(&n.as_str()))
                    {
                        return Err(format!(
                            "--scenarios: no scenario is named {unknown:?}; the scenarios are {}",
                            crate::scenarios::NAMES.join(", ")
                        )
                        .into());
                    }
                    options.scenarios = Some(names);
                }
                "--reuse-bundles" => options.reuse_bundles = true,
                "--inspect" => options.inspect = Some(value()?),
                "--v8-flags" => {
                    options.v8_flags = value()?.split(',').map(str::to_string).collect();
                }
                "--candidate" => options.candidate = Some(value()?),
                "--out" => options.out = Some(value()?),
                "-h" | "--help" => return Err("help".into()),
                other => return Err(format!("unknown option {other}").into()),
            }
        }
        Ok(options)
    }
}

fn seconds(text: &str, min: u64, max: u64) -> Result<Duration> {
    let secs: u64 = text
        .parse()
        .map_err(|_| format!("{text} is not a number of seconds"))?;
    if !(min..=max).contains(&secs) {
        return Err(format!("{secs} s is outside {min}..={max}").into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn scenarios_are_taken_by_their_names_and_an_unknown_one_is_refused() {
        let Ok(options) = parse(&["--scenarios", "repeated-es256-assertion,anonymous"]) else {
            panic!("known names refused");
        };
        assert_eq!(
            options.scenarios,
            Some(vec![
                "repeated-es256-assertion".to_string(),
                "anonymous".to_string()
            ])
        );
        for wrong in ["repeated-es256-assertio", "anonymous,", "", "Anonymous"] {
            let Err(e) = parse(&["--scenarios", wrong]) else {
                panic!("{wrong:?} accepted");
            };
            let e = e.to_string();
            assert!(
                e.contains("no scenario is named") && e.contains("repeated-es256-assertion"),
                "{e}"
            );
        }
    }
}
