//! A linearizable write-once register on single-decree Paxos.
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), crash-stop, any minority of which may
//! crash. Asynchronous timing. The network may lose, duplicate and reorder messages: safety
//! does not depend on it. There are no timers and no retransmissions, so a lost message can
//! leave an operation unanswered for ever: Paxos promises safety, not liveness. Clients are
//! external: a client operation arrives as a request ([`RegisterReq`]) at one server, and the
//! answer ([`RegisterResp`]) is an indication emitted by a server.
//!
//! **Algorithm.** Every server is proposer, acceptor and learner. Ballots are pairs
//! ([`Ballot`]) `(round, server)`, ordered lexicographically, so two proposers never use the
//! same ballot. A server keeps the highest ballot it has seen (`ballot`, which is also its
//! promise), the last proposal it accepted with its ballot (`accepted`), and, as a proposer,
//! the replies for its current ballot.
//!
//! - `Write { client, value }` at a server with no proposal of its own that has not decided:
//!   the server proposes [`Proposal`] `{ client, value }` with ballot `(round + 1, me)` (round
//!   from the highest ballot it has seen), counts its own promise and sends
//!   [`PaxosMsg::Prepare`] to the others. A write arriving at a server that already proposed or
//!   decided is not answered.
//! - `Prepare(b)` with `b` above the server's ballot: it promises, `ballot = b`, and replies
//!   [`PaxosMsg::Promise`] with what it accepted last. A lower or equal ballot is ignored (no
//!   negative acknowledgement: the message vocabulary stays minimal).
//! - A `Promise` for the proposer's current ballot is counted. At a majority (its own
//!   included), the proposer proposes the highest-ballot accepted proposal reported by the
//!   promises, or its own if none was reported; it accepts it itself and sends
//!   [`PaxosMsg::Accept`] to the others.
//! - `Accept(b, p)` with `b` at least the server's ballot: `ballot = b`, it accepts `(b, p)` and
//!   replies [`PaxosMsg::Accepted`].
//! - An `Accepted` for the current ballot is counted; at a majority (its own acceptance
//!   included) `p` is chosen: the proposer decides, sends [`PaxosMsg::Decided`] to the others and
//!   answers `WriteOk` to the client whose value was chosen (not necessarily its own client:
//!   the losing client is never answered, its write is an incomplete operation that did not take
//!   effect).
//! - `Decided(b, p)`: the server adopts `p` and decides.
//! - `Read { client }` at a decided server answers `ReadOk` with the decided value; an
//!   undecided server does not answer (the read stays incomplete).
//!
//! A decided server keeps acting as an acceptor (it still promises and accepts, so other
//! proposers can finish), but its `accepted` pair, which holds the decision, no longer changes;
//! it stops acting as a proposer. Messages that make no sense (a promise for another ballot, a
//! duplicate) are ignored without a trace in the state, so the model checker does not see
//! spurious states.
//!
//! **Why the promise matters.** A value is chosen once a majority accepted it at some ballot b.
//! Any later ballot's proposer hears, in its majority of promises, from some acceptor of that
//! majority, and the promise guarantees that this acceptor accepts nothing below the new
//! ballot after promising: so the highest accepted proposal it reports is the chosen one (or a
//! later proposal, which by induction has the same value). The canary
//! ([`PaxosRegister::canary_forgets_promise`]) accepts below its promise, and two values get
//! chosen.
//!
//! **Properties** ([`super::properties`]): *agreement* (no two servers decide differently),
//! *validity* (a decided or read value was written by some client); on node states,
//! [`super::properties::agreement_holds`]. With the write-then-read workload of the model
//! checking literature, the client histories are linearizable.
//!
//! **State size.** [`PaxosState`] holds a ballot, the server's proposal, its last accepted
//! proposal, two [`NodeSet`]s, the highest accepted proposal reported by promises so far and a
//! flag: 120 bytes, no heap.
//! Promises are kept as the *set* of promisers plus the *highest* proposal they reported (all
//! the algorithm needs) rather than one entry per promiser, and replies beyond the majority, or
//! after the decision, are not recorded: states that differ only in information the algorithm
//! never reads are the same state.
//!
//! **Crash-recovery** ([`Storage`]). The default register ([`PaxosRegister::new`]) assumes
//! crash-stop: it persists nothing (its [`Protocol::Durable`] stays [`PaxosDurable::default`])
//! and a server that came back would restart from scratch. [`PaxosRegister::durable`] is the
//! crash-recovery register: the acceptor's promise (`ballot`) and last accepted proposal
//! (`accepted`) form its [`PaxosDurable`] state, persisted ([`Ctx::persist`]) whenever either
//! changes, before the `Promise`, `Accept` or `Accepted` that reveals the change leaves the
//! server (a proposer persists its own new ballot before its `Prepare`s go out, so it never
//! reuses a ballot after a crash), and restored by [`Protocol::recover`]. Everything else is
//! volatile: a recovered server has no proposal (its client's pending write is never answered),
//! counts no replies, and has not decided (it learns nothing more in this register, which sends
//! `Decided` once, so it answers no read; it still acts as an acceptor). The canary
//! [`PaxosRegister::amnesiac`] persists nothing and recovers from scratch: a server that
//! accepted a chosen value and promised a ballot forgets both, so a later proposer can gather a
//! majority of promises that report nothing and get a second value chosen.
//!
//! **Read:** Lamport, "Paxos made simple", 2001, §2 (the single-decree algorithm: P1, P2 and the
//! two phases; an acceptor must remember its promise and what it accepted even if it fails and
//! restarts, and records a response on stable storage before sending it); CGR §5.3 and §6 (Paxos
//! as "epoch consensus" with a leader) and ch. 5's logged consensus (the crash-recovery model);
//! Chandra, Griesemer & Redstone, "Paxos made live", 2007 (disk corruption: a replica that lost
//! its state must not vote until it has rebuilt it).

