//! Full verification (parse, key selection, signature, claims) of ES256,
//! EdDSA and RS256 tokens, side by side with the `jsonwebtoken` crate
//! (`rust_crypto` backend) verifying the same tokens with the same checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_group, Criterion};
use jose_jwt::Algorithm;
use serde_json::{json, Value};

struct Case {
    alg: Algorithm,
    token: String,
    set: jose_jwt::JwkSet,
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

fn cases() -> Vec<Case> {
    // jsonwebtoken reads the system clock, so the tokens must be valid now
    // and at `NOW`.
    let mut claims = good_claims();
    claims["exp"] = json!(4_000_000_000i64);
    let set = standard_jwks();
    let p256 = p256_jwk(&p256_key(), None);
    let ed = ed_jwk(&ed_key(), None);
    let rsa = rsa_jwk(&rsa_key(), None);
    let s = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    [
        (
            Algorithm::Es256,
            jsonwebtoken::Algorithm::ES256,
            jsonwebtoken::DecodingKey::from_ec_components(&s(&p256, "x"), &s(&p256, "y")).unwrap(),
        ),
        (
            Algorithm::EdDsa,
            jsonwebtoken::Algorithm::EdDSA,
            jsonwebtoken::DecodingKey::from_ed_components(&s(&ed, "x")).unwrap(),
        ),
        (
            Algorithm::Rs256,
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::DecodingKey::from_rsa_components(&s(&rsa, "n"), &s(&rsa, "e")).unwrap(),
        ),
    ]
    .into_iter()
    .map(|(alg, jwt_alg, key)| {
        let mut validation = jsonwebtoken::Validation::new(jwt_alg);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Case {
            alg,
            token: token(alg, &claims),
            set: set.clone(),
            key,
            validation,
        }
    })
    .collect()
}

fn ours(case: &Case) {
    let verified = jose_jwt::verify(black_box(&case.token), &case.set, &options(), NOW).unwrap();
    black_box(verified);
}

fn theirs(case: &Case) {
    let data =
        jsonwebtoken::decode::<Value>(black_box(&case.token), &case.key, &case.validation).unwrap();
    black_box(data);
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let mut group = c.benchmark_group(case.alg.as_str());
        group.bench_function("jose-jwt", |b| b.iter(|| ours(&case)));
        group.bench_function("jsonwebtoken", |b| b.iter(|| theirs(&case)));
        group.finish();
    }
}

/// A plain timing loop, to print the ratio in the same run.
fn print_ratios() {
    fn per_op(f: impl Fn(), budget: Duration) -> f64 {
        f();
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < budget {
            f();
            n += 1;
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    }
    println!("\nfull verification, microseconds per token (ratio = jose-jwt / jsonwebtoken):");
    for case in cases() {
        let a = per_op(|| ours(&case), Duration::from_millis(500));
        let b = per_op(|| theirs(&case), Duration::from_millis(500));
        println!(
            "  {:6} jose-jwt {a:9.1}  jsonwebtoken {b:9.1}  ratio {:.2}",
            case.alg.as_str(),
            a / b
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratios();
}
