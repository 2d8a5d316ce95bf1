//! # Causal consistency: CC, causal memory (CM) and causal convergence (CCv)
//!
//! Causal consistency lets replicas disagree on the order of concurrent writes, but every
//! client must see causally related writes in causal order. Bouajjani, Enea, Guerraoui and
//! Hamza ("On verifying causal consistency", POPL 2017) give three variants for read/write
//! memories (registers, or a key-value store of registers) and show that, although checking
//! one history is NP-complete in general, it is polynomial for *differentiated* histories,
//! where every write writes a value of its own: a history is consistent exactly when it
//! contains none of a few *bad patterns*. This checker looks for them.
//!
//! ## Precondition: differentiated histories
//!
//! A read is tied to the write it observed only through its value, so the writes of each key
//! that did not fail must write distinct values, none of them the initial value
//! ([`CausalOptions::initial`], `nil` by default). A history that breaks this is rejected with
//! a [`CausalError`] naming the operations, never judged on a guess. Only `read` and `write`
//! are accepted (an `:ok` read returns the value read; a write's value is its invocation's);
//! each operation's `key` (`None` for a single register) names an independent register.
//!
//! Completions (Jepsen's conventions): a `:fail`ed write did not happen and is left out; a
//! write whose outcome is unknown (`:info`, or never completed) may have happened: if some
//! read returned its value it did, and it takes part as a write; if none did, it is left out
//! (leaving out a write nobody read never makes a history less consistent: program order is
//! transitive, so no causal path needs it). Reads that did not complete `:ok` returned nothing
//! and are left out.
//!
//! ## Definitions
//!
//! The *program order* `po` orders each process's operations by invocation (across keys).
//! The *read-from* relation `rf` links each write to the reads that returned its value. The
//! *causal order* is `CO = (po ∪ rf)⁺`; an operation's *causal past* is what precedes it in
//! `CO`. Then, informally (the paper states them with a causal order `co ⊇ po` to be guessed;
//! for differentiated histories the least one, `CO`, is the right guess):
//!
//! - **CC** (causal consistency): every read's return value is explained by *some*
//!   serialization of its causal past that respects `CO` (each read on its own);
//! - **CM** (causal memory, Ahamad, Neiger, Burns, Kohli and Hutto 1995): for every process,
//!   *one* serialization of all writes and its own operations respects `CO` and explains all
//!   its reads (each process has a single consistent view);
//! - **CCv** (causal convergence, the model of causally consistent stores that converge with
//!   last-writer-wins on a total arbitration order): one total order `arb` of all operations
//!   respects `CO`, and each read returns the `arb`-last write to its key in its causal past.
//!
//! CM and CCv each imply CC and are incomparable; sequential consistency implies both (so
//! linearizability does too).
//!
//! ## Bad patterns
//!
//! With `W(x)` the writes of key `x` and `w(x, v)` the write of `v` to `x`:
//!
//! | pattern | meaning | breaks |
//! |---|---|---|
//! | `CyclicCO` | `po ∪ rf` has a cycle (an operation causally precedes itself: a read saw a write from its own future) | CC, CM, CCv |
//! | `ThinAirRead` | a read returned a value no write (that did not fail) wrote | CC, CM, CCv |
//! | `WriteCOInitRead` | a read returned the initial value of `x`, yet some write of `x` causally precedes it | CC, CM, CCv |
//! | `WriteCORead` | a read returned `w1`'s value of `x`, yet `w1 CO w2 CO r` for another write `w2` of `x` | CC, CM, CCv |
//! | `CyclicCF` | `CF ∪ CO` has a cycle, where `w1 CF w2` (conflict: both write `x`, and some read `r` returns `w2`'s value with `w1 CO r`, so `w1` must be arbitrated before `w2`) | CCv |
//! | `WriteHBInitRead` | in some process's view (`HB`, below) a write of `x` precedes one of its reads that returned the initial value of `x` | CM |
//! | `CyclicHB` | some process's view `HB` has a cycle | CM |
//!
//! A history is CC iff it has none of the first four, CCv iff none of those nor `CyclicCF`,
//! CM iff none of the first four nor `WriteHBInitRead`, `CyclicHB` (the paper's Theorems for
//! differentiated read/write histories). The view `HB_p` of process `p` is the least
//! transitive relation on the causal past of `p`'s last operation that contains `CO` there
//! and such that, whenever a read `r2` of `p` returns `w2`'s value of `x` and another write
//! `w1` of `x` has `w1 HB_p r2`, also `w1 HB_p w2` (in `p`'s serialization `w1` must come
//! before `w2`, or `r2` would return `w1`'s value or a later one). The paper defines one such
//! relation per operation `o`; it grows along `po`, so the last operation of each process
//! decides. `HB_p` is computed as a fixpoint: close, derive the forced write pairs, repeat.
//!
//! ## Report
//!
//! [`CausalReport`] says for each level whether it holds and gives its first violation (the
//! level's bad patterns in the table's order; within a pattern, the read with the lowest
//! operation index, or the cycle through the lowest index, or the lowest process for the CM
//! patterns), with the operations involved (indices into [`Recorded::ops`]: the causal path,
//! or the cycle, that makes the pattern) and a sentence for a human. A level broken by a CC
//! pattern reports that pattern. [`PatternCounts`] counts every instance (see its fields).
//! The `CyclicCF` and CM patterns are only looked for when `CO` is acyclic (otherwise every
//! level already fails on `CyclicCO`, and `CF` and `HB` mean nothing).
//!
//! ## Cost
//!
//! With `n` operations taking part, `p` processes and `E ≈ 2n` edges of `po ∪ rf`: the causal
//! pasts are `n` bit sets of `n` bits (`n²/8` bytes: 0.5 MB for 2,000 operations; the conflict
//! sets and the process views take one such matrix each), computed on the strongly connected
//! components in `O(E·n/64)`; the CC patterns take `O(n·n/64)` plus,
//! for `WriteCORead`, one bit test per earlier write of the read's key in its causal past;
//! `CyclicCF` adds the conflict edges (at most one per pair of writes of a key) and a
//! Tarjan pass; CM recomputes each process's view in rounds of `O((E + forced)·n/64)` until no
//! new forced pair appears (at most one round per forced pair, in practice a handful).
//!
//! ## Where to read
//!
//! - Ahmed Bouajjani, Constantin Enea, Rachid Guerraoui and Jad Hamza, *On verifying causal
//!   consistency*, POPL 2017 (CC, CM, CCv; bad patterns; NP-completeness in general);
//! - Mustaque Ahamad, Gil Neiger, James E. Burns, Prince Kohli and Phillip W. Hutto, *Causal
//!   memory: definitions, implementation, and programming*, Distributed Computing 9(1), 1995;
//! - Matthieu Perrin, Achour Mostéfaoui and Claude Jard, *Causal consistency: beyond memory*,
//!   PPoPP 2016 (the variants side by side);
//! - Jepsen's consistency models, <https://jepsen.io/consistency/models/causal>;
//!   Kshemkalyani and Singhal ch. 12 (distributed shared memory consistency models); Viotti
//!   and Vukolić, *Consistency in non-transactional distributed storage systems*, 2016.
//!
//! ## Example: a write seen without its cause
//!
//! Process 0 writes `x = 1` then `y = 1`; process 1 reads `y = 1`, then `x` and gets the
//! initial value: `w(x, 1) po w(y, 1) rf r(y) po r(x)`, so the write of `x` causally precedes
//! a read that missed it.
//!
//! ```
//! use synod_consistency::checkers::causal::{check_causal, BadPattern, CausalOptions};
//! use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
//!
//! let op = |process, f: &str, key: &str, value: Value, result: Value, at: u64| RecordedOp {
//!     process,
//!     f: f.into(),
//!     key: Some(Value::Keyword(key.into())),
//!     value,
//!     completion: Completion::Ok(result),
//!     call: 2 * at,
//!     ret: Some(2 * at + 1),
//!     call_nanos: None,
//!     ret_nanos: None,
//!     line: at as usize + 1,
//! };
//! let h = Recorded {
//!     ops: vec![
//!         op(0, "write", "x", Value::Int(1), Value::Int(1), 0),
//!         op(0, "write", "y", Value::Int(1), Value::Int(1), 1),
//!         op(1, "read", "y", Value::Nil, Value::Int(1), 2),
//!         op(1, "read", "x", Value::Nil, Value::Nil, 3),
//!     ],
//!     skipped_events: 0,
//! };
//! let report = check_causal(&h, &CausalOptions::default()).unwrap();
//! assert!(!report.causal.holds);
//! let v = report.causal.violation.as_ref().unwrap();
//! assert_eq!(v.pattern, BadPattern::WriteCoInitRead);
//! assert_eq!(v.ops, vec![0, 1, 2, 3]); // the causal path from the write to the read
//! ```

