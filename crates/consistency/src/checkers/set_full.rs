//! The set-full checker: per-element visibility in a grow-only set (see the module docs of
//! `checkers` for the definitions).

use super::{push_capped, Clock, Interner, Latencies, TimeUnit, DEFAULT_MAX_LISTED};
use crate::format::{Completion, Recorded, RecordedOp, Value};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Options of [`check_set_full`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetFullOptions {
    /// Treat stale elements (missed by a read invoked after they were known present, then
    /// seen again) as errors, as a linearizable set demands. Off by default: stale reads
    /// are allowed, as in an eventually consistent set.
    pub linearizable: bool,
    /// How many anomalies of each kind, and elements of each list, the report lists.
    pub max_listed: usize,
    /// Also report every element's timeline ([`SetFullReport::timelines`]; uncapped).
    pub timelines: bool,
}

impl Default for SetFullOptions {
    fn default() -> Self {
        SetFullOptions {
            linearizable: false,
            max_listed: DEFAULT_MAX_LISTED,
            timelines: false,
        }
    }
}

/// Why a read's element was unexpected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnexpectedCause {
    /// No operation ever tried to add it.
    NeverAdded,
    /// Every add of it failed (the first is given).
    OnlyFailedAdds {
        /// The first (failed) add.
        add: usize,
    },
    /// The first add of it that did not fail was invoked only after the read completed.
    AddedAfterRead {
        /// That add.
        add: usize,
    },
}

/// An anomaly found by [`check_set_full`]; operations are indices into [`Recorded::ops`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetFullAnomaly {
    /// The element was known present, then absent from a read invoked afterwards and from
    /// every read invoked after that one.
    Lost {
        /// The element.
        element: Value,
        /// Its first add that did not fail.
        add: usize,
        /// The operation whose completion made it known present (an `:ok` add or a read).
        known: usize,
        /// The last read (by invocation) that contained it, if any did.
        last_present: Option<usize>,
        /// The first read, invoked after it was known present and after `last_present`,
        /// that missed it; every read invoked later missed it too.
        absent_from: usize,
    },
    /// The element was missed by a read invoked after it was known present, and seen again
    /// by later reads.
    Stale {
        /// The element.
        element: Value,
        /// Its first add that did not fail.
        add: usize,
        /// The operation whose completion made it known present.
        known: usize,
        /// The last read, invoked after it was known present, that missed it.
        last_absent: usize,
        /// From the known time to the invocation of `last_absent`.
        window: u64,
        /// The unit of `window`.
        unit: TimeUnit,
    },
    /// A read contained an element that no add could have put there by then.
    Unexpected {
        /// The element.
        element: Value,
        /// The first read that contained it unexpectedly.
        read: usize,
        /// Why it was unexpected.
        cause: UnexpectedCause,
    },
    /// Reads contained the element more than once.
    Duplicated {
        /// The element.
        element: Value,
        /// The first read that contained it more than once.
        read: usize,
        /// The largest number of copies in one read.
        copies: usize,
        /// How many reads contained it more than once.
        reads: usize,
    },
    /// An `:ok` read whose value is not a list or a set.
    Malformed {
        /// The read.
        op: usize,
        /// Its value.
        value: Value,
    },
}

impl SetFullAnomaly {
    /// The operations involved (indices into [`Recorded::ops`]).
    pub fn ops(&self) -> Vec<usize> {
        match self {
            SetFullAnomaly::Lost {
                add,
                known,
                last_present,
                absent_from,
                ..
            } => {
                let mut v = vec![*add, *known];
                v.extend(last_present);
                v.push(*absent_from);
                v
            }
            SetFullAnomaly::Stale {
                add,
                known,
                last_absent,
                ..
            } => vec![*add, *known, *last_absent],
            SetFullAnomaly::Unexpected { read, cause, .. } => match cause {
                UnexpectedCause::NeverAdded => vec![*read],
                UnexpectedCause::OnlyFailedAdds { add }
                | UnexpectedCause::AddedAfterRead { add } => vec![*read, *add],
            },
            SetFullAnomaly::Duplicated { read, .. } => vec![*read],
            SetFullAnomaly::Malformed { op, .. } => vec![*op],
        }
    }
}

