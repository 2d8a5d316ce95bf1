//! Global states and their successors: the semantics of one step of the whole system.

use crate::model::{Model, NetworkKind};
use crate::shared::Shared;
use derive_where::derive_where;
use std::fmt;
use synod_core::{stable_hash, Chooser, ClientId, Ctx, Effect, Input, Instant, NodeId, Protocol};

/// One node as the checker sees it.
#[derive_where(Clone, PartialEq, Eq, Hash, Debug)]
pub struct NodeSlot<P: Protocol> {
    /// Its volatile state (`None` while crashed).
    pub state: Option<P::State>,
    /// What it last persisted.
    pub durable: P::Durable,
    /// Its pending timers, sorted (durations are abstracted away: any may fire next).
    pub timers: Vec<P::Timer>,
}

/// A message in flight.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Envelope<M> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The message.
    pub msg: M,
}

/// A client's progress through its program.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ClientSlot {
    /// Index of its next operation.
    pub next: u16,
    /// Waiting for an answer.
    pub waiting: bool,
}

/// A client-visible event, in the order it happened.
#[derive_where(Clone, PartialEq, Eq, Hash, Debug)]
pub enum HistEvent<P: Protocol> {
    /// A client invoked an operation.
    Call {
        /// The client.
        client: ClientId,
        /// The request.
        req: P::Request,
    },
    /// A client received its answer.
    Return {
        /// The client.
        client: ClientId,
        /// The answer.
        ind: P::Indication,
    },
    /// A node emitted an indication the model records (see [`Model::record`]), e.g. a link's
    /// `deliver` or a consensus `decide`, so that properties can read it.
    Note {
        /// The node.
        node: NodeId,
        /// The indication.
        ind: P::Indication,
    },
}

impl<P: Protocol> HistEvent<P> {
    /// Calls sort before returns; notes are not reordered.
    fn run_key(&self) -> Option<(u8, ClientId)> {
        match self {
            HistEvent::Call { client, .. } => Some((0, *client)),
            HistEvent::Return { client, .. } => Some((1, *client)),
            HistEvent::Note { .. } => None,
        }
    }
}

/// Appends `e` to a history in canonical form: within a run of consecutive calls, or of
/// consecutive returns, events are sorted by client. Reordering adjacent calls (or adjacent
/// returns) does not change which operation finished before which began, which is all that
/// linearizability, sequential consistency and the session guarantees read; so histories that
/// differ only in such orders make one state, not many. (A client has one operation
/// outstanding, so its own call and return are never in the same run.)
fn push_event<P: Protocol>(h: &mut Vec<HistEvent<P>>, e: HistEvent<P>) {
    h.push(e);
    let mut i = h.len() - 1;
    while i > 0 {
        match (h[i - 1].run_key(), h[i].run_key()) {
            (Some((a, x)), Some((b, y))) if a == b && x > y => h.swap(i - 1, i),
            _ => break,
        }
        i -= 1;
    }
}

/// The whole system at one instant: what the checker explores and fingerprints.
///
/// Its parts are [`Shared`]: a successor shares every node, message and history it did not
/// change with its parent, and hashing a state folds the parts' cached hashes.
#[derive_where(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CheckState<P: Protocol> {
    /// Every node.
    pub nodes: Vec<Shared<NodeSlot<P>>>,
    /// Messages in flight, kept in a canonical order (by hash for unordered networks; by
    /// channel, then send order, for FIFO).
    pub network: Vec<Shared<Envelope<P::Msg>>>,
    /// Every client's progress.
    pub clients: Vec<ClientSlot>,
    /// Client calls and returns (and recorded notes) so far, in order, except that runs of
    /// consecutive calls, and of consecutive returns, are sorted by client (which keeps the
    /// real-time order between operations; see the module's `push_event`).
    pub history: Shared<Vec<HistEvent<P>>>,
    /// Crashes caused so far.
    pub crashes: u8,
}

impl<P: Protocol> CheckState<P> {
    /// The state's fingerprint.
    pub fn fingerprint(&self) -> u64 {
        stable_hash(self)
    }

    /// The live nodes' states (None for crashed nodes), in node order.
    pub fn node_states(&self) -> Vec<Option<&P::State>> {
        self.nodes.iter().map(|n| n.state.as_ref()).collect()
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> impl Iterator<Item = &Envelope<P::Msg>> {
        self.network.iter().map(|e| &**e)
    }
}

/// What happened in one step.
#[derive_where(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Step<P: Protocol> {
    /// The system started (every node ran `init`).
    Init,
    /// A message was delivered (to a crashed node it is simply lost).
    Deliver {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
    },
    /// The network lost a message.
    Drop {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
    },
    /// A timer fired.
    Timer {
        /// The node.
        node: NodeId,
        /// The timer.
        timer: P::Timer,
    },
    /// A node crashed.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node recovered from its durable state.
    Recover {
        /// The node.
        node: NodeId,
    },
    /// A client invoked its next operation.
    Invoke {
        /// The client.
        client: ClientId,
        /// The node it asked.
        node: NodeId,
        /// The request.
        req: P::Request,
    },
}

