use crate::SequentialSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

/// A set, initially empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Set<V> {
    _values: PhantomData<fn() -> V>,
}

/// An operation on a [`Set`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SetOp<V> {
    /// Add an element, with a result that says nothing more (Jepsen's set workload `add`).
    Add(V),
    /// Add an element, with a result that says whether it was new.
    Insert(V),
    /// Remove an element.
    Remove(V),
    /// Is the element present?
    Contains(V),
    /// Read the whole set.
    Read,
}

/// The result of a [`SetOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SetRet<V: Ord> {
    /// Added.
    AddOk,
    /// Inserted; `true` if the element was not already present.
    InsertOk(bool),
    /// Removed; `true` if the element was present.
    RemoveOk(bool),
    /// Whether the element is present.
    ContainsOk(bool),
    /// The elements.
    ReadOk(BTreeSet<V>),
}

impl<V> Set<V> {
    /// The specification.
    pub fn new() -> Set<V> {
        Set {
            _values: PhantomData,
        }
    }
}

impl<V> Default for Set<V> {
    fn default() -> Self {
        Set::new()
    }
}

impl<V: Clone + Ord + Hash + Debug> SequentialSpec for Set<V> {
    type State = BTreeSet<V>;
    type Op = SetOp<V>;
    type Ret = SetRet<V>;

    fn init(&self) -> BTreeSet<V> {
        BTreeSet::new()
    }

    fn step(&self, state: &BTreeSet<V>, op: &SetOp<V>) -> (BTreeSet<V>, SetRet<V>) {
        match op {
            SetOp::Add(v) => {
                let mut next = state.clone();
                next.insert(v.clone());
                (next, SetRet::AddOk)
            }
            SetOp::Insert(v) => {
                let mut next = state.clone();
                let fresh = next.insert(v.clone());
                (next, SetRet::InsertOk(fresh))
            }
            SetOp::Remove(v) => {
                let mut next = state.clone();
                let present = next.remove(v);
                (next, SetRet::RemoveOk(present))
            }
            SetOp::Contains(v) => (state.clone(), SetRet::ContainsOk(state.contains(v))),
            SetOp::Read => (state.clone(), SetRet::ReadOk(state.clone())),
        }
    }

    fn preserves_state(&self, op: &SetOp<V>, ret: &SetRet<V>) -> bool {
        matches!(op, SetOp::Contains(_) | SetOp::Read)
            || matches!(ret, SetRet::InsertOk(false) | SetRet::RemoveOk(false))
    }
}
