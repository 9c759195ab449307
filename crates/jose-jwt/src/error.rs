//! The crate's single error type, and the typed detail of its variants.
//!
//! Every message is short, fixed text (plus names the caller chose, such as a
//! required claim name), so it is safe to return to a client as an OAuth
//! `error_description`: it never contains the token, a claim value taken from
//! the token, or key material. The detail enums ([`JwsProblem`], ...) carry no
//! data at all; [`ClaimName`] is a registered name or one the caller configured.

use std::fmt;

/// Why a token, key, key set or option was refused.
///
/// Variants mirror the error codes of the JavaScript `jose` library; see
/// [`Error::code`]. The enum is exhaustive on purpose: a new variant must be
/// handled wherever errors are mapped, not fall into a catch-all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The token is larger than the configured maximum; nothing was decoded.
    TokenTooLarge,
    /// The compact JWS is malformed (parts, base64url, header JSON, `crit`, `b64`,
    /// signature shape).
    JwsInvalid {
        /// What was wrong.
        reason: JwsProblem,
    },
    /// The JWT payload is malformed (not a JSON object, duplicate members).
    JwtInvalid {
        /// What was wrong.
        reason: JwtProblem,
    },
    /// The token's `alg` is not in the allow-list (or is `none`/`HS*`, which can
    /// never be allowed).
    AlgNotAllowed,
    /// Something the token or key uses is not implemented (unknown `kty`, `crv`
    /// or algorithm name, `crit`, `b64`).
    NotSupported {
        /// What was not supported.
        what: Unsupported,
    },
    /// No key in the set fits the token (kty/crv from `alg`, `kid`, `alg`, `use`,
    /// `key_ops`).
    NoMatchingKey,
    /// More than one key in the set fits the token and it carries no `kid` that
    /// tells them apart.
    MultipleMatchingKeys,
    /// The signature does not verify with the selected key.
    SignatureVerificationFailed,
    /// `exp` is in the past (beyond the allowed clock skew).
    Expired,
    /// `nbf` is in the future (beyond the allowed clock skew).
    NotYetValid,
    /// A claim check failed (a registered claim of the wrong type, `iss`, `aud`,
    /// `typ`, `iat`, max age, required claims).
    ClaimValidationFailed {
        /// The claim or header parameter that failed (a registered name or one
        /// the caller configured, never a value from the token).
        claim: ClaimName,
        /// What was wrong.
        reason: ClaimProblem,
    },
    /// A single JWK is invalid or unusable for verification.
    JwkInvalid {
        /// What was wrong.
        reason: JwkProblem,
    },
    /// A JWK Set document is invalid or has no usable key.
    JwksInvalid {
        /// What was wrong.
        reason: JwksProblem,
    },
    /// The verification options are invalid (empty issuer/audience/algorithm list).
    InvalidOptions {
        /// What was wrong.
        reason: OptionsProblem,
    },
    /// A signature backend failed for a reason other than a bad signature (for
    /// example a WebCrypto key import that threw).
    VerifierFailed {
        /// What failed.
        reason: VerifierProblem,
    },
    /// A shared secret for `HS*` is unusable (not base64url, too short for
    /// HMAC or for the token's algorithm).
    SecretInvalid {
        /// What was wrong.
        reason: SecretProblem,
    },
}

