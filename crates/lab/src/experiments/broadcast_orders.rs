//! `broadcast-orders`: one workload delivered under FIFO, causal and total order, showing the
//! orderings each permits.
//!
//! The workload ([`ReactiveBroadcasts`]) broadcasts at random nodes and times, and some
//! broadcasts are *reactions*: the node designated for a message (never its origin) broadcasts
//! a reply when it delivers it, and that reply gets a reply too, so causal chains run across
//! processes. The network reorders (latency uniform 1..10 ms). The same seeds drive three
//! stacks:
//!
//! - FIFO: [`Fifo`] (sequence numbers and a reorder buffer) over eager reliable broadcast;
//! - causal: [`Causal`] (CGR's Waiting Causal Broadcast, vector clocks) over eager reliable
//!   broadcast;
//! - total order: [`Tob`] (consensus-based: the Multi-Paxos log, Ω-led).
//!
//! Each run is judged by the shared broadcast properties (`broadcast::properties::violations`,
//! which read the trace only): FIFO violations (first deliveries with an earlier message of the
//! same sender missing), causal violations (with a message of the causal past missing) and
//! total-order violations (pairs of messages two processes delivered in opposite orders). We
//! also count the distinct delivery sequences across the processes (1 means everybody
//! delivered the same sequence), messages per broadcast and the delivery latency (broadcast
//! request to delivery, every process).
//!
//! Theory (CGR §3.9, §6.1): FIFO order does not imply causal order (a reply relayed by a fast
//! path overtakes the message it answers); causal order does not order concurrent messages,
//! so processes diverge; total order puts every process on one sequence, at the price of
//! consensus (a leader round trip and a majority per message).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{mean, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{Duration, EventKind, Instant, ModelHeader, NodeId, Prng, Protocol, Trace};
use synod_protocols::broadcast::causal::Causal;
use synod_protocols::broadcast::fifo::Fifo;
use synod_protocols::broadcast::properties::{deliveries, violations, Counts};
use synod_protocols::broadcast::tob::Tob;
use synod_protocols::broadcast::{BcastInd, BcastReq, EagerRb, MsgId};
use synod_protocols::consensus::MpMsg;
use synod_sim::{Requests, SimConfig, Timing, Workload, WorkloadEnv};

/// Broadcasts at random nodes and times, with replies that make causal chains (see the
/// [module docs](self)).
///
/// The first `count` broadcasts carry payloads `1..=count`, each at a uniformly random node and
/// time in `[0, spread)`. A message with payload `v` from origin `o` is *answered* by node
/// `(o + 1 + v mod (n − 1)) mod n` (never `o`) when that node delivers it, if its depth (how
/// many replies led to it) is below `max_depth`; the reply's payload is `1000·v + 1`, so a
/// payload names its whole chain (`parent(v) = v / 1000` for `v >= 1000`) and every payload is
/// unique. Needs `count < 1000` and `n >= 2`.
#[derive(Clone, Debug)]
pub struct ReactiveBroadcasts {
    /// Initial broadcasts.
    pub count: u32,
    /// They are spread over `[0, spread)`.
    pub spread: Duration,
    /// Replies are chained up to this depth (0: no replies).
    pub max_depth: u32,
    n: usize,
    answered: BTreeSet<u64>,
}

impl ReactiveBroadcasts {
    /// `count` broadcasts over `spread`, replies up to depth 2.
    ///
    /// # Panics
    /// If `count` is 1000 or more (the payload encoding of replies needs it below 1000).
    pub fn new(count: u32, spread: Duration) -> ReactiveBroadcasts {
        assert!(
            count < 1000,
            "ReactiveBroadcasts: at most 999 initial broadcasts"
        );
        ReactiveBroadcasts {
            count,
            spread,
            max_depth: 2,
            n: 0,
            answered: BTreeSet::new(),
        }
    }

    /// How many replies led to the message with payload `v` (0 for an initial broadcast).
    pub fn depth(mut v: u64) -> u32 {
        let mut d = 0;
        while v >= 1000 {
            v /= 1000;
            d += 1;
        }
        d
    }

    /// The node that answers message `id` with payload `v` in a run of `n >= 2` nodes.
    pub fn responder(id: MsgId, v: u64, n: usize) -> NodeId {
        let n = n as u64;
        NodeId(((u64::from(id.origin.0) + 1 + v % (n - 1)) % n) as u32)
    }
}

impl<P: Protocol<Request = BcastReq, Indication = BcastInd>> Workload<P> for ReactiveBroadcasts {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        for v in 1..=u64::from(self.count) {
            let at = Instant(prng.below(self.spread.as_nanos().max(1)));
            let node = NodeId(prng.below(env.n as u64) as u32);
            out.push((at, node, BcastReq::Broadcast(v)));
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }

