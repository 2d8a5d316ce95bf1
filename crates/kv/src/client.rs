//! The key-value client: finds the leader, retries, and says whether a failed write may have
//! happened.
//!
//! Each client has an id and numbers its operations; a retry (after a timeout, a lost
//! connection or a redirect) repeats the *same* number, and the replicated store's session
//! table applies a write once however many copies reach the log. So retrying is safe, and an
//! operation ends in one of three ways: done (with its result), failed **definitely** (it did
//! not take effect: every server that saw it turned it away), or failed **indefinitely** (a
//! server may have appended it: it may take effect later). Reads never change the store, so a
//! failed read is always definite.

use crate::proto::{Fault, Reply, Request, Status};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use synod_core::NodeId;
use synod_protocols::replication::kv::{KvCmd, KvOp, KvResult};
use synod_runtime::{connect_client, ClientConn};

/// Why an operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvError {
    /// It certainly did not take effect.
    Definite(String),
    /// It may or may not have taken effect (a server accepted it, then no answer came).
    Indefinite(String),
}

impl KvError {
    /// True if the operation may have taken effect.
    pub fn is_indefinite(&self) -> bool {
        matches!(self, KvError::Indefinite(_))
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::Definite(why) => write!(f, "{why} (the operation did not take effect)"),
            KvError::Indefinite(why) => {
                write!(f, "{why} (the operation may or may not have taken effect)")
            }
        }
    }
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The cluster id.
    pub cluster: u64,
    /// How long one attempt at one server may take.
    pub attempt_timeout: Duration,
    /// How long an operation may take in all, retries included.
    pub op_timeout: Duration,
    /// How long to wait before retrying when no server knows a leader.
    pub backoff: Duration,
    /// Start every operation at the next replica in turn (following redirects from there),
    /// like clients behind a load balancer, instead of at the last known leader. Slower, but a
    /// tester wants it: a deposed leader that clients still reach is where stale reads hide.
    pub spread: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            cluster: 0,
            attempt_timeout: Duration::from_millis(1500),
            op_timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(20),
            spread: false,
        }
    }
}

/// A key-value client (one operation at a time).
pub struct KvClient {
    nodes: Vec<SocketAddr>,
    id: u64,
    seq: u64,
    opts: ClientOptions,
    leader: Option<usize>,
    next: usize,
    conns: BTreeMap<usize, ClientConn>,
}

impl KvClient {
    /// A client with id `id` (unique among the cluster's clients) for the cluster whose
    /// replicas listen at `nodes` (`nodes[i]` is `NodeId(i)`).
    pub fn new(nodes: Vec<SocketAddr>, id: u64, opts: ClientOptions) -> KvClient {
        let next = (id as usize) % nodes.len().max(1);
        KvClient {
            nodes,
            id,
            seq: 0,
            opts,
            leader: None,
            next,
            conns: BTreeMap::new(),
        }
    }

