//! SWIM: scalable failure detection and membership by random probing and gossip.
//!
//! **Algorithm.** Time is divided into protocol periods (a periodic `Tick` timer; all members
//! start at time 0). In each period, every member:
//!
//! 1. picks a probe target **uniformly at random** (through [`Ctx::choose`]) among the other
//!    members it believes alive or suspect, and sends it `Ping` (a member that believes all
//!    others dead picks among them instead of falling silent);
//! 2. if no `Ack` came back within `ping_timeout`, emits [`SwimIndication::ProbeFailed`] and asks
//!    `indirect` other random members (alive or suspect, without repetition) to probe the target
//!    for it (`PingReq`): each relays an `IndirectPing` to the target, which answers the relay
//!    with `IndirectAck`, which the relay forwards to the prober as an `Ack` (relays keep no
//!    state; the prober matches acks by its probe's sequence number);
//! 3. if no ack, direct or indirect, arrived by the end of the period: with `suspicion: Some(d)`
//!    marks the target *suspect* (emits [`SwimIndication::Suspect`]) and gossips it, then
//!    *confirms* it dead ([`SwimIndication::Confirm`]) if the suspicion is not refuted within `d`;
//!    with `suspicion: None` confirms it at once (the original SWIM without the suspicion
//!    mechanism).
//!
//! **Incarnations.** Each member has an incarnation number, which only it increments. Views are
//! updated by [`Update`]s `(member, incarnation, status)` compared lexicographically by
//! `(incarnation, status)` with `Alive < Suspect < Dead`: an update is applied iff it is greater
//! than the current view. So `Alive(i)` overrides `Suspect(j)` and `Dead(j)` only if `i > j`;
//! `Suspect(i)` overrides `Alive(j)` if `i ≥ j`; `Dead(i)` overrides both if `i ≥ j`. A member
//! that hears that it is suspected or dead with an incarnation at least its own *refutes*: it
//! takes the next incarnation and gossips `Alive`; hearing a stale accusation (below its
//! incarnation) it gossips its current `Alive` afresh, since someone missed the refutation. A
//! falsely confirmed member thus comes back, and the others emit [`SwimIndication::Alive`] for
//! it (`Restore` in [`FdView`]). (In the paper a confirmed member is dropped from the group and
//! must join again; here it keeps its id and comes back by refuting, which is what lets one
//! measure how long false confirmations last.)
//!
//! **Dissemination.** Updates are piggybacked on every message (Ping, Ack, PingReq and the
//! indirect pair): each member keeps a bounded buffer with at most one update per member (the
//! newest) and piggybacks at most [`MAX_PIGGYBACK`] of them per message, least-sent first; an
//! update is dropped after ⌈3·log2(n + 1)⌉ transmissions. Every member that learns something new
//! gossips it in turn (infection style). A message to a member also carries, first, the
//! sender's view of that member if it is suspect or dead, so that a wrongly suspected member
//! hears about it as soon as anyone talks to it.
//!
//! **Model.** Crash-stop processes, a fair-loss network (loss, reordering), static membership
//! of `n` members. Messages per member per period are O(1) in expectation (a ping, the acks of
//! the pings it receives, and `4·indirect` more only when a probe fails), so the whole group
//! sends O(n) per period, unlike all-to-all heartbeats (O(n²)).
//!
//! **Properties.** Read through [`FdView`] (`Confirm(q)` ↦ `Suspect(q)`, `Alive(q)` ↦
//! `Restore(q)`, which only changes anything if q had been confirmed; `ProbeFailed` and `Suspect`
//! ↦ nothing):
//! - *strong completeness*: a crashed member is probed by someone within a few periods in
//!   expectation, suspected, and its confirmation gossiped; every member that misses the gossip
//!   probes it itself eventually, so every correct member confirms it
//!   ([`super::properties::strong_completeness`]);
//! - accuracy is probabilistic: with loss, a probe of a live member fails when the direct and
//!   all indirect paths lose a message; the suspicion mechanism lets the member refute before
//!   it is confirmed, so false confirmations become rare (measure with
//!   [`super::properties::false_suspicions`]). Under partial synchrony without loss, once
//!   `ping_timeout` exceeds the round trip, no new mistake happens and old ones are refuted:
//!   eventual strong accuracy.
//!
//! **Canary.** [`Swim::canary_no_refutation`]: members ignore what they hear about themselves,
//! so every suspicion becomes a confirmation that is never revoked.
//!
//! **Read:** Das, Gupta and Motivala, "SWIM: scalable weakly-consistent infection-style process
//! group membership protocol", DSN 2002 (§3 the basic failure detector; §4.1 infection-style
//! dissemination; §4.2 suspicion and incarnations; §4.3 round-robin target selection, which we
//! do *not* use here: targets are drawn uniformly at random, as in §3).

