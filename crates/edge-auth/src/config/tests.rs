use std::collections::HashMap;

use super::*;
use crate::*;
use jose_jwt::Algorithm;
use url::Url;

const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn minimal() -> Vec<(&'static str, &'static str)> {
    vec![
        ("JWKS_URL", "https://idp.example/.well-known/jwks.json"),
        ("ISSUER", "https://idp.example/"),
        ("AUDIENCE", "api://orders"),
        ("CONTEXT_SECRET", SECRET),
    ]
}

fn auth_with(overrides: &[(&'static str, &'static str)]) -> Result<AuthConfig, ConfigError> {
    let mut pairs: Vec<_> = minimal()
        .into_iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .collect();
    pairs.extend(overrides.iter().copied());
    AuthConfig::from_env(env(&pairs))
}

fn err_var(result: Result<AuthConfig, ConfigError>) -> (&'static str, String) {
    let e = result.unwrap_err();
    assert_eq!(e.code(), "server_misconfigured");
    assert!(e
        .to_string()
        .starts_with(&format!("configuration variable {}: ", e.var())));
    (e.var(), e.problem().to_owned())
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = auth_with(&[]).unwrap();
    assert_eq!(
        c.jwks(),
        Some(&JwksSource::Url(
            Url::parse("https://idp.example/.well-known/jwks.json").unwrap()
        ))
    );
    assert_eq!(c.issuers(), ["https://idp.example/"]);
    assert_eq!(c.audiences(), ["api://orders"]);
    assert_eq!(
        c.allowed_algs(),
        [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Rs256]
    );
    assert_eq!(c.required_typ(), None);
    assert_eq!(c.clock_skew_seconds(), 60);
    assert_eq!(c.roles_claim(), "roles");
    assert_eq!(c.access_team_domain(), None);
    assert_eq!(
        c.extraction_mode(),
        &ExtractionMode {
            cloudflare_access: false,
            max_token_bytes: 8192
        }
    );
    assert_eq!(c.jwks_timeout_ms(), 5000);
    assert_eq!(c.jwks_max_stale_seconds(), 86_400);
    assert_eq!(c.jwks_cooldown_seconds(), 30);
    assert_eq!(c.token_cache_entries(), 1024);
    assert_eq!(c.jwks_max_bytes(), 262_144);
    assert!(c.extra_stripped_headers().is_empty());
    assert_eq!(c.realm(), "edge-auth");
    assert_eq!(c.email_policy(), EmailPolicy::UnlessUnverified);
}

#[test]
fn every_variable_is_read() {
    let c = auth_with(&[
        ("ISSUER", "https://a.example, https://b.example"),
        ("AUDIENCE", "aud1,aud2,"),
        ("ALLOWED_ALGS", "PS256, ES384,PS256"),
        ("REQUIRED_TYP", "at+jwt"),
        ("CLOCK_SKEW_SECONDS", "300"),
        ("ROLES_CLAIM", "https://example.com/roles"),
        ("JWKS_TIMEOUT_MS", "100"),
        ("JWKS_MAX_STALE_SECONDS", "0"),
        ("JWKS_COOLDOWN_SECONDS", "5"),
        ("TOKEN_CACHE_ENTRIES", "0"),
        ("JWKS_MAX_BYTES", "1024"),
        ("EXTRA_STRIPPED_HEADERS", "X-Tenant-ID, x-internal"),
        ("REALM", "orders api"),
        ("REQUIRE_EMAIL_VERIFIED", "true"),
    ])
    .unwrap();
    assert_eq!(c.issuers(), ["https://a.example", "https://b.example"]);
    assert_eq!(c.audiences(), ["aud1", "aud2"]);
    assert_eq!(c.allowed_algs(), [Algorithm::Ps256, Algorithm::Es384]);
    assert_eq!(c.required_typ(), Some("at+jwt"));
    assert_eq!(c.clock_skew_seconds(), 300);
    assert_eq!(c.roles_claim(), "https://example.com/roles");
    assert_eq!(c.jwks_timeout_ms(), 100);
    assert_eq!(c.jwks_max_stale_seconds(), 0);
    assert_eq!(c.jwks_cooldown_seconds(), 5);
    assert_eq!(c.token_cache_entries(), 0);
    assert_eq!(c.jwks_max_bytes(), 1024);
    assert_eq!(c.extra_stripped_headers(), ["x-tenant-id", "x-internal"]);
    assert_eq!(c.realm(), "orders api");
    assert_eq!(c.email_policy(), EmailPolicy::RequireVerified);
}

