//! # synod-kv: a replicated key-value service you can kill
//!
//! The same [Raft](synod_protocols::consensus::raft) the simulator and the model checker run,
//! replicating the [`Kv`](synod_protocols::replication::kv::Kv) state machine (get, put,
//! compare-and-set, client sessions for exactly-once retries), driven by the TCP runtime
//! ([`synod_runtime`]) with a write-ahead log: real processes, real sockets, real fsyncs.
//!
//! * [`server`]: one replica (`synod node`): Raft with read-index reads and snapshots, and a
//!   front end that turns client frames into Raft requests and indications into answers.
//! * [`client`]: [`client::KvClient`] finds the leader, retries with the same
//!   sequence number, and tells a definite failure (did not happen) from an indefinite one
//!   (may have happened).
//! * [`proto`]: the client wire messages.
//! * [`cluster`]: cluster files and replica processes (`synod cluster up|down`).
//! * [`stress`]: the Jepsen-style tester (`synod stress`): a local cluster, concurrent
//!   clients, a nemesis that kills, pauses, partitions and skews clocks, and the consistency
//!   checker on the recorded history.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod cluster;
pub mod proto;
pub mod server;
pub mod stress;

use client::{ClientOptions, KvClient};
use std::time::{Duration, Instant};

/// Waits until some replica answers a read as a confirmed leader; returns how long it took.
pub async fn wait_for_leader(
    nodes: Vec<std::net::SocketAddr>,
    cluster: u64,
    within: Duration,
) -> Result<Duration, String> {
    let start = Instant::now();
    let opts = ClientOptions {
        cluster,
        attempt_timeout: Duration::from_millis(500),
        op_timeout: within,
        backoff: Duration::from_millis(50),
        spread: false,
    };
    let mut c = KvClient::new(nodes, u64::MAX - 1, opts);
    c.get("__synod_probe")
        .await
        .map(|_| start.elapsed())
        .map_err(|e| format!("no leader within {within:?}: {e}"))
}
