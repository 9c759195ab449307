//! The happy path for every algorithm, and each claim rule at its boundary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{
    verify, Algorithm, ClaimName, ClaimProblem, Error, JwsProblem, JwtProblem, RustCryptoVerifier,
    UnverifiedToken,
};
use serde_json::json;

fn claim_error(claim: ClaimName, reason: ClaimProblem) -> Error {
    Error::ClaimValidationFailed { claim, reason }
}

fn check(
    claims: &serde_json::Value,
    opts: &jose_jwt::VerificationOptions,
) -> Result<jose_jwt::VerifiedToken, Error> {
    verify(
        &token(Algorithm::Es256, claims),
        &standard_jwks(),
        opts,
        NOW,
    )
}

#[test]
fn every_algorithm_verifies_end_to_end() {
    let set = standard_jwks();
    for alg in Algorithm::ALL {
        let t = token(alg, &good_claims());
        let verified = verify(&t, &set, &options(), NOW).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified.header().alg(), alg);
        assert_eq!(verified.header().kid(), Some(kid_for(alg)));
        let c = verified.claims();
        assert_eq!(
            (c.iss(), c.sub(), c.exp()),
            (Some(ISSUER), Some("user-42"), NOW + 300)
        );
        assert_eq!(c.audiences(), [AUDIENCE]);
        assert_eq!(c.scopes(), ["orders:read", "orders:write"]);
        // Only this algorithm allowed: still fine; another one only: refused.
        let only = jose_jwt::VerificationOptions::new([ISSUER], [AUDIENCE], [alg]).unwrap();
        assert!(verify(&t, &set, &only, NOW).is_ok());
        let other = if alg == Algorithm::Es256 {
            Algorithm::EdDsa
        } else {
            Algorithm::Es256
        };
        let not = jose_jwt::VerificationOptions::new([ISSUER], [AUDIENCE], [other]).unwrap();
        assert_eq!(
            verify(&t, &set, &not, NOW).unwrap_err(),
            Error::AlgNotAllowed
        );
    }
}

#[test]
fn step_by_step_api_exposes_what_a_webcrypto_provider_needs() {
    let set = standard_jwks();
    let t = token(Algorithm::Rs256, &good_claims());
    let parsed = UnverifiedToken::parse(&t, &options()).unwrap();
    assert_eq!(
        parsed.signing_input(),
        t.rsplit_once('.').unwrap().0.as_bytes()
    );
    assert_eq!(parsed.signature().len(), 256);
    let (index, key) = parsed.select_key(&set).unwrap();
    assert_eq!(index, 3);
    let jwk = key.public_jwk_json();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["kid"], "rsa");
    assert!(jwk.get("d").is_none());
    let checked = block_on(parsed.check_signature_async(key, &RustCryptoVerifier)).unwrap();
    let verified = checked.validate_claims(&options(), NOW).unwrap();
    assert_eq!(verified.claims().sub(), Some("user-42"));
}

#[test]
fn several_matching_keys_without_kid_is_its_own_error() {
    let set = jwks(&[
        p256_jwk(&p256_key(), None),
        p256_jwk(&p256_other_key(), None),
    ]);
    let t = sign_raw(
        Algorithm::Es256,
        r#"{"alg":"ES256"}"#,
        good_claims().to_string().as_bytes(),
    );
    let err = verify(&t, &set, &options(), NOW).unwrap_err();
    assert_eq!(err, Error::MultipleMatchingKeys);
    assert_eq!(err.code(), "ERR_JWKS_MULTIPLE_MATCHING_KEYS");
    // With one key in the set, no kid is needed.
    let set = jwks(&[p256_jwk(&p256_key(), None), ed_jwk(&ed_key(), None)]);
    assert!(verify(&t, &set, &options(), NOW).is_ok());
}

#[test]
fn jwk_alg_must_equal_token_alg() {
    let mut rsa = rsa_jwk(&rsa_key(), Some("rsa"));
    rsa["alg"] = json!("PS256");
    let set = jwks(&[rsa]);
    assert!(verify(
        &token(Algorithm::Ps256, &good_claims()),
        &set,
        &options(),
        NOW
    )
    .is_ok());
    assert_eq!(
        verify(
            &token(Algorithm::Rs256, &good_claims()),
            &set,
            &options(),
            NOW
        )
        .unwrap_err(),
        Error::NoMatchingKey
    );
}