impl<P: Protocol> fmt::Display for Step<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Init => write!(f, "init"),
            Step::Deliver { from, to, msg } => write!(f, "deliver {from}->{to} {msg:?}"),
            Step::Drop { from, to, msg } => write!(f, "lose {from}->{to} {msg:?}"),
            Step::Timer { node, timer } => write!(f, "timer {timer:?} fires at {node}"),
            Step::Crash { node } => write!(f, "crash {node}"),
            Step::Recover { node } => write!(f, "recover {node}"),
            Step::Invoke { client, node, req } => write!(f, "client {client} asks {node}: {req:?}"),
        }
    }
}

/// One successor of a state.
#[derive_where(Clone, Debug)]
pub struct Successor<P: Protocol> {
    /// What happened.
    pub step: Step<P>,
    /// The answers given to the handler's random choices.
    pub choices: Vec<u32>,
    /// The resulting state.
    pub state: CheckState<P>,
    /// The effects the handler recorded (only filled by [`Model::successors_traced`]).
    pub effects: Vec<Effect<P>>,
}

/// Answers a handler's choices from a prefix, then 0, remembering every question.
struct ReplayChooser<'a> {
    prefix: &'a [u32],
    taken: Vec<u32>,
    arities: Vec<u32>,
}

impl Chooser for ReplayChooser<'_> {
    fn choose(&mut self, n: usize) -> usize {
        let i = self.taken.len();
        let c = self.prefix.get(i).copied().unwrap_or(0);
        debug_assert!((c as usize) < n);
        self.taken.push(c);
        self.arities.push(n as u32);
        c as usize
    }
}

/// One answer to a handler's random choices: the node's new slot, the answers, the effects.
type Branch<P> = (NodeSlot<P>, Vec<u32>, Vec<Effect<P>>);

impl<P: Protocol> Model<P> {
    /// The empty system before any node started.
    fn blank(&self) -> CheckState<P> {
        let blank = Shared::new(NodeSlot {
            state: None,
            durable: P::Durable::default(),
            timers: Vec::new(),
        });
        CheckState {
            nodes: vec![blank; self.n],
            network: Vec::new(),
            clients: vec![ClientSlot::default(); self.clients.len()],
            history: Shared::new(Vec::new()),
            crashes: 0,
        }
    }

    /// The initial states: every node ran `init`, in node order, for every answer to their
    /// random choices.
    pub fn initial_states(&self) -> Vec<CheckState<P>> {
        let mut states = vec![self.blank()];
        for i in 0..self.n {
            let mut next = Vec::new();
            let mut succ = Vec::new();
            for s in states {
                self.run(s, i, Input::Init, Step::Init, false, false, &mut succ);
            }
            next.extend(succ.into_iter().map(|x| x.state));
            states = next;
        }
        for (node, req) in &self.start {
            let mut succ = Vec::new();
            for s in states {
                let step = Step::Invoke {
                    client: u64::MAX,
                    node: *node,
                    req: req.clone(),
                };
                self.run(
                    s,
                    node.index(),
                    Input::Request(req.clone()),
                    step,
                    false,
                    false,
                    &mut succ,
                );
            }
            states = succ.into_iter().map(|x| x.state).collect();
        }
        states
    }

    /// Every successor of `s` within the model's boundary, in a deterministic order:
    /// deliveries (and losses), timers, crashes, recoveries, client invocations. Returns true if
    /// some successor was left out because it lies beyond the boundary ([`Model::boundary`]).
    pub fn successors(&self, s: &CheckState<P>, out: &mut Vec<Successor<P>>) -> bool {
        self.successors_within(s, out, false)
    }

    /// Like [`Model::successors`], also keeping each handler's effects (to draw a path).
    pub fn successors_traced(&self, s: &CheckState<P>, out: &mut Vec<Successor<P>>) -> bool {
        self.successors_within(s, out, true)
    }

    fn successors_within(
        &self,
        s: &CheckState<P>,
        out: &mut Vec<Successor<P>>,
        capture: bool,
    ) -> bool {
        let start = out.len();
        self.successors_impl(s, out, capture);
        let Some(b) = &self.boundary else {
            return false;
        };
        let before = out.len();
        let mut k = 0;
        out.retain(|x| {
            k += 1;
            k <= start || (b.within)(&x.state)
        });
        out.len() < before
    }

