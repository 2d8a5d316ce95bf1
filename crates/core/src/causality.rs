//! Happened-before, computed from a trace: the ground truth logical clocks are judged against.
//!
//! # Model
//!
//! Asynchronous message passing. The *process events* of a [`Trace`] are the events that happen
//! at one node: `Init`, `Recover`, `Crash`, `Send`, `Deliver`, `Timer`, `Request`, `Indication`
//! and `Persist`. The network's own events (`Drop`, `Duplicate`, `Network`) belong to no process
//! and take no part in the relation. Lamport's happened-before (`a → b`) is the smallest
//! relation that contains
//!
//! - *process order*: `a` and `b` happen at the same node and `a` comes first in the trace;
//! - *messages*: `a` is the `Send` of a message and `b` a `Deliver` of it (matched by
//!   [`MsgId`]; every copy a duplicating network delivers has the send's id);
//!
//! and is transitive. Events that are not ordered either way are *concurrent* (`a ∥ b`). A
//! delivery whose send is not in the trace (a trace that starts mid-run) is ordered after its
//! node's earlier events only.
//!
//! # How
//!
//! [`Causality::of`] gives every process event its true vector timestamp (Fidge 1988, Mattern
//! 1988) in one pass over the trace, in O(events × n) time and memory (plus a map from message
//! ids to sends): `VT(e)[q]` is the number of events of node `q` in `e`'s causal past, `e`
//! included. Then `a → b` iff `a ≠ b` and `VT(a)[p] ≤ VT(b)[p]` where `p` is `a`'s node: the
//! `VT(a)[p]`-th event of `p` is `a` itself, and a causal past is closed under process order.
//! Each query is O(1). The vectors are computed from the trace alone, independently of any
//! clock a protocol may wear ([`crate::clock`]), which is what makes them a ground truth.
//!
//! ```
//! use synod_core::causality::{Causality, Order};
//! # use synod_core::*;
//! # #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)] struct M;
//! # struct P;
//! # impl Protocol for P { type Msg=M; type Timer=(); type Request=(); type Indication=(); type State=(); type Durable=();
//! #   fn init(&self, _c: &mut Ctx<'_, Self>) {}
//! #   fn on_message(&self, _s: &mut (), _f: NodeId, _m: M, _c: &mut Ctx<'_, Self>) {}
//! #   fn on_timer(&self, _s: &mut (), _t: (), _c: &mut Ctx<'_, Self>) {}
//! #   fn on_request(&self, _s: &mut (), _r: (), _c: &mut Ctx<'_, Self>) {} }
//! let at = |ms| Instant::ZERO + Duration::from_millis(ms);
//! let ev = |ms, kind| Event { time: at(ms), kind };
//! let trace: Trace<P> = Trace {
//!     events: vec![
//!         ev(1, EventKind::Send { from: NodeId(0), to: NodeId(1), id: 7, msg: M }),   // 0
//!         ev(2, EventKind::Request { node: NodeId(1), req: () }),                     // 1
//!         ev(3, EventKind::Deliver { from: NodeId(0), to: NodeId(1), id: 7, msg: M }), // 2
//!     ],
//!     facts: RunFacts::fault_free(2, at(4)),
//! };
//! let c = Causality::of(&trace);
//! assert!(c.happened_before(0, 2));           // send → its delivery
//! assert!(c.happened_before(1, 2));           // process order at n1
//! assert!(c.concurrent(0, 1));                // nothing links the send to the request
//! assert_eq!(c.order(2, 0), Some(Order::After));
//! assert_eq!(c.causal_past(2), vec![0, 1]);
//! ```
//!
//! # Reading
//!
//! Lamport, "Time, Clocks, and the Ordering of Events in a Distributed System" (1978); Fidge
//! (1988); Mattern, "Virtual Time and Global States of Distributed Systems" (1988); Lynch ch. 18;
//! Attiya & Welch ch. 6; Kshemkalyani & Singhal ch. 3.

use crate::{EventKind, MsgId, Protocol, Trace};
use std::collections::BTreeMap;

/// How two process events are related by happened-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// The same event.
    Same,
    /// The first happened before the second.
    Before,
    /// The second happened before the first.
    After,
    /// Neither happened before the other.
    Concurrent,
}

