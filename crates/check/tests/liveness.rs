//! Liveness as fair cycles: runs that go on for ever without the property.

use serde::{Deserialize, Serialize};
use synod_check::{
    check, indices, replay, CheckOptions, CheckProperty, CheckState, Model, NetworkKind,
};
use synod_core::{Ctx, NodeId, Protocol};

/// Nodes 1 and 2 bounce a ball for ever; node 0 decides when its timer fires (if it has one)
/// or when node 1's message `Hello` reaches it.
struct Game {
    /// Node 0 decides on a timer.
    timer: bool,
    /// Node 1 sends `Hello` to node 0 at start.
    hello: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Ball,
    Hello,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Decide;

impl Protocol for Game {
    type Msg = Msg;
    type Timer = Decide;
    type Request = ();
    type Indication = ();
    type State = bool;
    type Durable = ();
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> bool {
        match ctx.id().0 {
            0 if self.timer => ctx.set_timer(Decide, synod_core::Duration::from_millis(1)),
            1 => {
                ctx.send(NodeId(2), Msg::Ball);
                if self.hello {
                    ctx.send(NodeId(0), Msg::Hello);
                }
            }
            _ => {}
        }
        false
    }
    fn on_message(&self, decided: &mut bool, from: NodeId, m: Msg, ctx: &mut Ctx<'_, Self>) {
        match m {
            Msg::Ball => ctx.send(from, Msg::Ball),
            Msg::Hello => *decided = true,
        }
    }
    fn on_timer(&self, decided: &mut bool, _t: Decide, _c: &mut Ctx<'_, Self>) {
        *decided = true;
    }
    fn on_request(&self, _s: &mut bool, _r: (), _c: &mut Ctx<'_, Self>) {}
}

fn model(timer: bool, hello: bool, network: NetworkKind) -> Model<Game> {
    let mut m = Model::new(Game { timer, hello }, 3).property(CheckProperty::eventually(
        "node 0 decides",
        |_, s: &CheckState<Game>| s.nodes[0].state == Some(true),
    ));
    m.network = network;
    m
}

#[test]
fn a_run_that_never_decides_is_found_as_a_lasso_that_replays() {
    let m = model(false, false, NetworkKind::Unordered);
    let r = check(&m, &CheckOptions::default(), &mut |_| {});
    assert!(r.complete && r.cycles_checked);
    let v = &r.violations[0];
    assert_eq!(v.property, "node 0 decides");
    let k = v.loop_start.expect("a cycle, not a dead end");
    let last = v.path.last().unwrap();
    assert_eq!(last.state.fingerprint(), v.path[k].state.fingerprint());
    assert!(v.path.len() > k + 1, "the loop takes at least one step");
    let again = replay(&m, &indices(&v.path)).expect("replays");
    assert_eq!(
        again.last().unwrap().state.fingerprint(),
        last.state.fingerprint()
    );
    assert!(v.path.iter().all(|p| p.state.nodes[0].state != Some(true)));
}

#[test]
fn a_timer_that_stays_enabled_must_fire_weak_fairness() {
    let r = check(
        &model(true, false, NetworkKind::Unordered),
        &CheckOptions::default(),
        &mut |_| {},
    );
    assert!(r.complete && r.cycles_checked);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
}

#[test]
fn a_message_in_flight_is_delivered_unless_the_network_loses_it() {
    let reliable = check(
        &model(false, true, NetworkKind::Unordered),
        &CheckOptions::default(),
        &mut |_| {},
    );
    assert!(reliable.complete && reliable.cycles_checked);
    assert!(reliable.violations.is_empty(), "{:?}", reliable.violations);
    let lossy = check(
        &model(false, true, NetworkKind::Lossy),
        &CheckOptions::default(),
        &mut |_| {},
    );
    // Here the first run found is a dead end (the ball is lost too); either way the hello was.
    let v = &lossy.violations[0];
    assert_eq!(v.property, "node 0 decides");
    assert!(
        v.path
            .iter()
            .any(|p| matches!(p.step, synod_check::Step::Drop { to: NodeId(0), .. })),
        "the hello was lost"
    );
}

#[test]
fn a_search_that_is_not_complete_does_not_claim_cycles_were_checked() {
    let opts = CheckOptions {
        max_depth: Some(1),
        ..Default::default()
    };
    let r = check(
        &model(false, false, NetworkKind::Unordered),
        &opts,
        &mut |_| {},
    );
    assert!(!r.complete && !r.cycles_checked);
}
