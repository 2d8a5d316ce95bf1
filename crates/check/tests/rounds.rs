//! The round explorer on small round protocols whose executions can be counted by hand: every
//! crash pattern and every answer to `choose` is explored, counts are exact with and without
//! symmetry, and counterexamples name the crashes, partial deliveries and choices.
//! (FloodSet's f + 1 table is in `crates/lab/tests/floodset_rounds.rs`, the crate that sees both
//! the explorer and the protocols.)

use serde::{Deserialize, Serialize};
use synod_check::rounds::{RoundExplorer, RoundProperty, RoundView};
use synod_core::{NodeId, RoundCtx, RoundProtocol, Step};

/// Round 0: every process flips a coin (`choose(2)`) and broadcasts it. Round 1: it decides the
/// OR of the coins it saw, and halts.
struct Coin;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Decide(u8);

impl RoundProtocol for Coin {
    type Msg = u8;
    type Indication = Decide;
    type Request = ();
    /// The OR of the coins seen.
    type State = u8;

    fn init(&self, _id: NodeId, _n: usize) -> u8 {
        0
    }

    fn round(
        &self,
        round: u32,
        s: &mut u8,
        inbox: &[(NodeId, u8)],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        if round == 0 {
            *s = ctx.choose(2) as u8;
            ctx.broadcast(*s);
            return Step::Continue;
        }
        for (_, c) in inbox {
            *s |= c;
        }
        ctx.indicate(Decide(*s));
        Step::Halt
    }
}

fn decisions<R: RoundProtocol<Indication = Decide>>(v: &RoundView<'_, R>) -> Vec<(NodeId, u8)> {
    NodeId::all(v.n())
        .filter(|&p| !v.crashed(p))
        .flat_map(|p| v.indications(p).iter().map(move |&(_, Decide(x))| (p, x)))
        .collect()
}

fn agreement<R: RoundProtocol<Indication = Decide>>() -> RoundProperty<R> {
    RoundProperty::always("agreement", |v| {
        let d = decisions(v);
        match d.windows(2).find(|w| w[0].1 != w[1].1) {
            Some(w) => Err(format!(
                "{} decided {} but {} decided {}",
                w[0].0, w[0].1, w[1].0, w[1].1
            )),
            None => Ok(()),
        }
    })
}

fn termination<R: RoundProtocol<Indication = Decide>>() -> RoundProperty<R> {
    RoundProperty::at_end("termination", |v| {
        match NodeId::all(v.n()).find(|&p| !v.crashed(p) && v.indications(p).is_empty()) {
            Some(p) => Err(format!("{p} never decided")),
            None => Ok(()),
        }
    })
}

#[test]
fn every_answer_to_choose_is_explored() {
    for sym in [false, true] {
        let r = RoundExplorer::new(Coin, 3)
            .symmetric(sym)
            .property(agreement())
            .property(termination())
            .explore();
        assert!(r.holds() && r.complete, "{r}");
        assert_eq!(r.executions, 8, "2^3 coin flips");
        // Without symmetry the 8 flips are 8 states; with it, 4 multisets.
        assert_eq!(r.layers[0].states, if sym { 4 } else { 8 });
        assert_eq!(r.layers[0].transitions, 8);
    }
}

#[test]
fn crashes_reach_every_subset_and_counts_are_exact() {
    // 8 flips × (no crash, or one of 3 crashers reaching any of 2^2 subsets) = 8 × 13.
    for sym in [false, true] {
        let r = RoundExplorer::new(Coin, 3)
            .crashes(1)
            .symmetric(sym)
            .property(termination())
            .explore();
        assert!(r.holds() && r.complete, "{r}");
        assert_eq!(r.executions, 104, "symmetric={sym}");
    }
}

