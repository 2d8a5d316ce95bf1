use crate::SequentialSpec;
use serde::{Deserialize, Serialize};

/// A counter starting at zero (additions wrap around on overflow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counter;

/// An operation on a [`Counter`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CounterOp {
    /// Add to the counter (negative to subtract).
    Add(i64),
    /// Read the counter.
    Read,
}

/// The result of a [`CounterOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CounterRet {
    /// The addition is done.
    AddOk,
    /// The value read.
    ReadOk(i64),
}

impl SequentialSpec for Counter {
    type State = i64;
    type Op = CounterOp;
    type Ret = CounterRet;

    fn init(&self) -> i64 {
        0
    }

    fn step(&self, state: &i64, op: &CounterOp) -> (i64, CounterRet) {
        match op {
            CounterOp::Add(k) => (state.wrapping_add(*k), CounterRet::AddOk),
            CounterOp::Read => (*state, CounterRet::ReadOk(*state)),
        }
    }

    fn preserves_state(&self, op: &CounterOp, _ret: &CounterRet) -> bool {
        matches!(op, CounterOp::Read | CounterOp::Add(0))
    }
}
