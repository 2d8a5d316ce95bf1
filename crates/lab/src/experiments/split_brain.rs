//! `split-brain`: primary-backup failover by a perfect detector, by an eventually perfect one,
//! and by an eventually perfect one with leases and majority views (curriculum C.10 b).
//!
//! Three replicas serve register clients (a write, then four reads, per client, at random
//! nodes). Failover is what differs:
//!
//! - **P, its model**: synchronous timing, no loss, and the primary n0 *crashes* at 1 s: the
//!   only way a perfect detector may suspect it;
//! - **P's code outside its model**: the same detector (fixed timeout, permanent suspicions),
//!   but n0 is cut off by a partition 1 s..2.5 s instead of crashing: a timeout cannot tell
//!   the two apart, so this is no longer P;
//! - **◇P**: the eventually perfect detector, the same partition, partially synchronous timing
//!   (GST at 3 s: delays before it can cause false suspicions too);
//! - **◇P + leases**: the same, with majority views and read leases.
//!
//! Per run: is the clients' history linearizable (`linearizable_register`), how many reads were
//! *stale* (they returned a value that a write completed before the read was invoked had
//! already overwritten: the overwriting write was invoked after the returned value's write
//! completed, or the read returned the initial value after a completed write), and how many
//! acknowledged writes were *lost* (absent from the log of the node with the newest view at
//! the end).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::workloads::{linearizable_register, RegisterClients};
use crate::LabError;
use serde_json::json;
use std::collections::BTreeMap;
use synod_core::{check_all, Duration, History, Instant, ModelHeader};
use synod_protocols::register::{RegisterOp, RegisterRet};
use synod_protocols::replication::primary_backup::{PbState, PrimaryBackup};
use synod_sim::{SimConfig, Timing};

const N: usize = 3;

/// One failover variant.
struct Variant {
    name: &'static str,
    detector: &'static str,
    protocol: PrimaryBackup,
    crash: bool,
    expect_anomalies: bool,
}

fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "P (crash, synchronous)",
            detector: "P",
            protocol: PrimaryBackup::perfect(),
            crash: true,
            expect_anomalies: false,
        },
        Variant {
            name: "P's code, partition",
            detector: "P timeout, model broken",
            protocol: PrimaryBackup::perfect(),
            crash: false,
            expect_anomalies: true,
        },
        Variant {
            name: "◇P, partition",
            detector: "◇P",
            protocol: PrimaryBackup::eventually_perfect(),
            crash: false,
            expect_anomalies: true,
        },
        Variant {
            name: "◇P + leases, partition",
            detector: "◇P + leases",
            protocol: PrimaryBackup::with_leases(),
            crash: false,
            expect_anomalies: false,
        },
    ]
}

fn config(v: &Variant, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = Instant::from_secs(5);
    if v.crash {
        cfg.timing = Timing::Synchronous {
            delta: Duration::from_millis(20),
        };
        cfg.faults
            .add_crash_spec("n0@1s")
            .expect("valid crash spec");
    } else {
        cfg.timing = Timing::PartiallySynchronous {
            gst: Instant::from_secs(3),
            delta: Duration::from_millis(20),
        };
        cfg.faults
            .add_partition_spec("n0|n1,n2@1s..2500ms")
            .expect("valid partition spec");
    }
    cfg
}

/// Stale reads of a history (see the module documentation). Values are unique per write.
pub fn stale_reads(h: &History<RegisterOp, RegisterRet>) -> usize {
    let mut writes: BTreeMap<u64, (Instant, Option<Instant>)> = BTreeMap::new();
    for op in &h.ops {
        if let RegisterOp::Write(v) = op.input {
            writes.insert(v, (op.invoke, op.completion.as_ref().map(|c| c.0)));
        }
    }
    let mut stale = 0;
    for op in &h.ops {
        let (RegisterOp::Read, Some((_, RegisterRet::ReadOk(got)))) = (op.input, &op.completion)
        else {
            continue;
        };
        // When the returned value's write completed (`None`: it never did, or the initial
        // value, which precedes everything).
        let (initial, done) = match got {
            None => (true, Some(Instant::ZERO)),
            Some(v) => (false, writes.get(v).and_then(|w| w.1)),
        };
        let Some(done) = done else {
            continue;
        };
        let overwritten = writes.iter().any(|(v, (inv, comp))| {
            Some(*v) != *got && comp.is_some_and(|c| c < op.invoke) && (initial || *inv > done)
        });
        if overwritten {
            stale += 1;
        }
    }
    stale
}

/// Acknowledged writes absent from the log of the node with the newest installed view.
pub fn lost_writes(h: &History<RegisterOp, RegisterRet>, states: &[Option<PbState>]) -> usize {
    let Some(newest) = states
        .iter()
        .flatten()
        .filter(|s| !s.members.is_empty())
        .max_by_key(|s| (s.view, s.log.len()))
    else {
        return 0;
    };
    h.ops
        .iter()
        .filter(|op| matches!(op.completion, Some((_, RegisterRet::WriteOk))))
        .filter_map(|op| match op.input {
            RegisterOp::Write(v) => Some(v),
            RegisterOp::Read => None,
        })
        .filter(|v| !newest.log.iter().any(|e| e.value == *v))
        .count()
}

