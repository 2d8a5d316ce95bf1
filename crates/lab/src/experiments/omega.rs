//! `omega`: the eventual leader detector Ω under partial synchrony.
//!
//! Ω promises only that *eventually* every correct process trusts the same correct process;
//! before that, several leaders may coexist. Built from an eventually perfect detector (trust
//! the smallest unsuspected id), it stabilizes once the detector stops making mistakes, some
//! time after GST. Here the smallest id is crashed from the start, so every process first
//! trusts a dead leader, then moves on.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{mean, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{check_all, Duration, Instant, ModelHeader, NodeId, Trace};
use synod_protocols::fd::{properties as fp, Increase, Omega, OmegaIndication};
use synod_sim::{Idle, Latency, SimConfig, Timing};

const N: usize = 5;
const GST: Instant = Instant::from_millis(300);
const END: Instant = Instant::from_millis(2000);

fn config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.timing = Timing::PartiallySynchronous {
        gst: GST,
        delta: Duration::from_millis(20),
    };
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(20),
    };
    cfg.until = END;
    cfg.faults
        .add_crash_spec("n0@0s")
        .expect("valid crash spec");
    cfg
}

fn omega() -> Omega {
    Omega::new(
        Duration::from_millis(10),
        Duration::from_millis(10),
        Increase::Add(Duration::from_millis(10)),
    )
}

/// Each node's trusted leader at the end (None if it never trusted anyone).
fn final_views(trace: &Trace<Omega>) -> Vec<Option<NodeId>> {
    let mut view = vec![None; N];
    for (_, _, node, OmegaIndication::Trust(l)) in trace.indications() {
        view[node.index()] = Some(*l);
    }
    view
}

/// When the correct nodes last changed their minds (the stabilization point), and on whom
/// they agree at the end.
fn stabilization(trace: &Trace<Omega>) -> (Instant, Option<NodeId>) {
    let mut last = Instant::ZERO;
    for (_, time, node, _) in trace.indications() {
        if trace.facts.correct(node) {
            last = time;
        }
    }
    let end = final_views(trace);
    let correct: Vec<Option<NodeId>> = NodeId::all(N)
        .filter(|p| trace.facts.correct(*p))
        .map(|p| end[p.index()])
        .collect();
    let agreed = correct.windows(2).all(|w| w[0] == w[1]);
    (last, if agreed { correct[0] } else { None })
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 20 } else { 100 })
        .max(1);
    progress.set_total(runs as u64);
    let mut after_gst = Vec::new();
    let mut good = 0;
    let mut timeline: Option<(Instant, u64, Trace<Omega>)> = None;
    for r in 0..runs as u64 {
        let out = run_full(omega(), config(run_seed(opts.seed, &[r])), Idle);
        let (last, leader) = stabilization(&out.trace);
        let prop = check_all(
            &[fp::eventual_leadership(Some(Instant::from_millis(1500)))],
            &out.trace,
        );
        let smallest_correct = NodeId(1);
        if leader == Some(smallest_correct) && !prop[0].verdict.is_violated() {
            good += 1;
        }
        after_gst.push(last.saturating_since(GST).as_millis_f64());
        // Show the run that took longest to stabilize: the most to see.
        if timeline.as_ref().is_none_or(|(t, _, _)| last > *t) {
            timeline = Some((last, r, out.trace));
        }
        progress.advance(1);
    }
    let (_, shown_run, trace) = timeline.expect("at least one run");
    // The table: every change of mind in the slowest run, with the agreement after it.
    let mut rows = Vec::new();
    let mut view: Vec<Option<NodeId>> = vec![None; N];
    for (_, time, node, OmegaIndication::Trust(l)) in trace.indications() {
        view[node.index()] = Some(*l);
        let correct: Vec<Option<NodeId>> = NodeId::all(N)
            .filter(|p| trace.facts.correct(*p))
            .map(|p| view[p.index()])
            .collect();
        let agree = correct[0].is_some() && correct.windows(2).all(|w| w[0] == w[1]);
        rows.push(vec![
            json!(time.as_secs_f64() * 1e3),
            json!(if time < GST { "before" } else { "after" }),
            json!(node.to_string()),
            json!(l.to_string()),
            json!(view
                .iter()
                .map(|v| v.map_or("-".to_string(), |l| l.to_string()))
                .collect::<Vec<_>>()
                .join(" ")),
            json!(agree),
        ]);
    }
    let max = after_gst.iter().cloned().fold(0.0, f64::max);
    let ok = good == runs;
    let model = ModelHeader::new()
        .with(
            "timing",
            format!("partially-synchronous(gst={},delta=20ms)", Duration(GST.0)),
        )
        .with(
            "failures",
            "crash-stop (n0, the smallest id, from the start)",
        )
        .with(
            "links",
            "fair-loss(loss=0,dup=0,reorder) latency=uniform:1ms..20ms",
        )
        .with(
            "fd",
            "Ω over ◇P: heartbeat every 10ms, timeout 10ms +10ms per false suspicion",
        )
        .with("n", N)
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "omega".into(),
        title: "Ω: every correct process eventually trusts the same correct process".into(),
        model,
        columns: columns(&[
            ("time_ms", "time (ms)"),
            ("vs_gst", "GST"),
            ("node", "node"),
            ("trusts", "now trusts"),
            ("views", "views n0..n4"),
            ("correct_agree", "correct agree"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "after GST all correct processes come to trust the same correct process (n1) in {good} of {runs} runs, {:.0}ms after GST on average (max {max:.0}ms)",
                mean(&after_gst).unwrap_or(0.0)
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "CGR ch. 2 (eventual leader election Ω); Chandra, Hadzilacos & Toueg 1996 (Ω is the weakest detector for consensus); Raynal, Communication and Agreement Abstractions (Ω-based consensus)".into(),
        notes: vec![
            format!("the table lists every change of trust in run {shown_run}, the slowest to stabilize; n0 is dead from the start, so every node first trusts it, then moves on; before GST false suspicions make nodes disagree"),
            "stabilization: the time of the last change of a correct node's trusted leader, minus GST (0 if it stabilized before GST)".into(),
        ],
        figures: vec![],
    })
}
