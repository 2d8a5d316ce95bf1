//! # Transactions: isolation anomalies from dependency cycles (Elle)
//!
//! Maelstrom's `txn-rw-register` and `txn-list-append` workloads run transactions of
//! micro-operations on keys. Adya defines isolation levels by the cycles a history's
//! *direct serialization graph* may contain; Kingsbury and Alvaro's Elle recovers enough of
//! that graph from what clients saw when every written value is unique: a read names the
//! transaction that wrote what it read, and (for lists) the order of the elements a read
//! returned is the order of the appends. This checker builds the graph that way, looks for
//! the non-cycle anomalies along the way, and finds cycles with Tarjan's strongly connected
//! components and a short cycle per component.
//!
//! ## Encoding
//!
//! Each transaction is one operation with `f` `"txn"`; its invocation value is a list of
//! micro-operations `[f, key, value]` (`f` a string or keyword):
//!
//! - rw-register ([`TxnWorkload::RwRegister`]): `["r", k, nil]` reads register `k`,
//!   `["w", k, v]` writes `v` (any value but `nil`; `nil` is every register's initial value);
//! - list-append ([`TxnWorkload::ListAppend`]): `["r", k, nil]` reads list `k`,
//!   `["append", k, v]` appends `v` (lists start empty).
//!
//! An `:ok` completion's value is the same list with the reads filled in: a register read
//! returns a value or `nil`, a list read a list (or `nil` for the empty list). A transaction
//! that failed (`:fail`) was aborted: it took no effect. One whose outcome is unknown may have
//! committed; its writes are known (from the invocation) but its reads are not. An `:ok`
//! completion that does not match its invocation (other length, functions, keys or written
//! values, or a read of the wrong shape) is **malformed**: reported, and its transaction
//! treated as one of unknown outcome. An invocation not of that shape is malformed too, and
//! its operation is left out. Keys and values may be any [`Value`] and are compared exactly.
//!
//! ## Precondition: unique values
//!
//! Each value should be written (appended) to a key by one transaction only, as Maelstrom's
//! generators ensure. Values written to a key by several transactions that did not fail are
//! *ambiguous* ([`TxnReport::ambiguous_values`]): reads of them are not tied to a writer,
//! and nothing is inferred from them.
//!
//! ## The graph
//!
//! Nodes are the transactions that committed: the `:ok` ones, and those of unknown outcome
//! some `:ok` transaction read from (they must have committed). Within a transaction, the
//! first read of a key, if no write of that key precedes it, is *external* (it shows the
//! state others left); the last write of a key is its *final* write (the version it
//! installs; earlier writes of the same key are intermediate). Edges `a → b`:
//!
//! - **wr** (`b` read what `a` wrote): an external register read returned `a`'s final write;
//!   an external list read's last element was appended by `a`;
//! - **ww** (`b`'s version of a key follows `a`'s): for lists, consecutive elements (by
//!   different transactions) of the longest read of the key, which orders every read's
//!   elements; for registers, `b` read `a`'s version of the key externally, then wrote the
//!   key ("writes follow reads", as Elle infers it);
//! - **rw** (`a` read a version of a key that `b`'s overwrote, an anti-dependency): for
//!   lists, `b` appended the element that follows the end of `a`'s external read in the
//!   longest read; for registers, `b` read the version `a` read and then wrote the key, or
//!   `a` read the initial `nil` and `b` installed a version with no known predecessor;
//! - **realtime** (`a ≺ b`): `a` completed before `b` was invoked (only `:ok` transactions
//!   precede others). Only a transitive reduction is kept: `a → b` when no `c` has
//!   `a ≺ c ≺ b` (about one edge per transaction and concurrent client).
//!
//! Under strict serializability real time also orders versions: if `a` and `b` both wrote a
//! register and `a ≺ b`, `b`'s version is the later one, so a transaction that read `a`'s
//! version has an rw edge to `b`. Such edges are marked `realtime_derived` and count as
//! real-time edges. Every edge holds in every execution the level it is used for allows
//! (some edges stand for a path of the true graph with the same kinds, e.g. an rw edge to
//! a later version's writer stands for an rw edge to the next version's writer followed by
//! ww edges), so every cycle reported is a cycle of the true graph's kinds.
//!
//! ### Version orders a serial execution would need (registers)
//!
//! Registers say little about version order by themselves, but a serial execution leaves
//! no choice about much of it. If `r` read version `v` of key `k` (written by `w`), then in
//! any serial order that explains the history, every other committed writer `u` of `k`
//! comes before `w` or after `r`: otherwise `r` would have read `u`'s version or a later
//! one. So when the graph already has a path `w ⇝ u`, a serial order needs `r` before `u`
//! (an **rw** edge `r → u`: `u`'s version is later than the one `r` read); when it has a
//! path `u ⇝ r`, it needs `u` before `w` (a **ww** edge `u → w`). The initial-`nil` and
//! writes-follow-reads rules above are the simplest cases. Each such edge can settle more
//! of these choices, so the inference runs to a fixed point (Elle's documentation sketches
//! this alternation of transaction and version orders; we run it), over the graph of
//! non-realtime edges, and stops as soon as that graph has a cycle. Its edges are marked
//! `serial_derived`.
//!
//! Every such edge holds in every serial execution that explains the history, so a cycle
//! through them proves the history is not serializable, and a serializable history never
//! gets one (`tests/txn.rs` checks this against a brute-force search on thousands of
//! small histories, where the inference then flags every non-serializable one). They say
//! nothing about weaker levels (a read-committed history has no serial order to reason
//! about), so they are used only for the serializable and realtime classes, never for
//! `G0` or `G1c`, and a cycle that needs them is at least `G-single` (one rw edge) or
//! `G2` (any other number, even none: its ww edges then stand for anti-dependencies).
//! No assumption beyond the isolation level checked is made: Elle's optional
//! `sequential-keys`/`linearizable-keys` (per-key process or real-time order) have no
//! counterpart here; the real-time version order is used at strict serializability only.
//!
//! Reachability is held as bit rows, two bits per pair of transactions, so at most
//! [`TxnOptions::inference_window`] committed transactions are related at once; a longer
//! history is covered by overlapping windows (in history order), which miss orders only a
//! path leaving the window would show, and never invent one.
//!
//! ## Anomalies
//!
//! | anomaly | meaning | prohibited from |
//! |---|---|---|
//! | `G0` | a cycle of ww edges (write cycle, dirty write) | read-uncommitted |
//! | `G1a` | aborted read: a read returned a value written only by failed transactions | read-committed |
//! | `G1b` | intermediate read: a read returned a value its writer overwrote within itself (a register's non-final write; a list whose last element was not its writer's last append to the key) | read-committed |
//! | `G1c` | a cycle of ww and wr edges, with at least one wr (circular information flow) | read-committed |
//! | `G-single` | a cycle with exactly one rw edge (read skew) | serializable |
//! | `G2` | a cycle with several rw edges (write skew), none with one found; or one with no rw edge that needs a ww edge inferred by assuming serializability | serializable |
//! | `G0-realtime`, `G1c-realtime`, `G-single-realtime`, `G2-realtime` | a cycle that needs a realtime or realtime-derived edge, classified by its other edges as above | strict-serializable |
//! | `internal` | a read that contradicts its own transaction: a register read after the transaction wrote the key that does not return that write, or one that differs from its earlier read of the key; a list read that does not end with the transaction's own appends to the key, or that differs from its earlier read of the key followed by its appends since | serializable |
//! | `future-read` | an external read returned a value its own transaction writes later | read-committed |
//! | `incompatible-order` | two list reads of a key, neither a prefix of the other: no single order of appends explains both | read-committed |
//! | `garbage-read` | a read returned a value no transaction ever wrote to the key | read-uncommitted |
//! | `duplicate-elements` | a list read holds an element more often than transactions (that did not fail) appended it | read-uncommitted |
//! | `malformed` | an `:ok` completion that does not match its invocation, or an invocation not of the shape above | read-uncommitted |
//!
//! A cycle's transactions are listed with every edge and the key and value that justify it.
//! `G1b`, `internal` and register `G1a`/`garbage-read` are counted per read; for lists,
//! where every read of a key should be a prefix of the longest, `G1a` and `garbage-read`
//! are counted once per key and element (charged to the first read holding it),
//! `incompatible-order` once per key, and `duplicate-elements` once per key (on its longest
//! read) and per read that is not a prefix of it.
//!
//! Each level prohibits its anomalies and those of the weaker levels: read-uncommitted
//! (Adya's PL-1) `G0`; read-committed (PL-2) adds `G1a`, `G1b`, `G1c`; serializable (PL-3)
//! adds `G-single` and `G2`; strict-serializable (PL-SS) adds the realtime cycles. The
//! non-cycle anomalies are placed as Elle places them (`internal` is allowed below
//! serializable: a read committed transaction may see another's commit between two of its
//! reads; an incompatible order implies an aborted read; a future read is a one-transaction
//! `G1c`). The history is valid when no anomaly the requested [`Isolation`] prohibits was
//! found; [`TxnReport::strongest_satisfied`] says which levels it satisfies.
//!
//! Cycles are searched per strongly connected component: for `G0` the components of the ww
//! edges, for `G1c` those of ww and wr edges with a wr edge inside (neither counting edges
//! derived from real time or by assuming serializability), for `G-single`/`G2` those of
//! all non-realtime edges with an rw edge inside (preferring a cycle with one rw edge: a
//! breadth-first search that minimises rw edges, from up to [`TxnOptions::attempts`] rw
//! edges; failing those, from ww edges inferred by assuming serializability), and for the
//! realtime variants those of all edges with a realtime edge inside. At most one cycle of
//! each class is reported per component, and each class's count is the number of
//! components where it was found. Within a component the first search always succeeds, so
//! every component with a cycle of a class's edges is reported; only the choice between
//! `G-single` and `G2` (both serializable) depends on the attempts. The searches are
//! bounded by [`TxnOptions::search_budget`] edge visits; [`TxnReport::search_incomplete`]
//! says if that ran out.
//!
//! ## Completeness
//!
//! The checker is sound, not complete. Lists give the whole order of every element some
//! read returned. With registers, a version order that no path of the graph forces (see
//! above) stays unknown, so cycles through it are missed: deciding whether a register
//! history is serializable is NP-complete in general, and the inference settles only the
//! choices the graph forces one at a time. A history from stores that share nothing (each
//! node its own map) is often genuinely serializable: only reads of the initial `nil` tie
//! one store's transactions to another's, and when those happen to be consistent, running
//! each store's transactions as a block explains every read. Only the realtime classes
//! (strict serializability) catch those.
//!
//! ## Cost
//!
//! Linear in the size of the history and the edges (`O(n · c)` realtime edges for `n`
//! transactions and `c` concurrent clients), plus `O(n log n)` sorting and the cycle
//! searches (one graph traversal per component per class, a few more for `G-single`).
//! The register inference costs, per round, `O((e + r) · w / 64)` word operations for `e`
//! edges, `r` reads and a window of `w` transactions, and 2 bits per pair of a window's
//! transactions; it takes about ten rounds (10,000 transactions over 3 keys: about a
//! quarter of a second; over 32 keys, whose version orders it must infer far more of,
//! about a second).
//!
//! ## Where to read
//!
//! - Kyle Kingsbury and Peter Alvaro, *Elle: Inferring Isolation Anomalies from
//!   Experimental Observations*, VLDB 2020;
//! - Atul Adya, *Weak Consistency: A Generalized Theory and Optimistic Implementations for
//!   Distributed Transactions*, PhD thesis, MIT, 1999 (G0, G1a-c, G-single, G2, PL-1 to
//!   PL-3, PL-SS);
//! - Hal Berenson, Phil Bernstein, Jim Gray, Jim Melton, Elizabeth and Patrick O'Neil, *A
//!   Critique of ANSI SQL Isolation Levels*, SIGMOD 1995;
//! - Robert Tarjan, *Depth-first search and linear graph algorithms*, SIAM J. Computing 1972.
//!
//! ## Example: write skew
//!
//! Two transactions each read both registers (still `nil`) and write one of them: each
//! missed the other's write, two rw edges form a cycle. That is allowed under read
//! committed, not under serializability.
//!
//! ```
//! use synod_consistency::checkers::txn::{check_txn, Isolation, TxnAnomalyKind, TxnOptions, TxnWorkload};
//! use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
//!
//! let mop = |f: &str, k: &str, v: Value| {
//!     Value::List(vec![Value::Str(f.into()), Value::Str(k.into()), v])
//! };
//! let txn = |process, mops: Vec<Value>, result: Vec<Value>, call, ret| RecordedOp {
//!     process,
//!     f: "txn".into(),
//!     key: None,
//!     value: Value::List(mops),
//!     completion: Completion::Ok(Value::List(result)),
//!     call,
//!     ret: Some(ret),
//!     call_nanos: None,
//!     ret_nanos: None,
//!     line: 0,
//! };
//! let (nil, one, two) = (Value::Nil, Value::Int(1), Value::Int(2));
//! let h = Recorded {
//!     ops: vec![
//!         txn(0,
//!             vec![mop("r", "x", nil.clone()), mop("r", "y", nil.clone()), mop("w", "x", one.clone())],
//!             vec![mop("r", "x", nil.clone()), mop("r", "y", nil.clone()), mop("w", "x", one.clone())],
//!             0, 2),
//!         txn(1,
//!             vec![mop("r", "x", nil.clone()), mop("r", "y", nil.clone()), mop("w", "y", two.clone())],
//!             vec![mop("r", "x", nil.clone()), mop("r", "y", nil.clone()), mop("w", "y", two.clone())],
//!             1, 3),
//!     ],
//!     skipped_events: 0,
//! };
//! let options = TxnOptions::new(TxnWorkload::RwRegister, Isolation::Serializable);
//! let report = check_txn(&h, &options);
//! assert!(!report.valid);
//! assert_eq!(report.count(TxnAnomalyKind::G2), 1);
//! assert_eq!(report.strongest_satisfied, Some(Isolation::ReadCommitted));
//! let a = &report.anomalies[0];
//! assert_eq!(a.kind, TxnAnomalyKind::G2);
//! assert_eq!(a.ops, vec![0, 1]);
//! ```

