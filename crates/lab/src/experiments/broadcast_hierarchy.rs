//! `broadcast-hierarchy`: the broadcast abstractions as a table of violation counts
//! (curriculum C.9, first table).
//!
//! n = 5 processes broadcast at random (a burst of broadcasts at random nodes, close enough
//! together that messages of one sender overtake each other on the reordering network), and
//! two of them (f = 2, so n > 2f still holds for Majority-Ack) crash *part-way through a
//! broadcast*: each of that step's messages leaves with probability ½, then the sender
//! crashes (it has already delivered its own message, for the algorithms that deliver at
//! once). Every algorithm runs the same R scenarios (same seeds, same requests, same crashes),
//! and [`synod_protocols::broadcast::properties::violations`] counts, per run, the messages
//! that break agreement and uniform agreement, the deliveries that break FIFO and causal order,
//! and the pairs of messages delivered in opposite orders; the table sums them over the R runs.
//!
//! Theory (CGR ch. 3): best-effort broadcast breaks agreement whenever a partial broadcast
//! reached some but not all correct processes; reliable broadcast (eager, or lazy with P)
//! never breaks agreement, but when the crashing sender's messages all failed to leave, it
//! delivered a message that no correct process ever will: uniform agreement broken (the
//! *non-uniform run*); uniform reliable broadcast (All-Ack with P, Majority-Ack with n > 2f)
//! breaks neither. None of them orders anything. Costs: eager rb and both urbs relay
//! everything, n(n − 1) messages per broadcast; lazy rb relays only for crashed senders, so
//! n − 1 without crashes, like best effort; Majority-Ack pays one more message delay. Gossip
//! (fanout 2, 3 rounds) bounds its cost but may miss processes. Up the orders (curriculum's
//! lower rows, algorithms of `broadcast::{fifo, causal, tob}`): FIFO broadcast over
//! Majority-Ack breaks no FIFO order but causal order; causal broadcast breaks no causal order
//! but total order; total-order broadcast over Multi-Paxos (consensus) breaks none.
//!
//! The helpers [`Scenario`] and [`scenario`] also build the catalog's default workload for the
//! broadcast entries (`synod sim beb`, …).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::LabError;
use serde_json::json;
use std::collections::BTreeMap;
use synod_core::{Duration, EventKind, Instant, ModelHeader, NodeId, Prng, Protocol, Trace};
use synod_protocols::broadcast::gossip::GossipMsg;
use synod_protocols::broadcast::properties::{violations, Counts};
use synod_protocols::broadcast::rb::LazyMsg;
use synod_protocols::broadcast::urb::UrbMsg;
use synod_protocols::broadcast::{causal::Causal, fifo::Fifo, tob::Tob};
use synod_protocols::broadcast::{
    AllAckUrb, BcastInd, BcastReq, Beb, Data, EagerRb, Gossip, LazyRb, MajorityAckUrb, MsgId,
};
use synod_protocols::consensus::multipaxos::MpMsg;
use synod_sim::{Crash, FaultSchedule, Scripted, SimConfig, Timing};

/// The heartbeat period of the embedded perfect detector (lazy rb, All-Ack urb).
pub const HB_PERIOD: Duration = Duration::from_millis(50);
/// The perfect detector's timeout: above period + Δ (50 + 20 ms).
pub const HB_TIMEOUT: Duration = Duration::from_millis(150);
/// Gossip's fanout.
pub const GOSSIP_FANOUT: usize = 2;
/// Gossip's rounds.
pub const GOSSIP_ROUNDS: u32 = 3;

/// The stream a scenario draws from (ASCII "BCAST").
const SCENARIO_STREAM: u64 = 0x42_4341_5354;

/// A broadcast workload: requests at random nodes, and senders that crash part-way through
/// one of their broadcasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// `(time, node, request)`, payloads distinct.
    pub requests: Vec<(Instant, NodeId, BcastReq)>,
    /// `(node, time)`: the node crashes part-way through its broadcast requested at `time`
    /// (one of `requests`).
    pub crashes: Vec<(NodeId, Instant)>,
}

