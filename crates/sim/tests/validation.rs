//! `Simulation::new` rejects impossible configurations with a message that names the problem.

mod common;

use common::*;
use synod_core::{Duration, Instant, NodeId, Ratio};
use synod_sim::{
    ClockSkew, Crash, Cut, FaultSchedule, Omission, OmissionKind, Partition, SimConfig, Simulation,
    Timing,
};

fn rejection(cfg: SimConfig) -> String {
    match Simulation::new(Chatter::broadcast(ms(10)), cfg) {
        Ok(_) => panic!("the configuration was accepted"),
        Err(e) => e.to_string(),
    }
}

fn with(n: usize, f: impl FnOnce(&mut FaultSchedule)) -> SimConfig {
    let mut cfg = SimConfig::new(n, 1);
    f(&mut cfg.faults);
    cfg
}

fn assert_mentions(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "error {msg:?} does not mention {w:?}");
    }
}

#[test]
fn zero_nodes_is_rejected() {
    let msg = rejection(SimConfig::new(0, 1));
    assert_mentions(&msg, &["at least one node"]);
}

#[test]
fn a_crash_of_a_node_that_does_not_exist_is_rejected() {
    let msg = rejection(with(3, |f| f.add_crash_spec("n5@1s").expect("spec")));
    assert_mentions(&msg, &["crash", "n5", "3 nodes", "n0..n2"]);
    // The boundary: n3 does not exist in a 3-node run, n2 does.
    let msg = rejection(with(3, |f| f.add_crash_spec("n3@1s").expect("spec")));
    assert_mentions(&msg, &["crash", "n3"]);
    assert!(Simulation::new(
        Chatter::broadcast(ms(10)),
        with(3, |f| f.add_crash_spec("n2@1s").expect("spec"))
    )
    .is_ok());
}

#[test]
fn a_partition_that_heals_before_it_starts_is_rejected() {
    let msg = rejection(with(3, |f| {
        f.add_partition_spec("n0|n1@2s..1s").expect("spec")
    }));
    assert_mentions(&msg, &["partition", "starts at 2s", "heals at 1s"]);
    // An empty window is no partition either.
    let msg = rejection(with(3, |f| {
        f.partitions.push(Partition {
            cut: Cut::OneWay {
                from: vec![NodeId(0)],
                to: vec![NodeId(1)],
            },
            from: Instant::from_secs(1),
            until: Instant::from_secs(1),
        })
    }));
    assert_mentions(&msg, &["partition"]);
}

#[test]
fn a_partition_naming_a_missing_node_or_a_node_twice_is_rejected() {
    let msg = rejection(with(3, |f| {
        f.add_partition_spec("n0|n7@1s..2s").expect("spec")
    }));
    assert_mentions(&msg, &["partition", "n7"]);
    let msg = rejection(with(3, |f| {
        f.add_partition_spec("n0,n1|n1,n2@1s..2s").expect("spec")
    }));
    assert_mentions(&msg, &["n1", "two groups"]);
}

#[test]
fn a_recovery_without_a_prior_crash_is_rejected() {
    let msg = rejection(with(3, |f| f.add_recover_spec("n1@2s").expect("spec")));
    assert_mentions(&msg, &["n1", "recovers", "never crashes"]);
    // A crash after the recovery does not count as prior.
    let msg = rejection(with(3, |f| {
        f.add_crash_spec("n1@3s").expect("spec");
        f.add_recover_spec("n1@2s").expect("spec");
    }));
    assert_mentions(&msg, &["n1", "never crashes before"]);
    // Nor does a crash of another node.
    let msg = rejection(with(3, |f| {
        f.add_crash_spec("n0@1s").expect("spec");
        f.add_recover_spec("n1@2s").expect("spec");
    }));
    assert_mentions(&msg, &["n1"]);
    // With a prior crash it is fine.
    let ok = with(3, |f| {
        f.crashes.push(Crash {
            node: NodeId(1),
            at: Instant::from_secs(1),
            partial_send: false,
        });
        f.add_recover_spec("n1@2s").expect("spec");
    });
    assert!(Simulation::new(Chatter::broadcast(ms(10)), ok).is_ok());
}

#[test]
fn bad_omission_windows_and_clocks_are_rejected() {
    let msg = rejection(with(3, |f| {
        f.omissions.push(Omission {
            node: NodeId(0),
            kind: OmissionKind::Send,
            probability: Ratio::ALWAYS,
            from: Instant::from_secs(2),
            until: Instant::from_secs(1),
        })
    }));
    assert_mentions(&msg, &["omission", "2s", "1s"]);
    let msg = rejection(with(3, |f| {
        f.add_omission_spec("n9:send=0.5@0s..1s").expect("spec")
    }));
    assert_mentions(&msg, &["omission", "n9"]);
    let msg = rejection(with(3, |f| {
        f.clocks.push((
            NodeId(1),
            ClockSkew {
                drift_ppm: -1_000_000,
                offset: Duration::ZERO,
            },
        ))
    }));
    assert_mentions(&msg, &["n1", "drift"]);
    let msg = rejection(with(2, |f| {
        f.add_clock_spec("n2:drift=5ppm").expect("spec")
    }));
    assert_mentions(&msg, &["clock", "n2"]);
}

#[test]
fn degenerate_timing_is_rejected() {
    let mut cfg = SimConfig::new(3, 1);
    cfg.timing = Timing::Synchronous {
        delta: Duration::ZERO,
    };
    assert_mentions(&rejection(cfg), &["delta"]);
    let mut cfg = SimConfig::new(3, 1);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_secs(1),
        delta: Duration::ZERO,
    };
    assert_mentions(&rejection(cfg), &["delta"]);
    let mut cfg = SimConfig::new(3, 1);
    cfg.timing = Timing::Lockstep {
        round: Duration::from_nanos(1),
    };
    assert_mentions(&rejection(cfg), &["lockstep", "round"]);
}

#[test]
fn malformed_specs_are_rejected_before_the_run() {
    let mut f = FaultSchedule::default();
    assert_mentions(
        &f.add_crash_spec("n1-2s").unwrap_err().0,
        &["crash", "n1@2s"],
    );
    assert_mentions(&f.add_crash_spec("x@2s").unwrap_err().0, &["node id"]);
    assert_mentions(&f.add_crash_spec("n1@soon").unwrap_err().0, &["duration"]);
    assert_mentions(
        &f.add_partition_spec("n0,n1@1s..2s").unwrap_err().0,
        &["partition"],
    );
    assert_mentions(
        &f.add_partition_spec("n0|n1@1s").unwrap_err().0,
        &["window"],
    );
    assert_mentions(
        &f.add_omission_spec("n0:drop=0.5@0s..1s").unwrap_err().0,
        &["omission"],
    );
    assert_mentions(
        &f.add_omission_spec("n0:send=1.5@0s..1s").unwrap_err().0,
        &["outside 0..1"],
    );
    assert_mentions(&f.add_clock_spec("n0:skew=3").unwrap_err().0, &["clock"]);
    assert!(f.is_empty(), "a rejected spec must not be half-added");
}
