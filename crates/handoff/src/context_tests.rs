use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_700_000_000;

/// Computed independently (Python `hmac`/`base64`) from SECRET and the
/// payload `{"sub":"alice","roles":["admin"],"scopes":["read"],
/// "email":"a@example.com","exp":1700000600,"iss":"https://idp.example",
/// "iat":1700000000}`.
const ALICE_VECTOR: &str = "v1.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl0sInNjb3BlcyI6WyJyZWFkIl0sImVtYWlsIjoiYUBleGFtcGxlLmNvbSIsImV4cCI6MTcwMDAwMDYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMH0.e10MVekiM4VEiHnqUFbItiOzbTBlS4OJZKOYol9OOuQ";
/// Same, for `{"sub":"bob","roles":[],"scopes":[],"exp":1700000600,
/// "iss":"https://idp.example","iat":1700000000}` (no email).
const BOB_VECTOR: &str = "v1.eyJzdWIiOiJib2IiLCJyb2xlcyI6W10sInNjb3BlcyI6W10sImV4cCI6MTcwMDAwMDYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMH0.dVR_EfIrNzYxyzUunicJNaizdW-2F9PrYjPwqijkTGk";

fn key() -> ContextKey {
    ContextKey::new(SECRET).unwrap()
}

fn alice() -> Identity {
    Identity {
        sub: "alice".into(),
        roles: vec!["admin".into()],
        scopes: vec!["read".into()],
        email: Some("a@example.com".into()),
        exp: NOW + 600,
        issuer: "https://idp.example".into(),
    }
}

fn bob() -> Identity {
    Identity {
        sub: "bob".into(),
        roles: vec![],
        scopes: vec![],
        email: None,
        exp: NOW + 600,
        issuer: "https://idp.example".into(),
    }
}

/// A validly signed context around an arbitrary JSON payload.
fn forge(json: &str, key: &ContextKey) -> String {
    let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode(json));
    let tag = key.tag(&[signed.as_bytes()]).finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

