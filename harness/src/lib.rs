#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod assertion;
pub mod context;
pub mod demo;
pub mod gateway;
mod harness;
pub mod http;
pub mod idp;
pub mod keys;
pub mod origin;
mod server;
pub mod stack;
mod wire;

pub use assertion::AssertionKey;
pub use gateway::FakeGateway;
pub use harness::{check_all, Harness};
pub use http::{Request, Response};
pub use idp::{IdentityProvider, JwksMode};
pub use keys::{Alg, HsAlg, Key};
pub use origin::{EchoOrigin, Seen};
pub use stack::{ServiceWorker, Stack, StackConfig};
