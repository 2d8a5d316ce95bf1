//! A compact set of 64-bit state fingerprints.
//!
//! Exhaustive search is bounded by memory, and the visited set is most of it. This table stores
//! nothing but the 8-byte fingerprints, in one flat vector with linear probing (load factor at
//! most 3/4, doubling when full), so a visited state costs 8 to 16 bytes (about 11 on average),
//! against about 28 for a hash map from fingerprint to parent fingerprint. Parents are not kept:
//! a counterexample path is rebuilt by a second, bounded search when one is needed.

/// An open-addressing hash set of non-zero `u64` fingerprints.
#[derive(Clone, Debug)]
pub struct FpSet {
    slots: Vec<u64>,
    len: usize,
    mask: usize,
}

impl Default for FpSet {
    fn default() -> Self {
        FpSet::with_capacity(1 << 10)
    }
}

#[inline]
fn nonzero(fp: u64) -> u64 {
    if fp == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        fp
    }
}

impl FpSet {
    /// A set sized for about `n` fingerprints.
    pub fn with_capacity(n: usize) -> FpSet {
        let slots = (n * 4 / 3 + 1).next_power_of_two().max(16);
        FpSet {
            slots: vec![0; slots],
            len: 0,
            mask: slots - 1,
        }
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the table occupies.
    pub fn bytes(&self) -> usize {
        self.slots.len() * 8
    }

    #[inline]
    fn slot(&self, fp: u64) -> usize {
        // Fingerprints are already well mixed; use the high bits.
        (fp.rotate_left(17) as usize) & self.mask
    }

    /// True if `fp` is in the set.
    #[inline]
    pub fn contains(&self, fp: u64) -> bool {
        let fp = nonzero(fp);
        let mut i = self.slot(fp);
        loop {
            let s = self.slots[i];
            if s == fp {
                return true;
            }
            if s == 0 {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `fp`; returns true if it was not there before.
    #[inline]
    pub fn insert(&mut self, fp: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let fp = nonzero(fp);
        let mut i = self.slot(fp);
        loop {
            let s = self.slots[i];
            if s == fp {
                return false;
            }
            if s == 0 {
                self.slots[i] = fp;
                self.len += 1;
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Makes room for `extra` more fingerprints without growing during the inserts.
    pub fn reserve(&mut self, extra: usize) {
        while (self.len + extra) * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let n = old.len() * 2;
        self.slots = vec![0; n];
        self.mask = n - 1;
        for fp in old.into_iter().filter(|&f| f != 0) {
            let mut i = self.slot(fp);
            while self.slots[i] != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = fp;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_and_finds_through_growth() {
        let mut s = FpSet::with_capacity(4);
        for i in 0..10_000u64 {
            let fp = synod_core::stable_hash(&i);
            assert!(s.insert(fp));
            assert!(!s.insert(fp));
        }
        assert_eq!(s.len(), 10_000);
        for i in 0..10_000u64 {
            assert!(s.contains(synod_core::stable_hash(&i)));
        }
        assert!(!s.contains(synod_core::stable_hash(&10_001u64)));
        assert!(s.insert(0) && s.contains(0));
    }
}
