//! OAuth 2.0 Protected Resource Metadata (RFC 9728): how a client that was refused finds the
//! authorization server from the resource itself.
//!
//! - [`Resource`] is the `RESOURCE` variable: the resource's identifier, and the metadata URL
//!   derived from it (RFC 9728 §3.1: the well-known path goes between the host and the path).
//! - [`Challenge`] is what every `WWW-Authenticate` of a Worker says besides the error: the
//!   realm and `resource_metadata` (RFC 9728 §5.1), the same in both Workers.
//! - [`ProtectedResourceMetadata`] is the auth Worker's answer to
//!   `GET /.well-known/oauth-protected-resource[/<path>]`, before the rule table and without a
//!   token: the metadata document, or 404 for a path that names another resource.

use std::borrow::Cow;

use serde::Serialize;
use url::Url;

use rule_table::{Method, NormalizedPath, RuleTable};

use crate::config::parse::{jwks_url, show};
use crate::{
    AuthConfig, ConfigError, Cors, GatewayAnswer, Outcome, Refusal, Rejection, RequestFacts,
    RequestUrl, WellKnown, DEFAULT_REALM, PROTECTED_RESOURCE_PATH,
};

/// Only the `Authorization: Bearer` header (RFC 6750 §2.1). A form body (§2.2) is never read
/// (the body streams to the origin untouched), a token in the query (§2.3) would end up in
/// logs and `Referer` headers and OAuth 2.1 forbids it, and the `CF_Authorization` cookie of
/// Access mode is Access's browser session, not a way an OAuth client sends a token.
pub const BEARER_METHODS_SUPPORTED: [&str; 1] = ["header"];
/// How long a client or cache may keep the metadata: it changes only with a deploy or a
/// variable, and 5 minutes bound how long a changed one is missed.
pub const METADATA_CACHE_CONTROL: &str = "public, max-age=300";
/// Longest `RESOURCE_NAME`.
pub const MAX_RESOURCE_NAME_CHARS: usize = 128;

/// The protected resource's identifier (`RESOURCE`): an absolute `https` URL (`http` to a
/// loopback host), without query, fragment or credentials, written as a URL parser writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Exactly as configured (the metadata's `resource` must be identical to it).
    identifier: String,
    /// Its path without a terminating `/` (`""` for the bare origin): the suffix its metadata
    /// URL carries.
    suffix: String,
    /// `<origin>/.well-known/oauth-protected-resource<suffix>`.
    metadata_url: String,
}

impl Resource {
    /// Parses `raw`; every problem names `var` and says how to write it.
    pub fn parse(var: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let url = jwks_url(var, raw)?;
        if url.query().is_some() {
            return Err(ConfigError::new(
                var,
                format!(
                    "{} has a ?query; identify the resource by origin and path only",
                    show(raw)
                ),
            ));
        }
        // Identical means byte for byte, so the value must already be in the form a client's
        // URL parser gives (lower-case scheme and host, no default port, path escapes as sent).
        let canonical = url.as_str();
        let bare = canonical.strip_suffix('/').filter(|_| url.path() == "/");
        if raw != canonical && Some(raw) != bare {
            return Err(ConfigError::new(
                var,
                format!(
                    "{} is not in canonical form; write it as {}",
                    show(raw),
                    show(bare.unwrap_or(canonical))
                ),
            ));
        }
        let path = rule_table::normalize_path(url.path())
            .ok()
            .filter(|path| path.as_str() == url.path())
            .ok_or_else(|| {
                ConfigError::new(
                    var,
                    format!(
                        "{} has a path the gateway would not match as written (escapes, `.`, `//`, `;`); \
                         write the path the way the rule table sees it",
                        show(raw)
                    ),
                )
            })?;
        let suffix = path.as_str().strip_suffix('/').unwrap_or(path.as_str());
        let metadata_url = format!("{}{PROTECTED_RESOURCE_PATH}{suffix}", url_origin(&url));
        Ok(Resource {
            identifier: raw.to_owned(),
            suffix: suffix.to_owned(),
            metadata_url,
        })
    }

    /// The identifier, exactly as configured.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// Where its metadata is: `<origin>/.well-known/oauth-protected-resource<path>`.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }
}

fn url_origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `RESOURCE_NAME`: shown to people (RFC 9728 §2 `resource_name`); at most
/// [`MAX_RESOURCE_NAME_CHARS`] characters, no control characters.
pub(crate) fn resource_name(var: &'static str, raw: String) -> Result<String, ConfigError> {
    if raw.chars().count() <= MAX_RESOURCE_NAME_CHARS && !raw.chars().any(char::is_control) {
        Ok(raw)
    } else {
        Err(ConfigError::new(
            var,
            format!(
                "{} must be at most {MAX_RESOURCE_NAME_CHARS} characters without control characters",
                show(&raw)
            ),
        ))
    }
}

