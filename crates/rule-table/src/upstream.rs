//! Named upstreams (`[upstream.<name>]`): where a rule's allowed requests go instead of the
//! default origin, how the matched path maps onto them, their own credential, and the headers
//! set from the verified identity. Validated with the table, so a bad one cannot be deployed.
//!
//! This crate holds the definitions and the path mapping; it knows no token and no secret
//! value. The edge-auth crate renders the templates from an identity and builds the target.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use toml::{Table, Value};
use url::{Host, Url};

use crate::path::NormalizedPath;

/// The keys of an `[upstream.<name>]` table, for "unknown key" messages.
pub(crate) const UPSTREAM_KEYS: &str = "url, url_var, path, bearer_secret, bearer_header, headers, forward_client_credentials, identity_headers";

/// The header a bearer secret goes in unless `bearer_header` names another.
pub const DEFAULT_BEARER_HEADER: &str = "authorization";

/// A validated upstream URL: `https://host[:port][/base/path]` (plain http only to a loopback
/// host), no query, fragment or userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    /// `scheme://host[:port]`, no trailing slash.
    origin: String,
    /// The base path without a trailing `/` (`""` for none).
    base_path: String,
}

/// Why an upstream URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not an absolute URL with a host.
    NotAbsolute,
    /// Neither https nor http to a loopback host.
    NotHttps,
    /// Has `user:password@`.
    Userinfo,
    /// Has a `?query`.
    Query,
    /// Has a `#fragment`.
    Fragment,
    /// The base path holds characters a URL parser would re-encode, `;`, or a `%2F`-like escape.
    BadPath,
}

impl UrlProblem {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAbsolute => "url_not_absolute",
            Self::NotHttps => "url_not_https",
            Self::Userinfo => "url_userinfo",
            Self::Query => "url_query",
            Self::Fragment => "url_fragment",
            Self::BadPath => "url_bad_path",
        }
    }

    /// What is wrong and how to fix it (fixed text: never the URL itself).
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotAbsolute => "is not an absolute URL with a host; write it like https://gateway.example/base/path",
            Self::NotHttps => "must use https (plain http is allowed only for localhost, 127.0.0.0/8 or [::1])",
            Self::Userinfo => "must not contain user:password@; give the upstream a bearer_secret instead",
            Self::Query => "must not have a ?query; the request's own query is appended",
            Self::Fragment => "must not have a #fragment; remove it",
            Self::BadPath => "has a base path with characters that are not printable ASCII, a ';', or an encoded '/' or '\\'; write a plain path",
        }
    }
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl UpstreamUrl {
    /// Validates `raw` (the table's `url`, or the `url_var` override at isolate start: the
    /// same rules for both).
    pub fn parse(raw: &str) -> Result<Self, UrlProblem> {
        let url = Url::parse(raw.trim()).map_err(|_| UrlProblem::NotAbsolute)?;
        if url.host().is_none() || url.cannot_be_a_base() {
            return Err(UrlProblem::NotAbsolute);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(UrlProblem::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::Userinfo);
        }
        if url.query().is_some() {
            return Err(UrlProblem::Query);
        }
        if url.fragment().is_some() {
            return Err(UrlProblem::Fragment);
        }
        let path = url.path();
        let lower = path.to_ascii_lowercase();
        let plain = path.bytes().all(|b| b.is_ascii_graphic() && b != b';')
            && !lower.contains("%2f")
            && !lower.contains("%5c");
        if !plain {
            return Err(UrlProblem::BadPath);
        }
        Ok(Self {
            origin: url.origin().ascii_serialization(),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// `scheme://host[:port]`, without a trailing slash.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The base path, without a trailing `/` (`""` when the URL has none).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The full path for a `mapped` path (from [`UpstreamRoute::map_path`], `""` or starting
    /// with `/`): the base path followed by it, `/` when both are empty.
    pub fn full_path(&self, mapped: &str) -> String {
        let joined = format!("{}{mapped}", self.base_path);
        if joined.is_empty() {
            "/".to_owned()
        } else {
            joined
        }
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.base_path)
    }
}

/// How a rule's matched (normalized) path maps onto the upstream's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMapping {
    /// `path = "normalized"` (default): the base path followed by the whole normalized path.
    Normalized,
    /// `path = "strip_prefix"`: the base path followed by what is below the literal prefix of
    /// the rule's pattern (`/ai/**` and `/ai/chat` → `<url>/chat`), counted in segments of the
    /// normalized path.
    StripPrefix,
}

impl PathMapping {
    /// The value as written in the table.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Normalized => "normalized",
            Self::StripPrefix => "strip_prefix",
        }
    }
}

