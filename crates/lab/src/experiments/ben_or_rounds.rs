//! `ben-or-rounds`: how many rounds Ben-Or's randomized consensus needs, local coin against
//! common coin, as n grows.
//!
//! Ben-Or's protocol ([`BenOr`]) is safe in every run of the asynchronous model and terminates
//! with probability 1: in each round there is some chance that every process ends it with the
//! same estimate, after which all decide in the next round. How large that chance is depends
//! on the coin. With *local* coins, when no value won a majority the processes that saw only
//! ⊥ flip independently, and they must come out equal by luck (or enough of them must): the
//! worst-case expected number of rounds is exponential in n. With a *common* coin (a trusted
//! dealer's sequence, [`BenOr::common_coin`]), the processes that flip all get the same bit,
//! which matches the one value that may have been proposed with probability 1/2: a constant
//! expected number of rounds, whatever n.
//!
//! For each n, inputs are split 50/50 (the hardest start: no value has a majority), the network
//! is asynchronous (uniform 1–10 ms delays, a quarter of the messages stretched by a
//! heavy-tailed factor), no process crashes, and each seed is run with both coins (the same
//! network randomness). A run's *rounds* are the last round in which a process decided (every
//! process decides within one round of the first decision, and all of them had by the end of
//! every run here).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{loglog_slope, mean, run_seed};
use crate::LabError;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use synod_core::{EventKind, Instant, ModelHeader};
use synod_protocols::consensus::ben_or::{decisions_agree, BenOr, BenOrInd, BenOrState};
use synod_sim::{Recording, SimConfig, Simulation, Timing};

const NS: [usize; 5] = [3, 5, 7, 9, 11];
/// The claimed bound on the common coin's mean rounds, for every n.
const COMMON_MEAN_BOUND: f64 = 4.0;

/// What one run shows.
struct Run {
    /// The last decision round, if every process decided.
    rounds: Option<u64>,
    /// Two processes decided differently.
    disagreed: bool,
}

fn run_one(p: BenOr, n: usize, seed: u64) -> Run {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.until = Instant::from_secs(24 * 3600);
    cfg.recording = Recording::HashOnly;
    let seen: Rc<RefCell<Vec<(bool, u64)>>> = Rc::default();
    let log = Rc::clone(&seen);
    let out = Simulation::new(p, cfg)
        .expect("experiment configurations are valid")
        .with_observer(move |_, e| {
            if let EventKind::Indication {
                ind: BenOrInd::Decide { value, round },
                ..
            } = e
            {
                log.borrow_mut().push((*value, *round));
            }
        })
        .run();
    let seen = seen.borrow();
    let states: Vec<Option<&BenOrState>> = out.states.iter().map(|s| s.as_ref()).collect();
    let disagreed = seen.iter().any(|(v, _)| *v != seen[0].0) || !decisions_agree(&states);
    let all = seen.len() == n;
    Run {
        rounds: all.then(|| seen.iter().map(|(_, r)| *r).max().unwrap_or(0)),
        disagreed,
    }
}

