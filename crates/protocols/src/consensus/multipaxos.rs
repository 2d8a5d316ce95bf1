//! Multi-Paxos: a replicated log of register commands, with a stable leader.
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), *crash-recovery* with stable storage:
//! a server may crash at any moment and later restart from what it persisted; a majority must
//! be up and connected for progress. The network loses, duplicates and reorders messages.
//! *Safety* (agreement per slot, validity, log-prefix consistency) holds under asynchrony,
//! whatever the timing, losses, partitions and crashes. *Liveness* needs a leader oracle that is
//! eventually right (Ω) and so partial synchrony: after some unknown GST, messages arrive within
//! Δ and the heartbeat detector under Ω stops making mistakes. Clients are external: a client
//! operation arrives as a request ([`RegisterReq`]) at one server, its *origin*; the answer is an
//! indication of that server ([`MpInd::Client`] wrapping a [`RegisterResp`]) emitted when the
//! command's slot is chosen and applied there.
//!
//! **Algorithm** (Lamport, "Paxos made simple", §3). Every server is proposer, acceptor and
//! learner for an unbounded sequence of *slots* 1, 2, 3, …, each an instance of single-decree
//! Paxos ([`super::paxos`]); ballots ([`Ballot`]) are shared by all slots.
//!
//! - *Phase 1, once for all slots.* A server that wants to lead picks a ballot above every ballot
//!   it has seen, promises it to itself and sends [`MpMsg::Prepare`] `{ ballot, from }`, where
//!   `from` is the first slot it has not applied. An acceptor promises a ballot at least as high
//!   as its promise, persisting it before replying [`MpMsg::Promise`] with everything it accepted
//!   at slots `from` and above; a lower ballot gets [`MpMsg::Nack`] with its promise.
//! - *Becoming leader.* With promises from a majority (its own included), the server is the
//!   leader of its ballot ([`MpInd::Leader`]). For every slot from `from` up to the highest one
//!   reported, it **re-proposes** the value accepted at the highest ballot in the promises (so a
//!   value that may have been chosen is kept), or a no-op ([`MpCmd::Noop`]) for a slot nobody
//!   reported (a hole); slots it already knows chosen are skipped.
//! - *Phase 2, per command.* The leader puts each new command in its next free slot, accepts it
//!   itself and sends [`MpMsg::Accept`] `{ ballot, slot, cmd }`. An acceptor accepts if the
//!   ballot is at least its promise, persisting before replying [`MpMsg::Accepted`]; otherwise it
//!   answers `Nack`. With acceptances from a majority the slot is *chosen*: the leader tells
//!   everyone ([`MpMsg::Decide`]).
//! - *Learning and applying.* Every server keeps the chosen slots it knows and applies them in
//!   slot order to its register, indicating [`MpInd::Applied`] for each. A client command that
//!   already appeared in an earlier slot is skipped (a command can be chosen twice when a leader
//!   change makes its origin send it again). The origin answers its client when it applies the
//!   command: `WriteOk`, or `ReadOk` with the register's value at that point of the log, so reads
//!   are linearizable without leases. A leader broadcasts [`MpMsg::Sync`] with how far it has
//!   applied every tick; a server that is behind asks it for the missing slots
//!   ([`MpMsg::Learn`]), which is also how a recovered server catches up.
//! - *Pre-emption.* Seeing a ballot above its own (a `Nack`, or a `Prepare`/`Accept` it accepts
//!   as an acceptor) makes a proposer give up its ballot.
//! - *Retransmission.* A periodic tick ([`MultiPaxos::tick`]) resends `Prepare`s and `Accept`s
//!   that have not been answered, and the forwarded commands of non-leaders.
//!
//! **Who leads** ([`Leadership`]):
//! - [`Leadership::Omega`] (the default, [`MultiPaxos::new`]): the leader oracle is the Ω
//!   detector of [`crate::fd`] ([`Omega`], smallest id not suspected by an eventually perfect
//!   heartbeat detector), *embedded by delegation*: its heartbeats travel as [`MpMsg::Fd`], its
//!   timers as [`MpTimer::Fd`], and its `Trust` indications steer the proposer. (Not through
//!   [`synod_core::Stack`], which layers a protocol over a *link*; Ω is a sibling module that
//!   talks to the network itself, as in CGR's module stacks.) A server that trusts itself runs
//!   phase 1; a server that trusts another one steps down and forwards its clients' commands to
//!   it ([`MpMsg::Forward`], again every tick until they are applied). A trusted-self proposer
//!   that is pre-empted retries after a randomized exponential *backoff*
//!   ([`MultiPaxos::backoff`], doubled per failed attempt up to 32×, with a jitter drawn through
//!   [`Ctx::choose`]).
//! - [`Leadership::Dueling`] ([`MultiPaxos::dueling`]): *no* oracle. Every server with commands
//!   of its own to place proposes them, and a pre-empted proposer retries **at once** with a
//!   higher ballot. Two such proposers can pre-empt each other for ever (the livelock that FLP
//!   says no deterministic protocol avoids in asynchrony; see the `paxos-duel` experiment): each
//!   one's `Prepare` arrives before the other's `Accept`s.
//!
//! **Stable storage** ([`MpDurable`]): the promise, the accepted `(ballot, command)` per slot,
//! and an *epoch* (incarnation number). Every change to the promise or to the accepted values is
//! persisted ([`Ctx::persist`]) before the reply or `Accept` that reveals it leaves the server,
//! and a proposer persists its own new ballot before its `Prepare`s go out, so it never reuses a
//! ballot after a crash. Everything else is volatile: a restarted server knows no chosen slot,
//! its register is empty, its clients' pending commands are gone (never answered: incomplete
//! operations), and it re-applies the log as it learns it again (its `Applied` indications
//! repeat, from slot 1). The epoch, incremented and persisted at every recovery, keeps command
//! ids ([`CmdId`]) unique across restarts.
//!
//! **Properties**, over the indications of a run ([`safety_properties`], [`properties`]):
//! [`slot_agreement`] (no two different commands applied at one slot, anywhere), [`validity`]
//! (an applied or answered command was requested by a client; a read returns a written value),
//! [`log_prefix`] (every server applies slots 1, 2, 3, … in order, restarting at 1 after a
//! recovery, each one the command every other server applied there: any two applied logs are
//! prefixes of one another), and the liveness check [`progress`] (a request at a server that
//! stays up is answered by the end of the run). Over node states (`states[i]` is node i's state,
//! `None` while it is down): [`chosen_agree`] (learned slots, and values accepted by a majority at
//! one ballot, agree) and [`applied_prefix`] (applied logs are prefixes of one another); both at
//! once, [`safety_violation`].
//!
//! **Canary.** [`MultiPaxos::canary_skip_repropose`]: a new leader does not re-propose the values
//! reported in the promises; it fills those slots with no-ops. A command chosen under an earlier
//! leader but not yet learned by the new one is then overwritten: two servers apply different
//! commands at one slot ([`slot_agreement`] and [`log_prefix`] catch it). `synod check
//! multi-paxos-skip-repropose` finds it with two clients on three servers: n0 gets its write
//! chosen at slot 1 with n2's acceptance, n1 takes over with ballot 2 and n2's promise (which
//! reports the write), and n2 accepts the no-op n1 puts at slot 1 in its place, so a majority
//! accepted a no-op where a write is chosen ([`chosen_agree`]).
//!
//! **For the model checker** (`synod check multi-paxos`). The checker does not let time pass, so
//! the heartbeats of the embedded Ω never time out and n0 would lead for ever; the catalog runs
//! [`MultiPaxos::dueling`] instead (a server that holds a command runs phase 1, a pre-empted one
//! retries at once with a higher ballot), with the canary's flag set for the canary, timers off
//! (the checker's network is reliable, so the tick would only duplicate messages) and a boundary
//! on the ballot rounds ([`max_ballot_round`]) and the messages in flight. The properties there
//! are over node states: [`chosen_agree`], [`applied_prefix`], [`commands_requested`] (validity),
//! and the linearizability of the client history.
//!
//! A run under the simulator (three writes at three servers; the servers that do not lead
//! forward theirs to n0, which Ω trusts):
//!
//! ```
//! use synod_core::{check_all, Duration, Instant, NodeId};
//! use synod_protocols::consensus::multipaxos::{self, MpInd, MultiPaxos};
//! use synod_protocols::register::{RegisterReq, RegisterResp};
//! use synod_sim::{Scripted, SimConfig, Simulation, Timing};
//!
//! let reqs = (0..3)
//!     .map(|i| (Instant::from_millis(100), NodeId(i), RegisterReq::Write { client: i.into(), value: 7 }))
//!     .collect();
//! let mut cfg = SimConfig::new(3, 7);
//! cfg.until = Instant::from_secs(1);
//! cfg.timing = Timing::Synchronous { delta: Duration::from_millis(10) };
//! let out = Simulation::new(MultiPaxos::new(), cfg).unwrap().with_workload(Scripted(reqs)).run();
//! for r in check_all(&multipaxos::properties(), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! let answered = out.trace.indications().filter(|(_, _, _, i)| {
//!     matches!(i, MpInd::Client(RegisterResp::WriteOk { .. }))
//! });
//! assert_eq!(answered.count(), 3);
//! let states: Vec<_> = out.states.iter().map(|s| s.as_ref()).collect();
//! assert_eq!(multipaxos::safety_violation(&states), None);
//! ```
//!
//! **Read:** Lamport, "Paxos made simple", ACM SIGACT News 32(4), 2001, §3 (implementing a state
//! machine: one phase 1 for all instances, no-ops for the gaps, the distinguished proposer);
//! CGR ch. 5 (consensus; the leader-driven "epoch" form of Paxos) and ch. 6 (total-order
//! broadcast from repeated consensus; the eventual leader Ω); Lynch, *Distributed Algorithms*,
//! ch. 25 (consensus in partially synchronous systems); Chandra and Toueg, "Unreliable failure
//! detectors for reliable distributed systems", JACM 43(2), 1996; Kleppmann, *Designing
//! Data-Intensive Applications*, ch. 9 (total order broadcast, linearizable storage on
//! consensus).

