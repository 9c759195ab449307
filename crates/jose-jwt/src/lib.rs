//! JWS/JWT verification. Placeholder.
