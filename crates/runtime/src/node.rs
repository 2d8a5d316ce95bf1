//! Starting a node, and the handles the application keeps: [`Running`] and [`Handle`].

use crate::config::Config;
use crate::driver::{Command, Driver, Timers};
use crate::fault::Faults;
use crate::net::TcpListener;
use crate::stats::{Counters, Stats};
use crate::storage::{MemStorage, Storage};
use crate::transport::{self, ClientConn, Transport};
use crate::wal::{FileWal, WalOptions};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use synod_core::{Input, Journal, NodeId, Prng, Protocol};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};

/// How many peer messages and requests may wait for the driver before their senders wait.
const INBOX: usize = 4096;
/// How many accepted clients may wait for the application.
const CLIENT_BACKLOG: usize = 64;

/// A bound listening socket. Bind every node's listener first (on port 0) when the nodes must
/// learn each other's ports before starting, then pass each to [`start_on`].
pub struct Listener(TcpListener);

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Listener")
            .field(&self.0.local_addr())
            .finish()
    }
}

impl Listener {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<Listener> {
        TcpListener::bind(addr)
            .await
            .map(Listener)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
    }

    /// The bound address (with the port the OS picked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// Starts node `cfg.id` running `protocol`: binds `cfg.listen`, opens its storage
/// ([`FileWal`] in `cfg.data_dir`, or [`MemStorage`]), and recovers if the storage holds a
/// persisted state. Must be called inside a tokio runtime; the node runs on it in the background
/// until [`Handle::shutdown`] or [`Handle::crash`].
///
/// # Errors
/// An invalid configuration, an address that cannot be bound, or storage that cannot be read;
/// each error is one line saying which.
pub async fn start<P>(protocol: P, cfg: Config) -> io::Result<Running<P>>
where
    P: Protocol,
    P::Durable: Journal,
{
    cfg.validate()?;
    let listener = Listener::bind(cfg.listen).await?;
    match &cfg.data_dir {
        Some(dir) => {
            let opts = WalOptions {
                fsync: cfg.fsync,
                ..WalOptions::default()
            };
            let wal = FileWal::open(dir, opts)?;
            start_on(protocol, cfg, listener, wal).await
        }
        None => start_on(protocol, cfg, listener, MemStorage::new()).await,
    }
}

/// Like [`start`], on a listener bound beforehand and with the given storage (`cfg.listen` and
/// `cfg.data_dir` are ignored). Tests use it to keep a [`MemStorage`] across a restart.
pub async fn start_on<P, S>(
    protocol: P,
    cfg: Config,
    listener: Listener,
    mut storage: S,
) -> io::Result<Running<P>>
where
    P: Protocol,
    S: Storage<P::Durable>,
{
    cfg.validate()?;
    let addr = listener.local_addr()?;
    let persisted = storage.load()?;
    crate::log!(
        cfg.id,
        "starting on {addr}: {} of {} nodes, cluster {}, seed {}, {}",
        cfg.id,
        cfg.n,
        cfg.cluster,
        cfg.seed,
        if persisted.is_some() {
            "recovering persisted state"
        } else {
            "fresh state"
        }
    );
    let (first, recovered) = match persisted {
        Some(d) => (Input::Recover, d),
        None => (Input::Init, P::Durable::default()),
    };

    let counters = Arc::new(Counters::default());
    let faults = Faults::new();
    let (inbox_tx, inbox) = mpsc::channel(INBOX);
    let (ind_tx, indications) = mpsc::unbounded_channel();
    let (client_tx, clients) = mpsc::channel(CLIENT_BACKLOG);
    let t = Arc::new(Transport {
        id: cfg.id,
        n: cfg.n,
        cluster: cfg.cluster,
        max_frame: cfg.max_frame,
        counters: Arc::clone(&counters),
        faults: faults.clone(),
    });

    let mut tasks = JoinSet::new();
    tasks.spawn(transport::serve::<P>(
        listener.0,
        Arc::clone(&t),
        inbox_tx.clone(),
        client_tx,
    ));
    let mut links: Vec<_> = (0..cfg.n).map(|_| None).collect();
    for (&peer, &peer_addr) in &cfg.peers {
        let (tx, rx) = mpsc::channel(cfg.peer_queue);
        links[peer.index()] = Some(tx);
        let stream = (u64::from(cfg.id.0) + 1) << 32 | u64::from(peer.0);
        let prng = Prng::derive(cfg.seed, stream);
        tasks.spawn(transport::send_to_peer::<P>(
            peer,
            peer_addr,
            Arc::clone(&t),
            rx,
            prng,
            inbox_tx.clone(),
        ));
    }

    let storage_busy = Arc::new(tokio::sync::Mutex::new(()));
    let driver = Driver {
        protocol,
        id: cfg.id,
        n: cfg.n,
        state: None,
        recovered,
        prng: Prng::derive(cfg.seed, u64::from(cfg.id.0)),
        timers: Timers::default(),
        inbox,
        ready: VecDeque::from([first]),
        links,
        indications: ind_tx,
        storage: Some(Box::new(storage)),
        storage_busy: Arc::clone(&storage_busy),
        faults: faults.clone(),
        counters: Arc::clone(&counters),
        batch: cfg.batch,
        fx: Vec::new(),
        held: Vec::new(),
        before_persist: None,
    };
    let (exit_tx, exit) = watch::channel(None);
    let id = cfg.id;
    let task = tokio::spawn(async move {
        // Declared first, dropped last: its drop tells every `Handle::stopped` the node is gone.
        let exit_tx = exit_tx;
        let result = driver.run().await;
        if let Err(e) = &result {
            crate::log!(id, "stopping: {e}");
            exit_tx.send_replace(Some(e.to_string()));
        }
        tasks.shutdown().await;
    });
    let handle = Handle {
        shared: Arc::new(Shared {
            id,
            addr,
            inbox: inbox_tx,
            faults,
            counters,
            task: task.abort_handle(),
            storage_busy,
            exit,
        }),
    };
    Ok(Running {
        handle,
        indications,
        clients,
    })
}

/// A running node, as [`start`] returns it.
///
/// # Driver contract
///
/// This driver keeps the [driver contract](synod_core::Protocol#driver-contract) of
/// [`Protocol`] point by point:
///
/// 1. **One handler at a time.** One tokio task owns the protocol state and is the only caller of
///    [`synod_core::step`]; the transport tasks and [`Handle::submit`] only queue inputs for it.
///    A crash ([`Handle::crash`], or the process dying) happens between handlers, never inside
///    one.
/// 2. **Inputs carry everything.** [`Ctx::now`](synod_core::Ctx::now) is the node's local clock:
///    tokio's clock since the node started, through the clock-skew fault
///    ([`Faults::set_clock_rate`], [`Faults::jump_clock`]), never going backwards.
///    [`Ctx::choose`](synod_core::Ctx::choose) is answered by a [`Prng`] seeded from
///    [`Config::seed`] and the node id; the seed is printed at start.
/// 3. **Effects in order; `Persist` is a barrier.** The driver runs inputs in *batches* (group
///    commit): it steps up to [`Config::batch`] ready inputs, holding back their sends and
///    indications; if any handler recorded `Persist`, it writes `durable(state)` once, after
///    the whole batch, and waits for the fsync; only then does it release the held effects, in
///    the order they were recorded, except those recorded before the batch's first `Persist`,
///    which the contract lets out before it and which leave before the write starts (a Raft
///    leader's new entries travel while its own write is in flight). Delaying an effect is always allowed (the network may delay
///    any message), and the one write covers every promise made in the batch: a crash before
///    the fsync loses the whole batch, exactly as if its inputs had never arrived, and a crash
///    after it finds every promise on disk. The value written is the state after the whole
///    batch, as if the batch's last handler had persisted; this is stronger than asked for
///    and right for every protocol whose durable part only records promises. The write runs on
///    tokio's blocking pool, so sockets are served meanwhile.
/// 4. **Named timers.** A timer table holds one deadline per name: `SetTimer` replaces,
///    `CancelTimer` removes, and a firing removes the entry, so a setting fires at most once.
///    Timer effects apply as soon as their handler returns (they are invisible outside the node),
///    so a later input of the same batch sees them. A local duration becomes real time at the
///    clock's current rate.
/// 5. **Crashes lose volatile state.** A restarted node finds only its storage: it runs
///    `recover` with the last persisted value (or `init` on empty storage) and has no timers.
///    Messages queued for sending when it crashed are lost.
/// 6. **Bad input is a value.** A frame that does not decode is counted
///    ([`Stats::frames_malformed`]) and dropped, an oversized one closes its connection, a bad
///    hello is refused; none reaches the protocol. The driver does not call `invariants` itself:
///    [`synod_core::step`] already does.
pub struct Running<P: Protocol> {
    /// Controls the node; clone it freely.
    pub handle: Handle<P>,
    /// Everything the protocol indicates, in order.
    pub indications: mpsc::UnboundedReceiver<P::Indication>,
    /// Client connections accepted by the node. Drop this receiver if the application takes no
    /// clients: the node then refuses them at the handshake.
    pub clients: mpsc::Receiver<ClientConn>,
}

impl<P: Protocol> fmt::Debug for Running<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// Controls a running node: submit requests, inject faults, read statistics, stop it.
pub struct Handle<P: Protocol> {
    shared: Arc<Shared<P>>,
}

struct Shared<P: Protocol> {
    id: NodeId,
    addr: SocketAddr,
    inbox: mpsc::Sender<Command<P>>,
    faults: Faults,
    counters: Arc<Counters>,
    task: AbortHandle,
    /// Locked while a persist runs (see [`Handle::crash`]).
    storage_busy: Arc<tokio::sync::Mutex<()>>,
    /// Closed when the node's task ends; holds the failure that stopped it, if any.
    exit: watch::Receiver<Option<String>>,
}

impl<P: Protocol> Clone for Handle<P> {
    fn clone(&self) -> Handle<P> {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: Protocol> fmt::Debug for Handle<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.shared.id)
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

/// The node has stopped and takes no more requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the node has stopped")
    }
}

