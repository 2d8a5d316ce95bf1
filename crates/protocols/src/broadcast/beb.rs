//! Basic broadcast: best-effort broadcast by sending to everybody.
//!
//! **Algorithm** (CGR algorithm "Basic Broadcast"). To broadcast a payload, a process numbers it
//! (`MsgId { origin: self, seq }`), delivers it at once and sends `Data { id, payload }` to every
//! other process; a process delivers every `Data` it receives. Nobody relays: if the sender
//! crashes part-way through its sends, some processes deliver the message and others never
//! will. One broadcast costs n − 1 messages and one message delay.
//!
//! **Model.** Asynchronous, crash-stop processes, **perfect links** (reliable delivery, no
//! duplication, no creation). The protocol sends straight on the network ([`Ctx::send`]): the
//! simulator's default network is reliable (no loss, no duplication), which is a perfect link
//! between correct processes. Over a lossy or duplicating network, stack it over a perfect link,
//! `synod_core::Stack::new(Beb, crate::link::PerfectLink::new(retransmit))`: the stack turns
//! every send into a perfect-link request, so the algorithm is unchanged (the tests run it
//! so). The same holds for every algorithm of this module.
//!
//! **Properties** ([`super::properties::beb_properties`]): BEB1 validity (a message broadcast
//! by a correct process is delivered by every correct process), BEB2 no duplication, BEB3 no
//! creation. *Not* agreement: judged as reliable broadcast (the catalog's canary `beb-as-rb`),
//! a sender that crashes after reaching a subset breaks it.
//!
//! **Read:** CGR §3.2 (best-effort broadcast, "Basic Broadcast"); Hadzilacos and Toueg 1994,
//! §3; AW §8.2.

use super::{deliver_new, next_id, BcastInd, BcastReq, Data};
use std::collections::BTreeSet;
use synod_core::{Ctx, NodeId, Protocol};

/// Basic broadcast (best effort).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Beb;

/// A basic-broadcast node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BebState {
    /// Broadcasts made so far (the next one is `seq + 1`).
    pub seq: u64,
    /// Messages delivered (kept to refuse a copy the network should not have made).
    pub delivered: BTreeSet<super::MsgId>,
    /// Messages ignored: not from their origin, or from a stranger.
    pub ignored: u64,
}

impl Protocol for Beb {
    type Msg = Data;
    type Timer = ();
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = BebState;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> BebState {
        BebState::default()
    }

    fn on_message(&self, s: &mut BebState, from: NodeId, msg: Data, ctx: &mut Ctx<'_, Self>) {
        // Nobody relays in basic broadcast: a message comes from its origin.
        if msg.id.origin != from || !msg.well_formed(ctx.n()) {
            s.ignored += 1;
            return;
        }
        deliver_new(&mut s.delivered, msg, ctx);
    }

    fn on_timer(&self, _s: &mut BebState, _t: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut BebState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let msg = Data {
            id: next_id(&mut s.seq, ctx.id()),
            payload,
        };
        deliver_new(&mut s.delivered, msg, ctx);
        ctx.broadcast(msg);
    }
}
