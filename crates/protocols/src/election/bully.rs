//! The bully algorithm of Garcia-Molina: the live process with the largest UID bullies its way
//! to coordinator.
//!
//! **Model.** n processes, any two of which can talk (a complete graph). Distinct UIDs
//! (`uids[i]`); every process knows every process's UID (a larger UID is a higher priority).
//! Crash-stop failures: a crashed process just stays silent. Reliable channels (no loss, no
//! duplication). **Synchronous** timing: every message arrives within a known bound Δ, and the
//! protocol's `timeout` must exceed the round-trip bound 2Δ. An election starts at a node when
//! the layer above, typically a failure detector that suspects the coordinator, sends it
//! [`BullyRequest::StartElection`].
//!
//! **Algorithm.** A node *starts an election* (unless it is already running one) by sending
//! [`BullyMsg::Election`] to every node with a larger UID; if there is none, it wins at once.
//! - No [`BullyMsg::Answer`] within `timeout`: no larger node is alive, so it becomes
//!   coordinator: it emits [`ElectionIndication::Elected`] for itself and sends
//!   [`BullyMsg::Coordinator`] to every node with a smaller UID.
//! - An `Answer` arrives: a larger node took over. It waits up to 2 × `timeout` for a
//!   `Coordinator` message, and starts a new election if none comes.
//!
//! A node that receives `Election` from a smaller node replies `Answer` and starts an election
//! of its own if it is not running one (the coordinator included: it wins again and tells the
//! latecomer). A node that receives `Coordinator` accepts the sender as leader, stops any
//! election it was running and emits `Elected` (again, on every new election). Messages that
//! make no sense (`Election` from a larger node, `Answer` from a smaller one, a sender without a
//! UID) are ignored and counted in [`BullyState::unexpected`].
//!
//! **Why the timeout must cover 2Δ.** A larger live node answers an `Election` within 2Δ, so a
//! node that hears nothing for `timeout > 2Δ` rightly concludes that all larger nodes crashed.
//! The largest live node h receives the election of any node directly and wins within
//! Δ + `timeout` of its sending; its `Coordinator` arrives within 2Δ + `timeout` < 2 ×
//! `timeout`. With a timeout below the real delays, a node declares itself coordinator while a
//! larger one is alive and does the same: two coordinators at once, a *split brain*, which
//! [`super::properties::unique_leader`] catches.
//!
//! **Cost.** When the largest live node starts the election, it costs n − 1 messages: one
//! `Election` to each larger (crashed) node, one `Coordinator` to each smaller node; with only
//! the largest node crashed and the second largest starting, 1 + (n − 2). When the smallest
//! node starts it and only the largest has crashed, every live node sends `Election` to every
//! larger node and every live node answers every smaller one:
//! (n − 1) + 2·(n − 1)(n − 2)/2 + (n − 2) = n² − n − 1 messages, Θ(n²). (Exact under
//! synchrony with `timeout > 2Δ`: every `Election` arrives while its receiver is still running
//! its own election, so no node starts a second one.)
//!
//! **Properties** ([`super::properties`]): *unique leader* (judge it after the last
//! `StartElection` that follows a crash of the coordinator with
//! [`super::properties::unique_leader_after`]), *the leader has the largest UID among the live
//! nodes*, *termination* (every correct node emits `Elected`, provided some node was asked to
//! start an election).
//!
//! **Read:** Garcia-Molina, "Elections in a distributed computing system", IEEE Transactions on
//! Computers C-31(1), 1982 (the bully algorithm and its assumptions); Coulouris, Dollimore,
//! Kindberg and Blair, *Distributed Systems: Concepts and Design*, 5th ed., ch. 15 (the textbook
//! presentation followed here).

use super::{assert_distinct, assert_one_uid_per_node, ElectionIndication};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, Duration, NodeId, Protocol};

/// Garcia-Molina's bully algorithm; `uids[i]` is node i's UID (larger UID, higher priority).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bully {
    /// Node i's UID; distinct, one per node of the run.
    pub uids: Vec<u64>,
    /// How long to wait for an `Answer` (and half of how long to wait for a `Coordinator`).
    /// Correct when it exceeds the round-trip bound 2Δ.
    pub timeout: Duration,
}

