//! What `cargo xtask dev` runs: the local identity provider, the echo origin and both Workers
//! on a fixed port (the demo's instructions and tokens are the xtask's own).

use crate::harness::Harness;
use crate::idp::IdentityProvider;
use crate::stack::StackConfig;
use std::io;

/// A running demo.
pub struct Demo {
    /// Everything that runs.
    pub harness: Harness,
}

impl Demo {
    /// Starts the identity provider, the origin and the Workers on `127.0.0.1:port`.
    pub fn start(port: u16) -> io::Result<Demo> {
        let harness = Harness::try_start_with(|c: StackConfig, _: &IdentityProvider| c.port(port))?;
        Ok(Demo { harness })
    }
}
