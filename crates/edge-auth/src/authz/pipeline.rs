//! [`authorize`]: request → method → normalized path → context → rule → forward target, as
//! one pure function. The authz Worker calls it for every request and only carries out the
//! answer: fetch the [`Forward`] target, or answer the [`Refusal`].
//!
//! [`screen`] is its first two steps alone, for the auth Worker: what no rule could admit is
//! refused before a token is verified.

use rule_table::{Method, NormalizedPath, PathPolicy, Principal, RuleTable, Verdict};

use crate::assertion::{gateway_answer, mint, Decided};
use crate::authz::upstream::{bearer, render_headers};
use crate::{
    identity_headers, join_origin, open_context, same_header_name, AuthzConfig, ContextNotes,
    EmailWithheld, GatewayAnswer, HeaderPolicy, Identity, Refusal, Rejection, RequestBinding,
    RequestFacts, RequestUrl, Rules, UnsignedAssertion, UpstreamError, UpstreamForward,
};

/// What the authz Worker reads from a request before deciding.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// The method as received.
    pub method: &'a str,
    /// The URL as the runtime serialized it.
    pub url: &'a str,
    /// The `X-Auth-Context` header, if any.
    pub context: Option<&'a str>,
    /// The `X-Request-Id` header exactly as received (the context is bound to it).
    pub request_id: Option<&'a str>,
}

/// An allowed request: exactly what goes to the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The method, upper-case for the RFC 9110 methods whatever case the client used.
    pub method: Method,
    /// The absolute URL to fetch: the origin (or the rule's upstream), the normalized path the
    /// rules matched (mapped onto the upstream's URL), the query.
    pub target: String,
    /// The verified caller, or `None` (a public rule admitted an anonymous request).
    pub identity: Option<Identity>,
    /// The identity headers to set (`X-User-*`), from the verified context only; empty for an
    /// upstream that does not ask for them.
    pub identity_headers: Vec<(&'static str, String)>,
    /// The rule's upstream (`None`: the default target, `ORIGIN_URL` or the request's own URL).
    pub upstream: Option<UpstreamForward>,
    /// The rule table's reason code for allowing it.
    pub reason: &'static str,
    /// What the log line says about the request.
    pub facts: RequestFacts,
    /// The assertion for the origin (`X-Edge-Auth-Assertion`), to be signed by the Worker;
    /// `None` when no assertion is configured.
    pub assertion: Option<UnsignedAssertion>,
}

impl Forward {
    /// Which of the client's headers never reach the origin (identity look-alikes, overrides,
    /// `EXTRA_STRIPPED_HEADERS`, `Host`; for an upstream also the client's credentials unless
    /// it asks for them, and Access's e-mail header unless it asks for identity headers).
    pub fn header_policy<'a>(&'a self, config: &'a AuthzConfig) -> HeaderPolicy<'a> {
        let email = self
            .sends_identity()
            .then(|| self.identity.as_ref().and_then(|id| id.email.as_deref()))
            .flatten();
        let policy = HeaderPolicy::to_origin(config.extra_stripped_headers(), email);
        match &self.upstream {
            Some(u) if !u.forward_client_credentials => policy.without_client_credentials(),
            _ => policy,
        }
    }

    /// True when the client's header `name` must be removed: by [`header_policy`]
    /// (`value` is asked for only when the answer depends on it), or because the upstream's
    /// own headers replace it (any spelling of their names). Strip before setting
    /// [`headers_to_set`](Self::headers_to_set).
    ///
    /// [`header_policy`]: Self::header_policy
    pub fn strips(
        &self,
        config: &AuthzConfig,
        name: &str,
        value: impl FnOnce() -> Option<String>,
    ) -> bool {
        // The upstream's own headers and the header its secret goes in: a client's copy in any
        // spelling is removed, so the upstream never reads two.
        let set_here = self.upstream.as_ref().is_some_and(|u| {
            u.headers.iter().any(|(n, _)| same_header_name(n, name))
                || (u.bearer_secret.is_some() && same_header_name(&u.bearer_header, name))
        });
        set_here || self.header_policy(config).strips(name, value)
    }

