//! The consensus entries of the model-checking catalog (`synod check NAME`), run the way the
//! CLI runs them: Multi-Paxos with dueling proposers and Chandra-Toueg with arbitrary
//! suspicions are explored completely within their boundaries with no violation, and each
//! one's canary is caught with a counterexample that replays to the same failing property.

use synod_check::CheckOptions;
use synod_lab::checks::{find_check, CheckOutcome, CheckSpec};

fn run(name: &str) -> CheckOutcome {
    let entry = find_check(name).unwrap();
    let opts = CheckOptions {
        threads: 2,
        ..CheckOptions::default()
    };
    (entry.run)(&CheckSpec::default(), &opts, &mut |_| {}).unwrap()
}

fn assert_verified(name: &str, sometimes: &[&str]) -> CheckOutcome {
    let out = run(name);
    assert!(
        out.complete,
        "{name}: the search must exhaust the bounded space"
    );
    assert!(
        out.boundary_hit,
        "{name}: the boundary is what makes it finite"
    );
    assert!(
        out.violations.is_empty(),
        "{name} violated {:?}",
        out.violations
            .iter()
            .map(|v| &v.property)
            .collect::<Vec<_>>()
    );
    let found: Vec<&str> = out
        .discoveries
        .iter()
        .map(|d| d.property.as_str())
        .collect();
    for p in sometimes {
        assert!(
            found.contains(p),
            "{name}: sometimes {p} not found: {found:?}"
        );
    }
    out
}

/// The canary's first violation is `property`, with a path that replays to a last state where
/// `always property` fails (and no earlier prefix is reported as the finding).
fn assert_caught(name: &str, property: &str, max_steps: usize) {
    let out = run(name);
    let v = out
        .violations
        .first()
        .unwrap_or_else(|| panic!("{name}: no violation found"));
    assert_eq!(v.property, property, "{name}");
    assert_eq!(v.expectation, "always", "{name}");
    assert!(
        !v.path.is_empty() && v.path.len() <= max_steps,
        "{name}: {} steps",
        v.path.len()
    );
    assert!(v.svg.contains("<svg"), "{name}: a diagram");
    let entry = find_check(name).unwrap();
    let replayed = (entry.replay)(&CheckSpec::default(), &v.path).unwrap();
    assert_eq!(
        replayed.steps, v.steps,
        "{name}: the replay takes the same steps"
    );
    assert!(
        replayed.failing.contains(&format!("always {property}")),
        "{name}: the replayed path ends where {property} fails: {:?}",
        replayed.failing
    );
}

#[test]
fn multi_paxos_is_verified_within_its_boundary() {
    let out = assert_verified(
        "multi-paxos",
        &["every write is answered", "a pre-empting proposer leads"],
    );
    // `synod check multi-paxos` (release, 2 threads): the counts do not depend on the threads.
    assert_eq!(out.unique_states, 409_670);
    assert_eq!(
        out.model.get("boundary"),
        Some("ballot rounds <= 3, at most 6 messages in flight")
    );
}

#[test]
fn multi_paxos_skip_repropose_overwrites_a_chosen_write() {
    assert_caught("multi-paxos-skip-repropose", "agreement per slot", 15);
}

#[test]
fn chandra_toueg_is_verified_within_its_boundary() {
    let out = assert_verified(
        "chandra-toueg",
        &["a process decides", "a process decides in round 2 or later"],
    );
    assert_eq!(out.unique_states, 1_715_515);
    assert_eq!(out.model.get("boundary"), Some("rounds <= 3"));
}

#[test]
fn chandra_toueg_lowest_timestamp_decides_two_values() {
    assert_caught("chandra-toueg-lowest-timestamp", "agreement", 8);
}

#[test]
fn the_new_entries_report_the_same_json_fields_as_the_others() {
    let keys = |o: &CheckOutcome| {
        let j = o.to_json(&vec![None; o.violations.len()]);
        let mut k: Vec<String> = j.as_object().unwrap().keys().cloned().collect();
        k.sort();
        let mut m: Vec<String> = j["model"].as_object().unwrap().keys().cloned().collect();
        m.sort();
        (k, m)
    };
    let reference = keys(&run("paxos-forgets-promise"));
    for name in [
        "multi-paxos-skip-repropose",
        "chandra-toueg-lowest-timestamp",
    ] {
        assert_eq!(keys(&run(name)), reference, "{name}");
    }
}
