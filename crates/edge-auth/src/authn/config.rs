//! The auth Worker's configuration, parsed from its variables and secrets.

use url::Url;

use jose_jwt::{Algorithm, MacAlgorithm, SharedSecret, VerificationOptions};

use crate::config::parse::{check_word, jwks_url, show, split_list, Env};
use crate::config::{
    context_key, realm, resource, stripped_headers, word_list, ConfigError, MAX_CLOCK_SKEW_SECONDS,
};
use crate::http::protected_resource::resource_name;
use crate::{
    Challenge, ContextKey, EmailPolicy, ExtractionMode, Resource, DEFAULT_MAX_TOKEN_BYTES,
};

/// Allowed algorithms when `ALLOWED_ALGS` is not set.
pub const DEFAULT_ALLOWED_ALGS: [Algorithm; 3] =
    [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Rs256];
/// Path requested from the `JWKS_SERVICE` binding.
pub const JWKS_SERVICE_PATH: &str = "/.well-known/jwks.json";

/// Where the auth Worker gets its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTPS (or http to loopback).
    Url(Url),
    /// Fetched from [`JWKS_SERVICE_PATH`] on a service binding.
    Service {
        /// The binding name in the Worker's `env`.
        binding: String,
    },
}

/// Validated configuration of the auth Worker.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    jwks: Option<JwksSource>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    allowed_algs: Vec<Algorithm>,
    mac_algs: Vec<MacAlgorithm>,
    jwt_secret: Option<SharedSecret>,
    required_typ: Option<String>,
    clock_skew_seconds: u64,
    roles_claim: String,
    email_policy: EmailPolicy,
    access_team_domain: Option<String>,
    extraction_mode: ExtractionMode,
    jwks_timeout_ms: u64,
    jwks_max_stale_seconds: u64,
    jwks_cooldown_seconds: u64,
    jwks_max_bytes: u64,
    token_cache_entries: usize,
    extra_stripped_headers: Vec<String>,
    realm: String,
    resource: Option<Resource>,
    resource_name: Option<String>,
    context_key: ContextKey,
    verification: VerificationOptions,
    echo_request_id: bool,
}

impl AuthConfig {
    /// Parse and validate; `get` returns a variable or secret by name.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(get);
        let team = env
            .optional("ACCESS_TEAM_DOMAIN")
            .map(|raw| team_domain(&raw))
            .transpose()?;

        let (mut allowed_algs, mac_algs) = match env.optional("ALLOWED_ALGS") {
            Some(raw) => algs(&raw)?,
            None => (DEFAULT_ALLOWED_ALGS.to_vec(), Vec::new()),
        };
        // Access signs its tokens with RS256; without it nothing would verify.
        if team.is_some() && !allowed_algs.contains(&Algorithm::Rs256) {
            allowed_algs.push(Algorithm::Rs256);
        }
        let jwt_secret = jwt_secret(env.optional("JWT_SECRET").as_deref(), &mac_algs)?;

        let jwks = match (
            env.optional("JWKS_URL"),
            env.optional("JWKS_SERVICE"),
            &team,
        ) {
            // Only shared-secret algorithms listed: no key set to fetch, and one configured
            // anyway says the configuration is not what its author thinks.
            (url, service, None) if allowed_algs.is_empty() => {
                if url.is_some() || service.is_some() {
                    let var = if url.is_some() {
                        "JWKS_URL"
                    } else {
                        "JWKS_SERVICE"
                    };
                    return Err(ConfigError::new(
                        var,
                        "is set, but ALLOWED_ALGS lists only shared-secret algorithms (HS*), \
                         which never use a key set; add the public-key algorithms your issuer \
                         signs with to ALLOWED_ALGS, or remove this variable",
                    ));
                }
                None
            }
            (Some(_), Some(_), _) => {
                return Err(ConfigError::new(
                    "JWKS_SERVICE",
                    "is set together with JWKS_URL; set only one of them",
                ))
            }
            (Some(raw), None, _) => Some(JwksSource::Url(jwks_url("JWKS_URL", &raw)?)),
            (None, Some(binding), _) => Some(JwksSource::Service {
                binding: binding_name(&binding)?,
            }),
            (None, None, Some(team)) => Some(JwksSource::Url(jwks_url(
                "JWKS_URL",
                &format!("https://{team}/cdn-cgi/access/certs"),
            )?)),
            (None, None, None) => {
                return Err(ConfigError::new(
                    "JWKS_URL",
                    "is not set; set it to your identity provider's JWKS endpoint \
                     (https://…/.well-known/jwks.json), or set JWKS_SERVICE or ACCESS_TEAM_DOMAIN",
                ))
            }
        };

