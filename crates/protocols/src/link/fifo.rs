//! FIFO-order perfect links: sequence numbers and a hold-back queue over a perfect link.
//!
//! **Model.** Any timing model; crash-stop processes. Runs on top of a perfect link (reliable
//! delivery, no duplication, no creation) that may reorder: [`super::PerfectLink`], or
//! [`super::DedupPerfectLink`] over a stubborn link. It still ignores duplicates and old
//! sequence numbers itself, so a misbehaving lower layer cannot make it deliver twice.
//!
//! **Algorithm.** An upper protocol for [`synod_core::Stack`]. The sender numbers its messages
//! per destination ([`super::Numbered`]). The receiver keeps per sender the next sequence
//! number it expects and a hold-back queue of messages that arrived early; it delivers the
//! expected message and then everything queued behind it, in order.
//!
//! **Properties** (CGR "FIFO-order perfect links"), see
//! [`super::properties::fifo_properties`]: the three of perfect links (reliable delivery, no
//! duplication, no creation) plus *FIFO delivery*: if p sends m1 before m2 to q, q does not
//! deliver m2 before m1.
//!
//! **Canary.** [`FifoLink::canary_no_holdback`] delivers in arrival order (still once each):
//! any reordering below shows through and FIFO delivery is violated.
//!
//! **Read:** CGR ch. 2, §2.4 (link abstractions: FIFO-order perfect links); Lynch ch. 22 (FIFO
//! data links built over reordering channels with sequence numbers).

use super::{dedup_perfect_link, DedupPerfectLink, Numbered, PerfectLink, SeqWindow};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use synod_core::{Ctx, Duration, LinkDeliver, LinkSend, Message, NodeId, Protocol, Stack};

/// The FIFO layer: per-destination numbering, per-sender hold-back queue.
pub struct FifoLink<M> {
    /// `true` for the real protocol; `false` is the CANARY that delivers in arrival order.
    pub holdback: bool,
    _payload: PhantomData<fn() -> M>,
}

impl<M> FifoLink<M> {
    /// The FIFO layer, with its hold-back queue.
    pub fn new() -> Self {
        FifoLink {
            holdback: true,
            _payload: PhantomData,
        }
    }

    /// CANARY: no hold-back queue; messages are delivered (once each) in the order they
    /// arrive, so reordering below breaks FIFO delivery.
    pub fn canary_no_holdback() -> Self {
        FifoLink {
            holdback: false,
            _payload: PhantomData,
        }
    }
}

impl<M> Default for FifoLink<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for FifoLink<M> {
    fn clone(&self) -> Self {
        FifoLink {
            holdback: self.holdback,
            _payload: PhantomData,
        }
    }
}

impl<M> fmt::Debug for FifoLink<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FifoLink")
            .field("holdback", &self.holdback)
            .finish()
    }
}

/// A [`FifoLink`] node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FifoState<M> {
    /// Per destination: the next sequence number to use.
    pub next_seq: BTreeMap<NodeId, u64>,
    /// Per sender: the sequence number to deliver next (everything below was delivered).
    pub next_expected: BTreeMap<NodeId, u64>,
    /// Per sender: messages that arrived ahead of a gap, by sequence number.
    pub held: BTreeMap<NodeId, BTreeMap<u64, M>>,
    /// Canary only (no hold-back): per sender, the sequence numbers delivered so far.
    pub delivered: BTreeMap<NodeId, SeqWindow>,
}

impl<M> Default for FifoState<M> {
    fn default() -> Self {
        FifoState {
            next_seq: BTreeMap::new(),
            next_expected: BTreeMap::new(),
            held: BTreeMap::new(),
            delivered: BTreeMap::new(),
        }
    }
}

impl<M: Message> Protocol for FifoLink<M> {
    type Msg = Numbered<M>;
    type Timer = ();
    type Request = LinkSend<M>;
    type Indication = LinkDeliver<M>;
    type State = FifoState<M>;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> FifoState<M> {
        FifoState::default()
    }

    fn on_message(
        &self,
        s: &mut FifoState<M>,
        from: NodeId,
        msg: Numbered<M>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let Numbered { seq, payload } = msg;
        if !self.holdback {
            if s.delivered.entry(from).or_default().insert(seq) {
                ctx.indicate(LinkDeliver { from, payload });
            }
            return;
        }
        let expected = s.next_expected.entry(from).or_insert(0);
        if seq < *expected {
            return; // a duplicate of something delivered: ignore it
        }
        let held = s.held.entry(from).or_default();
        if seq > *expected {
            // Early: hold it back (a copy of something already held is ignored).
            held.entry(seq).or_insert(payload);
            return;
        }
        ctx.indicate(LinkDeliver { from, payload });
        *expected += 1;
        while let Some(next) = held.remove(expected) {
            ctx.indicate(LinkDeliver {
                from,
                payload: next,
            });
            *expected += 1;
        }
        if held.is_empty() {
            s.held.remove(&from);
        }
    }

