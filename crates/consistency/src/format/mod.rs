//! Recorded histories: what a real or simulated system's clients did, as read from a file.
//!
//! Three formats are read into one [`Recorded`] history:
//!
//! - Jepsen/Knossos **EDN**: one map per operation event, e.g.
//!   `{:process 0, :type :invoke, :f :write, :value 3}` (types `:invoke :ok :fail :info`,
//!   optionally `:key` for key-value histories);
//! - Jepsen's older **text log** lines, as its etcd tests recorded them:
//!   `INFO  jepsen.util - 3 :invoke :cas [1 4]`;
//! - synod's own **JSON** (what the simulator and the runtime write), and Jepsen-style JSON
//!   events (an array, or JSON lines).
//!
//! A recorded history is untyped: functions are names (`"write"`, `"cas"`) and values are
//! [`Value`]s. The model adapters (see `crate::models`) turn it into a typed
//! [`History`](crate::History) for one sequential specification; the workload checkers
//! (set-full, counter bounds, session guarantees) read it directly.
//!
//! Completion semantics, as in Jepsen:
//!
//! - `:ok`: the operation happened and returned the given value;
//! - `:fail`: the operation certainly did **not** take effect (a compare-and-swap whose
//!   comparison failed is reported `:fail` by Jepsen's clients; the adapters read that one as
//!   a completed CAS that returned false);
//! - `:info` (or no completion at all): unknown, the operation stays open to the end of the
//!   history: it may or may not have taken effect, at any time after its invocation.
//!
//! # Reading events
//!
//! EDN, the Jepsen log and Jepsen-style JSON are streams of *events*. Events of a process
//! that is not an integer (`:nemesis`) are skipped and counted in
//! [`Recorded::skipped_events`]. Every other event is a client event, and client events are
//! numbered 0, 1, 2, ... in file order: these positions are the operations' `call` and `ret`.
//! An `:invoke` opens an operation for its process (it is an error if that process already
//! has one open); the process's next completion closes it: `:ok` and `:fail` with
//! `ret = Some(position)`, `:info` with `ret = None` and [`Completion::Unknown`] of its value.
//! A completion with no open invocation is an error. Operations never completed end
//! `Unknown(Nil)`. An operation's `value` is its invocation's; the completion's value goes
//! into its [`Completion`]; its `key` is the invocation's `:key` (or the completion's, if only
//! that one has one). A `:time` (nanoseconds) fills `call_nanos` / `ret_nanos` (an `:info`
//! completion's time too, although its `ret` stays `None`). Operations are in invocation
//! order. Errors name the 1-based line of the event (or of the unclosed bracket, the
//! unterminated string, ...).
//!
//! **EDN** ([`parse_edn`], [`to_edn`]): a sequence of maps, or maps inside one vector (or
//! list), each optionally tagged (`#jepsen.history.Op{...}`). `:process`, `:type` (`:invoke
//! :ok :fail :info`) and `:f` (a keyword; a string is accepted) are required for client
//! events; `:value` defaults to `nil`; `:key` and `:time` are optional; other keys (`:index`,
//! `:error`, ...) are ignored. The reader covers the EDN data syntax: `nil`, booleans,
//! integers (`-3`, `7N`, hexadecimal, radix), floats (`1.5`, `2M`, `##Inf`; ratios as floats),
//! strings with escapes, characters (as one-character strings), keywords (`:a/b`), symbols (as
//! strings), `[]` and `()` (both [`Value::List`]), `#{}`, `{}`, commas as whitespace, `;`
//! comments, `#_` discards and tagged literals (the tag is dropped, except the writer's own
//! `#synod/keyword "a b"` for keywords EDN cannot spell).
//!
//! **Jepsen log** ([`parse_jepsen_log`]): lines `PROCESS TYPE F VALUE` after a `jepsen.util -`
//! (or `jepsen.util:`) logger prefix, or bare; see the function.
//!
//! **JSON** ([`parse_json`], [`to_json`]): either synod's document
//!
//! ```text
//! {"format":"synod-history","version":1,"skipped_events":0,"ops":[
//! {"process":0,"f":"write","value":3,"type":"ok","result":3,"call":0,"ret":1},
//! {"process":1,"f":"read","key":"x","value":null,"type":"info","result":{"keyword":"timed-out"},"call":2,"ret":null,"call_nanos":2000}
//! ]}
//! ```
//!
//! where each operation has `process`, `f`, `type` (`"ok"`, `"fail"`, `"info"`, or `"open"`
//! for an operation with no completion at all), `call` and, for `ok`/`fail`, `ret >= call`
//! (`null` otherwise), and optionally `key` (absent: no key), `value` and `result` (absent:
//! `null`), `call_nanos` and `ret_nanos`; unknown fields are ignored and operations are
//! sorted by `call` if they are not already. Values are JSON, with tagged single-field
//! objects for what JSON lacks: `{"keyword":"k"}`, `{"set":[...]}`, `{"map":[[k,v],...]}`
//! (a map with a non-string key, or a lone key that is one of these tag names) and
//! `{"float":"NaN"}` (`"Infinity"`, `"-Infinity"`). Or Jepsen-style events, as one JSON array
//! or as a sequence of objects (JSON lines): `{"process":0,"type":"invoke","f":"write",
//! "value":3}`, with `"key"` and `"time"` optional; there values are plain JSON (objects are
//! maps with string keys), a leading `:` on `type` or `f` is dropped, and a non-integer
//! `process` is skipped as above.

