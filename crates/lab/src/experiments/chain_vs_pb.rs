//! `chain-vs-pb`: chain replication against primary-backup with as many replicas (curriculum
//! C.10 c): update latency, read latency and messages per update, for chains of 2 to 8.
//!
//! Failure-free, synchronous, every message takes exactly d = 5 ms. One client issues 20
//! writes then 20 reads, one at a time, 100 ms apart (just after the protocols' 100 ms tick,
//! so no periodic retransmission falls inside an operation). For the chain the client's
//! requests arrive at the master n0 (not a replica): a write costs the forward to the head,
//! len−1 updates down the chain and the tail's reply, len+1 messages and len+1 hops; a read
//! goes to the tail and back, 2 hops whatever the length. Primary-backup has len replicas and
//! the requests arrive at a backup: a write costs the forward, len−1 updates, len−1 acks and
//! the reply (2·len messages) in 4 hops whatever len; a read is 2 hops. The chain's cumulative
//! acks up the chain (len−1 per update) only trim the Sent lists, no reply waits for them;
//! they are counted apart.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::LabError;
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;
use synod_core::{Duration, EventKind, History, Instant, ModelHeader, NodeId, Protocol};
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use synod_protocols::replication::chain::{Chain, ChainMsg};
use synod_protocols::replication::primary_backup::{PbMsg, PrimaryBackup};
use synod_sim::{Latency, Recording, Scripted, SimConfig, Simulation, Timing};

const D_MS: u64 = 5;
const WRITES: u64 = 20;
const READS: u64 = 20;
const TICK: Duration = Duration::from_millis(100);

/// What one configuration measured.
#[derive(Clone, Copy, Debug, Default)]
struct Measured {
    update_ms: f64,
    read_ms: f64,
    msgs_per_update: f64,
    acks_per_update: f64,
    completed: usize,
}

fn config(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg.network.latency = Latency::Constant(Duration::from_millis(D_MS));
    cfg.until = Instant::from_millis(100 * (WRITES + READS + 4));
    cfg.recording = Recording::Full;
    cfg
}

fn requests(origin: NodeId) -> Scripted<RegisterReq> {
    let mut reqs = Vec::new();
    for k in 0..WRITES + READS {
        let at = Instant::from_millis(100 * (k + 2) + 1);
        let req = if k < WRITES {
            RegisterReq::Write {
                client: 1,
                value: k + 1,
            }
        } else {
            RegisterReq::Read { client: 1 }
        };
        reqs.push((at, origin, req));
    }
    Scripted(reqs)
}

fn measure_one<P>(
    protocol: P,
    n: usize,
    origin: NodeId,
    seed: u64,
    path: fn(&P::Msg) -> bool,
    ack: fn(&P::Msg) -> bool,
) -> Measured
where
    P: Protocol<Request = RegisterReq, Indication = RegisterResp>
        + synod_core::ClientOps<Input = RegisterOp, Output = RegisterRet>,
{
    let counts = Rc::new(Cell::new((0u64, 0u64)));
    let c = Rc::clone(&counts);
    let out = Simulation::new(protocol, config(n, seed))
        .expect("experiment configurations are valid")
        .with_workload(requests(origin))
        .with_observer(move |t, e| {
            if let EventKind::Send { msg, .. } = e {
                // Periodic acks leave at tick times; those an update causes do not.
                let on_tick = t.0 % TICK.as_nanos() == 0;
                let (p, a) = c.get();
                c.set((
                    p + u64::from(path(msg)),
                    a + u64::from(ack(msg) && !on_tick),
                ));
            }
        })
        .run();
    let h = History::<RegisterOp, RegisterRet>::from_trace(&out.trace);
    let mut m = Measured::default();
    let (mut up, mut rd) = (Vec::new(), Vec::new());
    for op in &h.ops {
        if let Some((t, _)) = op.completion {
            let ms = t.saturating_since(op.invoke).as_millis_f64();
            match op.input {
                RegisterOp::Write(_) => up.push(ms),
                RegisterOp::Read => rd.push(ms),
            }
        }
    }
    m.completed = up.len() + rd.len();
    m.update_ms = crate::measure::mean(&up).unwrap_or(f64::NAN);
    m.read_ms = crate::measure::mean(&rd).unwrap_or(f64::NAN);
    let (p, a) = counts.get();
    m.msgs_per_update = p as f64 / WRITES as f64;
    m.acks_per_update = a as f64 / WRITES as f64;
    m
}

