//! `cargo xtask fuzz [TARGET] [--seconds N] [--toolchain nightly|stable]`: builds the fuzz
//! targets with cargo-fuzz and runs each for a while from its committed seeds.
//!
//! - cargo-fuzz is installed into `.tools/` (pinned) like the other cargo tools.
//! - Toolchain: nightly when rustup has one, else the current (stable) one with
//!   `RUSTC_BOOTSTRAP=1`, for the unstable flags cargo-fuzz may pass.
//! - No sanitizer (`-s none`): the crates forbid `unsafe`, so AddressSanitizer would only watch
//!   the dependencies, at about half the speed, and it needs a sanitizer runtime that not every
//!   toolchain and platform ships. Debug assertions and overflow checks are on (`-a`), so an
//!   arithmetic overflow is a finding too.
//! - Builds go to `target/fuzz` (their RUSTFLAGS differ, so sharing `target/` would rebuild the
//!   main workspace each time). Each run starts from a fresh copy of the committed seeds in
//!   `target/fuzz/corpus/<target>`, so the committed corpus never grows; findings go to
//!   `crates/<crate>/fuzz/artifacts/<target>/` (ignored by git), where cargo-fuzz looks for them.

use crate::setup::{display_relative, ensure_cargo_tool, Lockfile};
use crate::util::{output, root, run_command, step, Failure, Result};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CARGO_FUZZ_VERSION: &str = "0.13.2";
pub const DEFAULT_SECONDS: u64 = 60;
/// A slower input than this is a finding (libFuzzer writes a `timeout-…` file).
const UNIT_TIMEOUT_SECONDS: u64 = 10;

/// One fuzz target: `crates/<krate>/fuzz/fuzz_targets/<name>.rs`.
pub struct Target {
    krate: &'static str,
    name: &'static str,
    /// Longest input libFuzzer generates: a little past the crate's own size limit, so the
    /// limit itself is exercised.
    max_len: usize,
}

pub const TARGETS: [Target; 3] = [
    Target {
        krate: "jose-jwt",
        name: "verify",
        max_len: 12 * 1024,
    },
    Target {
        krate: "rule-table",
        name: "normalize_decide",
        max_len: 9 * 1024,
    },
    Target {
        krate: "edge-auth",
        name: "client_input",
        max_len: 20 * 1024,
    },
];

const USAGE: &str = "usage: cargo xtask fuzz [TARGET] [--seconds N] [--toolchain nightly|stable]";

/// What one run found, read from libFuzzer's output.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    executions: Option<u64>,
    exec_per_second: Option<u64>,
    corpus_entries: Option<u64>,
    /// Crash, leak, timeout and out-of-memory inputs libFuzzer wrote.
    artifacts: Vec<String>,
}

/// The command line of `cargo xtask fuzz`.
pub fn run(args: &[String]) -> Result<()> {
    let mut selected: Option<&str> = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut toolchain: Option<Toolchain> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&s| s > 0)
                    .ok_or_else(|| {
                        Failure::new(format!("--seconds needs a whole number above 0. {USAGE}"))
                    })?;
            }
            "--toolchain" => {
                toolchain = Some(match args.next().map(String::as_str) {
                    Some("nightly") => Toolchain::nightly().ok_or_else(|| {
                        Failure::new(
                            "--toolchain nightly: `rustup toolchain list` shows no nightly; \
                             install one with `rustup toolchain install nightly`",
                        )
                    })?,
                    Some("stable") => Toolchain::Stable,
                    _ => {
                        return Err(Failure::new(format!(
                            "--toolchain needs nightly or stable. {USAGE}"
                        )))
                    }
                });
            }
            name if !name.starts_with('-') && selected.is_none() => selected = Some(name),
            other => {
                return Err(Failure::new(format!(
                    "unexpected argument `{other}`. {USAGE}"
                )))
            }
        }
    }
    let targets: Vec<&Target> = match selected {
        None => TARGETS.iter().collect(),
        Some(name) => vec![TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            Failure::new(format!(
                "unknown fuzz target `{name}`: expected one of {names:?}"
            ))
        })?],
    };
    fuzz(&targets, seconds, toolchain)
}

/// Builds every target, then runs each for `seconds`; fails on any finding.
pub fn run_all(seconds: u64) -> Result<()> {
    fuzz(&TARGETS.iter().collect::<Vec<_>>(), seconds, None)
}