/// Whether `name` can be asked for in a space-delimited OAuth `scope` (RFC 6749 §3.3
/// scope-token: printable ASCII but space, `"` and `\`). A table may name others (in a `scp`
/// array, say); they are left out of `scope="…"` and `scopes_supported`, where they could
/// only be misread.
pub fn is_scope_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// What a Worker's `WWW-Authenticate` says besides the error: the realm and where the
/// resource's metadata is. Built per request from the Worker's configuration and the request
/// URL; the URL is only written out when a challenge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    realm: &'a str,
    resource: Option<&'a Resource>,
    /// The request's origin, for the bare metadata URL when `RESOURCE` is not set.
    request_origin: Option<&'a str>,
}

impl<'a> Challenge<'a> {
    /// `realm` (empty: [`DEFAULT_REALM`]); `resource_metadata` is `resource`'s metadata URL,
    /// else the bare well-known URL on `request_url`'s origin (none if it has no origin).
    pub fn new(realm: &'a str, resource: Option<&'a Resource>, request_url: &'a str) -> Self {
        let realm = if realm.is_empty() {
            DEFAULT_REALM
        } else {
            realm
        };
        Challenge {
            realm,
            resource,
            request_origin: RequestUrl::split(request_url).map(|url| url.origin()),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &'a str {
        self.realm
    }

    /// The `resource_metadata` URL, if there is one.
    pub fn resource_metadata(&self) -> Option<Cow<'a, str>> {
        match (self.resource, self.request_origin) {
            (Some(resource), _) => Some(Cow::Borrowed(resource.metadata_url())),
            (None, Some(origin)) => Some(Cow::Owned(format!("{origin}{PROTECTED_RESOURCE_PATH}"))),
            (None, None) => None,
        }
    }
}

/// The metadata document (RFC 9728 §2), in the order the RFC lists the fields.
#[derive(Serialize)]
struct Document<'a> {
    resource: &'a str,
    authorization_servers: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    scopes_supported: &'a [String],
    bearer_methods_supported: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<&'a str>,
}

/// The auth Worker's metadata endpoint, built once per isolate.
#[derive(Debug, Clone)]
pub struct ProtectedResourceMetadata {
    resource: Option<Resource>,
    authorization_servers: Vec<String>,
    scopes_supported: Vec<String>,
    resource_name: Option<String>,
    /// The whole body when `RESOURCE` fixes it.
    fixed_body: Option<String>,
}

impl ProtectedResourceMetadata {
    /// From the auth Worker's configuration (`RESOURCE`, `RESOURCE_NAME`, the issuers) and
    /// the scopes its rule table names.
    pub fn new(config: &AuthConfig, table: &RuleTable) -> Self {
        let mut metadata = ProtectedResourceMetadata {
            resource: config.resource().cloned(),
            authorization_servers: config.issuers().to_vec(),
            scopes_supported: table
                .scopes()
                .into_iter()
                .filter(|s| is_scope_token(s))
                .map(str::to_owned)
                .collect(),
            resource_name: config.resource_name().map(str::to_owned),
            fixed_body: None,
        };
        metadata.fixed_body = metadata
            .resource
            .as_ref()
            .map(|resource| metadata.body(resource.identifier()));
        metadata
    }

    fn body(&self, resource: &str) -> String {
        let document = Document {
            resource,
            authorization_servers: &self.authorization_servers,
            scopes_supported: &self.scopes_supported,
            bearer_methods_supported: &BEARER_METHODS_SUPPORTED,
            resource_name: self.resource_name.as_deref(),
        };
        // Strings and arrays of strings only: serializing cannot fail.
        serde_json::to_string(&document).unwrap_or_default()
    }

    /// The answer to `method path` when it asks for this resource's metadata, `None` when it
    /// does not (the request goes on). With `RESOURCE` set only its own metadata URL answers
    /// (`resource` identical to it, RFC 9728 §3.3); any other suffix is 404
    /// (`resource_mismatch`). Without it, `resource` is the request's origin plus the suffix.
    pub fn answer(
        &self,
        method: &Method,
        path: &NormalizedPath,
        url: &RequestUrl<'_>,
    ) -> Option<Result<GatewayAnswer<'_>, Refusal>> {
        let Some(WellKnown::ProtectedResource { resource_path }) =
            WellKnown::recognize(method, path)
        else {
            return None;
        };
        let suffix = resource_path.as_deref().unwrap_or("");
        let body = match (&self.resource, &self.fixed_body) {
            (Some(resource), Some(body)) if resource.suffix == suffix => {
                Cow::Borrowed(body.as_str())
            }
            (Some(_), _) => {
                let facts = RequestFacts {
                    path: Some(path.as_str().to_owned()),
                    ..RequestFacts::default()
                };
                return Some(Err(Refusal::new(
                    Rejection::NotFound,
                    "resource_mismatch",
                    &facts,
                )));
            }
            (None, _) => Cow::Owned(self.body(&format!("{}{suffix}", url.origin()))),
        };
        Some(Ok(GatewayAnswer {
            status: 200,
            content_type: Some("application/json"),
            cache_control: Some(METADATA_CACHE_CONTROL),
            // Public by definition, and browser-based clients fetch it from another origin.
            cors: Some(Cors::AnyOrigin),
            body: (!matches!(method, Method::Head)).then_some(body),
            outcome: Outcome::Answered,
            reason: "protected_resource_metadata",
            facts: RequestFacts::default(),
        }))
    }
}

#[cfg(test)]
#[path = "protected_resource_tests.rs"]
mod tests;