mod graph;

use super::Interner;
use crate::format::{Completion, Recorded, Value};
use graph::{ones, BitMatrix};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Options of [`check_causal`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CausalOptions {
    /// Every register's (every key's) value before any write: `nil` by default.
    pub initial: Value,
}

impl Default for CausalOptions {
    fn default() -> Self {
        CausalOptions {
            initial: Value::Nil,
        }
    }
}

/// The three variants of causal consistency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CausalLevel {
    /// CC: each read is explained by some serialization of its causal past.
    Causal,
    /// CM: each process has one serialization of all writes and its own operations.
    CausalMemory,
    /// CCv: one total arbitration order explains every read from its causal past.
    CausalConvergence,
}

impl CausalLevel {
    /// Every level, weakest first.
    pub const ALL: [CausalLevel; 3] = [
        CausalLevel::Causal,
        CausalLevel::CausalMemory,
        CausalLevel::CausalConvergence,
    ];

    /// The short name: `CC`, `CM`, `CCv`.
    pub fn short(self) -> &'static str {
        match self {
            CausalLevel::Causal => "CC",
            CausalLevel::CausalMemory => "CM",
            CausalLevel::CausalConvergence => "CCv",
        }
    }

    /// The command-line name: `causal`, `causal-memory`, `causal-convergence`.
    pub fn name(self) -> &'static str {
        match self {
            CausalLevel::Causal => "causal",
            CausalLevel::CausalMemory => "causal-memory",
            CausalLevel::CausalConvergence => "causal-convergence",
        }
    }

    /// The level with this command-line name (or short name, any case).
    pub fn from_name(name: &str) -> Option<CausalLevel> {
        CausalLevel::ALL
            .into_iter()
            .find(|l| l.name() == name || l.short().eq_ignore_ascii_case(name))
    }

    /// The bad patterns whose absence defines the level, in reporting order.
    pub fn patterns(self) -> &'static [BadPattern] {
        use BadPattern::*;
        match self {
            CausalLevel::Causal => &[CyclicCo, ThinAirRead, WriteCoInitRead, WriteCoRead],
            CausalLevel::CausalMemory => &[
                CyclicCo,
                ThinAirRead,
                WriteCoInitRead,
                WriteCoRead,
                WriteHbInitRead,
                CyclicHb,
            ],
            CausalLevel::CausalConvergence => &[
                CyclicCo,
                ThinAirRead,
                WriteCoInitRead,
                WriteCoRead,
                CyclicCf,
            ],
        }
    }
}

