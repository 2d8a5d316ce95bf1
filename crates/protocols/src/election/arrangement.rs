//! UID arrangements for experiments: which UID sits at which node of the ring.
//!
//! Node i's UID is `uids[i]`; on the rings, messages travel from node i to node i+1 (mod n), and
//! the hybrid ring of [`super::HirschbergSinclair`] also from i to i−1. Every arrangement here is
//! a permutation of `1..=n`, so the leader's UID is always n.

use synod_core::Prng;

/// The worst case of [`super::Lcr`]: UIDs *decrease* along the direction of travel,
/// `uids[i] = n − i`. Node i's UID then travels n − i hops before a larger UID (node 0's)
/// swallows it, and node 0's travels all n hops back to itself: n(n+1)/2 UID messages in all.
pub fn worst_case_lcr(n: usize) -> Vec<u64> {
    (0..n as u64).map(|i| n as u64 - i).collect()
}

/// UIDs increasing along the direction of travel, `uids[i] = i + 1` (LCR's best case: every
/// UID but the largest is swallowed after one hop, 2n − 1 UID messages).
pub fn sorted(n: usize) -> Vec<u64> {
    (1..=n as u64).collect()
}

/// A uniformly random permutation of `1..=n`, drawn from `prng`.
pub fn random(n: usize, prng: &mut Prng) -> Vec<u64> {
    let mut uids = sorted(n);
    prng.shuffle(&mut uids);
    uids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrangements_are_permutations_of_one_to_n() {
        let mut prng = Prng::new(3);
        for n in [1, 2, 5, 17] {
            for mut uids in [worst_case_lcr(n), sorted(n), random(n, &mut prng)] {
                uids.sort_unstable();
                assert_eq!(uids, (1..=n as u64).collect::<Vec<_>>());
            }
        }
        assert_eq!(worst_case_lcr(4), vec![4, 3, 2, 1]);
        assert_eq!(sorted(4), vec![1, 2, 3, 4]);
    }
}
