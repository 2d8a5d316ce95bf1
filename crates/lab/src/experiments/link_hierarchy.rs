//! `link-hierarchy`: what each rung of the link hierarchy costs and guarantees.
//!
//! Theory (CGR ch. 2): a perfect link built by retransmission over a fair-loss network pays,
//! per delivered message, a geometric number of transmissions: 1/(1-p) when only data is lost
//! (each attempt gets through with probability 1-p) and 1/(1-p)² when acknowledgements are
//! lost too (an attempt ends only when both its data and its ack get through). The fair-loss
//! network duplicates, a stubborn link delivers copies without end (its traffic grows with the
//! horizon), the perfect link removes duplicates but not reordering, and only the FIFO layer's
//! sequence numbers restore send order.

use crate::experiment::{
    columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Figure, Progress,
};
use crate::workloads::{Burst, LinkTraffic};
use crate::LabError;
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;
use synod_core::{
    Duration, EventKind, Instant, LinkDeliver, LinkSend, ModelHeader, Protocol, Ratio, Trace,
};
use synod_protocols::link::{self, properties as lp, PlMsg};
use synod_sim::{Latency, Recording, SimConfig, Simulation, Timing, Workload};

const LOSSES: [f64; 5] = [0.0, 0.1, 0.3, 0.5, 0.9];
const RETRANSMIT: Duration = Duration::from_millis(50);
const PERIOD: Duration = Duration::from_millis(100);
const DUP: f64 = 0.1;

fn run_seed(base: u64, row: usize, part: u64, run: u32) -> u64 {
    synod_core::stable_hash(&(base, row as u64, part, run))
}

/// Transmissions of data per delivered message for a perfect link over `count` messages.
fn retransmission_cost(p: f64, acks_lost: bool, count: u32, seed: u64) -> (u64, u64) {
    let mut cfg = SimConfig::new(2, seed);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(5),
    };
    cfg.network.latency = Latency::Constant(Duration::from_millis(5));
    cfg.network.loss = Ratio::from_f64(p).expect("loss in range");
    cfg.recording = Recording::HashOnly;
    // Long enough that every message gets through: the run ends early once all are acked.
    cfg.until = Instant(Duration::from_secs(3_600).as_nanos());
    let data_tx = Rc::new(Cell::new(0u64));
    let counter = Rc::clone(&data_tx);
    let mut sim = Simulation::new(link::PerfectLink::<u64>::new(RETRANSMIT), cfg)
        .expect("valid config")
        .with_workload(Burst {
            count,
            spacing: Duration::from_millis(1),
        })
        .with_observer(move |_, e| {
            if let EventKind::Send { msg, .. } = e {
                if msg.is_data() {
                    counter.set(counter.get() + 1);
                }
            }
        });
    if !acks_lost {
        sim = sim.with_loss_filter(|m: &PlMsg<u64>| m.is_data());
    }
    let out = sim.run();
    (data_tx.get(), out.stats.indications)
}

