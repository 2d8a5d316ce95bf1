//! Paths as traces: replaying a counterexample step by step, to print it, draw it and check
//! trace properties on it.

use crate::model::Model;
use crate::search::PathStep;
use crate::state::{CheckState, Envelope, Step};
use std::collections::{BTreeMap, VecDeque};
use synod_core::{
    stable_hash, DropReason, Effect, Event, EventKind, Instant, MsgId, NodeId, Protocol, RunFacts,
    Trace,
};

/// One step of a path as stored in a counterexample file: which successor to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepIndex {
    /// Position among the parent's successors (among the initial states for the first step).
    pub index: usize,
}

/// Re-executes a path given by successor indices from the model's initial states.
pub fn replay<P: Protocol>(
    model: &Model<P>,
    steps: &[StepIndex],
) -> Result<Vec<PathStep<P>>, String> {
    let Some(first) = steps.first() else {
        return Err("the path is empty".into());
    };
    let inits = model.initial_states();
    let init = inits.get(first.index).cloned().ok_or_else(|| {
        format!(
            "step 0 asks for initial state {} of {}: the file does not match this model",
            first.index,
            inits.len()
        )
    })?;
    let mut path = vec![PathStep {
        step: Step::Init,
        choices: Vec::new(),
        index: first.index,
        state: init,
    }];
    let mut succ = Vec::new();
    for (k, st) in steps.iter().enumerate().skip(1) {
        succ.clear();
        let prev = &path.last().expect("non-empty path").state;
        model.successors(prev, &mut succ);
        let n = succ.len();
        if st.index >= n {
            return Err(format!(
                "step {k} asks for successor {} of {n}: the file does not match this model",
                st.index
            ));
        }
        let s = succ.swap_remove(st.index);
        path.push(PathStep {
            step: s.step,
            choices: s.choices,
            index: st.index,
            state: s.state,
        });
    }
    Ok(path)
}

/// The successor indices of a path (what a counterexample file stores).
pub fn indices<P: Protocol>(path: &[PathStep<P>]) -> Vec<StepIndex> {
    path.iter().map(|p| StepIndex { index: p.index }).collect()
}

fn key<P: Protocol>(from: NodeId, to: NodeId, msg: &P::Msg) -> u64 {
    stable_hash(&Envelope {
        from,
        to,
        msg: msg.clone(),
    })
}

/// Message ids for a replayed path: identical envelopes are matched first sent, first delivered.
#[derive(Default)]
struct Ids {
    queues: BTreeMap<u64, VecDeque<MsgId>>,
    next: MsgId,
}

impl Ids {
    fn sent(&mut self, key: u64) -> MsgId {
        let id = self.next;
        self.next += 1;
        self.queues.entry(key).or_default().push_back(id);
        id
    }

    /// The id of a delivered (or lost) copy: the oldest send of that envelope, which stays
    /// available when `keep` (a duplicating network delivers one send again and again).
    fn delivered(&mut self, key: u64, keep: bool) -> MsgId {
        let q = self.queues.entry(key).or_default();
        match (q.front().copied(), keep) {
            (Some(id), true) => id,
            (Some(_), false) => q.pop_front().expect("non-empty"),
            (None, _) => {
                self.next += 1;
                self.next - 1
            }
        }
    }
}

/// A trace of the path, one millisecond per step, with message ids linking sends to
/// deliveries, for diagrams and trace properties.
pub fn path_trace<P: Protocol>(model: &Model<P>, path: &[PathStep<P>]) -> Trace<P> {
    let mut events: Vec<Event<P>> = Vec::new();
    let mut ids = Ids::default();
    let mut ever_crashed = vec![false; model.n];
    let send = |events: &mut Vec<Event<P>>,
                ids: &mut Ids,
                time: Instant,
                from: NodeId,
                to: NodeId,
                msg: P::Msg| {
        let id = ids.sent(key::<P>(from, to, &msg));
        events.push(Event {
            time,
            kind: EventKind::Send { from, to, id, msg },
        });
    };
    let Some(first) = path.first() else {
        return Trace {
            events,
            facts: RunFacts::fault_free(model.n, Instant::ZERO),
        };
    };
    for i in 0..model.n {
        events.push(Event {
            time: Instant::ZERO,
            kind: EventKind::Init {
                node: NodeId(i as u32),
            },
        });
    }
    for env in &first.state.network {
        send(
            &mut events,
            &mut ids,
            Instant::ZERO,
            env.from,
            env.to,
            env.msg.clone(),
        );
    }
    let mut succ = Vec::new();
    for k in 1..path.len() {
        let time = Instant::from_millis(k as u64);
        let prev = &path[k - 1].state;
        succ.clear();
        model.successors_traced(prev, &mut succ);
        let s = &succ[path[k].index];
        assert_eq!(
            s.state.fingerprint(),
            path[k].state.fingerprint(),
            "replaying a path must reproduce its states"
        );
        let node = match &s.step {
            Step::Init => None,
            Step::Deliver { from, to, msg } => {
                let keep = model.network == crate::model::NetworkKind::Duplicating;
                let id = ids.delivered(key::<P>(*from, *to, msg), keep);
                let kind = if prev.nodes[to.index()].state.is_none() {
                    EventKind::Drop {
                        from: *from,
                        to: *to,
                        id,
                        reason: DropReason::ReceiverDown,
                    }
                } else {
                    EventKind::Deliver {
                        from: *from,
                        to: *to,
                        id,
                        msg: msg.clone(),
                    }
                };
                events.push(Event { time, kind });
                Some(*to)
            }
            Step::Drop { from, to, msg } => {
                let id = ids.delivered(key::<P>(*from, *to, msg), false);
                events.push(Event {
                    time,
                    kind: EventKind::Drop {
                        from: *from,
                        to: *to,
                        id,
                        reason: DropReason::Loss,
                    },
                });
                None
            }
            Step::Timer { node, timer } => {
                events.push(Event {
                    time,
                    kind: EventKind::Timer {
                        node: *node,
                        timer: timer.clone(),
                    },
                });
                Some(*node)
            }
            Step::Crash { node } => {
                ever_crashed[node.index()] = true;
                events.push(Event {
                    time,
                    kind: EventKind::Crash { node: *node },
                });
                None
            }
            Step::Recover { node } => {
                events.push(Event {
                    time,
                    kind: EventKind::Recover { node: *node },
                });
                Some(*node)
            }
            Step::Invoke { node, req, .. } => {
                events.push(Event {
                    time,
                    kind: EventKind::Request {
                        node: *node,
                        req: req.clone(),
                    },
                });
                Some(*node)
            }
        };
        if let Some(node) = node {
            for e in &s.effects {
                match e {
                    Effect::Send { to, msg } => {
                        send(&mut events, &mut ids, time, node, *to, msg.clone())
                    }
                    Effect::Indicate(ind) => events.push(Event {
                        time,
                        kind: EventKind::Indication {
                            node,
                            ind: ind.clone(),
                        },
                    }),
                    Effect::Persist => events.push(Event {
                        time,
                        kind: EventKind::Persist { node },
                    }),
                    Effect::SetTimer { .. } | Effect::CancelTimer { .. } => {}
                }
            }
        }
    }
    let last: &CheckState<P> = &path[path.len() - 1].state;
    Trace {
        events,
        facts: RunFacts {
            n: model.n,
            end: Instant::from_millis(path.len() as u64),
            faults_end: Instant::ZERO,
            ever_crashed,
            up_at_end: last.nodes.iter().map(|n| n.state.is_some()).collect(),
        },
    }
}
