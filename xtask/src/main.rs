//! `cargo xtask`: the project's one entry point for set-up, builds, the demo and the tests.
//!
//! Every command installs what it needs first (idempotently, saying what it does), so a fresh
//! machine with Rust, Node and npm needs nothing else.

mod build;
mod dev;
mod fuzz;
mod keygen;
mod setup;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup               install what is missing (wasm32 target, wasm-bindgen-cli, npm packages)
  build               set up, then build both Workers (release Wasm)
  build-worker <name> build one Worker (auth | authz); what the wrangler [build] commands run
  dev                 set up, build, and run the demo: identity provider, origin and both Workers
  test                set up, then fmt, clippy, unit tests, Wasm builds and the end-to-end tests
  bench [options]     set up, build, and benchmark both Workers in workerd against the jose
                      design and a pass-through floor; writes bench/RESULTS.md (see bench/README.md)
  keygen [--alg EdDSA|ES256|HS256|HS384|HS512] [--kid ID]
                      print a fresh key from the OS's CSPRNG: a private JWK (kid: its RFC 7638
                      thumbprint) or a base64url shared secret on stdout, for `wrangler secret
                      put`; the public JWK and where to put each on stderr
  fuzz [TARGET] [--seconds N] [--toolchain nightly|stable]
                      build the fuzz targets (verify, normalize_decide, client_input) and run each,
                      or the named one, for N seconds (default 60) from its committed seeds;
                      fails on a finding and names the input it wrote
";

/// The load benchmark (not part of `test`): its runner bundles and builds what it measures.
fn bench(options: &[String]) -> util::Result<()> {
    setup::run()?;
    util::run_command(
        "bench",
        std::process::Command::new("cargo")
            .args(["run", "--release", "-p", "bench-runner", "--"])
            .args(options),
        "The benchmark stopped: its output above says why (a FAIL line is a budget it missed).",
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run().map(|_| ()),
        Some("build") => setup::run().and_then(|tools| {
            for worker in setup::WORKERS {
                tools.build_worker(worker)?;
            }
            Ok(())
        }),
        Some("build-worker") => match args.get(1) {
            Some(name) => setup::Tools::locate().and_then(|tools| tools.build_worker(name)),
            None => Err(util::Failure::usage(
                "build-worker needs a Worker name: auth or authz",
            )),
        },
        Some("dev") => dev::run(),
        Some("test") => test::run(),
        Some("bench") => bench(args.get(1..).unwrap_or(&[])),
        Some("fuzz") => fuzz::run(args.get(1..).unwrap_or(&[])),
        Some("keygen") => keygen::run(args.get(1..).unwrap_or(&[])),
        Some("help") | Some("--help") | Some("-h") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(util::Failure::usage(USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}
