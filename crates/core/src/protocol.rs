//! The sans-IO protocol trait and its driver contract.

use crate::{Duration, Instant, NodeId};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use std::hash::Hash;

/// Bounds every message type meets: cloneable (the network may duplicate it), comparable and
/// hashable (the model checker keeps messages in its states), printable (traces and diagrams),
/// serde (the TCP runtime puts it on the wire) and thread-safe (the checker's workers share them).
pub trait Message:
    Clone + Debug + Eq + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<T: Clone + Debug + Eq + Hash + Serialize + DeserializeOwned + Send + Sync + 'static> Message
    for T
{
}

/// Bounds every node-state type meets: the checker clones, compares and fingerprints states.
pub trait StateValue: Clone + Debug + Eq + Hash + Send + Sync + 'static {}
impl<T: Clone + Debug + Eq + Hash + Send + Sync + 'static> StateValue for T {}

/// A distributed protocol, written once as a deterministic state machine per node and driven by
/// the simulator, the model checker or the TCP runtime.
///
/// The `Protocol` value itself is the immutable configuration shared by all nodes (node count,
/// quorum sizes, timeouts); each node's mutable data lives in its own [`Protocol::State`], which
/// is what a model checker fingerprints.
///
/// # Driver contract
///
/// A driver (simulator, checker, runtime) promises:
///
/// 1. **One handler at a time per node.** It calls [`init`](Protocol::init) once when the node
///    starts, then [`on_message`](Protocol::on_message), [`on_timer`](Protocol::on_timer) and
///    [`on_request`](Protocol::on_request) one by one. A handler runs to completion and is atomic
///    with respect to crashes.
/// 2. **Inputs carry everything.** The current local time is [`Ctx::now`]; random choices are
///    answered by [`Ctx::choose`]; the node's identity and the node count are [`Ctx::id`] and
///    [`Ctx::n`]. A handler must be a pure function of `(self, state, input, ctx answers)`: no
///    clock, no thread-local RNG, no I/O, no iteration over std hash maps. That is what lets the
///    simulator replay a seed and the checker branch on every outcome of a choice.
/// 3. **Effects are data, applied in order.** Handlers record sends, timers, indications and
///    persistence in the [`Ctx`]; the driver applies them after the handler returns, in the order
///    recorded. A [`Effect::Persist`] is a barrier: the state returned by
///    [`durable`](Protocol::durable) must be on stable storage before any later effect is made
///    visible (the runtime fsyncs there; the simulator makes it instantaneous).
/// 4. **Timers are named.** Setting a timer that is already pending replaces it; cancelling
///    removes it; a timer fires at most once per setting. Durations are in the node's *local*
///    clock, which may drift from real time.
/// 5. **Crashes lose volatile state.** After a crash the node runs no handler until it recovers;
///    on recovery the driver calls [`recover`](Protocol::recover) with the last persisted
///    [`Durable`](Protocol::Durable) value (its `Default` if nothing was persisted). Pending
///    timers are gone.
/// 6. **Bad input is a value.** `on_message` receives whatever a peer sent; a protocol must not
///    panic on a message it did not expect (count it, ignore it). Panics are reserved for broken
///    internal invariants, checked by [`invariants`](Protocol::invariants), which drivers call
///    after every step.
pub trait Protocol: Sized + Send + Sync + 'static {
    /// What nodes send to each other.
    type Msg: Message;
    /// The names of this protocol's timers, e.g. `enum Timer { Heartbeat, Retransmit(u64) }`.
    type Timer: Clone + Debug + Eq + Ord + Hash + Send + Sync + 'static;
    /// What the layer above asks of a node, e.g. `Propose(v)`, `Send { to, payload }`, a client
    /// operation.
    type Request: Message;
    /// What a node tells the layer above, e.g. `Decide(v)`, `Deliver { from, payload }`,
    /// `Suspect(p)`, a client response.
    type Indication: Message;
    /// One node's volatile state.
    type State: StateValue;
    /// The part of a node's state that survives a crash once persisted (`()` for protocols that
    /// assume crash-stop).
    type Durable: Message + Default;

    /// Starts a node: returns its initial state and records its first effects.
    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State;

    /// A message from `from` arrived.
    fn on_message(
        &self,
        state: &mut Self::State,
        from: NodeId,
        msg: Self::Msg,
        ctx: &mut Ctx<'_, Self>,
    );

    /// A timer set earlier fired.
    fn on_timer(&self, state: &mut Self::State, timer: Self::Timer, ctx: &mut Ctx<'_, Self>);

    /// The layer above (an application, a client, an upper protocol) made a request.
    fn on_request(&self, state: &mut Self::State, req: Self::Request, ctx: &mut Ctx<'_, Self>);

    /// A hint from a driver on a real network: its connection to `peer` broke and reconnecting
    /// was refused, so `peer` has probably crashed (the host of a killed process refuses
    /// connections at once). Only a hint: a peer behind a broken link may be alive, and most
    /// failures give none (a partition, a paused process, a dead host), so nothing may depend on
    /// it, safety least of all; it may only make a protocol react sooner (a Raft follower whose
    /// leader is unreachable starts an election without waiting out its timeout). The
    /// simulator and the model checker never give it. The default ignores it.
    fn on_peer_unreachable(
        &self,
        _state: &mut Self::State,
        _peer: NodeId,
        _ctx: &mut Ctx<'_, Self>,
    ) {
    }

    /// The part of `state` to write to stable storage at an [`Effect::Persist`].
    fn durable(&self, _state: &Self::State) -> Self::Durable {
        Self::Durable::default()
    }

    /// Rebuilds a node after a crash from what it had persisted. The default restarts the node
    /// from scratch, which is right for protocols that persist nothing.
    fn recover(&self, _durable: &Self::Durable, ctx: &mut Ctx<'_, Self>) -> Self::State {
        self.init(ctx)
    }

    /// Checks the node's internal invariants, panicking if one is broken (our bug, not the
    /// peer's). Drivers call it after every step, so keep it cheap: a check linear in the
    /// state's size makes a long run quadratic. The default checks nothing.
    fn invariants(&self, _state: &Self::State) {}
}

/// One input a driver feeds a node: the union of the handlers' triggers.
#[derive_where::derive_where(Clone, Debug)]
pub enum Input<P: Protocol> {
    /// The node starts ([`Protocol::init`]).
    Init,
    /// The node recovers from its durable state ([`Protocol::recover`]).
    Recover,
    /// A message arrived ([`Protocol::on_message`]).
    Message(NodeId, P::Msg),
    /// A timer fired ([`Protocol::on_timer`]).
    Timer(P::Timer),
    /// The layer above asked something ([`Protocol::on_request`]).
    Request(P::Request),
    /// The driver's transport finds a peer unreachable ([`Protocol::on_peer_unreachable`]).
    PeerUnreachable(NodeId),
}

/// Feeds `input` to a node whose volatile state is `state` (`None` before it starts and while
/// it is crashed) and durable state `durable`, then checks its invariants. Every driver steps
/// nodes through this one function.
///
/// # Panics
/// If a message, timer or request is fed to a node without state (the driver's bug).
pub fn step<P: Protocol>(
    protocol: &P,
    state: &mut Option<P::State>,
    durable: &P::Durable,
    input: Input<P>,
    ctx: &mut Ctx<'_, P>,
) {
    fn live<S>(s: &mut Option<S>) -> &mut S {
        s.as_mut()
            .expect("a driver fed an input to a node that is down")
    }
    match input {
        Input::Init => *state = Some(protocol.init(ctx)),
        Input::Recover => *state = Some(protocol.recover(durable, ctx)),
        Input::Message(from, msg) => protocol.on_message(live(state), from, msg, ctx),
        Input::Timer(t) => protocol.on_timer(live(state), t, ctx),
        Input::Request(r) => protocol.on_request(live(state), r, ctx),
        Input::PeerUnreachable(p) => protocol.on_peer_unreachable(live(state), p, ctx),
    }
    protocol.invariants(state.as_ref().expect("a node has state after a step"));
}

/// One effect recorded by a handler. Drivers interpret these; tests can print them.
#[derive_where::derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Effect<P: Protocol> {
    /// Send `msg` to node `to` over the network.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
    },
    /// Fire `timer` after `after` of local time, replacing a pending timer of the same name.
    SetTimer {
        /// The timer's name.
        timer: P::Timer,
        /// How long from now (local clock).
        after: Duration,
    },
    /// Cancel `timer` if it is pending.
    CancelTimer {
        /// The timer's name.
        timer: P::Timer,
    },
    /// Tell the layer above something.
    Indicate(P::Indication),
    /// Write [`Protocol::durable`] of the node's state to stable storage before anything after
    /// this effect becomes visible.
    Persist,
}

