//! The state-based replicating protocol: a full replica at every node, local updates, periodic
//! anti-entropy by whole-state gossip.
//!
//! Every node holds a replica of one [`Crdt`]. An update arrives as a request at any node and is
//! applied there at once (always available, even alone in a partition); the node persists its
//! state, reports the update's effect and its new state, and answers. Every `period` each node
//! sends its whole state to its peers (all of them, or `fanout` random ones chosen through
//! [`Ctx::choose`]); a receiver merges it. Merge is idempotent, commutative and associative, so
//! lost, duplicated, reordered and stale messages do no harm: each later gossip round repairs
//! what was lost, and once a partition heals and the updates stop, every replica reaches the
//! join of all states.

use super::types::{Crdt, LwwRegister};
use super::{CrdtInd, Observed, Replica};
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::marker::PhantomData;
use synod_core::{ClientId, ClientOps, Ctx, Duration, Message, NodeId, Protocol};

/// How a store's requests map to updates and answers: the client interface in front of the
/// replica.
pub trait Frontend<C: Crdt>: Send + Sync + 'static {
    /// What a client sends.
    type Request: Message;
    /// What a client gets back.
    type Response: Message;

    /// The update `req` asks for (`None`: a query).
    fn update(req: &Self::Request) -> Option<C::Op>;

    /// The answer to `req`, once served on the replica `data` (`None`: no answer).
    fn answer(req: &Self::Request, data: &C) -> Option<Self::Response>;
}

/// The plain interface: a request is an update ([`Crdt::Op`]) and gets no answer (the
/// indications report its effect and the new state).
#[derive(Clone, Copy, Debug, Default)]
pub struct Updates;

impl<C: Crdt> Frontend<C> for Updates {
    type Request = C::Op;
    type Response = ();

    fn update(req: &C::Op) -> Option<C::Op> {
        Some(req.clone())
    }

    fn answer(_req: &C::Op, _data: &C) -> Option<()> {
        None
    }
}

/// The register interface of [`crate::register`] in front of an [`LwwRegister`]: a write
/// updates the local replica and is acknowledged at once, a read returns the local value. Always
/// available, eventually consistent, and *not* linearizable: a read at one replica misses a
/// write acknowledged at another until gossip brings it, and of two concurrent writes the one
/// with the lower stamp is lost even if it finished last.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterFront;

impl Frontend<LwwRegister> for RegisterFront {
    type Request = RegisterReq;
    type Response = RegisterResp;

    fn update(req: &RegisterReq) -> Option<u64> {
        match *req {
            RegisterReq::Write { value, .. } => Some(value),
            RegisterReq::Read { .. } => None,
        }
    }

    fn answer(req: &RegisterReq, data: &LwwRegister) -> Option<RegisterResp> {
        Some(match *req {
            RegisterReq::Write { client, .. } => RegisterResp::WriteOk { client },
            RegisterReq::Read { client } => RegisterResp::ReadOk {
                client,
                value: data.value(),
            },
        })
    }
}

/// The state-based store: a replica of `C` at every node, served through `F` (see the
/// [module documentation](self)).
pub struct CrdtStore<C, F = Updates> {
    /// Time between two gossip rounds of a node.
    pub period: Duration,
    /// Peers a node sends its state to per round (`None`: all of them).
    pub fanout: Option<usize>,
    _types: PhantomData<fn() -> (C, F)>,
}

impl<C, F> Clone for CrdtStore<C, F> {
    fn clone(&self) -> Self {
        CrdtStore {
            period: self.period,
            fanout: self.fanout,
            _types: PhantomData,
        }
    }
}

impl<C, F> Debug for CrdtStore<C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CrdtStore<{}>(period={}, fanout={:?})",
            std::any::type_name::<C>(),
            self.period,
            self.fanout
        )
    }
}

/// The default gossip period.
pub const GOSSIP_PERIOD: Duration = Duration::from_millis(50);

impl<C: Crdt, F: Frontend<C>> Default for CrdtStore<C, F> {
    fn default() -> Self {
        Self::new(GOSSIP_PERIOD)
    }
}

impl<C: Crdt, F: Frontend<C>> CrdtStore<C, F> {
    /// Gossip to every peer every `period`.
    pub fn new(period: Duration) -> Self {
        assert!(
            period > Duration::ZERO,
            "the gossip period must be positive"
        );
        CrdtStore {
            period,
            fanout: None,
            _types: PhantomData,
        }
    }

    /// The same store, gossiping to `k` random peers per round (at least one).
    pub fn with_fanout(mut self, k: usize) -> Self {
        self.fanout = Some(k.max(1));
        self
    }

