//! Leader election: out of n processes with unique, comparable identifiers (UIDs), exactly one
//! becomes the *leader*, and every process learns which one.
//!
//! Every node of a run is `NodeId(0..n)`; its UID comes from the protocol's configuration
//! (`uids[i]` is node i's UID), so an experiment can arrange UIDs around a ring as it likes
//! ([`arrangement`]: the worst case of LCR, sorted, random). Every protocol here reports the
//! result the same way, with one [`ElectionIndication::Elected`] naming the leader and its UID,
//! so the same [`properties`] judge all of them.
//!
//! | protocol | topology | failures | timing | messages |
//! |---|---|---|---|---|
//! | [`Lcr`] (Le Lann, Chang and Roberts) | unidirectional ring | none | any | Θ(n²) worst case, n·H_n on average, plus n for the announcement |
//! | [`HirschbergSinclair`] | bidirectional ring | none | any | ≤ 8n(1+⌈log₂ n⌉), plus n for the announcement |
//! | [`Bully`] (Garcia-Molina) | complete graph | crash-stop | synchronous (timeout > 2Δ) | Θ(n²) worst case, n−1 best case |
//!
//! The ring algorithms start on their own at time 0 (no requests) and elect the node with the
//! largest UID. The bully algorithm starts when the layer above (or a failure detector) sends a
//! node [`BullyRequest::StartElection`], and elects the live node with the largest UID, provided
//! its timeout covers a round trip; with a shorter timeout two nodes can both claim to be
//! coordinator (a *split brain*).
//!
//! The two ring algorithms, counted and checked:
//!
//! ```
//! use synod_core::{check_all, Instant};
//! use synod_protocols::election::{arrangement, properties, HirschbergSinclair, HsMsg, Lcr, LcrMsg};
//! use synod_sim::{SimConfig, Simulation};
//!
//! let n = 16;
//! let mut cfg = SimConfig::new(n, 1);
//! cfg.until = Instant::from_secs(60);
//! let uids = arrangement::worst_case_lcr(n);
//! let out = Simulation::new(Lcr::new(uids.clone()), cfg.clone()).unwrap().run();
//! assert_eq!(properties::count_id_messages(&out.trace, LcrMsg::is_id_message), 136); // n(n+1)/2
//! for r in check_all(&properties::election_properties(uids.clone()), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//!
//! let out = Simulation::new(HirschbergSinclair::new(uids.clone()), cfg).unwrap().run();
//! let ids = properties::count_id_messages(&out.trace, HsMsg::is_id_message);
//! assert!(ids <= 8 * 16 * (1 + 4)); // 8n(1 + ⌈log₂ n⌉)
//! for r in check_all(&properties::election_properties(uids), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! ```
//!
//! Canaries (deliberately broken variants, to show that the checks catch them):
//! [`LcrCanaryForwardAll`] (forwards every UID without comparing: every node elects itself, and
//! n² messages) and [`HsCanaryRelaySmaller`] (relays smaller UIDs too: every node elects itself,
//! and, from n = 5 on, more messages than the 8n(1+⌈log₂ n⌉) bound: Θ(n²)).
//!
//! Read: Lynch, *Distributed Algorithms*, ch. 3 (LCR and HS in synchronous rings, the
//! 8n(1+⌈log n⌉) bound, and the Ω(n log n) lower bound for comparison-based algorithms) and
//! ch. 15 §15.1 (the same algorithms in asynchronous rings); Attiya and Welch, *Distributed
//! Computing*, ch. 3 (leader election in rings); Garcia-Molina, "Elections in a distributed
//! computing system", IEEE Trans. Computers C-31(1), 1982 (the bully algorithm).

pub mod arrangement;
mod bully;
mod hs;
mod lcr;
pub mod properties;

pub use bully::{Bully, BullyMsg, BullyPhase, BullyRequest, BullyState, BullyTimer};
pub use hs::{HirschbergSinclair, HsCanaryRelaySmaller, HsMsg, HsState};
pub use lcr::{Lcr, LcrCanaryForwardAll, LcrMsg, LcrState};

use serde::{Deserialize, Serialize};
use synod_core::NodeId;

/// What an election tells the layer above.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ElectionIndication {
    /// "I learned that `leader` (whose UID is `uid`) is the leader." The leader emits it for
    /// itself too. The ring algorithms emit it exactly once per node; the bully algorithm emits
    /// it again whenever a new election ends at the node.
    Elected {
        /// The leader.
        leader: NodeId,
        /// The leader's UID.
        uid: u64,
    },
}

/// Panics unless `uids` are pairwise distinct (the algorithms compare UIDs and need a unique
/// maximum; equal UIDs are a configuration error).
fn assert_distinct(who: &str, uids: &[u64]) {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        panic!(
            "{who}: the UIDs must be distinct, but {} appears twice",
            w[0]
        );
    }
}

/// Panics unless the configuration has one UID per node of the run.
fn assert_one_uid_per_node(who: &str, uids: &[u64], n: usize) {
    assert_eq!(
        uids.len(),
        n,
        "{who}: the configuration has {} UIDs for a run of {n} nodes (one UID per node)",
        uids.len()
    );
}
