//! Two-phase commit (2PC).
//!
//! **Model.** Node `n0` is the coordinator, `n1..=nk` the k participants (the run has exactly
//! k + 1 nodes, at most [`NodeSet::MAX_NODES`]). Asynchronous timing; reliable channels (no
//! loss: there are no timers and no retransmissions; duplicates and reordering are harmless).
//! Nodes may crash; a node that recovers restarts from what it persisted (its stable log).
//! One transaction per run, started by the request [`TwoPcRequest::Begin`] at the coordinator
//! (requests elsewhere, and a second `Begin`, are ignored).
//!
//! **Algorithm.**
//! 1. *Voting phase.* The coordinator logs the start of the transaction (persist) and sends
//!    [`TwoPcMsg::Prepare`] to every participant. A participant votes: its vote is a random
//!    choice ([`synod_core::Ctx::choose`] with two answers: 0 is Yes, 1 is No), so the model
//!    checker explores both and the simulator draws it from the seed. It logs its vote
//!    (persist) and sends [`TwoPcMsg::Vote`]. A participant that votes No knows the outcome and
//!    aborts at once; one that votes Yes is *prepared*: from now on it can neither commit nor
//!    abort on its own.
//! 2. *Decision phase.* The coordinator decides Commit when every participant voted Yes, and
//!    Abort at the first No. It logs the decision (persist) *before* telling anyone, indicates
//!    it, and sends [`TwoPcMsg::Decision`] to every participant, which logs and indicates it.
//!
//! Every node records its decision in [`TwoPcState::decision`] and indicates
//! [`TwoPcIndication::Decided`] once.
//!
//! **Recovery.** A recovering coordinator that logged a decision sends it again to every
//! participant (some may have missed it); one that logged the start of the transaction but no
//! decision aborts it (*presumed abort*: it never told anyone Commit). A recovering participant
//! keeps its logged vote and decision; a prepared participant keeps waiting.
//!
//! **Blocking.** There is no termination protocol and no timer: a participant that voted Yes
//! waits for the coordinator's decision for ever. If the coordinator crashes after its
//! `Prepare` and before its decision leaves (and does not recover), the Yes voters never decide:
//! *termination* is violated while *atomicity* holds. This is 2PC's blocking problem (Skeen
//! 1981: no commit protocol avoids it when communication can fail; NBAC avoids it with
//! consensus and a perfect failure detector, CGR ch. 6).
//!
//! **Properties** ([`super::properties`]): *atomicity* (no node decides Commit while another
//! decides Abort), *commit validity* (Commit only if every participant voted Yes),
//! *termination* (every correct node decides; holds when the coordinator does not crash).
//!
//! **State size.** [`TwoPcState`]: a flag, a [`NodeSet`] of Yes votes (coordinator only), a
//! vote and a decision (participants): 16 bytes.
//!
//! **Read:** Gray 1978, §5.8.3.3 ("Two-phase commit"); Bernstein, Hadzilacos and Goodman 1987,
//! §7.3 and §7.4 (2PC, its timeout and recovery actions, the blocking theorem); CGR §6.1 and
//! §6.2 (non-blocking atomic commit).

use crate::consensus::{assert_fits_node_set, NodeSet};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, NodeId, Protocol, Renaming, Symmetric};

/// The coordinator's id.
const COORDINATOR: NodeId = NodeId(0);

/// A participant's vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Vote {
    /// "I can commit" (and from now on I wait for the decision).
    Yes,
    /// "I cannot commit" (and I abort at once).
    No,
}

/// The outcome of the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Every participant voted Yes.
    Commit,
    /// Some participant voted No (or the coordinator recovered without a decision).
    Abort,
}

/// What the layer above asks of the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TwoPcRequest {
    /// Start the transaction (at the coordinator, once).
    Begin,
}

/// Two-phase commit's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TwoPcMsg {
    /// Coordinator to participant: "vote".
    Prepare,
    /// Participant to coordinator: its vote.
    Vote(Vote),
    /// Coordinator to participant: the outcome.
    Decision(Outcome),
}

/// What a node tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TwoPcIndication {
    /// This node decided (once per node).
    Decided(Outcome),
}

/// One node's state (coordinator or participant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TwoPcState {
    /// Coordinator: the transaction started (`Begin` arrived).
    pub began: bool,
    /// Coordinator: the participants that voted Yes so far.
    pub yes: NodeSet,
    /// Participant: its vote, once it voted.
    pub vote: Option<Vote>,
    /// This node's decision, once it decided.
    pub decision: Option<Outcome>,
}

