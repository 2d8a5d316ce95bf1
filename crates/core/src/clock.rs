//! Logical clocks as a layer any protocol can wear: Lamport clocks, vector clocks, and the
//! audit that compares their stamps with the true happened-before of a run.
//!
//! # Model
//!
//! Asynchronous message passing, failure-free: no bound on delays or relative speeds, messages
//! may be reordered. Clocks are orthogonal to failures; the wrapped protocol keeps whatever
//! failure model it has, but a crashed node's clock is volatile (it restarts from zero on
//! recovery), so the properties below are promised for runs without recoveries.
//!
//! # The layer
//!
//! [`Clocked<P, C>`](Clocked) runs protocol `P` unchanged with a clock `C` ([`LogicalClock`])
//! beside its state. The clock ticks on every event of the node the trace shows:
//!
//! - a handler's input (start, recovery, timer, request) is a local event: `tick`;
//! - a delivery is a receive event: `merge` the stamp the message carries (Lamport: max;
//!   vector: pointwise max), then `tick`;
//! - every message `P` sends is a send event: `tick`, and the message goes out as
//!   `(stamp, msg)`;
//! - every indication `P` makes is a local event: `tick`, and it reaches the layer above as
//!   `(stamp, indication)`.
//!
//! Requests, timers and durable state pass through untouched. Every send and indication in a
//! trace therefore carries its clock value ([`stamps`] collects them), the node's current clock
//! is in its state ([`ClockedState::clock`]), and the state stays `Clone + Eq + Hash`, so a
//! clocked protocol runs in the simulator and the model checker (clocks grow without bound:
//! check it under a depth or boundary).
//!
//! # Properties
//!
//! - **Clock condition** (Lamport 1978): if `a → b` then `C(a) < C(b)`. Lamport clocks and
//!   vector clocks both satisfy it. The converse fails for Lamport clocks: concurrent events
//!   get ordered counters too (all of them, except those with equal counters).
//! - **Strong clock condition** (Fidge 1988, Mattern 1988): `a → b` iff `V(a) < V(b)`
//!   (componentwise `≤`, not equal), so vector clocks detect concurrency exactly, at the price
//!   of `n` integers per message; Charron-Bost (1991) showed no shorter vector can do it in
//!   general.
//!
//! [`audit`] checks both against the ground truth of [`crate::causality`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use synod_core::clock::{Clocked, LogicalClock, VectorClock, VectorStamp};
//! use synod_core::{Ctx, Effect, FirstChoice, Instant, NodeId, Protocol};
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! enum Msg { Hello, Ack }
//!
//! /// Answers every hello with an acknowledgement.
//! struct Echo;
//! impl Protocol for Echo {
//!     type Msg = Msg; type Timer = (); type Request = (); type Indication = ();
//!     type State = (); type Durable = ();
//!     fn init(&self, _: &mut Ctx<'_, Self>) {}
//!     fn on_message(&self, _: &mut (), from: NodeId, m: Msg, ctx: &mut Ctx<'_, Self>) {
//!         if m == Msg::Hello { ctx.send(from, Msg::Ack) }
//!     }
//!     fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
//!     fn on_request(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
//! }
//!
//! let clocked = Clocked::<Echo, VectorClock>::new(Echo);
//! let (mut fx, mut ch) = (Vec::new(), FirstChoice);
//! let mut ctx = Ctx::new(NodeId(1), 2, Instant::ZERO, &mut fx, &mut ch);
//! let mut s = clocked.init(&mut ctx); // n1 starts: [0, 1]
//! // n0 sent Hello at its third event; the receive merges, then ticks: [3, 2].
//! clocked.on_message(&mut s, NodeId(0), (VectorStamp(vec![3, 0]), Msg::Hello), &mut ctx);
//! // The reply is one more event, and carries its stamp.
//! assert_eq!(s.clock.stamp(), VectorStamp(vec![3, 3]));
//! let reply = (VectorStamp(vec![3, 3]), Msg::Ack);
//! assert_eq!(fx, vec![Effect::Send { to: NodeId(0), msg: reply }]);
//! ```
//!
//! # Reading
//!
//! Lamport, "Time, Clocks, and the Ordering of Events in a Distributed System" (1978); Fidge,
//! "Timestamps in Message-Passing Systems That Preserve the Partial Ordering" (1988); Mattern,
//! "Virtual Time and Global States of Distributed Systems" (1988); Charron-Bost, "Concerning
//! the size of logical clocks in distributed systems" (1991); Lynch ch. 18; Attiya & Welch
//! ch. 6; Kshemkalyani & Singhal ch. 3; Kleppmann, DDIA ch. 9 (Lamport timestamps).