use super::{assert_fits_node_set, majority, NodeSet};
use crate::register::{RegisterReq, RegisterResp};
use serde::{Deserialize, Serialize};
use std::fmt;
use synod_core::{Ctx, NodeId, Protocol};

/// A ballot number `(round, server)`: ballots are totally ordered, round first, and each
/// server owns the ballots that carry its id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// The round.
    pub round: u32,
    /// The server that owns the ballot.
    pub node: NodeId,
}

impl Ballot {
    /// The initial ballot every server starts with, below every ballot a proposer uses.
    pub const ZERO: Ballot = Ballot {
        round: 0,
        node: NodeId(0),
    };
}

impl fmt::Debug for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.round, self.node)
    }
}

/// A proposed value, with the client that wrote it (so the deciding server knows whom to
/// answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proposal {
    /// The client that wrote the value.
    pub client: u64,
    /// The value.
    pub value: u64,
}

/// Paxos's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PaxosMsg {
    /// Phase 1a: "promise me ballot b".
    Prepare(Ballot),
    /// Phase 1b: "I promise b; here is what I accepted last, if anything".
    Promise(Ballot, Option<(Ballot, Proposal)>),
    /// Phase 2a: "accept this proposal at ballot b".
    Accept(Ballot, Proposal),
    /// Phase 2b: "I accepted at ballot b".
    Accepted(Ballot),
    /// "This proposal was chosen at ballot b."
    Decided(Ballot, Proposal),
}

/// One Paxos server's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaxosState {
    /// The highest ballot this server has seen: its promise (it accepts nothing below) and, if
    /// the ballot is its own, the ballot it is proposing with.
    pub ballot: Ballot,
    /// This server's proposal, once a client wrote to it: the client's own at first, replaced
    /// by the value it must propose when its phase 1 ends.
    pub proposal: Option<Proposal>,
    /// As a proposer: the servers that promised its current ballot (itself included). Reaches
    /// a majority when phase 2 starts, and stops there.
    pub promises: NodeSet,
    /// As a proposer in phase 1: the highest-ballot proposal accepted by a promiser so far
    /// (cleared when phase 2 starts).
    pub highest: Option<(Ballot, Proposal)>,
    /// As a proposer in phase 2: the servers that accepted its proposal at its current ballot
    /// (itself included).
    pub accepts: NodeSet,
    /// The last proposal this server accepted, with its ballot; once decided, the decision.
    pub accepted: Option<(Ballot, Proposal)>,
    /// True once this server knows the chosen proposal (held in `accepted`).
    pub decided: bool,
}

impl PaxosState {
    /// Moves to ballot `b`, forgetting the replies counted for the previous one.
    fn set_ballot(&mut self, b: Ballot) {
        if self.ballot != b {
            self.ballot = b;
            self.clear_replies();
        }
    }

    fn clear_replies(&mut self) {
        self.promises = NodeSet::EMPTY;
        self.highest = None;
        self.accepts = NodeSet::EMPTY;
    }
}

