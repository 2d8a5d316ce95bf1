//! Uniform reliable broadcast: All-Ack (with the perfect detector P) and Majority-Ack (no
//! detector, a majority of correct processes).
//!
//! Both add **uniform agreement** to reliable broadcast: if *any* process delivers m, even one
//! that crashes right after, every correct process delivers m. The trick is to deliver only
//! once enough processes are known to hold m that one of them is correct and will keep
//! relaying it: every process relays a message the first time it sees it (so seeing m relayed
//! by q is q's *ack*), and delivers it when
//!
//! - **[`AllAckUrb`]** (CGR "All-Ack Uniform Reliable Broadcast"): every process not detected
//!   as crashed by P has acked m. Model: crash-stop, perfect links, **P** (the heartbeat
//!   detector of [`crate::fd`], embedded by delegation: [`UrbMsg::Fd`], [`UrbTimer::Fd`]), so
//!   synchrony. Any number of crashes. Strong accuracy matters: a false suspicion of a process
//!   that holds the only copy would let others deliver without a correct holder.
//! - **[`MajorityAckUrb`]** (CGR "Majority-Ack Uniform Reliable Broadcast"): more than n/2
//!   processes have acked m. Model: asynchronous, crash-stop, perfect links, **n > 2f** (a
//!   majority is correct): any majority contains a correct process that relayed m to everybody.
//!   No detector. If half the processes or more crash, it may never deliver (validity needs the
//!   majority), but it never delivers non-uniformly.
//!
//! Cost: every process relays once, n(n − 1) messages per broadcast (like eager rb); latency
//! two message delays (the relays are the acks) instead of one, and All-Ack waits for the
//! slowest live process.
//!
//! **Properties** ([`super::properties::urb_properties`]): validity, no duplication, no
//! creation, agreement, uniform agreement (URB1–URB4).
//!
//! **Canary.** [`MajorityAckUrb::canary_deliver_early`] delivers on first sight, before any
//! majority acked: it is eager reliable broadcast again, and a sender that delivers its own
//! message and crashes before its sends leave breaks uniform agreement.
//!
//! **Read:** CGR §3.4 (uniform reliable broadcast: "All-Ack Uniform Reliable Broadcast",
//! "Majority-Ack Uniform Reliable Broadcast"); Hadzilacos and Toueg 1994, §3 (uniform
//! properties); AW §8.2.

use super::{next_id, BcastInd, BcastReq, Data, MsgId};
use crate::fd::{FdIndication, HbMsg, HbState, HbTimer, Heartbeat};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{Ctx, Duration, Effect, NodeId, Protocol};

/// The uniform broadcasts' messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UrbMsg {
    /// A broadcast message (first sent, or relayed: either way an ack from its sender).
    Data(Data),
    /// A message of the embedded failure detector (All-Ack only).
    Fd(HbMsg),
}

impl UrbMsg {
    /// True for [`UrbMsg::Data`] (the broadcast's own cost, heartbeats aside).
    pub fn is_data(&self) -> bool {
        matches!(self, UrbMsg::Data(_))
    }
}

/// All-Ack's timers: only the embedded detector's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UrbTimer {
    /// A timer of the embedded failure detector.
    Fd(HbTimer),
}

/// The part of a uniform broadcast node's state both variants share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UrbCore {
    /// Broadcasts made so far.
    pub seq: u64,
    /// Messages seen (and relayed) but not delivered yet: payload and who acked them.
    pub pending: BTreeMap<MsgId, (u64, BTreeSet<NodeId>)>,
    /// Messages delivered.
    pub delivered: BTreeSet<MsgId>,
    /// Malformed messages ignored.
    pub ignored: u64,
}

impl UrbCore {
    /// `m` arrived from `from` (or is this node's own broadcast, `from` = itself): count the
    /// ack, and relay `m` the first time it is seen. Returns true if `m` is pending.
    fn see<P: Protocol>(
        &mut self,
        m: Data,
        from: NodeId,
        ctx: &mut Ctx<'_, P>,
        wrap: fn(Data) -> P::Msg,
    ) -> bool {
        if self.delivered.contains(&m.id) {
            return false;
        }
        let me = ctx.id();
        let entry = self.pending.entry(m.id).or_insert_with(|| {
            ctx.broadcast(wrap(m));
            (m.payload, BTreeSet::from([me]))
        });
        entry.1.insert(from);
        true
    }

    /// Delivers every pending message `ready` accepts, in id order.
    fn deliver_ready<P: Protocol<Indication = BcastInd>>(
        &mut self,
        ctx: &mut Ctx<'_, P>,
        ready: impl Fn(&BTreeSet<NodeId>) -> bool,
    ) {
        let ids: Vec<MsgId> = self
            .pending
            .iter()
            .filter(|(_, (_, acks))| ready(acks))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let (payload, _) = self.pending.remove(&id).expect("listed as pending");
            self.delivered.insert(id);
            ctx.indicate(BcastInd::Deliver { id, payload });
        }
    }

    fn invariants(&self) {
        debug_assert!(
            self.pending.keys().all(|id| !self.delivered.contains(id)),
            "a delivered message is still pending"
        );
    }
}

/// All-Ack uniform reliable broadcast over the embedded perfect detector P.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllAckUrb {
    /// The embedded failure detector (P: [`Heartbeat::perfect`]).
    pub fd: Heartbeat,
}

