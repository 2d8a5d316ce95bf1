//! Stable hashing: the same value hashes to the same number in every process.
//!
//! std's default `RandomState` is seeded from the OS, so hashes and `HashMap` iteration order
//! change between runs. synod hashes traces (for `trace_hash`) and, later, model-checker states
//! with [`StableHasher`], a fixed-key 64-bit multiply-rotate hasher (the FxHash construction,
//! written here so its output never changes under us), finished with a strong avalanche step.

use std::hash::{BuildHasher, Hash, Hasher};

const K: u64 = 0x517C_C1B7_2722_0A95;

/// A fast hasher with fixed keys and a final avalanche (not DoS-resistant; never used on
/// adversarial keys in a server).
#[derive(Clone, Copy, Debug)]
pub struct StableHasher {
    h: u64,
}

/// The starting value (the fractional digits of π): a zero start would hash all-zero input,
/// such as the integer 0, to 0.
const START: u64 = 0x243F_6A88_85A3_08D3;

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher { h: START }
    }
}

impl StableHasher {
    /// A hasher starting from `seed` (for independent hash functions; `default()` otherwise).
    pub const fn with_seed(seed: u64) -> StableHasher {
        StableHasher { h: START ^ seed }
    }

    #[inline]
    fn add(&mut self, w: u64) {
        self.h = (self.h.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for StableHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Murmur3's fmix64: spreads every input bit over the whole output.
        let mut z = self.h;
        z ^= z >> 33;
        z = z.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z ^= z >> 33;
        z = z.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        z ^ (z >> 33)
    }
}

/// A [`BuildHasher`] for [`StableHasher`], for maps whose iteration order must be reproducible.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableBuildHasher;

impl BuildHasher for StableBuildHasher {
    type Hasher = StableHasher;
    fn build_hasher(&self) -> StableHasher {
        StableHasher::default()
    }
}

/// The stable 64-bit hash of any `Hash` value.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_sensitive() {
        assert_eq!(stable_hash(&(1u32, "a")), stable_hash(&(1u32, "a")));
        assert_ne!(stable_hash(&(1u32, "a")), stable_hash(&(2u32, "a")));
        assert_ne!(stable_hash(&[1u8, 2]), stable_hash(&[2u8, 1]));
        assert_ne!(stable_hash(&0u64), 0, "zero input must not hash to zero");
    }
}