/// What a server's acceptor state survives: how [`PaxosRegister`] treats crashes and
/// recoveries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Storage {
    /// Crash-stop (the default): nothing is persisted; a crashed server is assumed never to
    /// come back (if a driver recovers it anyway, it restarts from scratch, as the amnesiac).
    #[default]
    CrashStop,
    /// Crash-recovery: the promise and the accepted proposal are persisted before any message
    /// reveals them, and restored on recovery.
    Durable,
    /// CANARY for crash-recovery: nothing is persisted and a recovered server restarts from
    /// scratch, having forgotten its promise and what it accepted.
    Amnesiac,
}

impl Storage {
    /// `crash-stop`, `durable` or `amnesiac`.
    pub fn name(self) -> &'static str {
        match self {
            Storage::CrashStop => "crash-stop",
            Storage::Durable => "durable",
            Storage::Amnesiac => "amnesiac",
        }
    }
}

/// What a [`PaxosRegister`] server keeps on stable storage: its acceptor state. The default
/// (nothing persisted yet) is the state every server starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PaxosDurable {
    /// The highest ballot the server has seen: its promise (and, if the ballot is its own, the
    /// last ballot it proposed with, which it must never reuse).
    pub promise: Ballot,
    /// The last proposal it accepted, with its ballot.
    pub accepted: Option<(Ballot, Proposal)>,
}

impl Default for PaxosDurable {
    fn default() -> Self {
        PaxosDurable {
            promise: Ballot::ZERO,
            accepted: None,
        }
    }
}

/// A linearizable write-once register on single-decree Paxos (see the [module
/// documentation](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PaxosRegister {
    /// CANARY when true: acceptors accept an `Accept` whatever ballot they promised.
    pub forget_promise: bool,
    /// What survives a crash (crash-stop by default).
    pub storage: Storage,
}

impl PaxosRegister {
    /// The correct protocol, crash-stop.
    pub fn new() -> PaxosRegister {
        PaxosRegister {
            forget_promise: false,
            storage: Storage::CrashStop,
        }
    }

    /// The correct protocol for crash-recovery: the acceptor's promise and accepted proposal are
    /// persisted before they are revealed, and restored on recovery (see the [module
    /// documentation](self)).
    pub fn durable() -> PaxosRegister {
        PaxosRegister {
            storage: Storage::Durable,
            ..PaxosRegister::new()
        }
    }

    /// CANARY for crash-recovery: persists nothing and restarts a recovered server from scratch.
    /// A server that promised a ballot and accepted a chosen value forgets both; a later
    /// proposer's majority of promises can then miss the chosen value, and a second value is
    /// chosen: agreement is violated.
    pub fn amnesiac() -> PaxosRegister {
        PaxosRegister {
            storage: Storage::Amnesiac,
            ..PaxosRegister::new()
        }
    }

    /// Persists the acceptor state if this register keeps it on stable storage (call before the
    /// message that reveals a change to it).
    fn save(&self, ctx: &mut Ctx<'_, Self>) {
        if self.storage == Storage::Durable {
            ctx.persist();
        }
    }

    /// CANARY: an acceptor accepts an `Accept` even for a ballot lower than the one it promised
    /// (it still remembers the highest ballot it has seen, it just does not honour its promise).
    /// Two proposers can then both gather a majority of acceptances, and two different values are
    /// decided: agreement is violated.
    pub fn canary_forgets_promise() -> PaxosRegister {
        PaxosRegister {
            forget_promise: true,
            ..PaxosRegister::new()
        }
    }

    /// Phase 2 starts when the promises reach a majority: propose the highest accepted proposal
    /// reported, else our own.
    fn after_promise(&self, s: &mut PaxosState, ctx: &mut Ctx<'_, Self>) {
        if s.promises.len() != majority(ctx.n()) {
            return;
        }
        let Some(p) = s.highest.map(|(_, p)| p).or(s.proposal) else {
            return; // unreachable: only a proposer counts promises
        };
        let b = s.ballot;
        s.proposal = Some(p);
        s.highest = None;
        s.accepted = Some((b, p));
        s.accepts = NodeSet::only(ctx.id());
        self.save(ctx); // our own acceptance, before the `Accept`s reveal it
        ctx.broadcast(PaxosMsg::Accept(b, p));
        self.after_accepted(s, ctx);
    }

