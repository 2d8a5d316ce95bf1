//! A practical perfect link directly over the fair-loss network: sequence numbers,
//! acknowledgements and per-message retransmission.
//!
//! **Model.** Any timing model; crash-stop processes. Needs a fair-loss network (a message sent
//! infinitely often arrives infinitely often; finite duplication; no creation); the network may
//! lose, duplicate and reorder. Sequence numbers are unbounded (`u64`).
//!
//! **Algorithm.** The sender numbers its messages per destination. A request sends
//! `Data { seq, payload }` and sets the timer `Retransmit(to, seq)`; when the timer fires and
//! the message is still unacknowledged, it is sent once more and the timer re-armed. The
//! receiver answers every `Data` copy with `Ack { seq }` (the previous ack may have been lost),
//! and delivers it only if it never delivered `(from, seq)` before; per sender it keeps a
//! contiguous watermark plus the few sequence numbers received above it ([`super::SeqWindow`]),
//! so its state stays small. An ack makes the sender forget the message and cancel its timer.
//!
//! Unlike [`super::DedupPerfectLink`] (CGR's construction over a stubborn link), this link stops
//! sending once a message is acknowledged. With the timeout above the round-trip time, no
//! message is retransmitted spuriously: if each transmission of data is lost with probability
//! `p`, a message costs `1/(1-p)` data transmissions on average, and `1/(1-p)²` when acks are
//! lost with probability `p` too.
//!
//! **Properties** (CGR module "perfect point-to-point links"), see
//! [`super::properties::perfect_properties`]:
//! - *PL1 reliable delivery*: a message sent by a correct process to a correct process is
//!   eventually delivered;
//! - *PL2 no duplication*: no message is delivered more than once;
//! - *PL3 no creation*.
//!
//! **Canary.** [`PerfectLink::canary_no_dedup`] delivers every copy of every `Data`: network
//! duplicates, and retransmissions whose ack was lost or late, are delivered again, breaking
//! no-duplication.
//!
//! **Read:** CGR §2.4.4 (perfect links); Lynch ch. 22 (Stenning's protocol: the same idea of
//! unbounded sequence numbers and acks over a lossy, reordering channel).

use super::SeqWindow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use synod_core::{Ctx, Duration, LinkDeliver, LinkSend, Message, NodeId, Protocol};

/// The perfect link over the fair-loss network (sequence numbers, acks, retransmission).
pub struct PerfectLink<M> {
    /// How long to wait for an ack before sending a message again. Keep it above the round-trip
    /// time, or messages are retransmitted spuriously.
    pub retransmit: Duration,
    /// `true` for the real protocol; `false` is the CANARY that delivers every copy.
    pub dedup: bool,
    _payload: PhantomData<fn() -> M>,
}

impl<M> PerfectLink<M> {
    /// A perfect link retransmitting unacknowledged messages every `retransmit`.
    ///
    /// # Panics
    /// If `retransmit` is zero.
    pub fn new(retransmit: Duration) -> Self {
        assert!(
            retransmit > Duration::ZERO,
            "PerfectLink: the retransmission timeout must be above zero"
        );
        PerfectLink {
            retransmit,
            dedup: true,
            _payload: PhantomData,
        }
    }

    /// CANARY: the same link without duplicate elimination at the receiver, breaking
    /// no-duplication whenever the network duplicates or a retransmission overtakes its ack.
    pub fn canary_no_dedup(retransmit: Duration) -> Self {
        PerfectLink {
            dedup: false,
            ..Self::new(retransmit)
        }
    }
}

impl<M> Clone for PerfectLink<M> {
    fn clone(&self) -> Self {
        PerfectLink {
            retransmit: self.retransmit,
            dedup: self.dedup,
            _payload: PhantomData,
        }
    }
}

impl<M> fmt::Debug for PerfectLink<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerfectLink")
            .field("retransmit", &self.retransmit)
            .field("dedup", &self.dedup)
            .finish()
    }
}

/// The perfect link's messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PlMsg<M> {
    /// A payload, the sender's `seq`-th message to this receiver (from 0).
    Data {
        /// Sequence number, per (sender, receiver).
        seq: u64,
        /// The payload.
        payload: M,
    },
    /// "I received your `Data` number `seq`."
    Ack {
        /// The acknowledged sequence number.
        seq: u64,
    },
}

