//! Symmetry reduction against an orbit count computed independently of the checker's renaming.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_check::{check, CheckOptions, CheckProperty, CheckState, Model, Search};
use synod_core::{Ctx, NodeId, Protocol, Renaming, Symmetric};

/// A hub (node 0) asks every leaf for a random bit and records the answers: the leaves are
/// interchangeable.
struct Star;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Ping,
    Pong(bool),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct S {
    /// A leaf's bit.
    bit: Option<bool>,
    /// The hub's record of answers, sorted by leaf.
    answers: Vec<(NodeId, bool)>,
}

impl Protocol for Star {
    type Msg = Msg;
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = S;
    type Durable = ();
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> S {
        if ctx.id() == NodeId(0) {
            for p in 1..ctx.n() {
                ctx.send(NodeId(p as u32), Msg::Ping);
            }
        }
        S::default()
    }
    fn on_message(&self, s: &mut S, from: NodeId, m: Msg, ctx: &mut Ctx<'_, Self>) {
        match m {
            Msg::Ping if s.bit.is_none() => {
                let b = ctx.choose(2) == 1;
                s.bit = Some(b);
                ctx.send(from, Msg::Pong(b));
            }
            Msg::Pong(b) if !s.answers.iter().any(|(p, _)| *p == from) => {
                s.answers.push((from, b));
                s.answers.sort();
            }
            _ => {}
        }
    }
    fn on_timer(&self, _s: &mut S, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut S, _r: (), _c: &mut Ctx<'_, Self>) {}
}

impl Symmetric for Star {
    fn rename_state(&self, s: &S, r: &Renaming<'_>) -> S {
        let mut answers: Vec<(NodeId, bool)> =
            s.answers.iter().map(|&(p, b)| (r.apply(p), b)).collect();
        answers.sort();
        S {
            bit: s.bit,
            answers,
        }
    }
    fn rename_msg(&self, m: &Msg, _r: &Renaming<'_>) -> Msg {
        m.clone()
    }
}

fn model(n: usize) -> Model<Star> {
    Model::new(Star, n)
        .property(CheckProperty::always(
            "answers are at most n-1",
            |m: &Model<Star>, s: &CheckState<Star>| {
                s.nodes[0].state.as_ref().map_or(0, |h| h.answers.len()) < m.n
            },
        ))
        .property(CheckProperty::sometimes(
            "every leaf answered 1",
            |m: &Model<Star>, s: &CheckState<Star>| {
                let h = s.nodes[0].state.as_ref().expect("no crashes");
                h.answers.len() == m.n - 1 && h.answers.iter().all(|(_, b)| *b)
            },
        ))
}

/// Everything about a leaf that a renaming carries along: its bit, what the hub recorded for
/// it, and its messages in flight.
type Profile = (Option<bool>, Option<bool>, usize, Vec<bool>);

/// A description of the state that forgets which leaf is which: two states have the same one
/// exactly when a permutation of the leaves maps one onto the other.
fn orbit(s: &CheckState<Star>) -> Vec<Profile> {
    let hub = s.nodes[0].state.as_ref().expect("no crashes");
    let mut profiles: Vec<Profile> = (1..s.nodes.len())
        .map(|i| {
            let p = NodeId(i as u32);
            let leaf = s.nodes[i].state.as_ref().expect("no crashes");
            let recorded = hub.answers.iter().find(|(q, _)| *q == p).map(|(_, b)| *b);
            let pings = s
                .in_flight()
                .filter(|e| e.to == p && e.msg == Msg::Ping)
                .count();
            let mut pongs: Vec<bool> = s
                .in_flight()
                .filter_map(|e| match e.msg {
                    Msg::Pong(b) if e.from == p => Some(b),
                    _ => None,
                })
                .collect();
            pongs.sort();
            (leaf.bit, recorded, pings, pongs)
        })
        .collect();
    profiles.sort();
    profiles
}

/// Every reachable state (plain fingerprints), by an explicit search of our own.
fn reachable(m: &Model<Star>) -> Vec<CheckState<Star>> {
    let mut seen = BTreeSet::new();
    let mut todo = m.initial_states();
    let mut all = Vec::new();
    let mut succ = Vec::new();
    while let Some(s) = todo.pop() {
        if !seen.insert(s.fingerprint()) {
            continue;
        }
        succ.clear();
        m.successors(&s, &mut succ);
        todo.extend(succ.drain(..).map(|x| x.state));
        all.push(s);
    }
    all
}

#[test]
fn symmetry_explores_one_state_per_orbit_with_the_same_verdicts() {
    for n in [3, 4, 5] {
        let plain = model(n);
        let states = reachable(&plain);
        let orbits: BTreeSet<Vec<Profile>> = states.iter().map(orbit).collect();
        let reduced = model(n)
            .with_node_symmetry((1..n as u32).map(NodeId).collect())
            .expect("the leaves are interchangeable");
        for (search, threads) in [(Search::Bfs, 1), (Search::Bfs, 2), (Search::Dfs, 2)] {
            let opts = CheckOptions {
                search,
                threads,
                ..Default::default()
            };
            let full = check(&plain, &opts, &mut |_| {});
            let sym = check(&reduced, &opts, &mut |_| {});
            assert_eq!(full.unique_states, states.len() as u64, "n={n}");
            assert_eq!(sym.unique_states, orbits.len() as u64, "n={n}");
            assert!(sym.unique_states < full.unique_states);
            assert!(full.complete && sym.complete);
            assert!(full.violations.is_empty() && sym.violations.is_empty());
            let found = |r: &synod_check::CheckResult<Star>| {
                r.discoveries.iter().map(|d| d.property).collect::<Vec<_>>()
            };
            assert_eq!(found(&full), found(&sym));
            // The reduced search reports a real execution: it replays step by step.
            let path = &sym.discoveries[0].path;
            let replayed = synod_check::replay(&reduced, &synod_check::indices(path))
                .expect("the path replays");
            assert_eq!(
                replayed.last().map(|p| p.state.fingerprint()),
                path.last().map(|p| p.state.fingerprint())
            );
        }
    }
}

#[test]
fn a_group_that_a_client_tells_apart_is_refused() {
    let mut m = model(3);
    m.clients.push(synod_check::ClientProgram {
        id: 7,
        node: NodeId(2),
        ops: vec![()],
    });
    let err = m
        .with_node_symmetry(vec![NodeId(1), NodeId(2)])
        .err()
        .expect("refused");
    assert!(err.contains("client 7"), "{err}");
}