struct Tally {
    linearizable: u32,
    stale: usize,
    stale_runs: u32,
    lost: usize,
    lost_runs: u32,
    ops: usize,
}

fn measure(v: &Variant, runs: u32, base: u64) -> Tally {
    let mut t = Tally {
        linearizable: 0,
        stale: 0,
        stale_runs: 0,
        lost: 0,
        lost_runs: 0,
        ops: 0,
    };
    let lin = [linearizable_register::<PrimaryBackup>()];
    for r in 0..runs as u64 {
        let cfg = config(v, run_seed(base, &[r]));
        let clients = RegisterClients::new(12, cfg.faults.end()).with_reads(4);
        let out = run_full(v.protocol, cfg, clients);
        let h = History::<RegisterOp, RegisterRet>::from_trace(&out.trace);
        t.ops += h.ops.len();
        if !check_all(&lin, &out.trace)[0].verdict.is_violated() {
            t.linearizable += 1;
        }
        let stale = stale_reads(&h);
        let lost = lost_writes(&h, &out.states);
        t.stale += stale;
        t.lost += lost;
        t.stale_runs += u32::from(stale > 0);
        t.lost_runs += u32::from(lost > 0);
    }
    t
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 15 } else { 100 })
        .max(1);
    let vs = variants();
    progress.set_total(vs.len() as u64);
    let mut rows = Vec::new();
    let mut ok = true;
    let mut summary = Vec::new();
    for (i, v) in vs.iter().enumerate() {
        let t = measure(v, runs, run_seed(opts.seed, &[i as u64]));
        let anomalies = t.stale + t.lost + (runs - t.linearizable) as usize;
        ok &= if v.expect_anomalies {
            anomalies > 0
        } else {
            anomalies == 0
        };
        let pct = 100.0 * f64::from(t.linearizable) / f64::from(runs);
        summary.push(format!(
            "{}: {} stale reads, {} lost writes, {:.0}% linearizable",
            v.name, t.stale, t.lost, pct
        ));
        rows.push(vec![
            json!(v.name),
            json!(v.detector),
            json!(runs),
            json!(t.lost),
            json!(t.lost_runs),
            json!(t.stale),
            json!(t.stale_runs),
            json!(pct),
            json!(t.ops as f64 / f64::from(runs)),
        ]);
        progress.advance(1);
    }
    let model = ModelHeader::new()
        .with("n", N)
        .with(
            "timing",
            "P row: synchronous(delta=20ms); others: partially synchronous(GST=3s, delta=20ms)",
        )
        .with(
            "failures",
            "P row: n0 (the primary) crashes at 1s; others: partition n0|n1,n2 1s..2.5s",
        )
        .with("links", "reliable, latency uniform 1..10ms")
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "split-brain".into(),
        title: "Primary-backup failover: P is safe, ◇P splits the brain, leases mend it".into(),
        model,
        columns: columns(&[
            ("failover", "failover"),
            ("detector", "detector"),
            ("runs", "runs"),
            ("lost_acked_writes", "lost acked writes"),
            ("runs_with_lost", "runs with lost"),
            ("stale_reads", "stale reads"),
            ("runs_with_stale", "runs with stale"),
            ("linearizable_pct", "linearizable %"),
            ("ops_per_run", "ops/run"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "failover by a perfect detector (its model: a suspected primary has crashed) and by ◇P with majority views and leases keeps primary-backup linearizable; with ◇P, or P's timeout under a partition, the isolated primary and the new one both serve: {}",
                summary.join("; ")
            ),
            verdict: if ok {
                ClaimVerdict::Holds
            } else {
                ClaimVerdict::Unexpected
            },
        },
        read: "Budhiraja, Marzullo, Schneider & Toueg 1993 (the primary-backup approach); van Renesse & Guerraoui, Replication techniques for availability (LNCS 5959); CGR ch. 2 §2.6 (P, ◇P); Gray & Cheriton 1989 (leases); DDIA ch. 8-9 (split brain, fencing)".into(),
        notes: vec![
            "3 replicas; RegisterClients: 18 early clients (writes before the faults end) and 6 late ones, each writing its own value then reading four times at random nodes; requests go to the primary the receiving node knows, retried every 20ms".into(),
            "stale read: it returned a value that a write completed before the read began had already overwritten (that write was invoked after the returned value's write completed); lost write: acknowledged, but absent from the log of the node with the newest view at the end".into(),
            "◇P: the isolated primary drops its backups and commits alone while the others install a view of their own; when the partition heals one side's log wins the view change and the other's acknowledged writes are gone".into(),
            "leases: a view needs a majority of the 3 replicas, so the isolated primary cannot drop its backups, and a backup that granted it a read lease (100ms, drift bound 1000ppm) answers the new primary's Prepare only after the lease has run out".into(),
        ],
        figures: vec![],
    })
}
