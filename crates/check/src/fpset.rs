//! A compact set of 64-bit state fingerprints.
//!
//! Exhaustive search is bounded by memory, and the visited set is most of it. This table keeps
//! every fingerprint exactly (all 64 bits: a smaller fingerprint would raise the odds that two
//! states collide and one is never explored) in fewer than 8 bytes, by *quotienting* (Cleary's
//! compact hash table, 1984):
//!
//! - the fingerprint is first scrambled by a bijection, so its bits are uniform;
//! - a table of 2^b slots files it under its top b bits (its *home* slot), so those bits need
//!   not be stored; a shard of a [`ShardedFpSet`] also knows its fingerprints' top 8 bits;
//! - collisions are resolved by Robin Hood linear probing, and each slot stores the remaining
//!   bits plus one byte: the entry's distance from its home, from which the home, and so the
//!   whole fingerprint, is recovered.
//!
//! Slots are packed at the width the remaining bits need: 8 bytes for tiny tables, 7 from 2^10
//! slots, 6 from 2^18, 5 from 2^26 (a shard reaches each width 8 doublings earlier). Tables are
//! kept at most 92% full (Robin Hood probing stays short there), so a fingerprint costs about 6.5
//! to 7.5 bytes in a large search. Parents are not kept: a counterexample path is rebuilt by a
//! second, bounded search when one is needed.

use std::sync::Mutex;

/// Scrambles a fingerprint (a bijection on `u64`), so that the table's top-bit quotient is
/// uniform whatever the fingerprint's own distribution.
#[inline]
fn mix(fp: u64) -> u64 {
    let x = fp.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 32)
}

/// The inverse of [`mix`].
#[inline]
fn unmix(x: u64) -> u64 {
    // 0x9E37_79B9_7F4A_7C15 * 0xF1DE_83E1_9937_733D == 1 (mod 2^64).
    (x ^ (x >> 32)).wrapping_mul(0xF1DE_83E1_9937_733D)
}

/// Largest stored distance from home (the distance byte holds it plus one; 0 marks empty).
const MAX_DIST: u64 = 254;
/// Tables grow beyond this fraction of slots in use (as a ratio of 100).
const MAX_LOAD_PERCENT: usize = 92;

/// The Robin Hood table over scrambled values whose top `implied` bits are known to all entries.
#[derive(Clone, Debug)]
struct Table {
    /// Slot bytes, packed `width` bytes each, plus 8 bytes of padding for unaligned reads.
    bytes: Vec<u8>,
    /// log2 of the number of slots.
    bits: u32,
    /// Bytes per slot.
    width: usize,
    len: usize,
    /// Top bits shared by every entry (a shard's index), and how many.
    prefix: u64,
    implied: u32,
}

impl Table {
    fn new(bits: u32, prefix: u64, implied: u32) -> Table {
        // At least 8 bits of quotient (with the implied ones): a slot holds at most 8 bytes.
        let bits = bits.max(8u32.saturating_sub(implied));
        let rem_bits = 64 - implied - bits;
        let width = (rem_bits as usize + 8).div_ceil(8);
        let slots = 1usize << bits;
        Table {
            bytes: vec![0; slots * width + 8],
            bits,
            width,
            len: 0,
            prefix,
            implied,
        }
    }

    fn slots(&self) -> usize {
        1 << self.bits
    }

    #[inline]
    fn read(&self, i: usize) -> u64 {
        let at = i * self.width;
        let raw = u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"));
        if self.width == 8 {
            raw
        } else {
            raw & ((1u64 << (8 * self.width)) - 1)
        }
    }

    #[inline]
    fn write(&mut self, i: usize, v: u64) {
        let at = i * self.width;
        let slot = &mut self.bytes[at..at + self.width];
        slot.copy_from_slice(&v.to_le_bytes()[..self.width]);
    }

    /// Home slot and remainder of a scrambled value.
    #[inline]
    fn split(&self, x: u64) -> (usize, u64) {
        let y = x << self.implied;
        let home = (y >> (64 - self.bits)) as usize;
        let rem = (y << self.bits) >> (self.bits + self.implied);
        (home, rem)
    }

