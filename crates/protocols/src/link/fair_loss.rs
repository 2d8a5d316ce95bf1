//! The fair-loss link: the network itself, as a protocol.
//!
//! **Model.** Any timing model; crash-stop or crash-recovery processes. The link adds nothing to
//! the network: a requested message is handed to the network once, and every copy the network
//! brings is delivered.
//!
//! **Properties** (CGR module "fair-loss point-to-point links"):
//! - *FL1 fair-loss*: if a correct process sends a message infinitely often to a correct process,
//!   it is delivered infinitely often;
//! - *FL2 finite duplication*: a message sent a finite number of times is delivered a finite
//!   number of times;
//! - *FL3 no creation*: a delivered message was sent before ([`super::properties::no_creation`]).
//!
//! FL1 and FL2 are what the simulator's network promises (random loss below 1, finitely many
//! duplicates); only FL3 is checkable on a single send, see
//! [`super::properties::fair_loss_properties`].
//!
//! **Read:** CGR §2.4.2 (fair-loss links); Lynch ch. 22 (lossy channels).

use std::fmt;
use std::marker::PhantomData;
use synod_core::{Ctx, LinkDeliver, LinkSend, Message, NodeId, Protocol};

/// The fair-loss link: `send` hands the payload to the network, every arriving copy is
/// delivered. Its messages are the payloads themselves.
pub struct FairLossLink<M> {
    _payload: PhantomData<fn() -> M>,
}

impl<M> FairLossLink<M> {
    /// The fair-loss link (it has no parameters).
    pub fn new() -> Self {
        FairLossLink {
            _payload: PhantomData,
        }
    }
}

impl<M> Default for FairLossLink<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for FairLossLink<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for FairLossLink<M> {}

impl<M> fmt::Debug for FairLossLink<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FairLossLink")
    }
}

impl<M: Message> Protocol for FairLossLink<M> {
    type Msg = M;
    type Timer = ();
    type Request = LinkSend<M>;
    type Indication = LinkDeliver<M>;
    type State = ();
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) {}

    fn on_message(&self, _s: &mut (), from: NodeId, payload: M, ctx: &mut Ctx<'_, Self>) {
        ctx.indicate(LinkDeliver { from, payload });
    }

    fn on_timer(&self, _s: &mut (), _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, _s: &mut (), req: LinkSend<M>, ctx: &mut Ctx<'_, Self>) {
        ctx.send(req.to, req.payload);
    }
}
