//! Cost of the per-request hand-off work: credential extraction, signing and
//! verifying the context, and building the identity headers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edge_auth::*;

const NOW: i64 = 1_700_000_000;

fn identity() -> Identity {
    Identity {
        sub: "auth0|5f7c8ec7a1b2c3d4e5f60718".into(),
        roles: vec!["admin".into(), "orders:writer".into(), "billing".into()],
        scopes: vec!["orders:read".into(), "orders:write".into()],
        email: Some("alice@example.com".into()),
        exp: NOW + 3600,
        issuer: "https://idp.example/".into(),
        act: None,
    }
}

fn bench(c: &mut Criterion) {
    let key = ContextKey::new("0123456789abcdef0123456789abcdef0123456789abcdef").unwrap();
    let id = identity();
    let url = RequestUrl::split("https://api.example/orders/7?expand=items&page=2").unwrap();
    let binding = RequestBinding::new("GET", &url, "8f3a2b1c4d5e6f70-AMS");
    let header = sign_context(&id, &key, &binding, NOW);
    let bearer = format!("Bearer {}", "eyJhbGciOiJFUzI1NiJ9.".repeat(20));
    let req = RequestCredentials {
        authorization: Some(&bearer),
        ..RequestCredentials::default()
    };
    let mode = ExtractionMode::default();

    c.bench_function("extract_credential/bearer_420B", |b| {
        b.iter(|| extract_credential(black_box(&req), &mode).unwrap())
    });
    c.bench_function("sign_context", |b| {
        b.iter(|| sign_context(black_box(&id), &key, &binding, NOW))
    });
    c.bench_function("verify_context", |b| {
        b.iter(|| verify_context(black_box(&header), &key, &binding, NOW + 1, 60).unwrap())
    });
    c.bench_function("identity_headers", |b| {
        b.iter(|| identity_headers(black_box(&id)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
