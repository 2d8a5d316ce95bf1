//! `paxos-duel`: dueling proposers livelock without a leader; Ω ends the duel after GST.
//!
//! Paxos is always safe, but two proposers that keep pre-empting each other never decide: each
//! one's `Prepare` reaches the acceptors before the other's `Accept`s, so every ballot is
//! abandoned in turn. Fischer, Lynch and Paterson say no deterministic protocol escapes every
//! such schedule in asynchrony; the remedy is an oracle that is eventually right, Ω, which
//! needs partial synchrony.
//!
//! Both modes of [`MultiPaxos`] run on the same network: five servers, clients writing at n0
//! and n1 at time 0, and until GST the servers cut into minorities {n0, n2} | {n1, n3} | {n4}
//! with chaotic delays, so nobody can decide before GST; after GST every message takes 5 ms.
//! - *dueling* ([`MultiPaxos::dueling`]): no oracle; a pre-empted proposer retries at once with
//!   a higher ballot. After GST n0 and n1 pre-empt each other for ever: the ballots started
//!   grow linearly with the horizon and nothing is decided.
//! - *Ω* ([`MultiPaxos::new`]): only the server Ω trusts proposes, and it backs off when
//!   pre-empted. Before GST each minority trusts its own leader; after GST all trust n0, which
//!   needs a constant number of ballots to decide.
//!
//! A third mode duels again with jittered delays (1 to 5 ms after GST): random delays end each
//! duel sooner or later, by luck, with no bound on when.
//!
//! Each horizon is a prefix of one run per seed (nothing in a run depends on its length).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::run_seed;
use crate::LabError;
use serde_json::json;
use synod_core::{Duration, Instant, ModelHeader, NodeId, Trace};
use synod_protocols::consensus::{MpInd, MultiPaxos};
use synod_protocols::register::RegisterReq;
use synod_sim::{Latency, Recording, Scripted, SimConfig, Simulation, Timing};

const N: usize = 5;
const GST: Instant = Instant::from_secs(1);
const DELTA: Duration = Duration::from_millis(10);
const LATENCY: Duration = Duration::from_millis(5);
/// The horizons, in milliseconds after GST.
const HORIZONS: [u64; 6] = [100, 300, 1000, 3000, 6000, 10000];
/// The claimed bound on the ballots an Ω run starts after GST before it decides.
const OMEGA_BALLOTS: usize = 4;

fn config(seed: u64, end: Instant, jitter: bool) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = end;
    cfg.timing = Timing::PartiallySynchronous {
        gst: GST,
        delta: DELTA,
    };
    cfg.network.latency = if jitter {
        Latency::Uniform {
            lo: Duration::from_millis(1),
            hi: LATENCY,
        }
    } else {
        Latency::Constant(LATENCY)
    };
    cfg.recording = Recording::Full;
    cfg.faults
        .add_partition_spec(&format!("n0,n2|n1,n3|n4@0s..{}ms", GST.0 / 1_000_000))
        .expect("valid partition");
    cfg
}

fn workload() -> Scripted<RegisterReq> {
    Scripted(vec![
        (
            Instant::ZERO,
            NodeId(0),
            RegisterReq::Write {
                client: 0,
                value: 10,
            },
        ),
        (
            Instant::ZERO,
            NodeId(1),
            RegisterReq::Write {
                client: 1,
                value: 11,
            },
        ),
    ])
}

/// What one run shows: the times at which ballots were started, and of the first decision.
struct Run {
    ballots: Vec<Instant>,
    decided: Option<Instant>,
}

fn observe(trace: &Trace<MultiPaxos>) -> Run {
    let mut ballots = Vec::new();
    let mut decided = None;
    for (_, t, _, ind) in trace.indications() {
        match ind {
            MpInd::Ballot(_) => ballots.push(t),
            MpInd::Applied { .. } => {
                decided.get_or_insert(t);
            }
            _ => {}
        }
    }
    Run { ballots, decided }
}

fn run_one(p: MultiPaxos, seed: u64, end: Instant, jitter: bool) -> Run {
    let out = Simulation::new(p, config(seed, end, jitter))
        .expect("experiment configurations are valid")
        .with_workload(workload())
        .run();
    observe(&out.trace)
}

