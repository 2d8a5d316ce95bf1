//! CRDTs: conflict-free replicated data types, state-based, with strong eventual consistency
//! checked from traces.
//!
//! A CRDT replica accepts updates locally at once (always available, even alone in a
//! partition) and exchanges state in the background; because its states form a
//! join-semilattice and merge is their least upper bound (commutative, associative, idempotent),
//! replicas that have received the same updates, in any order and any number of times, are
//! equal, without any coordination (Shapiro, Preguiça, Baquero and Zawirski 2011).
//!
//! | item | what |
//! |---|---|
//! | [`Crdt`] | the trait: `prepare`/`effect` (a local update is an inflation), `merge` (the join), `value`, and [`Crdt::reference`], the data type's specification |
//! | [`GCounter`], [`PnCounter`] | counters: a slot per replica merged by maximum; increments and decrements as two G-Counters |
//! | [`OrSet`] | the observed-remove set, add-wins: unique tags `(node, seq)` per add, removes cancel the tags they observed |
//! | [`LwwRegister`] | last-writer-wins register, stamps `(Lamport counter, node)`: no wall clock |
//! | [`MvRegister`] | multi-value register: concurrent writes kept side by side (version vectors) |
//! | [`CrdtStore`] | the replicating protocol: local updates, periodic whole-state gossip to all or `fanout` random peers, merge on receipt |
//! | [`LwwRegisterStore`] | the LWW store behind the register vocabulary of [`crate::register`]: convergent, not linearizable |
//! | [`OpStore`] | op-based replication with at-least-once delivery; the canaries [`naive_opcounter`] and [`naive_set`] |
//! | [`properties`] | [`convergence`], [`updates_reflected`] (trace-based), [`properties::check_laws`] (lattice laws on random states) |
//!
//! **Model.** Asynchronous; links may lose, duplicate and reorder messages and partitions may
//! cut the network, as long as they eventually heal (fair loss: some gossip round gets
//! through); any number of nodes may crash and recover (each persists its state before
//! reporting an update). Nothing else: no failure detector, no quorum, no clock.
//!
//! **Properties.** Strong eventual consistency: *eventual delivery* (an update made at a correct
//! replica eventually reaches every correct replica), *convergence* (correct replicas that
//! received the same updates have equal state), *termination* (every operation returns at once,
//! locally). Judged at the end of a run, after the partitions heal and a quiet tail, by
//! [`convergence`] and [`updates_reflected`] (which also checks the data type's semantics:
//! counter value = increments − decrements; set = elements with an add no remove observed).
//! What it does *not* give: linearizability. A read at one replica misses a write acknowledged
//! at another until gossip brings it (`synod sim crdt-lww-register` judges its register history
//! with the linearizability checker and usually finds it violated).
//!
//! **Canaries.** [`naive_opcounter`] re-applies an increment on every duplicate delivery:
//! replicas disagree and count too much. [`naive_set`] adds and removes without tags: a remove
//! and a concurrent add end differently at different replicas, and a late duplicate of an add
//! resurrects a removed element.
//!
//! **Read:** Shapiro, Preguiça, Baquero and Zawirski, "A comprehensive study of Convergent and
//! Commutative Replicated Data Types", INRIA RR-7506, 2011, and "Conflict-free Replicated Data
//! Types", SSS 2011; Kleppmann, *Designing Data-Intensive Applications*, ch. 5 (multi-leader and
//! leaderless replication, version vectors, CRDTs in brief); Lamport 1978 (the timestamps of the
//! LWW register). None of the curriculum's books goes deeper than that.

pub mod naive;
pub mod properties;
pub mod store;
pub mod types;

pub use naive::{naive_opcounter, naive_set, NaiveSet, OpMsg, OpState, OpStore, OpTimer};
pub use properties::{
    audit, convergence, crdt_properties, updates_reflected, Audit, CrdtInd, Observed, Replica,
};
pub use store::{
    CrdtStore, Frontend, GCounterStore, LwwRegisterStore, LwwStore, MvRegisterStore, OrSetStore,
    PnCounterStore, RegisterFront, StoreMsg, StoreState, StoreTimer, Updates, GOSSIP_PERIOD,
};
pub use types::{
    add_wins, CounterOp, Crdt, GCounter, Increment, LwwRegister, LwwWrite, MvRegister, MvWrite,
    OrSet, PnCounter, PnEffect, SetEffect, SetOp, Stamp, Tag, VersionVector, SET_UNIVERSE,
};

use synod_core::{Instant, NodeId, Prng};

/// A random update workload: `count` operations of `C` ([`Crdt::sample_op`]), each at a random
/// node and a random time in `[from, until)`, sorted by time (for `synod_sim::Scripted`).
pub fn random_updates<C: Crdt>(
    n: usize,
    count: usize,
    from: Instant,
    until: Instant,
    prng: &mut Prng,
) -> Vec<(Instant, NodeId, C::Op)> {
    if n == 0 {
        return Vec::new();
    }
    let span = until.0.saturating_sub(from.0).max(1);
    let mut out: Vec<(Instant, NodeId, C::Op)> = (0..count)
        .map(|k| {
            let at = Instant(from.0 + prng.below(span));
            let node = NodeId(prng.below(n as u64) as u32);
            (at, node, C::sample_op(prng, k as u64))
        })
        .collect();
    out.sort_by_key(|(at, node, _)| (*at, *node));
    out
}
