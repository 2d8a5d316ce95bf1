//! Primary-backup replication (passive replication) of a register, with failover by a failure
//! detector and views, in three variants that differ in what they assume.
//!
//! **Algorithm** (Alsberg and Day 1976; Budhiraja, Marzullo, Schneider and Toueg 1993). Every
//! node is a replica. A *view* is a view id ([`ViewId`]: a counter and the primary that
//! installed it, ordered lexicographically) and a membership; its primary is the node that
//! installed it. A client request arrives at any node (its *origin*), which forwards it to the
//! primary it knows of (retrying every tick until answered) and answers the client itself:
//!
//! - *write*: the primary appends it to its log (once: a retried request is recognised by its
//!   [`OpId`]) and sends it to every backup of its view; backups append in order and acknowledge
//!   the length of their log; when every backup has it the entry is *committed* and the origin
//!   is told `WriteOk`;
//! - *read*: the primary answers with the value of its committed prefix (never with an entry not
//!   yet on every backup, which a failover could lose).
//!
//! Every node embeds the heartbeat detector of [`crate::fd`] by delegation (its messages and
//! timers travel as [`PbMsg::Fd`] and [`PbTimer::Fd`]). *Failover:* when a node suspects the
//! primary of its view and is the first member of that view it does not suspect, it installs a
//! new view whose members are the nodes it does not suspect: it sends `Prepare` with a higher
//! view id; each member promises (refusing updates of older views from then on) and returns its
//! log; with every member's answer the new primary adopts the log with the highest
//! (view it was written in, length) — *state transfer from the survivors* — sends it in
//! `NewView`, and becomes active once every member has installed it. A primary that suspects a
//! backup installs a new view without it the same way (and re-adds nodes its detector restores).
//!
//! | constructor | detector | view change needs | assumption for linearizability |
//! |---|---|---|---|
//! | [`PrimaryBackup::perfect`] | P ([`Heartbeat::perfect`]) | the answers of the members it does not suspect | synchrony, crash-stop, no loss: P never suspects a live node, so a replaced primary is dead (f+1 replicas tolerate f crashes) |
//! | [`PrimaryBackup::eventually_perfect`] | ◇P ([`Heartbeat::eventually_perfect`]) | the same | none that holds under partial synchrony: a false suspicion (a partition, delays before GST) makes two primaries, each committing writes with its own side; the *split brain* gives stale reads and, when the sides merge, lost acknowledged writes |
//! | [`PrimaryBackup::with_leases`] | ◇P | a majority of the n replicas (views never shrink below one), and members wait out any read lease they granted | a majority correct and eventually connected, clock drift below the configured bound ρ: linearizable under partitions and false suspicions |
//!
//! **Leases.** In [`PrimaryBackup::with_leases`] the active primary asks its backups for a read
//! lease every tick (`LeaseReq` stamped with its local send time `at`); a backup grants it
//! (`LeaseOk`) only while it is in the primary's view, and promises itself not to answer a
//! `Prepare` of another node until `L·(1+ρ)/(1−ρ)` of its own clock has passed. The primary
//! serves reads only until `at + L` of the latest `at` granted by a majority (itself included).
//! A new view needs a majority, which contains a granter, so it is installed only after every
//! lease of the old primary has expired, whatever the clocks' drift within ρ. Writes need no
//! lease: they need every backup of the view, and the new view's majority intersects the old one,
//! whose members refuse updates once they promised the new view.
//!
//! **Properties.** Linearizable client history (judged by the lab's `linearizable_register`)
//! for [`PrimaryBackup::perfect`] under its assumptions and [`PrimaryBackup::with_leases`];
//! progress once a primary is stable. Not crash-recovery: a recovered node starts empty and
//! outside every view (the primary re-adds it if its detector restores it).
//!
//! **Read:** Budhiraja, Marzullo, Schneider and Toueg, "The primary-backup approach", in
//! *Distributed Systems* (2nd ed., Mullender), 1993; van Renesse and Guerraoui, "Replication
//! techniques for availability", in *Replication: Theory and Practice*, LNCS 5959, 2010;
//! Cachin, Guerraoui and Rodrigues (CGR) ch. 2 §2.6 (P and ◇P) and ch. 6; Gray and Cheriton,
//! "Leases", SOSP 1989; Oki and Liskov, "Viewstamped replication", PODC 1988 (majority views).