    /// This client's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The replica that answered the last operation as leader, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader.map(|i| NodeId(i as u32))
    }

    /// Reads `key`.
    pub async fn get(&mut self, key: &str) -> Result<Option<String>, KvError> {
        match self.call(KvOp::Get { key: key.into() }).await? {
            KvResult::Value(v) => Ok(v.map(|s| s.to_string())),
            other => Err(KvError::Definite(format!("unexpected answer {other:?}"))),
        }
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) -> Result<(), KvError> {
        let op = KvOp::Put {
            key: key.into(),
            value: value.into(),
        };
        match self.call(op).await? {
            KvResult::Written => Ok(()),
            other => Err(KvError::Indefinite(format!("unexpected answer {other:?}"))),
        }
    }

    /// Sets `key` to `to` if it holds `from` (`None`: absent). `Ok(Err(current))` if it held
    /// something else.
    pub async fn cas(
        &mut self,
        key: &str,
        from: Option<&str>,
        to: &str,
    ) -> Result<Result<(), Option<String>>, KvError> {
        let op = KvOp::Cas {
            key: key.into(),
            from: from.map(std::sync::Arc::from),
            to: to.into(),
        };
        match self.call(op).await? {
            KvResult::Swapped => Ok(Ok(())),
            KvResult::Mismatch { current } => Ok(Err(current.map(|s| s.to_string()))),
            other => Err(KvError::Indefinite(format!("unexpected answer {other:?}"))),
        }
    }

    /// Runs one operation to its end: retries at the leader (or the next server) until it is
    /// answered or [`ClientOptions::op_timeout`] passes.
    pub async fn call(&mut self, op: KvOp) -> Result<KvResult, KvError> {
        self.seq += 1;
        if self.opts.spread {
            self.next = (self.leader.unwrap_or(self.next) + 1) % self.nodes.len();
            self.leader = None;
        }
        let read = matches!(op, KvOp::Get { .. });
        let cmd = KvCmd {
            client: self.id,
            seq: self.seq,
            op,
        };
        let deadline = Instant::now() + self.opts.op_timeout;
        let mut maybe = None::<String>; // why the command may have been appended somewhere
        let mut last = String::from("no server answered");
        while Instant::now() < deadline {
            let target = self.leader.unwrap_or(self.next);
            match self.attempt(target, Request::Op(cmd.clone())).await {
                Ok(Reply::Done(out)) => {
                    self.leader = Some(target);
                    return Ok(out.result);
                }
                Ok(Reply::NotLeader { leader }) => {
                    last = format!("n{target} is not the leader");
                    self.retarget(leader.map(NodeId::index));
                    if leader.is_none() {
                        tokio::time::sleep(self.opts.backoff).await;
                    }
                }
                Ok(Reply::Timeout) => {
                    maybe = Some(format!("n{target} accepted it but did not answer in time"));
                    self.retarget(None);
                }
                Ok(other) => {
                    last = format!("n{target} answered {other:?}");
                    self.retarget(None);
                }
                Err(SendError::NotSent(why)) => {
                    last = why;
                    self.retarget(None);
                    tokio::time::sleep(self.opts.backoff).await;
                }
                Err(SendError::Lost(why)) => {
                    maybe = Some(why);
                    self.retarget(None);
                }
            }
        }
        Err(match (read, maybe) {
            (false, Some(why)) => KvError::Indefinite(why),
            (_, _) => KvError::Definite(last),
        })
    }

    /// Asks node `i` for its status.
    pub async fn status(&mut self, i: usize) -> Result<Status, String> {
        match self.attempt(i, Request::Status).await {
            Ok(Reply::Status(s)) => Ok(s),
            Ok(other) => Err(format!("unexpected answer {other:?}")),
            Err(SendError::NotSent(e) | SendError::Lost(e)) => Err(e),
        }
    }

    /// Asks node `i` to inject `fault` into itself.
    pub async fn fault(&mut self, i: usize, fault: Fault) -> Result<(), String> {
        match self.attempt(i, Request::Fault(fault)).await {
            Ok(Reply::FaultSet) => Ok(()),
            Ok(other) => Err(format!("unexpected answer {other:?}")),
            Err(SendError::NotSent(e) | SendError::Lost(e)) => Err(e),
        }
    }

    fn retarget(&mut self, leader: Option<usize>) {
        match leader.filter(|&l| l < self.nodes.len()) {
            Some(l) => self.leader = Some(l),
            None => {
                let from = self.leader.take().unwrap_or(self.next);
                self.next = (from + 1) % self.nodes.len();
            }
        }
    }

    /// One request to node `i` and its reply.
    async fn attempt(&mut self, i: usize, req: Request) -> Result<Reply, SendError> {
        let addr = self.nodes[i];
        if !self.conns.contains_key(&i) {
            let conn = connect_client(addr, self.opts.cluster, self.opts.attempt_timeout)
                .await
                .map_err(|e| SendError::NotSent(format!("cannot reach n{i} at {addr}: {e}")))?;
            self.conns.insert(i, conn);
        }
        let conn = self.conns.get_mut(&i).expect("connected");
        let bytes = postcard::to_stdvec(&req)
            .map_err(|e| SendError::NotSent(format!("cannot encode the request: {e}")))?;
        if let Err(e) = conn.send(&bytes).await {
            self.conns.remove(&i);
            // A write that fails may still have been delivered whole: count it as maybe sent.
            return Err(SendError::Lost(format!("connection to n{i} failed: {e}")));
        }
        let got = tokio::time::timeout(self.opts.attempt_timeout, conn.recv()).await;
        let frame = match got {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) | Ok(Err(_)) => {
                self.conns.remove(&i);
                return Err(SendError::Lost(format!("n{i} closed the connection")));
            }
            Err(_) => {
                self.conns.remove(&i);
                return Err(SendError::Lost(format!("n{i} did not answer in time")));
            }
        };
        synod_runtime::wire::decode::<Reply>(&frame).map_err(|e| {
            self.conns.remove(&i);
            SendError::Lost(format!("n{i} sent a malformed reply: {e}"))
        })
    }
}

/// Why one attempt failed.
enum SendError {
    /// The request never left this client.
    NotSent(String),
    /// The request may have reached the server.
    Lost(String),
}
