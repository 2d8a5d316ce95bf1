//! Chandra–Toueg consensus: rotating coordinators and an eventually strong failure detector ◇S.
//!
//! **Model.** n processes, *crash-stop*, fewer than n/2 of which crash (f < n/2). Asynchronous
//! timing plus a failure detector of class ◇S: *strong completeness* (every crashed process is
//! eventually suspected by every correct one) and *eventual weak accuracy* (eventually some
//! correct process is never suspected by any correct one). Safety needs nothing of the detector
//! and nothing of timing; termination needs ◇S, which heartbeats only provide under partial
//! synchrony (after GST). The paper assumes reliable channels; here the network may lose,
//! duplicate and reorder, and the protocol retransmits ([`ChandraToueg::resend`]) what it is
//! waiting on. Every process proposes the value the configuration gives it ([`Proposals`]:
//! binary, distinct, or an explicit list) when it starts; there are no client requests.
//!
//! **The detector** is CGR's "Increasing Timeout" heartbeat detector, [`Heartbeat`] set up as
//! ◇P ([`Heartbeat::eventually_perfect`]; ◇P ⊂ ◇S, so it is more than the algorithm needs),
//! *embedded by delegation*: its heartbeats travel as [`CtMsg::Fd`], its timers as
//! [`CtTimer::Fd`], and its `Suspect`/`Restore` indications update the set of suspected
//! processes. (It is not stacked with [`synod_core::Stack`], which layers a protocol over a
//! *link*; the detector is a sibling module that talks to the network itself.)
//!
//! **Algorithm** (Chandra and Toueg 1996, Fig. 6). Rounds r = 1, 2, 3, …; the coordinator of
//! round r is `n(r mod n)` (the paper's `(r mod n) + 1`, with processes numbered from 1). Every
//! process keeps an *estimate* of the decision and its *timestamp*, the round in which it was
//! last adopted (0 for its own proposal).
//!
//! 1. Entering round r, a process sends [`CtMsg::Estimate`] `{ r, estimate, ts }` to the
//!    coordinator.
//! 2. The coordinator waits for the estimates of a majority (its own included), picks one with
//!    the **highest timestamp** and sends it to all as [`CtMsg::Propose`].
//! 3. A process waits for the coordinator's proposal *or* for its detector to suspect the
//!    coordinator. With the proposal, it adopts it (estimate := v, ts := r) and answers
//!    [`CtMsg::Ack`]; suspecting the coordinator, it answers [`CtMsg::Nack`]. Either way it moves
//!    to round r + 1.
//! 4. The coordinator waits for replies from a majority (its own ack included). If they are all
//!    acks, it decides the proposal and reliably broadcasts [`CtMsg::Decide`]; otherwise it moves
//!    to round r + 1.
//!
//! A process that receives `Decide` for the first time relays it to all and decides
//! ([`CtInd::Decide`]): the eager reliable broadcast of CGR §3.3. Messages for a round a process
//! has not reached are kept until it gets there.
//!
//! **Why it is safe.** If a majority acks v in round k, each of them has timestamp ≥ k from then
//! on, and any later coordinator hears from one of them in its majority of estimates, so the
//! highest timestamp it sees is ≥ k and (by induction) carries v: v is *locked*. The canary
//! ([`ChandraToueg::canary_lowest_timestamp`]) picks the *lowest* timestamp and unlocks it.
//! **Why it terminates** (with ◇S, after GST). Eventually a correct process c is never suspected;
//! when the rounds reach one that c coordinates, every correct process waits for its proposal
//! and acks it, and c decides.
//!
//! **Retransmission over a lossy network** (every [`ChandraToueg::resend`], until decided): a
//! process waiting for a proposal resends its estimate to the coordinator; a coordinator waiting
//! for estimates asks the missing processes again ([`CtMsg::Need`]; a process answers with its
//! *current* estimate once it has reached that round, which keeps the locking argument: its
//! timestamp only grows); a coordinator waiting for replies resends its proposal to the missing
//! processes, and a process that already left that round answers with the reply it gave then (or
//! `Nack` if it no longer remembers, which is always safe). A decided process answers any message
//! of the algorithm with `Decide`, which completes the reliable broadcast despite losses.
//!
//! **Properties** ([`ct_properties`]): *uniform agreement* ([`agreement`]: no two processes,
//! crashed or not, decide differently), *validity* ([`validity`]: the decision is some process's
//! proposal), *integrity* ([`integrity`]: a process decides at most once) and, judged at the end
//! of a run, *termination* ([`termination`]: every correct process decides). On node states:
//! [`decisions_agree`].
//!
//! **Canary.** [`ChandraToueg::canary_lowest_timestamp`]: the coordinator adopts the estimate
//! with the lowest timestamp instead of the highest; a value decided in an earlier round can be
//! replaced, and two processes decide differently. `synod check chandra-toueg-lowest-timestamp`
//! finds it in 7 steps after init, on three processes: n1 decides its own 101 with n2's ack in round 1, n0
//! suspects n1 and sends its estimate (100, timestamp 0) to n2, round 2's coordinator, which
//! prefers it to its own (101, timestamp 1) and decides 100 with n0's ack.
//!
//! **For the model checker** (`synod check chandra-toueg`). The checker does not let time pass,
//! so heartbeats would never time out and nobody would ever be suspected; the catalog runs
//! [`ChandraToueg::with_arbitrary_suspicions`]: a process waiting for a coordinator may suspect
//! it at any moment ([`CtTimer::Suspect`]), so every suspicion is a branch, and the rounds are
//! bounded. Agreement, validity and integrity are the run properties above, judged on the
//! decisions recorded in the checker's history (crashed processes' included).
//!
//! ```
//! use synod_core::{check_all, Duration, Instant};
//! use synod_protocols::consensus::chandra_toueg::{self, ChandraToueg, Proposals};
//! use synod_sim::{SimConfig, Simulation, Timing};
//!
//! let ct = ChandraToueg::new(Proposals::Distinct);
//! let mut cfg = SimConfig::new(5, 3);
//! cfg.until = Instant::from_secs(3);
//! cfg.timing = Timing::PartiallySynchronous { gst: Instant::from_secs(1), delta: Duration::from_millis(10) };
//! cfg.faults.add_crash_spec("n1@0s").unwrap(); // round 1's coordinator is dead from the start
//! let out = Simulation::new(ct.clone(), cfg).unwrap().run();
//! for r in check_all(&chandra_toueg::ct_properties(&ct), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! ```
//!
//! **Read:** Chandra and Toueg, "Unreliable failure detectors for reliable distributed systems",
//! JACM 43(2), 1996, §6.2 (Fig. 6: consensus with ◇S, f < n/2); CGR ch. 5 (consensus;
//! "Hierarchical" and leader-based algorithms) and ch. 6 (consensus variants), §2.6 (◇P, ◇S,
//! Ω); Lynch, *Distributed Algorithms*, ch. 25 (partially synchronous consensus); Kleppmann,
//! *Designing Data-Intensive Applications*, ch. 9 (fault-tolerant consensus and its limits).

