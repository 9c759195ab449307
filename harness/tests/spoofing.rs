//! Identity comes only from a verified token: client-sent identity headers never reach the
//! origin, in any letter case or CGI-style look-alike spelling (`X_User_ID`), nor do other
//! gateways' identity headers; and in Cloudflare Access mode the Access credentials are honoured.

use e2e::{check_all, Alg, Harness, Response, Seen};
use edge_auth::{Identity, ACCESS_EMAIL_HEADER};
use serde_json::json;

/// Every value is unique, so the origin seeing it anywhere, under any name, is a failure.
const SPOOFED: [(&str, &str); 30] = [
    ("X-User-ID", "forged-id-1"),
    ("x-user-id", "forged-id-2"),
    ("X-USER-ID", "forged-id-3"),
    ("x-user-roles", r#"["forged-role-1"]"#),
    ("X-User-Scopes", r#"["forged-scope-1"]"#),
    ("X-User-Email", "forged-1@example.com"),
    ("X-AUTH-CONTEXT", "eyJzdWIiOiJhZG1pbiJ9.forged"),
    ("x-auth-context", "forged-context-1"),
    // Look-alikes a CGI-style origin reads as the names above (HTTP_X_USER_ID, …).
    ("X_User_ID", "forged-id-4"),
    ("X_User_Roles", r#"["forged-role-2"]"#),
    ("x-user_email", "forged-2@example.com"),
    ("X-User_Roles", r#"["forged-role-3"]"#),
    ("x_user_scopes", r#"["forged-scope-2"]"#),
    ("X.User.ID", "forged-id-5"),
    ("X_AUTH_CONTEXT", "forged-context-2"),
    ("X_Auth_Context", "forged-context-3"),
    ("X-Edge-Auth-Assertion", "forged-assertion-1"),
    ("x_edge_auth_assertion", "forged-assertion-2"),
    // Other gateways' identity headers, in both spellings.
    ("X-Forwarded-User", "forged-id-6"),
    ("x_forwarded_user", "forged-id-7"),
    ("X-Forwarded-Email", "forged-3@example.com"),
    ("X-Forwarded-Groups", "forged-group-1"),
    ("X_Forwarded_Groups", "forged-group-2"),
    ("X-Forwarded-Preferred-Username", "forged-id-8"),
    ("X-Auth-Request-User", "forged-id-9"),
    ("X-Auth-Request-Email", "forged-4@example.com"),
    ("x_auth_request_groups", "forged-group-3"),
    ("X-Auth-Request-Preferred-Username", "forged-id-10"),
    // Cloudflare Access's header, with Access not configured.
    ("Cf-Access-Authenticated-User-Email", "forged-5@example.com"),
    ("cf_access_authenticated_user_email", "forged-6@example.com"),
];

/// `Err` naming the header if the origin saw `value` anywhere.
fn never_seen(seen: &Seen, value: &str) -> Result<(), String> {
    match seen.headers.iter().find(|(_, v)| v.contains(value)) {
        Some((name, _)) => Err(format!("the origin received {value:?} as {name}")),
        None => Ok(()),
    }
}

#[test]
fn client_identity_headers_never_reach_the_origin() {
    let h = Harness::shared();
    let token = h.token("user", &["user"]);
    check_all(&SPOOFED, |&(name, value)| {
        for (target, bearer) in [("/hello", Some(&token)), ("/health", None)] {
            let mut request = h.get(target).header(name, value);
            if let Some(token) = bearer {
                request = request.bearer(token);
            }
            let r = request.send();
            if r.status != 200 {
                return Err(format!("{target}: status {}: {}", r.status, r.text()));
            }
            let seen = h.seen(&r);
            let [seen] = seen.as_slice() else {
                return Err(format!("{target}: origin saw {} requests", seen.len()));
            };
            never_seen(seen, value).map_err(|e| format!("{target}: {e}"))?;
            let ids = seen.header_all("x-user-id");
            let expected: &[&str] = if bearer.is_some() { &["user"] } else { &[] };
            if ids != expected {
                return Err(format!("{target}: X-User-ID at the origin: {ids:?}"));
            }
            if seen.header("x-auth-context").is_some() {
                return Err(format!("{target}: X-Auth-Context reached the origin"));
            }
        }
        Ok(())
    });
}

#[test]
fn all_look_alikes_at_once_leave_only_the_verified_identity() {
    let h = Harness::shared();
    let token = h.token("user", &["user"]);
    for bearer in [Some(&token), None] {
        let mut request = h.get("/hello");
        if let Some(token) = bearer {
            request = request.bearer(token);
        }
        for (name, value) in SPOOFED {
            request = request.header(name, value);
        }
        let r = request.header("X-Innocent_Header", "kept").send();
        let Some(_) = bearer else {
            // Anonymous on an authenticated route: refused however many identities it claims.
            h.assert_status(&r, 401);
            h.assert_not_forwarded(&r);
            continue;
        };
        h.assert_status(&r, 200);
        let seen = h.seen_once(&r);
        for (_, value) in SPOOFED {
            never_seen(&seen, value).unwrap();
        }
        assert_eq!(seen.header_all("x-user-id"), ["user"]);
        assert_eq!(seen.header_all("x-user-roles"), [r#"["user"]"#]);
        assert_eq!(seen.header("x-innocent_header"), Some("kept"));
        let mut identity_names: Vec<&str> = seen
            .headers
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| edge_auth::is_client_identity_header(n, &[]))
            .collect();
        identity_names.sort_unstable();
        assert_eq!(
            identity_names,
            ["x-user-id", "x-user-roles", "x-user-scopes"],
            "only the Workers' own identity headers, spelled their way"
        );
    }
}

#[test]
fn the_access_email_header_is_stripped_when_access_is_not_the_source_even_if_it_matches() {
    let h = Harness::shared();
    let mut claims = h.idp.standard_claims("user", &["user"]);
    claims["email"] = json!("user@example.com");
    claims["email_verified"] = json!(true);
    let token = h.idp.mint(Alg::Es256, claims);
    let r = h
        .get("/hello")
        .bearer(&token)
        .header("Cf-Access-Authenticated-User-Email", "user@example.com")
        .send();
    h.assert_status(&r, 200);
    let seen = h.seen_once(&r);
    assert_eq!(seen.header_all("x-user-email"), ["user@example.com"]);
    assert_eq!(seen.header("cf-access-authenticated-user-email"), None);
}

#[test]
fn spoofed_headers_without_a_token_are_refused_on_protected_routes() {
    let h = Harness::shared();
    let mut request = h.get("/admin/x");
    for (name, value) in SPOOFED {
        request = request.header(name, value);
    }
    let r = request.send();
    h.assert_status(&r, 401);
    h.assert_not_forwarded(&r);
}

#[test]
fn cloudflare_access_header_and_cookie_are_accepted() {
    let h = Harness::start_with(|c, idp| {
        c.auth_var("ACCESS_TEAM_DOMAIN", "e2e-team.cloudflareaccess.com")
            .auth_var("JWKS_URL", idp.access_certs_url())
            .auth_var("ISSUER", idp.issuer())
    });
    let mut claims = h.idp.standard_claims("user", &["user"]);
    claims["email"] = json!("user@example.com");
    // Access signs with RS256.
    let token = h.idp.mint(Alg::Rs256, claims);

    let via_header = h
        .get("/hello")
        .header("Cf-Access-Jwt-Assertion", &token)
        .send();
    let via_cookie = h
        .get("/hello")
        .header("Cookie", &format!("theme=dark; CF_Authorization={token}"))
        .send();
    for r in [&via_header, &via_cookie] {
        h.assert_status(r, 200);
        let seen = h.seen_once(r);
        assert_eq!(seen.header_all("x-user-id"), ["user"]);
        assert_eq!(seen.header("x-user-email"), Some("user@example.com"));
    }
    assert!(h.idp.hits() >= 1, "keys came from the Access certs path");

    // A bad Access credential is an invalid token like any other.
    let r = h
        .get("/hello")
        .header("Cf-Access-Jwt-Assertion", "not.a.token")
        .send();
    h.assert_invalid_token(&r);
    // Forged identity headers next to a valid Access token are still replaced.
    let r = h
        .get("/hello")
        .header("Cf-Access-Jwt-Assertion", &token)
        .header("X-User-Email", "admin@example.com")
        .send();
    h.assert_status(&r, 200);
    assert_eq!(
        h.seen_once(&r).header_all("x-user-email"),
        ["user@example.com"]
    );

    // Access's own e-mail header passes under its own name with the verified value only.
    let access_email = |r: &Response| -> Vec<String> {
        h.seen_once(r)
            .headers
            .iter()
            .filter(|(name, _)| edge_auth::same_header_name(name, ACCESS_EMAIL_HEADER))
            .map(|(name, value)| format!("{name}: {value}"))
            .collect()
    };
    let with_access_header = |name: &str, value: &str| {
        h.get("/hello")
            .header("Cf-Access-Jwt-Assertion", &token)
            .header(name, value)
            .send()
    };
    let r = with_access_header("Cf-Access-Authenticated-User-Email", "user@example.com");
    h.assert_status(&r, 200);
    assert_eq!(
        access_email(&r),
        ["cf-access-authenticated-user-email: user@example.com"]
    );
    for (name, value) in [
        ("Cf-Access-Authenticated-User-Email", "admin@example.com"),
        ("Cf-Access-Authenticated-User-Email", "USER@example.com"),
        ("cf_access_authenticated_user_email", "user@example.com"),
    ] {
        let r = with_access_header(name, value);
        h.assert_status(&r, 200);
        assert_eq!(access_email(&r), Vec::<String>::new(), "{name}: {value}");
    }
    // Without a token there is no verified e-mail for it to repeat.
    let r = h
        .get("/health")
        .header("Cf-Access-Authenticated-User-Email", "user@example.com")
        .send();
    h.assert_status(&r, 200);
    assert_eq!(access_email(&r), Vec::<String>::new());
}

const AUTHZ_SECRET: &str = "0123456789abcdef0123456789abcdef-spoofing-authz";

/// The authz Worker alone (as if reached directly): it applies the same header table, and its
/// own `EXTRA_STRIPPED_HEADERS`, whatever the auth Worker did before it.
#[test]
fn the_authz_worker_strips_look_alikes_and_its_extra_headers() {
    let h = Harness::start_with(|c, _| {
        c.authz_only()
            .authz_var("CONTEXT_SECRET", AUTHZ_SECRET)
            .authz_var("EXTRA_STRIPPED_HEADERS", "X-Tenant-ID, X-Internal-Flag")
    });
    let now = i64::try_from(e2e::idp::now()).unwrap();
    let user = Identity {
        sub: "user".into(),
        roles: vec!["user".into()],
        scopes: Vec::new(),
        email: Some("user@example.com".into()),
        exp: now + 600,
        issuer: "https://idp.test".into(),
        act: None,
    };
    let forged: [(&str, &str); 10] = [
        ("X-Tenant-ID", "forged-tenant-1"),
        ("x_tenant_id", "forged-tenant-2"),
        ("X-INTERNAL_FLAG", "forged-flag"),
        ("X_User_ID", "forged-id-1"),
        ("x-user_roles", r#"["forged-role"]"#),
        ("X-Forwarded-User", "forged-id-2"),
        ("X_Auth_Request_User", "forged-id-3"),
        ("X_Original_URI", "/forged-path-1"),
        ("X-Envoy-Original-Path", "/forged-path-2"),
        ("Cf-Access-Authenticated-User-Email", "forged@example.com"),
    ];
    for (target, identity) in [("/health", None), ("/hello", Some(&user))] {
        let mut request = h.get(target).header("X-Tenant-Name", "kept");
        if let Some(identity) = identity {
            let id = format!("e2e-spoof-{}", e2e::keys::random_hex(8));
            request = request
                .header("X-Request-Id", &id)
                .header("X-Auth-Context", &context_for(identity, target, &id, now));
        }
        for (name, value) in forged {
            request = request.header(name, value);
        }
        let r = request.send();
        h.assert_status(&r, 200);
        let seen = h.seen_once(&r);
        for (_, value) in forged {
            never_seen(&seen, value).unwrap_or_else(|e| panic!("{target}: {e}"));
        }
        assert_eq!(seen.header("x-tenant-name"), Some("kept"), "{target}");
        let ids: &[&str] = if identity.is_some() { &["user"] } else { &[] };
        assert_eq!(seen.header_all("x-user-id"), ids, "{target}");
    }

    // Access's e-mail header only when it repeats the e-mail in the signed context.
    for (value, kept) in [("user@example.com", true), ("admin@example.com", false)] {
        let id = format!("e2e-spoof-{}", e2e::keys::random_hex(8));
        let r = h
            .get("/hello")
            .header("X-Request-Id", &id)
            .header("X-Auth-Context", &context_for(&user, "/hello", &id, now))
            .header("Cf-Access-Authenticated-User-Email", value)
            .send();
        h.assert_status(&r, 200);
        let seen = h.seen_once(&r);
        let expected = kept.then_some(value);
        assert_eq!(seen.header("cf-access-authenticated-user-email"), expected);
        assert_eq!(seen.header("x-user-email"), Some("user@example.com"));
    }
}

/// A context signed with [`AUTHZ_SECRET`] as the auth Worker would sign it for `GET target`
/// with request id `id` (send it with that `x-request-id`).
fn context_for(identity: &Identity, target: &str, id: &str, now: i64) -> String {
    e2e::context::signed(
        AUTHZ_SECRET,
        identity,
        ("GET", target, id),
        &Default::default(),
        now,
    )
}