impl AllAckUrb {
    /// All-Ack over P with heartbeats every `period`, suspecting after `timeout` of silence
    /// (correct under synchrony when `timeout > period + Δ`).
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn new(period: Duration, timeout: Duration) -> AllAckUrb {
        AllAckUrb {
            fd: Heartbeat::perfect(period, timeout),
        }
    }
}

/// An All-Ack node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllAckState {
    /// Pending and delivered messages.
    pub core: UrbCore,
    /// Processes detected as crashed.
    pub crashed: BTreeSet<NodeId>,
    /// The embedded detector's state.
    pub fd: HbState,
}

impl AllAckUrb {
    fn run_fd(&self, s: &mut AllAckState, fx: Vec<Effect<Heartbeat>>, ctx: &mut Ctx<'_, Self>) {
        let mut changed = false;
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, UrbMsg::Fd(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(UrbTimer::Fd(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(UrbTimer::Fd(timer)),
                Effect::Persist => {}
                Effect::Indicate(FdIndication::Suspect(q)) => changed |= s.crashed.insert(q),
                Effect::Indicate(FdIndication::Restore(_)) => {}
            }
        }
        if changed {
            self.deliver(s, ctx);
        }
    }

    /// Delivers every pending message acked by every process not detected as crashed.
    fn deliver(&self, s: &mut AllAckState, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.n();
        let crashed = &s.crashed;
        s.core.deliver_ready(ctx, |acks| {
            NodeId::all(n).all(|q| crashed.contains(&q) || acks.contains(&q))
        });
    }
}

impl Protocol for AllAckUrb {
    type Msg = UrbMsg;
    type Timer = UrbTimer;
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = AllAckState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> AllAckState {
        let mut fx = Vec::new();
        let fd = self.fd.init(&mut ctx.fork(&mut fx));
        let mut s = AllAckState {
            fd,
            ..AllAckState::default()
        };
        self.run_fd(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut AllAckState, from: NodeId, msg: UrbMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() {
            s.core.ignored += 1;
            return;
        }
        match msg {
            UrbMsg::Fd(m) => {
                let mut fx = Vec::new();
                self.fd
                    .on_message(&mut s.fd, from, m, &mut ctx.fork(&mut fx));
                self.run_fd(s, fx, ctx);
            }
            UrbMsg::Data(m) if m.well_formed(ctx.n()) => {
                if s.core.see(m, from, ctx, UrbMsg::Data) {
                    self.deliver(s, ctx);
                }
            }
            UrbMsg::Data(_) => s.core.ignored += 1,
        }
    }

    fn on_timer(&self, s: &mut AllAckState, timer: UrbTimer, ctx: &mut Ctx<'_, Self>) {
        let UrbTimer::Fd(t) = timer;
        let mut fx = Vec::new();
        self.fd.on_timer(&mut s.fd, t, &mut ctx.fork(&mut fx));
        self.run_fd(s, fx, ctx);
    }

    fn on_request(&self, s: &mut AllAckState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let m = Data {
            id: next_id(&mut s.core.seq, ctx.id()),
            payload,
        };
        let me = ctx.id();
        s.core.see(m, me, ctx, UrbMsg::Data);
        self.deliver(s, ctx);
    }

    fn invariants(&self, s: &AllAckState) {
        s.core.invariants();
    }
}

/// Majority-Ack uniform reliable broadcast (no detector; needs n > 2f).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MajorityAckUrb {
    /// `false` for the real protocol; `true` is the CANARY that delivers on first sight.
    pub early: bool,
}

impl MajorityAckUrb {
    /// Majority-Ack uniform reliable broadcast.
    pub fn new() -> MajorityAckUrb {
        MajorityAckUrb { early: false }
    }

    /// CANARY: delivers a message as soon as it sees it, before a majority acked it (eager
    /// reliable broadcast in disguise): not uniform.
    pub fn canary_deliver_early() -> MajorityAckUrb {
        MajorityAckUrb { early: true }
    }

    fn deliver(&self, s: &mut UrbCore, ctx: &mut Ctx<'_, Self>) {
        let need = if self.early { 1 } else { ctx.n() / 2 + 1 };
        s.deliver_ready(ctx, |acks| acks.len() >= need);
    }
}

impl Protocol for MajorityAckUrb {
    type Msg = UrbMsg;
    type Timer = ();
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = UrbCore;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> UrbCore {
        UrbCore::default()
    }

    fn on_message(&self, s: &mut UrbCore, from: NodeId, msg: UrbMsg, ctx: &mut Ctx<'_, Self>) {
        match msg {
            UrbMsg::Data(m)
                if from.index() < ctx.n() && from != ctx.id() && m.well_formed(ctx.n()) =>
            {
                if s.see(m, from, ctx, UrbMsg::Data) {
                    self.deliver(s, ctx);
                }
            }
            _ => s.ignored += 1,
        }
    }

    fn on_timer(&self, _s: &mut UrbCore, _t: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut UrbCore, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let m = Data {
            id: next_id(&mut s.seq, ctx.id()),
            payload,
        };
        let me = ctx.id();
        s.see(m, me, ctx, UrbMsg::Data);
        self.deliver(s, ctx);
    }

    fn invariants(&self, s: &UrbCore) {
        s.invariants();
    }
}