use crate::fd::{FdIndication, HbMsg, HbState, HbTimer, Heartbeat, Increase};
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{ClientId, ClientOps, Ctx, Duration, Effect, Instant, NodeId, Protocol};

/// A client operation as the replicas name it: the node it arrived at and that node's count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId {
    /// The node the request arrived at, which answers the client.
    pub origin: NodeId,
    /// The origin's request number.
    pub seq: u64,
}

/// One write in a replica's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The operation (to recognise a retried request and to answer its origin).
    pub id: OpId,
    /// The value written.
    pub value: u64,
}

/// A view id: views are ordered by counter, then by the primary that installed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ViewId {
    /// The view counter.
    pub counter: u64,
    /// The view's primary.
    pub primary: NodeId,
}

/// Read leases for [`PrimaryBackup::with_leases`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The lease the primary assumes after a grant (its own clock, from its request).
    pub duration: Duration,
    /// The clock-drift bound ρ in parts per million that the lease arithmetic assumes.
    pub drift_ppm: u32,
}

impl Lease {
    /// How long a granter stays bound by a grant, on its own clock: `L·(1+ρ)/(1−ρ)` plus a
    /// millisecond of rounding.
    pub fn guard(&self) -> Duration {
        let rho = u128::from(self.drift_ppm);
        let l = u128::from(self.duration.as_nanos());
        let g = l * (1_000_000 + rho) / (1_000_000 - rho.min(999_999));
        Duration(g as u64) + Duration::from_millis(1)
    }
}

/// Primary-backup replication of a register (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrimaryBackup {
    /// The embedded failure detector.
    pub detector: Heartbeat,
    /// Read leases and majority views (`None`: views of the unsuspected nodes, no leases).
    pub lease: Option<Lease>,
    /// Retransmission and lease-renewal period.
    pub tick: Duration,
}

/// The heartbeat period of the default detectors.
pub const HB_PERIOD: Duration = Duration::from_millis(20);

impl PrimaryBackup {
    /// Primary-backup over the perfect detector P: heartbeats every 20 ms, suspicion after
    /// 60 ms of silence (a P under synchrony with Δ ≤ 40 ms and no loss), a 20 ms tick.
    pub fn perfect() -> PrimaryBackup {
        PrimaryBackup {
            detector: Heartbeat::perfect(HB_PERIOD, Duration::from_millis(60)),
            lease: None,
            tick: Duration::from_millis(20),
        }
    }

    /// Primary-backup over the eventually perfect detector ◇P (heartbeats every 20 ms, initial
    /// timeout 60 ms, doubled after each mistake): split brain after a false suspicion.
    pub fn eventually_perfect() -> PrimaryBackup {
        PrimaryBackup {
            detector: Heartbeat::eventually_perfect(
                HB_PERIOD,
                Duration::from_millis(60),
                Increase::Double,
            ),
            ..PrimaryBackup::perfect()
        }
    }

    /// Primary-backup over ◇P with majority views and 100 ms read leases under a 1,000 ppm
    /// drift bound: linearizable under partitions and false suspicions.
    pub fn with_leases() -> PrimaryBackup {
        PrimaryBackup {
            lease: Some(Lease {
                duration: Duration::from_millis(100),
                drift_ppm: 1_000,
            }),
            ..PrimaryBackup::eventually_perfect()
        }
    }

    /// The same protocol over `detector`.
    pub fn with_detector(self, detector: Heartbeat) -> PrimaryBackup {
        PrimaryBackup { detector, ..self }
    }
}

impl Default for PrimaryBackup {
    fn default() -> Self {
        PrimaryBackup::perfect()
    }
}

