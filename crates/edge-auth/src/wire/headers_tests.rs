use super::*;

fn no_value() -> Option<String> {
    None
}

/// Names no client may get past either Worker, however spelled.
const IDENTITY_LOOK_ALIKES: &[&str] = &[
    "x-user-id",
    "X-User-ID",
    "X-USER-ROLES",
    "x-user-scopes",
    "X-User-Email",
    "x-user-anything-else",
    "x-user-",
    "X_User_ID",
    "X_User_Roles",
    "x-user_email",
    "X-User_Roles",
    "x_user_scopes",
    "X.User.ID",
    "x~user~id",
    "x-auth-context",
    "X-Auth-Context",
    "X_AUTH_CONTEXT",
    "x_auth-context",
    "X-Edge-Auth-Assertion",
    "x_edge_auth_assertion",
    "X-Forwarded-User",
    "x_forwarded_user",
    "X-Forwarded-Email",
    "X_FORWARDED_EMAIL",
    "X-Forwarded-Groups",
    "x-forwarded_groups",
    "X-Forwarded-Preferred-Username",
    "x_forwarded_preferred_username",
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "x_auth_request_groups",
    "X-Auth-Request-Access-Token",
    "Cf-Access-Authenticated-User-Email",
    "cf_access_authenticated_user_email",
];

const OVERRIDE_LOOK_ALIKES: &[&str] = &[
    "X-Original-URL",
    "X-Original-URI",
    "x_original_uri",
    "X-Forwarded-Path",
    "X_Forwarded_Prefix",
    "x-forwarded-prefix",
    "X-Forwarded-URI",
    "X-Envoy-Original-Path",
    "x_envoy_original_path",
    "X-Original-Method",
    "X_ORIGINAL_METHOD",
    "X-HTTP-Method-Override",
    "x_http_method_override",
    "X-HTTP-Method",
    "X-Method-Override",
    "X-Rewrite-URL",
    "x_rewrite_url",
];

/// Names both Workers pass on.
const KEPT: &[&str] = &[
    "accept",
    "content-type",
    "x-user",
    "x_user",
    "x-users-id",
    "xuser-id",
    "x-userid",
    "user-id",
    "x-auth-context-2",
    "x-auth-contexts",
    "x-auth-request",
    "x-auth",
    "x-edge-auth",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-users",
    "x-original",
    "x-envoy-original",
    "cf-access-authenticated-user",
    "cf-ray",
    "",
    "x-usér-id",
];

#[test]
fn identity_look_alikes_are_stripped_by_both_workers() {
    for policy in [
        HeaderPolicy::to_authz(&[], None),
        HeaderPolicy::to_origin(&[], None),
    ] {
        for name in IDENTITY_LOOK_ALIKES {
            assert!(is_client_identity_header(name, &[]), "{name}");
            assert!(policy.strips(name, no_value), "{policy:?}: {name}");
        }
    }
}

#[test]
fn override_look_alikes_are_stripped_by_both_workers() {
    for policy in [
        HeaderPolicy::to_authz(&[], None),
        HeaderPolicy::to_origin(&[], None),
    ] {
        for name in OVERRIDE_LOOK_ALIKES {
            assert_eq!(
                stripped_kind(name, &[]),
                Some(StrippedKind::Override),
                "{name}"
            );
            assert!(!is_client_identity_header(name, &[]), "{name}");
            assert!(policy.strips(name, no_value), "{policy:?}: {name}");
        }
    }
}

/// The client's credentials, however spelled: kept by both Workers' default policies (the
/// origin gets the client's token as today), removed on the way to an upstream that has its
/// own credential or does not ask for the client's.
const CLIENT_CREDENTIALS: &[&str] = &[
    "authorization",
    "Authorization",
    "AUTHORIZATION",
    "cookie",
    "Cookie",
    "cf-access-jwt-assertion",
    "Cf-Access-Jwt-Assertion",
    "cf_access_jwt_assertion",
    "CF.ACCESS.JWT.ASSERTION",
];