use super::{FdIndication, FdView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Duration, NodeId, Protocol};

/// The most updates piggybacked on one message.
pub const MAX_PIGGYBACK: usize = 6;

/// The SWIM membership and failure-detection protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Swim {
    /// The protocol period: one probe per member per period.
    pub period: Duration,
    /// How long to wait for a direct ack before asking for indirect probes (below `period`).
    pub ping_timeout: Duration,
    /// How many members to ask for an indirect probe (k in the paper).
    pub indirect: usize,
    /// How long a suspicion may stand before it is confirmed; `None` confirms at once.
    pub suspicion: Option<Duration>,
    /// `true` for the real protocol; `false` is the CANARY whose members never refute a
    /// suspicion about themselves.
    pub refute: bool,
}

impl Swim {
    /// SWIM with period `period`, ping timeout period/5, 3 indirect probes and a suspicion
    /// timeout of three periods.
    ///
    /// # Panics
    /// If `period` is below 5 ns.
    pub fn new(period: Duration) -> Swim {
        assert!(
            period.as_nanos() >= 5,
            "Swim: the period must be at least 5ns"
        );
        Swim {
            period,
            ping_timeout: Duration(period.as_nanos() / 5),
            indirect: 3,
            suspicion: Some(period.saturating_mul(3)),
            refute: true,
        }
    }

    /// CANARY: SWIM whose members ignore suspicions about themselves (no incarnation
    /// refutation), so every suspicion of a live member ends in a false confirmation that is
    /// never revoked.
    ///
    /// # Panics
    /// If `period` is below 5 ns.
    pub fn canary_no_refutation(period: Duration) -> Swim {
        Swim {
            refute: false,
            ..Swim::new(period)
        }
    }
}

/// A member's status in another member's view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Believed alive.
    Alive,
    /// Suspected, not yet confirmed.
    Suspect,
    /// Confirmed dead.
    Dead,
}

/// A membership update, gossiped piggyback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Update {
    /// The member the update is about.
    pub node: NodeId,
    /// Its incarnation number.
    pub incarnation: u64,
    /// Its status.
    pub status: Status,
}

/// SWIM's messages; each carries piggybacked updates.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SwimMsg {
    /// A direct probe.
    Ping {
        /// The prober's probe number.
        seq: u64,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// The answer to a probe (direct, or forwarded by a relay).
    Ack {
        /// The probe number being answered.
        seq: u64,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// "Please probe `target` for me."
    PingReq {
        /// The prober's probe number.
        seq: u64,
        /// The member to probe.
        target: NodeId,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// A relay's probe on behalf of `origin`.
    IndirectPing {
        /// The origin's probe number.
        seq: u64,
        /// The member that asked for the probe.
        origin: NodeId,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// The target's answer to a relay, to be forwarded to `origin`.
    IndirectAck {
        /// The origin's probe number.
        seq: u64,
        /// The member that asked for the probe.
        origin: NodeId,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
}

impl SwimMsg {
    /// The message's kind: `ping`, `ack`, `ping-req`, `indirect-ping` or `indirect-ack`.
    pub fn kind(&self) -> &'static str {
        match self {
            SwimMsg::Ping { .. } => "ping",
            SwimMsg::Ack { .. } => "ack",
            SwimMsg::PingReq { .. } => "ping-req",
            SwimMsg::IndirectPing { .. } => "indirect-ping",
            SwimMsg::IndirectAck { .. } => "indirect-ack",
        }
    }

    /// The piggybacked updates.
    pub fn updates(&self) -> &[Update] {
        match self {
            SwimMsg::Ping { updates, .. }
            | SwimMsg::Ack { updates, .. }
            | SwimMsg::PingReq { updates, .. }
            | SwimMsg::IndirectPing { updates, .. }
            | SwimMsg::IndirectAck { updates, .. } => updates,
        }
    }

    fn take_updates(&mut self) -> Vec<Update> {
        match self {
            SwimMsg::Ping { updates, .. }
            | SwimMsg::Ack { updates, .. }
            | SwimMsg::PingReq { updates, .. }
            | SwimMsg::IndirectPing { updates, .. }
            | SwimMsg::IndirectAck { updates, .. } => std::mem::take(updates),
        }
    }
}

/// SWIM's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SwimTimer {
    /// The start of a protocol period.
    Tick,
    /// The direct ping of this period went unanswered for `ping_timeout`.
    PingTimeout,
    /// A suspicion about this member ran out: confirm it.
    Suspicion(NodeId),
}

/// What SWIM tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SwimIndication {
    /// My direct probe of this member got no ack in time (indirect probes follow).
    ProbeFailed(NodeId),
    /// I now suspect this member.
    Suspect(NodeId),
    /// I now consider this member dead.
    Confirm(NodeId),
    /// This member, which I suspected or considered dead, refuted: it is alive.
    Alive(NodeId),
}

/// One member's view of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// Its status.
    pub status: Status,
    /// The highest incarnation heard of.
    pub incarnation: u64,
}