    /// The scrambled value stored in slot `i` as `(rem, dist)`.
    fn join(&self, i: usize, rem: u64, dist: u64) -> u64 {
        let home = (i.wrapping_sub(dist as usize)) & (self.slots() - 1);
        let low = 64 - self.implied - self.bits;
        let top = self.prefix.checked_shl(64 - self.implied).unwrap_or(0);
        top | ((home as u64) << low) | rem
    }

    #[inline]
    fn contains(&self, x: u64) -> bool {
        let (home, rem) = self.split(x);
        let mask = self.slots() - 1;
        let mut i = home;
        let mut d = 0u64;
        loop {
            let v = self.read(i);
            if v == 0 {
                return false;
            }
            let vd = (v & 0xFF) - 1;
            if vd < d {
                return false;
            }
            if vd == d && v >> 8 == rem {
                return true;
            }
            i = (i + 1) & mask;
            d += 1;
        }
    }

    /// Inserts `x`: `Some(true)` if new, `Some(false)` if present, `None` if the table must grow
    /// first (an entry would sit too far from home).
    #[inline]
    fn insert(&mut self, x: u64) -> Option<bool> {
        if self.contains(x) {
            return Some(false);
        }
        if self.probe_too_long(x) {
            return None;
        }
        let (home, rem) = self.split(x);
        let mask = self.slots() - 1;
        let (mut i, mut rem, mut d) = (home, rem, 0u64);
        loop {
            let v = self.read(i);
            if v == 0 {
                self.write(i, (rem << 8) | (d + 1));
                self.len += 1;
                return Some(true);
            }
            let vd = (v & 0xFF) - 1;
            if vd < d {
                // Robin Hood: the richer entry (closer to home) moves on.
                self.write(i, (rem << 8) | (d + 1));
                rem = v >> 8;
                d = vd;
            }
            i = (i + 1) & mask;
            d += 1;
        }
    }

    /// Would inserting `x` push some entry more than [`MAX_DIST`] from home? (Dry run.)
    fn probe_too_long(&self, x: u64) -> bool {
        let (home, _) = self.split(x);
        let mask = self.slots() - 1;
        let (mut i, mut d) = (home, 0u64);
        loop {
            if d > MAX_DIST {
                return true;
            }
            let v = self.read(i);
            if v == 0 {
                return false;
            }
            let vd = (v & 0xFF) - 1;
            if vd < d {
                d = vd;
            }
            i = (i + 1) & mask;
            d += 1;
        }
    }

    fn full(&self) -> bool {
        (self.len + 1) * 100 > self.slots() * MAX_LOAD_PERCENT
    }

    /// The scrambled values stored, in slot order.
    fn values(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.slots()).filter_map(move |i| {
            let v = self.read(i);
            (v != 0).then(|| self.join(i, v >> 8, (v & 0xFF) - 1))
        })
    }

    /// The table with twice the slots, holding the same values.
    fn doubled(&self) -> Table {
        let mut t = Table::new(self.bits + 1, self.prefix, self.implied);
        for x in self.values() {
            t.insert(x).expect("a doubled table has room");
        }
        t
    }

    fn insert_growing(&mut self, x: u64) -> bool {
        if self.full() && !self.contains(x) {
            *self = self.doubled();
        }
        loop {
            match self.insert(x) {
                Some(new) => return new,
                None => *self = self.doubled(),
            }
        }
    }

    fn bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// A set of `u64` fingerprints in about 6.5 to 7.5 bytes each (see the module documentation).
#[derive(Clone, Debug)]
pub struct FpSet {
    table: Table,
}

impl Default for FpSet {
    fn default() -> Self {
        FpSet::with_capacity(1 << 10)
    }
}

/// log2 of the slots a table needs for `n` entries.
fn bits_for(n: usize, min: u32) -> u32 {
    let slots = (n * 100 / MAX_LOAD_PERCENT + 1).next_power_of_two();
    slots.trailing_zeros().max(min)
}

impl FpSet {
    /// A set sized for about `n` fingerprints.
    pub fn with_capacity(n: usize) -> FpSet {
        FpSet {
            table: Table::new(bits_for(n, 4), 0, 0),
        }
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.table.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.table.len == 0
    }

    /// Bytes of memory the table occupies.
    pub fn bytes(&self) -> usize {
        self.table.bytes()
    }

