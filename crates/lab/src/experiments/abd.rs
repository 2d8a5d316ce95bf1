//! `abd`: ABD needs a majority (curriculum C.5 (a)).
//!
//! ABD emulates an atomic read/write register on n servers that communicate by asynchronous
//! message passing over reliable links, any f of which may crash (crash-stop), as long as
//! n > 2f: every phase waits for a majority, and any two majorities intersect, so a read's
//! majority always meets the last completed write's. With n = 5 and three clients each
//! alternating writes (of unique values) and reads on the servers that stay up:
//!
//! - f ≤ 2 crashed servers: every operation completes and every history is linearizable;
//! - f = 3: no majority is left, every operation blocks (0% complete), and nothing wrong is
//!   ever answered;
//! - forcing progress with quorums of 2 (n ≤ 2f would allow a quorum of n − f = 2) under a
//!   partition {n0, n1} | {n2, n3, n4}: both sides complete operations independently and a
//!   read on one side misses a write completed on the other, a linearizability violation (the
//!   partition argument of Attiya, Bar-Noy and Dolev; Attiya and Welch §10.4). With majority
//!   quorums under the same partition only the majority side proceeds, still linearizable.
//!
//! Each configuration is run over many seeds, for the multi-writer protocol (every client
//! writes; two round trips per operation, ≈ 4n messages) and the single-writer one (server n0
//! is the writer: one round trip per write, ≈ 2n messages). Histories are judged by
//! `synod-consistency`'s linearizability checker, as `synod sim abd` judges its runs.
//!
//! Clients are a `RegisterProgram` (`WritersReaders`: the same program `synod shm register`
//! runs on a shared register) placed on servers by the lab's `ProgramClients` workload. The
//! helpers of this file (`run_abd`, `Totals`) also serve `register-semantics`.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::runner::recorded_history;
use crate::workloads::{describe_register, linearizable_register, Placement, ProgramClients};
use crate::LabError;
use serde_json::json;
use std::collections::BTreeMap;
use synod_consistency::checkers::register_semantics::{
    check_recorded_register_semantics, RegisterSemantics,
};
use synod_consistency::format::Value as HValue;
use synod_consistency::Budget;
use synod_core::{check_all, Duration, EventKind, Instant, ModelHeader, NodeId, Prng, Trace};
use synod_protocols::register::program::WritersReaders;
use synod_protocols::register::{Abd, AbdMsg, RegisterOp, RegisterReq};
use synod_sim::{Crash, Cut, Latency, Partition, SimConfig};

/// The clients of an experiment: a register program placed on servers.
pub(crate) type Clients = ProgramClients<WritersReaders>;

/// What one run of ABD gave.
#[derive(Clone, Debug)]
pub(crate) struct AbdRun {
    /// Operations answered.
    pub completed: usize,
    /// Write operations invoked.
    pub writes: usize,
    /// Read operations invoked.
    pub reads: usize,
    /// Messages sent on behalf of writes (a forwarded write's `Forward` included).
    pub write_msgs: u64,
    /// Messages sent on behalf of reads.
    pub read_msgs: u64,
    /// The linearizability checker's verdict on the clients' history (`None`: gave up).
    pub linearizable: Option<bool>,
    /// The register-semantics verdicts on the same history.
    pub semantics: RegisterSemantics,
}

