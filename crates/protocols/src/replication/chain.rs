//! Chain replication of a register (van Renesse and Schneider, OSDI 2004), with a master that
//! reconfigures the chain, configuration epochs on every message, and read leases for the tail.
//!
//! **Roles.** Node `n0` is the *master*; nodes `n1..n(n-1)` form the chain, `n1` the head and
//! the last one the tail at the start. A client request arrives at any node (its *origin*,
//! the master included), which forwards it to the head (a write) or the tail (a read),
//! retrying every tick until answered, and answers the client itself:
//!
//! - *updates* enter at the head, which appends them to its log (once: a retried request is
//!   recognised by its [`OpId`]) and sends them down; each node applies them in order and passes
//!   them on; the tail applies them and answers the origin;
//! - *queries* are answered by the tail from its log: they see exactly the updates that went
//!   through the whole chain.
//!
//! Every node keeps what it sent and its successor has not acknowledged (the paper's *Sent*
//! list: its log beyond the successor's last [`ChainMsg::Ack`]) and sends it again every tick,
//! so loss and duplication only delay updates, and a node that gets a new successor after a
//! failure resends to it whatever it may have missed. Acks travel up from the tail (cumulative:
//! "the tail holds `stable` entries"); the head uses them to answer a retried write at once.
//!
//! **Master and reconfiguration.** Every chain node heartbeats the master every tick. The
//! master removes a node it has not heard from for `suspect_after` (head: its successor becomes
//! head; tail: its predecessor becomes tail; middle: its predecessor resends to its successor),
//! never leaving the chain without a node holding the whole history, and adds a live node that
//! is out of the chain back as the new tail, one at a time, when every member is up to date.
//! Each new configuration has a higher *epoch*; the master persists it before announcing it,
//! and every message between chain nodes carries the sender's epoch: a node handles only
//! messages of its own epoch from its neighbour in that epoch's chain, so a removed node can
//! never get its updates accepted. A node that learns it was removed wipes its log; it rejoins
//! empty, receives the whole log from its predecessor (state transfer through the Sent list),
//! and serves reads only after its predecessor's [`ChainMsg::Sync`] says it has caught up.
//!
//! **Leases.** A removed or partitioned tail might still answer reads with an old value while
//! a new tail acknowledges newer writes. So the tail answers a query only under a read lease
//! granted by the master (in answer to its heartbeat stamped with its local send time `at`:
//! the tail holds it until `at + L`); the master, which counts the lease as possibly held until
//! `L·(1+ρ)/(1−ρ)` of its own clock after granting it, stops granting and waits for that before
//! installing a configuration with another tail. Safe for any drift within ρ.
//!
//! **Model.** Crash-recovery nodes with stable storage (each log append and each configuration
//! is persisted before anything depends on it), lossy, duplicating, reordering links, partitions,
//! clock drift below ρ. The paper replicates the master with consensus; here it is one process
//! that persists its configuration and, after a recovery, waits out any lease it may have
//! granted before granting or reconfiguring: its crashes cost availability (no reconfiguration
//! and, once the tail's lease runs out, no reads until it is back), never safety. Liveness needs
//! the master up and, eventually, a live connected chain.
//!
//! **Properties.** Linearizable client history (the lab's `linearizable_register`) under
//! crashes, recoveries, partitions, loss and duplication; progress once faults stop.
//!
//! **Canary.** [`Chain::canary_no_lease`]: the tail answers queries without a lease and the
//! master reconfigures without waiting: a partitioned old tail serves stale reads.
//!
//! **Read:** van Renesse and Schneider, "Chain replication for supporting high throughput and
//! availability", OSDI 2004 (§3: the protocol, the Update Propagation Invariant and the Sent
//! lists; §3.1-3.3: failure handling); van Renesse and Guerraoui, "Replication techniques for
//! availability", LNCS 5959, 2010; Gray and Cheriton, "Leases", SOSP 1989.

use super::primary_backup::{Entry, Lease, OpId};
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{ClientId, ClientOps, Ctx, Duration, Instant, NodeId, Protocol};

