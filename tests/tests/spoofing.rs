//! Identity comes only from a verified token: client-sent identity headers never reach the
//! origin, in any letter case; and in Cloudflare Access mode the Access credentials are honoured.

use e2e::{check_all, Alg, Harness};
use serde_json::json;

const SPOOFED: [(&str, &str); 8] = [
    ("X-User-ID", "admin"),
    ("x-user-id", "admin"),
    ("X-USER-ID", "admin"),
    ("x-user-roles", r#"["admin"]"#),
    ("X-User-Scopes", r#"["premium"]"#),
    ("X-User-Email", "admin@example.com"),
    ("X-AUTH-CONTEXT", "eyJzdWIiOiJhZG1pbiJ9.forged"),
    ("x-auth-context", "forged"),
];

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
            if seen.header_all(name).contains(&value) {
                return Err(format!("{target}: the origin received the client's {name}"));
            }
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
}