impl std::error::Error for Stopped {}

impl<P: Protocol> Handle<P> {
    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.shared.id
    }

    /// The address the node listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Queues an application request (waiting while the node's inbox is full).
    pub async fn submit(&self, req: P::Request) -> Result<(), Stopped> {
        self.shared
            .inbox
            .send(Command::Request(req))
            .await
            .map_err(|_| Stopped)
    }

    /// The node's fault controls.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// A snapshot of the node's counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stops the node after its current batch (whose effects are released) and waits until it
    /// has stopped.
    pub async fn shutdown(&self) {
        let _ = self.shared.inbox.send(Command::Shutdown).await;
        self.stopped().await;
    }

    /// Stops the node at once, as a crash would: a batch whose persist has not completed is
    /// lost with its effects. Waits until the node's task is gone and until a write already
    /// handed to the disk (which cannot be interrupted) has finished, so that a node restarted
    /// on the same data directory finds it quiet.
    pub async fn crash(&self) {
        self.shared.task.abort();
        self.stopped().await;
        drop(self.shared.storage_busy.lock().await);
    }

    /// Waits until the node stops; returns the failure that stopped it (a storage error), or
    /// `None` after a shutdown or crash.
    pub async fn stopped(&self) -> Option<String> {
        let mut exit = self.shared.exit.clone();
        while exit.changed().await.is_ok() {}
        let reason = exit.borrow().clone();
        reason
    }
}
