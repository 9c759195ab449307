//! Load benchmark of the edge-auth Worker pair in workerd, side by side with two jose reference
//! designs (the seed as written, and the seed given edge-auth's guarantees) and a pass-through
//! floor, in one run on one machine. Writes `bench/RESULTS.md` and its chart `bench/RESULTS.svg`
//! and checks the budgets (exit status 1 when one fails).
//! See `bench/README.md`.

mod ab;
mod bundle;
mod load;
mod options;
mod report;
mod rounds;
mod rules;
mod scenarios;
mod stacks;
mod workerd;

use std::process::ExitCode;

/// Errors of the benchmark are reported as text and end the run.
pub(crate) type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let options = match options::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("bench: {e}\n\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match stacks::run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: a budget FAILED (see the report)");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(2)
        }
    }
}
