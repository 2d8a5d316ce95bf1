//! Lai–Yang (1987): snapshots on non-FIFO channels, with piggybacked colours.
//!
//! **Model.** Asynchronous, reliable channels that may **reorder**, failure-free, strongly
//! connected (a clique here).
//!
//! **Algorithm.** Every process is *white* until it records and *red* after; every application
//! message carries its sender's colour. A process records its state when it initiates or,
//! before handling it, when the first red message arrives: so no message sent after a record
//! (red) is received before one (consistent cut), whatever the channel order. The state of a
//! channel is the *white* messages received after the receiver recorded. To know when a channel
//! holds no more of them, each process counts the messages it sent on each channel and, when it
//! records, sends the count of white messages (all it sent so far) to each peer; the receiver,
//! which counted the white messages it had received before recording, completes the channel
//! when its count of white messages reaches the sender's (Mattern's counter technique; Lai and
//! Yang's original keeps message histories instead).
//!
//! Repeated snapshots generalise the colours to numbers: a message carries the number of the
//! last snapshot its sender recorded (its epoch), and is white for snapshot k iff that number
//! is below k. A count message is red for its snapshot, so it also triggers the record.
//!
//! Cost: one count message per directed channel per snapshot (n(n−1) on a clique) and one
//! number per application message.
//!
//! The naive clock algorithm ([`mod@super::naive_clock`]) is this layer with records triggered only
//! by each process's local clock: a red message arriving before the clock reaches T is handled
//! before the record, and the cut is no longer consistent.
//!
//! **Read:** Lai & Yang, "On distributed snapshots", IPL 25(3), 1987; Mattern, "Efficient
//! algorithms for distributed snapshots and global virtual time approximation", JPDC 18, 1993;
//! Kshemkalyani & Singhal §4.5 (snapshots for non-FIFO channels); Tel §10.3.

use super::{LayerInd, Recordable, Schedule, SnapRequest, SnapTimer, SnapshotInd, SnapshotLayer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Effect, NodeId, Protocol};

/// The Lai–Yang layer around application `A`.
#[derive(Clone, Debug)]
pub struct LaiYang<A> {
    /// The application inside.
    pub app: A,
    /// Initiate snapshots on a timer (`None`: only on [`SnapRequest::Start`]).
    pub schedule: Option<Schedule>,
    /// Record on the first red message (Lai–Yang); `false` for the naive clock algorithm.
    record_on_red: bool,
}

impl<A> LaiYang<A> {
    /// Lai–Yang around `app`, initiated by requests.
    pub fn new(app: A) -> Self {
        LaiYang {
            app,
            schedule: None,
            record_on_red: true,
        }
    }

    /// Also initiates snapshots on `schedule`.
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// The naive clock algorithm: every process records snapshot k when its local clock reads
    /// `schedule.time_of(k)`, and a red message never forces a record (see
    /// [`mod@super::naive_clock`]).
    pub fn clock_only(app: A, mut schedule: Schedule) -> Self {
        schedule.initiator = None;
        LaiYang {
            app,
            schedule: Some(schedule),
            record_on_red: false,
        }
    }

    /// False for the naive clock algorithm.
    pub fn records_on_red(&self) -> bool {
        self.record_on_red
    }
}

/// Lai–Yang's messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LyMsg<M> {
    /// An application message and its sender's colour: the last snapshot it had recorded.
    App {
        /// The sender's epoch when it sent `msg`.
        epoch: u64,
        /// The message.
        msg: M,
    },
    /// Snapshot `snap`'s count: the sender had sent `sent` messages on this channel when it
    /// recorded (all white for `snap`).
    Count {
        /// The snapshot.
        snap: u64,
        /// White messages sent on the channel.
        sent: u64,
    },
}

/// One snapshot recorded here and not yet complete.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LyOpen<M> {
    /// Per sender (by index): its count of white messages, once it arrived.
    pub expect: Vec<Option<u64>>,
    /// Per sender: white messages received so far (before and after the record).
    pub got: Vec<u64>,
    /// Per sender: white messages received after the record.
    pub channels: Vec<Vec<M>>,
}

