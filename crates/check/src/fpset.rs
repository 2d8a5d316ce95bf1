//! A compact set of 64-bit state fingerprints.
//!
//! Exhaustive search is bounded by memory, and the visited set is most of it. This table stores
//! nothing but the 8-byte fingerprints, in one flat vector with linear probing (load factor at
//! most 3/4, doubling when full), so a visited state costs 8 to 16 bytes (about 11 on average),
//! against about 28 for a hash map from fingerprint to parent fingerprint. Parents are not kept:
//! a counterexample path is rebuilt by a second, bounded search when one is needed.

use std::sync::Mutex;

/// An open-addressing hash set of non-zero `u64` fingerprints.
#[derive(Clone, Debug)]
pub struct FpSet {
    slots: Vec<u64>,
    len: usize,
    mask: usize,
    /// 64 - log2(slots): the shift that turns a product into a slot index.
    shift: u32,
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
            shift: 64 - slots.trailing_zeros(),
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
        // Fibonacci hashing: every bit of the fingerprint moves the slot, so a shard of a
        // [`ShardedFpSet`], whose fingerprints share their top bits, still spreads evenly.
        (fp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
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

    /// The fingerprints stored, in table order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().copied().filter(|&f| f != 0)
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
        self.shift = 64 - n.trailing_zeros();
        for fp in old.into_iter().filter(|&f| f != 0) {
            let mut i = self.slot(fp);
            while self.slots[i] != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = fp;
        }
    }
}

/// A visited set that several threads insert into: [`FpSet`] shards, each behind its own lock,
/// chosen by a fingerprint's top bits. Shards grow one at a time, so the set never holds two
/// copies of all its fingerprints at once (a single table's doubling does).
#[derive(Debug)]
pub struct ShardedFpSet {
    shards: Vec<Mutex<FpSet>>,
}

impl Default for ShardedFpSet {
    fn default() -> Self {
        ShardedFpSet {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FpSet::with_capacity(64)))
                .collect(),
        }
    }
}

const SHARD_BITS: u32 = 8;
const SHARDS: usize = 1 << SHARD_BITS;

impl ShardedFpSet {
    fn shard(&self, fp: u64) -> std::sync::MutexGuard<'_, FpSet> {
        self.shards[(fp >> (64 - SHARD_BITS)) as usize]
            .lock()
            .expect("a checker worker panicked while holding the visited set")
    }

    /// Inserts `fp`; returns true if it was not there before.
    #[inline]
    pub fn insert(&self, fp: u64) -> bool {
        self.shard(fp).insert(fp)
    }

    /// True if `fp` is in the set.
    pub fn contains(&self, fp: u64) -> bool {
        self.shard(fp).contains(fp)
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("shard").len())
            .sum()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of memory the shards occupy.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("shard").bytes())
            .sum()
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

    #[test]
    fn sharded_set_agrees_with_a_plain_one() {
        let sharded = ShardedFpSet::default();
        let mut plain = FpSet::default();
        for i in 0..50_000u64 {
            let fp = synod_core::stable_hash(&(i % 30_000));
            assert_eq!(sharded.insert(fp), plain.insert(fp));
        }
        assert_eq!(sharded.len(), 30_000);
        assert!(sharded.contains(synod_core::stable_hash(&29_999u64)));
    }
}