/// Primary-backup's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PbMsg {
    /// A message of the embedded detector.
    Fd(HbMsg),
    /// An origin hands a client operation to the primary.
    Forward {
        /// The operation.
        op: OpId,
        /// What it does.
        what: RegisterOp,
    },
    /// The primary answers an origin.
    Reply {
        /// The operation.
        op: OpId,
        /// Its result.
        ret: RegisterRet,
    },
    /// The primary's log entries from index `from` on, for a backup of view `view`.
    Update {
        /// The view.
        view: ViewId,
        /// Index of the first entry.
        from: u64,
        /// The entries.
        entries: Vec<Entry>,
    },
    /// A backup's log length in view `view`.
    Ack {
        /// The view.
        view: ViewId,
        /// How many entries it holds.
        len: u64,
    },
    /// A would-be primary asks for a promise and the log.
    Prepare {
        /// The new view.
        view: ViewId,
    },
    /// A member's promise, with its log and the view that log was written in.
    PrepareOk {
        /// The new view.
        view: ViewId,
        /// The view in which the log was last written.
        log_view: ViewId,
        /// The log.
        log: Vec<Entry>,
    },
    /// "I promised a higher view."
    Reject {
        /// The refused view.
        view: ViewId,
        /// The member's promise.
        promised: ViewId,
    },
    /// The new primary installs its view with the chosen log.
    NewView {
        /// The view.
        view: ViewId,
        /// Its members.
        members: Vec<NodeId>,
        /// The log every member adopts.
        log: Vec<Entry>,
    },
    /// A member installed the view.
    NewViewOk {
        /// The view.
        view: ViewId,
    },
    /// The active primary tells a node outside its view where to send requests.
    Hint {
        /// The primary's view.
        view: ViewId,
    },
    /// The primary asks for a read lease (leases only).
    LeaseReq {
        /// Its view.
        view: ViewId,
        /// Its local time when it asked.
        at: Instant,
    },
    /// A backup grants the lease asked for at `at`.
    LeaseOk {
        /// The view.
        view: ViewId,
        /// The request's time.
        at: Instant,
    },
}

impl PbMsg {
    /// True for the messages of one update in the failure-free case (forward, update, ack,
    /// reply), not the detector's or the view change's.
    pub fn is_update_path(&self) -> bool {
        matches!(
            self,
            PbMsg::Forward {
                what: RegisterOp::Write(_),
                ..
            } | PbMsg::Update { .. }
                | PbMsg::Ack { .. }
                | PbMsg::Reply {
                    ret: RegisterRet::WriteOk,
                    ..
                }
        )
    }
}

/// Primary-backup's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PbTimer {
    /// Retransmission, lease renewal and the failover check.
    Tick,
    /// A granted lease expired: answer a deferred `Prepare`.
    GrantExpired,
    /// A timer of the embedded detector.
    Fd(HbTimer),
}

/// What a node is doing in the view protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PbPhase {
    /// Backup (or outside every view).
    Backup,
    /// Collecting promises for a new view.
    Preparing {
        /// The new view.
        view: ViewId,
        /// Its members.
        members: Vec<NodeId>,
        /// The answers so far: (log view, log) per member.
        replies: BTreeMap<NodeId, (ViewId, Vec<Entry>)>,
    },
    /// Waiting for every member to install the new view.
    Activating {
        /// The members that installed it.
        acked: BTreeSet<NodeId>,
    },
    /// The active primary of the installed view.
    Active {
        /// Per backup, how many entries it acknowledged.
        acked: BTreeMap<NodeId, u64>,
    },
}

