//! Small helpers shared by the commands: the workspace root, running commands, failures.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

/// Why a command stopped, said so that a person knows what to do next.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure(message.into())
    }

    pub fn usage(message: &str) -> Self {
        Failure(message.trim_end().to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// The workspace root (the parent of this crate).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the workspace root, as
/// cargo reads it), else `<root>/target`. Builds run there, so the outputs are looked up there.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Prints a step the way every command does, so the output reads as a log of what happened.
pub fn step(scope: &str, message: &str) {
    println!("[{scope}] {message}");
}

/// Runs a command to completion in the workspace root; a non-zero exit is a failure that names
/// the command and says what to try.
pub fn run_command(scope: &str, cmd: &mut Command, hint: &str) -> Result<()> {
    let shown = describe(cmd);
    step(scope, &format!("$ {shown}"));
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd
        .status()
        .map_err(|e| Failure::new(format!("could not start `{shown}`: {e}. {hint}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!("`{shown}` failed ({status}). {hint}")))
    }
}

/// Runs a command and returns its standard output, or `None` when it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
