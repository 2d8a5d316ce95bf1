//! The talk's topics, which group the catalog, the experiments and `synod learn`.

use serde::Serialize;

/// A topic of "Distributed Systems Theory for Practical Engineers", in the order of the path
/// through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// Timing models: synchronous, asynchronous, partially synchronous, lockstep rounds.
    Models,
    /// Failure models: crash-stop, crash-recovery, omission, Byzantine.
    Failures,
    /// Logical time: Lamport and vector clocks, happened-before.
    LogicalTime,
    /// Link abstractions: fair-loss, stubborn, perfect, FIFO.
    Links,
    /// Failure detectors.
    FailureDetectors,
    /// Leader election.
    Election,
    /// Consensus.
    Consensus,
    /// Broadcast.
    Broadcast,
    /// Shared memory and registers.
    SharedMemory,
    /// Replication.
    Replication,
    /// Consistency models.
    Consistency,
    /// Global snapshots: Chandy-Lamport, Lai-Yang.
    Snapshots,
    /// Quorum systems: intersection, load, availability.
    Quorums,
}

impl Topic {
    /// Every topic, in path order.
    pub const ALL: [Topic; 13] = [
        Topic::Models,
        Topic::Failures,
        Topic::LogicalTime,
        Topic::Links,
        Topic::FailureDetectors,
        Topic::Election,
        Topic::Consensus,
        Topic::Broadcast,
        Topic::SharedMemory,
        Topic::Replication,
        Topic::Consistency,
        Topic::Snapshots,
        Topic::Quorums,
    ];

    /// The kebab-case id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Topic::Models => "models",
            Topic::Failures => "failures",
            Topic::LogicalTime => "logical-time",
            Topic::Links => "links",
            Topic::FailureDetectors => "failure-detectors",
            Topic::Election => "election",
            Topic::Consensus => "consensus",
            Topic::Broadcast => "broadcast",
            Topic::SharedMemory => "shared-memory",
            Topic::Replication => "replication",
            Topic::Consistency => "consistency",
            Topic::Snapshots => "snapshots",
            Topic::Quorums => "quorums",
        }
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Topic::Models => "System models",
            Topic::Failures => "Failure models",
            Topic::LogicalTime => "Logical time",
            Topic::Links => "Links",
            Topic::FailureDetectors => "Failure detectors",
            Topic::Election => "Leader election",
            Topic::Consensus => "Consensus",
            Topic::Broadcast => "Broadcast",
            Topic::SharedMemory => "Shared memory",
            Topic::Replication => "Replication",
            Topic::Consistency => "Consistency models",
            Topic::Snapshots => "Global snapshots",
            Topic::Quorums => "Quorum systems",
        }
    }
}
