//! Building one Worker: its crate to Wasm, the JS bindings, the optimized module, and the
//! entry module the runtime loads (`workers/entry.js`).
//!
//! These are the steps `worker-build` runs, done here because its entry module costs CPU on
//! every request (a class constructed per request behind a `Proxy`; see `workers/entry.js`).
//! The output, in `workers/<name>/build/`: `index.js` (the entry, wrangler's `main`), `glue.js`
//! and `glue_bg.wasm` (wasm-bindgen's output), and `snippets/` (JS the crates inline).

use crate::setup::{display_relative, Tools, WASM_TARGET, WORKERS};
use crate::util::{root, run_command, step, target_dir, Failure, Result};
use std::fs;
use std::path::Path;
use std::process::Command;

/// Wasm features `wasm-opt` may use: what rustc emits for the target plus the exception
/// handling of wasm-bindgen's catch wrappers, and nothing newer than workerd runs.
const WASM_FEATURES: [&str; 7] = [
    "mutable-globals",
    "sign-ext",
    "nontrapping-float-to-int",
    "bulk-memory",
    "multivalue",
    "reference-types",
    "exception-handling",
];

/// Builds `workers/<name>` (release) into `workers/<name>/build/`.
pub fn worker(tools: &Tools, name: &str) -> Result<()> {
    if !WORKERS.contains(&name) {
        return Err(Failure::new(format!(
            "unknown Worker `{name}`: expected one of {WORKERS:?}"
        )));
    }
    let root = root();
    let package = format!("{name}-worker");
    let hint = "Read the output above; `cargo xtask setup` reinstalls the tools if one is broken.";
    run_command(
        "build",
        Command::new("cargo").args([
            "build",
            "--lib",
            "--release",
            "--target",
            WASM_TARGET,
            "-p",
            &package,
        ]),
        hint,
    )?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));

    let out = root.join("workers").join(name).join("build");
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| io_failure(&out, &e))?;
    }
    run_command(
        "build",
        Command::new(&tools.wasm_bindgen)
            .arg(&wasm)
            .arg("--out-dir")
            .arg(&out)
            .args([
                "--out-name",
                "glue",
                "--target",
                "module",
                "--no-typescript",
            ])
            // A panic aborts the instance; these make the glue start a fresh one on the next call.
            .args([
                "--experimental-reset-state-function",
                "--force-enable-abort-handler",
            ]),
        hint,
    )?;

    let module = out.join("glue_bg.wasm");
    let optimized = out.join("glue_bg.opt.wasm");
    run_command(
        "build",
        Command::new(&tools.wasm_opt)
            .arg(&module)
            .arg("-o")
            .arg(&optimized)
            .arg("-O")
            .args(WASM_FEATURES.map(|f| format!("--enable-{f}")))
            // Keep the names section: panics and profiles then name Rust functions.
            .arg("--debuginfo"),
        hint,
    )?;
    fs::rename(&optimized, &module).map_err(|e| io_failure(&module, &e))?;

    // wasm-bindgen imports the module in the source phase (`import source`); wrangler's bundler
    // takes the plain import of a `.wasm` file as the compiled module, which is the same thing.
    let glue = out.join("glue.js");
    let text = fs::read_to_string(&glue).map_err(|e| io_failure(&glue, &e))?;
    let text = text.replace("import source wasmModule", "import wasmModule");
    fs::write(&glue, text).map_err(|e| io_failure(&glue, &e))?;

    let entry = root.join("workers").join("entry.js");
    let index = out.join("index.js");
    fs::copy(&entry, &index).map_err(|e| io_failure(&entry, &e))?;
    step("build", &format!("{name}: {}", display_relative(&index)));
    Ok(())
}

fn io_failure(path: &Path, error: &std::io::Error) -> Failure {
    Failure::new(format!("{}: {error}", path.display()))
}