mod cycles;
mod graph;
mod infer;
mod parse;
mod serial;

use super::{Interner, DEFAULT_MAX_LISTED};
use crate::format::{Recorded, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The two transactional workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TxnWorkload {
    /// Reads (`r`) and writes (`w`) of registers.
    RwRegister,
    /// Reads (`r`) of lists and appends (`append`) to them.
    ListAppend,
}

impl TxnWorkload {
    /// Both workloads.
    pub const ALL: [TxnWorkload; 2] = [TxnWorkload::RwRegister, TxnWorkload::ListAppend];

    /// The workload's name: `rw-register`, `list-append`.
    pub fn name(self) -> &'static str {
        match self {
            TxnWorkload::RwRegister => "rw-register",
            TxnWorkload::ListAppend => "list-append",
        }
    }

    /// The workload named `name`: `rw-register` or `list-append`, optionally prefixed
    /// `txn-` (Maelstrom's workload names).
    pub fn from_name(name: &str) -> Option<TxnWorkload> {
        let name = name.strip_prefix("txn-").unwrap_or(name);
        TxnWorkload::ALL.into_iter().find(|w| w.name() == name)
    }
}

impl fmt::Display for TxnWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Isolation levels, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Isolation {
    /// Adya's PL-1: no `G0`.
    #[serde(rename = "read-uncommitted")]
    ReadUncommitted,
    /// Adya's PL-2: no `G0`, `G1a`, `G1b`, `G1c`.
    #[serde(rename = "read-committed")]
    ReadCommitted,
    /// Adya's PL-3 (conflict serializability): also no `G-single`, `G2`.
    #[serde(rename = "serializable")]
    Serializable,
    /// Adya's PL-SS: serializable in an order consistent with real time.
    #[serde(rename = "strict-serializable")]
    StrictSerializable,
}

