//! `quorum-rw`: Dynamo-style quorums, staleness against R + W (curriculum C.10 (a), after
//! Bailis et al.'s PBS).
//!
//! N = 3 replicas of one key on n = 3 nodes ([`Dynamo`]), every R, W ∈ {1, 2, 3}, strict
//! quorums, last-writer-wins versions, exponential message delays (mean 5 ms, capped at
//! 100 ms: synchronous timing with Δ = 100 ms, which an exponential of mean 5 ms exceeds with
//! probability e⁻²⁰). Three measurements per (R, W):
//!
//! - **staleness probes** (PBS's *t-visibility*): one writer writes 1, 2, 3, ... at random
//!   nodes; t ms after each write is acknowledged (t ∈ {0, 1, 5, 20}) a fresh client reads at a
//!   random node. The read is *stale* if it returns a value older than the write just
//!   acknowledged. No read repair, so only the write's own propagation is measured. With
//!   R + W > N every read quorum meets the write quorum: 0 stale at every t. With R + W ≤ N a
//!   read quorum can miss it, less and less often as the stores arrive: stale% > 0, falling
//!   with t;
//! - **regular%** and **linearizable%** under concurrency: two writers (each writing values of
//!   its own and reading after each write) and three readers at random nodes, back to back. Each
//!   history is judged by `synod-consistency`: regularity (Lamport's per-read condition, for
//!   several writers: every read returns a last preceding or a concurrent write, checked by
//!   `register_semantics`) and linearizability, once with reads that do no repair and once with
//!   write-back read repair (ABD's read-impose). Theory: R + W > N gives regular histories,
//!   not linearizable ones (new/old inversions), and atomic ones with write-back;
//! - **cost**: messages per operation (every query, reply, store and acknowledgement, handoff
//!   excluded) and mean latencies, from the probe runs.
//!
//! Plus two rows with a sloppy quorum and a strict one under the partition
//! {n0, n3, n4} | {n1, n2} of n = 5 nodes (the key's replicas n0..n2), writer on the first side,
//! readers on the second: the sloppy quorum completes writes on n0 and the fallbacks n3, n4 and
//! reads on n1, n2, so reads are stale even with R + W > N; the strict quorum completes no
//! write at all (availability traded for consistency).
//!
//! The public helpers here ([`stale_reads`], [`regular_register`], [`no_stale_reads`],
//! [`op_messages`]) also serve the catalog's Dynamo entries and other experiments.

use super::abd::cell;
use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::runner::recorded_history;
use crate::workloads::RegisterService;
use crate::workloads::{describe_register, linearizable_register, Placement, ProgramClients};
use crate::LabError;
use serde_json::json;
use synod_consistency::checkers::register_semantics::check_recorded_register_semantics;
use synod_consistency::format::Value as HValue;
use synod_consistency::Budget;
use synod_core::{
    check_all, ClientOps, Duration, EventKind, History, Instant, ModelHeader, NodeId, Prng,
    Property, Trace, Verdict,
};
use synod_protocols::register::program::WritersReaders;
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterRet};
use synod_protocols::replication::dynamo::{Dynamo, ReadRepair};
use synod_sim::{Cut, Latency, Partition, Requests, SimConfig, Timing, Workload, WorkloadEnv};

/// A register history.
pub type RegisterHistory = History<RegisterOp, RegisterRet>;

/// Completed reads that *miss a write completed before they were invoked*: the read returned
/// the initial value although some write had completed before it began, or the value of a
/// write `w'` that had been superseded by then (some write `w` began after `w'` completed and
/// completed before the read began). Reads of values nobody wrote count too; reads of
/// incomplete writes never (such a write is concurrent with everything after its call).
/// Written values must be unique. Returns `(stale, completed reads)`.
pub fn stale_reads(h: &RegisterHistory) -> (usize, usize) {
    let writes: Vec<(u64, Instant, Option<Instant>)> = h
        .ops
        .iter()
        .filter_map(|o| match o.input {
            RegisterOp::Write(v) => Some((v, o.invoke, o.completion.as_ref().map(|c| c.0))),
            RegisterOp::Read => None,
        })
        .collect();
    // Sorted completion times of completed writes, and each write's invocation.
    let mut done: Vec<(Instant, Instant)> = writes
        .iter()
        .filter_map(|&(_, call, ret)| ret.map(|r| (r, call)))
        .collect();
    done.sort();
    let (mut stale, mut reads) = (0, 0);
    for o in &h.ops {
        let (RegisterOp::Read, Some((_, RegisterRet::ReadOk(v)))) = (o.input, &o.completion) else {
            continue;
        };
        reads += 1;
        let before = &done[..done.partition_point(|(r, _)| *r < o.invoke)];
        let missed = match v {
            None => !before.is_empty(),
            Some(v) => match writes.iter().find(|w| w.0 == *v) {
                None => true,
                Some((_, _, None)) => false,
                Some(&(_, _, Some(ret))) => before.iter().any(|(_, call)| ret < *call),
            },
        };
        stale += usize::from(missed);
    }
    (stale, reads)
}

