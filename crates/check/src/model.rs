//! What to check: a protocol, its clients, the network, the fault budget and the properties.

use crate::state::CheckState;
use crate::symmetry::Symmetry;
use std::fmt;
use std::sync::Arc;
use synod_core::{ClientId, NodeId, Protocol};

/// What the network may do with messages in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkKind {
    /// Any message in flight may be delivered next; each is delivered at most once.
    Unordered,
    /// Messages on each channel (ordered pair of nodes) are delivered in send order.
    Fifo,
    /// As `Unordered`, and any message may also be lost.
    Lossy,
    /// As `Unordered`, but a delivered message stays in flight and may be delivered again.
    Duplicating,
}

impl NetworkKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            NetworkKind::Unordered => "unordered",
            NetworkKind::Fifo => "fifo",
            NetworkKind::Lossy => "lossy",
            NetworkKind::Duplicating => "duplicating",
        }
    }
}

impl std::str::FromStr for NetworkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "unordered" => Ok(NetworkKind::Unordered),
            "fifo" => Ok(NetworkKind::Fifo),
            "lossy" => Ok(NetworkKind::Lossy),
            "duplicating" => Ok(NetworkKind::Duplicating),
            _ => Err(format!(
                "unknown network '{s}' (write unordered, fifo, lossy or duplicating)"
            )),
        }
    }
}

/// How a property is judged over the state graph (Stateright's vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expectation {
    /// Holds in every reachable state (safety); a counterexample is a path to a state where it
    /// fails.
    Always,
    /// Holds in some reachable state (reachability); proves the other checks are not vacuous.
    Sometimes,
    /// Holds at some point on every path (liveness): violated by a path that ends in a state with
    /// no successor, or that loops forever under weak fairness, without it ever holding.
    Eventually,
}

impl Expectation {
    /// `always`, `sometimes` or `eventually`.
    pub fn name(self) -> &'static str {
        match self {
            Expectation::Always => "always",
            Expectation::Sometimes => "sometimes",
            Expectation::Eventually => "eventually",
        }
    }
}

type Condition<P> = dyn Fn(&Model<P>, &CheckState<P>) -> bool + Send + Sync;

/// A named condition on global states, with its expectation.
pub struct CheckProperty<P: Protocol> {
    /// Its name, e.g. `agreement`.
    pub name: &'static str,
    /// Always, sometimes or eventually.
    pub expectation: Expectation,
    condition: Arc<Condition<P>>,
}

impl<P: Protocol> Clone for CheckProperty<P> {
    fn clone(&self) -> Self {
        CheckProperty {
            name: self.name,
            expectation: self.expectation,
            condition: Arc::clone(&self.condition),
        }
    }
}

impl<P: Protocol> fmt::Debug for CheckProperty<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.expectation.name(), self.name)
    }
}

impl<P: Protocol> CheckProperty<P> {
    /// A safety property: `condition` holds in every reachable state.
    pub fn always(
        name: &'static str,
        condition: impl Fn(&Model<P>, &CheckState<P>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, Expectation::Always, condition)
    }

    /// A reachability property: `condition` holds in some reachable state.
    pub fn sometimes(
        name: &'static str,
        condition: impl Fn(&Model<P>, &CheckState<P>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, Expectation::Sometimes, condition)
    }

    /// A liveness property: `condition` eventually holds on every path.
    pub fn eventually(
        name: &'static str,
        condition: impl Fn(&Model<P>, &CheckState<P>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, Expectation::Eventually, condition)
    }

    fn new(
        name: &'static str,
        expectation: Expectation,
        condition: impl Fn(&Model<P>, &CheckState<P>) -> bool + Send + Sync + 'static,
    ) -> Self {
        CheckProperty {
            name,
            expectation,
            condition: Arc::new(condition),
        }
    }

    /// Evaluates the condition.
    pub fn holds(&self, model: &Model<P>, state: &CheckState<P>) -> bool {
        (self.condition)(model, state)
    }
}

/// A client: it sends its operations one at a time to one node, each after the previous one
/// was answered.
#[derive(Clone, Debug)]
pub struct ClientProgram<P: Protocol> {
    /// The client's id (as the protocol's requests and responses name it).
    pub id: ClientId,
    /// The node it talks to.
    pub node: NodeId,
    /// Its operations, in order.
    pub ops: Vec<P::Request>,
}

/// A test on global states.
pub type Within<P> = dyn Fn(&CheckState<P>) -> bool + Send + Sync;