impl Isolation {
    /// Every level, weakest first.
    pub const ALL: [Isolation; 4] = [
        Isolation::ReadUncommitted,
        Isolation::ReadCommitted,
        Isolation::Serializable,
        Isolation::StrictSerializable,
    ];

    /// The command-line name: `read-uncommitted`, `read-committed`, `serializable`,
    /// `strict-serializable`.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "read-uncommitted",
            Isolation::ReadCommitted => "read-committed",
            Isolation::Serializable => "serializable",
            Isolation::StrictSerializable => "strict-serializable",
        }
    }

    /// The level with command-line name `name` (`strong-serializable` is accepted for
    /// strict-serializable, as Elle does).
    pub fn from_name(name: &str) -> Option<Isolation> {
        if name == "strong-serializable" {
            return Some(Isolation::StrictSerializable);
        }
        Isolation::ALL.into_iter().find(|l| l.name() == name)
    }

    /// True if the level prohibits `kind`.
    pub fn prohibits(self, kind: TxnAnomalyKind) -> bool {
        kind.prohibited_from() <= self
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The anomalies [`check_txn`] reports (see the [module docs](self)), most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TxnAnomalyKind {
    /// A cycle of ww edges.
    #[serde(rename = "G0")]
    G0,
    /// A read of a value written only by failed transactions.
    #[serde(rename = "G1a")]
    G1a,
    /// A read of a value its writer overwrote within itself.
    #[serde(rename = "G1b")]
    G1b,
    /// A cycle of ww and wr edges with a wr edge.
    #[serde(rename = "G1c")]
    G1c,
    /// A cycle with exactly one rw edge.
    #[serde(rename = "G-single")]
    GSingle,
    /// A cycle with rw edges, none with exactly one found.
    #[serde(rename = "G2")]
    G2,
    /// A cycle of ww and realtime edges.
    #[serde(rename = "G0-realtime")]
    G0Realtime,
    /// A cycle of ww, wr and realtime edges with a wr edge.
    #[serde(rename = "G1c-realtime")]
    G1cRealtime,
    /// A cycle with realtime edges and exactly one rw edge.
    #[serde(rename = "G-single-realtime")]
    GSingleRealtime,
    /// A cycle with realtime edges and several rw edges.
    #[serde(rename = "G2-realtime")]
    G2Realtime,
    /// A read contradicting its own transaction's writes or earlier reads.
    #[serde(rename = "internal")]
    Internal,
    /// An external read of a value its own transaction writes later.
    #[serde(rename = "future-read")]
    FutureRead,
    /// Two list reads of a key, neither a prefix of the other.
    #[serde(rename = "incompatible-order")]
    IncompatibleOrder,
    /// A read of a value nobody wrote.
    #[serde(rename = "garbage-read")]
    GarbageRead,
    /// A list read holding an element more often than it was appended.
    #[serde(rename = "duplicate-elements")]
    DuplicateElements,
    /// An operation not of the expected shape.
    #[serde(rename = "malformed")]
    Malformed,
}

impl TxnAnomalyKind {
    /// Every kind, in reporting order.
    pub const ALL: [TxnAnomalyKind; 16] = [
        TxnAnomalyKind::G0,
        TxnAnomalyKind::G1a,
        TxnAnomalyKind::G1b,
        TxnAnomalyKind::G1c,
        TxnAnomalyKind::GSingle,
        TxnAnomalyKind::G2,
        TxnAnomalyKind::G0Realtime,
        TxnAnomalyKind::G1cRealtime,
        TxnAnomalyKind::GSingleRealtime,
        TxnAnomalyKind::G2Realtime,
        TxnAnomalyKind::Internal,
        TxnAnomalyKind::FutureRead,
        TxnAnomalyKind::IncompatibleOrder,
        TxnAnomalyKind::GarbageRead,
        TxnAnomalyKind::DuplicateElements,
        TxnAnomalyKind::Malformed,
    ];

    /// The name used in reports (Elle's): `G0`, `G1a`, `G1b`, `G1c`, `G-single`, `G2`,
    /// `G0-realtime`, `G1c-realtime`, `G-single-realtime`, `G2-realtime`, `internal`,
    /// `future-read`, `incompatible-order`, `garbage-read`, `duplicate-elements`, `malformed`.
    pub fn name(self) -> &'static str {
        match self {
            TxnAnomalyKind::G0 => "G0",
            TxnAnomalyKind::G1a => "G1a",
            TxnAnomalyKind::G1b => "G1b",
            TxnAnomalyKind::G1c => "G1c",
            TxnAnomalyKind::GSingle => "G-single",
            TxnAnomalyKind::G2 => "G2",
            TxnAnomalyKind::G0Realtime => "G0-realtime",
            TxnAnomalyKind::G1cRealtime => "G1c-realtime",
            TxnAnomalyKind::GSingleRealtime => "G-single-realtime",
            TxnAnomalyKind::G2Realtime => "G2-realtime",
            TxnAnomalyKind::Internal => "internal",
            TxnAnomalyKind::FutureRead => "future-read",
            TxnAnomalyKind::IncompatibleOrder => "incompatible-order",
            TxnAnomalyKind::GarbageRead => "garbage-read",
            TxnAnomalyKind::DuplicateElements => "duplicate-elements",
            TxnAnomalyKind::Malformed => "malformed",
        }
    }

    /// The weakest level that prohibits it (see the table in the [module docs](self)).
    pub fn prohibited_from(self) -> Isolation {
        use TxnAnomalyKind::*;
        match self {
            G0 | GarbageRead | DuplicateElements | Malformed => Isolation::ReadUncommitted,
            G1a | G1b | G1c | FutureRead | IncompatibleOrder => Isolation::ReadCommitted,
            GSingle | G2 | Internal => Isolation::Serializable,
            G0Realtime | G1cRealtime | GSingleRealtime | G2Realtime => {
                Isolation::StrictSerializable
            }
        }
    }

    /// True for the cycle anomalies.
    pub fn is_cycle(self) -> bool {
        use TxnAnomalyKind::*;
        matches!(
            self,
            G0 | G1c | GSingle | G2 | G0Realtime | G1cRealtime | GSingleRealtime | G2Realtime
        )
    }
}

