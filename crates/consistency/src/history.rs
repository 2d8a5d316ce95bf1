//! Histories: what the clients of an object asked and what they were told, with abstract times.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One client operation of a history.
///
/// `call` and `ret` are abstract logical timestamps: any totally ordered numbers (event
/// positions for the model checker, virtual nanoseconds for the simulator). Operation `a`
/// precedes operation `b` in real time when `a` returned strictly before `b` was called
/// (`a.ret < b.call`); equal timestamps mean "concurrent".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation<Op, Ret> {
    /// The client (process) that issued the operation.
    pub client: u64,
    /// What was asked.
    pub op: Op,
    /// When it was called.
    pub call: u64,
    /// When it returned, and what it returned; `None` if it never completed: it may or may not
    /// have taken effect, at any time after its call.
    pub ret: Option<(u64, Ret)>,
}

impl<Op, Ret> Operation<Op, Ret> {
    /// An operation called at `call` that returned `ret` at `ret_time`.
    pub fn complete(client: u64, op: Op, call: u64, ret_time: u64, ret: Ret) -> Self {
        Operation {
            client,
            op,
            call,
            ret: Some((ret_time, ret)),
        }
    }

    /// An operation called at `call` that never returned.
    pub fn pending(client: u64, op: Op, call: u64) -> Self {
        Operation {
            client,
            op,
            call,
            ret: None,
        }
    }

    /// True if the operation returned.
    pub fn is_complete(&self) -> bool {
        self.ret.is_some()
    }

    /// The return time, if the operation returned.
    pub fn ret_time(&self) -> Option<u64> {
        self.ret.as_ref().map(|(t, _)| *t)
    }

    /// True if `self` returned strictly before `other` was called (real-time order).
    pub fn precedes<R>(&self, other: &Operation<Op, R>) -> bool {
        matches!(self.ret, Some((t, _)) if t < other.call)
    }
}

/// A history: the operations clients issued, in any order (the checkers sort by time).
///
/// Operations are referred to by their index in [`ops`](History::ops); every checker reports
/// witness orders and culprits as such indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct History<Op, Ret> {
    /// The operations.
    pub ops: Vec<Operation<Op, Ret>>,
}

impl<Op, Ret> Default for History<Op, Ret> {
    fn default() -> Self {
        History { ops: Vec::new() }
    }
}

/// One step of a client history in event form: positions in the sequence are the timestamps.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event<Op, Ret> {
    /// A client called an operation.
    Call {
        /// The caller.
        client: u64,
        /// What it asked.
        op: Op,
    },
    /// A client's outstanding operation returned.
    Return {
        /// The caller.
        client: u64,
        /// What it was told.
        ret: Ret,
    },
}

/// A malformed history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// An operation returned before it was called.
    ReturnBeforeCall {
        /// The operation's index.
        op: usize,
        /// Its call time.
        call: u64,
        /// Its return time.
        ret: u64,
    },
    /// A `Return` event for a client with no outstanding call.
    UnmatchedReturn {
        /// The event's position in the sequence.
        position: usize,
        /// The client.
        client: u64,
    },
}

impl std::fmt::Display for HistoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HistoryError::ReturnBeforeCall { op, call, ret } => {
                write!(
                    f,
                    "operation {op} returns at {ret} before its call at {call}"
                )
            }
            HistoryError::UnmatchedReturn { position, client } => {
                write!(
                    f,
                    "event {position}: client {client} returns with no outstanding call"
                )
            }
        }
    }
}

impl std::error::Error for HistoryError {}

impl<Op, Ret> History<Op, Ret> {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Builds a history from an event sequence; the position of each event is its timestamp.
    ///
    /// A `Return` completes its client's outstanding call. A `Call` from a client that still
    /// has a call outstanding abandons the earlier one: it stays in the history as an operation
    /// that never returned (a client that timed out and moved on).
    ///
    /// # Panics
    /// On a `Return` with no outstanding call (use [`History::try_from_events`] for input
    /// that may be malformed).
    pub fn from_events(events: impl IntoIterator<Item = Event<Op, Ret>>) -> Self {
        match History::try_from_events(events) {
            Ok(h) => h,
            Err(e) => panic!("History::from_events: {e}"),
        }
    }

    /// Like [`History::from_events`], but a `Return` with no outstanding call is an error.
    pub fn try_from_events(
        events: impl IntoIterator<Item = Event<Op, Ret>>,
    ) -> Result<Self, HistoryError> {
        let mut ops: Vec<Operation<Op, Ret>> = Vec::new();
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        for (position, event) in events.into_iter().enumerate() {
            let t = position as u64;
            match event {
                Event::Call { client, op } => {
                    open.insert(client, ops.len());
                    ops.push(Operation::pending(client, op, t));
                }
                Event::Return { client, ret } => match open.remove(&client) {
                    Some(i) => ops[i].ret = Some((t, ret)),
                    None => return Err(HistoryError::UnmatchedReturn { position, client }),
                },
            }
        }
        Ok(History { ops })
    }

    /// Checks that every operation returns no earlier than it was called.
    pub fn validate(&self) -> Result<(), HistoryError> {
        for (i, o) in self.ops.iter().enumerate() {
            if let Some((ret, _)) = &o.ret {
                if *ret < o.call {
                    return Err(HistoryError::ReturnBeforeCall {
                        op: i,
                        call: o.call,
                        ret: *ret,
                    });
                }
            }
        }
        Ok(())
    }

    /// The history in event form, ordered by time (calls before returns at equal times, ties
    /// broken by operation index). When each client has at most one operation outstanding at a
    /// time, this round-trips through [`History::from_events`] up to a renumbering of times
    /// (and of operation indices, into call order).
    pub fn to_events(&self) -> Vec<Event<Op, Ret>>
    where
        Op: Clone,
        Ret: Clone,
    {
        let mut keyed: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * self.ops.len());
        for (i, o) in self.ops.iter().enumerate() {
            keyed.push((o.call, 0, i));
            if let Some((t, _)) = &o.ret {
                keyed.push((*t, 1, i));
            }
        }
        keyed.sort_unstable();
        keyed
            .into_iter()
            .map(|(_, kind, i)| {
                let o = &self.ops[i];
                match (kind, &o.ret) {
                    (1, Some((_, ret))) => Event::Return {
                        client: o.client,
                        ret: ret.clone(),
                    },
                    _ => Event::Call {
                        client: o.client,
                        op: o.op.clone(),
                    },
                }
            })
            .collect()
    }

    /// Converts a simulator history ([`synod_core::History`]): times become virtual
    /// nanoseconds, clients are kept, nodes are dropped.
    pub fn from_core(history: &synod_core::History<Op, Ret>) -> Self
    where
        Op: Clone + std::fmt::Debug,
        Ret: Clone + std::fmt::Debug,
    {
        History {
            ops: history
                .ops
                .iter()
                .map(|o| Operation {
                    client: o.client,
                    op: o.input.clone(),
                    call: o.invoke.as_nanos(),
                    ret: o
                        .completion
                        .as_ref()
                        .map(|(t, out)| (t.as_nanos(), out.clone())),
                })
                .collect(),
        }
    }
}
