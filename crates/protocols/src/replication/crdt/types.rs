//! The replicated data types: join-semilattices with inflationary updates.
//!
//! A state-based CRDT (Shapiro, Preguiça, Baquero and Zawirski 2011, §2.2) is a state `s` in a
//! join-semilattice, an update that only moves `s` up (an *inflation*: `s ≤ update(s)`), and a
//! `merge` that computes the least upper bound: commutative, associative and idempotent. Two
//! replicas that have seen the same updates, in any order, any number of times, merged through
//! any path, hold the same state.
//!
//! Every update is split the op-based way (§2.4) into a `prepare` at the replica where it is
//! made (which reads the local state: the tags a remove observed, the next Lamport counter) and
//! an `effect` that any replica can apply. A local update is `effect(prepare(op))`. The effect is
//! also what a replica reports for each update it makes ([`super::CrdtInd::Updated`]), and the
//! data type's *specification* ([`Crdt::reference`]) says what value the set of all effects must
//! give, computed directly from the definitions (a sum, the add-wins rule, the highest stamp),
//! independently of `merge`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use synod_core::{stable_hash, Message, NodeId, Prng};

/// A state-based replicated data type (a CvRDT): a join-semilattice whose updates are
/// inflations.
///
/// Laws (checked on random states by [`super::properties::check_laws`]):
/// `merge` is commutative, associative and idempotent up to equality of states, and
/// `s ≤ s.merge(t)`; a local update (`apply`) is an inflation, `s ≤ apply(s)`.
pub trait Crdt:
    Clone + Debug + Default + Eq + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// What a client asks for (e.g. `Add(3)`).
    type Op: Message;
    /// What an update did, as prepared where it was made (a downstream operation, e.g. `Add(3)`
    /// with its unique tag).
    type Effect: Message;
    /// What a client reads (ordered, so sets of values can be kept).
    type Value: Message + Ord;

    /// Prepares `op` at replica `node` (reading, not changing, the local state).
    fn prepare(&self, node: NodeId, op: &Self::Op) -> Self::Effect;

    /// Applies an effect prepared at some replica.
    fn effect(&mut self, eff: &Self::Effect);

    /// The least upper bound of `self` and `other`, in place.
    fn merge(&mut self, other: &Self);

    /// The value a client reads.
    fn value(&self) -> Self::Value;

    /// The specification: the value a replica that has seen exactly the updates `effects` (in
    /// any order) must hold, computed from the data type's definition without `merge`.
    fn reference(effects: &[Self::Effect]) -> Self::Value;

    /// A random operation for workloads and tests; `serial` is unique per operation of a run
    /// (registers write it, so written values are unique).
    fn sample_op(prng: &mut Prng, serial: u64) -> Self::Op;

    /// A local update at `node`: prepares `op` and applies its effect; returns the effect.
    fn apply(&mut self, node: NodeId, op: &Self::Op) -> Self::Effect {
        let eff = self.prepare(node, op);
        self.effect(&eff);
        eff
    }

    /// The lattice order: `self ≤ other` iff merging `self` into `other` changes nothing.
    fn leq(&self, other: &Self) -> bool {
        let mut joined = other.clone();
        joined.merge(self);
        joined == *other
    }

    /// A digest of the state (equal states, equal digests), for indications.
    fn digest(&self) -> u64 {
        stable_hash(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Counters

/// A grow-only counter: one slot per replica, each incremented only by its replica; merge takes
/// the maximum per slot; the value is the sum (Shapiro et al. 2011, Specification 6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GCounter {
    /// Per replica: the total of its increments.
    pub slots: BTreeMap<NodeId, u64>,
}

/// A G-Counter increment, as prepared at `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Increment {
    /// Where it was made (the slot it adds to).
    pub node: NodeId,
    /// By how much.
    pub by: u64,
}

impl Crdt for GCounter {
    /// Add this much.
    type Op = u64;
    type Effect = Increment;
    type Value = u64;

    fn prepare(&self, node: NodeId, op: &u64) -> Increment {
        Increment { node, by: *op }
    }

