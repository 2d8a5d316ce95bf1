//! Catalog entries: Dynamo-style quorum replication (`dynamo`, `dynamo-write-back`) and its
//! canaries (`dynamo-r1w1`, `dynamo-sloppy`).
//!
//! They serve [`RegisterClients`] (each client writes its own id, then reads, at random
//! nodes) and are judged on the clients' history: `regular` (every read returns a last
//! preceding or a concurrent write: multi-writer regularity, per read, by
//! `synod_consistency::checkers::register_semantics`), `no-stale-reads` (no read misses a write
//! completed before it began), and `progress-after-faults`; `dynamo-write-back` also on
//! `linearizable`. Default timing: partially synchronous, GST when the scheduled faults end
//! (2 s without faults), Δ = 20 ms. The 1,000-seed soaks:
//!
//! ```text
//! synod soak dynamo --seeds 1000
//! synod soak dynamo --chaos --loss 0.05 --dup 0.05 --seeds 1000
//! synod soak dynamo-write-back --chaos --loss 0.05 --dup 0.05 --seeds 1000
//! synod soak dynamo-r1w1 --seeds 1000      # canary: stale reads
//! synod soak dynamo-sloppy --seeds 1000    # canary: stale reads under a partition
//! ```

use super::{consensus_timing, node_limit, ProtocolEntry};
use crate::experiments::quorum_rw::{no_stale_reads, regular_register};
use crate::runner::{run_client_protocol, SimReport, SimSpec};
use crate::workloads::{
    describe_register, linearizable_register, progress_after_faults, RegisterClients,
    RegisterService,
};
use crate::{LabError, Topic};
use synod_core::{Instant, NodeId, Property};
use synod_protocols::replication::dynamo::{Dynamo, ReadRepair};
use synod_sim::{Cut, Partition};

/// Dynamo serves every request (queued while its coordinator is busy; abandoned, unanswered,
/// when no quorum replies in time): nothing is turned away.
impl RegisterService for Dynamo {}

/// Reads per client after its write.
const READS: u32 = 3;

fn props(linearizable: bool) -> Vec<Property<Dynamo>> {
    let mut p = vec![regular_register(), no_stale_reads()];
    if linearizable {
        p.push(linearizable_register());
    }
    p.push(progress_after_faults());
    p
}

fn run(name: &str, d: Dynamo, linearizable: bool, spec: &SimSpec) -> Result<SimReport, LabError> {
    node_limit(name, spec)?;
    let clients = RegisterClients::new(spec.messages, spec.faults_end()).with_reads(READS);
    run_client_protocol(
        name,
        d,
        &props(linearizable),
        clients,
        spec,
        consensus_timing(spec),
        describe_register,
    )
}

/// `dynamo-sloppy`'s run: at least 5 nodes, and (unless the spec has partitions of its own)
/// {n0, n3, n4} | {n1, n2} over the first 60% of the run.
fn sloppy(spec: &SimSpec) -> Result<SimReport, LabError> {
    let mut s = spec.clone();
    s.nodes = s.nodes.max(5);
    if s.faults.partitions.is_empty() {
        s.faults.partitions.push(Partition {
            cut: Cut::Groups(vec![
                vec![NodeId(0), NodeId(3), NodeId(4)],
                vec![NodeId(1), NodeId(2)],
            ]),
            from: Instant::ZERO,
            until: Instant(s.until.as_nanos() / 5 * 3),
        });
    }
    run(
        "dynamo-sloppy",
        Dynamo::new(3, 2, 2).with_sloppy(true),
        false,
        &s,
    )
}

/// The entries of this file.
pub(super) fn protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "dynamo",
            topic: Topic::Replication,
            summary: "Dynamo quorums N=3 R=2 W=2, strict, last writer wins, read repair: regular reads, no stale read, available while a quorum answers (try --chaos --loss 0.05 --dup 0.05); not linearizable",
            canary: false,
            run: |spec| run("dynamo", Dynamo::new(3, 2, 2), false, spec),
        },
        ProtocolEntry {
            name: "dynamo-write-back",
            topic: Topic::Replication,
            summary: "Dynamo quorums N=3 R=2 W=2 whose reads write back (ABD's read-impose) before answering: linearizable",
            canary: false,
            run: |spec| {
                run(
                    "dynamo-write-back",
                    Dynamo::new(3, 2, 2).with_read_repair(ReadRepair::WriteBack),
                    true,
                    spec,
                )
            },
        },
        ProtocolEntry {
            name: "dynamo-r1w1",
            topic: Topic::Replication,
            summary: "canary: Dynamo with R=1 W=1 (R+W <= N): a read can miss a completed write (stale reads, not regular)",
            canary: true,
            run: |spec| run("dynamo-r1w1", Dynamo::new(3, 1, 1), false, spec),
        },
        ProtocolEntry {
            name: "dynamo-sloppy",
            topic: Topic::Replication,
            summary: "canary: Dynamo R=2 W=2 with a sloppy quorum, at least 5 nodes, partition {n0,n3,n4}|{n1,n2}: writes land on fallbacks, reads on the other side go stale although R+W>N",
            canary: true,
            run: sloppy,
        },
    ]
}
