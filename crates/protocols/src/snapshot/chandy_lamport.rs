//! Chandy–Lamport (1985): markers on FIFO channels.
//!
//! **Model.** Asynchronous, reliable **FIFO** channels, failure-free, strongly connected (a
//! clique here).
//!
//! **Algorithm.** The initiator records its local state and sends a marker on every outgoing
//! channel. A process that receives a marker for a snapshot it has not recorded records its
//! state, takes the marker's channel as empty, and sends markers on all its outgoing channels;
//! afterwards, the state of each other incoming channel is the application messages received
//! on it after the record and before that channel's marker. A process's part is complete when
//! every incoming channel has delivered its marker. Markers carry the snapshot's number, so
//! snapshots may overlap. FIFO is what makes it right: every message sent before the sender's
//! marker arrives before it (so it is recorded, in the channel or in the receiver's state), and
//! none sent after arrives before it (so no receipt is recorded without its send).
//!
//! Cost: one marker per directed channel per snapshot, |E| = n(n−1) on a clique.
//!
//! Over reordering channels the same code records inconsistent states: a message sent after a
//! marker may overtake it (its receipt is recorded, its send is not), and a message sent before
//! may fall behind it (lost from the channel state).
//!
//! **Canary.** [`ChandyLamport::canary_missing_marker`]: each process skips the marker to its
//! successor `(i+1) mod n` and, expecting none, records the channel from its predecessor as
//! empty.
//!
//! **Read:** Chandy & Lamport 1985; Kshemkalyani & Singhal §4.3; Lynch §19.2; Attiya & Welch
//! §6.2; Tel §10.2.

use super::{LayerInd, Recordable, Schedule, SnapRequest, SnapTimer, SnapshotInd, SnapshotLayer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Effect, NodeId, Protocol};

/// The Chandy–Lamport layer around application `A`.
#[derive(Clone, Debug)]
pub struct ChandyLamport<A> {
    /// The application inside.
    pub app: A,
    /// Initiate snapshots on a timer (`None`: only on [`SnapRequest::Start`]).
    pub schedule: Option<Schedule>,
    /// CANARY: skip the marker to the successor and do not wait for the predecessor's.
    skip_successor: bool,
}

impl<A> ChandyLamport<A> {
    /// Chandy–Lamport around `app`, initiated by requests.
    pub fn new(app: A) -> Self {
        ChandyLamport {
            app,
            schedule: None,
            skip_successor: false,
        }
    }

    /// Also initiates snapshots on `schedule` (its initiator's timer; `initiator: None` makes
    /// every process an initiator).
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// CANARY: process i never sends a marker to `(i+1) mod n` and records the channel from
    /// `(i−1) mod n` as empty without waiting for a marker: money in transit on those channels
    /// is lost from the snapshot, and a message sent there after the sender recorded may be
    /// received before the receiver records.
    pub fn canary_missing_marker(app: A) -> Self {
        ChandyLamport {
            app,
            schedule: None,
            skip_successor: true,
        }
    }

    /// True for the canary.
    pub fn is_canary(&self) -> bool {
        self.skip_successor
    }

    fn skipped(&self, me: NodeId, n: usize) -> Option<NodeId> {
        (self.skip_successor && n > 1).then(|| NodeId(((me.index() + 1) % n) as u32))
    }

    fn unwatched(&self, me: NodeId, n: usize) -> Option<NodeId> {
        (self.skip_successor && n > 1).then(|| NodeId(((me.index() + n - 1) % n) as u32))
    }
}

/// Chandy–Lamport's messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClMsg<M> {
    /// An application message.
    App(M),
    /// The marker of snapshot k.
    Marker(u64),
}

/// One snapshot recorded here and not yet complete.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClOpen<M> {
    /// Per sender (by index): is its marker still awaited?
    pub waiting: Vec<bool>,
    /// Per sender: application messages received since the record, before its marker.
    pub channels: Vec<Vec<M>>,
}

/// A Chandy–Lamport process.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClState<S, M> {
    /// The application's state.
    pub app: S,
    /// The last snapshot recorded (0: none).
    pub epoch: u64,
    /// Snapshots recorded and awaiting markers.
    pub open: BTreeMap<u64, ClOpen<M>>,
}