    /// Whether the identity headers (`X-User-*`, and the gateway's assertion) go with this
    /// request: always to the default target, to an upstream only with `identity_headers`.
    pub fn sends_identity(&self) -> bool {
        self.upstream.as_ref().is_none_or(|u| u.identity_headers)
    }

    /// Every header to set once the client's are stripped: the identity headers, then the
    /// upstream's own (the bearer secret is separate: [`upstream_credential`]).
    ///
    /// [`upstream_credential`]: Self::upstream_credential
    pub fn headers_to_set(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let upstream = self.upstream.iter().flat_map(|u| &u.headers);
        self.identity_headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .chain(upstream.map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// The upstream's bearer secret as the header to set: its `bearer_header` (lowercase;
    /// `authorization` by default, `cf-aig-authorization` for Cloudflare's authenticated AI
    /// Gateway) and `Bearer <value>`, the value read by `secret` (the Worker's secret lookup, by
    /// NAME); `Ok(None)` when there is none to send. A secret that is not set, empty or not
    /// header-safe refuses the request (500, nothing sent; the log line names the secret,
    /// never its value).
    pub fn upstream_credential(
        &self,
        secret: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Option<(&str, String)>, Refusal> {
        let Some(upstream) = &self.upstream else {
            return Ok(None);
        };
        let Some(name) = &upstream.bearer_secret else {
            return Ok(None);
        };
        bearer(&upstream.name, name, secret(name))
            .map(|value| Some((upstream.bearer_header.as_str(), value)))
            .map_err(|e| upstream_refusal(&e, &self.facts))
    }
}

/// A 500 for one upstream's routes, the name at fault in the log line.
fn upstream_refusal(e: &UpstreamError, facts: &RequestFacts) -> Refusal {
    let mut facts = facts.clone();
    facts.upstream = Some(e.upstream().to_owned());
    facts.config_name = Some(e.name().to_owned());
    facts.config_problem = e.problem();
    Refusal::new(Rejection::Misconfigured, e.code(), &facts)
}

/// The checks no rule can override, in order: a URL the runtime gave us that cannot be split
/// (400 `bad_url`), a method the edge never forwards or that is not a token (405 / 400), a
/// path that is ambiguous or malformed (400), and, in a case-insensitive table, a path holding
/// an ASCII look-alike (400). On success, the method and path the rules decide on.
pub fn screen<'u>(
    method: &str,
    url: &'u str,
    policy: PathPolicy,
) -> Result<(Method, RequestUrl<'u>, NormalizedPath), Refusal> {
    let facts = RequestFacts::default();
    let method =
        Method::parse(method).map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?;
    let url = RequestUrl::split(url)
        .ok_or_else(|| Refusal::new(Rejection::BadRequest, "bad_url", &facts))?;
    let path = rule_table::normalize_path(url.path())
        .and_then(|path| policy.check(&path).map(|()| path))
        .map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?;
    Ok((method, url, path))
}

/// What the authz Worker does with a request ([`route`]).
#[derive(Debug)]
// Both variants are moved once, to the Worker; boxing either would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Routed<'c> {
    /// One of the gateway's own endpoints (its JWK Set): answered, never forwarded.
    Answer(GatewayAnswer<'c>),
    /// An allowed request ([`authorize`]).
    Forward(Forward),
}

/// The authz Worker's whole decision, the request screened once: the gateway's own endpoints
/// ([`gateway_endpoint`](crate::gateway_endpoint)) before the rule table, then [`authorize`].
pub fn route<'c>(
    request: &AuthzRequest<'_>,
    now_s: i64,
    config: &'c AuthzConfig,
    rules: &Rules,
) -> Result<Routed<'c>, Refusal> {
    let screened = screen(request.method, request.url, rules.table().path_policy())?;
    if let Some(answer) = gateway_answer(&screened.0, &screened.2, config) {
        return Ok(Routed::Answer(answer));
    }
    authorize_screened(request, screened, now_s, config, rules).map(Routed::Forward)
}

