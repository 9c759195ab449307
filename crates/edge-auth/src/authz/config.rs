//! The authz Worker's configuration, parsed from its variables and secrets.

use crate::config::parse::Env;
use crate::config::{
    context_key, realm, resource, stripped_headers, ConfigError, MAX_CLOCK_SKEW_SECONDS,
};
use crate::{
    AssertionConfig, Challenge, ContextKey, OriginUrl, Resource, UpstreamUrls,
    DEFAULT_CONTEXT_MAX_AGE_SECONDS,
};
use rule_table::RuleTable;

/// Validated configuration of the authz Worker.
#[derive(Debug, Clone)]
pub struct AuthzConfig {
    context_key: ContextKey,
    origin: Option<OriginUrl>,
    realm: String,
    resource: Option<Resource>,
    context_max_age_seconds: i64,
    extra_stripped_headers: Vec<String>,
    upstream_urls: UpstreamUrls,
    assertion: Option<AssertionConfig>,
}

impl AuthzConfig {
    /// Parse and validate; `get` returns a variable or secret by name.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(get);
        let origin = env
            .optional("ORIGIN_URL")
            .map(|raw| OriginUrl::parse("ORIGIN_URL", &raw))
            .transpose()?;
        let max_age = env.u64_in(
            "CONTEXT_MAX_AGE_SECONDS",
            DEFAULT_CONTEXT_MAX_AGE_SECONDS.unsigned_abs(),
            1,
            MAX_CLOCK_SKEW_SECONDS.unsigned_abs(),
        )?;
        Ok(Self {
            context_key: context_key(&env)?,
            origin,
            realm: realm(&env)?,
            resource: resource(&env)?,
            context_max_age_seconds: i64::try_from(max_age)
                .unwrap_or(DEFAULT_CONTEXT_MAX_AGE_SECONDS),
            extra_stripped_headers: stripped_headers(&env)?,
            upstream_urls: UpstreamUrls::default(),
            assertion: AssertionConfig::from_env(&env)?,
        })
    }

    /// This configuration with the URL of every upstream of `table` in this deployment: its
    /// `url_var` when that is set (`get` reads it), else the table's `url`. An invalid override
    /// is kept as an error, answered 500 on that upstream's routes only.
    pub fn with_upstreams(
        mut self,
        table: &RuleTable,
        get: impl Fn(&str) -> Option<String>,
    ) -> Self {
        self.upstream_urls = UpstreamUrls::from_env(table, get);
        self
    }

    /// Where each upstream goes in this deployment.
    pub fn upstream_urls(&self) -> &UpstreamUrls {
        &self.upstream_urls
    }

    /// Key for verifying the identity context.
    pub fn context_key(&self) -> &ContextKey {
        &self.context_key
    }
    /// Where allowed requests go; `None` means the Worker answers itself.
    pub fn origin(&self) -> Option<&OriginUrl> {
        self.origin.as_ref()
    }
    /// Realm for `WWW-Authenticate`.
    pub fn realm(&self) -> &str {
        &self.realm
    }
    /// The protected resource's identifier (`RESOURCE`, set as the auth Worker's), if
    /// configured: this Worker's challenges point at its metadata as the auth Worker's do.
    pub fn resource(&self) -> Option<&Resource> {
        self.resource.as_ref()
    }
    /// What this Worker's `WWW-Authenticate` says for a request to `request_url`.
    pub fn challenge<'a>(&'a self, request_url: &'a str) -> Challenge<'a> {
        Challenge::new(&self.realm, self.resource.as_ref(), request_url)
    }
    /// Freshness window for the identity context.
    pub fn context_max_age_seconds(&self) -> i64 {
        self.context_max_age_seconds
    }
    /// Extra header names never forwarded to the origin (`EXTRA_STRIPPED_HEADERS`, parsed as
    /// the auth Worker's: lowercase, matched folded).
    pub fn extra_stripped_headers(&self) -> &[String] {
        &self.extra_stripped_headers
    }

    /// The assertion to sign for the origin (`ASSERTION_SIGNING_JWK` or `ASSERTION_SECRET`);
    /// `None`: no assertion.
    pub fn assertion(&self) -> Option<&AssertionConfig> {
        self.assertion.as_ref()
    }
}