/// *Regular* (safety, on the clients' history): every read returns the value of a last write
/// completed before it or of a write concurrent with it (Lamport's regular register; for
/// several writers the per-read condition, see
/// `synod_consistency::checkers::register_semantics`). Written values must be unique.
pub fn regular_register<P>() -> Property<P>
where
    P: ClientOps<Input = RegisterOp, Output = RegisterRet>,
{
    Property::safety("regular", |trace: &Trace<P>| {
        let recorded = recorded_history(trace, describe_register);
        match check_recorded_register_semantics(&recorded, &HValue::Nil, &Budget::steps(100_000)) {
            Ok(s) if s.regular_ok => Verdict::Holds,
            Ok(s) => Verdict::violated(
                s.first_violation()
                    .map_or("not regular".to_string(), |w| w.to_string()),
            ),
            Err(e) => Verdict::Inconclusive {
                detail: format!("history not judged: {e}"),
            },
        }
    })
}

/// *No stale reads* (safety, on the clients' history): no read misses a write completed before
/// it was invoked ([`stale_reads`]).
pub fn no_stale_reads<P>() -> Property<P>
where
    P: ClientOps<Input = RegisterOp, Output = RegisterRet>,
{
    Property::safety("no-stale-reads", |trace: &Trace<P>| {
        let h = RegisterHistory::from_trace(trace);
        match stale_reads(&h) {
            (0, _) => Verdict::Holds,
            (s, r) => Verdict::violated(format!(
                "{s} of {r} reads missed a write completed before they began"
            )),
        }
    })
}

/// Messages sent on behalf of client operations (queries, replies, stores, acknowledgements,
/// read repairs) and hinted-handoff messages, in a Dynamo trace.
pub fn op_messages(trace: &Trace<Dynamo>) -> (u64, u64) {
    let (mut ops, mut handoff) = (0, 0);
    for e in &trace.events {
        if let EventKind::Send { msg, .. } = &e.kind {
            if msg.is_handoff() {
                handoff += 1;
            } else {
                ops += 1;
            }
        }
    }
    (ops, handoff)
}

/// Read times after each acknowledged write, in ms.
const AFTER: [u64; 4] = [0, 1, 5, 20];
/// Client ids of probe reads start here: `PROBE + 4k + i` reads `AFTER[i]` after write k.
const PROBE: u64 = 10_000;

/// The staleness probes: client 1 writes 1, 2, ... (`writes` of them) at a random node of
/// `writers`, each `gap` after the previous was acknowledged; `AFTER[i]` ms after each
/// acknowledgement, a fresh client reads at a random node of `readers`.
#[derive(Clone, Debug)]
pub struct Probes {
    /// Writes in all.
    pub writes: u64,
    /// Where writes go.
    pub writers: Vec<NodeId>,
    /// Where probe reads go.
    pub readers: Vec<NodeId>,
    /// Pause between an acknowledgement and the next write.
    pub gap: Duration,
    written: u64,
}

impl Probes {
    /// `writes` writes at `writers`, probes at `readers`, 40 ms apart.
    pub fn new(writes: u64, writers: Vec<NodeId>, readers: Vec<NodeId>) -> Probes {
        Probes {
            writes,
            writers,
            readers,
            gap: Duration::from_millis(40),
            written: 0,
        }
    }

    fn write<P: RegisterService>(&mut self, at: Instant, prng: &mut Prng, out: &mut Requests<P>) {
        if self.written < self.writes {
            self.written += 1;
            let node = self.writers[prng.below(self.writers.len() as u64) as usize];
            out.push((
                at,
                node,
                RegisterReq::Write {
                    client: 1,
                    value: self.written,
                },
            ));
        }
    }
}

