//! Contexts signed as the auth Worker signs them, for suites that call the authz Worker
//! directly (an authz-only stack given the same `CONTEXT_SECRET`).

use edge_auth::{
    sign_context_with_notes, ContextKey, ContextNotes, Identity, RequestBinding, RequestUrl,
};

/// An identity from the test issuer, valid for ten more minutes.
pub fn identity(sub: &str, roles: &[&str]) -> Identity {
    Identity {
        sub: sub.into(),
        roles: roles.iter().map(|r| (*r).to_string()).collect(),
        scopes: Vec::new(),
        email: None,
        exp: now() + 600,
        issuer: "https://idp.test".into(),
        act: None,
    }
}

/// The clock, in unix seconds.
pub fn now() -> i64 {
    i64::try_from(crate::idp::now()).unwrap_or(i64::MAX)
}

/// A fresh, well-formed request id (letters, digits and `-`: the Workers keep it as given), so a
/// request's log line can be found.
pub fn request_id() -> String {
    format!("e2e-{}", crate::keys::random_hex(8))
}

/// The context for `identity` on `method target` (path and query as sent) with `request_id`,
/// signed with `secret` at `signed_at`, with `notes` (`ContextNotes::default()`: none). The host
/// is not part of the binding. Panics on a target that is not a path: a test's own mistake.
pub fn signed(
    secret: &str,
    identity: &Identity,
    (method, target, request_id): (&str, &str, &str),
    notes: &ContextNotes,
    signed_at: i64,
) -> String {
    let url = format!("http://authz.test{target}");
    let url = RequestUrl::split(&url).expect("a target starting with /");
    let binding = RequestBinding::new(method, &url, request_id);
    let key = ContextKey::new(secret).expect("a CONTEXT_SECRET of 32 characters or more");
    sign_context_with_notes(identity, notes, &key, &binding, signed_at)
}
