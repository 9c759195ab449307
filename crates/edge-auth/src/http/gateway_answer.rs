//! The gateway's own answers (not refusals): its `/.well-known/` endpoints and their CORS
//! preflights. One type, [`GatewayAnswer`], for every one of them, turned into a response and
//! the request's log line in one place (`worker_glue::respond`) by both Workers.

use std::borrow::Cow;

use rule_table::{Method, NormalizedPath};

use crate::{is_header_name, LogLineBuilder, Outcome, RequestFacts, WellKnown, REQUEST_ID_HEADER};

/// What a preflight may ask for on the gateway's endpoints: they only ever answer these.
pub const PREFLIGHT_ALLOW_METHODS: &str = "GET, HEAD, OPTIONS";
/// How long a browser may keep a preflight's answer (a day: it changes only with a release).
pub const PREFLIGHT_MAX_AGE_SECONDS: u32 = 86_400;
/// The request header a preflight lists the headers of the request to come in (Fetch).
pub const ACCESS_CONTROL_REQUEST_HEADERS: &str = "access-control-request-headers";
/// Longest `Access-Control-Request-Headers` echoed back; a longer one gets no
/// `Access-Control-Allow-Headers` (the browser then refuses the request to come).
pub const MAX_PREFLIGHT_REQUEST_HEADERS_BYTES: usize = 1024;

/// The CORS headers of a gateway answer. The endpoints are public and take no credentials, so
/// any origin may read them (`*`, never a reflected origin, never `Allow-Credentials`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// `Access-Control-Allow-Origin: *`.
    AnyOrigin,
    /// The answer to a preflight: any origin, [`PREFLIGHT_ALLOW_METHODS`], the requested
    /// headers (`None`: none requested, or not a list of header names), a day's max age.
    Preflight {
        /// `Access-Control-Allow-Headers`, lowercase names joined by `", "`.
        allow_headers: Option<String>,
    },
}

/// An answer the gateway gives itself: status, headers, body and what its log line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAnswer<'a> {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` (`None`: no body at all).
    pub content_type: Option<&'static str>,
    /// `Cache-Control`.
    pub cache_control: Option<&'static str>,
    /// The CORS headers.
    pub cors: Option<Cors>,
    /// The body; `None` answers a `HEAD` (or has none, as a preflight). Borrowed when it is
    /// made once per isolate.
    pub body: Option<Cow<'a, str>>,
    /// The log line's outcome.
    pub outcome: Outcome,
    /// The log line's reason code.
    pub reason: &'static str,
    /// What the log line says about the request.
    pub facts: RequestFacts,
}

impl GatewayAnswer<'_> {
    /// The response headers (lowercase names), the request id last, as on a refusal.
    pub fn headers(&self, request_id: &str) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(8);
        if let Some(content_type) = self.content_type {
            headers.push(("content-type", content_type.to_owned()));
        }
        if let Some(cache_control) = self.cache_control {
            headers.push(("cache-control", cache_control.to_owned()));
        }
        match &self.cors {
            None => {}
            Some(Cors::AnyOrigin) => headers.push(("access-control-allow-origin", "*".to_owned())),
            Some(Cors::Preflight { allow_headers }) => {
                headers.push(("access-control-allow-origin", "*".to_owned()));
                headers.push((
                    "access-control-allow-methods",
                    PREFLIGHT_ALLOW_METHODS.to_owned(),
                ));
                if let Some(allowed) = allow_headers {
                    headers.push(("access-control-allow-headers", allowed.clone()));
                }
                headers.push((
                    "access-control-max-age",
                    PREFLIGHT_MAX_AGE_SECONDS.to_string(),
                ));
                // The answer depends on the requested headers: no cache may mix them up.
                headers.push(("vary", "Access-Control-Request-Headers".to_owned()));
                headers.push(("allow", PREFLIGHT_ALLOW_METHODS.to_owned()));
            }
        }
        headers.push((
            REQUEST_ID_HEADER,
            crate::http::refusal::printable(request_id),
        ));
        headers
    }

    /// The `ResponseInit` as JSON (status and headers), as [`crate::ErrorResponse::init_json`].
    pub fn init_json(&self, request_id: &str) -> String {
        crate::http::refusal::init_json(self.status, &self.headers(request_id))
    }

    /// `log` finished with this answer's facts, outcome, reason and status.
    pub fn annotate(&self, log: LogLineBuilder) -> LogLineBuilder {
        self.facts
            .annotate(log)
            .outcome(self.outcome, self.reason)
            .status(self.status)
    }
}

/// The gateway's answer to a CORS preflight (any `OPTIONS`) on one of its endpoints
/// ([`WellKnown::recognize_preflight`]): 204, never forwarded. `request_headers` reads the
/// request's `Access-Control-Request-Headers` (only for a preflight, so other requests pay no
/// header lookup for it), echoed (lowercase) when it is a list of header
/// names (RFC 9110 tokens) of at most [`MAX_PREFLIGHT_REQUEST_HEADERS_BYTES`]; anything else
/// is not echoed, so the browser refuses the request to come. `None`: not such a request.
pub fn preflight(
    method: &Method,
    path: &NormalizedPath,
    request_headers: impl FnOnce() -> Option<String>,
) -> Option<GatewayAnswer<'static>> {
    WellKnown::recognize_preflight(method, path)?;
    let request_headers = request_headers();
    Some(GatewayAnswer {
        status: 204,
        content_type: None,
        cache_control: None,
        cors: Some(Cors::Preflight {
            allow_headers: request_headers.as_deref().and_then(allowed_headers),
        }),
        body: None,
        outcome: Outcome::Answered,
        reason: "cors_preflight",
        facts: RequestFacts {
            path: Some(path.as_str().to_owned()),
            ..RequestFacts::default()
        },
    })
}

