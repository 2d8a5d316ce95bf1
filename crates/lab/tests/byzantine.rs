//! OM(m) under the round explorer's Byzantine enumeration and the traitor-strategy library: the
//! n > 3f bound, both sides. n = 3, f = 1 (OM(1)): the explorer finds a violation (IC2, a lying
//! lieutenant; a lying commander cannot break OM there, but breaks the "keep your own value"
//! canary, which is the three generals argument). n = 4, f = 1: nothing, over every forgery of
//! every traitor position. n = 6, f = 2 (OM(2)): some library strategy breaks it; n = 7, f = 2:
//! none does, for every placement and order.
//!
//! (This test lives in `synod-lab` because it is the crate that depends on both
//! `synod-protocols` and `synod-check`; the sweeps are the `byz-bound` experiment's.)

use std::collections::BTreeMap;
use synod_core::NodeId;
use synod_lab::experiments::byz_bound::{self, exhaustive, explore, strategies};
use synod_protocols::consensus::byzantine::{OralMessages, TraitorStrategy, COMMANDER};
use synod_protocols::consensus::NodeSet;

#[test]
fn n3_a_traitorous_lieutenant_breaks_ic2() {
    for traitor in [1, 2] {
        let r = explore(&OralMessages::new(1, 1), 3, &[NodeId(traitor)]);
        let c = r.violation.as_ref().expect("an IC2 violation");
        assert_eq!(c.property, "IC2", "{c}");
        assert_eq!(r.traitors, vec![NodeId(traitor)]);
        // The traitor relays the commander's order as the other value in round 1.
        let lie = &c.steps[1].forged;
        assert_eq!(lie.len(), 1, "{c}");
        assert_eq!(lie[0].from, NodeId(traitor));
        assert_eq!(lie[0].honest, format!("v(0,{traitor})=1"));
        assert!(c.nodes[traitor as usize].traitor);
        assert!(c.nodes[traitor as usize].indications.is_empty());
        let text = c.to_string();
        assert!(text.contains(&format!("traitor n{traitor} ")), "{text}");
        assert!(text.contains("(traitor)"), "{text}");
    }
    // With the default as the order the liar can only push towards what the commander said.
    let r = explore(&OralMessages::new(1, 0), 3, &[NodeId(2)]);
    assert!(r.holds() && r.complete, "{r}");
}

#[test]
fn n3_a_traitorous_commander_breaks_the_canary_not_om() {
    // OM: whatever the commander says, both loyal lieutenants see the same two values and
    // resolve them the same way. Exhaustive: 3 choices (nothing, 0, 1) per lieutenant.
    let r = explore(&OralMessages::new(1, 1), 3, &[COMMANDER]);
    assert!(r.holds() && r.complete, "{r}");
    assert_eq!(r.executions, 9);
    // Keep-own on a tie: the commander tells n1 and n2 different things and they keep them.
    let r = explore(&OralMessages::canary_keep_own(1, 1), 3, &[COMMANDER]);
    let c = r.violation.as_ref().expect("an IC1 violation");
    assert_eq!(c.property, "IC1", "{c}");
    // ... while a lying lieutenant cannot break the canary.
    let r = explore(&OralMessages::canary_keep_own(1, 1), 3, &[NodeId(2)]);
    assert!(r.holds() && r.complete, "{r}");
}

#[test]
fn n3_the_exhaustive_sweep_finds_violations() {
    let s = exhaustive(3, 1, 1, 2, false);
    assert_eq!(
        s.configs,
        1 + 2 * 2,
        "commander traitor once, each lieutenant × 2 orders"
    );
    assert!(s.violating > 0, "{s:?}");
    assert_eq!(s.property_list(), "IC2");
}

#[test]
fn n4_no_forgery_of_any_traitor_breaks_om1() {
    for values in [2u8, 3] {
        let s = exhaustive(4, 1, 1, values, false);
        assert_eq!(s.violating, 0, "values={values}: {:?}", s.example);
        assert_eq!(s.configs, 1 + 3 * u64::from(values));
        assert!(s.executions > 0 && s.states > 0);
    }
    // Each position on its own, the reports complete.
    for t in 0..4 {
        let r = explore(&OralMessages::new(1, 1), 4, &[NodeId(t)]);
        assert!(r.holds() && r.complete, "traitor n{t}: {r}");
    }
    // A traitorous commander: 3 choices for each of 3 lieutenants.
    let r = explore(&OralMessages::new(1, 0), 4, &[COMMANDER]);
    assert_eq!(r.executions, 27);
}