    fn successors_impl(&self, s: &CheckState<P>, out: &mut Vec<Successor<P>>, capture: bool) {
        let prune = self.prune_ignored && self.network != NetworkKind::Fifo;
        // Deliveries.
        let mut prev_channel: Option<(NodeId, NodeId)> = None;
        for (k, env) in s.network.iter().enumerate() {
            match self.network {
                NetworkKind::Fifo => {
                    let ch = (env.from, env.to);
                    if prev_channel == Some(ch) {
                        continue; // only the head of each channel
                    }
                    prev_channel = Some(ch);
                }
                _ => {
                    if k > 0 && s.network[k - 1] == *env {
                        continue; // identical copies give identical successors
                    }
                }
            }
            let mut base = s.clone();
            if self.network != NetworkKind::Duplicating {
                base.network.remove(k);
            }
            let step = Step::Deliver {
                from: env.from,
                to: env.to,
                msg: env.msg.clone(),
            };
            let to = env.to.index();
            if base.nodes[to].state.is_none() {
                if prune {
                    continue; // lost at a crashed node: an ignored delivery
                }
                out.push(Successor {
                    step,
                    choices: Vec::new(),
                    state: base,
                    effects: Vec::new(),
                });
            } else {
                self.run(
                    base,
                    to,
                    Input::Message(env.from, env.msg.clone()),
                    step,
                    capture,
                    prune,
                    out,
                );
            }
            if self.network == NetworkKind::Lossy {
                let mut lost = s.clone();
                lost.network.remove(k);
                out.push(Successor {
                    step: Step::Drop {
                        from: env.from,
                        to: env.to,
                        msg: env.msg.clone(),
                    },
                    choices: Vec::new(),
                    state: lost,
                    effects: Vec::new(),
                });
            }
        }
        // Timers.
        if self.timers {
            for (i, node) in s.nodes.iter().enumerate() {
                if node.state.is_none() {
                    continue;
                }
                for (t, timer) in node.timers.iter().enumerate() {
                    let mut base = s.clone();
                    base.nodes[i].update(|n| {
                        n.timers.remove(t);
                    });
                    let step = Step::Timer {
                        node: NodeId(i as u32),
                        timer: timer.clone(),
                    };
                    self.run(
                        base,
                        i,
                        Input::Timer(timer.clone()),
                        step,
                        capture,
                        false,
                        out,
                    );
                }
            }
        }
        // Crashes and recoveries.
        if s.crashes < self.max_crashes {
            for i in 0..self.n {
                let allowed = self
                    .crashable
                    .as_ref()
                    .is_none_or(|c| c.contains(&NodeId(i as u32)));
                if allowed && s.nodes[i].state.is_some() {
                    let mut next = s.clone();
                    next.nodes[i].update(|n| {
                        n.state = None;
                        n.timers.clear();
                    });
                    next.crashes += 1;
                    out.push(Successor {
                        step: Step::Crash {
                            node: NodeId(i as u32),
                        },
                        choices: Vec::new(),
                        state: next,
                        effects: Vec::new(),
                    });
                }
            }
        }
        if self.recoveries {
            for i in 0..self.n {
                if s.nodes[i].state.is_none() {
                    let step = Step::Recover {
                        node: NodeId(i as u32),
                    };
                    self.run(s.clone(), i, Input::Recover, step, capture, false, out);
                }
            }
        }
        // Client invocations.
        for (c, prog) in self.clients.iter().enumerate() {
            let slot = s.clients[c];
            if slot.waiting || slot.next as usize >= prog.ops.len() {
                continue;
            }
            let req = prog.ops[slot.next as usize].clone();
            let mut base = s.clone();
            base.clients[c] = ClientSlot {
                next: slot.next + 1,
                waiting: true,
            };
            base.history.update(|h| {
                push_event(
                    h,
                    HistEvent::Call {
                        client: prog.id,
                        req: req.clone(),
                    },
                )
            });
            let step = Step::Invoke {
                client: prog.id,
                node: prog.node,
                req: req.clone(),
            };
            let node = prog.node.index();
            if base.nodes[node].state.is_none() {
                // The request reaches a crashed node and is lost; the client waits forever.
                out.push(Successor {
                    step,
                    choices: Vec::new(),
                    state: base,
                    effects: Vec::new(),
                });
            } else {
                self.run(base, node, Input::Request(req), step, capture, false, out);
            }
        }
    }