fn chain(len: usize, seed: u64) -> Measured {
    let c = Chain::new().with_timing(TICK, Duration::from_secs(2), Duration::from_millis(500));
    measure_one(c, len + 1, NodeId(0), seed, ChainMsg::is_update_path, |m| {
        matches!(m, ChainMsg::Ack { .. })
    })
}

fn primary_backup(len: usize, seed: u64) -> Measured {
    let pb = PrimaryBackup {
        tick: TICK,
        ..PrimaryBackup::perfect()
    };
    measure_one(pb, len, NodeId(1), seed, PbMsg::is_update_path, |m| {
        matches!(m, PbMsg::Ack { .. })
    })
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let lens: Vec<usize> = if opts.quick {
        vec![2, 4, 8]
    } else {
        (2..=8).collect()
    };
    progress.set_total(lens.len() as u64);
    let d = D_MS as f64;
    let mut rows = Vec::new();
    let mut ok = true;
    for (i, &len) in lens.iter().enumerate() {
        let seed = crate::measure::run_seed(opts.seed, &[i as u64]);
        let c = chain(len, seed);
        let p = primary_backup(len, seed);
        let total = (WRITES + READS) as usize;
        let close = |x: f64, y: f64| (x - y).abs() < 1e-6;
        ok &= c.completed == total && p.completed == total;
        ok &= close(c.update_ms, (len as f64 + 1.0) * d) && close(c.read_ms, 2.0 * d);
        ok &= close(c.msgs_per_update, len as f64 + 1.0);
        ok &= close(p.update_ms, 4.0 * d) && close(p.read_ms, 2.0 * d);
        ok &= close(p.msgs_per_update, 2.0 * len as f64);
        rows.push(vec![
            json!(len),
            json!(c.update_ms),
            json!(c.read_ms),
            json!(c.msgs_per_update),
            json!(c.acks_per_update),
            json!(p.update_ms),
            json!(p.read_ms),
            json!(p.msgs_per_update),
        ]);
        progress.advance(1);
    }
    let model = ModelHeader::new()
        .with("timing", "synchronous, every message 5ms")
        .with("failures", "none")
        .with("links", "reliable")
        .with("len", format!("{}..{}", lens[0], lens[lens.len() - 1]))
        .with(
            "ops",
            format!("{WRITES} writes then {READS} reads, one at a time"),
        )
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "chain-vs-pb".into(),
        title: "Chain replication vs primary-backup: update latency grows with the chain, reads stay one hop to the tail".into(),
        model,
        columns: columns(&[
            ("len", "replicas"),
            ("chain_update_ms", "chain update ms"),
            ("chain_read_ms", "chain read ms"),
            ("chain_msgs_per_update", "chain msgs/update"),
            ("chain_acks_per_update", "chain acks/update"),
            ("pb_update_ms", "pb update ms"),
            ("pb_read_ms", "pb read ms"),
            ("pb_msgs_per_update", "pb msgs/update"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "with d = {D_MS}ms per message, a chain of len replicas answers an update in (len+1)·d ({}ms at len {} to {}ms at len {}: linear) with len+1 messages, and a read in 2·d = {}ms (one hop to the tail and back) at every length; primary-backup with as many replicas answers updates in 4·d = {}ms with 2·len messages",
                (lens[0] as u64 + 1) * D_MS,
                lens[0],
                (lens[lens.len() - 1] as u64 + 1) * D_MS,
                lens[lens.len() - 1],
                2 * D_MS,
                4 * D_MS
            ),
            verdict: if ok {
                ClaimVerdict::Holds
            } else {
                ClaimVerdict::Unexpected
            },
        },
        read: "van Renesse & Schneider, OSDI 2004 (chain replication, §2-3); van Renesse & Guerraoui, Replication techniques for availability (LNCS 5959); Budhiraja et al. 1993 (primary-backup)".into(),
        notes: vec![
            "chain: n = len + 1 nodes (the master n0 takes the client's requests, as the paper's clients talk to head and tail); primary-backup: n = len replicas, requests at n1 (a backup), perfect detector".into(),
            "messages per update count the forward, the updates and the reply (and primary-backup's acks, which its reply waits for); the chain's acks (len−1 per update, cumulative, only to trim the Sent lists) are in their own column; heartbeats, leases and configuration messages are not counted".into(),
            "throughput is not measured: one operation at a time; a chain pipelines updates (each node forwards as soon as it applies), so its throughput is bounded by one node's work, not by the chain's length".into(),
        ],
        figures: vec![],
    })
}
