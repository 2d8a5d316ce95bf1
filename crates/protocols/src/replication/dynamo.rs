//! Dynamo-style quorum replication (DeCandia et al., SOSP 2007): N replicas, W write
//! acknowledgements, R read replies, last-writer-wins versions, read repair, and sloppy quorums
//! with hinted handoff.
//!
//! **Model.** n nodes (at most [`crate::consensus::NodeSet::MAX_NODES`]), asynchronous message passing over
//! fair-loss links (messages may be lost, duplicated, reordered), crash-recovery (a node's
//! stored version, hints and operation counter are on stable storage), partitions. Dynamo
//! chooses *availability over consistency*: an operation that cannot gather its quorum in time
//! is abandoned, never blocked for ever, and with a sloppy quorum it is not even abandoned.
//! Clients are external: an operation arrives as a [`RegisterReq`] at any node, which
//! *coordinates* it and answers with a [`RegisterResp`] (the register vocabulary of
//! [`crate::register`]: one key, one value).
//!
//! **Placement.** One key, placed by consistent hashing at ring position 0: its *preference
//! list* is the first N nodes of the ring, `n0 .. n(N-1)` ([`Dynamo::preference_list`]); the
//! nodes after them, `nN .. n(n-1)`, are the *fallbacks* a sloppy quorum borrows, in ring order
//! ([`Dynamo::fallbacks`]). Any node may coordinate (real Dynamo forwards to a node of the
//! preference list; here a coordinator outside it simply takes no local part).
//!
//! **Versions: last writer wins.** A replica stores one [`Version`]: a value and a [`Stamp`]
//! `(counter, node)` ordered lexicographically, and keeps the larger of what it holds and what
//! it is offered. No wall clock is involved: a write first *queries* R replicas for their
//! versions (Dynamo's get-the-context-then-put; the coordinator counts itself when it is a
//! replica, so at R = 1 the query is local), then stamps its value with
//! `(max(largest counter seen, coordinator's clock) + 1, coordinator)` and *stores* it at the N
//! replicas, answering `WriteOk` after W acknowledgements (the coordinator's own store counts).
//! Every node's `clock` is the largest counter it has seen or issued (a Lamport clock), so
//! stamps are unique and a write that starts after another completed gets a larger stamp
//! whenever its query quorum meets the earlier write quorum (R + W > N). **Known anomaly**:
//! two *concurrent* writes may both be acknowledged while the one with the smaller stamp is
//! silently overwritten everywhere (a lost update). Dynamo proper keeps both as siblings under
//! version vectors and lets the application merge them; that variant is not implemented here
//! (the register vocabulary has one value per read).
//!
//! **Reads.** Query the N replicas, answer with the newest version among the first R replies.
//! *Read repair* ([`ReadRepair`]):
//!
//! - [`ReadRepair::Off`]: nothing more;
//! - [`ReadRepair::Async`] (Dynamo's): the coordinator sends the newest version to the stale
//!   replicas it heard from, without waiting (replies that arrive after the answer are
//!   repaired too);
//! - [`ReadRepair::WriteBack`]: the coordinator makes sure W replicas hold the newest version
//!   *before* answering (sending it to every replica not known to hold it): ABD's
//!   "read-impose" phase. With R + W > N and strict quorums reads then become atomic
//!   (linearizable): a later read's quorum meets the write-back quorum, so no new/old inversion.
//!
//! **Timeouts and sloppy quorums.** Each phase of an operation resends its message to the
//! nodes that have not replied every [`Dynamo::retry`] (the links may lose messages), and the
//! operation is abandoned at [`Dynamo::deadline`]: it is then never answered, an *incomplete*
//! operation in the client history (the register vocabulary has no failure response; a client
//! may not know whether its write took effect, as with any timeout). With a *sloppy quorum*
//! ([`Dynamo::with_sloppy`]), a preference-list node that has not replied at a retry is
//! replaced by the next unused fallback on the ring: reads query it, writes store there with a
//! *hint* naming the intended replica. A node holding hints offers them to their owners every
//! [`Dynamo::handoff_period`] ([`DynamoMsg::Handoff`]) and drops a hint once it is
//! acknowledged: *hinted handoff*. A fallback also keeps the hinted version in its own store,
//! so it answers reads with it.
//!
//! **Properties.** Judged on the client history (in the lab, with
//! `synod_consistency::checkers::register_semantics` and the linearizability checker):
//!
//! - with R + W > N and strict quorums, every read quorum meets the quorum of every write that
//!   completed before the read began, so a read returns the last completed write or a
//!   concurrent one: **regular** (the per-read multi-writer condition), and no *stale read* (a
//!   read that misses a write completed before it was invoked);
//! - not **linearizable** under concurrency without write-back (a read can see a write in
//!   progress and a later read miss it: a new/old inversion); with
//!   [`ReadRepair::WriteBack`], linearizable;
//! - with R + W ≤ N, stale reads, fewer as the time since the write grows (the PBS effect);
//! - with a sloppy quorum under a partition, stale reads even with R + W > N: the write quorum
//!   and the read quorum are drawn from different sides of the partition;
//! - *termination* is not promised: an operation is answered if its quorum replies before the
//!   deadline.
//!
//! **Cost.** Every phase sends its request to the N replicas other than the coordinator and
//! each replies, whatever R and W are (they only say how many replies are *waited for*): with
//! n = N = 3 and no faults a write (query + store) costs 4(N − 1) = 8 messages and a read
//! 2(N − 1) = 4, plus one store and one acknowledgement per stale replica repaired (a write-back
//! read that must impose its version adds its store round). Retries resend to the silent.
//!
//! **Read:** DeCandia et al., "Dynamo: Amazon's highly available key-value store", SOSP 2007;
//! Kleppmann, *Designing Data-Intensive Applications* (DDIA) ch. 5 ("Leaderless replication":
//! quorums, sloppy quorums and hinted handoff, read repair, last write wins, version vectors);
//! Vukolić, *Quorum Systems* (2012); Bailis et al., "Probabilistically bounded staleness for
//! practical partial quorums", VLDB 2012 (PBS); Attiya, Bar-Noy and Dolev 1995 (the
//! write-back); Lamport 1986 (regular and atomic registers).