/// A value a template can take from the request: the verified identity or the request id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{sub}`: the subject.
    Sub,
    /// `{email}`: the verified e-mail (missing when the identity has none).
    Email,
    /// `{iss}`: the token's issuer.
    Iss,
    /// `{roles}`: the roles as a JSON array of strings.
    Roles,
    /// `{request_id}`: the request id (always present).
    RequestId,
}

const PLACEHOLDERS: [(&str, Placeholder); 5] = [
    ("sub", Placeholder::Sub),
    ("email", Placeholder::Email),
    ("iss", Placeholder::Iss),
    ("roles", Placeholder::Roles),
    ("request_id", Placeholder::RequestId),
];

/// The placeholder names, for messages.
const PLACEHOLDER_NAMES: &str = "{sub}, {email}, {iss}, {roles}, {request_id}";

impl Placeholder {
    /// The name between the braces.
    pub fn name(&self) -> &'static str {
        PLACEHOLDERS
            .iter()
            .find(|(_, p)| p == self)
            .map_or("", |(name, _)| name)
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text (`{{` and `}}` already turned into `{` and `}`).
    Text(String),
    /// A value from the request.
    Value(Placeholder),
}

/// A text template: literal text and `{placeholder}`s; `{{` and `}}` stand for `{` and `}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Parses `src`; the error says what is wrong.
    pub fn parse(src: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = src.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    let found = PLACEHOLDERS.iter().find(|(n, _)| *n == name);
                    let Some((_, placeholder)) = found.filter(|_| closed) else {
                        return Err(format!(
                            "has an unknown or unclosed placeholder {{{name}; use one of {PLACEHOLDER_NAMES} (write {{{{ and }}}} for literal braces)"
                        ));
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Value(*placeholder));
                }
                '}' => {
                    return Err(
                        "has a '}' that closes no placeholder; write }} for a literal brace"
                            .to_owned(),
                    )
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self(pieces))
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.0
    }

    /// The text with every placeholder replaced by `value(placeholder)`; `None` when a
    /// placeholder has no value (see the crate docs for what a Worker does then).
    pub fn render<'v>(&self, value: impl Fn(Placeholder) -> Option<&'v str>) -> Option<String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(p) => out.push_str(value(*p)?),
            }
        }
        Some(out)
    }

    /// The template is exactly one placeholder (`"{roles}"`).
    pub fn only(&self) -> Option<Placeholder> {
        match self.0.as_slice() {
            [Piece::Value(p)] => Some(*p),
            _ => None,
        }
    }
}

/// A JSON value whose strings are templates (`headers.x = { json = { … } }`).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A string template.
    String(Template),
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object (keys in the table's order: sorted).
    Object(Vec<(String, JsonTemplate)>),
}

impl Eq for JsonTemplate {}

