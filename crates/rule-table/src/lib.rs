#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod compile;
mod conditions;
mod decide;
/// For the Workers' build scripts only (feature `build`): the table they compile in.
#[cfg(feature = "build")]
pub mod embed;
mod error;
mod explain;
mod index;
mod lint;
mod lookalike;
#[rustfmt::skip]
mod lookalike_table;
mod method;
mod path;
mod pattern;
mod upstream;

pub use compile::Compiled;
pub use decide::{Decision, Principal, Reason, RuleTable, Verdict};
pub use error::{RuleRef, TableError, TableErrorKind, TableErrors, Warning};
pub use explain::explain;
pub use lookalike::{is_ascii_lookalike, PathPolicy};
pub use method::{ExtensionMethod, Method, MethodError};
pub use path::{normalize_path, NormalizedPath, PathError, MAX_PATH_LEN};
pub use pattern::PatternProblem;
pub use upstream::{
    HeaderTemplate, JsonTemplate, PathMapping, Piece, Placeholder, Template, Upstream,
    UpstreamRoute, UpstreamUrl, UrlProblem, DEFAULT_BEARER_HEADER,
};
