//! `crdt-convergence`: replicas diverge during a partition and converge after it heals
//! (curriculum C.10 (d)).
//!
//! Four replicas, asynchronous reordering links that duplicate 20% of messages, a partition
//! {n0, n1} | {n2, n3} from 1 s to 5 s, and 40 random updates at random replicas between 0 and
//! 5 s; then 3 s of quiet. Each data type runs over R seeds:
//!
//! - the state-based CRDTs ([`CrdtStore`] of G-Counter, PN-Counter, OR-Set, LWW-Register,
//!   MV-Register; whole-state gossip to all peers every 50 ms) diverge while the partition lasts
//!   (each side applies its own updates) and, since merge is a join, converge on every seed once
//!   it heals: strong eventual consistency;
//! - the naive op-based counter (each increment shipped once per peer, retransmitted until
//!   acknowledged, every copy applied) counts duplicates twice: its replicas disagree, and
//!   exceed the sum of the updates;
//! - the naive add/remove set (no tags) ends in different states at different replicas, off the
//!   add-wins specification the OR-Set keeps: a remove concurrent with an add is undone at the
//!   replicas that apply it first and wins at the others, and a late duplicate of an add
//!   resurrects a removed element.
//!
//! Measured from the trace (every replica reports its value and state digest at each change):
//! convergence and the data type's specification at the end ([`convergence`],
//! [`updates_reflected`]), the most distinct replica states at any moment of the partition and
//! at the end, the time from the heal until the replicas last became equal, and the messages and
//! bytes (serialised as JSON) sent per update.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{mean, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{
    check_all, Duration, EventKind, Instant, ModelHeader, NodeId, Prng, Ratio, Verdict,
};
use synod_protocols::replication::crdt::{
    convergence, naive_opcounter, naive_set, random_updates, updates_reflected, Crdt, CrdtStore,
    GCounter, LwwRegister, MvRegister, Observed, OrSet, PnCounter, Replica,
};
use synod_sim::{Cut, Partition, Scripted, SimConfig, Timing};

const N: usize = 4;
const UPDATES: usize = 40;
const PARTITION_FROM: Instant = Instant::from_secs(1);
const HEAL: Instant = Instant::from_secs(5);
const UNTIL: Instant = Instant::from_secs(8);
const QUIET: Duration = Duration::from_secs(1);
const DUP: u32 = 200_000;

/// What one run gave.
#[derive(Clone, Debug, Default)]
struct RunStats {
    converged: bool,
    spec_holds: bool,
    max_distinct_partition: usize,
    distinct_end: usize,
    /// From the heal until the replicas last became equal (zero if they were equal at the heal
    /// and stayed so); `None` if they differ at the end.
    converge_after_heal: Option<Duration>,
    updates: usize,
    messages: u64,
    bytes: u64,
}

fn config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = UNTIL;
    cfg.timing = Timing::Asynchronous;
    cfg.network.duplicate = Ratio::from_ppm(DUP);
    cfg.network.fifo = false;
    cfg.faults.partitions.push(Partition {
        cut: Cut::Groups(vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2), NodeId(3)]]),
        from: PARTITION_FROM,
        until: HEAL,
    });
    cfg
}

fn measure<C: Crdt, P: Replica<Data = C, Request = C::Op>>(store: P, seed: u64) -> RunStats {
    let mut prng = Prng::derive(seed, 0x4352_4454);
    let updates = random_updates::<C>(N, UPDATES, Instant::ZERO, HEAL, &mut prng);
    let out = run_full(store, config(seed), Scripted(updates));
    let trace = &out.trace;
    let reports = check_all(
        &[convergence::<P>(QUIET), updates_reflected::<P>(QUIET)],
        trace,
    );
    let holds = |i: usize| matches!(reports[i].verdict, Verdict::Holds);
    let mut s = RunStats {
        converged: holds(0),
        spec_holds: holds(1),
        ..RunStats::default()
    };
    // Replay the state reports: the number of distinct digests over time.
    let mut current: Vec<Option<u64>> = vec![None; N];
    let distinct = |c: &[Option<u64>]| c.iter().collect::<BTreeSet<_>>().len();
    let mut equal_since: Option<Instant> = Some(Instant::ZERO);
    for e in &trace.events {
        match &e.kind {
            EventKind::Indication { node, ind } => match P::observe(ind) {
                Some(Observed::State { digest, .. }) => {
                    current[node.index()] = Some(digest);
                    let d = distinct(&current);
                    if e.time >= PARTITION_FROM && e.time < HEAL {
                        s.max_distinct_partition = s.max_distinct_partition.max(d);
                    }
                    if d == 1 {
                        equal_since.get_or_insert(e.time);
                    } else {
                        equal_since = None;
                    }
                }
                Some(Observed::Updated(_)) => s.updates += 1,
                None => {}
            },
            EventKind::Send { msg, .. } => {
                s.messages += 1;
                s.bytes += serde_json::to_vec(msg).map_or(0, |v| v.len() as u64);
            }
            _ => {}
        }
    }
    s.distinct_end = distinct(&current);
    s.converge_after_heal = equal_since.map(|t| t.saturating_since(HEAL));
    s
}

