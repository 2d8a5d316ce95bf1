//! Consensus: processes that may crash agree on one value out of those proposed.
//!
//! The first protocol here is single-decree Paxos, packaged the way model checkers like to
//! exercise it: a *write-once register* ([`PaxosRegister`]). Clients talk to it through the
//! register interface of [`crate::register`] ([`RegisterReq`](crate::register::RegisterReq)
//! requests, [`RegisterResp`](crate::register::RegisterResp) indications): the first write to be
//! chosen wins, every later read returns it.
//!
//! | protocol | failures | timing | what it guarantees |
//! |---|---|---|---|
//! | [`PaxosRegister`] (Lamport) | crash-stop, any minority | asynchronous (safety); no liveness without a leader | agreement, validity; linearizable write-once register |
//! | [`RetryPaxos`]: binary Paxos, every process proposes and retries | crash-stop, any minority | asynchronous, no oracle | agreement, validity; *not* termination (the FLP experiment's subject, [`retry_paxos`]) |
//! | [`Raft`] (Ongaro and Ousterhout) | crash-recovery (stable storage), any minority | asynchronous (safety); partial synchrony for liveness | election safety, log matching, leader completeness, state-machine safety; linearizable register |
//! | [`FloodSet`] (Lynch §6.2), and [`FloodSet::early_deciding`] | crash-stop, f < n | synchronous rounds ([`synod_core::RoundProtocol`]) | termination in f + 1 rounds (early: min(f' + 2, f + 1)), validity, integrity, uniform agreement ([`floodset`]) |
//! | [`MultiPaxos`] (Lamport, "Paxos made simple" §3) | crash-recovery (stable storage), any minority | asynchronous (safety); Ω, so partial synchrony, for liveness ([`MultiPaxos::dueling`]: no oracle, may livelock) | agreement per slot, validity, log-prefix consistency; linearizable register ([`multipaxos`]) |
//! | [`ChandraToueg`] (Chandra and Toueg 1996, rotating coordinator) | crash-stop, f < n/2 | asynchronous with ◇S (here ◇P from heartbeats), so partial synchrony for termination | uniform agreement, validity, integrity, termination ([`chandra_toueg`]) |
//! | [`BenOr`] (Ben-Or 1983), and [`BenOr::common_coin`] | crash-stop, n > 2f, reliable links | asynchronous (no failure detector): randomized, local coin ([`Ctx::choose`](synod_core::Ctx::choose)) or a trusted dealer's common coin | agreement, validity, integrity always; termination with probability 1 ([`ben_or`]) |
//! | [`OralMessages`]: OM(m) (Lamport, Shostak and Pease; EIG form, Lynch §6.3) | Byzantine, f ≤ m, oral messages (no signatures), n > 3f | synchronous rounds ([`synod_core::RoundProtocol`]) | IC1 (loyal lieutenants agree), IC2 (they obey a loyal commander), termination in m + 1 rounds, Θ(n^(m+1)) messages ([`byzantine`]) |
//!
//! Paxos is *safe* in the asynchronous model with any number of crashes and over a network
//! that loses, duplicates and reorders messages: no two servers ever decide different values.
//! It is not *live* there (Fischer, Lynch and Paterson say no deterministic protocol can be):
//! competing proposers can pre-empt each other, and here, with no timers and no retries, a
//! write whose messages are lost simply never completes.
//!
//! A run under the simulator, checked against the properties:
//!
//! ```
//! use synod_core::{check_all, Instant, NodeId};
//! use synod_protocols::consensus::{properties, PaxosRegister};
//! use synod_protocols::register::RegisterReq;
//! use synod_sim::{Scripted, SimConfig, Simulation};
//!
//! let reqs = vec![
//!     (Instant::ZERO, NodeId(0), RegisterReq::Write { client: 1, value: 10 }),
//!     (Instant::ZERO, NodeId(2), RegisterReq::Write { client: 2, value: 20 }),
//!     (Instant::from_secs(1), NodeId(1), RegisterReq::Read { client: 3 }),
//! ];
//! let out = Simulation::new(PaxosRegister::new(), SimConfig::new(3, 7))
//!     .unwrap()
//!     .with_workload(Scripted(reqs))
//!     .run();
//! for r in check_all(&properties::paxos_properties(), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! let states: Vec<_> = out.states.iter().map(|s| s.as_ref()).collect();
//! assert!(properties::agreement_holds(&states));
//! ```
//!
//! Canary (a deliberately broken variant, to show that the checks catch it):
//! [`PaxosRegister::canary_forgets_promise`], whose acceptors accept proposals from ballots
//! lower than the one they promised: two proposers can then both get a majority, and two values
//! are decided.
//!
//! **Read:** Lamport, "Paxos made simple", ACM SIGACT News 32(4), 2001 (the algorithm, the
//! promise and why it is needed); Lynch, *Distributed Algorithms*, ch. 17 (consensus in
//! asynchronous systems with failure detectors and the FLP background); Cachin, Guerraoui and
//! Rodrigues (CGR), ch. 5 (consensus, uniform consensus, and the round-based "epoch" form of
//! Paxos) and ch. 6 (consensus variants).