/// A Lai–Yang process.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LyState<S, M> {
    /// The application's state.
    pub app: S,
    /// The last snapshot recorded (0: none); also the colour of what it sends.
    pub epoch: u64,
    /// Per peer: application messages sent to it.
    pub sent: Vec<u64>,
    /// Per peer: application messages received from it.
    pub recv: Vec<u64>,
    /// Per peer: epochs of messages received from the future (above the epoch here when they
    /// arrived; only without records on red).
    pub early: Vec<Vec<u64>>,
    /// Snapshots recorded here and not yet complete.
    pub open: BTreeMap<u64, LyOpen<M>>,
    /// Counts that arrived for snapshots not recorded yet.
    pub counts: BTreeMap<u64, Vec<Option<u64>>>,
}

type State<A> = LyState<<A as Protocol>::State, <A as Protocol>::Msg>;

impl<A: Recordable> LaiYang<A> {
    fn forward(&self, s: &mut State<A>, fx: Vec<Effect<A>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => {
                    if let Some(c) = s.sent.get_mut(to.index()) {
                        *c += 1;
                    }
                    ctx.send(
                        to,
                        LyMsg::App {
                            epoch: s.epoch,
                            msg,
                        },
                    );
                }
                Effect::SetTimer { timer, after } => ctx.set_timer(SnapTimer::App(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(SnapTimer::App(timer)),
                Effect::Indicate(i) => ctx.indicate(SnapshotInd::App(i)),
                Effect::Persist => ctx.persist(),
            }
        }
    }

    fn run_app(
        &self,
        s: &mut State<A>,
        ctx: &mut Ctx<'_, Self>,
        f: impl FnOnce(&A, &mut A::State, &mut Ctx<'_, A>),
    ) {
        let mut fx = Vec::new();
        f(&self.app, &mut s.app, &mut ctx.fork(&mut fx));
        self.forward(s, fx, ctx);
    }

    fn record_through(&self, s: &mut State<A>, k: u64, ctx: &mut Ctx<'_, Self>) {
        while s.epoch < k {
            let snap = s.epoch + 1;
            self.record(s, snap, ctx);
        }
    }

    fn record(&self, s: &mut State<A>, snap: u64, ctx: &mut Ctx<'_, Self>) {
        let (me, n) = (ctx.id(), ctx.n());
        s.epoch = snap;
        let mut got = vec![0; n];
        for (i, g) in got.iter_mut().enumerate() {
            let red = s.early[i].iter().filter(|&&e| e >= snap).count() as u64;
            *g = s.recv[i] - red;
            s.early[i].retain(|&e| e > snap);
        }
        let mut expect = s.counts.remove(&snap).unwrap_or_else(|| vec![None; n]);
        expect[me.index()] = Some(0);
        got[me.index()] = 0;
        s.open.insert(
            snap,
            LyOpen {
                expect,
                got,
                channels: vec![Vec::new(); n],
            },
        );
        ctx.indicate(SnapshotInd::Recorded {
            snap,
            state: self.app.record(&s.app),
        });
        for to in NodeId::all(n) {
            if to != me {
                ctx.send(
                    to,
                    LyMsg::Count {
                        snap,
                        sent: s.sent[to.index()],
                    },
                );
            }
        }
        self.try_complete(s, snap, ctx);
    }

    fn try_complete(&self, s: &mut State<A>, snap: u64, ctx: &mut Ctx<'_, Self>) {
        let done = s
            .open
            .get(&snap)
            .is_some_and(|o| o.expect.iter().zip(&o.got).all(|(e, g)| *e == Some(*g)));
        if !done {
            return;
        }
        let o = s.open.remove(&snap).expect("checked above");
        ctx.indicate(super::completion(snap, ctx.id(), o.channels));
    }
}

impl<A: Recordable> Protocol for LaiYang<A> {
    type Msg = LyMsg<A::Msg>;
    type Timer = SnapTimer<A::Timer>;
    type Request = SnapRequest<A::Request>;
    type Indication = LayerInd<A>;
    type State = State<A>;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> State<A> {
        let n = ctx.n();
        let mut fx = Vec::new();
        let app = self.app.init(&mut ctx.fork(&mut fx));
        let mut s = LyState {
            app,
            epoch: 0,
            sent: vec![0; n],
            recv: vec![0; n],
            early: vec![Vec::new(); n],
            open: BTreeMap::new(),
            counts: BTreeMap::new(),
        };
        self.forward(&mut s, fx, ctx);
        if let Some(sc) = self.schedule.filter(|sc| sc.runs_at(ctx.id())) {
            ctx.set_timer(SnapTimer::Snapshot, sc.delay_until(1, ctx.now()));
        }
        s
    }