    /// The first gossip round of a node that starts or recovers: a random quarter of the period
    /// to a whole period away, so that nodes do not gossip in lockstep.
    fn first_round(&self, ctx: &mut Ctx<'_, Self>) {
        let quarters = 1 + ctx.choose(4) as u64;
        ctx.set_timer(
            StoreTimer::Gossip,
            Duration(self.period.as_nanos() / 4 * quarters),
        );
    }

    fn report_state(ctx: &mut Ctx<'_, Self>, data: &C) {
        ctx.indicate(CrdtInd::State {
            value: data.value(),
            digest: data.digest(),
        });
    }
}

/// The G-Counter store.
pub type GCounterStore = CrdtStore<super::GCounter>;
/// The PN-Counter store.
pub type PnCounterStore = CrdtStore<super::PnCounter>;
/// The OR-Set store.
pub type OrSetStore = CrdtStore<super::OrSet>;
/// The LWW-Register store with plain updates (writes) as requests.
pub type LwwStore = CrdtStore<LwwRegister>;
/// The MV-Register store.
pub type MvRegisterStore = CrdtStore<super::MvRegister>;
/// The LWW-Register store serving the register vocabulary of [`crate::register`]
/// ([`RegisterReq`] in, [`RegisterResp`] out): always available, convergent, not linearizable.
pub type LwwRegisterStore = CrdtStore<LwwRegister, RegisterFront>;

/// A node's replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreState<C> {
    /// The replica's state.
    pub data: C,
}

/// What nodes send each other: a whole state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreMsg<C> {
    /// The sender's state, to merge.
    State(C),
}

/// The store's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoreTimer {
    /// Time for a gossip round.
    Gossip,
}

impl<C: Crdt, F: Frontend<C>> Protocol for CrdtStore<C, F> {
    type Msg = StoreMsg<C>;
    type Timer = StoreTimer;
    type Request = F::Request;
    type Indication = CrdtInd<C::Effect, C::Value, F::Response>;
    type State = StoreState<C>;
    type Durable = C;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> StoreState<C> {
        let data = C::default();
        Self::report_state(ctx, &data);
        self.first_round(ctx);
        StoreState { data }
    }

    fn on_message(
        &self,
        state: &mut StoreState<C>,
        _from: NodeId,
        msg: StoreMsg<C>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        let StoreMsg::State(remote) = msg;
        let mut joined = state.data.clone();
        joined.merge(&remote);
        if joined != state.data {
            state.data = joined;
            ctx.persist();
            Self::report_state(ctx, &state.data);
        }
    }

    fn on_timer(&self, state: &mut StoreState<C>, _timer: StoreTimer, ctx: &mut Ctx<'_, Self>) {
        let mut peers: Vec<NodeId> = ctx.peers().collect();
        let k = self.fanout.unwrap_or(peers.len()).min(peers.len());
        for _ in 0..k {
            let to = if k == peers.len() {
                peers.remove(0)
            } else {
                peers.remove(ctx.choose(peers.len()))
            };
            ctx.send(to, StoreMsg::State(state.data.clone()));
        }
        ctx.set_timer(StoreTimer::Gossip, self.period);
    }

    fn on_request(&self, state: &mut StoreState<C>, req: F::Request, ctx: &mut Ctx<'_, Self>) {
        if let Some(op) = F::update(&req) {
            let before = state.data.digest();
            let effect = state.data.apply(ctx.id(), &op);
            ctx.persist();
            ctx.indicate(CrdtInd::Updated { effect });
            if state.data.digest() != before {
                Self::report_state(ctx, &state.data);
            }
        }
        if let Some(resp) = F::answer(&req, &state.data) {
            ctx.indicate(CrdtInd::Reply(resp));
        }
    }

    fn durable(&self, state: &StoreState<C>) -> C {
        state.data.clone()
    }

    fn recover(&self, durable: &C, ctx: &mut Ctx<'_, Self>) -> StoreState<C> {
        let data = durable.clone();
        Self::report_state(ctx, &data);
        self.first_round(ctx);
        StoreState { data }
    }
}

impl<C: Crdt, F: Frontend<C>> Replica for CrdtStore<C, F> {
    type Data = C;

    fn observe(ind: &Self::Indication) -> Option<Observed<'_, C>> {
        ind.observe()
    }
}

impl ClientOps for LwwRegisterStore {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    fn response(ind: &Self::Indication) -> Option<(ClientId, RegisterRet)> {
        match ind {
            CrdtInd::Reply(r) => Some((r.client(), r.ret())),
            _ => None,
        }
    }
}