impl Error {
    /// A stable, machine-readable code (the `jose` code where one exists).
    ///
    /// `NotYetValid` uses `ERR_JWT_CLAIM_VALIDATION_FAILED` exactly like `jose`
    /// does for `nbf`; match on the variant to tell it apart.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TokenTooLarge => "ERR_JWT_TOO_LARGE",
            Error::JwsInvalid { .. } => "ERR_JWS_INVALID",
            Error::JwtInvalid { .. } => "ERR_JWT_INVALID",
            Error::AlgNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Error::NotSupported { .. } => "ERR_JOSE_NOT_SUPPORTED",
            Error::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Error::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Error::SignatureVerificationFailed => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Error::Expired => "ERR_JWT_EXPIRED",
            Error::NotYetValid | Error::ClaimValidationFailed { .. } => {
                "ERR_JWT_CLAIM_VALIDATION_FAILED"
            }
            Error::JwkInvalid { .. } => "ERR_JWK_INVALID",
            Error::JwksInvalid { .. } => "ERR_JWKS_INVALID",
            Error::InvalidOptions { .. } => "ERR_INVALID_OPTIONS",
            Error::VerifierFailed { .. } => "ERR_JOSE_GENERIC",
            Error::SecretInvalid { .. } => "ERR_SECRET_INVALID",
        }
    }

    pub(crate) fn jws(reason: JwsProblem) -> Self {
        Error::JwsInvalid { reason }
    }

    pub(crate) fn jwt(reason: JwtProblem) -> Self {
        Error::JwtInvalid { reason }
    }

    pub(crate) fn jwk(reason: JwkProblem) -> Self {
        Error::JwkInvalid { reason }
    }

    pub(crate) fn jwks(reason: JwksProblem) -> Self {
        Error::JwksInvalid { reason }
    }

    pub(crate) fn unsupported(what: Unsupported) -> Self {
        Error::NotSupported { what }
    }

    pub(crate) fn claim(claim: ClaimName, reason: ClaimProblem) -> Self {
        Error::ClaimValidationFailed { claim, reason }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TokenTooLarge => f.write_str("token too large"),
            Error::JwsInvalid { reason } => write!(f, "malformed token: {reason}"),
            Error::JwtInvalid { reason } => write!(f, "malformed token claims: {reason}"),
            Error::AlgNotAllowed => f.write_str("token signing algorithm not allowed"),
            Error::NotSupported { what } => write!(f, "not supported: {what}"),
            Error::NoMatchingKey => f.write_str("no key matches the token (check kid and alg)"),
            Error::MultipleMatchingKeys => {
                f.write_str("several keys match the token; it needs a kid to choose one")
            }
            Error::SignatureVerificationFailed => f.write_str("signature verification failed"),
            Error::Expired => f.write_str("token expired"),
            Error::NotYetValid => f.write_str("token not yet valid"),
            Error::ClaimValidationFailed { claim, reason } => {
                write!(f, "claim \"{claim}\" invalid: {reason}")
            }
            Error::JwkInvalid { reason } => write!(f, "invalid key: {reason}"),
            Error::JwksInvalid { reason } => write!(f, "invalid key set: {reason}"),
            Error::InvalidOptions { reason } => write!(f, "invalid verification options: {reason}"),
            Error::VerifierFailed { reason } => {
                write!(f, "signature check could not run: {reason}")
            }
            Error::SecretInvalid { reason } => write!(f, "invalid shared secret: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// Defines a data-less detail enum whose variants each have a stable
/// snake_case code and a fixed message (its `Display`), side by side.
macro_rules! problem_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => ($code:literal, $message:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// A stable snake_case code for logs and metrics.
            pub fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// The fixed message (also the `Display` text); safe to show a client.
            pub fn message(self) -> &'static str {
                match self {
                    $( $name::$variant => $message, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.message())
            }
        }
    };
}

problem_enum! {
    /// Why a compact JWS was malformed ([`Error::JwsInvalid`]).
    pub enum JwsProblem {
        /// Not exactly three `.`-separated parts.
        PartCount => ("part_count", "a compact JWS has exactly three parts"),
        /// A part has padding, whitespace, a foreign character or stray trailing bits.
        NotBase64url => ("not_base64url", "a token part is not canonical base64url"),
        /// The header is JSON, but not an object.
        HeaderNotObject => ("header_not_object", "header is not a JSON object"),
        /// The header has the same member name twice (at any depth).
        HeaderDuplicateMember => ("header_duplicate_member", "header repeats a member name"),
        /// The header is not JSON at all.
        HeaderNotJson => ("header_not_json", "header is not valid JSON"),
        /// `alg` is present but not a string.
        AlgNotString => ("alg_not_string", "header alg is not a string"),
        /// `alg` is absent.
        AlgMissing => ("alg_missing", "header alg is missing"),
        /// `crit` is present but empty or not an array of strings.
        CritMalformed => ("crit_malformed", "header crit is not a non-empty array of names"),
        /// `kid`, `typ` or `cty` is present but not a string.
        HeaderParameterNotString => (
            "header_parameter_not_string",
            "a header parameter (kid, typ or cty) is not a string"
        ),
        /// The signature's length or value range cannot be one of `alg`'s.
        SignatureShape => ("signature_shape", "signature has the wrong shape for its algorithm"),
    }
}