        let issuers =
            match (env.list("ISSUER"), &team) {
                (Some(list), _) => word_list("ISSUER", list)?,
                (None, Some(team)) => vec![format!("https://{team}")],
                (None, None) => return Err(ConfigError::new(
                    "ISSUER",
                    "is not set; set it to the exact `iss` of your tokens (comma-separate several)",
                )),
            };
        let audiences = match env.list("AUDIENCE") {
            Some(list) => word_list("AUDIENCE", list)?,
            None => {
                return Err(ConfigError::new(
                    "AUDIENCE",
                    "is not set; set it to the `aud` your tokens are issued for \
                     (for Cloudflare Access: the application's AUD tag)",
                ))
            }
        };

        let required_typ = env.optional("REQUIRED_TYP");
        if let Some(typ) = &required_typ {
            check_word("REQUIRED_TYP", typ)?;
        }
        let roles_claim = env
            .optional("ROLES_CLAIM")
            .unwrap_or_else(|| "roles".to_owned());
        check_word("ROLES_CLAIM", &roles_claim)?;
        // Off by default: Cloudflare Access tokens carry no `email_verified` at all.
        let email_policy = if env.bool_or("REQUIRE_EMAIL_VERIFIED", false)? {
            EmailPolicy::RequireVerified
        } else {
            EmailPolicy::UnlessUnverified
        };

        // Off by default, as Envoy's always_set_request_id_in_response: re-making a forwarded
        // response only for this header costs tens of µs, and the platform's cf-ray (our id
        // when present) is on every response anyway. Refusals always carry it.
        let echo_request_id = env.bool_or("ECHO_REQUEST_ID", false)?;

        let clock_skew_seconds = env.u64_in(
            "CLOCK_SKEW_SECONDS",
            60,
            0,
            MAX_CLOCK_SKEW_SECONDS.unsigned_abs(),
        )?;
        let jwks_timeout_ms = env.u64_in("JWKS_TIMEOUT_MS", 5000, 100, 30_000)?;
        let jwks_max_stale_seconds = env.u64_in("JWKS_MAX_STALE_SECONDS", 86_400, 0, 7 * 86_400)?;
        let jwks_cooldown_seconds = env.u64_in("JWKS_COOLDOWN_SECONDS", 30, 1, 3600)?;
        let jwks_max_bytes = env.u64_in("JWKS_MAX_BYTES", 256 * 1024, 1024, 4 * 1024 * 1024)?;
        let token_cache_entries = env.u64_in("TOKEN_CACHE_ENTRIES", 1024, 0, 65_536)?;

