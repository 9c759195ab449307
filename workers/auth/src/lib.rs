//! The auth Worker (skeleton).
