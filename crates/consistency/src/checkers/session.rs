//! The session-guarantee checker: read your writes, monotonic reads, writes follow reads, on
//! register and key-value histories (see the module docs of `checkers` for the definitions
//! and why only reads of uniquely written values are judged).

use super::{precedes, push_capped, Interner, DEFAULT_MAX_LISTED};
use crate::format::{Completion, Recorded, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Options of [`check_sessions`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOptions {
    /// Every register's (every key's) value before any write: `nil` by default.
    pub initial: Value,
    /// How many anomalies of each kind the report lists.
    pub max_listed: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            initial: Value::Nil,
            max_listed: DEFAULT_MAX_LISTED,
        }
    }
}

/// An anomaly found by [`check_sessions`]; operations are indices into [`Recorded::ops`].
/// A write is an operation `write` or `cas`; a read is a `read` or an `:ok` `cas` (which
/// read its `old` value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionAnomaly {
    /// A read, invoked after the same process's write completed, returned an older value.
    ReadYourWrites {
        /// The session.
        process: u64,
        /// The key (`None` for a single register).
        key: Option<Value>,
        /// The process's own write (the latest one completed before the read).
        own_write: usize,
        /// The read.
        read: usize,
        /// What it returned.
        value: Value,
        /// The write of that value, which completed before `own_write` was invoked; `None`
        /// for the initial value.
        observed_write: Option<usize>,
    },
    /// A read returned a value older than one an earlier read of the same process returned.
    MonotonicReads {
        /// The session.
        process: u64,
        /// The key (`None` for a single register).
        key: Option<Value>,
        /// The earlier read.
        first_read: usize,
        /// The write it observed.
        first_write: usize,
        /// The later read (invoked after `first_read` completed).
        second_read: usize,
        /// What it returned.
        value: Value,
        /// The write of that value, which completed before `first_write` was invoked; `None`
        /// for the initial value.
        second_write: Option<usize>,
        /// Both writes are by one process, in that order: a monotonic-writes violation too.
        same_session_writes: bool,
    },
    /// A read returned a value older than one an earlier read of the same process returned,
    /// where "older" holds because the newer write's process had read the older value before
    /// writing.
    WritesFollowReads {
        /// The session that saw the writes out of order.
        process: u64,
        /// The key (`None` for a single register).
        key: Option<Value>,
        /// The earlier read, of the newer write's value.
        first_read: usize,
        /// The newer write.
        newer_write: usize,
        /// The later read (invoked after `first_read` completed), of the older write's value.
        second_read: usize,
        /// The older write.
        older_write: usize,
        /// The read by `newer_write`'s process that returned `older_write`'s value and
        /// completed before `newer_write` was invoked.
        writer_read: usize,
    },
    /// A read returned a value that no operation (that did not fail) wrote, and that is not
    /// the initial value.
    UnwrittenValue {
        /// The reading process.
        process: u64,
        /// The key (`None` for a single register).
        key: Option<Value>,
        /// The read.
        read: usize,
        /// What it returned.
        value: Value,
    },
    /// A `cas` (that did not fail) whose value is not a two-element `[old new]`.
    Malformed {
        /// The operation.
        op: usize,
        /// Its value.
        value: Value,
    },
}

impl SessionAnomaly {
    /// The operations involved (indices into [`Recorded::ops`]).
    pub fn ops(&self) -> Vec<usize> {
        match self {
            SessionAnomaly::ReadYourWrites {
                own_write,
                read,
                observed_write,
                ..
            } => {
                let mut v = vec![*own_write, *read];
                v.extend(observed_write);
                v
            }
            SessionAnomaly::MonotonicReads {
                first_read,
                first_write,
                second_read,
                second_write,
                ..
            } => {
                let mut v = vec![*first_read, *first_write, *second_read];
                v.extend(second_write);
                v
            }
            SessionAnomaly::WritesFollowReads {
                first_read,
                newer_write,
                second_read,
                older_write,
                writer_read,
                ..
            } => vec![
                *first_read,
                *newer_write,
                *second_read,
                *older_write,
                *writer_read,
            ],
            SessionAnomaly::UnwrittenValue { read, .. } => vec![*read],
            SessionAnomaly::Malformed { op, .. } => vec![*op],
        }
    }
}

/// "key k" or "the register".
struct KeyName<'a>(&'a Option<Value>);

impl fmt::Display for KeyName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(k) => write!(f, "key {k}"),
            None => f.write_str("the register"),
        }
    }
}

