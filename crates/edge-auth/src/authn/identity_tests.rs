use jose_jwt::testing::unverified_claims;

use super::*;
use crate::{identity_headers, USER_EMAIL_HEADER};

fn claims(json: &str) -> Claims {
    unverified_claims(json.as_bytes()).unwrap()
}

fn identity(claims: &Claims, roles_claim: &str) -> Result<Identity, HandoffError> {
    Identity::from_claims(claims, roles_claim, EmailPolicy::default()).map(|c| c.identity)
}

const BASE: &str = r#""sub":"alice","iss":"https://idp.example","aud":"api","exp":1700000000"#;

#[test]
fn maps_sub_roles_scopes_email_exp_issuer() {
    let c = claims(&format!(
        r#"{{{BASE},"roles":["admin","ops"],"scope":"read write","email":"a@example.com"}}"#
    ));
    let id = identity(&c, "roles").unwrap();
    assert_eq!(
        id,
        Identity {
            sub: "alice".into(),
            roles: vec!["admin".into(), "ops".into()],
            scopes: vec!["read".into(), "write".into()],
            email: Some("a@example.com".into()),
            exp: 1_700_000_000,
            issuer: "https://idp.example".into(),
            act: None,
        }
    );
}

#[test]
fn roles_from_a_dotted_path_or_a_full_claim_name() {
    let keycloak = claims(&format!(
        r#"{{{BASE},"realm_access":{{"roles":["user"]}}}}"#
    ));
    assert_eq!(
        identity(&keycloak, "realm_access.roles").unwrap().roles,
        ["user"]
    );
    let namespaced = claims(&format!(
        r#"{{{BASE},"https://example.com/roles":["editor"]}}"#
    ));
    assert_eq!(
        identity(&namespaced, "https://example.com/roles")
            .unwrap()
            .roles,
        ["editor"]
    );
    let cognito = claims(&format!(r#"{{{BASE},"cognito:groups":"admins"}}"#));
    assert_eq!(
        identity(&cognito, "cognito:groups").unwrap().roles,
        ["admins"]
    );
}

#[test]
fn absent_roles_and_email_are_empty_not_errors() {
    let id = identity(&claims(&format!("{{{BASE}}}")), "roles").unwrap();
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
        match identity(&claims(&json), "roles") {
            Err(HandoffError::UnusableClaims { claim: c, .. }) => assert_eq!(c, claim, "{json}"),
            other => panic!("{json}: expected UnusableClaims, got {other:?}"),
        }
    }
}

#[test]
fn email_is_forwarded_only_when_not_marked_unverified() {
    use EmailPolicy::{RequireVerified, UnlessUnverified};
    use EmailWithheld::{Unverified, VerificationMissing};
    for (verified, policy, withheld) in [
        (Some("true"), UnlessUnverified, None),
        (Some("true"), RequireVerified, None),
        (Some("false"), UnlessUnverified, Some(Unverified)),
        (Some("false"), RequireVerified, Some(Unverified)),
        (Some(r#""true""#), UnlessUnverified, Some(Unverified)),
        (Some(r#""true""#), RequireVerified, Some(Unverified)),
        (Some("null"), UnlessUnverified, Some(Unverified)),
        (Some("1"), UnlessUnverified, Some(Unverified)),
        (Some("[true]"), UnlessUnverified, Some(Unverified)),
        (
            Some(r#"{"value":true}"#),
            UnlessUnverified,
            Some(Unverified),
        ),
        (None, UnlessUnverified, None),
        (None, RequireVerified, Some(VerificationMissing)),
    ] {
        let verified_claim =
            verified.map_or(String::new(), |v| format!(r#","email_verified":{v}"#));
        let c = claims(&format!(
            r#"{{{BASE},"email":"a@example.com"{verified_claim}}}"#
        ));
        let case = format!("email_verified {verified:?} with {policy:?}");
        let got = Identity::from_claims(&c, "roles", policy).unwrap();
        assert_eq!(got.email_withheld, withheld, "{case}");
        let expected_email = withheld.is_none().then(|| "a@example.com".to_owned());
        assert_eq!(got.identity.email, expected_email, "{case}");
        // Only the e-mail goes: the rest of the identity is the same either way.
        assert_eq!(got.identity.sub, "alice", "{case}");
        // And the headers follow the identity.
        let headers = identity_headers(&got.identity).unwrap();
        let has_email = headers.iter().any(|(name, _)| *name == USER_EMAIL_HEADER);
        assert_eq!(has_email, withheld.is_none(), "{case}");
    }
}

#[test]
fn no_email_means_nothing_withheld_under_either_policy() {
    for policy in [EmailPolicy::UnlessUnverified, EmailPolicy::RequireVerified] {
        for extra in ["", r#","email_verified":false"#] {
            let c = claims(&format!("{{{BASE}{extra}}}"));
            let got = Identity::from_claims(&c, "roles", policy).unwrap();
            assert_eq!(got.email_withheld, None, "{policy:?} {extra}");
            assert_eq!(got.identity.email, None);
        }
    }
}

#[test]
fn a_malformed_email_refuses_the_token_even_when_unverified() {
    let c = claims(&format!(r#"{{{BASE},"email":42,"email_verified":false}}"#));
    assert!(matches!(
        Identity::from_claims(&c, "roles", EmailPolicy::default()),
        Err(HandoffError::UnusableClaims { .. })
    ));
}

#[test]
fn withheld_reasons_have_stable_codes() {
    assert_eq!(EmailWithheld::Unverified.code(), "email_unverified");
    assert_eq!(
        EmailWithheld::VerificationMissing.code(),
        "email_verified_missing"
    );
}

#[test]
fn the_act_claim_is_carried_when_bounded_and_refuses_the_token_otherwise() {
    let delegated = claims(&format!(
        r#"{{{BASE},"act":{{"sub":"svc","act":{{"sub":"cli"}}}}}}"#
    ));
    let act = identity(&delegated, "roles").unwrap().act.unwrap();
    assert_eq!(
        serde_json::Value::from(act),
        serde_json::json!({"sub": "svc", "act": {"sub": "cli"}})
    );
    assert_eq!(
        identity(&claims(&format!("{{{BASE}}}")), "roles")
            .unwrap()
            .act,
        None
    );
    let deep =
        r#"{"sub":"1","act":{"sub":"2","act":{"sub":"3","act":{"sub":"4","act":{"sub":"5"}}}}}"#;
    for act in [r#""svc""#, "null", r#"{"sub":7}"#, deep] {
        let c = claims(&format!(r#"{{{BASE},"act":{act}}}"#));
        match identity(&c, "roles") {
            Err(HandoffError::UnusableClaims { claim, .. }) => assert_eq!(claim, "act", "{act}"),
            other => panic!("{act}: {other:?}"),
        }
    }
}
