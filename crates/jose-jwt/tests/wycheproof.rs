//! Every Wycheproof case through the JWK path and `RustCryptoVerifier`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jose_jwt::testing::{load_cases, run_cases, run_cases_async, vector_files, Expected};
use jose_jwt::{Error, JwkProblem, RustCryptoVerifier};

#[test]
fn every_vector_file_agrees_with_wycheproof() {
    for file in vector_files() {
        let cases = load_cases(file.json, file.alg).unwrap();
        let count = |e| cases.iter().filter(|c| c.expected == e).count();
        // A silently truncated or empty file must fail here.
        assert_eq!(
            (
                count(Expected::Valid),
                count(Expected::Invalid),
                count(Expected::Acceptable)
            ),
            (file.valid, file.invalid, file.acceptable),
            "{}",
            file.name
        );
        // Only keys our policy refuses on purpose (RSA e = 3) may be refused.
        let refused: Vec<_> = cases.iter().filter(|c| c.key.is_err()).collect();
        assert_eq!(refused.len(), file.key_refused, "{}", file.name);
        for case in refused {
            assert_eq!(
                case.key.as_ref().unwrap_err(),
                &Error::JwkInvalid {
                    reason: JwkProblem::RsaExponent
                },
                "{}",
                file.name
            );
            assert_eq!(case.expected, Expected::Valid);
        }
        let tally = run_cases(&cases, &RustCryptoVerifier);
        println!("{}: {tally:?}", file.name);
        assert!(
            tally.valid_wrong.is_empty(),
            "{}: valid rejected {:?}",
            file.name,
            tally.valid_wrong
        );
        assert!(
            tally.invalid_wrong.is_empty(),
            "{}: invalid accepted {:?}",
            file.name,
            tally.invalid_wrong
        );
        assert_eq!(tally.key_refused.len(), file.key_refused, "{}", file.name);
        assert_eq!(
            tally.valid_accepted,
            file.valid - file.key_refused,
            "{}",
            file.name
        );
        assert_eq!(tally.invalid_rejected, file.invalid, "{}", file.name);
        // Our policy: `acceptable` (PKCS#1 v1.5 without the NULL parameter) is rejected.
        assert!(tally.acceptable_accepted.is_empty(), "{}", file.name);
        assert_eq!(tally.acceptable_rejected, file.acceptable, "{}", file.name);
        assert!(tally.agrees());
    }
}

#[test]
fn the_async_runner_gives_the_same_tally() {
    for file in vector_files() {
        let cases = load_cases(file.json, file.alg).unwrap();
        let sync = run_cases(&cases, &RustCryptoVerifier);
        let asynchronous = block_on(run_cases_async(&cases, &RustCryptoVerifier));
        assert_eq!(sync, asynchronous, "{}", file.name);
    }
}

/// A minimal executor: the RustCrypto future is ready on first poll.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
