//! Paxos under crash-recovery, exhaustively: the durable register (promise and accepted proposal
//! persisted before they are revealed) is verified with one crash and recoveries; the amnesiac
//! canary (nothing persisted) is caught choosing two values, with a path that replays. The
//! crash-stop register's state space is unchanged by the crash-recovery modes.

use synod_check::{check, indices, replay, CheckOptions, CheckResult, Model, Step};
use synod_lab::checks::paxos_check_model;
use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::amnesia;
use synod_protocols::consensus::{agreement_holds, PaxosRegister};

fn explore(m: &Model<PaxosRegister>) -> CheckResult<PaxosRegister> {
    check(
        m,
        &CheckOptions {
            threads: 2,
            ..CheckOptions::default()
        },
        &mut |_| {},
    )
}

#[test]
fn the_crash_stop_register_explores_the_same_states_as_before() {
    // `synod check paxos --clients 2` (and with --crashes 1) before the crash-recovery modes.
    for (crashes, unique, total) in [(0u8, 9_751u64, 17_488u64), (1, 41_267, 88_875)] {
        let m = paxos_check_model(PaxosRegister::new(), 3, 2, crashes, false).unwrap();
        let r = explore(&m);
        assert!(r.complete && r.violations.is_empty(), "crashes={crashes}");
        assert_eq!(
            (r.unique_states, r.total_states),
            (unique, total),
            "crashes={crashes}"
        );
    }
}

#[test]
fn the_durable_register_is_verified_under_crash_recovery() {
    let m = paxos_check_model(PaxosRegister::durable(), 3, 2, 1, true).unwrap();
    assert!(m.recoveries && m.max_crashes == 1);
    let r = explore(&m);
    assert!(r.complete, "the search must exhaust the space");
    assert!(
        r.violations.is_empty(),
        "durable Paxos violated {:?}",
        r.violations.iter().map(|f| f.property).collect::<Vec<_>>()
    );
    assert!(
        r.discoveries
            .iter()
            .any(|d| d.property == "a read returns a written value"),
        "not vacuous: some read returns a value"
    );
    // Recoveries add runs: more states than the crash-stop register with one crash.
    let stop = explore(&paxos_check_model(PaxosRegister::new(), 3, 2, 1, false).unwrap());
    assert!(r.unique_states > stop.unique_states);
}

#[test]
fn the_amnesiac_register_is_caught_with_a_replayable_path() {
    let m = paxos_check_model(PaxosRegister::amnesiac(), 3, 2, 1, true).unwrap();
    let r = explore(&m);
    let f = r
        .violations
        .iter()
        .find(|f| f.property == "agreement")
        .unwrap_or_else(|| {
            panic!(
                "amnesia not caught: {:?}",
                r.violations.iter().map(|f| f.property).collect::<Vec<_>>()
            )
        });
    assert!(!r.complete);
    let steps: Vec<String> = f.path.iter().map(|s| s.step.to_string()).collect();
    eprintln!("{}", steps.join("\n"));
    assert!(
        f.path.iter().any(|s| matches!(s.step, Step::Crash { .. }))
            && f.path
                .iter()
                .any(|s| matches!(s.step, Step::Recover { .. })),
        "the run needs a crash and a recovery: {steps:?}"
    );
    // Replayed by its successor indices, the path ends where agreement fails, and only there.
    let replayed = replay(&m, &indices(&f.path)).unwrap();
    assert_eq!(replayed.len(), f.path.len());
    let last = &replayed.last().unwrap().state;
    assert!(!agreement_holds(&last.node_states()));
    assert!(replayed[..replayed.len() - 1]
        .iter()
        .all(|s| agreement_holds(&s.state.node_states())));
    for (a, b) in replayed.iter().zip(&f.path) {
        assert_eq!(a.step.to_string(), b.step.to_string());
    }
    // Without recoveries the amnesiac register is the crash-stop one: safe.
    let stop = explore(&paxos_check_model(PaxosRegister::amnesiac(), 3, 2, 1, false).unwrap());
    assert!(stop.complete && stop.violations.is_empty());
}

#[test]
fn the_clients_see_the_amnesia_too() {
    let mut m = paxos_check_model(PaxosRegister::amnesiac(), 3, 2, 1, true).unwrap();
    m.properties.retain(|p| p.name != "agreement");
    let r = explore(&m);
    let f = r
        .violations
        .iter()
        .find(|f| f.property == "linearizable")
        .expect("a non-linearizable history");
    let replayed = replay(&m, &indices(&f.path)).unwrap();
    let lin = m
        .properties
        .iter()
        .find(|p| p.name == "linearizable")
        .unwrap();
    assert!(!lin.holds(&m, &replayed.last().unwrap().state));
}

#[test]
fn the_experiment_holds() {
    let opts = ExpOptions {
        seed: 1,
        runs: None,
        quick: false,
    };
    let a = amnesia::run(&opts, &mut NoProgress).unwrap();
    let b = amnesia::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.to_text());
    assert_eq!(a.to_json(), b.to_json(), "deterministic");
    eprintln!("{}", a.to_text());
}
