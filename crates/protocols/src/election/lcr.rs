//! LCR, the leader election of Le Lann, Chang and Roberts, on a unidirectional ring.
//!
//! **Model.** n processes on a *unidirectional* ring: node i sends only to its successor
//! (i+1) mod n and receives only from its predecessor (i−1) mod n; any other sender is ignored
//! (counted in [`LcrState::unexpected`]). Every process has a distinct UID (`uids[i]`) and only
//! compares UIDs. No failures; reliable channels that neither lose nor duplicate messages
//! (they may reorder). Any timing: Lynch presents LCR in the synchronous model (ch. 3) and
//! again in the asynchronous one (ch. 15); nothing in it depends on time. n is not known to
//! the processes.
//!
//! **Algorithm.** At time 0 every process sends its UID to its successor. A process that
//! receives a UID larger than its own forwards it; a smaller one it discards. A process that
//! receives its *own* UID knows that it went all the way around the ring, past every other
//! process, so it is the largest: it becomes the leader, emits
//! [`ElectionIndication::Elected`] for itself at once, and sends an announcement
//! ([`LcrMsg::Elected`]) around the ring. Each other process emits `Elected` when the
//! announcement reaches it and forwards it; the leader stops it when it returns.
//!
//! **Cost.** Which UIDs a process forwards depends only on the arrangement, never on timing, so
//! the message count is the same in every timing model. The UID of node i travels until the
//! first larger UID downstream (all the way round for the largest). With UIDs decreasing along
//! the direction of travel ([`super::arrangement::worst_case_lcr`], `uids[i] = n − i`) node i's
//! UID travels n − i hops: n(n+1)/2 [`LcrMsg::Uid`] messages, Θ(n²). On a uniformly random
//! arrangement the expected count is n·H_n ≈ n ln n (Chang and Roberts 1979). The announcement
//! adds exactly n messages.
//!
//! **Properties** ([`super::properties::election_properties`]): *unique leader* (every
//! `Elected` names the same node), *the leader has the largest UID*, *termination* (every
//! process emits `Elected`). Each process emits `Elected` exactly once.
//!
//! **Canary.** [`LcrCanaryForwardAll`] forwards every UID without comparing it: every UID comes
//! home, so every process elects itself (unique leader is violated) and the ring carries n²
//! UID messages whatever the arrangement.
//!
//! **Read:** Lynch, *Distributed Algorithms*, §3.3 (LCR, its O(n²) message bound and its
//! correctness proof) and §15.1.1 (LCR in an asynchronous ring); Attiya and Welch, *Distributed
//! Computing*, §3.3.2 (the O(n²) algorithm).

use super::{assert_distinct, assert_one_uid_per_node, ElectionIndication};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, NodeId, Protocol};

/// LCR on a unidirectional ring (node i sends to (i+1) mod n); `uids[i]` is node i's UID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lcr {
    /// Node i's UID; distinct, one per node of the run.
    pub uids: Vec<u64>,
}

impl Lcr {
    /// LCR with node i's UID `uids[i]`.
    ///
    /// # Panics
    /// If two UIDs are equal.
    pub fn new(uids: Vec<u64>) -> Lcr {
        assert_distinct("Lcr", &uids);
        Lcr { uids }
    }
}

/// CANARY: LCR without the comparison. Every process forwards every UID it receives (but its
/// own), so every UID travels all the way round, every process elects itself, and the ring
/// carries n² UID messages. The unique-leader property catches it on every run with n ≥ 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LcrCanaryForwardAll {
    /// Node i's UID; distinct, one per node of the run.
    pub uids: Vec<u64>,
}

impl LcrCanaryForwardAll {
    /// The canary with node i's UID `uids[i]`.
    ///
    /// # Panics
    /// If two UIDs are equal.
    pub fn new(uids: Vec<u64>) -> LcrCanaryForwardAll {
        assert_distinct("LcrCanaryForwardAll", &uids);
        LcrCanaryForwardAll { uids }
    }
}

/// LCR's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LcrMsg {
    /// A candidate's UID, on its way around the ring.
    Uid(u64),
    /// The announcement: `leader`, whose UID is `uid`, was elected.
    Elected {
        /// The leader.
        leader: NodeId,
        /// The leader's UID.
        uid: u64,
    },
}

impl LcrMsg {
    /// True for the messages the books count ([`LcrMsg::Uid`]); false for the announcement.
    pub fn is_id_message(&self) -> bool {
        matches!(self, LcrMsg::Uid(_))
    }
}

/// One LCR process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LcrState {
    /// This process.
    pub me: NodeId,
    /// This process's UID.
    pub uid: u64,
    /// The leader and its UID, once this process knows them (it then emitted `Elected`).
    pub elected: Option<(NodeId, u64)>,
    /// Messages ignored because they made no sense: from a process other than the predecessor,
    /// this process's own UID coming home twice, an announcement after this process learned
    /// the leader.
    pub unexpected: u64,
}

fn successor(me: NodeId, n: usize) -> NodeId {
    NodeId(((me.index() + 1) % n) as u32)
}

fn predecessor(me: NodeId, n: usize) -> NodeId {
    NodeId(((me.index() + n - 1) % n) as u32)
}

/// The shared handlers of [`Lcr`] and its canary (`forward_all`).
mod handlers {
    use super::*;

