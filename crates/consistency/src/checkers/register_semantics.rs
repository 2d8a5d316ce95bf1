//! # Lamport's register hierarchy: safe, regular, atomic
//!
//! Lamport ("On interprocess communication", 1986) orders read/write registers by what a read
//! may return when it overlaps writes. This checker judges a register history against all
//! three levels at once and counts the anomaly that separates the top two, the *new/old
//! inversion*.
//!
//! ## Precondition: unique written values
//!
//! A read is tied to the write it observed only through its value, so every write must write a
//! value of its own, different from every other write's and from the register's initial value
//! ([`SemanticsOptions::initial`], empty by default). A history that breaks this is rejected
//! with a [`SemanticsError`] naming the two operations, never judged on a guess. A read of a
//! value that nobody wrote is allowed in the input: it is judged (it breaks regularity, and
//! safety unless a write overlaps it).
//!
//! ## Definitions
//!
//! Times are the history's call and return times; operation `a` *precedes* `b` (`a ≺ b`) when
//! `a` returned strictly before `b` was called. An operation that never returned precedes
//! nothing: it may take effect at any time after its call. A read that never returned has no
//! value and is not judged; a failed (`:fail`) write of a recorded history did not happen. For a
//! completed read `r`:
//!
//! - its *preceding writes* are the writes `w ≺ r`; the *last* ones are the maximal among them:
//!   no other preceding write `w'` has `w ≺ w'`. With a single writer (more generally, when the
//!   writes are totally ordered by `≺`: [`RegisterSemantics::single_writer`]) there is at most
//!   one, the last write before `r`; with several writers, several pairwise concurrent writes
//!   can all be last;
//! - its *concurrent writes* are those with neither `w ≺ r` nor `r ≺ w`;
//! - its *source* ([`Source`]) is the write whose value it returned, the initial value, or
//!   [`Source::Unwritten`].
//!
//! Then:
//!
//! - **safe**: every read with no concurrent write returns the value of a last preceding write
//!   (the initial value if no write precedes it). A read that overlaps a write may return
//!   anything.
//! - **regular**: every read returns the value of a last preceding write (or the initial value
//!   if none precedes it) or of a concurrent write. For several writers this is the per-read
//!   condition (Shao, Pierce and Welch, DISC 2003, study stronger multi-writer variants that
//!   also relate pairs of reads).
//! - **new/old inversion**: reads `r1 ≺ r2` where `r2`'s source is *older* than `r1`'s: the
//!   initial value is older than every write, and write `w2` is older than `w1` when `w2 ≺ w1`
//!   (the only write order every execution agrees on). Reads of unwritten values take part in
//!   no inversion. Every such pair is counted ([`RegisterSemantics::new_old_inversions`]).
//! - **atomic**: linearizable (Herlihy and Wing 1990), the register behaving as if each
//!   operation took effect at one instant between its call and return. For single-writer
//!   histories Lamport's theorem makes it *regular with no new/old inversion*, which is how it
//!   is decided here, in `O(n log n)`; the property tests hold that equivalence to the
//!   linearizability checker. For multi-writer histories regularity plus no inversion is
//!   necessary but not sufficient (two readers can see two concurrent writes in opposite
//!   orders), so there atomicity is decided by [`check_linearizable`] within
//!   [`SemanticsOptions::budget`], and is `None` if the budget runs out.
//!
//! Atomic implies regular implies safe, for any number of writers (a linearizable read returns
//! the last write linearized before it, which is concurrent with it or a last preceding write).
//!
//! ## Cost
//!
//! Single writer: `O(n log n)` (binary searches over the chain of writes, a Fenwick tree over
//! write positions for the inversions). Several writers: `O(r·w)` for safety and regularity,
//! `O(r²)` for inversions, plus the linearizability check when the history is regular without
//! inversions.
//!
//! ## Where to read
//!
//! Lamport, "On interprocess communication, part II", Distributed Computing 1(2), 1986 (safe,
//! regular, atomic; the constructions); CGR ch. 4 (regular and atomic registers, §4.1; the
//! new/old inversion); Attiya and Welch ch. 10 (simulating read/write registers); Lynch §13.1
//! (atomic objects).
//!
//! ## Example: regular but not atomic
//!
//! ```
//! use synod_consistency::checkers::register_semantics::{
//!     check_register_semantics, SemanticsOptions,
//! };
//! use synod_consistency::specs::{RegisterOp::*, RegisterRet::*};
//! use synod_consistency::{History, Operation};
//!
//! let h: History<_, _> = History {
//!     ops: vec![
//!         Operation::complete(0, Write(1u64), 0, 100, WriteOk), // a long write
//!         Operation::complete(1, Read, 10, 20, ReadOk(Some(1))), // sees it
//!         Operation::complete(2, Read, 30, 40, ReadOk(None)),    // then the initial value
//!     ],
//! };
//! let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
//! assert!(s.safe_ok && s.regular_ok);
//! assert_eq!((s.new_old_inversions, s.atomic_ok), (1, Some(false)));
//! let inv = s.first_inversion.unwrap();
//! assert_eq!((inv.first_read, inv.second_read), (1, 2));
//! ```

