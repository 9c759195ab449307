//! `precheck_claims`: the claim checks run before any key or signature work. It may only
//! refuse, and must refuse exactly what the claim step after the signature refuses, with the
//! same error; a token it passes verifies to the same claims as without it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{
    verify, Algorithm, AnyToken, Error, MacAlgorithm, RustCryptoVerifier, UnverifiedToken,
    VerificationOptions,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// The full pipeline through the step API, with or without the precheck first.
fn pipeline(
    token: &str,
    opts: &VerificationOptions,
    now: i64,
    precheck: bool,
) -> Result<Value, Error> {
    let set = standard_jwks();
    let mut parsed = UnverifiedToken::parse(token, opts)?;
    if precheck {
        parsed.precheck_claims(opts, now)?;
    }
    let (_, key) = parsed.select_key(&set)?;
    let verified = parsed
        .check_signature(key, &RustCryptoVerifier)?
        .validate_claims(opts, now)?;
    let c = verified.claims();
    Ok(json!({"iss": c.iss(), "sub": c.sub(), "aud": c.audiences(), "exp": c.exp()}))
}

/// A token whose signature does not verify (another message's signature, the right shape).
fn badly_signed(claims: &Value) -> String {
    let good = token(Algorithm::Es256, claims);
    let other = token(Algorithm::Es256, &good_claims());
    let (input, _) = good.rsplit_once('.').unwrap();
    let (_, signature) = other.rsplit_once('.').unwrap();
    format!("{input}.{signature}")
}

/// Claim sets at and around every rule's boundary (as data: name, claims, options).
fn cases() -> Vec<(&'static str, Value, VerificationOptions)> {
    let with = |patch: Value| {
        let mut claims = good_claims();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let o = options;
    vec![
        ("good", good_claims(), o()),
        ("expired", with(json!({"exp": NOW - 1})), o()),
        ("exp is now", with(json!({"exp": NOW})), o()),
        (
            "exp within skew",
            with(json!({"exp": NOW - 30})),
            o().with_clock_skew_seconds(60),
        ),
        ("exp missing", with(json!({"exp": null})), o()),
        ("exp a string", with(json!({"exp": "soon"})), o()),
        ("nbf ahead", with(json!({"nbf": NOW + 120})), o()),
        ("iat ahead", with(json!({"iat": NOW + 120})), o()),
        (
            "other issuer",
            with(json!({"iss": "https://evil.example/"})),
            o(),
        ),
        ("issuer missing", with(json!({"iss": null})), o()),
        ("other audience", with(json!({"aud": "api://other"})), o()),
        ("audience missing", with(json!({"aud": null})), o()),
        ("audience list", with(json!({"aud": ["x", AUDIENCE]})), o()),
        (
            "typ required, other typ",
            good_claims(),
            o().with_required_typ("JWT"),
        ),
        (
            "typ required, matches",
            good_claims(),
            o().with_required_typ("at+jwt"),
        ),
        (
            "too old",
            with(json!({"iat": NOW - 7200})),
            o().with_max_age_seconds(3600),
        ),
        (
            "claim required, missing",
            good_claims(),
            o().with_required_claims(["jti"]),
        ),
        ("payload not an object", json!(["iss", ISSUER]), o()),
    ]
}

#[test]
fn precheck_refuses_exactly_what_the_claim_step_refuses_with_the_same_error() {
    for (name, claims, opts) in cases() {
        let t = token(Algorithm::Es256, &claims);
        let without = pipeline(&t, &opts, NOW, false);
        let with = pipeline(&t, &opts, NOW, true);
        assert_eq!(with, without, "{name}");
        // The one-call `verify` (which does not precheck) agrees as well.
        assert_eq!(
            verify(&t, &standard_jwks(), &opts, NOW).map(|_| ()),
            without.clone().map(|_| ()),
            "{name}"
        );
        let mut parsed = UnverifiedToken::parse(&t, &opts).unwrap();
        assert_eq!(
            parsed.precheck_claims(&opts, NOW),
            without.map(|_| ()),
            "{name}: the precheck alone"
        );
    }
}

#[test]
fn claims_that_refuse_win_over_a_bad_signature_and_good_ones_do_not_hide_it() {
    // Expired and badly signed: refused on the claims, before any key or signature.
    let expired = badly_signed(&json!({"iss": ISSUER, "aud": AUDIENCE, "exp": NOW - 1}));
    assert_eq!(
        pipeline(&expired, &options(), NOW, true),
        Err(Error::Expired)
    );
    assert_eq!(
        pipeline(&expired, &options(), NOW, false),
        Err(Error::SignatureVerificationFailed)
    );
    // Good claims, bad signature: the precheck passes and the signature still refuses.
    let forged =
        badly_signed(&json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "admin", "exp": NOW + 300}));
    assert_eq!(
        pipeline(&forged, &options(), NOW, true),
        Err(Error::SignatureVerificationFailed)
    );
}

