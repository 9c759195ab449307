use super::*;

#[test]
fn names_round_trip_and_are_exact() {
    for alg in MacAlgorithm::ALL {
        assert_eq!(alg.as_str().parse::<MacAlgorithm>(), Ok(alg));
        assert_eq!(
            alg.as_str().parse::<TokenAlgorithm>(),
            Ok(TokenAlgorithm::Mac(alg))
        );
    }
    for alg in Algorithm::ALL {
        assert_eq!(
            alg.as_str().parse::<TokenAlgorithm>(),
            Ok(TokenAlgorithm::Signature(alg))
        );
        assert!(alg.as_str().parse::<MacAlgorithm>().is_err());
    }
    for name in ["hs256", "HS1", "HS256 ", "none", ""] {
        assert!(name.parse::<MacAlgorithm>().is_err(), "{name}");
    }
    assert_eq!("none".parse::<TokenAlgorithm>(), Err(Error::AlgNotAllowed));
}

#[test]
fn output_lengths_are_the_hash_lengths() {
    let lens: Vec<usize> = MacAlgorithm::ALL.iter().map(|a| a.output_len()).collect();
    assert_eq!(lens, [32, 48, 64]);
}

#[test]
fn secrets_are_at_least_32_bytes_and_per_alg_long_enough() {
    let short = Err(Error::SecretInvalid {
        reason: SecretProblem::TooShort,
    });
    assert_eq!(SharedSecret::from_bytes(&[7; 31]).map(|_| ()), short);
    assert_eq!(SharedSecret::from_bytes(&[]).map(|_| ()), short);
    let s32 = SharedSecret::from_bytes(&[7; 32]).unwrap();
    assert!(s32.supports(MacAlgorithm::Hs256));
    assert!(!s32.supports(MacAlgorithm::Hs384));
    let s48 = SharedSecret::from_bytes(&[7; 48]).unwrap();
    assert!(s48.supports(MacAlgorithm::Hs384) && !s48.supports(MacAlgorithm::Hs512));
    let s64 = SharedSecret::from_bytes(&[7; 64]).unwrap();
    assert!(MacAlgorithm::ALL.iter().all(|a| s64.supports(*a)));
}

#[test]
fn base64url_secrets_are_strict() {
    // 32 bytes 0x00..0x1f, base64url without padding (python: base64.urlsafe_b64encode(bytes(range(32))).rstrip(b'=')).
    let ok = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    assert_eq!(
        SharedSecret::from_base64url(ok).unwrap().expose_bytes(),
        (0u8..32).collect::<Vec<_>>()
    );
    let not_b64 = Err(Error::SecretInvalid {
        reason: SecretProblem::NotBase64url,
    });
    for bad in [
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",
        " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
    ] {
        assert_eq!(
            SharedSecret::from_base64url(bad).map(|_| ()),
            not_b64,
            "{bad}"
        );
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let secret = SharedSecret::from_bytes(b"0123456789abcdef0123456789abcdef").unwrap();
    let shown = format!("{secret:?}");
    assert_eq!(shown, "SharedSecret(32 bytes)");
}

#[test]
fn mac_shape_is_exact() {
    for alg in MacAlgorithm::ALL {
        let n = alg.output_len();
        assert!(alg.check_shape(&vec![0; n]).is_ok());
        for wrong in [0, 1, n - 1, n + 1, 2 * n] {
            assert_eq!(
                alg.check_shape(&vec![0; wrong]),
                Err(Error::jws(JwsProblem::SignatureShape)),
                "{alg} {wrong}"
            );
        }
    }
}
