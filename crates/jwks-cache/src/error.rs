//! What the fetcher reports ([`FetchError`]) and what the cache reports
//! ([`CacheError`]). Neither carries response bodies, URLs or key material:
//! they end up in logs and, for `CacheError`, in a 503.

use core::fmt;

/// Why a JWKS fetch failed, as categorised by the Worker's fetcher.
///
/// The cache treats every category the same way (back off, serve the stale
/// set); the category is there for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// DNS, TLS, connection reset and the like.
    Network,
    /// No complete response within the fetcher's deadline.
    Timeout,
    /// Upstream answered with a status other than 200.
    HttpStatus {
        /// The status received.
        status: u16,
    },
    /// The body exceeded the fetcher's size limit.
    TooLarge,
    /// The body is not a JWKS document.
    BadJson,
    /// The JWKS parsed but holds no key this service can use.
    NoUsableKeys,
}

impl FetchError {
    /// Stable snake_case code for logs and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::HttpStatus { .. } => "http_status",
            Self::TooLarge => "too_large",
            Self::BadJson => "bad_json",
            Self::NoUsableKeys => "no_usable_keys",
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network => f.write_str("the JWKS endpoint could not be reached (network error)"),
            Self::Timeout => f.write_str("the JWKS endpoint did not answer in time"),
            Self::HttpStatus { status } => {
                write!(f, "the JWKS endpoint answered HTTP {status} instead of 200")
            }
            Self::TooLarge => f.write_str("the JWKS response exceeds the size limit"),
            Self::BadJson => f.write_str("the JWKS response is not a valid JWK set"),
            Self::NoUsableKeys => f.write_str("the JWK set holds no key usable for verification"),
        }
    }
}

impl std::error::Error for FetchError {}

/// The cache cannot hand out any key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheError {
    /// No key set was ever fetched, or the last good one is older than
    /// `max_stale` past its expiry, and upstream is failing. Answer 503 with
    /// `Retry-After: retry_after_seconds`; never let the request through.
    Unavailable {
        /// Seconds until the cache will try upstream again (at least 1).
        retry_after_seconds: u64,
        /// The most recent fetch failure, if any.
        last_error: Option<FetchError>,
    },
}

impl CacheError {
    /// Stable snake_case code for logs and error bodies.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "jwks_unavailable",
        }
    }

    /// Value for the `Retry-After` header, in seconds.
    #[must_use]
    pub fn retry_after_seconds(&self) -> u64 {
        match self {
            Self::Unavailable {
                retry_after_seconds,
                ..
            } => *retry_after_seconds,
        }
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable {
                retry_after_seconds,
                last_error,
            } => {
                f.write_str("no signing keys are available to verify the token")?;
                if let Some(e) = last_error {
                    write!(f, " ({e})")?;
                }
                write!(f, "; retry after {retry_after_seconds} s")
            }
        }
    }
}

impl std::error::Error for CacheError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let all = [
            (FetchError::Network, "network"),
            (FetchError::Timeout, "timeout"),
            (FetchError::HttpStatus { status: 503 }, "http_status"),
            (FetchError::TooLarge, "too_large"),
            (FetchError::BadJson, "bad_json"),
            (FetchError::NoUsableKeys, "no_usable_keys"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn unavailable_message_names_cause_and_retry() {
        let e = CacheError::Unavailable {
            retry_after_seconds: 4,
            last_error: Some(FetchError::HttpStatus { status: 502 }),
        };
        assert_eq!(e.code(), "jwks_unavailable");
        assert_eq!(e.retry_after_seconds(), 4);
        assert_eq!(
            e.to_string(),
            "no signing keys are available to verify the token \
             (the JWKS endpoint answered HTTP 502 instead of 200); retry after 4 s"
        );
    }
}
