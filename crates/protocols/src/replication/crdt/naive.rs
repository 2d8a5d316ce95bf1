//! Op-based replication, and the canaries that show why CRDT merges must be idempotent.
//!
//! [`OpStore`] replicates by shipping each update's effect (a downstream operation) to every
//! peer with *at-least-once* delivery: the origin retransmits the effect every `period` until the
//! peer acknowledges it, so effects survive loss and partitions. A receiver applies every copy it
//! gets. That is only correct if applying an effect twice is harmless, or if delivery is made
//! exactly-once ([`OpStore::with_dedup`]: the receiver remembers which effects it applied), and
//! if concurrent effects commute (Shapiro et al. 2011, §2.4: op-based CRDTs need commutative
//! operations and reliable, exactly-once, causal delivery).
//!
//! The canaries:
//!
//! - [`naive_opcounter`]: a PN-Counter shipped as increments and decrements, re-applied on every
//!   duplicate (the network's duplicates, and retransmissions whose acknowledgement was lost):
//!   replicas count some updates twice, disagree, and their value exceeds the sum of the updates.
//! - [`naive_set`]: an add/remove set without tags ([`NaiveSet`]): add inserts, remove deletes.
//!   Adds and removes do not commute, so a remove and a concurrent add of the same element end
//!   in different states at different replicas (remove-then-add keeps it, add-then-remove drops
//!   it), and a duplicate of an old add delivered after a remove resurrects the element. The
//!   OR-Set's tags fix both: a remove cancels only the adds it observed.

use super::types::{add_wins, sample_set_op, Crdt, PnCounter, SetEffect, SetOp, Tag};
use super::{CrdtInd, Observed, Replica};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::marker::PhantomData;
use synod_core::{Ctx, Duration, NodeId, Prng, Protocol};

/// A set with plain add and remove, no tags: the *wrong* replicated set (a canary).
///
/// It speaks the OR-Set's vocabulary ([`SetOp`] in, [`SetEffect`] out, judged by the same
/// add-wins specification): an add is reported with a fresh tag and a remove with the tags of
/// the adds of that element this replica had applied (`seen`, kept for the report only), but
/// the set itself ignores tags: `Add` inserts the element and `Remove` deletes it, whatever
/// adds it saw. Its `merge` (a union) cannot undo removes, so it is not a lattice whose updates
/// are inflations: a remove moves the state down. Only [`OpStore`] runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NaiveSet {
    /// The elements.
    pub elems: BTreeSet<u64>,
    /// Per element, the tags of the adds applied here (reporting only).
    pub seen: BTreeMap<u64, BTreeSet<Tag>>,
    /// Per replica, the last tag sequence number used.
    pub clock: BTreeMap<NodeId, u64>,
}

impl Crdt for NaiveSet {
    type Op = SetOp;
    type Effect = SetEffect;
    type Value = BTreeSet<u64>;

    fn prepare(&self, node: NodeId, op: &SetOp) -> SetEffect {
        match *op {
            SetOp::Add(elem) => SetEffect::Add {
                elem,
                tag: Tag {
                    node,
                    seq: self.clock.get(&node).copied().unwrap_or(0) + 1,
                },
            },
            SetOp::Remove(elem) => SetEffect::Remove {
                elem,
                tags: self.seen.get(&elem).cloned().unwrap_or_default(),
            },
        }
    }

    fn effect(&mut self, eff: &SetEffect) {
        match eff {
            SetEffect::Add { elem, tag } => {
                self.elems.insert(*elem);
                self.seen.entry(*elem).or_default().insert(*tag);
                let c = self.clock.entry(tag.node).or_default();
                *c = (*c).max(tag.seq);
            }
            SetEffect::Remove { elem, .. } => {
                self.elems.remove(elem);
            }
        }
    }

    fn merge(&mut self, other: &Self) {
        self.elems.extend(other.elems.iter().copied());
        for (e, tags) in &other.seen {
            self.seen
                .entry(*e)
                .or_default()
                .extend(tags.iter().copied());
        }
        for (node, &c) in &other.clock {
            let mine = self.clock.entry(*node).or_default();
            *mine = (*mine).max(c);
        }
    }

    fn value(&self) -> BTreeSet<u64> {
        self.elems.clone()
    }

    /// What it is meant to implement: the add-wins set.
    fn reference(effects: &[SetEffect]) -> BTreeSet<u64> {
        add_wins(effects)
    }

    fn sample_op(prng: &mut Prng, _serial: u64) -> SetOp {
        sample_set_op(prng)
    }
}

/// The op-based store (see the [module documentation](self)).
pub struct OpStore<C> {
    /// Time between two retransmissions of unacknowledged effects.
    pub period: Duration,
    /// Whether receivers drop effects they already applied (exactly-once delivery).
    pub dedup: bool,
    _types: PhantomData<fn() -> C>,
}

impl<C> Clone for OpStore<C> {
    fn clone(&self) -> Self {
        OpStore {
            period: self.period,
            dedup: self.dedup,
            _types: PhantomData,
        }
    }
}

impl<C> Debug for OpStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpStore<{}>(period={}, dedup={})",
            std::any::type_name::<C>(),
            self.period,
            self.dedup
        )
    }
}