impl fmt::Display for SetFullAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetFullAnomaly::Lost {
                element,
                add,
                known,
                last_present,
                absent_from,
            } => {
                write!(
                    f,
                    "lost: element {element} (add op {add}) known present at op {known}"
                )?;
                if let Some(p) = last_present {
                    write!(f, ", last seen by read op {p}")?;
                }
                write!(
                    f,
                    ", missing from read op {absent_from} and every read invoked after it"
                )
            }
            SetFullAnomaly::Stale {
                element,
                add,
                known,
                last_absent,
                window,
                unit,
            } => write!(
                f,
                "stale: element {element} (add op {add}) known present at op {known}, \
                 missed by reads until op {last_absent} ({window} {unit} later)"
            ),
            SetFullAnomaly::Unexpected {
                element,
                read,
                cause,
            } => {
                write!(f, "unexpected: read op {read} contained {element}, ")?;
                match cause {
                    UnexpectedCause::NeverAdded => write!(f, "which was never added"),
                    UnexpectedCause::OnlyFailedAdds { add } => {
                        write!(f, "whose adds all failed (first: op {add})")
                    }
                    UnexpectedCause::AddedAfterRead { add } => {
                        write!(
                            f,
                            "first added by op {add}, invoked after the read completed"
                        )
                    }
                }
            }
            SetFullAnomaly::Duplicated {
                element,
                read,
                copies,
                reads,
            } => write!(
                f,
                "duplicated: element {element} appeared up to {copies} times in one read, \
                 in {reads} read(s), first op {read}"
            ),
            SetFullAnomaly::Malformed { op, value } => {
                write!(
                    f,
                    "malformed: read op {op} returned {value}, not a list or set"
                )
            }
        }
    }
}

/// What became of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ElementOutcome {
    /// Eventually seen by every read, and never missed by one invoked after it was known.
    Stable,
    /// Stable, but missed by some read invoked after it was known present.
    Stale,
    /// Known present, then missing from the last read and those since the last that saw it.
    Lost,
    /// Known present, but no read was invoked after that.
    NeverRead,
    /// Its adds had unknown outcomes and no read contained it.
    Unconfirmed,
    /// Its adds all failed and no read contained it.
    Failed,
    /// Read, but no add that could have taken effect (it is unexpected).
    NotAdded,
}

/// When reads saw one element, and what became of it. Reads are indices into
/// [`Recorded::ops`]; "absent" reads are those invoked after the element's add was invoked
/// (reads invoked earlier may miss it legitimately).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementTimeline {
    /// The element.
    pub element: Value,
    /// What became of it.
    pub outcome: ElementOutcome,
    /// Its first add that did not fail (its first add, if all failed; `None` if never added).
    pub add: Option<usize>,
    /// The operation whose completion made it known present, if any did.
    pub known: Option<usize>,
    /// The first read (by invocation) that contained it.
    pub first_present: Option<usize>,
    /// The last read (by invocation) that contained it.
    pub last_present: Option<usize>,
    /// The first read invoked after the add's invocation that missed it.
    pub first_absent: Option<usize>,
    /// The last read invoked after the add's invocation that missed it.
    pub last_absent: Option<usize>,
}