impl JsonTemplate {
    fn from_toml(v: &Value, at: &str) -> Result<Self, String> {
        Ok(match v {
            Value::String(s) => Self::String(Template::parse(s).map_err(|e| format!("{at} {e}"))?),
            Value::Boolean(b) => Self::Bool(*b),
            Value::Integer(i) => Self::Integer(*i),
            Value::Float(f) if f.is_finite() => Self::Float(*f),
            Value::Float(_) => return Err(format!("{at} is not a finite number")),
            Value::Datetime(_) => {
                return Err(format!(
                    "{at} is a date-time, which JSON has no type for; quote it"
                ))
            }
            Value::Array(a) => Self::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| Self::from_toml(v, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Table(t) => Self::Object(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_toml(v, &format!("{at}.{k}"))?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }
}

/// How a header's value is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderTemplate {
    /// `"text {email}"`: sent as rendered; a value that is not header-safe refuses the request.
    Plain(Template),
    /// `{ json = … }`: serialized as compact JSON with every non-ASCII character escaped.
    Json(JsonTemplate),
}

/// A validated `[upstream.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    name: Arc<str>,
    url: UpstreamUrl,
    url_var: Option<Arc<str>>,
    path: PathMapping,
    bearer_secret: Option<Arc<str>>,
    bearer_header: Arc<str>,
    headers: Vec<(String, HeaderTemplate)>,
    forward_client_credentials: bool,
    identity_headers: bool,
}

impl Upstream {
    /// Its name (the key after `upstream.`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The URL from the table.
    pub fn url(&self) -> &UpstreamUrl {
        &self.url
    }
    /// The variable that replaces [`url`](Self::url) when set on the Worker.
    pub fn url_var(&self) -> Option<&str> {
        self.url_var.as_deref()
    }
    /// How the matched path maps onto the URL.
    pub fn path_mapping(&self) -> PathMapping {
        self.path
    }
    /// The NAME of the secret sent as `<bearer_header>: Bearer <value>` (never its value).
    pub fn bearer_secret(&self) -> Option<&str> {
        self.bearer_secret.as_deref()
    }
    /// The header the bearer secret goes in, lowercase: [`DEFAULT_BEARER_HEADER`] unless the
    /// table names another (Cloudflare's authenticated AI Gateway reads
    /// `cf-aig-authorization`).
    pub fn bearer_header(&self) -> &str {
        &self.bearer_header
    }
    /// The headers set from the identity (lowercase names, sorted).
    pub fn headers(&self) -> &[(String, HeaderTemplate)] {
        &self.headers
    }
    /// Whether the client's `Authorization`, `Cf-Access-Jwt-Assertion` and `Cookie` go on.
    pub fn forward_client_credentials(&self) -> bool {
        self.forward_client_credentials
    }
    /// Whether the identity headers (`X-User-*`, the gateway's assertion) go on.
    pub fn identity_headers(&self) -> bool {
        self.identity_headers
    }
}

/// An upstream as one rule uses it: the mapping needs the rule's pattern.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamRoute<'t> {
    /// The upstream.
    pub upstream: &'t Upstream,
    /// Segments of the normalized path dropped by `strip_prefix` (0 for `normalized`).
    pub(crate) strip_segments: usize,
}

impl UpstreamRoute<'_> {
    /// The path below the upstream's base path for the (matched) `path`: `""` or starting
    /// with `/`. Computed from the normalized path's segments, never from the raw path.
    pub fn map_path(&self, path: &NormalizedPath) -> String {
        path.after_segments(self.strip_segments).to_owned()
    }

    /// How many leading segments `strip_prefix` drops.
    pub fn strip_segments(&self) -> usize {
        self.strip_segments
    }
}

/// Header names an upstream may not set: the edge's own headers and credentials, and framing.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "x-request-id",
    "x-auth-context",
    "x-edge-auth-assertion",
    "cf-access-jwt-assertion",
    "cf-access-authenticated-user-email",
];

/// Compared the way the edge compares header names: case-folded, punctuation read as `-`.
fn fold(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b.to_ascii_lowercase())
            } else {
                '-'
            }
        })
        .collect()
}