use super::{assert_fits_node_set, majority, NodeSet};
use crate::fd::{FdIndication, HbMsg, HbState, HbTimer, Heartbeat, Increase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{Ctx, Duration, Effect, EventKind, NodeId, Property, Protocol, Trace, Verdict};

/// What each process proposes, from the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Proposals {
    /// Process i proposes `100 + i`: all different.
    Distinct,
    /// Process i proposes `i mod 2`: binary consensus.
    Binary,
    /// Process i proposes `values[i mod values.len()]`.
    Explicit(Vec<u64>),
}

impl Proposals {
    /// What `node` proposes.
    ///
    /// # Panics
    /// For an empty explicit list.
    pub fn value_of(&self, node: NodeId) -> u64 {
        let i = node.index();
        match self {
            Proposals::Distinct => 100 + i as u64,
            Proposals::Binary => (i % 2) as u64,
            Proposals::Explicit(v) => {
                assert!(!v.is_empty(), "Proposals::Explicit: no values");
                v[i % v.len()]
            }
        }
    }

    /// Every value proposed in a run of `n` processes.
    pub fn values(&self, n: usize) -> BTreeSet<u64> {
        NodeId::all(n).map(|p| self.value_of(p)).collect()
    }
}

/// Chandra–Toueg consensus with ◇S (see the [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChandraToueg {
    /// The embedded failure detector (◇P for the real protocol).
    pub detector: Heartbeat,
    /// What each process proposes.
    pub proposals: Proposals,
    /// The retransmission period.
    pub resend: Duration,
    /// CANARY when true: the coordinator picks the estimate with the lowest timestamp.
    pub pick_lowest: bool,
    /// Suspicions come from an adversary, not from `detector` (the model checker's setting; see
    /// [`ChandraToueg::with_arbitrary_suspicions`]).
    pub arbitrary_suspicions: bool,
}

