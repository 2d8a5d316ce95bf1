//! One replica of the key-value service: Raft over [`Kv`] on the TCP runtime, plus the client
//! front end that turns client frames into Raft requests and Raft indications into answers.

use crate::proto::{Fault, Reply, Request, Status};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use synod_core::{Duration, NodeId};
use synod_protocols::consensus::raft::{Raft, RaftInd};
use synod_protocols::replication::kv::{Kv, KvCmd};
use synod_runtime::{start, ClientConn, Config, Handle, Running};
use tokio::sync::oneshot;

/// Raft's timing, as etcd names it: the leader's heartbeat period and the election timeout
/// (followers time out after a random time in `[election, 2 × election)`, as etcd does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Heartbeat period in milliseconds.
    pub heartbeat_ms: u64,
    /// Election timeout in milliseconds.
    pub election_ms: u64,
}

impl Default for Timing {
    /// etcd's defaults: 100 ms heartbeats, a 1 s election timeout.
    fn default() -> Timing {
        Timing {
            heartbeat_ms: 100,
            election_ms: 1000,
        }
    }
}

/// The Raft configuration a replica runs: read-index reads, flow control (one AppendEntries in
/// flight per follower, so entries that arrive meanwhile leave as one batch), a snapshot every
/// 2,000 entries, batches of up to 512 entries, election timeouts drawn from 1,000 values (two followers
/// rarely pick the same one). `canary` answers reads without confirming the leadership
/// ([`Raft::canary_unconfirmed_reads`]): for showing that `synod stress` catches stale reads.
pub fn raft(t: Timing, canary: bool) -> Raft<Kv> {
    let e = Duration::from_millis(t.election_ms.max(1));
    let raft = Raft::<Kv>::for_machine()
        .with_election_timeout(e, Duration(2 * e.0 - 1))
        .with_heartbeat(Duration::from_millis(t.heartbeat_ms.max(1)))
        .with_read_index(true)
        .with_flow_control(true)
        .with_snapshot_every(2_000)
        .with_max_batch(512)
        .with_timeout_choices(1000);
    if canary {
        raft.canary_unconfirmed_reads()
    } else {
        raft
    }
}

/// How to run one replica.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// This replica.
    pub id: NodeId,
    /// Every replica's address, by id (`nodes[i]` is `NodeId(i)`'s), this one included.
    pub nodes: Vec<SocketAddr>,
    /// Where the write-ahead log lives (`None`: in memory, lost at exit).
    pub data_dir: Option<PathBuf>,
    /// The cluster id every connection must present.
    pub cluster: u64,
    /// fsync the log before anything that depends on it leaves the node (on by default).
    pub fsync: bool,
    /// Raft's timing.
    pub timing: Timing,
    /// How long a client request may wait for its answer before the server answers
    /// [`Reply::Timeout`].
    pub request_timeout: std::time::Duration,
    /// CANARY: serve reads without confirming the leadership (see [`raft`]).
    pub canary_unconfirmed_reads: bool,
}

/// A client waiting for its command's answer.
struct Waiter {
    seq: u64,
    tx: oneshot::Sender<Reply>,
}

#[derive(Default)]
struct Shared {
    waiters: Mutex<BTreeMap<u64, Waiter>>,
    status: Mutex<Status>,
}

impl Shared {
    /// Answers the client of `cmd`'s sequence number if it is still waiting for it.
    fn answer(&self, client: u64, seq: u64, reply: Reply) {
        let mut w = self.waiters.lock().expect("waiters lock");
        if w.get(&client).is_some_and(|x| x.seq == seq) {
            let waiter = w.remove(&client).expect("present");
            let _ = waiter.tx.send(reply);
        }
    }
}

