//! Reading transactions out of a recorded history.

use super::{Ids, Sink, TxnAnomaly, TxnAnomalyKind, TxnWorkload};
use crate::format::{Completion, Recorded, Value};

/// What became of a transaction, as far as the checker is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Committed, reads known.
    Ok,
    /// Aborted: took no effect.
    Failed,
    /// May have committed; reads unknown (also an `:ok` whose completion was malformed).
    Unknown,
}

/// One micro-operation.
#[derive(Clone, Debug)]
pub(crate) struct Mop<'h> {
    /// A write (register) or an append (list); otherwise a read.
    pub(crate) write: bool,
    /// The key's id.
    pub(crate) key: usize,
    /// The written value's id (writes only).
    pub(crate) arg: usize,
    /// What a read of an `:ok` transaction returned, borrowed from the history (a register
    /// read holds one value, or none for `nil`; a list read its elements). `None` when
    /// unknown.
    pub(crate) read: Option<&'h [Value]>,
}

/// One transaction.
#[derive(Clone, Debug)]
pub(crate) struct Txn<'h> {
    /// Its index in the recorded history.
    pub(crate) op: usize,
    /// Its outcome.
    pub(crate) status: Status,
    /// Its micro-operations, in order.
    pub(crate) mops: Vec<Mop<'h>>,
}

/// The function name of a micro-operation (`"r"` or `:r`).
fn fname(v: &Value) -> Option<&str> {
    match v {
        Value::Str(s) | Value::Keyword(s) => Some(s),
        _ => None,
    }
}

/// The shape of a micro-operation list, for messages.
fn expected(workload: TxnWorkload) -> &'static str {
    match workload {
        TxnWorkload::RwRegister => "a list of [\"r\", key, nil] and [\"w\", key, value]",
        TxnWorkload::ListAppend => "a list of [\"r\", key, nil] and [\"append\", key, value]",
    }
}

/// Parses the invocation's micro-operations (reads unknown).
fn invocation<'h>(
    value: &Value,
    workload: TxnWorkload,
    keys: &mut Ids,
    vals: &mut Ids,
) -> Option<Vec<Mop<'h>>> {
    let write_name = match workload {
        TxnWorkload::RwRegister => "w",
        TxnWorkload::ListAppend => "append",
    };
    value
        .as_list()?
        .iter()
        .map(|m| {
            let [f, k, v] = m.as_list()? else {
                return None;
            };
            let f = fname(f)?;
            let write = if f == write_name {
                true
            } else if f == "r" {
                false
            } else {
                return None;
            };
            if write && v.is_nil() {
                return None;
            }
            Some(Mop {
                write,
                key: keys.intern(k),
                arg: if write { vals.intern(v) } else { usize::MAX },
                read: None,
            })
        })
        .collect()
}

/// Fills in the reads from an `:ok` completion; `None` if it does not match the invocation.
fn fill_reads<'h>(
    mops: &mut [Mop<'h>],
    result: &'h Value,
    workload: TxnWorkload,
    keys: &Ids,
    vals: &Ids,
) -> Option<()> {
    let result = result.as_list()?;
    if result.len() != mops.len() {
        return None;
    }
    let mut reads = Vec::with_capacity(mops.len());
    for (m, r) in mops.iter().zip(result) {
        let [f, k, v] = r.as_list()? else {
            return None;
        };
        let f = fname(f)?;
        if (f == "r") == m.write || keys.get(k) != Some(m.key) {
            return None;
        }
        if m.write {
            if vals.get(v) != Some(m.arg) {
                return None;
            }
            reads.push(None);
            continue;
        }
        let read: &'h [Value] = match (workload, v) {
            (_, Value::Nil) => &[],
            (TxnWorkload::RwRegister, Value::List(_) | Value::Set(_) | Value::Map(_)) => {
                return None
            }
            (TxnWorkload::RwRegister, v) => std::slice::from_ref(v),
            (TxnWorkload::ListAppend, v) => v.as_list()?,
        };
        reads.push(Some(read));
    }
    for (m, r) in mops.iter_mut().zip(reads) {
        m.read = r;
    }
    Some(())
}

/// The transactions of `history` (operations with `f` `"txn"` whose invocation is well
/// formed), reporting malformed ones.
pub(crate) fn parse<'h>(
    history: &'h Recorded,
    workload: TxnWorkload,
    keys: &mut Ids,
    vals: &mut Ids,
    sink: &mut Sink,
) -> Vec<Txn<'h>> {
    let mut txns = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        if op.f != "txn" {
            continue;
        }
        let malformed = |sink: &mut Sink, what: &str, value: &Value| {
            sink.push(TxnAnomalyKind::Malformed, || TxnAnomaly {
                kind: TxnAnomalyKind::Malformed,
                ops: vec![i],
                cycle: Vec::new(),
                key: None,
                value: Some(value.clone()),
                explanation: format!(
                    "op {i}'s {what} {value} is not {} matching the invocation",
                    expected(workload)
                ),
            });
        };
        let Some(mut mops) = invocation(&op.value, workload, keys, vals) else {
            malformed(sink, "invocation", &op.value);
            continue;
        };
        let status = match &op.completion {
            Completion::Ok(result) => match fill_reads(&mut mops, result, workload, keys, vals) {
                Some(()) => Status::Ok,
                None => {
                    malformed(sink, "completion", result);
                    Status::Unknown
                }
            },
            Completion::Fail(_) => Status::Failed,
            Completion::Unknown(_) => Status::Unknown,
        };
        txns.push(Txn {
            op: i,
            status,
            mops,
        });
    }
    txns
}
