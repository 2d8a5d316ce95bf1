//! Global snapshots: recording a consistent global state of a running computation without
//! stopping it.
//!
//! A snapshot algorithm is a *layer* wrapped around an application protocol: the application
//! runs unchanged inside it (its messages, timers, requests and indications pass through), and
//! the layer adds what it needs to record, on request or on a timer, each process's local state
//! and the state of every channel (the application messages in transit). Any application that
//! implements [`Recordable`] (it says what of its state to record) can wear any of the layers
//! here; the [`Bank`] is the classic one: money moves between accounts, so the total is an
//! invariant a snapshot must reproduce.
//!
//! | layer | channels | how a process knows when to record | channel state |
//! |---|---|---|---|
//! | [`ChandyLamport`] (1985) | FIFO | initiation, or the first marker | messages received after recording, before that channel's marker |
//! | [`LaiYang`] (1987) | any order | initiation, or the first *red* message (piggybacked colour) | *white* messages received after recording, until per-channel counts match |
//! | naive clock ([`naive_clock()`]) | any | local clock reads T | as Lai–Yang, but a red message never forces a record |
//!
//! **Model.** Asynchronous; reliable channels (no loss, no duplication, no creation); FIFO for
//! Chandy–Lamport (Lai–Yang and the naive clock drop FIFO); failure-free; the communication
//! graph is strongly connected (here: a clique, every process talks to every other).
//!
//! **Repeated snapshots.** Snapshots are numbered 1, 2, 3, …; a process records them in order
//! (its *epoch* is the last one it recorded), so one run takes many. A process asked to
//! initiate starts snapshot epoch + 1; two processes that initiate the same number concurrently
//! take one snapshot together (both algorithms allow several initiators).
//!
//! **What the layers tell.** At the moment a process records snapshot k it indicates
//! [`SnapshotInd::Recorded`] with its local state; when its part of k is complete (every
//! incoming channel's state is known) it indicates [`SnapshotInd::Complete`] with each incoming
//! channel's recorded messages. By convention a step whose input triggers a record (a marker,
//! a red message, the clock) records *before* handling that input, so an application message
//! delivered in that step counts as received after the record.
//!
//! **Properties** ([`properties`]), judged over the trace independently of the layer's own
//! bookkeeping (from where the `Recorded` indication sits among the sends and deliveries):
//! (S) *recorded states*: each recorded local state is the state the trace gives at the record
//! point; (S) *consistent cut*: if the receipt of a message is recorded, so is its send;
//! (S) *channel states*: each channel's recorded state is exactly the messages sent before the
//! sender recorded and received after the receiver recorded; (S) *conservation*: recorded
//! balances plus the money in recorded channels equal the invariant total; (L) *termination*:
//! every snapshot some process recorded is complete at every process by the end of the run.
//!
//! **Canary.** [`ChandyLamport::canary_missing_marker`]: each process skips the marker to its
//! successor (and, expecting none, records that incoming channel as empty): money in transit
//! on those channels vanishes from the snapshots, and cuts go inconsistent.
//!
//! **Read:** Chandy & Lamport, "Distributed snapshots: determining global states of
//! distributed systems", ACM TOCS 3(1), 1985; Lai & Yang, "On distributed snapshots", IPL 25,
//! 1987; Kshemkalyani & Singhal ch. 4 (global state recording, the main source, with
//! variants); Lynch ch. 19 (global snapshots and stable properties); Attiya & Welch ch. 6;
//! Tel ch. 10 (snapshots).

mod bank;
mod chandy_lamport;
mod lai_yang;
pub mod naive_clock;
pub mod properties;

pub use bank::{Bank, BankRequest, BankState, BankTimer, Transfer};
pub use chandy_lamport::{ChandyLamport, ClMsg, ClOpen, ClState};
pub use lai_yang::{LaiYang, LyMsg, LyOpen, LyState};
pub use naive_clock::naive_clock;

use serde::{Deserialize, Serialize};
use synod_core::{Duration, Instant, Message, NodeId, Protocol};

/// An application whose local state a snapshot layer can record.
pub trait Recordable: Protocol {
    /// What of a node's state a snapshot records (a bank: the balance).
    type Recorded: Message;

    /// The recordable part of `state`.
    fn record(&self, state: &Self::State) -> Self::Recorded;
}

