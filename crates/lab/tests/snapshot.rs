//! Global snapshots over many seeds: Chandy–Lamport on FIFO channels and Lai–Yang on
//! reordering channels record consistent cuts that conserve the bank's total on every seed;
//! the canary that skips markers and Chandy–Lamport on reordering channels are caught; the
//! `snapshot` experiment is deterministic and its claim holds.

use synod_core::{check_all, Duration, Instant, NodeId};
use synod_lab::catalog::find_protocol;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::snapshot;
use synod_lab::runner::SimSpec;
use synod_protocols::snapshot::properties::{audit_conserved, snapshot_properties};
use synod_protocols::snapshot::{Bank, ChandyLamport, LaiYang, Schedule, SnapshotLayer};
use synod_sim::{Idle, SimConfig, Simulation, Timing};

const N: usize = 4;

fn bank() -> Bank {
    Bank::new(
        1000,
        Duration::from_millis(5),
        100,
        Instant::from_millis(900),
    )
}

fn schedule() -> Schedule {
    Schedule {
        initiator: Some(NodeId(0)),
        first: Duration::from_millis(20),
        period: Duration::from_millis(25),
        stop: Instant::from_millis(700),
    }
}

fn config(seed: u64, fifo: bool) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.network.fifo = fifo;
    cfg.until = Instant::from_secs(3);
    cfg
}

/// Over `seeds`, the number of seeds on which some property was violated, and the number of
/// complete snapshots judged.
fn soak<P: SnapshotLayer<App = Bank>>(
    make: impl Fn() -> P,
    fifo: bool,
    seeds: std::ops::Range<u64>,
) -> (u64, u64) {
    let props = snapshot_properties::<P>(bank());
    let (mut bad, mut snaps) = (0, 0);
    for seed in seeds {
        let out = Simulation::new(make(), config(seed, fifo))
            .unwrap()
            .with_workload(Idle)
            .run();
        if check_all(&props, &out.trace)
            .iter()
            .any(|r| r.verdict.is_violated())
        {
            bad += 1;
        }
        let a = audit_conserved(&out.trace, &bank());
        snaps += a.snapshots.iter().filter(|s| s.complete(N)).count() as u64;
    }
    (bad, snaps)
}

#[test]
fn chandy_lamport_on_fifo_channels_is_consistent_on_every_seed() {
    let (bad, snaps) = soak(
        || ChandyLamport::new(bank()).with_schedule(schedule()),
        true,
        0..100,
    );
    assert_eq!(bad, 0);
    assert!(snaps >= 100 * 20, "not vacuous: {snaps} snapshots judged");
}

#[test]
fn lai_yang_on_reordering_channels_is_consistent_on_every_seed() {
    let (bad, snaps) = soak(
        || LaiYang::new(bank()).with_schedule(schedule()),
        false,
        0..100,
    );
    assert_eq!(bad, 0);
    assert!(snaps >= 100 * 20, "not vacuous: {snaps} snapshots judged");
}

#[test]
fn chandy_lamport_on_reordering_channels_is_caught() {
    let (bad, _) = soak(
        || ChandyLamport::new(bank()).with_schedule(schedule()),
        false,
        0..20,
    );
    assert!(bad > 0, "a message must overtake a marker on some seed");
}

#[test]
fn the_missing_marker_canary_is_caught() {
    let (bad, _) = soak(
        || ChandyLamport::canary_missing_marker(bank()).with_schedule(schedule()),
        true,
        0..20,
    );
    assert!(bad > 0);
}

#[test]
fn chandy_lamport_sends_one_marker_per_directed_channel() {
    let out = Simulation::new(
        ChandyLamport::new(bank()).with_schedule(schedule()),
        config(7, true),
    )
    .unwrap()
    .run();
    let a = audit_conserved(&out.trace, &bank());
    assert!(!a.snapshots.is_empty());
    for s in &a.snapshots {
        assert_eq!(
            s.control_messages,
            (N * (N - 1)) as u64,
            "snapshot {}",
            s.snap
        );
    }
}

#[test]
fn catalog_entries_hold_and_canaries_are_caught() {
    for (name, clean) in [
        ("chandy-lamport", true),
        ("lai-yang", true),
        ("chandy-lamport-missing-marker", false),
        ("chandy-lamport-reorder", false),
        ("naive-clock-snapshot", false),
    ] {
        let entry = find_protocol(name).unwrap();
        assert_eq!(entry.canary, !clean, "{name}");
        let mut spec = SimSpec::new(3, 1);
        spec.until = Instant::from_secs(3);
        let report = (entry.run)(&spec).unwrap();
        assert_eq!(report.all_hold(), clean, "{name}: {:?}", report.properties);
        let termination = report
            .properties
            .iter()
            .find(|p| p.name == "termination")
            .unwrap();
        assert_eq!(termination.verdict.name(), "holds", "{name}");
    }
}

#[test]
fn the_experiment_is_deterministic_and_its_claim_holds() {
    let opts = ExpOptions {
        seed: 3,
        runs: Some(1),
        quick: true,
    };
    let a = snapshot::run(&opts, &mut NoProgress).unwrap();
    let b = snapshot::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.to_text());
}
