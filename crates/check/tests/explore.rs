//! The explorer against state spaces whose size we can count by hand.

use serde::{Deserialize, Serialize};
use synod_check::{check, CheckOptions, CheckProperty, Model, NetworkKind, Search};
use synod_core::{Ctx, NodeId, Protocol};

/// Every node sends one token to its successor at start and remembers receiving one.
struct Ring;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Token;

impl Protocol for Ring {
    type Msg = Token;
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = bool;
    type Durable = ();
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> bool {
        let next = NodeId(((ctx.id().0 as usize + 1) % ctx.n()) as u32);
        ctx.send(next, Token);
        false
    }
    fn on_message(&self, got: &mut bool, _f: NodeId, _m: Token, _c: &mut Ctx<'_, Self>) {
        *got = true;
    }
    fn on_timer(&self, _s: &mut bool, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut bool, _r: (), _c: &mut Ctx<'_, Self>) {}
}

fn got(s: &synod_check::CheckState<Ring>) -> usize {
    s.nodes.iter().filter(|n| n.state == Some(true)).count()
}

fn opts(search: Search, threads: usize) -> CheckOptions {
    CheckOptions {
        search,
        threads,
        ..Default::default()
    }
}

#[test]
fn independent_deliveries_give_two_to_the_n_states() {
    // Each of the n tokens is either in flight or delivered, independently: 2^n states; every
    // state with k tokens delivered has n-k successors, so sum_k C(n,k)(n-k) = n 2^(n-1)
    // transitions, plus the initial state itself.
    for n in 1..=6usize {
        let runs = [
            (Search::Bfs, 1),
            (Search::Bfs, 4),
            (Search::Dfs, 1),
            (Search::Dfs, 2),
            (Search::Dfs, 4),
        ];
        for (search, threads) in runs {
            let r = check(&Model::new(Ring, n), &opts(search, threads), &mut |_| {});
            assert_eq!(r.unique_states, 1 << n, "n={n} {search:?} x{threads}");
            assert_eq!(r.total_states, 1 + (n as u64) * (1 << (n - 1)));
            assert!(r.complete);
        }
    }
}

#[test]
fn a_safety_violation_comes_with_the_shortest_path() {
    let model = Model::new(Ring, 4)
        .property(CheckProperty::always(
            "at most 2 tokens delivered",
            |_, s| got(s) <= 2,
        ))
        .property(CheckProperty::sometimes("some token delivered", |_, s| {
            got(s) >= 1
        }));
    for threads in [1, 2, 3] {
        let r = check(&model, &opts(Search::Bfs, threads), &mut |_| {});
        assert!(!r.complete);
        assert_eq!(r.violations.len(), 1);
        let path = &r.violations[0].path;
        assert_eq!(path.len(), 4, "init + three deliveries");
        assert_eq!(got(&path.last().unwrap().state), 3);
        assert_eq!(r.discoveries.len(), 1);
        assert_eq!(r.discoveries[0].path.len(), 2);
    }
    // Depth-first search reports the path it took to a violating state: one that replays.
    for threads in [1, 2, 4] {
        let r = check(&model, &opts(Search::Dfs, threads), &mut |_| {});
        assert_eq!(r.violations.len(), 1);
        let path = &r.violations[0].path;
        assert_eq!(got(&path.last().unwrap().state), 3);
        let again = synod_check::replay(&model, &synod_check::indices(path)).unwrap();
        assert_eq!(again.last().unwrap().state, path.last().unwrap().state);
    }
}

#[test]
fn a_large_level_hands_over_to_depth_first_search() {
    // n = 8: levels of C(8,k) states; a frontier bound of 20 switches at level 2 (28 states).
    for threads in [1, 2] {
        let o = CheckOptions {
            max_frontier: Some(20),
            ..opts(Search::Bfs, threads)
        };
        let r = check(&Model::new(Ring, 8), &o, &mut |_| {});
        assert_eq!(r.switched_to_dfs_at, Some(2));
        assert_eq!(r.unique_states, 1 << 8);
        assert_eq!(r.total_states, 1 + 8 * (1 << 7));
        assert!(r.complete);
    }
}

/// Every node sends a token to every other node; a node keeps only the first one it receives.
struct FirstOfMany;

impl Protocol for FirstOfMany {
    type Msg = Token;
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = bool;
    type Durable = ();
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> bool {
        for i in 0..ctx.n() {
            if i != ctx.id().index() {
                ctx.send(NodeId(i as u32), Token);
            }
        }
        false
    }
    fn on_message(&self, got: &mut bool, _f: NodeId, _m: Token, _c: &mut Ctx<'_, Self>) {
        *got = true;
    }
    fn on_timer(&self, _s: &mut bool, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut bool, _r: (), _c: &mut Ctx<'_, Self>) {}
}

#[test]
fn ignored_deliveries_are_pruned() {
    // Without pruning each node independently has any subset of its n-1 incoming tokens
    // delivered (got = the subset is not empty): 2^(n(n-1)) states. With pruning, a token to a
    // node that already got one is ignored, so never delivered: a node either has no token yet
    // or exactly one (n-1 choices), n^n states.
    for n in 2..=3u32 {
        let mut m = Model::new(FirstOfMany, n as usize)
            .property(CheckProperty::sometimes("all got", |_, s| {
                s.nodes.iter().all(|x| x.state == Some(true))
            }));
        let pruned = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
        assert_eq!(pruned.unique_states, (n as u64).pow(n));
        assert!(pruned.complete && pruned.violations.is_empty());
        assert_eq!(pruned.discoveries.len(), 1);
        m.prune_ignored = false;
        let full = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
        assert_eq!(full.unique_states, 1 << (n * (n - 1)));
        // FIFO channels never prune: a delivery there unblocks the next message.
        m.prune_ignored = true;
        m.network = NetworkKind::Fifo;
        let fifo = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
        assert_eq!(fifo.unique_states, full.unique_states);
    }
}

/// A server that answers each request by a message to itself: invoke, then deliver, then return.
struct SelfEcho;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Ticket(u64);

impl Protocol for SelfEcho {
    type Msg = Ticket;
    type Timer = ();
    type Request = Ticket;
    type Indication = Ticket;
    type State = ();
    type Durable = ();
    fn init(&self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&self, _s: &mut (), _f: NodeId, m: Ticket, ctx: &mut Ctx<'_, Self>) {
        ctx.indicate(m);
    }
    fn on_timer(&self, _s: &mut (), _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut (), r: Ticket, ctx: &mut Ctx<'_, Self>) {
        ctx.send(ctx.id(), r);
    }
}

#[test]
fn histories_that_order_operations_alike_make_one_state() {
    // Two clients, one operation each. Per client: idle, waiting or done. Histories that differ
    // only in the order of adjacent calls (or adjacent returns) are one state, so the states
    // are: both idle 1; one idle, the other waiting or done 4; both waiting 1; one done, one
    // waiting: the done one finished before the other began, or not: 2 x 2; both done: 0
    // before 1, 1 before 0, or concurrent: 3. Total 13 (an exact event order would give 19).
    let mut m = Model::new(SelfEcho, 2);
    m.clients = (0..2)
        .map(|c| synod_check::ClientProgram {
            id: c,
            node: NodeId(c as u32),
            ops: vec![Ticket(c)],
        })
        .collect();
    m.response_of = |t: &Ticket| Some(t.0);
    let r = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
    assert_eq!(r.unique_states, 13);
    assert!(r.complete);
}

#[test]
fn crashes_branch_within_the_budget() {
    // With one crash allowed on n = 2: the crash can happen in each of the 4 crash-free states
    // (at either live node); a crashed node's token stays in flight and can still be delivered
    // to the other node, but a token to the crashed node is lost when "delivered".
    let mut m = Model::new(Ring, 2);
    m.max_crashes = 1;
    let r = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
    let r2 = check(&m, &opts(Search::Bfs, 3), &mut |_| {});
    assert_eq!(r.unique_states, r2.unique_states);
    assert!(r.unique_states > 4);
    assert!(r.complete);
}

#[test]
fn lossy_and_duplicating_networks() {
    // Lossy, n = 1: the token is in flight, delivered, or lost (got stays false): 3 states.
    let mut m = Model::new(Ring, 1);
    m.network = NetworkKind::Lossy;
    assert_eq!(
        check(&m, &opts(Search::Bfs, 1), &mut |_| {}).unique_states,
        3
    );
    // Duplicating, n = 1: delivered tokens stay in flight: {in flight, not got}, {in flight, got}.
    m.network = NetworkKind::Duplicating;
    assert_eq!(
        check(&m, &opts(Search::Bfs, 1), &mut |_| {}).unique_states,
        2
    );
}

/// Each node picks a value in 0..3 at start: the checker branches on every answer.
struct Pick;

impl Protocol for Pick {
    type Msg = ();
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = usize;
    type Durable = ();
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> usize {
        ctx.choose(3)
    }
    fn on_message(&self, _s: &mut usize, _f: NodeId, _m: (), _c: &mut Ctx<'_, Self>) {}
    fn on_timer(&self, _s: &mut usize, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut usize, _r: (), _c: &mut Ctx<'_, Self>) {}
}

#[test]
fn random_choices_are_branches() {
    let r = check(&Model::new(Pick, 3), &opts(Search::Bfs, 1), &mut |_| {});
    assert_eq!(r.unique_states, 27);
}

/// Eventually: a node that may stop forever without deciding is a liveness violation.
#[test]
fn eventually_fails_on_a_terminal_state() {
    let mut m =
        Model::new(Ring, 2).property(CheckProperty::eventually("both got", |_, s| got(s) == 2));
    m.max_crashes = 1;
    let r = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
    assert_eq!(r.violations.len(), 1);
    let last = &r.violations[0].path.last().unwrap().state;
    assert!(got(last) < 2 && last.nodes.iter().any(|n| n.state.is_none()));
    m.max_crashes = 0;
    let r = check(&m, &opts(Search::Bfs, 1), &mut |_| {});
    assert!(r.violations.is_empty() && r.complete);
}

#[test]
fn a_path_replays_and_becomes_a_trace() {
    use synod_core::EventKind;
    let model =
        Model::new(Ring, 3).property(CheckProperty::always("at most 1", |_, s| got(s) <= 1));
    let r = check(&model, &opts(Search::Bfs, 2), &mut |_| {});
    let path = &r.violations[0].path;
    let again = synod_check::replay(&model, &synod_check::indices(path)).unwrap();
    assert_eq!(again.len(), path.len());
    assert_eq!(again.last().unwrap().state, path.last().unwrap().state);
    let trace = synod_check::path_trace(&model, path);
    let sends = trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Send { .. }))
        .count();
    let delivers: Vec<u64> = trace
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Deliver { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(sends, 3, "each node's init sends one token");
    assert_eq!(delivers.len(), 2, "the path delivers two tokens");
    assert_ne!(delivers[0], delivers[1]);
    let bad = [
        synod_check::StepIndex { index: 0 },
        synod_check::StepIndex { index: 99 },
    ];
    assert!(synod_check::replay(&model, &bad)
        .unwrap_err()
        .contains("does not match"));
}