/// An application with a conserved quantity (money), so that a snapshot can be judged by its
/// total: the amounts held by the processes plus the amounts carried by messages in transit
/// never change.
pub trait Conserved: Recordable {
    /// What `node` holds at the start.
    fn initial_amount(&self, node: NodeId) -> i64;
    /// What a recorded local state holds.
    fn recorded_amount(&self, recorded: &Self::Recorded) -> i64;
    /// What a message carries (moved out of the sender when sent, into the receiver when
    /// received).
    fn message_amount(&self, msg: &Self::Msg) -> i64;
}

/// What a snapshot layer tells the layer above: the application's own indications, and the
/// snapshot's progress at this process.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnapshotInd<R, M, I> {
    /// An indication of the application.
    App(I),
    /// This process recorded its local state for snapshot `snap`, here.
    Recorded {
        /// The snapshot's number (1, 2, …).
        snap: u64,
        /// The recorded local state.
        state: R,
    },
    /// This process's part of snapshot `snap` is complete: the recorded state of each incoming
    /// channel, by sender, in receipt order.
    Complete {
        /// The snapshot's number.
        snap: u64,
        /// Per sender (every other process, in id order), the messages recorded in transit.
        channels: Vec<(NodeId, Vec<M>)>,
    },
}

/// A snapshot layer's timers: the application's, or the layer's own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SnapTimer<T> {
    /// A timer of the application.
    App(T),
    /// Time to initiate (or, for the naive clock, to record) the next snapshot.
    Snapshot,
}

/// What the layer above may ask a snapshot layer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnapRequest<R> {
    /// A request for the application.
    App(R),
    /// Initiate a snapshot (number epoch + 1) here.
    Start,
}

/// The indication type of a layer wrapped around application `A`.
pub type LayerInd<A> =
    SnapshotInd<<A as Recordable>::Recorded, <A as Protocol>::Msg, <A as Protocol>::Indication>;

/// When a layer initiates snapshots on its own, in *local* clock time (drift and offset
/// included): snapshot k at `first + (k − 1) × period`, while the local clock is below `stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The initiator; `None` means every process (the naive clock algorithm).
    pub initiator: Option<NodeId>,
    /// Local time of snapshot 1.
    pub first: Duration,
    /// Local time between snapshots.
    pub period: Duration,
    /// No snapshot starts at or after this local time.
    pub stop: Instant,
}

impl Schedule {
    /// Does `node` run this schedule's timer?
    pub fn runs_at(&self, node: NodeId) -> bool {
        self.initiator.is_none_or(|i| i == node)
    }

    /// Local time of snapshot `k` (k ≥ 1).
    pub fn time_of(&self, k: u64) -> Instant {
        Instant(
            self.first
                .as_nanos()
                .saturating_add(self.period.as_nanos().saturating_mul(k.saturating_sub(1))),
        )
    }

    /// How long from local time `now` until snapshot `k` is due (zero if overdue).
    pub fn delay_until(&self, k: u64, now: Instant) -> Duration {
        Duration(self.time_of(k).as_nanos().saturating_sub(now.as_nanos()))
    }
}

/// What the properties need to read any snapshot layer's traces.
pub trait SnapshotLayer: Protocol {
    /// The application inside.
    type App: Recordable;

    /// The application message a network message carries, if it is one.
    fn app_message(msg: &Self::Msg) -> Option<&<Self::App as Protocol>::Msg>;

    /// The snapshot a control message (a marker, a count) belongs to, if it is one.
    fn control_snapshot(msg: &Self::Msg) -> Option<u64>;

    /// The indication as a snapshot indication.
    fn snapshot_indication(ind: &Self::Indication) -> &LayerInd<Self::App>;

    /// The application inside.
    fn app(&self) -> &Self::App;
}

/// The `Complete` indication of snapshot `snap` at `me`, from its per-sender channel states
/// indexed by node (its own slot, always empty, is left out).
pub(crate) fn completion<R, M, I>(
    snap: u64,
    me: NodeId,
    channels: Vec<Vec<M>>,
) -> SnapshotInd<R, M, I> {
    let channels = channels
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != me.index())
        .map(|(i, c)| (NodeId(i as u32), c))
        .collect();
    SnapshotInd::Complete { snap, channels }
}
