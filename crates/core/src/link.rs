//! The link interface: how one layer sends point-to-point messages through the layer below.
//!
//! In the books' module stacks (Cachin, Guerraoui and Rodrigues ch. 2) every link abstraction,
//! from the fair-loss network itself up to FIFO perfect links, offers the same two events: a
//! request `send(q, m)` and an indication `deliver(p, m)`. What differs is the guarantee. Any
//! protocol whose requests are [`LinkSend`] and whose indications are [`LinkDeliver`] can carry
//! another protocol's messages, through [`crate::Stack`].

use crate::NodeId;
use serde::{Deserialize, Serialize};

/// Request to a link: send `payload` to `to`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkSend<M> {
    /// The receiver.
    pub to: NodeId,
    /// What to carry.
    pub payload: M,
}

/// Indication from a link: `payload` arrived from `from`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkDeliver<M> {
    /// The sender.
    pub from: NodeId,
    /// What was carried.
    pub payload: M,
}