fn fuzz(targets: &[&Target], seconds: u64, toolchain: Option<Toolchain>) -> Result<()> {
    let cargo_fuzz = ensure_cargo_tool(
        "cargo-fuzz",
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        Lockfile::Locked,
    )?;
    let toolchain = toolchain.unwrap_or_else(|| Toolchain::nightly().unwrap_or(Toolchain::Stable));
    step("fuzz", &format!("toolchain: {}", toolchain.describe()));
    let fuzz = FuzzCommand {
        binary: cargo_fuzz,
        toolchain,
    };

    // Every build first: a target that does not compile fails before any time is spent fuzzing.
    for target in targets {
        run_command(
            "fuzz",
            &mut fuzz.command("build", target),
            &format!(
                "The fuzz target {} does not build: see the errors above.",
                target.name
            ),
        )?;
    }
    let mut reports = Vec::new();
    for target in targets {
        reports.push((target, run_target(&fuzz, target, seconds)?));
    }

    let mut findings = Vec::new();
    for (target, report) in &reports {
        step("fuzz", &report.summary(target.name));
        findings.extend(report.artifacts.iter().map(|artifact| (target, artifact)));
    }
    if findings.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = findings
        .iter()
        .map(|(target, artifact)| {
            let artifact = display_relative(Path::new(artifact));
            format!(
                "  {}: {artifact}\n    reproduce: {}{} fuzz run --fuzz-dir {} --target-dir \
                 target/fuzz -s none -a {} {artifact}",
                target.name,
                fuzz.toolchain.env_prefix(),
                display_relative(&fuzz.binary),
                display_relative(&target.fuzz_dir()),
                target.name,
            )
        })
        .collect();
    Err(Failure::new(format!(
        "the fuzzers found {} input(s) that break a property (a panic is a failed assertion or \
         a crash; see the log above):\n{}\nFix the crate, add the input as a regression unit \
         test there, and run again.",
        findings.len(),
        lines.join("\n")
    )))
}

fn run_target(fuzz: &FuzzCommand, target: &Target, seconds: u64) -> Result<Report> {
    let corpus = scratch_corpus(target)?;
    let log_path = root()
        .join("target")
        .join("fuzz")
        .join("logs")
        .join(format!("{}.log", target.name));
    let mut log = create_file(&log_path)?;
    let mut cmd = fuzz.command("run", target);
    cmd.arg(&corpus).arg("--").args([
        format!("-max_total_time={seconds}"),
        format!("-timeout={UNIT_TIMEOUT_SECONDS}"),
        format!("-max_len={}", target.max_len),
        "-print_final_stats=1".to_owned(),
    ]);
    step(
        "fuzz",
        &format!(
            "{}: {seconds} s from {} seed(s); full log in {}",
            target.name,
            count_files(&corpus),
            display_relative(&log_path)
        ),
    );
    let mut child = cmd
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::new(format!("could not start cargo-fuzz: {e}")))?;
    let mut report = Report::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            // The log keeps everything; the console gets what a person reads (no progress lines).
            let _ = writeln!(log, "{line}");
            if !is_progress_line(&line) {
                eprintln!("{line}");
            }
            report.read_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| Failure::new(format!("cargo-fuzz did not finish: {e}")))?;
    if !status.success() && report.artifacts.is_empty() {
        return Err(Failure::new(format!(
            "the fuzzer for {} stopped ({status}) without writing an input: see {}",
            target.name,
            display_relative(&log_path)
        )));
    }
    Ok(report)
}

/// `target/fuzz/corpus/<target>`, emptied, with a copy of the committed seeds.
fn scratch_corpus(target: &Target) -> Result<PathBuf> {
    let seeds = target.fuzz_dir().join("seeds").join(target.name);
    let corpus = root()
        .join("target")
        .join("fuzz")
        .join("corpus")
        .join(target.name);
    if corpus.exists() {
        fs::remove_dir_all(&corpus).map_err(|e| io_failure(&corpus, &e))?;
    }
    fs::create_dir_all(&corpus).map_err(|e| io_failure(&corpus, &e))?;
    let entries = fs::read_dir(&seeds).map_err(|e| {
        Failure::new(format!(
            "{}: {e}; every fuzz target needs a committed seed corpus there",
            display_relative(&seeds)
        ))
    })?;
    for entry in entries {
        let from = entry.map_err(|e| io_failure(&seeds, &e))?.path();
        if let Some(name) = from.file_name().filter(|_| from.is_file()) {
            fs::copy(&from, corpus.join(name)).map_err(|e| io_failure(&from, &e))?;
        }
    }
    Ok(corpus)
}

impl Target {
    fn fuzz_dir(&self) -> PathBuf {
        root().join("crates").join(self.krate).join("fuzz")
    }
}

enum Toolchain {
    /// A rustup toolchain name, as listed.
    Nightly(String),
    /// The toolchain running this command, with `RUSTC_BOOTSTRAP=1`.
    Stable,
}

