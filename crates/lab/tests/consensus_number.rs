//! The consensus-number experiment: verdicts as Herlihy's hierarchy predicts, deterministic.

use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::find_experiment;

#[test]
fn verdicts_follow_the_hierarchy_and_repeat() {
    let e = find_experiment("consensus-number").unwrap();
    let opts = ExpOptions {
        seed: 1,
        runs: None,
        quick: true,
    };
    let a = (e.run)(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.claim.text);
    assert!(
        a.claim.text.contains("illustrates"),
        "the label says it is not a proof"
    );
    let row = |object: &str, n: &str| {
        a.rows
            .iter()
            .find(|r| r[0] == object && r[1] == n)
            .unwrap_or_else(|| panic!("row {object} {n}"))
            .clone()
    };
    // agreement column, verdict column
    assert_eq!(row("test-and-set", "2")[4], "ok");
    assert_eq!(row("test-and-set", "3")[4], "VIOLATION");
    assert_eq!(row("fifo-queue", "3")[4], "VIOLATION");
    assert_eq!(row("compare-and-swap", "4")[4], "ok");
    assert!(row("rw-register", "2")[6]
        .as_str()
        .unwrap()
        .contains("no protocol found"));
    let b = (e.run)(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
}