/// Messages sent on behalf of write and read operations. A coordinator numbers the operations
/// it starts in the order they arrive (its FIFO queue keeps that order), so `(coordinator, op
/// id)` names a client operation, whose kind its request gave.
fn attribute_messages(abd: &Abd, trace: &Trace<Abd>) -> (u64, u64) {
    let mut ops_at: BTreeMap<NodeId, Vec<bool>> = BTreeMap::new(); // true: a write
    let (mut writes, mut reads) = (0u64, 0u64);
    let mut count = |is_write: Option<bool>| match is_write {
        Some(true) => writes += 1,
        Some(false) => reads += 1,
        None => {}
    };
    for e in &trace.events {
        match &e.kind {
            EventKind::Request { node, req } => {
                let is_write = matches!(req, RegisterReq::Write { .. });
                if !(is_write && abd.writer.is_some_and(|w| w != *node)) {
                    ops_at.entry(*node).or_default().push(is_write);
                }
            }
            EventKind::Deliver {
                to,
                msg: AbdMsg::Forward { .. },
                ..
            } => ops_at.entry(*to).or_default().push(true),
            EventKind::Send { from, to, msg, .. } => {
                let kind = |node: &NodeId, op: u64| {
                    ops_at
                        .get(node)
                        .and_then(|v| v.get(op.checked_sub(1)? as usize))
                        .copied()
                };
                count(match *msg {
                    AbdMsg::Query { op } | AbdMsg::Store { op, .. } => kind(from, op),
                    AbdMsg::QueryReply { op, .. } | AbdMsg::StoreAck { op } => kind(to, op),
                    AbdMsg::Forward { .. } => Some(true),
                });
            }
            _ => {}
        }
    }
    (writes, reads)
}

/// Runs `abd` under `cfg` (trace recorded) with `clients`, and judges the clients' history.
pub(crate) fn run_abd(abd: Abd, cfg: SimConfig, clients: Clients) -> AbdRun {
    let out = run_full(abd, cfg, clients);
    let trace = &out.trace;
    let history =
        synod_core::History::<RegisterOp, synod_protocols::register::RegisterRet>::from_trace(
            trace,
        );
    let invoked = history.ops.len();
    let completed = history
        .ops
        .iter()
        .filter(|o| o.completion.is_some())
        .count();
    let writes = history
        .ops
        .iter()
        .filter(|o| matches!(o.input, RegisterOp::Write(_)))
        .count();
    let (write_msgs, read_msgs) = attribute_messages(&abd, trace);
    let linearizable = match &check_all(&[linearizable_register::<Abd>()], trace)[0].verdict {
        synod_core::Verdict::Holds => Some(true),
        synod_core::Verdict::Violated { .. } => Some(false),
        synod_core::Verdict::Inconclusive { .. } => None,
    };
    let recorded = recorded_history(trace, describe_register);
    let semantics =
        check_recorded_register_semantics(&recorded, &HValue::Nil, &Budget::steps(10_000_000))
            .expect("experiment clients write unique values");
    AbdRun {
        completed,
        writes,
        reads: invoked - writes,
        write_msgs,
        read_msgs,
        linearizable,
        semantics,
    }
}

/// Totals over the runs of one configuration.
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    /// Runs.
    pub runs: usize,
    /// Operations planned, invoked and answered.
    pub planned: usize,
    /// Operations answered.
    pub completed: usize,
    /// Runs whose history is not linearizable.
    pub violations: usize,
    /// Runs the linearizability checker could not decide.
    pub undecided: usize,
    /// Writes and reads invoked; messages on their behalf.
    pub writes: usize,
    /// Reads invoked.
    pub reads: usize,
    /// Messages for writes.
    pub write_msgs: u64,
    /// Messages for reads.
    pub read_msgs: u64,
}

impl Totals {
    /// Adds one run of `planned` operations.
    pub fn add(&mut self, planned: usize, r: &AbdRun) {
        self.runs += 1;
        self.planned += planned;
        self.completed += r.completed;
        self.violations += usize::from(r.linearizable == Some(false));
        self.undecided += usize::from(r.linearizable.is_none());
        self.writes += r.writes;
        self.reads += r.reads;
        self.write_msgs += r.write_msgs;
        self.read_msgs += r.read_msgs;
    }

    /// Per cent of planned operations answered.
    pub fn completed_pct(&self) -> f64 {
        100.0 * self.completed as f64 / self.planned.max(1) as f64
    }

    /// Mean messages per write invoked.
    pub fn per_write(&self) -> Option<f64> {
        (self.writes > 0).then(|| self.write_msgs as f64 / self.writes as f64)
    }

    /// Mean messages per read invoked.
    pub fn per_read(&self) -> Option<f64> {
        (self.reads > 0).then(|| self.read_msgs as f64 / self.reads as f64)
    }
}