use serde::{Deserialize, Serialize};
use std::fmt;

mod edn;
mod events;
mod jepsen_log;
mod json;

pub use edn::{parse_edn, to_edn};
pub use jepsen_log::parse_jepsen_log;
pub use json::{parse_json, to_json, JSON_FORMAT_NAME, JSON_FORMAT_VERSION};

/// A value in a recorded history: the EDN data model, which also covers JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `nil` / `null`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// An EDN keyword, without its leading colon (`:timed-out` is `Keyword("timed-out")`).
    Keyword(String),
    /// A vector or list.
    List(Vec<Value>),
    /// A set (`#{...}`), elements in file order.
    Set(Vec<Value>),
    /// A map, entries in file order.
    Map(Vec<(Value, Value)>),
}

impl Eq for Value {}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Nil => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) | Value::Keyword(s) => s.hash(state),
            Value::List(v) | Value::Set(v) => v.hash(state),
            Value::Map(m) => m.hash(state),
        }
    }
}

impl Value {
    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements, if this is a list, vector or set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// True for `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

impl fmt::Display for Value {
    /// EDN syntax: `nil`, `3`, `"s"`, `:kw`, `[1 2]`, `#{1 2}`, `{:a 1}`, `##NaN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        edn::write_value(&mut s, self);
        f.write_str(&s)
    }
}

/// How a recorded operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Completion {
    /// `:ok`: it happened; the completion's value (a read's result, a write's echo).
    Ok(Value),
    /// `:fail`: it certainly did not take effect; the completion's value (often an error).
    Fail(Value),
    /// `:info` or never completed: it may or may not have taken effect, at any time after its
    /// invocation; the completion's value if there was an `:info` event (`Nil` otherwise).
    Unknown(Value),
}

/// One operation of a recorded history: an invocation and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordedOp {
    /// The client process that issued it.
    pub process: u64,
    /// The function, e.g. `"read"`, `"write"`, `"cas"`, `"add"`, `"enqueue"`.
    pub f: String,
    /// The key, for key-value histories.
    pub key: Option<Value>,
    /// The invocation's value (a write's argument, `[old new]` for a CAS, `nil` for a read).
    pub value: Value,
    /// How it ended.
    pub completion: Completion,
    /// The invocation's position in the history's event order (the logical call time).
    pub call: u64,
    /// The completion's position in the event order; `None` for an operation that never
    /// completed or ended with `:info` (it stays open to the end of the history).
    pub ret: Option<u64>,
    /// Wall-clock time of the invocation in nanoseconds, if the file recorded one (`:time`).
    pub call_nanos: Option<u64>,
    /// Wall-clock time of the completion in nanoseconds, if the file recorded one.
    pub ret_nanos: Option<u64>,
    /// The 1-based line of the invocation in the file.
    pub line: usize,
}

impl RecordedOp {
    /// True if the operation completed `:ok`.
    pub fn is_ok(&self) -> bool {
        matches!(self.completion, Completion::Ok(_))
    }

    /// True if the operation completed `:fail`.
    pub fn is_fail(&self) -> bool {
        matches!(self.completion, Completion::Fail(_))
    }

    /// True if it is unknown whether the operation took effect (`:info` or no completion).
    pub fn is_unknown(&self) -> bool {
        matches!(self.completion, Completion::Unknown(_))
    }
}

/// The file formats a history can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// Jepsen/Knossos EDN, one map per event.
    Edn,
    /// Jepsen's text log lines (`INFO  jepsen.util - 3 :invoke :cas [1 4]`).
    JepsenLog,
    /// synod's JSON.
    Json,
}

