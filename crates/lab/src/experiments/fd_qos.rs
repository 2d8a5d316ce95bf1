//! `fd-qos`: the quality of service of φ accrual (and of fixed timeouts).
//!
//! Chen, Toueg and Aguilera judge a detector by how fast it detects a crash (T_D), how often it
//! makes a mistake (T_MR, the time between mistakes), how long a mistake lasts (T_M) and how
//! often a query is answered correctly (P_A). The φ accrual detector (Hayashibara et al.) turns
//! the heartbeat history into a suspicion level φ = −log10 P(a heartbeat is this late) and
//! suspects above a threshold: raising the threshold buys fewer mistakes with slower detection.

use crate::experiment::{
    columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Figure, Progress,
};
use crate::measure::{mean, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{Duration, Instant, ModelHeader, Ratio};
use synod_protocols::fd::{qos, FdView, Heartbeat, PhiAccrual};
use synod_sim::{Idle, Latency, SimConfig, Timing};

const PERIOD: Duration = Duration::from_millis(100);
const THRESHOLDS: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0];
const FIXED_MS: [u64; 3] = [150, 200, 300];
const WARMUP: Instant = Instant::from_secs(10);

fn config(seed: u64, secs: u64) -> SimConfig {
    let mut cfg = SimConfig::new(2, seed);
    // Stochastic delays without the asynchronous model's heavy tail: a normal jitter (capped
    // far above anything it produces), as in the QoS papers' experiments.
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(500),
    };
    cfg.network.latency = Latency::Normal {
        mean: Duration::from_millis(50),
        sd: Duration::from_millis(10),
    };
    cfg.network.loss = Ratio::from_ppm(10_000);
    cfg.until = Instant::from_secs(secs);
    cfg.faults
        .add_crash_spec(&format!("n1@{}s", secs - 10))
        .expect("valid crash spec");
    cfg
}

/// (T_D ms, mistakes per hour, T_MR s, T_M ms, P_A) averaged over runs.
type Row = (Option<f64>, f64, Option<f64>, Option<f64>, f64);

fn measure<P: FdView + Clone>(det: P, seeds: &[u64], secs: u64) -> Row {
    let (mut td, mut tmr, mut tm, mut pa) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut mistakes = 0u64;
    let observed_hours = seeds.len() as f64 * (secs - 20) as f64 / 3600.0;
    for &seed in seeds {
        let out = run_full(det.clone(), config(seed, secs), Idle);
        let q = qos::measure(&out.trace, WARMUP);
        // n0 watches n1: keep only n0's view by reading the per-pair mean (n1 crashes, so the
        // only correct observer is n0).
        if let Some(d) = q.detection_time_mean {
            td.push(d.as_millis_f64());
        }
        if let Some(d) = q.mistake_recurrence_mean {
            tmr.push(d.as_secs_f64());
        }
        if let Some(d) = q.mistake_duration_mean {
            tm.push(d.as_millis_f64());
        }
        pa.push(q.query_accuracy);
        mistakes += q.mistakes;
    }
    (
        mean(&td),
        mistakes as f64 / observed_hours,
        mean(&tmr),
        mean(&tm),
        mean(&pa).unwrap_or(1.0),
    )
}

