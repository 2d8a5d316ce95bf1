//! Binary consensus by single-decree Paxos with retries and no leader oracle: the protocol the
//! FLP experiment runs.
//!
//! **Model.** n processes, each with an input bit from the configuration, crash-stop (any
//! minority), asynchronous, reliable links (duplicates and reordering harmless). There is no
//! failure detector and no leader: every process proposes its own input at start, and when its
//! `Retry` timer fires before it decided it tries again with a higher ballot.
//!
//! **Algorithm.** Paxos phase 1 (prepare/promise with the highest accepted value reported) and
//! phase 2 (accept/accepted) per ballot `(round, process)`, as in
//! [`PaxosRegister`](super::PaxosRegister); a proposer that gets a majority of acceptances
//! decides and tells the others ([`RetryMsg::Decided`]). A process that decided stops proposing
//! but keeps answering as an acceptor.
//!
//! **Properties.** *Agreement* and *validity* always hold (it is Paxos). *Termination* does
//! not: retries pre-empt each other for ever in some fair runs. That is no accident of this
//! design: Fischer, Lynch and Paterson (1985) proved that no deterministic protocol can decide
//! in every fair run of an asynchronous system where one process may crash. The `flp`
//! experiment shows the proof's construction on this protocol: a bivalent initial
//! configuration, then a fair run along which every configuration stays bivalent.
//!
//! **Read:** Fischer, Lynch and Paterson, "Impossibility of distributed consensus with one
//! faulty process", JACM 1985; Lynch ch. 12 and 21; Attiya and Welch ch. 5; Aguilera, "Stumbling
//! over consensus research: misunderstandings and issues", 2010.

use super::paxos::Ballot;
use super::{majority, NodeSet};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, Duration, NodeId, Protocol};

/// Messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RetryMsg {
    /// Phase 1a.
    Prepare(Ballot),
    /// Phase 1b: the promise, with the last accepted `(ballot, value)`.
    Promise(Ballot, Option<(Ballot, u8)>),
    /// Phase 2a.
    Accept(Ballot, u8),
    /// Phase 2b.
    Accepted(Ballot),
    /// The decision.
    Decided(u8),
}

/// The only timer: try again with a higher ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Retry;

/// One process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RetryState {
    /// Its input bit.
    pub input: u8,
    /// The highest ballot promised (acceptor).
    pub promised: Ballot,
    /// The last accepted `(ballot, value)` (acceptor).
    pub accepted: Option<(Ballot, u8)>,
    /// The ballot it is proposing with, if any (proposer).
    pub ballot: Option<Ballot>,
    /// Promises for `ballot` (phase 1) or acceptances (phase 2).
    pub replies: NodeSet,
    /// The highest accepted value reported by the promises so far.
    pub highest: Option<(Ballot, u8)>,
    /// The value proposed in phase 2 (`None` while in phase 1).
    pub value: Option<u8>,
    /// Its decision.
    pub decided: Option<u8>,
}

/// What a process tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Decide(pub u8);

/// Binary consensus by retrying Paxos (see the [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RetryPaxos {
    /// Process i's input bit.
    pub inputs: Vec<u8>,
}

impl RetryPaxos {
    /// Processes with these input bits (the run has `inputs.len()` processes).
    pub fn new(inputs: Vec<u8>) -> RetryPaxos {
        RetryPaxos { inputs }
    }

    fn propose(&self, s: &mut RetryState, round: u32, ctx: &mut Ctx<'_, Self>) {
        let b = Ballot {
            round,
            node: ctx.id(),
        };
        s.ballot = Some(b);
        s.value = None;
        s.highest = s.accepted;
        s.replies = NodeSet::only(ctx.id());
        s.promised = s.promised.max(b);
        ctx.broadcast(RetryMsg::Prepare(b));
        ctx.set_timer(Retry, Duration::from_millis(100));
    }

