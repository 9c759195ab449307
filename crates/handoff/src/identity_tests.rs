use jose_jwt::testing::unverified_claims;

use super::*;

fn claims(json: &str) -> Claims {
    unverified_claims(json.as_bytes()).unwrap()
}

const BASE: &str = r#""sub":"alice","iss":"https://idp.example","aud":"api","exp":1700000000"#;

#[test]
fn maps_sub_roles_scopes_email_exp_issuer() {
    let c = claims(&format!(
        r#"{{{BASE},"roles":["admin","ops"],"scope":"read write","email":"a@example.com"}}"#
    ));
    let id = Identity::from_claims(&c, "roles").unwrap();
    assert_eq!(
        id,
        Identity {
            sub: "alice".into(),
            roles: vec!["admin".into(), "ops".into()],
            scopes: vec!["read".into(), "write".into()],
            email: Some("a@example.com".into()),
            exp: 1_700_000_000,
            issuer: "https://idp.example".into(),
        }
    );
}

#[test]
fn roles_from_a_dotted_path_or_a_full_claim_name() {
    let keycloak = claims(&format!(
        r#"{{{BASE},"realm_access":{{"roles":["user"]}}}}"#
    ));
    assert_eq!(
        Identity::from_claims(&keycloak, "realm_access.roles")
            .unwrap()
            .roles,
        ["user"]
    );
    let namespaced = claims(&format!(
        r#"{{{BASE},"https://example.com/roles":["editor"]}}"#
    ));
    assert_eq!(
        Identity::from_claims(&namespaced, "https://example.com/roles")
            .unwrap()
            .roles,
        ["editor"]
    );
    let cognito = claims(&format!(r#"{{{BASE},"cognito:groups":"admins"}}"#));
    assert_eq!(
        Identity::from_claims(&cognito, "cognito:groups")
            .unwrap()
            .roles,
        ["admins"]
    );
}

#[test]
fn absent_roles_and_email_are_empty_not_errors() {
    let id = Identity::from_claims(&claims(&format!("{{{BASE}}}")), "roles").unwrap();
    assert!(id.roles.is_empty());
    assert!(id.scopes.is_empty());
    assert_eq!(id.email, None);
}

#[test]
fn malformed_claims_refuse_the_token() {
    for (json, claim) in [
        (format!(r#"{{{BASE},"roles":[1,2]}}"#), "roles"),
        (format!(r#"{{{BASE},"roles":{{"admin":true}}}}"#), "roles"),
        (format!(r#"{{{BASE},"email":42}}"#), "email"),
        (
            r#"{"iss":"https://idp.example","aud":"api","exp":1700000000}"#.to_owned(),
            "sub",
        ),
    ] {
        match Identity::from_claims(&claims(&json), "roles") {
            Err(HandoffError::UnusableClaims { claim: c, .. }) => assert_eq!(c, claim, "{json}"),
            other => panic!("{json}: expected UnusableClaims, got {other:?}"),
        }
    }
}