impl ChandraToueg {
    /// The detector used by [`ChandraToueg::new`]: ◇P with heartbeats every 10 ms, suspicion
    /// after 20 ms of silence, +10 ms after each false suspicion.
    pub fn default_detector() -> Heartbeat {
        Heartbeat::eventually_perfect(
            Duration::from_millis(10),
            Duration::from_millis(20),
            Increase::Add(Duration::from_millis(10)),
        )
    }

    /// Chandra–Toueg with [`ChandraToueg::default_detector`], retransmitting every 20 ms.
    pub fn new(proposals: Proposals) -> ChandraToueg {
        ChandraToueg {
            detector: ChandraToueg::default_detector(),
            proposals,
            resend: Duration::from_millis(20),
            pick_lowest: false,
            arbitrary_suspicions: false,
        }
    }

    /// The same protocol over `detector`.
    pub fn with_detector(self, detector: Heartbeat) -> ChandraToueg {
        ChandraToueg { detector, ..self }
    }

    /// The same protocol retransmitting every `resend`.
    ///
    /// # Panics
    /// If `resend` is zero.
    pub fn with_resend(self, resend: Duration) -> ChandraToueg {
        assert!(
            resend > Duration::ZERO,
            "ChandraToueg: the resend period must be above zero"
        );
        ChandraToueg { resend, ..self }
    }

    /// The same protocol whose suspicions are arbitrary, for the model checker: the heartbeat
    /// detector is not run, and a process waiting for a coordinator's proposal may suspect it
    /// at any moment ([`CtTimer::Suspect`], armed while it waits, due after
    /// [`ChandraToueg::resend`]), trusting it again once it has nacked. This is ◇S before it
    /// stabilises, when any process may be suspected at any time: what safety must survive.
    /// Under the checker, where timers fire in any order, every suspicion is a branch (with
    /// heartbeats it would never suspect anybody: it does not let time pass). The links are
    /// taken to be reliable, as in the paper: nothing is retransmitted.
    pub fn with_arbitrary_suspicions(self) -> ChandraToueg {
        ChandraToueg {
            arbitrary_suspicions: true,
            ..self
        }
    }

    /// CANARY: the coordinator adopts the estimate with the *lowest* timestamp among the
    /// majority it heard from, ignoring the value a majority may have locked in an earlier round.
    pub fn canary_lowest_timestamp(proposals: Proposals) -> ChandraToueg {
        ChandraToueg {
            pick_lowest: true,
            ..ChandraToueg::new(proposals)
        }
    }

    /// The coordinator of round `r` among `n` processes: `n(r mod n)`.
    pub fn coordinator(r: u64, n: usize) -> NodeId {
        NodeId((r % n as u64) as u32)
    }
}

/// Chandra–Toueg's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CtMsg {
    /// Phase 1, to the coordinator: "my estimate in round `round`".
    Estimate {
        /// The round.
        round: u64,
        /// The estimate.
        value: u64,
        /// The round in which it was adopted (0: the sender's own proposal).
        ts: u64,
    },
    /// Phase 2, from the coordinator: "adopt `value` in round `round`".
    Propose {
        /// The round.
        round: u64,
        /// The proposal.
        value: u64,
    },
    /// Phase 3: "I adopted your proposal of round `round`".
    Ack {
        /// The round.
        round: u64,
    },
    /// Phase 3: "I suspected you in round `round`".
    Nack {
        /// The round.
        round: u64,
    },
    /// A coordinator still waiting for estimates asks again.
    Need {
        /// The round.
        round: u64,
    },
    /// The reliable broadcast of the decision.
    Decide {
        /// The decided value.
        value: u64,
    },
    /// A message of the embedded failure detector.
    Fd(HbMsg),
}

/// Chandra–Toueg's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CtTimer {
    /// The periodic retransmission.
    Resend,
    /// Arbitrary suspicions only ([`ChandraToueg::with_arbitrary_suspicions`]): the process
    /// suspects the coordinator it is waiting for.
    Suspect,
    /// A timer of the embedded failure detector.
    Fd(HbTimer),
}

/// What a process tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CtInd {
    /// The process decided `value`, in round `round` of its own.
    Decide {
        /// The decision.
        value: u64,
        /// The round the process was in.
        round: u64,
    },
}

