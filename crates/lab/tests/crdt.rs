//! CRDTs in the lab: the `crdt-convergence` claim holds and its JSON is deterministic; the
//! catalog's CRDT entries pass strong eventual consistency over seeds (with chaos too) and the
//! canaries fail it; the LWW register store converges while its register history is not
//! linearizable.

use synod_core::{check_all, Instant, Ratio};
use synod_lab::catalog::find_protocol;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::crdt_convergence;
use synod_lab::runner::SimSpec;
use synod_lab::workloads::{linearizable_register, RegisterClients};
use synod_protocols::replication::crdt::{crdt_properties, LwwRegisterStore};
use synod_sim::{Simulation, Timing};

#[test]
fn claim_holds_and_json_is_deterministic() {
    let opts = ExpOptions {
        seed: 5,
        runs: Some(10),
        quick: true,
    };
    let a = crdt_convergence::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.claim.text);
    let b = crdt_convergence::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.to_json()["claim"]["verdict"], "HOLDS");
}

/// Seeds of `seeds` on which some property of catalog entry `name` was violated.
fn violations(name: &str, seeds: std::ops::Range<u64>, chaos: bool) -> usize {
    let entry = find_protocol(name).unwrap();
    seeds
        .filter(|&seed| {
            let mut spec = SimSpec::new(3, seed);
            spec.until = Instant::from_secs(5);
            if chaos {
                spec.chaos = Some(Instant::from_secs(3));
                spec.network.loss = Ratio::from_ppm(100_000);
                spec.network.duplicate = Ratio::from_ppm(200_000);
            }
            !(entry.run)(&spec).unwrap().all_hold()
        })
        .count()
}

#[test]
fn catalog_crdts_converge_and_canaries_do_not() {
    for name in [
        "crdt-gcounter",
        "crdt-pncounter",
        "crdt-orset",
        "crdt-mvregister",
        "crdt-lww-register",
    ] {
        assert_eq!(violations(name, 0..40, false), 0, "{name}");
        assert_eq!(violations(name, 100..140, true), 0, "{name} --chaos");
    }
    assert!(violations("naive-opcounter", 0..20, false) >= 15);
    assert!(violations("naive-set", 0..20, false) >= 5);
}

#[test]
fn lww_register_converges_but_is_not_linearizable() {
    // Register clients on three replicas with no faults at all: every run converges, and the
    // linearizability checker finds stale reads (a read at one replica missing a write already
    // acknowledged at another) on some seeds.
    let mut props = crdt_properties::<LwwRegisterStore>(synod_core::Duration::from_secs(1));
    props.push(linearizable_register());
    let mut not_linearizable = 0;
    for seed in 0..20 {
        let mut cfg = synod_sim::SimConfig::new(3, seed);
        cfg.until = Instant::from_secs(4);
        cfg.timing = Timing::Asynchronous;
        let out = Simulation::new(LwwRegisterStore::default(), cfg)
            .unwrap()
            .with_workload(RegisterClients::new(10, Instant::ZERO).with_reads(3))
            .run();
        let r = check_all(&props, &out.trace);
        assert!(!r[0].verdict.is_violated(), "seed {seed}: {:?}", r[0]);
        assert!(!r[1].verdict.is_violated(), "seed {seed}: {:?}", r[1]);
        not_linearizable += usize::from(r[2].verdict.is_violated());
    }
    assert!(
        not_linearizable > 0,
        "no stale read in 20 seeds: the store looks linearizable"
    );
}