    /// The proposal is chosen when the acceptances reach a majority.
    fn after_accepted(&self, s: &mut PaxosState, ctx: &mut Ctx<'_, Self>) {
        if s.accepts.len() != majority(ctx.n()) {
            return;
        }
        let Some(p) = s.proposal else {
            return; // unreachable: only a proposer counts acceptances
        };
        let b = s.ballot;
        s.accepted = Some((b, p)); // already so, unless a canary acceptor overwrote it
        s.decided = true;
        s.clear_replies();
        ctx.broadcast(PaxosMsg::Decided(b, p));
        ctx.indicate(RegisterResp::WriteOk { client: p.client });
    }

    /// True if this server is a proposer in phase 2 of its current ballot.
    fn in_phase2(s: &PaxosState, n: usize) -> bool {
        s.promises.len() >= majority(n)
    }
}

impl Protocol for PaxosRegister {
    type Msg = PaxosMsg;
    type Timer = ();
    type Request = RegisterReq;
    type Indication = RegisterResp;
    type State = PaxosState;
    type Durable = PaxosDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> PaxosState {
        assert_fits_node_set("PaxosRegister", ctx.n());
        PaxosState {
            ballot: Ballot::ZERO,
            proposal: None,
            promises: NodeSet::EMPTY,
            highest: None,
            accepts: NodeSet::EMPTY,
            accepted: None,
            decided: false,
        }
    }

    fn on_message(&self, s: &mut PaxosState, from: NodeId, msg: PaxosMsg, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        if from.index() >= ctx.n() {
            return; // not a server of this run
        }
        if s.decided {
            // A decided server only answers reads. Staying silent is always safe for an
            // acceptor, the others learn the value from `Decided`, and it keeps late protocol
            // messages from multiplying the states the model checker must explore (the classic
            // model-checking example of this register behaves the same way).
            return;
        }
        match msg {
            PaxosMsg::Prepare(b) => {
                if b > s.ballot {
                    s.set_ballot(b);
                    self.save(ctx);
                    ctx.send(from, PaxosMsg::Promise(b, s.accepted));
                }
            }
            PaxosMsg::Promise(b, acc) => {
                // Only while proposing: a server recovered from stable storage may hold its own
                // ballot without the proposal that went with it (crash-stop never does).
                let ours = b == s.ballot && b.node == me && s.proposal.is_some();
                if s.decided || !ours || Self::in_phase2(s, ctx.n()) || !s.promises.insert(from) {
                    return;
                }
                if acc > s.highest {
                    s.highest = acc;
                }
                self.after_promise(s, ctx);
            }
            PaxosMsg::Accept(b, p) => {
                if self.forget_promise || b >= s.ballot {
                    let before = (s.ballot, s.accepted);
                    s.set_ballot(b.max(s.ballot));
                    if !s.decided {
                        s.accepted = Some((b, p));
                    }
                    if (s.ballot, s.accepted) != before {
                        self.save(ctx);
                    }
                    ctx.send(from, PaxosMsg::Accepted(b));
                }
            }
            PaxosMsg::Accepted(b) => {
                let ours = b == s.ballot && b.node == me;
                if s.decided || !ours || !Self::in_phase2(s, ctx.n()) || !s.accepts.insert(from) {
                    return;
                }
                self.after_accepted(s, ctx);
            }
            PaxosMsg::Decided(b, p) => {
                if s.decided {
                    return;
                }
                s.set_ballot(b.max(s.ballot));
                s.clear_replies();
                s.accepted = Some((b, p));
                s.decided = true;
            }
        }
    }

    fn on_timer(&self, _s: &mut PaxosState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut PaxosState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        match req {
            RegisterReq::Write { client, value } => {
                if s.proposal.is_some() || s.decided {
                    return; // a write-once register: later writes are not answered
                }
                let me = ctx.id();
                s.proposal = Some(Proposal { client, value });
                s.set_ballot(Ballot {
                    round: s.ballot.round.saturating_add(1),
                    node: me,
                });
                s.promises = NodeSet::only(me);
                s.highest = s.accepted;
                self.save(ctx); // the new ballot, never to be reused after a crash
                ctx.broadcast(PaxosMsg::Prepare(s.ballot));
                self.after_promise(s, ctx);
            }
            RegisterReq::Read { client } => {
                if s.decided {
                    let value = s.accepted.map(|(_, p)| p.value);
                    ctx.indicate(RegisterResp::ReadOk { client, value });
                }
            }
        }
    }