use super::paxos::Ballot;
use super::{assert_fits_node_set, majority, NodeSet};
use crate::fd::{HbMsg, HbTimer, Increase, Omega, OmegaIndication, OmegaState};
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{
    ClientId, ClientOps, Ctx, Duration, Effect, EventKind, NodeId, Property, Protocol, Trace,
    Verdict,
};

/// A slot of the replicated log (the first is 1).
pub type Slot = u64;

/// The identity of a client command: the server where it arrived, that server's epoch (its
/// incarnation: how many times it recovered) and a sequence number within the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CmdId {
    /// The server the client sent the request to (it answers the client).
    pub origin: NodeId,
    /// The origin's epoch when the request arrived.
    pub epoch: u32,
    /// The request's number at the origin within that epoch.
    pub seq: u32,
}

/// What a log slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MpCmd {
    /// Nothing: what a new leader puts in a slot nobody reported (a gap).
    Noop,
    /// A client's register operation.
    Client {
        /// The command's identity.
        id: CmdId,
        /// The client's request.
        req: RegisterReq,
    },
}

/// Who may propose (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leadership {
    /// The server that the embedded Ω detector trusts leads; pre-empted, it retries with
    /// backoff; the others forward their commands to it.
    Omega(Omega),
    /// No leader oracle: every server with commands proposes, and a pre-empted proposer retries
    /// at once with a higher ballot (dueling proposers).
    Dueling,
}

/// Multi-Paxos replicating a register (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MultiPaxos {
    /// Who may propose.
    pub leadership: Leadership,
    /// The retransmission period: unanswered `Prepare`s and `Accept`s, forwarded commands and the
    /// leader's `Sync` are sent again every tick.
    pub tick: Duration,
    /// The first backoff of a pre-empted proposer that trusts itself (Ω mode); doubled per
    /// failed attempt, up to 32 times, plus a random jitter of up to 7/8 of it.
    pub backoff: Duration,
    /// How many chosen slots one `Learn` request is answered with.
    pub learn_batch: u64,
    /// CANARY when true: a new leader fills the slots reported in the promises with no-ops
    /// instead of re-proposing the values accepted there.
    pub skip_repropose: bool,
}

impl Default for MultiPaxos {
    fn default() -> Self {
        MultiPaxos::new()
    }
}

impl MultiPaxos {
    /// The Ω detector used by [`MultiPaxos::new`]: heartbeats every 10 ms, suspicion after
    /// 20 ms of silence, +10 ms after each false suspicion.
    pub fn default_omega() -> Omega {
        Omega::new(
            Duration::from_millis(10),
            Duration::from_millis(20),
            Increase::Add(Duration::from_millis(10)),
        )
    }

    /// Multi-Paxos with [`MultiPaxos::default_omega`] as its leader oracle, a 20 ms tick and a
    /// 20 ms first backoff.
    pub fn new() -> MultiPaxos {
        MultiPaxos::with_omega(MultiPaxos::default_omega())
    }

    /// Multi-Paxos whose leader is the one `omega` trusts.
    pub fn with_omega(omega: Omega) -> MultiPaxos {
        MultiPaxos {
            leadership: Leadership::Omega(omega),
            tick: Duration::from_millis(20),
            backoff: Duration::from_millis(20),
            learn_batch: 64,
            skip_repropose: false,
        }
    }

    /// Dueling proposers: no leader oracle, and a pre-empted proposer retries at once with a
    /// higher ballot. Safe, but it may never decide.
    pub fn dueling() -> MultiPaxos {
        MultiPaxos {
            leadership: Leadership::Dueling,
            ..MultiPaxos::new()
        }
    }

