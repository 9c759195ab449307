//! Everything the auth Worker parses from a client, and the context the authz Worker parses.
//!
//! Input: one selector byte, then the values, split at NUL bytes (invalid UTF-8 is replaced,
//! as the runtime hands headers over as strings). An even selector fuzzes credential
//! extraction, an odd one the signed context.
//!
//! Credentials (`extract_credential`, both modes, several size limits): nothing panics; the
//! result does not depend on call order or repetition; a returned token is a base64url/`.`
//! substring of the source it names, within the size limit, and is exactly that source minus
//! the `Bearer ` scheme (header) or exactly the header value (Access); a present Authorization
//! or Access header never reads as anonymous; outside Access mode the Access header and cookie
//! change nothing; combining sources never turns one source's error into a pass, nor lets two
//! different tokens through; and neither an error message nor a credential's `Debug` repeats
//! the client's value.
//!
//! Context (`verify_context` with a fixed key and clock, on a request the input chooses): see
//! [`context_properties`].
#![no_main]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use edge_auth::{
    extract_credential, sign_context, verify_context, ContextError, ContextKey, Credential,
    CredentialError, CredentialSource, ExtractionMode, Identity, RequestBinding,
    RequestCredentials, RequestUrl, CONTEXT_FUTURE_SKEW_SECONDS, DEFAULT_MAX_TOKEN_BYTES,
    MAX_CLOCK_SKEW_SECONDS, MAX_CONTEXT_HEADER_BYTES,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let fields: Vec<String> = rest
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if selector & 1 == 0 {
        credential_properties(selector, &fields);
    } else {
        context_properties(selector, &fields);
    }
});

/// Size limits worth crossing: the default, and small ones the fuzzer can reach.
const MAX_TOKEN_BYTES: [usize; 4] = [DEFAULT_MAX_TOKEN_BYTES, 0, 8, 64];

fn credential_properties(selector: u8, fields: &[String]) {
    let field = |bit: u8, i: usize| {
        (selector & bit != 0).then(|| fields.get(i).map(String::as_str).unwrap_or(""))
    };
    let req = RequestCredentials {
        authorization: field(0x02, 0),
        access_assertion: field(0x04, 1),
        cookie: field(0x08, 2),
    };
    let mode = ExtractionMode {
        cloudflare_access: selector & 0x10 != 0,
        max_token_bytes: MAX_TOKEN_BYTES[usize::from(selector >> 6)],
    };

    let result = extract_credential(&req, &mode);
    assert_eq!(result, extract_credential(&req, &mode), "deterministic");

    let only = |authorization, access_assertion, cookie| {
        extract_credential(
            &RequestCredentials {
                authorization,
                access_assertion,
                cookie,
            },
            &mode,
        )
    };
    let singles = [
        only(req.authorization, None, None),
        only(None, req.access_assertion, None),
        only(None, None, req.cookie),
    ];

    if !mode.cloudflare_access {
        assert_eq!(
            result, singles[0],
            "outside Access mode only the Authorization header counts"
        );
    }
    match &result {
        Ok(Some(credential)) => {
            check_token(credential, &req, &mode);
            for single in &singles {
                match single {
                    Ok(None) => {}
                    Ok(Some(other)) => assert_eq!(
                        other.token(),
                        credential.token(),
                        "two different tokens passed as one credential"
                    ),
                    Err(e) => panic!("a source's error ({e:?}) was masked by another source"),
                }
            }
        }
        Ok(None) => {
            assert!(
                req.authorization.is_none(),
                "an Authorization header read as anonymous"
            );
            if mode.cloudflare_access {
                assert!(
                    req.access_assertion.is_none(),
                    "an Access header read as anonymous"
                );
            }
            assert!(singles.iter().all(|s| matches!(s, Ok(None))));
        }
        Err(error) => check_error(error, &req),
    }
}

fn check_token(credential: &Credential, req: &RequestCredentials<'_>, mode: &ExtractionMode) {
    let token = credential.token();
    assert!(
        !token.is_empty() && token.len() <= mode.max_token_bytes,
        "size limit"
    );
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
        "a token has only base64url characters and dots"
    );
    let source = match credential.source() {
        CredentialSource::AuthorizationHeader => req.authorization,
        CredentialSource::AccessHeader => req.access_assertion,
        CredentialSource::AccessCookie => req.cookie,
    };
    let source = source.expect("the named source is present");
    assert!(
        source.contains(token),
        "the token is a substring of its source"
    );
    match credential.source() {
        CredentialSource::AuthorizationHeader => {
            let (scheme, rest) = source.split_at(source.len() - token.len());
            assert!(
                scheme.eq_ignore_ascii_case("Bearer ") && rest == token,
                "the header is exactly `Bearer <token>`"
            );
        }
        CredentialSource::AccessHeader => assert_eq!(source, token),
        CredentialSource::AccessCookie => assert!(mode.cloudflare_access),
    }
    if token.len() >= 20 {
        let debug = format!("{credential:?}");
        assert!(!debug.contains(token), "Debug never prints the token");
    }
}

