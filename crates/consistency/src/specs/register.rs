use crate::spec::Produces;
use crate::SequentialSpec;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::hash::Hash;

/// A read/write register (Lamport's atomic register when checked for linearizability).
///
/// Initially empty (`None`) unless built with [`Register::with_initial`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Register<V> {
    initial: Option<V>,
}

/// An operation on a [`Register`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterOp<V> {
    /// Read the value.
    Read,
    /// Write a value.
    Write(V),
}

/// The result of a [`RegisterOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterRet<V> {
    /// The value read (`None`: never written).
    ReadOk(Option<V>),
    /// The write is done.
    WriteOk,
}

impl<V> Register<V> {
    /// A register that starts empty.
    pub fn new() -> Register<V> {
        Register { initial: None }
    }

    /// A register that starts holding `value`.
    pub fn with_initial(value: V) -> Register<V> {
        Register {
            initial: Some(value),
        }
    }
}

impl<V> Default for Register<V> {
    fn default() -> Self {
        Register::new()
    }
}

impl<V: Clone + Eq + Hash + Debug> SequentialSpec for Register<V> {
    type State = Option<V>;
    type Op = RegisterOp<V>;
    type Ret = RegisterRet<V>;

    fn init(&self) -> Option<V> {
        self.initial.clone()
    }

    fn step(&self, state: &Option<V>, op: &RegisterOp<V>) -> (Option<V>, RegisterRet<V>) {
        match op {
            RegisterOp::Read => (state.clone(), RegisterRet::ReadOk(state.clone())),
            RegisterOp::Write(v) => (Some(v.clone()), RegisterRet::WriteOk),
        }
    }

    fn accepts(
        &self,
        state: &Option<V>,
        op: &RegisterOp<V>,
        ret: &RegisterRet<V>,
    ) -> Option<Option<V>> {
        // The default, without building the read's result.
        match (op, ret) {
            (RegisterOp::Read, RegisterRet::ReadOk(v)) => (v == state).then(|| state.clone()),
            (RegisterOp::Write(v), RegisterRet::WriteOk) => Some(Some(v.clone())),
            _ => None,
        }
    }

    fn preserves_state(&self, op: &RegisterOp<V>, _ret: &RegisterRet<V>) -> bool {
        matches!(op, RegisterOp::Read)
    }

    /// Reads and failed compare-and-swaps leave the value, writes and successful ones replace it.
    fn lazy_pending(&self) -> bool {
        true
    }

    /// A write produces its value.
    fn produces(&self, op: &RegisterOp<V>) -> Produces {
        match op {
            RegisterOp::Write(v) => Produces::Token(synod_core::stable_hash(&Some(v))),
            RegisterOp::Read => Produces::Nothing,
        }
    }

    /// A read of `v` not accepted now needs a write of `v`: only writes change the state.
    fn needs(&self, op: &RegisterOp<V>, ret: &RegisterRet<V>) -> Option<u64> {
        match (op, ret) {
            (RegisterOp::Read, RegisterRet::ReadOk(v)) => {
                Some(synod_core::stable_hash(&v.as_ref()))
            }
            _ => None,
        }
    }
}