/// Decides `request` at `now_s` (unix seconds) with `rules`: first matching rule, default deny.
///
/// Identity comes only from a context the auth Worker signed for this very request (method,
/// path and query as received, request id) within `CONTEXT_MAX_AGE_SECONDS`; no context is an
/// anonymous request, and a context present but not valid is refused, never downgraded to
/// anonymous. This decision is authoritative: the auth Worker decided the same already (and
/// refused what it would refuse), but nothing it concluded is trusted here except the signed
/// identity; a context made with another rule table is noted (`rules_mismatch`) and decided
/// with this one.
///
/// The target is `ORIGIN_URL` + normalized path + query when configured, else the request's
/// own origin with the normalized path (production: the route's origin); the fragment never
/// goes on, and a path a URL parser would re-encode into one the rules did not match is
/// refused. With an assertion configured, the forward carries it unsigned: its `path` and
/// `htm` are exactly the path, query and method forwarded, its `jti` the request id
/// (`request.request_id`, which the origin receives as `x-request-id`).
pub fn authorize(
    request: &AuthzRequest<'_>,
    now_s: i64,
    config: &AuthzConfig,
    rules: &Rules,
) -> Result<Forward, Refusal> {
    let screened = screen(request.method, request.url, rules.table().path_policy())?;
    authorize_screened(request, screened, now_s, config, rules)
}