/// A primary-backup node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PbState {
    /// The embedded detector's state.
    pub fd: HbState,
    /// The nodes the detector suspects.
    pub suspected: BTreeSet<NodeId>,
    /// The installed view.
    pub view: ViewId,
    /// Its members (empty: outside every view).
    pub members: Vec<NodeId>,
    /// The highest view promised.
    pub promised: ViewId,
    /// The log.
    pub log: Vec<Entry>,
    /// The view in which the log was last written.
    pub log_view: ViewId,
    /// The primary's committed prefix (entries on every member).
    pub committed: u64,
    /// The view-protocol phase.
    pub phase: PbPhase,
    /// Operations that arrived here and are not answered yet.
    pub pending: BTreeMap<OpId, RegisterReq>,
    /// The lowest number the next operation may take (operations are numbered by the local
    /// clock, so ids stay unique across crashes).
    pub next_op: u64,
    /// The newest view heard of, whose primary requests go to.
    pub hint: ViewId,
    /// Leases: until when (own clock) this node promised not to help a new view.
    pub grant_until: Instant,
    /// Leases: the primary that holds this node's grant.
    pub grant_to: Option<NodeId>,
    /// Leases: a `Prepare` answered when the grant expires.
    pub deferred: Option<(NodeId, ViewId)>,
    /// Leases (primary): the latest request time each backup granted.
    pub grants: BTreeMap<NodeId, Instant>,
}

impl PbState {
    /// True if this node is the active primary of its view.
    pub fn is_active_primary(&self) -> bool {
        matches!(self.phase, PbPhase::Active { .. })
    }

    /// The value of the committed prefix (`None`: nothing written).
    pub fn committed_value(&self) -> Option<u64> {
        self.log[..self.committed as usize].last().map(|e| e.value)
    }

    fn find(&self, id: OpId) -> Option<usize> {
        self.log.iter().position(|e| e.id == id)
    }
}

fn majority(n: usize) -> usize {
    n / 2 + 1
}

impl PrimaryBackup {
    fn fresh(&self, members: Vec<NodeId>, ctx: &mut Ctx<'_, Self>) -> PbState {
        let view = ViewId {
            counter: 1,
            primary: NodeId(0),
        };
        let mut fx = Vec::new();
        let fd = self.detector.init(&mut ctx.fork(&mut fx));
        let me = ctx.id();
        let phase = if me == NodeId(0) && !members.is_empty() {
            PbPhase::Active {
                acked: members
                    .iter()
                    .filter(|&&m| m != me)
                    .map(|&m| (m, 0))
                    .collect(),
            }
        } else {
            PbPhase::Backup
        };
        let mut s = PbState {
            fd,
            suspected: BTreeSet::new(),
            view,
            members,
            promised: view,
            log: Vec::new(),
            log_view: view,
            committed: 0,
            phase,
            pending: BTreeMap::new(),
            next_op: 0,
            hint: view,
            grant_until: Instant::ZERO,
            grant_to: None,
            deferred: None,
            grants: BTreeMap::new(),
        };
        ctx.set_timer(PbTimer::Tick, self.tick);
        self.run_fd(&mut s, fx, ctx);
        s
    }

