use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_700_000_000;

/// The request the vectors are bound to.
const METHOD: &str = "GET";
const URL: &str = "https://api.example/orders/7?expand=items";
const REQUEST_ID: &str = "8f3a2b1c4d5e6f70-AMS";

/// Computed independently (Python `hashlib`/`struct`/`base64`): SHA-256 over
/// `u64be(3) "GET" u64be(22) "/orders/7?expand=items" u64be(20) "8f3a2b1c4d5e6f70-AMS"`.
const BINDING_DIGEST: &str = "E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI";

/// Computed independently (Python `hmac`/`base64`) from SECRET and the
/// payload `{"sub":"alice","roles":["admin"],"scopes":["read"],
/// "email":"a@example.com","exp":1700000600,"iss":"https://idp.example",
/// "iat":1700000000,"req":BINDING_DIGEST}`.
const ALICE_VECTOR: &str = "v2.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl0sInNjb3BlcyI6WyJyZWFkIl0sImVtYWlsIjoiYUBleGFtcGxlLmNvbSIsImV4cCI6MTcwMDAwMDYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMCwicmVxIjoiRTc3d21WOXJrdW5YSjd6bXhzVEEtUmpuNEpZRkQ2MnRNYzBGUEpQTzVSSSJ9.m6PNkoExwLsd9wEtqRfU55STAjTfzPdFR9855Rh7j_0";
/// Same, for `{"sub":"bob","roles":[],"scopes":[],"exp":1700000600,
/// "iss":"https://idp.example","iat":1700000000,"req":BINDING_DIGEST}` (no email).
const BOB_VECTOR: &str = "v2.eyJzdWIiOiJib2IiLCJyb2xlcyI6W10sInNjb3BlcyI6W10sImV4cCI6MTcwMDAwMDYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMCwicmVxIjoiRTc3d21WOXJrdW5YSjd6bXhzVEEtUmpuNEpZRkQ2MnRNYzBGUEpQTzVSSSJ9.418RefiIkOIXiuNxDuK5v3zq8kmj_1DMNPoGbIrpY_Y";
/// A genuine `v1` context (the format before request binding), signed with SECRET.
const ALICE_V1: &str = "v1.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl0sInNjb3BlcyI6WyJyZWFkIl0sImVtYWlsIjoiYUBleGFtcGxlLmNvbSIsImV4cCI6MTcwMDAwMDYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMH0.e10MVekiM4VEiHnqUFbItiOzbTBlS4OJZKOYol9OOuQ";

/// The binding of `method url` with `request_id`, built the way the Workers build it.
fn bound(
    method: &'static str,
    url: &'static str,
    request_id: &'static str,
) -> RequestBinding<'static> {
    let url = RequestUrl::split(url).unwrap();
    RequestBinding::new(method, &url, request_id)
}

/// The request the vectors were signed for.
fn binding() -> RequestBinding<'static> {
    bound(METHOD, URL, REQUEST_ID)
}

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
        act: None,
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
        act: None,
    }
}

