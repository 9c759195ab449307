//! The token's `act` claim (RFC 8693 §4.1): who is acting on the subject's behalf, as a chain
//! of nested `act` objects. It travels in the signed context to the authz Worker, which nests it
//! inside its own `act` in the assertion it gives the origin, so the delegation chain survives
//! the gateway.
//!
//! Bounded, because it rides in a header: at most [`MAX_ACT_DEPTH`] nested actors and
//! [`MAX_ACT_BYTES`] of JSON. A token whose `act` is malformed or over a bound is refused
//! (never forwarded with the chain dropped: an origin would then read a delegated call as the
//! subject's own).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most nested actors an `act` claim may hold (the outermost counts as one).
pub const MAX_ACT_DEPTH: usize = 4;
/// Largest `act` claim accepted, as compact JSON.
pub const MAX_ACT_BYTES: usize = 1024;

/// A validated `act` claim: a JSON object whose `sub` (when present) is a string and whose
/// nested `act` (when present) is again such an object, at most [`MAX_ACT_DEPTH`] deep and
/// [`MAX_ACT_BYTES`] long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Actor(Map<String, Value>);

impl Actor {
    /// The `act` claim `value`, validated; the error says what is wrong, as fixed text.
    pub fn from_claim(value: &Value) -> Result<Self, &'static str> {
        let mut level = value;
        for depth in 1.. {
            let Value::Object(map) = level else {
                return Err("is not a JSON object (RFC 8693 §4.1), at some nesting level");
            };
            if map.get("sub").is_some_and(|sub| !sub.is_string()) {
                return Err("has an actor whose `sub` is not a string");
            }
            match map.get("act") {
                None => break,
                Some(inner) if depth < MAX_ACT_DEPTH => level = inner,
                Some(_) => return Err("nests more than 4 actors"),
            }
        }
        if value.to_string().len() > MAX_ACT_BYTES {
            return Err("is longer than 1024 bytes of JSON");
        }
        match value {
            Value::Object(map) => Ok(Actor(map.clone())),
            _ => Err("is not a JSON object (RFC 8693 §4.1), at some nesting level"),
        }
    }

    /// The claim's members.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl TryFrom<Value> for Actor {
    type Error = &'static str;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Actor::from_claim(&value)
    }
}

impl From<Actor> for Value {
    fn from(actor: Actor) -> Value {
        Value::Object(actor.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        let mut value = json!({"sub": format!("actor-{depth}")});
        for level in (1..depth).rev() {
            value = json!({"sub": format!("actor-{level}"), "act": value});
        }
        value
    }

    #[test]
    fn a_chain_up_to_the_depth_bound_is_kept_as_it_is() {
        for depth in 1..=MAX_ACT_DEPTH {
            let value = nested(depth);
            let actor = Actor::from_claim(&value).unwrap();
            assert_eq!(Value::from(actor), value, "depth {depth}");
        }
        assert!(Actor::from_claim(&json!({"sub": "svc", "iss": "https://idp"})).is_ok());
        assert!(Actor::from_claim(&json!({})).is_ok());
    }

    #[test]
    fn deeper_longer_or_malformed_chains_are_refused() {
        assert_eq!(
            Actor::from_claim(&nested(MAX_ACT_DEPTH + 1)),
            Err("nests more than 4 actors")
        );
        let long = json!({"sub": "x".repeat(MAX_ACT_BYTES)});
        assert!(Actor::from_claim(&long).is_err());
        let just_fits = json!({"sub": "x".repeat(MAX_ACT_BYTES - r#"{"sub":""}"#.len())});
        assert!(Actor::from_claim(&just_fits).is_ok());
        for bad in [
            json!("svc"),
            json!(["svc"]),
            json!(null),
            json!({"sub": 7}),
            json!({"sub": "a", "act": "b"}),
            json!({"sub": "a", "act": {"sub": "b", "act": [1]}}),
            json!({"sub": "a", "act": {"sub": {"x": 1}}}),
        ] {
            assert!(Actor::from_claim(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deserializing_validates_too() {
        let deep = nested(MAX_ACT_DEPTH + 1).to_string();
        assert!(serde_json::from_str::<Actor>(&deep).is_err());
        let fine = nested(2).to_string();
        assert_eq!(
            serde_json::to_string(&serde_json::from_str::<Actor>(&fine).unwrap()).unwrap(),
            fine
        );
    }
}