    fn on_message(&self, s: &mut State<A>, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self>) {
        let i = from.index();
        if i >= ctx.n() || from == ctx.id() {
            return; // not a channel of this graph
        }
        match msg {
            LyMsg::App { epoch, msg } => {
                if epoch > s.epoch {
                    if self.record_on_red {
                        self.record_through(s, epoch, ctx);
                    } else {
                        s.early[i].push(epoch);
                    }
                }
                s.recv[i] += 1;
                let mut touched = Vec::new();
                for (&k, o) in s.open.iter_mut() {
                    if epoch < k {
                        o.got[i] += 1;
                        o.channels[i].push(msg.clone());
                        touched.push(k);
                    }
                }
                for k in touched {
                    self.try_complete(s, k, ctx);
                }
                self.run_app(s, ctx, |a, st, c| a.on_message(st, from, msg, c));
            }
            LyMsg::Count { snap, sent } => {
                if snap == 0 {
                    return;
                }
                if self.record_on_red {
                    self.record_through(s, snap, ctx);
                }
                if let Some(o) = s.open.get_mut(&snap) {
                    o.expect[i] = Some(sent);
                    self.try_complete(s, snap, ctx);
                } else if snap > s.epoch {
                    s.counts.entry(snap).or_insert_with(|| vec![None; ctx.n()])[i] = Some(sent);
                }
            }
        }
    }

    fn on_timer(&self, s: &mut State<A>, timer: Self::Timer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            SnapTimer::App(t) => self.run_app(s, ctx, |a, st, c| a.on_timer(st, t, c)),
            SnapTimer::Snapshot => {
                let Some(sc) = self.schedule else { return };
                if ctx.now() >= sc.stop {
                    return;
                }
                let k = s.epoch + 1;
                self.record_through(s, k, ctx);
                if self.record_on_red {
                    ctx.set_timer(SnapTimer::Snapshot, sc.period);
                } else {
                    // The naive clock: snapshot k at local time T_k, whatever else happened.
                    ctx.set_timer(SnapTimer::Snapshot, sc.delay_until(s.epoch + 1, ctx.now()));
                }
            }
        }
    }

    fn on_request(&self, s: &mut State<A>, req: Self::Request, ctx: &mut Ctx<'_, Self>) {
        match req {
            SnapRequest::App(r) => self.run_app(s, ctx, |a, st, c| a.on_request(st, r, c)),
            SnapRequest::Start => {
                let k = s.epoch + 1;
                self.record_through(s, k, ctx);
            }
        }
    }

    fn invariants(&self, s: &State<A>) {
        if let Some((&k, _)) = s.open.last_key_value() {
            assert!(k <= s.epoch, "snapshot {k} open beyond epoch {}", s.epoch);
        }
    }
}

impl<A: Recordable> SnapshotLayer for LaiYang<A> {
    type App = A;

    fn app_message(msg: &Self::Msg) -> Option<&A::Msg> {
        match msg {
            LyMsg::App { msg, .. } => Some(msg),
            LyMsg::Count { .. } => None,
        }
    }

    fn control_snapshot(msg: &Self::Msg) -> Option<u64> {
        match msg {
            LyMsg::Count { snap, .. } => Some(*snap),
            LyMsg::App { .. } => None,
        }
    }

    fn snapshot_indication(ind: &Self::Indication) -> &LayerInd<A> {
        ind
    }

    fn app(&self) -> &A {
        &self.app
    }
}