    /// CANARY: Ω-led Multi-Paxos whose new leader does not re-propose the values accepted in
    /// earlier ballots (it puts no-ops there): a chosen command can be overwritten.
    pub fn canary_skip_repropose() -> MultiPaxos {
        MultiPaxos {
            skip_repropose: true,
            ..MultiPaxos::new()
        }
    }

    /// The same protocol with retransmission period `tick`.
    ///
    /// # Panics
    /// If `tick` is zero.
    pub fn with_tick(self, tick: Duration) -> MultiPaxos {
        assert!(
            tick > Duration::ZERO,
            "MultiPaxos: the tick must be above zero"
        );
        MultiPaxos { tick, ..self }
    }

    /// The same protocol with first backoff `backoff`.
    ///
    /// # Panics
    /// If `backoff` is zero.
    pub fn with_backoff(self, backoff: Duration) -> MultiPaxos {
        assert!(
            backoff > Duration::ZERO,
            "MultiPaxos: the backoff must be above zero"
        );
        MultiPaxos { backoff, ..self }
    }
}

/// Multi-Paxos's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MpMsg {
    /// Phase 1a: "promise me `ballot` for every slot from `from` on".
    Prepare {
        /// The proposer's ballot.
        ballot: Ballot,
        /// The first slot the proposer has not applied.
        from: Slot,
    },
    /// Phase 1b: "I promise `ballot`; here is what I accepted at the slots you asked about".
    Promise {
        /// The promised ballot.
        ballot: Ballot,
        /// `(slot, ballot, command)` for every slot at or above the `Prepare`'s `from` at which
        /// the acceptor accepted something, with the last thing it accepted there.
        accepted: Vec<(Slot, Ballot, MpCmd)>,
    },
    /// Phase 2a: "accept `cmd` at `slot` in `ballot`".
    Accept {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The command.
        cmd: MpCmd,
    },
    /// Phase 2b: "I accepted at `slot` in `ballot`".
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
    },
    /// "Your `ballot` is below my promise `promised`": the proposer is pre-empted.
    Nack {
        /// The refused ballot.
        ballot: Ballot,
        /// The acceptor's promise.
        promised: Ballot,
    },
    /// "`cmd` is chosen at `slot`."
    Decide {
        /// The slot.
        slot: Slot,
        /// The chosen command.
        cmd: MpCmd,
    },
    /// The leader's periodic "I have applied up to `applied`".
    Sync {
        /// The leader's applied prefix.
        applied: Slot,
    },
    /// "Send me the chosen slots from `from` on."
    Learn {
        /// The first slot wanted.
        from: Slot,
    },
    /// A non-leader hands its clients' commands to the server it trusts.
    Forward {
        /// The commands, not yet applied at their origin.
        cmds: Vec<MpCmd>,
    },
    /// A message of the embedded Ω detector.
    Fd(HbMsg),
}

/// Multi-Paxos's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MpTimer {
    /// The periodic retransmission tick.
    Tick,
    /// A pre-empted proposer that trusts itself tries again (Ω mode).
    Retry,
    /// A timer of the embedded Ω detector.
    Fd(HbTimer),
}

/// What a Multi-Paxos server tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MpInd {
    /// The answer to a client whose command was applied at this server, its origin.
    Client(RegisterResp),
    /// This server applied `cmd`, chosen at `slot`.
    Applied {
        /// The slot.
        slot: Slot,
        /// The command chosen there.
        cmd: MpCmd,
    },
    /// This server started phase 1 with a new ballot.
    Ballot(Ballot),
    /// This server finished phase 1: it leads `ballot`.
    Leader(Ballot),
}

/// A server's role as a proposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MpPhase {
    /// Not proposing.
    Idle,
    /// Phase 1 of `ballot` is running.
    Preparing {
        /// The ballot.
        ballot: Ballot,
        /// The first slot the `Prepare` asked about.
        from: Slot,
        /// Who promised (this server included).
        promises: NodeSet,
        /// Per slot, the highest-ballot accepted command reported by the promises so far.
        reported: BTreeMap<Slot, (Ballot, MpCmd)>,
    },
    /// Leader of `ballot`: phase 2 per command.
    Leading {
        /// The ballot.
        ballot: Ballot,
        /// The next free slot.
        next: Slot,
        /// The slots proposed in this ballot and not known chosen yet, with who accepted.
        proposals: BTreeMap<Slot, (MpCmd, NodeSet)>,
    },
}

impl MpPhase {
    /// The ballot this server is proposing with, if any.
    pub fn ballot(&self) -> Option<Ballot> {
        match self {
            MpPhase::Idle => None,
            MpPhase::Preparing { ballot, .. } | MpPhase::Leading { ballot, .. } => Some(*ballot),
        }
    }

    /// True for a leader (phase 1 done).
    pub fn is_leading(&self) -> bool {
        matches!(self, MpPhase::Leading { .. })
    }
}

/// What a Multi-Paxos server keeps on stable storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MpDurable {
    /// The acceptor's promise.
    pub promised: Ballot,
    /// Per slot, the last `(ballot, command)` the acceptor accepted.
    pub accepted: BTreeMap<Slot, (Ballot, MpCmd)>,
    /// How many times the server recovered.
    pub epoch: u32,
}

impl Default for MpDurable {
    fn default() -> Self {
        MpDurable {
            promised: Ballot::ZERO,
            accepted: BTreeMap::new(),
            epoch: 0,
        }
    }
}

/// One Multi-Paxos server's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MpState {
    /// Acceptor (durable): the highest ballot promised.
    pub promised: Ballot,
    /// Acceptor (durable): per slot, the last `(ballot, command)` accepted.
    pub accepted: BTreeMap<Slot, (Ballot, MpCmd)>,
    /// Durable: the incarnation number.
    pub epoch: u32,
    /// Learner: the slots known chosen, with their commands.
    pub chosen: BTreeMap<Slot, MpCmd>,
    /// Learner: slots `1..=applied` are applied to the register.
    pub applied: Slot,
    /// The register's value after the applied prefix.
    pub register: Option<u64>,
    /// The client commands applied so far (a command chosen again later is skipped).
    pub done: BTreeSet<CmdId>,
    /// Proposer: what this server is doing.
    pub phase: MpPhase,
    /// The highest ballot this server has seen anywhere.
    pub highest: Ballot,
    /// Failed attempts since this server last led (for the backoff).
    pub attempts: u32,
    /// A [`MpTimer::Retry`] is pending.
    pub retry_armed: bool,
    /// The next command sequence number of this epoch.
    pub seq: u32,
    /// This server's clients' commands, not applied yet, in arrival order.
    pub pending: Vec<MpCmd>,
    /// The embedded Ω detector's state (Ω mode only).
    pub omega: Option<OmegaState>,
    /// The server Ω trusts (itself in dueling mode).
    pub trusted: NodeId,
}

