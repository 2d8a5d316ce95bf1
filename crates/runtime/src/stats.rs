//! Counters every task of a node bumps, and the snapshot [`Stats`] the application reads.

use crate::wire::RejectReason;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A snapshot of a node's counters since it started (see [`crate::Handle::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Protocol messages handed to a peer connection's socket.
    pub msgs_sent: u64,
    /// Protocol messages received and decoded.
    pub msgs_received: u64,
    /// Payload bytes written to peers (length prefixes included).
    pub bytes_sent: u64,
    /// Payload bytes read from peers (length prefixes included).
    pub bytes_received: u64,
    /// Frames from peers whose payload did not decode as a message (dropped; the connection
    /// stays up).
    pub frames_malformed: u64,
    /// Frames refused for their size: an incoming length prefix above the limit (the connection
    /// is closed) or an outgoing message whose encoding is too large (the message is dropped).
    pub frames_oversized: u64,
    /// Incoming connections refused at the handshake, by reason.
    pub rejected: Rejections,
    /// Outgoing messages dropped because the peer's queue was full.
    pub dropped_queue_full: u64,
    /// Messages dropped by an injected fault (partition), both directions.
    pub dropped_by_fault: u64,
    /// Outgoing messages lost because their connection failed while writing them.
    pub dropped_conn_lost: u64,
    /// Outgoing peer connections established (the first and every reconnect).
    pub connects: u64,
    /// Outgoing connection attempts that failed (refused, timed out, rejected at the hello).
    pub connect_failures: u64,
    /// Client connections accepted.
    pub clients_accepted: u64,
    /// Batches that wrote the durable state.
    pub persists: u64,
    /// Persists that reached the disk with an fsync.
    pub fsyncs: u64,
    /// Total time spent in persists that fsynced (writing and syncing).
    pub fsync_time: Duration,
    /// Persists that wrote a whole checkpoint rather than log records.
    pub checkpoints: u64,
    /// Bytes written to storage.
    pub storage_bytes: u64,
    /// Input batches run (see [`crate::Running`] on group commit).
    pub batches: u64,
    /// Inputs fed to the protocol.
    pub inputs_stepped: u64,
}

/// Refused handshakes, one counter per [`RejectReason`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejections {
    /// [`RejectReason::Malformed`].
    pub malformed: u64,
    /// [`RejectReason::BadMagic`].
    pub bad_magic: u64,
    /// [`RejectReason::Version`].
    pub version: u64,
    /// [`RejectReason::Cluster`].
    pub cluster: u64,
    /// [`RejectReason::UnknownPeer`].
    pub unknown_peer: u64,
    /// [`RejectReason::OwnId`].
    pub own_id: u64,
    /// [`RejectReason::NoClients`].
    pub no_clients: u64,
}

impl Rejections {
    /// All refused handshakes.
    pub fn total(&self) -> u64 {
        self.malformed
            + self.bad_magic
            + self.version
            + self.cluster
            + self.unknown_peer
            + self.own_id
            + self.no_clients
    }
}

/// The live counters, shared by a node's tasks. Relaxed atomics: each counter is independent
/// and a snapshot need not be consistent across counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub msgs_sent: AtomicU64,
    pub msgs_received: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    pub frames_malformed: AtomicU64,
    pub frames_oversized: AtomicU64,
    rejected: [AtomicU64; 7],
    pub dropped_queue_full: AtomicU64,
    pub dropped_by_fault: AtomicU64,
    pub dropped_conn_lost: AtomicU64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub clients_accepted: AtomicU64,
    pub persists: AtomicU64,
    pub fsyncs: AtomicU64,
    pub fsync_nanos: AtomicU64,
    pub checkpoints: AtomicU64,
    pub storage_bytes: AtomicU64,
    pub batches: AtomicU64,
    pub inputs_stepped: AtomicU64,
}

/// Adds `k` to a counter.
pub(crate) fn add(counter: &AtomicU64, k: u64) {
    counter.fetch_add(k, Relaxed);
}

fn reason_index(r: RejectReason) -> usize {
    match r {
        RejectReason::Malformed => 0,
        RejectReason::BadMagic(_) => 1,
        RejectReason::Version(_) => 2,
        RejectReason::Cluster(_) => 3,
        RejectReason::UnknownPeer(_) => 4,
        RejectReason::OwnId(_) => 5,
        RejectReason::NoClients => 6,
    }
}

impl Counters {
    pub fn reject(&self, reason: RejectReason) {
        add(&self.rejected[reason_index(reason)], 1);
    }

    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Relaxed);
        let r = |i: usize| get(&self.rejected[i]);
        Stats {
            msgs_sent: get(&self.msgs_sent),
            msgs_received: get(&self.msgs_received),
            bytes_sent: get(&self.bytes_sent),
            bytes_received: get(&self.bytes_received),
            frames_malformed: get(&self.frames_malformed),
            frames_oversized: get(&self.frames_oversized),
            rejected: Rejections {
                malformed: r(0),
                bad_magic: r(1),
                version: r(2),
                cluster: r(3),
                unknown_peer: r(4),
                own_id: r(5),
                no_clients: r(6),
            },
            dropped_queue_full: get(&self.dropped_queue_full),
            dropped_by_fault: get(&self.dropped_by_fault),
            dropped_conn_lost: get(&self.dropped_conn_lost),
            connects: get(&self.connects),
            connect_failures: get(&self.connect_failures),
            clients_accepted: get(&self.clients_accepted),
            persists: get(&self.persists),
            fsyncs: get(&self.fsyncs),
            fsync_time: Duration::from_nanos(get(&self.fsync_nanos)),
            checkpoints: get(&self.checkpoints),
            storage_bytes: get(&self.storage_bytes),
            batches: get(&self.batches),
            inputs_stepped: get(&self.inputs_stepped),
        }
    }
}
