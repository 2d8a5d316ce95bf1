//! # Workload checkers: grow-only sets, counters and session guarantees
//!
//! The linearizability and sequential-consistency checkers of this crate search for a legal
//! order of *all* operations, which is exact but exponential in the worst case. The checkers
//! here look for specific, named anomalies instead, in the style of Jepsen's workload
//! checkers: each one runs in `O(n log n)` time (plus the size of the values read; the
//! writes-follow-reads check also scales with the number of writing processes), reports what
//! kind of anomaly it found and which operations are involved, and is *sound* for
//! linearizable histories: a history that has a linearization is never flagged (the property
//! tests in `tests/checkers.rs` hold every checker to that). They read a [`Recorded`]
//! history directly; no sequential specification is needed.
//!
//! | checker | workload | Jepsen equivalent |
//! |---|---|---|
//! | [`check_set_full`] | `add` one element, `read` the whole set | `jepsen.checker/set-full` |
//! | [`check_counter`] | `add` a signed delta, `read` the total | `jepsen.checker/counter` |
//! | [`check_sessions`] | `read`, `write`, `cas` on registers or keys | (none; Terry et al.) |
//! | [`register_semantics::check_recorded_register_semantics`] | `read`, `write` of unique values on one register | (none; Lamport's safe / regular / atomic, new/old inversions) |
//! | [`causal::check_causal`] | `read`, `write` of unique values per key | (none; Bouajjani et al.'s CC / CM / CCv bad patterns) |
//! | [`kafka::check_kafka`] | `send`, `poll`, `commit_offsets`, `list_committed_offsets` on append-only logs | `jepsen.tests.kafka` (Maelstrom's `kafka`) |
//! | [`txn::check_txn`] | `txn` of reads and writes (registers) or appends (lists) | Elle (`elle.rw-register`, `elle.list-append`) |
//!
//! ## Time
//!
//! Every operation has an invocation position `call` and, if it completed `:ok` or `:fail`,
//! a completion position `ret` in the history's event order. Operation `a` *precedes* `b`
//! (real-time order, `a ≺ b`) when `a` completed before `b` was invoked: `a.ret < b.call`.
//! An operation with an unknown outcome (`:info`, or no completion) precedes nothing: it may
//! have taken effect at any time after its invocation, or never. A failed operation took no
//! effect at all.
//!
//! Durations (set-full latencies and stale windows) are reported in nanoseconds of wall-clock
//! time when every operation of the history carries `call_nanos` (and `ret_nanos` when it
//! completed), and otherwise in event positions; [`TimeUnit`] says which.
//!
//! ## set-full
//!
//! The workload adds distinct elements to a grow-only set (`add`, the invocation's value is
//! the element; `broadcast`, as Maelstrom's broadcast workload names it, is read the same
//! way) and reads the whole set (`read`, the `:ok` value is a list or set). Following
//! Jepsen's `set-full`, reads are ordered by invocation, and for each element added by an
//! operation that did not fail:
//!
//! - its *known time* is the earliest moment it was certainly present: the completion of an
//!   `:ok` add, or the completion of the first read that contained it, whichever is earlier;
//! - it is **never read** if no read was invoked after its known time;
//! - it is **lost** if the last read invoked after its known time does not contain it: from
//!   some read on, invoked after it was known present, no read ever contains it again;
//! - otherwise it is **stable**: there is a point after which every read invoked contains it.
//!   Its *stable latency* is the time from the (first) add's invocation to the invocation of
//!   the last read that missed it (zero if no read invoked after the add missed it);
//! - a stable element is also **stale** if some read invoked after its known time missed it
//!   (later reads then saw it again); the *stale window* is the time from the known time to
//!   the invocation of the last read that missed it;
//! - an add whose outcome is unknown and whose element no read ever contained is
//!   **unconfirmed** (it may never have happened; nothing to check).
//!
//! Across reads, an element is **unexpected** if a read contained it although no add of it
//! that could have taken effect was invoked before that read completed (never added, only
//! failed adds, or added later), and **duplicated** if a read contained it more than once.
//! An `:ok` read whose value is not a list or set is **malformed**.
//!
//! The history is valid when nothing is lost, unexpected, duplicated or malformed. Stale
//! reads are allowed (the set may be eventually consistent) unless
//! [`SetFullOptions::linearizable`] is set: in a linearizable grow-only set every read
//! invoked after an element is known present contains it, so stale elements are errors too.
//! Stable latencies are summarised by the quantiles 0, 0.5, 0.95, 0.99 and 1. On request
//! ([`SetFullOptions::timelines`]) the report also gives each element's timeline: its add,
//! the operation that made it known, and the first and last reads that contained it and that
//! (invoked after the add's invocation) missed it.
//!
//! ## Counter bounds
//!
//! The workload adds signed integer deltas to a counter that starts at
//! [`CounterOptions::initial`] (`add`, the invocation's value is the delta) and reads it
//! (`read`, the `:ok` value is an integer). Each `:ok` read must return a value the counter
//! could have had at some instant between the read's invocation and completion:
//!
//! - an add *definitely applied* before the read is an `:ok` add that completed before the
//!   read was invoked: its delta counts towards both bounds;
//! - an add that *may have applied* is any other add that did not fail and was invoked
//!   before the read completed (`:ok` adds concurrent with the read, and adds of unknown
//!   outcome, however early): a positive delta raises the upper bound, a negative one lowers
//!   the lower bound.
//!
//! So `lower = initial + Σ definite + Σ negative possible` and
//! `upper = initial + Σ definite + Σ positive possible`; a read outside `[lower, upper]` is
//! an error. With non-negative deltas this is exactly Jepsen's counter checker (lower: adds
//! `:ok` before the read's invocation; upper: adds `:ok` or `:info` invoked before its
//! completion). The bounds are necessary conditions, not sufficient ones: with several
//! concurrent adds of mixed signs not every value in the interval is reachable.
//!
//! ## Session guarantees
//!
//! Terry et al. define guarantees a *session* (here: a client process) may expect from a
//! weakly consistent replicated store. On register histories (`read`; `write` of the
//! invocation's value; `cas` with value `[old new]`, optionally per `key`), this checker
//! looks for violations of:
//!
//! - **read your writes**: a read by process `p` invoked after `p`'s own write `w` completed
//!   `:ok` (same key) returns a value *older* than `w`;
//! - **monotonic reads**: `p` reads value `v1`, then (after that read completed) reads an
//!   older value `v2` of the same key;
//! - **writes follow reads**: a write `w_a` by process `p` is invoked after `p` read the value
//!   of an earlier write `w_b`, so `w_b` must be ordered before `w_a` everywhere; yet some
//!   process reads `w_a`'s value and later `w_b`'s;
//! - **monotonic writes** (`p`'s own writes, in order, must be ordered that way everywhere)
//!   shows up as a monotonic-reads violation whose two writes are by one process, since
//!   a process's completed write precedes its next one in real time; such anomalies have
//!   `same_session_writes` set.
//!
//! An `:ok` CAS counts both as a read (of `old`, at its linearization point) and as a write
//! (of `new`). A read of a value that no operation could have written (not the initial
//! value, no write or CAS of it that did not fail) is reported as an **unwritten** value.
//!
//! *What "older" means, soundly.* The system's order of writes (its version order) is not in
//! the history. The checker only uses orders that hold in every linearization: write `w'` is
//! older than `w` when `w'` completed before `w` was invoked (`w' ≺ w`), and, for writes
//! follow reads, when `w`'s process read `w'`'s value before invoking `w`. A read is tied to
//! the write it observed only through its value, so **only reads whose value identifies a
//! unique write are judged**: values written by two or more operations (that did not fail)
//! make the read *ambiguous*, and it is skipped and counted
//! ([`SessionReport::ambiguous`]). A read of the initial value ([`SessionOptions::initial`],
//! `nil` by default) identifies "no write yet" when no operation writes that value, and is
//! older than every write. With these choices every reported anomaly is impossible in a
//! linearizable history; conversely, violations that need the unknown version order to be
//! seen (for instance, two concurrent writes observed in opposite orders) are not reported,
//! and neither are stale reads across sessions (a linearizability matter, for the
//! linearizability checker). For systems whose write order may contradict real time (say,
//! last-writer-wins on skewed clocks), a read-your-writes or monotonic-reads anomaly whose
//! writes are by different processes means "older in real time".
//!
//! ## Where to read
//!
//! - Jepsen's checker documentation, `jepsen.checker/set-full` and `jepsen.checker/counter`:
//!   <https://jepsen-io.github.io/jepsen/jepsen.checker.html>;
//! - Douglas B. Terry, Alan J. Demers, Karin Petersen, Mike J. Spreitzer, Marvin M. Theimer
//!   and Brent B. Welch, *Session Guarantees for Weakly Consistent Replicated Data*, PDIS 1994;
//! - Paolo Viotti and Marko Vukolić, *Consistency in Non-Transactional Distributed Storage
//!   Systems*, ACM Computing Surveys 2016 (session guarantees stated on histories).
//!
//! ## Example
//!
//! ```
//! use synod_consistency::checkers::{check_counter, CounterOptions};
//! use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
//!
//! let op = |f: &str, value: Value, completion: Completion, call, ret| RecordedOp {
//!     process: 0,
//!     f: f.into(),
//!     key: None,
//!     value,
//!     completion,
//!     call,
//!     ret: Some(ret),
//!     call_nanos: None,
//!     ret_nanos: None,
//!     line: 0,
//! };
//! let h = Recorded {
//!     ops: vec![
//!         op("add", Value::Int(2), Completion::Ok(Value::Nil), 0, 1),
//!         // The add of 2 completed before this read began: it must see at least 2.
//!         op("read", Value::Nil, Completion::Ok(Value::Int(1)), 2, 3),
//!     ],
//!     skipped_events: 0,
//! };
//! let report = check_counter(&h, &CounterOptions::default());
//! assert!(!report.valid);
//! assert_eq!(report.anomalies[0].to_string(), "read op 1 returned 1, outside [2, 2]");
//! ```