/// Runs a replica until it is stopped (Ctrl-C / SIGTERM) or its storage fails.
pub async fn serve(opts: ServerOptions) -> io::Result<()> {
    let me = opts.id;
    let listen = *opts.nodes.get(me.index()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "node {me} is not in the cluster's {} nodes",
                opts.nodes.len()
            ),
        )
    })?;
    let peers: BTreeMap<NodeId, SocketAddr> = NodeId::all(opts.nodes.len())
        .filter(|&p| p != me)
        .map(|p| (p, opts.nodes[p.index()]))
        .collect();
    let mut cfg = Config::new(me, listen, peers);
    cfg.data_dir = opts.data_dir.clone();
    cfg.cluster = opts.cluster;
    cfg.fsync = opts.fsync;
    let Running {
        handle,
        mut indications,
        mut clients,
    } = start(raft(opts.timing, opts.canary_unconfirmed_reads), cfg).await?;
    let shared = Arc::new(Shared::default());
    shared.status.lock().expect("status").id = me.0;
    let sh = shared.clone();
    tokio::spawn(async move {
        while let Some(ind) = indications.recv().await {
            on_indication(&sh, ind);
        }
    });
    loop {
        tokio::select! {
            conn = clients.recv() => match conn {
                Some(conn) => {
                    let (h, sh, t) = (handle.clone(), shared.clone(), opts.request_timeout);
                    tokio::spawn(async move { serve_client(conn, h, sh, t).await });
                }
                None => break,
            },
            reason = handle.stopped() => {
                return Err(io::Error::other(reason.unwrap_or_else(|| "stopped".into())));
            }
            _ = shutdown_signal() => break,
        }
    }
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn on_indication(sh: &Shared, ind: RaftInd<Kv>) {
    match ind {
        RaftInd::Client(out) => {
            sh.status.lock().expect("status").answered += 1;
            let (client, seq) = (out.client, out.seq);
            sh.answer(client, seq, Reply::Done(out));
        }
        RaftInd::Redirect { leader, cmd, .. } => {
            sh.answer(cmd.client, cmd.seq, Reply::NotLeader { leader });
        }
        RaftInd::BecameLeader { term } => sh.status.lock().expect("status").led_term = term,
        RaftInd::Commit { index, .. } => sh.status.lock().expect("status").applied = index,
    }
}

/// Serves one client connection: one request at a time, in order.
async fn serve_client(
    conn: ClientConn,
    handle: Handle<Raft<Kv>>,
    sh: Arc<Shared>,
    timeout: std::time::Duration,
) {
    let (mut rx, mut tx) = conn.into_split();
    while let Ok(Some(frame)) = rx.recv().await {
        let reply = match synod_runtime::wire::decode::<Request>(&frame) {
            Err(e) => {
                sh.status.lock().expect("status").malformed += 1;
                Reply::Refused(format!("malformed request: {e}"))
            }
            Ok(Request::Status) => Reply::Status(sh.status.lock().expect("status").clone()),
            Ok(Request::Fault(f)) => {
                apply_fault(&handle, f);
                Reply::FaultSet
            }
            Ok(Request::Op(cmd)) => submit(&handle, &sh, cmd, timeout).await,
        };
        let Ok(bytes) = postcard::to_stdvec(&reply) else {
            break;
        };
        if tx.send(&bytes).await.is_err() {
            break;
        }
    }
}

async fn submit(
    handle: &Handle<Raft<Kv>>,
    sh: &Shared,
    cmd: KvCmd,
    timeout: std::time::Duration,
) -> Reply {
    let (tx, rx) = oneshot::channel();
    let (client, seq) = (cmd.client, cmd.seq);
    sh.waiters
        .lock()
        .expect("waiters")
        .insert(client, Waiter { seq, tx });
    if handle.submit(cmd).await.is_err() {
        return Reply::Timeout; // the node is stopping: the command may be in its log
    }
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(reply)) => reply,
        _ => {
            let mut w = sh.waiters.lock().expect("waiters");
            if w.get(&client).is_some_and(|x| x.seq == seq) {
                w.remove(&client);
            }
            Reply::Timeout
        }
    }
}

fn apply_fault(handle: &Handle<Raft<Kv>>, f: Fault) {
    let faults = handle.faults();
    match f {
        Fault::Isolate(peers) => {
            for p in peers {
                faults.partition(p);
            }
        }
        Fault::Heal => faults.clear(),
        Fault::ClockRate(r) if r.is_finite() && r > 0.0 => faults.set_clock_rate(r),
        Fault::ClockRate(_) => {}
        Fault::ClockJump(ms) => faults.jump_clock((ms as i64).saturating_mul(1_000_000)),
    }
}