use super::Interner;
use crate::format::{Completion, Recorded, Value};
use crate::specs::{Register, RegisterOp, RegisterRet};
use crate::{check_linearizable, Budget, History, Operation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hash;

/// What to check against.
#[derive(Clone, Debug)]
pub struct SemanticsOptions<V> {
    /// The register's initial value (`None`: empty; a read of `ReadOk(None)` always reads the
    /// initial value).
    pub initial: Option<V>,
    /// The step budget of the linearizability check that decides atomicity for multi-writer
    /// histories (unused for single-writer ones).
    pub budget: Budget,
}

impl<V> Default for SemanticsOptions<V> {
    /// An empty initial register, a budget of 10⁷ steps.
    fn default() -> Self {
        SemanticsOptions {
            initial: None,
            budget: Budget::steps(10_000_000),
        }
    }
}

/// What a read returned, as the write it observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Source {
    /// The initial value.
    Initial,
    /// The value of the write with this operation index.
    Write(usize),
    /// A value no write wrote.
    Unwritten,
}

/// A read that breaks safety or regularity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadViolation {
    /// The read's operation index.
    pub read: usize,
    /// What it returned.
    pub source: Source,
    /// The last writes preceding it (operation indices; empty: none precedes it, so the
    /// initial value was due).
    pub last_writes: Vec<usize>,
    /// The writes concurrent with it (empty for a safety violation).
    pub concurrent_writes: Vec<usize>,
}

/// A new/old inversion: `first_read ≺ second_read`, yet the second returned an older value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Inversion {
    /// The earlier read's operation index (it returned the newer value).
    pub first_read: usize,
    /// The later read's operation index (it returned the older value).
    pub second_read: usize,
    /// What the earlier read returned.
    pub newer: Source,
    /// What the later read returned.
    pub older: Source,
}

/// The verdicts on one history ([`check_register_semantics`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegisterSemantics {
    /// Writes that may have taken effect (completed or pending).
    pub writes: usize,
    /// Completed reads (the ones judged).
    pub reads: usize,
    /// True if the writes are totally ordered by real time (always so with one writer).
    pub single_writer: bool,
    /// Safe: every read with no concurrent write returned a last preceding write's value.
    pub safe_ok: bool,
    /// Regular: every read returned a last preceding or a concurrent write's value.
    pub regular_ok: bool,
    /// Atomic (linearizable); `None` only for a multi-writer history whose linearizability
    /// check ran out of budget.
    pub atomic_ok: Option<bool>,
    /// How many reads break safety.
    pub safe_violations: usize,
    /// How many reads break regularity.
    pub regular_violations: usize,
    /// How many pairs of reads form a new/old inversion.
    pub new_old_inversions: u64,
    /// The first read (in call order) that breaks safety.
    pub first_safe_violation: Option<ReadViolation>,
    /// The first read (in call order) that breaks regularity.
    pub first_regular_violation: Option<ReadViolation>,
    /// The inversion whose later read is called first.
    pub first_inversion: Option<Inversion>,
}