impl fmt::Display for SessionAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionAnomaly::ReadYourWrites {
                process,
                key,
                own_write,
                read,
                value,
                observed_write,
            } => {
                write!(
                    f,
                    "read-your-writes: process {process} read {value} from {} (op {read}) \
                     after its own write op {own_write} completed, ",
                    KeyName(key)
                )?;
                match observed_write {
                    Some(w) => write!(f, "but op {w}, which wrote it, completed before that"),
                    None => write!(f, "but that is the initial value"),
                }
            }
            SessionAnomaly::MonotonicReads {
                process,
                key,
                first_read,
                first_write,
                second_read,
                value,
                second_write,
                same_session_writes,
            } => {
                write!(
                    f,
                    "monotonic reads: process {process} read op {first_write}'s write of {} \
                     (op {first_read}), then {value} (op {second_read}), ",
                    KeyName(key)
                )?;
                match second_write {
                    Some(w) => write!(
                        f,
                        "written by op {w}, which completed before op {first_write} began{}",
                        if *same_session_writes {
                            " in the same session (monotonic writes)"
                        } else {
                            ""
                        }
                    ),
                    None => write!(f, "the initial value"),
                }
            }
            SessionAnomaly::WritesFollowReads {
                process,
                key,
                first_read,
                newer_write,
                second_read,
                older_write,
                writer_read,
            } => write!(
                f,
                "writes follow reads: process {process} read op {newer_write}'s write of {} \
                 (op {first_read}), then op {older_write}'s (op {second_read}), though op \
                 {newer_write}'s process had read op {older_write}'s value (op {writer_read}) \
                 before writing",
                KeyName(key)
            ),
            SessionAnomaly::UnwrittenValue {
                process,
                key,
                read,
                value,
            } => write!(
                f,
                "unwritten value: process {process} read {value} from {} (op {read}), \
                 which nothing wrote",
                KeyName(key)
            ),
            SessionAnomaly::Malformed { op, value } => {
                write!(f, "malformed: cas op {op} has value {value}, not [old new]")
            }
        }
    }
}

/// The result of [`check_sessions`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReport {
    /// No anomaly of any kind (including unwritten values and malformed operations).
    pub valid: bool,
    /// Reads: `:ok` reads and `:ok` CAS operations (which read their `old` value).
    pub reads: usize,
    /// Reads judged: their value identified a unique write, or the initial value.
    pub judged: usize,
    /// Reads skipped because their value was written by more than one operation (or is
    /// the initial value and was also written): which write they saw is unknown.
    pub ambiguous: usize,
    /// Read-your-writes violations.
    pub read_your_writes_count: usize,
    /// Monotonic-reads violations (including those that are monotonic-writes violations).
    pub monotonic_reads_count: usize,
    /// Writes-follow-reads violations.
    pub writes_follow_reads_count: usize,
    /// Reads of values nothing wrote.
    pub unwritten_count: usize,
    /// Malformed operations.
    pub malformed_count: usize,
    /// Anomalies, by kind (read your writes, monotonic reads, writes follow reads,
    /// unwritten, malformed), at most `max_listed` of each.
    pub anomalies: Vec<SessionAnomaly>,
}

impl fmt::Display for SessionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sessions: {}; {} of {} reads judged ({} ambiguous), {} read-your-writes, \
             {} monotonic-reads, {} writes-follow-reads, {} unwritten",
            if self.valid { "valid" } else { "INVALID" },
            self.judged,
            self.reads,
            self.ambiguous,
            self.read_your_writes_count,
            self.monotonic_reads_count,
            self.writes_follow_reads_count,
            self.unwritten_count
        )
    }
}

/// Which write a read observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// The initial value, written by nobody.
    Initial,
    /// The value of this write, its only writer.
    Write(usize),
    /// A value written more than once: skipped.
    Ambiguous,
    /// A value nobody wrote.
    Unwritten,
}

/// A read: an `:ok` read, or an `:ok` cas reading its `old`.
struct Read {
    op: usize,
    key: usize,
    value: Value,
    seen: Seen,
}

/// One session's operations on one key.
#[derive(Default)]
struct Group {
    /// Indices into the reads, by invocation.
    reads: Vec<usize>,
    /// The process's `:ok` writes.
    writes: Vec<usize>,
}

/// The write with the latest invocation among those added so far.
#[derive(Clone, Copy)]
struct Latest {
    call: u64,
    read: usize,
    write: usize,
}

impl Latest {
    fn max(slot: &mut Option<Latest>, new: Latest) {
        if slot.is_none_or(|l| new.call > l.call) {
            *slot = Some(new);
        }
    }
}