    fn effect(&mut self, eff: &Increment) {
        let slot = self.slots.entry(eff.node).or_default();
        *slot = slot.saturating_add(eff.by);
    }

    fn merge(&mut self, other: &Self) {
        for (node, &c) in &other.slots {
            let slot = self.slots.entry(*node).or_default();
            *slot = (*slot).max(c);
        }
    }

    fn value(&self) -> u64 {
        self.slots.values().fold(0u64, |a, &b| a.saturating_add(b))
    }

    fn reference(effects: &[Increment]) -> u64 {
        effects.iter().map(|e| e.by).sum()
    }

    fn sample_op(prng: &mut Prng, _serial: u64) -> u64 {
        prng.range_inclusive(1, 5)
    }
}

/// A counter operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CounterOp {
    /// Add this much.
    Inc(u64),
    /// Subtract this much.
    Dec(u64),
}

/// A PN-Counter update, as prepared at `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PnEffect {
    /// Where it was made.
    pub node: NodeId,
    /// What it did.
    pub op: CounterOp,
}

/// A counter that goes up and down: two G-Counters, one of increments and one of decrements;
/// the value is their difference (Shapiro et al. 2011, Specification 7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PnCounter {
    /// The increments.
    pub p: GCounter,
    /// The decrements.
    pub n: GCounter,
}

impl Crdt for PnCounter {
    type Op = CounterOp;
    type Effect = PnEffect;
    type Value = i64;

    fn prepare(&self, node: NodeId, op: &CounterOp) -> PnEffect {
        PnEffect { node, op: *op }
    }

    fn effect(&mut self, eff: &PnEffect) {
        match eff.op {
            CounterOp::Inc(by) => self.p.effect(&Increment { node: eff.node, by }),
            CounterOp::Dec(by) => self.n.effect(&Increment { node: eff.node, by }),
        }
    }

    fn merge(&mut self, other: &Self) {
        self.p.merge(&other.p);
        self.n.merge(&other.n);
    }

    fn value(&self) -> i64 {
        self.p.value() as i64 - self.n.value() as i64
    }

    fn reference(effects: &[PnEffect]) -> i64 {
        effects
            .iter()
            .map(|e| match e.op {
                CounterOp::Inc(by) => by as i64,
                CounterOp::Dec(by) => -(by as i64),
            })
            .sum()
    }

    fn sample_op(prng: &mut Prng, _serial: u64) -> CounterOp {
        let by = prng.range_inclusive(1, 5);
        if prng.below(3) == 0 {
            CounterOp::Dec(by)
        } else {
            CounterOp::Inc(by)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sets

/// The elements sets are sampled from: a small universe, so adds and removes collide.
pub const SET_UNIVERSE: u64 = 8;

/// A unique tag for one add: the replica that made it and its sequence number there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// The replica.
    pub node: NodeId,
    /// Its sequence number at that replica (from 1).
    pub seq: u64,
}

/// A set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SetOp {
    /// Add the element.
    Add(u64),
    /// Remove the element.
    Remove(u64),
}

/// A set update, as prepared at its replica.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SetEffect {
    /// `elem` was added under the fresh tag `tag`.
    Add {
        /// The element.
        elem: u64,
        /// Its unique tag.
        tag: Tag,
    },
    /// `elem` was removed: the adds of it that the replica had observed (their tags).
    Remove {
        /// The element.
        elem: u64,
        /// The observed adds it cancels.
        tags: BTreeSet<Tag>,
    },
}

/// The add-wins rule: an element is in the set iff some add of it was not observed by any
/// remove. The specification of [`OrSet`] (and what [`super::naive::NaiveSet`] fails to keep).
pub fn add_wins(effects: &[SetEffect]) -> BTreeSet<u64> {
    let removed: BTreeSet<Tag> = effects
        .iter()
        .flat_map(|e| match e {
            SetEffect::Remove { tags, .. } => tags.iter().copied().collect::<Vec<_>>(),
            SetEffect::Add { .. } => Vec::new(),
        })
        .collect();
    effects
        .iter()
        .filter_map(|e| match e {
            SetEffect::Add { elem, tag } if !removed.contains(tag) => Some(*elem),
            _ => None,
        })
        .collect()
}

