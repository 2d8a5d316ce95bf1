use crate::spec::Produces;
use crate::SequentialSpec;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::hash::Hash;

/// A register with compare-and-swap.
///
/// Initially empty (`None`) unless built with [`CasRegister::with_initial`]; a `Cas` on an
/// empty register fails.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CasRegister<V> {
    initial: Option<V>,
}

/// An operation on a [`CasRegister`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CasOp<V> {
    /// Read the value.
    Read,
    /// Write a value.
    Write(V),
    /// If the value is `from`, replace it with `to`.
    Cas {
        /// The expected value.
        from: V,
        /// The new value.
        to: V,
    },
}

/// The result of a [`CasOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CasRet<V> {
    /// The value read (`None`: never written).
    ReadOk(Option<V>),
    /// The write is done.
    WriteOk,
    /// The value was `from`; it is now `to`.
    CasOk,
    /// The value was not `from`; nothing changed.
    CasFail,
}

impl<V> CasRegister<V> {
    /// A register that starts empty.
    pub fn new() -> CasRegister<V> {
        CasRegister { initial: None }
    }

    /// A register that starts holding `value`.
    pub fn with_initial(value: V) -> CasRegister<V> {
        CasRegister {
            initial: Some(value),
        }
    }
}

impl<V> Default for CasRegister<V> {
    fn default() -> Self {
        CasRegister::new()
    }
}

impl<V: Clone + Eq + Hash + Debug> SequentialSpec for CasRegister<V> {
    type State = Option<V>;
    type Op = CasOp<V>;
    type Ret = CasRet<V>;

    fn init(&self) -> Option<V> {
        self.initial.clone()
    }

    fn step(&self, state: &Option<V>, op: &CasOp<V>) -> (Option<V>, CasRet<V>) {
        match op {
            CasOp::Read => (state.clone(), CasRet::ReadOk(state.clone())),
            CasOp::Write(v) => (Some(v.clone()), CasRet::WriteOk),
            CasOp::Cas { from, to } => {
                if state.as_ref() == Some(from) {
                    (Some(to.clone()), CasRet::CasOk)
                } else {
                    (state.clone(), CasRet::CasFail)
                }
            }
        }
    }

    fn preserves_state(&self, op: &CasOp<V>, ret: &CasRet<V>) -> bool {
        matches!(op, CasOp::Read) || matches!(ret, CasRet::CasFail)
    }

    /// Reads and failed compare-and-swaps leave the value, writes and successful ones replace it.
    fn lazy_pending(&self) -> bool {
        true
    }

    /// A write produces its value, a compare-and-swap its new value.
    fn produces(&self, op: &CasOp<V>) -> Produces {
        match op {
            CasOp::Write(v) | CasOp::Cas { to: v, .. } => {
                Produces::Token(synod_core::stable_hash(&Some(v)))
            }
            CasOp::Read => Produces::Nothing,
        }
    }

    /// A read of `v`, or a successful compare-and-swap from `v`, not accepted now needs a write
    /// or compare-and-swap storing `v`: nothing else changes the state. (A failed
    /// compare-and-swap needs any other value: no single token, no pruning.)
    fn needs(&self, op: &CasOp<V>, ret: &CasRet<V>) -> Option<u64> {
        match (op, ret) {
            (CasOp::Read, CasRet::ReadOk(v)) => Some(synod_core::stable_hash(&v.as_ref())),
            (CasOp::Cas { from, .. }, CasRet::CasOk) => Some(synod_core::stable_hash(&Some(from))),
            _ => None,
        }
    }
}
