//! `register-semantics`: the write-back phase is what makes ABD's reads atomic (curriculum
//! C.5 (b)).
//!
//! Single-writer ABD on n = 3 servers (asynchronous, reliable links, no crashes), server n0
//! the writer, one client writing 1, 2, 3, ... and four clients reading back to back at n1 and
//! n2, with exponential message delays. An inversion needs a write's stores to be slower than
//! two other messages (a read's reply from n0, the next read's query), and a read to fall in
//! that window: rare per write (well under 1%), so each history has 50 writes and 240 reads.
//! Two read protocols:
//!
//! - *one-phase* reads return the largest-timestamp value of a majority (CGR's "Majority
//!   Voting" (1,N) regular register): a read that meets the write's store at one server
//!   returns the new value, and a later read whose majority has not received it yet returns
//!   the old one, a new/old inversion. Every read still returns the last completed write or a
//!   concurrent one: the register is *regular*, not atomic;
//! - *write-back* reads ("Read-Impose Write-Majority") store the value at a majority before
//!   returning it, so any later read sees it: no inversion, *atomic*.
//!
//! Each history is judged by `synod-consistency`'s register-semantics checker (safe, regular,
//! new/old inversions, atomic) and, as a cross-check of "atomic = linearizable", by its
//! linearizability checker. The costs come out as CGR gives them: a single-writer write is one
//! round trip (2(n − 1) messages), a one-phase read one, a write-back read two (4(n − 1)).

use super::abd::{cell, run_abd, Clients};
use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::run_seed;
use crate::registers::{linearizable, on_shared_memory};
use crate::runner::recorded_from_history;
use crate::workloads::{describe_register, Placement, ProgramClients};
use crate::LabError;
use serde_json::json;
use synod_consistency::checkers::register_semantics::check_recorded_register_semantics;
use synod_consistency::format::Value as HValue;
use synod_consistency::Budget;
use synod_core::{Duration, Instant, ModelHeader, NodeId, Prng};
use synod_protocols::register::program::WritersReaders;
use synod_protocols::register::Abd;
use synod_sim::shared_memory::ShmSimConfig;
use synod_sim::{Latency, SimConfig};

const N: usize = 3;
const WRITES: u64 = 50;
const READS: usize = 60;
const READERS: u64 = 4;

fn config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    // Asynchronous timing slows a quarter of the messages by up to 1000×: room for all of them.
    cfg.until = Instant::from_secs(3600);
    cfg.network.latency = Latency::Exponential {
        mean: Duration::from_millis(5),
    };
    cfg
}

/// The register client program of every variant: one writer, four readers.
fn program() -> WritersReaders {
    WritersReaders {
        writers: 1,
        readers: READERS as usize,
        writes: WRITES as u32,
        reads: READS as u32,
        writer_reads: 0,
    }
}

