//! Catalog entries: primary-backup (with P, with ◇P, with ◇P and leases) and chain
//! replication (and its no-lease canary), all serving [`RegisterClients`] (a write, then four
//! reads, per client) judged linearizable plus progress after the faults.
//!
//! Each entry brings its own default faults when the spec has none (no `--crash`,
//! `--partition`, ..., no `--chaos`); `--chaos` replaces them:
//!
//! | entry | detector / timing | default faults | expected |
//! |---|---|---|---|
//! | `primary-backup` | P, synchronous Δ = 20 ms | n0 (the primary) crashes part-way through a send at 3 s, n1 at 5 s | linearizable on every seed |
//! | `primary-backup-diamond-p` (canary) | ◇P, partially synchronous, GST at 5 s | n0 cut off from the others 2 s..4 s | split brain: not linearizable |
//! | `primary-backup-lease` | ◇P + majority views + leases | the same | linearizable |
//! | `chain` | master heartbeats, partially synchronous, GST when faults end | the tail crashes at 2 s and recovers at 3.5 s; the head is cut off 5 s..6 s | linearizable |
//! | `chain-no-lease` (canary) | the same | the tail is cut off 2 s..4 s | stale reads at the old tail |
//!
//! 1,000-seed soaks: `synod soak chain --seeds 1000`, `synod soak chain --chaos --loss 0.05
//! --dup 0.05 --seeds 1000`, `synod soak primary-backup --seeds 1000`, `synod soak
//! primary-backup-lease --seeds 1000`.

use super::{consensus_timing, register_clients, with_progress, ProtocolEntry};
use crate::runner::{run_client_protocol, SimSpec};
use crate::workloads::{describe_register, RegisterService};
use crate::{LabError, Topic};
use synod_core::{Duration, Instant};
use synod_protocols::replication::chain::Chain;
use synod_protocols::replication::primary_backup::PrimaryBackup;
use synod_sim::{FaultSchedule, Timing};

/// Primary-backup forwards every request to its primary itself: nothing is turned away.
impl RegisterService for PrimaryBackup {}

/// Chain replication forwards every request to the head or the tail itself.
impl RegisterService for Chain {}

/// Reads per client after its write.
const READS: u32 = 4;

/// `spec` with `faults` (built by the closure) when it asks for none.
fn with_default_faults(
    spec: &SimSpec,
    build: impl FnOnce(usize, &mut FaultSchedule) -> Result<(), synod_sim::FaultError>,
) -> Result<SimSpec, LabError> {
    let mut spec = spec.clone();
    if spec.faults.is_empty() && spec.chaos.is_none() {
        let mut f = FaultSchedule::default();
        build(spec.nodes, &mut f).map_err(|e| LabError::new(e.to_string()))?;
        spec.faults = f;
    }
    Ok(spec)
}

