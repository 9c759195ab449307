//! Timing decisions, as pure functions of the cache's bookkeeping and `now`.
//!
//! Nothing here owns state or reads a clock: [`crate::cache`] gathers a
//! [`View`] of its state, asks [`decide`] what to do, and acts on it. That
//! keeps every rule (freshness, stale window, unknown-kid cooldown, backoff)
//! testable with plain numbers.

use core::time::Duration;

/// The knobs of the cache. `Default` is the policy of the issue.
///
/// Nonsense combinations are repaired rather than rejected (see
/// [`CachePolicy::normalized`]), so a typo in configuration cannot turn into a
/// refetch storm or a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Freshness when the response carries no usable `Cache-Control` (10 min).
    pub default_fresh_for: Duration,
    /// Lower clamp for `max-age` (60 s): bounds the upstream rate even when the
    /// issuer says `no-store` or `max-age=0`.
    pub min_fresh_for: Duration,
    /// Upper clamp for `max-age` (24 h): a removed key is noticed within a day.
    pub max_fresh_for: Duration,
    /// At most one unknown-`kid` refetch per this period per isolate (30 s).
    pub unknown_kid_cooldown: Duration,
    /// How long past its expiry the last good key set is served while
    /// refreshes fail (24 h).
    pub max_stale: Duration,
    /// First retry delay after a failed fetch (1 s); doubles per failure.
    pub backoff_initial: Duration,
    /// Cap of the retry delay (5 min).
    pub backoff_max: Duration,
    /// A fetch still pending after this long (30 s) is considered abandoned
    /// (its request may have been cancelled) and a new one may start.
    pub abandon_fetch_after: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            default_fresh_for: Duration::from_secs(10 * 60),
            min_fresh_for: Duration::from_secs(60),
            max_fresh_for: Duration::from_secs(24 * 60 * 60),
            unknown_kid_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 60 * 60),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5 * 60),
            abandon_fetch_after: Duration::from_secs(30),
        }
    }
}

impl CachePolicy {
    /// The policy with inconsistent values repaired: `max_fresh_for` is at
    /// least `min_fresh_for`, `default_fresh_for` lies between them, the
    /// backoff starts at 1 ms or more and `backoff_max` is at least
    /// `backoff_initial`.
    #[must_use]
    pub fn normalized(self) -> Self {
        let max_fresh_for = self.max_fresh_for.max(self.min_fresh_for);
        let backoff_initial = self.backoff_initial.max(Duration::from_millis(1));
        Self {
            max_fresh_for,
            default_fresh_for: self
                .default_fresh_for
                .clamp(self.min_fresh_for, max_fresh_for),
            backoff_initial,
            backoff_max: self.backoff_max.max(backoff_initial),
            ..self
        }
    }

    /// `fresh_for` clamped to `[min_fresh_for, max_fresh_for]`.
    #[must_use]
    pub fn clamp_fresh_for(&self, fresh_for: Duration) -> Duration {
        let p = self.normalized();
        fresh_for.clamp(p.min_fresh_for, p.max_fresh_for)
    }
}

/// Why a fetch was started; reported in events for the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchReason {
    /// The isolate has no usable key set.
    Missing,
    /// The key set's freshness ran out.
    Expired,
    /// A token named a `kid` the fresh key set does not hold.
    UnknownKid,
}

impl FetchReason {
    /// Stable lower-case name for logs.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Expired => "expired",
            Self::UnknownKid => "unknown_kid",
        }
    }
}

/// Where the key set handed to the caller came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The cached set, within its freshness.
    Fresh,
    /// A set fetched by this call or by a concurrent one it waited for.
    Refetched,
    /// The last good set past its freshness, because refreshing it fails
    /// (stale-if-error, bounded by `max_stale`).
    Stale,
}

impl Source {
    /// Stable lower-case name for logs.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Refetched => "refetched",
            Self::Stale => "stale",
        }
    }
}

/// The timing facts [`decide`] needs, all in milliseconds on the caller's clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct View {
    /// `Some(fresh_until)` when a usable (not beyond `max_stale`) set is held.
    pub(crate) fresh_until: Option<u64>,
    /// Whether the held set has the requested kid; `None` when the token
    /// names no kid (or no set is held).
    pub(crate) kid_known: Option<bool>,
    /// A (not abandoned) fetch is pending.
    pub(crate) in_flight: bool,
    /// No upstream call before this instant (backoff after a failure).
    pub(crate) retry_at: Option<u64>,
    /// When the last fetch of any kind started.
    pub(crate) last_fetch_started: Option<u64>,
}

/// What the cache should do for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Hand out the held set as is.
    Serve(Source),
    /// Wait for the pending fetch.
    Join,
    /// Start a fetch and wait for it.
    Fetch(FetchReason),
    /// No set and no fetch allowed yet.
    Unavailable {
        /// Until the backoff ends.
        retry_after_ms: u64,
    },
}

/// The whole request-time policy in one place.
pub(crate) fn decide(p: &CachePolicy, v: View, now: u64) -> Decision {
    let backoff_left = v.retry_at.map_or(0, |t| t.saturating_sub(now));
    let Some(fresh_until) = v.fresh_until else {
        return if v.in_flight {
            Decision::Join
        } else if backoff_left > 0 {
            Decision::Unavailable {
                retry_after_ms: backoff_left,
            }
        } else {
            Decision::Fetch(FetchReason::Missing)
        };
    };
    if now >= fresh_until {
        // Expired: refresh (or wait for the refresh under way); while backing
        // off after failures, the stale set is the answer.
        return if v.in_flight {
            Decision::Join
        } else if backoff_left > 0 {
            Decision::Serve(Source::Stale)
        } else {
            Decision::Fetch(FetchReason::Expired)
        };
    }
    if v.kid_known != Some(false) {
        return Decision::Serve(Source::Fresh);
    }
    // Fresh set, unknown kid: a pending fetch costs nothing extra to join;
    // a new one is allowed once per cooldown (counting any fetch, since a set
    // fetched moments ago cannot have changed) and never during backoff.
    if v.in_flight {
        return Decision::Join;
    }
    let cooldown = ms(p.unknown_kid_cooldown);
    let cooled = v
        .last_fetch_started
        .is_none_or(|t| now >= t.saturating_add(cooldown));
    if cooled && backoff_left == 0 {
        Decision::Fetch(FetchReason::UnknownKid)
    } else {
        Decision::Serve(Source::Fresh)
    }
}

/// Delay before retry number `failures` (1-based count of consecutive
/// failures): `backoff_initial * 2^(failures-1)`, capped at `backoff_max`,
/// then "equal jitter": uniformly in `[base/2, base)`. Never zero, so a
/// failing upstream is never hammered, and never above the cap.
pub(crate) fn backoff_ms(p: &CachePolicy, failures: u32, jitter: f64) -> u64 {
    let p = p.normalized();
    let initial = ms(p.backoff_initial);
    let cap = ms(p.backoff_max);
    let shift = failures.saturating_sub(1).min(63);
    let base = initial.saturating_mul(1u64 << shift).min(cap);
    let half = base / 2;
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // The float product is at most `half`, so the cast cannot overflow.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let spread = ((base - half) as f64 * jitter) as u64;
    (half + spread.min(base - half - 1)).max(1)
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds to whole seconds, rounded up, at least 1 (for `Retry-After`).
pub(crate) fn ceil_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