impl<M> PlMsg<M> {
    /// True for [`PlMsg::Data`] (e.g. to lose only data with a simulator loss filter).
    pub fn is_data(&self) -> bool {
        matches!(self, PlMsg::Data { .. })
    }
}

/// The perfect link's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PlTimer {
    /// Message `seq` to this node is still unacknowledged: send it again.
    Retransmit(NodeId, u64),
}

/// A perfect link node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlState<M> {
    /// Per destination: the next sequence number to use.
    pub next_seq: BTreeMap<NodeId, u64>,
    /// Sent and not yet acknowledged, by (destination, sequence number).
    pub unacked: BTreeMap<(NodeId, u64), M>,
    /// Per sender: the sequence numbers delivered (empty for the canary, which keeps no record).
    pub delivered: BTreeMap<NodeId, SeqWindow>,
}

impl<M> Default for PlState<M> {
    fn default() -> Self {
        PlState {
            next_seq: BTreeMap::new(),
            unacked: BTreeMap::new(),
            delivered: BTreeMap::new(),
        }
    }
}

impl<M: Message> Protocol for PerfectLink<M> {
    type Msg = PlMsg<M>;
    type Timer = PlTimer;
    type Request = LinkSend<M>;
    type Indication = LinkDeliver<M>;
    type State = PlState<M>;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> PlState<M> {
        PlState::default()
    }

    fn on_message(&self, s: &mut PlState<M>, from: NodeId, msg: PlMsg<M>, ctx: &mut Ctx<'_, Self>) {
        match msg {
            PlMsg::Data { seq, payload } => {
                // Always ack: the ack of an earlier copy may have been lost.
                ctx.send(from, PlMsg::Ack { seq });
                let fresh = !self.dedup || s.delivered.entry(from).or_default().insert(seq);
                if fresh {
                    ctx.indicate(LinkDeliver { from, payload });
                }
            }
            PlMsg::Ack { seq } => {
                // A duplicate or late ack (or a peer's nonsense) finds nothing: ignore it.
                if s.unacked.remove(&(from, seq)).is_some() {
                    ctx.cancel_timer(PlTimer::Retransmit(from, seq));
                }
            }
        }
    }

    fn on_timer(&self, s: &mut PlState<M>, timer: PlTimer, ctx: &mut Ctx<'_, Self>) {
        let PlTimer::Retransmit(to, seq) = timer;
        if let Some(payload) = s.unacked.get(&(to, seq)) {
            ctx.send(
                to,
                PlMsg::Data {
                    seq,
                    payload: payload.clone(),
                },
            );
            ctx.set_timer(timer, self.retransmit);
        }
    }

    fn on_request(&self, s: &mut PlState<M>, req: LinkSend<M>, ctx: &mut Ctx<'_, Self>) {
        let LinkSend { to, payload } = req;
        let next = s.next_seq.entry(to).or_insert(0);
        let seq = *next;
        *next += 1;
        ctx.send(
            to,
            PlMsg::Data {
                seq,
                payload: payload.clone(),
            },
        );
        ctx.set_timer(PlTimer::Retransmit(to, seq), self.retransmit);
        s.unacked.insert((to, seq), payload);
    }