/// A random set operation over [`SET_UNIVERSE`]: adds three times in five.
pub fn sample_set_op(prng: &mut Prng) -> SetOp {
    let elem = prng.below(SET_UNIVERSE);
    if prng.below(5) < 3 {
        SetOp::Add(elem)
    } else {
        SetOp::Remove(elem)
    }
}

/// The observed-remove set, add-wins (Shapiro et al. 2011, Specification 15): every add carries
/// a unique tag; a remove cancels the tags of the element it has observed; an element is in the
/// set while one of its tags is not cancelled, so an add concurrent with a remove wins. State:
/// the tagged adds, the cancelled tags (tombstones), and per replica the last sequence number
/// used (for fresh tags; merged by maximum).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrSet {
    /// Per element, the tags of its adds.
    pub adds: BTreeMap<u64, BTreeSet<Tag>>,
    /// The cancelled tags.
    pub removed: BTreeSet<Tag>,
    /// Per replica, the last sequence number it used.
    pub clock: BTreeMap<NodeId, u64>,
}

impl OrSet {
    /// The live tags of `elem`: added and not cancelled.
    pub fn live_tags(&self, elem: u64) -> BTreeSet<Tag> {
        self.adds.get(&elem).map_or_else(BTreeSet::new, |tags| {
            tags.difference(&self.removed).copied().collect()
        })
    }
}

impl Crdt for OrSet {
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
                tags: self.live_tags(elem),
            },
        }
    }

    fn effect(&mut self, eff: &SetEffect) {
        match eff {
            SetEffect::Add { elem, tag } => {
                self.adds.entry(*elem).or_default().insert(*tag);
                let c = self.clock.entry(tag.node).or_default();
                *c = (*c).max(tag.seq);
            }
            SetEffect::Remove { tags, .. } => self.removed.extend(tags.iter().copied()),
        }
    }

    fn merge(&mut self, other: &Self) {
        for (elem, tags) in &other.adds {
            self.adds
                .entry(*elem)
                .or_default()
                .extend(tags.iter().copied());
        }
        self.removed.extend(other.removed.iter().copied());
        for (node, &c) in &other.clock {
            let mine = self.clock.entry(*node).or_default();
            *mine = (*mine).max(c);
        }
    }

    fn value(&self) -> BTreeSet<u64> {
        self.adds
            .iter()
            .filter(|(_, tags)| tags.iter().any(|t| !self.removed.contains(t)))
            .map(|(e, _)| *e)
            .collect()
    }

    fn reference(effects: &[SetEffect]) -> BTreeSet<u64> {
        add_wins(effects)
    }

    fn sample_op(prng: &mut Prng, _serial: u64) -> SetOp {
        sample_set_op(prng)
    }
}

// ---------------------------------------------------------------------------------------------
// Registers

/// A Lamport timestamp with the writer's id as tie-breaker: totally ordered, no wall clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// The logical counter (compared first).
    pub counter: u64,
    /// The writer (breaks ties).
    pub node: NodeId,
}

/// A last-writer-wins write, as prepared at its replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LwwWrite {
    /// Its timestamp: one above the highest the writer had seen.
    pub stamp: Stamp,
    /// The value written.
    pub value: u64,
}

/// The last-writer-wins register (Shapiro et al. 2011, Specification 8), with Lamport
/// timestamps `(counter, node)` instead of wall-clock time: a write takes a counter one above the
/// highest it has seen, merge keeps the write with the highest stamp. Concurrent writes are
/// ordered arbitrarily (by node id), so one of them is silently lost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LwwRegister {
    /// The winning write so far (`None`: never written).
    pub current: Option<LwwWrite>,
}

impl Crdt for LwwRegister {
    /// Write this value.
    type Op = u64;
    type Effect = LwwWrite;
    type Value = Option<u64>;