    fn decide(&self, s: &mut RetryState, v: u8, ctx: &mut Ctx<'_, Self>) {
        if s.decided.is_none() {
            s.decided = Some(v);
            s.ballot = None;
            s.value = None;
            s.replies = NodeSet::EMPTY;
            s.highest = None;
            ctx.cancel_timer(Retry);
            ctx.indicate(Decide(v));
        }
    }
}

impl Protocol for RetryPaxos {
    type Msg = RetryMsg;
    type Timer = Retry;
    type Request = ();
    type Indication = Decide;
    type State = RetryState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> RetryState {
        let mut s = RetryState {
            input: self.inputs.get(ctx.id().index()).copied().unwrap_or(0) & 1,
            promised: Ballot::ZERO,
            accepted: None,
            ballot: None,
            replies: NodeSet::EMPTY,
            highest: None,
            value: None,
            decided: None,
        };
        self.propose(&mut s, 1, ctx);
        s
    }

    fn on_message(&self, s: &mut RetryState, from: NodeId, m: RetryMsg, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.n();
        match m {
            RetryMsg::Prepare(b) if b > s.promised => {
                s.promised = b;
                ctx.send(from, RetryMsg::Promise(b, s.accepted));
            }
            RetryMsg::Promise(b, acc) if s.ballot == Some(b) && s.value.is_none() => {
                if !s.replies.insert(from) {
                    return; // a duplicate
                }
                if acc > s.highest {
                    s.highest = acc;
                }
                if s.replies.len() == majority(n) && s.promised == b {
                    // (Pre-empted meanwhile: wait for the retry.)
                    let v = s.highest.map_or(s.input, |(_, v)| v);
                    s.value = Some(v);
                    s.accepted = Some((b, v));
                    s.replies = NodeSet::only(ctx.id());
                    ctx.broadcast(RetryMsg::Accept(b, v));
                }
            }
            RetryMsg::Accept(b, v) if b >= s.promised => {
                s.promised = b;
                s.accepted = Some((b, v));
                ctx.send(from, RetryMsg::Accepted(b));
            }
            RetryMsg::Accepted(b) if s.ballot == Some(b) && s.value.is_some() => {
                if !s.replies.insert(from) {
                    return; // a duplicate
                }
                if s.replies.len() == majority(n) {
                    let v = s.value.expect("phase 2");
                    ctx.broadcast(RetryMsg::Decided(v));
                    self.decide(s, v, ctx);
                }
            }
            RetryMsg::Decided(v) => self.decide(s, v, ctx),
            _ => {}
        }
    }

    fn on_timer(&self, s: &mut RetryState, _t: Retry, ctx: &mut Ctx<'_, Self>) {
        if s.decided.is_none() {
            let round = s.promised.round.max(s.ballot.map_or(0, |b| b.round)) + 1;
            self.propose(s, round, ctx);
        }
    }

    fn on_request(&self, _s: &mut RetryState, _r: (), _ctx: &mut Ctx<'_, Self>) {}
}

/// The decisions of the live processes.
pub fn decisions(states: &[Option<&RetryState>]) -> Vec<u8> {
    states.iter().flatten().filter_map(|s| s.decided).collect()
}

/// Agreement: no two processes decided differently.
pub fn agreement(states: &[Option<&RetryState>]) -> bool {
    let d = decisions(states);
    d.windows(2).all(|w| w[0] == w[1])
}

/// Validity: a decided value is some process's input.
pub fn validity(states: &[Option<&RetryState>], inputs: &[u8]) -> bool {
    decisions(states).iter().all(|v| inputs.contains(v))
}

/// The highest ballot round any live process has promised or proposed.
pub fn max_round(states: &[Option<&RetryState>]) -> u32 {
    states
        .iter()
        .flatten()
        .map(|s| s.promised.round.max(s.ballot.map_or(0, |b| b.round)))
        .max()
        .unwrap_or(0)
}