    fn on_indication(
        &mut self,
        now: Instant,
        node: NodeId,
        ind: &BcastInd,
        _prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let BcastInd::Deliver { id, payload } = *ind;
        if self.n < 2
            || payload == 0
            || Self::depth(payload) >= self.max_depth
            || node != Self::responder(id, payload, self.n)
            || !self.answered.insert(payload)
        {
            return;
        }
        out.push((
            now,
            node,
            BcastReq::Broadcast(payload.saturating_mul(1000).saturating_add(1)),
        ));
    }
}

/// The FIFO stack of this experiment: FIFO order over eager reliable broadcast.
pub type FifoStack = Fifo<EagerRb>;

// ---- Measuring one run --------------------------------------------------------------------------

/// What one run of one order measured.
#[derive(Clone, Debug, Default)]
pub struct OrderRun {
    /// Violation counts (shared broadcast properties).
    pub counts: Counts,
    /// Distinct delivery sequences among the processes that never crashed.
    pub sequences: usize,
    /// Messages sent, periodic background (heartbeats, the leader's `Sync`) excluded.
    pub messages: u64,
    /// Periodic background messages.
    pub background: u64,
    /// Every delivery's latency (broadcast request to delivery), in ms.
    pub latencies: Vec<f64>,
}

/// Measures one recorded run; `background` says which messages are periodic background.
pub fn measure_run<P>(trace: &Trace<P>, background: fn(&P::Msg) -> bool) -> OrderRun
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let mut r = OrderRun {
        counts: violations(trace),
        ..OrderRun::default()
    };
    let n = trace.facts.n;
    let mut seq = vec![0u64; n];
    let mut sent_at: BTreeMap<MsgId, Instant> = BTreeMap::new();
    for e in &trace.events {
        match &e.kind {
            EventKind::Send { msg, .. } => {
                if background(msg) {
                    r.background += 1;
                } else {
                    r.messages += 1;
                }
            }
            EventKind::Request { node, .. } if node.index() < n => {
                seq[node.index()] += 1;
                let id = MsgId {
                    origin: *node,
                    seq: seq[node.index()],
                };
                sent_at.insert(id, e.time);
            }
            EventKind::Indication {
                ind: BcastInd::Deliver { id, .. },
                ..
            } => {
                if let Some(t0) = sent_at.get(id) {
                    r.latencies
                        .push(Duration(e.time.0.saturating_sub(t0.0)).as_millis_f64());
                }
            }
            _ => {}
        }
    }
    let seqs: BTreeSet<Vec<MsgId>> = deliveries(trace)
        .into_iter()
        .filter(|(p, _)| trace.facts.correct(*p))
        .map(|(_, d)| d.into_iter().map(|(id, _)| id).collect())
        .collect();
    r.sequences = seqs.len();
    r
}

fn no_background<M>(_: &M) -> bool {
    false
}

fn mp_background(m: &MpMsg) -> bool {
    matches!(m, MpMsg::Fd(_) | MpMsg::Sync { .. })
}

/// The three orders of the experiment, by name.
pub const ORDERS: [&str; 3] = ["fifo", "causal", "total"];

/// Runs `workload` under order `order` (one of [`ORDERS`]) with configuration `cfg`; returns
/// the measures and each process's delivered payloads.
pub fn run_order(
    order: &str,
    cfg: SimConfig,
    workload: ReactiveBroadcasts,
) -> (OrderRun, BTreeMap<NodeId, Vec<u64>>) {
    fn payloads<P: Protocol<Request = BcastReq, Indication = BcastInd>>(
        t: &Trace<P>,
    ) -> BTreeMap<NodeId, Vec<u64>> {
        deliveries(t)
            .into_iter()
            .map(|(p, d)| (p, d.into_iter().map(|(_, v)| v).collect()))
            .collect()
    }
    match order {
        "fifo" => {
            let t = run_full(Fifo::new(EagerRb), cfg, workload).trace;
            (measure_run(&t, no_background), payloads(&t))
        }
        "causal" => {
            let t = run_full(Causal::new(), cfg, workload).trace;
            (measure_run(&t, no_background), payloads(&t))
        }
        _ => {
            let t = run_full(Tob::new(), cfg, workload).trace;
            (measure_run(&t, mp_background), payloads(&t))
        }
    }
}

/// The run configuration: `n` nodes, synchronous with Δ = 20 ms, latency uniform 1..10 ms
/// (reordering), until `until`.
pub fn orders_config(n: usize, seed: u64, until: Instant) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg.until = until;
    cfg
}

