//! FloodSet under the exhaustive round explorer: the classic f + 1 result, for every n ≤ 5 and
//! 1 ≤ f ≤ n − 2. With f rounds some run ends in disagreement (the explorer finds it); with
//! f + 1 rounds none does (the explorer exhausts every run). The early-deciding variant always
//! agrees and decides by round min(f' + 2, f + 1).
//!
//! (This test lives in `synod-lab` because it is the crate that depends on both
//! `synod-protocols` and `synod-check`.)

use synod_check::rounds::{RoundExplorer, RoundProperty, RoundReport, RoundView};
use synod_core::NodeId;
use synod_protocols::consensus::floodset::{self, Decide, FloodSet, Outcome};

/// The consensus outcome of every process at a state.
fn outcomes(v: &RoundView<'_, FloodSet>) -> Vec<Outcome> {
    NodeId::all(v.n())
        .map(|p| Outcome {
            node: p,
            crashed: v.crashed(p),
            decisions: v
                .indications(p)
                .iter()
                .map(|&(r, Decide(x))| (r, x))
                .collect(),
        })
        .collect()
}

/// The explorer for `p` on `n` processes with `f` crashes, symmetry on, with the consensus
/// properties (and the early-deciding deadline for the early variant).
fn explorer(p: FloodSet, n: usize, f: usize, symmetric: bool) -> RoundExplorer<FloodSet> {
    let inputs = p.input_set();
    let early = p.early;
    let rounds = p.rounds;
    let mut x = RoundExplorer::new(p, n)
        .crashes(f)
        .max_round(rounds)
        .symmetric(symmetric)
        .property(RoundProperty::always("agreement", |v| {
            floodset::agreement(&outcomes(v))
        }))
        .property(RoundProperty::always("uniform agreement", |v| {
            floodset::uniform_agreement(&outcomes(v))
        }))
        .property(RoundProperty::always("validity", move |v| {
            floodset::validity(inputs, &outcomes(v))
        }))
        .property(RoundProperty::always("integrity", |v| {
            floodset::integrity(&outcomes(v))
        }))
        .property(RoundProperty::at_end("termination", |v| {
            floodset::termination(&outcomes(v))
        }));
    if early {
        x = x.property(RoundProperty::at_end(
            "decides by min(f'+2, f+1)",
            move |v| {
                floodset::decides_by(&outcomes(v), floodset::early_deciding_bound(f, v.crashes()))
            },
        ));
    }
    x
}