impl fmt::Display for TxnAnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of dependency edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EdgeKind {
    /// Write-write: the target's version of a key follows the source's.
    #[serde(rename = "ww")]
    Ww,
    /// Write-read: the target read what the source wrote.
    #[serde(rename = "wr")]
    Wr,
    /// Read-write (anti-dependency): the source read a version the target's overwrote.
    #[serde(rename = "rw")]
    Rw,
    /// Real time: the source completed before the target was invoked.
    #[serde(rename = "realtime")]
    Realtime,
}

impl EdgeKind {
    /// `ww`, `wr`, `rw`, `realtime`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Ww => "ww",
            EdgeKind::Wr => "wr",
            EdgeKind::Rw => "rw",
            EdgeKind::Realtime => "realtime",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One edge of a reported cycle; transactions are indices into [`Recorded::ops`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleEdge {
    /// The source transaction.
    pub from: usize,
    /// The target transaction.
    pub to: usize,
    /// The kind of dependency.
    pub kind: EdgeKind,
    /// For ww and rw edges: inferred from real time (holds only under strict
    /// serializability).
    pub realtime_derived: bool,
    /// For ww and rw edges (rw-register): a version order inferred from the other edges by
    /// assuming serializability (holds in every serial execution that could explain the
    /// history; see the [module docs](self)).
    #[serde(default)]
    pub serial_derived: bool,
    /// The key that justifies it (none for realtime edges).
    pub key: Option<Value>,
    /// The value that justifies it: for ww and rw the value the target wrote (appended),
    /// for wr the value the target read (a list read's last element).
    pub value: Option<Value>,
}

impl fmt::Display for CycleEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (self.from, self.to);
        let key = self.key.as_ref().unwrap_or(&Value::Nil);
        let value = self.value.as_ref().unwrap_or(&Value::Nil);
        match self.kind {
            EdgeKind::Ww => write!(
                f,
                "op {a} -ww-> op {b} (op {b} wrote {value} to {key} after op {a}'s write)"
            )?,
            EdgeKind::Wr => write!(
                f,
                "op {a} -wr-> op {b} (op {b} read {value} of {key}, written by op {a})"
            )?,
            EdgeKind::Rw => write!(
                f,
                "op {a} -rw-> op {b} (op {a} read a version of {key} before op {b}'s {value})"
            )?,
            EdgeKind::Realtime => write!(
                f,
                "op {a} -realtime-> op {b} (op {a} completed before op {b} was invoked)"
            )?,
        }
        if self.realtime_derived {
            write!(f, " [version order from real time]")?;
        }
        if self.serial_derived {
            write!(f, " [version order a serial execution would need]")?;
        }
        Ok(())
    }
}

