//! Liveness over infinite runs: fair cycles on which an `eventually` property never holds.
//!
//! A path that *ends* without the property ever holding is found by the main search. A run can
//! also go on for ever without it: a cycle of states, reachable from an initial state, none of
//! which satisfies it. Not every cycle counts: "the network never delivers that message" or
//! "that timer never fires" are not behaviours the model allows. The cycle must be *fair*:
//!
//! - **weak fairness** for timers, client invocations and deliveries on reliable networks: an
//!   action that stays enabled in every state of the cycle must be taken somewhere on it;
//! - **strong fairness** for deliveries on a lossy network (the fair-loss link assumption: a
//!   message sent infinitely often is delivered infinitely often): an action enabled anywhere on
//!   the cycle must be taken somewhere on it.
//!
//! Crashes, recoveries and losses are the adversary's choices and carry no obligation.
//!
//! **Algorithm.** The states where the property has never held (on the way there) are explored
//! again, this time keeping their edges, labelled with the action each takes. Tarjan's algorithm
//! splits them into strongly connected components; a component is a fair lasso's loop exactly
//! when every action enabled in all its states is taken inside it (weak) and every strongly fair
//! action enabled in one of its states is taken inside it. A component failing only the strong
//! test loses the states where the offending action is enabled and is split again (the
//! Emerson-Lei refinement). The counterexample is a shortest path to the fair component, then a
//! loop inside it that takes every obligation and returns.
//!
//! Symmetry reduction is not used here: the loop must come back to the very same state.
//!
//! **Read:** Baier and Katoen, *Principles of Model Checking*, §5.1 (fairness) and §6.5
//! (fair SCC analysis); Emerson and Lei, "Modalities for model checking", 1987.

use crate::model::{Model, NetworkKind};
use crate::state::{CheckState, Step, Successor};
use crate::trace::StepIndex;
use std::collections::{BTreeMap, VecDeque};
use synod_core::{stable_hash, Protocol};

/// Marks an action as strongly fair.
const STRONG: u64 = 1 << 63;

/// A fair lasso: successor indices from an initial state through the loop and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lasso {
    /// The path (stem then loop), as successor indices; it ends in the state at `loop_start`.
    pub path: Vec<StepIndex>,
    /// The position in `path` of the state the loop returns to.
    pub loop_start: usize,
}

/// The outcome of a search for fair cycles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cycles {
    /// No fair cycle avoids the property.
    None,
    /// A fair cycle on which the property never holds.
    Found(Lasso),
    /// More than `limit` states avoid the property: not searched.
    TooLarge,
}

/// The fairness obligation an action carries, if any: its identity (strong ones marked).
fn action<P: Protocol>(model: &Model<P>, step: &Step<P>) -> Option<u64> {
    let strong = if model.network == NetworkKind::Lossy {
        STRONG
    } else {
        0
    };
    match step {
        Step::Deliver { from, to, msg } => {
            Some((stable_hash(&(0u8, from, to, msg)) & !STRONG) | strong)
        }
        Step::Timer { node, timer } => Some(stable_hash(&(1u8, node, timer)) & !STRONG),
        Step::Invoke { client, .. } => Some(stable_hash(&(2u8, client)) & !STRONG),
        Step::Init | Step::Drop { .. } | Step::Crash { .. } | Step::Recover { .. } => None,
    }
}

struct Graph {
    /// Edges: target, action (`u64::MAX` for none), successor index.
    edges: Vec<Vec<(u32, u64, u32)>>,
    /// Actions enabled in each state (sorted, deduplicated).
    enabled: Vec<Vec<u64>>,
    /// Breadth-first parent and successor index (roots: `None` and their initial index).
    parent: Vec<(Option<u32>, u32)>,
}

/// Searches for a fair cycle of states on which property `p` never holds and never held.
pub fn fair_cycle<P: Protocol>(model: &Model<P>, p: usize, limit: usize) -> Cycles {
    let prop = &model.properties[p];
    let Some(g) = explore(model, |s| prop.holds(model, s), limit) else {
        return Cycles::TooLarge;
    };
    let all: Vec<u32> = (0..g.edges.len() as u32).collect();
    match fair_component(&g, &all) {
        None => Cycles::None,
        Some(c) => Cycles::Found(lasso(&g, &c)),
    }
}