impl fmt::Display for CausalLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// The bad patterns of Bouajjani et al. (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BadPattern {
    /// `po ∪ rf` is cyclic.
    CyclicCo,
    /// A read returned a value nobody wrote.
    ThinAirRead,
    /// A read returned the initial value although a write of its key causally precedes it.
    WriteCoInitRead,
    /// A read returned `w1`'s value although `w1 CO w2 CO r` for another write `w2` of its key.
    WriteCoRead,
    /// The conflict relation and the causal order together are cyclic (breaks CCv).
    CyclicCf,
    /// In a process's view a write precedes its read of the initial value (breaks CM).
    WriteHbInitRead,
    /// A process's view is cyclic (breaks CM).
    CyclicHb,
}

impl BadPattern {
    /// The paper's name: `CyclicCO`, `ThinAirRead`, `WriteCOInitRead`, `WriteCORead`,
    /// `CyclicCF`, `WriteHBInitRead`, `CyclicHB`.
    pub fn name(self) -> &'static str {
        match self {
            BadPattern::CyclicCo => "CyclicCO",
            BadPattern::ThinAirRead => "ThinAirRead",
            BadPattern::WriteCoInitRead => "WriteCOInitRead",
            BadPattern::WriteCoRead => "WriteCORead",
            BadPattern::CyclicCf => "CyclicCF",
            BadPattern::WriteHbInitRead => "WriteHBInitRead",
            BadPattern::CyclicHb => "CyclicHB",
        }
    }
}

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One instance of a bad pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Violation {
    /// The pattern.
    pub pattern: BadPattern,
    /// The operations involved, indices into [`Recorded::ops`]: the causal path from the
    /// write to the read (`WriteCOInitRead`), `[w1, w2, r]` (`WriteCORead`), `[r]`
    /// (`ThinAirRead`), the cycle with its first operation repeated at the end (`CyclicCO`,
    /// `CyclicCF`, `CyclicHB`), the path in the process's view from the write to the read
    /// (`WriteHBInitRead`).
    pub ops: Vec<usize>,
    /// The process whose view is broken (CM patterns only).
    pub process: Option<u64>,
    /// What happened, for a human, in terms of the operations.
    pub explanation: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pattern, self.explanation)
    }
}

/// The verdict on one level.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LevelVerdict {
    /// The history satisfies the level.
    pub holds: bool,
    /// The first bad pattern found, if it does not.
    pub violation: Option<Violation>,
}

/// How many instances of each bad pattern the history has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PatternCounts {
    /// Operations that lie on a cycle of `po ∪ rf`.
    pub cyclic_co: usize,
    /// Reads of values nobody wrote.
    pub thin_air_read: usize,
    /// Reads of the initial value with a write of their key in their causal past.
    pub write_co_init_read: usize,
    /// Reads of `w1`'s value with some `w1 CO w2 CO r` (`w2` writing the same key).
    pub write_co_read: usize,
    /// Operations that lie on a cycle of `CF ∪ CO` (0 when `CO` is cyclic).
    pub cyclic_cf: usize,
    /// Reads of the initial value that a write of their key precedes in their process's
    /// view (processes whose view is acyclic; 0 when `CO` is cyclic).
    pub write_hb_init_read: usize,
    /// Processes whose view is cyclic (0 when `CO` is cyclic).
    pub cyclic_hb: usize,
}

impl PatternCounts {
    /// The count of `pattern`.
    pub fn of(&self, pattern: BadPattern) -> usize {
        match pattern {
            BadPattern::CyclicCo => self.cyclic_co,
            BadPattern::ThinAirRead => self.thin_air_read,
            BadPattern::WriteCoInitRead => self.write_co_init_read,
            BadPattern::WriteCoRead => self.write_co_read,
            BadPattern::CyclicCf => self.cyclic_cf,
            BadPattern::WriteHbInitRead => self.write_hb_init_read,
            BadPattern::CyclicHb => self.cyclic_hb,
        }
    }
}