impl MpState {
    /// The applied log: the commands of slots `1..=applied`.
    pub fn applied_log(&self) -> impl Iterator<Item = (Slot, MpCmd)> + '_ {
        self.chosen.range(..=self.applied).map(|(k, c)| (*k, *c))
    }

    fn in_log(&self, cmd: &MpCmd) -> bool {
        let MpCmd::Client { id, .. } = cmd else {
            return false;
        };
        if self.done.contains(id) {
            return true;
        }
        if self.chosen.range(self.applied + 1..).any(|(_, c)| c == cmd) {
            return true;
        }
        match &self.phase {
            MpPhase::Leading { proposals, .. } => proposals.values().any(|(c, _)| c == cmd),
            _ => false,
        }
    }
}

impl MultiPaxos {
    fn omega(&self) -> Option<&Omega> {
        match &self.leadership {
            Leadership::Omega(o) => Some(o),
            Leadership::Dueling => None,
        }
    }

    /// A fresh or recovered server from `d` with epoch `epoch`.
    fn start(&self, d: &MpDurable, epoch: u32, ctx: &mut Ctx<'_, Self>) -> MpState {
        assert_fits_node_set("MultiPaxos", ctx.n());
        let mut s = MpState {
            promised: d.promised,
            accepted: d.accepted.clone(),
            epoch,
            chosen: BTreeMap::new(),
            applied: 0,
            register: None,
            done: BTreeSet::new(),
            phase: MpPhase::Idle,
            highest: d.promised,
            attempts: 0,
            retry_armed: false,
            seq: 0,
            pending: Vec::new(),
            omega: None,
            trusted: ctx.id(),
        };
        ctx.set_timer(MpTimer::Tick, self.tick);
        if let Some(o) = self.omega() {
            let mut fx = Vec::new();
            s.omega = Some(o.init(&mut ctx.fork(&mut fx)));
            self.run_omega(&mut s, fx, ctx);
        }
        s
    }

    /// Applies the embedded Ω's effects, then reacts to a change of trusted leader.
    fn run_omega(&self, s: &mut MpState, fx: Vec<Effect<Omega>>, ctx: &mut Ctx<'_, Self>) {
        let mut trust = None;
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, MpMsg::Fd(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(MpTimer::Fd(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(MpTimer::Fd(timer)),
                Effect::Persist => {}
                Effect::Indicate(OmegaIndication::Trust(l)) => trust = Some(l),
            }
        }
        if let Some(l) = trust {
            s.trusted = l;
            self.on_trust(s, ctx);
        }
    }

    fn on_trust(&self, s: &mut MpState, ctx: &mut Ctx<'_, Self>) {
        if s.trusted == ctx.id() {
            if s.phase == MpPhase::Idle && !s.retry_armed {
                self.start_phase1(s, ctx);
            }
        } else {
            s.phase = MpPhase::Idle;
            s.attempts = 0;
            self.forward(s, ctx);
        }
    }

    fn forward(&self, s: &MpState, ctx: &mut Ctx<'_, Self>) {
        if s.trusted != ctx.id() && !s.pending.is_empty() {
            ctx.send(
                s.trusted,
                MpMsg::Forward {
                    cmds: s.pending.clone(),
                },
            );
        }
    }

    /// Phase 1 with a ballot above every ballot seen, for every slot not applied yet.
    fn start_phase1(&self, s: &mut MpState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let round = s.highest.round.max(s.promised.round).saturating_add(1);
        let ballot = Ballot { round, node: me };
        s.highest = ballot;
        s.promised = ballot;
        let from = s.applied + 1;
        let reported = s.accepted.range(from..).map(|(k, v)| (*k, *v)).collect();
        s.phase = MpPhase::Preparing {
            ballot,
            from,
            promises: NodeSet::only(me),
            reported,
        };
        ctx.persist();
        ctx.indicate(MpInd::Ballot(ballot));
        ctx.broadcast(MpMsg::Prepare { ballot, from });
        self.check_promises(s, ctx);
    }

    fn check_promises(&self, s: &mut MpState, ctx: &mut Ctx<'_, Self>) {
        let MpPhase::Preparing { promises, .. } = &s.phase else {
            return;
        };
        if promises.len() < majority(ctx.n()) {
            return;
        }
        let MpPhase::Preparing {
            ballot,
            from,
            reported,
            ..
        } = std::mem::replace(&mut s.phase, MpPhase::Idle)
        else {
            return;
        };
        let me = ctx.id();
        let top = reported
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .max(s.chosen.keys().next_back().copied().unwrap_or(0))
            .max(from - 1);
        let mut proposals = BTreeMap::new();
        for slot in from..=top {
            if s.chosen.contains_key(&slot) {
                continue;
            }
            let cmd = match reported.get(&slot) {
                Some((_, c)) if !self.skip_repropose => *c,
                _ => MpCmd::Noop,
            };
            s.accepted.insert(slot, (ballot, cmd));
            proposals.insert(slot, (cmd, NodeSet::only(me)));
        }
        s.phase = MpPhase::Leading {
            ballot,
            next: top + 1,
            proposals: proposals.clone(),
        };
        s.attempts = 0;
        ctx.persist();
        ctx.indicate(MpInd::Leader(ballot));
        for (slot, (cmd, _)) in &proposals {
            ctx.broadcast(MpMsg::Accept {
                ballot,
                slot: *slot,
                cmd: *cmd,
            });
        }
        for slot in proposals.keys() {
            self.check_chosen(s, *slot, ctx);
        }
        for cmd in s.pending.clone() {
            self.propose(s, cmd, ctx);
        }
    }

    /// As leader, puts `cmd` in the next free slot (unless it is already in the log).
    fn propose(&self, s: &mut MpState, cmd: MpCmd, ctx: &mut Ctx<'_, Self>) {
        if s.in_log(&cmd) {
            return;
        }
        let me = ctx.id();
        let MpPhase::Leading {
            ballot,
            next,
            proposals,
        } = &mut s.phase
        else {
            return;
        };
        let (ballot, slot) = (*ballot, *next);
        *next += 1;
        proposals.insert(slot, (cmd, NodeSet::only(me)));
        s.accepted.insert(slot, (ballot, cmd));
        ctx.persist();
        ctx.broadcast(MpMsg::Accept { ballot, slot, cmd });
        self.check_chosen(s, slot, ctx);
    }

    fn check_chosen(&self, s: &mut MpState, slot: Slot, ctx: &mut Ctx<'_, Self>) {
        let MpPhase::Leading { proposals, .. } = &mut s.phase else {
            return;
        };
        let Some((cmd, acks)) = proposals.get(&slot) else {
            return;
        };
        if acks.len() < majority(ctx.n()) {
            return;
        }
        let cmd = *cmd;
        proposals.remove(&slot);
        ctx.broadcast(MpMsg::Decide { slot, cmd });
        self.learn(s, slot, cmd, ctx);
    }

    /// Records that `cmd` is chosen at `slot` and applies what became contiguous.
    fn learn(&self, s: &mut MpState, slot: Slot, cmd: MpCmd, ctx: &mut Ctx<'_, Self>) {
        if slot <= s.applied || s.chosen.contains_key(&slot) {
            return;
        }
        s.chosen.insert(slot, cmd);
        if let MpPhase::Leading { proposals, .. } = &mut s.phase {
            proposals.remove(&slot);
        }
        while let Some(cmd) = s.chosen.get(&(s.applied + 1)).copied() {
            s.applied += 1;
            ctx.indicate(MpInd::Applied {
                slot: s.applied,
                cmd,
            });
            let MpCmd::Client { id, req } = cmd else {
                continue;
            };
            if !s.done.insert(id) {
                continue; // chosen twice: applied once
            }
            let resp = match req {
                RegisterReq::Write { client, value } => {
                    s.register = Some(value);
                    RegisterResp::WriteOk { client }
                }
                RegisterReq::Read { client } => RegisterResp::ReadOk {
                    client,
                    value: s.register,
                },
            };
            if let Some(i) = s.pending.iter().position(|c| *c == cmd) {
                s.pending.remove(i);
                ctx.indicate(MpInd::Client(resp));
            }
        }
    }

    /// Notes ballot `b` seen somewhere; a proposer with a lower ballot is pre-empted.
    fn saw(&self, s: &mut MpState, b: Ballot, ctx: &mut Ctx<'_, Self>) {
        s.highest = s.highest.max(b);
        match s.phase.ballot() {
            Some(mine) if b > mine => {}
            _ => return,
        }
        s.phase = MpPhase::Idle;
        match self.leadership {
            Leadership::Dueling => {
                if !s.pending.is_empty() {
                    self.start_phase1(s, ctx);
                }
            }
            Leadership::Omega(_) => {
                if s.trusted == ctx.id() {
                    self.arm_retry(s, ctx);
                } else {
                    self.forward(s, ctx);
                }
            }
        }
    }

    fn arm_retry(&self, s: &mut MpState, ctx: &mut Ctx<'_, Self>) {
        if s.retry_armed {
            return;
        }
        s.attempts = s.attempts.saturating_add(1);
        let base = self
            .backoff
            .saturating_mul(1 << (s.attempts.min(6) - 1) as u64);
        let jitter = ctx.choose(8) as u64;
        ctx.set_timer(MpTimer::Retry, Duration(base.0 + base.0 / 8 * jitter));
        s.retry_armed = true;
    }
}

impl Protocol for MultiPaxos {
    type Msg = MpMsg;
    type Timer = MpTimer;
    type Request = RegisterReq;
    type Indication = MpInd;
    type State = MpState;
    type Durable = MpDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> MpState {
        self.start(&MpDurable::default(), 0, ctx)
    }

