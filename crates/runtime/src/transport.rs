//! The transport: one listening socket per node for peers and clients, one outgoing connection
//! per peer with reconnects, and the client side of the handshake.
//!
//! Each pair of nodes uses two TCP connections, one per direction: node `a` connects to `b` to
//! send, and `b` only reads from the connections it accepted. A connection that fails is simply
//! re-dialed; a message in flight on it is lost, which every synod protocol tolerates (the
//! network is fair-loss).

use crate::driver::Command;
use crate::fault::Faults;
use crate::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use crate::stats::{add, Counters};
use crate::wire::{
    decode, Expect, FrameError, FrameReader, FrameWriter, Hello, HelloReply, RejectReason, Role,
    DEFAULT_MAX_FRAME,
};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use synod_core::{NodeId, Prng, Protocol};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep, sleep_until, timeout, Instant};

/// How long a connecting side has to send its hello, and to get the answer.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How much encoded data one write call carries at most.
const WRITE_BATCH_BYTES: usize = 256 << 10;
/// The largest hello or hello reply accepted.
const MAX_HELLO: usize = 64 << 10;

/// What every transport task of a node shares.
#[derive(Debug)]
pub(crate) struct Transport {
    pub id: NodeId,
    pub n: usize,
    pub cluster: u64,
    pub max_frame: usize,
    pub counters: Arc<Counters>,
    pub faults: Faults,
}

/// A message waiting for its peer's connection.
#[derive(Debug)]
pub(crate) struct Outgoing<M> {
    pub queued_at: Instant,
    pub msg: M,
}