use crate::consensus::assert_fits_node_set;
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::fmt;
use synod_core::{ClientId, ClientOps, Ctx, Duration, NodeId, Protocol};

/// A last-writer-wins stamp `(counter, node)`, ordered by counter, then by node id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// The counter: one more than the largest the coordinator had seen.
    pub counter: u64,
    /// The node that coordinated the write.
    pub node: NodeId,
}

impl Stamp {
    /// The stamp of the initial, empty register.
    pub const ZERO: Stamp = Stamp {
        counter: 0,
        node: NodeId(0),
    };
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.counter, self.node)
    }
}

/// A stamped value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Its stamp.
    pub stamp: Stamp,
    /// The value (`None`: the initial, empty register).
    pub value: Option<u64>,
}

impl Version {
    /// The initial, empty register.
    pub const INITIAL: Version = Version {
        stamp: Stamp::ZERO,
        value: None,
    };
}

/// Dynamo's messages; `op` is the coordinator's operation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DynamoMsg {
    /// "Send me your version" (a read, or a write's version query).
    Query {
        /// The operation.
        op: u64,
    },
    /// The reply to `Query`.
    QueryReply {
        /// The operation.
        op: u64,
        /// The replier's version.
        version: Version,
    },
    /// "Store this version if it is newer than yours" (a write, a write-back, a read repair);
    /// `hint`: the replica it is meant for, when sent to a fallback.
    Store {
        /// The operation.
        op: u64,
        /// The version.
        version: Version,
        /// The intended replica, if the receiver stands in for it.
        hint: Option<NodeId>,
    },
    /// The reply to `Store`.
    StoreAck {
        /// The operation.
        op: u64,
    },
    /// Hinted handoff: a fallback hands a version to the replica it was meant for.
    Handoff {
        /// The version.
        version: Version,
    },
    /// The reply to `Handoff`: "I hold this stamp or a larger one".
    HandoffAck {
        /// The stamp handed off.
        stamp: Stamp,
    },
}

impl DynamoMsg {
    /// The coordinator-local operation id the message serves (`None` for handoff traffic).
    pub fn op(&self) -> Option<u64> {
        match *self {
            DynamoMsg::Query { op }
            | DynamoMsg::QueryReply { op, .. }
            | DynamoMsg::Store { op, .. }
            | DynamoMsg::StoreAck { op } => Some(op),
            DynamoMsg::Handoff { .. } | DynamoMsg::HandoffAck { .. } => None,
        }
    }