    fn on_message(&self, s: &mut MpState, from: NodeId, msg: MpMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() {
            return; // not a peer of this run
        }
        match msg {
            MpMsg::Fd(m) => {
                if let (Some(o), Some(mut os)) = (self.omega(), s.omega.take()) {
                    let mut fx = Vec::new();
                    o.on_message(&mut os, from, m, &mut ctx.fork(&mut fx));
                    s.omega = Some(os);
                    self.run_omega(s, fx, ctx);
                }
            }
            MpMsg::Prepare { ballot, from: f } => {
                if ballot < s.promised {
                    ctx.send(
                        from,
                        MpMsg::Nack {
                            ballot,
                            promised: s.promised,
                        },
                    );
                    return;
                }
                if ballot > s.promised {
                    s.promised = ballot;
                    ctx.persist();
                }
                let accepted = s
                    .accepted
                    .range(f..)
                    .map(|(k, (b, c))| (*k, *b, *c))
                    .collect();
                ctx.send(from, MpMsg::Promise { ballot, accepted });
                self.saw(s, ballot, ctx);
            }
            MpMsg::Promise { ballot, accepted } => {
                let MpPhase::Preparing {
                    ballot: b,
                    promises,
                    reported,
                    ..
                } = &mut s.phase
                else {
                    return;
                };
                if *b != ballot || !promises.insert(from) {
                    return;
                }
                for (slot, ab, cmd) in accepted {
                    if reported.get(&slot).is_none_or(|(rb, _)| ab > *rb) {
                        reported.insert(slot, (ab, cmd));
                    }
                }
                self.check_promises(s, ctx);
            }
            MpMsg::Accept { ballot, slot, cmd } => {
                if ballot < s.promised {
                    ctx.send(
                        from,
                        MpMsg::Nack {
                            ballot,
                            promised: s.promised,
                        },
                    );
                    return;
                }
                s.promised = ballot;
                if s.accepted.get(&slot) != Some(&(ballot, cmd)) {
                    s.accepted.insert(slot, (ballot, cmd));
                    ctx.persist();
                }
                ctx.send(from, MpMsg::Accepted { ballot, slot });
                self.saw(s, ballot, ctx);
            }
            MpMsg::Accepted { ballot, slot } => {
                let MpPhase::Leading {
                    ballot: b,
                    proposals,
                    ..
                } = &mut s.phase
                else {
                    return;
                };
                if *b != ballot {
                    return;
                }
                if let Some((_, acks)) = proposals.get_mut(&slot) {
                    if acks.insert(from) {
                        self.check_chosen(s, slot, ctx);
                    }
                }
            }
            MpMsg::Nack { promised, .. } => self.saw(s, promised, ctx),
            MpMsg::Decide { slot, cmd } => self.learn(s, slot, cmd, ctx),
            MpMsg::Sync { applied } => {
                if applied > s.applied {
                    ctx.send(
                        from,
                        MpMsg::Learn {
                            from: s.applied + 1,
                        },
                    );
                }
            }
            MpMsg::Learn { from: f } => {
                let end = f.saturating_add(self.learn_batch);
                for (slot, cmd) in s.chosen.range(f..end) {
                    ctx.send(
                        from,
                        MpMsg::Decide {
                            slot: *slot,
                            cmd: *cmd,
                        },
                    );
                }
            }
            MpMsg::Forward { cmds } => {
                if s.phase.is_leading() {
                    for cmd in cmds {
                        self.propose(s, cmd, ctx);
                    }
                }
            }
        }
    }