type State<A> = ClState<<A as Protocol>::State, <A as Protocol>::Msg>;

impl<A: Recordable> ChandyLamport<A> {
    fn forward(&self, fx: Vec<Effect<A>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, ClMsg::App(msg)),
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
        self.forward(fx, ctx);
    }

    /// Records every snapshot up to `k` not recorded yet.
    fn record_through(&self, s: &mut State<A>, k: u64, ctx: &mut Ctx<'_, Self>) {
        while s.epoch < k {
            let snap = s.epoch + 1;
            self.record(s, snap, ctx);
        }
    }

    fn record(&self, s: &mut State<A>, snap: u64, ctx: &mut Ctx<'_, Self>) {
        let (me, n) = (ctx.id(), ctx.n());
        s.epoch = snap;
        let mut waiting = vec![true; n];
        waiting[me.index()] = false;
        if let Some(u) = self.unwatched(me, n) {
            waiting[u.index()] = false;
        }
        s.open.insert(
            snap,
            ClOpen {
                waiting,
                channels: vec![Vec::new(); n],
            },
        );
        ctx.indicate(SnapshotInd::Recorded {
            snap,
            state: self.app.record(&s.app),
        });
        let skipped = self.skipped(me, n);
        for to in NodeId::all(n) {
            if to != me && Some(to) != skipped {
                ctx.send(to, ClMsg::Marker(snap));
            }
        }
        self.try_complete(s, snap, ctx);
    }

    fn try_complete(&self, s: &mut State<A>, snap: u64, ctx: &mut Ctx<'_, Self>) {
        let done = s
            .open
            .get(&snap)
            .is_some_and(|o| o.waiting.iter().all(|w| !w));
        if !done {
            return;
        }
        let o = s.open.remove(&snap).expect("checked above");
        ctx.indicate(super::completion(snap, ctx.id(), o.channels));
    }
}

impl<A: Recordable> Protocol for ChandyLamport<A> {
    type Msg = ClMsg<A::Msg>;
    type Timer = SnapTimer<A::Timer>;
    type Request = SnapRequest<A::Request>;
    type Indication = LayerInd<A>;
    type State = State<A>;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> State<A> {
        let mut fx = Vec::new();
        let app = self.app.init(&mut ctx.fork(&mut fx));
        self.forward(fx, ctx);
        if let Some(sc) = self.schedule.filter(|sc| sc.runs_at(ctx.id())) {
            ctx.set_timer(SnapTimer::Snapshot, sc.delay_until(1, ctx.now()));
        }
        ClState {
            app,
            epoch: 0,
            open: BTreeMap::new(),
        }
    }

