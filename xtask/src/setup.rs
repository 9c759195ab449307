//! Set-up: find or install every tool the build needs, pinned, and say what was done.
//!
//! Tools live in the work tree so that their versions are the project's, not the machine's:
//! `.tools/` for the cargo-installed binaries, `node_modules/` for the npm ones (from the lockfile).
//! The Workers are built by `build.rs` with `wasm-bindgen-cli` (at exactly the version in
//! `Cargo.lock`) and binaryen's `wasm-opt` (npm); wrangler bundles the result.

use crate::util::{output, root, run_command, step, Failure, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Workers, by the name used on the command line and in `workers/<name>`.
pub const WORKERS: [&str; 2] = ["auth", "authz"];

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
const MIN_NODE_MAJOR: u32 = 20;

/// Paths of the installed tools.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    pub wasm_opt: PathBuf,
    pub wrangler: PathBuf,
}

/// Installs whatever is missing, then returns the tools.
pub fn run() -> Result<Tools> {
    check_node()?;
    ensure_wasm_target()?;
    let bindgen_version = wasm_bindgen_version()?;
    // wasm-bindgen-cli's own lockfile pins a crate that crates.io has since yanked, so it is
    // installed without `--locked`; the version that matters, its own, is exact.
    ensure_cargo_tool(
        "wasm-bindgen-cli",
        "wasm-bindgen",
        &bindgen_version,
        Lockfile::Unlocked,
    )?;
    ensure_npm_packages()?;
    let tools = Tools::locate()?;
    step("setup", "all tools present");
    Ok(tools)
}

impl Tools {
    /// Finds the tools set-up installed, without installing anything.
    pub fn locate() -> Result<Tools> {
        let bindgen_version = wasm_bindgen_version()?;
        let bin = root().join("node_modules").join(".bin");
        let tools = Tools {
            wasm_bindgen: tool_path("wasm-bindgen-cli", &bindgen_version, "wasm-bindgen"),
            wasm_bindgen_test_runner: tool_path(
                "wasm-bindgen-cli",
                &bindgen_version,
                "wasm-bindgen-test-runner",
            ),
            wasm_opt: bin.join("wasm-opt"),
            wrangler: bin.join("wrangler"),
        };
        for path in [&tools.wasm_bindgen, &tools.wasm_opt, &tools.wrangler] {
            if !path.exists() {
                return Err(Failure::new(format!(
                    "{} is missing: run `cargo xtask setup` once (it installs the build tools)",
                    path.display()
                )));
            }
        }
        Ok(tools)
    }

    /// Builds one Worker (release Wasm) into `workers/<name>/build/`.
    pub fn build_worker(&self, name: &str) -> Result<()> {
        crate::build::worker(self, name)
    }
}

fn tool_path(package: &str, version: &str, binary: &str) -> PathBuf {
    tool_root(package, version).join("bin").join(binary)
}

fn tool_root(package: &str, version: &str) -> PathBuf {
    root().join(".tools").join(format!("{package}-{version}"))
}

fn check_node() -> Result<()> {
    let version = output(Command::new("node").arg("--version")).ok_or_else(|| {
        Failure::new(
            "Node.js is not installed: install Node 20 or newer (with npm), then run again",
        )
    })?;
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        return Err(Failure::new(format!(
            "Node.js {} is too old: wrangler needs Node {MIN_NODE_MAJOR} or newer",
            version.trim()
        )));
    }
    Ok(())
}

fn ensure_wasm_target() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        step("setup", &format!("Rust target {WASM_TARGET}: present"));
        return Ok(());
    }
    step("setup", &format!("Rust target {WASM_TARGET}: installing"));
    run_command(
        "setup",
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
        &format!("Install it by hand with `rustup target add {WASM_TARGET}`."),
    )
}

/// Whether `cargo install` builds a tool with the versions in its own lockfile.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lockfile {
    Locked,
    Unlocked,
}

/// Installs `package` at `version` into `.tools/` unless its `binary` is there already; returns
/// the binary's path.
pub fn ensure_cargo_tool(
    package: &str,
    binary: &str,
    version: &str,
    lockfile: Lockfile,
) -> Result<PathBuf> {
    let path = tool_path(package, version, binary);
    if path.exists() {
        step("setup", &format!("{package} {version}: present"));
        return Ok(path);
    }
    step(
        "setup",
        &format!("{package} {version}: installing from crates.io (a few minutes, once)"),
    );
    let root_dir = tool_root(package, version);
    let locked = if lockfile == Lockfile::Locked {
        " --locked"
    } else {
        ""
    };
    let mut install = Command::new("cargo");
    install
        .args(["install", package, "--version", version])
        .args(locked.split_whitespace())
        .arg("--root")
        .arg(&root_dir);
    run_command(
        "setup",
        &mut install,
        &format!(
            "Check that crates.io is reachable, or install it by hand: \
             `cargo install {package} --version {version}{locked} --root {}`.",
            display_relative(&root_dir)
        ),
    )?;
    Ok(path)
}

/// The `wasm-bindgen` version in `Cargo.lock`: the CLI must match the library exactly.
fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| Failure::new(format!("cannot read Cargo.lock: {e}")))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(version.to_string());
            }
        }
    }
    Err(Failure::new(
        "Cargo.lock names no wasm-bindgen version: run `cargo generate-lockfile` and try again",
    ))
}

/// What `npm ci` installs that the builds and tests use (the end-to-end suite
/// `resource_metadata` runs the MCP TypeScript SDK's client).
const NPM_PACKAGE_NAMES: &str = "wrangler, binaryen, jose, @modelcontextprotocol/sdk";
/// A file of each of them under `node_modules/`.
const NPM_PACKAGES_NEEDED: [&str; 4] = [
    ".bin/wrangler",
    "binaryen/package.json",
    "jose/package.json",
    "@modelcontextprotocol/sdk/package.json",
];

fn ensure_npm_packages() -> Result<()> {
    let root = root();
    let installed = root.join("node_modules").join(".package-lock.json");
    let up_to_date = match (
        modified(&installed),
        modified(&root.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    // Each package a run needs: a checkout whose lockfile gained one installs it.
    let present = NPM_PACKAGES_NEEDED
        .iter()
        .all(|path| root.join("node_modules").join(path).exists());
    if up_to_date && present {
        step(
            "setup",
            &format!("npm packages ({NPM_PACKAGE_NAMES}): present"),
        );
        return Ok(());
    }
    step(
        "setup",
        &format!("npm packages ({NPM_PACKAGE_NAMES}): installing from package-lock.json"),
    );
    run_command(
        "setup",
        Command::new("npm").args(["ci", "--no-audit", "--no-fund"]),
        "Check that the npm registry is reachable, or run `npm ci` by hand in the project root.",
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

pub fn display_relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}
