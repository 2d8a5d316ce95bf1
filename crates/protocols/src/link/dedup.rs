//! CGR's perfect link: "Eliminate Duplicates" over a stubborn link.
//!
//! **Model.** Any timing model; crash-stop processes. Runs on top of a stubborn link (every
//! message sent once by a correct process to a correct process is delivered infinitely often;
//! no creation), here [`super::StubbornLink`] over the fair-loss network.
//!
//! **Algorithm.** An upper protocol for [`synod_core::Stack`]. It numbers its messages per
//! destination ([`super::Numbered`]), so that an equal payload sent twice stays two messages,
//! hands them to the stubborn link, and delivers each `(sender, sequence number)` once, keeping
//! per sender a contiguous watermark plus the few numbers received above it
//! ([`super::SeqWindow`]). CGR's version keeps the set of all delivered messages; numbering
//! keeps the same guarantee with a state that does not grow with the run.
//!
//! **Properties** (CGR module "perfect point-to-point links"), see
//! [`super::properties::perfect_properties`]: *PL1 reliable delivery*, *PL2 no duplication*,
//! *PL3 no creation*. Note the price: the stubborn link below never stops retransmitting.
//!
//! **Read:** CGR §2.4.4 (perfect links, Algorithm "Eliminate Duplicates").

use super::{Numbered, SeqWindow, StubbornLink};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use synod_core::{Ctx, Duration, LinkDeliver, LinkSend, Message, NodeId, Protocol, Stack};

/// CGR's perfect link over a stubborn link: "Eliminate Duplicates", as an upper protocol.
pub struct EliminateDuplicates<M> {
    _payload: PhantomData<fn() -> M>,
}

impl<M> EliminateDuplicates<M> {
    /// The duplicate-eliminating layer (it has no parameters).
    pub fn new() -> Self {
        EliminateDuplicates {
            _payload: PhantomData,
        }
    }
}

impl<M> Default for EliminateDuplicates<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for EliminateDuplicates<M> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<M> fmt::Debug for EliminateDuplicates<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EliminateDuplicates")
    }
}

/// An [`EliminateDuplicates`] node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DedupState {
    /// Per destination: the next sequence number to use.
    pub next_seq: BTreeMap<NodeId, u64>,
    /// Per sender: the sequence numbers delivered.
    pub delivered: BTreeMap<NodeId, SeqWindow>,
}

impl<M: Message> Protocol for EliminateDuplicates<M> {
    type Msg = Numbered<M>;
    type Timer = ();
    type Request = LinkSend<M>;
    type Indication = LinkDeliver<M>;
    type State = DedupState;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> DedupState {
        DedupState::default()
    }

    fn on_message(
        &self,
        s: &mut DedupState,
        from: NodeId,
        msg: Numbered<M>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        if s.delivered.entry(from).or_default().insert(msg.seq) {
            ctx.indicate(LinkDeliver {
                from,
                payload: msg.payload,
            });
        }
    }

    fn on_timer(&self, _s: &mut DedupState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut DedupState, req: LinkSend<M>, ctx: &mut Ctx<'_, Self>) {
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

    fn invariants(&self, s: &DedupState) {
        for w in s.delivered.values() {
            w.check();
        }
    }
}

/// CGR's perfect link: [`EliminateDuplicates`] over a [`StubbornLink`] over the fair-loss
/// network.
pub type DedupPerfectLink<M> = Stack<EliminateDuplicates<M>, StubbornLink<Numbered<M>>>;

/// CGR's perfect link, its stubborn link retransmitting every `period`.
pub fn dedup_perfect_link<M: Message>(period: Duration) -> DedupPerfectLink<M> {
    Stack::new(EliminateDuplicates::new(), StubbornLink::new(period))
}