/// A validly signed context around an arbitrary JSON payload.
fn forge(json: &str, key: &ContextKey) -> String {
    let signed = format!("v2.{}", URL_SAFE_NO_PAD.encode(json));
    let tag = key.tag(&[signed.as_bytes()]).finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// `verify_context` for the vectors' request.
fn verify(value: &str, key: &ContextKey, now: i64, max_age: i64) -> Result<Identity, ContextError> {
    verify_context(value, key, &binding(), now, max_age)
}

/// `sign_context` for the vectors' request.
fn sign(id: &Identity, key: &ContextKey, now: i64) -> String {
    sign_context(id, key, &binding(), now)
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
fn binding_digest_matches_the_independently_computed_vector() {
    assert_eq!(binding().digest_b64(), BINDING_DIGEST);
}

#[test]
fn signing_matches_the_independently_computed_vectors() {
    assert_eq!(sign(&alice(), &key(), NOW), ALICE_VECTOR);
    assert_eq!(sign(&bob(), &key(), NOW), BOB_VECTOR);
}

#[test]
fn verifying_the_vectors_returns_the_identity() {
    assert_eq!(verify(ALICE_VECTOR, &key(), NOW, 60), Ok(alice()));
    assert_eq!(verify(BOB_VECTOR, &key(), NOW + 60, 60), Ok(bob()));
}

#[test]
fn a_context_verifies_only_for_the_request_it_was_signed_for() {
    let k = key();
    let other_requests = [
        // Another method, including the same one spelled otherwise.
        ("POST", URL, REQUEST_ID),
        ("DELETE", URL, REQUEST_ID),
        ("HEAD", URL, REQUEST_ID),
        ("get", URL, REQUEST_ID),
        ("GET ", URL, REQUEST_ID),
        // Another path, including ones a normalizer might call the same.
        (
            "GET",
            "https://api.example/orders/8?expand=items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/admin/x?expand=items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/orders/7/?expand=items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/Orders/7?expand=items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/orders/%37?expand=items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/orders//7?expand=items",
            REQUEST_ID,
        ),
        // Another query: changed, extended, reordered, empty, or none at all.
        (
            "GET",
            "https://api.example/orders/7?expand=Items",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/orders/7?expand=items&admin=1",
            REQUEST_ID,
        ),
        (
            "GET",
            "https://api.example/orders/7?admin=1&expand=items",
            REQUEST_ID,
        ),
        ("GET", "https://api.example/orders/7?", REQUEST_ID),
        ("GET", "https://api.example/orders/7", REQUEST_ID),
        // Another request id: changed, longer, shorter, or missing.
        ("GET", URL, "8f3a2b1c4d5e6f71-AMS"),
        ("GET", URL, "8f3a2b1c4d5e6f70-AMS-2"),
        ("GET", URL, "8f3a2b1c4d5e6f70"),
        ("GET", URL, ""),
    ];
    for (method, url, request_id) in other_requests {
        let other = bound(method, url, request_id);
        let result = verify_context(ALICE_VECTOR, &k, &other, NOW, 60);
        assert_eq!(
            result,
            Err(ContextError::Mismatch),
            "{method} {url} {request_id:?}"
        );
        assert_eq!(ContextError::Mismatch.code(), "context_mismatch");
        // And the other way round: signed for the other request, presented on this one.
        let signed = sign_context(&alice(), &k, &other, NOW);
        assert_eq!(
            verify(&signed, &k, NOW, 60),
            Err(ContextError::Mismatch),
            "{method} {url}"
        );
    }
    // The host is not part of the binding: the authz Worker may be reached under another name.
    let elsewhere = bound(
        METHOD,
        "http://authz.internal/orders/7?expand=items",
        REQUEST_ID,
    );
    assert_eq!(
        verify_context(ALICE_VECTOR, &k, &elsewhere, NOW, 60),
        Ok(alice())
    );
}

#[test]
fn no_query_and_an_empty_query_are_different_requests() {
    let k = key();
    let bare = bound("GET", "https://h/a", "r");
    let empty = bound("GET", "https://h/a?", "r");
    let fragment = bound("GET", "https://h/a#f", "r");
    for (signed_for, presented_on, expected) in [
        (bare, empty, Err(ContextError::Mismatch)),
        (empty, bare, Err(ContextError::Mismatch)),
        // A fragment never reaches a server; it is not part of the request.
        (bare, fragment, Ok(alice())),
    ] {
        let header = sign_context(&alice(), &k, &signed_for, NOW);
        assert_eq!(
            verify_context(&header, &k, &presented_on, NOW, 60),
            expected
        );
    }
}

#[test]
fn field_boundaries_cannot_be_shifted() {
    // Every one of these concatenates to the same bytes; none may verify as another.
    let same_bytes = [
        RequestBinding {
            method: "GET /a",
            path_and_query: "",
            request_id: "",
        },
        RequestBinding {
            method: "GET",
            path_and_query: " /a",
            request_id: "",
        },
        RequestBinding {
            method: "GET",
            path_and_query: "",
            request_id: " /a",
        },
        RequestBinding {
            method: "",
            path_and_query: "GET /a",
            request_id: "",
        },
        RequestBinding {
            method: "GET ",
            path_and_query: "/a",
            request_id: "",
        },
        RequestBinding {
            method: "GET",
            path_and_query: " /",
            request_id: "a",
        },
    ];
    let k = key();
    for (i, signed_for) in same_bytes.iter().enumerate() {
        let header = sign_context(&alice(), &k, signed_for, NOW);
        for (j, presented_on) in same_bytes.iter().enumerate() {
            let result = verify_context(&header, &k, presented_on, NOW, 60);
            if i == j {
                assert_eq!(result, Ok(alice()));
            } else {
                assert_eq!(
                    result,
                    Err(ContextError::Mismatch),
                    "{signed_for:?} vs {presented_on:?}"
                );
            }
        }
    }
}

#[test]
fn an_exact_replay_verifies_inside_the_window_and_is_stale_after_it() {
    let k = key();
    // The same request again (same method, path, query and request id): what the binding
    // leaves to a captured context is this request, for the freshness window.
    for later in [0, 1, 30, 60] {
        assert_eq!(
            verify(ALICE_VECTOR, &k, NOW + later, 60),
            Ok(alice()),
            "+{later} s"
        );
    }
    assert_eq!(
        verify(ALICE_VECTOR, &k, NOW + 61, 60),
        Err(ContextError::Stale)
    );
    // Another request is a mismatch whatever the time: the binding is checked first.
    let other = bound("DELETE", URL, REQUEST_ID);
    for later in [0, 61, 10_000] {
        assert_eq!(
            verify_context(ALICE_VECTOR, &k, &other, NOW + later, 60),
            Err(ContextError::Mismatch)
        );
    }
}

#[test]
fn a_v1_context_is_an_unsupported_version() {
    // Genuinely signed with the shared secret, but unbound: refused before its MAC is read.
    assert_eq!(
        verify(ALICE_V1, &key(), NOW, 60),
        Err(ContextError::UnsupportedVersion)
    );
    assert_eq!(
        ContextError::UnsupportedVersion.code(),
        "context_unsupported_version"
    );
    // The same payload and MAC relabelled v2 is a bad signature: the version is signed.
    let relabelled = ALICE_V1.replacen("v1.", "v2.", 1);
    assert_eq!(
        verify(&relabelled, &key(), NOW, 60),
        Err(ContextError::BadSignature)
    );
}

#[test]
fn round_trip_keeps_unusual_strings() {
    let id = Identity {
        sub: "auth0|ü\"\\\n".into(),
        roles: vec!["😀".into(), String::new()],
        ..alice()
    };
    let header = sign(&id, &key(), NOW);
    assert_eq!(verify(&header, &key(), NOW, 60), Ok(id));
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
            let result = verify(&tampered, &k, NOW, 60);
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
    let spliced = format!("v2.{alice_payload}.{bob_mac}");
    assert_eq!(
        verify(&spliced, &key(), NOW, 60),
        Err(ContextError::BadSignature)
    );
    // Garbage payload under a wrong MAC is also BadSignature (no parsing first).
    let garbage = format!("v2.!!!!.{bob_mac}");
    assert_eq!(
        verify(&garbage, &key(), NOW, 60),
        Err(ContextError::BadSignature)
    );
}

#[test]
fn wrong_key_fails() {
    let other = ContextKey::new("fedcba9876543210fedcba9876543210").unwrap();
    assert_eq!(
        verify(ALICE_VECTOR, &other, NOW, 60),
        Err(ContextError::BadSignature)
    );
}

#[test]
fn freshness_window() {
    let k = key();
    // Exactly max_age old is accepted, one second more is stale.
    assert!(verify(ALICE_VECTOR, &k, NOW + 60, 60).is_ok());
    assert_eq!(
        verify(ALICE_VECTOR, &k, NOW + 61, 60),
        Err(ContextError::Stale)
    );
    assert_eq!(
        verify(ALICE_VECTOR, &k, NOW + 10, 5),
        Err(ContextError::Stale)
    );
    // A little drift into the future is tolerated, more is not.
    assert!(verify(ALICE_VECTOR, &k, NOW - CONTEXT_FUTURE_SKEW_SECONDS, 60).is_ok());
    assert_eq!(
        verify(ALICE_VECTOR, &k, NOW - CONTEXT_FUTURE_SKEW_SECONDS - 1, 60),
        Err(ContextError::FromFuture)
    );
    // A negative max age accepts nothing older than "now".
    assert_eq!(
        verify(ALICE_VECTOR, &k, NOW + 1, -10),
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
        verify(&sign(&dead, &k, NOW), &k, NOW, 60),
        Err(ContextError::Expired)
    );
    // Within the auth Worker's maximum leeway it still passes.
    let borderline = Identity {
        exp: NOW - grace + 1,
        ..alice()
    };
    assert!(verify(&sign(&borderline, &k, NOW), &k, NOW, 60).is_ok());
}

#[test]
fn malformed_shapes() {
    let k = key();
    let mac = BOB_VECTOR.rsplit('.').next().unwrap();
    for (value, expected) in [
        ("", ContextError::Malformed),
        ("v2", ContextError::Malformed),
        ("v2.abc", ContextError::Malformed),
        ("v2..", ContextError::Malformed),
        ("v2.abc.def.ghi", ContextError::Malformed),
        ("v1.abc.def", ContextError::UnsupportedVersion),
        ("v3.abc.def", ContextError::UnsupportedVersion),
        ("V2.abc.def", ContextError::UnsupportedVersion),
        ("v2.abc.short", ContextError::Malformed),
    ] {
        assert_eq!(verify(value, &k, NOW, 60), Err(expected), "{value:?}");
    }
    // Padding, standard-alphabet characters and non-canonical trailing bits
    // are rejected in the MAC (a 43-char tag must decode strictly).
    let padded_len = format!("v2.abc.{}=", &mac[..42]);
    let std_alphabet = format!("v2.abc.{}+", &mac[..42]);
    let last = mac.as_bytes()[42];
    let sloppy_bits = format!("v2.abc.{}{}", &mac[..42], (last ^ 1) as char);
    for value in [padded_len, std_alphabet] {
        assert_eq!(verify(&value, &k, NOW, 60), Err(ContextError::Malformed));
    }
    assert!(verify(&sloppy_bits, &k, NOW, 60).is_err());
    let empty_payload = format!("v2..{mac}");
    assert_eq!(
        verify(&empty_payload, &k, NOW, 60),
        Err(ContextError::Malformed)
    );
}

#[test]
fn size_limit_is_checked_first() {
    let huge = format!("v1.{}", "a".repeat(MAX_CONTEXT_HEADER_BYTES));
    assert_eq!(verify(&huge, &key(), NOW, 60), Err(ContextError::TooLarge));
}

#[test]
fn signed_but_invalid_payloads() {
    let k = key();
    for json in [
        "not json",
        "{}",
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1,"iss":"i","req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI"}"#,
        r#"{"sub":"","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI"}"#,
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI"}"#,
        r#"{"sub":"a","roles":"admin","scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI"}"#,
        r#"{"sub":"a","sub":"b","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI"}"#,
        // A v2 payload without its binding, or with one that is not a string, is not one.
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000}"#,
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":null}"#,
        r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":["GET","/orders/7?expand=items"]}"#,
    ] {
        assert_eq!(
            verify(&forge(json, &k), &k, NOW, 60),
            Err(ContextError::InvalidPayload),
            "{json}"
        );
    }
    // A binding that is a string but not this request's digest is a mismatch.
    for req in [
        "",
        "E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5R",
        "e77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI",
    ] {
        let json = format!(
            r#"{{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"{req}"}}"#
        );
        assert_eq!(
            verify(&forge(&json, &k), &k, NOW, 60),
            Err(ContextError::Mismatch),
            "{req:?}"
        );
    }
    // Unknown fields are tolerated (additive changes stay v2).
    let extra = r#"{"sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI","tenant":"t"}"#;
    assert!(verify(&forge(extra, &k), &k, NOW, 60).is_ok());
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
        ContextError::Mismatch,
    ];
    let mut seen = std::collections::HashSet::new();
    for e in codes {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(SECRET) && !text.contains(mac), "{text}");
        assert!(e.code().starts_with("context_"));
        assert!(seen.insert(e.code()), "duplicate code {}", e.code());
    }
}

