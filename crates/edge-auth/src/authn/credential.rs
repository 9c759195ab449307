//! Finding the one bearer credential in a request.
//!
//! The auth Worker accepts a token from `Authorization: Bearer …` and, in
//! Cloudflare Access mode, also from the `Cf-Access-Jwt-Assertion` header and
//! the `CF_Authorization` cookie. Anything ambiguous is an error rather than a
//! guess: a request that carries two different tokens, or a scheme we do not
//! speak, must not silently become "anonymous".

use core::fmt;

/// Default cap on the size of a token, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;

/// Name of the cookie Cloudflare Access sets in browsers.
pub const ACCESS_COOKIE_NAME: &str = "CF_Authorization";

/// Where a credential was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `Authorization: Bearer <token>`.
    AuthorizationHeader,
    /// `Cf-Access-Jwt-Assertion: <token>` (Access mode only).
    AccessHeader,
    /// `Cookie: CF_Authorization=<token>` (Access mode only).
    AccessCookie,
}

impl CredentialSource {
    /// Stable name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationHeader => "authorization_header",
            Self::AccessHeader => "access_header",
            Self::AccessCookie => "access_cookie",
        }
    }
}

/// A syntactically valid token and where it came from.
///
/// The token is only reachable through [`Credential::token`]; `Debug` prints
/// its length, never its content, so a stray `{:?}` cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    token: String,
    source: CredentialSource,
}

impl Credential {
    /// The raw token (a compact JWS, not yet verified).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where the token was found.
    pub fn source(&self) -> CredentialSource {
        self.source
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("source", &self.source)
            .field("token_len", &self.token.len())
            .finish()
    }
}

/// The request headers that may carry a credential (values as received).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestCredentials<'a> {
    /// `Authorization` header.
    pub authorization: Option<&'a str>,
    /// `Cf-Access-Jwt-Assertion` header.
    pub access_assertion: Option<&'a str>,
    /// `Cookie` header.
    pub cookie: Option<&'a str>,
}

/// The credential headers of a request, read once: `Authorization` always; the Access header
/// and cookie only in Cloudflare Access mode (elsewhere they are not credentials, so they are
/// not even fetched from the runtime).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialHeaders {
    authorization: Option<String>,
    access_assertion: Option<String>,
    cookie: Option<String>,
}

impl CredentialHeaders {
    /// Reads the headers `mode` takes credentials from; `header` returns a header by name.
    pub fn read(mode: &ExtractionMode, header: impl Fn(&str) -> Option<String>) -> Self {
        let access = |name| mode.cloudflare_access.then(|| header(name)).flatten();
        CredentialHeaders {
            authorization: header(crate::AUTHORIZATION_HEADER),
            access_assertion: access(crate::ACCESS_ASSERTION_HEADER),
            cookie: access(crate::COOKIE_HEADER),
        }
    }

    /// The values, for [`extract_credential`].
    pub fn credentials(&self) -> RequestCredentials<'_> {
        RequestCredentials {
            authorization: self.authorization.as_deref(),
            access_assertion: self.access_assertion.as_deref(),
            cookie: self.cookie.as_deref(),
        }
    }
}

/// Which sources are read, and how large a token may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractionMode {
    /// Also read the Access header and cookie.
    pub cloudflare_access: bool,
    /// Tokens longer than this are rejected before any other work.
    pub max_token_bytes: usize,
}

impl Default for ExtractionMode {
    fn default() -> Self {
        Self {
            cloudflare_access: false,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// Why no credential could be taken from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// A credential is longer than `max_token_bytes`.
    TooLarge {
        /// Where the oversized value was found.
        source: CredentialSource,
    },
    /// A credential is present but not of the expected shape.
    Malformed {
        /// Where the malformed value was found.
        source: CredentialSource,
    },
    /// `Authorization` uses a scheme other than `Bearer` (for example `Basic`).
    UnsupportedScheme,
    /// Two sources carry different tokens.
    Conflicting,
    /// The `CF_Authorization` cookie appears more than once with different values.
    DuplicateAccessCookie,
}

impl CredentialError {
    /// Stable machine-readable code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "credential_too_large",
            Self::Malformed { .. } => "credential_malformed",
            Self::UnsupportedScheme => "unsupported_auth_scheme",
            Self::Conflicting => "conflicting_credentials",
            Self::DuplicateAccessCookie => "duplicate_access_cookie",
        }
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { source } => write!(
                f,
                "the credential in {} is larger than the configured limit; send a smaller token",
                source.as_str()
            ),
            Self::Malformed { source } => write!(
                f,
                "the credential in {} is malformed; expected a single base64url/'.' token \
                 (for the Authorization header: `Bearer <token>` with exactly one space)",
                source.as_str()
            ),
            Self::UnsupportedScheme => f.write_str(
                "the Authorization header uses an unsupported scheme; only `Bearer` is accepted",
            ),
            Self::Conflicting => f.write_str(
                "the request carries different tokens in different places; send exactly one",
            ),
            Self::DuplicateAccessCookie => f.write_str(
                "the CF_Authorization cookie is sent more than once with different values; \
                 clear the stale cookie",
            ),
        }
    }
}

