//! Decision cost on a generated 200-rule table, the matching rule near the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rule_table::{normalize_path, Method, Principal, RuleTable};

/// 66 groups of (literal, param, `**`) rules plus two more: 200 rules.
fn table() -> RuleTable {
    let mut src = String::new();
    for i in 0..66 {
        src.push_str(&format!(
            "[[rule]]\npath = \"/svc{i}/health\"\nmethods = [\"GET\"]\nallow = \"public\"\n\n\
             [[rule]]\npath = \"/svc{i}/items/{{id}}\"\nmethods = [\"GET\", \"PUT\"]\nany_of = [{{ owner = \"id\" }}, {{ roles_any = [\"admin\"] }}]\n\n\
             [[rule]]\npath = \"/svc{i}/admin/**\"\nroles_any = [\"admin\"]\n\n"
        ));
    }
    src.push_str("[[rule]]\npath = \"/secret-data/**\"\nscopes_any = [\"premium\"]\n\n[[rule]]\npath = \"/**\"\n");
    let c = RuleTable::from_toml(&src).unwrap();
    assert_eq!(c.table.len(), 200);
    c.table
}

fn bench(c: &mut Criterion) {
    let t = table();
    let user = Principal {
        sub: "u42".into(),
        roles: vec!["user".into()],
        scopes: vec!["read".into()],
    };
    // Rule 197 (param rule of the last group), owner check passes.
    let near_end = normalize_path("/svc65/items/u42").unwrap();
    // Falls through every rule but the catch-all.
    let last = normalize_path("/other/thing").unwrap();
    let raw = "/svc65/./items/%75%342";
    assert_eq!(
        t.decide(&Method::Put, &near_end, Some(&user))
            .rule
            .unwrap()
            .index,
        197
    );
    assert_eq!(
        t.decide(&Method::Get, &last, Some(&user))
            .rule
            .unwrap()
            .index,
        200
    );

    c.bench_function("decide rule 197 of 200", |b| {
        b.iter(|| {
            t.decide(
                black_box(&Method::Put),
                black_box(&near_end),
                Some(black_box(&user)),
            )
        })
    });
    c.bench_function("decide rule 200 of 200 (catch-all)", |b| {
        b.iter(|| {
            t.decide(
                black_box(&Method::Get),
                black_box(&last),
                Some(black_box(&user)),
            )
        })
    });
    c.bench_function("normalize + decide rule 197", |b| {
        b.iter(|| {
            let p = normalize_path(black_box(raw)).unwrap();
            t.decide(&Method::Put, &p, Some(&user))
        })
    });
}

/// One rule holding every condition kind, all of which pass, and an `any_of` whose last
/// alternative holds: the cost of evaluating conditions rather than finding the rule.
fn bench_conditions(c: &mut Criterion) {
    let t = RuleTable::from_toml(
        "[[rule]]\npath = \"/u/{id}/**\"\nroles_any = [\"x\", \"user\"]\nroles_all = [\"user\", \"staff\"]\n\
         scopes_any = [\"read\"]\nscopes_all = [\"read\", \"write\"]\nowner = \"id\"\n\
         any_of = [{ roles_any = [\"admin\"] }, { scopes_all = [\"audit\"] }, { owner = \"id\", roles_all = [\"staff\"] }]\n",
    )
    .unwrap()
    .table;
    let user = Principal {
        sub: "u42".into(),
        roles: vec!["user".into(), "staff".into()],
        scopes: vec!["write".into(), "read".into()],
    };
    let path = normalize_path("/u/u42/files").unwrap();
    let d = t.decide(&Method::Get, &path, Some(&user));
    assert_eq!(d.verdict, rule_table::Verdict::Allow);
    c.bench_function("decide every condition kind + any_of", |b| {
        b.iter(|| {
            t.decide(
                black_box(&Method::Get),
                black_box(&path),
                Some(black_box(&user)),
            )
        })
    });
}

criterion_group!(benches, bench, bench_conditions);
criterion_main!(benches);
