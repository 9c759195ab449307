use super::*;

const JWT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln-_";
const OTHER: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln";

fn bearer_only() -> ExtractionMode {
    ExtractionMode::default()
}

fn access() -> ExtractionMode {
    ExtractionMode {
        cloudflare_access: true,
        ..ExtractionMode::default()
    }
}

fn auth(v: &str) -> RequestCredentials<'_> {
    RequestCredentials {
        authorization: Some(v),
        ..RequestCredentials::default()
    }
}

fn malformed(source: CredentialSource) -> CredentialError {
    CredentialError::Malformed { source }
}

#[test]
fn no_credential_is_anonymous() {
    let req = RequestCredentials::default();
    assert_eq!(extract_credential(&req, &bearer_only()), Ok(None));
    assert_eq!(extract_credential(&req, &access()), Ok(None));
}

#[test]
fn bearer_token_is_extracted_with_case_insensitive_scheme() {
    for value in [
        format!("Bearer {JWT}"),
        format!("bearer {JWT}"),
        format!("BEARER {JWT}"),
        format!("bEaReR {JWT}"),
    ] {
        let cred = extract_credential(&auth(&value), &bearer_only())
            .unwrap()
            .unwrap();
        assert_eq!(cred.token(), JWT);
        assert_eq!(cred.source(), CredentialSource::AuthorizationHeader);
    }
}

#[test]
fn bearer_syntax_errors_are_malformed() {
    let m = malformed(CredentialSource::AuthorizationHeader);
    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer  {JWT}"),
        format!("Bearer {JWT} "),
        format!("Bearer\t{JWT}"),
        format!(" Bearer {JWT}"),
        format!("Bearer {JWT},{OTHER}"),
        format!("Bearer {JWT}, Bearer {OTHER}"),
        format!("Bearer {JWT} {OTHER}"),
        format!("Bearer {JWT}="),
        "Bearer a+b/c".to_owned(),
        "Bearer tok\r\nX-Evil: 1".to_owned(),
        "Bearer tök".to_owned(),
        String::new(),
        "Bea\"rer x".to_owned(),
    ] {
        assert_eq!(
            extract_credential(&auth(&value), &bearer_only()),
            Err(m.clone()),
            "{value:?}"
        );
    }
}

#[test]
fn other_schemes_are_rejected_not_ignored() {
    for value in [
        "Basic dXNlcjpwYXNz",
        "Digest username=x",
        "Token abc",
        "DPoP abc",
        "Bearerx abc",
    ] {
        assert_eq!(
            extract_credential(&auth(value), &bearer_only()),
            Err(CredentialError::UnsupportedScheme),
            "{value:?}"
        );
    }
}

#[test]
fn size_limit_applies_before_parsing() {
    let mode = ExtractionMode {
        cloudflare_access: true,
        max_token_bytes: 10,
    };
    let ok = "a".repeat(10);
    let big = "a".repeat(11);
    assert!(extract_credential(&auth(&format!("Bearer {ok}")), &mode).is_ok());
    assert_eq!(
        extract_credential(&auth(&format!("Bearer {big}")), &mode),
        Err(CredentialError::TooLarge {
            source: CredentialSource::AuthorizationHeader
        })
    );
    // Garbage that is far too long is TooLarge, not Malformed: no parsing happened.
    let huge = format!("Basic {}", "!".repeat(100));
    assert_eq!(
        extract_credential(&auth(&huge), &mode),
        Err(CredentialError::TooLarge {
            source: CredentialSource::AuthorizationHeader
        })
    );
    let header = RequestCredentials {
        access_assertion: Some(&big),
        ..RequestCredentials::default()
    };
    assert_eq!(
        extract_credential(&header, &mode),
        Err(CredentialError::TooLarge {
            source: CredentialSource::AccessHeader
        })
    );
    let cookie = format!("CF_Authorization={big}");
    let cookie_req = RequestCredentials {
        cookie: Some(&cookie),
        ..RequestCredentials::default()
    };
    assert_eq!(
        extract_credential(&cookie_req, &mode),
        Err(CredentialError::TooLarge {
            source: CredentialSource::AccessCookie
        })
    );
}

#[test]
fn access_sources_are_ignored_without_access_mode() {
    let req = RequestCredentials {
        authorization: None,
        access_assertion: Some("not a token!"),
        cookie: Some("CF_Authorization=also bad"),
    };
    assert_eq!(extract_credential(&req, &bearer_only()), Ok(None));
}