/// What a node logs on stable storage: the start of the transaction (coordinator), its vote
/// (participant) and the decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TwoPcDurable {
    /// The transaction started (coordinator).
    pub began: bool,
    /// The vote (participant).
    pub vote: Option<Vote>,
    /// The decision.
    pub decision: Option<Outcome>,
}

/// Two-phase commit with coordinator `n0` and participants `n1..=n{participants}` (see the
/// [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TwoPhaseCommit {
    /// The number of participants k; the run has k + 1 nodes.
    pub participants: usize,
}

impl TwoPhaseCommit {
    /// 2PC with `participants` participants (runs of `participants + 1` nodes).
    pub fn new(participants: usize) -> TwoPhaseCommit {
        TwoPhaseCommit { participants }
    }

    fn is_participant(&self, p: NodeId) -> bool {
        (1..=self.participants).contains(&p.index())
    }

    fn participant_ids(&self) -> impl Iterator<Item = NodeId> {
        (1..=self.participants as u32).map(NodeId)
    }

    /// The coordinator decides `o`: log it, indicate it, tell every participant.
    fn decide(&self, s: &mut TwoPcState, o: Outcome, ctx: &mut Ctx<'_, Self>) {
        s.decision = Some(o);
        ctx.persist();
        ctx.indicate(TwoPcIndication::Decided(o));
        self.send_decision(o, ctx);
    }

    fn send_decision(&self, o: Outcome, ctx: &mut Ctx<'_, Self>) {
        for p in self.participant_ids() {
            ctx.send(p, TwoPcMsg::Decision(o));
        }
    }
}

impl Protocol for TwoPhaseCommit {
    type Msg = TwoPcMsg;
    type Timer = ();
    type Request = TwoPcRequest;
    type Indication = TwoPcIndication;
    type State = TwoPcState;
    type Durable = TwoPcDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> TwoPcState {
        assert_eq!(
            ctx.n(),
            self.participants + 1,
            "TwoPhaseCommit: {} participants need a run of {} nodes (n0 coordinates), not {}",
            self.participants,
            self.participants + 1,
            ctx.n()
        );
        assert_fits_node_set("TwoPhaseCommit", ctx.n());
        TwoPcState {
            began: false,
            yes: NodeSet::EMPTY,
            vote: None,
            decision: None,
        }
    }

    fn on_message(&self, s: &mut TwoPcState, from: NodeId, msg: TwoPcMsg, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        match msg {
            TwoPcMsg::Prepare => {
                let expected = from == COORDINATOR && self.is_participant(me);
                if !expected || s.vote.is_some() || s.decision.is_some() {
                    return; // a duplicate, or after an early Abort
                }
                let vote = if ctx.choose(2) == 0 {
                    Vote::Yes
                } else {
                    Vote::No
                };
                s.vote = Some(vote);
                if vote == Vote::No {
                    s.decision = Some(Outcome::Abort);
                }
                ctx.persist();
                ctx.send(COORDINATOR, TwoPcMsg::Vote(vote));
                if vote == Vote::No {
                    ctx.indicate(TwoPcIndication::Decided(Outcome::Abort));
                }
            }
            TwoPcMsg::Vote(vote) => {
                let expected = me == COORDINATOR && self.is_participant(from);
                if !expected || !s.began || s.decision.is_some() {
                    return; // unexpected, or a vote after the decision
                }
                match vote {
                    Vote::Yes => {
                        if s.yes.insert(from) && s.yes.len() == self.participants {
                            self.decide(s, Outcome::Commit, ctx);
                        }
                    }
                    Vote::No => self.decide(s, Outcome::Abort, ctx),
                }
            }
            TwoPcMsg::Decision(o) => {
                let expected = from == COORDINATOR && self.is_participant(me);
                if !expected || s.decision.is_some() {
                    return;
                }
                s.decision = Some(o);
                ctx.persist();
                ctx.indicate(TwoPcIndication::Decided(o));
            }
        }
    }

    fn on_timer(&self, _s: &mut TwoPcState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut TwoPcState, req: TwoPcRequest, ctx: &mut Ctx<'_, Self>) {
        match req {
            TwoPcRequest::Begin => {
                if ctx.id() != COORDINATOR || s.began || s.decision.is_some() {
                    return;
                }
                s.began = true;
                ctx.persist();
                for p in self.participant_ids() {
                    ctx.send(p, TwoPcMsg::Prepare);
                }
                if self.participants == 0 {
                    self.decide(s, Outcome::Commit, ctx);
                }
            }
        }
    }

    fn durable(&self, s: &TwoPcState) -> TwoPcDurable {
        TwoPcDurable {
            began: s.began,
            vote: s.vote,
            decision: s.decision,
        }
    }

