//! `fd-timeouts`: fixed against increasing timeouts under partial synchrony.
//!
//! Before GST delays are chaotic; after it every message arrives within Δ. A heartbeat
//! detector with a fixed timeout shorter than period + Δ keeps suspecting correct processes
//! forever (it is not ◇P); a long enough fixed timeout stops after GST (◇P here, but only
//! because we guessed the bound); the increasing timeout of Chandra and Toueg (CGR's
//! "Increasing Timeout") raises the timeout on every false suspicion, so its mistakes stop
//! after GST without knowing Δ: eventual strong accuracy.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{mean, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{check_all, Duration, Instant, ModelHeader};
use synod_protocols::fd::{properties as fp, qos, Heartbeat, Increase};
use synod_sim::{Idle, Latency, SimConfig, Timing};

const N: usize = 5;
const PERIOD: Duration = Duration::from_millis(10);
const DELTA: Duration = Duration::from_millis(20);
const GST: Instant = Instant::from_millis(500);
const CRASH: Instant = Instant::from_millis(1500);
const END: Instant = Instant::from_millis(3000);
const SETTLE: Instant = Instant::from_millis(2250);

fn detectors() -> Vec<(&'static str, Heartbeat)> {
    vec![
        (
            "fixed-10ms",
            Heartbeat::fixed(PERIOD, Duration::from_millis(10)),
        ),
        (
            "fixed-50ms",
            Heartbeat::fixed(PERIOD, Duration::from_millis(50)),
        ),
        (
            "increasing (10ms, +10ms)",
            Heartbeat::eventually_perfect(
                PERIOD,
                Duration::from_millis(10),
                Increase::Add(Duration::from_millis(10)),
            ),
        ),
        (
            "increasing (10ms, x2)",
            Heartbeat::eventually_perfect(PERIOD, Duration::from_millis(10), Increase::Double),
        ),
    ]
}

fn config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.timing = Timing::PartiallySynchronous {
        gst: GST,
        delta: DELTA,
    };
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: DELTA,
    };
    cfg.until = END;
    cfg.faults
        .add_crash_spec(&format!("n{}@{}", N - 1, Duration(CRASH.0)))
        .expect("valid crash spec");
    cfg
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 5 } else { 20 }).max(1);
    let dets = detectors();
    progress.set_total(dets.len() as u64 * runs as u64);
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    let mut settled = Vec::new();
    for (i, (name, det)) in dets.iter().enumerate() {
        let props = vec![
            fp::strong_completeness(),
            fp::strong_accuracy(),
            fp::eventual_strong_accuracy(Some(SETTLE)),
        ];
        let (mut before, mut after, mut late) = (0u64, 0u64, 0u64);
        let mut held = [0u32; 3];
        let mut detection = Vec::new();
        for r in 0..runs as u64 {
            let out = run_full(*det, config(run_seed(opts.seed, &[i as u64, r])), Idle);
            let t = &out.trace;
            before += fp::false_suspicions(t, Instant::ZERO, GST);
            after += fp::false_suspicions(t, GST, Instant::MAX);
            late += fp::false_suspicions(t, SETTLE, Instant::MAX);
            for (k, rep) in check_all(&props, t).iter().enumerate() {
                if !rep.verdict.is_violated() {
                    held[k] += 1;
                }
            }
            if let Some(d) = qos::measure(t, Instant::ZERO).detection_time_mean {
                detection.push(d.as_millis_f64());
            }
            progress.advance(1);
        }
        let all = runs;
        let class = if held[0] == all && held[1] == all {
            "P"
        } else if held[0] == all && held[2] == all {
            "◇P"
        } else {
            "none (not ◇P)"
        };
        classes.push(class);
        settled.push(late);
        rows.push(vec![
            json!(name),
            json!(before as f64 / runs as f64),
            json!(after as f64 / runs as f64),
            json!(late as f64 / runs as f64),
            mean(&detection).map_or(json!(null), |d| json!(d)),
            json!(format!("{}/{}", held[2], all)),
            json!(class),
        ]);
    }
    // Theory: the short fixed timeout is not ◇P; the long fixed one and both increasing ones are.
    let ok = classes[0].starts_with("none")
        && classes[1..].iter().all(|c| *c == "◇P" || *c == "P")
        && settled[2] == 0
        && settled[3] == 0;
    let model = ModelHeader::new()
        .with(
            "timing",
            format!(
                "partially-synchronous(gst={},delta={DELTA})",
                Duration(GST.0)
            ),
        )
        .with(
            "failures",
            format!("crash-stop (n{} at {})", N - 1, Duration(CRASH.0)),
        )
        .with(
            "links",
            "fair-loss(loss=0,dup=0,reorder) latency=uniform:1ms..20ms",
        )
        .with("fd", format!("heartbeat every {PERIOD}"))
        .with("n", N)
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "fd-timeouts".into(),
        title: "fixed and increasing timeouts under partial synchrony".into(),
        model,
        columns: columns(&[
            ("detector", "detector"),
            ("false_susp_before_gst", "false susp. before GST"),
            ("false_susp_after_gst", "after GST"),
            ("false_susp_last_quarter", "in the last quarter"),
            ("detection_time_ms", "detection time (ms)"),
            ("eventually_accurate_runs", "eventually accurate runs"),
            ("class_achieved", "class achieved"),
        ]),
        rows,
        claim: Claim {
            text: "a fixed timeout below period + Δ never stops suspecting correct processes (not ◇P), while increasing the timeout on each false suspicion stops the mistakes after GST without knowing Δ (◇P)".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "CGR ch. 2 (eventually perfect failure detector, increasing timeout); Chandra & Toueg 1996; Lynch ch. 25 (partial synchrony)".into(),
        notes: vec![
            format!("false suspicions are averaged per run; 'last quarter' counts those starting after {}; detection time is the mean time from n{}'s crash to each correct node's final suspicion", Duration(SETTLE.0), N - 1),
            "class: P = strong completeness + strong accuracy on every run; ◇P = strong completeness + eventual strong accuracy (no correct process suspected after the settle time) on every run".into(),
        ],
        figures: vec![],
    })
}