    /// True for hinted-handoff traffic (not on behalf of any client operation).
    pub fn is_handoff(&self) -> bool {
        self.op().is_none()
    }
}

/// Dynamo's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DynamoTimer {
    /// Resend the current phase of operation `op` to the nodes that have not replied (and, in
    /// a sloppy quorum, recruit fallbacks).
    Retry(u64),
    /// Abandon operation `op` if it is still running.
    Deadline(u64),
    /// Offer the hints held to their replicas.
    Handoff,
}

/// What a read does about the stale replicas it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadRepair {
    /// Nothing.
    Off,
    /// Send the newest version to the stale replicas heard from, without waiting (Dynamo).
    Async,
    /// Make sure W replicas hold the newest version before answering (ABD's write-back): reads
    /// become atomic with R + W > N and strict quorums.
    WriteBack,
}

/// Where an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DynamoPhase {
    /// Gathering versions (R replies).
    Query,
    /// Storing a version (W acknowledgements).
    Store,
}

/// The operation a node coordinates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DynamoCoord {
    /// Its id ([`DynamoState::ops`] when it started).
    pub op: u64,
    /// The client it answers.
    pub client: u64,
    /// What the client asked.
    pub input: RegisterOp,
    /// Where the operation is.
    pub phase: DynamoPhase,
    /// The nodes asked in this phase, each with the replica it stands in for (`None`: it is a
    /// replica of the preference list).
    pub asked: Vec<(NodeId, Option<NodeId>)>,
    /// The nodes that replied in this phase, with (query phase) the stamp each reported.
    pub replies: Vec<(NodeId, Stamp)>,
    /// Query phase: the newest version replied so far; store phase: the version stored.
    pub best: Version,
}

impl DynamoCoord {
    fn replied(&self, p: NodeId) -> bool {
        self.replies.iter().any(|(q, _)| *q == p)
    }
}

/// A version held for a replica that could not be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hint {
    /// The replica it is meant for.
    pub owner: NodeId,
    /// The newest version held for it.
    pub version: Version,
}

/// What a node keeps on stable storage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DynamoDurable {
    /// The stored version (`None` before anything was persisted).
    pub version: Option<Version>,
    /// The node's Lamport clock.
    pub clock: u64,
    /// Operations started.
    pub ops: u64,
    /// Hints held.
    pub hints: Vec<Hint>,
}

/// One node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DynamoState {
    /// The stored version.
    pub version: Version,
    /// The largest stamp counter seen or issued.
    pub clock: u64,
    /// Operations started (the current one's id).
    pub ops: u64,
    /// The operation this node coordinates.
    pub current: Option<DynamoCoord>,
    /// Client operations waiting for the current one, oldest first.
    pub queue: Vec<(u64, RegisterOp)>,
    /// The last read answered and the version it returned: late replies older than it are
    /// repaired (unless read repair is off).
    pub repair: Option<(u64, Version)>,
    /// Hints held for unreachable replicas, one per owner.
    pub hints: Vec<Hint>,
    /// True while a [`DynamoTimer::Handoff`] is pending.
    pub handoff_armed: bool,
}

impl DynamoState {
    /// Keeps `v` if it is newer; advances the clock. True if the stored version changed.
    fn store(&mut self, v: Version) -> bool {
        self.clock = self.clock.max(v.stamp.counter);
        if v.stamp > self.version.stamp {
            self.version = v;
            true
        } else {
            false
        }
    }
}

/// Dynamo-style replication of one key (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dynamo {
    /// N: replicas of the key (clamped to the run's node count).
    pub replicas: usize,
    /// R: replies a read (and a write's version query) waits for.
    pub r: usize,
    /// W: acknowledgements a write (and a write-back) waits for.
    pub w: usize,
    /// Sloppy quorum: replace unresponsive replicas with fallbacks, with hinted handoff.
    pub sloppy: bool,
    /// What reads do about stale replicas.
    pub read_repair: ReadRepair,
    /// How long a phase waits before resending (and recruiting fallbacks).
    pub retry: Duration,
    /// How long an operation may run before it is abandoned (never answered).
    pub deadline: Duration,
    /// How often hints are offered to their replicas.
    pub handoff_period: Duration,
}