#[test]
fn require_email_verified_is_true_or_false() {
    for (raw, policy) in [
        ("true", EmailPolicy::RequireVerified),
        ("TRUE", EmailPolicy::RequireVerified),
        (" True ", EmailPolicy::RequireVerified),
        ("false", EmailPolicy::UnlessUnverified),
        ("False", EmailPolicy::UnlessUnverified),
        ("", EmailPolicy::UnlessUnverified),
    ] {
        let c = auth_with(&[("REQUIRE_EMAIL_VERIFIED", raw)]).unwrap();
        assert_eq!(c.email_policy(), policy, "{raw:?}");
    }
    for raw in ["yes", "1", "0", "on", "truee", "t"] {
        let (var, problem) = err_var(auth_with(&[("REQUIRE_EMAIL_VERIFIED", raw)]));
        assert_eq!(var, "REQUIRE_EMAIL_VERIFIED");
        assert!(problem.contains("not true or false"), "{raw}: {problem}");
        assert!(problem.contains("default (false)"), "{raw}: {problem}");
        assert!(problem.contains(raw), "names the bad value: {problem}");
    }
}

#[test]
fn missing_required_variables_are_named() {
    for var in ["ISSUER", "AUDIENCE", "CONTEXT_SECRET", "JWKS_URL"] {
        let pairs: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != var).collect();
        let (got, problem) = err_var(AuthConfig::from_env(env(&pairs)));
        assert_eq!(got, var);
        assert!(problem.contains("not set"), "{problem}");
    }
    // Empty counts as missing.
    let (var, _) = err_var(auth_with(&[("AUDIENCE", " , ")]));
    assert_eq!(var, "AUDIENCE");
    let (var, _) = err_var(auth_with(&[("ISSUER", "  ")]));
    assert_eq!(var, "ISSUER");
}

/// 64 bytes 0x00..0x3f as base64url (python: base64.urlsafe_b64encode(bytes(range(64))).rstrip(b'=')).
const JWT_SECRET_64: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw";
/// The first 32 of them.
const JWT_SECRET_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// The first 48.
const JWT_SECRET_48: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";

#[test]
fn shared_secret_algorithms_need_jwt_secret_of_their_hash_length() {
    use jose_jwt::MacAlgorithm::{Hs256, Hs384, Hs512};
    let c = auth_with(&[
        ("ALLOWED_ALGS", "ES256,HS256"),
        ("JWT_SECRET", JWT_SECRET_32),
    ])
    .unwrap();
    assert_eq!(c.allowed_algs(), [Algorithm::Es256]);
    assert_eq!(c.mac_algs(), [Hs256]);
    assert_eq!(c.jwt_secret().map(|s| s.byte_len()), Some(32));
    assert_eq!(c.verification_options().mac_algorithms(), [Hs256]);
    // Per algorithm: the longest hash listed sets the minimum.
    for (algs, secret, ok) in [
        ("HS256", JWT_SECRET_32, true),
        ("HS384", JWT_SECRET_32, false),
        ("HS384", JWT_SECRET_48, true),
        ("HS256,HS512", JWT_SECRET_48, false),
        ("HS512", JWT_SECRET_48, false),
        ("HS512", JWT_SECRET_64, true),
        ("HS256,HS384,HS512", JWT_SECRET_64, true),
    ] {
        let result = auth_with(&[
            ("ALLOWED_ALGS", algs),
            ("JWT_SECRET", secret),
            ("JWKS_URL", ""),
        ]);
        match result {
            Ok(c) => {
                assert!(ok, "{algs} with {secret} accepted");
                assert!(c.jwks().is_none() && c.allowed_algs().is_empty());
            }
            Err(e) => {
                assert!(!ok, "{algs}: {e}");
                assert_eq!(e.var(), "JWT_SECRET");
                let longest = if algs.contains("512") {
                    "HS512"
                } else {
                    "HS384"
                };
                assert!(e.problem().contains(longest), "{}", e.problem());
                assert!(e.problem().contains("bytes"), "{}", e.problem());
            }
        }
    }
    let all = auth_with(&[
        ("ALLOWED_ALGS", "HS512,HS256,HS384,HS256"),
        ("JWT_SECRET", JWT_SECRET_64),
        ("JWKS_URL", ""),
    ]);
    assert_eq!(all.unwrap().mac_algs(), [Hs512, Hs256, Hs384]);
}