/// The result of [`check_set_full`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetFullReport {
    /// No element lost, unexpected or duplicated, no malformed read, and (with
    /// [`SetFullOptions::linearizable`]) no stale element.
    pub valid: bool,
    /// Whether [`SetFullOptions::linearizable`] was set.
    pub linearizable: bool,
    /// Distinct elements some add tried to add.
    pub attempt_count: usize,
    /// Distinct elements with an `:ok` add.
    pub acknowledged_count: usize,
    /// `:ok` reads with a list or set value.
    pub read_count: usize,
    /// Elements eventually seen by every read.
    pub stable_count: usize,
    /// Stable elements that some read invoked after their known time missed.
    pub stale_count: usize,
    /// Elements lost.
    pub lost_count: usize,
    /// Elements known present, but no read was invoked after that.
    pub never_read_count: usize,
    /// Elements whose adds had unknown outcomes and which no read contained.
    pub unconfirmed_count: usize,
    /// Elements whose adds all failed and which no read contained (as expected).
    pub failed_count: usize,
    /// Elements read unexpectedly.
    pub unexpected_count: usize,
    /// Elements some read contained more than once.
    pub duplicated_count: usize,
    /// `:ok` reads whose value was not a list or set.
    pub malformed_count: usize,
    /// The never-read elements, in order of first add (at most `max_listed`).
    pub never_read: Vec<Value>,
    /// The unconfirmed elements, in order of first add (at most `max_listed`).
    pub unconfirmed: Vec<Value>,
    /// Stable latencies: from the element's first add invocation to the invocation of the
    /// last read that missed it (0 if none did).
    pub stable_latencies: Latencies,
    /// The longest stale window, if any element was stale.
    pub worst_stale_window: Option<u64>,
    /// Anomalies: lost (by first add), stale (longest window first), unexpected, duplicated,
    /// malformed; at most `max_listed` of each kind.
    pub anomalies: Vec<SetFullAnomaly>,
    /// Every element's timeline, in order of first add (elements never added last), if
    /// [`SetFullOptions::timelines`] was set; empty otherwise.
    pub timelines: Vec<ElementTimeline>,
}

impl fmt::Display for SetFullReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "set-full: {}; {} elements attempted, {} stable ({} stale), {} lost, {} never read, \
             {} unconfirmed, {} unexpected, {} duplicated, over {} reads",
            if self.valid { "valid" } else { "INVALID" },
            self.attempt_count,
            self.stable_count,
            self.stale_count,
            self.lost_count,
            self.never_read_count,
            self.unconfirmed_count,
            self.unexpected_count,
            self.duplicated_count,
            self.read_count
        )
    }
}

/// What the checker gathers about one element.
#[derive(Clone, Debug, Default)]
struct Element {
    /// Its first add (any outcome).
    first_add: Option<usize>,
    /// Its earliest-invoked add that did not fail.
    live_add: Option<usize>,
    /// The `:ok` add that completed first.
    first_ok_add: Option<usize>,
    /// Ordinals (into the call-sorted reads) of the first and last reads containing it.
    first_present: Option<usize>,
    last_present: Option<usize>,
    /// The first ordinal of the run of consecutive reads containing it that ends at
    /// `last_present`.
    run_start: usize,
    /// Reads containing it more than once: the first (ordinal), their number, most copies.
    dup_first: Option<usize>,
    dup_reads: usize,
    dup_max: usize,
    /// The first read (ordinal) invoked after its add's invocation that missed it
    /// ([`Seen::first_absent`]), if any did.
    first_absent: Option<usize>,
    /// The operation whose completion made it known present: its first `:ok` add or a
    /// read containing it, the earliest completion (the first such, on ties).
    known: Option<usize>,
    /// The first read containing it that completed before its live add was invoked.
    early_read: Option<usize>,
}

/// "None" in a [`Visit`].
const NO: u32 = u32::MAX;

/// What the visit of the reads gathers about one element, compactly (one cache line):
/// reads are visited once, in invocation order, and each read containing the element
/// updates a few fields in constant time; no per-element list of reads is kept. Ordinals
/// and operations are `u32` ([`NO`]: none).
#[derive(Clone, Copy, Debug)]
struct Visit {
    /// The completion position of `known` (`u64::MAX`: none yet).
    known_ret: u64,
    /// The invocation position of its live add (0 if none: no read completes before).
    live_call: u64,
    /// See [`Element`].
    known: u32,
    early_read: u32,
    first_present: u32,
    last_present: u32,
    run_start: u32,
    /// Copies in the read `last_present`.
    copies: u32,
    dup_first: u32,
    dup_reads: u32,
    dup_max: u32,
    /// The first read (ordinal) invoked after its add's invocation, the next ordinal
    /// expected while every read since then contained it, and the first that did not.
    scan_from: u32,
    scan_next: u32,
    first_absent: u32,
}

