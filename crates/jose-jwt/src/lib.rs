#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithm;
mod b64;
mod claims;
mod error;
mod json;

pub use algorithm::Algorithm;
pub use claims::Claims;
pub use error::Error;
