//! What crosses between the client, the two Workers and the origin: every header name and strip
//! rule, the signed identity context, and the identity headers the origin reads.

pub(crate) mod context;
pub(crate) mod headers;
pub(crate) mod identity_headers;
