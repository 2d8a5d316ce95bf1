//! # Your own protocol, run by synod
//!
//! This crate sits outside synod's catalog on purpose: it is what a user writes in their own
//! crate. It depends only on the published library API (`synod-core` for the vocabulary,
//! `synod-sim` to run it) and shows the whole path:
//!
//! 1. write the protocol as a [`Protocol`]: a state per node, handlers that record effects;
//! 2. state its guarantees as [`Property`] values over traces;
//! 3. give it a workload and run it in the simulator under any model, with faults;
//! 4. check the properties; the same protocol will run under the model checker and the TCP
//!    runtime, which drive the same trait.
//!
//! The protocol: a **quorum counter**. A client asks any node to `Increment`; the node
//! broadcasts the increment, and every node acknowledges; once a majority has acknowledged,
//! the node answers `Done(k)`. Each node retries unacknowledged increments on a timer, so it
//! survives message loss. Its properties: every answer is for an increment that was asked
//! (no creation), and every increment asked of a correct node is answered (liveness).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{Ctx, Duration, EventKind, NodeId, Property, Protocol, Verdict};

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    /// "Apply increment `id`."
    Inc {
        /// The increment's id.
        id: u64,
    },
    /// "I applied increment `id`."
    Ack {
        /// The increment's id.
        id: u64,
    },
}

/// Requests from clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Request {
    /// Increment the counter; `id` is unique per request.
    Increment {
        /// The request's id.
        id: u64,
    },
}

/// Answers to clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Answer {
    /// Increment `id` reached a majority.
    Done {
        /// The request's id.
        id: u64,
    },
}

/// The retry timer for one increment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Retry(pub u64);

/// One node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// Increments this node has applied.
    pub applied: BTreeSet<u64>,
    /// Increments this node coordinates, with who acknowledged them.
    pub pending: BTreeMap<u64, BTreeSet<NodeId>>,
}

/// The quorum counter.
#[derive(Clone, Debug)]
pub struct QuorumCounter {
    /// How long to wait before re-sending an unacknowledged increment.
    pub retry: Duration,
}

impl Protocol for QuorumCounter {
    type Msg = Msg;
    type Timer = Retry;
    type Request = Request;
    type Indication = Answer;
    type State = State;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> State {
        State::default()
    }

    fn on_request(&self, s: &mut State, req: Request, ctx: &mut Ctx<'_, Self>) {
        let Request::Increment { id } = req;
        s.applied.insert(id);
        s.pending.insert(id, BTreeSet::from([ctx.id()]));
        ctx.broadcast(Msg::Inc { id });
        ctx.set_timer(Retry(id), self.retry);
        self.maybe_done(s, id, ctx);
    }

    fn on_message(&self, s: &mut State, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
        match msg {
            Msg::Inc { id } => {
                s.applied.insert(id);
                ctx.send(from, Msg::Ack { id });
            }
            Msg::Ack { id } => {
                if let Some(acks) = s.pending.get_mut(&id) {
                    acks.insert(from);
                    self.maybe_done(s, id, ctx);
                }
                // An ack for an increment we no longer track is stale: ignore it.
            }
        }
    }

    fn on_timer(&self, s: &mut State, Retry(id): Retry, ctx: &mut Ctx<'_, Self>) {
        if let Some(acks) = s.pending.get(&id) {
            let missing: Vec<NodeId> = ctx.peers().filter(|p| !acks.contains(p)).collect();
            for p in missing {
                ctx.send(p, Msg::Inc { id });
            }
            ctx.set_timer(Retry(id), self.retry);
        }
    }
}

impl QuorumCounter {
    fn maybe_done(&self, s: &mut State, id: u64, ctx: &mut Ctx<'_, Self>) {
        let majority = ctx.n() / 2 + 1;
        if s.pending.get(&id).is_some_and(|a| a.len() >= majority) {
            s.pending.remove(&id);
            ctx.cancel_timer(Retry(id));
            ctx.indicate(Answer::Done { id });
        }
    }
}

/// Client operations: each `Increment { id }` is an operation of its own client `id`, and
/// `Done { id }` completes it. This is what turns any trace into a [`synod_core::History`] for
/// the consistency checkers.
impl synod_core::ClientOps for QuorumCounter {
    type Input = u64;
    type Output = ();

    fn invocation(req: &Request) -> Option<(synod_core::ClientId, u64)> {
        let Request::Increment { id } = req;
        Some((*id, *id))
    }

    fn response(ind: &Answer) -> Option<(synod_core::ClientId, ())> {
        let Answer::Done { id } = ind;
        Some((*id, ()))
    }
}