use crate::causality::Causality;
use crate::{Ctx, Effect, EventKind, Message, NodeId, Protocol, Trace};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::marker::PhantomData;

/// A logical clock: the per-node value a [`Clocked`] protocol keeps and stamps events with.
pub trait LogicalClock: Clone + Debug + Eq + Hash + Send + Sync + 'static {
    /// What travels on messages and labels events.
    type Stamp: Message;

    /// The clock of node `me` in a run of `n` nodes, before its first event.
    fn start(me: NodeId, n: usize) -> Self;

    /// Advances the clock for a new event of this node.
    fn tick(&mut self);

    /// Takes in the stamp a received message carries (before the receive event's
    /// [`tick`](LogicalClock::tick)). A peer's malformed stamp must not panic.
    fn merge(&mut self, seen: &Self::Stamp);

    /// The stamp of the node's latest event.
    fn stamp(&self) -> Self::Stamp;

    /// The clock's order on stamps, `C(a) < C(b)`: what the clock says about causality.
    fn precedes(a: &Self::Stamp, b: &Self::Stamp) -> bool;

    /// The bytes a stamp needs on the wire.
    fn wire_bytes(stamp: &Self::Stamp) -> usize;
}

/// A Lamport timestamp: the counter, and the node as a tie-breaker. `Ord` is the total order of
/// Lamport 1978 (counter first, then node); the clock condition is about the counter alone
/// ([`LamportClock::precedes`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LamportStamp {
    /// The counter.
    pub time: u64,
    /// The node whose event it is.
    pub node: NodeId,
}

impl Debug for LamportStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.time, self.node)
    }
}

/// Lamport's scalar clock: one counter, set past every stamp received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LamportClock {
    /// This node.
    pub me: NodeId,
    /// The counter (the latest event's).
    pub time: u64,
}

impl LogicalClock for LamportClock {
    type Stamp = LamportStamp;

    fn start(me: NodeId, _n: usize) -> Self {
        LamportClock { me, time: 0 }
    }

    fn tick(&mut self) {
        self.time = self.time.saturating_add(1);
    }

    fn merge(&mut self, seen: &LamportStamp) {
        self.time = self.time.max(seen.time);
    }

    fn stamp(&self) -> LamportStamp {
        LamportStamp {
            time: self.time,
            node: self.me,
        }
    }

    /// `L(a) < L(b)`: the counters alone.
    fn precedes(a: &LamportStamp, b: &LamportStamp) -> bool {
        a.time < b.time
    }

    /// One 64-bit counter (the node id is the sender's, which the link already names).
    fn wire_bytes(_stamp: &LamportStamp) -> usize {
        8
    }
}

/// A vector timestamp: entry `q` counts node `q`'s events in the causal past. `PartialOrd` is the
/// componentwise order (`None` for concurrent stamps and for vectors of different lengths).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VectorStamp(pub Vec<u64>);

impl Debug for VectorStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl PartialOrd for VectorStamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.0.len() != other.0.len() {
            return None;
        }
        let (mut le, mut ge) = (true, true);
        for (a, b) in self.0.iter().zip(&other.0) {
            le &= a <= b;
            ge &= a >= b;
        }
        match (le, ge) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }
}

/// The vector clock of Fidge and Mattern: one counter per node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VectorClock {
    /// This node.
    pub me: NodeId,
    /// The vector of the latest event.
    pub v: Vec<u64>,
}

impl LogicalClock for VectorClock {
    type Stamp = VectorStamp;

    fn start(me: NodeId, n: usize) -> Self {
        assert!(me.index() < n, "{me} is not a node of a {n}-node run");
        VectorClock { me, v: vec![0; n] }
    }