#[test]
fn a_crash_that_reaches_one_process_splits_the_decision() {
    let r = RoundExplorer::new(Coin, 3)
        .crashes(1)
        .property(agreement())
        .explore();
    let c = r.violation.as_ref().expect("a disagreement");
    assert_eq!(c.property, "agreement");
    assert_eq!(c.round, 1);
    // The first in exploration order: n2 flips 1 (the others 0), crashes, and reaches n0 only.
    assert_eq!(c.initial_choices.len(), 3);
    assert_eq!(c.initial_choices[2].answers, vec![1]);
    assert_eq!(c.steps.len(), 1);
    assert_eq!(c.steps[0].crashes.len(), 1);
    assert_eq!(c.steps[0].crashes[0].node, NodeId(2));
    assert_eq!(c.steps[0].crashes[0].reached, vec![NodeId(0)]);
    let text = c.to_string();
    assert!(
        text.contains("n2 crashes; its messages reach only {n0}"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["violation"]["steps"][0]["crashes"][0]["reached"][0], 0);
    assert_eq!(json["complete"], false);
}

/// Round 1: every process rolls `choose(3)` then `choose(2)`; nobody may roll (2, 1).
struct Dice;

impl RoundProtocol for Dice {
    type Msg = ();
    type Indication = Decide;
    type Request = ();
    type State = (u8, u8);

    fn init(&self, _id: NodeId, _n: usize) -> (u8, u8) {
        (0, 0)
    }

    fn round(
        &self,
        round: u32,
        s: &mut (u8, u8),
        _inbox: &[(NodeId, ())],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        if round == 1 {
            *s = (ctx.choose(3) as u8, ctx.choose(2) as u8);
            return Step::Halt;
        }
        ctx.broadcast(());
        Step::Continue
    }
}

#[test]
fn sequences_of_choices_are_branched_and_reported() {
    let r = RoundExplorer::new(Dice, 2).explore();
    assert!(r.complete);
    assert_eq!(r.executions, 36, "6 rolls each");
    let r = RoundExplorer::new(Dice, 2)
        .property(RoundProperty::always("no (2, 1)", |v| {
            match NodeId::all(v.n()).find(|&p| v.state(p) == Some(&(2, 1))) {
                Some(p) => Err(format!("{p} rolled (2, 1)")),
                None => Ok(()),
            }
        }))
        .explore();
    let c = r.violation.expect("someone rolls (2, 1)");
    assert_eq!(c.steps.len(), 1);
    let roll = &c.steps[0].choices;
    assert!(roll.iter().any(|ch| ch.answers == vec![2, 1]), "{roll:?}");
}

/// Never halts: every process broadcasts forever.
struct Chatter;

impl RoundProtocol for Chatter {
    type Msg = ();
    type Indication = Decide;
    type Request = ();
    type State = u32;

    fn init(&self, _id: NodeId, _n: usize) -> u32 {
        0
    }

    fn round(
        &self,
        _round: u32,
        s: &mut u32,
        inbox: &[(NodeId, ())],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        *s = inbox.len() as u32;
        ctx.broadcast(());
        Step::Continue
    }
}

#[test]
fn the_round_bound_ends_runs_and_at_end_properties_are_judged_there() {
    let r = RoundExplorer::new(Chatter, 2)
        .max_round(3)
        .property(termination())
        .explore();
    let c = r.violation.expect("nobody decides");
    assert_eq!(c.property, "termination");
    assert_eq!(c.round, 3, "judged at the bound only");
    // Crashes: two processes, each may crash in rounds 0..3 reaching the other or not.
    let r = RoundExplorer::new(Chatter, 2)
        .crashes(2)
        .max_round(3)
        .explore();
    assert!(r.complete);
    assert_eq!(r.layers.len(), 4);
    // Per round with both alive: no crash (1), one crash (2 × 2), both (1: nobody to reach).
    // E(k) runs from round k with both alive, k = 0..3 rounds left; one alive: 1 + 1 per round.
    let one = |left: u128| 1 + left; // crash in one of the remaining rounds, or never
    let mut both = 1u128; // no rounds left
    for left in 1..=3u128 {
        both += 4 * one(left - 1) + 1;
    }
    assert_eq!(r.executions, both);
}

#[test]
fn the_same_report_every_run() {
    let run = || {
        RoundExplorer::new(Coin, 4)
            .crashes(2)
            .symmetric(true)
            .property(agreement())
            .explore()
    };
    assert_eq!(run(), run());
}