impl std::error::Error for CredentialError {}

/// Take the credential out of a request.
///
/// Returns `Ok(None)` when no source carries one (an anonymous request).
/// Size limits are checked before any parsing. Without Access mode the Access
/// header and cookie are ignored. Sources are read in the order Authorization,
/// Access header, Access cookie; if several are present they must agree.
pub fn extract_credential(
    req: &RequestCredentials<'_>,
    mode: &ExtractionMode,
) -> Result<Option<Credential>, CredentialError> {
    let max = mode.max_token_bytes;
    // Size checks first, so an oversized header costs no parsing. The
    // Authorization value may carry a scheme prefix on top of the token.
    if req
        .authorization
        .is_some_and(|v| v.len() > max.saturating_add(BEARER.len() + 1))
    {
        return Err(CredentialError::TooLarge {
            source: CredentialSource::AuthorizationHeader,
        });
    }
    if mode.cloudflare_access && req.access_assertion.is_some_and(|v| v.len() > max) {
        return Err(CredentialError::TooLarge {
            source: CredentialSource::AccessHeader,
        });
    }

    let mut found: Option<Credential> = None;
    let mut offer = |token: &str, source| -> Result<(), CredentialError> {
        match &found {
            Some(existing) if existing.token != token => Err(CredentialError::Conflicting),
            Some(_) => Ok(()),
            None => {
                found = Some(Credential {
                    token: token.to_owned(),
                    source,
                });
                Ok(())
            }
        }
    };

    if let Some(value) = req.authorization {
        let token = parse_authorization(value, max)?;
        offer(token, CredentialSource::AuthorizationHeader)?;
    }
    if mode.cloudflare_access {
        if let Some(value) = req.access_assertion {
            let source = CredentialSource::AccessHeader;
            if !is_token(value) {
                return Err(CredentialError::Malformed { source });
            }
            offer(value, source)?;
        }
        if let Some(header) = req.cookie {
            if let Some(token) = access_cookie(header, max)? {
                offer(token, CredentialSource::AccessCookie)?;
            }
        }
    }
    Ok(found)
}

const BEARER: &str = "Bearer";

/// `Bearer <token>`: scheme case-insensitive, exactly one space, one token.
fn parse_authorization(value: &str, max: usize) -> Result<&str, CredentialError> {
    let source = CredentialSource::AuthorizationHeader;
    let malformed = CredentialError::Malformed { source };
    // The scheme is everything up to the first space (or the whole value).
    let (scheme, rest) = match value.split_once(' ') {
        Some((scheme, rest)) => (scheme, Some(rest)),
        None => (value, None),
    };
    if scheme.is_empty() || !scheme.bytes().all(is_tchar) {
        return Err(malformed);
    }
    if !scheme.eq_ignore_ascii_case(BEARER) {
        return Err(CredentialError::UnsupportedScheme);
    }
    let token = rest.ok_or_else(|| malformed.clone())?;
    if token.len() > max {
        return Err(CredentialError::TooLarge { source });
    }
    if !is_token(token) {
        return Err(malformed);
    }
    Ok(token)
}

/// The value of the `CF_Authorization` cookie, if present.
///
/// Cookie pairs are separated by `;` with optional whitespace; pairs without
/// `=` are skipped (browsers send them). A value wrapped in double quotes
/// (RFC 6265 allows it) is unwrapped.
fn access_cookie(header: &str, max: usize) -> Result<Option<&str>, CredentialError> {
    let source = CredentialSource::AccessCookie;
    let mut found: Option<&str> = None;
    for pair in header.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if name.trim_matches(is_ows) != ACCESS_COOKIE_NAME {
            continue;
        }
        let value = value.trim_matches(is_ows);
        if value.len() > max.saturating_add(2) {
            return Err(CredentialError::TooLarge { source });
        }
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.len() > max {
            return Err(CredentialError::TooLarge { source });
        }
        if !is_token(value) {
            return Err(CredentialError::Malformed { source });
        }
        match found {
            Some(previous) if previous != value => {
                return Err(CredentialError::DuplicateAccessCookie)
            }
            _ => found = Some(value),
        }
    }
    Ok(found)
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Non-empty and only base64url characters and `.` (the compact JWS alphabet).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// RFC 9110 `tchar` (characters allowed in an auth-scheme name).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
#[path = "credential_tests.rs"]
mod tests;
