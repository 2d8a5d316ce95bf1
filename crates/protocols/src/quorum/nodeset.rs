//! [`NodeSet`]: a fixed-size bitset of node indices, `0..MAX_NODES`.

use std::fmt;

/// The largest number of nodes a [`NodeSet`] holds.
pub const MAX_NODES: usize = 256;

const WORDS: usize = MAX_NODES / 64;

/// A set of node indices below [`MAX_NODES`], as four 64-bit words (`Copy`, ordered, hashable).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeSet {
    w: [u64; WORDS],
}

impl NodeSet {
    /// The empty set.
    pub const EMPTY: NodeSet = NodeSet { w: [0; WORDS] };

    /// `{0, 1, …, n−1}`.
    ///
    /// # Panics
    /// If `n > MAX_NODES`.
    pub fn full(n: usize) -> NodeSet {
        assert!(n <= MAX_NODES, "NodeSet holds at most {MAX_NODES} nodes");
        let mut s = NodeSet::EMPTY;
        for (k, word) in s.w.iter_mut().enumerate() {
            let lo = k * 64;
            if n >= lo + 64 {
                *word = u64::MAX;
            } else if n > lo {
                *word = (1u64 << (n - lo)) - 1;
            }
        }
        s
    }

    /// The set of the given indices.
    pub fn of(items: impl IntoIterator<Item = usize>) -> NodeSet {
        let mut s = NodeSet::EMPTY;
        for i in items {
            s.insert(i);
        }
        s
    }

    /// The set whose members are the set bits of `bits` (nodes 0..64).
    pub fn from_bits(bits: u64) -> NodeSet {
        let mut s = NodeSet::EMPTY;
        s.w[0] = bits;
        s
    }

    /// Adds node `i`.
    ///
    /// # Panics
    /// If `i >= MAX_NODES`.
    pub fn insert(&mut self, i: usize) {
        assert!(i < MAX_NODES, "node index {i} out of range");
        self.w[i / 64] |= 1u64 << (i % 64);
    }

    /// Removes node `i`.
    pub fn remove(&mut self, i: usize) {
        if i < MAX_NODES {
            self.w[i / 64] &= !(1u64 << (i % 64));
        }
    }

    /// Whether `i` is a member.
    pub fn contains(&self, i: usize) -> bool {
        i < MAX_NODES && self.w[i / 64] >> (i % 64) & 1 == 1
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.w.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.w.iter().all(|&w| w == 0)
    }

    /// `self ∩ other`.
    pub fn and(&self, other: &NodeSet) -> NodeSet {
        let mut s = *self;
        for k in 0..WORDS {
            s.w[k] &= other.w[k];
        }
        s
    }

    /// `self ∪ other`.
    pub fn or(&self, other: &NodeSet) -> NodeSet {
        let mut s = *self;
        for k in 0..WORDS {
            s.w[k] |= other.w[k];
        }
        s
    }

    /// `{0..n} ∖ self`.
    pub fn complement(&self, n: usize) -> NodeSet {
        let full = NodeSet::full(n);
        let mut s = full;
        for k in 0..WORDS {
            s.w[k] &= !self.w[k];
        }
        s
    }

    /// Whether every member of `self` is in `other`.
    pub fn is_subset(&self, other: &NodeSet) -> bool {
        (0..WORDS).all(|k| self.w[k] & !other.w[k] == 0)
    }

    /// Whether `self` and `other` share no member.
    pub fn is_disjoint(&self, other: &NodeSet) -> bool {
        (0..WORDS).all(|k| self.w[k] & other.w[k] == 0)
    }

    /// `|self ∩ other|`.
    pub fn meet(&self, other: &NodeSet) -> usize {
        (0..WORDS)
            .map(|k| (self.w[k] & other.w[k]).count_ones() as usize)
            .sum()
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..WORDS).flat_map(move |k| {
            let mut word = self.w[k];
            std::iter::from_fn(move || {
                if word == 0 {
                    None
                } else {
                    let b = word.trailing_zeros() as usize;
                    word &= word - 1;
                    Some(k * 64 + b)
                }
            })
        })
    }
}

impl FromIterator<usize> for NodeSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        NodeSet::of(iter)
    }
}

impl fmt::Debug for NodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for NodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.iter().map(|i| i.to_string()).collect();
        write!(f, "{{{}}}", items.join(","))
    }
}

/// Every `k`-subset of `0..n`, in lexicographic order, passed to `visit`.
pub fn for_each_subset(n: usize, k: usize, mut visit: impl FnMut(NodeSet)) {
    fn go(
        n: usize,
        k: usize,
        start: usize,
        cur: &mut NodeSet,
        depth: usize,
        visit: &mut dyn FnMut(NodeSet),
    ) {
        if depth == k {
            visit(*cur);
            return;
        }
        for i in start..=(n - (k - depth)) {
            cur.insert(i);
            go(n, k, i + 1, cur, depth + 1, visit);
            cur.remove(i);
        }
    }
    if k > n {
        return;
    }
    let mut cur = NodeSet::EMPTY;
    go(n, k, 0, &mut cur, 0, &mut visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_ops() {
        let a = NodeSet::of([0, 63, 64, 130, 255]);
        assert_eq!(a.len(), 5);
        assert!(a.contains(130) && !a.contains(129));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 63, 64, 130, 255]);
        assert_eq!(NodeSet::full(130).len(), 130);
        assert_eq!(NodeSet::full(64).len(), 64);
        let c = a.complement(256);
        assert_eq!(c.len(), 251);
        assert!(c.is_disjoint(&a));
        assert_eq!(a.and(&NodeSet::of([63, 64, 1])).len(), 2);
        assert!(NodeSet::of([63, 64]).is_subset(&a));
        assert_eq!(a.to_string(), "{0,63,64,130,255}");
    }

    #[test]
    fn subsets_are_counted_by_binomials() {
        let mut count = 0;
        let mut last = None;
        for_each_subset(7, 3, |s| {
            assert_eq!(s.len(), 3);
            assert!(last.is_none_or(|l: NodeSet| l != s));
            last = Some(s);
            count += 1;
        });
        assert_eq!(count, 35);
        let mut zero = 0;
        for_each_subset(4, 0, |_| zero += 1);
        assert_eq!(zero, 1);
    }
}
