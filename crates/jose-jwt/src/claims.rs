//! A JWT claims set whose registered claims have been type-checked.
//!
//! Built only inside the crate from a payload that is a JSON object without
//! duplicate members, with a numeric `exp`, so accessors need no `Result`.

use serde_json::{Map, Value};

use crate::error::{ClaimName, ClaimProblem, Error, JwtProblem};
use crate::json::{parse_object, JsonError};

/// The claims of a token (RFC 7519 §4).
///
/// Registered claims are checked for type when the claims are read: `exp` is
/// required and numeric; `nbf`/`iat` numeric when present; `iss`/`sub` strings;
/// `aud` a string or an array of strings. NumericDates may be fractional (RFC
/// 7519 §2) and are rounded down to whole seconds; values outside `i64` fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    map: Map<String, Value>,
    iss: Option<String>,
    sub: Option<String>,
    aud: Vec<String>,
    aud_present: bool,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
}

impl Claims {
    /// Parses and type-checks a decoded JWT payload.
    pub(crate) fn from_payload(payload: &[u8]) -> Result<Self, Error> {
        let map = match parse_object(payload) {
            Ok(Some(map)) => map,
            Ok(None) => return Err(Error::jwt(JwtProblem::NotObject)),
            Err(JsonError::DuplicateMember) => return Err(Error::jwt(JwtProblem::DuplicateMember)),
            Err(JsonError::Syntax) => return Err(Error::jwt(JwtProblem::NotJson)),
        };
        let exp = match map.get("exp") {
            Some(v) => numeric_date(ClaimName::Exp, v)?,
            None => return Err(Error::claim(ClaimName::Exp, ClaimProblem::Missing)),
        };
        let nbf = map
            .get("nbf")
            .map(|v| numeric_date(ClaimName::Nbf, v))
            .transpose()?;
        let iat = map
            .get("iat")
            .map(|v| numeric_date(ClaimName::Iat, v))
            .transpose()?;
        let iss = optional_string(&map, ClaimName::Iss)?;
        let sub = optional_string(&map, ClaimName::Sub)?;
        let (aud, aud_present) = match map.get("aud") {
            None => (Vec::new(), false),
            Some(Value::String(s)) => (vec![s.clone()], true),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => {
                            return Err(Error::claim(
                                ClaimName::Aud,
                                ClaimProblem::NotStringOrStringArray,
                            ))
                        }
                    }
                }
                (out, true)
            }
            Some(_) => {
                return Err(Error::claim(
                    ClaimName::Aud,
                    ClaimProblem::NotStringOrStringArray,
                ))
            }
        };
        Ok(Claims {
            map,
            iss,
            sub,
            aud,
            aud_present,
            exp,
            nbf,
            iat,
        })
    }

    /// `sub`, when present.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// `iss`, when present (after validation it equals one of the configured issuers).
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// `aud` as a list (a single string becomes one entry; absent is empty).
    pub fn audiences(&self) -> &[String] {
        &self.aud
    }

    /// Whether the token carries an `aud` claim at all.
    pub fn has_audience_claim(&self) -> bool {
        self.aud_present
    }

    /// `exp`, seconds since the Unix epoch (always present).
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// `nbf`, when present.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }

    /// `iat`, when present.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }

    /// OAuth scopes: `scope` split on spaces (RFC 8693 §4.2, RFC 9068), else
    /// `scp` as a space-separated string or an array (non-string entries are
    /// ignored: they grant nothing).
    pub fn scopes(&self) -> Vec<String> {
        let split = |s: &str| {
            s.split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(Value::String(s)) = self.map.get("scope") {
            return split(s);
        }
        match self.map.get("scp") {
            Some(Value::String(s)) => split(s),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A claim by exact name (e.g. `"https://example.com/roles"`,
    /// `"cognito:groups"`), else by dotted path through nested objects (e.g.
    /// `"realm_access.roles"`).
    pub fn get(&self, name_or_path: &str) -> Option<&Value> {
        if let Some(v) = self.map.get(name_or_path) {
            return Some(v);
        }
        if !name_or_path.contains('.') {
            return None;
        }
        let mut parts = name_or_path.split('.');
        let mut current = self.map.get(parts.next()?)?;
        for part in parts {
            current = current.as_object()?.get(part)?;
        }
        Some(current)
    }

    /// A claim (see [`Claims::get`]) read as a list of strings: a string is one
    /// entry, an array must hold only strings. Absent is `Ok(None)`; any other
    /// shape is an error naming the claim.
    pub fn string_list(&self, name_or_path: &str) -> Result<Option<Vec<String>>, Error> {
        let not_list = || {
            Error::claim(
                ClaimName::configured(name_or_path),
                ClaimProblem::NotStringOrStringArray,
            )
        };
        match self.get(name_or_path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(not_list))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(not_list()),
        }
    }

    /// All claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }
}

fn optional_string(map: &Map<String, Value>, name: ClaimName) -> Result<Option<String>, Error> {
    match map.get(name.as_str()) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::claim(name, ClaimProblem::NotString)),
    }
}

