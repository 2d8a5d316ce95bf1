//! Small checks of the lab's building blocks: fault schedules, fits, scenarios, and quick runs
//! of a few experiments.
//!
//! They live here rather than in `#[cfg(test)]` modules of the library so that `cargo test`
//! compiles the lab (the crate that instantiates every protocol with the simulator and the
//! checker, and by far the slowest to build) once, not twice.

use synod_core::{Duration, Instant};
use synod_lab::chaos::{chaos, default_until, describe};
use synod_lab::experiment::{ClaimVerdict, ExpOptions, ExperimentReport, NoProgress};
use synod_lab::experiments::{
    broadcast_hierarchy, byz_quorums, consensus_number, lamport_vs_vector, quorum_systems,
};
use synod_lab::measure::loglog_slope;
use synod_lab::registers::{linearizable, on_message_passing, on_shared_memory};
use synod_lab::shm::{check, find_shm, simulate, ShmSpec};
use synod_protocols::register::program::WritersReaders;
use synod_protocols::register::Abd;
use synod_sim::shared_memory::ShmSimConfig;
use synod_sim::{FaultSchedule, SimConfig};

fn opts(quick: bool, seed: u64) -> ExpOptions {
    ExpOptions {
        seed,
        runs: None,
        quick,
    }
}

#[test]
fn chaos_is_valid_deterministic_and_ends_in_time() {
    let until = Instant::from_secs(6);
    for n in [1, 2, 3, 5, 7] {
        for seed in 0..200 {
            let s = chaos(n, seed, until);
            assert_eq!(s, chaos(n, seed, until));
            s.validate(n)
                .unwrap_or_else(|e| panic!("n={n} seed {seed}: {e}"));
            assert!(s.end() <= until);
            assert!(!s.crashes.is_empty() && s.crashes.len() <= 2 * n);
            assert!(s.crashes.iter().all(|c| c.at < until));
            let partial = s.crashes.iter().filter(|c| c.partial_send).count();
            assert!(partial <= (n - 1) / 2);
            assert_eq!(s.partitions.is_empty(), n < 2);
            // A node is never scheduled to crash while it is still down.
            for c in &s.crashes {
                let overlapping = s
                    .crashes
                    .iter()
                    .zip(&s.recoveries)
                    .filter(|(d, r)| d.node == c.node && d.at <= c.at && c.at < r.at)
                    .count();
                assert_eq!(overlapping, 1, "n={n} seed {seed}");
            }
        }
    }
    assert_ne!(chaos(5, 1, until), chaos(5, 2, until));
    assert!(chaos(5, 1, Instant::ZERO).is_empty());
    // The printed specs read back as the same schedule.
    let s = chaos(5, 9, until);
    let mut back = FaultSchedule::default();
    for spec in describe(&s) {
        let (flag, arg) = spec.split_once(' ').unwrap();
        let arg = arg.trim_matches('\'');
        match flag {
            "--crash" => back.add_crash_spec(arg),
            "--recover" => back.add_recover_spec(arg),
            "--partition" => back.add_partition_spec(arg),
            "--omission" => back.add_omission_spec(arg),
            _ => panic!("{spec}"),
        }
        .unwrap();
    }
    assert_eq!(back, s);
    assert_eq!(default_until(Instant::from_secs(10)), until);
}

#[test]
fn slope_of_a_power_law() {
    let pts: Vec<(f64, f64)> = [4.0, 8.0, 16.0, 32.0]
        .iter()
        .map(|&n: &f64| (n, 3.0 * n * n))
        .collect();
    assert!((loglog_slope(&pts).unwrap() - 2.0).abs() < 1e-9);
    assert_eq!(loglog_slope(&[(1.0, 1.0)]), None);
}

#[test]
fn a_scenario_crashes_distinct_senders_during_their_own_broadcasts() {
    let window = broadcast_hierarchy::WINDOW;
    let sc = broadcast_hierarchy::scenario(5, 7, 8, window, 2);
    assert_eq!(sc.requests.len(), 10);
    assert_eq!(sc.crashes.len(), 2);
    assert_ne!(sc.crashes[0].0, sc.crashes[1].0);
    for (node, at) in &sc.crashes {
        assert!(sc.requests.iter().any(|(t, p, _)| t == at && p == node));
    }
    let payloads: std::collections::BTreeSet<_> = sc.requests.iter().map(|r| r.2).collect();
    assert_eq!(payloads.len(), 10);
    assert_eq!(sc, broadcast_hierarchy::scenario(5, 7, 8, window, 2));
}

#[test]
fn byzantine_quorums_quick_run_holds() {
    let r = byz_quorums::run(&opts(true, 1), &mut NoProgress).unwrap();
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.to_text());
}

#[test]
fn quorum_systems_quick_run_holds_and_is_deterministic() {
    let a = quorum_systems::run(&opts(true, 3), &mut NoProgress).unwrap();
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.to_text());
    let b = quorum_systems::run(&opts(true, 3), &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
}