/// The graph of states reachable without `holds` ever being true.
fn explore<P: Protocol>(
    model: &Model<P>,
    holds: impl Fn(&CheckState<P>) -> bool,
    limit: usize,
) -> Option<Graph> {
    let mut index: BTreeMap<u64, u32> = BTreeMap::new();
    let mut g = Graph {
        edges: Vec::new(),
        enabled: Vec::new(),
        parent: Vec::new(),
    };
    let mut queue: VecDeque<CheckState<P>> = VecDeque::new();
    for (i, s) in model.initial_states().into_iter().enumerate() {
        if holds(&s) || index.contains_key(&s.fingerprint()) {
            continue;
        }
        index.insert(s.fingerprint(), g.parent.len() as u32);
        g.parent.push((None, i as u32));
        queue.push_back(s);
    }
    let mut succ: Vec<Successor<P>> = Vec::new();
    let mut at = 0u32;
    while let Some(s) = queue.pop_front() {
        succ.clear();
        model.successors(&s, &mut succ);
        let mut edges = Vec::new();
        let mut enabled = Vec::new();
        for (k, x) in succ.drain(..).enumerate() {
            let a = action(model, &x.step);
            if let Some(a) = a {
                enabled.push(a);
            }
            if holds(&x.state) {
                continue;
            }
            let fp = x.state.fingerprint();
            let target = match index.get(&fp) {
                Some(&t) => t,
                None => {
                    if index.len() >= limit {
                        return None;
                    }
                    let t = g.parent.len() as u32;
                    index.insert(fp, t);
                    g.parent.push((Some(at), k as u32));
                    queue.push_back(x.state);
                    t
                }
            };
            edges.push((target, a.unwrap_or(u64::MAX), k as u32));
        }
        enabled.sort_unstable();
        enabled.dedup();
        g.edges.push(edges);
        g.enabled.push(enabled);
        at += 1;
    }
    Some(g)
}

/// Strongly connected components of the subgraph induced by `nodes`, each sorted, listed by
/// their smallest state.
fn components(g: &Graph, nodes: &[u32]) -> Vec<Vec<u32>> {
    let mut member = vec![false; g.edges.len()];
    for &v in nodes {
        member[v as usize] = true;
    }
    let mut out = crate::graph::tarjan(
        &g.edges,
        nodes.iter().copied(),
        |v| member[v as usize],
        |e| e.0,
    );
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort_unstable_by_key(|c| c[0]);
    out
}

/// The first fair component found among `nodes`, refined for strong fairness.
fn fair_component(g: &Graph, nodes: &[u32]) -> Option<Vec<u32>> {
    for c in components(g, nodes) {
        let inside = |w: u32| c.binary_search(&w).is_ok();
        let mut taken: Vec<u64> = Vec::new();
        let mut cyclic = c.len() > 1;
        for &v in &c {
            for &(w, a, _) in &g.edges[v as usize] {
                if inside(w) {
                    taken.push(a);
                    cyclic |= w == v;
                }
            }
        }
        if !cyclic {
            continue;
        }
        taken.sort_unstable();
        taken.dedup();
        let is_taken = |a: u64| taken.binary_search(&a).is_ok();
        // Weak: an action enabled in every state of the component and never taken in it.
        let first = &g.enabled[c[0] as usize];
        let starved = first.iter().any(|&a| {
            !is_taken(a)
                && c.iter()
                    .all(|&v| g.enabled[v as usize].binary_search(&a).is_ok())
        });
        if starved {
            continue;
        }
        // Strong: enabled somewhere, never taken: drop the states that enable it, split again.
        let bad = |a: &u64| a & STRONG != 0 && !is_taken(*a);
        let keep: Vec<u32> = c
            .iter()
            .copied()
            .filter(|&v| !g.enabled[v as usize].iter().any(bad))
            .collect();
        if keep.len() == c.len() {
            return Some(c);
        }
        if let Some(found) = fair_component(g, &keep) {
            return Some(found);
        }
    }
    None
}

