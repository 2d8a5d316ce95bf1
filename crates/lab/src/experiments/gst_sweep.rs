//! `gst-sweep`: consensus under partial synchrony, GST by GST.
//!
//! Dwork, Lynch and Stockmeyer's partial synchrony: delays are unbounded until an unknown
//! global stabilization time (GST), then bounded by Δ. A consensus protocol built for it must be
//! *safe whatever happens before GST*, and *decide within a bounded time after GST*, however
//! late GST comes. Two such protocols of synod, with the failure detector each one needs:
//! - Multi-Paxos led by Ω ([`MultiPaxos::new`]); a run has decided when every client whose
//!   server never crashed has been answered (one write per server, at time 0);
//! - Chandra–Toueg with ◇S ([`ChandraToueg::new`], ◇P from increasing heartbeat timeouts); a run
//!   has decided when every correct process has.
//!
//! For every GST, until GST the five servers are cut into minorities {n0, n1} | {n2, n3} | {n4}
//! (nobody can decide) and delays are chaotic; one server (chosen by the seed) crashes at GST/2
//! (at 0 when GST is 0); 2 % of messages are lost and 2 % duplicated throughout. The table gives,
//! per protocol and GST, the runs with a safety violation (agreement, validity, integrity; for
//! Multi-Paxos agreement per slot and the log-prefix check, on traces and on the final states)
//! and the decision time minus GST.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{check_all, Duration, Instant, ModelHeader, NodeId, Ratio};
use synod_protocols::consensus::chandra_toueg::{self, ChandraToueg, CtState, Proposals};
use synod_protocols::consensus::multipaxos::{self, MpInd, MpState, MultiPaxos};
use synod_protocols::register::RegisterReq;
use synod_sim::{Idle, Latency, Scripted, SimConfig, Timing};

const N: usize = 5;
const DELTA: Duration = Duration::from_millis(20);
const GSTS: [u64; 5] = [0, 1, 2, 5, 10];
/// How long after GST a run goes on.
const AFTER: Duration = Duration::from_secs(6);
/// The claimed bound on decision time minus GST.
const BOUND: Duration = Duration::from_millis(1000);

fn config(seed: u64, gst_s: u64) -> SimConfig {
    let gst = Instant::from_secs(gst_s);
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = gst + AFTER;
    cfg.timing = Timing::PartiallySynchronous { gst, delta: DELTA };
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: DELTA,
    };
    cfg.network.loss = Ratio::from_ppm(20_000);
    cfg.network.duplicate = Ratio::from_ppm(20_000);
    if gst_s > 0 {
        cfg.faults
            .add_partition_spec(&format!("n0,n1|n2,n3|n4@0s..{gst_s}s"))
            .expect("valid partition");
    }
    cfg.faults
        .add_crash_spec(&format!("n{}@{}ms", seed % N as u64, gst_s * 500))
        .expect("valid crash");
    cfg
}

/// One run's verdicts: did safety hold, and when (if ever) did it decide.
struct Outcome {
    safe: bool,
    decided: Option<Instant>,
}

fn multipaxos_run(seed: u64, gst_s: u64) -> Outcome {
    let writes = NodeId::all(N)
        .map(|p| {
            let client = u64::from(p.0);
            (
                Instant::ZERO,
                p,
                RegisterReq::Write {
                    client,
                    value: 100 + client,
                },
            )
        })
        .collect();
    let out = run_full(MultiPaxos::new(), config(seed, gst_s), Scripted(writes));
    let safe_trace = check_all(&multipaxos::safety_properties(), &out.trace)
        .iter()
        .all(|r| !r.verdict.is_violated());
    let states: Vec<Option<&MpState>> = out.states.iter().map(|s| s.as_ref()).collect();
    let safe = safe_trace && multipaxos::safety_violation(&states).is_none();
    let mut answered = [None; N];
    for (_, t, node, ind) in out.trace.indications() {
        if let MpInd::Client(_) = ind {
            answered[node.index()] = Some(t);
        }
    }
    let decided = NodeId::all(N)
        .filter(|p| out.trace.facts.correct(*p))
        .map(|p| answered[p.index()])
        .try_fold(Instant::ZERO, |acc, t| t.map(|t| acc.max(t)));
    Outcome { safe, decided }
}

