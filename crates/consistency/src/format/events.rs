//! Pairing a stream of Jepsen-style events (invocations and completions) into operations.
//!
//! Shared by every reader: an invocation opens an operation for its process; the next
//! completion of the same process closes it. Event positions (counting client events only)
//! are the operations' `call` and `ret`.

use super::{Completion, ParseError, Recorded, RecordedOp, Value};
use std::collections::BTreeMap;

/// How deeply a value (or key) may nest: lists in lists, maps in sets, ... Every reader
/// checks it, and each writer's syntax for such a value stays within every reader's syntax
/// limit ([`MAX_DEPTH`](super::edn::MAX_DEPTH)), so what one format reads, every format
/// writes and reads back.
pub(crate) const MAX_VALUE_DEPTH: usize = 100;

/// An error if `v` nests more than [`MAX_VALUE_DEPTH`] deep.
pub(crate) fn check_depth(v: &Value, line: usize) -> Result<(), ParseError> {
    fn deeper_than(v: &Value, limit: usize) -> bool {
        let children = |limit: usize| -> bool {
            match v {
                Value::List(items) | Value::Set(items) => {
                    items.iter().any(|c| deeper_than(c, limit))
                }
                Value::Map(entries) => entries
                    .iter()
                    .any(|(k, c)| deeper_than(k, limit) || deeper_than(c, limit)),
                _ => false,
            }
        };
        match v {
            Value::List(_) | Value::Set(_) | Value::Map(_) => limit == 0 || children(limit - 1),
            _ => false,
        }
    }
    if deeper_than(v, MAX_VALUE_DEPTH) {
        return Err(ParseError::new(
            line,
            format!("value nests more than {MAX_VALUE_DEPTH} deep"),
        ));
    }
    Ok(())
}

/// The `:type` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    /// `:invoke`: a process asked.
    Invoke,
    /// `:ok`: it happened.
    Ok,
    /// `:fail`: it certainly did not happen.
    Fail,
    /// `:info`: unknown.
    Info,
}

impl EventType {
    /// The type named `name` (`"invoke"`, `"ok"`, `"fail"`, `"info"`), if it is one.
    pub(crate) fn from_name(name: &str) -> Option<EventType> {
        match name {
            "invoke" => Some(EventType::Invoke),
            "ok" => Some(EventType::Ok),
            "fail" => Some(EventType::Fail),
            "info" => Some(EventType::Info),
            _ => None,
        }
    }

    /// The type's name, without a colon.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }
}

/// One client event, as read from a file.
pub(crate) struct Event {
    /// The client process.
    pub process: u64,
    /// Invocation or completion.
    pub ty: EventType,
    /// The function.
    pub f: String,
    /// The key, if the event had one.
    pub key: Option<Value>,
    /// The event's value.
    pub value: Value,
    /// The event's `:time`, in nanoseconds.
    pub time: Option<u64>,
    /// The event's 1-based line.
    pub line: usize,
}

/// Pairs events into a [`Recorded`] history.
#[derive(Default)]
pub(crate) struct Pairing {
    ops: Vec<RecordedOp>,
    /// Process -> index in `ops` of its open (invoked, not completed) operation.
    open: BTreeMap<u64, usize>,
    /// The next client event's position.
    position: u64,
    skipped: usize,
}

impl Pairing {
    /// Counts an event of a non-client process (a nemesis).
    pub(crate) fn skip(&mut self) {
        self.skipped += 1;
    }

    /// Adds a client event.
    pub(crate) fn push(&mut self, e: Event) -> Result<(), ParseError> {
        check_depth(&e.value, e.line)?;
        if let Some(k) = &e.key {
            check_depth(k, e.line)?;
        }
        let position = self.position;
        match e.ty {
            EventType::Invoke => {
                if let Some(&i) = self.open.get(&e.process) {
                    let o = &self.ops[i];
                    return Err(ParseError::new(
                        e.line,
                        format!(
                            "process {} invokes :{} while its :{} invoked on line {} has not \
                             completed (a process has at most one operation in flight)",
                            e.process, e.f, o.f, o.line
                        ),
                    ));
                }
                self.open.insert(e.process, self.ops.len());
                self.ops.push(RecordedOp {
                    process: e.process,
                    f: e.f,
                    key: e.key,
                    value: e.value,
                    completion: Completion::Unknown(Value::Nil),
                    call: position,
                    ret: None,
                    call_nanos: e.time,
                    ret_nanos: None,
                    line: e.line,
                });
            }
            ty => {
                let Some(i) = self.open.remove(&e.process) else {
                    return Err(ParseError::new(
                        e.line,
                        format!(
                            "process {} completes (:{} :{}) with no open invocation",
                            e.process,
                            ty.name(),
                            e.f
                        ),
                    ));
                };
                let o = &mut self.ops[i];
                let (completion, ret) = match ty {
                    EventType::Ok => (Completion::Ok(e.value), Some(position)),
                    EventType::Fail => (Completion::Fail(e.value), Some(position)),
                    _ => (Completion::Unknown(e.value), None),
                };
                o.completion = completion;
                o.ret = ret;
                o.ret_nanos = e.time;
                if o.key.is_none() {
                    o.key = e.key;
                }
            }
        }
        self.position += 1;
        Ok(())
    }

    /// The history: operations still open stay [`Completion::Unknown`]`(Nil)`.
    pub(crate) fn finish(self) -> Recorded {
        Recorded {
            ops: self.ops,
            skipped_events: self.skipped,
        }
    }
}