    fn on_timer(&self, s: &mut MpState, timer: MpTimer, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        match timer {
            MpTimer::Fd(t) => {
                if let (Some(o), Some(mut os)) = (self.omega(), s.omega.take()) {
                    let mut fx = Vec::new();
                    o.on_timer(&mut os, t, &mut ctx.fork(&mut fx));
                    s.omega = Some(os);
                    self.run_omega(s, fx, ctx);
                }
            }
            MpTimer::Retry => {
                s.retry_armed = false;
                if s.phase == MpPhase::Idle && s.trusted == me {
                    self.start_phase1(s, ctx);
                }
            }
            MpTimer::Tick => {
                ctx.set_timer(MpTimer::Tick, self.tick);
                match &s.phase {
                    MpPhase::Idle => {}
                    MpPhase::Preparing {
                        ballot,
                        from,
                        promises,
                        ..
                    } => {
                        for q in ctx.peers().collect::<Vec<_>>() {
                            if !promises.contains(q) {
                                let (ballot, from) = (*ballot, *from);
                                ctx.send(q, MpMsg::Prepare { ballot, from });
                            }
                        }
                    }
                    MpPhase::Leading {
                        ballot, proposals, ..
                    } => {
                        let peers: Vec<NodeId> = ctx.peers().collect();
                        for (slot, (cmd, acks)) in proposals {
                            for q in &peers {
                                if !acks.contains(*q) {
                                    ctx.send(
                                        *q,
                                        MpMsg::Accept {
                                            ballot: *ballot,
                                            slot: *slot,
                                            cmd: *cmd,
                                        },
                                    );
                                }
                            }
                        }
                        ctx.broadcast(MpMsg::Sync { applied: s.applied });
                    }
                }
                match self.leadership {
                    Leadership::Omega(_) => {
                        if s.trusted != me {
                            self.forward(s, ctx);
                        } else if s.phase == MpPhase::Idle && !s.retry_armed {
                            self.start_phase1(s, ctx);
                        }
                    }
                    Leadership::Dueling => {
                        if s.phase == MpPhase::Idle && !s.pending.is_empty() {
                            self.start_phase1(s, ctx);
                        }
                    }
                }
            }
        }
    }

    fn on_request(&self, s: &mut MpState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let id = CmdId {
            origin: me,
            epoch: s.epoch,
            seq: s.seq,
        };
        s.seq = s.seq.saturating_add(1);
        let cmd = MpCmd::Client { id, req };
        s.pending.push(cmd);
        match (&s.phase, self.leadership) {
            (MpPhase::Leading { .. }, _) => self.propose(s, cmd, ctx),
            (MpPhase::Preparing { .. }, _) => {} // proposed when phase 1 ends
            (MpPhase::Idle, Leadership::Dueling) => self.start_phase1(s, ctx),
            (MpPhase::Idle, Leadership::Omega(_)) => {
                if s.trusted != me {
                    ctx.send(s.trusted, MpMsg::Forward { cmds: vec![cmd] });
                } else if !s.retry_armed {
                    self.start_phase1(s, ctx);
                }
            }
        }
    }

    fn durable(&self, s: &MpState) -> MpDurable {
        MpDurable {
            promised: s.promised,
            accepted: s.accepted.clone(),
            epoch: s.epoch,
        }
    }

    fn recover(&self, d: &MpDurable, ctx: &mut Ctx<'_, Self>) -> MpState {
        ctx.persist(); // the new epoch, before anything else goes out
        self.start(d, d.epoch.saturating_add(1), ctx)
    }