impl Scenario {
    /// The requests as a workload.
    pub fn workload(&self) -> Scripted<BcastReq> {
        Scripted(self.requests.clone())
    }

    /// Adds the crashes to `faults`, each *partial*: it strikes the sender's step that handles
    /// the broadcast requested at that instant (the crash is queued first, at the same time),
    /// letting each message of that step leave with probability ½.
    pub fn add_crashes(&self, faults: &mut FaultSchedule) {
        for &(node, at) in &self.crashes {
            faults.crashes.push(Crash {
                node,
                at,
                partial_send: true,
            });
        }
    }
}

/// `broadcasts` broadcasts at random nodes at random instants of `[0, window)`, plus, for each
/// of `crashes` distinct random nodes, one more broadcast at a random instant of the window
/// part-way through which that node crashes. Drawn from `seed` alone (its own stream).
pub fn scenario(
    n: usize,
    seed: u64,
    broadcasts: usize,
    window: Duration,
    crashes: usize,
) -> Scenario {
    let mut prng = Prng::derive(seed, SCENARIO_STREAM);
    let w = window.as_nanos().max(1);
    let mut requests = Vec::new();
    let mut payload = 0u64;
    let mut next_payload = || {
        payload += 1;
        BcastReq::Broadcast(payload)
    };
    for _ in 0..broadcasts {
        let at = Instant(prng.below(w));
        let node = NodeId(prng.below(n as u64) as u32);
        requests.push((at, node, next_payload()));
    }
    let mut nodes: Vec<NodeId> = NodeId::all(n).collect();
    prng.shuffle(&mut nodes);
    let mut crash_list = Vec::new();
    for &node in nodes.iter().take(crashes.min(n)) {
        let at = Instant(prng.below(w));
        requests.push((at, node, next_payload()));
        crash_list.push((node, at));
    }
    requests.sort_by_key(|(at, node, _)| (*at, *node));
    Scenario {
        requests,
        crashes: crash_list,
    }
}

/// The experiment's algorithms, in table order.
const ALGORITHMS: [&str; 9] = [
    "beb",
    "eager-rb",
    "lazy-rb (P)",
    "majority-ack-urb",
    "all-ack-urb (P)",
    "gossip",
    "fifo-urb",
    "causal (eager rb)",
    "tob (multi-paxos)",
];

const N: usize = 5;
const F: usize = 2;
const BROADCASTS: usize = 8;
/// The window the experiment's broadcasts are drawn in (see [`scenario`]).
pub const WINDOW: Duration = Duration::from_millis(40);

fn config(seed: u64, crashes: &Scenario) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg.until = Instant::from_millis(1_500);
    crashes.add_crashes(&mut cfg.faults);
    cfg
}

/// What one algorithm gave over the runs of one scenario kind.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    counts: Counts,
    /// Data messages sent (the detector's heartbeats aside).
    data_msgs: u64,
    /// Broadcasts made.
    broadcasts: u64,
    /// Sum of delivery latencies (ns) and their number, over (message, correct process).
    latency_ns: u128,
    latencies: u64,
    /// Deliveries at correct processes of messages broadcast by correct processes, and the
    /// number there would be if every such message reached every correct process.
    delivered: u64,
    expected: u64,
}

