//! Pieces for `cargo xtask dev`: the local identity provider, the echo origin and both Workers
//! on a fixed port, with ready-made tokens for the demo users.

use crate::harness::Harness;
use crate::idp::IdentityProvider;
use crate::stack::StackConfig;
use std::io;

pub use crate::idp::JwksMode;
pub use crate::keys::Alg;
pub use crate::origin::EchoOrigin;
pub use crate::stack::Stack;

/// The demo users: (sub, roles).
pub const USERS: [(&str, &[&str]); 2] = [("admin", &["admin"]), ("user", &["user"])];

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

    /// A fresh token (valid 10 minutes) for each demo user: (sub, token).
    pub fn tokens(&self) -> Vec<(&'static str, String)> {
        USERS
            .iter()
            .map(|(sub, roles)| (*sub, self.harness.idp.token(sub, roles)))
            .collect()
    }

    /// What to try, as shell commands against the running demo.
    pub fn instructions(&self) -> String {
        let url = self.harness.stack.url();
        let mut out = format!(
            "edge-auth demo on {url}\n  identity provider: {}\n  origin (echo):     {}\n\n",
            self.harness.idp.issuer(),
            self.harness.origin.url()
        );
        out.push_str(&format!(
            "  curl -i {url}/health                 # public\n"
        ));
        out.push_str(&format!(
            "  curl -i {url}/hello                  # 401: no token\n"
        ));
        for (sub, token) in self.tokens() {
            out.push_str(&format!(
                "  curl -i -H 'Authorization: Bearer {token}' {url}/admin/x   # as {sub}\n"
            ));
        }
        out
    }
}
