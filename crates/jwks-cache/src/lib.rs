//! jwks-cache (to be filled in by its issue).
