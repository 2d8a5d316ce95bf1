//! Total-order broadcast and consensus, each built from the other (Chandra and Toueg 1996).
//!
//! **TOB from consensus** ([`Tob`]): "a sequence of consensus instances". The instances are the
//! slots of the existing [`MultiPaxos`] log (this module writes no consensus of its own): Multi-
//! Paxos is *embedded by delegation*, the way it embeds Ω itself. Its messages and timers are
//! this protocol's messages and timers ([`MpMsg`], [`MpTimer`]), its handlers run in a forked
//! [`Ctx`], and its [`MpInd::Applied`] indications feed this layer; its client answers, ballots
//! and leadership indications are dropped.
//!
//! - *Broadcast.* The k-th broadcast of payload v at p becomes the log command
//!   `RegisterReq::Write { client: p << 32 | k, value: v }` submitted at p (so Multi-Paxos
//!   forwards it to the leader Ω trusts, re-forwarding every tick until it is applied at p).
//!   The encoding is lossless for up to 2³² processes and 2³² broadcasts per process
//!   ([`encode`], [`decode`]); a larger sequence number is a broken invariant (a panic), and a
//!   command that does not decode (a read, an origin outside the run, seq 0) is ignored.
//! - *Deliver.* Every process delivers in **applied-slot order**: each applied slot's command is
//!   decoded into `(MsgId, payload)`; no-ops and commands chosen twice (a command re-forwarded
//!   across a leader change can take two slots) are skipped. To respect the broadcast order of
//!   each sender (Multi-Paxos may choose a sender's two forwards in either order), a message
//!   whose predecessor from the same origin is not delivered yet is held back and delivered
//!   right after that predecessor. Delivery is a deterministic function of the log prefix, so
//!   every process delivers the same sequence (total order) and a process that delivers m has
//!   applied its slot, which is then in every later proposal (FIFO and causal order follow: a
//!   message broadcast after delivering m gets a later slot than m).
//!
//! **Consensus from TOB** ([`ConsensusFromTob`], generic over any broadcast of the vocabulary):
//! at start, process i proposes its value (from [`Proposals`], as
//! [`ChandraToueg`](crate::consensus::ChandraToueg) does) by broadcasting it, and **decides the first value it delivers**
//! ([`CtInd::Decide`], `round` = 1: one delivery). Total order makes everybody's first delivery
//! the same message (agreement); it was proposed (validity); a process decides once
//! (integrity); TOB validity and agreement make every correct process deliver something
//! (termination). It is judged by the consensus properties of
//! [`chandra_toueg`](crate::consensus::chandra_toueg)
//! (`agreement`, `validity`, `integrity`, `termination`), the very checks Chandra–Toueg
//! consensus passes. Over a broadcast that is *not* totally ordered (causal broadcast, say),
//! first deliveries differ and agreement fails: that is the canary.
//!
//! **Model.** Crash-stop, any minority of crashes; safety in asynchrony, liveness with Ω, so
//! partial synchrony (FLP forbids TOB in pure asynchrony, because consensus reduces to it).
//! Multi-Paxos itself tolerates crash-recovery, but this layer does not: a recovered process
//! re-applies the log from slot 1 and would deliver again, outside the crash-stop model.
//!
//! **Properties** of [`Tob`] (judged by `broadcast::properties`): validity, no duplication, no
//! creation, uniform agreement (a delivered message's slot is chosen, and chosen slots reach
//! every correct process), FIFO, causal and **total order**.
//!
//! **Canary.** [`Tob::canary_early_self_delivery`]: a sender delivers its own message at once,
//! when it broadcasts it (the "optimistic" shortcut), then skips it in the log: its delivery
//! order differs from the log order the others follow, and `total_order` catches it.
//!
//! **Read:** Chandra and Toueg, "Unreliable failure detectors for reliable distributed
//! systems", JACM 43(2), 1996, §4 (atomic broadcast and consensus are equivalent); CGR §6.1
//! (total-order broadcast, "Consensus-Based Total-Order Broadcast", Algorithm 6.1); Défago,
//! Schiper and Urbán, "Total order broadcast and multicast algorithms: taxonomy and survey",
//! ACM CSUR 36(4), 2004; Lamport, "Paxos made simple" §3; Kleppmann, *DDIA* ch. 9 (total order
//! broadcast ≡ consensus).

use super::{BcastInd, BcastReq, MsgId};
use crate::consensus::chandra_toueg::{CtInd, Proposals};
use crate::consensus::multipaxos::{MpCmd, MpDurable, MpInd, MpMsg, MpState, MpTimer, MultiPaxos};
use crate::register::RegisterReq;
use std::collections::BTreeMap;
use synod_core::{Ctx, Effect, NodeId, Protocol};