pub mod causal;
mod counter_bounds;
pub mod kafka;
pub mod register_semantics;
mod session;
mod set_full;
pub mod txn;

pub use counter_bounds::{
    check_counter, CounterAnomaly, CounterOptions, CounterReport, ReadBounds,
};
pub use session::{check_sessions, SessionAnomaly, SessionOptions, SessionReport};
pub use set_full::{
    check_set_full, ElementOutcome, ElementTimeline, SetFullAnomaly, SetFullOptions, SetFullReport,
    UnexpectedCause,
};

use crate::format::{Recorded, RecordedOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

/// How many anomalies of each kind a report lists by default (the counts are always complete).
pub const DEFAULT_MAX_LISTED: usize = 32;

/// The unit of a reported duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeUnit {
    /// Nanoseconds of wall-clock time (`call_nanos`/`ret_nanos`).
    Nanos,
    /// Positions in the history's event order (the history had no wall-clock times).
    Events,
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeUnit::Nanos => "ns",
            TimeUnit::Events => "events",
        })
    }
}

/// One quantile of a distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// The quantile, in `[0, 1]`.
    pub q: f64,
    /// The duration at that quantile (nearest rank, as Jepsen computes it).
    pub value: u64,
}

/// A summary of durations: their count and quantiles 0, 0.5, 0.95, 0.99 and 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    /// The unit of every value.
    pub unit: TimeUnit,
    /// How many durations were summarised.
    pub count: usize,
    /// The quantiles, ascending; empty when `count` is 0.
    pub quantiles: Vec<Quantile>,
}