#[test]
fn jwt_secret_and_hs_algorithms_come_together_or_not_at_all() {
    let (var, problem) = err_var(auth_with(&[("ALLOWED_ALGS", "ES256,HS256")]));
    assert_eq!(var, "JWT_SECRET");
    assert!(
        problem.contains("is not set") && problem.contains("wrangler secret put JWT_SECRET"),
        "{problem}"
    );
    for algs in [None, Some("ES256,EdDSA")] {
        let mut pairs = vec![("JWT_SECRET", JWT_SECRET_32)];
        pairs.extend(algs.map(|a| ("ALLOWED_ALGS", a)));
        let (var, problem) = err_var(auth_with(&pairs));
        assert_eq!(var, "JWT_SECRET");
        assert!(problem.contains("lists no HS256"), "{problem}");
    }
}

#[test]
fn jwt_secret_is_strict_base64url_and_never_echoed() {
    let padded = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let standard =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let short = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg";
    let not_b64 = "AAECAwQFBgcICQoLDA0ODxAREhMU FRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
    for (secret, needle) in [
        (padded, "padding"),
        (standard, "base64url"),
        (hex, "hex"),
        (short, "at least 32 bytes"),
        (not_b64, "base64url"),
    ] {
        let (var, problem) = err_var(auth_with(&[
            ("ALLOWED_ALGS", "HS256,ES256"),
            ("JWT_SECRET", secret),
        ]));
        assert_eq!(var, "JWT_SECRET");
        assert!(problem.contains(needle), "{secret}: {problem}");
        assert!(
            !problem.contains(secret),
            "the secret was echoed: {problem}"
        );
        assert!(
            !problem.contains(&secret[..16]),
            "the secret was echoed: {problem}"
        );
    }
    // Debug output of the whole configuration never shows it either.
    let c = auth_with(&[
        ("ALLOWED_ALGS", "HS256,ES256"),
        ("JWT_SECRET", JWT_SECRET_32),
    ])
    .unwrap();
    assert!(!format!("{c:?}").contains(JWT_SECRET_32));
}

#[test]
fn a_key_set_with_only_hs_algorithms_is_a_mistake() {
    for var in ["JWKS_URL", "JWKS_SERVICE"] {
        let mut pairs: Vec<_> = minimal()
            .into_iter()
            .filter(|(k, _)| *k != "JWKS_URL")
            .collect();
        pairs.push(("ALLOWED_ALGS", "HS256"));
        pairs.push(("JWT_SECRET", JWT_SECRET_32));
        pairs.push((
            var,
            if var == "JWKS_URL" {
                "https://idp.example/jwks"
            } else {
                "IDP"
            },
        ));
        let e = AuthConfig::from_env(env(&pairs)).unwrap_err();
        assert_eq!(e.var(), var);
        assert!(
            e.problem().contains("only shared-secret"),
            "{}",
            e.problem()
        );
    }
    // Public-key algorithms still need their key set.
    let pairs: Vec<_> = minimal()
        .into_iter()
        .filter(|(k, _)| *k != "JWKS_URL")
        .chain([
            ("ALLOWED_ALGS", "HS256,ES256"),
            ("JWT_SECRET", JWT_SECRET_32),
        ])
        .collect();
    assert_eq!(
        AuthConfig::from_env(env(&pairs)).unwrap_err().var(),
        "JWKS_URL"
    );
}

#[test]
fn algorithm_list_rejects_none_and_unknown_names() {
    for (raw, needle) in [
        ("none", "`none`"),
        ("hs512", "not a known algorithm"),
        ("es256", "not a known algorithm"),
        ("RS1", "not a known algorithm"),
        (",", "lists no algorithm"),
    ] {
        let (var, problem) = err_var(auth_with(&[("ALLOWED_ALGS", raw)]));
        assert_eq!(var, "ALLOWED_ALGS");
        assert!(problem.contains(needle), "{raw}: {problem}");
    }
    let all = "ES256,ES384,EdDSA,RS256,RS384,RS512,PS256,PS384,PS512";
    assert_eq!(
        auth_with(&[("ALLOWED_ALGS", all)]).unwrap().allowed_algs(),
        Algorithm::ALL
    );
}

