//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use crate::fuzz;
use crate::setup::{self, WASM_TARGET};
use crate::util::{run_command, step, Result};
use std::process::Command;
use std::time::Instant;

/// The pure crates: built for Wasm as well as natively, because the Workers link them.
const CRATES: [&str; 4] = ["jose-jwt", "rule-table", "jwks-cache", "edge-auth"];
/// Crates that only make sense in the Workers runtime: linted and tested for wasm32 only.
const WORKER_PACKAGES: [&str; 5] = [
    "auth-worker",
    "authz-worker",
    "jose-jwt-webcrypto",
    "worker-glue",
    "js-task",
];
/// How long `test` runs each fuzz target.
const FUZZ_SECONDS: u64 = 15;

pub fn run() -> Result<()> {
    let started = Instant::now();
    let tools = setup::run()?;

    run_command(
        "test",
        Command::new("cargo").args(["fmt", "--all", "--check"]),
        "Run `cargo fmt --all` and commit the result.",
    )?;
    let mut clippy = Command::new("cargo");
    clippy.args(["clippy", "--workspace", "--all-targets"]);
    for package in WORKER_PACKAGES {
        clippy.args(["--exclude", package]);
    }
    clippy.args(["--", "-D", "warnings"]);
    run_command("test", &mut clippy, "Fix the lints above.")?;

    let mut wasm = Command::new("cargo");
    wasm.args(["clippy", "--target", WASM_TARGET]);
    for package in CRATES.iter().chain(WORKER_PACKAGES.iter()) {
        wasm.args(["-p", package]);
    }
    wasm.args(["--", "-D", "warnings"]);
    run_command(
        "test",
        &mut wasm,
        &format!("The crates and Workers must build and lint clean for {WASM_TARGET}."),
    )?;

    for worker in setup::WORKERS {
        tools.build_worker(worker)?;
    }

    // In a JS engine (Node): the WebCrypto verifier against the Wycheproof vectors, and the
    // request executor against real promises.
    run_command(
        "test",
        Command::new("cargo")
            .args([
                "test",
                "-p",
                "jose-jwt-webcrypto",
                "-p",
                "js-task",
                "--target",
                WASM_TARGET,
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                &tools.wasm_bindgen_test_runner,
            ),
        "A Wasm test failed in Node (WebCrypto vectors or the executor): see the output above.",
    )?;

    // Unit, property and integration tests of the crates, then the end-to-end suites against
    // the Workers just built.
    let mut native = Command::new("cargo");
    native.args(["test", "--workspace"]);
    for package in WORKER_PACKAGES {
        native.args(["--exclude", package]);
    }
    run_command(
        "test",
        &mut native,
        "A test failed: its output above says which and why.",
    )?;

    // Last, as it is the slowest to build from cold: every fuzz target builds and holds its
    // properties for a short run, so none can rot.
    fuzz::run_all(FUZZ_SECONDS)?;
    step(
        "test",
        &format!("all checks passed in {} s", started.elapsed().as_secs()),
    );
    Ok(())
}
