//! Replication: the kinds of replicated store, side by side.
//!
//! Every scheme here except the counter and set CRDTs serves the same client interface as the
//! register protocols ([`crate::register::RegisterReq`] in, [`crate::register::RegisterResp`]
//! out; one key of a key-value store: linearizability is local, so one key is what the history
//! checkers need), so one workload drives them all and the same checkers judge their
//! histories:
//!
//! | scheme | module | model it needs | what its clients get |
//! |---|---|---|---|
//! | primary-backup, failover by a detector and views | [`primary_backup`] | crash-stop and a perfect detector P (synchrony); or ◇P plus leases and a clock-drift bound | linearizable; with ◇P alone a false suspicion splits the brain (stale reads, lost acknowledged writes) |
//! | chain replication | [`chain`] | fail-stop chain nodes, a master that reconfigures (epochs, tail leases) | linearizable under crashes, partitions and loss |
//! | state machine replication | [`crate::consensus::multipaxos`], [`crate::consensus::raft`] | 2f+1 replicas, partial synchrony for liveness | linearizable; the minority side of a partition stops |
//! | Dynamo-style quorums (N, R, W, sloppy quorums, hinted handoff, read repair, last-writer-wins) | [`dynamo`] | asynchrony, crash-recovery, partitions | R + W > N on strict quorums: regular reads, not linearizable without write-back; R + W ≤ N or sloppy quorums: stale reads |
//! | CRDTs (G-counter, PN-counter, OR-set, LWW and MV registers), state-based anti-entropy | [`crdt`] | asynchrony, any crashes, eventual delivery | strong eventual consistency: always available, replicas converge |
//!
//! The `replication-compare` experiment runs them all under one workload and one partition;
//! `quorum-rw`, `split-brain`, `chain-vs-pb` and `crdt-convergence` look at one family each.
//!
//! **Read:** Charron-Bost, Pedone and Schiper (eds.), *Replication: Theory and Practice*
//! (van Renesse and Guerraoui on primary-backup, chain and state machine replication);
//! Kleppmann, *Designing Data-Intensive Applications*, ch. 5 and 9; Schneider, "Implementing
//! fault-tolerant services using the state machine approach" (1990).

pub mod chain;
pub mod crdt;
pub mod dynamo;
pub mod kv;
pub mod primary_backup;
pub mod state_machine;
