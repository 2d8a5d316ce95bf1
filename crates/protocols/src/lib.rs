//! # synod-protocols: the protocol catalog
//!
//! This crate holds synod's protocols: textbook algorithms written once as sans-IO
//! [`synod_core::Protocol`] state machines, so the simulator, the model checker and the TCP
//! runtime can all drive them, and each comes with its abstraction's guarantees as
//! [`synod_core::Property`] values judged over traces.
//!
//! Protocols are grouped by topic, one folder each, following the order of the books:
//!
//! - [`link`]: point-to-point links, from the fair-loss network itself up to FIFO perfect links
//!   (Cachin, Guerraoui and Rodrigues ch. 2; Lynch ch. 22);
//! - [`fd`]: failure detectors (perfect, eventually perfect, φ accrual, SWIM) and the eventual
//!   leader detector Ω, with completeness/accuracy properties and QoS metrics;
//! - [`election`]: leader election on rings (LCR, Hirschberg–Sinclair) and with crashes (Bully);
//! - [`consensus`]: Paxos, Multi-Paxos, Raft, Chandra–Toueg, Ben-Or, FloodSet, OM(m);
//! - [`register`]: the register client interface and ABD's atomic register over majorities;
//! - [`commit`]: two-phase commit, and why it blocks;
//! - [`shared_memory`]: consensus from shared objects (Herlihy's hierarchy) and read/write
//!   attempts; register client programs that run on shared memory and on ABD;
//! - [`snapshot`]: global snapshots (Chandy–Lamport, Lai–Yang, clock-time recording);
//! - [`quorum`]: quorum systems, their intersection, load and failure probability;
//! - [`broadcast`]: best-effort, reliable, uniform reliable, FIFO, causal, total-order
//!   broadcast and gossip, with one set of properties for all (CGR ch. 3 and 6);
//! - [`replication`]: primary-backup, chain replication, Dynamo-style quorums and CRDTs (state
//!   machine replication is [`consensus`]'s Multi-Paxos and Raft).
//!
//! Every protocol module states its model assumptions (timing, failures, what it needs from the
//! layer below), the properties it guarantees, and where to read about it. Protocols that
//! compose are stacked with [`synod_core::Stack`]: an upper protocol sends its messages through
//! any link protocol, so the books' module stacks are built without copying code.
//!
//! Some protocols also have *canaries*: deliberately broken variants (a stubborn link that gives
//! up, a perfect link that forgets to eliminate duplicates, a FIFO link without its hold-back
//! queue). A canary shows that a property check has teeth: the same runs that pass with the
//! real protocol must catch the canary.

#![warn(missing_docs)]

pub mod broadcast;
pub mod commit;
pub mod consensus;
pub mod election;
pub mod fd;
pub mod link;
pub mod quorum;
pub mod register;
pub mod replication;
pub mod shared_memory;
pub mod snapshot;