/// The probe of the current period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    /// The member being probed.
    pub target: NodeId,
    /// The probe's number (acks carry it).
    pub seq: u64,
    /// Did an ack (direct or forwarded) arrive?
    pub acked: bool,
}

/// An update waiting in the dissemination buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gossip {
    /// The update.
    pub update: Update,
    /// How many messages carried it so far.
    pub sent: u32,
}

/// A SWIM member's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SwimState {
    /// This member's own incarnation number.
    pub incarnation: u64,
    /// The view of every member, indexed by id (the entry for oneself mirrors `incarnation`).
    pub members: Vec<Member>,
    /// The probe of the current period, if any.
    pub probe: Option<Probe>,
    /// The last probe number used.
    pub next_seq: u64,
    /// The dissemination buffer: the newest update about each member, still to be gossiped.
    pub gossip: BTreeMap<NodeId, Gossip>,
}

impl SwimState {
    /// The members this one currently considers dead, in id order.
    pub fn dead(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.status == Status::Dead)
            .map(|(i, _)| NodeId(i as u32))
    }
}

/// How many times an update is piggybacked: ⌈3·log2(n + 1)⌉, computed exactly as the least m
/// with 2^m ≥ (n + 1)³.
fn retransmit_limit(n: usize) -> u32 {
    let cube = (n as u128 + 1).pow(3);
    let mut m = 0u32;
    while m < 127 && (1u128 << m) < cube {
        m += 1;
    }
    m.max(1)
}

impl Swim {
    /// Other members that are not `except` and not believed dead, in id order.
    fn candidates(s: &SwimState, me: NodeId, except: Option<NodeId>) -> Vec<NodeId> {
        s.members
            .iter()
            .enumerate()
            .map(|(i, m)| (NodeId(i as u32), m))
            .filter(|(q, m)| *q != me && Some(*q) != except && m.status != Status::Dead)
            .map(|(q, _)| q)
            .collect()
    }

    /// The updates to piggyback on a message to `to`.
    fn piggyback(&self, s: &mut SwimState, to: NodeId, n: usize) -> Vec<Update> {
        let mut out = Vec::new();
        if let Some(m) = s.members.get(to.index()) {
            if m.status != Status::Alive {
                out.push(Update {
                    node: to,
                    incarnation: m.incarnation,
                    status: m.status,
                });
            }
        }
        let mut order: Vec<(u32, NodeId)> = s.gossip.iter().map(|(q, g)| (g.sent, *q)).collect();
        order.sort_unstable();
        let limit = retransmit_limit(n);
        for (_, q) in order {
            if out.len() >= MAX_PIGGYBACK {
                break;
            }
            let Some(g) = s.gossip.get_mut(&q) else {
                continue;
            };
            if !out.contains(&g.update) {
                out.push(g.update);
            }
            g.sent += 1;
            if g.sent >= limit {
                s.gossip.remove(&q);
            }
        }
        out
    }

    /// Sends `msg` (its updates filled in here) to `to`.
    fn send(&self, s: &mut SwimState, to: NodeId, mut msg: SwimMsg, ctx: &mut Ctx<'_, Self>) {
        let ups = self.piggyback(s, to, ctx.n());
        match &mut msg {
            SwimMsg::Ping { updates, .. }
            | SwimMsg::Ack { updates, .. }
            | SwimMsg::PingReq { updates, .. }
            | SwimMsg::IndirectPing { updates, .. }
            | SwimMsg::IndirectAck { updates, .. } => *updates = ups,
        }
        ctx.send(to, msg);
    }

    fn enqueue(s: &mut SwimState, update: Update) {
        s.gossip.insert(update.node, Gossip { update, sent: 0 });
    }