/// The result of [`check_causal`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CausalReport {
    /// Operations in the history.
    pub ops: usize,
    /// Writes taking part: `:ok` writes and writes of unknown outcome whose value was read.
    pub writes: usize,
    /// Reads taking part: `:ok` reads.
    pub reads: usize,
    /// Operations left out: failed writes, reads that did not complete `:ok`, writes of
    /// unknown outcome nobody read.
    pub left_out: usize,
    /// Distinct keys among the operations taking part.
    pub keys: usize,
    /// Processes among the operations taking part.
    pub processes: usize,
    /// Rounds of the view fixpoint, summed over processes (CM's cost).
    pub view_rounds: usize,
    /// Causal consistency (CC).
    pub causal: LevelVerdict,
    /// Causal memory (CM).
    pub causal_memory: LevelVerdict,
    /// Causal convergence (CCv).
    pub causal_convergence: LevelVerdict,
    /// Instances of every pattern.
    pub counts: PatternCounts,
}

impl CausalReport {
    /// The verdict on `level`.
    pub fn verdict(&self, level: CausalLevel) -> &LevelVerdict {
        match level {
            CausalLevel::Causal => &self.causal,
            CausalLevel::CausalMemory => &self.causal_memory,
            CausalLevel::CausalConvergence => &self.causal_convergence,
        }
    }

    /// True if the history satisfies `level`.
    pub fn holds(&self, level: CausalLevel) -> bool {
        self.verdict(level).holds
    }

    /// The distinct first violations of the three levels, in level order (CC's, then CM's
    /// and CCv's when they differ from it).
    pub fn violations(&self) -> Vec<&Violation> {
        let mut out: Vec<&Violation> = Vec::new();
        for level in CausalLevel::ALL {
            if let Some(v) = &self.verdict(level).violation {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }
}

impl fmt::Display for CausalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for level in CausalLevel::ALL {
            let v = self.verdict(level);
            parts.push(match &v.violation {
                None => format!("{level} holds"),
                Some(x) => format!("{level} VIOLATED ({})", x.pattern),
            });
        }
        write!(
            f,
            "causal: {}; {} reads, {} writes, {} keys, {} processes, {} left out",
            parts.join(", "),
            self.reads,
            self.writes,
            self.keys,
            self.processes,
            self.left_out
        )
    }
}

/// A history the checker does not judge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CausalError {
    /// Two writes (that did not fail) wrote the same value to the same key: the history is
    /// not differentiated.
    DuplicateWrite {
        /// The first write's operation index.
        first: usize,
        /// The second write's operation index.
        second: usize,
    },
    /// A write wrote the initial value.
    WriteOfInitial {
        /// The write's operation index.
        op: usize,
    },
    /// An operation that is neither a `read` nor a `write`.
    Unsupported {
        /// Its operation index.
        op: usize,
        /// Its function.
        f: String,
    },
}

impl fmt::Display for CausalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CausalError::DuplicateWrite { first, second } => write!(
                f,
                "ops {first} and {second} write the same value to the same key; the causal \
                 checker needs differentiated histories (values must be unique per key)"
            ),
            CausalError::WriteOfInitial { op } => write!(
                f,
                "op {op} writes the initial value; the causal checker needs differentiated \
                 histories (values must be unique per key and differ from the initial value)"
            ),
            CausalError::Unsupported { op, f: func } => write!(
                f,
                "op {op} is a {func:?}; the causal checker judges only reads and writes"
            ),
        }
    }
}

impl std::error::Error for CausalError {}

/// How one recorded operation takes part.
enum Class {
    /// It does not (a failed write, a read that did not complete `:ok`).
    Out,
    /// A write that did not fail, with its value id.
    Write { known: bool, id: usize },
    /// An `:ok` read, with the id of the value it returned.
    Read(usize),
}

/// Dense ids of (key, value) pairs and the write (that did not fail) of each.
struct Values {
    ids: Interner<(usize, Value)>,
    /// Value id -> the operation that wrote it (`usize::MAX`: none).
    writer: Vec<usize>,
}

impl Values {
    fn intern(&mut self, key: usize, value: &Value) -> usize {
        let id = self.ids.intern(&(key, value.clone()));
        if id == self.writer.len() {
            self.writer.push(usize::MAX);
        }
        id
    }
}

/// What a read returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// The initial value.
    Initial,
    /// The value of this write (a node).
    Write(usize),
    /// A value no write taking part wrote.
    Unwritten,
}

/// One operation taking part.
#[derive(Clone, Debug)]
struct Node {
    /// Its index in the recorded history.
    op: usize,
    process: u64,
    key: usize,
    /// `None` for a write.
    read: Option<Source>,
}

/// Why one node precedes the next on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    Po,
    Rf,
    /// Forced by this read (a node): conflict (CF) or view (HB) order between two writes.
    Forced(usize),
}

/// The history reduced to its nodes and the causal order.
struct Causal<'a> {
    recorded: &'a Recorded,
    nodes: Vec<Node>,
    /// Out-edges of `po ∪ rf` (po: to the next operation of the process only).
    adj: Vec<Vec<usize>>,
    /// The previous operation of the same process.
    po_pred: Vec<Option<usize>>,
    /// Per key: its writes (bit set of nodes).
    writes_of: Vec<Vec<u64>>,
    /// Strict causal pasts (bit sets of nodes); an operation on a cycle is in its own past.
    past: BitMatrix,
}

