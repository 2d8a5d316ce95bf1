//! The memo table of the search: the set of configurations (linearized set, spec state) already
//! explored.
//!
//! An open-addressing hash set with linear probing over a slot array of entry numbers; keys
//! (the linearized set in a compact, canonical form) live in one arena of words, so an entry
//! costs no allocation of its own. Entries are never removed: the search only needs "seen
//! before?". Hashing is [`synod_core::StableHasher`], so runs are reproducible.

use std::hash::{Hash, Hasher};
use synod_core::StableHasher;

struct Entry<S> {
    hash: u64,
    key_start: u32,
    key_len: u32,
    state: S,
}

pub(crate) struct Memo<S> {
    /// `0` = empty, else an entry number plus one.
    slots: Vec<u32>,
    entries: Vec<Entry<S>>,
    keys: Vec<u64>,
}

impl<S: Eq + Hash + Clone> Memo<S> {
    pub(crate) fn new() -> Memo<S> {
        Memo {
            slots: vec![0; 64],
            entries: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// The number of configurations stored.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The hash of a configuration, from the linearized set's hash (maintained incrementally
    /// by the search: equal sets have equal hashes) and the state. The table still compares
    /// the full key and state, so a collision costs a comparison, never a wrong answer.
    pub(crate) fn hash(set_hash: u64, state: &S) -> u64 {
        let mut h = StableHasher::default();
        h.write_u64(set_hash);
        state.hash(&mut h);
        h.finish()
    }

    /// Inserts the configuration; returns false if it was already present.
    pub(crate) fn insert(&mut self, hash: u64, key: &[u64], state: &S) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                break;
            }
            let e = &self.entries[(slot - 1) as usize];
            if e.hash == hash
                && e.key_len as usize == key.len()
                && self.keys[e.key_start as usize..][..key.len()] == *key
                && e.state == *state
            {
                return false;
            }
            i = (i + 1) & mask;
        }
        assert!(
            self.entries.len() < u32::MAX as usize - 1,
            "memo table full (4 billion configurations)"
        );
        let key_start = self.keys.len();
        assert!(
            key_start + key.len() < u32::MAX as usize,
            "memo table full (4 billion key words)"
        );
        self.keys.extend_from_slice(key);
        self.entries.push(Entry {
            hash,
            key_start: key_start as u32,
            key_len: key.len() as u32,
            state: state.clone(),
        });
        self.slots[i] = self.entries.len() as u32;
        if self.entries.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        let mut slots = vec![0u32; size];
        for (n, e) in self.entries.iter().enumerate() {
            let mut i = (e.hash as usize) & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = n as u32 + 1;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_semantics_through_growth() {
        let mut m: Memo<u8> = Memo::new();
        for k in 0..1000u64 {
            let key = [k, k / 3];
            let h = Memo::hash(k ^ (k / 3) << 20, &((k % 7) as u8));
            assert!(m.insert(h, &key, &((k % 7) as u8)));
        }
        assert_eq!(m.len(), 1000);
        for k in 0..1000u64 {
            let key = [k, k / 3];
            let h = Memo::hash(k ^ (k / 3) << 20, &((k % 7) as u8));
            assert!(!m.insert(h, &key, &((k % 7) as u8)));
            // Same key, other state: new. Same hash forced, other key: new.
            let other = ((k % 7) as u8) + 100;
            assert!(m.insert(Memo::hash(k ^ (k / 3) << 20, &other), &key, &other));
            assert!(m.insert(h, &[k, k / 3, 0], &((k % 7) as u8)));
        }
        assert_eq!(m.len(), 3000);
    }
}