impl<P: RegisterService> Workload<P> for Probes {
    fn start(&mut self, _env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.write::<P>(Instant::from_millis(1), prng, out);
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &P::Indication,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        if P::response(ind) != Some((1, RegisterRet::WriteOk)) {
            return;
        }
        let k = self.written - 1;
        for (i, t) in AFTER.iter().enumerate() {
            let node = self.readers[prng.below(self.readers.len() as u64) as usize];
            out.push((
                now + Duration::from_millis(*t),
                node,
                RegisterReq::Read {
                    client: PROBE + 4 * k + i as u64,
                },
            ));
        }
        self.write::<P>(now + self.gap, prng, out);
    }
}

/// Stale probe reads per read delay: `(stale, answered)` for each of [`AFTER`]. A probe read is
/// stale when it returns a value older than the write acknowledged just before it.
fn probe_staleness(h: &RegisterHistory) -> [(u64, u64); 4] {
    let mut out = [(0, 0); 4];
    for o in &h.ops {
        let (true, Some((_, RegisterRet::ReadOk(v)))) = (o.client >= PROBE, &o.completion) else {
            continue;
        };
        let (k, i) = ((o.client - PROBE) / 4, ((o.client - PROBE) % 4) as usize);
        out[i].1 += 1;
        out[i].0 += u64::from(*v < Some(k + 1));
    }
    out
}

/// How a configuration is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// n = 3, no faults.
    Healthy,
    /// n = 5, {n0, n3, n4} | {n1, n2} for the whole run.
    Partitioned,
}

const UNTIL: Instant = Instant::from_secs(4);

fn config(setup: Setup, seed: u64) -> SimConfig {
    let n = match setup {
        Setup::Healthy => 3,
        Setup::Partitioned => 5,
    };
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = UNTIL;
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(100),
    };
    cfg.network.latency = Latency::Exponential {
        mean: Duration::from_millis(5),
    };
    if setup == Setup::Partitioned {
        cfg.faults.partitions.push(Partition {
            cut: Cut::Groups(vec![
                vec![NodeId(0), NodeId(3), NodeId(4)],
                vec![NodeId(1), NodeId(2)],
            ]),
            from: Instant::ZERO,
            until: UNTIL,
        });
    }
    cfg
}

/// (writer nodes, reader nodes) of a setup.
fn sides(setup: Setup) -> (Vec<NodeId>, Vec<NodeId>) {
    match setup {
        Setup::Healthy => (
            vec![NodeId(0), NodeId(1), NodeId(2)],
            vec![NodeId(0), NodeId(1), NodeId(2)],
        ),
        Setup::Partitioned => (vec![NodeId(0)], vec![NodeId(1), NodeId(2)]),
    }
}

/// The concurrent clients: two writers (5 writes each, a read after each) and three readers
/// (10 reads each), back to back with 1 ms pauses, writers at the writer nodes, readers at the
/// reader nodes, all starting in the first 5 ms.
fn concurrent_clients(setup: Setup, seed: u64) -> ProgramClients<WritersReaders> {
    let program = WritersReaders {
        writers: 2,
        readers: 3,
        writes: 5,
        reads: 10,
        writer_reads: 1,
    };
    let (w, r) = sides(setup);
    let mut prng = Prng::derive(seed, 0x5157);
    let placement = (0..5)
        .map(|c| Placement {
            reads: if c < 2 { w.clone() } else { r.clone() },
            writes: w.clone(),
            start: Instant(prng.below(Duration::from_millis(5).as_nanos())),
        })
        .collect();
    ProgramClients::new(program, Duration::from_millis(1)).with_placement(placement)
}

/// What one concurrent run gave: (regular, linearizable, ops invoked, ops answered).
fn concurrent_run(d: Dynamo, setup: Setup, seed: u64) -> (bool, Option<bool>, usize, usize) {
    let out = run_full(d, config(setup, seed), concurrent_clients(setup, seed));
    let props = check_all(
        &[
            regular_register::<Dynamo>(),
            linearizable_register::<Dynamo>(),
        ],
        &out.trace,
    );
    let h = RegisterHistory::from_trace(&out.trace);
    let answered = h.ops.iter().filter(|o| o.completion.is_some()).count();
    let lin = match props[1].verdict {
        Verdict::Holds => Some(true),
        Verdict::Violated { .. } => Some(false),
        Verdict::Inconclusive { .. } => None,
    };
    (!props[0].verdict.is_violated(), lin, h.ops.len(), answered)
}

/// Totals of one configuration.
#[derive(Default)]
struct Row {
    stale: [(u64, u64); 4],
    regular: usize,
    lin_off: usize,
    lin_wb: usize,
    runs: usize,
    invoked: usize,
    answered: usize,
    msgs: u64,
    probe_ops: u64,
    write_ns: u128,
    writes: u64,
    read_ns: u128,
    reads: u64,
}