fn some(x: u32) -> Option<usize> {
    (x != NO).then_some(x as usize)
}

impl Visit {
    /// Before any read: `known` is the first `:ok` add (completed at `known_ret`).
    fn new(known: Option<usize>, known_ret: u64, live_call: u64, scan_from: usize) -> Visit {
        let small = |x: usize| u32::try_from(x).expect("fewer than 2^32 operations");
        Visit {
            known_ret,
            live_call,
            known: known.map_or(NO, small),
            early_read: NO,
            first_present: NO,
            last_present: NO,
            run_start: 0,
            copies: 0,
            dup_first: NO,
            dup_reads: 0,
            dup_max: 0,
            scan_from: small(scan_from),
            scan_next: small(scan_from),
            first_absent: NO,
        }
    }

    /// Records that read `ord` (operation `read`, completed at `ret`) contains it once more.
    #[inline(always)]
    fn seen(&mut self, ord: u32, read: u32, ret: u64) {
        if self.last_present == ord {
            self.copies += 1;
            if self.copies == 2 {
                self.dup_reads += 1;
                if self.dup_first == NO {
                    self.dup_first = ord;
                }
            }
            self.dup_max = self.dup_max.max(self.copies);
            return;
        }
        if self.last_present == NO || self.last_present + 1 != ord {
            self.run_start = ord;
        }
        if self.first_present == NO {
            self.first_present = ord;
        }
        self.last_present = ord;
        self.copies = 1;
        if self.first_absent == NO && ord >= self.scan_from {
            if ord == self.scan_next {
                self.scan_next += 1;
            } else {
                self.first_absent = self.scan_next;
            }
        }
        if self.known == NO || ret < self.known_ret {
            self.known = read;
            self.known_ret = ret;
        }
        if ret < self.live_call && self.early_read == NO {
            self.early_read = read;
        }
    }

    /// Stores the results in `e`, given `n` reads.
    fn finish(&self, e: &mut Element, n: usize) {
        e.first_present = some(self.first_present);
        e.last_present = some(self.last_present);
        e.run_start = self.run_start as usize;
        e.dup_first = some(self.dup_first);
        e.dup_reads = self.dup_reads as usize;
        e.dup_max = self.dup_max as usize;
        // Every read from `scan_from` on contained it: the first to miss it is the next.
        e.first_absent =
            some(self.first_absent).or_else(|| Some(self.scan_next as usize).filter(|&f| f < n));
        e.known = some(self.known);
        e.early_read = some(self.early_read);
    }
}

/// Dense ids for elements: integers through an open-addressing table (no hashing of
/// [`Value`]s per reference), and through a direct table over the range of the added ones
/// when that range is compact; anything else through an [`Interner`].
struct ElementIds {
    /// The direct table: ids of the integers `dense_base..dense_base + dense.len()`
    /// (`u32::MAX`: not interned yet).
    dense_base: i64,
    dense: Vec<u32>,
    /// Integer keys and their ids (`u32::MAX`: empty slot); the length is a power of two.
    int_keys: Vec<i64>,
    int_ids: Vec<u32>,
    ints: usize,
    others: Interner<Value>,
    /// Other values' interner ids -> element ids.
    other_ids: Vec<usize>,
    /// Element id -> value.
    values: Vec<Value>,
}

impl ElementIds {
    fn new() -> ElementIds {
        ElementIds {
            dense_base: 0,
            dense: Vec::new(),
            int_keys: vec![0; 64],
            int_ids: vec![u32::MAX; 64],
            ints: 0,
            others: Interner::new(),
            other_ids: Vec::new(),
            values: Vec::new(),
        }
    }