    pub(super) fn init<P>(uids: &[u64], ctx: &mut Ctx<'_, P>) -> LcrState
    where
        P: Protocol<Msg = LcrMsg>,
    {
        assert_one_uid_per_node("Lcr", uids, ctx.n());
        let uid = uids[ctx.id().index()];
        ctx.send(successor(ctx.id(), ctx.n()), LcrMsg::Uid(uid));
        LcrState {
            me: ctx.id(),
            uid,
            elected: None,
            unexpected: 0,
        }
    }

    /// A process that elected itself did so with its own UID.
    pub(super) fn invariants(s: &LcrState) {
        if let Some((leader, uid)) = s.elected {
            assert!(
                leader != s.me || uid == s.uid,
                "LCR: {} elected itself with UID {uid}, but its UID is {}",
                s.me,
                s.uid
            );
        }
    }

    pub(super) fn on_message<P>(
        forward_all: bool,
        s: &mut LcrState,
        from: NodeId,
        msg: LcrMsg,
        ctx: &mut Ctx<'_, P>,
    ) where
        P: Protocol<Msg = LcrMsg, Indication = ElectionIndication>,
    {
        let (me, n) = (ctx.id(), ctx.n());
        if from != predecessor(me, n) {
            s.unexpected += 1;
            return;
        }
        let next = successor(me, n);
        match msg {
            LcrMsg::Uid(v) if v == s.uid => {
                if s.elected == Some((me, s.uid)) {
                    s.unexpected += 1; // our UID came home twice
                    return;
                }
                // Only the largest UID comes home, and before any announcement (the largest
                // sends the only one); with the canary, every UID does, and we elect ourselves
                // even after hearing of someone else, as the algorithm says.
                s.elected = Some((me, s.uid));
                ctx.indicate(ElectionIndication::Elected {
                    leader: me,
                    uid: s.uid,
                });
                ctx.send(
                    next,
                    LcrMsg::Elected {
                        leader: me,
                        uid: s.uid,
                    },
                );
            }
            LcrMsg::Uid(v) => {
                if forward_all || v > s.uid {
                    ctx.send(next, LcrMsg::Uid(v));
                }
                // A smaller UID is discarded: its owner cannot be the leader.
            }
            LcrMsg::Elected { leader, uid } => {
                if leader == me {
                    return; // our announcement came home: the election is over
                }
                if s.elected.is_some() {
                    s.unexpected += 1; // a second announcement (only the canary sends those)
                    return;
                }
                s.elected = Some((leader, uid));
                ctx.indicate(ElectionIndication::Elected { leader, uid });
                ctx.send(next, LcrMsg::Elected { leader, uid });
            }
        }
    }
}

macro_rules! lcr_protocol {
    ($ty:ty, $forward_all:expr) => {
        impl Protocol for $ty {
            type Msg = LcrMsg;
            type Timer = ();
            type Request = ();
            type Indication = ElectionIndication;
            type State = LcrState;
            type Durable = ();

            fn init(&self, ctx: &mut Ctx<'_, Self>) -> LcrState {
                handlers::init(&self.uids, ctx)
            }

            fn on_message(
                &self,
                s: &mut LcrState,
                from: NodeId,
                msg: LcrMsg,
                ctx: &mut Ctx<'_, Self>,
            ) {
                handlers::on_message($forward_all, s, from, msg, ctx)
            }

            fn on_timer(&self, _s: &mut LcrState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

            /// LCR starts by itself at time 0; requests are ignored.
            fn on_request(&self, _s: &mut LcrState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

            fn invariants(&self, s: &LcrState) {
                handlers::invariants(s)
            }
        }
    };
}

lcr_protocol!(Lcr, false);
lcr_protocol!(LcrCanaryForwardAll, true);

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    fn ctx_for<'a>(
        me: u32,
        n: usize,
        fx: &'a mut Vec<Effect<Lcr>>,
        ch: &'a mut FirstChoice,
    ) -> Ctx<'a, Lcr> {
        Ctx::new(NodeId(me), n, Instant::ZERO, fx, ch)
    }

    #[test]
    fn a_process_forwards_larger_discards_smaller_and_wins_with_its_own() {
        let lcr = Lcr::new(vec![5, 9, 2]);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut s = lcr.init(&mut ctx_for(1, 3, &mut fx, &mut ch));
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: NodeId(2),
                msg: LcrMsg::Uid(9)
            }]
        );
        fx.clear();
        lcr.on_message(
            &mut s,
            NodeId(0),
            LcrMsg::Uid(5),
            &mut ctx_for(1, 3, &mut fx, &mut ch),
        );
        assert!(fx.is_empty(), "a smaller UID is discarded");
        lcr.on_message(
            &mut s,
            NodeId(0),
            LcrMsg::Uid(11),
            &mut ctx_for(1, 3, &mut fx, &mut ch),
        );
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: NodeId(2),
                msg: LcrMsg::Uid(11)
            }]
        );
        fx.clear();
        // A message from the successor breaks the ring's direction: ignored, counted.
        lcr.on_message(
            &mut s,
            NodeId(2),
            LcrMsg::Uid(9),
            &mut ctx_for(1, 3, &mut fx, &mut ch),
        );
        assert!(fx.is_empty());
        assert_eq!(s.unexpected, 1);
        lcr.on_message(
            &mut s,
            NodeId(0),
            LcrMsg::Uid(9),
            &mut ctx_for(1, 3, &mut fx, &mut ch),
        );
        let won = ElectionIndication::Elected {
            leader: NodeId(1),
            uid: 9,
        };
        assert_eq!(
            fx,
            vec![
                Effect::Indicate(won),
                Effect::Send {
                    to: NodeId(2),
                    msg: LcrMsg::Elected {
                        leader: NodeId(1),
                        uid: 9
                    }
                }
            ]
        );
        fx.clear();
        lcr.on_message(
            &mut s,
            NodeId(0),
            LcrMsg::Elected {
                leader: NodeId(1),
                uid: 9,
            },
            &mut ctx_for(1, 3, &mut fx, &mut ch),
        );
        assert!(fx.is_empty(), "the announcement stops at the leader");
        assert_eq!(s.elected, Some((NodeId(1), 9)));
    }
}