/// One anomaly found by [`check_txn`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnAnomaly {
    /// What kind.
    pub kind: TxnAnomalyKind,
    /// The transactions involved (indices into [`Recorded::ops`]): a cycle's in cycle
    /// order, starting from its smallest; for other anomalies the reading transaction
    /// first, then the writers involved.
    pub ops: Vec<usize>,
    /// A cycle's edges, in order (`cycle[i]` goes from `ops[i]` to `ops[i + 1]`, the last
    /// back to `ops[0]`); empty for other anomalies.
    pub cycle: Vec<CycleEdge>,
    /// The key involved (non-cycle anomalies).
    pub key: Option<Value>,
    /// The value involved (non-cycle anomalies): the value read, or for internal and
    /// incompatible reads the whole read.
    pub value: Option<Value>,
    /// What happened, for a human, in one line.
    pub explanation: String,
}

impl fmt::Display for TxnAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.explanation)
    }
}

/// Options of [`check_txn`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnOptions {
    /// Which workload the history is from.
    pub workload: TxnWorkload,
    /// The isolation level to check (the report lists every anomaly found regardless).
    pub isolation: Isolation,
    /// How many anomalies of each kind the report lists (the counts are always complete).
    pub max_listed: usize,
    /// How many rw edges (realtime edges, for the realtime classes) of one component the
    /// search tries, looking for a cycle with a single rw edge.
    pub attempts: usize,
    /// The most edge visits the cycle searches may make in all.
    pub search_budget: u64,
    /// Rw-register: the most committed transactions the serializability inference (see
    /// the [module docs](self)) relates at once. It needs two bits per pair of them (16 MiB
    /// for the default 8192); longer histories are covered by overlapping windows of this
    /// many transactions (in history order), which can miss orders only a longer path
    /// shows. 0 or 1 turns that inference off.
    #[serde(default = "default_inference_window")]
    pub inference_window: usize,
}

