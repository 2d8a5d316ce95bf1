//! Stacking protocols: an upper protocol that sends its messages through a lower link protocol.

use crate::link::{LinkDeliver, LinkSend};
use crate::{Ctx, Effect, NodeId, Protocol};
use serde::{Deserialize, Serialize};

/// The timer of a stacked protocol: one of the upper layer's or one of the lower layer's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Layer<U, L> {
    /// A timer of the upper protocol.
    Upper(U),
    /// A timer of the lower protocol.
    Lower(L),
}

/// The state of a stacked node: both layers' states side by side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StackState<U, L> {
    /// The upper protocol's state.
    pub upper: U,
    /// The lower protocol's state.
    pub lower: L,
}

/// `U` running on top of the link protocol `L`: every message `U` sends becomes a
/// [`LinkSend`] request to `L`, and every [`LinkDeliver`] indication of `L` becomes a message
/// received by `U`. Only `L` touches the network.
///
/// Stacks nest, so the books' module stacks are written without copy-paste, e.g.
/// `Stack<FifoLink, Stack<EliminateDuplicates, StubbornLink>>` over the fair-loss network.
///
/// Requests to the stack go to `U`; `U`'s indications are the stack's indications.
#[derive(Clone, Debug)]
pub struct Stack<U, L> {
    /// The upper protocol.
    pub upper: U,
    /// The lower (link) protocol.
    pub lower: L,
}

impl<U, L> Stack<U, L> {
    /// `upper` over `lower`.
    pub fn new(upper: U, lower: L) -> Self {
        Stack { upper, lower }
    }
}

type SS<U, L> = StackState<<U as Protocol>::State, <L as Protocol>::State>;

impl<U, L> Stack<U, L>
where
    U: Protocol,
    L: Protocol<Request = LinkSend<U::Msg>, Indication = LinkDeliver<U::Msg>>,
{
    fn run_lower(&self, s: &mut SS<U, L>, fx: Vec<Effect<L>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(Layer::Lower(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(Layer::Lower(timer)),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(LinkDeliver { from, payload }) => {
                    let mut ufx = Vec::new();
                    self.upper
                        .on_message(&mut s.upper, from, payload, &mut ctx.fork(&mut ufx));
                    self.run_upper(s, ufx, ctx);
                }
            }
        }
    }

    fn run_upper(&self, s: &mut SS<U, L>, fx: Vec<Effect<U>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => self.lower_request(s, to, msg, ctx),
                Effect::SetTimer { timer, after } => ctx.set_timer(Layer::Upper(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(Layer::Upper(timer)),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(ind) => ctx.indicate(ind),
            }
        }
    }

    fn lower_request(&self, s: &mut SS<U, L>, to: NodeId, msg: U::Msg, ctx: &mut Ctx<'_, Self>) {
        let mut lfx = Vec::new();
        self.lower.on_request(
            &mut s.lower,
            LinkSend { to, payload: msg },
            &mut ctx.fork(&mut lfx),
        );
        self.run_lower(s, lfx, ctx);
    }
}

impl<U, L> Protocol for Stack<U, L>
where
    U: Protocol,
    L: Protocol<Request = LinkSend<U::Msg>, Indication = LinkDeliver<U::Msg>>,
{
    type Msg = L::Msg;
    type Timer = Layer<U::Timer, L::Timer>;
    type Request = U::Request;
    type Indication = U::Indication;
    type State = SS<U, L>;
    type Durable = (U::Durable, L::Durable);

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let (mut lfx, mut ufx) = (Vec::new(), Vec::new());
        let lower = self.lower.init(&mut ctx.fork(&mut lfx));
        let upper = self.upper.init(&mut ctx.fork(&mut ufx));
        let mut s = StackState { upper, lower };
        self.run_lower(&mut s, lfx, ctx);
        self.run_upper(&mut s, ufx, ctx);
        s
    }

    fn on_message(&self, s: &mut Self::State, from: NodeId, msg: L::Msg, ctx: &mut Ctx<'_, Self>) {
        let mut lfx = Vec::new();
        self.lower
            .on_message(&mut s.lower, from, msg, &mut ctx.fork(&mut lfx));
        self.run_lower(s, lfx, ctx);
    }

    fn on_timer(&self, s: &mut Self::State, timer: Self::Timer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            Layer::Lower(t) => {
                let mut lfx = Vec::new();
                self.lower
                    .on_timer(&mut s.lower, t, &mut ctx.fork(&mut lfx));
                self.run_lower(s, lfx, ctx);
            }
            Layer::Upper(t) => {
                let mut ufx = Vec::new();
                self.upper
                    .on_timer(&mut s.upper, t, &mut ctx.fork(&mut ufx));
                self.run_upper(s, ufx, ctx);
            }
        }
    }

    fn on_request(&self, s: &mut Self::State, req: U::Request, ctx: &mut Ctx<'_, Self>) {
        let mut ufx = Vec::new();
        self.upper
            .on_request(&mut s.upper, req, &mut ctx.fork(&mut ufx));
        self.run_upper(s, ufx, ctx);
    }

    fn durable(&self, s: &Self::State) -> Self::Durable {
        (self.upper.durable(&s.upper), self.lower.durable(&s.lower))
    }

    fn recover(&self, d: &Self::Durable, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let (mut lfx, mut ufx) = (Vec::new(), Vec::new());
        let lower = self.lower.recover(&d.1, &mut ctx.fork(&mut lfx));
        let upper = self.upper.recover(&d.0, &mut ctx.fork(&mut ufx));
        let mut s = StackState { upper, lower };
        self.run_lower(&mut s, lfx, ctx);
        self.run_upper(&mut s, ufx, ctx);
        s
    }

    fn invariants(&self, s: &Self::State) {
        self.upper.invariants(&s.upper);
        self.lower.invariants(&s.lower);
    }
}

/// A stack serves the upper protocol's clients: its requests and indications are the upper
/// protocol's, so are its client operations (e.g. a register over retransmitting links).
impl<U, L> crate::ClientOps for Stack<U, L>
where
    U: crate::ClientOps,
    L: Protocol<Request = LinkSend<U::Msg>, Indication = LinkDeliver<U::Msg>>,
{
    type Input = U::Input;
    type Output = U::Output;

    fn invocation(req: &U::Request) -> Option<(crate::ClientId, U::Input)> {
        U::invocation(req)
    }

    fn response(ind: &U::Indication) -> Option<(crate::ClientId, U::Output)> {
        U::response(ind)
    }
}
