//! Gossip: probabilistic broadcast (CGR's "Eager Probabilistic Broadcast").
//!
//! **Algorithm.** A process delivers a message the first time it sees it and, if the message
//! still has rounds to live, forwards it to `fanout` processes picked at random (distinct, not
//! itself) with one round less; the sender starts it with `rounds`. Nobody waits for anybody,
//! and the cost is bounded whatever n: at most `fanout · (1 + fanout + … + fanout^(rounds−1))`
//! messages per broadcast, and at most `fanout` per process per message, instead of n − 1
//! for relaying to all. The price is that delivery is only *probable*: a process nobody
//! picked misses the message for good. The random targets are answers of [`Ctx::choose`]
//! (the node's seeded stream in the simulator, every answer in the model checker).
//!
//! **Model.** Asynchronous, crash-stop, perfect links (CGR assumes fair-loss and counts the
//! loss into the probability; the simulator's reliable network makes the fanout and the
//! rounds the only source of misses).
//!
//! **Properties.** No duplication and no creation always; *probabilistic validity*: a message
//! broadcast by a correct process is delivered by every correct process with a probability
//! that grows with `fanout` and `rounds` (measured by the `broadcast-hierarchy` experiment's
//! delivery ratio). Validity and agreement as such are not promised, so the catalog judges
//! only the safety properties.
//!
//! **Read:** CGR §3.7 (probabilistic broadcast: "Eager Probabilistic Broadcast", the
//! analysis of fanout and rounds); Demers et al., "Epidemic algorithms for replicated database
//! maintenance" (1987); Birman et al., "Bimodal multicast" (1999).

use super::{deliver_new, next_id, BcastInd, BcastReq, Data, MsgId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_core::{Ctx, NodeId, Protocol};

/// Eager probabilistic broadcast: forward to `fanout` random processes for `rounds` rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gossip {
    /// How many processes each forwarding step picks.
    pub fanout: usize,
    /// How many forwarding rounds a message lives (the sender's send is round 1).
    pub rounds: u32,
}

impl Gossip {
    /// Gossip with `fanout` targets per step, for `rounds` rounds.
    ///
    /// # Panics
    /// If `fanout` or `rounds` is zero.
    pub fn new(fanout: usize, rounds: u32) -> Gossip {
        assert!(
            fanout > 0 && rounds > 0,
            "Gossip: fanout and rounds must be above zero"
        );
        Gossip { fanout, rounds }
    }

    /// Sends `data` with `ttl` rounds left to `fanout` distinct random peers (all peers if
    /// there are fewer).
    fn forward(&self, data: Data, ttl: u32, ctx: &mut Ctx<'_, Self>) {
        let mut peers: Vec<NodeId> = ctx.peers().collect();
        for _ in 0..self.fanout.min(peers.len()) {
            let k = ctx.choose(peers.len());
            let to = peers.swap_remove(k);
            ctx.send(to, GossipMsg { data, ttl });
        }
    }
}

/// A gossiped message with the rounds it has left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GossipMsg {
    /// The broadcast message.
    pub data: Data,
    /// Rounds left, this one included (forwarded only if above 1).
    pub ttl: u32,
}

/// A gossip node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GossipState {
    /// Broadcasts made so far.
    pub seq: u64,
    /// Messages delivered.
    pub delivered: BTreeSet<MsgId>,
    /// Malformed messages ignored.
    pub ignored: u64,
}

impl Protocol for Gossip {
    type Msg = GossipMsg;
    type Timer = ();
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = GossipState;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> GossipState {
        GossipState::default()
    }

    fn on_message(&self, s: &mut GossipState, from: NodeId, m: GossipMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || !m.data.well_formed(ctx.n()) || m.ttl > self.rounds {
            s.ignored += 1;
            return;
        }
        if deliver_new(&mut s.delivered, m.data, ctx) && m.ttl > 1 {
            self.forward(m.data, m.ttl - 1, ctx);
        }
    }

    fn on_timer(&self, _s: &mut GossipState, _t: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut GossipState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let data = Data {
            id: next_id(&mut s.seq, ctx.id()),
            payload,
        };
        deliver_new(&mut s.delivered, data, ctx);
        self.forward(data, self.rounds, ctx);
    }
}