/// Accepts connections until the task is aborted; each gets its own task (aborted with this
/// one, since the [`JoinSet`] owning them is dropped with it).
pub(crate) async fn serve<P: Protocol>(
    listener: TcpListener,
    t: Arc<Transport>,
    inbox: mpsc::Sender<Command<P>>,
    clients: mpsc::Sender<ClientConn>,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            Some(_) = conns.join_next() => continue,
        };
        match accepted {
            Ok((stream, addr)) => {
                conns.spawn(accept::<P>(
                    stream,
                    addr,
                    Arc::clone(&t),
                    inbox.clone(),
                    clients.clone(),
                ));
            }
            Err(e) => {
                // Out of file descriptors, typically: wait instead of spinning.
                crate::log!(t.id, "accept failed: {e}");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Runs the acceptor's side of the handshake, then serves the connection by its role.
async fn accept<P: Protocol>(
    stream: TcpStream,
    addr: SocketAddr,
    t: Arc<Transport>,
    inbox: mpsc::Sender<Command<P>>,
    clients: mpsc::Sender<ClientConn>,
) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let mut reader = FrameReader::new(rd, t.max_frame);
    let mut writer = FrameWriter::new(wr, t.max_frame);
    let hello = match timeout(HANDSHAKE_TIMEOUT, reader.next_frame()).await {
        Ok(Ok(Some(frame))) => decode::<Hello>(&frame).ok(),
        _ => None,
    };
    let expect = Expect {
        me: t.id,
        n: t.n,
        cluster: t.cluster,
        clients: !clients.is_closed(),
    };
    let role = hello.map_or(Err(RejectReason::Malformed), |h| expect.check(&h));
    let reply = match role {
        Ok(_) => HelloReply::Welcome { node: t.id },
        Err(reason) => {
            t.counters.reject(reason);
            crate::log!(t.id, "refused a connection from {addr}: {reason}");
            HelloReply::Reject {
                reason: reason.to_string(),
            }
        }
    };
    if writer.push_value(&reply).is_err() || writer.flush().await.is_err() {
        return;
    }
    match role {
        Ok(Role::Peer(from)) => read_peer::<P>(from, reader, &t, inbox).await,
        Ok(Role::Client) => {
            add(&t.counters.clients_accepted, 1);
            let conn = ClientConn {
                reader: ClientReader {
                    frames: reader,
                    counters: Some(Arc::clone(&t.counters)),
                },
                writer: ClientWriter { frames: writer },
                node: t.id,
                peer: addr,
            };
            let _ = clients.send(conn).await;
        }
        Err(_) => {}
    }
}

/// Feeds the messages of peer `from` to the driver until the connection ends.
async fn read_peer<P: Protocol>(
    from: NodeId,
    mut reader: FrameReader<OwnedReadHalf>,
    t: &Transport,
    inbox: mpsc::Sender<Command<P>>,
) {
    loop {
        let frame = match reader.next_frame().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(FrameError::Oversized { len, max }) => {
                add(&t.counters.frames_oversized, 1);
                crate::log!(
                    t.id,
                    "closing {from}'s connection: a frame of {len} bytes exceeds {max}"
                );
                return;
            }
            Err(FrameError::Io(_)) => return,
        };
        add(&t.counters.bytes_received, frame.len() as u64 + 4);
        if t.faults.blocks_incoming(from) {
            add(&t.counters.dropped_by_fault, 1);
            continue;
        }
        match decode::<P::Msg>(&frame) {
            Ok(msg) => {
                add(&t.counters.msgs_received, 1);
                if inbox.send(Command::Message(from, msg)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                add(&t.counters.frames_malformed, 1);
                crate::log!(t.id, "dropped a malformed frame from {from}: {e}");
            }
        }
    }
}

/// Keeps a connection to `peer` and writes the queued messages to it, batching everything queued
/// into one write. Ends when the driver drops the queue.
///
/// When a connection that was up breaks and the first reconnect is refused, the driver hears
/// [`Command::PeerUnreachable`] (the protocol's `on_peer_unreachable` hint): a killed process
/// refuses connections at once, so its peers learn of the crash in milliseconds.
pub(crate) async fn send_to_peer<P: Protocol>(
    peer: NodeId,
    addr: SocketAddr,
    t: Arc<Transport>,
    mut queue: mpsc::Receiver<Outgoing<P::Msg>>,
    mut prng: Prng,
    inbox: mpsc::Sender<Command<P>>,
) {
    let mut backoff = Backoff::default();
    let mut held: Option<Outgoing<P::Msg>> = None;
    let mut was_up = true; // log the first failure of an outage, not every retry
    let mut connected = false; // a connection was up before this failure
    loop {
        let (mut reader, mut writer) = match connect_peer(addr, &t).await {
            Ok(conn) => {
                add(&t.counters.connects, 1);
                backoff = Backoff::default();
                was_up = true;
                connected = true;
                conn
            }
            Err(e) => {
                add(&t.counters.connect_failures, 1);
                // Refused or reset at once: nothing listens there any more (a paused process
                // still accepts, then times out, and gives no hint).
                let gone = matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::UnexpectedEof
                );
                if gone && std::mem::take(&mut connected) {
                    let _ = inbox.try_send(Command::PeerUnreachable(peer));
                }
                if std::mem::take(&mut was_up) {
                    crate::log!(t.id, "cannot reach {peer} at {addr} (retrying): {e}");
                }
                sleep(backoff.next(&mut prng)).await;
                continue;
            }
        };
        loop {
            let first = match held.take() {
                Some(m) => m,
                None => tokio::select! {
                    m = queue.recv() => match m {
                        Some(m) => m,
                        None => return,
                    },
                    // The acceptor never writes after its welcome: any read result means the
                    // connection is gone. Noticing now saves a message written into the void.
                    _ = reader.next_frame() => break,
                },
            };
            let delay = t.faults.delay_to(peer);
            let due = first.queued_at + delay;
            if due > Instant::now() {
                // Only when a delay fault is on: even an elapsed `sleep_until` costs a timer tick.
                sleep_until(due).await;
            }
            let now = Instant::now();
            let blocked = t.faults.blocks_outgoing(peer);
            let mut batch = 0;
            let mut next = Some(first);
            while let Some(out) = next.take() {
                if blocked {
                    add(&t.counters.dropped_by_fault, 1);
                } else if let Err(e) = writer.push_value(&out.msg) {
                    add(&t.counters.frames_oversized, 1);
                    crate::log!(t.id, "dropped a message to {peer}: {e}");
                } else {
                    batch += 1;
                }
                if writer.queued() >= WRITE_BATCH_BYTES {
                    break;
                }
                match queue.try_recv() {
                    Ok(m) if m.queued_at + delay <= now => next = Some(m),
                    Ok(m) => held = Some(m),
                    Err(_) => {}
                }
            }
            let bytes = writer.queued() as u64;
            if let Err(e) = writer.flush().await {
                add(&t.counters.dropped_conn_lost, batch);
                crate::log!(t.id, "lost the connection to {peer}: {e}");
                break;
            }
            add(&t.counters.msgs_sent, batch);
            add(&t.counters.bytes_sent, bytes);
        }
    }
}

/// Dials a peer and says hello as this node.
async fn connect_peer(
    addr: SocketAddr,
    t: &Transport,
) -> io::Result<(FrameReader<OwnedReadHalf>, FrameWriter<OwnedWriteHalf>)> {
    let hello = Hello::new(t.cluster, Role::Peer(t.id));
    let (reader, writer, _) = dial(addr, hello, t.max_frame, HANDSHAKE_TIMEOUT).await?;
    Ok((reader, writer))
}