/// Where a process is within its current round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CtPhase {
    /// Coordinator, phase 2: waiting for a majority of estimates.
    Collect,
    /// Coordinator, phase 4: waiting for a majority of replies to its proposal.
    Replies,
    /// Not the coordinator, phase 3: waiting for the proposal or a suspicion.
    Wait,
    /// Decided: the algorithm stopped (it still answers with the decision).
    Decided,
}

/// One process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CtState {
    /// The embedded detector's state.
    pub fd: HbState,
    /// The processes the detector currently suspects.
    pub suspected: BTreeSet<NodeId>,
    /// The current round (from 1).
    pub round: u64,
    /// Where the process is within the round.
    pub phase: CtPhase,
    /// The current estimate.
    pub estimate: u64,
    /// The round in which the estimate was adopted (0: the process's own proposal).
    pub ts: u64,
    /// As coordinator: the estimates received per round (current and future rounds it
    /// coordinates), first one per sender.
    pub estimates: BTreeMap<u64, BTreeMap<NodeId, (u64, u64)>>,
    /// Proposals received for rounds not reached yet.
    pub early: BTreeMap<u64, u64>,
    /// As coordinator in phase 4: its proposal.
    pub proposal: Option<u64>,
    /// Who acked the current proposal (the coordinator included).
    pub acks: NodeSet,
    /// Who nacked the current proposal.
    pub nacks: NodeSet,
    /// The replies this process gave in recent rounds (true: ack), to answer a retransmitted
    /// proposal.
    pub replies: BTreeMap<u64, bool>,
    /// The decision, once made.
    pub decided: Option<u64>,
}

/// How many past rounds' replies a process remembers.
const REMEMBERED_REPLIES: u64 = 64;