#[test]
fn n4_crashes_and_traitors_combine() {
    // One crash is a (weak) Byzantine failure: OM(1) on four survives it.
    let r = byz_bound::explorer(&OralMessages::new(1, 1), 4, &[])
        .crashes(1)
        .explore();
    assert!(r.holds() && r.complete, "{r}");
    // A traitor and a crash are two faults among four: the crash adversary and the Byzantine
    // one together find the violation, and it needs both.
    let r = byz_bound::explorer(&OralMessages::new(1, 1), 4, &[NodeId(3)])
        .crashes(1)
        .explore();
    assert!(r.max_crashes == 1 && r.traitors == vec![NodeId(3)]);
    let c = r
        .violation
        .as_ref()
        .expect("two faults among four break OM(1)");
    assert!(c.steps.iter().any(|s| !s.crashes.is_empty()), "{c}");
    assert!(c.steps.iter().any(|s| !s.forged.is_empty()), "{c}");
}

#[test]
fn strategies_scripted_and_by_placement() {
    // The classic scripted lie at n = 3: n2 claims the commander said 0.
    let mut script = BTreeMap::new();
    script.insert((1, vec![COMMANDER, NodeId(2)], NodeId(1)), Some(0));
    let om = OralMessages::new(1, 1).traitor(NodeId(2), TraitorStrategy::Scripted(script));
    let run = om.run(3);
    assert!(om.judge(&run.generals).unwrap_err().starts_with("IC2"));
    // n = 6, f = 2: two lieutenants lying to everyone make the loyal ones fall to the default.
    let all = (1..6).fold(NodeSet::EMPTY, |mut s, p| {
        s.insert(NodeId(p));
        s
    });
    let om = OralMessages::new(2, 1)
        .traitor(NodeId(1), TraitorStrategy::LieToSome(all))
        .traitor(NodeId(2), TraitorStrategy::LieToSome(all));
    assert!(om.judge(&om.run(6).generals).is_err());
    assert!(om.judge(&om.run(7).generals).is_ok());
}

#[test]
fn n6_f2_some_strategy_breaks_om2_and_n7_none_does() {
    let s6 = strategies(6, 2, 2);
    assert!(s6.violating > 0, "n=6 f=2: no violation found");
    eprintln!(
        "n=6: {} of {} configurations violate {} (e.g. {})",
        s6.violating,
        s6.configs,
        s6.property_list(),
        s6.example.as_deref().unwrap_or("-")
    );
    let s7 = strategies(7, 2, 2);
    assert_eq!(s7.violating, 0, "n=7 f=2: {:?}", s7.example);
    // 6 placements with the commander (67 × 35 strategies, one order) and 15 without
    // (35 × 35, two orders): a LieToSome set holding the traitor itself is skipped.
    assert_eq!(s7.configs, 6 * 67 * 35 + 15 * 35 * 35 * 2);
    let s4 = strategies(4, 1, 1);
    assert_eq!(s4.violating, 0, "{:?}", s4.example);
    let s3 = strategies(3, 1, 1);
    assert!(s3.violating > 0);
}

#[test]
fn the_experiment_holds() {
    let r = synod_lab::experiments::find_experiment("byz-bound").unwrap();
    let rep = (r.run)(
        &synod_lab::experiment::ExpOptions {
            seed: 1,
            runs: None,
            quick: true,
        },
        &mut synod_lab::experiment::NoProgress,
    )
    .unwrap();
    assert_eq!(rep.claim.verdict.label(), "HOLDS", "{}", rep.to_text());
    assert_eq!(rep.rows.len(), 6);
}

#[test]
fn the_lockstep_adapter_under_the_simulator_agrees_with_the_direct_driver() {
    use synod_core::{Duration, Lockstep};
    use synod_sim::{SimConfig, Simulation, Timing};
    let round = Duration::from_millis(100);
    let om = OralMessages::new(2, 1)
        .traitor(NodeId(2), TraitorStrategy::Equivocate { shift: 0 })
        .traitor(NodeId(5), TraitorStrategy::Silent);
    let n = 7;
    let mut cfg = SimConfig::new(n, 11);
    cfg.timing = Timing::Lockstep { round };
    cfg.until = synod_core::Instant::from_secs(2);
    let out = Simulation::new(Lockstep::new(om.clone(), round), cfg)
        .unwrap()
        .run();
    let simulated: Vec<Option<u8>> = out
        .states
        .iter()
        .map(|s| s.as_ref().and_then(|s| s.inner.decision))
        .collect();
    let direct: Vec<Option<u8>> = om
        .run(n)
        .generals
        .iter()
        .map(|g| g.decisions.first().map(|&(_, v)| v))
        .collect();
    assert_eq!(simulated, direct);
    assert!(out.states.iter().flatten().all(|s| s.late == 0 && s.halted));
    // Loyal lieutenants obey the loyal commander.
    for p in [1, 3, 4, 6] {
        assert_eq!(direct[p], Some(1));
    }
}
