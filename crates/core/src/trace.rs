//! Traces: everything that happened in a run, in order.
//!
//! Drivers record a [`Trace`]; properties ([`crate::property`]), diagrams and histories are all
//! computed from it, so the same checks serve the simulator, the checker's counterexamples and
//! runs recorded by the TCP runtime.

use crate::{Instant, NodeId, Protocol};

/// Identifies one message sent on the network; the copies a duplicating network makes share it.
pub type MsgId = u64;

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Random loss (the fair-loss network).
    Loss,
    /// A partition separated sender and receiver.
    Partition,
    /// The receiver was crashed when the message arrived.
    ReceiverDown,
    /// The sender suffers send omissions.
    SendOmission,
    /// The receiver suffers receive omissions.
    ReceiveOmission,
    /// The sender crashed part-way through sending this step's messages.
    SenderCrashed,
}

impl DropReason {
    /// A short lowercase name, for tables and diagrams.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::ReceiverDown => "receiver-down",
            DropReason::SendOmission => "send-omission",
            DropReason::ReceiveOmission => "receive-omission",
            DropReason::SenderCrashed => "sender-crashed",
        }
    }
}

/// One thing that happened.
#[derive_where::derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind<P: Protocol> {
    /// A node started (its `init` ran).
    Init {
        /// The node.
        node: NodeId,
    },
    /// A node handed a message to the network.
    Send {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's network id.
        id: MsgId,
        /// The message.
        msg: P::Msg,
    },
    /// The network delivered a message (a duplicate delivers the same `id` again).
    Deliver {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's network id.
        id: MsgId,
        /// The message.
        msg: P::Msg,
    },
    /// The network dropped a message (or one copy of it).
    Drop {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's network id.
        id: MsgId,
        /// Why.
        reason: DropReason,
    },
    /// The network made an extra copy of a message (delivered later as another `Deliver`).
    Duplicate {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's network id.
        id: MsgId,
    },
    /// A timer fired.
    Timer {
        /// The node.
        node: NodeId,
        /// The timer.
        timer: P::Timer,
    },
    /// The layer above made a request (a client operation's invocation, `propose(v)`, …).
    Request {
        /// The node.
        node: NodeId,
        /// The request.
        req: P::Request,
    },
    /// A node told the layer above something (`deliver`, `decide`, a client response, …).
    Indication {
        /// The node.
        node: NodeId,
        /// The indication.
        ind: P::Indication,
    },
    /// A node wrote its durable state.
    Persist {
        /// The node.
        node: NodeId,
    },
    /// A node crashed.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node recovered from its stable storage.
    Recover {
        /// The node.
        node: NodeId,
    },
    /// The network's connectivity changed (a partition started or healed).
    Network {
        /// What changed, e.g. `partition {n0,n1} | {n2}` or `heal`.
        note: String,
    },
}

impl<P: Protocol> EventKind<P> {
    /// The node whose line the event is drawn on (the receiver for deliveries and drops).
    pub fn node(&self) -> Option<NodeId> {
        match self {
            EventKind::Init { node }
            | EventKind::Timer { node, .. }
            | EventKind::Request { node, .. }
            | EventKind::Indication { node, .. }
            | EventKind::Persist { node }
            | EventKind::Crash { node }
            | EventKind::Recover { node } => Some(*node),
            EventKind::Send { from, .. } => Some(*from),
            EventKind::Deliver { to, .. } | EventKind::Drop { to, .. } => Some(*to),
            EventKind::Duplicate { from, .. } => Some(*from),
            EventKind::Network { .. } => None,
        }
    }
}

/// One event and when it happened (real, not local, time).
#[derive_where::derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event<P: Protocol> {
    /// When.
    pub time: Instant,
    /// What.
    pub kind: EventKind<P>,
}

/// Facts about a run that properties need beyond the events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunFacts {
    /// Number of nodes.
    pub n: usize,
    /// When the run ended; liveness is judged here.
    pub end: Instant,
    /// When the environment stopped changing (last recovery, partition heal or omission window
    /// end; crashes are permanent and not included); random loss and duplication are part of the
    /// network model, not scheduled faults.
    pub faults_end: Instant,
    /// Per node: did it ever crash? (Crash-stop correctness: a correct node never crashes.)
    pub ever_crashed: Vec<bool>,
    /// Per node: was it up when the run ended? (Crash-recovery correctness, at bounded horizon.)
    pub up_at_end: Vec<bool>,
}

impl RunFacts {
    /// Facts for a run of `n` nodes that ended at `end` with no faults.
    pub fn fault_free(n: usize, end: Instant) -> RunFacts {
        RunFacts {
            n,
            end,
            faults_end: Instant::ZERO,
            ever_crashed: vec![false; n],
            up_at_end: vec![true; n],
        }
    }

    /// True if `node` is correct in the crash-stop sense (it never crashed).
    pub fn correct(&self, node: NodeId) -> bool {
        !self.ever_crashed[node.index()]
    }
}

/// A recorded run: its events in order plus the facts properties need.
#[derive_where::derive_where(Clone, Debug)]
pub struct Trace<P: Protocol> {
    /// Every event, in the order it happened.
    pub events: Vec<Event<P>>,
    /// Facts about the run.
    pub facts: RunFacts,
}

impl<P: Protocol> Trace<P> {
    /// The requests made at each node, with the index of their event.
    pub fn requests(&self) -> impl Iterator<Item = (usize, Instant, NodeId, &P::Request)> {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.kind {
                EventKind::Request { node, req } => Some((i, e.time, *node, req)),
                _ => None,
            })
    }

    /// The indications emitted at each node, with the index of their event.
    pub fn indications(&self) -> impl Iterator<Item = (usize, Instant, NodeId, &P::Indication)> {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.kind {
                EventKind::Indication { node, ind } => Some((i, e.time, *node, ind)),
                _ => None,
            })
    }
}
