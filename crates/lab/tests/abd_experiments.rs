//! The `abd` and `register-semantics` experiments: their verdicts on quick runs, the message
//! costs theory gives (a phase is n − 1 requests and n − 1 replies), and determinism.

use serde_json::Value;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, ExperimentReport, NoProgress};
use synod_lab::experiments::{abd, register_semantics};

fn quick(seed: u64) -> ExpOptions {
    ExpOptions {
        seed,
        runs: None,
        quick: true,
    }
}

/// The value of column `key` in `row`.
fn col<'a>(report: &'a ExperimentReport, row: &'a [Value], key: &str) -> &'a Value {
    let i = report
        .columns
        .iter()
        .position(|c| c.key == key)
        .unwrap_or_else(|| panic!("no column {key}"));
    &row[i]
}

#[test]
fn abd_needs_a_majority() {
    let r = abd::run(&quick(1), &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(
        r.claim.verdict,
        ClaimVerdict::ViolatedAsExpected,
        "{}",
        r.to_text()
    );
    let n = 5.0;
    let mut seen_unsafe = false;
    for row in &r.rows {
        let variant = col(&r, row, "variant").as_str().unwrap();
        let quorum = col(&r, row, "quorum").as_u64().unwrap();
        let fault = col(&r, row, "fault").as_str().unwrap();
        let f = col(&r, row, "f_crashed").as_u64().unwrap();
        let pct = col(&r, row, "ops_completed_pct").as_f64().unwrap();
        let violations = col(&r, row, "linearizability_violations").as_u64().unwrap();
        match (fault, quorum) {
            ("crash", 3) if f <= 2 => assert_eq!((pct, violations), (100.0, 0), "{row:?}"),
            ("crash", 3) => assert_eq!((pct, violations), (0.0, 0), "{row:?}"),
            (_, 3) => assert_eq!(violations, 0, "{row:?}"),
            (_, _) => {
                seen_unsafe = true;
                assert!(violations > 0, "{row:?}");
            }
        }
        if fault == "crash" && f == 0 {
            // No faults: every server replies to every phase.
            let per_write = col(&r, row, "msgs_per_write").as_f64().unwrap();
            let per_read = col(&r, row, "msgs_per_read").as_f64().unwrap();
            let write_phases = if variant == "SWMR" { 1.0 } else { 2.0 };
            assert_eq!(per_write, write_phases * 2.0 * (n - 1.0), "{row:?}");
            assert_eq!(per_read, 2.0 * 2.0 * (n - 1.0), "{row:?}");
        }
    }
    assert!(seen_unsafe);
}

#[test]
fn write_back_separates_atomic_from_regular() {
    let r = register_semantics::run(&quick(1), &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.to_text());
    let variant = |name: &str| {
        r.rows
            .iter()
            .find(|row| row[0] == name)
            .unwrap_or_else(|| panic!("row {name}"))
    };
    let (shm, one, wb) = (
        variant("shared memory (atomic register)"),
        variant("SWMR one-phase reads"),
        variant("SWMR write-back reads"),
    );
    // The same client program on a shared atomic register: atomic in every history.
    assert_eq!(col(&r, shm, "new_old_inversions").as_u64().unwrap(), 0);
    assert_eq!(col(&r, shm, "atomic_ok_pct").as_f64().unwrap(), 100.0);
    assert_eq!(col(&r, shm, "linearizable_pct").as_f64().unwrap(), 100.0);
    assert!(col(&r, one, "new_old_inversions").as_u64().unwrap() > 0);
    assert_eq!(col(&r, one, "regular_ok_pct").as_f64().unwrap(), 100.0);
    assert!(col(&r, one, "atomic_ok_pct").as_f64().unwrap() < 100.0);
    assert_eq!(col(&r, wb, "new_old_inversions").as_u64().unwrap(), 0);
    assert_eq!(col(&r, wb, "atomic_ok_pct").as_f64().unwrap(), 100.0);
    // Atomic is linearizable: the two columns agree.
    for row in [one, wb] {
        assert_eq!(
            col(&r, row, "atomic_ok_pct"),
            col(&r, row, "linearizable_pct")
        );
    }
    // n = 3, no faults: a single-writer write and a one-phase read are one round trip
    // (2(n-1) = 4 messages), a write-back read two (8).
    assert_eq!(col(&r, one, "msgs_per_write").as_f64().unwrap(), 4.0);
    assert_eq!(col(&r, one, "msgs_per_read").as_f64().unwrap(), 4.0);
    assert_eq!(col(&r, wb, "msgs_per_read").as_f64().unwrap(), 8.0);
}

#[test]
fn both_experiments_are_deterministic() {
    let opts = ExpOptions {
        seed: 7,
        runs: Some(3),
        quick: true,
    };
    for run in [abd::run, register_semantics::run] {
        let a = run(&opts, &mut NoProgress).unwrap();
        let b = run(&opts, &mut NoProgress).unwrap();
        assert_eq!(a.to_json(), b.to_json());
    }
}

/// The full runs (`synod experiment ID` without `--quick`): verdicts as on the quick runs.
/// Ignored by default (about a second each in release); run with `--ignored`.
#[test]
#[ignore]
fn full_runs() {
    let opts = ExpOptions {
        seed: 1,
        runs: None,
        quick: false,
    };
    let a = abd::run(&opts, &mut NoProgress).unwrap();
    println!("{}", a.to_text());
    assert_eq!(a.claim.verdict, ClaimVerdict::ViolatedAsExpected);
    let r = register_semantics::run(&opts, &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds);
}

/// The quick runs' verdicts do not hang on one lucky seed.
#[test]
fn quick_verdicts_hold_for_other_seeds() {
    for seed in 2..=6 {
        let a = abd::run(&quick(seed), &mut NoProgress).unwrap();
        assert_eq!(
            a.claim.verdict,
            ClaimVerdict::ViolatedAsExpected,
            "seed {seed}: {}",
            a.to_text()
        );
        let r = register_semantics::run(&quick(seed), &mut NoProgress).unwrap();
        assert_eq!(
            r.claim.verdict,
            ClaimVerdict::Holds,
            "seed {seed}: {}",
            r.to_text()
        );
    }
}
