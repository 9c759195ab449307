use super::*;
use proptest::prelude::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type Cache = VerifiedTokens<&'static str, String>;

const NOW: i64 = 1_700_000_000;

#[test]
fn digest_is_sha256_of_the_whole_token() {
    // FIPS 180-2 known answers.
    assert_eq!(
        hex(TokenDigest::of("abc").as_bytes()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(TokenDigest::of("").as_bytes()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // A token differing only in its signature is another entry.
    assert_ne!(TokenDigest::of("h.p.sig1"), TokenDigest::of("h.p.sig2"));
}

#[test]
fn a_verified_token_is_found_with_the_same_key_set() {
    let cache = Cache::new(4);
    let keys = Rc::new("set-1");
    let digest = TokenDigest::of("token-a");
    cache.insert(digest, &keys, "alice".to_owned(), NOW + 60, NOW);
    let hit = cache.get(&digest, NOW + 1).expect("held");
    assert_eq!(hit.value, "alice");
    assert!(hit.verified_with(&keys));
    assert!(cache.get(&TokenDigest::of("token-b"), NOW + 1).is_none());
}

#[test]
fn a_fixed_key_entry_is_never_vouched_for_by_a_key_set() {
    let cache = Cache::new(4);
    let keys = Rc::new("set-1");
    let mac = TokenDigest::of("hs-token");
    let signed = TokenDigest::of("es-token");
    cache.insert_fixed_key(mac, "alice".to_owned(), NOW + 60, NOW);
    cache.insert(signed, &keys, "bob".to_owned(), NOW + 60, NOW);
    let hit = cache.get(&mac, NOW + 1).expect("held");
    assert!(hit.verified_with_fixed_key());
    assert!(!hit.verified_with(&keys));
    let other = cache.get(&signed, NOW + 1).expect("held");
    assert!(!other.verified_with_fixed_key());
    assert!(other.verified_with(&keys));
    // Same expiry and capacity rules as any entry.
    assert!(cache.get(&mac, NOW + 60).is_none());
    cache.insert_fixed_key(TokenDigest::of("expired"), "x".to_owned(), NOW, NOW);
    assert!(cache.get(&TokenDigest::of("expired"), NOW - 1).is_none());
    assert_eq!(cache.len(), 2);
    assert!(!Cache::new(0).is_enabled());
    let off = Cache::new(0);
    off.insert_fixed_key(mac, "alice".to_owned(), NOW + 60, NOW);
    assert!(off.is_empty());
}

#[test]
fn an_entry_does_not_count_with_another_key_set_even_with_equal_contents() {
    let cache = Cache::new(4);
    let old = Rc::new("same keys");
    let digest = TokenDigest::of("token-a");
    cache.insert(digest, &old, "alice".to_owned(), NOW + 60, NOW);
    let refetched = Rc::new("same keys");
    let hit = cache.get(&digest, NOW).expect("held until re-verified");
    assert!(!hit.verified_with(&refetched));
    // Dropping the old set does not let a new one take its place.
    drop(old);
    let later = Rc::new("same keys");
    assert!(!hit.verified_with(&later));
    // Re-verifying with the new set replaces the entry.
    cache.insert(digest, &refetched, "alice".to_owned(), NOW + 60, NOW);
    assert!(cache
        .get(&digest, NOW)
        .expect("held")
        .verified_with(&refetched));
    assert_eq!(cache.len(), 1);
}

#[test]
fn an_entry_never_outlives_exp() {
    let cache = Cache::new(4);
    let keys = Rc::new("set");
    let digest = TokenDigest::of("token-a");
    cache.insert(digest, &keys, "alice".to_owned(), NOW + 10, NOW);
    assert!(cache.get(&digest, NOW + 9).is_some());
    assert!(cache.get(&digest, NOW + 10).is_none());
    assert!(cache.get(&digest, NOW + 11).is_none());
}

#[test]
fn a_token_accepted_within_the_skew_after_exp_is_not_stored() {
    let cache = Cache::new(4);
    let keys = Rc::new("set");
    cache.insert(TokenDigest::of("a"), &keys, "x".to_owned(), NOW, NOW);
    cache.insert(TokenDigest::of("b"), &keys, "x".to_owned(), NOW - 30, NOW);
    assert!(cache.is_empty());
}

#[test]
fn capacity_zero_turns_the_cache_off() {
    let cache = Cache::new(0);
    assert!(!cache.is_enabled());
    assert!(Cache::new(1).is_enabled());
    let keys = Rc::new("set");
    let digest = TokenDigest::of("a");
    cache.insert(digest, &keys, "x".to_owned(), NOW + 60, NOW);
    assert!(cache.get(&digest, NOW).is_none());
    assert!(cache.is_empty());
}

#[test]
fn when_full_the_oldest_entry_goes() {
    let cache = Cache::new(2);
    let keys = Rc::new("set");
    let [a, b, c] = ["a", "b", "c"].map(TokenDigest::of);
    cache.insert(a, &keys, "a".to_owned(), NOW + 60, NOW);
    cache.insert(b, &keys, "b".to_owned(), NOW + 60, NOW);
    // Updating `a` keeps its place: it is still the oldest.
    cache.insert(a, &keys, "a2".to_owned(), NOW + 60, NOW);
    cache.insert(c, &keys, "c".to_owned(), NOW + 60, NOW);
    assert!(cache.get(&a, NOW).is_none());
    assert_eq!(cache.get(&b, NOW).expect("b").value, "b");
    assert_eq!(cache.get(&c, NOW).expect("c").value, "c");
    assert_eq!(cache.len(), 2);
}

proptest! {
    /// Whatever the sequence of inserts and lookups: never more than `capacity` entries, never
    /// a value at or after its `exp`, and a hit is always the value last stored for the token.
    #[test]
    fn bounded_and_never_past_exp(
        capacity in 0usize..5,
        ops in prop::collection::vec((0u8..8, -5i64..20, 0i64..30, any::<bool>()), 0..60),
    ) {
        let cache = Cache::new(capacity);
        let keys = Rc::new("set");
        let mut last: HashMap<u8, (String, i64)> = HashMap::new();
        for (step, (token, exp_offset, now_offset, insert)) in ops.into_iter().enumerate() {
            let digest = TokenDigest::of(&token.to_string());
            let now = NOW + now_offset;
            if insert {
                let value = format!("{token}@{step}");
                let exp = now + exp_offset;
                cache.insert(digest, &keys, value.clone(), exp, now);
                if capacity > 0 && now < exp {
                    last.insert(token, (value, exp));
                }
            } else if let Some(hit) = cache.get(&digest, now) {
                let (value, exp) = last.get(&token).expect("a hit was stored");
                prop_assert_eq!(&hit.value, value);
                prop_assert!(now < *exp);
                prop_assert!(hit.verified_with(&keys));
            }
            prop_assert!(cache.len() <= capacity);
        }
    }
}