fn default_inference_window() -> usize {
    8192
}

impl TxnOptions {
    /// The defaults for `workload` and `isolation`.
    pub fn new(workload: TxnWorkload, isolation: Isolation) -> TxnOptions {
        TxnOptions {
            workload,
            isolation,
            max_listed: DEFAULT_MAX_LISTED,
            attempts: 32,
            search_budget: 50_000_000,
            inference_window: default_inference_window(),
        }
    }
}

impl Default for TxnOptions {
    /// List-append, strict-serializable (Maelstrom's default model).
    fn default() -> Self {
        TxnOptions::new(TxnWorkload::ListAppend, Isolation::StrictSerializable)
    }
}

/// How many edges of each kind the graph has (after removing duplicates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeCounts {
    /// ww edges.
    pub ww: usize,
    /// wr edges.
    pub wr: usize,
    /// rw edges not derived from real time.
    pub rw: usize,
    /// Realtime edges (the transitive reduction).
    pub realtime: usize,
    /// rw edges derived from real time.
    pub realtime_derived: usize,
    /// ww and rw edges of version orders inferred by assuming serializability (counted
    /// here, not under `ww` and `rw`).
    #[serde(default)]
    pub serial_derived: usize,
}

/// The result of [`check_txn`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnReport {
    /// No anomaly prohibited by [`TxnReport::isolation`] was found.
    pub valid: bool,
    /// The workload checked.
    pub workload: TxnWorkload,
    /// The isolation level checked.
    pub isolation: Isolation,
    /// Transactions (operations with `f` `"txn"` and a well-formed invocation).
    pub txns: usize,
    /// Of those, `:ok` with a well-formed completion.
    pub ok: usize,
    /// Failed (aborted).
    pub failed: usize,
    /// Of unknown outcome (including `:ok` ones with a malformed completion).
    pub unknown: usize,
    /// Of unknown outcome, but read from: counted as committed.
    pub observed_unknown: usize,
    /// Distinct keys.
    pub keys: usize,
    /// Distinct (key, value) pairs written by more than one transaction that did not fail.
    pub ambiguous_values: usize,
    /// The dependency graph's edges.
    pub edges: EdgeCounts,
    /// How many anomalies of each kind (every kind present, complete counts).
    pub counts: BTreeMap<TxnAnomalyKind, usize>,
    /// The kinds found that [`TxnReport::isolation`] prohibits.
    pub prohibited: Vec<TxnAnomalyKind>,
    /// The strongest level with none of its prohibited anomalies found (`None`: not even
    /// read-uncommitted).
    pub strongest_satisfied: Option<Isolation>,
    /// Anomalies, in the order of [`TxnAnomalyKind::ALL`], at most `max_listed` of each kind.
    pub anomalies: Vec<TxnAnomaly>,
    /// The cycle searches ran out of [`TxnOptions::search_budget`]: cycles may be missing.
    pub search_incomplete: bool,
    /// The serializability inference stopped short of its fixed point (after 256 rounds
    /// in some window): version orders, hence cycles, may be missing.
    #[serde(default)]
    pub inference_incomplete: bool,
}