    /// True if `fp` is in the set.
    #[inline]
    pub fn contains(&self, fp: u64) -> bool {
        self.table.contains(mix(fp))
    }

    /// Inserts `fp`; returns true if it was not there before.
    #[inline]
    pub fn insert(&mut self, fp: u64) -> bool {
        self.table.insert_growing(mix(fp))
    }

    /// The fingerprints stored, in table order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.table.values().map(unmix)
    }
}

/// A visited set that several threads insert into: tables (shards), each behind its own lock,
/// chosen by a scrambled fingerprint's top 8 bits, which the shard then need not store. Shards
/// grow one at a time, so the set never holds two copies of all its fingerprints at once (a
/// single table's doubling does).
#[derive(Debug)]
pub struct ShardedFpSet {
    shards: Vec<Mutex<Table>>,
}

impl Default for ShardedFpSet {
    fn default() -> Self {
        ShardedFpSet {
            shards: (0..SHARDS as u64)
                .map(|i| Mutex::new(Table::new(6, i, SHARD_BITS)))
                .collect(),
        }
    }
}

const SHARD_BITS: u32 = 8;
const SHARDS: usize = 1 << SHARD_BITS;

impl ShardedFpSet {
    fn shard(&self, x: u64) -> std::sync::MutexGuard<'_, Table> {
        self.shards[(x >> (64 - SHARD_BITS)) as usize]
            .lock()
            .expect("a checker worker panicked while holding the visited set")
    }

    /// Inserts `fp`; returns true if it was not there before.
    #[inline]
    pub fn insert(&self, fp: u64) -> bool {
        let x = mix(fp);
        self.shard(x).insert_growing(x)
    }

    /// True if `fp` is in the set.
    pub fn contains(&self, fp: u64) -> bool {
        let x = mix(fp);
        self.shard(x).contains(x)
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("shard").len)
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
    use std::collections::BTreeSet;

    #[test]
    fn mix_is_a_bijection() {
        for fp in [0u64, 1, 2, u64::MAX, 0x1234_5678_9ABC_DEF0] {
            assert_eq!(unmix(mix(fp)), fp);
        }
    }

    #[test]
    fn inserts_and_finds_through_growth_at_every_slot_width() {
        let mut s = FpSet::with_capacity(4);
        let mut widths = BTreeSet::new();
        for i in 0..300_000u64 {
            let fp = synod_core::stable_hash(&i);
            assert!(s.insert(fp));
            if i % 1000 == 0 {
                assert!(!s.insert(fp));
            }
            widths.insert(s.table.width);
        }
        assert_eq!(s.len(), 300_000);
        assert!(widths.len() >= 2, "{widths:?}");
        for i in 0..300_000u64 {
            assert!(s.contains(synod_core::stable_hash(&i)));
        }
        assert!(!s.contains(synod_core::stable_hash(&300_001u64)));
        assert!(s.insert(0) && s.contains(0) && !s.insert(0));
        // Every fingerprint comes back whole.
        let back: BTreeSet<u64> = s.iter().collect();
        assert_eq!(back.len(), 300_001);
        assert!(back.contains(&0) && back.contains(&synod_core::stable_hash(&77u64)));
    }

    #[test]
    fn fingerprints_differing_only_in_low_or_high_bits_stay_distinct() {
        let mut s = FpSet::default();
        let base = 0xDEAD_BEEF_0000_0000u64;
        for k in 0..64 {
            assert!(s.insert(base ^ (1 << k)), "bit {k}");
        }
        assert!(s.insert(base));
        assert_eq!(s.len(), 65);
        let back: BTreeSet<u64> = s.iter().collect();
        assert!((0..64).all(|k| back.contains(&(base ^ (1 << k)))));
    }

    #[test]
    fn sharded_set_agrees_with_a_plain_one() {
        let sharded = ShardedFpSet::default();
        let mut plain = FpSet::default();
        for i in 0..200_000u64 {
            let fp = synod_core::stable_hash(&(i % 120_000));
            assert_eq!(sharded.insert(fp), plain.insert(fp));
        }
        assert_eq!(sharded.len(), 120_000);
        assert!(sharded.contains(synod_core::stable_hash(&119_999u64)));
        assert!(!sharded.contains(synod_core::stable_hash(&120_000u64)));
    }
}
