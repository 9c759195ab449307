//! The HTTP face of both Workers: the one mapping from a refusal to a response, the log line,
//! the request URL as the runtime serialized it, and the request id.

pub(crate) mod facts;
pub(crate) mod gateway_answer;
pub(crate) mod log;
pub(crate) mod protected_resource;
pub(crate) mod refusal;
pub(crate) mod request_url;
pub(crate) mod well_known;