#[test]
fn numbers_out_of_range_are_named() {
    for (var, raw) in [
        ("CLOCK_SKEW_SECONDS", "301"),
        ("CLOCK_SKEW_SECONDS", "-1"),
        ("CLOCK_SKEW_SECONDS", "1.5"),
        ("JWKS_TIMEOUT_MS", "99"),
        ("JWKS_TIMEOUT_MS", "30001"),
        ("JWKS_MAX_STALE_SECONDS", "604801"),
        ("JWKS_COOLDOWN_SECONDS", "0"),
        ("JWKS_MAX_BYTES", "1023"),
        ("JWKS_MAX_BYTES", "lots"),
        ("TOKEN_CACHE_ENTRIES", "65537"),
        ("TOKEN_CACHE_ENTRIES", "-1"),
    ] {
        let (got, problem) = err_var(auth_with(&[(var, raw)]));
        assert_eq!(got, var);
        assert!(problem.contains("between"), "{problem}");
    }
}

#[test]
fn jwks_url_rules_apply_to_the_variable() {
    for raw in [
        "http://idp.example/jwks",
        "https://u:p@idp.example/jwks",
        "https://idp.example/jwks#f",
        "idp.example/jwks",
    ] {
        let (var, _) = err_var(auth_with(&[("JWKS_URL", raw)]));
        assert_eq!(var, "JWKS_URL", "{raw}");
    }
    assert!(auth_with(&[("JWKS_URL", "http://127.0.0.1:8787/jwks")]).is_ok());
}

#[test]
fn access_team_domain_sets_defaults_that_explicit_values_override() {
    let pairs = [
        ("ACCESS_TEAM_DOMAIN", "https://myteam.cloudflareaccess.com/"),
        (
            "AUDIENCE",
            "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2",
        ),
        ("ALLOWED_ALGS", "ES256"),
        ("CONTEXT_SECRET", SECRET),
    ];
    let c = AuthConfig::from_env(env(&pairs)).unwrap();
    assert_eq!(c.access_team_domain(), Some("myteam.cloudflareaccess.com"));
    assert_eq!(
        c.jwks(),
        Some(&JwksSource::Url(
            Url::parse("https://myteam.cloudflareaccess.com/cdn-cgi/access/certs").unwrap()
        ))
    );
    assert_eq!(c.issuers(), ["https://myteam.cloudflareaccess.com"]);
    assert_eq!(c.allowed_algs(), [Algorithm::Es256, Algorithm::Rs256]);
    assert!(c.extraction_mode().cloudflare_access);

    let c = auth_with(&[("ACCESS_TEAM_DOMAIN", "myteam.cloudflareaccess.com")]).unwrap();
    // Explicit JWKS_URL and ISSUER from `minimal()` win.
    assert_eq!(
        c.jwks(),
        Some(&JwksSource::Url(
            Url::parse("https://idp.example/.well-known/jwks.json").unwrap()
        ))
    );
    assert_eq!(c.issuers(), ["https://idp.example/"]);
    assert!(c.extraction_mode().cloudflare_access);

    for bad in [
        "my team",
        "https://t.example/path",
        "t.example:8443",
        "10.0.0.1",
        "http://t.example",
    ] {
        let (var, _) = err_var(auth_with(&[("ACCESS_TEAM_DOMAIN", bad)]));
        assert_eq!(var, "ACCESS_TEAM_DOMAIN", "{bad}");
    }
}

