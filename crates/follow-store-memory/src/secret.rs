//! The store's cursor secret: random per store, since nothing of a memory
//! store outlives it, and so no cursor of one store is accepted by another.

use std::fmt;
use std::hash::{BuildHasher, RandomState};

/// 16 random bytes, kept out of `Debug` output.
#[derive(Clone, Copy)]
pub(crate) struct Secret([u8; 16]);

impl Secret {
    /// From the operating system's generator. Should it fail (no entropy
    /// source at all), from std's `RandomState`, which is itself seeded from
    /// the operating system once per process and differs for every call, so
    /// the key is still unknown to clients.
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() || bytes == [0; 16] {
            let state = RandomState::new();
            let low = state.hash_one(0u8).to_le_bytes();
            let high = state.hash_one(1u8).to_le_bytes();
            bytes[..8].copy_from_slice(&low);
            bytes[8..].copy_from_slice(&high);
        }
        Secret(bytes)
    }

    pub(crate) fn bytes(self) -> [u8; 16] {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_secret_is_new_and_not_shown() {
        let (a, b) = (Secret::random(), Secret::random());
        assert_ne!(a.bytes(), b.bytes());
        assert_ne!(a.bytes(), [0; 16]);
        assert_eq!(format!("{a:?}"), "<redacted>");
    }
}