    /// Applies an update heard from someone (or decided locally), emitting indications and
    /// gossiping it further if it is news.
    fn apply(&self, s: &mut SwimState, mut u: Update, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let q = u.node.index();
        if q >= s.members.len() {
            return; // about a member that does not exist: ignore
        }
        if u.node == me {
            if self.refute && u.status != Status::Alive {
                if u.incarnation >= s.incarnation {
                    s.incarnation = u.incarnation.saturating_add(1);
                    s.members[q] = Member {
                        status: Status::Alive,
                        incarnation: s.incarnation,
                    };
                }
                // A stale accusation (below our incarnation) means someone missed our last
                // refutation, which may have stopped being gossiped: gossip it afresh.
                Swim::enqueue(
                    s,
                    Update {
                        node: me,
                        incarnation: s.incarnation,
                        status: Status::Alive,
                    },
                );
            }
            return;
        }
        if u.status == Status::Suspect && self.suspicion.is_none() {
            u.status = Status::Dead; // no suspicion mechanism: suspected means dead
        }
        let cur = s.members[q];
        if (u.incarnation, u.status) <= (cur.incarnation, cur.status) {
            return;
        }
        s.members[q] = Member {
            status: u.status,
            incarnation: u.incarnation,
        };
        match u.status {
            Status::Suspect => {
                if cur.status != Status::Suspect {
                    ctx.indicate(SwimIndication::Suspect(u.node));
                }
                if let Some(d) = self.suspicion {
                    ctx.set_timer(SwimTimer::Suspicion(u.node), d);
                }
            }
            Status::Alive => {
                if cur.status != Status::Alive {
                    ctx.indicate(SwimIndication::Alive(u.node));
                }
                if cur.status == Status::Suspect {
                    ctx.cancel_timer(SwimTimer::Suspicion(u.node));
                }
            }
            Status::Dead => {
                if cur.status != Status::Dead {
                    ctx.indicate(SwimIndication::Confirm(u.node));
                }
                if cur.status == Status::Suspect {
                    ctx.cancel_timer(SwimTimer::Suspicion(u.node));
                }
            }
        }
        Swim::enqueue(s, u);
    }

    /// The end of a period without an ack from `q`: suspect it (or confirm it at once).
    fn probe_failed(&self, s: &mut SwimState, q: NodeId, ctx: &mut Ctx<'_, Self>) {
        let Some(cur) = s.members.get(q.index()).copied() else {
            return;
        };
        if cur.status != Status::Alive {
            return; // already suspected (its timer runs) or dead
        }
        let status = if self.suspicion.is_some() {
            Status::Suspect
        } else {
            Status::Dead
        };
        let u = Update {
            node: q,
            incarnation: cur.incarnation,
            status,
        };
        self.apply(s, u, ctx);
    }

    /// The start of a protocol period: settle the last probe, start the next.
    fn tick(&self, s: &mut SwimState, ctx: &mut Ctx<'_, Self>) {
        if let Some(p) = s.probe.take() {
            if !p.acked {
                self.probe_failed(s, p.target, ctx);
            }
        }
        let mut candidates = Swim::candidates(s, ctx.id(), None);
        if candidates.is_empty() {
            // Alone in its own view: knock on a random "dead" member's door rather than fall
            // silent, so that a member cut off from everyone (and confirmed dead by them) learns
            // it, refutes, and merges back once the network heals.
            let me = ctx.id();
            candidates = NodeId::all(s.members.len()).filter(|q| *q != me).collect();
        }
        if !candidates.is_empty() {
            let target = candidates[ctx.choose(candidates.len())];
            s.next_seq += 1;
            let seq = s.next_seq;
            s.probe = Some(Probe {
                target,
                seq,
                acked: false,
            });
            self.send(
                s,
                target,
                SwimMsg::Ping {
                    seq,
                    updates: Vec::new(),
                },
                ctx,
            );
            ctx.set_timer(SwimTimer::PingTimeout, self.ping_timeout.max(Duration(1)));
        }
        ctx.set_timer(SwimTimer::Tick, self.period.max(Duration(1)));
    }

    fn acked(s: &mut SwimState, seq: u64, ctx: &mut Ctx<'_, Self>) {
        if let Some(p) = s.probe.as_mut() {
            if p.seq == seq && !p.acked {
                p.acked = true;
                ctx.cancel_timer(SwimTimer::PingTimeout);
            }
        }
    }
}

