//! Primary-backup and chain replication in the lab: the catalog entries over seeds (about 100
//! in all; the 1,000-seed soaks are `synod soak NAME --seeds 1000`), the `split-brain` and
//! `chain-vs-pb` claims on quick runs, the numbers theory gives, and determinism.

use serde_json::Value;
use synod_core::{Instant, Ratio};
use synod_lab::catalog::find_protocol;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, ExperimentReport, NoProgress};
use synod_lab::experiments::{chain_vs_pb, split_brain};
use synod_lab::runner::SimSpec;
use synod_lab::soak::{soak, SoakReport};

fn quick(seed: u64) -> ExpOptions {
    ExpOptions {
        seed,
        runs: None,
        quick: true,
    }
}

fn col<'a>(report: &'a ExperimentReport, row: &'a [Value], key: &str) -> &'a Value {
    let i = report
        .columns
        .iter()
        .position(|c| c.key == key)
        .unwrap_or_else(|| panic!("no column {key}"));
    &row[i]
}

fn soak_entry(name: &str, spec: &SimSpec, seeds: u64) -> SoakReport {
    let entry = find_protocol(name).unwrap();
    soak(&entry, spec, 0..seeds, 2, &mut NoProgress).unwrap()
}

fn violated(r: &SoakReport, property: &str) -> u64 {
    r.properties
        .iter()
        .find(|(n, _, _)| n == property)
        .unwrap_or_else(|| panic!("no property {property}"))
        .2
        .violated
}

#[test]
fn the_safe_entries_hold_on_every_seed_and_the_canaries_are_caught() {
    let spec = SimSpec::new(3, 0);
    for (name, seeds) in [
        ("primary-backup", 20),
        ("primary-backup-lease", 20),
        ("chain", 20),
    ] {
        let r = soak_entry(name, &spec, seeds);
        assert!(r.clean(), "{name}:\n{}", r.to_text());
    }
    // Chain replication with chaos (crashes of every node, the master included, partitions,
    // omission windows), 5% loss and 5% duplication.
    let mut chaos = SimSpec::new(3, 0);
    chaos.chaos = Some(synod_lab::chaos::default_until(chaos.until));
    chaos.network.loss = Ratio::from_ppm(50_000);
    chaos.network.duplicate = Ratio::from_ppm(50_000);
    let r = soak_entry("chain", &chaos, 30);
    assert!(r.clean(), "chain --chaos:\n{}", r.to_text());
    for canary in ["primary-backup-diamond-p", "chain-no-lease"] {
        let r = soak_entry(canary, &spec, 5);
        assert!(
            violated(&r, "linearizable") > 0,
            "{canary} not caught:\n{}",
            r.to_text()
        );
    }
    assert!(Instant::ZERO < spec.until);
}

#[test]
fn split_brain_only_under_diamond_p() {
    let r = split_brain::run(&quick(1), &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.to_text());
    for row in &r.rows {
        let name = col(&r, row, "failover").as_str().unwrap();
        let lost = col(&r, row, "lost_acked_writes").as_u64().unwrap();
        let stale = col(&r, row, "stale_reads").as_u64().unwrap();
        let lin = col(&r, row, "linearizable_pct").as_f64().unwrap();
        if name.starts_with("◇P + leases") || name.starts_with("P (crash") {
            assert_eq!((lost, stale, lin), (0, 0, 100.0), "{name}");
        } else if name.starts_with("◇P") {
            assert!(lost + stale > 0 && lin < 100.0, "{name}");
        }
    }
    let again = split_brain::run(&quick(1), &mut NoProgress).unwrap();
    assert_eq!(r.to_json(), again.to_json());
}

#[test]
fn chain_latency_grows_with_length_and_reads_stay_one_hop() {
    let r = chain_vs_pb::run(&quick(3), &mut NoProgress).unwrap();
    println!("{}", r.to_text());
    assert_eq!(r.claim.verdict, ClaimVerdict::Holds, "{}", r.to_text());
    // Theory, with d = 5 ms per message: chain update (len+1)·d, read 2·d, len+1 messages;
    // primary-backup 4·d, 2·d, 2·len messages.
    for row in &r.rows {
        let len = col(&r, row, "len").as_f64().unwrap();
        assert_eq!(
            col(&r, row, "chain_update_ms").as_f64(),
            Some((len + 1.0) * 5.0)
        );
        assert_eq!(col(&r, row, "chain_read_ms").as_f64(), Some(10.0));
        assert_eq!(
            col(&r, row, "chain_msgs_per_update").as_f64(),
            Some(len + 1.0)
        );
        assert_eq!(
            col(&r, row, "chain_acks_per_update").as_f64(),
            Some(len - 1.0)
        );
        assert_eq!(col(&r, row, "pb_update_ms").as_f64(), Some(20.0));
        assert_eq!(col(&r, row, "pb_msgs_per_update").as_f64(), Some(2.0 * len));
    }
    let again = chain_vs_pb::run(&quick(3), &mut NoProgress).unwrap();
    assert_eq!(r.to_json(), again.to_json());
}