    fn tick(&mut self) {
        let own = &mut self.v[self.me.index()];
        *own = own.saturating_add(1);
    }

    /// Pointwise max; a peer's vector of the wrong length is merged over the common entries.
    fn merge(&mut self, seen: &VectorStamp) {
        for (mine, theirs) in self.v.iter_mut().zip(&seen.0) {
            *mine = (*mine).max(*theirs);
        }
    }

    fn stamp(&self) -> VectorStamp {
        VectorStamp(self.v.clone())
    }

    /// `V(a) < V(b)`: every entry `≤`, and the vectors differ.
    fn precedes(a: &VectorStamp, b: &VectorStamp) -> bool {
        a < b
    }

    /// `n` 64-bit counters.
    fn wire_bytes(stamp: &VectorStamp) -> usize {
        8 * stamp.0.len()
    }
}

/// Two clocks side by side (e.g. Lamport and vector, to compare them on the very same run). The
/// pair's order is the product order: both clocks say `<`.
impl<A: LogicalClock, B: LogicalClock> LogicalClock for (A, B) {
    type Stamp = (A::Stamp, B::Stamp);

    fn start(me: NodeId, n: usize) -> Self {
        (A::start(me, n), B::start(me, n))
    }

    fn tick(&mut self) {
        self.0.tick();
        self.1.tick();
    }

    fn merge(&mut self, seen: &Self::Stamp) {
        self.0.merge(&seen.0);
        self.1.merge(&seen.1);
    }

    fn stamp(&self) -> Self::Stamp {
        (self.0.stamp(), self.1.stamp())
    }

    fn precedes(a: &Self::Stamp, b: &Self::Stamp) -> bool {
        A::precedes(&a.0, &b.0) && B::precedes(&a.1, &b.1)
    }

    fn wire_bytes(stamp: &Self::Stamp) -> usize {
        A::wire_bytes(&stamp.0) + B::wire_bytes(&stamp.1)
    }
}

/// The state of a clocked node: the wrapped protocol's state and the clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClockedState<S, C> {
    /// The wrapped protocol's state.
    pub inner: S,
    /// The node's clock (its latest event's value).
    pub clock: C,
}

/// Protocol `P` wearing the logical clock `C` (see the [module docs](self)): its messages travel
/// as `(stamp, msg)`, its indications come out as `(stamp, indication)`, its requests, timers
/// and durable state are its own.
#[derive_where::derive_where(Clone, Debug; P)]
pub struct Clocked<P, C> {
    /// The wrapped protocol.
    pub inner: P,
    clock: PhantomData<fn() -> C>,
}

impl<P, C> Clocked<P, C> {
    /// `inner` wearing clock `C`.
    pub fn new(inner: P) -> Self {
        Clocked {
            inner,
            clock: PhantomData,
        }
    }
}

type CS<P, C> = ClockedState<<P as Protocol>::State, C>;

impl<P: Protocol, C: LogicalClock> Clocked<P, C> {
    /// Applies the wrapped handler's effects in order, stamping sends and indications.
    fn stamp_effects(&self, clock: &mut C, fx: Vec<Effect<P>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => {
                    clock.tick();
                    ctx.send(to, (clock.stamp(), msg));
                }
                Effect::Indicate(ind) => {
                    clock.tick();
                    ctx.indicate((clock.stamp(), ind));
                }
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Persist => ctx.persist(),
            }
        }
    }
}