impl Format {
    /// The format's command-line name: `edn`, `jepsen-log`, `json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Edn => "edn",
            Format::JepsenLog => "jepsen-log",
            Format::Json => "json",
        }
    }

    /// The format with command-line name `name` (`edn`, `jepsen-log` or `json`; `log` is
    /// accepted for the Jepsen log).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "edn" => Some(Format::Edn),
            "jepsen-log" | "log" => Some(Format::JepsenLog),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// Every format, in command-line order.
    pub const ALL: [Format; 3] = [Format::Edn, Format::JepsenLog, Format::Json];
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A recorded history, in invocation order (`ops[i].call` increases with `i`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recorded {
    /// The operations.
    pub ops: Vec<RecordedOp>,
    /// Events of non-client processes (a Jepsen `:nemesis`) that were skipped.
    pub skipped_events: usize,
}

/// Event positions for operations given by times: `times[i]` is operation `i`'s call time and
/// return time (`None`: it never returned). Calls and returns are sorted by time, calls first
/// at equal times (so such operations count as concurrent), ties by operation; each event's
/// rank is its position. Returns the call and return positions, and the operations in call
/// order: what a [`Recorded`] history built from timed operations needs.
pub fn event_positions(times: &[(u64, Option<u64>)]) -> (Vec<u64>, Vec<Option<u64>>, Vec<usize>) {
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * times.len());
    for (i, &(call, ret)) in times.iter().enumerate() {
        events.push((call, 0, i));
        if let Some(t) = ret {
            events.push((t, 1, i));
        }
    }
    events.sort_unstable();
    let mut call = vec![0u64; times.len()];
    let mut ret = vec![None; times.len()];
    for (pos, &(_, kind, i)) in events.iter().enumerate() {
        if kind == 0 {
            call[i] = pos as u64;
        } else {
            ret[i] = Some(pos as u64);
        }
    }
    let mut by_call: Vec<usize> = (0..times.len()).collect();
    by_call.sort_by_key(|&i| call[i]);
    (call, ret, by_call)
}

/// A malformed history file: what was wrong and on which line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line where the problem was found.
    pub line: usize,
    /// What was wrong, for a human.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// An error on the 1-based `line`.
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

/// Reads a history in `format`, or in the format [`detect`] recognises if `format` is
/// `None`; returns it with the format it was read as.
///
/// ```
/// use synod_consistency::format::{parse, Completion, Format, Value};
///
/// let log = "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n\
///            INFO  jepsen.util - 3\t:fail\t:cas\t[1 4]\n";
/// let (h, format) = parse(log, None).unwrap();
/// assert_eq!(format, Format::JepsenLog);
/// assert_eq!((h.ops[0].f.as_str(), h.ops[0].call, h.ops[0].ret), ("cas", 0, Some(1)));
/// assert_eq!(h.ops[0].completion, Completion::Fail(Value::List(vec![Value::Int(1), Value::Int(4)])));
///
/// let err = parse("{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type\n", None)
///     .unwrap_err();
/// assert_eq!(err.line, 2);
/// ```
pub fn parse(text: &str, format: Option<Format>) -> Result<(Recorded, Format), ParseError> {
    let format = match format {
        Some(f) => f,
        None => detect(text).ok_or_else(|| {
            ParseError::new(
                1,
                "cannot tell the history's format (expected Jepsen EDN maps `{:process ...}`, \
                 JSON, or Jepsen log lines `INFO  jepsen.util - 3 :invoke :read nil`); \
                 name it explicitly",
            )
        })?,
    };
    let r = match format {
        Format::Edn => parse_edn(text),
        Format::JepsenLog => parse_jepsen_log(text),
        Format::Json => parse_json(text),
    }?;
    Ok((r, format))
}

/// Guesses a history's format from its first characters: JSON if it starts with `{"` or
/// `[` (unless `[` opens EDN maps, `[{:`, or the text has Jepsen log lines), EDN if it
/// starts with `{:`, `#`, `;` or `(`, a Jepsen log if some line is an operation line
/// (`INFO  jepsen.util - 3 :invoke :read nil`, or bare `3 :invoke :read nil`). An empty (or
/// all-whitespace) text is EDN (an empty history in every format). `None` if none fits.
pub fn detect(text: &str) -> Option<Format> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let b = text.as_bytes();
    let skip = |mut i: usize| {
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b',')
        {
            i += 1;
        }
        i
    };
    let i = skip(0);
    let after = |i: usize| b.get(skip(i + 1)).copied();
    let has_log_line = || text.lines().any(jepsen_log::is_op_line);
    match b.get(i) {
        None => Some(Format::Edn),
        Some(b'{') => match after(i) {
            Some(b'"') | Some(b'}') => Some(Format::Json),
            _ => Some(Format::Edn),
        },
        Some(b'[') => {
            let j = skip(i + 1);
            match b.get(j) {
                Some(b'{') => match after(j) {
                    Some(b':') => Some(Format::Edn),
                    _ => Some(Format::Json),
                },
                Some(b'#' | b'(' | b';') => Some(Format::Edn),
                // A log whose lines start with a bracketed timestamp, or a JSON array.
                _ if has_log_line() => Some(Format::JepsenLog),
                _ => Some(Format::Json),
            }
        }
        Some(b'#' | b';' | b'(') => Some(Format::Edn),
        Some(_) => has_log_line().then_some(Format::JepsenLog),
    }
}
