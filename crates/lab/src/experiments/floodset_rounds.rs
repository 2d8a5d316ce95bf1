//! `floodset-rounds`: f + 1 rounds are necessary and sufficient for consensus with f crashes.
//!
//! FloodSet ([`FloodSet`], Lynch §6.2) under the exhaustive round explorer
//! (`synod_check::rounds`): n processes in lockstep, up to f of which crash, a crashing process's
//! last messages reaching any subset of their recipients. For every n ≤ 5 and 1 ≤ f ≤ n − 2
//! (n ≥ f + 2, where the lower bound applies) the explorer runs FloodSet with r = f rounds, where
//! theory predicts a disagreement (the classic run: a chain of f crashes, one per round, each
//! crashing process reaching only the next one), and with r = f + 1 rounds, where it predicts
//! that every run agrees, and explores every run. The early-deciding variant
//! ([`FloodSet::early_deciding`]) is explored too, with the worst round in which a correct
//! process decides measured for each number f' of actual crashes against min(f' + 2, f + 1).
//! The message count of a crash-free run, (f + 1)·n(n − 1), is measured under the simulator.
//!
//! Inputs are distinct (node i proposes i); the explorer merges states that differ by a renaming
//! of the processes (FloodSet's processes are interchangeable), which changes the number of
//! states but neither the verdicts nor the number of executions.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::count_sends;
use crate::LabError;
use serde_json::{json, Value as Json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use synod_check::rounds::{RoundCounterexample, RoundExplorer, RoundProperty, RoundView};
use synod_core::{Duration, Instant, Lockstep, ModelHeader, NodeId};
use synod_protocols::consensus::floodset::{self, Decide, FloodSet, Outcome};
use synod_sim::{Idle, SimConfig, Timing};

/// The largest n explored.
pub const MAX_N: usize = 5;

/// The consensus outcome of every process at an explorer state.
pub fn outcomes(v: &RoundView<'_, FloodSet>) -> Vec<Outcome> {
    NodeId::all(v.n())
        .map(|p| Outcome {
            node: p,
            crashed: v.crashed(p),
            decisions: v
                .indications(p)
                .iter()
                .map(|&(r, Decide(x))| (r, x))
                .collect(),
        })
        .collect()
}

/// The round explorer for `p` on `n` processes with up to `f` crashes, symmetry on, up to round
/// `p.rounds`, with agreement, uniform agreement, validity, integrity (always) and termination
/// (at the end).
pub fn explorer(p: FloodSet, n: usize, f: usize) -> RoundExplorer<FloodSet> {
    let inputs = p.input_set();
    let rounds = p.rounds;
    RoundExplorer::new(p, n)
        .crashes(f)
        .max_round(rounds)
        .symmetric(true)
        .property(RoundProperty::always("agreement", |v| {
            floodset::agreement(&outcomes(v))
        }))
        .property(RoundProperty::always("uniform agreement", |v| {
            floodset::uniform_agreement(&outcomes(v))
        }))
        .property(RoundProperty::always("validity", move |v| {
            floodset::validity(inputs, &outcomes(v))
        }))
        .property(RoundProperty::always("integrity", |v| {
            floodset::integrity(&outcomes(v))
        }))
        .property(RoundProperty::at_end("termination", |v| {
            floodset::termination(&outcomes(v))
        }))
}

/// Distinct inputs: node i proposes i.
pub fn distinct(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

/// The (n, f) pairs explored: 3 ≤ n ≤ [`MAX_N`], 1 ≤ f ≤ n − 2.
pub fn pairs() -> Vec<(usize, usize)> {
    (3..=MAX_N)
        .flat_map(|n| (1..=n - 2).map(move |f| (n, f)))
        .collect()
}

/// A counterexample in one line: the crash chain (who crashed sending which round's messages,
/// and whom they still reached), then the property's message.
pub fn summarize(c: &RoundCounterexample<Decide>) -> String {
    let chain: Vec<String> = c
        .steps
        .iter()
        .flat_map(|s| {
            s.crashes.iter().map(move |k| {
                let reached: Vec<String> = k.reached.iter().map(|p| p.to_string()).collect();
                format!(
                    "r{} {} crashes, reaches {}",
                    s.round,
                    k.node,
                    if reached.is_empty() {
                        "nobody".to_string()
                    } else {
                        format!("{{{}}}", reached.join(","))
                    }
                )
            })
        })
        .collect();
    format!("{}; {}", chain.join("; "), c.message)
}

/// True if `c` is the classic run: `f` crashes, one in each of rounds 0 to f − 1, and
/// agreement broken at the end of round f.
pub fn is_crash_chain(c: &RoundCounterexample<Decide>, f: usize) -> bool {
    c.property == "agreement"
        && c.round == f as u32
        && c.steps.len() == f
        && c.steps.iter().all(|s| s.crashes.len() == 1)
}

/// The early-deciding variant, explored: its verdict and, for each number f' of actual crashes
/// (index f'), the worst round in which a correct process decided (0 if no final state had f'
/// crashes).
pub struct EarlyResult {
    /// The exploration's report.
    pub report: synod_check::RoundReport<Decide>,
    /// `worst[f']`: the latest first decision of a correct process over the final states with
    /// f' crashes.
    pub worst: Vec<u32>,
}

/// Explores the early-deciding variant on `n` processes with up to `f` crashes, measuring the
/// worst decision round per number of actual crashes and checking the deadline min(f' + 2, f + 1).
pub fn early(n: usize, f: usize) -> EarlyResult {
    let worst: Arc<Vec<AtomicU32>> = Arc::new((0..=f).map(|_| AtomicU32::new(0)).collect());
    let w = Arc::clone(&worst);
    let x = explorer(FloodSet::early_deciding(distinct(n), f), n, f)
        .property(RoundProperty::at_end(
            "decides by min(f'+2, f+1)",
            move |v| {
                floodset::decides_by(&outcomes(v), floodset::early_deciding_bound(f, v.crashes()))
            },
        ))
        .property(RoundProperty::at_end("worst decision round", move |v| {
            let latest = outcomes(v)
                .iter()
                .filter(|o| !o.crashed)
                .filter_map(|o| o.decisions.first().map(|&(r, _)| r))
                .max()
                .unwrap_or(0);
            if let Some(slot) = w.get(v.crashes()) {
                slot.fetch_max(latest, Ordering::Relaxed);
            }
            Ok(())
        }));
    let report = x.explore();
    let worst = worst.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    EarlyResult { report, worst }
}

/// The messages FloodSet sends in a crash-free run on `n` processes tolerating `f` crashes,
/// counted under the simulator's lockstep timing.
pub fn crash_free_messages(n: usize, f: usize) -> u64 {
    let round = Duration::from_millis(100);
    let mut cfg = SimConfig::new(n, 1);
    cfg.timing = Timing::Lockstep { round };
    cfg.until = Instant::from_secs(2);
    let (count, _) = count_sends(
        Lockstep::new(FloodSet::new(distinct(n), f), round),
        cfg,
        Idle,
        |_| true,
    );
    count
}

/// A count for a table cell (a number when it fits, else its decimal string).
fn count(x: u128) -> Json {
    u64::try_from(x).map_or_else(|_| json!(x.to_string()), |v| json!(v))
}

/// Runs the experiment.
pub fn run(_opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let plan = pairs();
    progress.set_total(plan.len() as u64 * 3 + 1);
    let mut rows: Vec<Vec<Json>> = Vec::new();
    let (mut lower_ok, mut upper_ok, mut early_ok, mut tight) = (true, true, true, true);
    let mut example = String::new();
    for &(n, f) in &plan {
        // r = f: one round too few.
        let r = explorer(FloodSet::canary_f_rounds(distinct(n), f), n, f).explore();
        let (verdict, detail) = match &r.violation {
            Some(c) => {
                lower_ok &= is_crash_chain(c, f);
                // The last pair's (the longest chain) is shown in full.
                example = format!("n={n} f={f}, r={f}: {c}");
                (format!("{} violated", c.property), summarize(c))
            }
            None => {
                lower_ok = false;
                ("none".to_string(), "no disagreement found (!)".to_string())
            }
        };
        rows.push(vec![
            json!(n),
            json!(f),
            json!("FloodSet"),
            json!(f),
            json!(r.states),
            if r.complete {
                count(r.executions)
            } else {
                Json::Null
            },
            json!(r.complete),
            json!(verdict),
            json!(detail),
        ]);
        progress.advance(1);
        // r = f + 1: enough.
        let r = explorer(FloodSet::new(distinct(n), f), n, f).explore();
        upper_ok &= r.holds() && r.complete;
        rows.push(vec![
            json!(n),
            json!(f),
            json!("FloodSet"),
            json!(f + 1),
            json!(r.states),
            count(r.executions),
            json!(r.complete),
            json!(match &r.violation {
                None => "none".to_string(),
                Some(c) => format!("{} violated (!)", c.property),
            }),
            json!(match &r.violation {
                None => "every run agrees".to_string(),
                Some(c) => summarize(c),
            }),
        ]);
        progress.advance(1);
        // The early-deciding variant, deadline f + 1.
        let e = early(n, f);
        early_ok &= e.report.holds() && e.report.complete;
        let cells: Vec<String> = e
            .worst
            .iter()
            .enumerate()
            .map(|(fp, &w)| {
                let bound = floodset::early_deciding_bound(f, fp);
                tight &= w == bound;
                format!("f'={fp}: {w}/{bound}")
            })
            .collect();
        rows.push(vec![
            json!(n),
            json!(f),
            json!("early-deciding"),
            json!(f + 1),
            json!(e.report.states),
            count(e.report.executions),
            json!(e.report.complete),
            json!(match &e.report.violation {
                None => "none".to_string(),
                Some(c) => format!("{} violated (!)", c.property),
            }),
            json!(format!(
                "worst decision round / min(f'+2, f+1): {}",
                cells.join(", ")
            )),
        ]);
        progress.advance(1);
    }
    // Messages of a crash-free run against (f + 1)·n(n − 1).
    let mut counts_ok = true;
    let counts: Vec<String> = plan
        .iter()
        .map(|&(n, f)| {
            let measured = crash_free_messages(n, f);
            let formula = ((f + 1) * n * (n - 1)) as u64;
            counts_ok &= measured == formula;
            format!("n={n} f={f}: {measured}")
        })
        .collect();
    progress.advance(1);

    let ok = lower_ok && upper_ok && early_ok && counts_ok;
    let model = ModelHeader::new()
        .with("timing", "synchronous lockstep rounds (round explorer)")
        .with(
            "failures",
            "crash-stop, up to f; a crashing process's last messages reach any subset",
        )
        .with("links", "reliable, within the round")
        .with("n", format!("3..={MAX_N}, 1 <= f <= n-2"))
        .with("inputs", "distinct (node i proposes i)")
        .with("symmetry", "on (interchangeable processes)");
    let example_line = example
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(ExperimentReport {
        id: "floodset-rounds".into(),
        title: "FloodSet needs f+1 rounds: every run with r = f explored until a disagreement, every run with r = f+1 agrees".into(),
        model,
        columns: columns(&[
            ("n", "n"),
            ("f", "f"),
            ("variant", "variant"),
            ("rounds", "rounds"),
            ("states", "states"),
            ("executions", "executions"),
            ("complete", "complete"),
            ("verdict", "violation"),
            ("detail", "counterexample / result"),
        ]),
        rows,
        claim: Claim {
            text: "f+1 rounds are necessary and sufficient: disagreement found for every r = f, none for r = f+1".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lynch ch. 6 (§6.2 FloodSet, §6.7 the number of rounds with stopping failures: the f+1 lower bound); Attiya & Welch ch. 5 (§5.1 crash failures: the algorithm and the lower bound); Aguilera & Toueg 1999 (a simple bivalency proof that t-resilient consensus requires t+1 rounds)".into(),
        notes: vec![
            "rounds = r: processes broadcast W in rounds 0..r-1 and decide min(W) in round r; the explorer stops at the first violation in breadth-first order (fewest rounds), so r = f rows are incomplete by design (their executions are not counted: '-'); executions = complete adversary choice sequences (who crashes when, whom its last messages reach), counted with multiplicity; states are distinct up to a renaming of the processes".into(),
            format!(
                "r = f: every disagreement found is the classic chain (f crashes, one per round, each reaching one process that carries the smallest value on): {}",
                if lower_ok { "yes" } else { "no (!)" }
            ),
            format!("counterexample of the largest case, {example_line}"),
            format!(
                "early-deciding (stop when a round brings no new crash, or when told so; deadline f+1): agreement, validity, integrity, termination hold in every run, every correct process decides by min(f'+2, f+1): {}; worst case equal to the bound for every f' and (n, f): {}",
                if early_ok { "yes" } else { "no (!)" },
                if tight { "yes" } else { "no" }
            ),
            format!(
                "messages of a crash-free run, (f+1)·n(n-1), measured under the simulator's lockstep timing{}: {}",
                if counts_ok { " = formula" } else { " ≠ formula (!)" },
                counts.join(", ")
            ),
        ],
        figures: vec![],
    })
}