impl<P: Protocol, C: LogicalClock> Protocol for Clocked<P, C> {
    type Msg = (C::Stamp, P::Msg);
    type Timer = P::Timer;
    type Request = P::Request;
    type Indication = (C::Stamp, P::Indication);
    type State = CS<P, C>;
    type Durable = P::Durable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut clock = C::start(ctx.id(), ctx.n());
        clock.tick();
        let mut fx = Vec::new();
        let inner = self.inner.init(&mut ctx.fork(&mut fx));
        self.stamp_effects(&mut clock, fx, ctx);
        ClockedState { inner, clock }
    }

    fn on_message(
        &self,
        s: &mut Self::State,
        from: NodeId,
        (stamp, msg): Self::Msg,
        ctx: &mut Ctx<'_, Self>,
    ) {
        s.clock.merge(&stamp);
        s.clock.tick();
        let mut fx = Vec::new();
        self.inner
            .on_message(&mut s.inner, from, msg, &mut ctx.fork(&mut fx));
        self.stamp_effects(&mut s.clock, fx, ctx);
    }

    fn on_timer(&self, s: &mut Self::State, timer: P::Timer, ctx: &mut Ctx<'_, Self>) {
        s.clock.tick();
        let mut fx = Vec::new();
        self.inner
            .on_timer(&mut s.inner, timer, &mut ctx.fork(&mut fx));
        self.stamp_effects(&mut s.clock, fx, ctx);
    }

    fn on_request(&self, s: &mut Self::State, req: P::Request, ctx: &mut Ctx<'_, Self>) {
        s.clock.tick();
        let mut fx = Vec::new();
        self.inner
            .on_request(&mut s.inner, req, &mut ctx.fork(&mut fx));
        self.stamp_effects(&mut s.clock, fx, ctx);
    }

    fn durable(&self, s: &Self::State) -> P::Durable {
        self.inner.durable(&s.inner)
    }

    /// The clock is volatile: it restarts from zero (see the module's model).
    fn recover(&self, d: &P::Durable, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut clock = C::start(ctx.id(), ctx.n());
        clock.tick();
        let mut fx = Vec::new();
        let inner = self.inner.recover(d, &mut ctx.fork(&mut fx));
        self.stamp_effects(&mut clock, fx, ctx);
        ClockedState { inner, clock }
    }

    fn invariants(&self, s: &Self::State) {
        self.inner.invariants(&s.inner);
    }
}

/// The clock values a trace of a clocked protocol shows: `(event index, stamp)` for every send
/// and every indication, in trace order.
pub fn stamps<P: Protocol, C: LogicalClock>(
    trace: &Trace<Clocked<P, C>>,
) -> Vec<(usize, C::Stamp)> {
    trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Send { msg, .. } => Some((i, msg.0.clone())),
            EventKind::Indication { ind, .. } => Some((i, ind.0.clone())),
            _ => None,
        })
        .collect()
}

/// How a clock's stamps compare with the true happened-before, over the pairs of stamped events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockAudit {
    /// Stamped events compared.
    pub events: u64,
    /// Unordered pairs of distinct stamped events.
    pub pairs: u64,
    /// Pairs ordered by happened-before (one way).
    pub causal_pairs: u64,
    /// Pairs of concurrent events.
    pub concurrent_pairs: u64,
    /// Pairs with `a → b` but not `C(a) < C(b)`: the clock condition broken.
    pub violations: u64,
    /// Ordered pairs `(a, b)` with `C(a) < C(b)`.
    pub clock_orders: u64,
    /// Ordered pairs with `C(a) < C(b)` but not `a → b`: orders the clock invents.
    pub false_orderings: u64,
    /// Concurrent pairs the clock orders one way or the other: concurrency it misses.
    pub missed_concurrency: u64,
}

impl ClockAudit {
    /// Adds another audit's counts (to sum over runs).
    pub fn add(&mut self, o: &ClockAudit) {
        self.events += o.events;
        self.pairs += o.pairs;
        self.causal_pairs += o.causal_pairs;
        self.concurrent_pairs += o.concurrent_pairs;
        self.violations += o.violations;
        self.clock_orders += o.clock_orders;
        self.false_orderings += o.false_orderings;
        self.missed_concurrency += o.missed_concurrency;
    }

    /// The clock condition held on every pair: `a → b ⇒ C(a) < C(b)`.
    pub fn clock_condition(&self) -> bool {
        self.violations == 0
    }

    /// The strong clock condition held on every pair: `a → b ⇔ C(a) < C(b)`.
    pub fn strong_clock_condition(&self) -> bool {
        self.violations == 0 && self.false_orderings == 0
    }

    /// Among the ordered pairs with `C(a) < C(b)`, the share that are concurrent
    /// (`P(a ∥ b | C(a) < C(b))`); `None` if the clock ordered nothing.
    pub fn concurrent_given_ordered(&self) -> Option<f64> {
        (self.clock_orders > 0).then(|| self.false_orderings as f64 / self.clock_orders as f64)
    }
}

