use super::*;
use rule_table::RuleTable;

/// Values a claim could hold that a header or a JSON text must not be broken by.
const HOSTILE: &[&str] = &[
    "quote\"d",
    "back\\slash",
    "cr\rlf\nX-Injected: 1",
    "nul\0byte",
    "</script><script>alert(1)</script>",
    "caf\u{e9}",
    "emoji \u{1f600}",
    "\u{202e}bidi",
    "tab\there",
    "",
];

fn table(headers: &str) -> RuleTable {
    let src = format!(
        "[upstream.u]\nurl = \"https://u.example\"\n{headers}\n[[rule]]\npath = \"/**\"\nupstream = \"u\"\n"
    );
    match RuleTable::from_toml(&src) {
        Ok(c) => c.table,
        Err(e) => panic!("{e}\n{src}"),
    }
}

fn upstream(t: &RuleTable) -> &Upstream {
    t.upstreams().next().expect("one upstream")
}

fn identity(value: &str) -> Identity {
    Identity {
        sub: value.into(),
        roles: vec![value.into(), "plain".into()],
        scopes: vec![],
        email: Some(value.into()),
        exp: 0,
        issuer: value.into(),
        act: None,
    }
}

/// Every placeholder but `{roles}`, with `value` in it (`request_id` passed as a value too).
const TEXT_PLACEHOLDERS: [&str; 4] = ["sub", "email", "iss", "request_id"];

#[test]
fn json_templates_carry_any_value_as_ascii_json_that_parses_back_to_it() {
    for name in TEXT_PLACEHOLDERS {
        let t = table(&format!(
            "headers.x-meta = {{ json = {{ v = \"<{{{name}}}>\", n = 1 }} }}"
        ));
        for value in HOSTILE {
            let headers = render_headers(upstream(&t), Some(&identity(value)), Some(value))
                .unwrap_or_else(|e| panic!("{name} {value:?}: {e}"));
            let [(header, rendered)] = headers.as_slice() else {
                panic!("{headers:?}")
            };
            assert_eq!(header, "x-meta");
            assert!(
                rendered.bytes().all(|b| (0x20..=0x7e).contains(&b)),
                "{name} {value:?}: {rendered}"
            );
            let back: serde_json::Value = serde_json::from_str(rendered).unwrap();
            assert_eq!(back["v"], format!("<{value}>"), "{name}: {rendered}");
            assert_eq!(back["n"], 1);
        }
    }
    // {roles} alone is the roles' array; inside text it is the array's JSON text.
    let t = table("headers.x-meta = { json = { r = \"{roles}\", t = \"r={roles}\" } }");
    for value in HOSTILE {
        let id = identity(value);
        let headers = render_headers(upstream(&t), Some(&id), None).unwrap();
        let back: serde_json::Value = serde_json::from_str(&headers[0].1).unwrap();
        assert_eq!(back["r"], serde_json::json!(id.roles), "{value:?}");
        let text = back["t"].as_str().unwrap();
        let roles: Vec<String> = serde_json::from_str(text.trim_start_matches("r=")).unwrap();
        assert_eq!(roles, id.roles);
    }
}

#[test]
fn json_escaping_matches_a_known_answer() {
    // python3 -c 'import json; print(json.dumps({"user_id": "a\"b\\c\r\n\x00</script>é😀", "n": 1},
    //             separators=(",", ":"), sort_keys=True))'
    let expected = r#"{"n":1,"user_id":"a\"b\\c\r\n\u0000</script>\u00e9\ud83d\ude00"}"#;
    let t = table("headers.cf-aig-metadata = { json = { user_id = \"{email}\", n = 1 } }");
    let id = identity("a\"b\\c\r\n\0</script>\u{e9}\u{1f600}");
    let headers = render_headers(upstream(&t), Some(&id), None).unwrap();
    assert_eq!(
        headers,
        [("cf-aig-metadata".to_owned(), expected.to_owned())]
    );
}

#[test]
fn plain_templates_refuse_values_that_are_not_header_safe() {
    for name in TEXT_PLACEHOLDERS {
        let t = table(&format!("headers.x-who = \"<{{{name}}}>\""));
        for value in HOSTILE {
            let result = render_headers(upstream(&t), Some(&identity(value)), Some(value));
            let safe = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
            match result {
                Ok(h) if safe => assert_eq!(h, [("x-who".to_owned(), format!("<{value}>"))]),
                Err(UpstreamError::UnsafeHeaderValue { upstream, header }) if !safe => {
                    assert_eq!((upstream.as_str(), header.as_str()), ("u", "x-who"));
                }
                other => panic!("{name} {value:?}: {other:?}"),
            }
        }
    }
    // {roles} is escaped JSON, so it always fits in a header.
    let t = table("headers.x-roles = \"{roles}\"");
    for value in HOSTILE {
        let id = identity(value);
        let h = render_headers(upstream(&t), Some(&id), None).unwrap();
        let back: Vec<String> = serde_json::from_str(&h[0].1).unwrap();
        assert_eq!(back, id.roles);
    }
}