impl Toolchain {
    fn nightly() -> Option<Toolchain> {
        let list = output(Command::new("rustup").args(["toolchain", "list"]))?;
        list.lines()
            .filter_map(|line| line.split_whitespace().next())
            .find(|name| name.starts_with("nightly"))
            .map(|name| Toolchain::Nightly(name.to_owned()))
    }

    fn apply(&self, cmd: &mut Command) {
        match self {
            // rustup sets RUSTUP_TOOLCHAIN for this process; the child's cargo reads it.
            Toolchain::Nightly(name) => cmd
                .env("RUSTUP_TOOLCHAIN", name)
                .env_remove("RUSTC_BOOTSTRAP"),
            Toolchain::Stable => cmd.env("RUSTC_BOOTSTRAP", "1"),
        };
    }

    /// The environment [`Toolchain::apply`] sets, as a shell prefix.
    fn env_prefix(&self) -> String {
        match self {
            Toolchain::Nightly(name) => format!("RUSTUP_TOOLCHAIN={name} "),
            Toolchain::Stable => "RUSTC_BOOTSTRAP=1 ".to_owned(),
        }
    }

    fn describe(&self) -> String {
        let mut rustc = Command::new("rustc");
        rustc.arg("--version");
        self.apply(&mut rustc);
        let version = output(&mut rustc).unwrap_or_default();
        let version = version.trim();
        match self {
            Toolchain::Nightly(name) => format!("nightly ({name}: {version})"),
            Toolchain::Stable => format!(
                "stable with RUSTC_BOOTSTRAP=1 ({version}; no nightly in `rustup toolchain list`, \
                 or --toolchain stable)"
            ),
        }
    }
}

struct FuzzCommand {
    binary: PathBuf,
    toolchain: Toolchain,
}

impl FuzzCommand {
    /// `cargo-fuzz fuzz <subcommand> <target>` with the project's build options.
    fn command(&self, subcommand: &str, target: &Target) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["fuzz", subcommand, "--fuzz-dir"])
            .arg(target.fuzz_dir())
            .arg("--target-dir")
            .arg(root().join("target").join("fuzz"))
            .args(["--sanitizer", "none", "--debug-assertions", target.name]);
        self.toolchain.apply(&mut cmd);
        cmd
    }
}

impl Report {
    /// Takes what it can from one line of libFuzzer's output: status lines
    /// (`#4096 pulse cov: 812 ft: 2390 corp: 708/19Kb exec/s: 2048 rss: 44Mb`), the final
    /// `stat::` lines, and `Test unit written to <file>` after a finding.
    fn read_line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix('#') {
            let mut words = rest.split_whitespace();
            if let Some(runs) = words.next().and_then(|n| n.parse().ok()) {
                self.executions = Some(runs);
                let words: Vec<&str> = words.collect();
                for pair in words.windows(2) {
                    match pair {
                        ["corp:", value] => {
                            self.corpus_entries =
                                value.split('/').next().and_then(|n| n.parse().ok());
                        }
                        // 0 only means "less than a second in" (the INITED line).
                        ["exec/s:", value] => {
                            self.exec_per_second = value.parse().ok().filter(|&n| n > 0);
                        }
                        _ => {}
                    }
                }
            }
        } else if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = value.trim().parse().ok().or(self.executions);
        } else if let Some(value) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.exec_per_second = value.trim().parse().ok().or(self.exec_per_second);
        } else if let Some((_, file)) = line.split_once("Test unit written to ") {
            self.artifacts
                .push(display_relative(Path::new(file.trim())));
        }
    }

    fn summary(&self, name: &str) -> String {
        let number = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let findings = if self.artifacts.is_empty() {
            "none".to_owned()
        } else {
            self.artifacts.join(", ")
        };
        format!(
            "{name}: {} executions, {} exec/s, corpus {} entries, findings: {findings}",
            number(self.executions),
            number(self.exec_per_second),
            number(self.corpus_entries),
        )
    }
}

/// libFuzzer's per-input status lines (`#123 NEW …`, `#1024 pulse …`, `REDUCE`).
fn is_progress_line(line: &str) -> bool {
    let status = line.starts_with('#')
        && line
            .get(1..2)
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit()))
        && !line.contains("INITED")
        && !line.contains("DONE");
    // The recommended dictionary's entries start with a quote; the sanitizer hooks are missing
    // by choice (`-s none`).
    status
        || line.starts_with('"')
        || line.starts_with("WARNING: Failed to find function \"__sanitizer")
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| entries.count())
}

fn create_file(path: &Path) -> Result<fs::File> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_failure(parent, &e))?;
    }
    fs::File::create(path).map_err(|e| io_failure(path, &e))
}