/// The master's id.
pub const MASTER: NodeId = NodeId(0);

/// Chain replication (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chain {
    /// Heartbeat, retransmission and reconfiguration period.
    pub tick: Duration,
    /// The master removes a node it has not heard from for this long.
    pub suspect_after: Duration,
    /// The tail's read lease.
    pub lease: Lease,
    /// The tail checks its lease and the master waits for it (false only in the canary).
    pub leases: bool,
}

impl Chain {
    /// A 20 ms tick, removal after 100 ms of silence, 80 ms leases under a 1,000 ppm drift
    /// bound.
    pub fn new() -> Chain {
        Chain {
            tick: Duration::from_millis(20),
            suspect_after: Duration::from_millis(100),
            lease: Lease {
                duration: Duration::from_millis(80),
                drift_ppm: 1_000,
            },
            leases: true,
        }
    }

    /// The same protocol with another tick, removal delay and lease duration.
    pub fn with_timing(self, tick: Duration, suspect_after: Duration, lease: Duration) -> Chain {
        Chain {
            tick,
            suspect_after,
            lease: Lease {
                duration: lease,
                ..self.lease
            },
            ..self
        }
    }

    /// CANARY: the tail answers queries without a lease and the master reconfigures without
    /// waiting for one to expire: a removed tail that has not heard of it serves stale reads.
    pub fn canary_no_lease() -> Chain {
        Chain {
            leases: false,
            ..Chain::new()
        }
    }
}

impl Default for Chain {
    fn default() -> Self {
        Chain::new()
    }
}

/// Chain replication's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChainMsg {
    /// An origin hands a client operation to the head (write) or the tail (read).
    Forward {
        /// The operation.
        op: OpId,
        /// What it does.
        what: RegisterOp,
    },
    /// The tail answers an origin.
    Reply {
        /// The operation.
        op: OpId,
        /// Its result.
        ret: RegisterRet,
    },
    /// Log entries from index `from` on, to the successor.
    Update {
        /// The sender's epoch.
        epoch: u64,
        /// Index of the first entry.
        from: u64,
        /// The entries.
        entries: Vec<Entry>,
    },
    /// To the predecessor: "I hold `have` entries; the tail holds `stable`".
    Ack {
        /// The sender's epoch.
        epoch: u64,
        /// The sender's log length.
        have: u64,
        /// The tail's log length, as far as the sender knows.
        stable: u64,
    },
    /// To the successor: "I hold `upto` entries" (a joining tail has caught up once it holds
    /// as many).
    Sync {
        /// The sender's epoch.
        epoch: u64,
        /// The sender's log length.
        upto: u64,
    },
    /// The master's configuration.
    Config {
        /// Its epoch.
        epoch: u64,
        /// The chain, head first.
        chain: Vec<NodeId>,
    },
    /// A chain node to the master, every tick.
    Heartbeat {
        /// The node's epoch.
        epoch: u64,
        /// Its local time when sent.
        at: Instant,
        /// It holds the whole history (not a joiner still catching up).
        caught_up: bool,
        /// It is in its epoch's chain.
        member: bool,
    },
    /// The master grants the tail a read lease from `at` (the heartbeat's time).
    LeaseGrant {
        /// The epoch.
        epoch: u64,
        /// The heartbeat's time.
        at: Instant,
    },
}

impl ChainMsg {
    /// True for the messages an update costs in the failure-free case, acks excluded: the
    /// forward to the head, the updates down the chain, the tail's reply.
    pub fn is_update_path(&self) -> bool {
        matches!(
            self,
            ChainMsg::Forward {
                what: RegisterOp::Write(_),
                ..
            } | ChainMsg::Update { .. }
                | ChainMsg::Reply {
                    ret: RegisterRet::WriteOk,
                    ..
                }
        )
    }
}

/// Chain replication's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChainTimer {
    /// Heartbeats, retransmission, reconfiguration.
    Tick,
}