/// The quantiles reported for latency distributions.
const QUANTILES: [f64; 5] = [0.0, 0.5, 0.95, 0.99, 1.0];

impl Latencies {
    /// Summarises `durations` (in any order).
    pub(crate) fn of(unit: TimeUnit, mut durations: Vec<u64>) -> Latencies {
        durations.sort_unstable();
        let n = durations.len();
        let quantiles = if n == 0 {
            Vec::new()
        } else {
            QUANTILES
                .iter()
                .map(|&q| {
                    // Nearest rank: the element at floor(q·n), clamped to the last.
                    let rank = ((q * n as f64).floor() as usize).min(n - 1);
                    Quantile {
                        q,
                        value: durations[rank],
                    }
                })
                .collect()
        };
        Latencies {
            unit,
            count: n,
            quantiles,
        }
    }
}

/// Reads times off operations in the history's [`TimeUnit`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub(crate) unit: TimeUnit,
}

impl Clock {
    /// Nanoseconds if every operation has the wall-clock times it could have, else events.
    pub(crate) fn of(h: &Recorded) -> Clock {
        let timed =
            |o: &RecordedOp| o.call_nanos.is_some() && (o.ret.is_none() || o.ret_nanos.is_some());
        let unit = if !h.ops.is_empty() && h.ops.iter().all(timed) {
            TimeUnit::Nanos
        } else {
            TimeUnit::Events
        };
        Clock { unit }
    }

