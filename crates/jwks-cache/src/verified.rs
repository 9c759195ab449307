//! Tokens already verified by this isolate, so that a token presented again skips the
//! signature check and the claim checks.
//!
//! An entry is keyed by the SHA-256 of the whole token (a forged token would need a SHA-256
//! collision to reuse another token's entry), holds what the Worker derived from the token,
//! and is bound to the key set it was verified with: it counts only while that same set (the
//! same `Rc`) is the one the JWKS cache hands out. A refetched set, even one holding the same
//! keys, starts the cache over for the tokens verified with the old one, so a key the issuer
//! removed stops vouching for its tokens at the next refetch. An entry never outlives the
//! token's `exp`, and the cache is bounded: when full, the oldest entry goes (first in, first
//! out), so a flood of distinct tokens costs a fixed amount of memory.
//!
//! A token checked with a key that cannot change while the isolate lives (a configured shared
//! secret: a new secret is a new deployment, so a new isolate) is held without a key set
//! ([`VerifiedTokens::insert_fixed_key`]); [`Cached::verified_with_fixed_key`] tells it apart.

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};

/// The cache key: SHA-256 of the token's compact serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of `token` (all of it: header, payload and signature).
    #[must_use]
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// The digest's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A cached verification: the value stored for the token and the key set it was checked with.
#[derive(Debug)]
pub struct Cached<K, V> {
    /// What the Worker stored when it verified the token.
    pub value: V,
    verified_with: VerifiedWith<K>,
}

/// What an entry was verified with.
#[derive(Debug)]
enum VerifiedWith<K> {
    /// A key set from the JWKS cache (`Weak` keeps its allocation, so its address cannot be
    /// reused by a new set).
    KeySet(Weak<K>),
    /// A key fixed for the isolate's lifetime.
    FixedKey,
}

impl<K> Clone for VerifiedWith<K> {
    fn clone(&self) -> Self {
        match self {
            VerifiedWith::KeySet(weak) => VerifiedWith::KeySet(weak.clone()),
            VerifiedWith::FixedKey => VerifiedWith::FixedKey,
        }
    }
}

impl<K, V> Cached<K, V> {
    /// True when `keys` is the very key set the token was verified with. When it is not (the
    /// set was refetched since), the token must be verified again. Always false for a token
    /// verified with a fixed key.
    #[must_use]
    pub fn verified_with(&self, keys: &Rc<K>) -> bool {
        match &self.verified_with {
            VerifiedWith::KeySet(weak) => std::ptr::eq(weak.as_ptr(), Rc::as_ptr(keys)),
            VerifiedWith::FixedKey => false,
        }
    }

    /// True when the token was stored by [`VerifiedTokens::insert_fixed_key`].
    #[must_use]
    pub fn verified_with_fixed_key(&self) -> bool {
        matches!(self.verified_with, VerifiedWith::FixedKey)
    }
}

struct Entry<K, V> {
    value: V,
    expires_at: i64,
    verified_with: VerifiedWith<K>,
}

struct Entries<K, V> {
    by_digest: HashMap<TokenDigest, Entry<K, V>>,
    /// Every digest in `by_digest`, once, oldest first.
    order: VecDeque<TokenDigest>,
}

/// The verified tokens of one isolate (single-threaded: `Rc`/`RefCell`, not `Send`).
pub struct VerifiedTokens<K, V> {
    capacity: usize,
    entries: RefCell<Entries<K, V>>,
}

impl<K, V: Clone> VerifiedTokens<K, V> {
    /// A cache of at most `capacity` tokens; 0 turns it off (nothing is ever stored).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RefCell::new(Entries {
                by_digest: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// False when the cache was made with capacity 0: callers can skip hashing tokens.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    /// How many tokens are held (expired ones included until they are evicted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.borrow().by_digest.len()
    }

    /// True when no token is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for `digest` if there is one and `now_s` (unix seconds) is before the token's
    /// `exp`. The caller must still check [`Cached::verified_with`] against the current set.
    #[must_use]
    pub fn get(&self, digest: &TokenDigest, now_s: i64) -> Option<Cached<K, V>> {
        let entries = self.entries.borrow();
        let entry = entries.by_digest.get(digest)?;
        (now_s < entry.expires_at).then(|| Cached {
            value: entry.value.clone(),
            verified_with: entry.verified_with.clone(),
        })
    }

    /// Records that the token with `digest`, expiring at `exp` (unix seconds), was verified
    /// with `keys` at `now_s` and gave `value`. Nothing is stored for a token already past its
    /// `exp` (accepted within the clock skew) or when the cache is off. A token already held
    /// is updated in place and keeps its place in the eviction order.
    pub fn insert(&self, digest: TokenDigest, keys: &Rc<K>, value: V, exp: i64, now_s: i64) {
        self.insert_entry(
            digest,
            VerifiedWith::KeySet(Rc::downgrade(keys)),
            value,
            exp,
            now_s,
        );
    }

    /// Like [`insert`](Self::insert), for a token verified with a key that is fixed for the
    /// isolate's lifetime (a configured shared secret) rather than a fetched key set.
    pub fn insert_fixed_key(&self, digest: TokenDigest, value: V, exp: i64, now_s: i64) {
        self.insert_entry(digest, VerifiedWith::FixedKey, value, exp, now_s);
    }

    fn insert_entry(
        &self,
        digest: TokenDigest,
        verified_with: VerifiedWith<K>,
        value: V,
        exp: i64,
        now_s: i64,
    ) {
        if !self.is_enabled() || now_s >= exp {
            return;
        }
        let entry = Entry {
            value,
            expires_at: exp,
            verified_with,
        };
        let mut entries = self.entries.borrow_mut();
        if let Some(held) = entries.by_digest.get_mut(&digest) {
            *held = entry;
            return;
        }
        while entries.by_digest.len() >= self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.by_digest.remove(&oldest);
        }
        entries.by_digest.insert(digest, entry);
        entries.order.push_back(digest);
    }
}

#[cfg(test)]
#[path = "verified_tests.rs"]
mod tests;