/// Reads a NumericDate: a finite JSON number within `i64`, rounded down.
fn numeric_date(name: ClaimName, value: &Value) -> Result<i64, Error> {
    let Value::Number(n) = value else {
        return Err(Error::claim(name, ClaimProblem::NotNumber));
    };
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // u64 beyond i64::MAX, or a float.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    match n.as_f64() {
        Some(f) if n.as_u64().is_none() && (-LIMIT..LIMIT).contains(&f) => {
            #[allow(clippy::cast_possible_truncation)] // range checked just above
            Ok(f.floor() as i64)
        }
        _ => Err(Error::claim(name, ClaimProblem::NumberOutOfRange)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<Claims, Error> {
        Claims::from_payload(json.as_bytes())
    }

    #[test]
    fn reads_registered_claims() {
        let c =
            claims(r#"{"exp":10,"nbf":1.9,"iat":2,"iss":"i","sub":"s","aud":["a","b"]}"#).unwrap();
        assert_eq!((c.exp(), c.nbf(), c.iat()), (10, Some(1), Some(2)));
        assert_eq!((c.iss(), c.sub()), (Some("i"), Some("s")));
        assert_eq!(c.audiences(), ["a", "b"]);
    }

    #[test]
    fn rejects_bad_numeric_dates() {
        use ClaimName::{Exp, Iat, Nbf};
        use ClaimProblem::{Missing, NotNumber, NumberOutOfRange};
        for (doc, claim, reason) in [
            (r#"{"exp":"123"}"#, Exp, NotNumber),
            (r#"{"exp":1e300}"#, Exp, NumberOutOfRange),
            (r#"{"exp":18446744073709551615}"#, Exp, NumberOutOfRange),
            (r#"{"exp":null}"#, Exp, NotNumber),
            (r#"{"exp":1,"nbf":"1"}"#, Nbf, NotNumber),
            (r#"{"exp":1,"iat":[1]}"#, Iat, NotNumber),
            (r#"{}"#, Exp, Missing),
        ] {
            assert_eq!(
                claims(doc),
                Err(Error::ClaimValidationFailed { claim, reason }),
                "{doc}"
            );
        }
        assert_eq!(
            claims(r#"{"exp":1e400}"#),
            Err(Error::jwt(JwtProblem::NotJson))
        );
    }

    #[test]
    fn registered_strings_and_audience_must_have_their_type() {
        use ClaimName::{Aud, Iss, Sub};
        use ClaimProblem::{NotString, NotStringOrStringArray};
        for (doc, claim, reason) in [
            (r#"{"exp":1,"iss":1}"#, Iss, NotString),
            (r#"{"exp":1,"sub":["s"]}"#, Sub, NotString),
            (r#"{"exp":1,"aud":{}}"#, Aud, NotStringOrStringArray),
            (r#"{"exp":1,"aud":["a",null]}"#, Aud, NotStringOrStringArray),
        ] {
            assert_eq!(
                claims(doc),
                Err(Error::ClaimValidationFailed { claim, reason }),
                "{doc}"
            );
        }
    }

    #[test]
    fn scopes_prefer_scope_then_scp() {
        let c = claims(r#"{"exp":1,"scope":"a  b","scp":["c"]}"#).unwrap();
        assert_eq!(c.scopes(), ["a", "b"]);
        let c = claims(r#"{"exp":1,"scp":["c",1,"d"]}"#).unwrap();
        assert_eq!(c.scopes(), ["c", "d"]);
        let c = claims(r#"{"exp":1,"scp":"e f"}"#).unwrap();
        assert_eq!(c.scopes(), ["e", "f"]);
    }

    #[test]
    fn get_prefers_exact_name_then_path() {
        let c = claims(
            r#"{"exp":1,"a.b":"exact","a":{"b":"path","c":{"d":["x"]}},"cognito:groups":["g"]}"#,
        )
        .unwrap();
        assert_eq!(c.get("a.b").unwrap(), "exact");
        assert_eq!(c.string_list("a.c.d").unwrap(), Some(vec!["x".to_owned()]));
        assert_eq!(
            c.string_list("cognito:groups").unwrap(),
            Some(vec!["g".to_owned()])
        );
        assert_eq!(c.string_list("missing.path").unwrap(), None);
        // The caller's name is reported, mapped to the registered claim when it is one.
        assert_eq!(
            c.string_list("a"),
            Err(Error::claim(
                ClaimName::Configured("a".into()),
                ClaimProblem::NotStringOrStringArray
            ))
        );
        assert_eq!(
            c.string_list("exp"),
            Err(Error::claim(
                ClaimName::Exp,
                ClaimProblem::NotStringOrStringArray
            ))
        );
    }
}
