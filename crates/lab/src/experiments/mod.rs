//! The experiment registry.

pub mod abd;
pub mod amnesia;
pub mod ben_or_rounds;
pub mod broadcast_hierarchy;
pub mod broadcast_orders;
pub mod bully;
pub mod byz_bound;
pub mod byz_quorums;
pub mod chain_vs_pb;
pub mod consensus_number;
pub mod crdt_convergence;
pub mod fd_qos;
pub mod fd_timeouts;
pub mod floodset_rounds;
pub mod flp;
pub mod gst_sweep;
pub mod lamport_vs_vector;
pub mod lcr_vs_hs;
pub mod link_hierarchy;
pub mod omega;
pub mod paxos_duel;
pub mod quorum_rw;
pub mod quorum_systems;
pub mod raft_election;
pub mod register_semantics;
pub mod replication_compare;
pub mod snapshot;
pub mod split_brain;
pub mod swim_vs_heartbeat;
pub mod tob_consensus;

use crate::experiment::ExperimentEntry;
use crate::{LabError, Topic};

/// Every experiment, in topic order.
pub fn experiments() -> Vec<ExperimentEntry> {
    let e = |id, topic, summary, run| ExperimentEntry {
        id,
        topic,
        summary,
        run,
    };
    vec![
        e(
            "lamport-vs-vector",
            Topic::LogicalTime,
            "happened-before vs clocks: Lamport orders concurrent pairs, vector clocks capture causality exactly at n integers per message",
            lamport_vs_vector::run,
        ),
        e(
            "link-hierarchy",
            Topic::Links,
            "retransmission cost 1/(1-p) vs 1/(1-p)^2; duplicates and reordering at each rung",
            link_hierarchy::run,
        ),
        e(
            "fd-timeouts",
            Topic::FailureDetectors,
            "fixed vs increasing timeouts under partial synchrony: false suspicions before/after GST",
            fd_timeouts::run,
        ),
        e(
            "fd-qos",
            Topic::FailureDetectors,
            "phi accrual threshold sweep: detection time T_D rises as mistakes fall (QoS metrics)",
            fd_qos::run,
        ),
        e(
            "swim-vs-heartbeat",
            Topic::FailureDetectors,
            "messages per period n(n-1) vs linear; SWIM's first detection after e/(e-1) periods",
            swim_vs_heartbeat::run,
        ),
        e(
            "lcr-vs-hs",
            Topic::Election,
            "ring election messages vs n: LCR worst case n(n+1)/2, HS within 8n(1+log n)",
            lcr_vs_hs::run,
        ),
        e(
            "bully",
            Topic::Election,
            "Bully messages by initiator (n^2-n-1 vs n-1) and a split brain when timeouts undercut delays",
            bully::run,
        ),
        e(
            "omega",
            Topic::Election,
            "eventual leader Omega: who each node trusts over time; agreement after GST",
            omega::run,
        ),
        e(
            "paxos-duel",
            Topic::Consensus,
            "dueling Paxos proposers livelock (ballots grow with the horizon); with Omega one leader decides in O(1) ballots after GST",
            paxos_duel::run,
        ),
        e(
            "gst-sweep",
            Topic::Consensus,
            "Omega-led Multi-Paxos and Chandra-Toueg for GST in 0..10 s: never unsafe, decision - GST bounded",
            gst_sweep::run,
        ),
        e(
            "ben-or-rounds",
            Topic::Consensus,
            "Ben-Or randomized consensus: rounds to decide vs n, local coin (grows) vs common coin (flat); never disagrees",
            ben_or_rounds::run,
        ),
        e(
            "raft-election",
            Topic::Consensus,
            "Raft elections after a leader crash: split votes and time to leader vs the timeout window (Figure 16)",
            raft_election::run,
        ),
        e(
            "byz-bound",
            Topic::Consensus,
            "Byzantine agreement with oral messages: OM(m) violated at n = 3f, safe at n = 3f+1",
            byz_bound::run,
        ),
        e(
            "floodset-rounds",
            Topic::Consensus,
            "FloodSet explored exhaustively: disagreement with f rounds, none with f+1; early deciding by min(f'+2, f+1)",
            floodset_rounds::run,
        ),
        e(
            "amnesia",
            Topic::Consensus,
            "Paxos under crash-recovery: amnesiac acceptors choose two values, durable promises keep agreement",
            amnesia::run,
        ),
        e(
            "flp",
            Topic::Consensus,
            "FLP executed: a bivalent initial configuration, then a fair run in which every configuration stays bivalent",
            flp::run,
        ),
        e(
            "broadcast-hierarchy",
            Topic::Broadcast,
            "the sender crashes midway: agreement, uniform agreement, FIFO, causal and total-order violations per algorithm, and messages per broadcast",
            broadcast_hierarchy::run,
        ),
        e(
            "broadcast-orders",
            Topic::Broadcast,
            "one workload delivered under FIFO, causal and total order: the orderings each permits",
            broadcast_orders::run,
        ),
        e(
            "tob-consensus",
            Topic::Broadcast,
            "total-order broadcast and consensus build each other: both reductions run through the same property checks",
            tob_consensus::run,
        ),
        e(
            "abd",
            Topic::SharedMemory,
            "ABD atomic register over message passing: every operation completes with f < n/2 crashes, none with a majority crashed; minority quorums break atomicity",
            abd::run,
        ),
        e(
            "register-semantics",
            Topic::SharedMemory,
            "safe, regular, atomic: one-phase ABD reads show new/old inversions (regular only), write-back reads none (atomic)",
            register_semantics::run,
        ),
        e(
            "consensus-number",
            Topic::SharedMemory,
            "Herlihy's hierarchy illustrated by exhaustive search: test-and-set and queues solve 2-process consensus, not 3; compare-and-swap solves n",
            consensus_number::run,
        ),
        e(
            "replication-compare",
            Topic::Replication,
            "primary-backup, chain, SMR, Dynamo quorums and CRDTs under one workload and one partition: consistency checked, availability, latency, messages per operation",
            replication_compare::run,
        ),
        e(
            "quorum-rw",
            Topic::Replication,
            "Dynamo N=3: R+W>N reads are regular (0 stale), R+W<=N reads go stale, less so as time since the write grows",
            quorum_rw::run,
        ),
        e(
            "split-brain",
            Topic::Replication,
            "primary-backup failover: a perfect detector keeps it linearizable, an eventually perfect one splits the brain (stale reads, lost writes), leases do not",
            split_brain::run,
        ),
        e(
            "chain-vs-pb",
            Topic::Replication,
            "chain replication vs primary-backup: update latency grows with the chain, reads are one hop to the tail, messages per update = length + 1",
            chain_vs_pb::run,
        ),
        e(
            "crdt-convergence",
            Topic::Replication,
            "CRDTs diverge during a partition and converge after it heals, under duplication and reordering; a naive op-based counter and set do not",
            crdt_convergence::run,
        ),
        e(
            "snapshot",
            Topic::Snapshots,
            "Chandy-Lamport over FIFO channels conserves a bank's total in every snapshot; reordering channels and skewed clocks do not, Lai-Yang does",
            snapshot::run,
        ),
        e(
            "quorum-systems",
            Topic::Quorums,
            "majority, grid, projective plane, tree, weighted: quorum size, load and failure probability; no system has both low load and high availability",
            quorum_systems::run,
        ),
        e(
            "byz-quorums",
            Topic::Quorums,
            "Byzantine quorums by exhaustive check: masking quorums fail at n = 4f and work at n = 4f+1; dissemination (signed) at 3f vs 3f+1",
            byz_quorums::run,
        ),
    ]
}

/// The experiment with id `id`, or an error listing where to find the ids.
pub fn find_experiment(id: &str) -> Result<ExperimentEntry, LabError> {
    let all = experiments();
    all.iter().find(|e| e.id == id).copied().ok_or_else(|| {
        LabError::new(format!(
            "unknown experiment '{id}' (run `synod list` to see the {} experiments)",
            all.len()
        ))
    })
}