    /// When `o` was invoked.
    pub(crate) fn call(self, o: &RecordedOp) -> u64 {
        match self.unit {
            TimeUnit::Nanos => o.call_nanos.unwrap_or(o.call),
            TimeUnit::Events => o.call,
        }
    }

    /// When `o` completed (its invocation time if it never did; callers only ask about
    /// completed operations).
    pub(crate) fn ret(self, o: &RecordedOp) -> u64 {
        match self.unit {
            TimeUnit::Nanos => o.ret_nanos.or(o.call_nanos).unwrap_or(o.call),
            TimeUnit::Events => o.ret.unwrap_or(o.call),
        }
    }
}

/// True if `a` completed before `b` was invoked (real-time order).
pub(crate) fn precedes(a: &RecordedOp, b: &RecordedOp) -> bool {
    a.ret.is_some_and(|r| r < b.call)
}

/// Dense ids for values that are `Hash + Eq` but not `Ord` (a [`Value`](crate::format::Value)
/// may hold a float), deterministically: buckets by stable hash in a `BTreeMap`.
#[derive(Clone, Debug)]
pub(crate) struct Interner<T> {
    items: Vec<T>,
    buckets: BTreeMap<u64, Vec<usize>>,
}

impl<T: Hash + Eq + Clone> Interner<T> {
    /// An empty interner.
    pub(crate) fn new() -> Interner<T> {
        Interner {
            items: Vec::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// The id of `v`, if it was interned.
    pub(crate) fn get(&self, v: &T) -> Option<usize> {
        let bucket = self.buckets.get(&synod_core::hash::stable_hash(v))?;
        bucket.iter().copied().find(|&i| self.items[i] == *v)
    }

    /// The id of `v`, interning it (ids count up from 0) if new.
    pub(crate) fn intern(&mut self, v: &T) -> usize {
        let bucket = self
            .buckets
            .entry(synod_core::hash::stable_hash(v))
            .or_default();
        if let Some(i) = bucket.iter().copied().find(|&i| self.items[i] == *v) {
            return i;
        }
        let i = self.items.len();
        self.items.push(v.clone());
        bucket.push(i);
        i
    }

    /// The value with id `i`.
    pub(crate) fn value(&self, i: usize) -> &T {
        &self.items[i]
    }
}

/// Pushes `item` unless `list` already holds `max` items.
pub(crate) fn push_capped<T>(list: &mut Vec<T>, max: usize, item: T) {
    if list.len() < max {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Value;

    #[test]
    fn quantiles_are_nearest_rank() {
        let l = Latencies::of(TimeUnit::Events, (1..=10).rev().collect());
        let values: Vec<u64> = l.quantiles.iter().map(|q| q.value).collect();
        // floor(q·10): ranks 0, 5, 9, 9, 9 (clamped).
        assert_eq!(values, vec![1, 6, 10, 10, 10]);
        assert_eq!(l.count, 10);
        assert!(Latencies::of(TimeUnit::Nanos, vec![]).quantiles.is_empty());
        let one = Latencies::of(TimeUnit::Nanos, vec![7]);
        assert!(one.quantiles.iter().all(|q| q.value == 7));
    }

    #[test]
    fn interner_is_dense_and_exact() {
        let mut i = Interner::new();
        let a = i.intern(&Value::Int(1));
        let b = i.intern(&Value::Str("1".into()));
        let c = i.intern(&Value::List(vec![Value::Int(1)]));
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(i.intern(&Value::Int(1)), 0);
        assert_eq!(i.get(&Value::List(vec![Value::Int(1)])), Some(2));
        assert_eq!(i.get(&Value::Set(vec![Value::Int(1)])), None);
        assert_eq!(i.value(1), &Value::Str("1".into()));
    }
}