    /// Applies the detector's effects, then reconsiders the view.
    fn run_fd(&self, s: &mut PbState, fx: Vec<Effect<Heartbeat>>, ctx: &mut Ctx<'_, Self>) {
        let mut changed = false;
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, PbMsg::Fd(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(PbTimer::Fd(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(PbTimer::Fd(timer)),
                Effect::Persist => {}
                Effect::Indicate(FdIndication::Suspect(q)) => {
                    changed |= s.suspected.insert(q);
                }
                Effect::Indicate(FdIndication::Restore(q)) => {
                    changed |= s.suspected.remove(&q);
                }
            }
        }
        if changed {
            self.reconsider(s, ctx);
        }
    }

    /// The membership this node would install: every node it does not suspect, itself included.
    fn desired(&self, s: &PbState, ctx: &Ctx<'_, Self>) -> Vec<NodeId> {
        NodeId::all(ctx.n())
            .filter(|q| *q == ctx.id() || !s.suspected.contains(q))
            .collect()
    }

    fn big_enough(&self, members: &[NodeId], ctx: &Ctx<'_, Self>) -> bool {
        self.lease.is_none() || members.len() >= majority(ctx.n())
    }

    /// The failover rule (see the module documentation).
    fn reconsider(&self, s: &mut PbState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let desired = self.desired(s, ctx);
        match &s.phase {
            PbPhase::Active { .. } => {
                if desired != s.members && self.big_enough(&desired, ctx) {
                    self.start_prepare(s, desired, ctx);
                }
            }
            PbPhase::Preparing { members, .. } => {
                if members.iter().any(|m| s.suspected.contains(m)) && self.big_enough(&desired, ctx)
                {
                    self.start_prepare(s, desired, ctx);
                }
            }
            PbPhase::Activating { .. } => {
                if s.members.iter().any(|m| s.suspected.contains(m))
                    && self.big_enough(&desired, ctx)
                {
                    self.start_prepare(s, desired, ctx);
                }
            }
            PbPhase::Backup => {
                let leader = if s.promised > s.view {
                    s.promised.primary
                } else {
                    s.view.primary
                };
                let leaderless = leader == me || s.suspected.contains(&leader);
                if !leaderless {
                    return;
                }
                let first = s.members.iter().find(|m| !s.suspected.contains(m));
                if first == Some(&me) && self.big_enough(&desired, ctx) {
                    self.start_prepare(s, desired, ctx);
                }
            }
        }
    }

    fn start_prepare(&self, s: &mut PbState, members: Vec<NodeId>, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let view = ViewId {
            counter: s.view.counter.max(s.promised.counter) + 1,
            primary: me,
        };
        s.promised = view;
        s.deferred = None;
        let mut replies = BTreeMap::new();
        replies.insert(me, (s.log_view, s.log.clone()));
        for &m in &members {
            if m != me {
                ctx.send(m, PbMsg::Prepare { view });
            }
        }
        s.phase = PbPhase::Preparing {
            view,
            members,
            replies,
        };
        self.check_prepared(s, ctx);
    }

    /// A granter's own lease still binds it (leases only).
    fn bound_by_grant(&self, s: &PbState, other: NodeId, ctx: &Ctx<'_, Self>) -> bool {
        self.lease.is_some() && s.grant_to.is_some_and(|g| g != other) && ctx.now() < s.grant_until
    }

    fn check_prepared(&self, s: &mut PbState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let PbPhase::Preparing {
            view,
            members,
            replies,
        } = &s.phase
        else {
            return;
        };
        if !members.iter().all(|m| replies.contains_key(m)) {
            return;
        }
        if self.bound_by_grant(s, me, ctx) {
            ctx.set_timer(
                PbTimer::GrantExpired,
                s.grant_until.saturating_since(ctx.now()),
            );
            return;
        }
        let (view, members) = (*view, members.clone());
        let best = replies
            .values()
            .max_by_key(|(lv, log)| (*lv, log.len()))
            .map(|(_, log)| log.clone())
            .unwrap_or_default();
        s.log = best;
        s.log_view = view;
        s.view = view;
        s.hint = view;
        s.members = members.clone();
        s.committed = 0;
        s.grants.clear();
        s.grant_to = None;
        for &m in &members {
            if m != me {
                ctx.send(
                    m,
                    PbMsg::NewView {
                        view,
                        members: members.clone(),
                        log: s.log.clone(),
                    },
                );
            }
        }
        s.phase = PbPhase::Activating {
            acked: [me].into_iter().collect(),
        };
        self.check_activated(s, ctx);
    }

    fn check_activated(&self, s: &mut PbState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let PbPhase::Activating { acked } = &s.phase else {
            return;
        };
        if !s.members.iter().all(|m| acked.contains(m)) {
            return;
        }
        let len = s.log.len() as u64;
        s.phase = PbPhase::Active {
            acked: s
                .members
                .iter()
                .filter(|&&m| m != me)
                .map(|&m| (m, len))
                .collect(),
        };
        s.committed = len;
        // Origins retry their requests; nothing to answer in bulk.
    }

    fn lease_holds(&self, s: &PbState, ctx: &Ctx<'_, Self>) -> bool {
        let Some(lease) = self.lease else {
            return true;
        };
        let need = majority(ctx.n()) - 1;
        if need == 0 {
            return true;
        }
        let mut ats: Vec<Instant> = s
            .members
            .iter()
            .filter_map(|m| s.grants.get(m).copied())
            .collect();
        if ats.len() < need {
            return false;
        }
        ats.sort_unstable_by(|a, b| b.cmp(a));
        ctx.now() < ats[need - 1] + lease.duration
    }

    fn answer(
        &self,
        s: &mut PbState,
        origin: NodeId,
        op: OpId,
        ret: RegisterRet,
        ctx: &mut Ctx<'_, Self>,
    ) {
        if origin == ctx.id() {
            self.deliver(s, op, ret, ctx);
        } else {
            ctx.send(origin, PbMsg::Reply { op, ret });
        }
    }

    fn deliver(&self, s: &mut PbState, op: OpId, ret: RegisterRet, ctx: &mut Ctx<'_, Self>) {
        let Some(req) = s.pending.get(&op) else {
            return;
        };
        // A reply that does not match the request is a peer's bad message: ignored.
        let Some(resp) = req.respond(ret) else {
            return;
        };
        s.pending.remove(&op);
        ctx.indicate(resp);
    }

    /// The primary serves an operation that arrived at `origin`.
    fn serve(
        &self,
        s: &mut PbState,
        origin: NodeId,
        op: OpId,
        what: RegisterOp,
        ctx: &mut Ctx<'_, Self>,
    ) {
        if !s.is_active_primary() {
            return; // the origin retries once it knows the primary
        }
        match what {
            RegisterOp::Write(value) => {
                if let Some(i) = s.find(op) {
                    if (i as u64) < s.committed {
                        self.answer(s, origin, op, RegisterRet::WriteOk, ctx);
                    }
                    return;
                }
                let from = s.log.len() as u64;
                let e = Entry { id: op, value };
                s.log.push(e);
                for &m in &s.members {
                    if m != ctx.id() {
                        ctx.send(
                            m,
                            PbMsg::Update {
                                view: s.view,
                                from,
                                entries: vec![e],
                            },
                        );
                    }
                }
                self.advance_commit(s, ctx);
            }
            RegisterOp::Read => {
                if self.lease_holds(s, ctx) {
                    let v = s.committed_value();
                    self.answer(s, origin, op, RegisterRet::ReadOk(v), ctx);
                }
            }
        }
    }

    fn advance_commit(&self, s: &mut PbState, ctx: &mut Ctx<'_, Self>) {
        let PbPhase::Active { acked } = &s.phase else {
            return;
        };
        let len = s.log.len() as u64;
        let new = acked.values().copied().fold(len, u64::min);
        while s.committed < new {
            let e = s.log[s.committed as usize];
            s.committed += 1;
            self.answer(s, e.id.origin, e.id, RegisterRet::WriteOk, ctx);
        }
    }

    fn route(&self, s: &mut PbState, op: OpId, what: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        let primary = s.hint.primary;
        if primary == ctx.id() {
            self.serve(s, primary, op, what, ctx);
        } else {
            ctx.send(primary, PbMsg::Forward { op, what });
        }
    }

    fn on_tick(&self, s: &mut PbState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let ops: Vec<(OpId, RegisterOp)> = s.pending.iter().map(|(o, r)| (*o, r.op())).collect();
        for (op, what) in ops {
            self.route(s, op, what, ctx);
        }
        match &s.phase {
            PbPhase::Active { acked } => {
                for (&m, &a) in acked {
                    if a < s.log.len() as u64 {
                        let end = s.log.len().min(a as usize + 64);
                        ctx.send(
                            m,
                            PbMsg::Update {
                                view: s.view,
                                from: a,
                                entries: s.log[a as usize..end].to_vec(),
                            },
                        );
                    }
                }
                for q in NodeId::all(ctx.n()) {
                    if !s.members.contains(&q) {
                        ctx.send(q, PbMsg::Hint { view: s.view });
                    }
                }
                if self.lease.is_some() {
                    for &m in &s.members {
                        if m != me {
                            ctx.send(
                                m,
                                PbMsg::LeaseReq {
                                    view: s.view,
                                    at: ctx.now(),
                                },
                            );
                        }
                    }
                }
            }
            PbPhase::Preparing {
                view,
                members,
                replies,
            } => {
                for &m in members {
                    if !replies.contains_key(&m) {
                        ctx.send(m, PbMsg::Prepare { view: *view });
                    }
                }
            }
            PbPhase::Activating { acked } => {
                for &m in &s.members {
                    if !acked.contains(&m) {
                        ctx.send(
                            m,
                            PbMsg::NewView {
                                view: s.view,
                                members: s.members.clone(),
                                log: s.log.clone(),
                            },
                        );
                    }
                }
            }
            PbPhase::Backup => {}
        }
        self.reconsider(s, ctx);
        ctx.set_timer(PbTimer::Tick, self.tick);
    }

    fn answer_prepare(&self, s: &mut PbState, to: NodeId, view: ViewId, ctx: &mut Ctx<'_, Self>) {
        if self.bound_by_grant(s, to, ctx) {
            s.deferred = Some((to, view));
            ctx.set_timer(
                PbTimer::GrantExpired,
                s.grant_until.saturating_since(ctx.now()),
            );
            return;
        }
        ctx.send(
            to,
            PbMsg::PrepareOk {
                view,
                log_view: s.log_view,
                log: s.log.clone(),
            },
        );
    }
}

impl Protocol for PrimaryBackup {
    type Msg = PbMsg;
    type Timer = PbTimer;
    type Request = RegisterReq;
    type Indication = RegisterResp;
    type State = PbState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> PbState {
        let all = NodeId::all(ctx.n()).collect();
        self.fresh(all, ctx)
    }