#[test]
fn quorum_systems_exact_cells_match_theory() {
    let rows = quorum_systems::run(&opts(true, 1), &mut NoProgress)
        .unwrap()
        .to_json();
    let row = |name: &str| {
        rows["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["system"] == name)
            .cloned()
            .unwrap()
    };
    // Majority of 9: C(9,5)·p^5·s^4 + … (curriculum C.13).
    let m9 = row("majority");
    assert_eq!(m9["c"], 5);
    assert_eq!(m9["fp_001"], "1.2e-8");
    assert_eq!(m9["fp_03"], "0.099");
    // 10×10 grid: c = 19, load 19/100.
    let g = row("grid 10x10");
    assert_eq!(g["c"], 19);
    assert!((g["load"].as_f64().unwrap() - 0.19).abs() < 1e-12);
    assert!(row("minority (canary)")["intersection"]
        .as_str()
        .unwrap()
        .starts_with("VIOLATED"));
}

#[test]
fn consensus_number_input_vectors_cover_binary_and_distinct() {
    let v = consensus_number::input_vectors(3);
    assert_eq!(v.len(), 9);
    assert!(v.contains(&vec![1, 0, 1]));
    assert!(v.contains(&vec![10, 11, 12]));
}

fn lamport_vs_vector_quick(seed: u64) -> ExperimentReport {
    lamport_vs_vector::run(&opts(true, seed), &mut NoProgress).expect("runs")
}

#[test]
fn lamport_vs_vector_same_seed_same_report_and_the_claim_holds() {
    let (a, b) = (lamport_vs_vector_quick(7), lamport_vs_vector_quick(7));
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.figures[0].svg, b.figures[0].svg);
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.claim.text);
    assert_eq!(
        lamport_vs_vector_quick(8).claim.verdict,
        ClaimVerdict::Holds
    );
}

/// The vector column of bytes is 8n, the Lamport one 8, as the clocks' sizes say.
#[test]
fn lamport_vs_vector_bytes_per_message() {
    let r = lamport_vs_vector_quick(1);
    for row in &r.rows {
        let n = row[0].as_f64().unwrap();
        assert_eq!(row[9].as_f64(), Some(8.0));
        assert_eq!(row[10].as_f64(), Some(8.0 * n));
        assert_eq!(row[6].as_u64(), Some(0), "Lamport clock condition");
        assert_eq!(row[7].as_u64(), Some(0), "vector false orderings");
        assert_eq!(row[8].as_u64(), Some(0), "vector missed concurrency");
    }
}

#[test]
fn the_same_register_program_completes_on_both_and_each_history_is_linearizable() {
    let program = || WritersReaders::single_writer(2, 4);
    for seed in 0..5 {
        let (run, h) = on_shared_memory(&program(), &ShmSimConfig::new(seed));
        assert!(run.halted.iter().all(|&x| x));
        assert_eq!(h.ops.len(), 12);
        assert!(h.ops.iter().all(|o| o.completion.is_some()));
        assert_eq!(linearizable(&h), Some(true));

        let mut cfg = SimConfig::new(3, seed);
        cfg.until = Instant::from_secs(5);
        let h = on_message_passing(Abd::new(), &program(), cfg, Duration::from_millis(1));
        assert_eq!(h.ops.len(), 12);
        assert!(h.ops.iter().all(|o| o.completion.is_some()));
        assert_eq!(linearizable(&h), Some(true));
    }
}

#[test]
fn tas_with_three_processes_disagrees_and_cas_agrees() {
    let spec = ShmSpec {
        processes: Some(3),
        ..ShmSpec::default()
    };
    let tas = check(&find_shm("tas-consensus").unwrap(), &spec).unwrap();
    assert!(tas.violations.iter().any(|(p, _, _)| p == "agreement"));
    let cas = check(&find_shm("cas-consensus").unwrap(), &spec).unwrap();
    assert!(cas.ok(), "{cas:?}");
    let wait = check(&find_shm("rw-wait-consensus").unwrap(), &ShmSpec::default()).unwrap();
    assert!(wait.violations.is_empty());
    assert!(wait.wait_freedom.iter().any(|w| w.is_err()));
}

#[test]
fn a_crashed_waiter_blocks_the_other_in_simulation() {
    let spec = ShmSpec {
        crashes: vec![(1, 0)],
        ..ShmSpec::default()
    };
    let r = simulate(&find_shm("rw-wait-consensus").unwrap(), &spec).unwrap();
    // p1 crashed before announcing: p0 spins until the step limit
    assert_eq!(r.processes[1].2, "crashed");
    assert_eq!(r.processes[0].2, "still running (step limit)");
    assert!(r
        .properties
        .iter()
        .any(|j| j.name == "termination" && j.violation.is_some()));
}

#[test]
fn shared_memory_user_mistakes_are_errors() {
    assert!(find_shm("nope").is_err());
    let bad = ShmSpec {
        processes: Some(3),
        ..ShmSpec::default()
    };
    assert!(simulate(&find_shm("rw-min-consensus").unwrap(), &bad).is_err());
    let bad = ShmSpec {
        inputs: Some(vec![1]),
        ..ShmSpec::default()
    };
    assert!(check(&find_shm("tas-consensus").unwrap(), &bad).is_err());
}
