//! Regular reliable broadcast: Eager Reliable Broadcast (relay everything) and Lazy Reliable
//! Broadcast (relay only what a crashed process sent, told by the perfect detector P).
//!
//! Both add **agreement** to best-effort broadcast: if a correct process delivers m, every
//! correct process delivers m. Neither is *uniform*: a process may deliver m and crash before
//! anyone else got it (the sender delivers its own message at once, then crashes part-way
//! through its sends to nobody), and then no correct process ever delivers m.
//!
//! **[`EagerRb`]** (CGR algorithm "Eager Reliable Broadcast"). A process delivers a message the
//! first time it sees it (its own broadcast, or a `Data` from anybody) and relays it to every
//! other process. Whoever delivers m has sent it to everybody, so if a correct process delivers
//! m every correct process receives it. Cost: every process that gets m sends it n − 1 times,
//! n(n − 1) messages per broadcast, crash or no crash; latency one message delay. Model:
//! asynchronous, crash-stop, perfect links; no failure detector.
//!
//! **[`LazyRb`]** (CGR algorithm "Lazy Reliable Broadcast"). A process delivers a message the
//! first time it sees it and remembers from whom it got it (`from[p]`); it relays only when
//! the process it got it from has crashed: at once if that process is already detected, or
//! when the perfect detector P detects it (then everything got from it). Without crashes a
//! broadcast costs n − 1 messages, like best effort; each crash costs up to n − 1 relays per
//! message got from the crashed process. Model: crash-stop, perfect links, and **P**: strong
//! completeness makes the relay happen, strong accuracy keeps relays for real crashes only (a
//! false suspicion would only cost messages here). P is the heartbeat detector of
//! [`crate::fd`] ([`Heartbeat::perfect`]), embedded by delegation as Multi-Paxos embeds Ω:
//! its heartbeats travel as [`LazyMsg::Fd`], its timers as [`LazyTimer::Fd`], and its
//! `Suspect` indications stay inside. So the whole protocol needs *synchrony* (P's timeout
//! above period + Δ).
//!
//! **Properties** ([`super::properties::rb_properties`]): validity, no duplication, no
//! creation, agreement (RB1–RB4). Not uniform agreement (the catalog's `eager-rb-as-urb`
//! judges eager rb as uniform and catches it).
//!
//! **Read:** CGR §3.3 (regular reliable broadcast: "Lazy Reliable Broadcast", "Eager Reliable
//! Broadcast"), §2.6 (P); Hadzilacos and Toueg 1994, §3 (reliable broadcast by relay);
//! AW §8.2.

use super::{deliver_new, next_id, BcastInd, BcastReq, Data, MsgId};
use crate::fd::{FdIndication, HbMsg, HbState, HbTimer, Heartbeat};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{Ctx, Duration, Effect, NodeId, Protocol};

/// Eager reliable broadcast: relay every message on first delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EagerRb;

/// An eager reliable-broadcast node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EagerRbState {
    /// Broadcasts made so far.
    pub seq: u64,
    /// Messages delivered.
    pub delivered: BTreeSet<MsgId>,
    /// Malformed messages ignored.
    pub ignored: u64,
}

impl Protocol for EagerRb {
    type Msg = Data;
    type Timer = ();
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = EagerRbState;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> EagerRbState {
        EagerRbState::default()
    }

    fn on_message(&self, s: &mut EagerRbState, from: NodeId, msg: Data, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || !msg.well_formed(ctx.n()) {
            s.ignored += 1;
            return;
        }
        if deliver_new(&mut s.delivered, msg, ctx) {
            ctx.broadcast(msg);
        }
    }

    fn on_timer(&self, _s: &mut EagerRbState, _t: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut EagerRbState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let msg = Data {
            id: next_id(&mut s.seq, ctx.id()),
            payload,
        };
        deliver_new(&mut s.delivered, msg, ctx);
        ctx.broadcast(msg);
    }
}

/// Lazy reliable broadcast over the embedded perfect detector P.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LazyRb {
    /// The embedded failure detector (P: [`Heartbeat::perfect`]).
    pub fd: Heartbeat,
}