fn is_reserved(name: &str) -> bool {
    let folded = fold(name);
    folded.starts_with("x-user-") || RESERVED_HEADERS.iter().any(|r| *r == folded)
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A Worker variable or secret name: `[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters.
fn is_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The variables a bearer secret or URL override may not name: the Workers' own.
const OWN_VARS: &[&str] = &[
    "CONTEXT_SECRET",
    "ORIGIN_URL",
    "CONTEXT_MAX_AGE_SECONDS",
    "EXTRA_STRIPPED_HEADERS",
    "REALM",
];

/// Compiles `[upstream.<name>]`; every problem found goes to `problems`.
pub(crate) fn compile(name: &str, value: &Value, problems: &mut Vec<String>) -> Option<Upstream> {
    let before = problems.len();
    let Some(t) = value.as_table() else {
        problems
            .push("must be a table: write it as [upstream.<name>] with url = \"https://…\"".into());
        return None;
    };
    if !is_var_name(name)
        && !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        problems.push("has a name that is not letters, digits, '-' and '_'; rename it".into());
    }
    for key in t.keys() {
        if !UPSTREAM_KEYS.split(", ").any(|k| k == key) {
            problems.push(format!(
                "has unknown key {key:?}; remove it or use one of: {UPSTREAM_KEYS}"
            ));
        }
    }
    let string = |key: &str, problems: &mut Vec<String>| match t.get(key) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.push(format!("{key:?} must be a string"));
            None
        }
    };
    let boolean = |key: &str, problems: &mut Vec<String>| match t.get(key) {
        None => None,
        Some(Value::Boolean(b)) => Some(*b),
        Some(_) => {
            problems.push(format!("{key:?} must be true or false"));
            None
        }
    };
    let url = match string("url", problems) {
        None if !t.contains_key("url") => {
            problems
                .push("has no \"url\"; give it url = \"https://gateway.example/base/path\"".into());
            None
        }
        None => None,
        Some(raw) => match UpstreamUrl::parse(&raw) {
            Ok(u) => Some(u),
            Err(p) => {
                problems.push(format!("\"url\" {p}"));
                None
            }
        },
    };
    let var = |key: &str, problems: &mut Vec<String>| -> Option<Arc<str>> {
        let v = string(key, problems)?;
        if !is_var_name(&v) {
            problems.push(format!(
                "{key:?} = {v:?} is not a variable name; use letters, digits and '_' (e.g. \"CF_AI_GATEWAY_TOKEN\")"
            ));
            return None;
        }
        if OWN_VARS.contains(&v.as_str()) {
            problems.push(format!(
                "{key:?} = {v:?} names one of the Workers' own variables; give the upstream its own"
            ));
            return None;
        }
        Some(v.into())
    };
    let url_var = var("url_var", problems);
    let bearer_secret = var("bearer_secret", problems);
    let path = match string("path", problems).as_deref() {
        None | Some("normalized") => PathMapping::Normalized,
        Some("strip_prefix") => PathMapping::StripPrefix,
        Some(other) => {
            problems.push(format!(
                "\"path\" = {other:?} is not \"normalized\" or \"strip_prefix\""
            ));
            PathMapping::Normalized
        }
    };
    let forward_client_credentials = boolean("forward_client_credentials", problems);
    if bearer_secret.is_some() && forward_client_credentials == Some(true) {
        problems.push(
            "has a bearer_secret and forward_client_credentials = true; an upstream with its own credential never receives the client's: remove one".into(),
        );
    }
    let identity_headers = boolean("identity_headers", problems).unwrap_or(false);
    let headers = compile_headers(t, problems);
    let bearer_header = compile_bearer_header(t, bearer_secret.is_some(), &headers, problems);
    if problems.len() != before {
        return None;
    }
    Some(Upstream {
        name: name.into(),
        url: url?,
        url_var,
        path,
        bearer_secret,
        bearer_header,
        headers,
        forward_client_credentials: forward_client_credentials.unwrap_or(false),
        identity_headers,
    })
}

/// `bearer_header`: a header name, not one the edge sets or removes itself (but
/// `authorization`, the default), not one of the upstream's templated `headers`, and only
/// with a `bearer_secret` to carry.
fn compile_bearer_header(
    t: &Table,
    has_secret: bool,
    headers: &[(String, HeaderTemplate)],
    problems: &mut Vec<String>,
) -> Arc<str> {
    let default = || Arc::from(DEFAULT_BEARER_HEADER);
    let raw = match t.get("bearer_header") {
        None => return default(),
        Some(Value::String(raw)) => raw,
        Some(_) => {
            problems.push("\"bearer_header\" must be a string (a header name)".into());
            return default();
        }
    };
    let problem = if !is_token(raw) {
        Some("is not a header name; use letters, digits and !#$%&'*+-.^_`|~ (e.g. \"cf-aig-authorization\")")
    } else if fold(raw) != DEFAULT_BEARER_HEADER && is_reserved(raw) {
        Some("is a header the edge sets or removes itself (credentials, identity, framing); use \"authorization\" or a header of the upstream's own such as \"cf-aig-authorization\"")
    } else if !has_secret {
        Some(
            "carries no secret: the upstream has no bearer_secret; add one or remove bearer_header",
        )
    } else if headers.iter().any(|(name, _)| fold(name) == fold(raw)) {
        Some("is also templated under headers; the secret and a template cannot share a header: remove one")
    } else {
        None
    };
    match problem {
        Some(problem) => {
            problems.push(format!("\"bearer_header\" = {raw:?} {problem}"));
            default()
        }
        None => Arc::from(raw.to_ascii_lowercase()),
    }
}