/// Answers a handler's random choices. The simulator answers from the run's seed, the model
/// checker enumerates every answer, the runtime uses an OS-seeded generator.
pub trait Chooser {
    /// A value in `0..n` (`n >= 1`).
    fn choose(&mut self, n: usize) -> usize;
}

/// A [`Chooser`] that always answers 0: handy for unit tests of handlers that never choose.
#[derive(Clone, Copy, Debug, Default)]
pub struct FirstChoice;

impl Chooser for FirstChoice {
    fn choose(&mut self, _n: usize) -> usize {
        0
    }
}

impl Chooser for crate::Prng {
    fn choose(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// The context a handler runs in: what it may ask (time, identity, random choices) and where it
/// records its effects.
pub struct Ctx<'a, P: Protocol> {
    id: NodeId,
    n: usize,
    now: Instant,
    effects: &'a mut Vec<Effect<P>>,
    chooser: &'a mut dyn Chooser,
}

impl<'a, P: Protocol> Ctx<'a, P> {
    /// A context for node `id` of `n` at local time `now`, recording into `effects`.
    /// Drivers build one per handler call.
    pub fn new(
        id: NodeId,
        n: usize,
        now: Instant,
        effects: &'a mut Vec<Effect<P>>,
        chooser: &'a mut dyn Chooser,
    ) -> Ctx<'a, P> {
        Ctx {
            id,
            n,
            now,
            effects,
            chooser,
        }
    }