impl Bully {
    /// The bully algorithm with node i's UID `uids[i]` and answer timeout `timeout`.
    ///
    /// # Panics
    /// If two UIDs are equal or the timeout is zero.
    pub fn new(uids: Vec<u64>, timeout: Duration) -> Bully {
        assert_distinct("Bully", &uids);
        assert!(
            timeout > Duration::ZERO,
            "Bully: the timeout must be above zero"
        );
        Bully { uids, timeout }
    }

    fn uid(&self, node: NodeId) -> Option<u64> {
        self.uids.get(node.index()).copied()
    }

    /// The nodes with a UID larger (`larger`) or smaller than `uid`, in id order.
    fn others(&self, uid: u64, larger: bool) -> impl Iterator<Item = NodeId> + '_ {
        NodeId::all(self.uids.len()).filter(move |p| {
            let u = self.uids[p.index()];
            if larger {
                u > uid
            } else {
                u < uid
            }
        })
    }

    fn start_election(&self, s: &mut BullyState, ctx: &mut Ctx<'_, Self>) {
        s.elections += 1;
        let mut asked = 0;
        for p in self.others(s.uid, true) {
            ctx.send(p, BullyMsg::Election);
            asked += 1;
        }
        if asked == 0 {
            self.win(s, ctx);
        } else {
            s.phase = BullyPhase::AwaitingAnswer;
            ctx.cancel_timer(BullyTimer::AwaitCoordinator);
            ctx.set_timer(BullyTimer::AwaitAnswer, self.timeout);
        }
    }

    fn win(&self, s: &mut BullyState, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        s.phase = BullyPhase::Idle;
        s.leader = Some(me);
        ctx.indicate(ElectionIndication::Elected {
            leader: me,
            uid: s.uid,
        });
        for p in self.others(s.uid, false) {
            ctx.send(p, BullyMsg::Coordinator);
        }
    }
}

/// What the layer above asks of a bully node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BullyRequest {
    /// "Start an election" (e.g. a failure detector suspects the coordinator). Ignored while
    /// the node is already running one.
    StartElection,
}

/// The bully algorithm's messages (every one counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BullyMsg {
    /// "I am holding an election": sent to every node with a larger UID.
    Election,
    /// "I am alive and larger than you: I take over." The reply to `Election`.
    Answer,
    /// "I am the coordinator": sent by the winner to every node with a smaller UID.
    Coordinator,
}

/// The bully algorithm's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BullyTimer {
    /// No `Answer` came in time: become coordinator.
    AwaitAnswer,
    /// An `Answer` came but no `Coordinator` followed: start again.
    AwaitCoordinator,
}

/// Where a bully node is in an election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BullyPhase {
    /// Not running an election.
    Idle,
    /// Sent `Election` to the larger nodes; waiting for an `Answer`.
    AwaitingAnswer,
    /// A larger node answered; waiting for its `Coordinator`.
    AwaitingCoordinator,
}

/// One bully node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BullyState {
    /// This node's UID.
    pub uid: u64,
    /// Where this node is in an election.
    pub phase: BullyPhase,
    /// The coordinator this node last accepted (itself if it won), if any.
    pub leader: Option<NodeId>,
    /// Elections this node started.
    pub elections: u64,
    /// Messages ignored because they made no sense: `Election` from a larger node, `Answer`
    /// from a smaller one, a sender without a UID.
    pub unexpected: u64,
}

impl Protocol for Bully {
    type Msg = BullyMsg;
    type Timer = BullyTimer;
    type Request = BullyRequest;
    type Indication = ElectionIndication;
    type State = BullyState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> BullyState {
        assert_one_uid_per_node("Bully", &self.uids, ctx.n());
        BullyState {
            uid: self.uids[ctx.id().index()],
            phase: BullyPhase::Idle,
            leader: None,
            elections: 0,
            unexpected: 0,
        }
    }

