//! Quorum systems: which sets of nodes an operation must hear from, and what that costs.
//!
//! A *quorum system* over nodes `0..n` is a family of node sets, its quorums, every two of which
//! intersect. Replication protocols (ABD's registers, Paxos's phases, Dynamo's reads and writes)
//! are correct because of that intersection alone: whatever one quorum did, any later quorum
//! holds a node that saw it. Which family to pick is a trade-off the constructions here make
//! measurable.
//!
//! | constructor | quorums | smallest quorum c |
//! |---|---|---|
//! | [`QuorumSystem::majority`] (Thomas 1979) | every ⌊n/2⌋ + 1 nodes | ⌊n/2⌋ + 1 |
//! | [`QuorumSystem::weighted`] (Gifford 1979) | every set holding `threshold` of the votes | greedy by votes |
//! | [`QuorumSystem::grid`] (Maekawa 1985; Naor & Wool) | one full row ∪ one full column | 2√n − 1 |
//! | [`QuorumSystem::projective_plane`] (Maekawa 1985) | the lines of PG(2, q), n = q² + q + 1, q prime | q + 1 ≈ √n |
//! | [`QuorumSystem::tree`] (Agrawal & El Abbadi 1990) | a root-to-leaf path, an unavailable node replaced by paths in both its subtrees | log₂(n + 1) |
//! | [`ReadWriteQuorums`] (Gifford; DDIA's N, R, W) | reads of R, writes of W, R + W > N, 2W > N | R and W |
//! | [`ByzQuorums`] (Malkhi & Reiter 1998) | q of n with intersections ≥ f + 1 (dissemination) or ≥ 2f + 1 (masking) | ⌈(n + f + 1)/2⌉, ⌈(n + 2f + 1)/2⌉ |
//!
//! **Model.** Static membership: the n nodes are fixed in advance. Crash-stop failures, each
//! node failing independently with probability p (for [`QuorumSystem::failure_exact`] and
//! [`QuorumSystem::failure_monte_carlo`]); or up to f Byzantine servers for [`ByzQuorums`],
//! which may reply anything (a stale value, a value nobody wrote) but cannot forge signatures
//! under dissemination quorums. No timing assumption: a quorum is a set, not a protocol.
//!
//! **Properties.**
//! - *Intersection* (safety): every two quorums share a node ([`QuorumSystem::check_intersection`],
//!   by comparing every pair of minimal quorums when they are few, from the construction's
//!   parameters otherwise; a failure comes with two disjoint quorums as its witness); for
//!   read/write quorums every read meets every write and every two writes meet; for Byzantine
//!   quorums the intersection holds f + 1 or 2f + 1 servers ([`byz_exhaustive`] checks a read
//!   against every faulty set and every lie).
//! - *Availability* (liveness): some quorum is made of live nodes only. Its failure probability
//!   `F_p` is computed exactly where possible ([`prob`]: the binomial tail in log space for
//!   thresholds, dynamic programs for weighted voting and the grid, a recursion for the tree,
//!   all 2^n failure patterns for small n) and by Monte Carlo otherwise, always labelled.
//!
//! **Measures** (Naor & Wool, "The load, capacity, and availability of quorum systems", SIAM J.
//! Computing 1998). The *load* of a strategy (a probability distribution over quorums) is its
//! busiest node's access probability; the system's load is the best strategy's
//! ([`QuorumSystem::load`]; [`lp::optimal_load`] solves the LP for small systems). Every system
//! has load ≥ max(1/c, c/n) ≥ 1/√n ([`QuorumSystem::load_lower_bound`]), and `F_p ≥ p^c`
//! (kill a smallest quorum and no quorum survives: every quorum meets it), hence
//! `F_p ≥ p^(nL)`: a low load forces a high failure probability. Majority has load ≈ ½ and
//! `F_p → 0` as n grows (p < ½); the grid and the plane have load Θ(1/√n) and `F_p → 1`.
//!
//! Canaries: [`QuorumSystem::minority_canary`] (⌊n/2⌋ nodes) and
//! [`QuorumSystem::grid_row_only_canary`] (a row only); their intersection checks fail with two
//! disjoint quorums.
//!
//! ```
//! use synod_protocols::quorum::{Intersection, QuorumSystem};
//!
//! let grid = QuorumSystem::grid(3, 3);
//! assert_eq!(grid.min_quorum_size(), 5);
//! assert!(grid.check_intersection(1000).holds());
//! let fp = grid.failure_exact(0.1, 0).unwrap().fp;
//! assert!(fp > 0.0 && fp < 0.1);
//! let canary = QuorumSystem::minority_canary(9);
//! assert!(matches!(canary.check_intersection(1000), Intersection::Violated { .. }));
//! ```
//!
//! **Read:** Vukolić, *Quorum Systems: With Applications to Storage and Consensus* (2012), the
//! whole book; Naor & Wool 1998 (load, capacity, availability); Gifford, "Weighted voting for
//! replicated data" (SOSP 1979); Maekawa, "A √N algorithm for mutual exclusion" (TOCS 1985);
//! Agrawal & El Abbadi, "An efficient and fault-tolerant solution for distributed mutual
//! exclusion" (TOCS 1991; VLDB 1990 for the tree protocol); Malkhi & Reiter, "Byzantine quorum
//! systems" (Distributed Computing 1998); Cachin, Guerraoui and Rodrigues (CGR) ch. 2 (quorums,
//! Byzantine quorums) and ch. 4 (majority registers); Kleppmann, *Designing Data-Intensive
//! Applications* (DDIA) ch. 5 (quorum reads and writes); Kshemkalyani & Singhal ch. 9
//! (quorum-based mutual exclusion).

pub mod lp;
pub mod nodeset;
pub mod prob;
pub mod rw;
pub mod system;

pub use nodeset::{NodeSet, MAX_NODES};
pub use rw::{
    byz_exhaustive, byz_read, ByzCheck, ByzKind, ByzQuorums, ReadResult, ReadWriteQuorums, Reply,
};
pub use system::{
    binomial, sci, Failure, FpMethod, Intersection, Load, LoadMethod, QuorumSystem, Shape,
};

#[cfg(test)]
mod tests;
