//! A response body collected under a size cap that holds while it is read, not only after.

use crate::FetchError;

/// The JWKS response body, collected chunk by chunk under a cap of `max` bytes.
///
/// A chunk that would take the total past the cap is refused before any of it is kept, so the
/// buffer never holds more than `max` bytes, whatever the `Content-Length` said or whether
/// there was one: the fetcher stops reading (and cancels the stream) at the first
/// [`FetchError::TooLarge`].
#[derive(Debug)]
pub struct CappedBody {
    bytes: Vec<u8>,
    max: usize,
}

impl CappedBody {
    /// An empty body capped at `max_bytes`. A `declared` length (`Content-Length`) over the cap
    /// is refused at once; one within it only sizes the first allocation (it is not trusted:
    /// the running total is checked all the same).
    pub fn new(max_bytes: u64, declared: Option<u64>) -> Result<Self, FetchError> {
        if declared.is_some_and(|len| len > max_bytes) {
            return Err(FetchError::TooLarge);
        }
        let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let reserve = declared
            .and_then(|len| usize::try_from(len).ok())
            .unwrap_or(0)
            .min(max);
        Ok(Self {
            bytes: Vec::with_capacity(reserve),
            max,
        })
    }

    /// Whether a chunk of `len` more bytes still fits under the cap.
    pub fn fits(&self, len: usize) -> bool {
        self.bytes
            .len()
            .checked_add(len)
            .is_some_and(|total| total <= self.max)
    }

    /// Appends a chunk of `len` bytes that `fill` writes into the space made for it (for a
    /// chunk that lives outside this memory, such as a JS `Uint8Array`, so it is copied once
    /// and only once it is known to fit). Over the cap: [`FetchError::TooLarge`], nothing kept.
    pub fn append_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), FetchError> {
        if !self.fits(len) {
            return Err(FetchError::TooLarge);
        }
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        if let Some(space) = self.bytes.get_mut(start..) {
            fill(space);
        }
        Ok(())
    }

    /// Appends `chunk`; over the cap: [`FetchError::TooLarge`], nothing kept.
    pub fn append(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        self.append_with(chunk.len(), |space| space.copy_from_slice(chunk))
    }

    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The whole body.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exactly_the_cap_fits_one_byte_more_does_not() {
        let mut body = CappedBody::new(10, None).unwrap();
        body.append(b"01234").unwrap();
        body.append(b"56789").unwrap();
        assert_eq!(body.append(b"x"), Err(FetchError::TooLarge));
        assert_eq!(body.append(b""), Ok(()));
        assert_eq!(body.into_bytes(), b"0123456789");
    }

    #[test]
    fn the_chunk_that_crosses_the_cap_is_refused_before_it_is_kept() {
        let mut body = CappedBody::new(8, None).unwrap();
        body.append(b"abcdef").unwrap();
        let mut filled = false;
        let result = body.append_with(3, |_| filled = true);
        assert_eq!(result, Err(FetchError::TooLarge));
        assert!(!filled, "the crossing chunk must not be copied in");
        assert_eq!(body.len(), 6);
        // A single chunk larger than the whole cap, into an empty body.
        let mut empty = CappedBody::new(8, None).unwrap();
        assert_eq!(empty.append(&[0; 9]), Err(FetchError::TooLarge));
        assert!(empty.is_empty());
    }

    #[test]
    fn a_declared_length_over_the_cap_is_refused_at_once_and_one_within_is_not_trusted() {
        assert_eq!(
            CappedBody::new(10, Some(11)).unwrap_err(),
            FetchError::TooLarge
        );
        assert_eq!(
            CappedBody::new(10, Some(u64::MAX)).unwrap_err(),
            FetchError::TooLarge
        );
        // A body that claims 4 bytes and sends 11 is still stopped at the cap.
        let mut liar = CappedBody::new(10, Some(4)).unwrap();
        liar.append(b"0123456789").unwrap();
        assert_eq!(liar.append(b"!"), Err(FetchError::TooLarge));
    }

    #[test]
    fn a_zero_cap_takes_only_empty_chunks() {
        let mut body = CappedBody::new(0, Some(0)).unwrap();
        assert_eq!(body.append(b""), Ok(()));
        assert_eq!(body.append(b"a"), Err(FetchError::TooLarge));
        assert!(body.into_bytes().is_empty());
    }

    proptest! {
        /// Whatever the chunking: the body is kept whole when it fits, refused exactly when the
        /// running total would pass the cap, and the buffer never holds more than the cap.
        #[test]
        fn never_holds_more_than_the_cap(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
            max in 0u64..300,
        ) {
            let mut body = CappedBody::new(max, None).unwrap();
            let mut expected = Vec::new();
            let mut refused = false;
            for chunk in &chunks {
                match body.append(chunk) {
                    Ok(()) => expected.extend_from_slice(chunk),
                    Err(e) => {
                        prop_assert_eq!(e, FetchError::TooLarge);
                        prop_assert!((expected.len() + chunk.len()) as u64 > max);
                        refused = true;
                        break;
                    }
                }
                prop_assert!(body.len() as u64 <= max);
            }
            let total: usize = chunks.iter().map(Vec::len).sum();
            prop_assert_eq!(refused, total as u64 > max);
            prop_assert_eq!(body.into_bytes(), if refused { expected } else { chunks.concat() });
        }
    }
}
