//! The headers that carry a verified identity to the origin (`X-User-*`), and the value rules
//! that keep them unambiguous.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

use crate::{HandoffError, Identity};

/// Header carrying the subject (`sub`).
pub const USER_ID_HEADER: &str = "X-User-ID";
/// Header carrying the roles as a JSON array of strings.
pub const USER_ROLES_HEADER: &str = "X-User-Roles";
/// Header carrying the scopes as a JSON array of strings.
pub const USER_SCOPES_HEADER: &str = "X-User-Scopes";
/// Header carrying the e-mail address, when the token has one.
pub const USER_EMAIL_HEADER: &str = "X-User-Email";

/// The headers the authz Worker sets on the request to the origin.
///
/// `X-User-ID` and `X-User-Email` are sent verbatim, so they must be
/// non-empty printable ASCII (spaces allowed inside, not at the ends); any
/// other value is an error and the Worker must fail closed — rewriting an
/// identity could make two users look alike. Roles and scopes are JSON arrays
/// in which every non-ASCII or control character is `\u`-escaped, so any
/// string is representable.
pub fn identity_headers(identity: &Identity) -> Result<Vec<(&'static str, String)>, HandoffError> {
    let mut headers = Vec::with_capacity(4);
    headers.push((USER_ID_HEADER, plain_value(USER_ID_HEADER, &identity.sub)?));
    headers.push((USER_ROLES_HEADER, ascii_json(&identity.roles)));
    headers.push((USER_SCOPES_HEADER, ascii_json(&identity.scopes)));
    if let Some(email) = &identity.email {
        headers.push((USER_EMAIL_HEADER, plain_value(USER_EMAIL_HEADER, email)?));
    }
    Ok(headers)
}

/// True when `value` can be sent as an HTTP header value unchanged.
pub fn is_header_safe(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && value.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

fn plain_value(header: &'static str, value: &str) -> Result<String, HandoffError> {
    if is_header_safe(value) {
        Ok(value.to_owned())
    } else {
        Err(HandoffError::UnsafeIdentityValue { header })
    }
}

/// Compact JSON with every byte outside printable ASCII escaped.
pub(crate) fn ascii_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, AsciiFormatter);
    // Writing string lists into a Vec cannot fail.
    if value.serialize(&mut ser).is_err() {
        return String::from("[]");
    }
    // Only ASCII was written.
    String::from_utf8(out).unwrap_or_default()
}

/// serde_json already escapes `"`, `\` and C0 controls; this also escapes
/// DEL and all non-ASCII characters (as UTF-16 `\uXXXX`, surrogate pairs for
/// characters outside the BMP), so the output is printable ASCII only. The
/// trait's other methods already produce compact JSON.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() && c != '\x7f' {
                continue;
            }
            writer.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity {
            sub: "alice".into(),
            roles: vec!["admin".into(), "dev".into()],
            scopes: vec!["read:items".into()],
            email: Some("alice@example.com".into()),
            exp: 2_000_000_000,
            issuer: "https://idp.example".into(),
            act: None,
        }
    }

    #[test]
    fn headers_for_a_plain_identity() {
        let headers = identity_headers(&alice()).unwrap();
        assert_eq!(
            headers,
            vec![
                ("X-User-ID", "alice".to_owned()),
                ("X-User-Roles", r#"["admin","dev"]"#.to_owned()),
                ("X-User-Scopes", r#"["read:items"]"#.to_owned()),
                ("X-User-Email", "alice@example.com".to_owned()),
            ]
        );
    }

    #[test]
    fn email_header_only_when_present_and_empty_lists_are_arrays() {
        let id = Identity {
            email: None,
            roles: vec![],
            scopes: vec![],
            ..alice()
        };
        assert_eq!(
            identity_headers(&id).unwrap(),
            vec![
                ("X-User-ID", "alice".to_owned()),
                ("X-User-Roles", "[]".to_owned()),
                ("X-User-Scopes", "[]".to_owned()),
            ]
        );
    }

    #[test]
    fn json_arrays_escape_controls_quotes_and_non_ascii() {
        let id = Identity {
            roles: vec![
                "a\"b\\c".into(),
                "line\r\nX-Evil: 1".into(),
                "café".into(),
                "😀".into(),
                "del\x7f".into(),
            ],
            ..alice()
        };
        let headers = identity_headers(&id).unwrap();
        let roles = &headers[1].1;
        assert_eq!(
            roles,
            r#"["a\"b\\c","line\r\nX-Evil: 1","caf\u00e9","\ud83d\ude00","del\u007f"]"#
        );
        assert!(roles.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        // And it is still JSON that decodes to the original strings.
        let back: Vec<String> = serde_json::from_str(roles).unwrap();
        assert_eq!(back, id.roles);
    }

    #[test]
    fn unsafe_sub_or_email_fails_closed() {
        for bad in [
            "", " alice", "alice ", "al\nice", "al\rice", "ali\tce", "josé", "a\x7f", "a\0",
        ] {
            let id = Identity {
                sub: bad.into(),
                ..alice()
            };
            assert_eq!(
                identity_headers(&id),
                Err(HandoffError::UnsafeIdentityValue {
                    header: USER_ID_HEADER
                }),
                "{bad:?}"
            );
            let id = Identity {
                email: Some(bad.into()),
                ..alice()
            };
            assert_eq!(
                identity_headers(&id),
                Err(HandoffError::UnsafeIdentityValue {
                    header: USER_EMAIL_HEADER
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_safe_values_pass_unchanged() {
        for ok in [
            "auth0|5f7c8ec7",
            "a b",
            "user@example.com",
            "~!#$%&'*+/=?^_`{|}",
        ] {
            assert!(is_header_safe(ok), "{ok:?}");
        }
    }
}