    #[inline]
    fn slot(&self, x: i64) -> usize {
        let mask = self.int_ids.len() - 1;
        let mut i = ((x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        while self.int_ids[i] != u32::MAX && self.int_keys[i] != x {
            i = (i + 1) & mask;
        }
        i
    }

    fn grow(&mut self) {
        let keys = std::mem::take(&mut self.int_keys);
        let ids = std::mem::take(&mut self.int_ids);
        self.int_keys = vec![0; keys.len() * 2];
        self.int_ids = vec![u32::MAX; ids.len() * 2];
        for (k, id) in keys.into_iter().zip(ids) {
            if id != u32::MAX {
                let i = self.slot(k);
                self.int_keys[i] = k;
                self.int_ids[i] = id;
            }
        }
    }

    /// Sets up the direct table over the range of the integers interned so far, if at
    /// most four slots per integer (plus 1024) cover it.
    fn densify(&mut self) {
        let ints = self
            .int_keys
            .iter()
            .zip(&self.int_ids)
            .filter(|&(_, &id)| id != u32::MAX);
        let (Some(lo), Some(hi)) = (
            ints.clone().map(|(&k, _)| k).min(),
            ints.clone().map(|(&k, _)| k).max(),
        ) else {
            return;
        };
        let span = hi.abs_diff(lo);
        if span > 4 * self.ints as u64 + 1024 {
            return;
        }
        self.dense_base = lo;
        self.dense = vec![u32::MAX; span as usize + 1];
        for (&k, &id) in ints {
            self.dense[k.abs_diff(lo) as usize] = id;
        }
    }

    /// The id of `v`, new ids counting up from 0.
    #[inline(always)]
    fn intern(&mut self, v: &Value) -> usize {
        if let Value::Int(x) = *v {
            if let Some(&id) = x
                .checked_sub(self.dense_base)
                .and_then(|o| usize::try_from(o).ok())
                .and_then(|o| self.dense.get(o))
            {
                if id != u32::MAX {
                    return id as usize;
                }
            }
        }
        self.intern_slow(v)
    }

    /// [`ElementIds::intern`] off the direct table.
    #[inline(never)]
    fn intern_slow(&mut self, v: &Value) -> usize {
        if let Value::Int(x) = *v {
            let direct = x
                .checked_sub(self.dense_base)
                .and_then(|o| usize::try_from(o).ok())
                .filter(|&o| o < self.dense.len());
            if let Some(o) = direct {
                if self.dense[o] != u32::MAX {
                    return self.dense[o] as usize;
                }
            }
            let i = self.slot(x);
            if self.int_ids[i] != u32::MAX {
                return self.int_ids[i] as usize;
            }
            let id = self.values.len();
            let id32 = u32::try_from(id).expect("fewer than 2^32 elements");
            self.int_keys[i] = x;
            self.int_ids[i] = id32;
            if let Some(o) = direct {
                self.dense[o] = id32;
            }
            self.values.push(v.clone());
            self.ints += 1;
            if self.ints * 2 > self.int_ids.len() {
                self.grow();
            }
            return id;
        }
        let o = self.others.intern(v);
        if o == self.other_ids.len() {
            self.other_ids.push(self.values.len());
            self.values.push(v.clone());
        }
        self.other_ids[o]
    }

    fn value(&self, id: usize) -> &Value {
        &self.values[id]
    }
}

/// The outcome of one element, while classifying.
enum Outcome {
    Stable {
        latency: u64,
        stale: Option<(usize, usize, u64)>,
    },
    Lost {
        known: usize,
        last_present: Option<usize>,
        absent_from: usize,
    },
    NeverRead,
    Unconfirmed,
    /// Every add failed, and no read contained it.
    Failed,
    /// No add that could have taken effect, yet read: only unexpected.
    NotAdded,
}

/// Checks a grow-only set history (`add`, `read`) as Jepsen's `set-full` does.
pub fn check_set_full(history: &Recorded, options: &SetFullOptions) -> SetFullReport {
    let ops = &history.ops;
    let clock = Clock::of(history);
    let max = options.max_listed;
    let mut interner = ElementIds::new();
    let mut elements: Vec<Element> = Vec::new();
    let mut reads: Vec<usize> = Vec::new();
    let mut malformed = Vec::new();
    let mut malformed_count = 0;

    let ret_pos = |i: usize| ops[i].ret.unwrap_or(u64::MAX);
    for (i, op) in ops.iter().enumerate() {
        match op.f.as_str() {
            "add" | "broadcast" => {
                let id = interner.intern(&op.value);
                if id == elements.len() {
                    elements.push(Element::default());
                }
                let e = &mut elements[id];
                e.first_add.get_or_insert(i);
                if !op.is_fail() && e.live_add.is_none_or(|a| op.call < ops[a].call) {
                    e.live_add = Some(i);
                }
                if op.is_ok() && e.first_ok_add.is_none_or(|a| ret_pos(i) < ret_pos(a)) {
                    e.first_ok_add = Some(i);
                }
            }
            "read" => {
                if let Completion::Ok(v) = &op.completion {
                    if v.as_list().is_some() {
                        reads.push(i);
                    } else {
                        malformed_count += 1;
                        push_capped(
                            &mut malformed,
                            max,
                            SetFullAnomaly::Malformed {
                                op: i,
                                value: v.clone(),
                            },
                        );
                    }
                }
            }
            _ => {}
        }
    }
    // Recorded histories are in invocation order already; make sure of it.
    reads.sort_by_key(|&i| ops[i].call);
    let calls: Vec<u64> = reads.iter().map(|&i| ops[i].call).collect();

    // What is known of the added elements before any read.
    interner.densify();
    let mut visits: Vec<Visit> = elements
        .iter()
        .map(|e| {
            let scan_from = e
                .live_add
                .or(e.first_add)
                .map_or(0, |add| calls.partition_point(|&c| c <= ops[add].call));
            Visit::new(
                e.first_ok_add,
                e.first_ok_add.map_or(u64::MAX, ret_pos),
                e.live_add.map_or(0, |a| ops[a].call),
                scan_from,
            )
        })
        .collect();
    let never_added = Visit::new(None, u64::MAX, 0, 0);
    for (ord, &i) in reads.iter().enumerate() {
        let Completion::Ok(v) = &ops[i].completion else {
            continue;
        };
        let ret = ret_pos(i);
        let small = |x: usize| u32::try_from(x).expect("fewer than 2^32 operations");
        let (ord, i) = (small(ord), small(i));
        for x in v.as_list().unwrap_or(&[]) {
            let id = interner.intern(x);
            if id == visits.len() {
                visits.push(never_added);
            }
            visits[id].seen(ord, i, ret);
        }
    }
    elements.resize(visits.len(), Element::default());
    for (e, v) in elements.iter_mut().zip(&visits) {
        v.finish(e, reads.len());
    }

    let mut report = SetFullReport {
        valid: true,
        linearizable: options.linearizable,
        attempt_count: 0,
        acknowledged_count: 0,
        read_count: reads.len(),
        stable_count: 0,
        stale_count: 0,
        lost_count: 0,
        never_read_count: 0,
        unconfirmed_count: 0,
        failed_count: 0,
        unexpected_count: 0,
        duplicated_count: 0,
        malformed_count,
        never_read: Vec::new(),
        unconfirmed: Vec::new(),
        stable_latencies: Latencies::of(clock.unit, Vec::new()),
        worst_stale_window: None,
        anomalies: Vec::new(),
        timelines: Vec::new(),
    };
    let mut lost = Vec::new();
    let mut stale = Vec::new();
    let mut unexpected = Vec::new();
    let mut duplicated = Vec::new();
    let mut latencies = Vec::new();

    // Elements in order of first add; never-added ones (first seen by a read) after them.
    let mut order: Vec<usize> = (0..elements.len()).collect();
    order.sort_by_key(|&id| elements[id].first_add.unwrap_or(usize::MAX));
    for id in order {
        let e = &elements[id];
        let element = interner.value(id);
        if e.first_add.is_some() {
            report.attempt_count += 1;
        }
        if e.first_ok_add.is_some() {
            report.acknowledged_count += 1;
        }
        if let Some(first) = e.dup_first {
            report.duplicated_count += 1;
            push_capped(
                &mut duplicated,
                max,
                SetFullAnomaly::Duplicated {
                    element: element.clone(),
                    read: reads[first],
                    copies: e.dup_max,
                    reads: e.dup_reads,
                },
            );
        }
        if let Some(cause) = unexpected_cause(e, &reads) {
            report.unexpected_count += 1;
            push_capped(
                &mut unexpected,
                max,
                SetFullAnomaly::Unexpected {
                    element: element.clone(),
                    read: cause.0,
                    cause: cause.1,
                },
            );
        }
        let seen = Seen::of(e, reads.len());
        let outcome = classify(e, &seen, &reads, &calls, ops, clock);
        if options.timelines {
            let ord = |o: Option<usize>| o.map(|o| reads[o]);
            let add_call = e.live_add.or(e.first_add).map_or(0, |a| ops[a].call);
            report.timelines.push(ElementTimeline {
                element: element.clone(),
                outcome: match &outcome {
                    Outcome::Stable { stale: None, .. } => ElementOutcome::Stable,
                    Outcome::Stable { stale: Some(_), .. } => ElementOutcome::Stale,
                    Outcome::Lost { .. } => ElementOutcome::Lost,
                    Outcome::NeverRead => ElementOutcome::NeverRead,
                    Outcome::Unconfirmed => ElementOutcome::Unconfirmed,
                    Outcome::Failed => ElementOutcome::Failed,
                    Outcome::NotAdded => ElementOutcome::NotAdded,
                },
                add: e.live_add.or(e.first_add),
                known: seen.known,
                first_present: ord(e.first_present),
                last_present: ord(e.last_present),
                first_absent: ord(seen.first_absent),
                last_absent: ord(seen.last_absent.filter(|&o| calls[o] > add_call)),
            });
        }
        match outcome {
            Outcome::Failed => report.failed_count += 1,
            Outcome::NotAdded => {}
            Outcome::Unconfirmed => {
                report.unconfirmed_count += 1;
                push_capped(&mut report.unconfirmed, max, element.clone());
            }
            Outcome::NeverRead => {
                report.never_read_count += 1;
                push_capped(&mut report.never_read, max, element.clone());
            }
            Outcome::Lost {
                known,
                last_present,
                absent_from,
            } => {
                report.lost_count += 1;
                push_capped(
                    &mut lost,
                    max,
                    SetFullAnomaly::Lost {
                        element: element.clone(),
                        add: e.live_add.unwrap_or_default(),
                        known,
                        last_present,
                        absent_from,
                    },
                );
            }
            Outcome::Stable {
                latency,
                stale: staleness,
            } => {
                report.stable_count += 1;
                latencies.push(latency);
                if let Some((known, last_absent, window)) = staleness {
                    report.stale_count += 1;
                    // All stale ones are kept here, to list the worst.
                    stale.push(SetFullAnomaly::Stale {
                        element: element.clone(),
                        add: e.live_add.unwrap_or_default(),
                        known,
                        last_absent,
                        window,
                        unit: clock.unit,
                    });
                }
            }
        }
    }
    let window = |a: &SetFullAnomaly| match a {
        SetFullAnomaly::Stale { window, .. } => *window,
        _ => 0,
    };
    stale.sort_by_key(|a| std::cmp::Reverse(window(a)));
    report.worst_stale_window = stale.first().map(window);
    stale.truncate(max);

    report.stable_latencies = Latencies::of(clock.unit, latencies);
    report.valid = report.lost_count == 0
        && report.unexpected_count == 0
        && report.duplicated_count == 0
        && report.malformed_count == 0
        && !(options.linearizable && report.stale_count > 0);
    report.anomalies = lost;
    report.anomalies.extend(stale);
    report.anomalies.extend(unexpected);
    report.anomalies.extend(duplicated);
    report.anomalies.extend(malformed);
    report
}

/// The first read that contained `e` unexpectedly, and why, if any did.
fn unexpected_cause(e: &Element, reads: &[usize]) -> Option<(usize, UnexpectedCause)> {
    let first = reads[e.first_present?];
    match (e.first_add, e.live_add) {
        (None, _) => Some((first, UnexpectedCause::NeverAdded)),
        (Some(add), None) => Some((first, UnexpectedCause::OnlyFailedAdds { add })),
        (Some(_), Some(add)) => e
            .early_read
            .map(|r| (r, UnexpectedCause::AddedAfterRead { add })),
    }
}

/// Where reads saw an element, beyond `Element::present`.
struct Seen {
    /// The operation whose completion made it known present.
    known: Option<usize>,
    /// The first read (ordinal) invoked after its add's invocation that missed it.
    first_absent: Option<usize>,
    /// The last read (ordinal) that missed it, whenever it was invoked.
    last_absent: Option<usize>,
}

impl Seen {
    /// From what the visit of the `n` reads gathered.
    fn of(e: &Element, n: usize) -> Seen {
        // The last read that missed it: the one before the final run of reads containing
        // it, if that run reaches the last read.
        let last = match e.last_present {
            Some(p) if p + 1 == n => e.run_start,
            _ => n,
        };
        Seen {
            known: e.known,
            first_absent: e.first_absent,
            last_absent: last.checked_sub(1),
        }
    }
}

/// Classifies an element (see the module docs).
fn classify(
    e: &Element,
    seen: &Seen,
    reads: &[usize],
    calls: &[u64],
    ops: &[RecordedOp],
    clock: Clock,
) -> Outcome {
    let Some(add) = e.live_add else {
        return if e.first_add.is_some() && e.first_present.is_none() {
            Outcome::Failed
        } else {
            Outcome::NotAdded
        };
    };
    let Some(known) = seen.known else {
        return Outcome::Unconfirmed;
    };
    let known_pos = ops[known].ret.unwrap_or(u64::MAX);
    let n = reads.len();
    if n == 0 || calls[n - 1] <= known_pos {
        return Outcome::NeverRead;
    }
    let last_absent = seen.last_absent;
    let last_present = e.last_present;
    if last_present == Some(n - 1) {
        // Only reads invoked after the add delay its visibility.
        let latency = match last_absent.filter(|&ord| calls[ord] > ops[add].call) {
            Some(ord) => clock
                .call(&ops[reads[ord]])
                .saturating_sub(clock.call(&ops[add])),
            None => 0,
        };
        let stale = last_absent
            .filter(|&ord| calls[ord] > known_pos)
            .map(|ord| {
                let r = reads[ord];
                let window = clock.call(&ops[r]).saturating_sub(clock.ret(&ops[known]));
                (known, r, window)
            });
        Outcome::Stable { latency, stale }
    } else {
        // The final read missed it: from the first read invoked after both the known time
        // and the last read that saw it, every read missed it.
        let after = last_present.map_or(known_pos, |ord| calls[ord].max(known_pos));
        let from = calls.partition_point(|&c| c <= after);
        Outcome::Lost {
            known,
            last_present: last_present.map(|ord| reads[ord]),
            absent_from: reads[from],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RecordedOp;

    fn op(f: &str, value: Value, completion: Completion, call: u64, ret: u64) -> RecordedOp {
        RecordedOp {
            process: 0,
            f: f.into(),
            key: None,
            value,
            completion,
            call,
            ret: Some(ret),
            call_nanos: None,
            ret_nanos: None,
            line: 0,
        }
    }

    fn read(set: &[i64], call: u64, ret: u64) -> RecordedOp {
        let v = Value::Set(set.iter().map(|&x| Value::Int(x)).collect());
        op("read", Value::Nil, Completion::Ok(v), call, ret)
    }

    #[test]
    fn a_read_concurrent_with_the_add_may_miss_it() {
        let h = Recorded {
            ops: vec![
                op("add", Value::Int(1), Completion::Ok(Value::Nil), 0, 3),
                read(&[], 1, 2),
                read(&[1], 4, 5),
            ],
            skipped_events: 0,
        };
        let r = check_set_full(
            &h,
            &SetFullOptions {
                linearizable: true,
                ..SetFullOptions::default()
            },
        );
        assert!(r.valid, "{r}");
        assert_eq!((r.stable_count, r.stale_count), (1, 0));
        // The read at 1 missed it, after the add's invocation at 0.
        assert_eq!(r.stable_latencies.quantiles[0].value, 1);
    }
}