/// Compares the stamps `stamped` (`(event index, stamp)`, e.g. from [`stamps`]) under the order
/// `precedes` with the true happened-before `truth`, over every pair: O(events²).
pub fn audit<S>(
    truth: &Causality,
    stamped: &[(usize, S)],
    precedes: impl Fn(&S, &S) -> bool,
) -> ClockAudit {
    let mut r = ClockAudit {
        events: stamped.len() as u64,
        ..ClockAudit::default()
    };
    for (k, (a, sa)) in stamped.iter().enumerate() {
        for (b, sb) in &stamped[k + 1..] {
            if a == b {
                continue;
            }
            r.pairs += 1;
            let (ab, ba) = (truth.happened_before(*a, *b), truth.happened_before(*b, *a));
            let (ca, cb) = (precedes(sa, sb), precedes(sb, sa));
            r.clock_orders += u64::from(ca) + u64::from(cb);
            r.false_orderings += u64::from(ca && !ab) + u64::from(cb && !ba);
            if ab || ba {
                r.causal_pairs += 1;
                r.violations += u64::from((ab && !ca) || (ba && !cb));
            } else {
                r.concurrent_pairs += 1;
                r.missed_concurrency += u64::from(ca || cb);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{step, Event, Input, Instant, Prng, RunFacts};

    /// Random chatter: a request makes a node either send to a random peer or do a local
    /// event; every receive is indicated.
    struct Chatter;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    enum Ind {
        Local,
        Got(NodeId),
    }

    impl Protocol for Chatter {
        type Msg = ();
        type Timer = ();
        type Request = ();
        type Indication = Ind;
        type State = ();
        type Durable = ();
        fn init(&self, _: &mut Ctx<'_, Self>) {}
        fn on_message(&self, _: &mut (), from: NodeId, _: (), ctx: &mut Ctx<'_, Self>) {
            ctx.indicate(Ind::Got(from));
        }
        fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
        fn on_request(&self, _: &mut (), _: (), ctx: &mut Ctx<'_, Self>) {
            match ctx.choose(3) {
                0 => ctx.indicate(Ind::Local),
                1 => {
                    let to = ctx.random_peer();
                    ctx.send(to, ());
                }
                _ => ctx.broadcast(()),
            }
        }
    }

    /// A tiny driver independent of the simulator: at each step, deliver a random message in
    /// flight (any order: asynchronous) or give a random node a request.
    fn random_run<C: LogicalClock>(
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Trace<Clocked<Chatter, C>> {
        let p = Clocked::<Chatter, C>::new(Chatter);
        let mut rng = Prng::new(seed);
        let mut node_rng: Vec<Prng> = (0..n as u64).map(|i| Prng::derive(seed, i + 1)).collect();
        let mut states = vec![None; n];
        let mut events = Vec::new();
        let mut flight = Vec::new();
        let mut next_id = 0;
        let time = Instant::ZERO;
        let mut feed = |node: usize,
                        input: Input<Clocked<Chatter, C>>,
                        states: &mut Vec<Option<_>>,
                        events: &mut Vec<Event<Clocked<Chatter, C>>>,
                        flight: &mut Vec<_>| {
            let id = NodeId(node as u32);
            let mut fx = Vec::new();
            let mut ctx = Ctx::new(id, n, time, &mut fx, &mut node_rng[node]);
            step(&p, &mut states[node], &(), input, &mut ctx);
            for e in fx {
                match e {
                    Effect::Send { to, msg } => {
                        next_id += 1;
                        events.push(Event {
                            time,
                            kind: EventKind::Send {
                                from: id,
                                to,
                                id: next_id,
                                msg: msg.clone(),
                            },
                        });
                        flight.push((id, to, next_id, msg));
                    }
                    Effect::Indicate(ind) => {
                        events.push(Event {
                            time,
                            kind: EventKind::Indication { node: id, ind },
                        });
                    }
                    _ => {}
                }
            }
        };
        for i in 0..n {
            events.push(Event {
                time,
                kind: EventKind::Init {
                    node: NodeId(i as u32),
                },
            });
            feed(i, Input::Init, &mut states, &mut events, &mut flight);
        }
        for _ in 0..steps {
            if !flight.is_empty() && rng.below(2) == 0 {
                let k = rng.below(flight.len() as u64) as usize;
                let (from, to, id, msg) = flight.swap_remove(k);
                events.push(Event {
                    time,
                    kind: EventKind::Deliver {
                        from,
                        to,
                        id,
                        msg: msg.clone(),
                    },
                });
                feed(
                    to.index(),
                    Input::Message(from, msg),
                    &mut states,
                    &mut events,
                    &mut flight,
                );
            } else {
                let node = rng.below(n as u64) as usize;
                events.push(Event {
                    time,
                    kind: EventKind::Request {
                        node: NodeId(node as u32),
                        req: (),
                    },
                });
                feed(
                    node,
                    Input::Request(()),
                    &mut states,
                    &mut events,
                    &mut flight,
                );
            }
        }
        Trace {
            events,
            facts: RunFacts::fault_free(n, time),
        }
    }

    fn audit_run<C: LogicalClock>(n: usize, seed: u64) -> ClockAudit {
        let trace = random_run::<C>(n, 60, seed);
        audit(&Causality::of(&trace), &stamps(&trace), C::precedes)
    }

    /// A canary: a Lamport clock that forgets to take the max on receive.
    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    struct ForgetfulLamport(LamportClock);

    impl LogicalClock for ForgetfulLamport {
        type Stamp = LamportStamp;
        fn start(me: NodeId, n: usize) -> Self {
            ForgetfulLamport(LamportClock::start(me, n))
        }
        fn tick(&mut self) {
            self.0.tick();
        }
        fn merge(&mut self, _seen: &LamportStamp) {}
        fn stamp(&self) -> LamportStamp {
            self.0.stamp()
        }
        fn precedes(a: &LamportStamp, b: &LamportStamp) -> bool {
            LamportClock::precedes(a, b)
        }
        fn wire_bytes(s: &LamportStamp) -> usize {
            LamportClock::wire_bytes(s)
        }
    }

    #[test]
    fn lamport_clock_condition_holds_but_not_its_converse() {
        let mut total = ClockAudit::default();
        for seed in 0..60 {
            let n = 2 + (seed % 5) as usize;
            let a = audit_run::<LamportClock>(n, seed);
            assert!(a.clock_condition(), "seed {seed}: {a:?}");
            total.add(&a);
        }
        assert!(
            total.causal_pairs > 0 && total.concurrent_pairs > 0,
            "{total:?}"
        );
        assert!(
            total.false_orderings > 0,
            "Lamport orders concurrent events: {total:?}"
        );
        assert_eq!(total.false_orderings, total.missed_concurrency);
    }

    #[test]
    fn vector_clocks_characterise_causality() {
        let mut total = ClockAudit::default();
        for seed in 0..60 {
            let n = 2 + (seed % 5) as usize;
            let a = audit_run::<VectorClock>(n, seed);
            assert!(a.strong_clock_condition(), "seed {seed}: {a:?}");
            assert_eq!(a.missed_concurrency, 0);
            total.add(&a);
        }
        assert!(
            total.causal_pairs > 0 && total.concurrent_pairs > 0,
            "{total:?}"
        );
    }

    /// The clock ticks on exactly the node events the trace records (start, request,
    /// delivery, send, indication), so each stamped event's vector is its true vector.
    #[test]
    fn vector_stamps_are_the_true_vectors() {
        for seed in 0..20 {
            let trace = random_run::<VectorClock>(4, 50, seed);
            let truth = Causality::of(&trace);
            for (i, s) in stamps(&trace) {
                let v: Vec<u64> = truth.vector(i).unwrap().iter().map(|&x| x.into()).collect();
                assert_eq!(s.0, v, "seed {seed}, event {i}");
            }
        }
    }

    #[test]
    fn a_clock_that_forgets_the_max_is_caught() {
        let caught = (0..30)
            .filter(|&seed| !audit_run::<ForgetfulLamport>(3, seed).clock_condition())
            .count();
        assert!(caught > 0, "the canary went unnoticed");
    }

    #[test]
    fn both_clocks_on_one_run() {
        for seed in 0..20 {
            let trace = random_run::<(LamportClock, VectorClock)>(4, 60, seed);
            let truth = Causality::of(&trace);
            let st = stamps(&trace);
            let l = audit(&truth, &st, |a, b| LamportClock::precedes(&a.0, &b.0));
            let v = audit(&truth, &st, |a, b| VectorClock::precedes(&a.1, &b.1));
            assert!(l.clock_condition() && v.strong_clock_condition());
            // Whatever vectors order, Lamport orders the same way (the clock condition).
            for (_, (la, va)) in &st {
                for (_, (lb, vb)) in &st {
                    if va < vb {
                        assert!(la.time < lb.time, "seed {seed}");
                    }
                }
            }
            let (l0, v0) = &st[0].1;
            assert_eq!(
                <(LamportClock, VectorClock)>::wire_bytes(&(*l0, v0.clone())),
                8 + 32
            );
        }
    }

    /// A protocol whose one request sets and cancels a timer, persists, sends and indicates.
    struct Busy;
    impl Protocol for Busy {
        type Msg = u8;
        type Timer = u8;
        type Request = u8;
        type Indication = u8;
        type State = u8;
        type Durable = u8;
        fn init(&self, _: &mut Ctx<'_, Self>) -> u8 {
            0
        }
        fn on_message(&self, _: &mut u8, _: NodeId, _: u8, _: &mut Ctx<'_, Self>) {}
        fn on_timer(&self, _: &mut u8, _: u8, _: &mut Ctx<'_, Self>) {}
        fn on_request(&self, s: &mut u8, r: u8, ctx: &mut Ctx<'_, Self>) {
            *s = r;
            ctx.set_timer(1, crate::Duration::from_millis(5));
            ctx.persist();
            ctx.send(NodeId(0), r);
            ctx.cancel_timer(2);
            ctx.indicate(r + 1);
        }
        fn durable(&self, s: &u8) -> u8 {
            *s
        }
    }

    /// Requests, timers, persistence and durable state pass through in order; only sends and
    /// indications get stamps, one tick each after the request's own.
    #[test]
    fn the_wrapped_protocol_runs_unchanged() {
        let p = Clocked::<Busy, LamportClock>::new(Busy);
        let (mut fx, mut ch) = (Vec::new(), crate::FirstChoice);
        let mut ctx = Ctx::new(NodeId(1), 2, Instant::ZERO, &mut fx, &mut ch);
        let mut s = p.init(&mut ctx);
        p.on_request(&mut s, 7, &mut ctx);
        let at = |time| LamportStamp {
            time,
            node: NodeId(1),
        };
        assert_eq!(
            fx,
            vec![
                Effect::SetTimer {
                    timer: 1,
                    after: crate::Duration::from_millis(5)
                },
                Effect::Persist,
                Effect::Send {
                    to: NodeId(0),
                    msg: (at(3), 7)
                },
                Effect::CancelTimer { timer: 2 },
                Effect::Indicate((at(4), 8)),
            ]
        );
        assert_eq!((s.inner, p.durable(&s)), (7, 7));
    }

    #[test]
    fn vector_order_and_malformed_stamps() {
        let v = |x: &[u64]| VectorStamp(x.to_vec());
        assert!(v(&[1, 0]) < v(&[1, 1]));
        assert_eq!(v(&[1, 0]).partial_cmp(&v(&[0, 1])), None);
        assert_eq!(v(&[1]).partial_cmp(&v(&[1, 0])), None);
        let mut c = VectorClock::start(NodeId(0), 2);
        c.merge(&v(&[5, 6, 7])); // a peer's bad stamp: no panic
        c.merge(&v(&[]));
        c.tick();
        assert_eq!(c.stamp(), v(&[6, 6]));
        let s = LamportStamp {
            time: 2,
            node: NodeId(1),
        };
        assert!(
            s < LamportStamp {
                time: 2,
                node: NodeId(2)
            }
        );
        assert!(!LamportClock::precedes(
            &s,
            &LamportStamp {
                time: 2,
                node: NodeId(2)
            }
        ));
    }
}