/// The happened-before relation of one trace, as true vector timestamps per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Causality {
    n: usize,
    /// Per trace event: its node's index if it is a process event.
    nodes: Vec<Option<u32>>,
    /// Per trace event, `n` counters (all zero for events of no process).
    vt: Vec<u32>,
}

/// The node of a process event; `None` for the network's events.
fn process_node<P: Protocol>(kind: &EventKind<P>) -> Option<u32> {
    match kind {
        EventKind::Drop { .. } | EventKind::Duplicate { .. } | EventKind::Network { .. } => None,
        k => k.node().map(|n| n.0),
    }
}

impl Causality {
    /// Computes happened-before for `trace` in O(events × n).
    pub fn of<P: Protocol>(trace: &Trace<P>) -> Causality {
        let nodes: Vec<Option<u32>> = trace.events.iter().map(|e| process_node(&e.kind)).collect();
        let n = nodes
            .iter()
            .flatten()
            .map(|&p| p as usize + 1)
            .max()
            .unwrap_or(0)
            .max(trace.facts.n);
        let mut vt = vec![0u32; trace.events.len() * n];
        let mut current = vec![0u32; n * n];
        let mut sends: BTreeMap<MsgId, usize> = BTreeMap::new();
        for (i, e) in trace.events.iter().enumerate() {
            let Some(p) = nodes[i] else { continue };
            let p = p as usize;
            let cur = p * n..(p + 1) * n;
            match &e.kind {
                EventKind::Deliver { id, .. } => {
                    if let Some(&s) = sends.get(id) {
                        for q in 0..n {
                            let seen = vt[s * n + q];
                            let c = &mut current[p * n + q];
                            *c = (*c).max(seen);
                        }
                    }
                }
                EventKind::Send { id, .. } => {
                    sends.entry(*id).or_insert(i);
                }
                _ => {}
            }
            current[p * n + p] += 1;
            vt[i * n..(i + 1) * n].copy_from_slice(&current[cur]);
        }
        Causality { n, nodes, vt }
    }

    /// The number of events of the trace (process events or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True if the trace had no events.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The number of nodes (the length of every vector).
    pub fn n(&self) -> usize {
        self.n
    }

    /// True if event `i` is a process event (takes part in happened-before).
    pub fn is_process_event(&self, i: usize) -> bool {
        self.nodes.get(i).is_some_and(Option::is_some)
    }

    /// The true vector timestamp of event `i` (`None` for the network's events or an index out
    /// of range): entry `q` counts node `q`'s events in `i`'s causal past, `i` included.
    pub fn vector(&self, i: usize) -> Option<&[u32]> {
        self.is_process_event(i)
            .then(|| &self.vt[i * self.n..(i + 1) * self.n])
    }

    /// True if event `a` happened before event `b` (false if either is not a process event;
    /// irreflexive: false for `a == b`).
    pub fn happened_before(&self, a: usize, b: usize) -> bool {
        if a == b || !self.is_process_event(b) {
            return false;
        }
        let Some(Some(p)) = self.nodes.get(a) else {
            return false;
        };
        let p = *p as usize;
        self.vt[a * self.n + p] <= self.vt[b * self.n + p]
    }

    /// True if `a` and `b` are distinct process events and neither happened before the other.
    pub fn concurrent(&self, a: usize, b: usize) -> bool {
        self.order(a, b) == Some(Order::Concurrent)
    }

    /// How `a` relates to `b` (`None` if either is not a process event).
    pub fn order(&self, a: usize, b: usize) -> Option<Order> {
        if !self.is_process_event(a) || !self.is_process_event(b) {
            return None;
        }
        Some(if a == b {
            Order::Same
        } else if self.happened_before(a, b) {
            Order::Before
        } else if self.happened_before(b, a) {
            Order::After
        } else {
            Order::Concurrent
        })
    }

    /// For every event of the trace, how it relates to event `e` (`Some(Before)`: in `e`'s
    /// causal past; `Some(After)`: in its causal future; `None` for the network's events, and
    /// for every event if `e` is not a process event).
    pub fn relative_to(&self, e: usize) -> Vec<Option<Order>> {
        (0..self.len()).map(|a| self.order(a, e)).collect()
    }