/// Checks session guarantees (read your writes, monotonic reads, writes follow reads, and
/// monotonic writes through monotonic reads) on a register or key-value history of `read`,
/// `write` and `cas` operations, judging only reads whose value identifies one write.
pub fn check_sessions(history: &Recorded, options: &SessionOptions) -> SessionReport {
    let ops = &history.ops;
    let max = options.max_listed;
    let mut keys: Interner<Option<Value>> = Interner::new();
    let mut values: Interner<(usize, Value)> = Interner::new();
    let mut writers: Vec<Vec<usize>> = Vec::new();
    let mut reads: Vec<Read> = Vec::new();
    let mut groups: BTreeMap<(usize, u64), Group> = BTreeMap::new();
    let mut malformed = Vec::new();
    let mut malformed_count = 0;

    let mut add_writer = |key: usize, value: &Value, op: usize| {
        let id = values.intern(&(key, value.clone()));
        if id == writers.len() {
            writers.push(Vec::new());
        }
        writers[id].push(op);
    };
    for (i, op) in ops.iter().enumerate() {
        let key = keys.intern(&op.key);
        match op.f.as_str() {
            "read" => {
                if let Completion::Ok(v) = &op.completion {
                    reads.push(Read {
                        op: i,
                        key,
                        value: v.clone(),
                        seen: Seen::Ambiguous,
                    });
                }
            }
            "write" if !op.is_fail() => {
                add_writer(key, &op.value, i);
                if op.is_ok() {
                    groups.entry((key, op.process)).or_default().writes.push(i);
                }
            }
            "cas" if !op.is_fail() => match op.value.as_list() {
                Some([old, new]) => {
                    add_writer(key, new, i);
                    if op.is_ok() {
                        groups.entry((key, op.process)).or_default().writes.push(i);
                        reads.push(Read {
                            op: i,
                            key,
                            value: old.clone(),
                            seen: Seen::Ambiguous,
                        });
                    }
                }
                _ => {
                    malformed_count += 1;
                    push_capped(
                        &mut malformed,
                        max,
                        SessionAnomaly::Malformed {
                            op: i,
                            value: op.value.clone(),
                        },
                    );
                }
            },
            _ => {}
        }
    }

    // Identify what each read saw.
    let mut report = SessionReport {
        valid: true,
        reads: reads.len(),
        judged: 0,
        ambiguous: 0,
        read_your_writes_count: 0,
        monotonic_reads_count: 0,
        writes_follow_reads_count: 0,
        unwritten_count: 0,
        malformed_count,
        anomalies: Vec::new(),
    };
    let mut unwritten = Vec::new();
    for (ri, r) in reads.iter_mut().enumerate() {
        let ws: Vec<usize> = values
            .get(&(r.key, r.value.clone()))
            .map(|id| writers[id].iter().copied().filter(|&w| w != r.op).collect())
            .unwrap_or_default();
        r.seen = match (r.value == options.initial, ws.as_slice()) {
            (true, []) => Seen::Initial,
            (false, []) => Seen::Unwritten,
            (false, [w]) => Seen::Write(*w),
            _ => Seen::Ambiguous,
        };
        match r.seen {
            Seen::Ambiguous => report.ambiguous += 1,
            Seen::Unwritten => {
                report.unwritten_count += 1;
                push_capped(
                    &mut unwritten,
                    max,
                    SessionAnomaly::UnwrittenValue {
                        process: ops[r.op].process,
                        key: ops[r.op].key.clone(),
                        read: r.op,
                        value: r.value.clone(),
                    },
                );
            }
            Seen::Initial | Seen::Write(_) => report.judged += 1,
        }
        let process = ops[r.op].process;
        groups.entry((r.key, process)).or_default().reads.push(ri);
    }

    // The first read by each process of each write's value: (write, process) -> read op.
    let mut first_seen: BTreeMap<(usize, u64), usize> = BTreeMap::new();
    for r in &reads {
        if let Seen::Write(w) = r.seen {
            let slot = first_seen.entry((w, ops[r.op].process)).or_insert(r.op);
            if ops[r.op].ret < ops[*slot].ret {
                *slot = r.op;
            }
        }
    }

    let mut ryw = Vec::new();
    let mut mr = Vec::new();
    let mut wfr = Vec::new();
    for (&(_, process), g) in &groups {
        let mut by_call = g.reads.clone();
        by_call.sort_by_key(|&ri| ops[reads[ri].op].call);
        let mut by_ret = g.reads.clone();
        by_ret.sort_by_key(|&ri| ops[reads[ri].op].ret);
        let mut own = g.writes.clone();
        own.sort_by_key(|&w| ops[w].ret);

        // Sweeps in invocation order of the reads: what completed before each was invoked.
        let mut next_own = 0;
        let mut latest_own: Option<usize> = None; // the own write with the latest call
        let mut next_read = 0;
        let mut latest_seen: Option<Latest> = None;
        let mut latest_by_writer: BTreeMap<u64, Latest> = BTreeMap::new();
        for &ri in &by_call {
            let r = &reads[ri];
            let rop = &ops[r.op];
            while next_own < own.len() && precedes(&ops[own[next_own]], rop) {
                let w = own[next_own];
                if latest_own.is_none_or(|l| ops[w].call > ops[l].call) {
                    latest_own = Some(w);
                }
                next_own += 1;
            }
            while next_read < by_ret.len() && precedes(&ops[reads[by_ret[next_read]].op], rop) {
                let earlier = &reads[by_ret[next_read]];
                if let Seen::Write(w) = earlier.seen {
                    let l = Latest {
                        call: ops[w].call,
                        read: earlier.op,
                        write: w,
                    };
                    Latest::max(&mut latest_seen, l);
                    let slot = latest_by_writer.entry(ops[w].process).or_insert(l);
                    if l.call > slot.call {
                        *slot = l;
                    }
                }
                next_read += 1;
            }
            let observed = match r.seen {
                Seen::Initial => None,
                Seen::Write(w) => Some(w),
                Seen::Ambiguous | Seen::Unwritten => continue,
            };
            // Is `observed` certainly older than write `w` (invoked at `w`'s call)?
            let older_than = |w: usize| match observed {
                None => true,
                Some(o) => precedes(&ops[o], &ops[w]),
            };

            if let Some(w) = latest_own.filter(|&w| older_than(w)) {
                report.read_your_writes_count += 1;
                push_capped(
                    &mut ryw,
                    max,
                    SessionAnomaly::ReadYourWrites {
                        process,
                        key: rop.key.clone(),
                        own_write: w,
                        read: r.op,
                        value: r.value.clone(),
                        observed_write: observed,
                    },
                );
            }

            if let Some(l) = latest_seen.filter(|l| older_than(l.write)) {
                report.monotonic_reads_count += 1;
                let same_session_writes =
                    observed.is_some_and(|o| ops[o].process == ops[l.write].process);
                push_capped(
                    &mut mr,
                    max,
                    SessionAnomaly::MonotonicReads {
                        process,
                        key: rop.key.clone(),
                        first_read: l.read,
                        first_write: l.write,
                        second_read: r.op,
                        value: r.value.clone(),
                        second_write: observed,
                        same_session_writes,
                    },
                );
            } else if let Some(older) = observed {
                // Writes follow reads: some newer write's process had seen `older` first.
                let found = latest_by_writer.iter().find_map(|(&writer, l)| {
                    let seen = *first_seen.get(&(older, writer))?;
                    (l.write != older && precedes(&ops[seen], &ops[l.write])).then_some((l, seen))
                });
                if let Some((l, seen)) = found {
                    report.writes_follow_reads_count += 1;
                    push_capped(
                        &mut wfr,
                        max,
                        SessionAnomaly::WritesFollowReads {
                            process,
                            key: rop.key.clone(),
                            first_read: l.read,
                            newer_write: l.write,
                            second_read: r.op,
                            older_write: older,
                            writer_read: seen,
                        },
                    );
                }
            }
        }
    }

    report.valid = report.read_your_writes_count == 0
        && report.monotonic_reads_count == 0
        && report.writes_follow_reads_count == 0
        && report.unwritten_count == 0
        && report.malformed_count == 0;
    report.anomalies = ryw;
    report.anomalies.extend(mr);
    report.anomalies.extend(wfr);
    report.anomalies.extend(unwritten);
    report.anomalies.extend(malformed);
    report
}