#[test]
fn hmac_wrapper_matches_rfc4231_test_case_2() {
    let key = ContextKey::from_key_bytes(b"Jefe").unwrap();
    let tag = key
        .tag(&[b"what do ya ", b"want for nothing?"])
        .finalize()
        .into_bytes();
    assert_eq!(
        hex::encode(tag),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn signing_matches_the_independently_computed_vectors() {
    assert_eq!(sign_context(&alice(), &key(), NOW), ALICE_VECTOR);
    assert_eq!(sign_context(&bob(), &key(), NOW), BOB_VECTOR);
}

#[test]
fn verifying_the_vectors_returns_the_identity() {
    assert_eq!(verify_context(ALICE_VECTOR, &key(), NOW, 60), Ok(alice()));
    assert_eq!(verify_context(BOB_VECTOR, &key(), NOW + 60, 60), Ok(bob()));
}

#[test]
fn round_trip_keeps_unusual_strings() {
    let id = Identity {
        sub: "auth0|ü\"\\\n".into(),
        roles: vec!["😀".into(), String::new()],
        ..alice()
    };
    let header = sign_context(&id, &key(), NOW);
    assert_eq!(verify_context(&header, &key(), NOW, 60), Ok(id));
}

#[test]
fn tampering_any_byte_fails() {
    let k = key();
    for (i, original) in ALICE_VECTOR.bytes().enumerate() {
        for replacement in [b'A', b'B', b'-', b'_', b'.', b'0', b'=', b'~'] {
            if replacement == original {
                continue;
            }
            let mut bytes = ALICE_VECTOR.as_bytes().to_vec();
            bytes[i] = replacement;
            let tampered = String::from_utf8(bytes).unwrap();
            let result = verify_context(&tampered, &k, NOW, 60);
            assert!(result.is_err(), "byte {i} -> {}", replacement as char);
        }
    }
}

#[test]
fn payload_tampering_is_a_bad_signature_not_a_parse_error() {
    // Swap the payload of one valid context into another: the MAC check
    // must reject it before the (valid) JSON is ever looked at.
    let (_, alice_rest) = ALICE_VECTOR.split_at(3);
    let alice_payload = alice_rest.split('.').next().unwrap();
    let bob_mac = BOB_VECTOR.rsplit('.').next().unwrap();
    let spliced = format!("v1.{alice_payload}.{bob_mac}");
    assert_eq!(
        verify_context(&spliced, &key(), NOW, 60),
        Err(ContextError::BadSignature)
    );
    // Garbage payload under a wrong MAC is also BadSignature (no parsing first).
    let garbage = format!("v1.!!!!.{bob_mac}");
    assert_eq!(
        verify_context(&garbage, &key(), NOW, 60),
        Err(ContextError::BadSignature)
    );
}

#[test]
fn wrong_key_fails() {
    let other = ContextKey::new("fedcba9876543210fedcba9876543210").unwrap();
    assert_eq!(
        verify_context(ALICE_VECTOR, &other, NOW, 60),
        Err(ContextError::BadSignature)
    );
}

#[test]
fn freshness_window() {
    let k = key();
    // Exactly max_age old is accepted, one second more is stale.
    assert!(verify_context(ALICE_VECTOR, &k, NOW + 60, 60).is_ok());
    assert_eq!(
        verify_context(ALICE_VECTOR, &k, NOW + 61, 60),
        Err(ContextError::Stale)
    );
    assert_eq!(
        verify_context(ALICE_VECTOR, &k, NOW + 10, 5),
        Err(ContextError::Stale)
    );
    // A little drift into the future is tolerated, more is not.
    assert!(verify_context(ALICE_VECTOR, &k, NOW - CONTEXT_FUTURE_SKEW_SECONDS, 60).is_ok());
    assert_eq!(
        verify_context(ALICE_VECTOR, &k, NOW - CONTEXT_FUTURE_SKEW_SECONDS - 1, 60),
        Err(ContextError::FromFuture)
    );
    // A negative max age accepts nothing older than "now".
    assert_eq!(
        verify_context(ALICE_VECTOR, &k, NOW + 1, -10),
        Err(ContextError::Stale)
    );
}

#[test]
fn expired_token_fails_even_in_a_fresh_context() {
    let k = key();
    let grace = MAX_CLOCK_SKEW_SECONDS;
    let dead = Identity {
        exp: NOW - grace,
        ..alice()
    };
    assert_eq!(
        verify_context(&sign_context(&dead, &k, NOW), &k, NOW, 60),
        Err(ContextError::Expired)
    );
    // Within the auth Worker's maximum leeway it still passes.
    let borderline = Identity {
        exp: NOW - grace + 1,
        ..alice()
    };
    assert!(verify_context(&sign_context(&borderline, &k, NOW), &k, NOW, 60).is_ok());
}

#[test]
fn malformed_shapes() {
    let k = key();
    let mac = BOB_VECTOR.rsplit('.').next().unwrap();
    for (value, expected) in [
        ("", ContextError::Malformed),
        ("v1", ContextError::Malformed),
        ("v1.abc", ContextError::Malformed),
        ("v1..", ContextError::Malformed),
        ("v1.abc.def.ghi", ContextError::Malformed),
        ("v2.abc.def", ContextError::UnsupportedVersion),
        ("V1.abc.def", ContextError::UnsupportedVersion),
        ("v1.abc.short", ContextError::Malformed),
    ] {
        assert_eq!(
            verify_context(value, &k, NOW, 60),
            Err(expected),
            "{value:?}"
        );
    }
    // Padding, standard-alphabet characters and non-canonical trailing bits
    // are rejected in the MAC (a 43-char tag must decode strictly).
    let padded_len = format!("v1.abc.{}=", &mac[..42]);
    let std_alphabet = format!("v1.abc.{}+", &mac[..42]);
    let last = mac.as_bytes()[42];
    let sloppy_bits = format!("v1.abc.{}{}", &mac[..42], (last ^ 1) as char);
    for value in [padded_len, std_alphabet] {
        assert_eq!(
            verify_context(&value, &k, NOW, 60),
            Err(ContextError::Malformed)
        );
    }
    assert!(verify_context(&sloppy_bits, &k, NOW, 60).is_err());
    let empty_payload = format!("v1..{mac}");
    assert_eq!(
        verify_context(&empty_payload, &k, NOW, 60),
        Err(ContextError::Malformed)
    );
}

#[test]
fn size_limit_is_checked_first() {
    let huge = format!("v2.{}", "a".repeat(MAX_CONTEXT_HEADER_BYTES));
    assert_eq!(
        verify_context(&huge, &key(), NOW, 60),
        Err(ContextError::TooLarge)
    );
}

#[test]
fn signed_but_invalid_payloads() {
    let k = key();
    for json in [
        "not json",
        "{}",
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1,"iss":"i"}"#,
        r#"{"sub":"","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000}"#,
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"","iat":1700000000}"#,
        r#"{"sub":"a","roles":"admin","scopes":[],"exp":1800000000,"iss":"i","iat":1700000000}"#,
        r#"{"sub":"a","sub":"b","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000}"#,
    ] {
        assert_eq!(
            verify_context(&forge(json, &k), &k, NOW, 60),
            Err(ContextError::InvalidPayload),
            "{json}"
        );
    }
    // Unknown fields are tolerated (additive changes stay v1).
    let extra = r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"tenant":"t"}"#;
    assert!(verify_context(&forge(extra, &k), &k, NOW, 60).is_ok());
}

#[test]
fn short_secrets_are_refused_with_a_helpful_message() {
    let err = ContextKey::new(&"x".repeat(31)).unwrap_err();
    assert_eq!(err, HandoffError::ContextSecretTooShort);
    assert_eq!(err.code(), "context_secret_too_short");
    let msg = err.to_string();
    assert!(msg.contains("at least 32 characters"), "{msg}");
    assert!(msg.contains("openssl rand -hex 32"), "{msg}");
    assert!(ContextKey::new(&"x".repeat(32)).is_ok());
}

#[test]
fn debug_and_errors_never_show_secret_or_mac() {
    let debug = format!("{:?}", key());
    assert_eq!(debug, "ContextKey(<redacted>)");
    let mac = ALICE_VECTOR.rsplit('.').next().unwrap();
    let codes = [
        ContextError::TooLarge,
        ContextError::Malformed,
        ContextError::UnsupportedVersion,
        ContextError::BadSignature,
        ContextError::InvalidPayload,
        ContextError::Stale,
        ContextError::FromFuture,
        ContextError::Expired,
    ];
    let mut seen = std::collections::HashSet::new();
    for e in codes {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(SECRET) && !text.contains(mac), "{text}");
        assert!(e.code().starts_with("context_"));
        assert!(seen.insert(e.code()), "duplicate code {}", e.code());
    }
}