    fn invariants(&self, s: &MpState) {
        if let Some(b) = s.phase.ballot() {
            assert_eq!(
                b, s.promised,
                "MultiPaxos: proposing with {b:?} but promised {:?}",
                s.promised
            );
        }
        assert!(
            s.promised <= s.highest,
            "MultiPaxos: promised {:?} above the highest ballot seen {:?}",
            s.promised,
            s.highest
        );
        assert!(
            s.applied == 0 || s.chosen.contains_key(&s.applied),
            "MultiPaxos: applied slot {} is not known chosen",
            s.applied
        );
        if let Some((slot, (b, _))) = s.accepted.last_key_value() {
            assert!(
                *b <= s.promised,
                "MultiPaxos: accepted at slot {slot} in {b:?} above the promise {:?}",
                s.promised
            );
        }
    }
}

impl ClientOps for MultiPaxos {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    fn response(ind: &MpInd) -> Option<(ClientId, RegisterRet)> {
        match ind {
            MpInd::Client(r) => Some((r.client(), r.ret())),
            _ => None,
        }
    }
}

// ---- Properties over the indications of a run -------------------------------------------------

/// *Agreement per slot* (safety): all [`MpInd::Applied`] indications for one slot, at every
/// server and across recoveries, carry the same command. The violation is the first one that
/// disagrees with an earlier one.
pub fn slot_agreement<P: Protocol<Indication = MpInd>>() -> Property<P> {
    Property::safety("slot-agreement", |trace: &Trace<P>| {
        let mut log: BTreeMap<Slot, (MpCmd, NodeId)> = BTreeMap::new();
        for (i, _, node, ind) in trace.indications() {
            if let MpInd::Applied { slot, cmd } = *ind {
                match log.get(&slot) {
                    None => {
                        log.insert(slot, (cmd, node));
                    }
                    Some((c, by)) if *c != cmd => {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node} applied {cmd:?} at slot {slot}, but {by} applied {c:?}"
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        Verdict::Holds
    })
}

/// *Log-prefix consistency* (safety): every server applies slots 1, 2, 3, … in order with no
/// gap (starting again at 1 when it recovers), and each slot's command is the one applied there
/// first anywhere: so at any time, of two servers' applied logs one is a prefix of the other.
pub fn log_prefix<P: Protocol<Indication = MpInd>>() -> Property<P> {
    Property::safety("log-prefix", |trace: &Trace<P>| {
        let mut next: Vec<Slot> = vec![1; trace.facts.n];
        let mut log: Vec<MpCmd> = Vec::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Init { node } | EventKind::Recover { node } => next[node.index()] = 1,
                EventKind::Indication {
                    node,
                    ind: MpInd::Applied { slot, cmd },
                } => {
                    let want = next[node.index()];
                    if *slot != want {
                        return Verdict::violated_at(
                            i,
                            format!("{node} applied slot {slot} when its next slot was {want}"),
                        );
                    }
                    let k = (*slot - 1) as usize;
                    if k == log.len() {
                        log.push(*cmd);
                    } else if log[k] != *cmd {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node}'s applied log diverges at slot {slot}: {cmd:?}, not {:?}",
                                log[k]
                            ),
                        );
                    }
                    next[node.index()] = slot + 1;
                }
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// *Validity* (safety): every applied client command was requested at its origin before (the
/// same request, by the same client), a `WriteOk` answers a client that asked to write, and a
/// `ReadOk` returns nothing or a value some client asked to write.
pub fn validity<P: Protocol<Request = RegisterReq, Indication = MpInd>>() -> Property<P> {
    Property::safety("validity", |trace: &Trace<P>| {
        let mut requested: BTreeSet<(NodeId, RegisterReq)> = BTreeSet::new();
        let mut values: BTreeSet<u64> = BTreeSet::new();
        let mut writers: BTreeSet<u64> = BTreeSet::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Request { node, req } => {
                    requested.insert((*node, *req));
                    if let RegisterReq::Write { client, value } = *req {
                        values.insert(value);
                        writers.insert(client);
                    }
                }
                EventKind::Indication { node, ind } => match *ind {
                    MpInd::Applied {
                        slot,
                        cmd: MpCmd::Client { id, req },
                    } if !requested.contains(&(id.origin, req)) => {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node} applied {req:?} at slot {slot}, never requested at {}",
                                id.origin
                            ),
                        );
                    }
                    MpInd::Client(RegisterResp::WriteOk { client })
                        if !writers.contains(&client) =>
                    {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node} answered WriteOk to client {client}, which never wrote"
                            ),
                        );
                    }
                    MpInd::Client(RegisterResp::ReadOk {
                        client,
                        value: Some(v),
                    }) if !values.contains(&v) => {
                        return Verdict::violated_at(
                            i,
                            format!("{node} answered client {client}'s read with {v}, which nobody wrote"),
                        );
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// *Progress* (liveness, judged at the end of the run): every request made at a server that
/// stays up from then until the end is answered by then. Inconclusive when scheduled faults
/// (partitions, recoveries) lasted until the end.
pub fn progress<P: Protocol<Request = RegisterReq, Indication = MpInd>>() -> Property<P> {
    Property::liveness("progress", |trace: &Trace<P>| {
        if trace.facts.faults_end >= trace.facts.end {
            return Verdict::Inconclusive {
                detail: "faults lasted until the end of the run".into(),
            };
        }
        // Per (server, client): the requests not answered yet, by event index.
        let mut open: BTreeMap<(NodeId, u64), Vec<usize>> = BTreeMap::new();
        let mut last_crash: Vec<Option<usize>> = vec![None; trace.facts.n];
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Request { node, req } => {
                    open.entry((*node, req.client())).or_default().push(i);
                }
                EventKind::Indication {
                    node,
                    ind: MpInd::Client(r),
                } => {
                    if let Some(q) = open.get_mut(&(*node, r.client())) {
                        if !q.is_empty() {
                            q.remove(0);
                        }
                    }
                }
                EventKind::Crash { node } => last_crash[node.index()] = Some(i),
                _ => {}
            }
        }
        for ((node, client), reqs) in &open {
            for &i in reqs {
                let crashed_after = last_crash[node.index()].is_some_and(|c| c > i);
                if !crashed_after && trace.facts.up_at_end[node.index()] {
                    return Verdict::violated(format!(
                        "client {client}'s request at {node} (event {i}) was never answered"
                    ));
                }
            }
        }
        Verdict::Holds
    })
}

/// The safety properties: [`slot_agreement`], [`log_prefix`], [`validity`].
pub fn safety_properties() -> Vec<Property<MultiPaxos>> {
    vec![slot_agreement(), log_prefix(), validity()]
}

/// The safety properties and [`progress`].
pub fn properties() -> Vec<Property<MultiPaxos>> {
    let mut p = safety_properties();
    p.push(progress());
    p
}

// ---- Properties over node states ----------------------------------------------------------------

/// *Agreement* on a global state (`states[i]` is node i's state, `None` while it is down): the
/// servers' known chosen slots agree, and a command accepted by a majority of the `states.len()`
/// servers at one slot and ballot (chosen, as far as the states show) is the one known chosen
/// there.
pub fn chosen_agree(states: &[Option<&MpState>]) -> bool {
    chosen_disagreement(states).is_none()
}

fn chosen_disagreement(states: &[Option<&MpState>]) -> Option<String> {
    let mut log: BTreeMap<Slot, MpCmd> = BTreeMap::new();
    for s in states.iter().flatten() {
        for (slot, cmd) in &s.chosen {
            if let Some(c) = log.get(slot) {
                if c != cmd {
                    return Some(format!("slot {slot} is chosen as {c:?} and as {cmd:?}"));
                }
            } else {
                log.insert(*slot, *cmd);
            }
        }
    }
    let mut votes: BTreeMap<(Slot, Ballot), (MpCmd, usize)> = BTreeMap::new();
    for s in states.iter().flatten() {
        for (slot, (b, cmd)) in &s.accepted {
            let v = votes.entry((*slot, *b)).or_insert((*cmd, 0));
            if v.0 != *cmd {
                return Some(format!(
                    "two commands accepted at slot {slot} in ballot {b:?}"
                ));
            }
            v.1 += 1;
        }
    }
    let quorum = majority(states.len());
    let mut by_majority: BTreeMap<Slot, MpCmd> = BTreeMap::new();
    for ((slot, _), (cmd, count)) in votes {
        if count < quorum {
            continue;
        }
        for known in [log.get(&slot), by_majority.get(&slot)]
            .into_iter()
            .flatten()
        {
            if *known != cmd {
                return Some(format!(
                    "slot {slot}: {cmd:?} is accepted by a majority, but {known:?} is chosen"
                ));
            }
        }
        by_majority.insert(slot, cmd);
    }
    None
}

/// *Log-prefix consistency* on a global state: of any two live servers' applied logs, one is a
/// prefix of the other.
pub fn applied_prefix(states: &[Option<&MpState>]) -> bool {
    let live: Vec<&MpState> = states.iter().flatten().copied().collect();
    let Some(longest) = live.iter().max_by_key(|s| s.applied) else {
        return true;
    };
    live.iter().all(|s| {
        s.applied_log()
            .all(|(slot, cmd)| longest.chosen.get(&slot) == Some(&cmd))
    })
}

/// *Validity* on a global state: every command accepted or known chosen anywhere is a no-op or
/// a client command that `requested(origin, req)` says was requested at its origin.
pub fn commands_requested(
    states: &[Option<&MpState>],
    requested: impl Fn(NodeId, &RegisterReq) -> bool,
) -> bool {
    let valid = |cmd: &MpCmd| match cmd {
        MpCmd::Noop => true,
        MpCmd::Client { id, req } => requested(id.origin, req),
    };
    states
        .iter()
        .flatten()
        .all(|s| s.chosen.values().all(valid) && s.accepted.values().all(|(_, c)| valid(c)))
}

/// The highest ballot round any live server has promised (0 before any phase 1): a proposer
/// promises its own ballot, so no ballot above it exists anywhere.
pub fn max_ballot_round(states: &[Option<&MpState>]) -> u32 {
    states
        .iter()
        .flatten()
        .map(|s| s.promised.round)
        .max()
        .unwrap_or(0)
}

/// The first safety violation on a global state ([`chosen_agree`], [`applied_prefix`]), if any.
pub fn safety_violation(states: &[Option<&MpState>]) -> Option<String> {
    if let Some(why) = chosen_disagreement(states) {
        return Some(why);
    }
    if !applied_prefix(states) {
        return Some("two applied logs diverge".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{FirstChoice, Instant};

    fn ctx_step(
        p: &MultiPaxos,
        s: &mut MpState,
        me: u32,
        n: usize,
        f: impl FnOnce(&MultiPaxos, &mut MpState, &mut Ctx<'_, MultiPaxos>),
    ) -> Vec<Effect<MultiPaxos>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(me), n, Instant::ZERO, &mut fx, &mut ch);
        f(p, s, &mut ctx);
        p.invariants(s);
        fx
    }

    fn fresh(p: &MultiPaxos, me: u32, n: usize) -> MpState {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        p.init(&mut Ctx::new(
            NodeId(me),
            n,
            Instant::ZERO,
            &mut fx,
            &mut ch,
        ))
    }

    fn sends(fx: &[Effect<MultiPaxos>]) -> Vec<(NodeId, MpMsg)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } if !matches!(msg, MpMsg::Fd(_)) => {
                    Some((*to, msg.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn write(id: u32, value: u64) -> MpCmd {
        MpCmd::Client {
            id: CmdId {
                origin: NodeId(id),
                epoch: 0,
                seq: 0,
            },
            req: RegisterReq::Write {
                client: u64::from(id),
                value,
            },
        }
    }

    #[test]
    fn a_new_leader_re_proposes_what_the_promises_report() {
        for (p, expect) in [
            (MultiPaxos::dueling(), write(2, 20)),
            (
                MultiPaxos {
                    skip_repropose: true,
                    ..MultiPaxos::dueling()
                },
                MpCmd::Noop,
            ),
        ] {
            let mut s = fresh(&p, 0, 3);
            let fx = ctx_step(&p, &mut s, 0, 3, |p, s, c| {
                p.on_request(
                    s,
                    RegisterReq::Write {
                        client: 1,
                        value: 10,
                    },
                    c,
                )
            });
            let b = Ballot {
                round: 1,
                node: NodeId(0),
            };
            assert_eq!(s.phase.ballot(), Some(b));
            assert!(fx.contains(&Effect::Persist));
            assert_eq!(sends(&fx).len(), 2, "Prepare to both peers");
            // n1 had accepted n2's write at slot 1 in an older ballot.
            let old = Ballot {
                round: 0,
                node: NodeId(2),
            };
            let fx = ctx_step(&p, &mut s, 0, 3, |p, s, c| {
                p.on_message(
                    s,
                    NodeId(1),
                    MpMsg::Promise {
                        ballot: b,
                        accepted: vec![(1, old, write(2, 20))],
                    },
                    c,
                )
            });
            assert!(s.phase.is_leading());
            let accepts: Vec<(Slot, MpCmd)> = sends(&fx)
                .into_iter()
                .filter_map(|(_, m)| match m {
                    MpMsg::Accept { slot, cmd, .. } => Some((slot, cmd)),
                    _ => None,
                })
                .collect();
            // Slot 1 gets the reported value (or the canary's no-op), slot 2 our own write.
            assert_eq!(accepts[0], (1, expect));
            assert!(accepts.iter().any(|(slot, _)| *slot == 2));
            // n1 accepts slot 1: chosen, applied.
            let fx = ctx_step(&p, &mut s, 0, 3, |p, s, c| {
                p.on_message(s, NodeId(1), MpMsg::Accepted { ballot: b, slot: 1 }, c)
            });
            assert_eq!(s.applied, 1);
            assert!(fx.contains(&Effect::Indicate(MpInd::Applied {
                slot: 1,
                cmd: expect
            })));
        }
    }

    #[test]
    fn an_acceptor_persists_before_it_replies_and_refuses_lower_ballots() {
        let p = MultiPaxos::dueling();
        let mut s = fresh(&p, 1, 3);
        let high = Ballot {
            round: 2,
            node: NodeId(2),
        };
        let low = Ballot {
            round: 1,
            node: NodeId(0),
        };
        let fx = ctx_step(&p, &mut s, 1, 3, |p, s, c| {
            p.on_message(
                s,
                NodeId(2),
                MpMsg::Prepare {
                    ballot: high,
                    from: 1,
                },
                c,
            )
        });
        let persist = fx.iter().position(|e| *e == Effect::Persist);
        let reply = fx.iter().position(|e| matches!(e, Effect::Send { .. }));
        assert!(persist.is_some() && persist < reply, "{fx:?}");
        assert_eq!(p.durable(&s).promised, high);
        let fx = ctx_step(&p, &mut s, 1, 3, |p, s, c| {
            p.on_message(
                s,
                NodeId(0),
                MpMsg::Accept {
                    ballot: low,
                    slot: 1,
                    cmd: write(0, 1),
                },
                c,
            )
        });
        assert_eq!(
            sends(&fx),
            vec![(
                NodeId(0),
                MpMsg::Nack {
                    ballot: low,
                    promised: high
                }
            )]
        );
        assert!(s.accepted.is_empty());
        // Recovery keeps the promise and bumps the epoch.
        let d = p.durable(&s);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let r = p.recover(
            &d,
            &mut Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch),
        );
        assert_eq!((r.promised, r.epoch), (high, 1));
        assert_eq!(fx.first(), Some(&Effect::Persist));
    }

    #[test]
    fn a_single_server_applies_alone_and_answers() {
        let p = MultiPaxos::new();
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(0), 1, Instant::ZERO, &mut fx, &mut ch);
        let mut s = p.init(&mut ctx);
        assert!(
            s.phase.is_leading(),
            "Ω trusts n0 at once; phase 1 is trivial"
        );
        p.on_request(
            &mut s,
            RegisterReq::Write {
                client: 3,
                value: 4,
            },
            &mut ctx,
        );
        p.on_request(&mut s, RegisterReq::Read { client: 5 }, &mut ctx);
        assert_eq!(s.applied, 2);
        assert!(
            fx.contains(&Effect::Indicate(MpInd::Client(RegisterResp::ReadOk {
                client: 5,
                value: Some(4)
            })))
        );
    }

    #[test]
    fn state_checks_see_disagreement() {
        let p = MultiPaxos::dueling();
        let mut a = fresh(&p, 0, 3);
        let mut b = fresh(&p, 1, 3);
        a.chosen.insert(1, write(0, 1));
        a.applied = 1;
        b.chosen.insert(1, write(0, 1));
        b.chosen.insert(2, write(1, 2));
        b.applied = 2;
        assert_eq!(safety_violation(&[Some(&a), Some(&b), None]), None);
        b.chosen.insert(1, MpCmd::Noop);
        assert!(!chosen_agree(&[Some(&a), Some(&b), None]));
        assert!(!applied_prefix(&[Some(&a), Some(&b), None]));
    }

    #[test]
    fn state_validity_and_the_ballot_bound_read_every_live_server() {
        let p = MultiPaxos::dueling();
        let mut a = fresh(&p, 0, 3);
        let mut b = fresh(&p, 1, 3);
        assert_eq!(max_ballot_round(&[Some(&a), Some(&b), None]), 0);
        let asked = |origin: NodeId, req: &RegisterReq| origin == NodeId(0) && req.client() == 0;
        a.chosen.insert(1, write(0, 1));
        a.accepted.insert(
            2,
            (
                Ballot {
                    round: 2,
                    node: NodeId(0),
                },
                MpCmd::Noop,
            ),
        );
        a.promised = Ballot {
            round: 2,
            node: NodeId(0),
        };
        assert!(commands_requested(&[Some(&a), Some(&b), None], asked));
        assert_eq!(max_ballot_round(&[Some(&a), Some(&b), None]), 2);
        b.accepted.insert(
            1,
            (
                Ballot {
                    round: 1,
                    node: NodeId(1),
                },
                write(1, 7),
            ),
        );
        assert!(!commands_requested(&[Some(&a), Some(&b), None], asked));
        assert!(
            commands_requested(&[Some(&a), None, None], asked),
            "down servers hold nothing"
        );
    }
}