/// The strongest level of Lamport's hierarchy a history meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Not even safe.
    None,
    /// Safe, not regular.
    Safe,
    /// Regular, not atomic.
    Regular,
    /// Atomic.
    Atomic,
}

/// The first witness against the strongest level a history misses.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Witness {
    /// A read that breaks safety.
    NotSafe(ReadViolation),
    /// A read that breaks regularity (the history is safe).
    NotRegular(ReadViolation),
    /// A new/old inversion (the history is regular).
    Inversion(Inversion),
    /// A regular multi-writer history without inversions that is not linearizable: the
    /// linearizability checker found no order (no pair of reads to point at).
    NotLinearizable,
}

impl RegisterSemantics {
    /// The strongest level met (`Regular` when atomicity is undecided).
    pub fn level(&self) -> Level {
        if self.atomic_ok == Some(true) {
            Level::Atomic
        } else if self.regular_ok {
            Level::Regular
        } else if self.safe_ok {
            Level::Safe
        } else {
            Level::None
        }
    }

    /// The first violation of the weakest level broken: a safety violation, else a regularity
    /// violation, else an inversion; `None` if the history is atomic (or undecided).
    pub fn first_violation(&self) -> Option<Witness> {
        if let Some(v) = &self.first_safe_violation {
            return Some(Witness::NotSafe(v.clone()));
        }
        if let Some(v) = &self.first_regular_violation {
            return Some(Witness::NotRegular(v.clone()));
        }
        if let Some(i) = self.first_inversion {
            return Some(Witness::Inversion(i));
        }
        (self.atomic_ok == Some(false)).then_some(Witness::NotLinearizable)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Initial => f.write_str("the initial value"),
            Source::Write(i) => write!(f, "op {i}'s write"),
            Source::Unwritten => f.write_str("a value nobody wrote"),
        }
    }
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let writes = |w: &[usize]| {
            if w.is_empty() {
                "none".to_string()
            } else {
                w.iter()
                    .map(|i| format!("op {i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        match self {
            Witness::NotSafe(v) => write!(
                f,
                "not safe: read op {} overlaps no write but returned {} (last writes before it: {})",
                v.read,
                v.source,
                writes(&v.last_writes)
            ),
            Witness::NotRegular(v) => write!(
                f,
                "not regular: read op {} returned {} (last writes before it: {}; concurrent: {})",
                v.read,
                v.source,
                writes(&v.last_writes),
                writes(&v.concurrent_writes)
            ),
            Witness::Inversion(i) => write!(
                f,
                "new/old inversion: read op {} returned {}, then read op {} returned the older {}",
                i.first_read, i.newer, i.second_read, i.older
            ),
            Witness::NotLinearizable => {
                f.write_str("regular without inversions, but not linearizable")
            }
        }
    }
}

/// A history the checker does not judge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SemanticsError {
    /// Two writes wrote the same value (written values must be unique).
    DuplicateWrite {
        /// The first write's operation index.
        first: usize,
        /// The second write's operation index.
        second: usize,
    },
    /// A write wrote the register's initial value.
    WriteOfInitial {
        /// The write's operation index.
        op: usize,
    },
    /// An operation returned before it was called.
    ReturnBeforeCall {
        /// Its operation index.
        op: usize,
    },
    /// A recorded operation that is neither a read nor a write.
    Unsupported {
        /// Its operation index.
        op: usize,
        /// Its function.
        f: String,
    },
}