/// Distinct inputs: node i proposes i (the smallest value starts at n0).
fn distinct(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

/// The (n, f) table: n ≤ 5, 1 ≤ f, n ≥ f + 2.
fn table() -> Vec<(usize, usize)> {
    let mut t = Vec::new();
    for n in 3..=5 {
        for f in 1..=n - 2 {
            t.push((n, f));
        }
    }
    t
}

fn log(what: &str, r: &RoundReport<Decide>) {
    eprintln!(
        "{what}: {} states, {} transitions, {} executions, complete={}, violation={}",
        r.states,
        r.transitions,
        r.executions,
        r.complete,
        r.violation
            .as_ref()
            .map_or("none".to_string(), |c| c.property.clone())
    );
}

#[test]
fn f_rounds_are_not_enough() {
    for (n, f) in table() {
        let r = explorer(FloodSet::canary_f_rounds(distinct(n), f), n, f, true).explore();
        log(&format!("n={n} f={f} r={f}"), &r);
        let c = r
            .violation
            .as_ref()
            .unwrap_or_else(|| panic!("n={n} f={f}: no disagreement found with {f} rounds"));
        assert_eq!(c.property, "agreement", "n={n} f={f}: {c}");
        // The classic run: a chain of f crashes, one per round.
        let crashes: usize = c.steps.iter().map(|s| s.crashes.len()).sum();
        assert_eq!(crashes, f, "n={n} f={f}: {c}");
        assert!(
            c.steps.iter().all(|s| s.crashes.len() == 1),
            "n={n} f={f}: one crash per round: {c}"
        );
        assert_eq!(c.round, f as u32, "found after the decision round: {c}");
    }
}

#[test]
fn f_plus_one_rounds_suffice() {
    for (n, f) in table() {
        let r = explorer(FloodSet::new(distinct(n), f), n, f, true).explore();
        log(&format!("n={n} f={f} r={}", f + 1), &r);
        assert!(r.holds() && r.complete, "n={n} f={f}: {r}");
        assert!(r.executions > 0 && r.final_states > 0);
    }
}

#[test]
fn early_deciding_agrees_and_decides_by_min_f_prime_plus_2_f_plus_1() {
    for n in 2..=5 {
        for f in 1..n {
            let r = explorer(FloodSet::early_deciding(distinct(n), f), n, f, true).explore();
            log(&format!("early n={n} f={f}"), &r);
            assert!(r.holds() && r.complete, "n={n} f={f}: {r}");
        }
    }
}

/// The early-deciding bound is tight enough to bite: with its deadline one round earlier
/// (at f rounds), the variant disagrees for the same (n, f) as FloodSet does.
#[test]
fn early_deciding_with_f_rounds_is_caught() {
    for (n, f) in table() {
        let p = FloodSet::early_deciding(distinct(n), f).with_rounds(f as u32);
        let r = explorer(p, n, f, true).explore();
        assert!(!r.holds(), "n={n} f={f}: {r}");
    }
}

/// Symmetry reduction changes the number of states, never the verdict nor the number of
/// executions (merged states have isomorphic futures).
#[test]
fn symmetry_keeps_verdicts_and_execution_counts() {
    for (n, f) in [(3, 1), (4, 1), (4, 2)] {
        for p in [
            FloodSet::new(distinct(n), f),
            FloodSet::early_deciding(distinct(n), f),
        ] {
            let plain = explorer(p.clone(), n, f, false).explore();
            let sym = explorer(p, n, f, true).explore();
            assert!(plain.holds() && sym.holds());
            assert_eq!(plain.executions, sym.executions, "n={n} f={f}");
            assert!(plain.final_states >= sym.final_states);
            assert!(sym.states <= plain.states);
        }
        let plain = explorer(FloodSet::canary_f_rounds(distinct(n), f), n, f, false).explore();
        assert_eq!(
            plain.violation.map(|c| c.property),
            Some("agreement".to_string())
        );
    }
}

/// Every binary input vector, for n ≤ 4: f + 1 rounds always agree, and f rounds disagree for
/// some vector.
#[test]
fn binary_inputs() {
    for (n, f) in [(3, 1), (4, 1), (4, 2)] {
        let mut caught = false;
        for bits in 0..1u32 << n {
            let inputs: Vec<u32> = (0..n).map(|i| bits >> i & 1).collect();
            let r = explorer(FloodSet::new(inputs.clone(), f), n, f, true).explore();
            assert!(r.holds(), "n={n} f={f} inputs={inputs:?}: {r}");
            let e = explorer(FloodSet::early_deciding(inputs.clone(), f), n, f, true).explore();
            assert!(e.holds(), "early n={n} f={f} inputs={inputs:?}: {e}");
            caught |= !explorer(FloodSet::canary_f_rounds(inputs, f), n, f, true)
                .explore()
                .holds();
        }
        assert!(
            caught,
            "n={n} f={f}: no binary input vector shows the canary"
        );
    }
}

#[test]
fn deterministic_and_serializable() {
    let run = || explorer(FloodSet::canary_f_rounds(distinct(4), 2), 4, 2, true).explore();
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"property\":\"agreement\""), "{json}");
    let text = a.to_string();
    assert!(text.contains("crashes; its messages reach"), "{text}");
    eprintln!("{text}");
}
