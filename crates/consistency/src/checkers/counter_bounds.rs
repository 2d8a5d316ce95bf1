//! The counter checker: every read lies within what the adds around it allow (see the
//! module docs of `checkers` for the bounds).

use super::{push_capped, DEFAULT_MAX_LISTED};
use crate::format::{Completion, Recorded, Value};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Options of [`check_counter`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterOptions {
    /// The counter's value before any add (0 by default).
    pub initial: i64,
    /// How many anomalies of each kind the report lists.
    pub max_listed: usize,
}

impl Default for CounterOptions {
    fn default() -> Self {
        CounterOptions {
            initial: 0,
            max_listed: DEFAULT_MAX_LISTED,
        }
    }
}

/// A read and the values it could have returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadBounds {
    /// The read (an index into [`Recorded::ops`]).
    pub read: usize,
    /// What it returned.
    pub value: i64,
    /// The least value it could have returned.
    pub lower: i128,
    /// The greatest value it could have returned.
    pub upper: i128,
}

impl ReadBounds {
    /// True if the value lies within the bounds.
    pub fn holds(&self) -> bool {
        (self.lower..=self.upper).contains(&i128::from(self.value))
    }
}

impl fmt::Display for ReadBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read op {} returned {}, {} [{}, {}]",
            self.read,
            self.value,
            if self.holds() { "within" } else { "outside" },
            self.lower,
            self.upper
        )
    }
}

/// An anomaly found by [`check_counter`]; operations are indices into [`Recorded::ops`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterAnomaly {
    /// An `:ok` read returned a value outside its bounds.
    OutOfBounds(ReadBounds),
    /// An add (that did not fail) whose value is not an integer, or an `:ok` read whose
    /// value is not one: the bounds cannot be trusted.
    Malformed {
        /// The operation.
        op: usize,
        /// The offending value.
        value: Value,
    },
}

impl CounterAnomaly {
    /// The operations involved (indices into [`Recorded::ops`]).
    pub fn ops(&self) -> Vec<usize> {
        match self {
            CounterAnomaly::OutOfBounds(b) => vec![b.read],
            CounterAnomaly::Malformed { op, .. } => vec![*op],
        }
    }
}

impl fmt::Display for CounterAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterAnomaly::OutOfBounds(b) => write!(f, "{b}"),
            CounterAnomaly::Malformed { op, value } => {
                write!(f, "malformed: op {op} has value {value}, not an integer")
            }
        }
    }
}

/// The result of [`check_counter`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterReport {
    /// Every `:ok` read within its bounds, and nothing malformed.
    pub valid: bool,
    /// `:ok` reads checked.
    pub reads: usize,
    /// Adds that did not fail (`:ok` or unknown outcome).
    pub adds: usize,
    /// Adds that failed (ignored: they took no effect).
    pub failed_adds: usize,
    /// Reads out of bounds.
    pub out_of_bounds_count: usize,
    /// Malformed operations.
    pub malformed_count: usize,
    /// The last-invoked `:ok` read and its bounds.
    pub final_read: Option<ReadBounds>,
    /// Anomalies: out-of-bounds reads, then malformed operations; at most `max_listed` of
    /// each kind, in invocation order.
    pub anomalies: Vec<CounterAnomaly>,
}

impl fmt::Display for CounterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "counter: {}; {} of {} reads out of bounds, {} adds ({} failed)",
            if self.valid { "valid" } else { "INVALID" },
            self.out_of_bounds_count,
            self.reads,
            self.adds,
            self.failed_adds
        )?;
        if let Some(b) = &self.final_read {
            write!(f, "; final {b}")?;
        }
        Ok(())
    }
}

/// Times and deltas sorted by time, with prefix sums of the positive and negative deltas:
/// `pos[i]` and `neg[i]` sum the first `i`.
struct Prefix {
    times: Vec<u64>,
    pos: Vec<i128>,
    neg: Vec<i128>,
}

