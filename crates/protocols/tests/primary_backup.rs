//! Primary-backup under the simulator. With the perfect detector under its model (synchrony,
//! no loss, crash-stop) every history is linearizable and every operation that arrived at a
//! node that stays up completes, across seeds, primary crashes (some part-way through a send)
//! and a backup crash; with ◇P and a partition cutting the primary off, some history is not
//! linearizable (split brain); with leases and majority views, every history is.
//! Linearizability is checked by brute force (every order of at most 10 operations).

use synod_core::{Duration, Instant, NodeId, Prng};
use synod_protocols::replication::primary_backup::PrimaryBackup;
use synod_sim::{SimConfig, SimOutcome, Simulation, Timing};
mod common;

use common::{history, linearizable, Clients};
fn run(pb: PrimaryBackup, cfg: SimConfig, clients: Clients) -> SimOutcome<PrimaryBackup> {
    Simulation::new(pb, cfg)
        .unwrap()
        .with_workload(clients)
        .run()
}

fn sync_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(3, seed);
    cfg.until = Instant::from_secs(4);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg
}

#[test]
fn perfect_detector_failover_is_linearizable_and_live() {
    for seed in 0..80 {
        let mut prng = Prng::new(seed);
        let mut cfg = sync_config(seed);
        let at = 200 + prng.below(1300);
        let partial = if prng.below(2) == 0 { ":partial" } else { "" };
        cfg.faults
            .add_crash_spec(&format!("n0@{at}ms{partial}"))
            .unwrap();
        if seed % 2 == 0 {
            // A second crash: the new primary or the last backup; one replica survives.
            let second = 1 + prng.below(2);
            cfg.faults
                .add_crash_spec(&format!("n{second}@{}ms", at + 100 + prng.below(800)))
                .unwrap();
        }
        let crashed: Vec<NodeId> = cfg.faults.crashes.iter().map(|c| c.node).collect();
        let out = run(
            PrimaryBackup::perfect(),
            cfg,
            Clients::new(3, 2, (Instant::ZERO, Instant::from_millis(2000))),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: not linearizable: {h:?}");
        for op in &h {
            if !crashed.contains(&op.node) {
                assert!(
                    op.done.is_some(),
                    "seed {seed}: {op:?} at a live node was never answered"
                );
            }
        }
    }
}

fn partition_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(3, seed);
    cfg.until = Instant::from_secs(5);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_secs(3),
        delta: Duration::from_millis(20),
    };
    cfg.faults
        .add_partition_spec("n0|n1,n2@1s..2500ms")
        .unwrap();
    cfg
}

/// Writes and reads inside the partition, so both sides of a split brain get clients.
fn partition_clients() -> Clients {
    Clients::new(
        3,
        2,
        (Instant::from_millis(1200), Instant::from_millis(2300)),
    )
}

#[test]
fn eventually_perfect_detector_splits_the_brain() {
    let broken = (0..60)
        .filter(|&seed| {
            let out = run(
                PrimaryBackup::eventually_perfect(),
                partition_config(seed),
                partition_clients(),
            );
            !linearizable(&history(&out.trace))
        })
        .count();
    assert!(broken > 0, "no split brain in 60 seeds");
}

#[test]
fn leases_and_majority_views_stay_linearizable_and_recover() {
    for seed in 0..60 {
        let out = run(
            PrimaryBackup::with_leases(),
            partition_config(seed),
            partition_clients(),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: not linearizable: {h:?}");
        assert!(
            h.iter().all(|op| op.done.is_some()),
            "seed {seed}: an operation was never answered after the partition healed: {h:?}"
        );
    }
}