/// Safety: every `Done(id)` answers an `Increment(id)` asked of the same node earlier.
pub fn no_creation() -> Property<QuorumCounter> {
    Property::safety("no-creation", |trace| {
        let mut asked = BTreeSet::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Request {
                    node,
                    req: Request::Increment { id },
                } => {
                    asked.insert((*node, *id));
                }
                EventKind::Indication {
                    node,
                    ind: Answer::Done { id },
                } if !asked.contains(&(*node, *id)) => {
                    return Verdict::violated_at(
                        i,
                        format!("{node} answered increment {id} nobody asked it for"),
                    );
                }
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// Liveness: every increment asked of a correct node is answered by the end of the run
/// (assuming a majority of nodes is correct).
pub fn answered() -> Property<QuorumCounter> {
    Property::liveness("every-increment-answered", |trace| {
        let mut open = BTreeSet::new();
        for (_, _, node, Request::Increment { id }) in trace.requests() {
            if trace.facts.correct(node) {
                open.insert((node, *id));
            }
        }
        for (_, _, node, Answer::Done { id }) in trace.indications() {
            open.remove(&(node, *id));
        }
        match open.iter().next() {
            None => Verdict::Holds,
            Some((node, id)) => Verdict::violated(format!(
                "{} increments unanswered, e.g. {id} at {node}",
                open.len()
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{check_all, Instant, Ratio};
    use synod_sim::{Scripted, SimConfig, Simulation};

    fn run(seed: u64, loss: f64, crash: Option<&str>) -> Vec<synod_core::PropertyReport> {
        let mut cfg = SimConfig::new(5, seed);
        cfg.network.loss = Ratio::from_f64(loss).unwrap();
        cfg.until = Instant(Duration::from_secs(5).as_nanos());
        if let Some(c) = crash {
            cfg.faults.add_crash_spec(c).unwrap();
        }
        let requests: Vec<_> = (0..20u64)
            .map(|id| {
                (
                    Instant(Duration::from_millis(50 * id).as_nanos()),
                    NodeId((id % 5) as u32),
                    Request::Increment { id },
                )
            })
            .collect();
        let out = Simulation::new(
            QuorumCounter {
                retry: Duration::from_millis(40),
            },
            cfg,
        )
        .unwrap()
        .with_workload(Scripted(requests))
        .run();
        check_all(&[no_creation(), answered()], &out.trace)
    }

    #[test]
    fn properties_hold_under_loss_and_a_crash() {
        for seed in 0..50 {
            for r in run(seed, 0.3, Some("n4@300ms")) {
                assert!(
                    !r.verdict.is_violated(),
                    "seed {seed}: {} {}",
                    r.name,
                    r.verdict
                );
            }
        }
    }

    #[test]
    fn the_trace_yields_a_client_history() {
        let mut cfg = SimConfig::new(3, 4);
        cfg.until = Instant::from_secs(2);
        let requests: Vec<_> = (0..5u64)
            .map(|id| {
                (
                    Instant::from_millis(10 * id),
                    NodeId((id % 3) as u32),
                    Request::Increment { id },
                )
            })
            .collect();
        let out = Simulation::new(
            QuorumCounter {
                retry: Duration::from_millis(40),
            },
            cfg,
        )
        .unwrap()
        .with_workload(Scripted(requests))
        .run();
        let h: synod_core::History<u64, ()> = synod_core::History::from_trace(&out.trace);
        assert_eq!(h.ops.len(), 5);
        for (k, op) in h.ops.iter().enumerate() {
            assert_eq!(op.input, k as u64);
            assert_eq!(op.invoke, Instant::from_millis(10 * k as u64));
            let (done, ()) = op.completion.expect("completed without faults");
            assert!(done >= op.invoke);
        }
    }

    #[test]
    fn liveness_fails_without_a_majority() {
        // Three of five nodes crash at once: no majority can acknowledge, answers stop.
        let mut cfg = SimConfig::new(5, 1);
        cfg.until = Instant(Duration::from_secs(2).as_nanos());
        for c in ["n2@0s", "n3@0s", "n4@0s"] {
            cfg.faults.add_crash_spec(c).unwrap();
        }
        let out = Simulation::new(
            QuorumCounter {
                retry: Duration::from_millis(40),
            },
            cfg,
        )
        .unwrap()
        .with_workload(Scripted(vec![(
            Instant(1_000_000),
            NodeId(0),
            Request::Increment { id: 1 },
        )]))
        .run();
        let r = check_all(&[answered()], &out.trace);
        assert!(r[0].verdict.is_violated());
    }
}