fn check_error(error: &CredentialError, req: &RequestCredentials<'_>) {
    let message = error.to_string();
    assert!(!message.is_empty() && !error.code().is_empty());
    // A word of the input that is also in some fixed message proves nothing (the fuzzer copies
    // message text into its inputs); any other long word must not show up.
    let fixed = fixed_messages();
    for value in [req.authorization, req.access_assertion, req.cookie]
        .into_iter()
        .flatten()
    {
        for word in value.split(' ').filter(|w| w.len() >= 8) {
            if !fixed.iter().any(|m| m.contains(word)) {
                assert!(
                    !message.contains(word),
                    "an error message repeats client input"
                );
            }
        }
    }
}

/// Every message `CredentialError` can show, for every source.
fn fixed_messages() -> &'static [String] {
    static MESSAGES: OnceLock<Vec<String>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let sources = [
            CredentialSource::AuthorizationHeader,
            CredentialSource::AccessHeader,
            CredentialSource::AccessCookie,
        ];
        let mut errors = vec![
            CredentialError::UnsupportedScheme,
            CredentialError::Conflicting,
            CredentialError::DuplicateAccessCookie,
        ];
        for source in sources {
            errors.push(CredentialError::TooLarge { source });
            errors.push(CredentialError::Malformed { source });
        }
        errors.iter().map(ToString::to_string).collect()
    })
}

/// The key both Workers would derive from `CONTEXT_SECRET`, and a second one.
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";
const NOW: i64 = 1_700_000_000;
const MAX_AGE: i64 = 60;

/// The request the known-answer contexts of `context_tests.rs` (the seeds) were signed for; a
/// binding field the input leaves out is this request's.
const METHOD: &str = "GET";
const TARGET: &str = "/orders/7?expand=items";
const REQUEST_ID: &str = "8f3a2b1c4d5e6f70-AMS";
/// The authz Worker's own name, and another one it may be reached under.
const HOST: &str = "https://authz.internal";
const OTHER_HOST: &str = "http://authz.example:8080";
/// Methods to swap in: some other one is always among them.
const METHODS: [&str; 5] = ["GET", "POST", "DELETE", "HEAD", "get"];

/// A request as the authz Worker sees it; [`Request::binding`] builds its binding the way the
/// Workers do (`RequestUrl::split` of the URL).
struct Request {
    method: String,
    url: String,
    request_id: String,
}

impl Request {
    fn new(method: &str, host: &str, target: &str, request_id: &str) -> Self {
        Request {
            method: method.to_owned(),
            url: format!("{host}{target}"),
            request_id: request_id.to_owned(),
        }
    }

    /// Method, path and query, request id: the eighth to tenth fields, if any.
    fn from_fields(fields: &[String]) -> Self {
        let field = |i: usize, default: &'static str| fields.get(i).map_or(default, String::as_str);
        let target = field(8, TARGET);
        // A serialized URL's path always starts with `/`; without one the host would grow.
        let target = if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("/{target}")
        };
        Request::new(field(7, METHOD), HOST, &target, field(9, REQUEST_ID))
    }

    fn url(&self) -> RequestUrl<'_> {
        RequestUrl::split(&self.url).expect("an http(s) URL with a path splits")
    }

    fn binding(&self) -> RequestBinding<'_> {
        RequestBinding::new(&self.method, &self.url(), &self.request_id)
    }

    /// Requests that differ from this one in exactly one way: another method (also the same
    /// one with a space), another path (a trailing `/`, a doubled leading `/`: a normalizer
    /// may call either the same), another query (`&x=1` added), no query vs an empty one vs a
    /// non-empty one (`/a`, `/a?`, `/a?q`), another request id (longer, shorter), and the same
    /// bytes split another way (`/ab` + `c` vs `/a` + `bc`, and the reverse).
    fn others(&self, selector: u8) -> Vec<Request> {
        let url = self.url();
        let (method, path, query, id) = (
            self.method.as_str(),
            url.path(),
            url.query(),
            self.request_id.as_str(),
        );
        let with_query = |path: &str, query: Option<&str>| match query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        let another_method = METHODS
            .iter()
            .cycle()
            .skip(usize::from(selector) % METHODS.len())
            .find(|m| **m != method)
            .expect("METHODS holds more than one method");
        let mut shorter_id = id.to_owned();
        if shorter_id.pop().is_none() {
            shorter_id.push('r');
        }
        let mut targets = vec![
            with_query(&format!("{path}/"), query),
            with_query(&format!("/{path}"), query),
            with_query(
                path,
                Some(&query.map_or_else(|| "x=1".to_owned(), |q| format!("{q}&x=1"))),
            ),
        ];
        if query.is_some() {
            targets.push(path.to_owned());
        }
        if query != Some("") {
            targets.push(format!("{path}?"));
        }
        let target = url.target();
        let mut others = vec![
            Request::new(another_method, HOST, target, id),
            Request::new(&format!("{method} "), HOST, target, id),
            Request::new(method, HOST, target, &format!("{id}-2")),
            Request::new(method, HOST, target, &shorter_id),
        ];
        others.extend(targets.iter().map(|t| Request::new(method, HOST, t, id)));
        // The same bytes split another way between the path and query and the request id.
        // `target` starts with `/`, and so does what is left of it.
        if let Some(last) = target
            .chars()
            .next_back()
            .filter(|c| c.len_utf8() < target.len())
        {
            let shorter = &target[..target.len() - last.len_utf8()];
            others.push(Request::new(method, HOST, shorter, &format!("{last}{id}")));
        }
        if let Some(first) = id.chars().next() {
            let longer = format!("{target}{first}");
            others.push(Request::new(method, HOST, &longer, &id[first.len_utf8()..]));
        }
        others
    }
}