    fn prepare(&self, node: NodeId, op: &u64) -> LwwWrite {
        let seen = self.current.map_or(0, |w| w.stamp.counter);
        LwwWrite {
            stamp: Stamp {
                counter: seen + 1,
                node,
            },
            value: *op,
        }
    }

    fn effect(&mut self, eff: &LwwWrite) {
        // Stamps are unique in a run; ordering by value next keeps merge a join on any states.
        if self.current.is_none_or(|w| w < *eff) {
            self.current = Some(*eff);
        }
    }

    fn merge(&mut self, other: &Self) {
        if let Some(w) = &other.current {
            self.effect(w);
        }
    }

    fn value(&self) -> Option<u64> {
        self.current.map(|w| w.value)
    }

    fn reference(effects: &[LwwWrite]) -> Option<u64> {
        effects
            .iter()
            .max_by_key(|w| (w.stamp, w.value))
            .map(|w| w.value)
    }

    fn sample_op(_prng: &mut Prng, serial: u64) -> u64 {
        serial + 1
    }
}

/// A version vector: per replica, how many of its writes are covered.
pub type VersionVector = BTreeMap<NodeId, u64>;

/// `a ≤ b` pointwise (missing entries are 0).
pub fn vv_leq(a: &VersionVector, b: &VersionVector) -> bool {
    a.iter()
        .all(|(k, &x)| x == 0 || b.get(k).is_some_and(|&y| x <= y))
}

/// A multi-value write, as prepared at its replica.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MvWrite {
    /// Its version vector: the join of every version the writer saw, its own entry plus one.
    pub vv: VersionVector,
    /// The value written.
    pub value: u64,
}

/// The multi-value register (Shapiro et al. 2011, Specification 10; Dynamo's siblings): the
/// state is the set of writes not dominated by another one's version vector, so concurrent
/// writes are all kept and a read returns every one of their values; a later write (whose
/// vector dominates theirs) replaces them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MvRegister {
    /// The maximal writes (an antichain under version-vector order).
    pub writes: BTreeSet<MvWrite>,
}

/// `x` dominates `w`: its vector is at least `w`'s, and greater, or equal with a greater value
/// (two writes never share a vector when every replica keeps what it wrote; the value only
/// keeps the order strict for arbitrary states).
pub fn mv_dominates(x: &MvWrite, w: &MvWrite) -> bool {
    vv_leq(&w.vv, &x.vv) && (x.vv != w.vv || x.value > w.value)
}

impl MvRegister {
    fn insert(&mut self, w: &MvWrite) {
        if self.writes.contains(w) || self.writes.iter().any(|x| mv_dominates(x, w)) {
            return;
        }
        self.writes.retain(|x| !mv_dominates(w, x));
        self.writes.insert(w.clone());
    }
}

impl Crdt for MvRegister {
    /// Write this value.
    type Op = u64;
    type Effect = MvWrite;
    type Value = BTreeSet<u64>;

    fn prepare(&self, node: NodeId, op: &u64) -> MvWrite {
        let mut vv = VersionVector::new();
        for w in &self.writes {
            for (k, &c) in &w.vv {
                let e = vv.entry(*k).or_default();
                *e = (*e).max(c);
            }
        }
        *vv.entry(node).or_default() += 1;
        MvWrite { vv, value: *op }
    }

    fn effect(&mut self, eff: &MvWrite) {
        self.insert(eff);
    }

    fn merge(&mut self, other: &Self) {
        for w in &other.writes {
            self.insert(w);
        }
    }

    fn value(&self) -> BTreeSet<u64> {
        self.writes.iter().map(|w| w.value).collect()
    }

    fn reference(effects: &[MvWrite]) -> BTreeSet<u64> {
        // The values of the writes no other write dominates (a brute-force antichain).
        effects
            .iter()
            .filter(|w| !effects.iter().any(|x| mv_dominates(x, w)))
            .map(|w| w.value)
            .collect()
    }

    fn sample_op(_prng: &mut Prng, serial: u64) -> u64 {
        serial + 1
    }
}
