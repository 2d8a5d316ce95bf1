//! Round-based algorithms and the lockstep adapter.
//!
//! Many classic results (FloodSet's f+1 rounds, FloodMax, OM(m)) are stated in the synchronous
//! *round* model: in round r every live process sends, then receives every message sent to it in
//! round r, then computes. [`RoundProtocol`] is that shape; [`Lockstep`] turns it into an
//! ordinary [`Protocol`] that advances on a round timer. Under the simulator's lockstep timing
//! (every message arrives well inside its round) the adapter is exactly the round model; under
//! asynchronous timing its messages arrive late, are counted in [`LockstepState::late`] and
//! discarded, which is how the same code shows why the model matters.

use crate::protocol::{Message, StateValue};
use crate::{Ctx, Duration, Instant, NodeId, Protocol};
use serde::{Deserialize, Serialize};

/// A synchronous round-based algorithm.
pub trait RoundProtocol: Sized + Send + Sync + 'static {
    /// What nodes send each round.
    type Msg: Message;
    /// What a node tells the layer above (e.g. `Decide(v)`).
    type Indication: Message;
    /// Requests from the layer above (often `()`: inputs are part of the configuration).
    type Request: Message;
    /// One node's state.
    type State: StateValue;

    /// The initial state of node `id` of `n`.
    fn init(&self, id: NodeId, n: usize) -> Self::State;

    /// Round `round` (from 0): `inbox` holds the messages sent to this node in the previous round,
    /// sorted by sender (empty in round 0). Compute, then send this round's messages through
    /// `ctx`. Return [`Step::Halt`] to stop taking rounds.
    fn round(
        &self,
        round: u32,
        state: &mut Self::State,
        inbox: &[(NodeId, Self::Msg)],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step;

    /// A request from the layer above; ignored by default.
    fn on_request(&self, _state: &mut Self::State, _req: Self::Request) {}
}

/// Whether a node keeps taking rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Take the next round.
    Continue,
    /// Stop: the node takes no more rounds (it stays up and silent).
    Halt,
}

/// A round message, tagged with the round it was sent in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoundMsg<M> {
    /// The round the message belongs to.
    pub round: u32,
    /// The algorithm's message.
    pub msg: M,
}

/// The lockstep adapter's only timer: the end of the current round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NextRound;

/// A node's state under [`Lockstep`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LockstepState<S, M> {
    /// The algorithm's own state.
    pub inner: S,
    /// The round this node is in.
    pub round: u32,
    /// Messages received for the current round.
    pub inbox: Vec<(NodeId, M)>,
    /// Messages that arrived after their round had ended (the synchrony assumption failed).
    pub late: u32,
    /// True once the algorithm halted.
    pub halted: bool,
}

/// Runs a [`RoundProtocol`] as a [`Protocol`], one round every `round_len` of local time.
#[derive(Clone, Debug)]
pub struct Lockstep<R> {
    /// The round algorithm.
    pub inner: R,
    /// The length of a round; every message must arrive within it.
    pub round_len: Duration,
}

impl<R> Lockstep<R> {
    /// `inner` with rounds of `round_len`.
    pub fn new(inner: R, round_len: Duration) -> Self {
        Lockstep { inner, round_len }
    }
}

/// What a round algorithm may do within a round: send, indicate, choose.
pub struct RoundCtx<'c, 'a, R: RoundProtocol> {
    round: u32,
    ctx: &'c mut Ctx<'a, Lockstep<R>>,
}

impl<'c, 'a, R: RoundProtocol> RoundCtx<'c, 'a, R> {
    /// The context of round `round` over `ctx`, the adapter's context: what [`Lockstep`] builds
    /// for every round. Public so that other drivers of the round model (the round explorer of
    /// `synod-check`) can call [`RoundProtocol::round`] directly: build a [`Ctx`] over an effect
    /// list and a [`crate::Chooser`], wrap it, call `round`, then read the effects: each send
    /// is an [`Effect::Send`](crate::Effect::Send) of a [`RoundMsg`] tagged with `round`, each
    /// indication an [`Effect::Indicate`](crate::Effect::Indicate).
    pub fn new(round: u32, ctx: &'c mut Ctx<'a, Lockstep<R>>) -> RoundCtx<'c, 'a, R> {
        RoundCtx { round, ctx }
    }
}

impl<R: RoundProtocol> RoundCtx<'_, '_, R> {
    /// This node.
    pub fn id(&self) -> NodeId {
        self.ctx.id()
    }
    /// The number of nodes.
    pub fn n(&self) -> usize {
        self.ctx.n()
    }
    /// The local time at the start of the round.
    pub fn now(&self) -> Instant {
        self.ctx.now()
    }
    /// The current round.
    pub fn round(&self) -> u32 {
        self.round
    }
    /// Sends `msg` to `to` in this round.
    pub fn send(&mut self, to: NodeId, msg: R::Msg) {
        let round = self.round;
        self.ctx.send(to, RoundMsg { round, msg });
    }
    /// Sends `msg` to every other node in this round.
    pub fn broadcast(&mut self, msg: R::Msg) {
        let round = self.round;
        self.ctx.broadcast(RoundMsg { round, msg });
    }
    /// Tells the layer above.
    pub fn indicate(&mut self, ind: R::Indication) {
        self.ctx.indicate(ind);
    }
    /// A random choice in `0..n` (see [`Ctx::choose`]).
    pub fn choose(&mut self, n: usize) -> usize {
        self.ctx.choose(n)
    }
}

impl<R: RoundProtocol> Lockstep<R> {
    fn take_round(
        &self,
        s: &mut LockstepState<R::State, R::Msg>,
        inbox: &[(NodeId, R::Msg)],
        ctx: &mut Ctx<'_, Self>,
    ) {
        let step = {
            let mut rc = RoundCtx::new(s.round, &mut *ctx);
            self.inner.round(s.round, &mut s.inner, inbox, &mut rc)
        };
        match step {
            Step::Continue => ctx.set_timer(NextRound, self.round_len),
            Step::Halt => s.halted = true,
        }
    }
}

impl<R: RoundProtocol> Protocol for Lockstep<R> {
    type Msg = RoundMsg<R::Msg>;
    type Timer = NextRound;
    type Request = R::Request;
    type Indication = R::Indication;
    type State = LockstepState<R::State, R::Msg>;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut s = LockstepState {
            inner: self.inner.init(ctx.id(), ctx.n()),
            round: 0,
            inbox: Vec::new(),
            late: 0,
            halted: false,
        };
        self.take_round(&mut s, &[], ctx);
        s
    }

    fn on_message(
        &self,
        s: &mut Self::State,
        from: NodeId,
        m: Self::Msg,
        _ctx: &mut Ctx<'_, Self>,
    ) {
        if m.round == s.round && !s.halted {
            s.inbox.push((from, m.msg));
        } else {
            s.late += 1;
        }
    }

    fn on_timer(&self, s: &mut Self::State, _t: NextRound, ctx: &mut Ctx<'_, Self>) {
        if s.halted {
            return;
        }
        let mut inbox = std::mem::take(&mut s.inbox);
        inbox.sort_by_key(|(from, _)| *from);
        s.round += 1;
        self.take_round(s, &inbox, ctx);
    }

    fn on_request(&self, s: &mut Self::State, req: R::Request, _ctx: &mut Ctx<'_, Self>) {
        self.inner.on_request(&mut s.inner, req);
    }
}
