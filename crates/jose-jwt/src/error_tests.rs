use std::collections::HashSet;

use super::*;

/// Every variant of every detail enum with its message, as the crate's
/// `&'static str` reasons read before they became enums: clients and logs see
/// exactly this text, so a change here is a visible change.
fn pinned_messages() -> Vec<(Error, &'static str)> {
    use ClaimProblem as C;
    use JwkProblem as K;
    use JwsProblem as S;
    let mut all = Vec::new();
    for (p, m) in [
        (S::PartCount, "a compact JWS has exactly three parts"),
        (S::NotBase64url, "a token part is not canonical base64url"),
        (S::HeaderNotObject, "header is not a JSON object"),
        (S::HeaderDuplicateMember, "header repeats a member name"),
        (S::HeaderNotJson, "header is not valid JSON"),
        (S::AlgNotString, "header alg is not a string"),
        (S::AlgMissing, "header alg is missing"),
        (
            S::CritMalformed,
            "header crit is not a non-empty array of names",
        ),
        (
            S::HeaderParameterNotString,
            "a header parameter (kid, typ or cty) is not a string",
        ),
        (
            S::SignatureShape,
            "signature has the wrong shape for its algorithm",
        ),
    ] {
        all.push((Error::jws(p), m));
    }
    for (p, m) in [
        (JwtProblem::NotObject, "payload is not a JSON object"),
        (JwtProblem::DuplicateMember, "payload repeats a member name"),
        (JwtProblem::NotJson, "payload is not valid JSON"),
    ] {
        all.push((Error::jwt(p), m));
    }
    for (p, m) in [
        (
            Unsupported::CriticalExtensions,
            "critical header extensions (crit)",
        ),
        (Unsupported::UnencodedPayload, "unencoded payloads (b64)"),
        (Unsupported::SignatureAlgorithm, "signature algorithm"),
        (Unsupported::KeyType, "key type (kty)"),
        (Unsupported::EcCurve, "EC curve"),
        (Unsupported::OkpCurve, "OKP curve"),
    ] {
        all.push((Error::unsupported(p), m));
    }
    for (p, m) in [
        (K::NotObject, "a JWK must be a JSON object"),
        (K::DuplicateMember, "the JWK repeats a member name"),
        (K::NotJson, "the JWK is not valid JSON"),
        (
            K::PrivateMembers,
            "private or symmetric key members (d, p, q, dp, dq, qi, oth or k) are present; \
             publish only the public key",
        ),
        (K::KtyNotString, "kty must be a string"),
        (K::KtyMissing, "kty is missing"),
        (K::KidNotString, "kid must be a string"),
        (
            K::AlgUnsupported,
            "alg is not a supported signature algorithm",
        ),
        (K::AlgMismatch, "alg does not fit the key type or curve"),
        (K::AlgNotString, "alg must be a string"),
        (
            K::UseNotSig,
            "use is not \"sig\"; the key is not for signatures",
        ),
        (K::KeyOpsNotStrings, "key_ops must be an array of strings"),
        (K::KeyOpsDuplicate, "key_ops repeats a value"),
        (
            K::KeyOpsWithoutVerify,
            "key_ops does not contain \"verify\"",
        ),
        (
            K::MemberNotBase64url,
            "a key member is not canonical base64url",
        ),
        (K::MemberNotString, "a key member is not a string"),
        (
            K::MemberMissing,
            "a required key member (x, y, n or e) is missing",
        ),
        (K::CrvNotString, "crv must be a string"),
        (K::CrvMissing, "crv is missing"),
        (
            K::EcCoordinateLength,
            "EC coordinates have the wrong length for the curve",
        ),
        (K::EcNotOnCurve, "the EC point is not on the curve"),
        (K::Ed25519WithY, "an Ed25519 key has no y member"),
        (K::Ed25519Length, "an Ed25519 key must be 32 bytes"),
        (K::Ed25519NotAPoint, "the Ed25519 key is not a valid point"),
        (
            K::Ed25519NotCanonical,
            "the Ed25519 key is not canonically encoded",
        ),
        (
            K::Ed25519SmallOrder,
            "the Ed25519 key has small order (weak key)",
        ),
        (
            K::RsaModulusTooShort,
            "the RSA modulus is shorter than 2048 bits",
        ),
        (
            K::RsaModulusTooLong,
            "the RSA modulus is longer than 8192 bits",
        ),
        (K::RsaModulusEven, "the RSA modulus is even"),
        (
            K::RsaExponent,
            "the RSA exponent must be odd and between 65537 and 2^33-1",
        ),
        (K::RsaInvalid, "the RSA key is invalid"),
    ] {
        all.push((Error::jwk(p), m));
    }
    for (p, m) in [
        (JwksProblem::NotObject, "the document is not a JSON object"),
        (
            JwksProblem::DuplicateMember,
            "the document repeats a member name",
        ),
        (JwksProblem::NotJson, "the document is not valid JSON"),
        (
            JwksProblem::NoKeysArray,
            "the document has no \"keys\" array",
        ),
        (
            JwksProblem::NoUsableKey,
            "the set has no usable signature verification key",
        ),
    ] {
        all.push((Error::jwks(p), m));
    }
    for (p, m) in [
        (OptionsProblem::NoIssuer, "at least one issuer is required"),
        (
            OptionsProblem::NoAudience,
            "at least one audience is required",
        ),
        (
            OptionsProblem::NoAlgorithm,
            "at least one algorithm is required",
        ),
    ] {
        all.push((Error::InvalidOptions { reason: p }, m));
    }
    for (p, m) in [
        (
            VerifierProblem::SubtleUnavailable,
            "crypto.subtle is not available",
        ),
        (
            VerifierProblem::KeyNotTransferable,
            "the key could not be handed to WebCrypto",
        ),
        (
            VerifierProblem::KeyImportRefused,
            "WebCrypto refused to import the key",
        ),
    ] {
        all.push((Error::VerifierFailed { reason: p }, m));
    }
    for (p, m) in [
        (
            SecretProblem::NotBase64url,
            "the secret is not canonical base64url (URL-safe alphabet, no padding)",
        ),
        (
            SecretProblem::TooShort,
            "the secret is shorter than 32 bytes",
        ),
        (
            SecretProblem::ShorterThanHash,
            "the secret is shorter than the algorithm's hash output",
        ),
    ] {
        all.push((Error::SecretInvalid { reason: p }, m));
    }
    for (p, m) in [
        (C::Missing, "missing"),
        (
            C::NotStringOrStringArray,
            "must be a string or an array of strings",
        ),
        (C::NotString, "must be a string"),
        (C::NotNumber, "must be a number"),
        (C::NumberOutOfRange, "must be a number within range"),
        (C::UnexpectedIssuer, "unexpected issuer"),
        (C::UnexpectedAudience, "unexpected audience"),
        (C::UnexpectedType, "unexpected token type"),
        (C::IssuedInFuture, "issued in the future"),
        (
            C::MissingForMaxAge,
            "missing (a maximum token age is configured)",
        ),
        (C::TooOld, "token is older than the maximum age"),
    ] {
        all.push((Error::claim(ClaimName::Iat, p), m));
    }
    all
}

