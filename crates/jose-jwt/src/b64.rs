//! Strict base64url (RFC 7515 §2): URL-safe alphabet, no padding, no
//! whitespace, and unused trailing bits must be zero, so every byte string has
//! exactly one accepted encoding.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes strict base64url; `None` on any deviation.
pub(crate) fn decode(input: &str) -> Option<Vec<u8>> {
    STRICT.decode(input).ok()
}

/// Encodes base64url without padding.
#[cfg(any(test, feature = "test-vectors"))]
pub(crate) fn encode(bytes: &[u8]) -> String {
    STRICT.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_canonical_input() {
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("Zm9v").unwrap(), b"foo");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert_eq!(decode("_-8").unwrap(), [0xff, 0xef]);
        assert_eq!(encode(&[0xff, 0xef]), "_-8");
    }

    #[test]
    fn rejects_non_canonical_input() {
        for bad in [
            "Zm8=", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9", "Zm9/", "Zm9+", "Zg=", "Z", "Zm9=", "Zh",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
        // "Zm9" and "Zh" have non-zero unused trailing bits; their canonical
        // forms decode fine.
        assert_eq!(decode("Zg").unwrap(), b"f");
        assert_eq!(decode("Zh"), None);
    }
}