impl Default for Dynamo {
    /// N = 3, R = 2, W = 2, strict quorum, asynchronous read repair.
    fn default() -> Dynamo {
        Dynamo::new(3, 2, 2)
    }
}

impl Dynamo {
    /// N replicas, reads wait for `r` replies, writes for `w` acknowledgements (both clamped to
    /// `1..=N` at run time); strict quorum, asynchronous read repair, last writer wins; resend
    /// every 40 ms, abandon after 1 s, hand off every 100 ms.
    pub fn new(replicas: usize, r: usize, w: usize) -> Dynamo {
        Dynamo {
            replicas,
            r,
            w,
            sloppy: false,
            read_repair: ReadRepair::Async,
            retry: Duration::from_millis(40),
            deadline: Duration::from_secs(1),
            handoff_period: Duration::from_millis(100),
        }
    }

    /// The same with (`true`) or without a sloppy quorum and hinted handoff.
    pub fn with_sloppy(self, sloppy: bool) -> Dynamo {
        Dynamo { sloppy, ..self }
    }

    /// The same with read repair `read_repair`.
    pub fn with_read_repair(self, read_repair: ReadRepair) -> Dynamo {
        Dynamo {
            read_repair,
            ..self
        }
    }

    /// The same with other timeouts: resend after `retry`, abandon after `deadline`.
    pub fn with_timeouts(self, retry: Duration, deadline: Duration) -> Dynamo {
        Dynamo {
            retry,
            deadline,
            ..self
        }
    }

    /// N in a run of `n` nodes.
    pub fn n_replicas(&self, n: usize) -> usize {
        self.replicas.clamp(1, n.max(1))
    }

    /// R in a run of `n` nodes.
    pub fn read_quorum(&self, n: usize) -> usize {
        self.r.clamp(1, self.n_replicas(n))
    }

    /// W in a run of `n` nodes.
    pub fn write_quorum(&self, n: usize) -> usize {
        self.w.clamp(1, self.n_replicas(n))
    }

    /// True if every read quorum meets every write quorum (R + W > N): strict quorums then
    /// give regular reads.
    pub fn quorums_overlap(&self, n: usize) -> bool {
        self.read_quorum(n) + self.write_quorum(n) > self.n_replicas(n)
    }

    /// The key's preference list in a run of `n` nodes: the first N nodes of the ring.
    pub fn preference_list(&self, n: usize) -> Vec<NodeId> {
        (0..self.n_replicas(n) as u32).map(NodeId).collect()
    }

    /// The fallbacks a sloppy quorum recruits, in ring order.
    pub fn fallbacks(&self, n: usize) -> Vec<NodeId> {
        (self.n_replicas(n) as u32..n as u32).map(NodeId).collect()
    }

    /// A short description: `N=3 R=2 W=2 strict|sloppy read-repair=...`.
    pub fn describe(&self) -> String {
        format!(
            "N={} R={} W={} {} read-repair={}",
            self.replicas,
            self.r,
            self.w,
            if self.sloppy { "sloppy" } else { "strict" },
            match self.read_repair {
                ReadRepair::Off => "off",
                ReadRepair::Async => "async",
                ReadRepair::WriteBack => "write-back",
            }
        )
    }

    /// Starts a client operation now, or queues it.
    fn accept(&self, s: &mut DynamoState, client: u64, input: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        if s.current.is_some() {
            s.queue.push((client, input));
        } else {
            self.start(s, client, input, ctx);
        }
    }

    fn start(&self, s: &mut DynamoState, client: u64, input: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        s.ops += 1;
        ctx.persist(); // operation ids never repeat across a crash
        let op = s.ops;
        s.current = Some(DynamoCoord {
            op,
            client,
            input,
            phase: DynamoPhase::Query,
            asked: Vec::new(),
            replies: Vec::new(),
            best: Version::INITIAL,
        });
        ctx.set_timer(DynamoTimer::Deadline(op), self.deadline);
        let targets: Vec<(NodeId, Option<NodeId>)> = self
            .preference_list(ctx.n())
            .into_iter()
            .map(|p| (p, None))
            .collect();
        self.begin_phase(s, DynamoPhase::Query, targets, ctx);
    }

