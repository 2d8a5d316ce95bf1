//! What a client and a server say to each other, one postcard frame per message (inside the
//! runtime's client connections).

use serde::{Deserialize, Serialize};
use synod_core::NodeId;
use synod_protocols::replication::kv::{KvCmd, KvOut};

/// A client's request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// A key-value command.
    Op(KvCmd),
    /// What the server knows of the cluster.
    Status,
    /// Inject or clear a fault in this node's transport or clock (for the stress tester).
    Fault(Fault),
}

/// A fault a node injects into itself on request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fault {
    /// Drop every message to and from these peers.
    Isolate(Vec<NodeId>),
    /// Forget every fault: links, delays, clock rate.
    Heal,
    /// Run the local clock at this rate (1.0: real time).
    ClockRate(f64),
    /// Jump the local clock forward by this many milliseconds.
    ClockJump(u64),
}

/// A server's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// The command was applied (or, for a read, answered by a confirmed leader).
    Done(KvOut),
    /// This server is not the leader: the command **did not take effect**. Retry at `leader`
    /// if known.
    NotLeader {
        /// The leader this server knows, if any.
        leader: Option<NodeId>,
    },
    /// No answer in time: the command **may or may not** take effect.
    Timeout,
    /// The request was malformed or refused: it did not take effect.
    Refused(String),
    /// The node's status.
    Status(Status),
    /// A fault request was applied.
    FaultSet,
}

/// What a server knows, for `cluster up` and operators.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// This node.
    pub id: u32,
    /// The last term in which this node became leader (0: never).
    pub led_term: u64,
    /// The highest index this node applied.
    pub applied: u64,
    /// Client commands answered.
    pub answered: u64,
    /// Malformed client requests refused.
    pub malformed: u64,
}
