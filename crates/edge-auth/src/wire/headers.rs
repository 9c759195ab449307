//! Which request headers a Worker removes before passing a request on: every stripped name and
//! prefix is in the one table below, and every comparison folds names the way an origin may read
//! them.
//!
//! The origin trusts `X-User-*` and the context header only because the Workers set them, so
//! every incoming copy is removed, and so is anything an origin could read as one of them.
//! CGI-style origins (Rack/Puma before 6.4.3, WSGI, PHP; CVE-2024-45614) turn `X-User-ID`
//! into `HTTP_X_USER_ID`, and so also `X_User_ID`; some gateways map every punctuation
//! character that way. So names are compared case-insensitively with every byte that is not a
//! letter or a digit read as `-`.

use Pattern::{Name, Prefix};
use StrippedKind::{
    AccessIdentity, AiGatewayControl, ClientCredential, GatewayIdentity, Host, Override,
    OwnIdentity, RequestId,
};

/// The header carrying the signed identity from the auth to the authz Worker.
pub const CONTEXT_HEADER: &str = "x-auth-context";

/// The request id the auth Worker sets (a client's copy is removed) and both Workers pass on.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The platform's id of a request, which becomes ours when well-formed.
pub const RAY_HEADER: &str = "cf-ray";
/// The header of a Bearer credential.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// Cloudflare Access's token header (read only in Access mode).
pub const ACCESS_ASSERTION_HEADER: &str = "cf-access-jwt-assertion";
/// The header of Cloudflare Access's `CF_Authorization` cookie (read only in Access mode).
pub const COOKIE_HEADER: &str = "cookie";

/// Cloudflare Access's e-mail header. It passes a Worker only when it repeats the verified
/// e-mail (see [`HeaderPolicy`]).
pub const ACCESS_EMAIL_HEADER: &str = "cf-access-authenticated-user-email";

/// Why a header is on the list; which Worker removes it follows from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrippedKind {
    /// Identity only the Workers set: `X-User-*`, `X-Auth-Context`, `X-Edge-Auth-Assertion`.
    OwnIdentity,
    /// Identity headers of other gateways an origin may still trust (oauth2-proxy, nginx
    /// `auth_request`): `X-Forwarded-User`, …, `X-Auth-Request-*`.
    GatewayIdentity,
    /// Cloudflare Access's [`ACCESS_EMAIL_HEADER`].
    AccessIdentity,
    /// Claims of another path or method that some origins and frameworks honour, which would
    /// let a caller act on a path the rules never saw.
    Override,
    /// A name the operator listed in `EXTRA_STRIPPED_HEADERS`.
    Extra,
    /// [`REQUEST_ID_HEADER`]: only the auth Worker sets it.
    RequestId,
    /// `Host`: the request to the origin takes the target URL's.
    Host,
    /// Cloudflare AI Gateway's request headers (`cf-aig-*`: cache key, cache TTL and skip,
    /// metadata, custom cost, its own authorization, …). They steer what the gateway serves and
    /// bills, and whose request it logs: a client's `cf-aig-cache-key` could read another
    /// user's cached answer. Only the rule table's `headers` set them; a client's copy never
    /// leaves the edge.
    AiGatewayControl,
    /// The client's own credentials (`Authorization`, `Cf-Access-Jwt-Assertion`, `Cookie`,
    /// which carries Access's `CF_Authorization`): they go on to the origin, and are removed
    /// only on the way to an upstream that does not ask for them
    /// ([`HeaderPolicy::without_client_credentials`]).
    ClientCredential,
}

#[derive(Debug, Clone, Copy)]
enum Pattern {
    Name(&'static str),
    Prefix(&'static str),
}

/// Every header name and prefix a Worker strips (lowercase, hyphenated; matched folded).
const STRIPPED: &[(Pattern, StrippedKind)] = &[
    (Prefix("x-user-"), OwnIdentity),
    (Name(CONTEXT_HEADER), OwnIdentity),
    (Name("x-edge-auth-assertion"), OwnIdentity),
    (Name("x-forwarded-user"), GatewayIdentity),
    (Name("x-forwarded-email"), GatewayIdentity),
    (Name("x-forwarded-groups"), GatewayIdentity),
    (Name("x-forwarded-preferred-username"), GatewayIdentity),
    (Prefix("x-auth-request-"), GatewayIdentity),
    (Name(ACCESS_EMAIL_HEADER), AccessIdentity),
    (Name("x-original-url"), Override),
    (Name("x-original-uri"), Override),
    (Name("x-original-method"), Override),
    (Name("x-rewrite-url"), Override),
    (Name("x-http-method-override"), Override),
    (Name("x-http-method"), Override),
    (Name("x-method-override"), Override),
    (Name("x-forwarded-uri"), Override),
    (Name("x-forwarded-path"), Override),
    (Name("x-forwarded-prefix"), Override),
    (Name("x-envoy-original-path"), Override),
    (Name(REQUEST_ID_HEADER), RequestId),
    (Name("host"), Host),
    (Name(AUTHORIZATION_HEADER), ClientCredential),
    (Name(ACCESS_ASSERTION_HEADER), ClientCredential),
    (Name(COOKIE_HEADER), ClientCredential),
    (Prefix("cf-aig-"), AiGatewayControl),
];

/// The path and method override headers (lowercase): what [`StrippedKind::Override`] covers.
pub fn override_headers() -> impl Iterator<Item = &'static str> {
    STRIPPED.iter().filter_map(|(pattern, kind)| match pattern {
        Name(name) if *kind == Override => Some(*name),
        _ => None,
    })
}

/// How a name reads to an origin that maps header names CGI-style: ASCII case-folded, and any
/// byte that is not a letter or a digit (`_`, `.`, …) read as `-`.
fn fold(b: u8) -> u8 {
    if b.is_ascii_alphanumeric() {
        b.to_ascii_lowercase()
    } else {
        b'-'
    }
}

/// True when `a` and `b` are the same name once folded (see the module docs).
pub fn same_header_name(a: &str, b: &str) -> bool {
    same_folded(a.as_bytes(), b.as_bytes())
}

fn same_folded(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| fold(*x) == fold(*y))
}