/// Checks causal consistency (CC), causal memory (CM) and causal convergence (CCv) of a
/// differentiated register or key-value history (see the [module documentation](self)).
pub fn check_causal(
    recorded: &Recorded,
    options: &CausalOptions,
) -> Result<CausalReport, CausalError> {
    // Classify every operation; writes that did not fail, by (key, value).
    let mut keys: Interner<Option<Value>> = Interner::new();
    let mut key_count = 0;
    let mut values = Values {
        ids: Interner::new(),
        writer: Vec::new(),
    };
    let mut failed_writer: BTreeMap<usize, usize> = BTreeMap::new(); // value id -> op
    let mut class = Vec::with_capacity(recorded.ops.len());
    let mut key_of = Vec::with_capacity(recorded.ops.len());
    for (i, o) in recorded.ops.iter().enumerate() {
        let key = keys.intern(&o.key);
        key_count = key_count.max(key + 1);
        key_of.push(key);
        let c = match (o.f.as_str(), &o.completion) {
            ("write", Completion::Fail(_)) => {
                let id = values.intern(key, &o.value);
                failed_writer.entry(id).or_insert(i);
                Class::Out
            }
            ("write", c) => {
                if o.value == options.initial {
                    return Err(CausalError::WriteOfInitial { op: i });
                }
                let id = values.intern(key, &o.value);
                if values.writer[id] != usize::MAX {
                    return Err(CausalError::DuplicateWrite {
                        first: values.writer[id],
                        second: i,
                    });
                }
                values.writer[id] = i;
                Class::Write {
                    known: matches!(c, Completion::Ok(_)),
                    id,
                }
            }
            ("read", Completion::Ok(v)) => Class::Read(values.intern(key, v)),
            ("read", _) => Class::Out,
            (f, _) => {
                return Err(CausalError::Unsupported {
                    op: i,
                    f: f.to_string(),
                })
            }
        };
        class.push(c);
    }
    let writer = &values.writer;
    // Writes of unknown outcome take part when read.
    let mut read_values = vec![false; writer.len()];
    for c in &class {
        if let Class::Read(id) = c {
            read_values[*id] = true;
        }
    }
    let mut node_of = vec![usize::MAX; recorded.ops.len()];
    let mut nodes: Vec<Node> = Vec::new();
    for (i, c) in class.iter().enumerate() {
        let takes_part = match c {
            Class::Out => false,
            Class::Write { known, id } => *known || read_values[*id],
            Class::Read(_) => true,
        };
        if takes_part {
            node_of[i] = nodes.len();
            nodes.push(Node {
                op: i,
                process: recorded.ops[i].process,
                key: key_of[i],
                read: None,
            });
        }
    }
    for node in nodes.iter_mut() {
        if let Class::Read(id) = class[node.op] {
            let value = match &recorded.ops[node.op].completion {
                Completion::Ok(v) => v,
                _ => unreachable!("reads taking part completed :ok"),
            };
            node.read = Some(if *value == options.initial {
                Source::Initial
            } else if writer[id] != usize::MAX {
                Source::Write(node_of[writer[id]])
            } else {
                Source::Unwritten
            });
        }
    }
    let causal = Causal::new(recorded, nodes, key_count);
    let n = causal.nodes.len();
    let writes = causal.nodes.iter().filter(|x| x.read.is_none()).count();
    let mut used_keys: Vec<usize> = causal.nodes.iter().map(|x| x.key).collect();
    used_keys.sort_unstable();
    used_keys.dedup();
    let mut processes: Vec<u64> = causal.nodes.iter().map(|x| x.process).collect();
    processes.sort_unstable();
    processes.dedup();

    let mut counts = PatternCounts::default();
    let mut first: BTreeMap<BadPattern, Violation> = BTreeMap::new();
    let co_acyclic = causal.cyclic_co(&mut counts, &mut first);
    causal.read_patterns(&failed_writer, &values, &mut counts, &mut first);
    let mut view_rounds = 0;
    if co_acyclic {
        causal.cyclic_cf(&mut counts, &mut first);
        view_rounds = causal.views(&processes, &mut counts, &mut first);
    }
    let verdict = |level: CausalLevel| {
        let violation = level.patterns().iter().find_map(|p| first.get(p).cloned());
        LevelVerdict {
            holds: violation.is_none(),
            violation,
        }
    };
    Ok(CausalReport {
        ops: recorded.ops.len(),
        writes,
        reads: n - writes,
        left_out: recorded.ops.len() - n,
        keys: used_keys.len(),
        processes: processes.len(),
        view_rounds,
        causal: verdict(CausalLevel::Causal),
        causal_memory: verdict(CausalLevel::CausalMemory),
        causal_convergence: verdict(CausalLevel::CausalConvergence),
        counts,
    })
}