/// What the master knows about one chain node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Heard {
    /// When its last heartbeat arrived (master clock).
    pub at: Instant,
    /// When that heartbeat was sent (the node's clock, which runs on across its crashes): an
    /// older heartbeat delivered late is ignored, so a stale "caught up" never overwrites a
    /// newer "wiped".
    pub sent: Instant,
    /// Its epoch then.
    pub epoch: u64,
    /// It had caught up.
    pub caught_up: bool,
    /// It was in its epoch's chain.
    pub member: bool,
}

/// The master's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterState {
    /// Per chain node, its last heartbeat.
    pub heard: BTreeMap<NodeId, Heard>,
    /// Until when (master clock) the current tail may hold a lease.
    pub tail_lease_until: Instant,
    /// The master grants leases (no change of tail is pending).
    pub granting: bool,
}

/// A node's state (the master's part only at `n0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChainState {
    /// The configuration's epoch.
    pub epoch: u64,
    /// The chain, head first.
    pub chain: Vec<NodeId>,
    /// The log (a chain node's applied updates, in order).
    pub log: Vec<Entry>,
    /// This node holds the whole history (false for a joiner until its predecessor's `Sync`).
    pub caught_up: bool,
    /// The successor's log length, as last acknowledged.
    pub succ_have: u64,
    /// Entries the tail is known to hold.
    pub stable: u64,
    /// The tail's read lease (local clock).
    pub lease_until: Instant,
    /// Operations that arrived here and are not answered yet.
    pub pending: BTreeMap<OpId, RegisterReq>,
    /// The lowest number the next operation may take (operations are numbered by the local
    /// clock, so ids stay unique across crashes).
    pub next_op: u64,
    /// The master's part.
    pub master: Option<MasterState>,
}

/// What survives a crash: the configuration and the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainDurable {
    /// The epoch (0: nothing persisted yet).
    pub epoch: u64,
    /// The chain.
    pub chain: Vec<NodeId>,
    /// The log.
    pub log: Vec<Entry>,
    /// Caught up.
    pub caught_up: bool,
}

impl ChainState {
    fn position(&self, me: NodeId) -> Option<usize> {
        self.chain.iter().position(|&q| q == me)
    }

    fn pred(&self, me: NodeId) -> Option<NodeId> {
        self.position(me)
            .and_then(|i| i.checked_sub(1))
            .map(|i| self.chain[i])
    }

    fn succ(&self, me: NodeId) -> Option<NodeId> {
        self.position(me)
            .and_then(|i| self.chain.get(i + 1).copied())
    }

    /// The current tail, if any.
    pub fn tail(&self) -> Option<NodeId> {
        self.chain.last().copied()
    }

    /// The current head, if any.
    pub fn head(&self) -> Option<NodeId> {
        self.chain.first().copied()
    }

    /// The value of the last applied update (`None`: nothing written).
    pub fn value(&self) -> Option<u64> {
        self.log.last().map(|e| e.value)
    }
}

impl Chain {
    fn initial_chain(n: usize) -> Vec<NodeId> {
        NodeId::all(n).filter(|&q| q != MASTER).collect()
    }

    fn start(&self, d: &ChainDurable, recovered: bool, ctx: &mut Ctx<'_, Self>) -> ChainState {
        let me = ctx.id();
        let fresh = d.epoch == 0;
        let chain = if fresh {
            Chain::initial_chain(ctx.n())
        } else {
            d.chain.clone()
        };
        let now = ctx.now();
        let master = (me == MASTER).then(|| MasterState {
            heard: chain
                .iter()
                .map(|&q| {
                    (
                        q,
                        Heard {
                            at: now,
                            sent: Instant::ZERO,
                            epoch: d.epoch.max(1),
                            // After a recovery, nothing is assumed until heartbeats arrive.
                            caught_up: !recovered,
                            member: true,
                        },
                    )
                })
                .collect(),
            // After a recovery, any lease granted before the crash may still run.
            tail_lease_until: if recovered {
                now + self.lease.guard()
            } else {
                Instant::ZERO
            },
            granting: !recovered,
        });
        ctx.set_timer(ChainTimer::Tick, self.tick);
        ChainState {
            epoch: d.epoch.max(1),
            chain,
            log: d.log.clone(),
            caught_up: if fresh { true } else { d.caught_up },
            succ_have: 0,
            stable: 0,
            lease_until: Instant::ZERO,
            pending: BTreeMap::new(),
            next_op: 0,
            master,
        }
    }

