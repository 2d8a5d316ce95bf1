//! FIFO reliable broadcast: sequence numbers per origin and a reorder buffer, over any reliable
//! broadcast.
//!
//! **Model.** n processes, *crash-stop*; asynchronous; the layer below is a reliable broadcast
//! (any protocol of the shared vocabulary, `Request = BcastReq`, `Indication = BcastInd`: for
//! instance eager reliable broadcast over perfect links). A node that recovers restarts this
//! layer from scratch (it is a crash-stop algorithm: recovery is outside its model).
//!
//! **Algorithm** (CGR §3.9, "Broadcast with Sequence Number"). Every broadcast of this layer is
//! exactly one broadcast of the layer below, so the underlying message of the k-th broadcast at
//! p is `MsgId { origin: p, seq: k }` (the vocabulary numbers broadcasts per origin from 1): that
//! sequence number is the one CGR attaches to each message, and it travels inside the layer
//! below's identity rather than in the payload (which stays a lossless `u64`). Each process
//! keeps, per origin, the next sequence number it expects (`next`, from 1) and a buffer of the
//! messages that arrived early. When the layer below delivers `origin#seq`: if `seq` is the
//! next expected one it is delivered, then every buffered successor in turn; a later one is
//! buffered; an earlier one (a duplicate) is dropped.
//!
//! **Properties** (judged by `broadcast::properties` over the trace): everything the layer
//! below guarantees (validity, no duplication, no creation, agreement; uniform agreement if
//! the layer below is uniform), plus **FIFO order**: if a process broadcasts m1 before m2, no
//! process delivers m2 unless it delivered m1 before. It does *not* give causal order (a reply
//! from another process may overtake the message it answers) nor total order.
//!
//! **Canary.** [`Fifo::canary_deliver_on_arrival`]: the layer delivers whatever arrives, at once
//! (no reorder buffer). On a reordering network, two messages of one origin arrive out of order
//! and `fifo_order` catches it; on FIFO channels it may go unnoticed.
//!
//! **Read:** Cachin, Guerraoui and Rodrigues (CGR), *Introduction to Reliable and Secure
//! Distributed Programming*, §3.9.1-3.9.2 (FIFO-order broadcast, Algorithm 3.12); Attiya and
//! Welch, ch. 8.2 (FIFO broadcast from basic broadcast); Kshemkalyani and Singhal, ch. 6.

use super::{BcastInd, BcastReq, MsgId};
use std::collections::BTreeMap;
use synod_core::{Ctx, Effect, NodeId, Protocol};

/// FIFO reliable broadcast over the reliable broadcast `R` (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fifo<R> {
    /// The reliable broadcast underneath.
    pub inner: R,
    /// CANARY when true: deliver on arrival, without the reorder buffer.
    pub deliver_on_arrival: bool,
}

impl<R> Fifo<R> {
    /// FIFO order over `inner`.
    pub fn new(inner: R) -> Fifo<R> {
        Fifo {
            inner,
            deliver_on_arrival: false,
        }
    }

    /// CANARY: the layer delivers every message as soon as the layer below does (no reorder
    /// buffer): FIFO order is broken whenever the network reorders two messages of one origin.
    pub fn canary_deliver_on_arrival(inner: R) -> Fifo<R> {
        Fifo {
            inner,
            deliver_on_arrival: true,
        }
    }
}

/// One process's state: the layer below's, and the reorder buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FifoState<S> {
    /// The reliable broadcast's state.
    pub inner: S,
    /// Per origin (index = node), the next sequence number to deliver (from 1).
    pub next: Vec<u64>,
    /// Messages that arrived before their predecessors, with their payloads.
    pub pending: BTreeMap<MsgId, u64>,
}

impl<R> Fifo<R>
where
    R: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    fn fresh(&self, inner: R::State, n: usize) -> FifoState<R::State> {
        FifoState {
            inner,
            next: vec![1; n],
            pending: BTreeMap::new(),
        }
    }

    /// Applies the layer below's effects: network effects pass through, its deliveries go
    /// through the reorder buffer.
    fn run_inner(&self, s: &mut FifoState<R::State>, fx: Vec<Effect<R>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(BcastInd::Deliver { id, payload }) => {
                    self.arrived(s, id, payload, ctx)
                }
            }
        }
    }

    fn arrived(
        &self,
        s: &mut FifoState<R::State>,
        id: MsgId,
        payload: u64,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let o = id.origin.index();
        if o >= s.next.len() || id.seq == 0 {
            return; // not a message of this run: ignored
        }
        if self.deliver_on_arrival {
            ctx.indicate(BcastInd::Deliver { id, payload });
            return;
        }
        if id.seq < s.next[o] {
            return; // already delivered
        }
        s.pending.entry(id).or_insert(payload);
        loop {
            let want = MsgId {
                origin: id.origin,
                seq: s.next[o],
            };
            let Some(p) = s.pending.remove(&want) else {
                break;
            };
            s.next[o] += 1;
            ctx.indicate(BcastInd::Deliver {
                id: want,
                payload: p,
            });
        }
    }
}

impl<R> Protocol for Fifo<R>
where
    R: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    type Msg = R::Msg;
    type Timer = R::Timer;
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = FifoState<R::State>;
    type Durable = R::Durable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut fx = Vec::new();
        let inner = self.inner.init(&mut ctx.fork(&mut fx));
        let mut s = self.fresh(inner, ctx.n());
        self.run_inner(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut Self::State, from: NodeId, msg: R::Msg, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.inner
            .on_message(&mut s.inner, from, msg, &mut ctx.fork(&mut fx));
        self.run_inner(s, fx, ctx);
    }

    fn on_timer(&self, s: &mut Self::State, timer: R::Timer, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.inner
            .on_timer(&mut s.inner, timer, &mut ctx.fork(&mut fx));
        self.run_inner(s, fx, ctx);
    }

    fn on_request(&self, s: &mut Self::State, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.inner
            .on_request(&mut s.inner, req, &mut ctx.fork(&mut fx));
        self.run_inner(s, fx, ctx);
    }

    fn durable(&self, s: &Self::State) -> R::Durable {
        self.inner.durable(&s.inner)
    }

    fn recover(&self, d: &R::Durable, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut fx = Vec::new();
        let inner = self.inner.recover(d, &mut ctx.fork(&mut fx));
        let mut s = self.fresh(inner, ctx.n());
        self.run_inner(&mut s, fx, ctx);
        s
    }

    fn invariants(&self, s: &Self::State) {
        self.inner.invariants(&s.inner);
        if let Some((id, _)) = s.pending.first_key_value() {
            assert!(
                id.seq >= s.next[id.origin.index()],
                "Fifo: {id} is buffered but already delivered"
            );
        }
    }
}
