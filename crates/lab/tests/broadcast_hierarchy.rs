//! `broadcast-hierarchy`: the claim holds on the quick run (beb breaks agreement, rb is not
//! uniform, urb is; eager rb costs n(n-1) messages per broadcast and lazy rb n-1 without
//! crashes), checked on the table's cells against the formulas, and the report is the same
//! for the same seed.

use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::broadcast_hierarchy;

fn quick(seed: u64) -> synod_lab::experiment::ExperimentReport {
    let opts = ExpOptions {
        seed,
        runs: None,
        quick: true,
    };
    broadcast_hierarchy::run(&opts, &mut NoProgress).expect("the experiment runs")
}

fn cell<'a>(
    r: &'a synod_lab::experiment::ExperimentReport,
    row: &str,
    key: &str,
) -> &'a serde_json::Value {
    let col = r
        .columns
        .iter()
        .position(|c| c.key == key)
        .unwrap_or_else(|| panic!("no column {key}"));
    let row = r
        .rows
        .iter()
        .find(|x| x[0] == row)
        .unwrap_or_else(|| panic!("no row {row}"));
    &row[col]
}

#[test]
fn the_hierarchy_shows_in_the_counts_and_the_report_is_reproducible() {
    let r = quick(1);
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.claim.text);
    let count = |row: &str, key: &str| cell(&r, row, key).as_u64().expect("a count");
    let msgs = |row: &str| cell(&r, row, "msgs_per_bcast").as_f64().expect("a number");
    // Theory, cell by cell (n = 5).
    assert!(count("beb", "agreement") > 0);
    for rb in ["eager-rb", "lazy-rb (P)"] {
        assert_eq!(count(rb, "agreement"), 0, "{rb}");
        assert!(count(rb, "uniform_agreement") > 0, "{rb}");
    }
    for urb in ["majority-ack-urb", "all-ack-urb (P)"] {
        assert_eq!(count(urb, "agreement"), 0, "{urb}");
        assert_eq!(count(urb, "uniform_agreement"), 0, "{urb}");
    }
    // Without crashes the counts are exact: every process relays once, or only the sender
    // sends.
    assert_eq!(msgs("eager-rb"), 20.0);
    assert_eq!(msgs("majority-ack-urb"), 20.0);
    assert_eq!(msgs("all-ack-urb (P)"), 20.0);
    assert_eq!(msgs("beb"), 4.0);
    assert_eq!(msgs("lazy-rb (P)"), 4.0);
    // Gossip (fanout 2, 3 rounds) costs at most 2 + 4 + 8 per broadcast.
    assert!(msgs("gossip") <= 14.0);
    // Each order kept by its own row, and the next one broken.
    assert_eq!(count("fifo-urb", "fifo"), 0);
    assert_eq!(count("causal (eager rb)", "causal"), 0);
    assert!(count("causal (eager rb)", "total_order") > 0);
    assert_eq!(count("tob (multi-paxos)", "total_order"), 0);
    // Same seed, same report.
    assert_eq!(r.to_json(), quick(1).to_json());
}