impl ChandraToueg {
    fn run_fd(&self, s: &mut CtState, fx: Vec<Effect<Heartbeat>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, CtMsg::Fd(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(CtTimer::Fd(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(CtTimer::Fd(timer)),
                Effect::Persist => {}
                Effect::Indicate(FdIndication::Suspect(q)) => {
                    s.suspected.insert(q);
                }
                Effect::Indicate(FdIndication::Restore(q)) => {
                    s.suspected.remove(&q);
                }
            }
        }
        self.advance(s, ctx);
    }

    /// Enters round `r`: sends the estimate to the coordinator (or records it, as coordinator).
    fn enter_round(&self, s: &mut CtState, r: u64, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        s.round = r;
        s.proposal = None;
        s.acks = NodeSet::EMPTY;
        s.nacks = NodeSet::EMPTY;
        s.estimates = s.estimates.split_off(&r);
        s.early = s.early.split_off(&r);
        s.replies = s.replies.split_off(&r.saturating_sub(REMEMBERED_REPLIES));
        let c = Self::coordinator(r, ctx.n());
        if c == me {
            s.phase = CtPhase::Collect;
            s.estimates
                .entry(r)
                .or_default()
                .insert(me, (s.estimate, s.ts));
            if self.arbitrary_suspicions {
                ctx.cancel_timer(CtTimer::Suspect);
            }
        } else {
            s.phase = CtPhase::Wait;
            ctx.send(
                c,
                CtMsg::Estimate {
                    round: r,
                    value: s.estimate,
                    ts: s.ts,
                },
            );
            if self.arbitrary_suspicions {
                ctx.set_timer(CtTimer::Suspect, self.resend);
            }
        }
    }

    /// Phase 3 with a suspected coordinator `c`: nack round `r`'s proposal, on to round r + 1.
    fn nack(&self, s: &mut CtState, r: u64, c: NodeId, ctx: &mut Ctx<'_, Self>) {
        s.replies.insert(r, false);
        ctx.send(c, CtMsg::Nack { round: r });
        self.enter_round(s, r + 1, ctx);
    }

    /// Runs the round machine as far as the messages and suspicions received allow.
    fn advance(&self, s: &mut CtState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let quorum = majority(ctx.n());
        loop {
            let r = s.round;
            let c = Self::coordinator(r, ctx.n());
            match s.phase {
                CtPhase::Decided => return,
                CtPhase::Collect => {
                    let Some(est) = s.estimates.get(&r).filter(|e| e.len() >= quorum) else {
                        return;
                    };
                    let pick = if self.pick_lowest {
                        est.values().min_by_key(|(_, ts)| *ts)
                    } else {
                        est.values().max_by_key(|(_, ts)| *ts)
                    };
                    let Some(&(v, _)) = pick else { return };
                    s.estimate = v;
                    s.ts = r;
                    s.proposal = Some(v);
                    s.acks = NodeSet::only(me);
                    s.phase = CtPhase::Replies;
                    ctx.broadcast(CtMsg::Propose { round: r, value: v });
                }
                CtPhase::Replies => {
                    if s.acks.len() + s.nacks.len() < quorum {
                        return;
                    }
                    if s.acks.len() >= quorum {
                        let v = s.proposal.unwrap_or(s.estimate);
                        self.decide(s, v, ctx);
                        return;
                    }
                    self.enter_round(s, r + 1, ctx);
                }
                CtPhase::Wait => {
                    if let Some(v) = s.early.remove(&r) {
                        s.estimate = v;
                        s.ts = r;
                        s.replies.insert(r, true);
                        ctx.send(c, CtMsg::Ack { round: r });
                        self.enter_round(s, r + 1, ctx);
                    } else if s.suspected.contains(&c) {
                        self.nack(s, r, c, ctx);
                    } else {
                        return;
                    }
                }
            }
        }
    }

    fn decide(&self, s: &mut CtState, v: u64, ctx: &mut Ctx<'_, Self>) {
        if s.decided.is_some() {
            return;
        }
        s.decided = Some(v);
        s.phase = CtPhase::Decided;
        if self.arbitrary_suspicions {
            ctx.cancel_timer(CtTimer::Suspect);
        }
        ctx.broadcast(CtMsg::Decide { value: v });
        ctx.indicate(CtInd::Decide {
            value: v,
            round: s.round,
        });
    }
}

impl Protocol for ChandraToueg {
    type Msg = CtMsg;
    type Timer = CtTimer;
    type Request = ();
    type Indication = CtInd;
    type State = CtState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> CtState {
        assert_fits_node_set("ChandraToueg", ctx.n());
        let mut fx = Vec::new();
        let fd = if self.arbitrary_suspicions {
            HbState::default()
        } else {
            self.detector.init(&mut ctx.fork(&mut fx))
        };
        let mut s = CtState {
            fd,
            suspected: BTreeSet::new(),
            round: 0,
            phase: CtPhase::Wait,
            estimate: self.proposals.value_of(ctx.id()),
            ts: 0,
            estimates: BTreeMap::new(),
            early: BTreeMap::new(),
            proposal: None,
            acks: NodeSet::EMPTY,
            nacks: NodeSet::EMPTY,
            replies: BTreeMap::new(),
            decided: None,
        };
        if !self.arbitrary_suspicions {
            ctx.set_timer(CtTimer::Resend, self.resend);
        }
        self.enter_round(&mut s, 1, ctx);
        self.run_fd(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut CtState, from: NodeId, msg: CtMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() {
            return; // not a peer of this run
        }
        if let CtMsg::Fd(m) = msg {
            let mut fx = Vec::new();
            self.detector
                .on_message(&mut s.fd, from, m, &mut ctx.fork(&mut fx));
            self.run_fd(s, fx, ctx);
            return;
        }
        if let CtMsg::Decide { value } = msg {
            self.decide(s, value, ctx);
            return;
        }
        if let Some(value) = s.decided {
            ctx.send(from, CtMsg::Decide { value });
            return;
        }
        let n = ctx.n();
        let me = ctx.id();
        match msg {
            CtMsg::Estimate { round, value, ts } => {
                if Self::coordinator(round, n) != me || round < s.round {
                    return;
                }
                s.estimates
                    .entry(round)
                    .or_default()
                    .entry(from)
                    .or_insert((value, ts));
            }
            CtMsg::Propose { round, value } => {
                if Self::coordinator(round, n) != from {
                    return;
                }
                if round < s.round {
                    let ack = s.replies.get(&round).copied().unwrap_or(false);
                    ctx.send(
                        from,
                        if ack {
                            CtMsg::Ack { round }
                        } else {
                            CtMsg::Nack { round }
                        },
                    );
                    return;
                }
                s.early.insert(round, value);
            }
            CtMsg::Ack { round } | CtMsg::Nack { round } => {
                if round != s.round || s.phase != CtPhase::Replies {
                    return;
                }
                if s.acks.contains(from) || s.nacks.contains(from) {
                    return;
                }
                if matches!(msg, CtMsg::Ack { .. }) {
                    s.acks.insert(from);
                } else {
                    s.nacks.insert(from);
                }
            }
            CtMsg::Need { round } => {
                if Self::coordinator(round, n) == from && s.round >= round {
                    ctx.send(
                        from,
                        CtMsg::Estimate {
                            round,
                            value: s.estimate,
                            ts: s.ts,
                        },
                    );
                }
                return;
            }
            CtMsg::Decide { .. } | CtMsg::Fd(_) => return,
        }
        self.advance(s, ctx);
    }

    fn on_timer(&self, s: &mut CtState, timer: CtTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            CtTimer::Fd(t) => {
                let mut fx = Vec::new();
                self.detector.on_timer(&mut s.fd, t, &mut ctx.fork(&mut fx));
                self.run_fd(s, fx, ctx);
            }
            CtTimer::Suspect => {
                if s.phase == CtPhase::Wait {
                    let r = s.round;
                    self.nack(s, r, Self::coordinator(r, ctx.n()), ctx);
                    self.advance(s, ctx);
                }
            }
            CtTimer::Resend => {
                if s.decided.is_some() {
                    return;
                }
                ctx.set_timer(CtTimer::Resend, self.resend);
                let r = s.round;
                let peers: Vec<NodeId> = ctx.peers().collect();
                match s.phase {
                    CtPhase::Collect => {
                        let got = s.estimates.get(&r);
                        for q in peers {
                            if got.is_none_or(|e| !e.contains_key(&q)) {
                                ctx.send(q, CtMsg::Need { round: r });
                            }
                        }
                    }
                    CtPhase::Replies => {
                        let value = s.proposal.unwrap_or(s.estimate);
                        for q in peers {
                            if !s.acks.contains(q) && !s.nacks.contains(q) {
                                ctx.send(q, CtMsg::Propose { round: r, value });
                            }
                        }
                    }
                    CtPhase::Wait => ctx.send(
                        Self::coordinator(r, ctx.n()),
                        CtMsg::Estimate {
                            round: r,
                            value: s.estimate,
                            ts: s.ts,
                        },
                    ),
                    CtPhase::Decided => {}
                }
            }
        }
    }

