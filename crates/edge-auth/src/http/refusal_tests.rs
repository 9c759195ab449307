use super::*;
use crate::{CredentialSource, Resource};

/// A challenge with `realm` and no `resource_metadata` (a URL without an origin).
fn plain(realm: &str) -> Challenge<'_> {
    Challenge::new(realm, None, "")
}

fn common(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("cache-control", "no-store".to_owned()),
        ("x-request-id", id.to_owned()),
    ]
}

fn with(
    mut headers: Vec<(&'static str, String)>,
    extra: (&'static str, &str),
) -> Vec<(&'static str, String)> {
    headers.push((extra.0, extra.1.to_owned()));
    headers
}

#[test]
fn invalid_token() {
    let r = error_response(
        &Rejection::InvalidToken {
            description: "token expired",
        },
        &[],
        &plain("edge-auth"),
        "abc-123",
    );
    assert_eq!(
        r,
        ErrorResponse {
            status: 401,
            headers: with(
                common("abc-123"),
                (
                    "www-authenticate",
                    r#"Bearer realm="edge-auth", error="invalid_token", error_description="token expired""#
                )
            ),
            body: r#"{"error":"invalid_token","error_description":"token expired"}"#.to_owned(),
        }
    );
}

#[test]
fn unauthorized_has_no_error_code() {
    let r = error_response(&Rejection::Unauthorized, &[], &plain("edge-auth"), "r1");
    assert_eq!(
        r,
        ErrorResponse {
            status: 401,
            headers: with(
                common("r1"),
                ("www-authenticate", r#"Bearer realm="edge-auth""#)
            ),
            body: r#"{"error":"unauthorized"}"#.to_owned(),
        }
    );
}

#[test]
fn forbidden_with_and_without_scope() {
    let forbidden = error_response(
        &Rejection::Forbidden {
            insufficient_scope: false,
        },
        &["ignored".to_owned()],
        &plain("edge-auth"),
        "r2",
    );
    assert_eq!(
        forbidden,
        ErrorResponse {
            status: 403,
            headers: common("r2"),
            body: r#"{"error":"forbidden"}"#.to_owned(),
        }
    );
    let scope = error_response(
        &Rejection::Forbidden {
            insufficient_scope: true,
        },
        &[],
        &plain("edge-auth"),
        "r3",
    );
    assert_eq!(
        scope,
        ErrorResponse {
            status: 403,
            headers: with(
                common("r3"),
                (
                    "www-authenticate",
                    r#"Bearer realm="edge-auth", error="insufficient_scope""#
                )
            ),
            body: r#"{"error":"insufficient_scope"}"#.to_owned(),
        }
    );
}

fn challenge_of(r: &ErrorResponse) -> Option<&str> {
    r.headers
        .iter()
        .find(|(name, _)| *name == "www-authenticate")
        .map(|(_, value)| value.as_str())
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn insufficient_scope_names_the_scopes_space_delimited() {
    let forbidden = Rejection::Forbidden {
        insufficient_scope: true,
    };
    let r = error_response(
        &forbidden,
        &scopes(&["items:read", "items:write"]),
        &plain("edge-auth"),
        "r3",
    );
    assert_eq!(
        challenge_of(&r),
        Some(
            r#"Bearer realm="edge-auth", error="insufficient_scope", scope="items:read items:write""#
        )
    );
    // Names that are no RFC 6749 scope-token (space, `"`, `\`, control, non-ASCII) could only
    // be misread in a space-delimited list: left out; with none left, no `scope` at all.
    let r = error_response(
        &forbidden,
        &scopes(&[
            "a b",
            "q\"uote",
            "back\\slash",
            "tab\t",
            "caf\u{e9}",
            "ok",
            "",
        ]),
        &plain("edge-auth"),
        "r3",
    );
    assert_eq!(
        challenge_of(&r),
        Some(r#"Bearer realm="edge-auth", error="insufficient_scope", scope="ok""#)
    );
    let r = error_response(&forbidden, &scopes(&["a b"]), &plain("edge-auth"), "r3");
    assert_eq!(
        challenge_of(&r),
        Some(r#"Bearer realm="edge-auth", error="insufficient_scope""#)
    );
}

#[test]
fn every_challenge_names_the_resource_metadata() {
    let resource = Resource::parse("RESOURCE", "https://api.example.com/mcp").unwrap();
    let configured = Challenge::new("edge-auth", Some(&resource), "https://other.example/x");
    let on_origin = Challenge::new("", None, "https://api.example.com:8443/a/b?c#d");
    let forbidden = Rejection::Forbidden {
        insufficient_scope: true,
    };
    let expired = Rejection::InvalidToken {
        description: "token expired",
    };
    let premium = scopes(&["premium"]);
    for (rejection, challenge, expected) in [
        (
            &Rejection::Unauthorized,
            &configured,
            r#"Bearer realm="edge-auth", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp""#,
        ),
        (
            &Rejection::Unauthorized,
            &on_origin,
            r#"Bearer realm="edge-auth", resource_metadata="https://api.example.com:8443/.well-known/oauth-protected-resource""#,
        ),
        (
            &expired,
            &configured,
            r#"Bearer realm="edge-auth", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="token expired""#,
        ),
        (
            &forbidden,
            &on_origin,
            r#"Bearer realm="edge-auth", resource_metadata="https://api.example.com:8443/.well-known/oauth-protected-resource", error="insufficient_scope", scope="premium""#,
        ),
    ] {
        let r = error_response(rejection, &premium, challenge, "r");
        assert_eq!(challenge_of(&r), Some(expected), "{rejection:?}");
    }
    // Refusals that are no bearer challenge say nothing about the metadata.
    for rejection in [
        Rejection::Forbidden {
            insufficient_scope: false,
        },
        Rejection::BadRequest,
        Rejection::NotFound,
        Rejection::Misconfigured,
    ] {
        let r = error_response(&rejection, &premium, &configured, "r");
        assert_eq!(challenge_of(&r), None, "{rejection:?}");
    }
}

#[test]
fn a_request_origin_is_quoted_string_safe_in_the_challenge() {
    // The runtime serializes URLs, but the challenge must not trust that.
    let hostile = Challenge::new("edge-auth", None, "https://a\"b\\c\r\n\u{e9}/x");
    let r = error_response(&Rejection::Unauthorized, &[], &hostile, "r");
    assert_eq!(
        challenge_of(&r),
        Some(
            r#"Bearer realm="edge-auth", resource_metadata="https://a\"b\\c???/.well-known/oauth-protected-resource""#
        )
    );
}

#[test]
fn not_found_is_404_with_no_challenge() {
    let r = error_response(&Rejection::NotFound, &[], &plain("edge-auth"), "r8");
    assert_eq!(
        r,
        ErrorResponse {
            status: 404,
            headers: common("r8"),
            body: r#"{"error":"not_found"}"#.to_owned(),
        }
    );
    assert_eq!(Rejection::NotFound.outcome(), Outcome::NotFound);
}

#[test]
fn bad_request_jwks_unavailable_and_misconfigured() {
    assert_eq!(
        error_response(&Rejection::BadRequest, &[], &plain("edge-auth"), "r4"),
        ErrorResponse {
            status: 400,
            headers: common("r4"),
            body: r#"{"error":"bad_request"}"#.to_owned(),
        }
    );
    assert_eq!(
        error_response(
            &Rejection::JwksUnavailable {
                retry_after_seconds: 30
            },
            &[],
            &plain("edge-auth"),
            "r5"
        ),
        ErrorResponse {
            status: 503,
            headers: with(common("r5"), ("retry-after", "30")),
            body: r#"{"error":"jwks_unavailable"}"#.to_owned(),
        }
    );
    assert_eq!(
        error_response(&Rejection::Misconfigured, &[], &plain("edge-auth"), "r6"),
        ErrorResponse {
            status: 500,
            headers: common("r6"),
            body: r#"{"error":"server_misconfigured"}"#.to_owned(),
        }
    );
}

#[test]
fn realm_and_description_are_quoted_string_safe() {
    let r = error_response(
        &Rejection::InvalidToken {
            description: "bad \"kid\" \\ here",
        },
        &[],
        &plain("my \"realm\"\r\n\\é"),
        "r7",
    );
    let challenge = &r.headers[3].1;
    assert_eq!(
        challenge,
        r#"Bearer realm="my \"realm\"??\\?", error="invalid_token", error_description="bad \"kid\" \\ here""#
    );
    // The body is JSON-escaped instead.
    assert_eq!(
        r.body,
        r#"{"error":"invalid_token","error_description":"bad \"kid\" \\ here"}"#
    );
}

#[test]
fn request_id_header_is_printable() {
    let r = error_response(&Rejection::BadRequest, &[], &plain("edge-auth"), "a\r\nb c");
    assert_eq!(r.headers[2], ("x-request-id", "a??b?c".to_owned()));
}

#[test]
fn credential_errors_map_to_rfc6750_responses() {
    assert_eq!(
        Rejection::from(&CredentialError::UnsupportedScheme),
        Rejection::Unauthorized
    );
    assert_eq!(
        Rejection::from(&CredentialError::Malformed {
            source: CredentialSource::AuthorizationHeader
        }),
        Rejection::InvalidToken {
            description: "malformed token"
        }
    );
    // The issue: two credentials that disagree or an oversized token are a 401 at once.
    for (e, description) in [
        (CredentialError::Conflicting, "conflicting credentials"),
        (
            CredentialError::DuplicateAccessCookie,
            "conflicting credentials",
        ),
        (
            CredentialError::TooLarge {
                source: CredentialSource::AccessHeader,
            },
            "token too large",
        ),
    ] {
        assert_eq!(
            Rejection::from(&e),
            Rejection::InvalidToken { description },
            "{e:?}"
        );
        assert_eq!(Rejection::from(&e).status(), 401);
    }
}

#[test]
fn context_errors_never_map_to_success_or_anonymous_pass() {
    assert_eq!(
        Rejection::from(&ContextError::Expired),
        Rejection::InvalidToken {
            description: "token expired"
        }
    );
    for e in [
        ContextError::TooLarge,
        ContextError::Malformed,
        ContextError::UnsupportedVersion,
        ContextError::BadSignature,
        ContextError::InvalidPayload,
        ContextError::Stale,
        ContextError::FromFuture,
        ContextError::Mismatch,
    ] {
        // The caller learns only "no identity"; the log line's reason code says which.
        assert_eq!(Rejection::from(&e), Rejection::Unauthorized, "{e:?}");
    }
}

#[test]
fn status_and_outcome_agree_with_the_response() {
    let all = [
        (
            Rejection::InvalidToken { description: "x" },
            Outcome::InvalidToken,
        ),
        (Rejection::Unauthorized, Outcome::Unauthenticated),
        (
            Rejection::Forbidden {
                insufficient_scope: true,
            },
            Outcome::Forbidden,
        ),
        (Rejection::BadRequest, Outcome::BadRequest),
        (Rejection::MethodNeverForwarded, Outcome::BadRequest),
        (
            Rejection::JwksUnavailable {
                retry_after_seconds: 1,
            },
            Outcome::JwksUnavailable,
        ),
        (Rejection::Misconfigured, Outcome::Misconfigured),
    ];
    for (r, outcome) in all {
        assert_eq!(r.outcome(), outcome);
        assert_eq!(r.status(), error_response(&r, &[], &plain("x"), "y").status);
    }
}

#[test]
fn a_method_never_forwarded_is_405_bad_request_without_allow() {
    let trace = rule_table::Method::parse("trace").unwrap_err();
    let rejection = Rejection::from(&trace);
    assert_eq!(rejection, Rejection::MethodNeverForwarded);
    assert_eq!(
        error_response(&rejection, &[], &plain("edge-auth"), "r7"),
        ErrorResponse {
            status: 405,
            headers: common("r7"),
            body: r#"{"error":"bad_request"}"#.to_owned(),
        }
    );
    let invalid = rule_table::Method::parse("GE T").unwrap_err();
    assert_eq!(Rejection::from(&invalid), Rejection::BadRequest);
}

#[test]
fn every_refused_path_is_400() {
    for raw in ["/a%2fb", "a", "/a;b", "/%c0%ae"] {
        let e = rule_table::normalize_path(raw).unwrap_err();
        assert_eq!(Rejection::from(&e), Rejection::BadRequest, "{raw}");
    }
    let e = rule_table::PathError::AsciiLookalike;
    assert_eq!(Rejection::from(&e).status(), 400);
}

#[test]
fn token_errors_are_invalid_token_with_a_class_only_description() {
    use jose_jwt::Error as E;
    for (e, description) in [
        (E::Expired, "token expired"),
        (E::NotYetValid, "token not yet valid"),
        (
            E::SignatureVerificationFailed,
            "signature verification failed",
        ),
        (E::AlgNotAllowed, "algorithm not allowed"),
        (E::NoMatchingKey, "no matching key"),
        (E::MultipleMatchingKeys, "ambiguous key"),
        (E::TokenTooLarge, "token too large"),
        (
            E::ClaimValidationFailed {
                claim: jose_jwt::ClaimName::Aud,
                reason: jose_jwt::ClaimProblem::UnexpectedAudience,
            },
            "claim validation failed",
        ),
        (
            E::NotSupported {
                what: jose_jwt::Unsupported::CriticalExtensions,
            },
            "unsupported token",
        ),
        (
            E::JwsInvalid {
                reason: jose_jwt::JwsProblem::PartCount,
            },
            "malformed token",
        ),
        (
            E::JwtInvalid {
                reason: jose_jwt::JwtProblem::NotJson,
            },
            "malformed token",
        ),
        (
            E::JwkInvalid {
                reason: jose_jwt::JwkProblem::NotObject,
            },
            "malformed token",
        ),
        (
            E::JwksInvalid {
                reason: jose_jwt::JwksProblem::NoUsableKey,
            },
            "malformed token",
        ),
        (
            E::InvalidOptions {
                reason: jose_jwt::OptionsProblem::NoIssuer,
            },
            "malformed token",
        ),
        (
            E::VerifierFailed {
                reason: jose_jwt::VerifierProblem::KeyImportRefused,
            },
            "malformed token",
        ),
    ] {
        let rejection = Rejection::from(&e);
        assert_eq!(rejection, Rejection::InvalidToken { description }, "{e:?}");
        assert_eq!(rejection.status(), 401);
    }
}

#[test]
fn an_unusable_shared_secret_is_the_servers_fault() {
    for reason in jose_jwt::SecretProblem::ALL {
        let rejection = Rejection::from(&jose_jwt::Error::SecretInvalid { reason: *reason });
        assert_eq!(rejection, Rejection::Misconfigured, "{reason:?}");
        assert_eq!(rejection.status(), 500);
    }
}

#[test]
fn unreachable_upstream_is_502_bad_gateway() {
    let r = error_response(
        &Rejection::UpstreamUnavailable,
        &[],
        &plain("edge-auth"),
        "r9",
    );
    assert_eq!(r.status, 502);
    assert_eq!(r.body, r#"{"error":"bad_gateway"}"#);
}

#[test]
fn init_json_carries_status_and_every_header() {
    let answer = error_response(
        &Rejection::Unauthorized,
        &[],
        &plain("edge \"auth\""),
        "r-1",
    );
    let init: serde_json::Value = serde_json::from_str(&answer.init_json()).expect("JSON");
    assert_eq!(init["status"], 401);
    let headers = init["headers"].as_object().expect("headers object");
    assert_eq!(headers.len(), answer.headers.len());
    for (name, value) in &answer.headers {
        assert_eq!(headers[*name], value.as_str(), "{name}");
    }
    assert_eq!(
        headers["www-authenticate"],
        "Bearer realm=\"edge \\\"auth\\\"\""
    );
}