        let verification = verification_options(
            &issuers,
            &audiences,
            (&allowed_algs, &mac_algs),
            required_typ.as_deref(),
            clock_skew_seconds,
        )?;
        Ok(Self {
            echo_request_id,
            verification,
            jwks,
            issuers,
            audiences,
            allowed_algs,
            mac_algs,
            jwt_secret,
            required_typ,
            clock_skew_seconds,
            roles_claim,
            email_policy,
            extraction_mode: ExtractionMode {
                cloudflare_access: team.is_some(),
                max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            },
            access_team_domain: team,
            jwks_timeout_ms,
            jwks_max_stale_seconds,
            jwks_cooldown_seconds,
            jwks_max_bytes,
            // At most 65,536: fits any target's usize.
            token_cache_entries: usize::try_from(token_cache_entries).unwrap_or(0),
            extra_stripped_headers: stripped_headers(&env)?,
            realm: realm(&env)?,
            resource: resource(&env)?,
            resource_name: env
                .optional("RESOURCE_NAME")
                .map(|raw| resource_name("RESOURCE_NAME", raw))
                .transpose()?,
            context_key: context_key(&env)?,
        })
    }

    /// What a token must satisfy (issuers, audiences, algorithms, `typ`, clock skew, size),
    /// built once from the variables above.
    pub fn verification_options(&self) -> &VerificationOptions {
        &self.verification
    }
    /// Where to get the keys; `None` when only shared-secret algorithms are allowed.
    pub fn jwks(&self) -> Option<&JwksSource> {
        self.jwks.as_ref()
    }
    /// Accepted `iss` values (at least one).
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }
    /// Accepted `aud` values (at least one).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }
    /// Allowed public-key algorithms (no duplicates; empty only when `HS*` ones are listed).
    pub fn allowed_algs(&self) -> &[Algorithm] {
        &self.allowed_algs
    }
    /// Allowed shared-secret algorithms (no duplicates; non-empty exactly when
    /// [`jwt_secret`](Self::jwt_secret) is set).
    pub fn mac_algs(&self) -> &[MacAlgorithm] {
        &self.mac_algs
    }
    /// The `JWT_SECRET` for `HS*` tokens, at least as long as the longest hash of
    /// [`mac_algs`](Self::mac_algs).
    pub fn jwt_secret(&self) -> Option<&SharedSecret> {
        self.jwt_secret.as_ref()
    }
    /// Required `typ` header, if checked.
    pub fn required_typ(&self) -> Option<&str> {
        self.required_typ.as_deref()
    }
    /// Leeway for `exp`/`nbf`/`iat`, at most [`MAX_CLOCK_SKEW_SECONDS`].
    pub fn clock_skew_seconds(&self) -> u64 {
        self.clock_skew_seconds
    }
    /// Claim holding the roles.
    pub fn roles_claim(&self) -> &str {
        &self.roles_claim
    }
    /// Whether a response forwarded from the origin carries `x-request-id` (`ECHO_REQUEST_ID`;
    /// refusals always do).
    pub fn echo_request_id(&self) -> bool {
        self.echo_request_id
    }
    /// When the token's e-mail address is forwarded (`REQUIRE_EMAIL_VERIFIED`).
    pub fn email_policy(&self) -> EmailPolicy {
        self.email_policy
    }
    /// The Access team host (for example `myteam.cloudflareaccess.com`).
    pub fn access_team_domain(&self) -> Option<&str> {
        self.access_team_domain.as_deref()
    }
    /// Where credentials are read from.
    pub fn extraction_mode(&self) -> &ExtractionMode {
        &self.extraction_mode
    }
    /// JWKS fetch timeout.
    pub fn jwks_timeout_ms(&self) -> u64 {
        self.jwks_timeout_ms
    }
    /// How long a stale key set may still be used when refresh fails.
    pub fn jwks_max_stale_seconds(&self) -> u64 {
        self.jwks_max_stale_seconds
    }
    /// Minimum time between two refreshes triggered by unknown `kid`s.
    pub fn jwks_cooldown_seconds(&self) -> u64 {
        self.jwks_cooldown_seconds
    }
    /// Largest JWKS document accepted.
    pub fn jwks_max_bytes(&self) -> u64 {
        self.jwks_max_bytes
    }
    /// How many verified tokens the isolate remembers (0: every token is verified every time).
    pub fn token_cache_entries(&self) -> usize {
        self.token_cache_entries
    }
    /// Extra header names to strip (lowercase; matched folded, see [`crate::HeaderPolicy`]).
    pub fn extra_stripped_headers(&self) -> &[String] {
        &self.extra_stripped_headers
    }
    /// Realm for `WWW-Authenticate`.
    pub fn realm(&self) -> &str {
        &self.realm
    }
    /// The protected resource's identifier (`RESOURCE`), if configured.
    pub fn resource(&self) -> Option<&Resource> {
        self.resource.as_ref()
    }
    /// Its human-readable name (`RESOURCE_NAME`), if configured.
    pub fn resource_name(&self) -> Option<&str> {
        self.resource_name.as_deref()
    }
    /// What this Worker's `WWW-Authenticate` says for a request to `request_url`.
    pub fn challenge<'a>(&'a self, request_url: &'a str) -> Challenge<'a> {
        Challenge::new(&self.realm, self.resource.as_ref(), request_url)
    }
    /// Key for signing the identity context.
    pub fn context_key(&self) -> &ContextKey {
        &self.context_key
    }
}

/// `ALLOWED_ALGS`: the public-key algorithms and the shared-secret ones, each list without
/// duplicates; names are exact (case-sensitive, as RFC 7515 requires).
fn algs(raw: &str) -> Result<(Vec<Algorithm>, Vec<MacAlgorithm>), ConfigError> {
    const VAR: &str = "ALLOWED_ALGS";
    let mut signature = Vec::new();
    let mut mac = Vec::new();
    for name in split_list(raw) {
        if let Ok(alg) = name.parse::<MacAlgorithm>() {
            if !mac.contains(&alg) {
                mac.push(alg);
            }
            continue;
        }
        let alg = name.parse::<Algorithm>().ok().ok_or_else(|| {
            let why = if name.eq_ignore_ascii_case("none") {
                "`none` (unsigned tokens) can never be allowed".to_owned()
            } else {
                format!("{} is not a known algorithm", show(&name))
            };
            ConfigError::new(
                VAR,
                format!("{why}; use a comma-separated subset of ES256, ES384, EdDSA, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384, HS512"),
            )
        })?;
        if !signature.contains(&alg) {
            signature.push(alg);
        }
    }
    if signature.is_empty() && mac.is_empty() {
        return Err(ConfigError::new(
            VAR,
            "lists no algorithm; remove it to use the default ES256,EdDSA,RS256",
        ));
    }
    Ok((signature, mac))
}