fn chandra_toueg_run(seed: u64, gst_s: u64) -> Outcome {
    let ct = ChandraToueg::new(Proposals::Distinct);
    let out = run_full(ct.clone(), config(seed, gst_s), Idle);
    let safety = [
        chandra_toueg::agreement(),
        chandra_toueg::validity(ct.proposals.clone()),
        chandra_toueg::integrity(),
    ];
    let safe_trace = check_all(&safety, &out.trace)
        .iter()
        .all(|r| !r.verdict.is_violated());
    let states: Vec<Option<&CtState>> = out.states.iter().map(|s| s.as_ref()).collect();
    let safe = safe_trace && chandra_toueg::decisions_agree(&states);
    let times = chandra_toueg::decision_times(&out.trace);
    let decided = NodeId::all(N)
        .filter(|p| out.trace.facts.correct(*p))
        .map(|p| times[p.index()])
        .try_fold(Instant::ZERO, |acc, t| t.map(|t| acc.max(t)));
    Outcome { safe, decided }
}

fn median(mut xs: Vec<Duration>) -> Option<Duration> {
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied()
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 4 } else { 20 }).max(1) as u64;
    let gsts: &[u64] = if opts.quick { &GSTS[..3] } else { &GSTS };
    type RunFn = fn(u64, u64) -> Outcome;
    let protocols: [(&str, RunFn); 2] = [
        ("multi-paxos (Ω)", multipaxos_run),
        ("chandra-toueg (◇S)", chandra_toueg_run),
    ];
    progress.set_total(protocols.len() as u64 * gsts.len() as u64 * runs);
    let mut rows = Vec::new();
    let (mut violations, mut undecided) = (0, 0);
    let mut worst = Duration::ZERO;
    for (name, f) in protocols {
        for &g in gsts {
            let gst = Instant::from_secs(g);
            let (mut unsafe_runs, mut late) = (0, Vec::new());
            let mut never = 0;
            for r in 0..runs {
                let o = f(run_seed(opts.seed, &[g, r]), g);
                if !o.safe {
                    unsafe_runs += 1;
                }
                match o.decided {
                    Some(t) => late.push(t.saturating_since(gst)),
                    None => never += 1,
                }
                progress.advance(1);
            }
            violations += unsafe_runs;
            undecided += never;
            let max = late.iter().copied().max();
            if let Some(m) = max {
                worst = worst.max(m);
            }
            rows.push(vec![
                json!(name),
                json!(g),
                json!(runs),
                json!(unsafe_runs),
                json!(format!("{}/{runs}", runs - never)),
                json!(median(late).map(|d| d.as_millis_f64())),
                json!(max.map(|d| d.as_millis_f64())),
            ]);
        }
    }
    let ok = violations == 0 && undecided == 0 && worst < BOUND;
    let model = ModelHeader::new()
        .with(
            "timing",
            format!("partially-synchronous(gst in {gsts:?} s, delta={DELTA}), chaotic before GST"),
        )
        .with(
            "failures",
            "crash-stop: one server (by seed) at GST/2; until GST the network is cut into minorities {n0,n1} | {n2,n3} | {n4}",
        )
        .with("links", "fair-loss(loss=0.02,dup=0.02,reorder) latency=uniform:1ms..20ms")
        .with(
            "detectors",
            "Ω over ◇P (Multi-Paxos), ◇P as ◇S (Chandra–Toueg): heartbeat 10ms, timeout 20ms +10ms per mistake",
        )
        .with("n", N)
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "gst-sweep".into(),
        title: "safe before GST, decided within a bounded time after it, however late GST comes".into(),
        model,
        columns: columns(&[
            ("protocol", "protocol"),
            ("gst_s", "GST (s)"),
            ("runs", "runs"),
            ("safety_violations", "runs with a safety violation"),
            ("decided", "decided"),
            ("after_gst_median_ms", "decision - GST (ms, median)"),
            ("after_gst_max_ms", "decision - GST (ms, max)"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "no safety violation for any GST ({violations} runs violated), every run decides ({undecided} did not), and decision - GST stays below {} ms (max {:.0} ms) whatever GST is",
                BOUND.as_millis_f64(),
                worst.as_millis_f64()
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Dwork, Lynch & Stockmeyer 1988 (consensus in partial synchrony); Chandra & Toueg 1996 JACM (◇S consensus); Lamport, Paxos made simple §3; CGR ch. 5 and 6 (Ω, leader-based consensus); Lynch ch. 25; DDIA ch. 9".into(),
        notes: vec![
            "decision: Multi-Paxos, the last answer to a client whose server never crashed (each server got one write at time 0); Chandra–Toueg, the last decision of a correct process".into(),
            "before GST no majority can talk, so nothing is decided: what is measured is the time after GST the protocol needs (heal, detector catching up, one or two ballots or rounds, retransmission ticks of 20ms)".into(),
        ],
        figures: vec![],
    })
}