/// A shortest path to the component's first state, then a loop through the component that meets
/// every obligation and comes back.
fn lasso(g: &Graph, c: &[u32]) -> Lasso {
    let entry = c[0];
    let mut stem = Vec::new();
    let mut v = entry;
    loop {
        let (p, k) = g.parent[v as usize];
        stem.push(StepIndex { index: k as usize });
        match p {
            Some(u) => v = u,
            None => break,
        }
    }
    stem.reverse();
    let loop_start = stem.len() - 1;
    let inside = |w: u32| c.binary_search(&w).is_ok();
    // Obligations: take each action taken inside the component once; visit a state where each
    // never-taken action is disabled (weak fairness lets the loop skip it there).
    let mut goals: Vec<Goal> = Vec::new();
    let mut taken: Vec<u64> = Vec::new();
    for &v in c {
        for &(w, a, _) in &g.edges[v as usize] {
            if inside(w) && a != u64::MAX && !taken.contains(&a) {
                taken.push(a);
                goals.push(Goal::Take(a));
            }
        }
    }
    let mut actions: Vec<u64> = c
        .iter()
        .flat_map(|&v| g.enabled[v as usize].iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    for a in actions {
        if !taken.contains(&a) {
            goals.push(Goal::Avoid(a));
        }
    }
    let mut path = stem;
    let mut at = entry;
    let mut moved = false;
    for goal in goals {
        let (steps, end) = walk(g, c, at, |v, edge| match (goal, edge) {
            (Goal::Take(a), Some((_, b, _))) => a == b,
            (Goal::Avoid(a), None) => g.enabled[v as usize].binary_search(&a).is_err(),
            _ => false,
        });
        moved |= !steps.is_empty();
        path.extend(steps);
        at = end;
    }
    if at != entry || !moved {
        // Back to the entry (or, for a loop of one state, round its self-loop once).
        let (steps, _) = walk(g, c, at, |v, edge| {
            edge.is_some_and(|(w, _, _)| w == entry) && (moved || v == entry)
        });
        path.extend(steps);
    }
    Lasso { path, loop_start }
}

#[derive(Clone, Copy)]
enum Goal {
    Take(u64),
    Avoid(u64),
}

/// A shortest walk inside the component from `from` until `done` holds of a state (edge
/// `None`) or of an edge taken from it; returns the successor indices and where it ends.
fn walk(
    g: &Graph,
    c: &[u32],
    from: u32,
    done: impl Fn(u32, Option<(u32, u64, u32)>) -> bool,
) -> (Vec<StepIndex>, u32) {
    let inside = |w: u32| c.binary_search(&w).is_ok();
    let mut prev: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = std::collections::BTreeSet::from([from]);
    let trace = |prev: &BTreeMap<u32, (u32, u32)>, mut v: u32| {
        let mut steps = Vec::new();
        while v != from {
            let (u, k) = prev[&v];
            steps.push(StepIndex { index: k as usize });
            v = u;
        }
        steps.reverse();
        steps
    };
    while let Some(v) = queue.pop_front() {
        if done(v, None) {
            return (trace(&prev, v), v);
        }
        for &e in &g.edges[v as usize] {
            if !inside(e.0) {
                continue;
            }
            if done(v, Some(e)) {
                let mut steps = trace(&prev, v);
                steps.push(StepIndex {
                    index: e.2 as usize,
                });
                return (steps, e.0);
            }
            if seen.insert(e.0) {
                prev.insert(e.0, (v, e.2));
                queue.push_back(e.0);
            }
        }
    }
    unreachable!("a strongly connected component reaches all its states and edges")
}

#[cfg(test)]
mod tests {
    use super::{fair_component, Graph, STRONG};

    /// A: timer T sends m (to B); B: m may be lost (back to A) or delivered (the goal, outside
    /// the graph). Under weak fairness "lose m, resend" for ever is fair; under strong fairness
    /// (fair-loss links) it is not.
    fn resend_graph(m: u64) -> Graph {
        const T: u64 = 1;
        Graph {
            edges: vec![vec![(1, T, 0)], vec![(0, u64::MAX, 0)]],
            enabled: vec![vec![T], vec![m]],
            parent: vec![(None, 0), (Some(0), 0)],
        }
    }

    #[test]
    fn fair_loss_needs_strong_fairness() {
        assert_eq!(fair_component(&resend_graph(7), &[0, 1]), Some(vec![0, 1]));
        assert_eq!(fair_component(&resend_graph(7 | STRONG), &[0, 1]), None);
    }

    #[test]
    fn an_action_enabled_throughout_and_never_taken_starves_the_cycle() {
        // A <-> B by actions 1 and 2; action 3 enabled in both, taken nowhere.
        let g = Graph {
            edges: vec![vec![(1, 1, 0)], vec![(0, 2, 0)]],
            enabled: vec![vec![1, 3], vec![2, 3]],
            parent: vec![(None, 0), (Some(0), 0)],
        };
        assert_eq!(fair_component(&g, &[0, 1]), None);
        // Disabled in B: the cycle is fair.
        let g = Graph {
            enabled: vec![vec![1, 3], vec![2]],
            ..g
        };
        assert_eq!(fair_component(&g, &[0, 1]), Some(vec![0, 1]));
    }
}