#[test]
fn the_claim_step_after_the_signature_still_decides() {
    // Prechecked at NOW, validated an hour later: the later check refuses.
    let t = token(Algorithm::Es256, &good_claims());
    let set = standard_jwks();
    let mut parsed = UnverifiedToken::parse(&t, &options()).unwrap();
    parsed.precheck_claims(&options(), NOW).unwrap();
    let (_, key) = parsed.select_key(&set).unwrap();
    let checked = parsed.check_signature(key, &RustCryptoVerifier).unwrap();
    assert_eq!(
        checked.validate_claims(&options(), NOW + 3600).unwrap_err(),
        Error::Expired
    );
}

#[test]
fn any_token_prechecks_signature_and_mac_tokens_alike() {
    let opts =
        VerificationOptions::with_mac([ISSUER], [AUDIENCE], Algorithm::ALL, [MacAlgorithm::Hs256])
            .expect("valid options");
    let expired = json!({"iss": ISSUER, "aud": AUDIENCE, "exp": NOW - 1});
    let signed = token(Algorithm::EdDsa, &expired);
    let mac = {
        let input = format!(
            "{}.{}",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(expired.to_string())
        );
        let tag = hmac_sha256(b"0123456789abcdef0123456789abcdef", input.as_bytes());
        format!("{input}.{}", b64(tag))
    };
    for t in [signed, mac] {
        let mut any = AnyToken::parse(&t, &opts).unwrap();
        assert_eq!(any.precheck_claims(&opts, NOW), Err(Error::Expired), "{t}");
        let mut fresh = AnyToken::parse(&t, &opts).unwrap();
        assert_eq!(fresh.precheck_claims(&opts, NOW - 100), Ok(()), "{t}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// For any times and any choice of issuer and audience, with or without the precheck the
    /// pipeline gives the same answer.
    #[test]
    fn the_precheck_never_changes_the_answer(
        exp in proptest::option::of(-400i64..400),
        nbf in proptest::option::of(-400i64..400),
        iat in proptest::option::of(-400i64..400),
        skew in 0u64..120,
        max_age in proptest::option::of(0u64..600),
        right_iss in any::<bool>(),
        right_aud in any::<bool>(),
        bad_signature in any::<bool>(),
    ) {
        let mut claims = json!({
            "iss": if right_iss { ISSUER } else { "https://other.example/" },
            "aud": if right_aud { AUDIENCE } else { "api://other" },
            "sub": "user-1",
        });
        for (name, offset) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
            if let Some(offset) = offset {
                claims[name] = json!(NOW + offset);
            }
        }
        let mut opts = options().with_clock_skew_seconds(skew);
        if let Some(max_age) = max_age {
            opts = opts.with_max_age_seconds(max_age);
        }
        let t = if bad_signature { badly_signed(&claims) } else { token(Algorithm::Es256, &claims) };
        let without = pipeline(&t, &opts, NOW, false);
        let with = pipeline(&t, &opts, NOW, true);
        if bad_signature {
            // Both refuse; the precheck may name the claim instead of the signature.
            prop_assert!(without.is_err() && with.is_err());
        } else {
            prop_assert_eq!(with, without);
        }
    }
}