    fn durable(&self, s: &PaxosState) -> PaxosDurable {
        match self.storage {
            Storage::Durable => PaxosDurable {
                promise: s.ballot,
                accepted: s.accepted,
            },
            Storage::CrashStop | Storage::Amnesiac => PaxosDurable::default(),
        }
    }

    fn recover(&self, d: &PaxosDurable, ctx: &mut Ctx<'_, Self>) -> PaxosState {
        let mut s = self.init(ctx);
        if self.storage == Storage::Durable {
            s.ballot = d.promise;
            s.accepted = d.accepted;
        }
        s
    }

    fn invariants(&self, s: &PaxosState) {
        assert!(
            !s.decided || s.accepted.is_some(),
            "Paxos: decided without an accepted proposal"
        );
        if let Some((b, _)) = s.accepted {
            assert!(
                b <= s.ballot,
                "Paxos: accepted at {b:?} above its ballot {:?}",
                s.ballot
            );
        }
        assert!(
            s.promises.is_empty() || s.proposal.is_some(),
            "Paxos: counting promises without a proposal"
        );
        assert!(
            s.accepts.is_empty() || !s.promises.is_empty(),
            "Paxos: counting acceptances before phase 1 ended"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    fn step(
        p: &PaxosRegister,
        s: &mut PaxosState,
        me: u32,
        input: impl FnOnce(&PaxosRegister, &mut PaxosState, &mut Ctx<'_, PaxosRegister>),
    ) -> Vec<Effect<PaxosRegister>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(me), 3, Instant::ZERO, &mut fx, &mut ch);
        input(p, s, &mut ctx);
        p.invariants(s);
        fx
    }

    fn fresh(p: &PaxosRegister, me: u32) -> PaxosState {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        p.init(&mut Ctx::new(
            NodeId(me),
            3,
            Instant::ZERO,
            &mut fx,
            &mut ch,
        ))
    }

    #[test]
    fn a_proposer_goes_through_both_phases_with_one_other_server() {
        let paxos = PaxosRegister::new();
        let mut s = fresh(&paxos, 1);
        let b = Ballot {
            round: 1,
            node: NodeId(1),
        };
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 7,
                    value: 70,
                },
                c,
            )
        });
        assert_eq!(
            fx,
            vec![
                Effect::Send {
                    to: NodeId(0),
                    msg: PaxosMsg::Prepare(b)
                },
                Effect::Send {
                    to: NodeId(2),
                    msg: PaxosMsg::Prepare(b)
                },
            ]
        );
        // A second write at a server that already proposed is not answered.
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 8,
                    value: 80,
                },
                c,
            )
        });
        assert!(fx.is_empty());
        // n2 had accepted an earlier proposal: the proposer must adopt it.
        let old = (
            Ballot {
                round: 1,
                node: NodeId(0),
            },
            Proposal {
                client: 5,
                value: 50,
            },
        );
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(2), PaxosMsg::Promise(b, Some(old)), c)
        });
        assert_eq!(s.proposal, Some(old.1));
        assert_eq!(s.accepted, Some((b, old.1)));
        assert_eq!(fx.len(), 2, "Accept to both others: {fx:?}");
        // A late promise is not recorded.
        let before = s.clone();
        step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(0), PaxosMsg::Promise(b, None), c)
        });
        assert_eq!(s, before);
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(0), PaxosMsg::Accepted(b), c)
        });
        assert!(s.decided);
        assert_eq!(
            fx.last(),
            Some(&Effect::Indicate(RegisterResp::WriteOk { client: 5 }))
        );
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_request(s, RegisterReq::Read { client: 9 }, c)
        });
        assert_eq!(
            fx,
            vec![Effect::Indicate(RegisterResp::ReadOk {
                client: 9,
                value: Some(50)
            })]
        );
    }

    #[test]
    fn an_acceptor_keeps_its_promise_unless_it_is_the_canary() {
        let low = Ballot {
            round: 1,
            node: NodeId(0),
        };
        let high = Ballot {
            round: 1,
            node: NodeId(2),
        };
        let v = Proposal {
            client: 1,
            value: 10,
        };
        for (paxos, accepts) in [
            (PaxosRegister::new(), false),
            (PaxosRegister::canary_forgets_promise(), true),
        ] {
            let mut s = fresh(&paxos, 1);
            step(&paxos, &mut s, 1, |p, s, c| {
                p.on_message(s, NodeId(2), PaxosMsg::Prepare(high), c)
            });
            // A Prepare below the promise is ignored.
            let fx = step(&paxos, &mut s, 1, |p, s, c| {
                p.on_message(s, NodeId(0), PaxosMsg::Prepare(low), c)
            });
            assert!(fx.is_empty());
            let fx = step(&paxos, &mut s, 1, |p, s, c| {
                p.on_message(s, NodeId(0), PaxosMsg::Accept(low, v), c)
            });
            assert_eq!(!fx.is_empty(), accepts);
            assert_eq!(s.accepted.is_some(), accepts);
            assert_eq!(s.ballot, high, "the ballot never goes down");
        }
    }

    #[test]
    fn a_durable_acceptor_persists_before_it_replies_and_recovers_its_promise() {
        let high = Ballot {
            round: 2,
            node: NodeId(2),
        };
        let v = Proposal {
            client: 1,
            value: 10,
        };
        let paxos = PaxosRegister::durable();
        let mut s = fresh(&paxos, 1);
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(2), PaxosMsg::Prepare(high), c)
        });
        assert_eq!(
            fx,
            vec![
                Effect::Persist,
                Effect::Send {
                    to: NodeId(2),
                    msg: PaxosMsg::Promise(high, None)
                }
            ]
        );
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(2), PaxosMsg::Accept(high, v), c)
        });
        assert_eq!(fx[0], Effect::Persist, "persist before Accepted: {fx:?}");
        // A duplicate Accept changes nothing: no second write, but the reply again.
        let fx = step(&paxos, &mut s, 1, |p, s, c| {
            p.on_message(s, NodeId(2), PaxosMsg::Accept(high, v), c)
        });
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: NodeId(2),
                msg: PaxosMsg::Accepted(high)
            }]
        );
        let d = paxos.durable(&s);
        assert_eq!(
            d,
            PaxosDurable {
                promise: high,
                accepted: Some((high, v))
            }
        );
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let back = paxos.recover(
            &d,
            &mut Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch),
        );
        paxos.invariants(&back);
        assert_eq!((back.ballot, back.accepted), (high, Some((high, v))));
        assert!(!back.decided && back.proposal.is_none());
        // The amnesiac and the crash-stop register persist nothing and restart from scratch.
        for p in [PaxosRegister::amnesiac(), PaxosRegister::new()] {
            let mut s = fresh(&p, 1);
            let fx = step(&p, &mut s, 1, |p, s, c| {
                p.on_message(s, NodeId(2), PaxosMsg::Prepare(high), c)
            });
            assert!(!fx.contains(&Effect::Persist));
            assert_eq!(p.durable(&s), PaxosDurable::default());
            let (mut fx, mut ch) = (Vec::new(), FirstChoice);
            let back = p.recover(
                &d,
                &mut Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch),
            );
            assert_eq!(back, fresh(&p, 1));
        }
    }

    #[test]
    fn a_durable_proposer_persists_its_ballot_and_forgets_its_proposal_on_recovery() {
        let paxos = PaxosRegister::durable();
        let mut s = fresh(&paxos, 0);
        let fx = step(&paxos, &mut s, 0, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 0,
                    value: 1,
                },
                c,
            )
        });
        assert_eq!(
            fx.first(),
            Some(&Effect::Persist),
            "before the Prepares: {fx:?}"
        );
        let b = s.ballot;
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut back = paxos.recover(
            &paxos.durable(&s),
            &mut Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch),
        );
        assert_eq!(back.ballot, b, "never reuses its ballot");
        // A promise for the ballot it proposed with before the crash is not counted.
        let before = back.clone();
        let fx = step(&paxos, &mut back, 0, |p, s, c| {
            p.on_message(s, NodeId(1), PaxosMsg::Promise(b, None), c)
        });
        assert!(fx.is_empty());
        assert_eq!(back, before);
        // Its next ballot is above the old one.
        step(&paxos, &mut back, 0, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 5,
                    value: 6,
                },
                c,
            )
        });
        assert!(back.ballot > b);
    }

    #[test]
    fn a_single_server_decides_alone() {
        let paxos = PaxosRegister::new();
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(0), 1, Instant::ZERO, &mut fx, &mut ch);
        let mut s = paxos.init(&mut ctx);
        paxos.on_request(
            &mut s,
            RegisterReq::Write {
                client: 3,
                value: 4,
            },
            &mut ctx,
        );
        assert!(s.decided);
        assert_eq!(
            fx,
            vec![Effect::Indicate(RegisterResp::WriteOk { client: 3 })]
        );
    }
}
