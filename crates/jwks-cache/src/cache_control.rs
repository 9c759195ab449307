//! How long a fetched JWKS stays fresh, from the response's `Cache-Control`.
//!
//! Decisions (after RFC 9111 §4.2.1 and §5.2.2, tightened for an auth cache):
//! - `max-age=N` gives `N` seconds; when it appears more than once, the
//!   smallest wins (conflicts resolve to the most restrictive).
//! - `no-store`, unqualified `no-cache` and a malformed `max-age` (empty,
//!   non-digits, negative) mean "do not rely on it": the **minimum** freshness.
//!   The minimum, not zero, because refetching per request would put every
//!   token on the issuer's critical path.
//! - Everything else (`public`, `private`, `must-revalidate`, `s-maxage`
//!   (meant for shared caches), unknown extensions) is ignored; a header
//!   without any of the above, or no header at all, gives the default.
//! - The result is always clamped to `[min_fresh_for, max_fresh_for]`.

use core::time::Duration;

use crate::policy::CachePolicy;

/// Freshness of a JWKS response from its `Cache-Control` value (see the
/// module rules above), clamped to the policy's bounds.
///
/// ```
/// use core::time::Duration;
/// use jwks_cache::{freshness_from_cache_control, CachePolicy};
///
/// let p = CachePolicy::default();
/// let f = |h| freshness_from_cache_control(h, &p);
/// assert_eq!(f(Some("public, max-age=3600")), Duration::from_secs(3600));
/// assert_eq!(f(Some("max-age=5")), Duration::from_secs(60)); // clamped up
/// assert_eq!(f(Some("max-age=9999999")), Duration::from_secs(86_400)); // clamped down
/// assert_eq!(f(None), Duration::from_secs(600)); // default
/// assert_eq!(f(Some("no-store")), Duration::from_secs(60)); // minimum
/// ```
#[must_use]
pub fn freshness_from_cache_control(header: Option<&str>, policy: &CachePolicy) -> Duration {
    let p = policy.normalized();
    let fresh_for = match header.map(parse) {
        None | Some(Parsed::Nothing) => p.default_fresh_for,
        Some(Parsed::UseMinimum) => p.min_fresh_for,
        Some(Parsed::MaxAge(secs)) => Duration::from_secs(secs),
    };
    fresh_for.clamp(p.min_fresh_for, p.max_fresh_for)
}

/// What a `Cache-Control` value says about freshness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    /// No directive about freshness.
    Nothing,
    /// `no-store`, `no-cache` or an unusable `max-age`.
    UseMinimum,
    /// The smallest valid `max-age`, in seconds (saturated).
    MaxAge(u64),
}

fn parse(header: &str) -> Parsed {
    let mut out = Parsed::Nothing;
    for directive in split_directives(header) {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
            None => (directive.trim(), None),
        };
        let this = if name.eq_ignore_ascii_case("max-age") {
            value
                .and_then(delta_seconds)
                .map_or(Parsed::UseMinimum, Parsed::MaxAge)
        } else if name.eq_ignore_ascii_case("no-store")
            || (name.eq_ignore_ascii_case("no-cache") && value.is_none())
        {
            Parsed::UseMinimum
        } else {
            continue;
        };
        out = most_restrictive(out, this);
    }
    out
}

fn most_restrictive(a: Parsed, b: Parsed) -> Parsed {
    match (a, b) {
        (Parsed::UseMinimum, _) | (_, Parsed::UseMinimum) => Parsed::UseMinimum,
        (Parsed::MaxAge(x), Parsed::MaxAge(y)) => Parsed::MaxAge(x.min(y)),
        (Parsed::Nothing, other) | (other, Parsed::Nothing) => other,
    }
}

