//! Broadcast: best-effort, reliable, uniform reliable, FIFO, causal, total order, gossip.
//!
//! Every broadcast protocol here speaks one vocabulary: the layer above asks a node to
//! [`BcastReq::Broadcast`] a payload, and each node tells the layer above when it delivers a
//! message ([`BcastInd::Deliver`]). A message is named by [`MsgId`]: the node that broadcast it
//! and its number among that node's broadcasts (the k-th `Broadcast` request at node p is
//! `MsgId { origin: p, seq: k }`, from 1). Because the vocabulary is shared, the properties are
//! written once and judge any protocol of the family, so the hierarchy of the books (each
//! abstraction adds one property to the one below) becomes a table of violation counts.
//!
//! **The hierarchy.** Each abstraction adds a property to the one above it (CGR ch. 3 and 6):
//!
//! | abstraction | algorithm here | adds | model | messages per broadcast |
//! |---|---|---|---|---|
//! | best-effort (beb) | [`beb::Beb`] (Basic Broadcast) | validity, no duplication, no creation | async, perfect links | n − 1 |
//! | reliable (rb) | [`rb::EagerRb`] (Eager) | agreement | async, perfect links | n(n − 1) |
//! | reliable (rb) | [`rb::LazyRb`] (Lazy) | agreement | perfect links + P (synchrony) | n − 1 without crashes |
//! | uniform reliable (urb) | [`urb::AllAckUrb`] (All-Ack) | uniform agreement | perfect links + P | n(n − 1) |
//! | uniform reliable (urb) | [`urb::MajorityAckUrb`] (Majority-Ack) | uniform agreement | async, n > 2f | n(n − 1) |
//! | probabilistic | [`gossip::Gossip`] (Eager Probabilistic) | validity with high probability only | async | ≤ fanout · Σ fanout^r |
//! | FIFO | [`fifo`] | FIFO order | over a reliable broadcast | as below |
//! | causal | [`causal`] | causal order | over a reliable broadcast | as below |
//! | total order (TOB) | [`tob`] | total order | consensus (a detector or partial synchrony) | + consensus |
//!
//! The properties ([`properties`]) are written once over traces and judge every protocol of
//! the family; [`properties::violations`] counts every property's violations in one run, which
//! is how the `broadcast-hierarchy` experiment turns the hierarchy into a table.
//!
//! **Model assumptions.** Crash-stop processes (a process that crashed is not correct; a
//! recovered process would restart its numbering, outside every model here). The algorithms
//! send straight on the network: the simulator's default network is reliable (no loss, no
//! duplication), i.e. a perfect link between correct processes; over a lossy network, stack any
//! of them over [`crate::link::PerfectLink`] with [`synod_core::Stack`]. The algorithms that
//! need the perfect detector P (lazy rb, All-Ack urb) embed the heartbeat detector of
//! [`crate::fd`] and so need synchrony with a timeout above period + Δ.
//!
//! **Read:** CGR ch. 3 (beb, rb, urb, probabilistic, FIFO, causal), ch. 6 (total order);
//! Hadzilacos and Toueg, "A modular approach to fault-tolerant broadcasts and related
//! problems" (1994); AW ch. 8 (broadcast and multicast); Kshemkalyani & Singhal ch. 6
//! (message ordering and group communication); DDIA ch. 9 (total order broadcast ≡ consensus).

pub mod beb;
pub mod causal;
pub mod fifo;
pub mod gossip;
pub mod properties;
pub mod rb;
pub mod tob;
pub mod urb;

pub use beb::Beb;
pub use gossip::Gossip;
pub use rb::{EagerRb, LazyRb};
pub use urb::{AllAckUrb, MajorityAckUrb};

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_core::NodeId;
use synod_core::{Ctx, Protocol};

/// The identity of a broadcast message: its origin and its number there (the first is 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MsgId {
    /// The node that broadcast it.
    pub origin: NodeId,
    /// Its number among `origin`'s broadcasts, from 1.
    pub seq: u64,
}

impl std::fmt::Display for MsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.origin, self.seq)
    }
}

/// What the layer above asks a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BcastReq {
    /// Broadcast this payload to every node (the sender included).
    Broadcast(u64),
}

/// What a node tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BcastInd {
    /// The node delivers message `id` with its payload.
    Deliver {
        /// The message.
        id: MsgId,
        /// Its payload.
        payload: u64,
    },
}

/// A broadcast message on the wire: its identity and payload (the algorithms of this module
/// wrap it in their own messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Data {
    /// The message.
    pub id: MsgId,
    /// Its payload.
    pub payload: u64,
}

impl Data {
    /// Could this message exist in a run of `n` nodes (an origin among them, a number from 1)?
    /// A peer's message that is not is ignored.
    pub fn well_formed(&self, n: usize) -> bool {
        self.id.origin.index() < n && self.id.seq >= 1
    }
}

/// The identity of this node's next broadcast (bumps `seq`).
fn next_id(seq: &mut u64, me: NodeId) -> MsgId {
    *seq += 1;
    MsgId {
        origin: me,
        seq: *seq,
    }
}

/// Delivers `m` unless it was delivered before; true if it was delivered now.
fn deliver_new<P: Protocol<Indication = BcastInd>>(
    delivered: &mut BTreeSet<MsgId>,
    m: Data,
    ctx: &mut Ctx<'_, P>,
) -> bool {
    if !delivered.insert(m.id) {
        return false;
    }
    ctx.indicate(BcastInd::Deliver {
        id: m.id,
        payload: m.payload,
    });
    true
}