fn median(mut xs: Vec<u64>) -> u64 {
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or(0)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 4 } else { 10 }).max(1) as u64;
    let horizons: &[u64] = if opts.quick {
        &HORIZONS[..4]
    } else {
        &HORIZONS
    };
    let last = *horizons.last().expect("horizons");
    let end = GST + Duration::from_millis(last);
    progress.set_total(3 * runs);
    let mut duel = Vec::new();
    let mut jittered = Vec::new();
    let mut omega = Vec::new();
    for r in 0..runs {
        let seed = run_seed(opts.seed, &[r]);
        duel.push(run_one(MultiPaxos::dueling(), seed, end, false));
        omega.push(run_one(MultiPaxos::new(), seed, end, false));
        jittered.push(run_one(MultiPaxos::dueling(), seed, end, true));
        progress.advance(3);
    }
    // Per mode and horizon: ballots started by then, and how many runs had decided.
    let mut rows = Vec::new();
    let table = |mode: &str, set: &[Run], rows: &mut Vec<Vec<serde_json::Value>>| {
        let mut medians = Vec::new();
        let mut most_decided = 0;
        for &h in horizons {
            let at = GST + Duration::from_millis(h);
            let ballots: Vec<u64> = set
                .iter()
                .map(|x| x.ballots.iter().filter(|t| **t <= at).count() as u64)
                .collect();
            let decided = set
                .iter()
                .filter(|x| x.decided.is_some_and(|t| t <= at))
                .count();
            most_decided = most_decided.max(decided);
            let m = median(ballots.clone());
            medians.push(m);
            rows.push(vec![
                json!(mode),
                json!(h as f64 / 1e3),
                json!(m),
                json!(ballots.iter().copied().max().unwrap_or(0)),
                json!(format!("{decided}/{runs}")),
                {
                    let after: Vec<u64> = set
                        .iter()
                        .filter_map(|x| x.decided.filter(|t| *t <= at))
                        .map(|d| d.saturating_since(GST).as_nanos())
                        .collect();
                    if after.is_empty() {
                        json!(null)
                    } else {
                        json!(Duration(median(after)).as_millis_f64())
                    }
                },
            ]);
        }
        (medians, most_decided)
    };
    let (duel_medians, duel_decided) = table("dueling, regular delays", &duel, &mut rows);
    let (_, omega_decided) = table("Ω, regular delays", &omega, &mut rows);
    let (_, jitter_decided) = table("dueling, jittered delays", &jittered, &mut rows);
    // Ω: ballots started after GST before the first decision.
    let omega_after: Vec<u64> = omega
        .iter()
        .filter_map(|x| {
            x.decided
                .map(|d| x.ballots.iter().filter(|t| **t >= GST && **t <= d).count() as u64)
        })
        .collect();
    let omega_ok = omega_decided as u64 == runs;
    let grows = duel_medians.windows(2).all(|w| w[1] > w[0]);
    let first = duel_medians.first().copied().unwrap_or(0);
    let final_ = duel_medians.last().copied().unwrap_or(0);
    let omega_max = omega_after.iter().copied().max().unwrap_or(0) as usize;
    let ok = duel_decided == 0 && grows && omega_ok && omega_max <= OMEGA_BALLOTS;
    let model = ModelHeader::new()
        .with(
            "timing",
            format!(
                "partially-synchronous(gst={},delta={DELTA}); after GST every message takes {LATENCY} (regular) or 1ms..{LATENCY} (jittered)",
                Duration(GST.0)
            ),
        )
        .with(
            "failures",
            "none; until GST the network is cut into minorities {n0,n2} | {n1,n3} | {n4}",
        )
        .with("links", "fair-loss(loss=0,dup=0,reorder)")
        .with(
            "protocol",
            "Multi-Paxos, clients write at n0 and n1 at t=0; dueling: retry at once when pre-empted; Ω: heartbeat 10ms, timeout 20ms +10ms, backoff 20ms x2",
        )
        .with("n", N)
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "paxos-duel".into(),
        title: "dueling proposers livelock without a leader; with Ω one leader decides after GST".into(),
        model,
        columns: columns(&[
            ("mode", "mode"),
            ("horizon_s", "horizon (s after GST)"),
            ("ballots_median", "ballots started (median)"),
            ("ballots_max", "ballots (max)"),
            ("decided", "decided"),
            ("decide_after_gst_ms", "first decision - GST (ms, median of those decided)"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "without an oracle the ballots grow with the horizon ({first} → {final_} median) and no run decides; with Ω every run decides, after at most {omega_max} ballots started after GST (bound: {OMEGA_BALLOTS}); random delays end {jitter_decided}/{runs} duels by luck"
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lamport, Paxos made simple, §2.4 (progress needs a distinguished proposer) and §3; Fischer, Lynch & Paterson 1985 (FLP); CGR ch. 5 (leader-based consensus, Ω) and ch. 6; Chandra & Toueg 1996 JACM (failure detectors); Lynch ch. 25; DDIA ch. 9".into(),
        notes: vec![
            "ballots: phase-1 attempts started by any server since time 0; before GST the dueling proposers sit in their first ballot (no majority is reachable), while Ω's minority leaders start a few as their detectors flap".into(),
            "dueling, regular delays: n0's and n1's Prepares alternate at the acceptors every round trip; each Accept arrives after a higher Prepare and is refused. Nothing is random after GST, so every run is the same duel".into(),
            "dueling, jittered delays: sooner or later one Accept round beats the other Prepare by luck; randomness breaks the symmetry with probability 1, but no bound on the ballots holds in every run".into(),
            format!("Ω: ballots started after GST until the first decision, per run: {omega_after:?}"),
        ],
        figures: vec![],
    })
}