    fn invariants(&self, s: &PlState<M>) {
        for w in s.delivered.values() {
            w.check();
        }
        // O(destinations · log n): the highest unacked sequence number per destination must
        // have been handed out. Drivers call this after every step, so it must stay cheap.
        for (&to, &next) in &s.next_seq {
            if let Some((&(_, seq), _)) = s.unacked.range((to, 0)..=(to, u64::MAX)).next_back() {
                assert!(
                    seq < next,
                    "PerfectLink: unacked message {seq} to {to} was never numbered (next is {next})"
                );
            }
        }
        for key in [s.unacked.keys().next(), s.unacked.keys().next_back()]
            .into_iter()
            .flatten()
        {
            assert!(
                s.next_seq.contains_key(&key.0),
                "PerfectLink: unacked message to {} that was never numbered",
                key.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    type Pl = PerfectLink<u32>;

    /// Runs one handler at node n1 of 3 and returns the effects it recorded.
    fn step(f: impl FnOnce(&mut Ctx<'_, Pl>)) -> Vec<Effect<Pl>> {
        let mut fx = Vec::new();
        let mut chooser = FirstChoice;
        let mut ctx = Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut chooser);
        f(&mut ctx);
        fx
    }

    fn data(seq: u64, payload: u32) -> PlMsg<u32> {
        PlMsg::Data { seq, payload }
    }

    #[test]
    fn acks_every_data_copy_and_delivers_once() {
        let pl = Pl::new(Duration::from_millis(50));
        let mut s = PlState::default();
        let first = step(|ctx| pl.on_message(&mut s, NodeId(0), data(0, 10), ctx));
        assert_eq!(
            first,
            vec![
                Effect::Send {
                    to: NodeId(0),
                    msg: PlMsg::Ack { seq: 0 }
                },
                Effect::Indicate(LinkDeliver {
                    from: NodeId(0),
                    payload: 10
                }),
            ]
        );
        let again = step(|ctx| pl.on_message(&mut s, NodeId(0), data(0, 10), ctx));
        assert_eq!(
            again,
            vec![Effect::Send {
                to: NodeId(0),
                msg: PlMsg::Ack { seq: 0 }
            }]
        );
        // The same sequence number from another sender is another message.
        let other = step(|ctx| pl.on_message(&mut s, NodeId(2), data(0, 10), ctx));
        assert_eq!(other.len(), 2);
        // Out of order: 2 before 1, then 1; the window compacts.
        step(|ctx| pl.on_message(&mut s, NodeId(0), data(2, 12), ctx));
        step(|ctx| pl.on_message(&mut s, NodeId(0), data(1, 11), ctx));
        assert_eq!(s.delivered[&NodeId(0)].watermark(), 3);
        assert_eq!(s.delivered[&NodeId(0)].out_of_order(), 0);
        pl.invariants(&s);
    }

    #[test]
    fn canary_delivers_every_copy() {
        let pl = Pl::canary_no_dedup(Duration::from_millis(50));
        let mut s = PlState::default();
        for _ in 0..2 {
            let fx = step(|ctx| pl.on_message(&mut s, NodeId(0), data(0, 10), ctx));
            assert!(fx.contains(&Effect::Indicate(LinkDeliver {
                from: NodeId(0),
                payload: 10
            })));
        }
    }

    #[test]
    fn retransmits_until_acked_then_stops() {
        let rto = Duration::from_millis(50);
        let pl = Pl::new(rto);
        let mut s = PlState::default();
        let req = LinkSend {
            to: NodeId(2),
            payload: 20,
        };
        let sent = step(|ctx| pl.on_request(&mut s, req, ctx));
        let timer = PlTimer::Retransmit(NodeId(2), 0);
        assert_eq!(
            sent,
            vec![
                Effect::Send {
                    to: NodeId(2),
                    msg: data(0, 20)
                },
                Effect::SetTimer { timer, after: rto },
            ]
        );
        // Timeout while unacked: exactly one Data copy, timer re-armed.
        let resent = step(|ctx| pl.on_timer(&mut s, timer, ctx));
        assert_eq!(resent, sent);
        // A stray ack (wrong sender or unknown seq) changes nothing.
        let stray = step(|ctx| pl.on_message(&mut s, NodeId(0), PlMsg::Ack { seq: 0 }, ctx));
        assert!(stray.is_empty());
        assert_eq!(s.unacked.len(), 1);
        // The ack: forget the message, cancel its timer.
        let acked = step(|ctx| pl.on_message(&mut s, NodeId(2), PlMsg::Ack { seq: 0 }, ctx));
        assert_eq!(acked, vec![Effect::CancelTimer { timer }]);
        assert!(s.unacked.is_empty());
        // A late timer or a duplicate ack does nothing.
        assert!(step(|ctx| pl.on_timer(&mut s, timer, ctx)).is_empty());
        assert!(
            step(|ctx| pl.on_message(&mut s, NodeId(2), PlMsg::Ack { seq: 0 }, ctx)).is_empty()
        );
        // Numbers are per destination.
        let req = LinkSend {
            to: NodeId(0),
            payload: 21,
        };
        let next = step(|ctx| pl.on_request(&mut s, req, ctx));
        assert_eq!(
            next[0],
            Effect::Send {
                to: NodeId(0),
                msg: data(0, 21)
            }
        );
        pl.invariants(&s);
    }
}