/// The least-squares slope b of ln(y) against x (y ~ a·e^(bx)): e^b is the growth factor per
/// unit of x.
fn semilog_slope(points: &[(f64, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(_, y)| *y > 0.0)
        .map(|(x, y)| (*x, y.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let k = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The value at quantile `q` of `sorted` (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Per coin and n: mean, p50, p99, max rounds, undecided runs, disagreements.
struct Row {
    mean: f64,
    p50: u64,
    p99: u64,
    max: u64,
    undecided: u64,
    disagreed: u64,
}

fn summarize(runs: &[Run]) -> Row {
    let mut rounds: Vec<u64> = runs.iter().filter_map(|r| r.rounds).collect();
    rounds.sort_unstable();
    let as_f: Vec<f64> = rounds.iter().map(|r| *r as f64).collect();
    Row {
        mean: mean(&as_f).unwrap_or(0.0),
        p50: quantile(&rounds, 0.5),
        p99: quantile(&rounds, 0.99),
        max: rounds.last().copied().unwrap_or(0),
        undecided: runs.iter().filter(|r| r.rounds.is_none()).count() as u64,
        disagreed: runs.iter().filter(|r| r.disagreed).count() as u64,
    }
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 40 } else { 1000 })
        .max(1) as u64;
    let ns: &[usize] = if opts.quick { &NS[..4] } else { &NS };
    progress.set_total(2 * ns.len() as u64 * runs);
    let mut rows = Vec::new();
    let mut local_means = Vec::new();
    let mut common_means = Vec::new();
    let (mut disagreements, mut undecided) = (0, 0);
    for &n in ns {
        let (mut local, mut common) = (Vec::new(), Vec::new());
        for r in 0..runs {
            let seed = run_seed(opts.seed, &[n as u64, r]);
            local.push(run_one(BenOr::new(), n, seed));
            let dealer = run_seed(opts.seed, &[n as u64, r, 1]);
            common.push(run_one(BenOr::common_coin(dealer), n, seed));
            progress.advance(2);
        }
        for (coin, set, means) in [
            ("local", &local, &mut local_means),
            ("common", &common, &mut common_means),
        ] {
            let s = summarize(set);
            disagreements += s.disagreed;
            undecided += s.undecided;
            means.push((n as f64, s.mean));
            rows.push(vec![
                json!(coin),
                json!(n),
                json!(n.saturating_sub(1) / 2),
                json!(runs),
                json!(s.mean),
                json!(s.p50),
                json!(s.p99),
                json!(s.max),
                json!(s.undecided),
                json!(s.disagreed),
            ]);
        }
    }
    let first_local = local_means.first().map_or(0.0, |x| x.1);
    let last_local = local_means.last().map_or(0.0, |x| x.1);
    let local_ratio = if first_local > 0.0 {
        last_local / first_local
    } else {
        0.0
    };
    let local_slope = loglog_slope(&local_means).unwrap_or(0.0);
    let per_process = semilog_slope(&local_means).unwrap_or(0.0).exp();
    let common_max = common_means.iter().map(|x| x.1).fold(0.0, f64::max);
    let last_common = common_means.last().map_or(0.0, |x| x.1);
    let n_first = ns.first().copied().unwrap_or(0);
    let n_last = ns.last().copied().unwrap_or(0);
    // Local: grows overall (the largest n needs clearly more rounds than the smallest, and
    // more than the common coin there). Common: flat, under a small constant for every n.
    let grows = local_ratio >= 1.5 && last_local > 1.5 * last_common;
    let flat = common_max <= COMMON_MEAN_BOUND;
    let ok = disagreements == 0 && undecided == 0 && grows && flat;
    let model = ModelHeader::new()
        .with(
            "timing",
            "asynchronous (uniform 1ms..10ms, a quarter of the messages stretched up to 1000x)",
        )
        .with("failures", "none (each process waits for n - f messages, f = (n-1)/2)")
        .with("links", "reliable (no loss, no duplication), reordering")
        .with(
            "protocol",
            "Ben-Or crash version, inputs split 50/50 (process i proposes i mod 2); local coin: Ctx::choose(2) per process; common coin: a dealer's sequence per run",
        )
        .with("n", format!("{ns:?}"))
        .with("runs", format!("{runs} per n and coin"))
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "ben-or-rounds".into(),
        title: "Ben-Or: rounds to decide grow with n under local coins, stay flat with a common coin".into(),
        model,
        columns: columns(&[
            ("coin", "coin"),
            ("n", "n"),
            ("f", "f"),
            ("runs", "runs"),
            ("rounds_mean", "rounds (mean)"),
            ("rounds_p50", "p50"),
            ("rounds_p99", "p99"),
            ("rounds_max", "max"),
            ("undecided", "undecided"),
            ("agreement_violations", "agreement violations"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "local-coin rounds grow with n (mean {first_local:.2} at n={n_first} → {last_local:.2} at n={n_last}, ×{local_ratio:.1}; fits: ×{per_process:.3} per added process, or log-log slope {local_slope:.2}), the common coin stays flat (mean ≤ {common_max:.2} for every n, bound {COMMON_MEAN_BOUND}); {disagreements} agreement violations, {undecided} undecided runs"
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Ben-Or, Another advantage of free choice: completely asynchronous agreement protocols, PODC 1983; Aguilera & Toueg 2012 (correctness proof); Lynch ch. 21; Attiya & Welch ch. 14 (randomized consensus, common coins); CGR ch. 5 (randomized consensus); Rabin 1983 (randomized Byzantine generals: the dealer's coin)".into(),
        notes: vec![
            "rounds: the last round in which a process decided on f + 1 proposals (the others learn the decision from the relayed Decide); with split inputs a run decides in round 1 only if the first n - f reports some process sees are more than n/2 of one value, which gets rarer as n grows".into(),
            "local coin: a round ends with all estimates equal only when the processes that flipped agree with each other and with any value proposed; the chance falls as n grows (at worst 2^-n), so the mean and the tail grow with n".into(),
            "common coin: everybody who flips in round r gets the same bit; it equals the one value that may have been proposed with probability 1/2, so about two rounds after the first suffice whatever n is".into(),
            "the common coin is fixed before the run and the simulator's scheduler ignores it; an adaptive adversary that read the coins could schedule against them (Ben-Or's local-coin protocol resists one)".into(),
        ],
        figures: vec![],
    })
}