/// One data type's totals over the runs.
#[derive(Clone, Debug, Default)]
struct Totals {
    runs: usize,
    converged: usize,
    spec_holds: usize,
    max_distinct_partition: usize,
    max_distinct_end: usize,
    converge_ms: Vec<f64>,
    updates: usize,
    messages: u64,
    bytes: u64,
}

impl Totals {
    fn add(&mut self, r: &RunStats) {
        self.runs += 1;
        self.converged += usize::from(r.converged);
        self.spec_holds += usize::from(r.spec_holds);
        self.max_distinct_partition = self.max_distinct_partition.max(r.max_distinct_partition);
        self.max_distinct_end = self.max_distinct_end.max(r.distinct_end);
        if let Some(d) = r.converge_after_heal {
            self.converge_ms.push(d.as_millis_f64());
        }
        self.updates += r.updates;
        self.messages += r.messages;
        self.bytes += r.bytes;
    }

    fn pct(&self, k: usize) -> f64 {
        (1000.0 * k as f64 / self.runs.max(1) as f64).round() / 10.0
    }

    fn per_update(&self, x: u64) -> f64 {
        (10.0 * x as f64 / self.updates.max(1) as f64).round() / 10.0
    }
}

/// The data types, in table order: name, CRDT or canary, runner.
type Runner = fn(u64) -> RunStats;
const TYPES: [(&str, bool, Runner); 7] = [
    ("gcounter", true, |s| {
        measure(CrdtStore::<GCounter>::default(), s)
    }),
    ("pncounter", true, |s| {
        measure(CrdtStore::<PnCounter>::default(), s)
    }),
    ("orset", true, |s| measure(CrdtStore::<OrSet>::default(), s)),
    ("lww", true, |s| {
        measure(CrdtStore::<LwwRegister>::default(), s)
    }),
    ("mvregister", true, |s| {
        measure(CrdtStore::<MvRegister>::default(), s)
    }),
    ("naive-opcounter", false, |s| measure(naive_opcounter(), s)),
    ("naive-set", false, |s| measure(naive_set(), s)),
];