/// Unit tests of the pieces; whole histories are in `tests/checkers.rs`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RecordedOp;

    #[test]
    fn latest_keeps_the_latest_call() {
        let mut slot = None;
        Latest::max(
            &mut slot,
            Latest {
                call: 5,
                read: 1,
                write: 2,
            },
        );
        Latest::max(
            &mut slot,
            Latest {
                call: 3,
                read: 7,
                write: 8,
            },
        );
        assert_eq!(slot.map(|l| (l.call, l.read, l.write)), Some((5, 1, 2)));
    }

    #[test]
    fn key_names() {
        assert_eq!(KeyName(&None).to_string(), "the register");
        assert_eq!(KeyName(&Some(Value::Int(3))).to_string(), "key 3");
    }

    #[test]
    fn unused_op_kinds_are_ignored() {
        let op = RecordedOp {
            process: 0,
            f: "enqueue".into(),
            key: None,
            value: Value::Int(1),
            completion: Completion::Ok(Value::Nil),
            call: 0,
            ret: Some(1),
            call_nanos: None,
            ret_nanos: None,
            line: 1,
        };
        let r = check_sessions(
            &Recorded {
                ops: vec![op],
                skipped_events: 0,
            },
            &SessionOptions::default(),
        );
        assert!(r.valid);
        assert_eq!(r.reads, 0);
    }
}