#[test]
fn the_act_chain_travels_in_the_payload_after_iss_and_comes_back_validated() {
    let act: crate::Actor = serde_json::from_str(r#"{"sub":"svc","act":{"sub":"cli"}}"#).unwrap();
    let delegated = Identity {
        act: Some(act),
        ..alice()
    };
    let value = sign(&delegated, &key(), NOW);
    let payload = value.split('.').nth(1).unwrap();
    let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(
        json.contains(
            r#""iss":"https://idp.example","act":{"act":{"sub":"cli"},"sub":"svc"},"iat":"#
        ),
        "{json}"
    );
    assert_eq!(verify(&value, &key(), NOW, 60), Ok(delegated));
    // Without `act` the payload is byte for byte what it was (the vectors above still hold).
    assert!(!sign(&alice(), &key(), NOW).contains("act"));
}

#[test]
fn a_signed_act_over_its_bounds_or_of_the_wrong_shape_is_an_invalid_payload() {
    let k = key();
    let base = r#""sub":"a","roles":[],"scopes":[],"exp":1800000000,"iss":"i","iat":1700000000,"req":"E77wmV9rkunXJ7zmxsTA-Rjn4JYFD62tMc0FPJPO5RI""#;
    let too_deep =
        r#"{"sub":"1","act":{"sub":"2","act":{"sub":"3","act":{"sub":"4","act":{"sub":"5"}}}}}"#;
    let too_long = format!(r#"{{"sub":"{}"}}"#, "x".repeat(crate::MAX_ACT_BYTES));
    for act in [too_deep, &too_long, r#""svc""#, r#"{"sub":1}"#, "[]"] {
        let json = format!("{{{base},\"act\":{act}}}");
        assert_eq!(
            verify(&forge(&json, &k), &k, NOW, 60),
            Err(ContextError::InvalidPayload),
            "{act}"
        );
    }
    let fine = format!(r#"{{{base},"act":{{"sub":"svc"}}}}"#);
    assert!(verify(&forge(&fine, &k), &k, NOW, 60)
        .unwrap()
        .act
        .is_some());
}