problem_enum! {
    /// Why a JWT payload was malformed ([`Error::JwtInvalid`]).
    pub enum JwtProblem {
        /// The payload is JSON, but not an object.
        NotObject => ("payload_not_object", "payload is not a JSON object"),
        /// The payload has the same member name twice (at any depth).
        DuplicateMember => ("payload_duplicate_member", "payload repeats a member name"),
        /// The payload is not JSON (a nested token, a number out of range, ...).
        NotJson => ("payload_not_json", "payload is not valid JSON"),
    }
}

problem_enum! {
    /// What a token or key used that is not implemented ([`Error::NotSupported`]).
    pub enum Unsupported {
        /// A well-formed `crit` header: no extension is understood.
        CriticalExtensions => ("crit", "critical header extensions (crit)"),
        /// `b64: false` (RFC 7797).
        UnencodedPayload => ("b64", "unencoded payloads (b64)"),
        /// An algorithm name this crate does not know.
        SignatureAlgorithm => ("alg", "signature algorithm"),
        /// A JWK `kty` other than `EC`, `OKP` or `RSA`.
        KeyType => ("kty", "key type (kty)"),
        /// An EC curve other than P-256 or P-384.
        EcCurve => ("ec_crv", "EC curve"),
        /// An OKP curve other than Ed25519.
        OkpCurve => ("okp_crv", "OKP curve"),
    }
}

problem_enum! {
    /// Why a single JWK was refused ([`Error::JwkInvalid`]).
    pub enum JwkProblem {
        /// The JWK is JSON, but not an object.
        NotObject => ("not_object", "a JWK must be a JSON object"),
        /// The JWK has the same member name twice.
        DuplicateMember => ("duplicate_member", "the JWK repeats a member name"),
        /// The JWK is not JSON at all.
        NotJson => ("not_json", "the JWK is not valid JSON"),
        /// A private or symmetric member is present.
        PrivateMembers => (
            "private_members",
            "private or symmetric key members (d, p, q, dp, dq, qi, oth or k) are present; \
             publish only the public key"
        ),
        /// `kty` is present but not a string.
        KtyNotString => ("kty_not_string", "kty must be a string"),
        /// `kty` is absent.
        KtyMissing => ("kty_missing", "kty is missing"),
        /// `kid` is present but not a string.
        KidNotString => ("kid_not_string", "kid must be a string"),
        /// `alg` names no algorithm this crate verifies.
        AlgUnsupported => ("alg_unsupported", "alg is not a supported signature algorithm"),
        /// `alg` is for another key type or curve.
        AlgMismatch => ("alg_mismatch", "alg does not fit the key type or curve"),
        /// `alg` is present but not a string.
        AlgNotString => ("alg_not_string", "alg must be a string"),
        /// `use` is present and not `sig`.
        UseNotSig => ("use_not_sig", "use is not \"sig\"; the key is not for signatures"),
        /// `key_ops` is not an array of strings.
        KeyOpsNotStrings => ("key_ops_not_strings", "key_ops must be an array of strings"),
        /// `key_ops` names an operation twice.
        KeyOpsDuplicate => ("key_ops_duplicate", "key_ops repeats a value"),
        /// `key_ops` lacks `verify`.
        KeyOpsWithoutVerify => ("key_ops_without_verify", "key_ops does not contain \"verify\""),
        /// `x`, `y`, `n` or `e` is not strict base64url.
        MemberNotBase64url => ("member_not_base64url", "a key member is not canonical base64url"),
        /// `x`, `y`, `n` or `e` is not a string.
        MemberNotString => ("member_not_string", "a key member is not a string"),
        /// `x`, `y`, `n` or `e` is absent.
        MemberMissing => ("member_missing", "a required key member (x, y, n or e) is missing"),
        /// `crv` is present but not a string.
        CrvNotString => ("crv_not_string", "crv must be a string"),
        /// `crv` is absent.
        CrvMissing => ("crv_missing", "crv is missing"),
        /// An EC coordinate is not exactly the curve's field length.
        EcCoordinateLength => (
            "ec_coordinate_length",
            "EC coordinates have the wrong length for the curve"
        ),
        /// The EC point is not on the curve (or is the identity).
        EcNotOnCurve => ("ec_not_on_curve", "the EC point is not on the curve"),
        /// An Ed25519 key carries a `y` member.
        Ed25519WithY => ("ed25519_with_y", "an Ed25519 key has no y member"),
        /// An Ed25519 `x` is not 32 bytes.
        Ed25519Length => ("ed25519_length", "an Ed25519 key must be 32 bytes"),
        /// An Ed25519 `x` does not decode to a point.
        Ed25519NotAPoint => ("ed25519_not_a_point", "the Ed25519 key is not a valid point"),
        /// An Ed25519 `x` is a non-canonical encoding of its point.
        Ed25519NotCanonical => (
            "ed25519_not_canonical",
            "the Ed25519 key is not canonically encoded"
        ),
        /// An Ed25519 key of small order.
        Ed25519SmallOrder => (
            "ed25519_small_order",
            "the Ed25519 key has small order (weak key)"
        ),
        /// The RSA modulus has fewer than 2048 bits.
        RsaModulusTooShort => (
            "rsa_modulus_too_short",
            "the RSA modulus is shorter than 2048 bits"
        ),
        /// The RSA modulus has more than 8192 bits.
        RsaModulusTooLong => ("rsa_modulus_too_long", "the RSA modulus is longer than 8192 bits"),
        /// The RSA modulus is even.
        RsaModulusEven => ("rsa_modulus_even", "the RSA modulus is even"),
        /// The RSA exponent is even or outside `65537..=2^33-1`.
        RsaExponent => (
            "rsa_exponent",
            "the RSA exponent must be odd and between 65537 and 2^33-1"
        ),
        /// The RSA backend refused the key for another reason.
        RsaInvalid => ("rsa_invalid", "the RSA key is invalid"),
    }
}