impl TxnReport {
    /// How many anomalies of `kind` were found.
    pub fn count(&self, kind: TxnAnomalyKind) -> usize {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    /// True if the history satisfies `level` (no anomaly it prohibits was found).
    pub fn satisfies(&self, level: Isolation) -> bool {
        self.counts
            .iter()
            .all(|(kind, &n)| n == 0 || !level.prohibits(*kind))
    }
}

impl fmt::Display for TxnReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "txn ({}, {}): {}; {} txns ({} ok, {} failed, {} unknown), {} keys",
            self.workload,
            self.isolation,
            if self.valid { "valid" } else { "INVALID" },
            self.txns,
            self.ok,
            self.failed,
            self.unknown,
            self.keys
        )?;
        for (kind, n) in &self.counts {
            if *n > 0 {
                write!(f, ", {n} {kind}")?;
            }
        }
        if self.search_incomplete {
            write!(f, " (cycle search incomplete)")?;
        }
        if self.inference_incomplete {
            write!(f, " (version inference incomplete)")?;
        }
        Ok(())
    }
}

/// Collects anomalies per kind, capped, with complete counts.
pub(crate) struct Sink {
    max: usize,
    lists: BTreeMap<TxnAnomalyKind, Vec<TxnAnomaly>>,
    counts: BTreeMap<TxnAnomalyKind, usize>,
}

