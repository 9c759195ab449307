#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
mod cache;
mod cache_control;
mod error;
mod event;
mod policy;
mod verified;

pub use body::CappedBody;
pub use cache::{Environment, Fetched, JwksCache, Lookup};
pub use cache_control::freshness_from_cache_control;
pub use error::{CacheError, FetchError};
pub use event::Event;
pub use policy::{CachePolicy, FetchReason, Source};
pub use verified::{Cached, TokenDigest, VerifiedTokens};