/// A value for a table cell: rounded to 0.1, or null.
pub(crate) fn cell(x: Option<f64>) -> serde_json::Value {
    x.map_or(serde_json::Value::Null, |x| {
        json!((x * 10.0).round() / 10.0)
    })
}

const N: usize = 5;
const CLIENTS: u64 = 3;
const OPS_PER_CLIENT: usize = 10;
/// Long enough for every operation that can complete to complete: asynchronous timing slows a
/// quarter of the messages by up to 1000× (10 s for a 10 ms delay).
const UNTIL: Instant = Instant::from_secs(600);

/// How a configuration breaks the system.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The highest `f` servers crash early (in the first 2 ms, before any client starts).
    Crash(usize),
    /// {n0, n1} | {n2, n3, n4} for the whole run; client 1 uses the first side, the others the
    /// second.
    Partition,
}

fn config(fault: Fault, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = UNTIL;
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(10),
    };
    let mut prng = Prng::derive(seed, 0xC4A5);
    match fault {
        Fault::Crash(f) => {
            for i in N - f..N {
                cfg.faults.crashes.push(Crash {
                    node: NodeId(i as u32),
                    at: Instant(prng.below(Duration::from_millis(2).as_nanos())),
                    partial_send: false,
                });
            }
        }
        Fault::Partition => cfg.faults.partitions.push(Partition {
            cut: Cut::Groups(vec![
                vec![NodeId(0), NodeId(1)],
                vec![NodeId(2), NodeId(3), NodeId(4)],
            ]),
            from: Instant::ZERO,
            until: UNTIL,
        }),
    }
    cfg
}

