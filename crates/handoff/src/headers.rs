//! Which incoming headers a client must not be able to set.
//!
//! The origin trusts `X-User-*` and the context header only because the
//! Workers set them; so every incoming copy is stripped before anything else.

/// The header carrying the signed identity from the auth to the authz Worker.
pub const CONTEXT_HEADER: &str = "x-auth-context";

/// Prefix of the identity headers sent to the origin.
const USER_HEADER_PREFIX: &str = "x-user-";

/// True (case-insensitively) for any `x-user-*` header, the context header,
/// and any name in `extra` (for example from `EXTRA_STRIPPED_HEADERS`).
pub fn is_client_identity_header(name: &str, extra: &[String]) -> bool {
    let has_user_prefix = name
        .get(..USER_HEADER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(USER_HEADER_PREFIX));
    has_user_prefix
        || name.eq_ignore_ascii_case(CONTEXT_HEADER)
        || extra.iter().any(|e| name.eq_ignore_ascii_case(e))
}

/// True for a valid HTTP field name (RFC 9110 `token`).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_context_headers_are_stripped_in_any_case() {
        for name in [
            "x-user-id",
            "X-User-ID",
            "X-USER-ROLES",
            "x-user-scopes",
            "X-User-Email",
            "x-user-anything-else",
            "x-user-",
            "x-auth-context",
            "X-Auth-Context",
        ] {
            assert!(is_client_identity_header(name, &[]), "{name}");
        }
    }

    #[test]
    fn other_headers_are_kept() {
        for name in [
            "authorization",
            "x-user",
            "x-users-id",
            "x-auth-context-2",
            "user-id",
            "",
            "x-usér-id",
        ] {
            assert!(!is_client_identity_header(name, &[]), "{name}");
        }
    }

    #[test]
    fn extra_names_are_matched_case_insensitively() {
        let extra = vec!["X-Tenant-ID".to_owned(), "x-internal".to_owned()];
        assert!(is_client_identity_header("x-tenant-id", &extra));
        assert!(is_client_identity_header("X-INTERNAL", &extra));
        assert!(!is_client_identity_header("x-tenant", &extra));
    }

    #[test]
    fn header_name_syntax() {
        assert!(is_header_name("X-Tenant-ID"));
        assert!(!is_header_name(""));
        assert!(!is_header_name("X Tenant"));
        assert!(!is_header_name("X-Tenant:"));
        assert!(!is_header_name("é"));
    }
}