    /// Sends the current phase's message to `targets` (handling our own part locally), arms
    /// the retry timer, and sees whether the phase is already complete.
    fn begin_phase(
        &self,
        s: &mut DynamoState,
        phase: DynamoPhase,
        targets: Vec<(NodeId, Option<NodeId>)>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let Some(c) = s.current.as_mut() else { return };
        c.phase = phase;
        let op = c.op;
        for &t in &targets {
            c.asked.push(t);
        }
        for (to, hint) in targets {
            self.ask(s, op, to, hint, ctx);
        }
        ctx.set_timer(DynamoTimer::Retry(op), self.retry);
        self.progress(s, ctx);
    }

    /// Sends the current phase's request to `to` (or handles it here if `to` is us).
    fn ask(
        &self,
        s: &mut DynamoState,
        op: u64,
        to: NodeId,
        hint: Option<NodeId>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let Some(c) = s.current.as_ref() else { return };
        let (phase, best) = (c.phase, c.best);
        if to == ctx.id() {
            match phase {
                DynamoPhase::Query => {
                    let v = s.version;
                    self.on_query_reply(s, to, op, v);
                }
                DynamoPhase::Store => {
                    if s.store(best) {
                        ctx.persist();
                    }
                    if let Some(owner) = hint {
                        self.keep_hint(s, owner, best, ctx);
                    }
                    if let Some(c) = s.current.as_mut() {
                        if !c.replied(to) {
                            c.replies.push((to, best.stamp));
                        }
                    }
                }
            }
        } else {
            match phase {
                DynamoPhase::Query => ctx.send(to, DynamoMsg::Query { op }),
                DynamoPhase::Store => ctx.send(
                    to,
                    DynamoMsg::Store {
                        op,
                        version: best,
                        hint,
                    },
                ),
            }
        }
    }

    /// Records a query reply (no completion check).
    fn on_query_reply(&self, s: &mut DynamoState, from: NodeId, op: u64, v: Version) {
        s.clock = s.clock.max(v.stamp.counter);
        let Some(c) = s.current.as_mut() else { return };
        if c.op != op || c.phase != DynamoPhase::Query || c.replied(from) {
            return;
        }
        c.replies.push((from, v.stamp));
        if v.stamp > c.best.stamp {
            c.best = v;
        }
    }

    fn keep_hint(&self, s: &mut DynamoState, owner: NodeId, v: Version, ctx: &mut Ctx<'_, Self>) {
        if owner == ctx.id() || owner.index() >= ctx.n() {
            return;
        }
        match s.hints.iter_mut().find(|h| h.owner == owner) {
            Some(h) if h.version.stamp >= v.stamp => return,
            Some(h) => h.version = v,
            None => s.hints.push(Hint { owner, version: v }),
        }
        ctx.persist();
        if !s.handoff_armed {
            s.handoff_armed = true;
            ctx.set_timer(DynamoTimer::Handoff, self.handoff_period);
        }
    }

    /// Moves the current operation on if its phase has its quorum.
    fn progress(&self, s: &mut DynamoState, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.n();
        let me = ctx.id();
        let Some(c) = s.current.as_mut() else { return };
        match c.phase {
            DynamoPhase::Query if c.replies.len() >= self.read_quorum(n) => match c.input {
                RegisterOp::Write(v) => {
                    let counter = c.best.stamp.counter.max(s.clock).saturating_add(1);
                    s.clock = counter;
                    c.best = Version {
                        stamp: Stamp { counter, node: me },
                        value: Some(v),
                    };
                    c.replies.clear();
                    c.asked.clear();
                    let targets = self.preference_list(n).into_iter().map(|p| (p, None));
                    self.begin_phase(s, DynamoPhase::Store, targets.collect(), ctx);
                }
                RegisterOp::Read => {
                    let best = c.best;
                    let op = c.op;
                    let stale: Vec<NodeId> = c
                        .replies
                        .iter()
                        .filter(|(_, st)| *st < best.stamp)
                        .map(|(p, _)| *p)
                        .collect();
                    let holders = c.replies.len() - stale.len();
                    match self.read_repair {
                        ReadRepair::WriteBack if holders < self.write_quorum(n) => {
                            // Impose the newest version on W replicas before answering; those
                            // that already hold it count.
                            c.replies.retain(|(_, st)| *st == best.stamp);
                            c.asked.clear();
                            let targets: Vec<(NodeId, Option<NodeId>)> = self
                                .preference_list(n)
                                .into_iter()
                                .filter(|p| !c.replied(*p))
                                .map(|p| (p, None))
                                .collect();
                            self.begin_phase(s, DynamoPhase::Store, targets, ctx);
                        }
                        ReadRepair::Off => self.answer(s, ctx),
                        _ => {
                            for p in stale {
                                if p == me {
                                    if s.store(best) {
                                        ctx.persist();
                                    }
                                } else {
                                    ctx.send(
                                        p,
                                        DynamoMsg::Store {
                                            op,
                                            version: best,
                                            hint: None,
                                        },
                                    );
                                }
                            }
                            self.answer(s, ctx);
                        }
                    }
                }
            },
            DynamoPhase::Store if c.replies.len() >= self.write_quorum(n) => self.answer(s, ctx),
            _ => {}
        }
    }

