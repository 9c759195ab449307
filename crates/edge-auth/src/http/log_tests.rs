use super::*;
use jose_jwt::Algorithm;

#[test]
fn full_line_serializes_to_one_json_object() {
    let line = LogLine::builder(WorkerName::Auth, "8a1b2c3d4e5f6789-SJC")
        .method("GET")
        .path("/items/42?access_token=eyJhbGci.secret.sig#frag")
        .outcome(Outcome::Allowed, "ok")
        .kid("key-2024")
        .alg(Algorithm::Es256)
        .subject("alice")
        .rule(3, "items-read")
        .status(200)
        .build();
    assert_eq!(
        line.to_json(),
        r#"{"request_id":"8a1b2c3d4e5f6789-SJC","worker":"auth","method":"GET","path":"/items/42","outcome":"allowed","reason":"ok","kid":"key-2024","alg":"ES256","sub":"alice","rule":{"index":3,"name":"items-read"},"status":200}"#
    );
}

#[test]
fn a_cached_token_is_marked() {
    let line = LogLine::builder(WorkerName::Auth, "r2")
        .method("GET")
        .path("/")
        .subject("alice")
        .cached()
        .build();
    assert_eq!(
        line.to_json(),
        r#"{"request_id":"r2","worker":"auth","method":"GET","path":"/","outcome":"allowed","reason":"ok","sub":"alice","cached":true,"status":200}"#
    );
}

#[test]
fn a_withheld_email_is_recorded_with_its_reason() {
    for (reason, code) in [
        (EmailWithheld::Unverified, "email_unverified"),
        (EmailWithheld::VerificationMissing, "email_verified_missing"),
    ] {
        let line = LogLine::builder(WorkerName::Auth, "r3")
            .method("GET")
            .path("/")
            .subject("alice")
            .email_withheld(reason)
            .build();
        assert_eq!(
            line.to_json(),
            format!(
                r#"{{"request_id":"r3","worker":"auth","method":"GET","path":"/","outcome":"allowed","reason":"ok","sub":"alice","email_withheld":"{code}","status":200}}"#
            )
        );
    }
}

#[test]
fn minimal_line_omits_optional_fields() {
    let line = LogLine::builder(WorkerName::Authz, "r1")
        .method("POST")
        .path("/x")
        .outcome(Outcome::Forbidden, "no_rule_matched")
        .status(403)
        .build();
    assert_eq!(
        line.to_json(),
        r#"{"request_id":"r1","worker":"authz","method":"POST","path":"/x","outcome":"forbidden","reason":"no_rule_matched","status":403}"#
    );
}

#[test]
fn outcomes_serialize_as_documented() {
    for (o, s) in [
        (Outcome::Allowed, "allowed"),
        (Outcome::Unauthenticated, "unauthenticated"),
        (Outcome::InvalidToken, "invalid_token"),
        (Outcome::JwksUnavailable, "jwks_unavailable"),
        (Outcome::Forbidden, "forbidden"),
        (Outcome::BadRequest, "bad_request"),
        (Outcome::Misconfigured, "misconfigured"),
        (Outcome::Served, "served"),
    ] {
        assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{s}\""));
    }
}

#[test]
fn request_strings_are_cut_and_cleaned() {
    let sig = "A".repeat(86);
    let line = LogLine::builder(WorkerName::Auth, "r\n1")
        .method("GET\r\nX")
        .path("/a\u{7f}b\nc")
        .kid(&sig)
        .subject("bob\u{e9}")
        .build();
    let json = line.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["request_id"], "r?1");
    assert_eq!(v["method"], "GET??X");
    assert_eq!(v["path"], "/a?b?c");
    assert_eq!(v["kid"].as_str().unwrap().len(), 64);
    assert_eq!(v["sub"], "bob?");
    assert!(!json.contains('\n'));
}

#[test]
fn long_path_is_capped() {
    let path = format!("/{}", "p".repeat(1000));
    let line = LogLine::builder(WorkerName::Auth, "r").path(&path).build();
    let v: serde_json::Value = serde_json::from_str(&line.to_json()).unwrap();
    assert_eq!(v["path"].as_str().unwrap().len(), 256);
}

#[test]
fn request_id_prefers_a_well_formed_cf_ray() {
    let fallback = || "generated".to_owned();
    assert_eq!(
        request_id(Some("8a1b2c3d4e5f6789-SJC"), fallback),
        "8a1b2c3d4e5f6789-SJC"
    );
    for bad in ["", "has space", "semi;colon", "a\nb", "ü", &"a".repeat(65)] {
        assert_eq!(request_id(Some(bad), fallback), "generated", "{bad:?}");
    }
    assert_eq!(request_id(None, fallback), "generated");
    assert_eq!(request_id(Some(&"a".repeat(64)), fallback).len(), 64);
}