impl fmt::Display for SemanticsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SemanticsError::DuplicateWrite { first, second } => write!(
                f,
                "ops {first} and {second} write the same value; register semantics need unique written values"
            ),
            SemanticsError::WriteOfInitial { op } => write!(
                f,
                "op {op} writes the register's initial value; register semantics need unique written values"
            ),
            SemanticsError::ReturnBeforeCall { op } => {
                write!(f, "op {op} returns before it is called")
            }
            SemanticsError::Unsupported { op, f: func } => write!(
                f,
                "op {op} is a {func:?}; register semantics judge only reads and writes"
            ),
        }
    }
}

impl std::error::Error for SemanticsError {}

/// One operation, reduced to what the checker needs. Values are dense ids: 0 is the initial
/// value.
#[derive(Clone, Copy, Debug)]
struct View {
    index: usize,
    call: u64,
    /// `u64::MAX` for an operation that never returned (it precedes nothing).
    ret: u64,
    complete: bool,
    write: bool,
    value: usize,
}

/// Judges a register history (any value type; see the [module documentation](self)).
pub fn check_register_semantics<V: Clone + Eq + Hash>(
    history: &History<RegisterOp<V>, RegisterRet<V>>,
    options: &SemanticsOptions<V>,
) -> Result<RegisterSemantics, SemanticsError> {
    let mut values: Interner<Option<V>> = Interner::new();
    values.intern(&None);
    let initial_id = match &options.initial {
        Some(v) => values.intern(&Some(v.clone())),
        None => 0,
    };
    let mut views = Vec::with_capacity(history.ops.len());
    for (index, o) in history.ops.iter().enumerate() {
        let (complete, ret) = match &o.ret {
            Some((t, _)) if *t < o.call => {
                return Err(SemanticsError::ReturnBeforeCall { op: index })
            }
            Some((t, _)) => (true, *t),
            None => (false, u64::MAX),
        };
        let (write, value) = match (&o.op, &o.ret) {
            (RegisterOp::Write(v), _) => (true, values.intern(&Some(v.clone()))),
            (RegisterOp::Read, Some((_, RegisterRet::ReadOk(v)))) => (false, values.intern(v)),
            (RegisterOp::Read, _) => continue, // never returned: nothing to judge
        };
        views.push(View {
            index,
            call: o.call,
            ret,
            complete,
            write,
            value,
        });
    }
    judge(views, initial_id, &options.budget)
}

/// Judges a recorded history of `read`s and `write`s (Jepsen conventions: a `:fail`ed write did
/// not happen, an `:info` one may have; `nil` is the empty register), times being the event
/// positions `call`/`ret`. Indices in the report are indices into `recorded.ops`.
pub fn check_recorded_register_semantics(
    recorded: &Recorded,
    initial: &Value,
    budget: &Budget,
) -> Result<RegisterSemantics, SemanticsError> {
    let mut values: Interner<Value> = Interner::new();
    let initial_id = values.intern(initial);
    let mut views = Vec::with_capacity(recorded.ops.len());
    for (index, o) in recorded.ops.iter().enumerate() {
        let done = |ok: bool| match o.ret {
            Some(t) if t < o.call => Err(SemanticsError::ReturnBeforeCall { op: index }),
            Some(t) if ok => Ok((true, t)),
            _ => Ok((false, u64::MAX)),
        };
        match (o.f.as_str(), &o.completion) {
            ("write", Completion::Fail(_))
            | ("read", Completion::Fail(_) | Completion::Unknown(_)) => {}
            ("write", c) => {
                let (complete, ret) = done(matches!(c, Completion::Ok(_)))?;
                views.push(View {
                    index,
                    call: o.call,
                    ret,
                    complete,
                    write: true,
                    value: values.intern(&o.value),
                });
            }
            ("read", Completion::Ok(v)) => {
                let (complete, ret) = done(true)?;
                views.push(View {
                    index,
                    call: o.call,
                    ret,
                    complete,
                    write: false,
                    value: values.intern(v),
                });
            }
            (f, _) => {
                return Err(SemanticsError::Unsupported {
                    op: index,
                    f: f.to_string(),
                })
            }
        }
    }
    // The initial value was interned first: its id is 0.
    debug_assert_eq!(initial_id, 0);
    judge(views, 0, budget)
}