impl LazyRb {
    /// Lazy reliable broadcast over P with heartbeats every `period`, suspecting after
    /// `timeout` of silence (correct under synchrony when `timeout > period + Δ`).
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn new(period: Duration, timeout: Duration) -> LazyRb {
        LazyRb {
            fd: Heartbeat::perfect(period, timeout),
        }
    }
}

/// Lazy reliable broadcast's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LazyMsg {
    /// A broadcast message (first sent, or relayed).
    Data(Data),
    /// A message of the embedded failure detector.
    Fd(HbMsg),
}

impl LazyMsg {
    /// True for [`LazyMsg::Data`] (the broadcast's own cost, heartbeats aside).
    pub fn is_data(&self) -> bool {
        matches!(self, LazyMsg::Data(_))
    }
}

/// Lazy reliable broadcast's timers: only the embedded detector's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LazyTimer {
    /// A timer of the embedded failure detector.
    Fd(HbTimer),
}

/// A lazy reliable-broadcast node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LazyRbState {
    /// Broadcasts made so far.
    pub seq: u64,
    /// Messages delivered.
    pub delivered: BTreeSet<MsgId>,
    /// Per process: the messages first got from it (to relay if it crashes).
    pub from: BTreeMap<NodeId, Vec<Data>>,
    /// Processes detected as crashed.
    pub crashed: BTreeSet<NodeId>,
    /// The embedded detector's state.
    pub fd: HbState,
    /// Malformed messages ignored.
    pub ignored: u64,
}

impl LazyRb {
    /// Applies the embedded detector's effects; a suspicion relays what came from the suspect.
    fn run_fd(&self, s: &mut LazyRbState, fx: Vec<Effect<Heartbeat>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, LazyMsg::Fd(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(LazyTimer::Fd(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(LazyTimer::Fd(timer)),
                Effect::Persist => {}
                Effect::Indicate(FdIndication::Suspect(q)) => {
                    if s.crashed.insert(q) {
                        for m in s.from.remove(&q).unwrap_or_default() {
                            ctx.broadcast(LazyMsg::Data(m));
                        }
                    }
                }
                // P never revokes a suspicion; a detector that did would change nothing here.
                Effect::Indicate(FdIndication::Restore(_)) => {}
            }
        }
    }
}

impl Protocol for LazyRb {
    type Msg = LazyMsg;
    type Timer = LazyTimer;
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = LazyRbState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> LazyRbState {
        let mut fx = Vec::new();
        let fd = self.fd.init(&mut ctx.fork(&mut fx));
        let mut s = LazyRbState {
            fd,
            ..LazyRbState::default()
        };
        self.run_fd(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut LazyRbState, from: NodeId, msg: LazyMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() {
            s.ignored += 1;
            return;
        }
        match msg {
            LazyMsg::Fd(m) => {
                let mut fx = Vec::new();
                self.fd
                    .on_message(&mut s.fd, from, m, &mut ctx.fork(&mut fx));
                self.run_fd(s, fx, ctx);
            }
            LazyMsg::Data(m) => {
                if !m.well_formed(ctx.n()) {
                    s.ignored += 1;
                    return;
                }
                if deliver_new(&mut s.delivered, m, ctx) {
                    if s.crashed.contains(&from) {
                        ctx.broadcast(LazyMsg::Data(m));
                    } else {
                        s.from.entry(from).or_default().push(m);
                    }
                }
            }
        }
    }

    fn on_timer(&self, s: &mut LazyRbState, timer: LazyTimer, ctx: &mut Ctx<'_, Self>) {
        let LazyTimer::Fd(t) = timer;
        let mut fx = Vec::new();
        self.fd.on_timer(&mut s.fd, t, &mut ctx.fork(&mut fx));
        self.run_fd(s, fx, ctx);
    }

    fn on_request(&self, s: &mut LazyRbState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        let m = Data {
            id: next_id(&mut s.seq, ctx.id()),
            payload,
        };
        deliver_new(&mut s.delivered, m, ctx);
        ctx.broadcast(LazyMsg::Data(m));
    }
}