impl<C: Crdt> OpStore<C> {
    /// At-least-once delivery, every copy applied (the naive store), retransmitting every
    /// `period`.
    pub fn new(period: Duration) -> Self {
        assert!(
            period > Duration::ZERO,
            "the retransmission period must be positive"
        );
        OpStore {
            period,
            dedup: false,
            _types: PhantomData,
        }
    }

    /// The same store with exactly-once delivery: each receiver remembers the effects it
    /// applied (by origin and sequence number) and ignores copies.
    pub fn with_dedup(mut self) -> Self {
        self.dedup = true;
        self
    }
}

/// The naive op-based counter (a canary): a PN-Counter whose increments are re-applied on
/// every duplicate delivery.
pub fn naive_opcounter() -> OpStore<PnCounter> {
    OpStore::new(super::store::GOSSIP_PERIOD)
}

/// The naive add/remove set (a canary): [`NaiveSet`] shipped as operations.
pub fn naive_set() -> OpStore<NaiveSet> {
    OpStore::new(super::store::GOSSIP_PERIOD)
}

/// A node of the op-based store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct OpState<C: Crdt> {
    /// The replica.
    pub data: C,
    /// Sequence number of this node's last update.
    pub next: u64,
    /// Effects not yet acknowledged, by (receiver, sequence number).
    pub outbox: BTreeMap<(NodeId, u64), C::Effect>,
    /// With dedup: the effects applied, by (origin, sequence number).
    pub applied: BTreeSet<(NodeId, u64)>,
}

impl<C: Crdt> Default for OpState<C> {
    fn default() -> Self {
        OpState {
            data: C::default(),
            next: 0,
            outbox: BTreeMap::new(),
            applied: BTreeSet::new(),
        }
    }
}

/// What op-based nodes send each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpMsg<E> {
    /// The sender's update number `seq` had this effect.
    Op {
        /// Its sequence number at the sender.
        seq: u64,
        /// The effect.
        effect: E,
    },
    /// The sender applied update `seq` of the receiver.
    Ack {
        /// The acknowledged sequence number.
        seq: u64,
    },
}

/// The op-based store's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpTimer {
    /// Time to retransmit unacknowledged effects.
    Retransmit,
}

impl<C: Crdt> OpStore<C> {
    fn report_state(ctx: &mut Ctx<'_, Self>, data: &C) {
        ctx.indicate(CrdtInd::State {
            value: data.value(),
            digest: data.digest(),
        });
    }
}

impl<C: Crdt> Protocol for OpStore<C> {
    type Msg = OpMsg<C::Effect>;
    type Timer = OpTimer;
    type Request = C::Op;
    type Indication = CrdtInd<C::Effect, C::Value, ()>;
    type State = OpState<C>;
    type Durable = OpState<C>;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> OpState<C> {
        let state = OpState::default();
        Self::report_state(ctx, &state.data);
        ctx.set_timer(OpTimer::Retransmit, self.period);
        state
    }

    fn on_message(
        &self,
        state: &mut OpState<C>,
        from: NodeId,
        msg: OpMsg<C::Effect>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        match msg {
            OpMsg::Op { seq, effect } => {
                if !self.dedup || state.applied.insert((from, seq)) {
                    let before = state.data.digest();
                    state.data.effect(&effect);
                    ctx.persist();
                    if state.data.digest() != before {
                        Self::report_state(ctx, &state.data);
                    }
                }
                ctx.send(from, OpMsg::Ack { seq });
            }
            OpMsg::Ack { seq } => {
                if state.outbox.remove(&(from, seq)).is_some() {
                    ctx.persist();
                }
            }
        }
    }

    fn on_timer(&self, state: &mut OpState<C>, _timer: OpTimer, ctx: &mut Ctx<'_, Self>) {
        for ((to, seq), effect) in &state.outbox {
            ctx.send(
                *to,
                OpMsg::Op {
                    seq: *seq,
                    effect: effect.clone(),
                },
            );
        }
        ctx.set_timer(OpTimer::Retransmit, self.period);
    }

    fn on_request(&self, state: &mut OpState<C>, op: C::Op, ctx: &mut Ctx<'_, Self>) {
        let before = state.data.digest();
        let effect = state.data.apply(ctx.id(), &op);
        state.next += 1;
        let seq = state.next;
        let peers: Vec<NodeId> = ctx.peers().collect();
        for to in &peers {
            state.outbox.insert((*to, seq), effect.clone());
        }
        ctx.persist();
        ctx.indicate(CrdtInd::Updated {
            effect: effect.clone(),
        });
        if state.data.digest() != before {
            Self::report_state(ctx, &state.data);
        }
        for to in peers {
            ctx.send(
                to,
                OpMsg::Op {
                    seq,
                    effect: effect.clone(),
                },
            );
        }
    }

    fn durable(&self, state: &OpState<C>) -> OpState<C> {
        state.clone()
    }

    fn recover(&self, durable: &OpState<C>, ctx: &mut Ctx<'_, Self>) -> OpState<C> {
        Self::report_state(ctx, &durable.data);
        ctx.set_timer(OpTimer::Retransmit, self.period);
        durable.clone()
    }
}

impl<C: Crdt> Replica for OpStore<C> {
    type Data = C;

    fn observe(ind: &Self::Indication) -> Option<Observed<'_, C>> {
        ind.observe()
    }
}