    /// Answers the current operation's client and starts the next queued one.
    fn answer(&self, s: &mut DynamoState, ctx: &mut Ctx<'_, Self>) {
        let Some(c) = s.current.take() else { return };
        ctx.cancel_timer(DynamoTimer::Retry(c.op));
        ctx.cancel_timer(DynamoTimer::Deadline(c.op));
        let resp = match c.input {
            RegisterOp::Write(_) => RegisterResp::WriteOk { client: c.client },
            RegisterOp::Read => {
                if self.read_repair != ReadRepair::Off {
                    s.repair = Some((c.op, c.best));
                }
                RegisterResp::ReadOk {
                    client: c.client,
                    value: c.best.value,
                }
            }
        };
        ctx.indicate(resp);
        self.next(s, ctx);
    }

    fn next(&self, s: &mut DynamoState, ctx: &mut Ctx<'_, Self>) {
        if !s.queue.is_empty() {
            let (client, input) = s.queue.remove(0);
            self.start(s, client, input, ctx);
        }
    }

    /// Retry: resend to the silent, recruit fallbacks for silent replicas (sloppy).
    fn retry_phase(&self, s: &mut DynamoState, op: u64, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.n();
        let Some(c) = s.current.as_mut() else { return };
        if c.op != op {
            return;
        }
        let silent: Vec<(NodeId, Option<NodeId>)> = c
            .asked
            .iter()
            .filter(|(p, _)| !c.replied(*p))
            .copied()
            .collect();
        let mut fresh = Vec::new();
        if self.sloppy {
            let mut used: Vec<NodeId> = c.asked.iter().map(|(p, _)| *p).collect();
            let covered: Vec<NodeId> = c.asked.iter().filter_map(|(_, h)| *h).collect();
            for &(p, hint) in &silent {
                if hint.is_some() || covered.contains(&p) {
                    continue; // a fallback already, or already replaced
                }
                if let Some(f) = self.fallbacks(n).into_iter().find(|f| !used.contains(f)) {
                    used.push(f);
                    fresh.push((f, Some(p)));
                }
            }
            c.asked.extend(fresh.iter().copied());
        }
        for (p, hint) in silent.into_iter().chain(fresh) {
            self.ask(s, op, p, hint, ctx);
        }
        if s.current.as_ref().is_some_and(|c| c.op == op) {
            ctx.set_timer(DynamoTimer::Retry(op), self.retry);
            self.progress(s, ctx);
        }
    }
}

impl Protocol for Dynamo {
    type Msg = DynamoMsg;
    type Timer = DynamoTimer;
    type Request = RegisterReq;
    type Indication = RegisterResp;
    type State = DynamoState;
    type Durable = DynamoDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> DynamoState {
        assert_fits_node_set("Dynamo", ctx.n());
        DynamoState {
            version: Version::INITIAL,
            clock: 0,
            ops: 0,
            current: None,
            queue: Vec::new(),
            repair: None,
            hints: Vec::new(),
            handoff_armed: false,
        }
    }

