#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod compile;
mod decide;
mod error;
mod explain;
mod lint;
mod lookalike;
#[rustfmt::skip]
mod lookalike_table;
mod method;
mod path;
mod pattern;

pub use compile::Compiled;
pub use decide::{Decision, Principal, Reason, RuleTable, Verdict};
pub use error::{RuleRef, TableError, TableErrorKind, TableErrors, Warning};
pub use explain::explain;
pub use lookalike::{is_ascii_lookalike, PathPolicy};
pub use method::{ExtensionMethod, Method, MethodError};
pub use path::{normalize_path, NormalizedPath, PathError, MAX_PATH_LEN};
pub use pattern::PatternProblem;

/// Request headers that claim another path or method (lower-case). Some origins and
/// frameworks honour them, which would let a caller act on a path the rules never saw:
/// strip them all before forwarding.
pub const OVERRIDE_HEADERS: &[&str] = &[
    "x-original-url",
    "x-rewrite-url",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-forwarded-uri",
    "x-forwarded-prefix",
];