    fn on_message(&self, s: &mut BullyState, from: NodeId, msg: BullyMsg, ctx: &mut Ctx<'_, Self>) {
        let Some(theirs) = self.uid(from) else {
            s.unexpected += 1;
            return;
        };
        match msg {
            BullyMsg::Election if theirs < s.uid => {
                ctx.send(from, BullyMsg::Answer);
                if s.phase == BullyPhase::Idle {
                    self.start_election(s, ctx);
                }
            }
            BullyMsg::Answer if theirs > s.uid => {
                if s.phase == BullyPhase::AwaitingAnswer {
                    s.phase = BullyPhase::AwaitingCoordinator;
                    ctx.cancel_timer(BullyTimer::AwaitAnswer);
                    ctx.set_timer(BullyTimer::AwaitCoordinator, self.timeout.saturating_mul(2));
                }
                // Otherwise a second answer, or a late one: nothing to do.
            }
            BullyMsg::Coordinator => {
                s.phase = BullyPhase::Idle;
                s.leader = Some(from);
                ctx.cancel_timer(BullyTimer::AwaitAnswer);
                ctx.cancel_timer(BullyTimer::AwaitCoordinator);
                ctx.indicate(ElectionIndication::Elected {
                    leader: from,
                    uid: theirs,
                });
            }
            BullyMsg::Election | BullyMsg::Answer => s.unexpected += 1,
        }
    }

    fn on_timer(&self, s: &mut BullyState, timer: BullyTimer, ctx: &mut Ctx<'_, Self>) {
        match (timer, s.phase) {
            (BullyTimer::AwaitAnswer, BullyPhase::AwaitingAnswer) => self.win(s, ctx),
            (BullyTimer::AwaitCoordinator, BullyPhase::AwaitingCoordinator) => {
                self.start_election(s, ctx)
            }
            _ => {} // a timer that outlived its phase (timers are cancelled, but be safe)
        }
    }

    fn on_request(&self, s: &mut BullyState, req: BullyRequest, ctx: &mut Ctx<'_, Self>) {
        match req {
            BullyRequest::StartElection => {
                if s.phase == BullyPhase::Idle {
                    self.start_election(s, ctx);
                }
            }
        }
    }

    fn invariants(&self, s: &BullyState) {
        assert!(
            s.phase == BullyPhase::Idle || s.elections > 0,
            "Bully: in phase {:?} without ever starting an election",
            s.phase
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    #[test]
    fn election_from_below_is_answered_and_starts_our_own() {
        let bully = Bully::new(vec![10, 20, 30, 40], Duration::from_millis(5));
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(1), 4, Instant::ZERO, &mut fx, &mut ch);
        let mut s = bully.init(&mut ctx);
        bully.on_message(&mut s, NodeId(0), BullyMsg::Election, &mut ctx);
        // An election from above makes no sense: counted, ignored.
        bully.on_message(&mut s, NodeId(3), BullyMsg::Election, &mut ctx);
        assert_eq!(s.unexpected, 1);
        assert_eq!(s.phase, BullyPhase::AwaitingAnswer);
        assert_eq!(
            fx,
            vec![
                Effect::Send {
                    to: NodeId(0),
                    msg: BullyMsg::Answer
                },
                Effect::Send {
                    to: NodeId(2),
                    msg: BullyMsg::Election
                },
                Effect::Send {
                    to: NodeId(3),
                    msg: BullyMsg::Election
                },
                Effect::CancelTimer {
                    timer: BullyTimer::AwaitCoordinator
                },
                Effect::SetTimer {
                    timer: BullyTimer::AwaitAnswer,
                    after: Duration::from_millis(5)
                },
            ]
        );
    }

    #[test]
    fn silence_from_above_makes_a_coordinator() {
        let bully = Bully::new(vec![10, 20, 30], Duration::from_millis(5));
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch);
        let mut s = bully.init(&mut ctx);
        bully.on_request(&mut s, BullyRequest::StartElection, &mut ctx);
        fx.clear();
        let mut ctx = Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch);
        bully.on_timer(&mut s, BullyTimer::AwaitAnswer, &mut ctx);
        assert_eq!(
            fx,
            vec![
                Effect::Indicate(ElectionIndication::Elected {
                    leader: NodeId(1),
                    uid: 20
                }),
                Effect::Send {
                    to: NodeId(0),
                    msg: BullyMsg::Coordinator
                },
            ]
        );
        assert_eq!((s.phase, s.leader), (BullyPhase::Idle, Some(NodeId(1))));
    }
}