    fn on_message(
        &self,
        s: &mut DynamoState,
        from: NodeId,
        msg: DynamoMsg,
        ctx: &mut Ctx<'_, Self>,
    ) {
        if from.index() >= ctx.n() || from == ctx.id() {
            return; // not a peer of this run
        }
        match msg {
            DynamoMsg::Query { op } => ctx.send(
                from,
                DynamoMsg::QueryReply {
                    op,
                    version: s.version,
                },
            ),
            DynamoMsg::QueryReply { op, version } => {
                if let Some((rop, best)) = s.repair {
                    if rop == op && version.stamp < best.stamp {
                        // A late reply to the last read: repair the replica.
                        ctx.send(
                            from,
                            DynamoMsg::Store {
                                op,
                                version: best,
                                hint: None,
                            },
                        );
                    }
                }
                self.on_query_reply(s, from, op, version);
                self.progress(s, ctx);
            }
            DynamoMsg::Store { op, version, hint } => {
                if s.store(version) {
                    ctx.persist();
                }
                if let Some(owner) = hint {
                    self.keep_hint(s, owner, version, ctx);
                }
                ctx.send(from, DynamoMsg::StoreAck { op });
            }
            DynamoMsg::StoreAck { op } => {
                let Some(c) = s.current.as_mut() else { return };
                if c.op != op || c.phase != DynamoPhase::Store || c.replied(from) {
                    return;
                }
                // Only nodes asked in this phase count (not a stale repair's ack).
                if !c.asked.iter().any(|(p, _)| *p == from) {
                    return;
                }
                c.replies.push((from, c.best.stamp));
                self.progress(s, ctx);
            }
            DynamoMsg::Handoff { version } => {
                if s.store(version) {
                    ctx.persist();
                }
                ctx.send(
                    from,
                    DynamoMsg::HandoffAck {
                        stamp: version.stamp,
                    },
                );
            }
            DynamoMsg::HandoffAck { stamp } => {
                let before = s.hints.len();
                s.hints
                    .retain(|h| !(h.owner == from && h.version.stamp <= stamp));
                if s.hints.len() != before {
                    ctx.persist();
                }
            }
        }
    }

    fn on_timer(&self, s: &mut DynamoState, timer: DynamoTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            DynamoTimer::Retry(op) => self.retry_phase(s, op, ctx),
            DynamoTimer::Deadline(op) => {
                if s.current.as_ref().is_some_and(|c| c.op == op) {
                    // Abandoned: the client is never answered (an incomplete operation).
                    s.current = None;
                    ctx.cancel_timer(DynamoTimer::Retry(op));
                    self.next(s, ctx);
                }
            }
            DynamoTimer::Handoff => {
                for h in &s.hints {
                    ctx.send(h.owner, DynamoMsg::Handoff { version: h.version });
                }
                s.handoff_armed = !s.hints.is_empty();
                if s.handoff_armed {
                    ctx.set_timer(DynamoTimer::Handoff, self.handoff_period);
                }
            }
        }
    }

    fn on_request(&self, s: &mut DynamoState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        self.accept(s, req.client(), req.op(), ctx);
    }

    fn durable(&self, s: &DynamoState) -> DynamoDurable {
        DynamoDurable {
            version: Some(s.version),
            clock: s.clock,
            ops: s.ops,
            hints: s.hints.clone(),
        }
    }

    fn recover(&self, d: &DynamoDurable, ctx: &mut Ctx<'_, Self>) -> DynamoState {
        let mut s = self.init(ctx);
        s.version = d.version.unwrap_or(Version::INITIAL);
        s.clock = d.clock.max(s.version.stamp.counter);
        s.ops = d.ops;
        s.hints = d.hints.clone();
        if !s.hints.is_empty() {
            s.handoff_armed = true;
            ctx.set_timer(DynamoTimer::Handoff, self.handoff_period);
        }
        s
    }

    fn invariants(&self, s: &DynamoState) {
        assert!(
            s.current.is_some() || s.queue.is_empty(),
            "Dynamo: idle with {} queued operation(s)",
            s.queue.len()
        );
        assert!(
            s.version.stamp.counter <= s.clock,
            "Dynamo: stored stamp {:?} ahead of the clock {}",
            s.version.stamp,
            s.clock
        );
        assert!(
            s.hints.is_empty() || s.handoff_armed,
            "Dynamo: hints held but no handoff scheduled"
        );
    }
}