    fn on_request(&self, _s: &mut CtState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

    fn invariants(&self, s: &CtState) {
        assert!(
            s.ts <= s.round,
            "ChandraToueg: timestamp {} above the round {}",
            s.ts,
            s.round
        );
        assert_eq!(
            s.decided.is_some(),
            s.phase == CtPhase::Decided,
            "ChandraToueg: decided and phase disagree"
        );
        assert!(
            s.phase != CtPhase::Replies || s.proposal.is_some(),
            "ChandraToueg: waiting for replies without a proposal"
        );
    }
}

// ---- Properties ---------------------------------------------------------------------------------

/// *Uniform agreement* (safety): no two processes, crashed or not, decide differently. The
/// violation is the first decision that differs from an earlier one.
pub fn agreement<P: Protocol<Indication = CtInd>>() -> Property<P> {
    Property::safety("agreement", |trace: &Trace<P>| {
        let mut first: Option<(u64, NodeId)> = None;
        for (i, _, node, CtInd::Decide { value, .. }) in trace.indications() {
            match first {
                None => first = Some((*value, node)),
                Some((v, by)) if v != *value => {
                    return Verdict::violated_at(
                        i,
                        format!("{node} decided {value}, but {by} decided {v}"),
                    );
                }
                Some(_) => {}
            }
        }
        Verdict::Holds
    })
}

/// *Validity* (safety): every decision is a value some process proposed under `proposals`.
pub fn validity<P: Protocol<Indication = CtInd>>(proposals: Proposals) -> Property<P> {
    Property::safety("validity", move |trace: &Trace<P>| {
        let allowed = proposals.values(trace.facts.n);
        for (i, _, node, CtInd::Decide { value, .. }) in trace.indications() {
            if !allowed.contains(value) {
                return Verdict::violated_at(
                    i,
                    format!("{node} decided {value}, which nobody proposed"),
                );
            }
        }
        Verdict::Holds
    })
}

/// *Integrity* (safety): no process decides twice.
pub fn integrity<P: Protocol<Indication = CtInd>>() -> Property<P> {
    super::decides_once()
}

/// *Termination* (liveness, judged at the end of the run): every correct process (one that
/// never crashed) decided. Inconclusive when scheduled faults lasted until the end.
pub fn termination<P: Protocol<Indication = CtInd>>() -> Property<P> {
    Property::liveness("termination", |trace: &Trace<P>| {
        if trace.facts.faults_end >= trace.facts.end {
            return Verdict::Inconclusive {
                detail: "faults lasted until the end of the run".into(),
            };
        }
        let mut decided = vec![false; trace.facts.n];
        for (_, _, node, _) in trace.indications() {
            decided[node.index()] = true;
        }
        match NodeId::all(trace.facts.n).find(|p| trace.facts.correct(*p) && !decided[p.index()]) {
            Some(p) => Verdict::violated(format!("correct process {p} never decided")),
            None => Verdict::Holds,
        }
    })
}

/// Every property of `ct`: [`agreement`], [`validity`] (of its proposals), [`integrity`],
/// [`termination`].
pub fn ct_properties(ct: &ChandraToueg) -> Vec<Property<ChandraToueg>> {
    vec![
        agreement(),
        validity(ct.proposals.clone()),
        integrity(),
        termination(),
    ]
}

/// The time each process decided, if it did (`None` for the others), from a run's trace.
pub fn decision_times<P: Protocol<Indication = CtInd>>(
    trace: &Trace<P>,
) -> Vec<Option<synod_core::Instant>> {
    let mut out = vec![None; trace.facts.n];
    for e in &trace.events {
        if let EventKind::Indication { node, .. } = &e.kind {
            out[node.index()].get_or_insert(e.time);
        }
    }
    out
}

/// Agreement on a global state (`states[i]` is process i's state, `None` if it crashed): all
/// decided processes hold the same decision.
pub fn decisions_agree(states: &[Option<&CtState>]) -> bool {
    let mut seen = None;
    states
        .iter()
        .flatten()
        .filter_map(|s| s.decided)
        .all(|v| *seen.get_or_insert(v) == v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{FirstChoice, Instant};

    fn fresh(p: &ChandraToueg, me: u32, n: usize) -> (CtState, Vec<Effect<ChandraToueg>>) {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let s = p.init(&mut Ctx::new(
            NodeId(me),
            n,
            Instant::ZERO,
            &mut fx,
            &mut ch,
        ));
        (s, fx)
    }

    fn step(
        p: &ChandraToueg,
        s: &mut CtState,
        me: u32,
        n: usize,
        msg: (u32, CtMsg),
    ) -> Vec<Effect<ChandraToueg>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(me), n, Instant::ZERO, &mut fx, &mut ch);
        p.on_message(s, NodeId(msg.0), msg.1, &mut ctx);
        p.invariants(s);
        fx
    }

