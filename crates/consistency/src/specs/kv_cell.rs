use super::AppendLog;
use crate::format::Value;
use crate::spec::Produces;
use crate::SequentialSpec;
use serde::{Deserialize, Serialize};

/// One key of a key-value store as Jepsen and Porcupine histories use it: read (`get`), write
/// (`put`), compare-and-swap and append, over recorded [`Value`]s. Initially absent (`nil`);
/// an absent key also reads as the empty string `""` (Porcupine's key-value histories read
/// missing keys that way).
///
/// Append concatenates strings (`"ab"` then append `"c"` is `"abc"`); on a list it adds an
/// element; on an absent key it starts a string, or a one-element list if the value is not a
/// string; on anything else it makes a list of the old value and the new one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvCell;

/// An operation on a [`KvCell`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CellOp {
    /// Read the value.
    Read,
    /// Replace the value.
    Write(Value),
    /// Replace `from` with `to`, if the value is `from`.
    Cas {
        /// The expected value.
        from: Value,
        /// The new value.
        to: Value,
    },
    /// Append to the value.
    Append(Value),
}

/// The result of a [`CellOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CellRet {
    /// The value read.
    ReadOk(Value),
    /// Written.
    WriteOk,
    /// The compare-and-swap took effect.
    CasOk,
    /// The compare-and-swap found another value.
    CasFail,
    /// Appended.
    AppendOk,
}

fn append(state: &Value, v: &Value) -> Value {
    match (state, v) {
        (Value::Nil, Value::Str(s)) => Value::Str(s.clone()),
        (Value::Str(a), Value::Str(s)) => Value::Str(format!("{a}{s}")),
        (Value::Nil, v) => Value::List(vec![v.clone()]),
        (Value::List(xs), v) => {
            let mut xs = xs.clone();
            xs.push(v.clone());
            Value::List(xs)
        }
        (old, v) => Value::List(vec![old.clone(), v.clone()]),
    }
}

fn reads_as(state: &Value, read: &Value) -> bool {
    state == read || (state.is_nil() && matches!(read, Value::Str(s) if s.is_empty()))
}

/// The state of a [`KvCell`]: the last value written and what was appended since, kept as a
/// persistent list so that an append costs one node and a state in the memo table shares its
/// history with its predecessors (long appended strings would otherwise be copied into every
/// configuration the search stores).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CellState {
    base: Value,
    appended: AppendLog<Value>,
}

impl Default for CellState {
    fn default() -> Self {
        CellState::written(&Value::Nil)
    }
}

impl CellState {
    /// The value a read returns.
    pub fn value(&self) -> Value {
        let mut chunks: Vec<&Value> = self.appended.iter_rev().collect();
        chunks.reverse();
        chunks
            .into_iter()
            .fold(self.base.clone(), |acc, v| append(&acc, v))
    }

    fn written(v: &Value) -> CellState {
        CellState {
            base: v.clone(),
            appended: AppendLog::new(),
        }
    }
}

impl SequentialSpec for KvCell {
    type State = Value;
    type Op = CellOp;
    type Ret = CellRet;

    fn init(&self) -> Value {
        Value::Nil
    }

    fn step(&self, state: &Value, op: &CellOp) -> (Value, CellRet) {
        match op {
            CellOp::Read => (state.clone(), CellRet::ReadOk(state.clone())),
            CellOp::Write(v) => (v.clone(), CellRet::WriteOk),
            CellOp::Cas { from, to } if state == from => (to.clone(), CellRet::CasOk),
            CellOp::Cas { .. } => (state.clone(), CellRet::CasFail),
            CellOp::Append(v) => (append(state, v), CellRet::AppendOk),
        }
    }

    fn accepts(&self, state: &Value, op: &CellOp, ret: &CellRet) -> Option<Value> {
        match (op, ret) {
            (CellOp::Read, CellRet::ReadOk(v)) => reads_as(state, v).then(|| state.clone()),
            (CellOp::Write(v), CellRet::WriteOk) => Some(v.clone()),
            (CellOp::Cas { from, to }, CellRet::CasOk) => (state == from).then(|| to.clone()),
            (CellOp::Cas { from, .. }, CellRet::CasFail) => (state != from).then(|| state.clone()),
            (CellOp::Append(v), CellRet::AppendOk) => Some(append(state, v)),
            _ => None,
        }
    }

    fn preserves_state(&self, op: &CellOp, ret: &CellRet) -> bool {
        matches!(op, CellOp::Read) || matches!(ret, CellRet::CasFail)
    }

    /// Writes and compare-and-swaps produce their value; an append produces a value that
    /// depends on the state, so it could produce anything.
    fn produces(&self, op: &CellOp) -> Produces {
        match op {
            CellOp::Write(v) | CellOp::Cas { to: v, .. } => {
                Produces::Token(synod_core::stable_hash(&token(v)))
            }
            CellOp::Append(_) => Produces::Anything,
            CellOp::Read => Produces::Nothing,
        }
    }

    /// A read of `v` or a successful compare-and-swap from `v` needs a producer of `v`.
    fn needs(&self, op: &CellOp, ret: &CellRet) -> Option<u64> {
        match (op, ret) {
            (CellOp::Read, CellRet::ReadOk(v)) => Some(synod_core::stable_hash(&token(v))),
            (CellOp::Cas { from, .. }, CellRet::CasOk) => {
                Some(synod_core::stable_hash(&token(from)))
            }
            _ => None,
        }
    }
}

/// The token of a value: `nil` and `""` read alike, so they share one.
fn token(v: &Value) -> Value {
    match v {
        Value::Str(s) if s.is_empty() => Value::Nil,
        other => other.clone(),
    }
}