    /// A recovered node starts empty, outside every view.
    fn recover(&self, _d: &(), ctx: &mut Ctx<'_, Self>) -> PbState {
        self.fresh(Vec::new(), ctx)
    }

    fn on_message(&self, s: &mut PbState, from: NodeId, msg: PbMsg, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        if from.index() >= ctx.n() || from == me {
            return;
        }
        match msg {
            PbMsg::Fd(m) => {
                let mut fx = Vec::new();
                self.detector
                    .on_message(&mut s.fd, from, m, &mut ctx.fork(&mut fx));
                self.run_fd(s, fx, ctx);
            }
            PbMsg::Forward { op, what } => {
                if op.origin == from {
                    self.serve(s, from, op, what, ctx);
                }
            }
            PbMsg::Reply { op, ret } => {
                if op.origin == me {
                    self.deliver(s, op, ret, ctx);
                }
            }
            PbMsg::Update {
                view,
                from: at,
                entries,
            } => {
                if view != s.view || view != s.promised || from != view.primary {
                    return;
                }
                if !matches!(s.phase, PbPhase::Backup) {
                    return;
                }
                let len = s.log.len() as u64;
                if at <= len {
                    let skip = (len - at) as usize;
                    s.log.extend(entries.into_iter().skip(skip));
                }
                ctx.send(
                    from,
                    PbMsg::Ack {
                        view,
                        len: s.log.len() as u64,
                    },
                );
            }
            PbMsg::Ack { view, len } => {
                if view != s.view || len > s.log.len() as u64 {
                    return;
                }
                if let PbPhase::Active { acked } = &mut s.phase {
                    if let Some(a) = acked.get_mut(&from) {
                        *a = (*a).max(len);
                    }
                    self.advance_commit(s, ctx);
                }
            }
            PbMsg::Prepare { view } => {
                if view.primary != from {
                    return;
                }
                if view < s.promised {
                    ctx.send(
                        from,
                        PbMsg::Reject {
                            view,
                            promised: s.promised,
                        },
                    );
                    return;
                }
                if view > s.promised {
                    s.promised = view;
                    s.phase = PbPhase::Backup;
                    s.deferred = None;
                }
                self.answer_prepare(s, from, view, ctx);
            }
            PbMsg::PrepareOk {
                view,
                log_view,
                log,
            } => {
                if let PbPhase::Preparing {
                    view: v,
                    members,
                    replies,
                } = &mut s.phase
                {
                    if *v == view && members.contains(&from) {
                        replies.insert(from, (log_view, log));
                        self.check_prepared(s, ctx);
                    }
                }
            }
            PbMsg::Reject { view, promised } => {
                if let PbPhase::Preparing { view: v, .. } = &s.phase {
                    if *v == view && promised > view {
                        s.promised = promised;
                        s.phase = PbPhase::Backup;
                    }
                }
            }
            PbMsg::NewView { view, members, log } => {
                if view.primary != from || view < s.promised {
                    return;
                }
                if view > s.view {
                    s.promised = view;
                    s.view = view;
                    s.members = members;
                    s.log = log;
                    s.log_view = view;
                    s.committed = 0;
                    s.phase = PbPhase::Backup;
                    s.deferred = None;
                }
                if view > s.hint {
                    s.hint = view;
                }
                if view == s.view {
                    ctx.send(from, PbMsg::NewViewOk { view });
                }
            }
            PbMsg::NewViewOk { view } => {
                if view != s.view {
                    return;
                }
                if let PbPhase::Activating { acked } = &mut s.phase {
                    if s.members.contains(&from) {
                        acked.insert(from);
                        self.check_activated(s, ctx);
                    }
                }
            }
            PbMsg::Hint { view } => {
                if view.primary == from && view > s.hint {
                    s.hint = view;
                }
            }
            PbMsg::LeaseReq { view, at } => {
                if let Some(lease) = self.lease {
                    if view == s.view
                        && view == s.promised
                        && from == view.primary
                        && matches!(s.phase, PbPhase::Backup)
                    {
                        s.grant_to = Some(from);
                        s.grant_until = s.grant_until.max(ctx.now() + lease.guard());
                        ctx.send(from, PbMsg::LeaseOk { view, at });
                    }
                }
            }
            PbMsg::LeaseOk { view, at } => {
                if view == s.view && s.is_active_primary() && at <= ctx.now() {
                    let g = s.grants.entry(from).or_insert(at);
                    *g = (*g).max(at);
                }
            }
        }
    }

