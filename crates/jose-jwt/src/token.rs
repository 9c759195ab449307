//! The verification pipeline as a typestate: [`UnverifiedToken`] →
//! [`SignatureChecked`] → [`VerifiedToken`]. Only this module can make the
//! later states, so claims can never be read before the signature passed.
//! [`UnverifiedToken::precheck_claims`] may check them earlier, but all it can
//! give is a refusal: the claims stay inside the token until it verifies.

use crate::b64;
use crate::claims::Claims;
use crate::error::{Error, JwsProblem};
use crate::header::{Header, HeaderAlgorithm};
use crate::jwk::Jwk;
use crate::jwk_set::JwkSet;
use crate::options::VerificationOptions;
use crate::verifier::{precheck, AsyncSignatureVerifier, SignatureVerifier};

/// A compact JWS whose structure, header and signature shape are valid, but
/// whose signature is not yet checked.
///
/// `A` is the kind of its `alg`: a signature [`Algorithm`](crate::Algorithm)
/// (the default; only this kind can [`select_key`](Self::select_key) from a
/// [`JwkSet`]) or a [`MacAlgorithm`](crate::MacAlgorithm) (only that kind can
/// be checked against a [`SharedSecret`](crate::SharedSecret)).
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'t, A = crate::Algorithm> {
    signing_input: &'t str,
    header: Header<A>,
    payload: Vec<u8>,
    signature: Vec<u8>,
    /// The claims [`precheck_claims`](Self::precheck_claims) read, kept so that
    /// they are parsed once.
    prechecked: Option<Claims>,
}

/// A token whose signature (or MAC) verified; its claims are not yet checked.
#[derive(Debug)]
pub struct SignatureChecked<'t, A = crate::Algorithm> {
    header: Header<A>,
    payload: Vec<u8>,
    prechecked: Option<Claims>,
    _token: std::marker::PhantomData<&'t str>,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedToken<A = crate::Algorithm> {
    header: Header<A>,
    claims: Claims,
}

impl<'t> UnverifiedToken<'t> {
    /// Checks, failing fast in this order: size (before any decoding); exactly
    /// three strict base64url parts; header (see [`Header`]: object, `alg`,
    /// `crit`, `b64`, allow-list); signature shape for the algorithm.
    ///
    /// Only signature algorithms parse here: an `HS*` token is
    /// [`Error::AlgNotAllowed`] whatever the options allow (see
    /// [`UnverifiedToken::parse_mac`] and [`UnverifiedToken::parse_any`]).
    pub fn parse(token: &'t str, opts: &VerificationOptions) -> Result<Self, Error> {
        Self::parse_as(token, opts)
    }
}

impl<'t, A: HeaderAlgorithm> UnverifiedToken<'t, A> {
    pub(crate) fn parse_as(token: &'t str, opts: &VerificationOptions) -> Result<Self, Error> {
        if token.len() > opts.max_token_size() {
            return Err(Error::TokenTooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::jws(JwsProblem::PartCount));
        };
        let not_b64 = || Error::jws(JwsProblem::NotBase64url);
        let header_bytes = b64::decode(h).ok_or_else(not_b64)?;
        let payload = b64::decode(p).ok_or_else(not_b64)?;
        let signature = b64::decode(s).ok_or_else(not_b64)?;
        let header = Header::<A>::parse(&header_bytes, opts)?;
        header.alg().check_shape(&signature)?;
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .ok_or_else(|| Error::jws(JwsProblem::PartCount))?;
        Ok(UnverifiedToken {
            signing_input,
            header,
            payload,
            signature,
            prechecked: None,
        })
    }

    /// The same token seen with another kind of algorithm.
    pub(crate) fn with_alg<B>(self, alg: B) -> UnverifiedToken<'t, B> {
        UnverifiedToken {
            signing_input: self.signing_input,
            header: self.header.with_alg(alg),
            payload: self.payload,
            signature: self.signature,
            prechecked: self.prechecked,
        }
    }

    /// The checked header.
    pub fn header(&self) -> &Header<A> {
        &self.header
    }

    /// Checks the claims as [`SignatureChecked::validate_claims`] will, before
    /// any key is looked up or any signature checked, so that a token the claims
    /// refuse anyway (expired, not yet valid, another issuer or audience, the
    /// wrong `typ`, a malformed payload) costs no key fetch and no signature
    /// work: the order of Envoy's `jwt_authn`, which checks time and audience
    /// first. Refusing on claims nobody has vouched for yet is safe; admitting
    /// is not, so only a refusal comes out, the same error the full pipeline
    /// gives for these claims, and `validate_claims` checks them again after
    /// the signature.
    pub fn precheck_claims(
        &mut self,
        opts: &VerificationOptions,
        now_unix_seconds: i64,
    ) -> Result<(), Error> {
        let claims = Claims::from_payload(&self.payload)?;
        crate::validate::validate(self.header.typ(), &claims, opts, now_unix_seconds)?;
        self.prechecked = Some(claims);
        Ok(())
    }

    /// The ASCII bytes the signature covers (`header.payload`).
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    pub(crate) fn into_checked(self) -> SignatureChecked<'t, A> {
        SignatureChecked {
            header: self.header,
            payload: self.payload,
            prechecked: self.prechecked,
            _token: std::marker::PhantomData,
        }
    }
}