#[test]
fn exp_is_required_and_exclusive_with_skew() {
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check(&c, &options()).unwrap_err(),
        claim_error(ClaimName::Exp, ClaimProblem::Missing)
    );
    c["exp"] = json!(NOW);
    assert_eq!(check(&c, &options()).unwrap_err(), Error::Expired);
    c["exp"] = json!(NOW + 1);
    assert!(check(&c, &options()).is_ok());
    c["exp"] = json!(NOW - 59);
    assert!(check(&c, &options().with_clock_skew_seconds(60)).is_ok());
    c["exp"] = json!(NOW - 60);
    let err = check(&c, &options().with_clock_skew_seconds(60)).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        ("ERR_JWT_EXPIRED", "token expired")
    );
}

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let mut c = good_claims();
    c["nbf"] = json!(NOW + 1);
    assert_eq!(check(&c, &options()).unwrap_err(), Error::NotYetValid);
    c["nbf"] = json!(NOW + 60);
    assert!(check(&c, &options().with_clock_skew_seconds(60)).is_ok());
    c["nbf"] = json!(NOW + 61);
    assert_eq!(
        check(&c, &options().with_clock_skew_seconds(60)).unwrap_err(),
        Error::NotYetValid
    );
}

#[test]
fn issuer_must_match_exactly() {
    for (iss, problem) in [
        (
            json!("https://issuer.example"),
            ClaimProblem::UnexpectedIssuer,
        ),
        (
            json!("HTTPS://issuer.example/"),
            ClaimProblem::UnexpectedIssuer,
        ),
        (json!(["x"]), ClaimProblem::NotString),
    ] {
        let mut c = good_claims();
        c["iss"] = iss.clone();
        assert_eq!(
            check(&c, &options()).unwrap_err(),
            claim_error(ClaimName::Iss, problem),
            "{iss}"
        );
    }
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("iss");
    assert_eq!(
        check(&c, &options()).unwrap_err(),
        claim_error(ClaimName::Iss, ClaimProblem::Missing)
    );
    // One of several configured issuers is enough.
    let opts = jose_jwt::VerificationOptions::new(
        ["https://a.example/", ISSUER],
        [AUDIENCE],
        Algorithm::ALL,
    )
    .unwrap();
    assert!(check(&good_claims(), &opts).is_ok());
}

#[test]
fn audience_array_needs_one_expected_value() {
    let mut c = good_claims();
    c["aud"] = json!(["other", AUDIENCE]);
    assert!(check(&c, &options()).is_ok());
    c["aud"] = json!(["other"]);
    assert_eq!(
        check(&c, &options()).unwrap_err(),
        claim_error(ClaimName::Aud, ClaimProblem::UnexpectedAudience)
    );
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        check(&c, &options()).unwrap_err(),
        claim_error(ClaimName::Aud, ClaimProblem::Missing)
    );
}

#[test]
fn typ_is_compared_case_insensitively_with_optional_application_prefix() {
    let opts = options().with_required_typ("at+jwt");
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let header = json!({"alg": "ES256", "typ": typ}).to_string();
        let t = sign_raw(
            Algorithm::Es256,
            &header,
            good_claims().to_string().as_bytes(),
        );
        assert!(verify(&t, &standard_jwks(), &opts, NOW).is_ok(), "{typ}");
    }
    for (header, problem) in [
        (
            json!({"alg": "ES256", "typ": "JWT"}),
            ClaimProblem::UnexpectedType,
        ),
        (json!({"alg": "ES256"}), ClaimProblem::Missing),
        (
            json!({"alg": "ES256", "typ": "application/jwt"}),
            ClaimProblem::UnexpectedType,
        ),
    ] {
        let t = sign_raw(
            Algorithm::Es256,
            &header.to_string(),
            good_claims().to_string().as_bytes(),
        );
        assert_eq!(
            verify(&t, &standard_jwks(), &opts, NOW).unwrap_err(),
            claim_error(ClaimName::Typ, problem),
            "{header}"
        );
    }
    // typ must be a string.
    let t = sign_raw(
        Algorithm::Es256,
        r#"{"alg":"ES256","typ":1}"#,
        good_claims().to_string().as_bytes(),
    );
    assert_eq!(
        verify(&t, &standard_jwks(), &options(), NOW).unwrap_err(),
        Error::JwsInvalid {
            reason: JwsProblem::HeaderParameterNotString
        }
    );
}