/// A state's client history as a recorded one: see [`Model::recorder`].
pub type Recorder<P> =
    Arc<dyn Fn(&CheckState<P>) -> synod_consistency::format::Recorded + Send + Sync>;

/// A bound on the state space, for protocols whose reachable space is infinite (terms, ballots
/// and retransmissions grow for ever): states outside it are not explored. A search that is
/// complete within a boundary has verified the protocol only for the runs that stay inside it,
/// and says so.
pub struct Boundary<P: Protocol> {
    /// What the boundary allows, for reports, e.g. "terms <= 3, at most 4 messages in flight".
    pub description: String,
    /// True for states inside the boundary.
    pub within: Arc<Within<P>>,
}

impl<P: Protocol> Boundary<P> {
    /// A boundary described by `description`.
    pub fn new(
        description: impl Into<String>,
        within: impl Fn(&CheckState<P>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Boundary {
            description: description.into(),
            within: Arc::new(within),
        }
    }
}

/// Everything the checker explores.
pub struct Model<P: Protocol> {
    /// The protocol (its configuration).
    pub protocol: P,
    /// Number of nodes.
    pub n: usize,
    /// The clients.
    pub clients: Vec<ClientProgram<P>>,
    /// Requests every run starts with, handled in order right after every node's `init` (e.g.
    /// "the coordinator begins a transaction", "every node proposes its input"): part of the
    /// initial state, so no crash can come before them.
    pub start: Vec<(NodeId, P::Request)>,
    /// Which indications answer a client, and which client.
    pub response_of: fn(&P::Indication) -> Option<ClientId>,
    /// Does this indication answer this request? A client takes an indication as its answer
    /// only if it matches its outstanding request (a late duplicate `WriteOk` must not answer a
    /// later `Read`). Default: any response to the client does.
    pub answers: fn(&P::Request, &P::Indication) -> bool,
    /// Which other indications to record in the state's history (so properties can read them;
    /// each recorded indication makes states more distinct, so record only what is checked).
    pub record: fn(&P::Indication) -> bool,
    /// The properties to check.
    pub properties: Vec<CheckProperty<P>>,
    /// The network's behaviour.
    pub network: NetworkKind,
    /// How many crashes the adversary may cause.
    pub max_crashes: u8,
    /// Which nodes the adversary may crash (`None`: any).
    pub crashable: Option<Vec<NodeId>>,
    /// May crashed nodes recover (from their durable state)?
    pub recoveries: bool,
    /// Fire timers as actions (the checker ignores durations: any pending timer may fire next).
    pub timers: bool,
    /// Optional symmetry reduction: the fingerprint of a state's symmetry class (see
    /// [`Model::with_node_symmetry`]).
    pub symmetry: Option<Symmetry<P>>,
    /// Skip deliveries the receiver ignores (its state unchanged, no effects; or the receiver
    /// is crashed). Such a step only removes the message from the network; skipping it leaves
    /// the message in flight, and every state reachable through it is matched by one reachable
    /// without it that has the same nodes, clients and history and a superset of the messages.
    /// So this is sound and complete for properties that do not read the messages in flight
    /// (every catalog property), and for terminal-state liveness. It is never applied to FIFO
    /// networks, where a delivered message unblocks the next one on its channel. Default: on.
    pub prune_ignored: bool,
    /// States beyond this boundary are not explored (`None`: no boundary).
    pub boundary: Option<Boundary<P>>,
    /// How to write a state's client history as a recorded one (`synod lin`'s input), for
    /// models whose clients use an object `synod lin` knows (`None`: no export).
    pub recorder: Option<Recorder<P>>,
}

impl<P: Protocol> Model<P> {
    /// A model of `n` nodes running `protocol`, no clients, unordered network, no crashes, timers
    /// enabled, no properties.
    pub fn new(protocol: P, n: usize) -> Model<P> {
        Model {
            protocol,
            n,
            clients: Vec::new(),
            start: Vec::new(),
            response_of: |_| None,
            answers: |_, _| true,
            record: |_| false,
            properties: Vec::new(),
            network: NetworkKind::Unordered,
            max_crashes: 0,
            crashable: None,
            recoveries: false,
            timers: true,
            symmetry: None,
            prune_ignored: true,
            boundary: None,
            recorder: None,
        }
    }

    /// Adds a property.
    pub fn property(mut self, p: CheckProperty<P>) -> Self {
        self.properties.push(p);
        self
    }
}