impl Tally {
    fn add<P>(&mut self, trace: &Trace<P>, is_data: fn(&P::Msg) -> bool)
    where
        P: Protocol<Request = BcastReq, Indication = BcastInd>,
    {
        let c = violations(trace);
        let t = &mut self.counts;
        t.messages += c.messages;
        t.deliveries += c.deliveries;
        t.validity += c.validity;
        t.duplication += c.duplication;
        t.creation += c.creation;
        t.agreement += c.agreement;
        t.uniform_agreement += c.uniform_agreement;
        t.fifo += c.fifo;
        t.causal += c.causal;
        t.total_order += c.total_order;
        let n = trace.facts.n;
        let mut seq = vec![0u64; n];
        let mut sent_at: BTreeMap<MsgId, Instant> = BTreeMap::new();
        let mut seen: BTreeMap<(NodeId, MsgId), ()> = BTreeMap::new();
        for e in &trace.events {
            match &e.kind {
                EventKind::Send { msg, .. } if is_data(msg) => self.data_msgs += 1,
                EventKind::Request { node, .. } => {
                    seq[node.index()] += 1;
                    let id = MsgId {
                        origin: *node,
                        seq: seq[node.index()],
                    };
                    sent_at.insert(id, e.time);
                    self.broadcasts += 1;
                }
                EventKind::Indication {
                    node,
                    ind: BcastInd::Deliver { id, .. },
                } if trace.facts.correct(*node) && seen.insert((*node, *id), ()).is_none() => {
                    if let Some(at) = sent_at.get(id) {
                        self.latency_ns += u128::from(e.time.saturating_since(*at).as_nanos());
                        self.latencies += 1;
                        if trace.facts.correct(id.origin) {
                            self.delivered += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let correct = NodeId::all(n).filter(|p| trace.facts.correct(*p)).count() as u64;
        let by_correct = sent_at
            .keys()
            .filter(|m| trace.facts.correct(m.origin))
            .count() as u64;
        self.expected += correct * by_correct;
    }

    fn msgs_per_broadcast(&self) -> f64 {
        self.data_msgs as f64 / self.broadcasts.max(1) as f64
    }

    fn latency_ms(&self) -> Option<f64> {
        (self.latencies > 0).then(|| self.latency_ns as f64 / self.latencies as f64 / 1e6)
    }

    fn delivery_ratio(&self) -> f64 {
        self.delivered as f64 / self.expected.max(1) as f64
    }
}

/// Runs algorithm `which` over `runs` scenarios (with or without the two crashes).
fn measure(which: &str, runs: u32, base: u64, crash: bool) -> Tally {
    let mut tally = Tally::default();
    for r in 0..u64::from(runs) {
        let seed = run_seed(base, &[r, u64::from(crash)]);
        let sc = scenario(N, seed, BROADCASTS, WINDOW, if crash { F } else { 0 });
        let cfg = config(seed, &sc);
        match which {
            "beb" => tally.add(&run_full(Beb, cfg, sc.workload()).trace, |_: &Data| true),
            "eager-rb" => tally.add(&run_full(EagerRb, cfg, sc.workload()).trace, |_| true),
            "lazy-rb (P)" => tally.add(
                &run_full(LazyRb::new(HB_PERIOD, HB_TIMEOUT), cfg, sc.workload()).trace,
                LazyMsg::is_data,
            ),
            "majority-ack-urb" => tally.add(
                &run_full(MajorityAckUrb::new(), cfg, sc.workload()).trace,
                UrbMsg::is_data,
            ),
            "all-ack-urb (P)" => tally.add(
                &run_full(AllAckUrb::new(HB_PERIOD, HB_TIMEOUT), cfg, sc.workload()).trace,
                UrbMsg::is_data,
            ),
            "gossip" => tally.add(
                &run_full(
                    Gossip::new(GOSSIP_FANOUT, GOSSIP_ROUNDS),
                    cfg,
                    sc.workload(),
                )
                .trace,
                |_: &GossipMsg| true,
            ),
            "fifo-urb" => tally.add(
                &run_full(Fifo::new(MajorityAckUrb::new()), cfg, sc.workload()).trace,
                UrbMsg::is_data,
            ),
            "causal (eager rb)" => {
                tally.add(&run_full(Causal::new(), cfg, sc.workload()).trace, |_| true)
            }
            "tob (multi-paxos)" => tally.add(
                &run_full(Tob::new(), cfg, sc.workload()).trace,
                |m: &MpMsg| !matches!(m, MpMsg::Fd(_)),
            ),
            other => unreachable!("unknown algorithm {other}"),
        }
    }
    tally
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 50 } else { 200 })
        .max(1);
    progress.set_total(ALGORITHMS.len() as u64);
    let mut rows = Vec::new();
    let mut results = BTreeMap::new();
    for (i, name) in ALGORITHMS.iter().enumerate() {
        let base = run_seed(opts.seed, &[0]);
        let crash = measure(name, runs, base, true);
        let calm = measure(name, runs, base, false);
        let c = crash.counts;
        rows.push(vec![
            json!(name),
            json!(c.agreement),
            json!(c.uniform_agreement),
            json!(c.fifo),
            json!(c.causal),
            json!(c.total_order),
            json!(round2(calm.msgs_per_broadcast())),
            json!(round2(crash.msgs_per_broadcast())),
            json!(calm.latency_ms().map(round2)),
            json!(round2(calm.delivery_ratio())),
        ]);
        results.insert(i, (crash, calm));
        progress.advance(1);
    }
    let get = |i: usize| results[&i];
    let (beb, eager, lazy, majority, all_ack, gossip) =
        (get(0), get(1), get(2), get(3), get(4), get(5));
    let (fifo, causal, tob) = (get(6), get(7), get(8));
    let nn = (N * (N - 1)) as f64;
    let near = |x: f64, target: f64| (x - target).abs() <= 0.05 * target;
    let safety_clean = results.values().all(|(c, k)| {
        c.counts.duplication + c.counts.creation + k.counts.duplication + k.counts.creation == 0
    });
    let ok = beb.0.counts.agreement > 0
        && eager.0.counts.agreement == 0
        && lazy.0.counts.agreement == 0
        && eager.0.counts.uniform_agreement > 0
        && lazy.0.counts.uniform_agreement > 0
        && majority.0.counts.uniform_agreement == 0
        && all_ack.0.counts.uniform_agreement == 0
        && [beb.1, eager.1, lazy.1, majority.1, all_ack.1]
            .iter()
            .all(|t| t.counts.validity + t.counts.agreement + t.counts.uniform_agreement == 0)
        && near(eager.1.msgs_per_broadcast(), nn)
        && near(lazy.1.msgs_per_broadcast(), (N - 1) as f64)
        && near(beb.1.msgs_per_broadcast(), (N - 1) as f64)
        && safety_clean
        && fifo.0.counts.fifo == 0
        && fifo.0.counts.uniform_agreement == 0
        && causal.0.counts.causal == 0
        && causal.0.counts.total_order > 0
        && tob.0.counts.total_order == 0
        && tob.0.counts.uniform_agreement == 0;
    let model = ModelHeader::new()
        .with("timing", "synchronous(delta=20ms)")
        .with(
            "failures",
            format!("crash-stop: {F} senders crash part-way through a broadcast (each message leaves with p=1/2)"),
        )
        .with("links", "reliable (perfect), latency uniform 1..10ms, reordering")
        .with("detector", format!("P: heartbeats every {HB_PERIOD}, timeout {HB_TIMEOUT} (lazy rb, all-ack urb)"))
        .with("n", N)
        .with("broadcasts", format!("{BROADCASTS} at random nodes within {WINDOW}, + 1 per crashing sender"))
        .with("runs", runs)
        .with("seed", opts.seed);
    let text = format!(
        "Over {runs} runs with {F} senders crashing mid-broadcast (n = {N}): best-effort broadcast breaks agreement ({} messages) while eager and lazy reliable broadcast never do ({} and {}), yet both deliver non-uniformly ({} and {} messages delivered by a crashed process only); Majority-Ack and All-Ack uniform reliable broadcast have 0 uniform violations ({} and {}); without crashes eager rb costs {:.1} messages per broadcast (n(n-1) = {}) and lazy rb {:.1} (n-1 = {}), at {:.1} ms mean latency against {:.1} ms for Majority-Ack (one more message delay); gossip delivers {:.1}% of what it should at {:.1} messages per broadcast; up the orders, FIFO over Majority-Ack has {} FIFO violations (and {} causal ones: rare here, as Majority-Ack is slow to create causal chains; not judged), causal broadcast {} causal but {} total-order violations, and total-order broadcast over Multi-Paxos {} ({} messages per broadcast)",
        beb.0.counts.agreement,
        eager.0.counts.agreement,
        lazy.0.counts.agreement,
        eager.0.counts.uniform_agreement,
        lazy.0.counts.uniform_agreement,
        majority.0.counts.uniform_agreement,
        all_ack.0.counts.uniform_agreement,
        eager.1.msgs_per_broadcast(),
        N * (N - 1),
        lazy.1.msgs_per_broadcast(),
        N - 1,
        lazy.1.latency_ms().unwrap_or(0.0),
        majority.1.latency_ms().unwrap_or(0.0),
        gossip.1.delivery_ratio() * 100.0,
        gossip.1.msgs_per_broadcast(),
        fifo.0.counts.fifo,
        fifo.0.counts.causal,
        causal.0.counts.causal,
        causal.0.counts.total_order,
        tob.0.counts.total_order,
        round2(tob.1.msgs_per_broadcast()),
    );
    Ok(ExperimentReport {
        id: "broadcast-hierarchy".into(),
        title: "The broadcast hierarchy: beb < rb < urb < FIFO < causal < total order, counted in violations and messages".into(),
        model,
        columns: columns(&[
            ("algorithm", "algorithm"),
            ("agreement", "agreement"),
            ("uniform_agreement", "uniform_agr"),
            ("fifo", "fifo"),
            ("causal", "causal"),
            ("total_order", "total_order"),
            ("msgs_per_bcast", "msgs/bcast"),
            ("msgs_per_bcast_crash", "msgs/bcast (crash)"),
            ("latency_ms", "latency ms"),
            ("delivery_ratio", "delivered"),
        ]),
        rows,
        claim: Claim {
            text,
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "CGR §3.2-3.4 (beb, eager and lazy rb, all-ack and majority-ack urb), §3.7 (probabilistic broadcast), §3.8-3.9 (FIFO, causal); Hadzilacos & Toueg 1994; AW ch. 8".into(),
        notes: vec![
            format!("violation columns: sums over the {runs} crash runs of properties::violations: agreement and uniform_agr count messages some (correct / any) process delivered but some correct process never did; fifo and causal count deliveries made before a message of the sender's earlier broadcasts / of the causal past; total_order counts pairs of messages two processes delivered in opposite orders"),
            "msgs/bcast: data messages (heartbeats of the embedded detector excluded) per broadcast request, without crashes and with the two crashes; latency: mean time from a broadcast request to each delivery at a correct process, the sender's own included, without crashes; delivered: deliveries at correct processes of correct senders' messages over all there should be, without crashes (below 1 only for gossip)".into(),
            format!("gossip: fanout {GOSSIP_FANOUT}, {GOSSIP_ROUNDS} rounds; no agreement promised, its violations are misses"),
            "a uniform-agreement violation of rb is the non-uniform run: the crashing sender delivered its message at once and none of its sends left (probability 1/16 per crash with n = 5)".into(),
            "each algorithm runs the same scenarios (seeds, requests, crash times); the first six rows promise no order; fifo-urb is FIFO broadcast over Majority-Ack, causal is Waiting Causal Broadcast over an inlined eager rb (not uniform), tob is total-order broadcast over Multi-Paxos (its msgs/bcast counts every Multi-Paxos message but the leader detector's); broadcast-orders studies the orders further".into(),
        ],
        figures: vec![],
    })
}