    #[test]
    fn the_coordinator_picks_the_highest_timestamp_unless_it_is_the_canary() {
        for (p, want) in [
            (ChandraToueg::new(Proposals::Distinct), 7),
            (
                ChandraToueg::canary_lowest_timestamp(Proposals::Distinct),
                101,
            ),
        ] {
            // n1 coordinates round 1 of 3, so it sends no estimate to anybody.
            let (mut s, fx) = fresh(&p, 1, 3);
            assert_eq!(s.phase, CtPhase::Collect);
            assert!(fx.iter().all(|e| !matches!(
                e,
                Effect::Send {
                    msg: CtMsg::Estimate { .. },
                    ..
                }
            )));
            // In round 4 (n1's again), n1 holds its own proposal (timestamp 0) and hears from
            // n0, which adopted 7 in round 3: 7 is possibly locked.
            s.round = 4;
            s.estimates.clear();
            s.estimates
                .insert(4, BTreeMap::from([(NodeId(1), (101, 0))]));
            step(
                &p,
                &mut s,
                1,
                3,
                (
                    0,
                    CtMsg::Estimate {
                        round: 4,
                        value: 7,
                        ts: 3,
                    },
                ),
            );
            assert_eq!(s.phase, CtPhase::Replies);
            assert_eq!(s.proposal, Some(want));
            let fx = step(&p, &mut s, 1, 3, (2, CtMsg::Ack { round: 4 }));
            assert_eq!(s.decided, Some(want));
            assert!(fx.contains(&Effect::Indicate(CtInd::Decide {
                value: want,
                round: 4
            })));
        }
    }