impl Sink {
    fn new(max: usize) -> Sink {
        Sink {
            max,
            lists: BTreeMap::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Counts one anomaly of `kind`; builds and keeps it only if under the cap.
    pub(crate) fn push(&mut self, kind: TxnAnomalyKind, make: impl FnOnce() -> TxnAnomaly) {
        *self.counts.entry(kind).or_default() += 1;
        let list = self.lists.entry(kind).or_default();
        if list.len() < self.max {
            list.push(make());
        }
    }
}

/// Dense ids for keys and values.
pub(crate) struct Ids {
    interner: Interner<Value>,
    len: usize,
}

impl Ids {
    pub(crate) fn new() -> Ids {
        Ids {
            interner: Interner::new(),
            len: 0,
        }
    }

    pub(crate) fn intern(&mut self, v: &Value) -> usize {
        let id = self.interner.intern(v);
        self.len = self.len.max(id + 1);
        id
    }

    pub(crate) fn get(&self, v: &Value) -> Option<usize> {
        self.interner.get(v)
    }

    pub(crate) fn value(&self, id: usize) -> &Value {
        self.interner.value(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Checks a transactional history for the anomalies of the [module docs](self).
pub fn check_txn(history: &Recorded, options: &TxnOptions) -> TxnReport {
    let mut sink = Sink::new(options.max_listed);
    let mut keys = Ids::new();
    let mut vals = Ids::new();
    let txns = parse::parse(history, options.workload, &mut keys, &mut vals, &mut sink);
    let inferred = infer::infer(
        history,
        &txns,
        options.workload,
        &keys,
        &mut vals,
        &mut sink,
        options.inference_window,
    );
    let graph = graph::Graph::new(txns.len(), inferred.edges);
    let search = cycles::search(&graph, options);
    for found in &search.found {
        let cycle: Vec<CycleEdge> = found
            .edges
            .iter()
            .map(|&e| {
                let e = &graph.edges[e as usize];
                CycleEdge {
                    from: txns[e.from as usize].op,
                    to: txns[e.to as usize].op,
                    kind: e.kind,
                    realtime_derived: e.realtime_derived,
                    serial_derived: e.serial_derived,
                    key: e.key.map(|k| keys.value(k).clone()),
                    value: e.value.map(|v| vals.value(v).clone()),
                }
            })
            .collect();
        sink.push(found.kind, || {
            let ops = cycle.iter().map(|e| e.from).collect();
            let parts: Vec<String> = cycle.iter().map(|e| e.to_string()).collect();
            TxnAnomaly {
                kind: found.kind,
                ops,
                explanation: format!(
                    "a cycle of {} transactions: {}",
                    cycle.len(),
                    parts.join("; ")
                ),
                cycle,
                key: None,
                value: None,
            }
        });
    }

    let mut counts = BTreeMap::new();
    let mut anomalies = Vec::new();
    for kind in TxnAnomalyKind::ALL {
        counts.insert(kind, sink.counts.get(&kind).copied().unwrap_or(0));
        anomalies.extend(sink.lists.remove(&kind).unwrap_or_default());
    }
    let prohibited: Vec<TxnAnomalyKind> = TxnAnomalyKind::ALL
        .into_iter()
        .filter(|&k| counts[&k] > 0 && options.isolation.prohibits(k))
        .collect();
    let satisfies = |level: Isolation| counts.iter().all(|(k, &n)| n == 0 || !level.prohibits(*k));
    let strongest_satisfied = Isolation::ALL
        .into_iter()
        .take_while(|&l| satisfies(l))
        .last();
    let mut edges = EdgeCounts::default();
    for e in &graph.edges {
        if e.serial_derived {
            edges.serial_derived += 1;
            continue;
        }
        match (e.kind, e.realtime_derived) {
            (EdgeKind::Ww, _) => edges.ww += 1,
            (EdgeKind::Wr, _) => edges.wr += 1,
            (EdgeKind::Rw, false) => edges.rw += 1,
            (EdgeKind::Rw, true) => edges.realtime_derived += 1,
            (EdgeKind::Realtime, _) => edges.realtime += 1,
        }
    }
    let count_status = |s: parse::Status| txns.iter().filter(|t| t.status == s).count();
    TxnReport {
        valid: prohibited.is_empty(),
        workload: options.workload,
        isolation: options.isolation,
        txns: txns.len(),
        ok: count_status(parse::Status::Ok),
        failed: count_status(parse::Status::Failed),
        unknown: txns.len() - count_status(parse::Status::Ok) - count_status(parse::Status::Failed),
        observed_unknown: inferred.observed_unknown,
        keys: keys.len(),
        ambiguous_values: inferred.ambiguous_values,
        edges,
        counts,
        prohibited,
        strongest_satisfied,
        anomalies,
        search_incomplete: search.incomplete,
        inference_incomplete: inferred.inference_incomplete,
    }
}