impl Protocol for Swim {
    type Msg = SwimMsg;
    type Timer = SwimTimer;
    type Request = ();
    type Indication = SwimIndication;
    type State = SwimState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> SwimState {
        let mut s = SwimState {
            incarnation: 0,
            members: vec![
                Member {
                    status: Status::Alive,
                    incarnation: 0,
                };
                ctx.n()
            ],
            probe: None,
            next_seq: 0,
            gossip: BTreeMap::new(),
        };
        self.tick(&mut s, ctx);
        s
    }

    fn on_message(
        &self,
        s: &mut SwimState,
        from: NodeId,
        mut msg: SwimMsg,
        ctx: &mut Ctx<'_, Self>,
    ) {
        for u in msg.take_updates() {
            self.apply(s, u, ctx);
        }
        let me = ctx.id();
        let n = ctx.n();
        let valid = |q: NodeId| q.index() < n;
        match msg {
            SwimMsg::Ping { seq, .. } => {
                let ack = SwimMsg::Ack {
                    seq,
                    updates: Vec::new(),
                };
                self.send(s, from, ack, ctx);
            }
            SwimMsg::Ack { seq, .. } => Swim::acked(s, seq, ctx),
            SwimMsg::PingReq { seq, target, .. } => {
                if target == me {
                    // Odd (the prober asked us to probe ourselves): answer it directly.
                    let ack = SwimMsg::Ack {
                        seq,
                        updates: Vec::new(),
                    };
                    self.send(s, from, ack, ctx);
                } else if valid(target) && target != from {
                    let ping = SwimMsg::IndirectPing {
                        seq,
                        origin: from,
                        updates: Vec::new(),
                    };
                    self.send(s, target, ping, ctx);
                }
            }
            SwimMsg::IndirectPing { seq, origin, .. } => {
                let ack = SwimMsg::IndirectAck {
                    seq,
                    origin,
                    updates: Vec::new(),
                };
                self.send(s, from, ack, ctx);
            }
            SwimMsg::IndirectAck { seq, origin, .. } => {
                if origin == me {
                    Swim::acked(s, seq, ctx);
                } else if valid(origin) {
                    let ack = SwimMsg::Ack {
                        seq,
                        updates: Vec::new(),
                    };
                    self.send(s, origin, ack, ctx);
                }
            }
        }
    }

    fn on_timer(&self, s: &mut SwimState, timer: SwimTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            SwimTimer::Tick => self.tick(s, ctx),
            SwimTimer::PingTimeout => {
                let Some(p) = s.probe else {
                    return;
                };
                if p.acked {
                    return;
                }
                ctx.indicate(SwimIndication::ProbeFailed(p.target));
                let mut relays = Swim::candidates(s, ctx.id(), Some(p.target));
                for _ in 0..self.indirect.min(relays.len()) {
                    let relay = relays.swap_remove(ctx.choose(relays.len()));
                    let req = SwimMsg::PingReq {
                        seq: p.seq,
                        target: p.target,
                        updates: Vec::new(),
                    };
                    self.send(s, relay, req, ctx);
                }
            }
            SwimTimer::Suspicion(q) => {
                let Some(cur) = s.members.get(q.index()).copied() else {
                    return;
                };
                if cur.status == Status::Suspect {
                    let u = Update {
                        node: q,
                        incarnation: cur.incarnation,
                        status: Status::Dead,
                    };
                    self.apply(s, u, ctx);
                }
            }
        }
    }

    fn on_request(&self, _s: &mut SwimState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

    fn invariants(&self, s: &SwimState) {
        // O(1) apart from the id lookup: the state's own bookkeeping must agree.
        assert!(
            s.gossip.len() <= s.members.len(),
            "Swim: more gossip entries ({}) than members ({})",
            s.gossip.len(),
            s.members.len()
        );
        if let Some(p) = s.probe {
            assert!(
                p.seq <= s.next_seq && p.target.index() < s.members.len(),
                "Swim: probe {p:?} was never started"
            );
        }
    }
}

impl FdView for Swim {
    fn fd_event(ind: &SwimIndication) -> Option<FdIndication> {
        match *ind {
            SwimIndication::Confirm(q) => Some(FdIndication::Suspect(q)),
            // A Restore of a member that was never confirmed changes nothing in the FD view.
            SwimIndication::Alive(q) => Some(FdIndication::Restore(q)),
            SwimIndication::ProbeFailed(_) | SwimIndication::Suspect(_) => None,
        }
    }
}