fn cells(name: &str, param: String, r: &Row) -> Vec<serde_json::Value> {
    vec![
        json!(name),
        json!(param),
        r.0.map_or(json!(null), |v| json!(v)),
        json!(r.1),
        r.2.map_or(json!(null), |v| json!(v)),
        r.3.map_or(json!(null), |v| json!(v)),
        json!(r.4),
    ]
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 1 } else { 3 }).max(1);
    let secs: u64 = if opts.quick { 300 } else { 600 };
    let seeds: Vec<u64> = (0..runs as u64)
        .map(|r| run_seed(opts.seed, &[r]))
        .collect();
    progress.set_total((THRESHOLDS.len() + FIXED_MS.len()) as u64);
    let mut rows = Vec::new();
    let mut phi = Vec::new();
    for &t in &THRESHOLDS {
        let r = measure(PhiAccrual::new(PERIOD, t), &seeds, secs);
        rows.push(cells("phi-accrual", format!("φ > {t}"), &r));
        phi.push((t, r));
        progress.advance(1);
    }
    let mut fixed = Vec::new();
    for &ms in &FIXED_MS {
        let r = measure(
            Heartbeat::fixed(PERIOD, Duration::from_millis(ms)),
            &seeds,
            secs,
        );
        rows.push(cells("fixed timeout", format!("{ms}ms"), &r));
        fixed.push((ms as f64, r));
        progress.advance(1);
    }
    // Theory: T_D rises and the mistake rate falls as φ rises (monotone up to noise).
    let td: Vec<f64> = phi.iter().map(|(_, r)| r.0.unwrap_or(f64::NAN)).collect();
    let rate: Vec<f64> = phi.iter().map(|(_, r)| r.1).collect();
    let td_rises = td.windows(2).all(|w| w[1] >= w[0] * 0.97) && td[td.len() - 1] > td[0];
    let rate_falls =
        rate.windows(2).all(|w| w[1] <= w[0] * 1.10 + 1.0) && rate[rate.len() - 1] < rate[0];
    let ok = td_rises && rate_falls;
    let figure = plot(&phi, &fixed);
    let model = ModelHeader::new()
        .with(
            "timing",
            "stochastic: latency normal:50ms,10ms (capped at 500ms, never reached)",
        )
        .with("failures", format!("crash-stop (n1 at {}s)", secs - 10))
        .with("links", "fair-loss(loss=0.01,dup=0,reorder)")
        .with("fd", format!("heartbeat every {PERIOD}"))
        .with("n", 2)
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "fd-qos".into(),
        title: "detection time against mistakes: the φ accrual threshold trade-off".into(),
        model,
        columns: columns(&[
            ("detector", "detector"),
            ("setting", "setting"),
            ("t_d_ms", "T_D (ms)"),
            ("mistakes_per_hour", "mistakes/hour"),
            ("t_mr_s", "T_MR (s)"),
            ("t_m_ms", "T_M (ms)"),
            ("p_a", "P_A"),
        ]),
        rows,
        claim: Claim {
            text: "raising the φ threshold makes detection slower (T_D rises) and mistakes rarer (the mistake rate falls): no setting gets both".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Chen, Toueg & Aguilera 2002 (QoS of failure detectors); Hayashibara et al. 2004 (φ accrual); DDIA ch. 8 (timeouts)".into(),
        notes: vec![
            format!("{runs} run(s) of {secs}s per setting; n0 monitors n1, which crashes 10s before the end; metrics exclude the first {} while φ's window fills", Duration(WARMUP.0)),
            "mistakes come from jitter at low thresholds and from lost heartbeats (1%) at high ones: a lost heartbeat doubles the gap, about 7 standard deviations of the inter-arrival time, which only thresholds above about 12 tolerate".into(),
        ],
        figures: vec![figure],
    })
}

fn plot(phi: &[(f64, Row)], fixed: &[(f64, Row)]) -> Figure {
    use synod_viz::plot::{Plot, Series, SeriesStyle};
    let pts = |rows: &[(f64, Row)]| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|(_, r)| r.0.map(|td| (td, r.1.max(0.1))))
            .collect()
    };
    let mut plot = Plot::new(
        "failure detector trade-off: detection time against mistakes",
        "detection time T_D (ms)",
        "mistakes per hour (log)",
    )
    .series(Series {
        name: "φ accrual, threshold 1..12".into(),
        points: pts(phi),
        style: SeriesStyle::LineWithPoints,
    })
    .series(Series {
        name: "fixed timeout 150/200/300ms".into(),
        points: pts(fixed),
        style: SeriesStyle::Scatter,
    });
    plot.log_y = true;
    Figure {
        caption: "each point is one setting; moving right (slower detection) buys fewer mistakes"
            .into(),
        svg: plot.to_svg(),
    }
}