/// Per-order totals over the runs.
#[derive(Default)]
struct Totals {
    fifo: usize,
    causal: usize,
    total: usize,
    validity: usize,
    runs_diverged: usize,
    sequences: Vec<f64>,
    msgs_per_bcast: Vec<f64>,
    background_per_s: Vec<f64>,
    latencies: Vec<f64>,
    broadcasts: usize,
}

fn percentile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() - 1) as f64 * p).round() as usize;
    Some(xs[i])
}

fn label(v: u64) -> String {
    v.to_string()
}

/// The first reply delivered before the message it answers, in words.
fn reply_first(d: &BTreeMap<NodeId, Vec<u64>>) -> Option<String> {
    for (p, vs) in d {
        for (i, v) in vs.iter().enumerate() {
            if *v >= 1000 && !vs[..i].contains(&(v / 1000)) {
                return Some(format!(
                    "{p} delivered {v} before {}, the message it answers",
                    v / 1000
                ));
            }
        }
    }
    None
}

/// Two processes that delivered two messages in opposite orders, in words.
fn opposite(d: &BTreeMap<NodeId, Vec<u64>>) -> Option<String> {
    let pos = |vs: &[u64], x: u64| vs.iter().position(|v| *v == x);
    for (p, a) in d {
        for (q, b) in d.range(*p..).skip(1) {
            for (i, x) in a.iter().enumerate() {
                for y in &a[i + 1..] {
                    if let (Some(bx), Some(by)) = (pos(b, *x), pos(b, *y)) {
                        if by < bx {
                            return Some(format!(
                                "e.g. {p} delivered {x} before {y}, {q} {y} before {x}"
                            ));
                        }
                    }
                }
            }
        }
    }
    None
}