/// Whether verification got past the binding check: it runs after the size, shape, version,
/// MAC and payload checks and before the clock is read.
fn past_the_binding(result: &Result<Identity, ContextError>) -> bool {
    matches!(
        result,
        Ok(_)
            | Err(ContextError::Mismatch
                | ContextError::Stale
                | ContextError::FromFuture
                | ContextError::Expired)
    )
}

/// The signed context (v2: bound to its request). The input chooses the request the authz
/// Worker checks it on ([`Request::from_fields`]) and [`Request::others`] derives requests
/// that differ from it in one way each. The property: a context verifies only if it was
/// signed for exactly that request.
///
/// An arbitrary value (fields joined back with `.`, or the first field alone) never panics,
/// and verifies on the request only if it is byte for byte what `sign_context` makes for the
/// identity it carries with that request's binding at an `iat` inside the freshness window —
/// a value the fuzzer cannot forge, so in practice only the seeds; it never verifies under
/// another key. Whatever it is, it gets past the binding check on every other request exactly
/// when it does on this one, and once it has matched this request (verified, or refused for
/// time) it is `Mismatch` on every other; the host is not part of the binding.
///
/// An identity built from the input, signed for the request, verifies back to itself (or to
/// the error its fields call for); signed for the request, it never verifies on any other
/// request, nor signed for another request on this one, whatever the clock — `Mismatch`, or
/// the error that comes first (`TooLarge` when oversized, `InvalidPayload` for an empty `sub`
/// or issuer); another key, a clock outside the window, one changed, dropped or added byte
/// never verifies.
fn context_properties(selector: u8, fields: &[String]) {
    let key = ContextKey::new(SECRET).unwrap();
    let other_key = ContextKey::new(OTHER_SECRET).unwrap();
    let request = Request::from_fields(fields);
    let binding = request.binding();
    let others = request.others(selector);
    let other_bindings: Vec<RequestBinding<'_>> = others.iter().map(Request::binding).collect();
    for (other, other_binding) in others.iter().zip(&other_bindings) {
        assert_ne!(
            *other_binding, binding,
            "derived request {} {} is the same request",
            other.method, other.url
        );
    }
    let elsewhere = Request::new(
        &request.method,
        OTHER_HOST,
        request.url().target(),
        &request.request_id,
    );
    assert_eq!(elsewhere.binding(), binding, "the host is not bound");

    let value = if selector & 2 == 0 {
        fields.first().cloned().unwrap_or_default()
    } else {
        fields.join(".")
    };
    let result = verify_context(&value, &key, &binding, NOW, MAX_AGE);
    assert_eq!(
        result,
        verify_context(&value, &key, &binding, NOW, MAX_AGE),
        "deterministic"
    );
    for other in &other_bindings {
        let on_other = verify_context(&value, &key, other, NOW, MAX_AGE);
        assert_eq!(
            past_the_binding(&on_other),
            past_the_binding(&result),
            "the binding is checked after the MAC and the payload: {result:?} vs {on_other:?}"
        );
        match &result {
            Err(ContextError::Mismatch) => {}
            r if past_the_binding(r) => assert_eq!(
                on_other,
                Err(ContextError::Mismatch),
                "a value that matched one request matched another"
            ),
            _ => assert_eq!(on_other, result, "an error before the binding check"),
        }
    }
    if let Ok(identity) = &result {
        let signed_in_window = (NOW - MAX_AGE..=NOW + CONTEXT_FUTURE_SKEW_SECONDS)
            .any(|iat| sign_context(identity, &key, &binding, iat) == value);
        assert!(
            signed_in_window,
            "a context verified that was not signed for it"
        );
        assert_eq!(
            verify_context(&value, &other_key, &binding, NOW, MAX_AGE),
            Err(ContextError::BadSignature)
        );
    }

    let Some(identity) = identity_from(fields) else {
        return;
    };
    // Around the window's edges unless the input names an offset.
    let iat_offset = fields
        .get(6)
        .and_then(|f| f.parse::<i64>().ok())
        .unwrap_or(i64::from(selector >> 2) * 2 - 70);
    let iat = NOW.saturating_add(iat_offset);
    let age = NOW.saturating_sub(iat);
    let signed = sign_context(&identity, &key, &binding, iat);
    let verified = verify_context(&signed, &key, &binding, NOW, MAX_AGE);
    // sign_context does not refuse what verify_context will: a large identity is refused at
    // the authz Worker (fail closed), not at signing.
    let oversized = signed.len() > MAX_CONTEXT_HEADER_BYTES;
    let expected = if oversized {
        Err(ContextError::TooLarge)
    } else if identity.sub.is_empty() || identity.issuer.is_empty() {
        Err(ContextError::InvalidPayload)
    } else if age > MAX_AGE {
        Err(ContextError::Stale)
    } else if age < -CONTEXT_FUTURE_SKEW_SECONDS {
        Err(ContextError::FromFuture)
    } else if NOW >= identity.exp.saturating_add(MAX_CLOCK_SKEW_SECONDS) {
        Err(ContextError::Expired)
    } else {
        Ok(identity.clone())
    };
    assert_eq!(verified, expected, "sign then verify");

    // Another request, either way round and at any clock: the binding's digest has one
    // length, so the context is as large for every request.
    let on_another_request = match expected {
        Err(e @ (ContextError::TooLarge | ContextError::InvalidPayload)) => Err(e),
        _ => Err(ContextError::Mismatch),
    };
    for (other, other_binding) in others.iter().zip(&other_bindings) {
        let signed_for_other = sign_context(&identity, &key, other_binding, iat);
        for (now, header, presented_on) in [
            (NOW, &signed, other_binding),
            (iat.saturating_add(MAX_AGE + 1), &signed, other_binding),
            (NOW, &signed_for_other, &binding),
        ] {
            assert_eq!(
                verify_context(header, &key, presented_on, now, MAX_AGE),
                on_another_request,
                "a context signed for one request verified for another ({} {} {:?})",
                other.method,
                other.url,
                other.request_id
            );
        }
    }

    assert_eq!(
        verify_context(&signed, &other_key, &binding, NOW, MAX_AGE),
        Err(if oversized {
            ContextError::TooLarge
        } else {
            ContextError::BadSignature
        }),
        "another key never verifies"
    );
    if expected.is_ok() {
        assert_eq!(
            verify_context(&signed, &key, &binding, iat + MAX_AGE + 1, MAX_AGE),
            Err(ContextError::Stale)
        );
        assert_eq!(
            verify_context(
                &signed,
                &key,
                &binding,
                iat - CONTEXT_FUTURE_SKEW_SECONDS - 1,
                MAX_AGE
            ),
            Err(ContextError::FromFuture)
        );
    }

    // One changed byte (any position, any other ASCII byte), one dropped, one added.
    let position_seed = fields.last().map_or(0, |f| f.len()) + usize::from(selector);
    let position = position_seed % signed.len();
    let mut changed = signed.clone().into_bytes();
    let replacement = (changed[position] ^ (selector | 1)) & 0x7f;
    changed[position] = if replacement == changed[position] {
        changed[position] ^ 1
    } else {
        replacement
    };
    let mut dropped = signed.clone();
    dropped.remove(position);
    let mut added = signed.clone();
    added.insert(position, char::from(b'A' + selector % 26));
    for tampered in [String::from_utf8(changed).unwrap(), dropped, added] {
        assert_ne!(tampered, signed);
        assert!(
            verify_context(&tampered, &key, &binding, NOW, MAX_AGE).is_err(),
            "a tampered context verified"
        );
    }
}

/// `sub`, `iss`, roles and scopes (`,`-separated), email, `exp` as an offset from [`NOW`]
/// (the seventh field, if any, is `iat`'s offset; the next three are the request's).
fn identity_from(fields: &[String]) -> Option<Identity> {
    let [sub, issuer, roles, scopes, email, exp, ..] = fields else {
        return None;
    };
    let list = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(',').map(str::to_owned).collect()
        }
    };
    let exp_offset: i64 = exp.parse().unwrap_or(exp.len() as i64 * 60 - 600);
    Some(Identity {
        sub: sub.clone(),
        roles: list(roles),
        scopes: list(scopes),
        email: (!email.is_empty()).then(|| email.clone()),
        exp: NOW.saturating_add(exp_offset),
        issuer: issuer.clone(),
        act: None,
    })
}