fn compile_headers(t: &Table, problems: &mut Vec<String>) -> Vec<(String, HeaderTemplate)> {
    let Some(v) = t.get("headers") else {
        return Vec::new();
    };
    let Some(headers) = v.as_table() else {
        problems.push(
            "\"headers\" must be a table of header = \"template\" or header = { json = … }".into(),
        );
        return Vec::new();
    };
    let mut out: Vec<(String, HeaderTemplate)> = Vec::new();
    for (name, value) in headers {
        let at = format!("headers.{name}");
        if !is_token(name) {
            problems.push(format!("{at:?} is not a valid header name"));
            continue;
        }
        if is_reserved(name) {
            problems.push(format!(
                "{at:?} is a header the edge sets or removes itself (credentials, identity, framing); it cannot be templated (for the upstream's credential use bearer_secret)"
            ));
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if out.iter().any(|(n, _)| fold(n) == fold(&lower)) {
            problems.push(format!(
                "{at:?} is the same header as another one once case and punctuation are folded; set it once"
            ));
            continue;
        }
        let template = match value {
            Value::String(s) => Template::parse(s).map(HeaderTemplate::Plain),
            Value::Table(j) if j.len() == 1 && j.contains_key("json") => j
                .get("json")
                .map_or(Err(String::new()), |json| JsonTemplate::from_toml(json, "json"))
                .map(HeaderTemplate::Json),
            _ => Err(
                "must be a template string like \"{sub}\" or a JSON template like { json = { user_id = \"{email}\" } }"
                    .into(),
            ),
        };
        match template {
            Ok(t) => out.push((lower, t)),
            Err(e) => problems.push(format!("{at:?} {e}")),
        }
    }
    out
}

/// `{name}` placeholders and `{{`: what `Template::parse` accepts and refuses.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::normalize_path;

    #[test]
    fn templates_parse_placeholders_and_escapes() {
        let t = Template::parse("a{{b}}{email}-{roles}").unwrap();
        assert_eq!(
            t.pieces(),
            [
                Piece::Text("a{b}".into()),
                Piece::Value(Placeholder::Email),
                Piece::Text("-".into()),
                Piece::Value(Placeholder::Roles),
            ]
        );
        for bad in ["{mail}", "{email", "a}b", "{}", "{ sub }", "{SUB}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let r = t.render(|p| (p == Placeholder::Email).then_some("e").or(Some("[]")));
        assert_eq!(r.as_deref(), Some("a{b}e-[]"));
        assert_eq!(t.render(|_| None), None);
    }

    #[test]
    fn urls() {
        for (raw, origin, base) in [
            ("https://gw.example", "https://gw.example", ""),
            ("https://gw.example/", "https://gw.example", ""),
            (
                "https://GW.example:443/v1/acct/gw/",
                "https://gw.example",
                "/v1/acct/gw",
            ),
            ("http://127.0.0.1:9000/x", "http://127.0.0.1:9000", "/x"),
            ("http://localhost/x", "http://localhost", "/x"),
            ("http://[::1]:1/", "http://[::1]:1", ""),
        ] {
            let u = UpstreamUrl::parse(raw).unwrap();
            assert_eq!((u.origin(), u.base_path()), (origin, base), "{raw}");
        }
        for (raw, problem) in [
            ("http://gw.example/", UrlProblem::NotHttps),
            ("http://10.0.0.1/", UrlProblem::NotHttps),
            ("http://localhost.evil.example/", UrlProblem::NotHttps),
            ("ftp://gw.example/", UrlProblem::NotHttps),
            ("https://u:p@gw.example/", UrlProblem::Userinfo),
            ("https://u@gw.example/", UrlProblem::Userinfo),
            ("https://gw.example/?a=1", UrlProblem::Query),
            ("https://gw.example/#f", UrlProblem::Fragment),
            ("https://gw.example/a%2Fb", UrlProblem::BadPath),
            ("https://gw.example/a;b", UrlProblem::BadPath),
            ("gw.example/x", UrlProblem::NotAbsolute),
            ("", UrlProblem::NotAbsolute),
            ("mailto:a@b", UrlProblem::NotAbsolute),
        ] {
            assert_eq!(UpstreamUrl::parse(raw), Err(problem), "{raw}");
        }
    }

    #[test]
    fn after_segments_counts_normalized_segments() {
        let upstream = Upstream {
            name: "u".into(),
            url: UpstreamUrl::parse("https://gw.example/base").unwrap(),
            url_var: None,
            path: PathMapping::StripPrefix,
            bearer_secret: None,
            bearer_header: DEFAULT_BEARER_HEADER.into(),
            headers: Vec::new(),
            forward_client_credentials: false,
            identity_headers: false,
        };
        let route = |n| UpstreamRoute {
            upstream: &upstream,
            strip_segments: n,
        };
        for (raw, n, mapped) in [
            ("/ai/chat/completions", 1, "/chat/completions"),
            ("/AI/chat", 1, "/chat"),
            ("/ai", 1, ""),
            ("/ai/", 1, "/"),
            ("/ai//x/../y/", 1, "/y/"),
            ("/ai/%61b", 1, "/ab"),
            ("/ai/caf%C3%A9", 1, "/caf%C3%A9"),
            ("/a/b/c", 2, "/c"),
            ("/a/b/c", 0, "/a/b/c"),
            ("/", 0, "/"),
        ] {
            let path = normalize_path(raw).unwrap();
            assert_eq!(route(n).map_path(&path), mapped, "{raw} minus {n}");
        }
    }
}