fn pct(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| 100.0 * a as f64 / b as f64)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 20 } else { 100 })
        .max(1) as u64;
    let writes = if opts.quick { 15 } else { 25 };
    let mut configs: Vec<(Dynamo, Setup)> = Vec::new();
    for r in 1..=3 {
        for w in 1..=3 {
            configs.push((Dynamo::new(3, r, w), Setup::Healthy));
        }
    }
    configs.push((Dynamo::new(3, 2, 2).with_sloppy(true), Setup::Partitioned));
    configs.push((Dynamo::new(3, 2, 2), Setup::Partitioned));
    progress.set_total(configs.len() as u64);
    let mut rows = Vec::new();
    let mut ok = true;
    let (mut overlap_lin_violations, mut overlap_runs) = (0, 0);
    let mut stale_examples = Vec::new();
    for (ci, &(d, setup)) in configs.iter().enumerate() {
        let d = d.with_timeouts(Duration::from_millis(20), Duration::from_secs(1));
        let mut t = Row::default();
        for k in 0..runs {
            let seed = run_seed(opts.seed, &[ci as u64, k]);
            // Probes, no read repair.
            let (w, r) = sides(setup);
            let probe = d.with_read_repair(ReadRepair::Off);
            let out = run_full(probe, config(setup, seed), Probes::new(writes, w, r));
            let h = RegisterHistory::from_trace(&out.trace);
            for (acc, x) in t.stale.iter_mut().zip(probe_staleness(&h)) {
                acc.0 += x.0;
                acc.1 += x.1;
            }
            t.msgs += op_messages(&out.trace).0;
            t.probe_ops += h.ops.len() as u64;
            for o in &h.ops {
                if let Some((at, _)) = &o.completion {
                    let ns = u128::from(at.saturating_since(o.invoke).as_nanos());
                    match o.input {
                        RegisterOp::Write(_) => (t.write_ns += ns, t.writes += 1),
                        RegisterOp::Read => (t.read_ns += ns, t.reads += 1),
                    };
                }
            }
            // Concurrent clients, without and with write-back.
            let (regular, lin, invoked, answered) =
                concurrent_run(d.with_read_repair(ReadRepair::Off), setup, seed);
            t.regular += usize::from(regular);
            t.lin_off += usize::from(lin == Some(true));
            t.invoked += invoked;
            t.answered += answered;
            let (_, lin_wb, _, _) =
                concurrent_run(d.with_read_repair(ReadRepair::WriteBack), setup, seed);
            t.lin_wb += usize::from(lin_wb == Some(true));
            t.runs += 1;
        }
        let n = match setup {
            Setup::Healthy => 3,
            Setup::Partitioned => 5,
        };
        let overlap = d.quorums_overlap(n);
        let stale_pct: Vec<Option<f64>> = t.stale.iter().map(|&(s, a)| pct(s, a)).collect();
        let runs_u = t.runs as u64;
        let regular_pct = pct(t.regular as u64, runs_u);
        let lin_off_pct = pct(t.lin_off as u64, runs_u);
        let lin_wb_pct = pct(t.lin_wb as u64, runs_u);
        let stale_any = t.stale.iter().any(|&(s, _)| s > 0);
        let label = match (setup, d.sloppy) {
            (Setup::Healthy, _) => "strict",
            (Setup::Partitioned, true) => "sloppy, partition",
            (Setup::Partitioned, false) => "strict, partition",
        };
        match (setup, d.sloppy) {
            (Setup::Healthy, _) if overlap => {
                ok &= !stale_any && t.regular == t.runs && t.lin_wb == t.runs;
                overlap_lin_violations += t.runs - t.lin_off;
                overlap_runs += t.runs;
            }
            (Setup::Healthy, _) => {
                // Stale at t = 0, and less so at 20 ms than at 0.
                ok &= t.stale[0].0 > 0 && stale_pct[3] < stale_pct[0];
                stale_examples.push(format!(
                    "R={} W={}: {:.1}% → {:.1}%",
                    d.r,
                    d.w,
                    stale_pct[0].unwrap_or(0.0),
                    stale_pct[3].unwrap_or(0.0)
                ));
            }
            (Setup::Partitioned, true) => ok &= overlap && t.stale[0].0 > 0,
            (Setup::Partitioned, false) => ok &= t.stale.iter().all(|&(s, _)| s == 0),
        }
        let ms = |ns: u128, k: u64| (k > 0).then(|| ns as f64 / k as f64 / 1e6);
        rows.push(vec![
            json!(label),
            json!(d.r),
            json!(d.w),
            json!(overlap),
            cell(stale_pct[0]),
            cell(stale_pct[1]),
            cell(stale_pct[2]),
            cell(stale_pct[3]),
            cell(regular_pct),
            cell(lin_off_pct),
            cell(lin_wb_pct),
            cell(pct(t.answered as u64, t.invoked as u64)),
            cell((t.probe_ops > 0).then(|| t.msgs as f64 / t.probe_ops as f64)),
            cell(ms(t.write_ns, t.writes)),
            cell(ms(t.read_ns, t.reads)),
        ]);
        progress.advance(1);
    }
    ok &= overlap_lin_violations > 0;
    let model = ModelHeader::new()
        .with("timing", "synchronous(delta=100ms)")
        .with("latency", "exponential(mean=5ms)")
        .with("links", "reliable, reordering")
        .with(
            "failures",
            "none; the partition rows: {n0,n3,n4}|{n1,n2} for the whole run",
        )
        .with("n", "3 (partition rows: 5)")
        .with("N", 3)
        .with("versions", "last-writer-wins (counter, node)")
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "quorum-rw".into(),
        title: "Dynamo quorums, N = 3: R + W > N reads are regular with no stale read; R + W <= N reads go stale, less so as time passes; sloppy quorums go stale under a partition".into(),
        model,
        columns: columns(&[
            ("quorum", "quorum"),
            ("r", "R"),
            ("w", "W"),
            ("overlap", "R+W>N"),
            ("stale_pct_t0", "stale%@0ms"),
            ("stale_pct_t1", "stale%@1ms"),
            ("stale_pct_t5", "stale%@5ms"),
            ("stale_pct_t20", "stale%@20ms"),
            ("regular_pct", "regular%"),
            ("linearizable_pct", "lin%(no repair)"),
            ("linearizable_write_back_pct", "lin%(write-back)"),
            ("ops_answered_pct", "answered%"),
            ("msgs_per_op", "msgs/op"),
            ("write_ms", "write ms"),
            ("read_ms", "read ms"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "with N = 3 and strict quorums, every R + W > N configuration gave 0 stale reads at every delay and regular histories in {runs} of {runs} runs, yet {overlap_lin_violations} of {overlap_runs} of its concurrent histories were not linearizable without read repair (all were with write-back); every R + W <= N configuration gave stale reads falling with the time since the write ({}); a sloppy R = W = 2 quorum under a partition gave stale reads, the strict one answered no write",
                stale_examples.join(", ")
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "DeCandia et al., Dynamo (SOSP 2007) §4.5-4.6; DDIA ch. 5 (leaderless replication: quorums, sloppy quorums, read repair); Bailis et al., PBS (VLDB 2012); Vukolić, Quorum Systems (2012); CGR ch. 4 and Attiya, Bar-Noy & Dolev 1995 (the write-back)".into(),
        notes: vec![
            "stale%@t: probe reads issued t ms after a write was acknowledged (client 1 writes 1, 2, ... at random nodes), at random nodes, without read repair, that returned an older value; a read at R = 1 on the coordinator of a W = 1 write is never stale, elsewhere it is until the store arrives".into(),
            "regular%, lin%: concurrent histories (two writers writing and reading back, three readers; 50 operations) judged by synod-consistency's register-semantics (multi-writer regularity, per read) and linearizability checkers; lin%(no repair) with reads that repair nothing, lin%(write-back) with reads that store their value at W replicas before answering".into(),
            "answered%: operations of the concurrent runs answered (an operation that gets no quorum within its 1 s deadline is never answered); msgs/op: every query, reply, store and acknowledgement of the probe runs (retries included) over their operations; latencies from the probe runs".into(),
            "partition rows: n = 5, the key's replicas n0, n1, n2, fallbacks n3, n4; writes at n0, reads at n1 and n2 (the concurrent runs' readers too). The sloppy quorum writes on n0 + fallbacks after a 20 ms retry timeout, the strict one never gathers W = 2 (its writes are never answered, so no probe read is issued)".into(),
            "a write first queries R replicas for the largest stamp (so its stamp exceeds every write that completed before it when R + W > N), then stores at N and waits for W; with R = 1 at a replica the query is local".into(),
        ],
        figures: vec![],
    })
}