    fn is_tail(s: &ChainState, me: NodeId) -> bool {
        s.tail() == Some(me)
    }

    fn answer(
        &self,
        s: &mut ChainState,
        origin: NodeId,
        op: OpId,
        ret: RegisterRet,
        ctx: &mut Ctx<'_, Self>,
    ) {
        if origin == ctx.id() {
            self.deliver(s, op, ret, ctx);
        } else {
            ctx.send(origin, ChainMsg::Reply { op, ret });
        }
    }

    fn deliver(&self, s: &mut ChainState, op: OpId, ret: RegisterRet, ctx: &mut Ctx<'_, Self>) {
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

    fn route(&self, s: &mut ChainState, op: OpId, what: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        let target = match what {
            RegisterOp::Write(_) => s.head(),
            RegisterOp::Read => s.tail(),
        };
        let Some(target) = target else {
            return;
        };
        if target == ctx.id() {
            self.serve(s, target, op, what, ctx);
        } else {
            ctx.send(target, ChainMsg::Forward { op, what });
        }
    }

    fn serve(
        &self,
        s: &mut ChainState,
        origin: NodeId,
        op: OpId,
        what: RegisterOp,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let me = ctx.id();
        if me == MASTER || !s.caught_up {
            return;
        }
        match what {
            RegisterOp::Write(value) => {
                if s.head() != Some(me) {
                    return;
                }
                if let Some(i) = s.log.iter().position(|e| e.id == op) {
                    if (i as u64) < s.stable {
                        self.answer(s, origin, op, RegisterRet::WriteOk, ctx);
                    }
                    return;
                }
                let from = s.log.len() as u64;
                s.log.push(Entry { id: op, value });
                ctx.persist();
                self.applied(s, from, ctx);
            }
            RegisterOp::Read => {
                if !Chain::is_tail(s, me) {
                    return;
                }
                if self.leases && ctx.now() >= s.lease_until {
                    return;
                }
                let v = s.value();
                self.answer(s, origin, op, RegisterRet::ReadOk(v), ctx);
            }
        }
    }

    /// Entries `from..` were just appended (and persisted): pass them on, or, at the tail,
    /// answer their origins and tell the predecessor.
    fn applied(&self, s: &mut ChainState, from: u64, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let len = s.log.len() as u64;
        if Chain::is_tail(s, me) {
            for i in from.max(s.stable)..len {
                let e = s.log[i as usize];
                self.answer(s, e.id.origin, e.id, RegisterRet::WriteOk, ctx);
            }
            s.stable = len;
            if let Some(p) = s.pred(me) {
                ctx.send(
                    p,
                    ChainMsg::Ack {
                        epoch: s.epoch,
                        have: len,
                        stable: len,
                    },
                );
            }
        } else if let Some(q) = s.succ(me) {
            ctx.send(
                q,
                ChainMsg::Update {
                    epoch: s.epoch,
                    from,
                    entries: s.log[from as usize..].to_vec(),
                },
            );
        }
    }

    fn install(&self, s: &mut ChainState, epoch: u64, chain: Vec<NodeId>, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let was_member = s.position(me).is_some();
        let was_tail = Chain::is_tail(s, me);
        s.epoch = epoch;
        s.chain = chain;
        let member = s.position(me).is_some();
        if me != MASTER && was_member && !member {
            // Removed: whatever this node holds beyond the chain's history was never
            // acknowledged; it rejoins empty.
            s.log.clear();
            s.caught_up = false;
            s.stable = 0;
        }
        if !(was_tail && Chain::is_tail(s, me)) {
            s.lease_until = Instant::ZERO;
        }
        // The successor may have been removed and wiped in an epoch this node never saw, even
        // if it is the same node again: resend from the start until it acknowledges.
        s.succ_have = 0;
        if Chain::is_tail(s, me) {
            s.stable = s.log.len() as u64;
        }
        ctx.persist();
    }

    fn master_tick(&self, s: &mut ChainState, ctx: &mut Ctx<'_, Self>) {
        let now = ctx.now();
        let Some(m) = &s.master else {
            return;
        };
        let alive = |q: &NodeId| {
            m.heard
                .get(q)
                .is_some_and(|h| now.saturating_since(h.at) < self.suspect_after)
        };
        let caught = |q: &NodeId| m.heard.get(q).is_some_and(|h| h.caught_up && h.member);
        let mut desired: Vec<NodeId> = s.chain.iter().copied().filter(alive).collect();
        if desired.is_empty() || !desired.iter().any(caught) {
            desired = s.chain.clone();
        }
        if desired == s.chain && desired.iter().all(caught) {
            let joiner = NodeId::all(ctx.n()).find(|q| {
                *q != MASTER
                    && !s.chain.contains(q)
                    && alive(q)
                    && m.heard
                        .get(q)
                        .is_some_and(|h| h.epoch == s.epoch && !h.member)
            });
            if let Some(j) = joiner {
                desired.push(j);
            }
        }
        let same_tail = desired.last() == s.chain.last();
        let install =
            desired != s.chain && (same_tail || !self.leases || now >= m.tail_lease_until);
        if install {
            let epoch = s.epoch + 1;
            self.install(s, epoch, desired, ctx);
        }
        if let Some(m) = &mut s.master {
            // Leases go to the tail only while no change of tail is pending.
            m.granting = install || same_tail;
        }
        for q in NodeId::all(ctx.n()).filter(|&q| q != MASTER) {
            ctx.send(
                q,
                ChainMsg::Config {
                    epoch: s.epoch,
                    chain: s.chain.clone(),
                },
            );
        }
    }

    fn node_tick(&self, s: &mut ChainState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let member = s.position(me).is_some();
        ctx.send(
            MASTER,
            ChainMsg::Heartbeat {
                epoch: s.epoch,
                at: ctx.now(),
                caught_up: s.caught_up,
                member,
            },
        );
        if !member {
            return;
        }
        let len = s.log.len() as u64;
        if let Some(q) = s.succ(me) {
            if s.succ_have < len {
                let end = len.min(s.succ_have + 64);
                ctx.send(
                    q,
                    ChainMsg::Update {
                        epoch: s.epoch,
                        from: s.succ_have,
                        entries: s.log[s.succ_have as usize..end as usize].to_vec(),
                    },
                );
            }
            ctx.send(
                q,
                ChainMsg::Sync {
                    epoch: s.epoch,
                    upto: len,
                },
            );
        }
        if let Some(p) = s.pred(me) {
            ctx.send(
                p,
                ChainMsg::Ack {
                    epoch: s.epoch,
                    have: len,
                    stable: s.stable.min(len),
                },
            );
        }
    }
}

impl Protocol for Chain {
    type Msg = ChainMsg;
    type Timer = ChainTimer;
    type Request = RegisterReq;
    type Indication = RegisterResp;
    type State = ChainState;
    type Durable = ChainDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> ChainState {
        self.start(&ChainDurable::default(), false, ctx)
    }