/// Three clients: multi-writer, each alternates a write of its own values and a read;
/// single-writer, client 1 writes (to n0, the writer) and clients 2 and 3 only read.
fn clients(fault: Fault, single_writer: bool, seed: u64) -> Clients {
    let nodes = |r: std::ops::Range<usize>| r.map(|i| NodeId(i as u32)).collect::<Vec<_>>();
    let mut prng = Prng::derive(seed, 0xC11E);
    let program = if single_writer {
        WritersReaders::single_writer(CLIENTS as usize - 1, OPS_PER_CLIENT as u32)
    } else {
        WritersReaders {
            writers: CLIENTS as usize,
            readers: 0,
            writes: OPS_PER_CLIENT as u32 / 2,
            reads: 0,
            writer_reads: 1,
        }
    };
    let placement = (1..=CLIENTS)
        .map(|id| {
            let servers = match fault {
                Fault::Crash(f) => nodes(0..N - f),
                Fault::Partition if id == 1 => nodes(0..2),
                Fault::Partition => nodes(2..N),
            };
            Placement {
                writes: if single_writer {
                    vec![NodeId(0)]
                } else {
                    servers.clone()
                },
                reads: servers,
                start: Instant::from_millis(5)
                    + Duration(prng.below(Duration::from_millis(10).as_nanos())),
            }
        })
        .collect();
    ProgramClients::new(program, Duration::from_millis(1)).with_placement(placement)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 20 } else { 50 }).max(1) as u64;
    // (variant, abd, fault)
    let mut configs: Vec<(&str, Abd, Fault)> = Vec::new();
    for f in 0..=3 {
        configs.push(("MWMR", Abd::new(), Fault::Crash(f)));
    }
    for f in 0..=3 {
        configs.push(("SWMR", Abd::single_writer(NodeId(0)), Fault::Crash(f)));
    }
    configs.push(("MWMR", Abd::new(), Fault::Partition));
    configs.push(("MWMR", Abd::new().with_quorum(2), Fault::Partition));
    progress.set_total(configs.len() as u64);
    let mut rows = Vec::new();
    let mut ok = true;
    let mut unsafe_violations = 0;
    let mut majority_cost = (None, None, None);
    for (ci, &(variant, abd, fault)) in configs.iter().enumerate() {
        let mut t = Totals::default();
        for r in 0..runs {
            let seed = run_seed(opts.seed, &[ci as u64, r]);
            let cl = clients(fault, abd.writer.is_some(), seed);
            let planned = cl.program.total_ops();
            t.add(planned, &run_abd(abd, config(fault, seed), cl));
        }
        let quorum = abd.quorum_size(N);
        let (f_col, fault_col) = match fault {
            Fault::Crash(f) => (json!(f), "crash".to_string()),
            Fault::Partition => (json!(0), "partition 2|3".to_string()),
        };
        let pct = t.completed_pct();
        match fault {
            Fault::Crash(f) if f <= 2 => {
                ok &= pct == 100.0 && t.violations == 0 && t.undecided == 0
            }
            Fault::Crash(_) => ok &= t.completed == 0 && t.violations == 0,
            Fault::Partition if quorum > N / 2 => ok &= t.violations == 0 && pct < 100.0,
            Fault::Partition => {
                unsafe_violations = t.violations;
                ok &= t.violations > 0;
            }
        }
        if matches!(fault, Fault::Crash(0)) {
            if variant == "MWMR" {
                majority_cost.0 = t.per_write();
                majority_cost.2 = t.per_read();
            } else {
                majority_cost.1 = t.per_write();
            }
        }
        rows.push(vec![
            json!(variant),
            json!(quorum),
            json!(fault_col),
            f_col,
            json!(runs),
            cell(Some(pct)),
            json!(t.violations),
            cell(t.per_write()),
            cell(t.per_read()),
        ]);
        progress.advance(1);
    }
    let f = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.1}"));
    let model = ModelHeader::new()
        .with("timing", "asynchronous")
        .with(
            "failures",
            "crash-stop: the f highest servers crash in the first 2ms; or a partition {n0,n1}|{n2,n3,n4} for the whole run",
        )
        .with(
            "links",
            "reliable (no loss), latency uniform 1..10ms, a quarter of messages slowed up to 1000x, reordering",
        )
        .with("n", N)
        .with("clients", format!("{CLIENTS}, {OPS_PER_CLIENT} operations each, on servers that stay up"))
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "abd".into(),
        title: "ABD needs a majority: wait-free and atomic with f < n/2 crashes, blocked beyond, wrong with minority quorums".into(),
        model,
        columns: columns(&[
            ("variant", "variant"),
            ("quorum", "quorum"),
            ("fault", "fault"),
            ("f_crashed", "f_crashed"),
            ("runs", "runs"),
            ("ops_completed_pct", "ops_completed%"),
            ("linearizability_violations", "linearizability_violations"),
            ("msgs_per_write", "msgs/write"),
            ("msgs_per_read", "msgs/read"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "ABD needs a majority: at n = {N} with majority quorums every operation completes and no history is non-linearizable for f ≤ 2 crashed servers, and with f = 3 every operation blocks (0% complete, 0 violations), in both variants over {runs} runs each; forcing progress with quorums of 2 under a 2|3 partition gives non-linearizable histories in {unsafe_violations} of {runs} runs. Cost without faults: {} messages per multi-writer write, {} per single-writer write (one round trip), {} per read (4(n−1) = 16, 2(n−1) = 8)",
                f(majority_cost.0),
                f(majority_cost.1),
                f(majority_cost.2),
            ),
            verdict: if ok { ClaimVerdict::ViolatedAsExpected } else { ClaimVerdict::Unexpected },
        },
        read: "Attiya, Bar-Noy & Dolev 1995; Attiya & Welch ch. 10 (fault-tolerant simulation of read/write objects; §10.4 the n > 2f bound); CGR ch. 4 (§4.3-4.4); Lynch ch. 13 and §17.1; Lamport 1986".into(),
        notes: vec![
            "ops_completed% counts answered operations among all planned ones: a client whose operation blocks never issues its next one".into(),
            "linearizability_violations: runs whose clients' history the synod-consistency linearizability checker rejects (the same check as `synod sim abd`)".into(),
            "msgs/write and msgs/read: every ABD message (requests, replies, forwards) attributed to the client operation it serves, divided by the operations invoked; replies after the quorum count too. Blocked operations (f = 3) send their query to every server, only the live ones reply".into(),
            "partition rows: client 1 uses n0, n1 and clients 2, 3 use n2..n4; with majority quorums client 1's first operation blocks, with quorums of 2 both sides go on and a read misses a write completed on the other side".into(),
        ],
        figures: vec![],
    })
}