/// `JWT_SECRET`: set exactly when `ALLOWED_ALGS` lists an `HS*` algorithm; strict base64url
/// (no padding, URL-safe alphabet: one text per key, so a secret is never decoded into other
/// bytes than the issuer's), at least as long as the longest hash listed (RFC 7518 §3.2).
fn jwt_secret(
    raw: Option<&str>,
    macs: &[MacAlgorithm],
) -> Result<Option<SharedSecret>, ConfigError> {
    const VAR: &str = "JWT_SECRET";
    let longest = macs.iter().max_by_key(|alg| alg.output_len());
    let (raw, longest) = match (raw, longest) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(ConfigError::new(
                VAR,
                "is set, but ALLOWED_ALGS lists no HS256, HS384 or HS512; add the one your \
                 issuer signs with to ALLOWED_ALGS, or delete the secret \
                 (`wrangler secret delete JWT_SECRET`)",
            ))
        }
        (None, Some(alg)) => {
            return Err(ConfigError::new(
                VAR,
                format!(
                    "is not set, but ALLOWED_ALGS lists {alg}; set the issuer's shared secret as \
                     base64url of at least {} bytes with `wrangler secret put JWT_SECRET` \
                     (`cargo xtask keygen --alg {alg}` makes one), or remove HS* from ALLOWED_ALGS",
                    alg.output_len()
                ),
            ))
        }
        (Some(raw), Some(alg)) => (raw, alg),
    };
    // The value itself never appears in an error: only what is wrong with its form.
    let form = if raw.ends_with('=') {
        Some("has base64 padding; remove the trailing `=`")
    } else if raw.contains(['+', '/']) {
        Some("uses the standard base64 alphabet; write it as base64url (`-` for `+`, `_` for `/`)")
    } else if raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some("looks like hex; write the key bytes as base64url instead (hex would be read as other bytes)")
    } else {
        None
    };
    if let Some(form) = form {
        return Err(ConfigError::new(VAR, form));
    }
    let secret = SharedSecret::from_base64url(raw)
        .ok()
        .filter(|secret| secret.supports(*longest))
        .ok_or_else(|| {
            ConfigError::new(
                VAR,
                format!(
                    "is not base64url of at least {} bytes, which {longest} in ALLOWED_ALGS needs \
                     (RFC 7518 §3.2); make one with `cargo xtask keygen --alg {longest}`",
                    longest.output_len()
                ),
            )
        })?;
    Ok(Some(secret))
}

/// `myteam.cloudflareaccess.com`, also accepted as `https://myteam.cloudflareaccess.com/`.
fn team_domain(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "ACCESS_TEAM_DOMAIN";
    let host = raw.strip_prefix("https://").unwrap_or(raw);
    let host = host.strip_suffix('/').unwrap_or(host);
    let bad = || {
        ConfigError::new(
            VAR,
            format!(
                "{} is not a host name; set it like myteam.cloudflareaccess.com",
                show(raw)
            ),
        )
    };
    let url = Url::parse(&format!("https://{host}/")).map_err(|_| bad())?;
    match url.host() {
        Some(url::Host::Domain(d)) if d == host.to_ascii_lowercase() && url.port().is_none() => {
            Ok(d.to_owned())
        }
        _ => Err(bad()),
    }
}

/// A Worker binding name: a JavaScript identifier made of ASCII letters, digits and `_`.
fn binding_name(raw: &str) -> Result<String, ConfigError> {
    let mut bytes = raw.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(raw.to_owned())
    } else {
        Err(ConfigError::new(
            "JWKS_SERVICE",
            format!("{} is not a binding name; use the `binding` name from [[services]] in wrangler.toml", show(raw)),
        ))
    }
}

fn verification_options(
    issuers: &[String],
    audiences: &[String],
    (algs, macs): (&[Algorithm], &[MacAlgorithm]),
    required_typ: Option<&str>,
    clock_skew_seconds: u64,
) -> Result<VerificationOptions, ConfigError> {
    let options = VerificationOptions::with_mac(
        issuers.iter().cloned(),
        audiences.iter().cloned(),
        algs.iter().copied(),
        macs.iter().copied(),
    )
    // The lists were checked non-empty above, so this only fails on a bug: still fail closed.
    .map_err(|e| ConfigError::new("ISSUER", format!("cannot build verification options: {e}")))?
    .with_clock_skew_seconds(clock_skew_seconds)
    .with_max_token_size(DEFAULT_MAX_TOKEN_BYTES);
    Ok(match required_typ {
        Some(typ) => options.with_required_typ(typ),
        None => options,
    })
}
