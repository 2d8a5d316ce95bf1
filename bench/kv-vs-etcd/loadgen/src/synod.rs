//! The synod target, over synod's own Rust KV client (`synod-kv`'s `KvClient`).
//!
//! Unlike etcd's gRPC channel, synod's client protocol carries **one outstanding request per
//! connection** (a `KvClient` sends a request and reads its reply before the next one; the
//! replies carry no request id to match them by). Multiplexing K clients on one connection is
//! therefore impossible, and a `KvClient` is one client session (an id plus a sequence number
//! for exactly-once retries). So every load task gets its own `KvClient`, with its own id and
//! its own connection to each server ([`Target::for_task`]); `--conns` does not apply.
//!
//! The cluster id every connection must present comes from `--cluster-id` (the `cluster` value
//! of the cluster's `cluster.toml`), set once with [`set_cluster_id`] before connecting.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use synod_kv::client::{ClientOptions, KvClient};
use tokio::sync::Mutex;

use crate::target::{Error, Target};

static CLUSTER_ID: OnceLock<u64> = OnceLock::new();

/// Client ids: a random base per process (so two load generator runs against the same
/// cluster never reuse an id, which the server's session table would take for retries of
/// the earlier run's operations) plus a counter.
static NEXT_ID: OnceLock<AtomicU64> = OnceLock::new();

fn fresh_id() -> u64 {
    NEXT_ID
        .get_or_init(|| AtomicU64::new((rand::random::<u64>() >> 2) | 1))
        .fetch_add(1, Ordering::Relaxed)
}

/// Sets the cluster id presented by every connection (`--cluster-id`).
pub fn set_cluster_id(id: u64) {
    let _ = CLUSTER_ID.set(id);
}

fn cluster_id() -> Result<u64, Error> {
    CLUSTER_ID.get().copied().ok_or_else(|| {
        "--target synod needs --cluster-id (the `cluster` value of cluster.toml)".into()
    })
}

fn parse_nodes(endpoints: &[String]) -> Result<Vec<SocketAddr>, Error> {
    endpoints
        .iter()
        .map(|e| {
            e.parse::<SocketAddr>()
                .map_err(|_| format!("synod endpoint `{e}` is not an IP:port").into())
        })
        .collect()
}

fn options(cluster: u64, timeout: Duration) -> ClientOptions {
    ClientOptions {
        cluster,
        // One attempt at one server, and the whole operation, are bounded by the request
        // timeout: the same single knob etcd's client gets.
        attempt_timeout: timeout,
        op_timeout: timeout,
        // Pause when no server knows a leader (mid-election), as the failover loop pauses
        // 5 ms after a failed put.
        backoff: Duration::from_millis(5),
        // Stay with the leader once found, as etcd's client does.
        spread: false,
    }
}

/// One client state: the `KvClient` and whether its last put was abandoned mid-flight.
struct Session {
    client: KvClient,
    /// A put future was dropped (an outer timeout) while a request was in flight: its reply
    /// may still arrive on the connection and be read as the next request's reply, so the
    /// client must be replaced before its next use.
    in_flight: bool,
}

/// One synod KV client session: one connection per server, one put at a time. Clones share
/// it (and serialise on it); [`Target::for_task`] makes a new, independent one.
#[derive(Clone)]
pub struct Synod {
    nodes: Vec<SocketAddr>,
    opts: ClientOptions,
    session: Arc<Mutex<Session>>,
}

impl Synod {
    fn with_nodes(nodes: Vec<SocketAddr>, opts: ClientOptions) -> Synod {
        let client = KvClient::new(nodes.clone(), fresh_id(), opts.clone());
        Synod {
            nodes,
            opts,
            session: Arc::new(Mutex::new(Session {
                client,
                in_flight: false,
            })),
        }
    }
}