    fn on_timer(&self, s: &mut PbState, timer: PbTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            PbTimer::Fd(t) => {
                let mut fx = Vec::new();
                self.detector.on_timer(&mut s.fd, t, &mut ctx.fork(&mut fx));
                self.run_fd(s, fx, ctx);
            }
            PbTimer::Tick => self.on_tick(s, ctx),
            PbTimer::GrantExpired => {
                if let Some((to, view)) = s.deferred {
                    if view == s.promised {
                        s.deferred = None;
                        self.answer_prepare(s, to, view, ctx);
                    } else {
                        s.deferred = None;
                    }
                }
                self.check_prepared(s, ctx);
            }
        }
    }

    fn on_request(&self, s: &mut PbState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        // Numbered by the local clock (nanoseconds), which runs on across a crash: a recovered
        // node never reuses the id of an operation it took before.
        let seq = ctx.now().0.max(s.next_op);
        s.next_op = seq + 1;
        let op = OpId {
            origin: ctx.id(),
            seq,
        };
        s.pending.insert(op, req);
        self.route(s, op, req.op(), ctx);
    }

    fn invariants(&self, s: &PbState) {
        assert!(
            s.committed <= s.log.len() as u64,
            "PrimaryBackup: committed {} beyond the log ({})",
            s.committed,
            s.log.len()
        );
        assert!(
            s.promised >= s.view,
            "PrimaryBackup: promised {:?} below the installed view {:?}",
            s.promised,
            s.view
        );
    }
}

impl ClientOps for PrimaryBackup {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    fn response(ind: &RegisterResp) -> Option<(ClientId, RegisterRet)> {
        Some((ind.client(), ind.ret()))
    }
}
