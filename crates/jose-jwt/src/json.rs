//! Strict JSON parsing: like `serde_json::from_slice::<Value>`, but an object
//! with a repeated member name is an error at every nesting level.
//!
//! `serde_json`'s `Map` silently keeps the last duplicate, so `{"alg":"RS256",
//! "alg":"none"}` would mean different things to different parsers (RFC 8725
//! §2.4, RFC 7515 §5.2 step 4). We refuse to guess.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why strict parsing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not JSON (syntax, lone surrogate, number out of range, nesting too deep).
    Syntax,
    /// An object repeats a member name.
    DuplicateMember,
}

/// Parses `bytes` as one JSON value, rejecting duplicate member names.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de).map_err(|e| classify(&e))?;
    de.end().map_err(|_| JsonError::Syntax)?;
    Ok(value)
}

/// Parses `bytes` as a JSON object, rejecting duplicates and non-objects.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Option<Map<String, Value>>, JsonError> {
    match parse_strict(bytes)? {
        Value::Object(map) => Ok(Some(map)),
        _ => Ok(None),
    }
}

const DUPLICATE_MARKER: &str = "jose-jwt: duplicate member";

fn classify(e: &serde_json::Error) -> JsonError {
    // Our own custom error carries a fixed marker; anything else is syntax.
    if e.is_data() && e.to_string().starts_with(DUPLICATE_MARKER) {
        JsonError::DuplicateMember
    } else {
        JsonError::Syntax
    }
}

#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite float, but be explicit.
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE_MARKER));
            }
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json() {
        let v = parse_strict(br#"{"a":[1,{"b":true}],"c":null,"d":-1.5}"#).unwrap();
        assert_eq!(v["a"][1]["b"], Value::Bool(true));
    }

    #[test]
    fn rejects_duplicates_at_every_level() {
        for doc in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"x":{"a":1,"a":1}}"#,
            br#"[{"a":1},{"b":{"c":[{"d":1,"d":2}]}}]"#,
            br#"{"a":1,"\u0061":2}"#,
        ] {
            assert_eq!(parse_strict(doc), Err(JsonError::DuplicateMember));
        }
    }

    #[test]
    fn rejects_garbage_and_trailing_data() {
        for doc in [
            &b""[..],
            b"{",
            b"{} {}",
            br#"{"a":"\ud800"}"#,
            b"1e400",
            b"\xff",
        ] {
            assert_eq!(parse_strict(doc), Err(JsonError::Syntax));
        }
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = "[".repeat(10_000);
        assert_eq!(parse_strict(deep.as_bytes()), Err(JsonError::Syntax));
    }
}
