//! Tokens already verified by this isolate, so that a token presented again skips the
//! signature check and the claim checks.
//!
//! An entry is keyed by the whole token, compared in full: only the very same token text finds
//! another token's entry (the map hashes just the token's last bytes, its signature, which is
//! enough to spread entries; equality is what vouches). No key is computed: hashing every
//! token with SHA-256 cost more per request than the lookup it guarded (bench/levers.md,
//! eighth round). It holds what the Worker derived from the token,
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

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::rc::{Rc, Weak};

/// How many of a token's last bytes the map hashes: a compact JWS ends in its signature (or
/// MAC), at least 32 bytes of it here, which no two tokens share unless they are the same token.
const HASHED_TAIL: usize = 32;

/// The cache key: the token's whole compact serialization (header, payload and signature),
/// compared byte for byte. At most the credential size limit long, so the cache's memory is
/// bounded by its capacity times that limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKey(Rc<str>);

impl TokenKey {
    /// The key of `token` (a copy of all of it).
    #[must_use]
    pub fn of(token: &str) -> Self {
        Self(Rc::from(token))
    }

    /// The token this key stands for.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Consistent with `Eq`: equal tokens have equal lengths and tails.
        let bytes = self.0.as_bytes();
        state.write_usize(bytes.len());
        let tail = bytes.len().saturating_sub(HASHED_TAIL);
        state.write(bytes.get(tail..).unwrap_or(bytes));
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
    by_token: HashMap<TokenKey, Entry<K, V>>,
    /// Every key in `by_token`, once, oldest first.
    order: VecDeque<TokenKey>,
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
                by_token: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// False when the cache was made with capacity 0: callers can skip copying tokens.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    /// How many tokens are held (expired ones included until they are evicted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.borrow().by_token.len()
    }

    /// True when no token is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for `key` if there is one and `now_s` (unix seconds) is before the token's
    /// `exp`. The caller must still check [`Cached::verified_with`] against the current set.
    #[must_use]
    pub fn get(&self, key: &TokenKey, now_s: i64) -> Option<Cached<K, V>> {
        let entries = self.entries.borrow();
        let entry = entries.by_token.get(key)?;
        (now_s < entry.expires_at).then(|| Cached {
            value: entry.value.clone(),
            verified_with: entry.verified_with.clone(),
        })
    }

    /// Records that the token with `key`, expiring at `exp` (unix seconds), was verified
    /// with `keys` at `now_s` and gave `value`. Nothing is stored for a token already past its
    /// `exp` (accepted within the clock skew) or when the cache is off. A token already held
    /// is updated in place and keeps its place in the eviction order.
    pub fn insert(&self, key: TokenKey, keys: &Rc<K>, value: V, exp: i64, now_s: i64) {
        self.insert_entry(
            key,
            VerifiedWith::KeySet(Rc::downgrade(keys)),
            value,
            exp,
            now_s,
        );
    }

    /// Like [`insert`](Self::insert), for a token verified with a key that is fixed for the
    /// isolate's lifetime (a configured shared secret) rather than a fetched key set.
    pub fn insert_fixed_key(&self, key: TokenKey, value: V, exp: i64, now_s: i64) {
        self.insert_entry(key, VerifiedWith::FixedKey, value, exp, now_s);
    }

    fn insert_entry(
        &self,
        key: TokenKey,
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
        if let Some(held) = entries.by_token.get_mut(&key) {
            *held = entry;
            return;
        }
        while entries.by_token.len() >= self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.by_token.remove(&oldest);
        }
        entries.order.push_back(key.clone());
        entries.by_token.insert(key, entry);
    }
}

#[cfg(test)]
#[path = "verified_tests.rs"]
mod tests;