/// The log command that carries broadcast `id` with `payload`: a write by client
/// `origin << 32 | seq` of value `payload`.
///
/// # Panics
/// If `seq` or the origin does not fit in 32 bits (a process broadcast 2³² times).
pub fn encode(id: MsgId, payload: u64) -> RegisterReq {
    assert!(
        id.seq <= u64::from(u32::MAX),
        "Tob: sequence number {} does not fit the log encoding",
        id.seq
    );
    RegisterReq::Write {
        client: u64::from(id.origin.0) << 32 | id.seq,
        value: payload,
    }
}

/// The broadcast a log command carries, if it is one of a run of `n` processes (inverse of
/// [`encode`]).
pub fn decode(req: RegisterReq, n: usize) -> Option<(MsgId, u64)> {
    let RegisterReq::Write { client, value } = req else {
        return None;
    };
    let origin = NodeId((client >> 32) as u32);
    let seq = client & u64::from(u32::MAX);
    (origin.index() < n && seq >= 1).then_some((MsgId { origin, seq }, value))
}

/// Total-order broadcast over the Multi-Paxos log (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tob {
    /// The consensus underneath: Multi-Paxos with an Ω leader.
    pub mp: MultiPaxos,
    /// CANARY when true: a sender delivers its own message when it broadcasts it.
    pub early_self_delivery: bool,
}

impl Default for Tob {
    fn default() -> Self {
        Tob::new()
    }
}

impl Tob {
    /// TOB over [`MultiPaxos::new`] (Ω-led, 20 ms tick).
    pub fn new() -> Tob {
        Tob::over(MultiPaxos::new())
    }

    /// TOB over the given Multi-Paxos configuration.
    pub fn over(mp: MultiPaxos) -> Tob {
        Tob {
            mp,
            early_self_delivery: false,
        }
    }

    /// CANARY: a sender delivers its own broadcast at once, before it is ordered (and skips it
    /// when it is applied): its delivery order is not the log's, so total order breaks.
    pub fn canary_early_self_delivery() -> Tob {
        Tob {
            early_self_delivery: true,
            ..Tob::new()
        }
    }
}

/// One process's state: the Multi-Paxos server's, and the delivery bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TobState {
    /// The embedded Multi-Paxos server.
    pub mp: MpState,
    /// This process's broadcasts so far.
    pub seq: u64,
    /// Per origin (index = node), the next sequence number to deliver (from 1).
    pub next: Vec<u64>,
    /// Messages applied before their predecessor from the same origin, held back.
    pub held: BTreeMap<MsgId, u64>,
    /// Log slots applied so far (no-ops and repeated commands included).
    pub slots: u64,
    /// The canary only: own messages already delivered early.
    pub early: Vec<MsgId>,
}

impl Tob {
    fn fresh(&self, mp: MpState, n: usize) -> TobState {
        TobState {
            mp,
            seq: 0,
            next: vec![1; n],
            held: BTreeMap::new(),
            slots: 0,
            early: Vec::new(),
        }
    }

    /// Applies Multi-Paxos's effects: network, timers and persistence pass through, applied
    /// slots are delivered.
    fn run_mp(&self, s: &mut TobState, fx: Vec<Effect<MultiPaxos>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(MpInd::Applied { cmd, .. }) => {
                    s.slots += 1;
                    if let MpCmd::Client { req, .. } = cmd {
                        if let Some((id, payload)) = decode(req, ctx.n()) {
                            self.ordered(s, id, payload, ctx);
                        }
                    }
                }
                Effect::Indicate(_) => {}
            }
        }
    }

    /// `id` is next in the log: deliver it (and what it releases), hold it, or skip a repeat.
    fn ordered(&self, s: &mut TobState, id: MsgId, payload: u64, ctx: &mut Ctx<'_, Self>) {
        let o = id.origin.index();
        if id.seq < s.next[o] {
            return; // chosen twice
        }
        s.held.entry(id).or_insert(payload);
        loop {
            let want = MsgId {
                origin: id.origin,
                seq: s.next[o],
            };
            let Some(p) = s.held.remove(&want) else {
                break;
            };
            s.next[o] += 1;
            if let Some(i) = s.early.iter().position(|e| *e == want) {
                s.early.remove(i); // the canary delivered it already
                continue;
            }
            ctx.indicate(BcastInd::Deliver {
                id: want,
                payload: p,
            });
        }
    }
}

