//! `bully`: the Bully algorithm's message cost by initiator, and its split brain when the
//! synchrony it assumes is broken.
//!
//! Garcia-Molina's Bully algorithm elects the highest live identifier, relying on timeouts to
//! decide that higher nodes are dead. With the highest node crashed and sorted identifiers:
//! started by the lowest node it sends (n−1) Elections, then every live node above it starts
//! its own election ((n−1)(n−2)/2 more Elections and as many Answers) and the new coordinator
//! announces itself to n−2 nodes: n² − n − 1 messages in all, Θ(n²). Started by the
//! second-highest node: one Election to the dead node and n−2 Coordinator messages, n − 1.
//! When the timeout is shorter than real message delays, a node decides too early that nobody
//! higher is alive: two coordinators (split brain).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{count_sends, run_full, run_seed};
use crate::LabError;
use serde_json::json;
use synod_core::{check_all, Duration, Instant, ModelHeader, NodeId};
use synod_protocols::election::{arrangement, properties as ep, Bully, BullyMsg, BullyRequest};
use synod_sim::{Latency, Scripted, SimConfig, Timing};

const SIZES: [usize; 6] = [4, 8, 16, 32, 48, 64];

fn config(n: usize, seed: u64, latency: Latency) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(10),
    };
    cfg.network.latency = latency;
    cfg.until = Instant::from_secs(10);
    cfg.faults
        .add_crash_spec(&format!("n{}@0s", n - 1))
        .expect("valid crash spec");
    cfg
}

fn cost(n: usize, initiator: usize, seed: u64) -> u64 {
    let bully = Bully::new(arrangement::sorted(n), Duration::from_millis(25));
    let start = Scripted(vec![(
        Instant::from_millis(1),
        NodeId(initiator as u32),
        BullyRequest::StartElection,
    )]);
    let latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(10),
    };
    count_sends(bully, config(n, seed, latency), start, |_: &BullyMsg| true).0
}

/// Runs of the split-brain scenario (two initiators, latency 5–10ms) in which two different
/// leaders were elected, with the given timeout.
fn split_brains(timeout: Duration, runs: u32, base: u64) -> u32 {
    let n = 6;
    let uids = arrangement::sorted(n);
    let mut broken = 0;
    for r in 0..runs as u64 {
        let starts = Scripted(vec![
            (Instant::ZERO, NodeId(0), BullyRequest::StartElection),
            (Instant::ZERO, NodeId(2), BullyRequest::StartElection),
        ]);
        let latency = Latency::Uniform {
            lo: Duration::from_millis(5),
            hi: Duration::from_millis(10),
        };
        let out = run_full(
            Bully::new(uids.clone(), timeout),
            config(n, run_seed(base, &[r]), latency),
            starts,
        );
        let props = [ep::unique_leader::<Bully>()];
        if check_all(&props, &out.trace)[0].verdict.is_violated() {
            broken += 1;
        }
    }
    broken
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 20 } else { 100 })
        .max(1);
    let sizes: &[usize] = if opts.quick { &SIZES[..4] } else { &SIZES };
    progress.set_total(sizes.len() as u64 + 2);
    let mut rows = Vec::new();
    let mut costs_ok = true;
    for (i, &n) in sizes.iter().enumerate() {
        let low = cost(n, 0, run_seed(opts.seed, &[i as u64, 0]));
        let high = cost(n, n - 2, run_seed(opts.seed, &[i as u64, 1]));
        let (low_theory, high_theory) = ((n * n - n - 1) as u64, (n - 1) as u64);
        costs_ok &= low == low_theory && high == high_theory;
        rows.push(vec![
            json!(n),
            json!(low),
            json!(low_theory),
            json!(high),
            json!(high_theory),
        ]);
        progress.advance(1);
    }
    let safe = split_brains(Duration::from_millis(25), runs, run_seed(opts.seed, &[100]));
    progress.advance(1);
    let unsafe_runs = split_brains(Duration::from_millis(2), runs, run_seed(opts.seed, &[101]));
    progress.advance(1);
    let ok = costs_ok && safe == 0 && unsafe_runs > 0;
    let model = ModelHeader::new()
        .with("timing", "synchronous(delta=10ms)")
        .with("failures", "crash-stop (the highest id, from the start)")
        .with(
            "links",
            "reliable, latency uniform 1..10ms (split brain: 5..10ms)",
        )
        .with("n", format!("{}..{}", sizes[0], sizes[sizes.len() - 1]))
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "bully".into(),
        title: "Bully election: Θ(n²) from the bottom, n−1 from the top, split brain without synchrony".into(),
        model,
        columns: columns(&[
            ("n", "n"),
            ("msgs_lowest_initiator", "msgs (lowest starts)"),
            ("theory_lowest", "n²-n-1"),
            ("msgs_highest_initiator", "msgs (second-highest starts)"),
            ("theory_highest", "n-1"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "Bully costs n²-n-1 messages from the lowest initiator and n-1 from the highest live one; with the timeout (25ms) above the round trip no run of {runs} elects two leaders, but with a 2ms timeout, shorter than real delays, {unsafe_runs} of {runs} runs elect two: uniqueness needs synchrony"
            ),
            verdict: if ok { ClaimVerdict::ViolatedAsExpected } else { ClaimVerdict::Unexpected },
        },
        read: "Garcia-Molina 1982; Tanenbaum & van Steen ch. 6 (election algorithms); Lynch ch. 3-4".into(),
        notes: vec![
            "message counts include every Election, Answer and Coordinator message; the highest node is crashed from the start and identifiers are sorted".into(),
            format!("split brain: n = 6, nodes n0 and n2 start elections at once; unique-leader violated in {safe}/{runs} runs with a 25ms timeout and {unsafe_runs}/{runs} with 2ms"),
        ],
        figures: vec![],
    })
}