    fn recover(&self, d: &TwoPcDurable, ctx: &mut Ctx<'_, Self>) -> TwoPcState {
        let mut s = TwoPcState {
            began: d.began,
            yes: NodeSet::EMPTY,
            vote: d.vote,
            decision: d.decision,
        };
        if ctx.id() == COORDINATOR {
            match s.decision {
                Some(o) => self.send_decision(o, ctx),
                None if s.began => self.decide(&mut s, Outcome::Abort, ctx),
                None => {}
            }
        }
        s
    }

    fn invariants(&self, s: &TwoPcState) {
        assert!(
            !(s.vote == Some(Vote::No) && s.decision == Some(Outcome::Commit)),
            "2PC: committed after voting No"
        );
        assert!(
            s.vote != Some(Vote::No) || s.decision == Some(Outcome::Abort),
            "2PC: voted No without aborting"
        );
    }
}

/// The participants are interchangeable: only the coordinator's set of Yes voters names nodes.
impl Symmetric for TwoPhaseCommit {
    fn rename_state(&self, s: &TwoPcState, r: &Renaming<'_>) -> TwoPcState {
        let mut yes = NodeSet::EMPTY;
        for p in s.yes.iter() {
            yes.insert(r.apply(p));
        }
        TwoPcState { yes, ..*s }
    }

    fn rename_msg(&self, m: &TwoPcMsg, _r: &Renaming<'_>) -> TwoPcMsg {
        *m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Chooser, Effect, FirstChoice, Instant};

    struct AlwaysNo;
    impl Chooser for AlwaysNo {
        fn choose(&mut self, n: usize) -> usize {
            n - 1
        }
    }

    #[test]
    fn a_participant_votes_once_and_a_no_aborts_at_once() {
        let tpc = TwoPhaseCommit::new(2);
        for (yes, chooser) in [
            (true, &mut FirstChoice as &mut dyn Chooser),
            (false, &mut AlwaysNo),
        ] {
            let mut fx = Vec::new();
            let mut ctx = Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, chooser);
            let mut s = tpc.init(&mut ctx);
            tpc.on_message(&mut s, COORDINATOR, TwoPcMsg::Prepare, &mut ctx);
            tpc.on_message(&mut s, COORDINATOR, TwoPcMsg::Prepare, &mut ctx);
            tpc.invariants(&s);
            let vote = if yes { Vote::Yes } else { Vote::No };
            let mut expected = vec![
                Effect::Persist,
                Effect::Send {
                    to: COORDINATOR,
                    msg: TwoPcMsg::Vote(vote),
                },
            ];
            if !yes {
                expected.push(Effect::Indicate(TwoPcIndication::Decided(Outcome::Abort)));
            }
            assert_eq!(fx, expected);
        }
    }

    #[test]
    fn the_coordinator_commits_on_all_yes_and_recovers_its_decision() {
        let tpc = TwoPhaseCommit::new(2);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(COORDINATOR, 3, Instant::ZERO, &mut fx, &mut ch);
        let mut s = tpc.init(&mut ctx);
        tpc.on_request(&mut s, TwoPcRequest::Begin, &mut ctx);
        tpc.on_message(&mut s, NodeId(1), TwoPcMsg::Vote(Vote::Yes), &mut ctx);
        tpc.on_message(&mut s, NodeId(1), TwoPcMsg::Vote(Vote::Yes), &mut ctx);
        assert_eq!(s.decision, None, "a duplicate vote counts once");
        tpc.on_message(&mut s, NodeId(2), TwoPcMsg::Vote(Vote::Yes), &mut ctx);
        assert_eq!(s.decision, Some(Outcome::Commit));
        let d = tpc.durable(&s);
        fx.clear();
        let mut ctx = Ctx::new(COORDINATOR, 3, Instant::ZERO, &mut fx, &mut ch);
        let r = tpc.recover(&d, &mut ctx);
        assert_eq!(r.decision, Some(Outcome::Commit));
        assert_eq!(fx.len(), 2, "the decision goes out again: {fx:?}");
        // A coordinator that began but did not decide aborts on recovery.
        fx.clear();
        let mut ctx = Ctx::new(COORDINATOR, 3, Instant::ZERO, &mut fx, &mut ch);
        let d = TwoPcDurable {
            began: true,
            ..TwoPcDurable::default()
        };
        let r = tpc.recover(&d, &mut ctx);
        assert_eq!(r.decision, Some(Outcome::Abort));
        assert_eq!(fx[0], Effect::Persist);
    }
}