    /// Runs one handler of node `i` on `base`, once per answer to its random choices. Each
    /// branch runs the handler on a copy of node `i`'s slot only; the whole state is copied once
    /// per successor (the last successor takes `base` itself). With `skip_ignored`, branches
    /// that leave the node unchanged and have no effect are dropped (see
    /// [`Model::prune_ignored`]).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        base: CheckState<P>,
        i: usize,
        input: Input<P>,
        step: Step<P>,
        capture: bool,
        skip_ignored: bool,
        out: &mut Vec<Successor<P>>,
    ) {
        let mut pending: Vec<Vec<u32>> = vec![Vec::new()];
        let mut branches: Vec<Branch<P>> = Vec::new();
        while let Some(prefix) = pending.pop() {
            let mut slot = NodeSlot::clone(&base.nodes[i]);
            let mut chooser = ReplayChooser {
                prefix: &prefix,
                taken: Vec::new(),
                arities: Vec::new(),
            };
            let mut fx = Vec::new();
            {
                let mut ctx = Ctx::new(
                    NodeId(i as u32),
                    self.n,
                    Instant::ZERO,
                    &mut fx,
                    &mut chooser,
                );
                synod_core::step(
                    &self.protocol,
                    &mut slot.state,
                    &slot.durable,
                    input.clone(),
                    &mut ctx,
                );
            }
            for j in prefix.len()..chooser.taken.len() {
                for k in 1..chooser.arities[j] {
                    let mut alt = chooser.taken[..j].to_vec();
                    alt.push(k);
                    pending.push(alt);
                }
            }
            if skip_ignored && fx.is_empty() && slot == *base.nodes[i] {
                continue;
            }
            branches.push((slot, chooser.taken, fx));
        }
        let Some(last) = branches.len().checked_sub(1) else {
            return;
        };
        let mut base = Some(base);
        for (b, (slot, choices, fx)) in branches.into_iter().enumerate() {
            let mut next = if b == last {
                base.take().expect("base is used once")
            } else {
                base.as_ref().expect("base kept for later branches").clone()
            };
            let effects = if capture { fx.clone() } else { Vec::new() };
            self.apply(&mut next, i, slot, fx);
            out.push(Successor {
                step: step.clone(),
                choices,
                state: next,
                effects,
            });
        }
    }

    /// Installs node `i`'s new slot in `s`, after applying the handler's effects to both.
    fn apply(&self, s: &mut CheckState<P>, i: usize, mut slot: NodeSlot<P>, fx: Vec<Effect<P>>) {
        let me = NodeId(i as u32);
        let mut events = Vec::new();
        for e in fx {
            match e {
                Effect::Send { to, msg } => {
                    assert!(
                        to.index() < self.n,
                        "{me} sent to {to}, beyond the {} nodes",
                        self.n
                    );
                    self.post(s, Envelope { from: me, to, msg });
                }
                Effect::SetTimer { timer, .. } => {
                    let timers = &mut slot.timers;
                    if let Err(pos) = timers.binary_search(&timer) {
                        timers.insert(pos, timer);
                    }
                }
                Effect::CancelTimer { timer } => {
                    let timers = &mut slot.timers;
                    if let Ok(pos) = timers.binary_search(&timer) {
                        timers.remove(pos);
                    }
                }
                Effect::Indicate(ind) => {
                    if let Some(client) = (self.response_of)(&ind) {
                        if let Some(c) = self.clients.iter().position(|p| p.id == client) {
                            let slot = s.clients[c];
                            let asked = slot
                                .next
                                .checked_sub(1)
                                .map(|k| &self.clients[c].ops[k as usize]);
                            if slot.waiting && asked.is_some_and(|req| (self.answers)(req, &ind)) {
                                s.clients[c].waiting = false;
                                events.push(HistEvent::Return { client, ind });
                            }
                        }
                    } else if (self.record)(&ind) {
                        events.push(HistEvent::Note { node: me, ind });
                    }
                }
                Effect::Persist => {
                    let st = slot.state.as_ref().expect("persist at a live node");
                    slot.durable = self.protocol.durable(st);
                }
            }
        }
        if !events.is_empty() {
            s.history.update(|h| {
                for e in events {
                    push_event(h, e);
                }
            });
        }
        s.nodes[i] = Shared::new(slot);
    }

    /// Puts a message in flight, keeping the network's canonical order.
    fn post(&self, s: &mut CheckState<P>, env: Envelope<P::Msg>) {
        let env = Shared::new(env);
        let h = env.stable();
        match self.network {
            NetworkKind::Fifo => {
                // After the last message of the same channel; channels ordered by (from, to).
                let key = (env.from, env.to);
                let pos = s.network.partition_point(|e| (e.from, e.to) <= key);
                s.network.insert(pos, env);
            }
            NetworkKind::Duplicating => {
                let pos = s.network.partition_point(|e| e.stable() < h);
                let present = s.network[pos..]
                    .iter()
                    .take_while(|e| e.stable() == h)
                    .any(|e| *e == env);
                if !present {
                    s.network.insert(pos, env);
                }
            }
            NetworkKind::Unordered | NetworkKind::Lossy => {
                let pos = s.network.partition_point(|e| e.stable() <= h);
                s.network.insert(pos, env);
            }
        }
    }
}
