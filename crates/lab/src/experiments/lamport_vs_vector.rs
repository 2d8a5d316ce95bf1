//! `lamport-vs-vector`: happened-before against Lamport clocks and vector clocks.
//!
//! Lamport's clock condition says `a → b ⇒ L(a) < L(b)`; its converse fails, because scalar
//! counters order concurrent events too. Vector clocks (Fidge 1988, Mattern 1988) satisfy the
//! strong clock condition `a → b ⇔ V(a) < V(b)`, so they detect concurrency exactly, at `n`
//! integers per message; Charron-Bost (1991) showed that nothing shorter than `n` entries does
//! it in general.
//!
//! Each run is random asynchronous chatter: actions at random nodes and times, each either a
//! send to a random peer or a local event, every receive an event too. The protocol wears both
//! clocks at once (`Clocked<Chatter, (LamportClock, VectorClock)>`), so both are judged on the
//! very same events. The ground truth is computed from the trace alone
//! ([`synod_core::causality`]), and every pair of events is compared.

use crate::experiment::{
    columns, fmt_float, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Figure, Progress,
};
use crate::measure::{run_full, run_seed};
use crate::LabError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use synod_core::causality::{Causality, Order};
use synod_core::clock::{audit, stamps, ClockAudit};
use synod_core::{
    Clocked, Ctx, Duration, EventKind, Instant, LamportClock, LogicalClock, ModelHeader, NodeId,
    Prng, Protocol, Trace, VectorClock,
};
use synod_sim::{Requests, SimConfig, Timing, Workload, WorkloadEnv};

const SIZES: [usize; 5] = [2, 4, 8, 16, 32];
/// Stamped events aimed at per run (actions are two thirds of them: half the actions send,
/// and each delivered message is a receive event).
const EVENTS: u32 = 200;
const HORIZON: Duration = Duration::from_secs(2);

/// Random chatter: a request (an action) makes a node either send to a random peer or do a
/// local event; every receive is an event the layer above sees.
#[derive(Clone, Copy, Debug)]
pub struct Chatter;

/// What a chatter node tells the layer above: its events other than sends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChatterEvent {
    /// A local (internal) event.
    Local,
    /// A message from this node arrived.
    Received(NodeId),
}

impl Protocol for Chatter {
    type Msg = ();
    type Timer = ();
    type Request = ();
    type Indication = ChatterEvent;
    type State = ();
    type Durable = ();

    fn init(&self, _: &mut Ctx<'_, Self>) {}

    fn on_message(&self, _: &mut (), from: NodeId, _: (), ctx: &mut Ctx<'_, Self>) {
        ctx.indicate(ChatterEvent::Received(from));
    }

    fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}

    fn on_request(&self, _: &mut (), _: (), ctx: &mut Ctx<'_, Self>) {
        if ctx.n() > 1 && ctx.choose(2) == 0 {
            let to = ctx.random_peer();
            ctx.send(to, ());
        } else {
            ctx.indicate(ChatterEvent::Local);
        }
    }
}

/// `count` actions at uniformly random nodes and times in the first 80% of the run.
struct Actions {
    count: u32,
}

impl<P: Protocol<Request = ()>> Workload<P> for Actions {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        let span = (env.until.0 / 5 * 4).max(1);
        for _ in 0..self.count {
            let at = Instant(prng.below(span));
            let node = NodeId(prng.below(env.n as u64) as u32);
            out.push((at, node, ()));
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }
}

type Both = Clocked<Chatter, (LamportClock, VectorClock)>;

fn run_once(n: usize, actions: u32, seed: u64) -> Trace<Both> {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.until = Instant(HORIZON.as_nanos());
    run_full(Clocked::new(Chatter), cfg, Actions { count: actions }).trace
}

/// One run's audits (Lamport, vector) and the mean stamp bytes per message (Lamport, vector).
fn measure(trace: &Trace<Both>) -> (ClockAudit, ClockAudit, f64, f64) {
    let truth = Causality::of(trace);
    let st = stamps(trace);
    let l = audit(&truth, &st, |a, b| LamportClock::precedes(&a.0, &b.0));
    let v = audit(&truth, &st, |a, b| VectorClock::precedes(&a.1, &b.1));
    let (mut msgs, mut lb, mut vb) = (0usize, 0usize, 0usize);
    for e in &trace.events {
        if let EventKind::Send { msg, .. } = &e.kind {
            msgs += 1;
            lb += LamportClock::wire_bytes(&msg.0 .0);
            vb += VectorClock::wire_bytes(&msg.0 .1);
        }
    }
    let per = |b: usize| b as f64 / msgs.max(1) as f64;
    (l, v, per(lb), per(vb))
}

fn pct(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        100.0 * num as f64 / den as f64
    }
}

