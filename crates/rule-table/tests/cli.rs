//! The `rules` binary, run as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;
use std::process::{Command, Output};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../workers/authz/rules.toml"
);

fn rules(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rules"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn check_seed_ok() {
    let o = rules(&["check", SEED]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(out, "OK: 7 rules\n");
}

#[test]
fn check_prints_warnings() {
    let f = temp_file("warn.toml", "[[rule]]\npath = \"/x\"\n");
    let o = rules(&["check", f.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.starts_with("OK: 1 rules\nwarning: table: has no final catch-all"),
        "{out}"
    );
}

#[test]
fn check_lists_all_errors_and_fails() {
    let f = temp_file("bad.toml", "[[rule]]\npath = \"/a//b\"\n\n[[rule]]\nname = \"n\"\npath = \"/x\"\nmethods = [\"TRACE\"]\n");
    let o = rules(&["check", f.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("rule 1: path \"/a//b\" contains '//'"),
        "{err}"
    );
    assert!(err.contains("rule 2 (\"n\"): method \"TRACE\""), "{err}");
}

#[test]
fn check_missing_file() {
    let o = rules(&["check", "/nonexistent/rules.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("cannot read /nonexistent/rules.toml"));
}

#[test]
fn explain_forbidden_admin_for_user() {
    let o = rules(&[
        "explain",
        SEED,
        "GET",
        "/%61dmin//users",
        "--sub",
        "user",
        "--roles",
        "user",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("normalized path: /admin/users\n"), "{out}");
    assert!(
        out.contains("matched rule: rule 2 (\"admin-area\") path \"/admin/**\""),
        "{out}"
    );
    assert!(
        out.contains("decision: 403 Forbidden [missing_role]"),
        "{out}"
    );
    assert!(
        out.contains("needs one of roles [admin]; identity has [user]"),
        "{out}"
    );
}

#[test]
fn explain_lookalike_paths_and_methods_never_forwarded() {
    let (out, _) = text(&rules(&[
        "explain",
        SEED,
        "GET",
        "/adm%C4%B1n/x",
        "--sub",
        "a",
    ]));
    assert!(out.contains("normalized path: /adm%C4%B1n/x"), "{out}");
    assert!(
        out.contains("decision: 400 Bad Request [path_ascii_lookalike]"),
        "{out}"
    );
    assert!(out.contains("'ı' (U+0131)"), "{out}");
    for method in ["TRACE", "trace", "TRACK", "CONNECT"] {
        let (out, _) = text(&rules(&["explain", SEED, method, "/hello"]));
        assert!(
            out.contains("decision: 405 Method Not Allowed (method_never_forwarded)"),
            "{method}: {out}"
        );
    }
    let (out, _) = text(&rules(&["explain", SEED, "patch", "/hello", "--sub", "a"]));
    assert!(out.contains("ALLOW"), "{out}");
}

#[test]
fn explain_anonymous_and_scope_and_path_error() {
    let (out, _) = text(&rules(&["explain", SEED, "GET", "/hello", "--anonymous"]));
    assert!(out.contains("identity: none (anonymous)"), "{out}");
    assert!(
        out.contains("decision: 401 Unauthorized [no_identity]"),
        "{out}"
    );
    let (out, _) = text(&rules(&[
        "explain",
        SEED,
        "GET",
        "/secret-data/x",
        "--roles",
        "premium",
    ]));
    assert!(
        out.contains("403 Forbidden (insufficient_scope) [missing_scope]"),
        "{out}"
    );
    let (out, _) = text(&rules(&["explain", SEED, "GET", "/admin%2fx"]));
    assert!(
        out.contains("normalized path: rejected (path_encoded_separator)"),
        "{out}"
    );
    assert!(out.contains("decision: 400 Bad Request"), "{out}");
    let (out, _) = text(&rules(&[
        "explain",
        SEED,
        "PUT",
        "/profile/bob",
        "--sub",
        "alice",
    ]));
    assert!(
        out.contains("alternative 1: needs the owner: {id} is \"bob\" but sub is \"alice\""),
        "{out}"
    );
    assert!(
        out.contains("alternative 2: needs one of roles [admin]"),
        "{out}"
    );
}

#[test]
fn usage_errors() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["check"],
        &["explain", SEED, "GET"],
        &["explain", SEED, "GET", "/", "--sub"],
        &["explain", SEED, "GET", "/", "--anonymous", "--sub", "x"],
    ] {
        let o = rules(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(text(&o).1.contains("usage:"), "{args:?}");
    }
}