    fn on_timer(&self, _s: &mut FifoState<M>, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut FifoState<M>, req: LinkSend<M>, ctx: &mut Ctx<'_, Self>) {
        let next = s.next_seq.entry(req.to).or_insert(0);
        let seq = *next;
        *next += 1;
        ctx.send(
            req.to,
            Numbered {
                seq,
                payload: req.payload,
            },
        );
    }

    fn invariants(&self, s: &FifoState<M>) {
        for (from, held) in &s.held {
            let expected = s.next_expected.get(from).copied().unwrap_or(0);
            if let Some(&first) = held.keys().next() {
                assert!(
                    first > expected,
                    "FifoLink: held message {first} from {from} is not ahead of {expected}"
                );
            }
        }
        for w in s.delivered.values() {
            w.check();
        }
    }
}

/// A FIFO perfect link: [`FifoLink`] over [`PerfectLink`] over the fair-loss network.
pub type FifoPerfectLink<M> = Stack<FifoLink<M>, PerfectLink<Numbered<M>>>;

/// A FIFO perfect link whose perfect link retransmits unacknowledged messages every
/// `retransmit`.
pub fn fifo_perfect_link<M: Message>(retransmit: Duration) -> FifoPerfectLink<M> {
    Stack::new(FifoLink::new(), PerfectLink::new(retransmit))
}

/// The books' three-level stack: [`FifoLink`] over [`super::EliminateDuplicates`] over
/// [`super::StubbornLink`] over the fair-loss network.
pub type FifoStubbornStack<M> = Stack<FifoLink<M>, DedupPerfectLink<Numbered<M>>>;

/// The three-level FIFO stack, its stubborn link retransmitting every `period`.
pub fn fifo_stubborn_stack<M: Message>(period: Duration) -> FifoStubbornStack<M> {
    Stack::new(FifoLink::new(), dedup_perfect_link(period))
}

/// CANARY: [`FifoLink::canary_no_holdback`] over a [`PerfectLink`]; delivers in arrival order.
pub fn fifo_perfect_link_canary_no_holdback<M: Message>(
    retransmit: Duration,
) -> FifoPerfectLink<M> {
    Stack::new(FifoLink::canary_no_holdback(), PerfectLink::new(retransmit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    type F = FifoLink<u32>;

    fn delivered(link: &F, s: &mut FifoState<u32>, from: u32, seq: u64) -> Vec<u32> {
        let mut fx = Vec::new();
        let mut chooser = FirstChoice;
        let mut ctx = Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut chooser);
        let msg = Numbered {
            seq,
            payload: 100 * from + seq as u32,
        };
        link.on_message(s, NodeId(from), msg, &mut ctx);
        fx.into_iter()
            .map(|e| match e {
                Effect::Indicate(d) => d.payload,
                other => panic!("unexpected effect {other:?}"),
            })
            .collect()
    }

    #[test]
    fn holds_back_until_the_gap_fills() {
        let link = F::new();
        let mut s = FifoState::default();
        assert_eq!(delivered(&link, &mut s, 0, 2), Vec::<u32>::new());
        assert_eq!(delivered(&link, &mut s, 0, 1), Vec::<u32>::new());
        assert_eq!(delivered(&link, &mut s, 0, 1), Vec::<u32>::new());
        assert_eq!(delivered(&link, &mut s, 2, 0), vec![200]);
        link.invariants(&s);
        assert_eq!(delivered(&link, &mut s, 0, 0), vec![0, 1, 2]);
        assert_eq!(delivered(&link, &mut s, 0, 1), Vec::<u32>::new());
        assert!(s.held.is_empty());
        assert_eq!(s.next_expected[&NodeId(0)], 3);
        link.invariants(&s);
    }

    #[test]
    fn canary_delivers_in_arrival_order_once() {
        let link = F::canary_no_holdback();
        let mut s = FifoState::default();
        assert_eq!(delivered(&link, &mut s, 0, 1), vec![1]);
        assert_eq!(delivered(&link, &mut s, 0, 0), vec![0]);
        assert_eq!(delivered(&link, &mut s, 0, 1), Vec::<u32>::new());
    }
}
