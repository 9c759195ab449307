//! `cargo xtask dev`: the demo (filled in with the end-to-end harness).

use crate::util::{Failure, Result};

pub fn run() -> Result<()> {
    Err(Failure::new("dev: not yet wired"))
}