fn io_failure(path: &Path, error: &std::io::Error) -> Failure {
    Failure::new(format!("{}: {error}", display_relative(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Report {
        let mut report = Report::default();
        for line in lines {
            report.read_line(line);
        }
        report
    }

    #[test]
    fn a_clean_run_reports_the_final_stats() {
        let report = read(&[
            "INFO: seed corpus: files: 802 min: 1b max: 203b total: 21817b rss: 44Mb",
            "#803\tINITED cov: 814 ft: 2390 corp: 708/19Kb exec/s: 0 rss: 44Mb",
            "#65536\tpulse  cov: 819 ft: 2454 corp: 744/23Kb lim: 339 exec/s: 21845 rss: 44Mb",
            "#78512\tDONE   cov: 819 ft: 2459 corp: 746/23Kb lim: 363 exec/s: 19628 rss: 44Mb",
            "Done 78512 runs in 4 second(s)",
            "stat::number_of_executed_units: 78513",
            "stat::average_exec_per_sec:     19629",
        ]);
        assert_eq!(
            report,
            Report {
                executions: Some(78513),
                exec_per_second: Some(19629),
                corpus_entries: Some(746),
                artifacts: vec![],
            }
        );
        assert_eq!(
            report.summary("t"),
            "t: 78513 executions, 19629 exec/s, corpus 746 entries, findings: none"
        );
    }

    #[test]
    fn a_crash_reports_its_artifact_and_the_last_status_line() {
        let report = read(&[
            "#42\tINITED cov: 9 ft: 9 corp: 4/90b exec/s: 0 rss: 30Mb",
            "#4096\tpulse  cov: 10 ft: 12 corp: 5/100b lim: 4 exec/s: 2048 rss: 30Mb",
            "#5000\tNEW    cov: 11 ft: 13 corp: 6/120b lim: 4 exec/s: 2500 rss: 30Mb L: 3/4 MS: 1",
            "thread '<unnamed>' panicked at fuzz_targets/x.rs:3:5:",
            "==123== ERROR: libFuzzer: deadly signal",
            "artifact_prefix='crates/x/fuzz/artifacts/t/'; Test unit written to crates/x/fuzz/artifacts/t/crash-da39a3ee",
            "Base64: AAEC",
        ]);
        assert_eq!(report.executions, Some(5000));
        assert_eq!(report.exec_per_second, Some(2500));
        assert_eq!(report.corpus_entries, Some(6));
        assert_eq!(
            report.artifacts,
            ["crates/x/fuzz/artifacts/t/crash-da39a3ee"]
        );
        assert!(report
            .summary("t")
            .ends_with("findings: crates/x/fuzz/artifacts/t/crash-da39a3ee"));
    }

    #[test]
    fn a_crash_in_the_first_second_has_no_rate() {
        let report = read(&[
            "#42\tINITED cov: 9 ft: 9 corp: 4/90b exec/s: 0 rss: 30Mb",
            "artifact_prefix='a/'; Test unit written to a/crash-1",
        ]);
        assert_eq!(report.executions, Some(42));
        assert_eq!(report.exec_per_second, None);
    }

    #[test]
    fn timeouts_and_out_of_memory_inputs_are_findings_too() {
        let report = read(&[
            "==9== ERROR: libFuzzer: timeout after 10 seconds",
            "artifact_prefix='a/'; Test unit written to a/timeout-1",
            "==9== ERROR: libFuzzer: out-of-memory (used: 2100Mb; exceeds: 2048Mb)",
            "artifact_prefix='a/'; Test unit written to a/oom-2",
        ]);
        assert_eq!(report.artifacts, ["a/timeout-1", "a/oom-2"]);
        assert_eq!(
            report.summary("t"),
            "t: ? executions, ? exec/s, corpus ? entries, findings: a/timeout-1, a/oom-2"
        );
    }

    #[test]
    fn progress_lines_are_kept_off_the_console_but_not_the_start_and_end() {
        assert!(is_progress_line(
            "#5000\tNEW    cov: 11 ft: 13 corp: 6/120b"
        ));
        assert!(is_progress_line("#65536\tpulse  cov: 819"));
        assert!(is_progress_line("\"\\377\\377\" # Uses: 137"));
        assert!(!is_progress_line(
            "#803\tINITED cov: 814 ft: 2390 corp: 708/19Kb"
        ));
        assert!(!is_progress_line("#78512\tDONE   cov: 819"));
        assert!(!is_progress_line("###### Recommended dictionary. ######"));
        assert!(!is_progress_line(
            "thread '<unnamed>' panicked at x.rs:1:1:"
        ));
    }
}