impl Prefix {
    fn new(mut entries: Vec<(u64, i64)>) -> Prefix {
        entries.sort_by_key(|&(t, _)| t);
        let mut p = Prefix {
            times: Vec::with_capacity(entries.len()),
            pos: vec![0],
            neg: vec![0],
        };
        for (t, d) in entries {
            let d = i128::from(d);
            p.times.push(t);
            p.pos.push(p.pos[p.pos.len() - 1] + d.max(0));
            p.neg.push(p.neg[p.neg.len() - 1] + d.min(0));
        }
        p
    }

    /// The sums (positive, negative) of the deltas whose time is strictly before `t`.
    fn before(&self, t: u64) -> (i128, i128) {
        let i = self.times.partition_point(|&x| x < t);
        (self.pos[i], self.neg[i])
    }
}

/// Checks a counter history (`add` of signed deltas, `read`): each `:ok` read must lie within
/// the bounds the adds allow.
pub fn check_counter(history: &Recorded, options: &CounterOptions) -> CounterReport {
    let ops = &history.ops;
    let max = options.max_listed;
    let mut possible = Vec::new(); // (call, delta) of adds that did not fail
    let mut definite = Vec::new(); // (ret, delta) of ok adds
    let mut reads = Vec::new(); // (op, value)
    let mut failed_adds = 0;
    let mut malformed = Vec::new();
    let mut malformed_count = 0;
    let mut bad = |op: usize, value: &Value| {
        malformed_count += 1;
        push_capped(
            &mut malformed,
            max,
            CounterAnomaly::Malformed {
                op,
                value: value.clone(),
            },
        );
    };
    for (i, op) in ops.iter().enumerate() {
        match op.f.as_str() {
            "add" if op.is_fail() => failed_adds += 1,
            "add" => match op.value.as_int() {
                Some(d) => {
                    possible.push((op.call, d));
                    if op.is_ok() {
                        definite.push((op.ret.unwrap_or(u64::MAX), d));
                    }
                }
                None => bad(i, &op.value),
            },
            "read" => {
                if let Completion::Ok(v) = &op.completion {
                    match v.as_int() {
                        Some(x) => reads.push((i, x)),
                        None => bad(i, v),
                    }
                }
            }
            _ => {}
        }
    }
    let adds = possible.len();
    let possible = Prefix::new(possible);
    let definite = Prefix::new(definite);
    let initial = i128::from(options.initial);

    let mut report = CounterReport {
        valid: true,
        reads: reads.len(),
        adds,
        failed_adds,
        out_of_bounds_count: 0,
        malformed_count,
        final_read: None,
        anomalies: Vec::new(),
    };
    let mut last_call = None;
    for (i, value) in reads {
        let r = &ops[i];
        // Adds invoked before the read completed may have applied...
        let (may_pos, may_neg) = possible.before(r.ret.unwrap_or(u64::MAX));
        // ...and those that completed before it was invoked certainly did (they are among
        // the former, so their positive deltas are in `may_pos` and negative in `may_neg`).
        let (sure_pos, sure_neg) = definite.before(r.call);
        let bounds = ReadBounds {
            read: i,
            value,
            lower: initial + sure_pos + may_neg,
            upper: initial + may_pos + sure_neg,
        };
        if !bounds.holds() {
            report.out_of_bounds_count += 1;
            push_capped(
                &mut report.anomalies,
                max,
                CounterAnomaly::OutOfBounds(bounds.clone()),
            );
        }
        if last_call.is_none_or(|c| r.call >= c) {
            last_call = Some(r.call);
            report.final_read = Some(bounds);
        }
    }
    report.valid = report.out_of_bounds_count == 0 && malformed_count == 0;
    report.anomalies.extend(malformed);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_sums_split_signs() {
        let p = Prefix::new(vec![(5, -2), (1, 3), (3, 4)]);
        assert_eq!(p.before(0), (0, 0));
        assert_eq!(p.before(3), (3, 0));
        assert_eq!(p.before(4), (7, 0));
        assert_eq!(p.before(100), (7, -2));
    }

    #[test]
    fn bounds_display() {
        let b = ReadBounds {
            read: 4,
            value: 3,
            lower: 1,
            upper: 5,
        };
        assert!(b.holds());
        assert_eq!(b.to_string(), "read op 4 returned 3, within [1, 5]");
    }
}
