//! A JWK Set (RFC 7517 §5): the usable keys, plus a report of refused ones.

use serde_json::Value;

use crate::error::{Error, JwksProblem};
use crate::json::{parse_object, JsonError};
use crate::jwk::Jwk;

/// A non-empty set of validated public keys.
#[derive(Debug, Clone)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// The result of [`JwkSet::parse`]: the usable keys and the refused ones.
#[derive(Debug, Clone)]
pub struct ParsedJwkSet {
    /// The keys that passed validation, in document order.
    pub set: JwkSet,
    /// The keys that did not, with why (for logs; the set works without them).
    pub rejected: Vec<RejectedJwk>,
}

/// A key of the document that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedJwk {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// The key's `kid` when it had a string one.
    pub kid: Option<String>,
    /// Why it was refused.
    pub error: Error,
}

impl JwkSet {
    /// Parses a JWK Set document. Invalid keys are reported in `rejected` and
    /// left out; a document that is not a `{"keys": [...]}` object, or that has
    /// no usable key at all, is an error.
    pub fn parse(json: &[u8]) -> Result<ParsedJwkSet, Error> {
        let map = match parse_object(json) {
            Ok(Some(map)) => map,
            Ok(None) => return Err(Error::jwks(JwksProblem::NotObject)),
            Err(JsonError::DuplicateMember) => {
                return Err(Error::jwks(JwksProblem::DuplicateMember))
            }
            Err(JsonError::Syntax) => return Err(Error::jwks(JwksProblem::NotJson)),
        };
        let Some(Value::Array(items)) = map.get("keys") else {
            return Err(Error::jwks(JwksProblem::NoKeysArray));
        };
        let mut keys = Vec::with_capacity(items.len());
        let mut rejected = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match Jwk::from_value(item) {
                Ok(key) => keys.push(key),
                Err(error) => rejected.push(RejectedJwk {
                    index,
                    kid: item.get("kid").and_then(Value::as_str).map(str::to_owned),
                    error,
                }),
            }
        }
        if keys.is_empty() {
            return Err(Error::jwks(JwksProblem::NoUsableKey));
        }
        Ok(ParsedJwkSet {
            set: JwkSet { keys },
            rejected,
        })
    }

    /// A set from keys already validated; an empty list is an error.
    pub fn from_keys(keys: Vec<Jwk>) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::jwks(JwksProblem::NoUsableKey));
        }
        Ok(JwkSet { keys })
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Whether any key has exactly this `kid` (e.g. to decide on a refetch
    /// when a token names an unknown key).
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid() == Some(kid))
    }
}
