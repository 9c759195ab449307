//! The JOSE header of a compact JWS (RFC 7515 §4).

use serde_json::Value;

use crate::algorithm::Algorithm;
use crate::error::{Error, JwsProblem, Unsupported};
use crate::json::{parse_object, JsonError};
use crate::options::VerificationOptions;

/// The header parameters this crate uses. `jku`, `x5u`, `jwk` and `x5c` are
/// ignored on purpose: keys come only from the caller's [`JwkSet`](crate::JwkSet)
/// (or [`SharedSecret`](crate::SharedSecret)).
///
/// `A` is the kind of algorithm the header was parsed for: a signature
/// [`Algorithm`] (the default), a [`MacAlgorithm`](crate::MacAlgorithm), or a
/// [`TokenAlgorithm`](crate::TokenAlgorithm) before the branch is chosen. A
/// header's `alg` is always one the caller allowed for that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<A = Algorithm> {
    alg: A,
    kid: Option<String>,
    typ: Option<String>,
    cty: Option<String>,
}

/// The algorithm kinds a header can be parsed for (sealed: only this crate's).
pub trait HeaderAlgorithm: Copy + sealed::Sealed {
    /// The algorithm named `name`, if it is of this kind and allowed by `opts`.
    #[doc(hidden)]
    fn allowed(name: &str, opts: &VerificationOptions) -> Option<Self>;
    /// Whether `signature` has the exact shape (length, range) for this algorithm.
    #[doc(hidden)]
    fn check_shape(self, signature: &[u8]) -> Result<(), Error>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Algorithm {}
    impl Sealed for crate::MacAlgorithm {}
    impl Sealed for crate::TokenAlgorithm {}
}

impl HeaderAlgorithm for Algorithm {
    fn allowed(name: &str, opts: &VerificationOptions) -> Option<Self> {
        name.parse::<Algorithm>()
            .ok()
            .filter(|alg| opts.algorithms().contains(alg))
    }
    fn check_shape(self, signature: &[u8]) -> Result<(), Error> {
        crate::verifier::check_signature_shape(self, signature)
    }
}

impl<A> Header<A> {
    /// The same header for another view of its algorithm.
    pub(crate) fn with_alg<B>(self, alg: B) -> Header<B> {
        Header {
            alg,
            kid: self.kid,
            typ: self.typ,
            cty: self.cty,
        }
    }
}

impl<A: HeaderAlgorithm> Header<A> {
    /// Parses and checks the decoded header, in this order: JSON object without
    /// duplicate members; `alg` a string naming an allowed algorithm of kind
    /// `A`; `crit` absent; `b64` absent or `true`; `kid`/`typ`/`cty` strings
    /// when present.
    pub(crate) fn parse(bytes: &[u8], opts: &VerificationOptions) -> Result<Self, Error> {
        let map = match parse_object(bytes) {
            Ok(Some(map)) => map,
            Ok(None) => return Err(Error::jws(JwsProblem::HeaderNotObject)),
            Err(JsonError::DuplicateMember) => {
                return Err(Error::jws(JwsProblem::HeaderDuplicateMember))
            }
            Err(JsonError::Syntax) => return Err(Error::jws(JwsProblem::HeaderNotJson)),
        };
        let alg_name = match map.get("alg") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(Error::jws(JwsProblem::AlgNotString)),
            None => return Err(Error::jws(JwsProblem::AlgMissing)),
        };
        // We understand no critical extension, so any `crit` (even an empty
        // one, which RFC 7515 §4.1.11 forbids) means we must refuse.
        match map.get("crit") {
            None => {}
            Some(Value::Array(names))
                if !names.is_empty() && names.iter().all(Value::is_string) =>
            {
                return Err(Error::unsupported(Unsupported::CriticalExtensions))
            }
            Some(_) => return Err(Error::jws(JwsProblem::CritMalformed)),
        }
        // RFC 7797 unencoded payloads are not supported.
        match map.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(_) => return Err(Error::unsupported(Unsupported::UnencodedPayload)),
        }
        let Some(alg) = A::allowed(alg_name, opts) else {
            return Err(Error::AlgNotAllowed);
        };
        Ok(Header {
            alg,
            kid: optional_string(&map, "kid")?,
            typ: optional_string(&map, "typ")?,
            cty: optional_string(&map, "cty")?,
        })
    }

    /// The algorithm (always one of the allowed ones).
    pub fn alg(&self) -> A {
        self.alg
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The media type of the token, if any, as written.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The content type, if any. `cty: JWT` (nested tokens) is never unwrapped.
    pub fn cty(&self) -> Option<&str> {
        self.cty.as_deref()
    }
}

fn optional_string(
    map: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, Error> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::jws(JwsProblem::HeaderParameterNotString)),
    }
}