/// Finds a small run (3 nodes, 3 broadcasts and their replies) in which FIFO breaks causal
/// order and causal broadcast diverges, and prints each process's delivery sequence under each
/// order.
fn example(base: u64) -> Vec<String> {
    let n = 3;
    for s in 0..400u64 {
        let seed = run_seed(base, &[7, s]);
        let w = || ReactiveBroadcasts::new(3, Duration::from_millis(8));
        let cfg = || orders_config(n, seed, Instant::from_secs(1));
        let (f, fd) = run_order("fifo", cfg(), w());
        if f.counts.causal == 0 {
            continue;
        }
        let (c, cd) = run_order("causal", cfg(), w());
        if c.sequences < 2 {
            continue;
        }
        let (_, td) = run_order("total", cfg(), w());
        let show = |name: &str, d: &BTreeMap<NodeId, Vec<u64>>| {
            let per: Vec<String> = d
                .iter()
                .map(|(p, vs)| {
                    format!(
                        "{p}: {}",
                        vs.iter().map(|v| label(*v)).collect::<Vec<_>>().join(" ")
                    )
                })
                .collect();
            format!("example, {name}: {}", per.join(" | "))
        };
        return vec![
            format!(
                "example (3 nodes, seed {seed}, 3 broadcasts 1, 2, 3 and their replies: 1001 answers 1, 1001001 answers 1001, and so on; each process's delivered payloads in order):"
            ),
            show("FIFO", &fd),
            show("causal", &cd),
            show("total", &td),
            format!(
                "under FIFO {} ({} causal violation(s) in all); under causal order no reply precedes what it answers, but the processes deliver concurrent messages in {} different sequences ({}); under total order all {} processes deliver one sequence",
                reply_first(&fd).unwrap_or_else(|| "a message precedes part of its causal past".into()),
                f.counts.causal,
                c.sequences,
                opposite(&cd).unwrap_or_else(|| "-".into()),
                n
            ),
        ];
    }
    vec!["example: no small run with both effects among 400 seeds".into()]
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 8 } else { 40 }).max(1);
    let (n, count) = (5, 30);
    let spread = Duration::from_millis(500);
    let until = Instant::from_millis(2500);
    progress.set_total(ORDERS.len() as u64 * u64::from(runs) + 1);
    let mut totals: Vec<Totals> = ORDERS.iter().map(|_| Totals::default()).collect();
    for r in 0..runs {
        let seed = run_seed(opts.seed, &[u64::from(r)]);
        for (k, order) in ORDERS.iter().enumerate() {
            let (m, _) = run_order(
                order,
                orders_config(n, seed, until),
                ReactiveBroadcasts::new(count, spread),
            );
            let t = &mut totals[k];
            t.fifo += m.counts.fifo;
            t.causal += m.counts.causal;
            t.total += m.counts.total_order;
            t.validity += m.counts.validity + m.counts.duplication + m.counts.creation;
            t.runs_diverged += usize::from(m.sequences > 1);
            t.sequences.push(m.sequences as f64);
            t.broadcasts += m.counts.messages;
            t.msgs_per_bcast
                .push(m.messages as f64 / m.counts.messages.max(1) as f64);
            t.background_per_s
                .push(m.background as f64 / until.as_secs_f64());
            t.latencies.extend(m.latencies);
            progress.advance(1);
        }
    }
    let notes_example = example(opts.seed);
    progress.advance(1);
    let names = [
        "FIFO (seq. numbers over eager rb)",
        "causal (waiting, vector clocks)",
        "total (consensus: Multi-Paxos log)",
    ];
    let mut rows = Vec::new();
    let mut lat = Vec::new();
    for (k, t) in totals.iter_mut().enumerate() {
        let mean_lat = mean(&t.latencies).unwrap_or(0.0);
        let p99 = percentile(&mut t.latencies, 0.99).unwrap_or(0.0);
        lat.push(mean_lat);
        rows.push(vec![
            json!(names[k]),
            json!(t.broadcasts),
            json!(t.fifo),
            json!(t.causal),
            json!(t.total),
            json!(t.runs_diverged),
            json!(mean(&t.sequences).unwrap_or(0.0)),
            json!(mean(&t.msgs_per_bcast).unwrap_or(0.0)),
            json!(mean(&t.background_per_s).unwrap_or(0.0)),
            json!(mean_lat),
            json!(p99),
        ]);
    }
    let (f, c, o) = (&totals[0], &totals[1], &totals[2]);
    let ok = f.fifo == 0
        && f.causal > 0
        && c.fifo == 0
        && c.causal == 0
        && c.total > 0
        && c.runs_diverged > 0
        && o.fifo == 0
        && o.causal == 0
        && o.total == 0
        && o.runs_diverged == 0
        && totals.iter().all(|t| t.validity == 0)
        && lat[2] > lat[1];
    let model = ModelHeader::new()
        .with("timing", "synchronous(delta=20ms)")
        .with("failures", "none")
        .with("links", "reliable, reordering, latency uniform 1..10ms")
        .with("n", n)
        .with(
            "workload",
            format!("{count} broadcasts at random nodes over {spread}, replies chained to depth 2"),
        )
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "broadcast-orders".into(),
        title: "one workload under FIFO, causal and total order: what each ordering permits".into(),
        model,
        columns: columns(&[
            ("order", "order"),
            ("broadcasts", "broadcasts"),
            ("fifo_violations", "fifo viol."),
            ("causal_violations", "causal viol."),
            ("total_order_violations", "total-order viol. (pairs)"),
            ("runs_diverged", "runs with divergent orders"),
            ("distinct_sequences", "distinct sequences/run"),
            ("msgs_per_broadcast", "msgs/bcast"),
            ("background_msgs_per_s", "background msgs/s"),
            ("latency_ms", "latency ms (mean)"),
            ("latency_p99_ms", "latency ms (p99)"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "FIFO order is not causal: FIFO broadcast delivered {} messages before their causal past; causal broadcast never did (0) but its processes delivered concurrent messages in different orders in {}/{runs} runs ({} pairs); total order via consensus made every process deliver one sequence (0 FIFO, causal and total-order violations) at a mean latency of {:.1} ms against {:.1} ms for causal",
                f.causal, c.runs_diverged, c.total, lat[2], lat[1]
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "CGR §3.9 (FIFO and causal broadcast: Broadcast with Sequence Number, Waiting Causal Broadcast) and §6.1 (consensus-based total-order broadcast); Kshemkalyani & Singhal ch. 6; Attiya & Welch ch. 8; Birman, Schiper & Stephenson 1991 (CBCAST, ABCAST)".into(),
        notes: {
            let mut notes = vec![
                "violations are counted by broadcast::properties::violations from the trace alone: a FIFO (causal) violation is a first delivery with an earlier message of its sender (of its causal past) not delivered yet; a total-order violation is a pair of messages two processes delivered in opposite orders; a causal violation of FIFO-only broadcast is a reply delivered before the message it answers".into(),
                "distinct sequences: how many different delivery sequences the 5 processes produced in one run (1 = everybody delivered the same sequence)".into(),
                "msgs/bcast counts every message sent per broadcast: eager reliable broadcast relays on first receipt: n(n-1) = 20 for n = 5 under FIFO (its rb relays to all), (n-1)² = 16 under causal (its relays skip the origin); total order counts Multi-Paxos's forwards, Accepts, Accepteds and Decides, but not its periodic background (Ω heartbeats and the leader's Sync, in their own column)".into(),
                "latency: from the broadcast request to each delivery, at every process (the sender's own included); total order pays a forward to the leader, a majority round trip and a Decide".into(),
            ];
            notes.extend(notes_example);
            notes
        },
        figures: vec![],
    })
}
