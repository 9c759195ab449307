//! Authorization, the authz Worker's half: its configuration, where allowed requests go, and
//! [`authorize`], the pipeline from a request and its context to a forward or a refusal.

pub(crate) mod config;
pub(crate) mod origin;
pub(crate) mod pipeline;
pub(crate) mod rules;
pub(crate) mod upstream;