#[test]
fn max_age_counts_from_iat_and_requires_it() {
    let opts = options().with_max_age_seconds(600);
    let mut c = good_claims();
    c["iat"] = json!(NOW - 600);
    assert!(check(&c, &opts).is_ok());
    c["iat"] = json!(NOW - 601);
    assert_eq!(
        check(&c, &opts).unwrap_err(),
        claim_error(ClaimName::Iat, ClaimProblem::TooOld)
    );
    c.as_object_mut().unwrap().remove("iat");
    assert_eq!(
        check(&c, &opts).unwrap_err(),
        claim_error(ClaimName::Iat, ClaimProblem::MissingForMaxAge)
    );
}

#[test]
fn required_claims_accept_names_and_paths() {
    let mut c = good_claims();
    c["realm_access"] = json!({"roles": ["admin"]});
    c["https://example.com/roles"] = json!(["r"]);
    let opts =
        options().with_required_claims(["sub", "realm_access.roles", "https://example.com/roles"]);
    assert!(check(&c, &opts).is_ok());
    let opts = options().with_required_claims(["sub", "tenant"]);
    assert_eq!(
        check(&c, &opts).unwrap_err(),
        claim_error(
            ClaimName::Configured("tenant".into()),
            ClaimProblem::Missing
        )
    );
    // A configured registered name is reported as that claim.
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("sub");
    let opts = options().with_required_claims(["sub"]);
    assert_eq!(
        check(&c, &opts).unwrap_err(),
        claim_error(ClaimName::Sub, ClaimProblem::Missing)
    );
}

#[test]
fn malformed_compact_serializations_are_jws_invalid() {
    let good = token(Algorithm::Es256, &good_claims());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    use JwsProblem::*;
    for (bad, problem) in [
        (String::new(), PartCount),
        (format!("{h}.{p}"), PartCount),
        (format!("{h}.{p}.{s}."), PartCount),
        (format!("{h}.{p}.{s}.{s}"), PartCount),
        (format!("{h}=.{p}.{s}"), NotBase64url),
        (format!("{h}.{p}.{s}=="), NotBase64url),
        (format!("{h}.{p} .{s}"), NotBase64url),
        (format!("{h}.{p}.{s}\n"), NotBase64url),
        (format!("{}.{p}.{s}", h.replace('e', "+")), NotBase64url),
        (format!("{}.{p}.{s}", b64("[]")), HeaderNotObject),
        (format!("{}.{p}.{s}", b64(r#"{"alg":256}"#)), AlgNotString),
        (format!("{}.{p}.{s}", b64(r#"{"kid":"es256"}"#)), AlgMissing),
        (
            format!("{}.{p}.{s}", b64("\u{feff}{\"alg\":\"ES256\"}")),
            HeaderNotJson,
        ),
    ] {
        let err = verify(&bad, &standard_jwks(), &options(), NOW).unwrap_err();
        assert_eq!(err, Error::JwsInvalid { reason: problem }, "{bad:?}");
    }
}

#[test]
fn payload_must_be_a_json_object() {
    for (body, problem) in [
        (&b"[]"[..], JwtProblem::NotObject),
        (b"null", JwtProblem::NotObject),
        (b"\"s\"", JwtProblem::NotObject),
        (b"", JwtProblem::NotJson),
        (b"{\"exp\":1} trailing", JwtProblem::NotJson),
    ] {
        let t = sign_raw(Algorithm::Es256, r#"{"alg":"ES256"}"#, body);
        assert_eq!(
            verify(&t, &standard_jwks(), &options(), NOW).unwrap_err(),
            Error::JwtInvalid { reason: problem },
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