fn others(n: usize, except: usize) -> String {
    (0..n)
        .filter(|&i| i != except)
        .map(|i| format!("n{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The primary-backup entries' split-brain schedule: the primary n0 cut off 2 s..4 s.
pub(crate) fn isolate_primary(
    n: usize,
    f: &mut FaultSchedule,
) -> Result<(), synod_sim::FaultError> {
    if n >= 2 {
        f.add_partition_spec(&format!("n0|{}@2s..4s", others(n, 0)))?;
    }
    Ok(())
}

fn pb_crashes(n: usize, f: &mut FaultSchedule) -> Result<(), synod_sim::FaultError> {
    if n >= 2 {
        f.add_crash_spec("n0@3s:partial")?;
    }
    if n >= 3 {
        f.add_crash_spec("n1@5s")?;
    }
    Ok(())
}

fn chain_faults(n: usize, f: &mut FaultSchedule) -> Result<(), synod_sim::FaultError> {
    if n >= 3 {
        let tail = n - 1;
        f.add_crash_spec(&format!("n{tail}@2s"))?;
        f.add_recover_spec(&format!("n{tail}@3500ms"))?;
        f.add_partition_spec(&format!("n1|{}@5s..6s", others(n, 1)))?;
    }
    Ok(())
}

fn chain_canary_faults(n: usize, f: &mut FaultSchedule) -> Result<(), synod_sim::FaultError> {
    if n >= 3 {
        let tail = n - 1;
        f.add_partition_spec(&format!("n{tail}|{}@2s..4s", others(n, tail)))?;
    }
    Ok(())
}

/// Partially synchronous with GST at 5 s (after the split-brain partition).
fn late_gst() -> Timing {
    Timing::PartiallySynchronous {
        gst: Instant::from_secs(5),
        delta: Duration::from_millis(20),
    }
}

fn run_pb(
    name: &str,
    pb: PrimaryBackup,
    spec: &SimSpec,
    timing: Timing,
) -> Result<crate::runner::SimReport, LabError> {
    run_client_protocol(
        name,
        pb,
        &with_progress(Vec::new()),
        register_clients(name, spec)?.with_reads(READS),
        spec,
        timing,
        describe_register,
    )
}

fn run_chain(
    name: &str,
    chain: Chain,
    spec: &SimSpec,
) -> Result<crate::runner::SimReport, LabError> {
    if spec.nodes < 2 {
        return Err(LabError::new(format!(
            "{name} needs at least 2 nodes (a master and a chain)"
        )));
    }
    run_client_protocol(
        name,
        chain,
        &with_progress(Vec::new()),
        register_clients(name, spec)?.with_reads(READS),
        spec,
        consensus_timing(spec),
        describe_register,
    )
}

/// The entries of this file.
pub(super) fn protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "primary-backup",
            topic: Topic::Replication,
            summary: "primary-backup, failover by a perfect detector P and views (state transfer from the survivors): linearizable under synchrony and crash-stop, f+1 replicas for f crashes (default: the primary crashes mid-send at 3s, n1 at 5s)",
            canary: false,
            run: |spec| {
                let spec = with_default_faults(spec, pb_crashes)?;
                run_pb("primary-backup", PrimaryBackup::perfect(), &spec, super::sync())
            },
        },
        ProtocolEntry {
            name: "primary-backup-diamond-p",
            topic: Topic::Replication,
            summary: "canary-like: primary-backup with an eventually perfect detector; the primary is cut off 2s..4s, both sides install a view and serve (split brain: stale reads, lost acknowledged writes)",
            canary: true,
            run: |spec| {
                let spec = with_default_faults(spec, isolate_primary)?;
                run_pb(
                    "primary-backup-diamond-p",
                    PrimaryBackup::eventually_perfect(),
                    &spec,
                    late_gst(),
                )
            },
        },
        ProtocolEntry {
            name: "primary-backup-lease",
            topic: Topic::Replication,
            summary: "primary-backup with an eventually perfect detector, majority views and read leases (drift bound 1000ppm): linearizable under the same partition",
            canary: false,
            run: |spec| {
                let spec = with_default_faults(spec, isolate_primary)?;
                run_pb(
                    "primary-backup-lease",
                    PrimaryBackup::with_leases(),
                    &spec,
                    late_gst(),
                )
            },
        },
        ProtocolEntry {
            name: "chain",
            topic: Topic::Replication,
            summary: "chain replication: writes at the head, reads at the tail under a master-granted lease, epochs, Sent-list resends, rejoin as tail; linearizable under crashes, partitions, loss (try --chaos --loss 0.05 --dup 0.05)",
            canary: false,
            run: |spec| {
                let spec = with_default_faults(spec, chain_faults)?;
                run_chain("chain", Chain::new(), &spec)
            },
        },
        ProtocolEntry {
            name: "chain-no-lease",
            topic: Topic::Replication,
            summary: "canary: chain replication whose tail reads without a lease and whose master does not wait for one: the cut-off old tail serves stale reads",
            canary: true,
            run: |spec| {
                let spec = with_default_faults(spec, chain_canary_faults)?;
                run_chain("chain-no-lease", Chain::canary_no_lease(), &spec)
            },
        },
    ]
}