impl ClientOps for Dynamo {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    fn response(ind: &RegisterResp) -> Option<(ClientId, RegisterRet)> {
        Some((ind.client(), ind.ret()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    fn step(
        d: &Dynamo,
        me: u32,
        n: usize,
        s: &mut DynamoState,
        f: impl FnOnce(&Dynamo, &mut DynamoState, &mut Ctx<'_, Dynamo>),
    ) -> Vec<Effect<Dynamo>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(me), n, Instant::ZERO, &mut fx, &mut ch);
        f(d, s, &mut ctx);
        d.invariants(s);
        fx
    }

    fn fresh(d: &Dynamo, me: u32, n: usize) -> DynamoState {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        d.init(&mut Ctx::new(
            NodeId(me),
            n,
            Instant::ZERO,
            &mut fx,
            &mut ch,
        ))
    }

    fn sends(fx: &[Effect<Dynamo>]) -> Vec<(NodeId, DynamoMsg)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((*to, *msg)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn r1_w1_answers_locally_at_once() {
        let d = Dynamo::new(3, 1, 1);
        let mut s = fresh(&d, 0, 3);
        let fx = step(&d, 0, 3, &mut s, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 1,
                    value: 7,
                },
                c,
            )
        });
        // The query is answered by the coordinator alone, the store goes to both others, and
        // the coordinator's own store is W = 1.
        assert!(fx.contains(&Effect::Indicate(RegisterResp::WriteOk { client: 1 })));
        let stores: Vec<_> = sends(&fx)
            .into_iter()
            .filter(|(_, m)| matches!(m, DynamoMsg::Store { .. }))
            .collect();
        assert_eq!(stores.len(), 2);
        assert_eq!(s.version.value, Some(7));
        assert_eq!(
            s.version.stamp,
            Stamp {
                counter: 1,
                node: NodeId(0)
            }
        );
    }

    #[test]
    fn a_write_stamps_above_the_largest_counter_it_heard() {
        let d = Dynamo::new(3, 2, 2);
        let mut s = fresh(&d, 1, 3);
        step(&d, 1, 3, &mut s, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 1,
                    value: 7,
                },
                c,
            )
        });
        let heard = Version {
            stamp: Stamp {
                counter: 9,
                node: NodeId(2),
            },
            value: Some(3),
        };
        let fx = step(&d, 1, 3, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(2),
                DynamoMsg::QueryReply {
                    op: 1,
                    version: heard,
                },
                c,
            )
        });
        let want = Stamp {
            counter: 10,
            node: NodeId(1),
        };
        assert_eq!(s.version.stamp, want);
        assert!(sends(&fx).iter().any(|(to, m)| *to == NodeId(0)
            && *m
                == DynamoMsg::Store {
                    op: 1,
                    version: Version {
                        stamp: want,
                        value: Some(7)
                    },
                    hint: None
                }));
        // One more ack makes W = 2 with the coordinator's own store.
        let fx = step(&d, 1, 3, &mut s, |p, s, c| {
            p.on_message(s, NodeId(2), DynamoMsg::StoreAck { op: 1 }, c)
        });
        assert!(fx.contains(&Effect::Indicate(RegisterResp::WriteOk { client: 1 })));
    }

    #[test]
    fn write_back_stores_before_answering() {
        let d = Dynamo::new(3, 2, 2).with_read_repair(ReadRepair::WriteBack);
        let mut s = fresh(&d, 0, 3);
        step(&d, 0, 3, &mut s, |p, s, c| {
            p.on_request(s, RegisterReq::Read { client: 4 }, c)
        });
        let newer = Version {
            stamp: Stamp {
                counter: 2,
                node: NodeId(1),
            },
            value: Some(5),
        };
        let fx = step(&d, 0, 3, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(1),
                DynamoMsg::QueryReply {
                    op: 1,
                    version: newer,
                },
                c,
            )
        });
        // Only n1 holds the newest: the coordinator stores it itself (2 of W = 2) and answers.
        assert_eq!(s.version, newer);
        assert!(fx.contains(&Effect::Indicate(RegisterResp::ReadOk {
            client: 4,
            value: Some(5)
        })));
    }
}