/// [`authorize`] for a request [`screen`]ed already.
fn authorize_screened(
    request: &AuthzRequest<'_>,
    (method, url, path): (Method, RequestUrl<'_>, NormalizedPath),
    now_s: i64,
    config: &AuthzConfig,
    rules: &Rules,
) -> Result<Forward, Refusal> {
    let table = rules.table();
    let mut facts = RequestFacts {
        path: Some(path.as_str().to_owned()),
        ..RequestFacts::default()
    };

    let identity = match request.context {
        None => None,
        Some(context) => {
            // Absent: "", which the auth Worker never signs, so a mismatch.
            let binding =
                RequestBinding::new(request.method, &url, request.request_id.unwrap_or(""));
            let (identity, notes) = open_context(
                context,
                config.context_key(),
                &binding,
                now_s,
                config.context_max_age_seconds(),
            )
            .map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?;
            take_notes(&mut facts, &notes, rules);
            Some(identity)
        }
    };

    let reason = decide(&method, &path, identity.as_ref(), table, &mut facts)?;
    let route = facts
        .rule
        .as_ref()
        .and_then(|(index, _)| table.upstream_at(*index));
    // Where it goes and with which path and query, exactly: the assertion states both.
    let (target_origin, path_and_query, upstream) = match route {
        None => (
            config
                .origin()
                .map_or(url.origin(), |origin| origin.as_str()),
            url.path_and_query(path.as_str()),
            None,
        ),
        Some(route) => {
            let u = route.upstream;
            facts.upstream = Some(u.name().to_owned());
            let refused = |e: UpstreamError| upstream_refusal(&e, &facts);
            let base = config.upstream_urls().url(u).map_err(refused)?;
            let full_path = base.full_path(&route.map_path(&path));
            let request_id = Some(crate::request_id(request.request_id, String::new))
                .filter(|id| !id.is_empty());
            let headers =
                render_headers(u, identity.as_ref(), request_id.as_deref()).map_err(refused)?;
            let upstream = UpstreamForward {
                name: u.name().to_owned(),
                bearer_secret: u.bearer_secret().map(str::to_owned),
                bearer_header: u.bearer_header().to_owned(),
                headers,
                forward_client_credentials: u.forward_client_credentials(),
                identity_headers: u.identity_headers(),
            };
            (
                base.origin(),
                url.path_and_query(&full_path),
                Some(upstream),
            )
        }
    };
    let target = join_origin(target_origin, &path_and_query)
        .ok_or_else(|| Refusal::new(Rejection::BadRequest, "path_not_forwardable", &facts))?;
    let sends_identity = upstream.as_ref().is_none_or(|u| u.identity_headers);
    let identity_headers = match &identity {
        Some(identity) if sends_identity => identity_headers(identity)
            .map_err(|e| Refusal::new(Rejection::from(&e), e.code(), &facts))?,
        _ => Vec::new(),
    };
    // The assertion is an identity header: an upstream gets it only when it asks for them.
    let assertion = match config.assertion() {
        Some(assertion) if sends_identity => {
            // An allowed request always has its rule; without one there is nothing to assert.
            let Some((index, name)) = facts.rule.as_ref().map(|(i, n)| (*i, n.as_str())) else {
                return Err(Refusal::new(
                    Rejection::Misconfigured,
                    "assertion_without_rule",
                    &facts,
                ));
            };
            let decided = Decided {
                identity: identity.as_ref(),
                request_origin: url.origin(),
                target_origin,
                request_id: request.request_id.unwrap_or_default(),
                method: method.as_str(),
                path_and_query: &path_and_query,
                rule: (index, name),
                now_s,
            };
            let minted = mint(assertion, &decided).map_err(|_| {
                Refusal::new(
                    Rejection::Misconfigured,
                    "assertion_encoding_failed",
                    &facts,
                )
            })?;
            Some(minted)
        }
        _ => None,
    };
    Ok(Forward {
        method,
        target,
        identity,
        identity_headers,
        upstream,
        reason,
        facts,
        assertion,
    })
}

/// The rule table's decision on `method path` for `identity` (`None`: anonymous): the reason
/// code when a rule allows it, else the refusal (401 without identity, 403 with one, 400 for a
/// path the table refuses). Both Workers call it: the auth Worker to refuse at the first hop,
/// the authz Worker to decide for good. The rule that decided goes into `facts`.
pub fn decide(
    method: &Method,
    path: &NormalizedPath,
    identity: Option<&Identity>,
    table: &RuleTable,
    facts: &mut RequestFacts,
) -> Result<&'static str, Refusal> {
    let principal = identity.map(|id| Principal {
        sub: id.sub.clone(),
        roles: id.roles.clone(),
        scopes: id.scopes.clone(),
    });
    if let Some(id) = identity {
        facts.sub = Some(id.sub.clone());
    }
    let decision = table.decide(method, path, principal.as_ref());
    if let Some(rule) = &decision.rule {
        facts.rule = Some((rule.index, rule.name.as_deref().unwrap_or("").to_owned()));
    }
    let reason = decision.reason.code();
    let rejection = match decision.verdict {
        Verdict::Allow => return Ok(reason),
        Verdict::BadRequest => Rejection::BadRequest,
        Verdict::Unauthenticated => Rejection::Unauthorized,
        Verdict::Forbidden { insufficient_scope } => Rejection::Forbidden { insufficient_scope },
    };
    Err(Refusal::new(rejection, reason, facts).with_required_scopes(decision.required_scopes))
}

/// The auth Worker's facts for the one log line, and whether it decided with this table.
fn take_notes(facts: &mut RequestFacts, notes: &ContextNotes, rules: &Rules) {
    facts.kid.clone_from(&notes.kid);
    facts.alg = notes.alg.as_deref().and_then(|alg| alg.parse().ok());
    facts.cached = notes.cached;
    facts.email_withheld = notes
        .email_withheld
        .as_deref()
        .and_then(EmailWithheld::from_code);
    facts.rules_mismatch = notes.rules.as_deref() != Some(rules.digest());
    facts.first_hop_rule = notes.rule;
}
