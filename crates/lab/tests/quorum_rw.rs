//! The `quorum-rw` experiment and the Dynamo catalog entries: the claim on a quick run, each
//! row against quorum theory (R + W > N: no stale read, regular histories, linearizable with
//! write-back), determinism, and soaks of the entries (clean) and canaries (caught).

use serde_json::Value;
use synod_core::Instant;
use synod_lab::catalog::find_protocol;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, ExperimentReport, NoProgress};
use synod_lab::experiments::quorum_rw;
use synod_lab::runner::SimSpec;

fn col<'a>(report: &'a ExperimentReport, row: &'a [Value], key: &str) -> &'a Value {
    let i = report
        .columns
        .iter()
        .position(|c| c.key == key)
        .unwrap_or_else(|| panic!("no column {key}"));
    &row[i]
}

#[test]
fn quorum_rw_claim_holds_and_rows_follow_quorum_intersection() {
    let opts = ExpOptions {
        seed: 1,
        runs: None,
        quick: true,
    };
    let r = quorum_rw::run(&opts, &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.to_text());
    let stale_keys = [
        "stale_pct_t0",
        "stale_pct_t1",
        "stale_pct_t5",
        "stale_pct_t20",
    ];
    let mut lin_violations = false;
    for row in &r.rows {
        let quorum = col(&r, row, "quorum").as_str().unwrap();
        let (rq, wq) = (
            col(&r, row, "r").as_u64().unwrap(),
            col(&r, row, "w").as_u64().unwrap(),
        );
        // R + W > N decided independently of the protocol's own helper.
        let overlap = rq + wq > 3;
        assert_eq!(col(&r, row, "overlap").as_bool(), Some(overlap), "{row:?}");
        let stale: Vec<Option<f64>> = stale_keys
            .iter()
            .map(|k| col(&r, row, k).as_f64())
            .collect();
        match quorum {
            "strict" if overlap => {
                assert!(stale.iter().all(|s| *s == Some(0.0)), "{row:?}");
                assert_eq!(col(&r, row, "regular_pct").as_f64(), Some(100.0), "{row:?}");
                assert_eq!(
                    col(&r, row, "linearizable_write_back_pct").as_f64(),
                    Some(100.0),
                    "{row:?}"
                );
                lin_violations |= col(&r, row, "linearizable_pct").as_f64() < Some(100.0);
            }
            "strict" => {
                assert!(stale[0] > Some(0.0), "{row:?}");
                assert!(stale[3] < stale[0], "{row:?}");
            }
            "sloppy, partition" => {
                assert!(overlap);
                assert!(stale[0] > Some(0.0), "{row:?}");
            }
            "strict, partition" => {
                // No write completes, so no probe read is issued.
                assert!(stale.iter().all(|s| s.is_none()), "{row:?}");
            }
            other => panic!("unexpected row {other}"),
        }
    }
    assert!(
        lin_violations,
        "some R + W > N history must not be linearizable"
    );
}

#[test]
fn quorum_rw_is_deterministic() {
    let opts = ExpOptions {
        seed: 7,
        runs: Some(3),
        quick: true,
    };
    let a = quorum_rw::run(&opts, &mut NoProgress).unwrap().to_json();
    let b = quorum_rw::run(&opts, &mut NoProgress).unwrap().to_json();
    assert_eq!(a, b);
}

/// Runs `name` on `seeds` seeds; returns on how many every property held.
fn clean_seeds(name: &str, seeds: u64, chaos: bool) -> u64 {
    let entry = find_protocol(name).unwrap();
    let mut clean = 0;
    for seed in 0..seeds {
        let mut spec = SimSpec::new(3, seed);
        spec.until = Instant::from_secs(5);
        if chaos {
            spec.chaos = Some(synod_lab::chaos::default_until(spec.until));
            spec.network.loss = synod_core::Ratio::from_ppm(50_000);
            spec.network.duplicate = synod_core::Ratio::from_ppm(50_000);
        }
        let report = (entry.run)(&spec).unwrap();
        if report.all_hold() {
            clean += 1;
        } else {
            assert!(entry.canary, "{name} seed {seed}: {:?}", report.properties);
        }
    }
    clean
}

#[test]
fn dynamo_entries_hold_and_canaries_are_caught() {
    assert_eq!(clean_seeds("dynamo", 100, false), 100);
    assert_eq!(clean_seeds("dynamo", 100, true), 100);
    assert_eq!(clean_seeds("dynamo-write-back", 20, true), 20);
    assert!(clean_seeds("dynamo-r1w1", 20, false) <= 2);
    assert!(clean_seeds("dynamo-sloppy", 20, false) <= 2);
}
