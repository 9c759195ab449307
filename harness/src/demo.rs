//! What `cargo xtask dev` runs: the local identity provider, the echo origin, a fake AI gateway
//! behind the `ai` upstream, and both Workers on a fixed port, with Cloudflare Access as a token
//! source (Bearer tokens work too) and the assertion to the origin on (an EdDSA key generated at
//! start). The demo's instructions and tokens are the xtask's own.

use crate::assertion::AssertionKey;
use crate::gateway::FakeGateway;
use crate::harness::Harness;
use crate::idp::IdentityProvider;
use crate::keys;
use crate::stack::StackConfig;
use std::io;

/// A running demo.
pub struct Demo {
    /// Everything that runs.
    pub harness: Harness,
    /// The fake AI gateway `[upstream.ai]` points at (`AI_GATEWAY_URL`).
    pub gateway: FakeGateway,
    /// The gateway's bearer secret (`CF_AI_GATEWAY_TOKEN`), random per run.
    pub gateway_token: String,
    /// The key the authz Worker signs its assertion to the origin with (generated at start).
    pub assertion_key: AssertionKey,
}

impl Demo {
    /// Starts the identity provider, the origin, the fake gateway and the Workers on
    /// `127.0.0.1:port`.
    pub fn start(port: u16) -> io::Result<Demo> {
        let gateway_token = keys::random_hex(16);
        let gateway = FakeGateway::start(&gateway_token)?;
        let assertion_key = AssertionKey::ed25519();
        let (var, value) = assertion_key.var();
        let harness = Harness::try_start_with(|c: StackConfig, idp: &IdentityProvider| {
            c.port(port)
                .access(idp)
                .ai_gateway(&gateway, Some(&gateway_token))
                .authz_var(var, value)
        })?;
        Ok(Demo {
            harness,
            gateway,
            gateway_token,
            assertion_key,
        })
    }
}