    #[test]
    fn a_process_nacks_a_suspected_coordinator_and_answers_late_proposals() {
        let p = ChandraToueg::new(Proposals::Binary);
        let (mut s, _) = fresh(&p, 0, 3);
        assert_eq!((s.round, s.phase), (1, CtPhase::Wait));
        // The detector suspects n1 (round 1's coordinator): nack, on to round 2 (n2).
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(0), 3, Instant::from_secs(1), &mut fx, &mut ch);
        p.on_timer(&mut s, CtTimer::Fd(HbTimer::Check(NodeId(1))), &mut ctx);
        assert!(fx.contains(&Effect::Send {
            to: NodeId(1),
            msg: CtMsg::Nack { round: 1 }
        }));
        assert_eq!(s.round, 2);
        // n1's proposal of round 1 arrives late: answered with the nack given then.
        let fx = step(&p, &mut s, 0, 3, (1, CtMsg::Propose { round: 1, value: 1 }));
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: NodeId(1),
                msg: CtMsg::Nack { round: 1 }
            }]
        );
        // Round 2's proposal: adopted with timestamp 2, acked.
        let fx = step(&p, &mut s, 0, 3, (2, CtMsg::Propose { round: 2, value: 1 }));
        assert_eq!((s.estimate, s.ts, s.round), (1, 2, 3));
        assert!(fx.contains(&Effect::Send {
            to: NodeId(2),
            msg: CtMsg::Ack { round: 2 }
        }));
        // A decision arrives: relayed and indicated once.
        let fx = step(&p, &mut s, 0, 3, (2, CtMsg::Decide { value: 1 }));
        assert_eq!(s.decided, Some(1));
        assert_eq!(
            fx.len(),
            3,
            "relay to two peers, then the indication: {fx:?}"
        );
        let fx = step(&p, &mut s, 0, 3, (2, CtMsg::Decide { value: 1 }));
        assert!(fx.is_empty());
    }

    #[test]
    fn arbitrary_suspicions_are_a_timer_armed_while_waiting() {
        let p = ChandraToueg::new(Proposals::Distinct).with_arbitrary_suspicions();
        // No heartbeats, no retransmission: only the estimate and the suspicion timer.
        let (mut s, fx) = fresh(&p, 0, 3);
        assert_eq!(
            fx,
            vec![
                Effect::Send {
                    to: NodeId(1),
                    msg: CtMsg::Estimate {
                        round: 1,
                        value: 100,
                        ts: 0
                    }
                },
                Effect::SetTimer {
                    timer: CtTimer::Suspect,
                    after: p.resend
                },
            ]
        );
        // The coordinator of round 1 waits for estimates, not for a proposal: no timer.
        let (_, fx) = fresh(&p, 1, 3);
        assert_eq!(
            fx,
            vec![Effect::CancelTimer {
                timer: CtTimer::Suspect
            }]
        );
        // The timer fires: n0 nacks n1, enters round 2 (n2's) and may suspect again, but it
        // does not keep suspecting n1.
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
        p.on_timer(&mut s, CtTimer::Suspect, &mut ctx);
        p.invariants(&s);
        assert_eq!((s.round, s.phase), (2, CtPhase::Wait));
        assert!(s.suspected.is_empty());
        assert_eq!(s.replies.get(&1), Some(&false));
        assert_eq!(
            fx,
            vec![
                Effect::Send {
                    to: NodeId(1),
                    msg: CtMsg::Nack { round: 1 }
                },
                Effect::Send {
                    to: NodeId(2),
                    msg: CtMsg::Estimate {
                        round: 2,
                        value: 100,
                        ts: 0
                    }
                },
                Effect::SetTimer {
                    timer: CtTimer::Suspect,
                    after: p.resend
                },
            ]
        );
        // Round 2's proposal: acked; round 3 is n0's own, so the timer is cancelled.
        let fx = step(
            &p,
            &mut s,
            0,
            3,
            (
                2,
                CtMsg::Propose {
                    round: 2,
                    value: 102,
                },
            ),
        );
        assert_eq!((s.round, s.phase, s.estimate), (3, CtPhase::Collect, 102));
        assert!(fx.contains(&Effect::CancelTimer {
            timer: CtTimer::Suspect
        }));
        // A late timer is ignored.
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let before = s.clone();
        let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
        p.on_timer(&mut s, CtTimer::Suspect, &mut ctx);
        assert!(fx.is_empty() && s == before);
    }
}