fn round1(x: Option<f64>) -> serde_json::Value {
    x.map_or(serde_json::Value::Null, |x| {
        json!((x * 10.0).round() / 10.0)
    })
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 20 } else { 100 })
        .max(1);
    progress.set_total(TYPES.len() as u64);
    let mut rows = Vec::new();
    let mut totals: BTreeMap<&str, Totals> = BTreeMap::new();
    for (ti, &(name, _, runner)) in TYPES.iter().enumerate() {
        let mut t = Totals::default();
        for r in 0..runs as u64 {
            t.add(&runner(run_seed(opts.seed, &[ti as u64, r])));
        }
        let max_ms = t
            .converge_ms
            .iter()
            .copied()
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        rows.push(vec![
            json!(name),
            json!(t.runs),
            json!(t.pct(t.converged)),
            json!(t.pct(t.spec_holds)),
            json!(t.max_distinct_partition),
            json!(t.max_distinct_end),
            round1(mean(&t.converge_ms)),
            round1(max_ms),
            json!(t.per_update(t.messages)),
            json!(t.per_update(t.bytes)),
        ]);
        totals.insert(name, t);
        progress.advance(1);
    }
    let crdts: Vec<&str> = TYPES.iter().filter(|t| t.1).map(|t| t.0).collect();
    let all_converge = crdts.iter().all(|c| {
        let t = &totals[c];
        t.converged == t.runs && t.spec_holds == t.runs && t.max_distinct_end == 1
    });
    let diverged_in_partition = crdts.iter().all(|c| totals[c].max_distinct_partition >= 2);
    let worst_partition = crdts
        .iter()
        .map(|c| totals[c].max_distinct_partition)
        .max()
        .unwrap_or(0);
    let crdt_ms: Vec<f64> = crdts
        .iter()
        .flat_map(|c| totals[c].converge_ms.iter().copied())
        .collect();
    let mean_ms = mean(&crdt_ms).unwrap_or(0.0);
    let max_ms = crdt_ms.iter().copied().fold(0.0, f64::max);
    let counter = &totals["naive-opcounter"];
    let counter_bad = counter.runs - counter.converged.min(counter.spec_holds);
    let counter_diverged = counter.runs - counter.converged;
    let set = &totals["naive-set"];
    let set_anomalies = set.runs - set.spec_holds;
    let set_diverged = set.runs - set.converged;
    let ok = all_converge && diverged_in_partition && counter_diverged > 0 && set_anomalies > 0;
    let model = ModelHeader::new()
        .with("timing", "asynchronous")
        .with(
            "failures",
            format!("partition {{n0,n1}}|{{n2,n3}} from {PARTITION_FROM} to {HEAL} (healed)"),
        )
        .with("links", "fair-loss(loss=0,dup=0.2,reorder)")
        .with("n", N)
        .with(
            "workload",
            format!("{UPDATES} random updates at random replicas in 0..{HEAL}; quiet until {UNTIL}"),
        )
        .with(
            "replication",
            "state-based: whole-state gossip to all peers every 50ms; op-based canaries: effects retransmitted every 50ms until acked",
        )
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "crdt-convergence".into(),
        title: "CRDTs diverge during a partition and converge after it heals; naive op-based replication does not".into(),
        model,
        columns: columns(&[
            ("type", "type"),
            ("runs", "runs"),
            ("converged_pct", "converged %"),
            ("spec_pct", "spec holds %"),
            ("max_distinct_states_partition", "max states (partition)"),
            ("max_distinct_states_end", "max states (end)"),
            ("converge_after_heal_ms_mean", "converge after heal ms (mean)"),
            ("converge_after_heal_ms_max", "(max)"),
            ("msgs_per_update", "msgs/update"),
            ("bytes_per_update", "bytes/update"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "with 20% duplication, reordering and a partition healed at {HEAL}, the CRDTs ({}) held up to {worst_partition} distinct replica states during the partition, and in {runs}/{runs} runs each converged to one state with the value their specification gives (increments − decrements, add-wins set, highest stamp), {mean_ms:.0} ms after the heal on average (at most {max_ms:.0} ms); the naive op-based counter diverged in {counter_diverged}/{runs} runs (off its sum in {counter_bad}), and the naive add/remove set ended off the add-wins specification in {set_anomalies}/{runs} runs (replicas disagreeing in {set_diverged})",
                crdts.join(", ")
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Shapiro, Preguiça, Baquero & Zawirski 2011 (INRIA RR-7506, §2-3: state- vs op-based, G/PN-Counter, LWW, MV-Register, OR-Set); DDIA ch. 5 (concurrent writes, version vectors, CRDTs in brief)".into(),
        notes: vec![
            "converged %: every replica holds the same state at the end (equal digests of the last state each reported); spec holds %: every replica's value is what the data type's specification gives for the set of updates made (computed from the updates' reported effects, independently of merge)".into(),
            "max states: the most distinct replica states at any moment of the partition, and at the end; converge after heal: from the heal until the replicas last became equal (0 when they were already equal)".into(),
            "messages and bytes (each message serialised as JSON) are totals over the run, gossip included, divided by the updates made: state-based gossip costs the same with or without updates, and its messages grow with the state".into(),
            "the naive counter's duplicates come from the network (20%) and from retransmissions whose acknowledgement was lost or cut by the partition; the naive set keeps no tags, so the order in which a replica receives an add and a concurrent remove decides the outcome there".into(),
        ],
        figures: vec![],
    })
}