    fn on_message(&self, s: &mut State<A>, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() {
            return; // not a channel of this graph
        }
        match msg {
            ClMsg::App(m) => {
                for o in s.open.values_mut() {
                    if o.waiting[from.index()] {
                        o.channels[from.index()].push(m.clone());
                    }
                }
                self.run_app(s, ctx, |a, st, c| a.on_message(st, from, m, c));
            }
            ClMsg::Marker(k) => {
                if k == 0 {
                    return;
                }
                self.record_through(s, k, ctx);
                if let Some(o) = s.open.get_mut(&k) {
                    o.waiting[from.index()] = false;
                }
                self.try_complete(s, k, ctx);
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
                ctx.set_timer(SnapTimer::Snapshot, sc.period);
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

impl<A: Recordable> SnapshotLayer for ChandyLamport<A> {
    type App = A;

    fn app_message(msg: &Self::Msg) -> Option<&A::Msg> {
        match msg {
            ClMsg::App(m) => Some(m),
            ClMsg::Marker(_) => None,
        }
    }

    fn control_snapshot(msg: &Self::Msg) -> Option<u64> {
        match msg {
            ClMsg::Marker(k) => Some(*k),
            ClMsg::App(_) => None,
        }
    }

    fn snapshot_indication(ind: &Self::Indication) -> &LayerInd<A> {
        ind
    }

    fn app(&self) -> &A {
        &self.app
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::properties::{audit_conserved, snapshot_properties};
    use crate::snapshot::{Bank, BankRequest, LaiYang, Transfer};
    use synod_core::{check_all, Duration, Instant, Trace};
    use synod_sim::{Latency, Scripted, SimConfig, Simulation, Timing};

    /// Two banks of 1000, FIFO links of exactly 10ms. n0 sends 30 at 0ms, initiates at 5ms;
    /// n1 sends 50 at 8ms. By hand: n0 records 970 at 5ms; the 30 reaches n1 at 10ms; n0's
    /// marker reaches n1 at 15ms, so n1 records 1000 + 30 − 50 = 980 and takes n0->n1 as
    /// empty; the 50 reaches n0 at 18ms, after its record and before n1's marker (25ms): the
    /// channel n1->n0 holds it. Total 970 + 980 + 50 = 2000.
    fn two_banks<P>(layer: P) -> Trace<P>
    where
        P: Protocol<Request = SnapRequest<BankRequest>>,
    {
        let mut cfg = SimConfig::new(2, 1);
        cfg.timing = Timing::Synchronous {
            delta: Duration::from_millis(10),
        };
        cfg.network.latency = Latency::Constant(Duration::from_millis(10));
        cfg.network.fifo = true;
        cfg.until = Instant::from_secs(1);
        let script = Scripted(vec![
            (
                Instant::ZERO,
                NodeId(0),
                SnapRequest::App(BankRequest::Transfer {
                    to: NodeId(1),
                    amount: 30,
                }),
            ),
            (Instant::from_millis(5), NodeId(0), SnapRequest::Start),
            (
                Instant::from_millis(8),
                NodeId(1),
                SnapRequest::App(BankRequest::Transfer {
                    to: NodeId(0),
                    amount: 50,
                }),
            ),
        ]);
        Simulation::new(layer, cfg)
            .unwrap()
            .with_workload(script)
            .run()
            .trace
    }

    fn hand_worked<P>(layer: P)
    where
        P: SnapshotLayer<App = Bank, Request = SnapRequest<BankRequest>>,
    {
        let t = two_banks(layer);
        let mut recorded = Vec::new();
        let mut complete = Vec::new();
        for (_, time, node, ind) in t.indications() {
            match P::snapshot_indication(ind) {
                SnapshotInd::Recorded { snap, state } => recorded.push((time, node, *snap, *state)),
                SnapshotInd::Complete { snap, channels } => {
                    complete.push((time, node, *snap, channels.clone()))
                }
                SnapshotInd::App(()) => {}
            }
        }
        assert_eq!(
            recorded,
            vec![
                (Instant::from_millis(5), NodeId(0), 1, 970),
                (Instant::from_millis(15), NodeId(1), 1, 980),
            ]
        );
        let fifty = Transfer { seq: 0, amount: 50 };
        assert_eq!(
            complete,
            vec![
                (
                    Instant::from_millis(15),
                    NodeId(1),
                    1,
                    vec![(NodeId(0), vec![])]
                ),
                (
                    Instant::from_millis(25),
                    NodeId(0),
                    1,
                    vec![(NodeId(1), vec![fifty])]
                ),
            ]
        );
        let a = audit_conserved(&t, &Bank::on_request(1000));
        assert_eq!(a.snapshots.len(), 1);
        let s = &a.snapshots[0];
        assert_eq!(s.recorded_total, Some(2000));
        assert_eq!(
            s.control_messages, 2,
            "one marker/count per directed channel"
        );
        assert!(s.issues.is_empty(), "{:?}", s.issues);
        for r in check_all(&snapshot_properties(Bank::on_request(1000)), &t) {
            assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
        }
    }

    #[test]
    fn chandy_lamport_captures_the_message_in_transit_by_hand() {
        hand_worked(ChandyLamport::new(Bank::on_request(1000)));
    }

    #[test]
    fn lai_yang_captures_the_message_in_transit_by_hand() {
        hand_worked(LaiYang::new(Bank::on_request(1000)));
    }
}