#[test]
fn access_header_then_cookie() {
    let req = RequestCredentials {
        access_assertion: Some(JWT),
        ..RequestCredentials::default()
    };
    let cred = extract_credential(&req, &access()).unwrap().unwrap();
    assert_eq!(cred.source(), CredentialSource::AccessHeader);
    assert_eq!(cred.token(), JWT);

    let cookie = format!("theme=dark; CF_Authorization={JWT};other=1");
    let req = RequestCredentials {
        cookie: Some(&cookie),
        ..RequestCredentials::default()
    };
    let cred = extract_credential(&req, &access()).unwrap().unwrap();
    assert_eq!(cred.source(), CredentialSource::AccessCookie);
    assert_eq!(cred.token(), JWT);
}

#[test]
fn cookie_parsing_rules() {
    let cases: [(String, Result<Option<&str>, CredentialError>); 9] = [
        (format!("CF_Authorization={JWT}"), Ok(Some(JWT))),
        (format!("  CF_Authorization = {JWT} ;x=y"), Ok(Some(JWT))),
        (format!("a=b;CF_Authorization=\"{JWT}\""), Ok(Some(JWT))),
        // Cookie names are case-sensitive.
        (format!("cf_authorization={JWT}"), Ok(None)),
        ("flag; a=b".to_owned(), Ok(None)),
        (
            format!("CF_Authorization={JWT}; CF_Authorization={JWT}"),
            Ok(Some(JWT)),
        ),
        (
            format!("CF_Authorization={JWT}; CF_Authorization={OTHER}"),
            Err(CredentialError::DuplicateAccessCookie),
        ),
        (
            "CF_Authorization=".to_owned(),
            Err(malformed(CredentialSource::AccessCookie)),
        ),
        (
            "CF_Authorization=a b".to_owned(),
            Err(malformed(CredentialSource::AccessCookie)),
        ),
    ];
    for (cookie, expected) in cases {
        let req = RequestCredentials {
            cookie: Some(&cookie),
            ..RequestCredentials::default()
        };
        let got = extract_credential(&req, &access());
        let got = got.map(|c| c.map(|c| c.token().to_owned()));
        let expected = expected.map(|o| o.map(str::to_owned));
        assert_eq!(got, expected, "{cookie:?}");
    }
}

#[test]
fn malformed_access_header_is_an_error() {
    for value in ["", "a b", "Bearer x", "tok\n"] {
        let req = RequestCredentials {
            access_assertion: Some(value),
            ..RequestCredentials::default()
        };
        assert_eq!(
            extract_credential(&req, &access()),
            Err(malformed(CredentialSource::AccessHeader)),
            "{value:?}"
        );
    }
}

#[test]
fn agreeing_sources_are_fine_and_disagreeing_ones_are_not() {
    let bearer = format!("Bearer {JWT}");
    let cookie_same = format!("CF_Authorization={JWT}");
    let cookie_other = format!("CF_Authorization={OTHER}");

    let all_same = RequestCredentials {
        authorization: Some(&bearer),
        access_assertion: Some(JWT),
        cookie: Some(&cookie_same),
    };
    let cred = extract_credential(&all_same, &access()).unwrap().unwrap();
    // The first source in reading order is reported.
    assert_eq!(cred.source(), CredentialSource::AuthorizationHeader);

    let header_differs = RequestCredentials {
        authorization: Some(&bearer),
        access_assertion: Some(OTHER),
        cookie: None,
    };
    assert_eq!(
        extract_credential(&header_differs, &access()),
        Err(CredentialError::Conflicting)
    );

    let cookie_differs = RequestCredentials {
        authorization: None,
        access_assertion: Some(JWT),
        cookie: Some(&cookie_other),
    };
    assert_eq!(
        extract_credential(&cookie_differs, &access()),
        Err(CredentialError::Conflicting)
    );
}

#[test]
fn debug_does_not_print_the_token() {
    let cred = extract_credential(&auth(&format!("Bearer {JWT}")), &bearer_only())
        .unwrap()
        .unwrap();
    let debug = format!("{cred:?}");
    assert!(!debug.contains("eyJ"), "{debug}");
    assert!(debug.contains("AuthorizationHeader"));
    assert!(debug.contains(&JWT.len().to_string()));
}

#[test]
fn error_codes_are_stable_and_messages_say_what_to_do() {
    let errors = [
        (
            CredentialError::TooLarge {
                source: CredentialSource::AccessCookie,
            },
            "credential_too_large",
        ),
        (
            malformed(CredentialSource::AuthorizationHeader),
            "credential_malformed",
        ),
        (
            CredentialError::UnsupportedScheme,
            "unsupported_auth_scheme",
        ),
        (CredentialError::Conflicting, "conflicting_credentials"),
        (
            CredentialError::DuplicateAccessCookie,
            "duplicate_access_cookie",
        ),
    ];
    for (err, code) in errors {
        assert_eq!(err.code(), code);
        assert!(err.to_string().len() > 30, "{err}");
    }
}