#[test]
fn client_credentials_go_on_except_to_an_upstream_that_does_not_ask_for_them() {
    for name in CLIENT_CREDENTIALS {
        assert_eq!(
            stripped_kind(name, &[]),
            Some(StrippedKind::ClientCredential),
            "{name}"
        );
        assert!(!is_client_identity_header(name, &[]), "{name}");
        for policy in [
            HeaderPolicy::to_authz(&[], Some("a@example.com")),
            HeaderPolicy::to_origin(&[], Some("a@example.com")),
        ] {
            assert!(!policy.strips(name, no_value), "{policy:?}: {name}");
        }
        let upstream = HeaderPolicy::to_origin(&[], None).without_client_credentials();
        assert!(upstream.strips(name, no_value), "{name}");
    }
    // Nothing else changes for an upstream: other headers are kept, identity still stripped.
    let upstream = HeaderPolicy::to_origin(&[], None).without_client_credentials();
    for name in KEPT {
        assert!(!upstream.strips(name, no_value), "{name}");
    }
    for name in ["authorizations", "x-authorization", "cookie2", "set-cookie"] {
        assert!(!upstream.strips(name, no_value), "{name}");
    }
    for name in IDENTITY_LOOK_ALIKES {
        assert!(upstream.strips(name, no_value), "{name}");
    }
}

/// Cloudflare AI Gateway's request headers, however spelled: never forwarded from the client
/// (a client's cache key could read another user's cached answer, its metadata or cost would
/// be logged and billed as given). The rule table's `headers` set them after the strip.
#[test]
fn ai_gateway_headers_from_the_client_never_reach_the_origin_or_an_upstream() {
    for name in [
        "cf-aig-cache-key",
        "CF-AIG-Cache-Key",
        "cf_aig_cache_key",
        "cf-aig-cache-ttl",
        "cf-aig-skip-cache",
        "cf-aig-metadata",
        "Cf-Aig-Metadata",
        "cf-aig-custom-cost",
        "cf-aig-authorization",
        "cf-aig-event-id",
        "cf.aig.collect-log",
        "cf-aig-",
    ] {
        assert_eq!(
            stripped_kind(name, &[]),
            Some(StrippedKind::AiGatewayControl),
            "{name}"
        );
        assert!(!is_client_identity_header(name, &[]), "{name}");
        let origin = HeaderPolicy::to_origin(&[], None);
        assert!(origin.strips(name, no_value), "{name}");
        assert!(
            origin.without_client_credentials().strips(name, no_value),
            "{name}"
        );
        // The auth Worker passes them on; the authz Worker, which forwards, removes them.
        assert!(
            !HeaderPolicy::to_authz(&[], None).strips(name, no_value),
            "{name}"
        );
    }
    for name in [
        "cf-aig",
        "cf-aigx-metadata",
        "x-cf-aig-metadata",
        "cf-ai-gateway",
    ] {
        assert_eq!(stripped_kind(name, &[]), None, "{name}");
    }
}

#[test]
fn other_headers_are_kept_by_both_workers() {
    let extra = ["X-Tenant-ID".to_owned()];
    for policy in [
        HeaderPolicy::to_authz(&extra, Some("a@example.com")),
        HeaderPolicy::to_origin(&extra, Some("a@example.com")),
    ] {
        for name in KEPT.iter().chain(&["x-tenant", "x-tenant-id-2"]) {
            assert_eq!(stripped_kind(name, &extra), None, "{name}");
            assert!(!policy.strips(name, no_value), "{policy:?}: {name}");
        }
    }
}