#[test]
fn missing_values_omit_a_plain_header_and_are_empty_in_json() {
    let t = table(concat!(
        "headers.x-email = \"{email}\"\nheaders.x-rid = \"{request_id}\"\n",
        "headers.x-meta = { json = { user_id = \"{email}\", sub = \"{sub}\", roles = \"{roles}\" } }"
    ));
    let no_email = Identity {
        email: None,
        ..identity("alice")
    };
    let h = render_headers(upstream(&t), Some(&no_email), None).unwrap();
    assert_eq!(
        h,
        [(
            "x-meta".to_owned(),
            r#"{"roles":["alice","plain"],"sub":"alice","user_id":""}"#.to_owned()
        )]
    );
    let h = render_headers(upstream(&t), None, Some("r-1")).unwrap();
    assert_eq!(
        h,
        [
            (
                "x-meta".to_owned(),
                r#"{"roles":"","sub":"","user_id":""}"#.to_owned()
            ),
            ("x-rid".to_owned(), "r-1".to_owned()),
        ]
    );
}

#[test]
fn the_bearer_secret_must_be_set_and_header_safe() {
    assert_eq!(
        bearer("ai", "T", Some("tok-1".into())).unwrap(),
        "Bearer tok-1"
    );
    assert_eq!(
        bearer("ai", "T", Some(" tok-1\n".into())).unwrap(),
        "Bearer tok-1"
    );
    for (value, code) in [
        (None, "upstream_secret_missing"),
        (Some(""), "upstream_secret_missing"),
        (Some(" \n"), "upstream_secret_missing"),
        (Some("sekrit one"), "upstream_secret_unusable"),
        (Some("sekrit\r\nX: 1"), "upstream_secret_unusable"),
        (Some("sekrit\0"), "upstream_secret_unusable"),
        (Some("sekrit\u{e9}"), "upstream_secret_unusable"),
    ] {
        let e = bearer("ai", "CF_AI_GATEWAY_TOKEN", value.map(str::to_owned)).unwrap_err();
        assert_eq!(
            (e.code(), e.name(), e.upstream()),
            (code, "CF_AI_GATEWAY_TOKEN", "ai")
        );
        let text = e.to_string();
        assert!(text.contains("CF_AI_GATEWAY_TOKEN"), "{text}");
        if let Some(v) = value.filter(|v| v.trim().len() > 1) {
            assert!(!text.contains("sekrit"), "the value leaked: {text} ({v:?})");
        }
    }
}

#[test]
fn a_url_override_is_checked_like_the_tables_url() {
    let t = RuleTable::from_toml(concat!(
        "[upstream.ai]\nurl = \"https://gw.example/base\"\nurl_var = \"AI_URL\"\n",
        "[upstream.other]\nurl = \"https://other.example\"\n",
        "[[rule]]\npath = \"/ai/**\"\nupstream = \"ai\"\n",
        "[[rule]]\npath = \"/**\"\nupstream = \"other\"\n",
    ))
    .unwrap()
    .table;
    let ai = t.upstreams().find(|u| u.name() == "ai").unwrap();
    let other = t.upstreams().find(|u| u.name() == "other").unwrap();
    let with = |value: Option<&str>| {
        let value = value.map(str::to_owned);
        UpstreamUrls::from_env(&t, move |name| {
            (name == "AI_URL").then(|| value.clone()).flatten()
        })
    };
    assert_eq!(
        with(None).url(ai).unwrap().to_string(),
        "https://gw.example/base"
    );
    assert_eq!(
        with(Some("  ")).url(ai).unwrap().to_string(),
        "https://gw.example/base"
    );
    assert_eq!(
        with(Some("http://127.0.0.1:9/x/"))
            .url(ai)
            .unwrap()
            .to_string(),
        "http://127.0.0.1:9/x"
    );
    for (bad, problem) in [
        ("http://gw.example/", "url_not_https"),
        ("https://gw.example/?q", "url_query"),
        ("nonsense", "url_not_absolute"),
    ] {
        let urls = with(Some(bad));
        let e = urls.url(ai).unwrap_err();
        assert_eq!(
            (e.code(), e.name(), e.problem()),
            ("upstream_url_invalid", "AI_URL", Some(problem))
        );
        // Only that upstream is affected.
        assert_eq!(
            urls.url(other).unwrap().to_string(),
            "https://other.example"
        );
    }
}
