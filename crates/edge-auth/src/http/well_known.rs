//! The gateway's own endpoints under `/.well-known/`: answered by the gateway, before the rule
//! table, and never forwarded to the origin (the rule table cannot admit, refuse or shadow them).
//!
//! They are recognized on the *normalized* path (so `/.well-known/./edge-auth/jwks.json` is the
//! same endpoint) for `GET` and `HEAD`; `OPTIONS` on them is a CORS preflight the gateway
//! answers too ([`WellKnown::recognize_preflight`], [`crate::preflight`]). Any other method on
//! these paths goes to the rule table like any other request.

use rule_table::{Method, NormalizedPath};

/// The gateway's public keys for the assertion it signs (RFC 7517 JWK Set).
pub const GATEWAY_JWKS_PATH: &str = "/.well-known/edge-auth/jwks.json";
/// OAuth 2.0 Protected Resource Metadata (RFC 9728 §3).
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// One of the gateway's own endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WellKnown {
    /// [`GATEWAY_JWKS_PATH`].
    GatewayJwks,
    /// [`PROTECTED_RESOURCE_PATH`], bare (`resource_path` `None`) or with the resource's path
    /// appended (RFC 9728 §3.1: `…/oauth-protected-resource/mcp` describes `<origin>/mcp`).
    ProtectedResource {
        /// The resource's path, with its leading `/`, when the suffixed form was requested.
        resource_path: Option<String>,
    },
}

impl WellKnown {
    /// Which endpoint `method path` asks for, if any.
    pub fn recognize(method: &Method, path: &NormalizedPath) -> Option<Self> {
        if !matches!(method, Method::Get | Method::Head) {
            return None;
        }
        Self::at(path)
    }

    /// Which endpoint an `OPTIONS` on `path` is a (CORS) preflight for, if any: browsers ask
    /// before they `GET` the metadata or the key set from another origin.
    pub fn recognize_preflight(method: &Method, path: &NormalizedPath) -> Option<Self> {
        if *method != Method::Options {
            return None;
        }
        Self::at(path)
    }

    fn at(path: &NormalizedPath) -> Option<Self> {
        let path = path.as_str();
        // A trailing slash is ignored for matching rules; do the same here.
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        if path == GATEWAY_JWKS_PATH {
            return Some(WellKnown::GatewayJwks);
        }
        let rest = path.strip_prefix(PROTECTED_RESOURCE_PATH)?;
        if rest.is_empty() {
            return Some(WellKnown::ProtectedResource {
                resource_path: None,
            });
        }
        rest.starts_with('/').then(|| WellKnown::ProtectedResource {
            resource_path: Some(rest.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recognize(method: &str, raw: &str) -> Option<WellKnown> {
        let method = Method::parse(method).unwrap();
        let path = rule_table::normalize_path(raw).unwrap();
        WellKnown::recognize(&method, &path)
    }

    #[test]
    fn recognizes_the_normalized_paths_for_get_and_head_only() {
        assert_eq!(
            recognize("GET", GATEWAY_JWKS_PATH),
            Some(WellKnown::GatewayJwks)
        );
        assert_eq!(
            recognize("HEAD", "/.well-known/./edge-auth//jwks.json"),
            Some(WellKnown::GatewayJwks)
        );
        assert_eq!(
            recognize("GET", "/.well-known/edge-auth/jwks.json/"),
            Some(WellKnown::GatewayJwks)
        );
        assert_eq!(recognize("POST", GATEWAY_JWKS_PATH), None);
        assert_eq!(recognize("GET", "/.well-known/edge-auth/jwks.jsonx"), None);
        assert_eq!(recognize("GET", "/x/.well-known/edge-auth/jwks.json"), None);
        assert_eq!(
            recognize("GET", PROTECTED_RESOURCE_PATH),
            Some(WellKnown::ProtectedResource {
                resource_path: None
            })
        );
        assert_eq!(
            recognize("GET", "/.well-known/oauth-protected-resource/mcp/v1"),
            Some(WellKnown::ProtectedResource {
                resource_path: Some("/mcp/v1".to_owned())
            })
        );
        assert_eq!(
            recognize("GET", "/.well-known/oauth-protected-resourcex"),
            None
        );
        assert_eq!(recognize("DELETE", PROTECTED_RESOURCE_PATH), None);
        assert_eq!(recognize("OPTIONS", PROTECTED_RESOURCE_PATH), None);
    }

    #[test]
    fn options_on_the_same_paths_is_a_preflight_and_nothing_else_is() {
        let preflight = |method: &str, raw: &str| {
            let method = Method::parse(method).unwrap();
            let path = rule_table::normalize_path(raw).unwrap();
            WellKnown::recognize_preflight(&method, &path)
        };
        assert_eq!(
            preflight("OPTIONS", "/.well-known/./edge-auth//jwks.json/"),
            Some(WellKnown::GatewayJwks)
        );
        assert_eq!(
            preflight("options", "/.well-known/oauth-protected-resource/mcp"),
            Some(WellKnown::ProtectedResource {
                resource_path: Some("/mcp".to_owned())
            })
        );
        for (method, raw) in [
            ("GET", GATEWAY_JWKS_PATH),
            ("HEAD", PROTECTED_RESOURCE_PATH),
            ("POST", PROTECTED_RESOURCE_PATH),
            ("OPTIONS", "/.well-known/oauth-protected-resourcex"),
            ("OPTIONS", "/x/.well-known/edge-auth/jwks.json"),
        ] {
            assert_eq!(preflight(method, raw), None, "{method} {raw}");
        }
    }
}
