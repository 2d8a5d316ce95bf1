//! HS, the leader election of Hirschberg and Sinclair, on a bidirectional ring: O(n log n)
//! messages by probing ever larger neighbourhoods.
//!
//! **Model.** n processes on a *bidirectional* ring: node i talks to its neighbours
//! (i−1) mod n and (i+1) mod n, and tells the direction of a message from its sender; a message
//! from any other node is ignored (counted in [`HsState::unexpected`]). Distinct UIDs
//! (`uids[i]`), compared only. No failures; reliable channels that neither lose nor duplicate
//! messages (they may reorder: a reply is matched to its phase). Any timing: Lynch presents HS
//! in the synchronous model (ch. 3) and notes it runs unchanged asynchronously (ch. 15). Which
//! probes travel how far depends only on the arrangement of UIDs, never on timing, so the
//! message count of a given arrangement is the same in every timing model. n is not known to
//! the processes.
//!
//! **Algorithm.** Process i works in phases k = 0, 1, 2, …. In phase k it sends a probe
//! [`HsMsg::Out`] with its UID in both directions, to travel 2^k hops. A process that receives
//! an outbound probe compares its UID with its own:
//! - larger, and the probe has hops left: it relays the probe onwards (hops + 1);
//! - larger, and the probe has used its 2^k hops: it sends a reply [`HsMsg::In`] back;
//! - smaller: it swallows the probe (that candidate cannot be the largest);
//! - its own: the probe went all the way round the ring, so this process is the leader.
//!
//! Replies are relayed back to their origin. A process that gets both replies of phase k
//! (its UID is the largest within distance 2^k on both sides) starts phase k+1. The leader
//! emits [`ElectionIndication::Elected`] for itself at once and sends an announcement
//! ([`HsMsg::Elected`]) once round the ring in the successor direction (i → i+1); every other
//! process emits `Elected` when it sees it.
//!
//! **Cost** (Lynch §3.4). Phase 0 costs at most 4n messages. A process starts phase k ≥ 1 only
//! if its UID is the largest within distance 2^(k−1) on both sides, so at most
//! ⌊n / (2^(k−1) + 1)⌋ processes do, each sending at most 4·2^k messages (out and back, both
//! ways): at most 8n per phase. There are at most 1 + ⌈log₂ n⌉ phases, so at most
//! **8n(1 + ⌈log₂ n⌉)** [`HsMsg::Out`] and [`HsMsg::In`] messages ([`HsMsg::is_id_message`]);
//! the announcement adds exactly n.
//!
//! **Properties** ([`super::properties::election_properties`]): *unique leader*, *the leader
//! has the largest UID*, *termination*. Each process emits `Elected` exactly once.
//!
//! **Canary.** [`HsCanaryRelaySmaller`] relays (and answers) probes with smaller UIDs instead
//! of swallowing them: every process passes every phase and finally receives its own probe,
//! so every process elects itself, and the message count grows like n² instead of n log n
//! (above the bound from n = 5 on).
//!
//! **Read:** Lynch, *Distributed Algorithms*, §3.4 (HS, the 8n(1 + ⌈log n⌉) bound) and §15.1.2
//! (asynchronous rings); Attiya and Welch, *Distributed Computing*, §3.3.3 (an O(n log n)
//! algorithm); Hirschberg and Sinclair, "Decentralized extrema-finding in circular
//! configurations of processors", CACM 23(11), 1980.

use super::{assert_distinct, assert_one_uid_per_node, ElectionIndication};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, NodeId, Protocol};

/// HS on a bidirectional ring (neighbours (i±1) mod n); `uids[i]` is node i's UID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HirschbergSinclair {
    /// Node i's UID; distinct, one per node of the run.
    pub uids: Vec<u64>,
}

impl HirschbergSinclair {
    /// HS with node i's UID `uids[i]`.
    ///
    /// # Panics
    /// If two UIDs are equal.
    pub fn new(uids: Vec<u64>) -> HirschbergSinclair {
        assert_distinct("HirschbergSinclair", &uids);
        HirschbergSinclair { uids }
    }
}

/// CANARY: HS that relays (and answers) outbound probes carrying a *smaller* UID instead of
/// swallowing them. Every process passes every phase until its probe comes home, so every
/// process elects itself (unique leader is violated for n ≥ 2) and the message count grows
/// like n² ((6n − 4)·n when n is a power of two), above the 8n(1 + ⌈log₂ n⌉) bound from n = 5
/// on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HsCanaryRelaySmaller {
    /// Node i's UID; distinct, one per node of the run.
    pub uids: Vec<u64>,
}

impl HsCanaryRelaySmaller {
    /// The canary with node i's UID `uids[i]`.
    ///
    /// # Panics
    /// If two UIDs are equal.
    pub fn new(uids: Vec<u64>) -> HsCanaryRelaySmaller {
        assert_distinct("HsCanaryRelaySmaller", &uids);
        HsCanaryRelaySmaller { uids }
    }
}

