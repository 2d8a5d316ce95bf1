//! Causal broadcast with vector clocks (CGR's "Waiting Causal Broadcast"), over eager reliable
//! broadcast.
//!
//! **Model.** n processes, *crash-stop* (a recovered node restarts from scratch: recovery is
//! outside the model); asynchronous, no failure detector; perfect (reliable) links that may
//! reorder. Causal broadcast needs no consensus: it is implementable in pure asynchrony, unlike
//! total order.
//!
//! **Algorithm** (CGR §3.9.5, Algorithm 3.15, "Waiting Causal Broadcast"). Each process p keeps
//! a vector `v` (a plain `Vec<u64>` with one entry per process): `v[q]` counts the messages of q
//! that p has delivered, and `lsn` counts p's own broadcasts. To broadcast m, p stamps it with
//! `w = v` except `w[p] = lsn` (the messages p had delivered, and its own earlier broadcasts:
//! exactly m's causal past), increments `lsn` and reliably broadcasts `(w, m)`. When a message
//! `(w, m)` is reliably delivered it joins a pending set; every pending message whose `w ≤ v`
//! (entry by entry) is delivered, incrementing `v[origin]`, until none is left. Because the
//! message of p with id `p#k` carries `w[p] = k − 1`, the vector entry of its origin also
//! makes the delivery FIFO.
//!
//! The reliable broadcast underneath is CGR's *Eager Reliable Broadcast* (§3.3, Algorithm
//! 3.3), inlined because messages carry a vector (the shared vocabulary's payload is a
//! `u64`): the origin sends `(id, w, m)` to every other process and hands it to itself; a
//! process that receives a message for the first time relays it to every other process before
//! considering it for delivery, so if any correct process receives it, all do, even if the
//! origin crashed midway. Cost: n(n − 1) messages per broadcast.
//!
//! **Properties** (judged by `broadcast::properties` over the trace): validity, no
//! duplication, no creation, agreement (non-uniform: eager relaying on first receipt), FIFO
//! order and **causal order**: if the broadcast of m1 happened before the broadcast of m2 (same
//! origin, or m1 delivered at m2's origin before m2 was broadcast, transitively), no process
//! delivers m2 unless it delivered m1 before. *Not* total order: two concurrent messages may be
//! delivered in different orders at different processes.
//!
//! **Canary.** [`Causal::canary_no_wait`]: a message is delivered as soon as it is received
//! (the vector is still carried and updated, but nothing waits for it): a reply can overtake the
//! message it answers, and `causal_order` catches it.
//!
//! **Read:** CGR §3.9 (causal-order broadcast; the No-Waiting algorithm carries the causal past,
//! the Waiting one a vector clock); Birman, Schiper and Stephenson, "Lightweight causal and
//! atomic group multicast", TOCS 9(3), 1991 (CBCAST); Kshemkalyani and Singhal ch. 6 (causal
//! order, the Raynal–Schiper–Toueg and Kshemkalyani–Singhal algorithms); Attiya and Welch
//! §8.3.2.

use super::{BcastInd, BcastReq, MsgId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_core::{Ctx, NodeId, Protocol};

/// Waiting causal broadcast over eager reliable broadcast (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Causal {
    /// CANARY when true: deliver on first receipt, without waiting for the causal past.
    pub no_wait: bool,
}

impl Causal {
    /// Waiting causal broadcast.
    pub fn new() -> Causal {
        Causal { no_wait: false }
    }

    /// CANARY: messages are delivered on first receipt, without waiting until their causal past
    /// is delivered: a reply can be delivered before the message it answers.
    pub fn canary_no_wait() -> Causal {
        Causal { no_wait: true }
    }
}

/// A broadcast message: its identity, its vector stamp (its causal past) and its payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CausalMsg {
    /// The message.
    pub id: MsgId,
    /// `w[q]`: how many messages of q were delivered at the origin before it broadcast this
    /// one (for q = origin: its earlier broadcasts, `id.seq − 1`).
    pub w: Vec<u64>,
    /// The payload.
    pub payload: u64,
}

/// One process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CausalState {
    /// `v[q]`: the messages of q delivered here.
    pub v: Vec<u64>,
    /// This process's broadcasts so far.
    pub lsn: u64,
    /// Received (and relayed) messages not delivered yet.
    pub pending: Vec<CausalMsg>,
    /// The canary only: the messages it delivered (it delivers out of order, so `v` no longer
    /// says which ones arrived). Empty for the real algorithm.
    pub seen: BTreeSet<MsgId>,
}

impl CausalState {
    fn received(&self, id: MsgId, no_wait: bool) -> bool {
        if no_wait {
            return self.seen.contains(&id);
        }
        id.seq <= self.v[id.origin.index()] || self.pending.iter().any(|m| m.id == id)
    }
}

impl Causal {
    /// Handles the first receipt of `m` (already validated): relay, then deliver what can be.
    fn receive(&self, s: &mut CausalState, m: CausalMsg, ctx: &mut Ctx<'_, Self>) {
        if s.received(m.id, self.no_wait) {
            return;
        }
        // Eager reliable broadcast: relay on first receipt (the origin's own send covers its
        // copy to every other process).
        if m.id.origin != ctx.id() {
            for q in ctx.peers().collect::<Vec<_>>() {
                if q != m.id.origin {
                    ctx.send(q, m.clone());
                }
            }
        }
        if self.no_wait {
            s.seen.insert(m.id);
            s.v[m.id.origin.index()] += 1;
            ctx.indicate(BcastInd::Deliver {
                id: m.id,
                payload: m.payload,
            });
            return;
        }
        s.pending.push(m);
        self.deliver_pending(s, ctx);
    }

    fn deliver_pending(&self, s: &mut CausalState, ctx: &mut Ctx<'_, Self>) {
        while let Some(i) = s
            .pending
            .iter()
            .position(|m| m.w.iter().zip(&s.v).all(|(w, v)| w <= v))
        {
            let m = s.pending.remove(i);
            s.v[m.id.origin.index()] += 1;
            debug_assert_eq!(s.v[m.id.origin.index()], m.id.seq);
            ctx.indicate(BcastInd::Deliver {
                id: m.id,
                payload: m.payload,
            });
        }
    }

    /// A peer's message is well formed: a vector of n entries and an origin of this run whose
    /// own entry is its sequence number minus one.
    fn well_formed(m: &CausalMsg, n: usize) -> bool {
        let o = m.id.origin.index();
        o < n && m.w.len() == n && m.id.seq >= 1 && m.w[o] == m.id.seq - 1
    }
}

impl Protocol for Causal {
    type Msg = CausalMsg;
    type Timer = ();
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = CausalState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> CausalState {
        CausalState {
            v: vec![0; ctx.n()],
            lsn: 0,
            pending: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    fn on_message(&self, s: &mut CausalState, from: NodeId, m: CausalMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || !Causal::well_formed(&m, ctx.n()) {
            return; // not a message of this run: ignored
        }
        self.receive(s, m, ctx);
    }

    fn on_timer(&self, _: &mut CausalState, _: (), _: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut CausalState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let me = ctx.id();
        let mut w = s.v.clone();
        w[me.index()] = s.lsn;
        s.lsn += 1;
        let m = CausalMsg {
            id: MsgId {
                origin: me,
                seq: s.lsn,
            },
            w,
            payload,
        };
        ctx.broadcast(m.clone());
        self.receive(s, m, ctx);
    }

    fn invariants(&self, s: &CausalState) {
        assert!(
            s.pending.len() <= 1 << 20,
            "Causal: the pending set grew beyond a million messages"
        );
    }
}
