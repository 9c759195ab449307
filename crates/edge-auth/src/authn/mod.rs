//! Authentication, the auth Worker's half: the credential a request carries, the identity a
//! verified token establishes, the Worker's configuration, and [`authenticate`], the pipeline
//! that ties them together.

pub(crate) mod actor;
pub(crate) mod config;
pub(crate) mod credential;
pub(crate) mod identity;
pub(crate) mod pipeline;