fn has_folded_prefix(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| same_folded(start, prefix.as_bytes()))
}

/// Why `name` is on the list, if it is: the built-in table first, then `extra` (names from
/// `EXTRA_STRIPPED_HEADERS`), all compared folded.
pub fn stripped_kind(name: &str, extra: &[String]) -> Option<StrippedKind> {
    let listed = STRIPPED.iter().find(|(pattern, _)| match pattern {
        Name(listed) => same_header_name(name, listed),
        Prefix(prefix) => has_folded_prefix(name, prefix),
    });
    match listed {
        Some((_, kind)) => Some(*kind),
        None => extra
            .iter()
            .any(|e| same_header_name(name, e))
            .then_some(StrippedKind::Extra),
    }
}

/// True for any header that claims an identity (ours, another gateway's, Cloudflare Access's,
/// or one listed in `extra`), compared folded.
pub fn is_client_identity_header(name: &str, extra: &[String]) -> bool {
    matches!(
        stripped_kind(name, extra),
        Some(OwnIdentity | GatewayIdentity | AccessIdentity | StrippedKind::Extra)
    )
}

/// The request a Worker is about to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The auth Worker's request to the authz Worker.
    ToAuthz,
    /// The authz Worker's request to the origin.
    ToOrigin,
}

/// What one Worker removes from the request it passes on.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPolicy<'a> {
    hop: Hop,
    extra: &'a [String],
    access_email: Option<&'a str>,
    strip_client_credentials: bool,
}

impl<'a> HeaderPolicy<'a> {
    /// The auth Worker's policy. `access_email` is the verified e-mail when Cloudflare Access is
    /// the configured source (`ACCESS_TEAM_DOMAIN` set) and `None` otherwise: only then may
    /// Access's e-mail header pass, and only with exactly that value.
    pub fn to_authz(extra: &'a [String], access_email: Option<&'a str>) -> Self {
        Self {
            hop: Hop::ToAuthz,
            extra,
            access_email,
            strip_client_credentials: false,
        }
    }

    /// The authz Worker's policy. It cannot see the auth Worker's configuration, so Access's
    /// e-mail header passes only when it repeats `verified_email`, the e-mail in the signed
    /// context: then it tells the origin nothing `X-User-Email` does not.
    pub fn to_origin(extra: &'a [String], verified_email: Option<&'a str>) -> Self {
        Self {
            hop: Hop::ToOrigin,
            extra,
            access_email: verified_email,
            strip_client_credentials: false,
        }
    }

    /// This policy, also removing the client's credentials ([`StrippedKind::ClientCredential`],
    /// look-alikes included): for an upstream that has a credential of its own, or does not
    /// ask for the client's. The whole `Cookie` header goes, not only `CF_Authorization`: a
    /// cookie parser that disagrees with the upstream's about one odd cookie could otherwise
    /// let the token through under another spelling, and the API's own session cookies are not
    /// the upstream's either.
    pub fn without_client_credentials(mut self) -> Self {
        self.strip_client_credentials = true;
        self
    }

    /// True when the header `name` must be removed. `value` is asked for only when the answer
    /// depends on it (Access's e-mail header); `None` (absent, unreadable) removes it.
    pub fn strips(&self, name: &str, value: impl FnOnce() -> Option<String>) -> bool {
        let Some(kind) = stripped_kind(name, self.extra) else {
            return false;
        };
        match kind {
            OwnIdentity | GatewayIdentity | Override | StrippedKind::Extra => true,
            // Kept only under its own name: a look-alike of it is never Access's.
            AccessIdentity => {
                !(name.eq_ignore_ascii_case(ACCESS_EMAIL_HEADER)
                    && self
                        .access_email
                        .is_some_and(|email| value().as_deref() == Some(email)))
            }
            // The auth Worker sets its own; the authz Worker passes that one on.
            RequestId => self.hop == Hop::ToAuthz,
            Host | AiGatewayControl => self.hop == Hop::ToOrigin,
            ClientCredential => self.strip_client_credentials,
        }
    }
}

/// True for a valid HTTP field name (RFC 9110 `token`).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
#[path = "headers_tests.rs"]
mod tests;
