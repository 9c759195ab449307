//! Known-answer tests for path normalization, including the bypass classes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rule_table::{normalize_path, PathError, MAX_PATH_LEN};

fn ok(raw: &str) -> String {
    match normalize_path(raw) {
        Ok(p) => p.as_str().to_owned(),
        Err(e) => panic!("{raw:?} rejected: {e}"),
    }
}

fn err(raw: &str) -> PathError {
    match normalize_path(raw) {
        Ok(p) => panic!("{raw:?} accepted as {:?}", p.as_str()),
        Err(e) => e,
    }
}

#[test]
fn bypass_classes_normalize_to_the_protected_path() {
    assert_eq!(ok("/%61dmin/x"), "/admin/x");
    assert_eq!(ok("//admin/x"), "/admin/x");
    assert_eq!(ok("/ADMIN/x"), "/ADMIN/x");
    assert_eq!(ok("/x/../admin/x"), "/admin/x");
    assert_eq!(ok("/x/%2e%2e/admin/x"), "/admin/x");
    assert_eq!(ok("/x/.%2E/admin/x"), "/admin/x");
    assert_eq!(ok("/x/%2E./admin/x"), "/admin/x");
    assert_eq!(ok("/./admin/./x"), "/admin/x");
    assert_eq!(ok("/%2e/admin"), "/admin");
    assert_eq!(ok("///admin///x"), "/admin/x");
}

#[test]
fn bypass_classes_are_rejected() {
    assert_eq!(err("/admin%2fx"), PathError::EncodedSeparator);
    assert_eq!(err("/admin%2Fx"), PathError::EncodedSeparator);
    assert_eq!(err("/admin%5cx"), PathError::EncodedSeparator);
    assert_eq!(err("/admin%252fx"), PathError::DoubleEncoding);
    assert_eq!(err("/admin%252Fx"), PathError::DoubleEncoding);
    // The hex digits after %25 may themselves be encoded: still double encoding.
    assert_eq!(err("/admin%25%32%66x"), PathError::DoubleEncoding);
    assert_eq!(err("/admin;x/y"), PathError::Semicolon);
    assert_eq!(err("/..;/admin"), PathError::Semicolon);
    assert_eq!(err("/admin%3bx"), PathError::Semicolon);
    assert_eq!(err("/admin\\x"), PathError::Backslash);
    assert_eq!(err("/%c0%ae%c0%ae/admin"), PathError::InvalidUtf8);
    assert_eq!(err("/../x"), PathError::AboveRoot);
    assert_eq!(err("/a/../../x"), PathError::AboveRoot);
    assert_eq!(err("/%2e%2e/x"), PathError::AboveRoot);
}

#[test]
fn escapes() {
    // Unreserved decoded (ALPHA, DIGIT, - . _ ~), others kept with upper-case hex.
    assert_eq!(ok("/%41%7a%30%2D%5f%7E"), "/Az0-_~");
    assert_eq!(ok("/a%3fb"), "/a%3Fb");
    assert_eq!(ok("/a%20b"), "/a%20b");
    assert_eq!(ok("/50%25"), "/50%25");
    assert_eq!(ok("/50%25zz"), "/50%25zz");
    assert_eq!(ok("/caf%c3%a9"), "/caf%C3%A9");
    assert_eq!(ok("/%f0%9f%98%80"), "/%F0%9F%98%80");
    assert_eq!(err("/a%G1"), PathError::InvalidEscape);
    assert_eq!(err("/a%4"), PathError::InvalidEscape);
    assert_eq!(err("/a%"), PathError::InvalidEscape);
    assert_eq!(err("/%ff"), PathError::InvalidUtf8);
    assert_eq!(err("/%c3"), PathError::InvalidUtf8);
    assert_eq!(err("/%c3a"), PathError::InvalidUtf8);
    assert_eq!(err("/%ed%a0%80"), PathError::InvalidUtf8); // UTF-16 surrogate
    assert_eq!(err("/%e0%80%af"), PathError::InvalidUtf8); // overlong '/'
}

#[test]
fn raw_characters() {
    assert_eq!(ok("/a b"), "/a%20b");
    assert_eq!(ok("/a|b{c}"), "/a%7Cb%7Bc%7D");
    assert_eq!(ok("/a!$&'()*+,=:@b"), "/a!$&'()*+,=:@b");
    assert_eq!(err("/a\0b"), PathError::ControlCharacter);
    assert_eq!(err("/a\tb"), PathError::ControlCharacter);
    assert_eq!(err("/a\u{7f}"), PathError::ControlCharacter);
    assert_eq!(err("/a%00"), PathError::ControlCharacter);
    assert_eq!(err("/a%0a"), PathError::ControlCharacter);
    assert_eq!(err("/a%7F"), PathError::ControlCharacter);
    assert_eq!(err("/café"), PathError::NonAscii);
    assert_eq!(err("/a?b=1"), PathError::QueryOrFragment);
    assert_eq!(err("/a#frag"), PathError::QueryOrFragment);
}

#[test]
fn structure() {
    assert_eq!(ok("/"), "/");
    assert_eq!(ok("//"), "/");
    assert_eq!(ok("/."), "/");
    assert_eq!(ok("/a/.."), "/");
    assert_eq!(ok("/a/"), "/a/");
    assert_eq!(ok("/a//"), "/a/");
    assert_eq!(ok("/a/b/.."), "/a/");
    assert_eq!(ok("/a/."), "/a/");
    assert_eq!(ok("/a/./b"), "/a/b");
    assert_eq!(err(""), PathError::NotAbsolute);
    assert_eq!(err("admin"), PathError::NotAbsolute);
    assert_eq!(err("%2Fadmin"), PathError::NotAbsolute);
}

#[test]
fn segments_are_decoded_for_matching() {
    let p = normalize_path("/caf%C3%A9/a%20b/").unwrap();
    assert_eq!(p.segment_count(), 2);
    assert_eq!(p.segment(0), Some("café"));
    assert_eq!(p.segment(1), Some("a b"));
    assert_eq!(p.segment(2), None);
    assert_eq!(p.segments().collect::<Vec<_>>(), ["café", "a b"]);
}

#[test]
fn length_limit() {
    let long = format!("/{}", "a".repeat(MAX_PATH_LEN));
    assert_eq!(err(&long), PathError::TooLong);
    let fits = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
    assert_eq!(ok(&fits).len(), MAX_PATH_LEN);
    // Encoding raw characters can grow a path past the limit.
    let grows = format!("/{}", " ".repeat(3000));
    assert_eq!(err(&grows), PathError::TooLong);
}

#[test]
fn idempotent_on_examples() {
    for raw in [
        "/%61dmin/x",
        "/a%20b/",
        "/caf%c3%a9",
        "/a|b",
        "/50%25zz",
        "/x/%2e%2e/y/.",
    ] {
        let once = ok(raw);
        assert_eq!(ok(&once), once, "{raw:?}");
    }
}

#[test]
fn errors_have_codes_and_advice() {
    let e = err("/a%2fb");
    assert_eq!(e.code(), "path_encoded_separator");
    assert!(e.to_string().contains("%2F"), "{e}");
    assert_eq!(err("/../x").code(), "path_above_root");
}