problem_enum! {
    /// Why a JWK Set document was refused ([`Error::JwksInvalid`]).
    pub enum JwksProblem {
        /// The document is JSON, but not an object.
        NotObject => ("not_object", "the document is not a JSON object"),
        /// The document has the same member name twice (at any depth).
        DuplicateMember => ("duplicate_member", "the document repeats a member name"),
        /// The document is not JSON at all.
        NotJson => ("not_json", "the document is not valid JSON"),
        /// `keys` is absent or not an array.
        NoKeysArray => ("no_keys_array", "the document has no \"keys\" array"),
        /// Every key was refused (or there were none): the set cannot verify anything.
        NoUsableKey => ("no_usable_key", "the set has no usable signature verification key"),
    }
}

problem_enum! {
    /// Why verification options were refused ([`Error::InvalidOptions`]).
    pub enum OptionsProblem {
        /// The issuer list is empty or holds an empty string.
        NoIssuer => ("no_issuer", "at least one issuer is required"),
        /// The audience list is empty or holds an empty string.
        NoAudience => ("no_audience", "at least one audience is required"),
        /// The algorithm list is empty.
        NoAlgorithm => ("no_algorithm", "at least one algorithm is required"),
    }
}

problem_enum! {
    /// Why a signature backend could not run ([`Error::VerifierFailed`]).
    pub enum VerifierProblem {
        /// The runtime has no `crypto.subtle`.
        SubtleUnavailable => ("subtle_unavailable", "crypto.subtle is not available"),
        /// The public JWK could not be turned into the backend's key description.
        KeyNotTransferable => (
            "key_not_transferable",
            "the key could not be handed to WebCrypto"
        ),
        /// The backend refused to import the (already validated) key.
        KeyImportRefused => ("key_import_refused", "WebCrypto refused to import the key"),
    }
}