/// The program's clients on ABD: the writer (client 1) always at n0, the readers (clients
/// 2..) each pinned to one of the other servers (two per server, so each of them always has a
/// read to coordinate), all starting in the first 5 ms.
fn clients(seed: u64) -> Clients {
    let mut prng = Prng::derive(seed, 0x5257);
    let mut start = || Instant(prng.below(Duration::from_millis(5).as_nanos()));
    let mut placement = vec![Placement {
        reads: vec![NodeId(0)],
        writes: vec![NodeId(0)],
        start: start(),
    }];
    for id in 2..2 + READERS {
        placement.push(Placement {
            reads: vec![NodeId(1 + (id % (N as u64 - 1)) as u32)],
            writes: vec![NodeId(0)],
            start: start(),
        });
    }
    // A microsecond between a client's operations: a write returning and the next one being
    // called at the same instant would count as concurrent, and the writes would no longer
    // be totally ordered (a single-writer history).
    ProgramClients::new(program(), Duration(1_000)).with_placement(placement)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts
        .runs
        .unwrap_or(if opts.quick { 40 } else { 200 })
        .max(1) as u64;
    let variants = [
        (
            "SWMR one-phase reads",
            Abd::single_writer(NodeId(0)).with_write_back(false),
        ),
        ("SWMR write-back reads", Abd::single_writer(NodeId(0))),
    ];
    progress.set_total(variants.len() as u64 + 1);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for &(name, abd) in variants.iter() {
        let (mut inversions, mut inverted_runs, mut regular, mut atomic, mut lin) =
            (0u64, 0, 0, 0, 0);
        let (mut agree, mut complete) = (0, 0);
        let (mut wm, mut rm, mut w, mut r) = (0u64, 0u64, 0usize, 0usize);
        for run in 0..runs {
            // The same seeds for both variants: the same client schedules and delays drawn.
            let seed = run_seed(opts.seed, &[run]);
            let cl = clients(seed);
            let planned = cl.program.total_ops();
            let out = run_abd(abd, config(seed), cl);
            let s = &out.semantics;
            inversions += s.new_old_inversions;
            inverted_runs += usize::from(s.new_old_inversions > 0);
            regular += usize::from(s.regular_ok);
            atomic += usize::from(s.atomic_ok == Some(true));
            lin += usize::from(out.linearizable == Some(true));
            agree += usize::from(s.atomic_ok.is_some() && s.atomic_ok == out.linearizable);
            complete += usize::from(out.completed == planned);
            (wm, rm, w, r) = (
                wm + out.write_msgs,
                rm + out.read_msgs,
                w + out.writes,
                r + out.reads,
            );
        }
        let pct = |k: usize| 100.0 * k as f64 / runs as f64;
        let per_write = (w > 0).then(|| wm as f64 / w as f64);
        let per_read = (r > 0).then(|| rm as f64 / r as f64);
        rows.push(vec![
            json!(name),
            json!(runs),
            json!(inversions),
            json!(inverted_runs),
            cell(Some(pct(regular))),
            cell(Some(pct(atomic))),
            cell(Some(pct(lin))),
            cell(per_write),
            cell(per_read),
        ]);
        results.push((
            inversions,
            inverted_runs,
            regular,
            atomic,
            agree,
            complete,
            per_write,
            per_read,
        ));
        progress.advance(1);
    }
    // The same program on one shared atomic register, under seeded interleavings.
    let (mut shm_inversions, mut shm_inverted, mut shm_atomic, mut shm_lin, mut shm_complete) =
        (0u64, 0, 0, 0, 0);
    for run in 0..runs {
        let seed = run_seed(opts.seed, &[run]);
        let (sim, history) = on_shared_memory(&program(), &ShmSimConfig::new(seed));
        shm_complete += usize::from(sim.halted.iter().all(|&h| h));
        let recorded = recorded_from_history(&history, describe_register);
        let s =
            check_recorded_register_semantics(&recorded, &HValue::Nil, &Budget::steps(10_000_000))
                .expect("the program writes unique values");
        shm_inversions += s.new_old_inversions;
        shm_inverted += usize::from(s.new_old_inversions > 0);
        shm_atomic += usize::from(s.atomic_ok == Some(true) && s.regular_ok);
        shm_lin += usize::from(linearizable(&history) == Some(true));
    }
    progress.advance(1);
    {
        let pct = |k: usize| 100.0 * k as f64 / runs as f64;
        rows.insert(
            0,
            vec![
                json!("shared memory (atomic register)"),
                json!(runs),
                json!(shm_inversions),
                json!(shm_inverted),
                cell(Some(pct(shm_atomic))),
                cell(Some(pct(shm_atomic))),
                cell(Some(pct(shm_lin))),
                cell(None),
                cell(None),
            ],
        );
    }
    let runs_us = runs as usize;
    let shm_ok = shm_inversions == 0
        && shm_atomic == runs_us
        && shm_lin == runs_us
        && shm_complete == runs_us;
    let (one, wb) = (results[0], results[1]);
    let ok = one.0 > 0
        && one.2 == runs_us
        && wb.0 == 0
        && wb.3 == runs_us
        && one.4 == runs_us
        && wb.4 == runs_us
        && one.5 == runs_us
        && wb.5 == runs_us
        && shm_ok;
    let f = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.1}"));
    let model = ModelHeader::new()
        .with("timing", "asynchronous")
        .with("failures", "none")
        .with("links", "reliable (no loss), latency exponential mean 5ms, a quarter of messages slowed up to 1000x, reordering")
        .with("n", N)
        .with(
            "clients",
            format!("1 writer (n0, {WRITES} writes), {READERS} readers ({READS} reads each, two at n1, two at n2, back to back)"),
        )
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "register-semantics".into(),
        title: "Safe, regular, atomic: single-writer ABD with and without the read write-back".into(),
        model,
        columns: columns(&[
            ("variant", "variant"),
            ("histories", "histories"),
            ("new_old_inversions", "new_old_inversions"),
            ("histories_with_inversions", "histories with inversions"),
            ("regular_ok_pct", "regular_ok%"),
            ("atomic_ok_pct", "atomic_ok%"),
            ("linearizable_pct", "linearizable%"),
            ("msgs_per_write", "msgs/write"),
            ("msgs_per_read", "msgs/read"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "the write-back phase is what makes reads atomic: the same client program (1 writer, {READERS} readers) on a shared atomic register is atomic in {shm_atomic} of {runs} histories with {shm_inversions} inversions; on ABD over {runs} histories, one-phase reads show {} new/old inversions (in {} histories) yet are regular in all {runs} (atomic in {}), while write-back reads show {} and are atomic in {}; atomic agrees with the linearizability checker in every history; a single-writer write costs {} messages (2(n-1) = 4), a one-phase read {} (4) and a write-back read {} (4(n-1) = 8)",
                one.0, one.1, one.3, wb.0, wb.3, f(one.6), f(one.7), f(wb.7)
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lamport 1986 (On interprocess communication: safe, regular, atomic); CGR ch. 4 (§4.2 Majority Voting regular register, §4.3 Read-Impose Write-Majority atomic register, the new/old inversion); Attiya, Bar-Noy & Dolev 1995; Attiya & Welch ch. 10; Lynch ch. 13".into(),
        notes: vec![
            "both variants run on the same seeds: the same client start times and the same stream of delays".into(),
            "new_old_inversions counts pairs of reads r1, r2 with r1 returned before r2 was called and r2 returning an older write; regular_ok: every read returned the last write before it or a concurrent one; atomic_ok (single writer): regular with no inversion (Lamport), cross-checked against linearizable%".into(),
            "msgs/write and msgs/read: ABD messages attributed to the operation they serve, per operation; late replies count".into(),
            format!(
                "every operation completed in {} (one-phase) and {} (write-back) of {runs} runs; atomic_ok agreed with the linearizability checker in {} and {}",
                one.5, wb.5, one.4, wb.4
            ),
        ],
        figures: vec![],
    })
}