/// `raw` as a list of lowercase header names, or `None` when it is empty, too long, or holds
/// anything but header names (RFC 9110 §5.6.1 lists: empty elements and spaces around commas
/// allowed).
fn allowed_headers(raw: &str) -> Option<String> {
    if raw.len() > MAX_PREFLIGHT_REQUEST_HEADERS_BYTES {
        return None;
    }
    let mut names = Vec::new();
    for element in raw.split(',') {
        let name = element.trim_matches(|c| c == ' ' || c == '\t');
        if name.is_empty() {
            continue;
        }
        if !is_header_name(name) {
            return None;
        }
        names.push(name.to_ascii_lowercase());
    }
    (!names.is_empty()).then(|| names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GATEWAY_JWKS_PATH, PROTECTED_RESOURCE_PATH};

    fn preflight_of(
        method: &str,
        raw: &str,
        headers: Option<&str>,
    ) -> Option<GatewayAnswer<'static>> {
        let method = Method::parse(method).unwrap();
        let path = rule_table::normalize_path(raw).unwrap();
        preflight(&method, &path, || headers.map(str::to_owned))
    }

    fn header<'h>(headers: &'h [(&'static str, String)], name: &str) -> Option<&'h str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn options_on_either_endpoint_is_a_204_preflight_with_every_cors_header() {
        for path in [
            PROTECTED_RESOURCE_PATH,
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/./oauth-protected-resource/",
            GATEWAY_JWKS_PATH,
            "/.well-known/edge-auth//jwks.json",
        ] {
            let answer = preflight_of("options", path, Some("mcp-protocol-version")).unwrap();
            assert_eq!((answer.status, &answer.body), (204, &None), "{path}");
            assert_eq!(answer.reason, "cors_preflight");
            assert_eq!(answer.outcome, Outcome::Answered);
            let headers = answer.headers("req-1");
            assert_eq!(
                headers,
                vec![
                    ("access-control-allow-origin", "*".to_owned()),
                    (
                        "access-control-allow-methods",
                        "GET, HEAD, OPTIONS".to_owned()
                    ),
                    (
                        "access-control-allow-headers",
                        "mcp-protocol-version".to_owned()
                    ),
                    ("access-control-max-age", "86400".to_owned()),
                    ("vary", "Access-Control-Request-Headers".to_owned()),
                    ("allow", "GET, HEAD, OPTIONS".to_owned()),
                    ("x-request-id", "req-1".to_owned()),
                ],
                "{path}"
            );
            assert!(header(&headers, "access-control-allow-credentials").is_none());
            assert!(header(&headers, "content-type").is_none());
        }
    }

    #[test]
    fn only_options_on_the_endpoints_is_a_preflight() {
        for (method, path) in [
            ("GET", PROTECTED_RESOURCE_PATH),
            ("HEAD", GATEWAY_JWKS_PATH),
            ("POST", GATEWAY_JWKS_PATH),
            ("OPTIONS", "/.well-known/oauth-protected-resourcex"),
            ("OPTIONS", "/.well-known/edge-auth/jwks"),
            ("OPTIONS", "/api/.well-known/edge-auth/jwks.json"),
            ("OPTIONS", "/"),
            ("OPTIONS", "/admin"),
        ] {
            assert_eq!(
                preflight_of(method, path, Some("x")),
                None,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn requested_headers_are_echoed_only_when_they_are_header_names() {
        let allowed = |raw: Option<&str>| {
            let answer = preflight_of("OPTIONS", GATEWAY_JWKS_PATH, raw).unwrap();
            header(&answer.headers("r"), "access-control-allow-headers").map(str::to_owned)
        };
        for (raw, expected) in [
            (Some("mcp-protocol-version"), Some("mcp-protocol-version")),
            (
                Some("Authorization, MCP-Protocol-Version"),
                Some("authorization, mcp-protocol-version"),
            ),
            (Some("a,b ,\tc,,"), Some("a, b, c")),
            (
                Some("x-custom_1!#$%&'*+.^`|~"),
                Some("x-custom_1!#$%&'*+.^`|~"),
            ),
            (None, None),
            (Some(""), None),
            (Some(" , "), None),
            // Not header names: nothing echoed (a header injection or a confused client).
            (Some("x-a, x b"), None),
            (Some("x-a\r\nset-cookie: a=b"), None),
            (Some("x-a;x-b"), None),
            (Some("x-é"), None),
            (Some("\"x-a\""), None),
            (Some("x-a/b"), None),
        ] {
            assert_eq!(allowed(raw).as_deref(), expected, "{raw:?}");
        }
        let longest = format!("x-{}", "a".repeat(MAX_PREFLIGHT_REQUEST_HEADERS_BYTES - 2));
        assert_eq!(allowed(Some(&longest)), Some(longest.clone()));
        assert_eq!(allowed(Some(&format!("{longest}b"))), None);
    }

    #[test]
    fn a_public_answer_says_any_origin_and_its_init_json_has_every_header() {
        let answer = GatewayAnswer {
            status: 200,
            content_type: Some("application/json"),
            cache_control: Some("public, max-age=300"),
            cors: Some(Cors::AnyOrigin),
            body: Some(Cow::Borrowed("{}")),
            outcome: Outcome::Served,
            reason: "r",
            facts: RequestFacts::default(),
        };
        let init: serde_json::Value = serde_json::from_str(&answer.init_json("id\u{7f}1")).unwrap();
        assert_eq!(
            init,
            serde_json::json!({"status": 200, "headers": {
                "content-type": "application/json",
                "cache-control": "public, max-age=300",
                "access-control-allow-origin": "*",
                "x-request-id": "id?1",
            }})
        );
    }
}