/// The common core: `views` in any order, value id `initial` is the initial value.
fn judge(
    views: Vec<View>,
    initial: usize,
    budget: &Budget,
) -> Result<RegisterSemantics, SemanticsError> {
    // The writes in call order; which write wrote each value.
    let mut writes: Vec<View> = views.iter().filter(|v| v.write).copied().collect();
    writes.sort_by_key(|w| (w.call, w.index));
    let mut writer_of: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for w in &writes {
        if w.value == initial {
            return Err(SemanticsError::WriteOfInitial { op: w.index });
        }
        if let Some(&first) = writer_of.get(&w.value) {
            let (first, second) = (first.min(w.index), first.max(w.index));
            return Err(SemanticsError::DuplicateWrite { first, second });
        }
        writer_of.insert(w.value, w.index);
    }
    let mut reads: Vec<View> = views.iter().filter(|v| !v.write).copied().collect();
    reads.sort_by_key(|r| (r.call, r.index));
    let source = |r: &View| {
        if r.value == initial {
            Source::Initial
        } else {
            writer_of
                .get(&r.value)
                .map_or(Source::Unwritten, |&w| Source::Write(w))
        }
    };
    let single_writer = writes.windows(2).all(|p| p[0].ret < p[1].call);
    let mut out = RegisterSemantics {
        writes: writes.len(),
        reads: reads.len(),
        single_writer,
        safe_ok: true,
        regular_ok: true,
        atomic_ok: None,
        safe_violations: 0,
        regular_violations: 0,
        new_old_inversions: 0,
        first_safe_violation: None,
        first_regular_violation: None,
        first_inversion: None,
    };
    let note = |out: &mut RegisterSemantics,
                r: &View,
                safe: bool,
                regular: bool,
                last: Vec<usize>,
                conc: Vec<usize>| {
        if !safe {
            out.safe_violations += 1;
            out.first_safe_violation
                .get_or_insert_with(|| ReadViolation {
                    read: r.index,
                    source: source(r),
                    last_writes: last.clone(),
                    concurrent_writes: conc.clone(),
                });
        }
        if !regular {
            out.regular_violations += 1;
            out.first_regular_violation
                .get_or_insert_with(|| ReadViolation {
                    read: r.index,
                    source: source(r),
                    last_writes: last,
                    concurrent_writes: conc,
                });
        }
    };
    if single_writer {
        // Chain position of each write: 1..=W in order (0 is the initial value).
        let positions: std::collections::BTreeMap<usize, usize> = writes
            .iter()
            .enumerate()
            .map(|(p, w)| (w.index, p + 1))
            .collect();
        let pos = |r: &View| match source(r) {
            Source::Initial => Some(0),
            Source::Write(i) => positions.get(&i).copied(),
            Source::Unwritten => None,
        };
        let mut ks: Vec<Option<usize>> = Vec::with_capacity(reads.len());
        for r in &reads {
            // Writes 1..=p precede r (returns are increasing along the chain); writes p+1..=q
            // are concurrent with it; later ones follow it.
            let p = writes.partition_point(|w| w.ret < r.call);
            let q = writes.partition_point(|w| w.call <= r.ret);
            let k = pos(r);
            let regular = k.is_some_and(|k| p <= k && k <= q);
            let safe = q > p || k == Some(p);
            if !safe || !regular {
                let last = if p == 0 {
                    vec![]
                } else {
                    vec![writes[p - 1].index]
                };
                let conc = writes[p..q].iter().map(|w| w.index).collect();
                note(&mut out, r, safe, regular, last, conc);
            }
            ks.push(k);
        }
        // Inversions: reads r1 ≺ r2 with k(r1) > k(r2). Sweep r2 in call order, adding every
        // r1 that returned before r2's call to a Fenwick tree over chain positions.
        let mut by_ret: Vec<usize> = (0..reads.len()).filter(|&i| ks[i].is_some()).collect();
        by_ret.sort_by_key(|&i| (reads[i].ret, reads[i].call, reads[i].index));
        let mut tree = Fenwick::new(writes.len() + 1);
        let (mut added, mut next) = (0u64, 0usize);
        let mut newest: Option<(usize, usize)> = None; // (k, read position) of the max k added
        for (j, r2) in reads.iter().enumerate() {
            let Some(k2) = ks[j] else { continue };
            while next < by_ret.len() && reads[by_ret[next]].ret < r2.call {
                let i = by_ret[next];
                let k1 = ks[i].expect("filtered");
                tree.add(k1);
                added += 1;
                if newest.is_none_or(|(k, _)| k1 > k) {
                    newest = Some((k1, i));
                }
                next += 1;
            }
            let newer = added - tree.prefix(k2);
            out.new_old_inversions += newer;
            if newer > 0 && out.first_inversion.is_none() {
                let (_, i) = newest.expect("some read was added");
                out.first_inversion = Some(Inversion {
                    first_read: reads[i].index,
                    second_read: r2.index,
                    newer: source(&reads[i]),
                    older: source(r2),
                });
            }
        }
    } else {
        for r in &reads {
            let before: Vec<&View> = writes.iter().filter(|w| w.ret < r.call).collect();
            // w is last among the preceding writes iff no preceding write was called after w
            // returned.
            let latest_call = before.iter().map(|w| w.call).max();
            let last: Vec<usize> = before
                .iter()
                .filter(|w| latest_call.is_some_and(|c| w.ret >= c))
                .map(|w| w.index)
                .collect();
            let conc: Vec<usize> = writes
                .iter()
                .filter(|w| w.ret >= r.call && w.call <= r.ret)
                .map(|w| w.index)
                .collect();
            let ok = match source(r) {
                Source::Initial => before.is_empty(),
                Source::Write(i) => last.contains(&i) || conc.contains(&i),
                Source::Unwritten => false,
            };
            let safe = ok || !conc.is_empty();
            if !ok {
                note(&mut out, r, safe, false, last, conc);
            }
        }
        let write_at: std::collections::BTreeMap<usize, View> =
            writes.iter().map(|w| (w.index, *w)).collect();
        let older = |a: Source, b: Source| match (a, b) {
            (Source::Initial, Source::Write(_)) => true,
            (Source::Write(x), Source::Write(y)) => write_at[&x].ret < write_at[&y].call,
            _ => false,
        };
        for r2 in &reads {
            for r1 in &reads {
                if r1.ret < r2.call && older(source(r2), source(r1)) {
                    out.new_old_inversions += 1;
                    out.first_inversion.get_or_insert(Inversion {
                        first_read: r1.index,
                        second_read: r2.index,
                        newer: source(r1),
                        older: source(r2),
                    });
                }
            }
        }
    }
    out.safe_ok = out.safe_violations == 0;
    out.regular_ok = out.regular_violations == 0;
    out.atomic_ok = if !out.regular_ok || out.new_old_inversions > 0 {
        Some(false)
    } else if single_writer {
        Some(true)
    } else {
        let ops = views
            .iter()
            .map(|v| {
                let value = (v.value != initial).then_some(v.value);
                let (op, ret) = if v.write {
                    (RegisterOp::Write(v.value), RegisterRet::WriteOk)
                } else {
                    (RegisterOp::Read, RegisterRet::ReadOk(value))
                };
                Operation {
                    client: v.index as u64,
                    op,
                    call: v.call,
                    ret: v.complete.then_some((v.ret, ret)),
                }
            })
            .collect();
        check_linearizable(&Register::new(), &History { ops }, budget.clone()).holds()
    };
    Ok(out)
}

/// Counts of chain positions added so far, with prefix sums.
struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick {
            tree: vec![0; n + 1],
        }
    }

    fn add(&mut self, k: usize) {
        let mut i = k + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// How many added positions are `<= k`.
    fn prefix(&self, k: usize) -> u64 {
        let (mut i, mut sum) = (k + 1, 0);
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}