    /// A context for a sub-protocol `Q` running inside this node (used by combinators such as
    /// [`crate::Stack`]): same node, time and chooser, its own effect list.
    pub fn fork<'b, Q: Protocol>(&'b mut self, effects: &'b mut Vec<Effect<Q>>) -> Ctx<'b, Q> {
        Ctx {
            id: self.id,
            n: self.n,
            now: self.now,
            effects,
            chooser: &mut *self.chooser,
        }
    }

    /// This node.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The number of nodes in the run (nodes are `n0..n{n-1}`).
    pub fn n(&self) -> usize {
        self.n
    }

    /// All nodes other than this one, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.id;
        NodeId::all(self.n).filter(move |p| *p != me)
    }

    /// The node's local clock (drift and offset included).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }

    /// Sends `msg` to every other node (the best-effort "send to all" of the books; a protocol
    /// that must also deliver to itself does so directly).
    pub fn broadcast(&mut self, msg: P::Msg) {
        for to in NodeId::all(self.n) {
            if to != self.id {
                self.effects.push(Effect::Send {
                    to,
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Sets (or resets) the timer `timer` to fire after `after` of local time.
    pub fn set_timer(&mut self, timer: P::Timer, after: Duration) {
        self.effects.push(Effect::SetTimer { timer, after });
    }

    /// Cancels `timer` if it is pending.
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }

    /// Tells the layer above (e.g. `Decide(v)`, `Deliver { .. }`, a client response).
    pub fn indicate(&mut self, ind: P::Indication) {
        self.effects.push(Effect::Indicate(ind));
    }

    /// Persists [`Protocol::durable`] of the state before any later effect goes out.
    pub fn persist(&mut self) {
        self.effects.push(Effect::Persist);
    }

    /// A random choice in `0..n`, answered by the driver: from the seed in the simulator, every
    /// value in turn in the model checker. Keep `n` small where the checker will run.
    ///
    /// # Panics
    /// If `n` is zero.
    pub fn choose(&mut self, n: usize) -> usize {
        assert!(n > 0, "Ctx::choose(0): nothing to choose from");
        let c = self.chooser.choose(n);
        debug_assert!(c < n);
        c
    }

    /// A random element of `items` (see [`Ctx::choose`]).
    ///
    /// # Panics
    /// If `items` is empty.
    pub fn pick<'i, T>(&mut self, items: &'i [T]) -> &'i T {
        &items[self.choose(items.len())]
    }

    /// A random peer (not this node).
    ///
    /// # Panics
    /// If the run has a single node.
    pub fn random_peer(&mut self) -> NodeId {
        assert!(self.n > 1, "random_peer in a one-node run");
        let k = self.choose(self.n - 1) as u32;
        if k >= self.id.0 {
            NodeId(k + 1)
        } else {
            NodeId(k)
        }
    }

    /// The effects recorded so far by this handler.
    pub fn effects(&self) -> &[Effect<P>] {
        self.effects
    }
}