/// Connects to `addr`, says `hello` and waits for the welcome, all within `limit`.
async fn dial(
    addr: SocketAddr,
    hello: Hello,
    max_frame: usize,
    limit: Duration,
) -> io::Result<(
    FrameReader<OwnedReadHalf>,
    FrameWriter<OwnedWriteHalf>,
    NodeId,
)> {
    let handshake = async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let mut reader = FrameReader::new(rd, MAX_HELLO.max(max_frame));
        let mut writer = FrameWriter::new(wr, max_frame);
        writer.push_value(&hello)?;
        writer.flush().await?;
        let reply = reader.next_frame().await?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "closed during the handshake")
        })?;
        match decode::<HelloReply>(&reply)? {
            HelloReply::Welcome { node } => Ok((reader, writer, node)),
            HelloReply::Reject { reason } => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("refused by {addr}: {reason}"),
            )),
        }
    };
    timeout(limit, handshake).await.unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no welcome from {addr} within {limit:?}"),
        ))
    })
}

/// Reconnect delays: 5 ms doubling to 500 ms, each drawn uniformly from its upper half so that
/// nodes restarted together do not redial in lockstep.
#[derive(Debug)]
struct Backoff {
    ceiling: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            ceiling: Duration::from_millis(5),
        }
    }
}

impl Backoff {
    fn next(&mut self, prng: &mut Prng) -> Duration {
        let ceiling = self.ceiling.as_nanos() as u64;
        let wait = ceiling / 2 + prng.below(ceiling / 2 + 1);
        self.ceiling = (self.ceiling * 2).min(Duration::from_millis(500));
        Duration::from_nanos(wait)
    }
}

/// A client's connection to a node, as either side sees it: frames of raw bytes both ways. The
/// application chooses what the bytes mean (the node's transport never decodes them).
///
/// A node hands accepted clients to the application through
/// [`Running::clients`](crate::Running::clients); a client opens one with [`connect_client`].
#[derive(Debug)]
pub struct ClientConn {
    reader: ClientReader,
    writer: ClientWriter,
    node: NodeId,
    peer: SocketAddr,
}

impl ClientConn {
    /// The node that accepted the connection.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The next frame, or `None` when the other side closed the connection. Not cancel-safe
    /// (see [`ClientConn::into_split`] to read and write from different tasks).
    pub async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.reader.recv().await
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.writer.send(frame).await
    }

    /// Separates the reading and the writing halves, e.g. to read requests in one task and
    /// write responses from another.
    pub fn into_split(self) -> (ClientReader, ClientWriter) {
        (self.reader, self.writer)
    }
}

/// The reading half of a [`ClientConn`].
#[derive(Debug)]
pub struct ClientReader {
    frames: FrameReader<OwnedReadHalf>,
    /// The node's counters, on the node's side of the connection.
    counters: Option<Arc<Counters>>,
}

impl ClientReader {
    /// The next frame, or `None` when the other side closed the connection. A frame above the
    /// size limit is an [`io::ErrorKind::InvalidData`] error (and counted on a node); close the
    /// connection then. Not cancel-safe.
    pub async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.frames.next_frame().await.map_err(|e| {
            if let (FrameError::Oversized { .. }, Some(c)) = (&e, &self.counters) {
                add(&c.frames_oversized, 1);
            }
            e.into()
        })
    }
}

/// The writing half of a [`ClientConn`]: [`push`](ClientWriter::push) several frames and
/// [`flush`](ClientWriter::flush) them with one write, or [`send`](ClientWriter::send) one.
#[derive(Debug)]
pub struct ClientWriter {
    frames: FrameWriter<OwnedWriteHalf>,
}

impl ClientWriter {
    /// Queues one frame.
    pub fn push(&mut self, frame: &[u8]) -> io::Result<()> {
        self.frames.push(frame)
    }

    /// Writes every queued frame.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.frames.flush().await
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.frames.send(frame).await
    }
}

/// Opens a client connection to the node at `addr` of cluster `cluster`, completing the
/// handshake within `limit`. Frames up to [`DEFAULT_MAX_FRAME`] bytes are accepted.
///
/// # Errors
/// The connection failed or timed out, or the node refused the hello
/// ([`io::ErrorKind::ConnectionRefused`], with the node's reason).
pub async fn connect_client(
    addr: SocketAddr,
    cluster: u64,
    limit: Duration,
) -> io::Result<ClientConn> {
    let hello = Hello::new(cluster, Role::Client);
    let (frames, writer, node) = dial(addr, hello, DEFAULT_MAX_FRAME, limit).await?;
    Ok(ClientConn {
        reader: ClientReader {
            frames,
            counters: None,
        },
        writer: ClientWriter { frames: writer },
        node,
        peer: addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        let mut b = Backoff::default();
        let mut prng = Prng::new(7);
        let mut ceiling = 5u64;
        for _ in 0..12 {
            let wait = b.next(&mut prng).as_micros() as u64;
            assert!(
                wait >= ceiling * 500 && wait <= ceiling * 1000,
                "{wait}us vs {ceiling}ms"
            );
            ceiling = (ceiling * 2).min(500);
        }
    }
}