pub mod ben_or;
pub mod byzantine;
pub mod chandra_toueg;
pub mod floodset;
pub mod multipaxos;
pub mod paxos;
pub mod properties;
pub mod raft;
pub mod retry_paxos;

pub use ben_or::{
    BenOr, BenOrCoin, BenOrInd, BenOrInputs, BenOrMsg, BenOrPhase, BenOrState, RoundTally,
};
pub use byzantine::{Decision, General, OmMsg, OmState, OralMessages, TraitorStrategy};
pub use chandra_toueg::{ChandraToueg, CtInd, CtMsg, CtPhase, CtState, CtTimer, Proposals};
pub use floodset::{Decide, FloodMsg, FloodSet, FloodState, ValueSet};
pub use multipaxos::{
    CmdId, Leadership, MpCmd, MpDurable, MpInd, MpMsg, MpPhase, MpState, MpTimer, MultiPaxos,
};
pub use paxos::{Ballot, PaxosMsg, PaxosRegister, PaxosState, Proposal};
pub use properties::{agreement_holds, decided_value};
pub use raft::{Cmd, Entry, Raft, RaftDurable, RaftInd, RaftMsg, RaftState, RaftTimer, Role};
pub use retry_paxos::RetryPaxos;

/// A set of nodes of a run, as a bitmask: the quorum protocols of this crate count replies
/// with it (Paxos promises and acceptances, ABD replies, two-phase-commit votes). Eight bytes,
/// `Copy`, and duplicate replies are absorbed for free.
///
/// It holds nodes `n0` to `n63`: the protocols that use it refuse to start in a larger run
/// ([`NodeSet::MAX_NODES`]); inserting a larger node does nothing.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeSet(u64);

impl NodeSet {
    /// The largest run a `NodeSet` can describe.
    pub const MAX_NODES: usize = 64;

    /// The empty set.
    pub const EMPTY: NodeSet = NodeSet(0);

    /// The set holding only `p`.
    pub fn only(p: synod_core::NodeId) -> NodeSet {
        let mut s = NodeSet::EMPTY;
        s.insert(p);
        s
    }

    /// Adds `p`; returns true if it was not there before. A node beyond
    /// [`NodeSet::MAX_NODES`] is not recorded (and false is returned).
    pub fn insert(&mut self, p: synod_core::NodeId) -> bool {
        if p.index() >= Self::MAX_NODES {
            return false;
        }
        let bit = 1u64 << p.index();
        let new = self.0 & bit == 0;
        self.0 |= bit;
        new
    }

    /// True if `p` is in the set.
    pub fn contains(self, p: synod_core::NodeId) -> bool {
        p.index() < Self::MAX_NODES && self.0 & (1u64 << p.index()) != 0
    }

    /// How many nodes are in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The nodes in the set, in id order.
    pub fn iter(self) -> impl Iterator<Item = synod_core::NodeId> {
        (0..Self::MAX_NODES as u32)
            .map(synod_core::NodeId)
            .filter(move |p| self.contains(*p))
    }
}

impl std::fmt::Debug for NodeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// *Integrity* (safety) for protocols whose every indication is a decision (Ben-Or,
/// Chandra-Toueg): no process indicates twice, i.e. no process decides twice.
pub fn decides_once<P: synod_core::Protocol>() -> synod_core::Property<P> {
    synod_core::Property::safety("integrity", |trace: &synod_core::Trace<P>| {
        let mut decided = vec![false; trace.facts.n];
        for (i, _, node, _) in trace.indications() {
            if std::mem::replace(&mut decided[node.index()], true) {
                return synod_core::Verdict::violated_at(i, format!("{node} decided twice"));
            }
        }
        synod_core::Verdict::Holds
    })
}

/// The size of a majority quorum of `n` nodes: ⌊n/2⌋ + 1 (any two intersect).
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Panics unless a run of `n` nodes fits in a [`NodeSet`] (a configuration error, reported at
/// `init`).
pub(crate) fn assert_fits_node_set(who: &str, n: usize) {
    assert!(
        n <= NodeSet::MAX_NODES,
        "{who}: runs of at most {} nodes are supported, not {n}",
        NodeSet::MAX_NODES
    );
}

#[cfg(test)]
mod tests {
    use super::{majority, NodeSet};
    use synod_core::NodeId;

    #[test]
    fn node_set_counts_each_node_once() {
        let mut s = NodeSet::only(NodeId(2));
        assert!(s.insert(NodeId(0)));
        assert!(!s.insert(NodeId(2)));
        assert!(!s.insert(NodeId(64)), "beyond the set's range");
        assert_eq!(s.len(), 2);
        assert!(s.contains(NodeId(0)) && !s.contains(NodeId(1)) && !s.contains(NodeId(99)));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![NodeId(0), NodeId(2)]);
        assert_eq!(format!("{s:?}"), "{n0, n2}");
        assert!(NodeSet::EMPTY.is_empty());
        assert_eq!(
            (majority(1), majority(2), majority(3), majority(4)),
            (1, 2, 2, 3)
        );
    }
}