/// A small run drawn with the causal view of a delivery in its middle.
fn figure(seed: u64) -> Figure {
    let trace = run_once(4, 16, seed);
    let truth = Causality::of(&trace);
    let delivers: Vec<usize> = trace
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, EventKind::Deliver { .. }))
        .map(|(i, _)| i)
        .collect();
    let focus = delivers.get(delivers.len() / 2).copied().unwrap_or(0);
    let concurrent = truth
        .relative_to(focus)
        .iter()
        .filter(|r| **r == Some(Order::Concurrent))
        .count();
    Figure {
        caption: format!(
            "a 4-node run of 16 actions; halos: the causal past (blue), causal future (magenta) and the {concurrent} events concurrent (yellow) with delivery #{focus}; hover a message for its (Lamport, vector) stamp"
        ),
        svg: synod_viz::lamport::lamport_svg(
            &trace,
            &synod_viz::lamport::DiagramOptions {
                title: format!("lamport-vs-vector: causal view of event #{focus}"),
                causal: Some(focus),
                ..Default::default()
            },
        ),
    }
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 5 } else { 40 }).max(1);
    let actions = EVENTS * 2 / 3;
    progress.set_total(SIZES.len() as u64 * runs as u64);
    let mut rows = Vec::new();
    let mut lamport_all = ClockAudit::default();
    let mut vector_all = ClockAudit::default();
    let mut bytes_ok = true;
    let mut shares = Vec::new();
    for (i, &n) in SIZES.iter().enumerate() {
        let (mut l, mut v) = (ClockAudit::default(), ClockAudit::default());
        let (mut lb, mut vb) = (0.0, 0.0);
        for r in 0..runs {
            let trace = run_once(n, actions, run_seed(opts.seed, &[i as u64, r as u64]));
            let (la, va, lbytes, vbytes) = measure(&trace);
            l.add(&la);
            v.add(&va);
            lb += lbytes / runs as f64;
            vb += vbytes / runs as f64;
            bytes_ok &= lbytes == 8.0 && vbytes == 8.0 * n as f64;
            progress.advance(1);
        }
        lamport_all.add(&l);
        vector_all.add(&v);
        let conc = pct(l.concurrent_pairs, l.pairs);
        let given = 100.0 * l.concurrent_given_ordered().unwrap_or(0.0);
        shares.push((
            n,
            conc,
            given,
            pct(l.missed_concurrency, l.concurrent_pairs),
        ));
        rows.push(vec![
            json!(n),
            json!(l.events as f64 / runs as f64),
            json!(conc),
            json!(pct(l.missed_concurrency, l.concurrent_pairs)),
            json!(given),
            json!(l.false_orderings),
            json!(l.violations),
            json!(v.false_orderings),
            json!(v.missed_concurrency),
            json!(lb),
            json!(vb),
        ]);
    }
    let (first, last) = (shares[0], shares[shares.len() - 1]);
    let rising = last.1 > first.1 && last.2 > first.2;
    let ok = lamport_all.clock_condition()
        && lamport_all.false_orderings > 0
        && vector_all.strong_clock_condition()
        && vector_all.missed_concurrency == 0
        && rising
        && bytes_ok;
    let model = ModelHeader::new()
        .with("timing", "asynchronous")
        .with("failures", "none (clocks are orthogonal to failures)")
        .with(
            "links",
            "reliable, reordering, latency uniform 1..10ms with a heavy tail",
        )
        .with(
            "n",
            SIZES
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .with("events", format!("~{EVENTS} per run ({actions} actions)"))
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "lamport-vs-vector".into(),
        title: "Lamport clocks order concurrent events; vector clocks capture happened-before exactly".into(),
        model,
        columns: columns(&[
            ("n", "n"),
            ("events_per_run", "events/run"),
            ("concurrent_pairs_pct", "concurrent pairs %"),
            ("lamport_orders_concurrent_pct", "concurrent pairs L orders %"),
            ("p_concurrent_given_lamport_order_pct", "P(a||b | L(a)<L(b)) %"),
            ("lamport_false_orderings", "L false orders"),
            ("lamport_clock_condition_violations", "L violations"),
            ("vector_false_orderings", "V false orders"),
            ("vector_missed_concurrency", "V missed conc"),
            ("bytes_per_msg_lamport", "bytes/msg L"),
            ("bytes_per_msg_vector", "bytes/msg V"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "the clock condition holds for Lamport clocks ({} violations over {} causally ordered pairs) but its converse fails: of the pairs Lamport orders, {}% are concurrent at n={} and {}% at n={} (concurrent pairs {}% → {}%), {} false orderings in all; vector clocks characterise causality exactly ({} false orderings, {} missed concurrency, {} violations over {} pairs) at 8n bytes per message against 8",
                lamport_all.violations,
                lamport_all.causal_pairs,
                fmt_float(first.2),
                first.0,
                fmt_float(last.2),
                last.0,
                fmt_float(first.1),
                fmt_float(last.1),
                lamport_all.false_orderings,
                vector_all.false_orderings,
                vector_all.missed_concurrency,
                vector_all.violations,
                vector_all.pairs,
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lamport 1978; Fidge 1988; Mattern 1988; Charron-Bost 1991; Lynch ch. 18; Attiya & Welch ch. 6; Kshemkalyani & Singhal ch. 3; DDIA ch. 9".into(),
        notes: vec![
            format!("each run: {actions} actions at random nodes and times in the first 1.6 s; an action sends to a random peer or is a local event (even odds); the events compared are the sends, receives and local events, each stamped by Clocked<Chatter, (LamportClock, VectorClock)>, so both clocks see the same run"),
            "ground truth: happened-before computed from the trace alone (true vector timestamps over process order and send→deliver), independent of the clock layer; every pair of events is compared".into(),
            "L orders a pair when the counters differ (L(a)<L(b)); a false ordering is an ordered pair (a,b) with C(a)<C(b) but not a→b; missed concurrency: a concurrent pair the clock orders; a violation: a→b without C(a)<C(b)".into(),
            format!("bytes/msg: the stamp each message carries (8 for a Lamport counter, 8n for a vector), averaged over the messages sent; vector clock-condition violations: {}", vector_all.violations),
        ],
        figures: vec![figure(run_seed(opts.seed, &[99]))],
    })
}
