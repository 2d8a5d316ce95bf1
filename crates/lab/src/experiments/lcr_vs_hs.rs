//! `lcr-vs-hs`: message complexity of ring election, worst case against average case.
//!
//! LCR (Le Lann; Chang and Roberts) on a one-way ring sends each UID onward until it meets a
//! larger one. With UIDs decreasing along the direction of travel, the UID of the i-th node
//! travels n − i hops, so exactly n(n+1)/2 UID messages are sent; on a random ring the
//! expectation is n·H_n ≈ n ln n. Hirschberg–Sinclair probes both ways at doubling distances
//! and never exceeds 8n(1+⌈log2 n⌉) messages (Lynch §3.4), whatever the arrangement. The
//! announcement of the winner is not counted.

use crate::experiment::{
    columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Figure, Progress,
};
use crate::measure::{count_sends, loglog_slope, mean, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{Duration, Instant, ModelHeader, Prng};
use synod_protocols::election::{arrangement, HirschbergSinclair, HsMsg, Lcr, LcrMsg};
use synod_sim::{Idle, Latency, SimConfig, Timing};

const SIZES: [usize; 7] = [4, 8, 16, 32, 64, 128, 256];

fn config(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(10),
    };
    cfg.until = Instant::from_secs(3_600);
    cfg
}

fn lcr(uids: Vec<u64>, seed: u64) -> u64 {
    let n = uids.len();
    count_sends(Lcr::new(uids), config(n, seed), Idle, LcrMsg::is_id_message).0
}

fn hs(uids: Vec<u64>, seed: u64) -> u64 {
    let n = uids.len();
    count_sends(
        HirschbergSinclair::new(uids),
        config(n, seed),
        Idle,
        HsMsg::is_id_message,
    )
    .0
}

fn harmonic(n: usize) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

fn hs_bound(n: usize) -> u64 {
    let log = (n as f64).log2().ceil() as u64;
    8 * n as u64 * (1 + log)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 10 } else { 50 }).max(1);
    let sizes: &[usize] = if opts.quick { &SIZES[..6] } else { &SIZES };
    progress.set_total(sizes.len() as u64);
    let mut rows = Vec::new();
    let mut ok = true;
    let mut series: [Vec<(f64, f64)>; 5] = Default::default();
    for &n in sizes {
        let worst = lcr(
            arrangement::worst_case_lcr(n),
            run_seed(opts.seed, &[n as u64, 0]),
        );
        let exact = (n * (n + 1) / 2) as u64;
        let sorted = hs(arrangement::sorted(n), run_seed(opts.seed, &[n as u64, 1]));
        let (mut lcr_random, mut hs_random) = (Vec::new(), Vec::new());
        let mut hs_max = sorted;
        for r in 0..runs as u64 {
            let mut prng = Prng::new(run_seed(opts.seed, &[n as u64, 2, r]));
            let uids = arrangement::random(n, &mut prng);
            lcr_random.push(lcr(uids.clone(), prng.next_u64()) as f64);
            let h = hs(uids, prng.next_u64());
            hs_max = hs_max.max(h);
            hs_random.push(h as f64);
        }
        let bound = hs_bound(n);
        ok &= worst == exact && hs_max <= bound;
        let lr = mean(&lcr_random).unwrap_or(0.0);
        let hr = mean(&hs_random).unwrap_or(0.0);
        let nh = n as f64 * harmonic(n);
        for (s, y) in series
            .iter_mut()
            .zip([worst as f64, lr, sorted as f64, hr, bound as f64])
        {
            s.push((n as f64, y));
        }
        rows.push(vec![
            json!(n),
            json!(worst),
            json!(exact),
            json!(lr),
            json!(nh),
            json!(sorted),
            json!(hr),
            json!(hs_max),
            json!(bound),
        ]);
        progress.advance(1);
    }
    let slope = |i: usize| loglog_slope(&series[i]).map_or("-".to_string(), |s| format!("{s:.2}"));
    let notes = vec![
        format!(
            "fitted growth exponents (log-log slope over n): LCR worst {}, LCR random {}, HS sorted {}, HS random {}; n·H_n ≈ n ln n has slope ≈ 1.2 over this range",
            slope(0),
            slope(1),
            slope(2),
            slope(3)
        ),
        format!("random rows are means over {runs} random arrangements; hs_max is the largest HS count seen in any arrangement of that n"),
        "worst case for LCR: UIDs decrease along the direction of travel (uids[i] = n - i); counts are UID messages only (HS: outbound probes and inbound replies), not the announcement; they do not depend on timing".into(),
    ];
    let figure = plot(&series);
    let model = ModelHeader::new()
        .with("timing", "asynchronous (counts are timing-independent)")
        .with("failures", "none")
        .with("links", "reliable ring (LCR one-way, HS two-way)")
        .with("n", format!("{}..{}", sizes[0], sizes[sizes.len() - 1]))
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "lcr-vs-hs".into(),
        title: "ring election: LCR's Θ(n²) worst case against Hirschberg–Sinclair's O(n log n)".into(),
        model,
        columns: columns(&[
            ("n", "n"),
            ("lcr_worst", "LCR worst"),
            ("lcr_worst_theory", "n(n+1)/2"),
            ("lcr_random", "LCR random"),
            ("n_harmonic", "n·H_n"),
            ("hs_sorted", "HS sorted"),
            ("hs_random", "HS random"),
            ("hs_max", "HS max"),
            ("hs_bound", "8n(1+⌈log2 n⌉)"),
        ]),
        rows,
        claim: Claim {
            text: "LCR's worst case is exactly n(n+1)/2 messages, while Hirschberg–Sinclair stays within 8n(1+⌈log2 n⌉) on every arrangement".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lynch ch. 3 (LCR, HS, the Ω(n log n) lower bound) and ch. 15 (asynchronous rings); Attiya & Welch ch. 3".into(),
        notes,
        figures: vec![figure],
    })
}

fn plot(series: &[Vec<(f64, f64)>; 5]) -> Figure {
    use synod_viz::plot::{Plot, Series, SeriesStyle};
    let names = [
        "LCR worst",
        "LCR random (mean)",
        "HS sorted",
        "HS random (mean)",
        "HS bound 8n(1+⌈log2 n⌉)",
    ];
    let mut plot = Plot::new(
        "ring election: UID messages against n",
        "n (log)",
        "messages (log)",
    );
    for (name, pts) in names.iter().zip(series) {
        plot = plot.series(Series {
            name: name.to_string(),
            points: pts.clone(),
            style: if name.contains("bound") {
                SeriesStyle::Line
            } else {
                SeriesStyle::LineWithPoints
            },
        });
    }
    plot.log_x = true;
    plot.log_y = true;
    Figure {
        caption: "LCR's worst case grows like n², HS like n log n; LCR's average case is smaller than HS's by a constant factor".into(),
        svg: plot.to_svg(),
    }
}