/// HS's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HsMsg {
    /// An outbound probe of candidate `uid` in phase `phase`, at its `hops`-th hop (from 1;
    /// it turns back at hop 2^phase).
    Out {
        /// The candidate's UID.
        uid: u64,
        /// The candidate's phase.
        phase: u32,
        /// How many hops the probe has travelled, this one included.
        hops: u64,
    },
    /// A reply to candidate `uid`'s phase-`phase` probe, on its way back to the candidate.
    In {
        /// The candidate's UID.
        uid: u64,
        /// The phase replied to.
        phase: u32,
    },
    /// The announcement: `leader`, whose UID is `uid`, was elected.
    Elected {
        /// The leader.
        leader: NodeId,
        /// The leader's UID.
        uid: u64,
    },
}

impl HsMsg {
    /// True for the messages Lynch counts, probes and replies ([`HsMsg::Out`], [`HsMsg::In`]);
    /// false for the announcement.
    pub fn is_id_message(&self) -> bool {
        matches!(self, HsMsg::Out { .. } | HsMsg::In { .. })
    }
}

/// One HS process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HsState {
    /// This process.
    pub me: NodeId,
    /// This process's UID.
    pub uid: u64,
    /// The phase this process's probes are in. A process whose probe was swallowed stays in its
    /// phase for ever (it only relays from then on). Learning the leader from the announcement
    /// does not stop a process's phases, as in Lynch's HS, which has no announcement.
    pub phase: u32,
    /// Replies received for the current phase (0 or 1: at 2 the process moves on).
    pub replies: u8,
    /// The leader and its UID, once this process knows them (it then emitted `Elected`).
    pub elected: Option<(NodeId, u64)>,
    /// Messages ignored because they made no sense: from a non-neighbour, a reply to a phase
    /// this process is not in, a probe beyond its hop budget, a second announcement.
    pub unexpected: u64,
}

/// How many hops a phase-`phase` probe travels: 2^phase (saturating, for nonsense phases).
fn budget(phase: u32) -> u64 {
    1u64.checked_shl(phase).unwrap_or(u64::MAX)
}

fn left(me: NodeId, n: usize) -> NodeId {
    NodeId(((me.index() + n - 1) % n) as u32)
}

fn right(me: NodeId, n: usize) -> NodeId {
    NodeId(((me.index() + 1) % n) as u32)
}

/// The shared handlers of [`HirschbergSinclair`] and its canary (`relay_smaller`).
mod handlers {
    use super::*;

    fn probe<P: Protocol<Msg = HsMsg>>(s: &HsState, ctx: &mut Ctx<'_, P>) {
        let (me, n) = (ctx.id(), ctx.n());
        let out = HsMsg::Out {
            uid: s.uid,
            phase: s.phase,
            hops: 1,
        };
        ctx.send(right(me, n), out.clone());
        ctx.send(left(me, n), out);
    }

