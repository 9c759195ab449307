//! The authz Worker (skeleton).