fn detail_message(e: &Error) -> Option<&'static str> {
    match e {
        Error::JwsInvalid { reason } => Some(reason.message()),
        Error::JwtInvalid { reason } => Some(reason.message()),
        Error::NotSupported { what } => Some(what.message()),
        Error::ClaimValidationFailed { reason, .. } => Some(reason.message()),
        Error::JwkInvalid { reason } => Some(reason.message()),
        Error::JwksInvalid { reason } => Some(reason.message()),
        Error::InvalidOptions { reason } => Some(reason.message()),
        Error::VerifierFailed { reason } => Some(reason.message()),
        Error::SecretInvalid { reason } => Some(reason.message()),
        Error::TokenTooLarge
        | Error::AlgNotAllowed
        | Error::NoMatchingKey
        | Error::MultipleMatchingKeys
        | Error::SignatureVerificationFailed
        | Error::Expired
        | Error::NotYetValid => None,
    }
}

#[test]
fn every_detail_keeps_its_message() {
    let pinned = pinned_messages();
    let variants = JwsProblem::ALL.len()
        + JwtProblem::ALL.len()
        + Unsupported::ALL.len()
        + JwkProblem::ALL.len()
        + JwksProblem::ALL.len()
        + OptionsProblem::ALL.len()
        + VerifierProblem::ALL.len()
        + SecretProblem::ALL.len()
        + ClaimProblem::ALL.len();
    assert_eq!(
        pinned.len(),
        variants,
        "a detail variant has no pinned message"
    );
    for (error, message) in &pinned {
        assert_eq!(detail_message(error), Some(*message), "{error:?}");
    }
}

