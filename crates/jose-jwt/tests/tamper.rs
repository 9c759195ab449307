//! Property: any single-byte change to a valid token makes verification fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use jose_jwt::{verify, Algorithm, JwkSet};
use proptest::prelude::*;
use std::sync::OnceLock;

fn fixtures() -> &'static (JwkSet, Vec<(Algorithm, String)>) {
    static CELL: OnceLock<(JwkSet, Vec<(Algorithm, String)>)> = OnceLock::new();
    CELL.get_or_init(|| {
        let tokens = [
            Algorithm::Es256,
            Algorithm::EdDsa,
            Algorithm::Rs256,
            Algorithm::Ps256,
        ]
        .into_iter()
        .map(|alg| (alg, token(alg, &good_claims())))
        .collect();
        (standard_jwks(), tokens)
    })
}

/// Half arbitrary bytes, half base64url alphabet (those reach the signature check).
fn replacement_byte() -> impl Strategy<Value = u8> {
    let alphabet: Vec<u8> =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".to_vec();
    prop_oneof![any::<u8>(), prop::sample::select(alphabet)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_single_byte_change_fails(which in 0usize..4, position in any::<prop::sample::Index>(), replacement in replacement_byte()) {
        let (set, tokens) = fixtures();
        let (alg, original) = &tokens[which];
        prop_assert!(verify(original, set, &options(), NOW).is_ok());
        let mut bytes = original.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        // A change that breaks UTF-8 cannot even be presented as a token.
        if let Ok(tampered) = String::from_utf8(bytes) {
            prop_assert!(
                verify(&tampered, set, &options(), NOW).is_err(),
                "{alg}: byte {i} -> {replacement:#x} still verified"
            );
        }
    }
}