impl<'t> UnverifiedToken<'t> {
    /// Picks the one key that may verify this token, like `jose`'s local JWKS:
    /// kty (and crv) from `alg`; then `kid` when the token has one (exact,
    /// opaque comparison); the key's `alg` must equal the token's when present
    /// (`use` and `key_ops` were checked when the set was parsed). Returns the
    /// index into [`JwkSet::keys`] too, for per-key caches.
    pub fn select_key<'k>(&self, set: &'k JwkSet) -> Result<(usize, &'k Jwk), Error> {
        let alg = self.header.alg();
        let kid = self.header.kid();
        let mut found = None;
        for (index, key) in set.keys().iter().enumerate() {
            if !key.fits(alg) || kid.is_some_and(|kid| key.kid() != Some(kid)) {
                continue;
            }
            if found.is_some() {
                return Err(Error::MultipleMatchingKeys);
            }
            found = Some((index, key));
        }
        found.ok_or(Error::NoMatchingKey)
    }

    /// Verifies the signature with `key` through `verifier`.
    pub fn check_signature(
        self,
        key: &Jwk,
        verifier: &impl SignatureVerifier,
    ) -> Result<SignatureChecked<'t>, Error> {
        let alg = self.header.alg();
        precheck(alg, key, &self.signature)?;
        verifier.verify(alg, key, self.signing_input(), &self.signature)?;
        Ok(self.into_checked())
    }

    /// Verifies the signature with `key` through an asynchronous `verifier`.
    pub async fn check_signature_async(
        self,
        key: &Jwk,
        verifier: &impl AsyncSignatureVerifier,
    ) -> Result<SignatureChecked<'t>, Error> {
        let alg = self.header.alg();
        precheck(alg, key, &self.signature)?;
        verifier
            .verify(alg, key, self.signing_input(), &self.signature)
            .await?;
        Ok(self.into_checked())
    }
}

impl<A: HeaderAlgorithm> SignatureChecked<'_, A> {
    /// The checked header.
    pub fn header(&self) -> &Header<A> {
        &self.header
    }

    /// Checks the claims (see [`crate::validate`]) at `now_unix_seconds`, also
    /// when [`UnverifiedToken::precheck_claims`] already did (with the same
    /// options and clock that changes nothing; with others, these decide).
    pub fn validate_claims(
        self,
        opts: &VerificationOptions,
        now_unix_seconds: i64,
    ) -> Result<VerifiedToken<A>, Error> {
        let claims = match self.prechecked {
            Some(claims) => claims,
            None => Claims::from_payload(&self.payload)?,
        };
        crate::validate::validate(self.header.typ(), &claims, opts, now_unix_seconds)?;
        Ok(VerifiedToken {
            header: self.header,
            claims,
        })
    }
}

impl<A: HeaderAlgorithm> VerifiedToken<A> {
    /// The header.
    pub fn header(&self) -> &Header<A> {
        &self.header
    }

    /// The validated claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The validated claims, by value.
    pub fn into_claims(self) -> Claims {
        self.claims
    }
}

/// Verifies a compact JWT in one call with [`RustCryptoVerifier`](crate::RustCryptoVerifier):
/// parse, select the key, check the signature, validate the claims.
pub fn verify(
    token: &str,
    keys: &JwkSet,
    opts: &VerificationOptions,
    now_unix_seconds: i64,
) -> Result<VerifiedToken, Error> {
    let unverified = UnverifiedToken::parse(token, opts)?;
    let (_, key) = unverified.select_key(keys)?;
    unverified
        .check_signature(key, &crate::RustCryptoVerifier)?
        .validate_claims(opts, now_unix_seconds)
}