    pub(super) fn init<P>(uids: &[u64], ctx: &mut Ctx<'_, P>) -> HsState
    where
        P: Protocol<Msg = HsMsg>,
    {
        assert_one_uid_per_node("HirschbergSinclair", uids, ctx.n());
        let s = HsState {
            me: ctx.id(),
            uid: uids[ctx.id().index()],
            phase: 0,
            replies: 0,
            elected: None,
            unexpected: 0,
        };
        probe(&s, ctx);
        s
    }

    pub(super) fn on_message<P>(
        relay_smaller: bool,
        s: &mut HsState,
        from: NodeId,
        msg: HsMsg,
        ctx: &mut Ctx<'_, P>,
    ) where
        P: Protocol<Msg = HsMsg, Indication = ElectionIndication>,
    {
        let (me, n) = (ctx.id(), ctx.n());
        let (l, r) = (left(me, n), right(me, n));
        // Onwards: away from the sender. (With n ≤ 2 both neighbours are the same node.)
        let onwards = if from == l {
            r
        } else if from == r {
            l
        } else {
            s.unexpected += 1;
            return;
        };
        match msg {
            HsMsg::Out { uid, .. } if uid == s.uid => {
                // Our probe went all the way round: we are the leader. (The probe sent the
                // other way comes home too; it changes nothing.)
                if s.elected == Some((me, s.uid)) {
                    return;
                }
                s.elected = Some((me, s.uid));
                ctx.indicate(ElectionIndication::Elected {
                    leader: me,
                    uid: s.uid,
                });
                ctx.send(
                    r,
                    HsMsg::Elected {
                        leader: me,
                        uid: s.uid,
                    },
                );
            }
            HsMsg::Out { uid, phase, hops } => {
                if uid < s.uid && !relay_smaller {
                    return; // swallowed: that candidate is not the largest
                }
                let max = budget(phase);
                if hops == 0 || hops > max {
                    s.unexpected += 1;
                } else if hops < max {
                    ctx.send(
                        onwards,
                        HsMsg::Out {
                            uid,
                            phase,
                            hops: hops + 1,
                        },
                    );
                } else {
                    ctx.send(from, HsMsg::In { uid, phase });
                }
            }
            HsMsg::In { uid, phase } if uid == s.uid => {
                if phase != s.phase {
                    s.unexpected += 1;
                    return;
                }
                s.replies += 1;
                if s.replies == 2 {
                    s.phase += 1;
                    s.replies = 0;
                    probe(s, ctx);
                }
            }
            HsMsg::In { uid, phase } => ctx.send(onwards, HsMsg::In { uid, phase }),
            HsMsg::Elected { leader, uid } => {
                if leader == me {
                    return; // our announcement came home
                }
                if s.elected.is_some() {
                    s.unexpected += 1;
                    return;
                }
                s.elected = Some((leader, uid));
                ctx.indicate(ElectionIndication::Elected { leader, uid });
                ctx.send(r, HsMsg::Elected { leader, uid });
            }
        }
    }

    pub(super) fn invariants(s: &HsState) {
        assert!(s.replies < 2, "HS: {} kept {} replies", s.me, s.replies);
        if let Some((leader, uid)) = s.elected {
            assert!(
                leader != s.me || uid == s.uid,
                "HS: {} elected itself with UID {uid}, but its UID is {}",
                s.me,
                s.uid
            );
        }
    }
}

macro_rules! hs_protocol {
    ($ty:ty, $relay_smaller:expr) => {
        impl Protocol for $ty {
            type Msg = HsMsg;
            type Timer = ();
            type Request = ();
            type Indication = ElectionIndication;
            type State = HsState;
            type Durable = ();

            fn init(&self, ctx: &mut Ctx<'_, Self>) -> HsState {
                handlers::init(&self.uids, ctx)
            }

            fn on_message(
                &self,
                s: &mut HsState,
                from: NodeId,
                msg: HsMsg,
                ctx: &mut Ctx<'_, Self>,
            ) {
                handlers::on_message($relay_smaller, s, from, msg, ctx)
            }

            fn on_timer(&self, _s: &mut HsState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

            /// HS starts by itself at time 0; requests are ignored.
            fn on_request(&self, _s: &mut HsState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

            fn invariants(&self, s: &HsState) {
                handlers::invariants(s)
            }
        }
    };
}

hs_protocol!(HirschbergSinclair, false);
hs_protocol!(HsCanaryRelaySmaller, true);

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    fn run(
        hs: &HirschbergSinclair,
        s: &mut HsState,
        from: u32,
        msg: HsMsg,
        n: usize,
    ) -> Vec<Effect<HirschbergSinclair>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(s.me, n, Instant::ZERO, &mut fx, &mut ch);
        hs.on_message(s, NodeId(from), msg, &mut ctx);
        fx
    }

    fn send(to: u32, msg: HsMsg) -> Effect<HirschbergSinclair> {
        Effect::Send {
            to: NodeId(to),
            msg,
        }
    }

    #[test]
    fn probes_relay_turn_back_and_advance_the_phase() {
        let hs = HirschbergSinclair::new(vec![3, 7, 5, 1, 2]);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut s = hs.init(&mut Ctx::new(NodeId(2), 5, Instant::ZERO, &mut fx, &mut ch));
        let out0 = HsMsg::Out {
            uid: 5,
            phase: 0,
            hops: 1,
        };
        assert_eq!(fx, vec![send(3, out0.clone()), send(1, out0)]);

        // A larger UID with hops left goes on, away from its sender.
        let big = |hops| HsMsg::Out {
            uid: 7,
            phase: 2,
            hops,
        };
        assert_eq!(run(&hs, &mut s, 1, big(1), 5), vec![send(3, big(2))]);
        // At the end of its budget (2^2 = 4 hops) it turns back.
        assert_eq!(
            run(&hs, &mut s, 3, big(4), 5),
            vec![send(3, HsMsg::In { uid: 7, phase: 2 })]
        );
        // A smaller UID is swallowed.
        let small = HsMsg::Out {
            uid: 1,
            phase: 0,
            hops: 1,
        };
        assert!(run(&hs, &mut s, 3, small, 5).is_empty());
        // Someone else's reply passes through.
        assert_eq!(
            run(&hs, &mut s, 3, HsMsg::In { uid: 7, phase: 1 }, 5),
            vec![send(1, HsMsg::In { uid: 7, phase: 1 })]
        );
        // Both replies to our phase 0: phase 1 probes, two hops each way.
        let reply = HsMsg::In { uid: 5, phase: 0 };
        assert!(run(&hs, &mut s, 3, reply.clone(), 5).is_empty());
        let out1 = HsMsg::Out {
            uid: 5,
            phase: 1,
            hops: 1,
        };
        assert_eq!(
            run(&hs, &mut s, 1, reply.clone(), 5),
            vec![send(3, out1.clone()), send(1, out1)]
        );
        assert_eq!((s.phase, s.replies), (1, 0));
        // A stale reply, a message from a non-neighbour and a probe past its budget are
        // counted and ignored.
        assert!(run(&hs, &mut s, 3, reply, 5).is_empty());
        assert!(run(&hs, &mut s, 4, big(1), 5).is_empty());
        assert!(run(&hs, &mut s, 1, big(9), 5).is_empty());
        assert_eq!(s.unexpected, 3);
    }
}