/// Splits on commas outside quoted strings (`no-cache="a, b"` is one
/// directive), honouring backslash escapes inside quotes.
fn split_directives(header: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(header);
    core::iter::from_fn(move || {
        let s = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    rest = s.get(i + 1..);
                    return s.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
    .filter(|d| !d.trim().is_empty())
}

/// `"123"` → `123`; anything else unchanged.
fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// RFC 9111 delta-seconds: ASCII digits only; too large saturates.
fn delta_seconds(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn fresh(h: Option<&str>) -> Duration {
        freshness_from_cache_control(h, &CachePolicy::default())
    }

    #[test]
    fn max_age_inside_bounds_is_taken_as_is() {
        assert_eq!(fresh(Some("max-age=300")), secs(300));
        assert_eq!(
            fresh(Some("public, max-age=3600, must-revalidate")),
            secs(3600)
        );
        assert_eq!(fresh(Some("MAX-AGE=120")), secs(120));
        assert_eq!(fresh(Some(" max-age = 90 ")), secs(90));
        assert_eq!(fresh(Some("max-age=\"7200\"")), secs(7200));
    }

    #[test]
    fn clamps_both_ends() {
        assert_eq!(fresh(Some("max-age=0")), secs(60));
        assert_eq!(fresh(Some("max-age=59")), secs(60));
        assert_eq!(fresh(Some("max-age=60")), secs(60));
        assert_eq!(fresh(Some("max-age=86400")), secs(86_400));
        assert_eq!(fresh(Some("max-age=86401")), secs(86_400));
        assert_eq!(
            fresh(Some("max-age=99999999999999999999999999")),
            secs(86_400)
        );
    }

    #[test]
    fn default_when_absent_or_silent() {
        assert_eq!(fresh(None), secs(600));
        assert_eq!(fresh(Some("")), secs(600));
        assert_eq!(fresh(Some("public, immutable")), secs(600));
        // s-maxage is for shared caches, and must not be mistaken for max-age.
        assert_eq!(fresh(Some("s-maxage=5000")), secs(600));
        // Qualified no-cache only concerns the named header fields.
        assert_eq!(
            fresh(Some("no-cache=\"Set-Cookie, X-Foo\", max-age=900")),
            secs(900)
        );
    }

    #[test]
    fn no_store_no_cache_and_malformed_use_the_minimum() {
        for h in [
            "no-store",
            "no-cache",
            "NO-CACHE, max-age=3600",
            "max-age=3600, no-store",
            "max-age=",
            "max-age",
            "max-age=-5",
            "max-age=12s",
            "max-age=1.5",
            "max-age=\"\"",
            "max-age=+30",
            "max-age=٣٠٠",
        ] {
            assert_eq!(fresh(Some(h)), secs(60), "{h}");
        }
    }

    #[test]
    fn repeated_max_age_takes_the_smallest() {
        assert_eq!(fresh(Some("max-age=7200, max-age=300")), secs(300));
        assert_eq!(fresh(Some("max-age=300,max-age=7200")), secs(300));
    }

    #[test]
    fn custom_policy_bounds_apply() {
        let p = CachePolicy {
            default_fresh_for: secs(30),
            min_fresh_for: secs(10),
            max_fresh_for: secs(100),
            ..CachePolicy::default()
        };
        let f = |h| freshness_from_cache_control(h, &p);
        assert_eq!(f(None), secs(30));
        assert_eq!(f(Some("max-age=1")), secs(10));
        assert_eq!(f(Some("max-age=1000")), secs(100));
        // A default outside the bounds is pulled inside them.
        let odd = CachePolicy {
            default_fresh_for: secs(1000),
            ..p
        };
        assert_eq!(freshness_from_cache_control(None, &odd), secs(100));
    }

    #[test]
    fn quoted_commas_do_not_split() {
        let v: Vec<&str> = split_directives("a=\"x, y\", b, c=\"q\\\"\", d").collect();
        assert_eq!(v, ["a=\"x, y\"", " b", " c=\"q\\\"\"", " d"]);
        // An unterminated quote swallows the rest rather than panicking.
        assert_eq!(fresh(Some("private=\"a, max-age=5")), secs(600));
    }
}