impl Protocol for Tob {
    type Msg = MpMsg;
    type Timer = MpTimer;
    type Request = BcastReq;
    type Indication = BcastInd;
    type State = TobState;
    type Durable = MpDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> TobState {
        let mut fx = Vec::new();
        let mp = self.mp.init(&mut ctx.fork(&mut fx));
        let mut s = self.fresh(mp, ctx.n());
        self.run_mp(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut TobState, from: NodeId, msg: MpMsg, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.mp
            .on_message(&mut s.mp, from, msg, &mut ctx.fork(&mut fx));
        self.run_mp(s, fx, ctx);
    }

    fn on_timer(&self, s: &mut TobState, timer: MpTimer, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.mp.on_timer(&mut s.mp, timer, &mut ctx.fork(&mut fx));
        self.run_mp(s, fx, ctx);
    }

    fn on_request(&self, s: &mut TobState, req: BcastReq, ctx: &mut Ctx<'_, Self>) {
        let BcastReq::Broadcast(payload) = req;
        s.seq += 1;
        let id = MsgId {
            origin: ctx.id(),
            seq: s.seq,
        };
        if self.early_self_delivery {
            s.early.push(id);
            ctx.indicate(BcastInd::Deliver { id, payload });
        }
        let mut fx = Vec::new();
        self.mp
            .on_request(&mut s.mp, encode(id, payload), &mut ctx.fork(&mut fx));
        self.run_mp(s, fx, ctx);
    }

    fn durable(&self, s: &TobState) -> MpDurable {
        self.mp.durable(&s.mp)
    }

    fn recover(&self, d: &MpDurable, ctx: &mut Ctx<'_, Self>) -> TobState {
        let mut fx = Vec::new();
        let mp = self.mp.recover(d, &mut ctx.fork(&mut fx));
        let mut s = self.fresh(mp, ctx.n());
        self.run_mp(&mut s, fx, ctx);
        s
    }

    fn invariants(&self, s: &TobState) {
        self.mp.invariants(&s.mp);
        assert!(
            s.slots <= s.mp.applied || s.mp.epoch > 0,
            "Tob: {} slots applied here but Multi-Paxos applied {}",
            s.slots,
            s.mp.applied
        );
    }
}

/// Consensus from total-order broadcast: propose = broadcast, decide the first value
/// delivered (see the [module docs](self)). Generic over the broadcast `B`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConsensusFromTob<B> {
    /// The broadcast underneath (total order for the reduction to hold).
    pub bcast: B,
    /// What each process proposes.
    pub proposals: Proposals,
}

impl<B> ConsensusFromTob<B> {
    /// Consensus over `bcast`, process i proposing `proposals.value_of(i)` at start.
    pub fn new(bcast: B, proposals: Proposals) -> ConsensusFromTob<B> {
        ConsensusFromTob { bcast, proposals }
    }
}

/// One process's state: the broadcast's, and the decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CftState<S> {
    /// The broadcast's state.
    pub bcast: S,
    /// The decision, once the first message is delivered.
    pub decided: Option<u64>,
}

impl<B> ConsensusFromTob<B>
where
    B: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    fn run_bcast(&self, s: &mut CftState<B::State>, fx: Vec<Effect<B>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(BcastInd::Deliver { payload, .. }) => {
                    if s.decided.is_none() {
                        s.decided = Some(payload);
                        ctx.indicate(CtInd::Decide {
                            value: payload,
                            round: 1,
                        });
                    }
                }
            }
        }
    }

    fn start(
        &self,
        bcast: B::State,
        fx: Vec<Effect<B>>,
        ctx: &mut Ctx<'_, Self>,
    ) -> CftState<B::State> {
        let mut s = CftState {
            bcast,
            decided: None,
        };
        self.run_bcast(&mut s, fx, ctx);
        let v = self.proposals.value_of(ctx.id());
        let mut fx = Vec::new();
        self.bcast
            .on_request(&mut s.bcast, BcastReq::Broadcast(v), &mut ctx.fork(&mut fx));
        self.run_bcast(&mut s, fx, ctx);
        s
    }
}

impl<B> Protocol for ConsensusFromTob<B>
where
    B: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    type Msg = B::Msg;
    type Timer = B::Timer;
    type Request = ();
    type Indication = CtInd;
    type State = CftState<B::State>;
    type Durable = B::Durable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut fx = Vec::new();
        let b = self.bcast.init(&mut ctx.fork(&mut fx));
        self.start(b, fx, ctx)
    }

    fn on_message(&self, s: &mut Self::State, from: NodeId, msg: B::Msg, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.bcast
            .on_message(&mut s.bcast, from, msg, &mut ctx.fork(&mut fx));
        self.run_bcast(s, fx, ctx);
    }

    fn on_timer(&self, s: &mut Self::State, timer: B::Timer, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.bcast
            .on_timer(&mut s.bcast, timer, &mut ctx.fork(&mut fx));
        self.run_bcast(s, fx, ctx);
    }

    fn on_request(&self, _: &mut Self::State, _: (), _: &mut Ctx<'_, Self>) {}

    fn durable(&self, s: &Self::State) -> B::Durable {
        self.bcast.durable(&s.bcast)
    }

    /// Crash-stop: a recovered process restarts the broadcast from its durable state and
    /// proposes again (it may decide again, outside the model).
    fn recover(&self, d: &B::Durable, ctx: &mut Ctx<'_, Self>) -> Self::State {
        let mut fx = Vec::new();
        let b = self.bcast.recover(d, &mut ctx.fork(&mut fx));
        self.start(b, fx, ctx)
    }

    fn invariants(&self, s: &Self::State) {
        self.bcast.invariants(&s.bcast);
    }
}