/// Runs `protocol` with reordering and duplication and returns its trace.
fn reorder_run<P: Protocol>(
    protocol: P,
    workload: impl Workload<P> + 'static,
    p: f64,
    until: Duration,
    seed: u64,
) -> Trace<P> {
    let mut cfg = SimConfig::new(3, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.network.latency = Latency::Exponential {
        mean: Duration::from_millis(5),
    };
    cfg.network.loss = Ratio::from_f64(p).expect("loss in range");
    cfg.network.duplicate = Ratio::from_f64(DUP).expect("dup in range");
    cfg.until = Instant(until.as_nanos());
    Simulation::new(protocol, cfg)
        .expect("valid config")
        .with_workload(workload)
        .run()
        .trace
}

fn copies_per_message<P>(trace: &Trace<P>) -> (u64, u64)
where
    P: Protocol<Request = LinkSend<u64>, Indication = LinkDeliver<u64>>,
{
    let deliveries = trace.indications().count() as u64;
    let dups = lp::count_duplicate_deliveries(trace);
    (deliveries, deliveries - dups)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let count: u32 = if opts.quick { 5_000 } else { 20_000 };
    let runs = opts.runs.unwrap_or(if opts.quick { 2 } else { 5 }).max(1);
    progress.set_total(LOSSES.len() as u64 * (2 + runs as u64));
    let burst = Burst {
        count: 200,
        spacing: Duration::from_millis(1),
    };
    let mut rows = Vec::new();
    let mut ok = true;
    let mut measured = (Vec::new(), Vec::new());
    for (i, &p) in LOSSES.iter().enumerate() {
        let (tx_a, del_a) = retransmission_cost(p, false, count, run_seed(opts.seed, i, 1, 0));
        progress.advance(1);
        let (tx_b, del_b) = retransmission_cost(p, true, count, run_seed(opts.seed, i, 2, 0));
        progress.advance(1);
        let cost_a = tx_a as f64 / del_a.max(1) as f64;
        let cost_b = tx_b as f64 / del_b.max(1) as f64;
        let theory_a = 1.0 / (1.0 - p);
        let theory_b = theory_a * theory_a;
        let err_a = (cost_a - theory_a).abs() / theory_a * 100.0;
        let err_b = (cost_b - theory_b).abs() / theory_b * 100.0;
        measured.0.push((p, cost_a));
        measured.1.push((p, cost_b));

        let (mut fl_dups, mut perfect_dups, mut pl_fifo, mut fifo_fifo) = (0u64, 0u64, 0u64, 0u64);
        let (mut st_short, mut st_long) = ((0u64, 0u64), (0u64, 0u64));
        for r in 0..runs {
            let s = |part| run_seed(opts.seed, i, part, r);
            let t = reorder_run(
                link::FairLossLink::<u64>::new(),
                LinkTraffic { per_node: 200 },
                p,
                Duration::from_secs(10),
                s(3),
            );
            fl_dups += lp::count_duplicate_deliveries(&t);
            for (until, acc) in [(5, &mut st_short), (10, &mut st_long)] {
                let t = reorder_run(
                    link::StubbornLink::<u64>::new(PERIOD),
                    burst,
                    p,
                    Duration::from_secs(until),
                    s(4),
                );
                let (d, distinct) = copies_per_message(&t);
                acc.0 += d;
                acc.1 += distinct;
            }
            let t = reorder_run(
                link::PerfectLink::<u64>::new(RETRANSMIT),
                burst,
                p,
                Duration::from_secs(20),
                s(5),
            );
            perfect_dups += lp::count_duplicate_deliveries(&t);
            pl_fifo += lp::count_fifo_violations(&t);
            let t = reorder_run(
                link::fifo_perfect_link::<u64>(RETRANSMIT),
                burst,
                p,
                Duration::from_secs(20),
                s(6),
            );
            fifo_fifo += lp::count_fifo_violations(&t);
            perfect_dups += lp::count_duplicate_deliveries(&t);
            progress.advance(1);
        }
        let copies_short = st_short.0 as f64 / st_short.1.max(1) as f64;
        let copies_long = st_long.0 as f64 / st_long.1.max(1) as f64;
        let row_ok = err_a <= 5.0
            && err_b <= 5.0
            && perfect_dups == 0
            && fifo_fifo == 0
            && fl_dups > 0
            && pl_fifo > 0
            && copies_long > 1.5 * copies_short;
        ok &= row_ok;
        rows.push(vec![
            json!(p),
            json!(cost_a),
            json!(theory_a),
            json!(err_a),
            json!(cost_b),
            json!(theory_b),
            json!(err_b),
            json!(fl_dups),
            json!(copies_short),
            json!(copies_long),
            json!(perfect_dups),
            json!(pl_fifo),
            json!(fifo_fifo),
        ]);
    }

    let figure = cost_figure(&measured.0, &measured.1);
    let model = ModelHeader::new()
        .with(
            "timing",
            "synchronous(delta=5ms) for cost; asynchronous(exp:5ms) for order",
        )
        .with("failures", "none")
        .with(
            "links",
            format!("fair-loss(loss=p,dup=0 for cost; dup={DUP} for order)"),
        )
        .with("n", "2 (cost), 3 (order)")
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "link-hierarchy".into(),
        title: "the cost and the guarantees of each link abstraction".into(),
        model,
        columns: columns(&[
            ("loss", "loss"),
            ("tx_per_delivery_data_loss", "tx/deliv(data lost)"),
            ("theory_data_loss", "1/(1-p)"),
            ("error_pct_data_loss", "err%"),
            ("tx_per_delivery_all_loss", "tx/deliv(data+acks lost)"),
            ("theory_all_loss", "1/(1-p)^2"),
            ("error_pct_all_loss", "err%"),
            ("dups_fair_loss", "dups(fair-loss)"),
            ("stubborn_copies_per_msg_5s", "stubborn copies/msg@5s"),
            ("stubborn_copies_per_msg_10s", "@10s"),
            ("dups_perfect", "dups(perfect)"),
            ("fifo_violations_perfect", "fifo-viol(perfect)"),
            ("fifo_violations_fifo", "fifo-viol(fifo)"),
        ]),
        rows,
        claim: Claim {
            text: "a perfect link pays 1/(1-p) transmissions per delivery (1/(1-p)^2 when acks are lost too, within 5%); fair-loss duplicates, stubborn traffic grows with time, perfect links never duplicate and only FIFO links keep send order".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "CGR ch. 2 (fair-loss, stubborn and perfect links); Lynch ch. 22 (data links); Tel ch. 3 (sliding window)".into(),
        notes: vec![
            format!("cost: a perfect link (retransmit every {RETRANSMIT}, ack each copy) sends {count} messages n0->n1 over a constant 5ms network; tx counts data transmissions only"),
            format!("order: {runs} seed(s) per row with dup={DUP} and exponential latency; stubborn copies/msg grows with the horizon (5s vs 10s, period {PERIOD}); fifo-viol counts deliveries after a later-sent message"),
        ],
        figures: vec![figure],
    })
}

fn cost_figure(data: &[(f64, f64)], all: &[(f64, f64)]) -> Figure {
    use synod_viz::plot::{Plot, Series, SeriesStyle};
    let curve = |f: fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..=90)
            .map(|i| i as f64 / 100.0)
            .map(|p| (p, f(p)))
            .collect()
    };
    let plot = Plot::new(
        "transmissions per delivered message",
        "loss probability p",
        "transmissions per delivery (log)",
    );
    let mut plot = plot
        .series(Series {
            name: "theory 1/(1-p)".into(),
            points: curve(|p| 1.0 / (1.0 - p)),
            style: SeriesStyle::Line,
        })
        .series(Series {
            name: "measured, data lost".into(),
            points: data.to_vec(),
            style: SeriesStyle::Scatter,
        })
        .series(Series {
            name: "theory 1/(1-p)^2".into(),
            points: curve(|p| 1.0 / ((1.0 - p) * (1.0 - p))),
            style: SeriesStyle::Line,
        })
        .series(Series {
            name: "measured, data and acks lost".into(),
            points: all.to_vec(),
            style: SeriesStyle::Scatter,
        });
    plot.log_y = true;
    Figure {
        caption: "perfect-link retransmission cost against theory".into(),
        svg: plot.to_svg(),
    }
}