    fn durable(&self, s: &ChainState) -> ChainDurable {
        ChainDurable {
            epoch: s.epoch,
            chain: s.chain.clone(),
            log: s.log.clone(),
            caught_up: s.caught_up,
        }
    }

    fn recover(&self, d: &ChainDurable, ctx: &mut Ctx<'_, Self>) -> ChainState {
        self.start(d, true, ctx)
    }

    fn on_message(&self, s: &mut ChainState, from: NodeId, msg: ChainMsg, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        if from.index() >= ctx.n() || from == me {
            return;
        }
        match msg {
            ChainMsg::Forward { op, what } => {
                if op.origin == from {
                    self.serve(s, from, op, what, ctx);
                }
            }
            ChainMsg::Reply { op, ret } => {
                if op.origin == me {
                    self.deliver(s, op, ret, ctx);
                }
            }
            ChainMsg::Update {
                epoch,
                from: at,
                entries,
            } => {
                if epoch != s.epoch || s.pred(me) != Some(from) {
                    return;
                }
                let len = s.log.len() as u64;
                if at > len {
                    // A gap: tell the predecessor where to resend from.
                    ctx.send(
                        from,
                        ChainMsg::Ack {
                            epoch,
                            have: len,
                            stable: s.stable.min(len),
                        },
                    );
                    return;
                }
                let skip = (len - at) as usize;
                if entries.len() > skip {
                    s.log.extend(entries.into_iter().skip(skip));
                    ctx.persist();
                    self.applied(s, len, ctx);
                } else if Chain::is_tail(s, me) {
                    ctx.send(
                        from,
                        ChainMsg::Ack {
                            epoch,
                            have: len,
                            stable: len,
                        },
                    );
                }
            }
            ChainMsg::Ack {
                epoch,
                have,
                stable,
            } => {
                if epoch != s.epoch || s.succ(me) != Some(from) {
                    return;
                }
                let len = s.log.len() as u64;
                // The latest word wins: an ack below an earlier one (a successor that lost
                // entries, a reordered ack) only makes this node resend more.
                s.succ_have = have.min(len);
                let stable = stable.min(len);
                if stable > s.stable {
                    s.stable = stable;
                    if let Some(p) = s.pred(me) {
                        ctx.send(
                            p,
                            ChainMsg::Ack {
                                epoch,
                                have: len,
                                stable,
                            },
                        );
                    }
                }
            }
            ChainMsg::Sync { epoch, upto } => {
                if epoch == s.epoch
                    && s.pred(me) == Some(from)
                    && !s.caught_up
                    && s.log.len() as u64 >= upto
                {
                    s.caught_up = true;
                    ctx.persist();
                }
            }
            ChainMsg::Config { epoch, chain } => {
                if from == MASTER && me != MASTER && epoch > s.epoch {
                    self.install(s, epoch, chain, ctx);
                }
            }
            ChainMsg::Heartbeat {
                epoch,
                at,
                caught_up,
                member,
            } => {
                let now = ctx.now();
                let guard = self.lease.guard();
                let tail = s.tail();
                let current = s.epoch;
                let Some(m) = &mut s.master else {
                    return;
                };
                if m.heard.get(&from).is_some_and(|h| at <= h.sent) {
                    return; // older than what we know
                }
                m.heard.insert(
                    from,
                    Heard {
                        at: now,
                        sent: at,
                        epoch,
                        caught_up,
                        member,
                    },
                );
                if m.granting && tail == Some(from) && epoch == current && caught_up {
                    m.tail_lease_until = m.tail_lease_until.max(now + guard);
                    ctx.send(from, ChainMsg::LeaseGrant { epoch, at });
                }
            }
            ChainMsg::LeaseGrant { epoch, at } => {
                if from == MASTER && epoch == s.epoch && Chain::is_tail(s, me) && at <= ctx.now() {
                    s.lease_until = s.lease_until.max(at + self.lease.duration);
                }
            }
        }
    }

    fn on_timer(&self, s: &mut ChainState, _timer: ChainTimer, ctx: &mut Ctx<'_, Self>) {
        let ops: Vec<(OpId, RegisterOp)> = s.pending.iter().map(|(o, r)| (*o, r.op())).collect();
        for (op, what) in ops {
            self.route(s, op, what, ctx);
        }
        if s.master.is_some() {
            self.master_tick(s, ctx);
        } else {
            self.node_tick(s, ctx);
        }
        ctx.set_timer(ChainTimer::Tick, self.tick);
    }

    fn on_request(&self, s: &mut ChainState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
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

    fn invariants(&self, s: &ChainState) {
        assert!(
            s.master.is_some() || s.log.len() as u64 >= s.succ_have,
            "Chain: the successor acknowledged more than this node holds"
        );
    }
}

impl ClientOps for Chain {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    fn response(ind: &RegisterResp) -> Option<(ClientId, RegisterRet)> {
        Some((ind.client(), ind.ret()))
    }
}