problem_enum! {
    /// Why a shared secret was refused ([`Error::SecretInvalid`]).
    pub enum SecretProblem {
        /// Not strict base64url (padding, `+` or `/`, whitespace, stray bits).
        NotBase64url => (
            "not_base64url",
            "the secret is not canonical base64url (URL-safe alphabet, no padding)"
        ),
        /// Fewer than 32 bytes: too short for any HMAC algorithm (RFC 7518 §3.2).
        TooShort => ("too_short", "the secret is shorter than 32 bytes"),
        /// Shorter than the token algorithm's hash output (RFC 7518 §3.2: HS384
        /// needs 48 bytes, HS512 64).
        ShorterThanHash => (
            "shorter_than_hash",
            "the secret is shorter than the algorithm's hash output"
        ),
    }
}

problem_enum! {
    /// What was wrong with a claim ([`Error::ClaimValidationFailed`]).
    pub enum ClaimProblem {
        /// The claim (or header parameter) is absent.
        Missing => ("missing", "missing"),
        /// Not a string or an array of only strings (`aud`, a roles claim).
        NotStringOrStringArray => (
            "not_string_or_string_array",
            "must be a string or an array of strings"
        ),
        /// Not a string (`iss`, `sub`).
        NotString => ("not_string", "must be a string"),
        /// Not a number (`exp`, `nbf`, `iat`).
        NotNumber => ("not_number", "must be a number"),
        /// A number outside `i64` seconds.
        NumberOutOfRange => ("number_out_of_range", "must be a number within range"),
        /// `iss` is none of the configured issuers.
        UnexpectedIssuer => ("unexpected_issuer", "unexpected issuer"),
        /// `aud` holds none of the configured audiences.
        UnexpectedAudience => ("unexpected_audience", "unexpected audience"),
        /// `typ` is not the required type.
        UnexpectedType => ("unexpected_type", "unexpected token type"),
        /// `iat` is later than now plus the clock skew.
        IssuedInFuture => ("issued_in_future", "issued in the future"),
        /// `iat` is absent although a maximum age is configured.
        MissingForMaxAge => (
            "missing_for_max_age",
            "missing (a maximum token age is configured)"
        ),
        /// `iat` is older than the configured maximum age.
        TooOld => ("too_old", "token is older than the maximum age"),
    }
}

/// The claim (or header parameter) an [`Error::ClaimValidationFailed`] is about.
///
/// Never text from the token: either a registered name this crate checks, or
/// a name the caller configured (a required claim, a roles claim name or
/// path). [`ClaimName::configured`] maps a configured name that is a
/// registered one to its variant, so the same claim always compares equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClaimName {
    /// `iss`.
    Iss,
    /// `sub`.
    Sub,
    /// `aud`.
    Aud,
    /// `exp`.
    Exp,
    /// `nbf`.
    Nbf,
    /// `iat`.
    Iat,
    /// The `typ` header parameter.
    Typ,
    /// A name or dotted path the caller configured (not one of the above).
    Configured(Box<str>),
}

impl ClaimName {
    /// The registered names, in declaration order.
    pub const REGISTERED: [ClaimName; 7] = [
        ClaimName::Iss,
        ClaimName::Sub,
        ClaimName::Aud,
        ClaimName::Exp,
        ClaimName::Nbf,
        ClaimName::Iat,
        ClaimName::Typ,
    ];

    /// A name the caller configured; a registered name becomes its variant.
    pub fn configured(name: &str) -> Self {
        ClaimName::REGISTERED
            .into_iter()
            .find(|registered| registered.as_str() == name)
            .unwrap_or_else(|| ClaimName::Configured(name.into()))
    }

    /// The name as written in a token.
    pub fn as_str(&self) -> &str {
        match self {
            ClaimName::Iss => "iss",
            ClaimName::Sub => "sub",
            ClaimName::Aud => "aud",
            ClaimName::Exp => "exp",
            ClaimName::Nbf => "nbf",
            ClaimName::Iat => "iat",
            ClaimName::Typ => "typ",
            ClaimName::Configured(name) => name,
        }
    }
}

impl fmt::Display for ClaimName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