#[test]
fn jwks_service_replaces_the_url() {
    let pairs: Vec<_> = minimal()
        .into_iter()
        .filter(|(k, _)| *k != "JWKS_URL")
        .chain([("JWKS_SERVICE", "IDP")])
        .collect();
    let c = AuthConfig::from_env(env(&pairs)).unwrap();
    assert_eq!(
        c.jwks(),
        Some(&JwksSource::Service {
            binding: "IDP".into()
        })
    );

    let (var, problem) = err_var(auth_with(&[("JWKS_SERVICE", "IDP")]));
    assert_eq!(var, "JWKS_SERVICE");
    assert!(problem.contains("only one"), "{problem}");

    let pairs: Vec<_> = minimal()
        .into_iter()
        .filter(|(k, _)| *k != "JWKS_URL")
        .chain([("JWKS_SERVICE", "my-idp")])
        .collect();
    let (var, _) = err_var(AuthConfig::from_env(env(&pairs)));
    assert_eq!(var, "JWKS_SERVICE");
}

#[test]
fn word_like_variables_reject_spaces_and_controls() {
    for (var, raw) in [
        ("ISSUER", "https://a.example, bad issuer"),
        ("AUDIENCE", "aud\u{1}"),
        ("REQUIRED_TYP", "at jwt"),
        ("ROLES_CLAIM", "rôles"),
        ("EXTRA_STRIPPED_HEADERS", "X-Ok, X Bad"),
        ("REALM", "say \"hi\""),
        ("REALM", "back\\slash"),
    ] {
        let (got, _) = err_var(auth_with(&[(var, raw)]));
        assert_eq!(got, var, "{raw}");
    }
}

#[test]
fn context_secret_errors_never_echo_the_secret() {
    let short = "short-secret-value";
    let (var, problem) = err_var(auth_with(&[("CONTEXT_SECRET", short)]));
    assert_eq!(var, "CONTEXT_SECRET");
    assert!(problem.contains("openssl rand -hex 32"), "{problem}");
    assert!(!problem.contains(short));
    let debug = format!("{:?}", auth_with(&[]).unwrap());
    assert!(!debug.contains(SECRET), "{debug}");
}

#[test]
fn authz_config_defaults_and_values() {
    let c = AuthzConfig::from_env(env(&[("CONTEXT_SECRET", SECRET)])).unwrap();
    assert_eq!(c.origin(), None);
    assert_eq!(c.realm(), "edge-auth");
    assert_eq!(c.context_max_age_seconds(), 60);
    assert!(c.extra_stripped_headers().is_empty());

    let c = AuthzConfig::from_env(env(&[
        ("CONTEXT_SECRET", SECRET),
        ("ORIGIN_URL", "https://api.internal.example"),
        ("REALM", "orders"),
        ("CONTEXT_MAX_AGE_SECONDS", "10"),
        ("EXTRA_STRIPPED_HEADERS", "X-Tenant-ID, x_internal"),
    ]))
    .unwrap();
    assert_eq!(
        c.origin().map(OriginUrl::as_str),
        Some("https://api.internal.example")
    );
    assert_eq!(c.realm(), "orders");
    assert_eq!(c.context_max_age_seconds(), 10);
    assert_eq!(c.extra_stripped_headers(), ["x-tenant-id", "x_internal"]);
}

#[test]
fn authz_config_errors_name_the_variable() {
    for (pairs, var) in [
        (vec![], "CONTEXT_SECRET"),
        (vec![("CONTEXT_SECRET", "too-short")], "CONTEXT_SECRET"),
        (
            vec![
                ("CONTEXT_SECRET", SECRET),
                ("ORIGIN_URL", "https://api.example/v1"),
            ],
            "ORIGIN_URL",
        ),
        (
            vec![("CONTEXT_SECRET", SECRET), ("CONTEXT_MAX_AGE_SECONDS", "0")],
            "CONTEXT_MAX_AGE_SECONDS",
        ),
        (
            vec![
                ("CONTEXT_SECRET", SECRET),
                ("CONTEXT_MAX_AGE_SECONDS", "301"),
            ],
            "CONTEXT_MAX_AGE_SECONDS",
        ),
        (vec![("CONTEXT_SECRET", SECRET), ("REALM", "a\"b")], "REALM"),
        (
            vec![
                ("CONTEXT_SECRET", SECRET),
                ("EXTRA_STRIPPED_HEADERS", "X-Ok, X Bad"),
            ],
            "EXTRA_STRIPPED_HEADERS",
        ),
    ] {
        let e = AuthzConfig::from_env(env(&pairs)).unwrap_err();
        assert_eq!(e.var(), var, "{pairs:?}");
    }
}