#[test]
fn extra_names_are_matched_folded_in_both_workers() {
    let extra = vec!["X-Tenant-ID".to_owned(), "x_internal".to_owned()];
    for name in [
        "x-tenant-id",
        "X_TENANT_ID",
        "x-tenant_id",
        "X-INTERNAL",
        "x-internal",
    ] {
        assert_eq!(
            stripped_kind(name, &extra),
            Some(StrippedKind::Extra),
            "{name}"
        );
        assert!(is_client_identity_header(name, &extra), "{name}");
        assert!(HeaderPolicy::to_authz(&extra, None).strips(name, no_value));
        assert!(HeaderPolicy::to_origin(&extra, None).strips(name, no_value));
    }
    assert!(!is_client_identity_header("x-tenant", &extra));
    assert!(!HeaderPolicy::to_origin(&[], None).strips("x-tenant-id", no_value));
}

#[test]
fn the_request_id_is_replaced_by_the_auth_worker_and_passed_on_by_the_authz_worker() {
    for name in ["x-request-id", "X_Request_ID"] {
        assert!(HeaderPolicy::to_authz(&[], None).strips(name, no_value));
        assert!(!HeaderPolicy::to_origin(&[], None).strips(name, no_value));
    }
    assert!(!HeaderPolicy::to_authz(&[], None).strips("host", no_value));
    assert!(HeaderPolicy::to_origin(&[], None).strips("host", no_value));
}

#[test]
fn access_email_passes_only_as_itself_repeating_the_verified_email() {
    let email = "user@example.com";
    let value = || Some(email.to_owned());
    for policy in [
        HeaderPolicy::to_authz(&[], Some(email)),
        HeaderPolicy::to_origin(&[], Some(email)),
    ] {
        assert!(!policy.strips(ACCESS_EMAIL_HEADER, value), "{policy:?}");
        assert!(!policy.strips("Cf-Access-Authenticated-User-Email", value));
        for other in [
            "admin@example.com",
            "USER@example.com",
            "user@example.com ",
            "user@example.com, admin@example.com",
            "",
        ] {
            let forged = || Some(other.to_owned());
            assert!(policy.strips(ACCESS_EMAIL_HEADER, forged), "{other:?}");
        }
        assert!(policy.strips(ACCESS_EMAIL_HEADER, no_value));
        // A look-alike is never Access's own header, whatever its value.
        assert!(policy.strips("cf_access_authenticated_user_email", value));
    }
    // No verified e-mail, or (auth Worker) Access not the source: always stripped.
    for policy in [
        HeaderPolicy::to_authz(&[], None),
        HeaderPolicy::to_origin(&[], None),
    ] {
        assert!(policy.strips(ACCESS_EMAIL_HEADER, value), "{policy:?}");
    }
}

#[test]
fn the_value_is_read_only_for_the_access_header() {
    let policy = HeaderPolicy::to_origin(&[], Some("a@example.com"));
    for name in ["x-user-id", "accept", "x-original-uri", "host"] {
        policy.strips(name, || panic!("read the value of {name}"));
    }
}

#[test]
fn the_table_is_lowercase_hyphenated_and_overrides_are_listed() {
    for (pattern, _) in STRIPPED {
        let (Name(name) | Prefix(name)) = pattern;
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name}"
        );
    }
    let overrides: Vec<&str> = override_headers().collect();
    for name in [
        "x-original-url",
        "x-original-uri",
        "x-original-method",
        "x-rewrite-url",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "x-forwarded-uri",
        "x-forwarded-path",
        "x-forwarded-prefix",
        "x-envoy-original-path",
    ] {
        assert!(overrides.contains(&name), "{name}");
    }
}

#[test]
fn folding_reads_every_punctuation_byte_as_a_hyphen() {
    assert!(same_header_name("X_User.ID", "x-user-id"));
    assert!(same_header_name("a+b", "A-B"));
    assert!(!same_header_name("x-user-id", "x-user-i"));
    assert!(!same_header_name("x-user-id", "x-user-ie"));
    assert!(!same_header_name("xuserid", "x-user-id"));
}

#[test]
fn header_name_syntax() {
    assert!(is_header_name("X-Tenant-ID"));
    assert!(!is_header_name(""));
    assert!(!is_header_name("X Tenant"));
    assert!(!is_header_name("X-Tenant:"));
    assert!(!is_header_name("é"));
}