#[test]
fn display_wraps_the_detail_as_before() {
    let cases = [
        (
            Error::jws(JwsProblem::PartCount),
            "malformed token: a compact JWS has exactly three parts",
        ),
        (
            Error::jwt(JwtProblem::NotJson),
            "malformed token claims: payload is not valid JSON",
        ),
        (
            Error::unsupported(Unsupported::EcCurve),
            "not supported: EC curve",
        ),
        (
            Error::claim(ClaimName::Aud, ClaimProblem::UnexpectedAudience),
            "claim \"aud\" invalid: unexpected audience",
        ),
        (
            Error::claim(
                ClaimName::configured("realm_access.roles"),
                ClaimProblem::NotStringOrStringArray,
            ),
            "claim \"realm_access.roles\" invalid: must be a string or an array of strings",
        ),
        (
            Error::jwk(JwkProblem::RsaModulusEven),
            "invalid key: the RSA modulus is even",
        ),
        (
            Error::jwks(JwksProblem::NoUsableKey),
            "invalid key set: the set has no usable signature verification key",
        ),
        (
            Error::InvalidOptions {
                reason: OptionsProblem::NoAudience,
            },
            "invalid verification options: at least one audience is required",
        ),
        (
            Error::VerifierFailed {
                reason: VerifierProblem::SubtleUnavailable,
            },
            "signature check could not run: crypto.subtle is not available",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn detail_codes_are_unique_snake_case_per_enum() {
    fn check(name: &str, codes: Vec<&'static str>) {
        let unique: HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "{name}: duplicate code");
        for code in codes {
            assert!(
                !code.is_empty()
                    && !code.starts_with('_')
                    && !code.ends_with('_')
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}: {code:?} is not snake_case"
            );
        }
    }
    macro_rules! codes {
        ($t:ty) => {
            <$t>::ALL.iter().map(|p| p.code()).collect::<Vec<_>>()
        };
    }
    check("JwsProblem", codes!(JwsProblem));
    check("JwtProblem", codes!(JwtProblem));
    check("Unsupported", codes!(Unsupported));
    check("JwkProblem", codes!(JwkProblem));
    check("JwksProblem", codes!(JwksProblem));
    check("OptionsProblem", codes!(OptionsProblem));
    check("VerifierProblem", codes!(VerifierProblem));
    check("SecretProblem", codes!(SecretProblem));
    check("ClaimProblem", codes!(ClaimProblem));
}

#[test]
fn jose_codes_do_not_depend_on_the_detail() {
    for (error, _) in pinned_messages() {
        let expected = match &error {
            Error::JwsInvalid { .. } => "ERR_JWS_INVALID",
            Error::JwtInvalid { .. } => "ERR_JWT_INVALID",
            Error::NotSupported { .. } => "ERR_JOSE_NOT_SUPPORTED",
            Error::ClaimValidationFailed { .. } => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            Error::JwkInvalid { .. } => "ERR_JWK_INVALID",
            Error::JwksInvalid { .. } => "ERR_JWKS_INVALID",
            Error::InvalidOptions { .. } => "ERR_INVALID_OPTIONS",
            Error::VerifierFailed { .. } => "ERR_JOSE_GENERIC",
            Error::SecretInvalid { .. } => "ERR_SECRET_INVALID",
            other => panic!("not a detailed variant: {other:?}"),
        };
        assert_eq!(error.code(), expected, "{error:?}");
    }
}

#[test]
fn configured_claim_names_normalize_to_registered_ones() {
    for registered in ClaimName::REGISTERED {
        assert_eq!(ClaimName::configured(registered.as_str()), registered);
        assert!(!matches!(registered, ClaimName::Configured(_)));
    }
    let names: HashSet<_> = ClaimName::REGISTERED
        .iter()
        .map(ClaimName::as_str)
        .collect();
    assert_eq!(names.len(), ClaimName::REGISTERED.len());
    for other in [
        "tenant",
        "realm_access.roles",
        "https://example.com/roles",
        "ISS",
        "",
    ] {
        let name = ClaimName::configured(other);
        assert_eq!(name, ClaimName::Configured(other.into()));
        assert_eq!(name.to_string(), other);
    }
}
