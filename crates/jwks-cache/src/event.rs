//! Things worth one log line each. The cache queues them (bounded) and the
//! Worker prints what [`crate::JwksCache::drain_events`] returns: one event per
//! upstream attempt or state change, never one per request.

use core::fmt;
use core::time::Duration;
use std::collections::VecDeque;

use crate::error::FetchError;
use crate::policy::FetchReason;

/// One notable change in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A fetch succeeded and its set replaced the cached one.
    Refreshed {
        /// Why the fetch was made.
        reason: FetchReason,
        /// Freshness granted to the new set (after clamping).
        fresh_for: Duration,
        /// Consecutive failures that preceded this success (0 normally).
        after_failures: u32,
    },
    /// A fetch failed; the next attempt waits `retry_in`.
    FetchFailed {
        /// Why the fetch was made.
        reason: FetchReason,
        /// The fetcher's category.
        error: FetchError,
        /// 1 for the first failure in a row, 2 for the next, …
        attempt: u32,
        /// Backoff before upstream is tried again.
        retry_in: Duration,
        /// Whether a previous set is still being served (stale-if-error).
        serving_previous: bool,
    },
    /// The last good set went beyond `max_stale` and was dropped: requests
    /// now get [`crate::CacheError::Unavailable`] until a fetch succeeds.
    StaleDiscarded {
        /// How long past its freshness the set was.
        expired_for: Duration,
    },
    /// A fetch pending longer than `abandon_fetch_after` was given up on so
    /// that a new one may start.
    FetchAbandoned {
        /// How long it had been pending.
        pending_for: Duration,
    },
    /// The queue was full (the Worker is not draining it); this many events
    /// were lost.
    EventsDropped {
        /// Number of lost events.
        count: u32,
    },
}

impl Event {
    /// Stable snake_case code for logs and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refreshed { .. } => "jwks_refreshed",
            Self::FetchFailed { .. } => "jwks_fetch_failed",
            Self::StaleDiscarded { .. } => "jwks_stale_discarded",
            Self::FetchAbandoned { .. } => "jwks_fetch_abandoned",
            Self::EventsDropped { .. } => "jwks_events_dropped",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match self {
            Self::Refreshed {
                reason,
                fresh_for,
                after_failures,
            } => write!(
                f,
                "{code} reason={} fresh_for_s={} after_failures={after_failures}",
                reason.code(),
                fresh_for.as_secs()
            ),
            Self::FetchFailed {
                reason,
                error,
                attempt,
                retry_in,
                serving_previous,
            } => write!(
                f,
                "{code} reason={} error={} attempt={attempt} retry_in_ms={} serving_previous={serving_previous}: {error}",
                reason.code(),
                error.code(),
                retry_in.as_millis()
            ),
            Self::StaleDiscarded { expired_for } => write!(
                f,
                "{code} expired_for_s={}: no keys until a fetch succeeds",
                expired_for.as_secs()
            ),
            Self::FetchAbandoned { pending_for } => write!(
                f,
                "{code} pending_for_ms={}: starting a new fetch",
                pending_for.as_millis()
            ),
            Self::EventsDropped { count } => write!(f, "{code} count={count}"),
        }
    }
}

/// A bounded FIFO of events; when full, the oldest are dropped and counted.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    items: VecDeque<Event>,
    dropped: u32,
}

impl EventQueue {
    /// Enough for several minutes of failures between two drains.
    const CAPACITY: usize = 64;

    pub(crate) fn push(&mut self, e: Event) {
        if self.items.len() >= Self::CAPACITY {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(e);
    }

    pub(crate) fn drain(&mut self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.items.len() + 1);
        if self.dropped > 0 {
            out.push(Event::EventsDropped {
                count: core::mem::take(&mut self.dropped),
            });
        }
        out.extend(self.items.drain(..));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_bounded_and_reports_losses() {
        let mut q = EventQueue::default();
        for i in 0..70u64 {
            q.push(Event::FetchAbandoned {
                pending_for: Duration::from_millis(i),
            });
        }
        let got = q.drain();
        assert_eq!(got.len(), 65);
        assert_eq!(got[0], Event::EventsDropped { count: 6 });
        assert_eq!(
            got[1],
            Event::FetchAbandoned {
                pending_for: Duration::from_millis(6)
            }
        );
        assert!(q.drain().is_empty());
    }

    #[test]
    fn display_is_one_greppable_line() {
        let e = Event::FetchFailed {
            reason: FetchReason::Expired,
            error: FetchError::Timeout,
            attempt: 3,
            retry_in: Duration::from_millis(3500),
            serving_previous: true,
        };
        assert_eq!(
            e.to_string(),
            "jwks_fetch_failed reason=expired error=timeout attempt=3 retry_in_ms=3500 \
             serving_previous=true: the JWKS endpoint did not answer in time"
        );
    }
}