    /// The events that happened before `e`, in trace order.
    pub fn causal_past(&self, e: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&a| self.happened_before(a, e))
            .collect()
    }

    /// The events `e` happened before, in trace order.
    pub fn causal_future(&self, e: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&b| self.happened_before(e, b))
            .collect()
    }

    /// The process events concurrent with `e`, in trace order.
    pub fn concurrent_with(&self, e: usize) -> Vec<usize> {
        (0..self.len()).filter(|&a| self.concurrent(a, e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ctx, Duration, Event, Instant, NodeId, RunFacts};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct M;
    struct P;
    impl Protocol for P {
        type Msg = M;
        type Timer = ();
        type Request = ();
        type Indication = ();
        type State = ();
        type Durable = ();
        fn init(&self, _c: &mut Ctx<'_, Self>) {}
        fn on_message(&self, _s: &mut (), _f: NodeId, _m: M, _c: &mut Ctx<'_, Self>) {}
        fn on_timer(&self, _s: &mut (), _t: (), _c: &mut Ctx<'_, Self>) {}
        fn on_request(&self, _s: &mut (), _r: (), _c: &mut Ctx<'_, Self>) {}
    }

    fn ev(kind: EventKind<P>) -> Event<P> {
        Event {
            time: Instant::ZERO + Duration::from_millis(1),
            kind,
        }
    }
    fn send(from: u32, to: u32, id: MsgId) -> Event<P> {
        ev(EventKind::Send {
            from: NodeId(from),
            to: NodeId(to),
            id,
            msg: M,
        })
    }
    fn deliver(from: u32, to: u32, id: MsgId) -> Event<P> {
        ev(EventKind::Deliver {
            from: NodeId(from),
            to: NodeId(to),
            id,
            msg: M,
        })
    }
    fn local(node: u32) -> Event<P> {
        ev(EventKind::Request {
            node: NodeId(node),
            req: (),
        })
    }

    /// The hand-worked example (three processes):
    ///
    /// ```text
    ///  idx  name  event
    ///   0    a    n0 local
    ///   1    b    n0 sends m1 to n1
    ///   2    c    n2 local
    ///   3    d    n1 delivers m1
    ///   4    e    n1 sends m2 to n2
    ///   5    f    n0 local
    ///   6    g    n2 delivers m2
    ///   7    -    the network drops m9 (not a process event)
    ///   8    h    n2 sends m3 to n0
    ///   9    i    n0 delivers m3
    ///  10    j    n1 delivers a duplicate copy of m1
    /// ```
    ///
    /// By hand: process order a<b<f<i at n0, d<e<j at n1, c<g<h at n2; messages b→d, e→g,
    /// h→i and b→j (the copy). Hence past(g) = {a, b, c, d, e}; past(i) = everything but j;
    /// future(b) = {d, e, f, g, h, i, j}; f ∥ {c, d, e, g, h, j}; c ∥ {a, b, d, e, f, j}.
    /// True vectors: a=[1,0,0] b=[2,0,0] c=[0,0,1] d=[2,1,0] e=[2,2,0] f=[3,0,0] g=[2,2,2]
    /// h=[2,2,3] i=[4,2,3] j=[2,3,0].
    #[test]
    fn hand_worked_example() {
        let (a, b, c, d, e, f, g, drop, h, i, j) = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        let trace = Trace {
            events: vec![
                local(0),
                send(0, 1, 1),
                local(2),
                deliver(0, 1, 1),
                send(1, 2, 2),
                local(0),
                deliver(1, 2, 2),
                ev(EventKind::Drop {
                    from: NodeId(1),
                    to: NodeId(0),
                    id: 9,
                    reason: crate::DropReason::Loss,
                }),
                send(2, 0, 3),
                deliver(2, 0, 3),
                deliver(0, 1, 1),
            ],
            facts: RunFacts::fault_free(3, Instant::ZERO),
        };
        let cz = Causality::of(&trace);
        let vectors: [(usize, [u32; 3]); 10] = [
            (a, [1, 0, 0]),
            (b, [2, 0, 0]),
            (c, [0, 0, 1]),
            (d, [2, 1, 0]),
            (e, [2, 2, 0]),
            (f, [3, 0, 0]),
            (g, [2, 2, 2]),
            (h, [2, 2, 3]),
            (i, [4, 2, 3]),
            (j, [2, 3, 0]),
        ];
        for (k, v) in vectors {
            assert_eq!(cz.vector(k), Some(&v[..]), "event {k}");
        }
        assert_eq!(cz.vector(drop), None);
        assert!(!cz.is_process_event(drop));
        assert_eq!(cz.causal_past(g), vec![a, b, c, d, e]);
        assert_eq!(cz.causal_past(i), vec![a, b, c, d, e, f, g, h]);
        assert_eq!(cz.causal_future(b), vec![d, e, f, g, h, i, j]);
        assert_eq!(cz.concurrent_with(f), vec![c, d, e, g, h, j]);
        assert_eq!(cz.concurrent_with(c), vec![a, b, d, e, f, j]);
        assert!(
            cz.happened_before(b, j),
            "a duplicate delivery is caused by the send"
        );
        assert!(!cz.happened_before(b, b), "irreflexive");
        assert_eq!(cz.order(drop, a), None);
        assert_eq!(cz.order(e, e), Some(Order::Same));
        assert_eq!(cz.order(i, a), Some(Order::After));
        assert!(!cz.concurrent(a, a));
        let rel = cz.relative_to(g);
        assert_eq!(rel[drop], None);
        assert_eq!(rel[h], Some(Order::After));
        assert_eq!(rel[j], Some(Order::Concurrent));
    }

    /// Happened-before from the vectors equals the transitive closure of process order and
    /// send→deliver edges, computed by brute force on random traces.
    #[test]
    fn matches_transitive_closure_on_random_traces() {
        for seed in 0..40u64 {
            let mut rng = crate::Prng::new(seed);
            let n = 1 + rng.below(5) as usize;
            let mut events = Vec::new();
            let mut in_flight: Vec<(u32, u32, MsgId)> = Vec::new();
            let mut next_id = 0;
            for _ in 0..40 {
                match rng.below(3) {
                    0 if !in_flight.is_empty() => {
                        let k = rng.below(in_flight.len() as u64) as usize;
                        let (fr, to, id) = in_flight[k];
                        if rng.below(4) != 0 {
                            in_flight.swap_remove(k); // else: a duplicate stays in flight
                        }
                        events.push(deliver(fr, to, id));
                    }
                    1 => {
                        let fr = rng.below(n as u64) as u32;
                        let to = rng.below(n as u64) as u32;
                        next_id += 1;
                        in_flight.push((fr, to, next_id));
                        events.push(send(fr, to, next_id));
                    }
                    _ => events.push(local(rng.below(n as u64) as u32)),
                }
            }
            let trace = Trace {
                events,
                facts: RunFacts::fault_free(n, Instant::ZERO),
            };
            let m = trace.events.len();
            // Direct edges, then Floyd–Warshall closure.
            let mut reach = vec![vec![false; m]; m];
            for (a, row) in reach.iter_mut().enumerate() {
                for (b, cell) in row.iter_mut().enumerate().skip(a + 1) {
                    let (ka, kb) = (&trace.events[a].kind, &trace.events[b].kind);
                    let same = ka.node() == kb.node();
                    let msg = matches!((ka, kb), (EventKind::Send { id: x, .. },
                        EventKind::Deliver { id: y, .. }) if x == y);
                    *cell = same || msg;
                }
            }
            for k in 0..m {
                let via = reach[k].clone();
                for row in reach.iter_mut() {
                    if row[k] {
                        for (cell, &r) in row.iter_mut().zip(&via) {
                            *cell |= r;
                        }
                    }
                }
            }
            let cz = Causality::of(&trace);
            for (a, row) in reach.iter().enumerate() {
                for (b, &r) in row.iter().enumerate() {
                    assert_eq!(cz.happened_before(a, b), r, "seed {seed}: {a} → {b}");
                }
            }
        }
    }
}