impl<'a> Causal<'a> {
    /// Builds `po ∪ rf` and the causal pasts.
    fn new(recorded: &'a Recorded, nodes: Vec<Node>, keys: usize) -> Causal<'a> {
        let n = nodes.len();
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut po_pred = vec![None; n];
        // Program order: each process's nodes by invocation position.
        let mut by_process: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (v, x) in nodes.iter().enumerate() {
            by_process.entry(x.process).or_default().push(v);
        }
        for list in by_process.values_mut() {
            list.sort_by_key(|&v| (recorded.ops[nodes[v].op].call, nodes[v].op));
            for pair in list.windows(2) {
                adj[pair[0]].push(pair[1]);
                po_pred[pair[1]] = Some(pair[0]);
            }
        }
        let mut writes_of = vec![vec![0u64; graph::words(n)]; keys];
        for (v, x) in nodes.iter().enumerate() {
            match x.read {
                None => graph::set(&mut writes_of[x.key], v),
                Some(Source::Write(w)) => adj[w].push(v),
                Some(_) => {}
            }
        }
        // Causal pasts on the condensation, components in topological order.
        let comps = graph::sccs(&adj);
        let mut comp_of = vec![0; n];
        for (c, members) in comps.iter().enumerate() {
            for &v in members {
                comp_of[v] = c;
            }
        }
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (u, outs) in adj.iter().enumerate() {
            for &v in outs {
                preds[v].push(u);
            }
        }
        let mut past = BitMatrix::new(n);
        for (c, members) in comps.iter().enumerate().rev() {
            let head = members[0];
            for &v in members {
                for &u in &preds[v] {
                    if comp_of[u] != c {
                        past.inherit(head, u);
                    }
                }
            }
            if members.len() > 1 {
                for &v in members {
                    graph::set(past.row_mut(head), v);
                }
            }
            for &v in &members[1..] {
                let row = past.row(head).to_vec();
                past.row_mut(v).copy_from_slice(&row);
            }
        }
        Causal {
            recorded,
            nodes,
            adj,
            po_pred,
            writes_of,
            past,
        }
    }

    /// `op 3 (p1 w(x, 1))`, `op 5 (p2 r(x) = 1)`.
    fn describe(&self, v: usize) -> String {
        let x = &self.nodes[v];
        let o = &self.recorded.ops[x.op];
        let key = o.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
        match (&x.read, &o.completion) {
            (Some(_), Completion::Ok(value)) => {
                format!("op {} (p{} r({key}) = {value})", x.op, x.process)
            }
            _ if key.is_empty() => format!("op {} (p{} w({}))", x.op, x.process, o.value),
            _ => format!("op {} (p{} w({key}, {}))", x.op, x.process, o.value),
        }
    }

    /// `key x` or `the register`.
    fn key_name(&self, v: usize) -> String {
        match &self.recorded.ops[self.nodes[v].op].key {
            Some(k) => format!("key {k}"),
            None => "the register".to_string(),
        }
    }

    /// Why `a` precedes `b` in `po ∪ rf` (they are adjacent on a path).
    fn co_edge(&self, a: usize, b: usize) -> Edge {
        if self.nodes[b].read == Some(Source::Write(a)) {
            Edge::Rf
        } else {
            Edge::Po
        }
    }

    /// A path (nodes) as text, edges labelled by `label`.
    fn show_path(&self, path: &[usize], label: impl Fn(usize, usize) -> Edge) -> String {
        let mut s = self.describe(path[0]);
        for pair in path.windows(2) {
            let arrow = match label(pair[0], pair[1]) {
                Edge::Po => " →po ".to_string(),
                Edge::Rf => " →rf ".to_string(),
                Edge::Forced(r) => format!(" →(op {}) ", self.nodes[r].op),
            };
            s.push_str(&arrow);
            s.push_str(&self.describe(pair[1]));
        }
        s
    }

    /// The operation indices of a node path.
    fn ops(&self, path: &[usize]) -> Vec<usize> {
        path.iter().map(|&v| self.nodes[v].op).collect()
    }

    /// CyclicCO; returns true if `CO` is acyclic.
    fn cyclic_co(
        &self,
        counts: &mut PatternCounts,
        first: &mut BTreeMap<BadPattern, Violation>,
    ) -> bool {
        let n = self.nodes.len();
        let on_cycle: Vec<usize> = (0..n).filter(|&v| self.past.get(v, v)).collect();
        counts.cyclic_co = on_cycle.len();
        let Some(&start) = on_cycle.first() else {
            return true;
        };
        let cycle = graph::shortest_path(&self.adj, start, start, |_| true)
            .expect("a node in its own causal past is on a cycle");
        first.insert(
            BadPattern::CyclicCo,
            Violation {
                pattern: BadPattern::CyclicCo,
                ops: self.ops(&cycle),
                process: None,
                explanation: format!(
                    "the causal order is cyclic: {} (a read returned a value written in its own \
                     causal future)",
                    self.show_path(&cycle, |a, b| self.co_edge(a, b))
                ),
            },
        );
        false
    }

    /// ThinAirRead, WriteCOInitRead, WriteCORead.
    fn read_patterns(
        &self,
        failed_writer: &BTreeMap<usize, usize>,
        values: &Values,
        counts: &mut PatternCounts,
        first: &mut BTreeMap<BadPattern, Violation>,
    ) {
        for (r, x) in self.nodes.iter().enumerate() {
            let Some(source) = x.read else { continue };
            let past = self.past.row(r);
            let key_writes = &self.writes_of[x.key];
            let value = match &self.recorded.ops[x.op].completion {
                Completion::Ok(v) => v,
                _ => unreachable!("reads taking part completed :ok"),
            };
            match source {
                Source::Unwritten => {
                    counts.thin_air_read += 1;
                    first.entry(BadPattern::ThinAirRead).or_insert_with(|| {
                        let failed = values
                            .ids
                            .get(&(x.key, value.clone()))
                            .and_then(|id| failed_writer.get(&id));
                        Violation {
                            pattern: BadPattern::ThinAirRead,
                            ops: vec![x.op],
                            process: None,
                            explanation: format!(
                                "{} returned {value} from {}, which no write wrote{}",
                                self.describe(r),
                                self.key_name(r),
                                match failed {
                                    Some(f) => format!(" (only op {f}, which failed)"),
                                    None => String::new(),
                                }
                            ),
                        }
                    });
                }
                Source::Initial => {
                    let Some(w) = graph::ones_and(past, key_writes).next() else {
                        continue;
                    };
                    counts.write_co_init_read += 1;
                    first.entry(BadPattern::WriteCoInitRead).or_insert_with(|| {
                        let path = graph::shortest_path(&self.adj, w, r, |_| true)
                            .expect("w is in r's causal past");
                        Violation {
                            pattern: BadPattern::WriteCoInitRead,
                            ops: self.ops(&path),
                            process: None,
                            explanation: format!(
                                "{} returned the initial value of {}, but a write of it causally \
                                 precedes it: {}",
                                self.describe(r),
                                self.key_name(r),
                                self.show_path(&path, |a, b| self.co_edge(a, b))
                            ),
                        }
                    });
                }
                Source::Write(w1) => {
                    let overwriter = graph::ones_and(past, key_writes)
                        .find(|&w2| w2 != w1 && self.past.get(w2, w1));
                    let Some(w2) = overwriter else { continue };
                    counts.write_co_read += 1;
                    first
                        .entry(BadPattern::WriteCoRead)
                        .or_insert_with(|| Violation {
                            pattern: BadPattern::WriteCoRead,
                            ops: vec![self.nodes[w1].op, self.nodes[w2].op, x.op],
                            process: None,
                            explanation: format!(
                                "{} returned the value of {}, but {} overwrote it in between: the \
                             first write causally precedes the second, which causally precedes \
                             the read",
                                self.describe(r),
                                self.describe(w1),
                                self.describe(w2)
                            ),
                        });
                }
            }
        }
    }

    /// The conflict pairs: for each write `w2`, the writes `w1` of its key with `w1 CO r` for
    /// a read `r` of `w2`'s value.
    fn conflicts(&self) -> Vec<Vec<u64>> {
        let n = self.nodes.len();
        let mut cf_in = vec![vec![0u64; graph::words(n)]; n];
        for (r, x) in self.nodes.iter().enumerate() {
            if let Some(Source::Write(w2)) = x.read {
                let past = self.past.row(r);
                let key_writes = &self.writes_of[x.key];
                for (i, dst) in cf_in[w2].iter_mut().enumerate() {
                    *dst |= past[i] & key_writes[i];
                }
            }
        }
        for (w2, row) in cf_in.iter_mut().enumerate() {
            row[w2 / 64] &= !(1 << (w2 % 64));
        }
        cf_in
    }

    /// CyclicCF (with `CO` acyclic).
    fn cyclic_cf(&self, counts: &mut PatternCounts, first: &mut BTreeMap<BadPattern, Violation>) {
        let cf_in = self.conflicts();
        let mut adj = self.adj.clone();
        for (w2, row) in cf_in.iter().enumerate() {
            for w1 in ones(row) {
                adj[w1].push(w2);
            }
        }
        let comps = graph::sccs(&adj);
        let mut cyclic: Vec<&Vec<usize>> = comps.iter().filter(|c| c.len() > 1).collect();
        counts.cyclic_cf = cyclic.iter().map(|c| c.len()).sum();
        cyclic.sort_by_key(|c| c[0]);
        let Some(comp) = cyclic.first() else { return };
        let start = comp[0];
        let cycle = graph::shortest_path(&adj, start, start, |v| comp.binary_search(&v).is_ok())
            .expect("a strongly connected component of two or more nodes has a cycle");
        // Label each edge: po/rf if it is one, else the conflict with the first read forcing it.
        let label = |a: usize, b: usize| {
            if self.adj[a].contains(&b) {
                self.co_edge(a, b)
            } else {
                let r = (0..self.nodes.len())
                    .find(|&r| self.nodes[r].read == Some(Source::Write(b)) && self.past.get(r, a))
                    .expect("a conflict edge has a read forcing it");
                Edge::Forced(r)
            }
        };
        let forced: Vec<String> = cycle
            .windows(2)
            .filter_map(|p| match label(p[0], p[1]) {
                Edge::Forced(r) => Some(format!(
                    "{} saw op {} in its causal past but returned op {}'s value",
                    self.describe(r),
                    self.nodes[p[0]].op,
                    self.nodes[p[1]].op
                )),
                _ => None,
            })
            .collect();
        first.insert(
            BadPattern::CyclicCf,
            Violation {
                pattern: BadPattern::CyclicCf,
                ops: self.ops(&cycle),
                process: None,
                explanation: format!(
                    "no arbitration order of the writes fits every read: {} (→(op r): read op r \
                     forces the first write before the second, because {})",
                    self.show_path(&cycle, label),
                    forced.join("; ")
                ),
            },
        );
    }

    /// WriteHBInitRead and CyclicHB for every process (with `CO` acyclic); returns the number
    /// of fixpoint rounds.
    fn views(
        &self,
        processes: &[u64],
        counts: &mut PatternCounts,
        first: &mut BTreeMap<BadPattern, Violation>,
    ) -> usize {
        let n = self.nodes.len();
        let mut by_process: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (v, x) in self.nodes.iter().enumerate() {
            by_process.entry(x.process).or_default().push(v);
        }
        let mut rounds = 0;
        let mut hb = BitMatrix::new(n);
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for p in processes {
            let own = &by_process[p];
            if own.iter().all(|&v| self.nodes[v].read.is_none()) {
                continue; // a process that never reads sees nothing to contradict
            }
            // The last operation of p (in program order) and its causal past.
            let last = *own
                .iter()
                .max_by_key(|&&v| (self.recorded.ops[self.nodes[v].op].call, self.nodes[v].op))
                .expect("a process has an operation");
            let mut in_view: Vec<usize> = ones(self.past.row(last)).collect();
            in_view.push(last);
            in_view.sort_unstable();
            for &v in &in_view {
                preds[v].clear();
                if let Some(u) = self.po_pred[v] {
                    preds[v].push(u);
                }
                if let Some(Source::Write(w)) = self.nodes[v].read {
                    preds[v].push(w);
                }
            }
            // Forced pairs: (w1, w2) -> the read of p that forced it.
            let mut forced: BTreeMap<(usize, usize), usize> = BTreeMap::new();
            let p_reads: Vec<usize> = own
                .iter()
                .copied()
                .filter(|&v| self.nodes[v].read.is_some())
                .collect();
            let outcome = loop {
                rounds += 1;
                let order = match graph::topological(&in_view, &preds) {
                    Ok(order) => order,
                    Err(left) => break Err(graph::cycle_among(&left, &preds, n)),
                };
                for &v in &order {
                    hb.row_mut(v).fill(0);
                    for &u in &preds[v] {
                        hb.inherit(v, u);
                    }
                }
                let mut new = Vec::new();
                for &r2 in &p_reads {
                    let x = &self.nodes[r2];
                    let Some(Source::Write(w2)) = x.read else {
                        continue;
                    };
                    let key_writes = &self.writes_of[x.key];
                    for w1 in ones(hb.row(r2)) {
                        if w1 != w2
                            && graph::get(key_writes, w1)
                            && !hb.get(w2, w1)
                            && !forced.contains_key(&(w1, w2))
                        {
                            forced.insert((w1, w2), r2);
                            new.push((w1, w2));
                        }
                    }
                }
                if new.is_empty() {
                    break Ok(());
                }
                for (w1, w2) in new {
                    preds[w2].push(w1);
                }
            };
            let label = |a: usize, b: usize| {
                if self.po_pred[b] == Some(a) {
                    Edge::Po
                } else if self.nodes[b].read == Some(Source::Write(a)) {
                    Edge::Rf
                } else {
                    Edge::Forced(forced[&(a, b)])
                }
            };
            match outcome {
                Err(cycle) => {
                    counts.cyclic_hb += 1;
                    first
                        .entry(BadPattern::CyclicHb)
                        .or_insert_with(|| Violation {
                            pattern: BadPattern::CyclicHb,
                            ops: self.ops(&cycle),
                            process: Some(*p),
                            explanation: format!(
                            "process {p} has no single view of the writes that explains all its \
                             reads: {} (→(op r): read op r of process {p} returned the second \
                             write's value with the first already before it)",
                            self.show_path(&cycle, label)
                        ),
                        });
                }
                Ok(()) => {
                    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
                    for &v in &in_view {
                        for &u in &preds[v] {
                            succs[u].push(v);
                        }
                    }
                    for &r in &p_reads {
                        let x = &self.nodes[r];
                        if x.read != Some(Source::Initial) {
                            continue;
                        }
                        let key_writes = &self.writes_of[x.key];
                        let Some(w) = ones(hb.row(r)).find(|&w| graph::get(key_writes, w)) else {
                            continue;
                        };
                        counts.write_hb_init_read += 1;
                        first.entry(BadPattern::WriteHbInitRead).or_insert_with(|| {
                            let path = graph::shortest_path(&succs, w, r, |_| true)
                                .expect("w precedes r in the view");
                            Violation {
                                pattern: BadPattern::WriteHbInitRead,
                                ops: self.ops(&path),
                                process: Some(*p),
                                explanation: format!(
                                    "in process {p}'s view {} returned the initial value of {}, \
                                     but a write of it must come before: {} (→(op r): read op r \
                                     of process {p} returned the second write's value with the \
                                     first already before it)",
                                    self.describe(r),
                                    self.key_name(r),
                                    self.show_path(&path, label)
                                ),
                            }
                        });
                    }
                }
            }
        }
        rounds
    }
}
