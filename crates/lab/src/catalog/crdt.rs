//! Catalog entries: CRDTs (`crdt-gcounter`, `crdt-pncounter`, `crdt-orset`, `crdt-mvregister`,
//! `crdt-lww-register`) and the op-based canaries (`naive-opcounter`, `naive-set`).
//!
//! Every node is a replica; updates (`--messages` per node, default 20) arrive at random nodes
//! at random times until 70% of the run, and are applied locally at once; state-based replicas
//! gossip their whole state to every peer every 50 ms, op-based ones retransmit each update's
//! effect until acknowledged. Judged by strong eventual consistency at the end of the run
//! ([`convergence`] and [`updates_reflected`], after a quiet tail of a tenth of the run).
//!
//! Defaults (each only when the user gave none): asynchronous timing; a partition splitting the
//! nodes in two halves from 30% to 60% of the run (no partition when any fault or `--chaos` is
//! given); loss 0.05 and duplication 0.1 (when both `--loss` and `--dup` are 0).
//! `crdt-lww-register` serves register clients ([`RegisterClients`]: writes of unique values
//! and reads at random servers) instead: its history is saved by `--history` for `synod lin`,
//! which usually finds it not linearizable (a read at one replica misses a write acknowledged
//! at another), while the replicas converge.

use super::ProtocolEntry;
use crate::runner::{run_client_protocol, run_protocol, SimReport, SimSpec};
use crate::workloads::{describe_register, RegisterClients, RegisterService};
use crate::{LabError, Topic};
use synod_core::{Duration, Instant, NodeId, Prng, Property, Ratio};
use synod_protocols::replication::crdt::{
    convergence, naive_opcounter, naive_set, random_updates, updates_reflected, Crdt, CrdtStore,
    GCounter, LwwRegisterStore, MvRegister, OrSet, PnCounter, Replica,
};
use synod_sim::{Cut, Partition, Scripted, Timing};

/// The stream the update workload draws from (ASCII "CRDT").
const WORKLOAD_STREAM: u64 = 0x4352_4454;

/// The LWW register store answers every request at once: nothing is turned away.
impl RegisterService for LwwRegisterStore {}

/// `spec` with the CRDT entries' default faults and network (see the module documentation).
fn crdt_spec(spec: &SimSpec) -> SimSpec {
    let mut s = spec.clone();
    if s.faults.is_empty() && s.chaos.is_none() && s.nodes >= 2 {
        let half = s.nodes / 2;
        let ten = s.until.0 / 10;
        s.faults.partitions.push(Partition {
            cut: Cut::Groups(vec![
                NodeId::all(half).collect(),
                (half..s.nodes).map(|i| NodeId(i as u32)).collect(),
            ]),
            from: Instant(ten * 3),
            until: Instant(ten * 6),
        });
    }
    if s.network.loss == Ratio::NEVER && s.network.duplicate == Ratio::NEVER {
        s.network.loss = Ratio::from_ppm(50_000);
        s.network.duplicate = Ratio::from_ppm(100_000);
    }
    s
}

/// The quiet tail convergence is judged after: a tenth of the run.
fn quiet(spec: &SimSpec) -> Duration {
    Duration(spec.until.0 / 10)
}

/// Convergence and updates-reflected.
fn sec<P: Replica>(spec: &SimSpec) -> Vec<Property<P>> {
    vec![convergence(quiet(spec)), updates_reflected(quiet(spec))]
}

/// Runs replica protocol `store` of data type `C` with random updates.
fn run_replicas<C: Crdt, P: Replica<Data = C, Request = C::Op>>(
    name: &str,
    store: P,
    spec: &SimSpec,
) -> Result<SimReport, LabError> {
    let s = crdt_spec(spec);
    let mut prng = Prng::derive(s.seed, WORKLOAD_STREAM);
    let count = s.messages as usize * s.nodes;
    let stop = Instant(s.until.0 / 10 * 7);
    let updates = random_updates::<C>(s.nodes, count, Instant::ZERO, stop, &mut prng);
    run_protocol(
        name,
        store,
        &sec::<P>(&s),
        Scripted(updates),
        &s,
        Timing::Asynchronous,
    )
}

/// The entries of this file.
pub(super) fn protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "crdt-gcounter",
            topic: Topic::Replication,
            summary: "G-Counter CRDT: a slot per replica, merged by maximum; local increments, whole-state gossip; converges under loss, duplication and a healed partition (strong eventual consistency)",
            canary: false,
            run: |spec| run_replicas("crdt-gcounter", CrdtStore::<GCounter>::default(), spec),
        },
        ProtocolEntry {
            name: "crdt-pncounter",
            topic: Topic::Replication,
            summary: "PN-Counter CRDT: increments and decrements as two G-Counters; value = increments - decrements at every replica after the partition heals",
            canary: false,
            run: |spec| run_replicas("crdt-pncounter", CrdtStore::<PnCounter>::default(), spec),
        },
        ProtocolEntry {
            name: "crdt-orset",
            topic: Topic::Replication,
            summary: "OR-Set CRDT (add-wins): unique tags per add, removes cancel the tags they observed; replicas converge to the adds no remove observed",
            canary: false,
            run: |spec| run_replicas("crdt-orset", CrdtStore::<OrSet>::default(), spec),
        },
        ProtocolEntry {
            name: "crdt-mvregister",
            topic: Topic::Replication,
            summary: "MV-Register CRDT: concurrent writes kept side by side under version vectors (Dynamo's siblings); converges",
            canary: false,
            run: |spec| run_replicas("crdt-mvregister", CrdtStore::<MvRegister>::default(), spec),
        },
        ProtocolEntry {
            name: "crdt-lww-register",
            topic: Topic::Replication,
            summary: "LWW-Register CRDT (Lamport stamps) serving register clients: always available and convergent, not linearizable (judge its --history with synod lin --model register)",
            canary: false,
            run: |spec| {
                let s = crdt_spec(spec);
                run_client_protocol(
                    "crdt-lww-register",
                    LwwRegisterStore::default(),
                    &sec::<LwwRegisterStore>(&s),
                    RegisterClients::new(s.messages, s.faults_end()),
                    &s,
                    Timing::Asynchronous,
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "naive-opcounter",
            topic: Topic::Replication,
            summary: "canary: an op-based counter that re-applies every duplicate delivery (network duplicates, retransmissions): replicas count updates twice and diverge",
            canary: true,
            run: |spec| run_replicas("naive-opcounter", naive_opcounter(), spec),
        },
        ProtocolEntry {
            name: "naive-set",
            topic: Topic::Replication,
            summary: "canary: an op-based add/remove set without tags: a remove and a concurrent add end differently at different replicas, late duplicates resurrect removed elements (the OR-Set fixes both)",
            canary: true,
            run: |spec| run_replicas("naive-set", naive_set(), spec),
        },
    ]
}