impl Target for Synod {
    async fn connect(endpoints: &[String], request_timeout: Duration) -> Result<Self, Error> {
        let nodes = parse_nodes(endpoints)?;
        if nodes.is_empty() {
            return Err("no synod endpoint given".into());
        }
        // `KvClient` connects lazily, on its first request.
        Ok(Synod::with_nodes(
            nodes,
            options(cluster_id()?, request_timeout),
        ))
    }

    fn for_task(&self) -> Self {
        Synod::with_nodes(self.nodes.clone(), self.opts.clone())
    }

    async fn put(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        // synod values are strings; the load loop sends ASCII letters.
        let value = String::from_utf8_lossy(value);
        let mut s = self.session.lock().await;
        if s.in_flight {
            s.client = KvClient::new(self.nodes.clone(), fresh_id(), self.opts.clone());
        }
        s.in_flight = true;
        s.client
            .put(key, &value)
            .await
            .map_err(|e| Error::from(e.to_string()))?;
        s.in_flight = false;
        Ok(())
    }
}

/// Finds the leader among `endpoints` (in node-id order) and returns its index.
///
/// There is no "who leads" call: each server's status says the last term in which it became
/// leader (`led_term`), and the current leader, if any, is the reachable server with the
/// highest one. That candidate is then confirmed by a read sent to it alone (a read is
/// answered only by a leader that a majority still follows). Retries until `within`.
pub async fn leader(endpoints: &[String], within: Duration) -> Result<usize, Error> {
    let nodes = parse_nodes(endpoints)?;
    let cluster = cluster_id()?;
    let probe = Duration::from_millis(300);
    let deadline = Instant::now() + within;
    let mut last = String::from("no status answered");
    while Instant::now() < deadline {
        let mut best: Option<(u64, usize)> = None;
        let mut c = KvClient::new(nodes.clone(), fresh_id(), options(cluster, probe));
        for i in 0..nodes.len() {
            match c.status(i).await {
                Ok(s) if s.led_term > 0 && best.is_none_or(|(t, _)| s.led_term > t) => {
                    best = Some((s.led_term, i))
                }
                Ok(_) => {}
                Err(e) => last = format!("n{i}: {e}"),
            }
        }
        if let Some((_, i)) = best {
            let mut one = KvClient::new(vec![nodes[i]], fresh_id(), options(cluster, probe));
            match one.get("__bench_leader_probe").await {
                Ok(_) => return Ok(i),
                Err(e) => last = format!("candidate n{i} did not answer a read: {e}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("no confirmed leader within {within:?}: {last}").into())
}

/// Waits until every server answers its status, a leader answers a read, and every server
/// has applied at least what the leader had applied when the read was answered (a restarted
/// replica has caught up). Retries until `within`.
pub async fn healthy(endpoints: &[String], within: Duration) -> Result<Duration, Error> {
    let start = Instant::now();
    let nodes = parse_nodes(endpoints)?;
    let cluster = cluster_id()?;
    let probe = Duration::from_millis(500);
    let deadline = start + within;
    let mut target: Option<u64> = None;
    let mut last = String::from("not checked");
    while Instant::now() < deadline {
        let mut c = KvClient::new(nodes.clone(), fresh_id(), options(cluster, probe));
        if target.is_none() {
            match c.get("__bench_health_probe").await {
                Err(e) => last = format!("no leader answered a read: {e}"),
                Ok(_) => {
                    // Any server's applied index after the read is a floor all must reach.
                    let mut max = 0;
                    for i in 0..nodes.len() {
                        if let Ok(s) = c.status(i).await {
                            max = max.max(s.applied);
                        }
                    }
                    target = Some(max);
                }
            }
        }
        if let Some(t) = target {
            let mut behind = Vec::new();
            for i in 0..nodes.len() {
                match c.status(i).await {
                    Ok(s) if s.applied >= t => {}
                    Ok(s) => behind.push(format!("n{i} applied {} < {t}", s.applied)),
                    Err(e) => behind.push(format!("n{i}: {e}")),
                }
            }
            if behind.is_empty() {
                return Ok(start.elapsed());
            }
            last = behind.join(", ");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("not healthy within {within:?}: {last}").into())
}
