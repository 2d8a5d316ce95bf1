//! Inferring the dependency graph, and the anomalies found on the way (see the module docs
//! of `txn`).

use super::graph::Edge;
use super::parse::{Status, Txn};
use super::serial;
use super::{EdgeKind, Ids, Sink, TxnAnomaly, TxnAnomalyKind, TxnWorkload};
use crate::format::{Recorded, RecordedOp, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The graph's edges and a few counts.
pub(crate) struct Inferred {
    pub(crate) edges: Vec<Edge>,
    pub(crate) observed_unknown: usize,
    pub(crate) ambiguous_values: usize,
    /// The serializability inference stopped short of its fixed point somewhere.
    pub(crate) inference_incomplete: bool,
}

/// Who wrote a (key, value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writer {
    /// Nobody.
    Nobody,
    /// Only failed transactions (the first).
    Aborted(usize),
    /// Several transactions that did not fail.
    Ambiguous,
    /// One transaction that did not fail, and whether this was its final write of the key
    /// (its last append, for lists).
    One(usize, bool),
}

/// A read of an `:ok` transaction.
struct Read<'h> {
    txn: usize,
    key: usize,
    /// The first read of the key, before any write of it in the transaction.
    external: bool,
    values: &'h [Value],
}

/// The state shared by both workloads' inference.
struct Ctx<'a, 'h> {
    ops: &'a [RecordedOp],
    txns: &'a [Txn<'h>],
    keys: &'a Ids,
    vals: &'a mut Ids,
    sink: &'a mut Sink,
    /// (key, value) -> (txn, final write of the key in it), every outcome.
    writes: BTreeMap<(usize, usize), Vec<(usize, bool)>>,
    /// Transactions known to have committed: ok, or unknown and read from.
    committed: Vec<bool>,
    edges: Vec<Edge>,
}

impl Ctx<'_, '_> {
    fn writer(&self, key: usize, value: usize) -> Writer {
        let Some(ws) = self.writes.get(&(key, value)) else {
            return Writer::Nobody;
        };
        let mut live = ws
            .iter()
            .filter(|&&(t, _)| self.txns[t].status != Status::Failed);
        match (live.next(), live.next()) {
            (None, _) => Writer::Aborted(ws[0].0),
            (Some(&(t, last)), None) => Writer::One(t, last),
            (Some(_), Some(_)) => Writer::Ambiguous,
        }
    }

    /// How many distinct transactions that did not fail wrote (key, value).
    fn live_writers(&self, key: usize, value: usize) -> usize {
        self.writes.get(&(key, value)).map_or(0, |ws| {
            ws.iter()
                .filter(|&&(t, _)| self.txns[t].status != Status::Failed)
                .map(|&(t, _)| t)
                .collect::<BTreeSet<_>>()
                .len()
        })
    }

    fn op(&self, t: usize) -> usize {
        self.txns[t].op
    }

    fn key(&self, k: usize) -> Value {
        self.keys.value(k).clone()
    }

    fn val(&self, v: usize) -> Value {
        self.vals.value(v).clone()
    }

    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind, key: usize, value: Option<usize>) {
        self.push_edge(from, to, kind, false, key, value);
    }

    fn push_edge(
        &mut self,
        from: usize,
        to: usize,
        kind: EdgeKind,
        realtime_derived: bool,
        key: usize,
        value: Option<usize>,
    ) {
        if from != to {
            self.edges.push(Edge {
                from: from as u32,
                to: to as u32,
                kind,
                realtime_derived,
                serial_derived: false,
                key: Some(key),
                value,
            });
        }
    }

    /// Reports a non-cycle anomaly.
    fn report(
        &mut self,
        kind: TxnAnomalyKind,
        txns: &[usize],
        key: usize,
        value: Value,
        explanation: impl FnOnce() -> String,
    ) {
        let ops: Vec<usize> = txns.iter().map(|&t| self.txns[t].op).collect();
        let key = self.key(key);
        self.sink.push(kind, || TxnAnomaly {
            kind,
            ops,
            cycle: Vec::new(),
            key: Some(key),
            value: Some(value),
            explanation: explanation(),
        });
    }

    /// Checks one value `reader` read of `key` against its writers: garbage, aborted and
    /// (for an external read) future reads; marks an unknown writer read from as
    /// committed. Returns the unique writer, if another transaction.
    fn check_value(
        &mut self,
        reader: usize,
        key: usize,
        v: usize,
        external: bool,
    ) -> Option<(usize, bool)> {
        match self.writer(key, v) {
            Writer::Nobody => {
                let (op, k, val) = (self.op(reader), self.key(key), self.val(v));
                self.report(
                    TxnAnomalyKind::GarbageRead,
                    &[reader],
                    key,
                    val.clone(),
                    || format!("op {op} read {val} of {k}, which no transaction wrote"),
                );
                None
            }
            Writer::Aborted(w) => {
                let (op, wop, k, val) = (self.op(reader), self.op(w), self.key(key), self.val(v));
                self.report(TxnAnomalyKind::G1a, &[reader, w], key, val.clone(), || {
                    format!("op {op} read {val} of {k}, written only by op {wop}, which failed")
                });
                None
            }
            Writer::Ambiguous => None,
            Writer::One(w, _) if w == reader => {
                if external {
                    let (op, k, val) = (self.op(reader), self.key(key), self.val(v));
                    self.report(
                        TxnAnomalyKind::FutureRead,
                        &[reader],
                        key,
                        val.clone(),
                        || format!("op {op} read {val} of {k} before writing it itself"),
                    );
                }
                None
            }
            Writer::One(w, last) => {
                if self.txns[w].status == Status::Unknown {
                    self.committed[w] = true;
                }
                Some((w, last))
            }
        }
    }
}

/// Builds the graph for `txns`.
pub(crate) fn infer(
    history: &Recorded,
    txns: &[Txn<'_>],
    workload: TxnWorkload,
    keys: &Ids,
    vals: &mut Ids,
    sink: &mut Sink,
    inference_window: usize,
) -> Inferred {
    let mut writes: BTreeMap<(usize, usize), Vec<(usize, bool)>> = BTreeMap::new();
    for (t, txn) in txns.iter().enumerate() {
        for (i, m) in txn.mops.iter().enumerate() {
            if m.write {
                let last = !txn.mops[i + 1..].iter().any(|n| n.write && n.key == m.key);
                writes.entry((m.key, m.arg)).or_default().push((t, last));
            }
        }
    }
    let mut cx = Ctx {
        ops: &history.ops,
        txns,
        keys,
        vals,
        sink,
        writes,
        committed: txns.iter().map(|t| t.status == Status::Ok).collect(),
        edges: Vec::new(),
    };
    let ambiguous_values = cx
        .writes
        .keys()
        .filter(|&&(k, v)| cx.live_writers(k, v) > 1)
        .count();
    let reads = reads(&mut cx, workload);
    let mut inference_incomplete = false;
    match workload {
        TxnWorkload::ListAppend => list_append(&mut cx, &reads),
        TxnWorkload::RwRegister => {
            inference_incomplete = rw_register(&mut cx, &reads, inference_window).incomplete;
        }
    }
    realtime(&mut cx);
    let observed_unknown = txns
        .iter()
        .enumerate()
        .filter(|&(t, txn)| txn.status == Status::Unknown && cx.committed[t])
        .count();
    Inferred {
        edges: cx.edges,
        observed_unknown,
        ambiguous_values,
        inference_incomplete,
    }
}

/// Every read of the `:ok` transactions, checking each against its own transaction
/// (internal consistency).
fn reads<'h>(cx: &mut Ctx<'_, 'h>, workload: TxnWorkload) -> Vec<Read<'h>> {
    #[derive(Default)]
    struct KeyState<'h> {
        /// The last read of the key.
        last_read: Option<&'h [Value]>,
        /// Own writes (appends) of the key so far.
        own: Vec<usize>,
        /// Own writes (appends) since the last read.
        since: Vec<usize>,
    }
    let txns = cx.txns;
    let mut out = Vec::new();
    for (t, txn) in txns.iter().enumerate() {
        if txn.status != Status::Ok {
            continue;
        }
        let mut state: BTreeMap<usize, KeyState<'h>> = BTreeMap::new();
        for m in &txn.mops {
            let st = state.entry(m.key).or_default();
            if m.write {
                st.own.push(m.arg);
                st.since.push(m.arg);
                continue;
            }
            let Some(values) = m.read else {
                continue;
            };
            // What the transaction's own operations say the read must be: `prefix` (an
            // earlier read, if exact) followed by `tail` (own writes), exactly or as a suffix.
            let vals = &*cx.vals;
            let (prefix, tail, exact): (&[Value], &[usize], bool) = match workload {
                TxnWorkload::RwRegister => match st.own.last() {
                    Some(w) => (&[], std::slice::from_ref(w), true),
                    None => (st.last_read.unwrap_or(&[]), &[], st.last_read.is_some()),
                },
                TxnWorkload::ListAppend => {
                    let suffix_holds = values.len() >= st.own.len()
                        && values[values.len() - st.own.len()..]
                            .iter()
                            .zip(&st.own)
                            .all(|(v, &i)| vals.value(i) == v);
                    match st.last_read {
                        _ if !suffix_holds => (&[], &st.own[..], false),
                        Some(prev) => (prev, &st.since[..], true),
                        None => (&[], &[], false),
                    }
                }
            };
            let tail_matches = |vs: &[Value]| {
                vs.len() == tail.len() && vs.iter().zip(tail).all(|(v, &i)| vals.value(i) == v)
            };
            let holds = if exact {
                values.len() == prefix.len() + tail.len()
                    && values[..prefix.len()] == *prefix
                    && tail_matches(&values[prefix.len()..])
            } else {
                values.len() >= tail.len() && tail_matches(&values[values.len() - tail.len()..])
            };
            if !holds {
                let mut want: Vec<Value> = prefix.to_vec();
                want.extend(tail.iter().map(|&i| vals.value(i).clone()));
                let (op, key) = (txn.op, cx.key(m.key));
                let (got, want) = match workload {
                    TxnWorkload::RwRegister => (
                        values.first().cloned().unwrap_or(Value::Nil),
                        want.first().cloned().unwrap_or(Value::Nil),
                    ),
                    TxnWorkload::ListAppend => (Value::List(values.to_vec()), Value::List(want)),
                };
                cx.report(TxnAnomalyKind::Internal, &[t], m.key, got.clone(), || {
                    if exact {
                        format!(
                            "op {op} read {got} of {key}, but its own earlier operations imply \
                             {want}"
                        )
                    } else {
                        format!(
                            "op {op} read {got} of {key}, which does not end with its own \
                             appends {want}"
                        )
                    }
                });
            }
            let external = st.own.is_empty() && st.last_read.is_none();
            st.last_read = Some(values);
            st.since.clear();
            out.push(Read {
                txn: t,
                key: m.key,
                external,
                values,
            });
        }
    }
    out
}

/// List-append: the version order of each key is its longest read; every other read must
/// be a prefix of it. The elements of the longest read (and of reads that are not
/// prefixes) are checked once each; the ww, wr and rw edges follow.
fn list_append(cx: &mut Ctx<'_, '_>, reads: &[Read<'_>]) {
    let mut by_key: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, r) in reads.iter().enumerate() {
        by_key.entry(r.key).or_default().push(i);
    }
    for (&k, idx) in &by_key {
        // The first longest read.
        let mut li = idx[0];
        for &i in idx {
            if reads[i].values.len() > reads[li].values.len() {
                li = i;
            }
        }
        let longest = reads[li].values;
        let order: Vec<usize> = longest.iter().map(|v| cx.vals.intern(v)).collect();
        // Reads that are not prefixes of the longest.
        let mut incompatible: BTreeSet<usize> = BTreeSet::new();
        for &i in idx {
            let r = &reads[i];
            if longest[..r.values.len()] != *r.values {
                if incompatible.is_empty() {
                    let (a, b, key) = (cx.op(r.txn), cx.op(reads[li].txn), cx.key(k));
                    let (ra, rb) = (
                        Value::List(r.values.to_vec()),
                        Value::List(longest.to_vec()),
                    );
                    cx.report(
                        TxnAnomalyKind::IncompatibleOrder,
                        &[r.txn, reads[li].txn],
                        k,
                        Value::List(vec![ra.clone(), rb.clone()]),
                        || {
                            format!(
                                "op {a} read {key} = {ra} and op {b} read {rb}: neither is a \
                                 prefix of the other"
                            )
                        },
                    );
                }
                incompatible.insert(i);
            }
        }
        let compatible = incompatible.is_empty();

        // Element checks on the longest read, each element charged to the first read (in
        // history order) that holds it.
        let mut first_reader = vec![reads[li].txn; order.len()];
        let mut covered = 0;
        for &i in idx {
            let r = &reads[i];
            if r.values.len() > covered && !incompatible.contains(&i) {
                for slot in &mut first_reader[covered..r.values.len()] {
                    *slot = r.txn;
                }
                covered = r.values.len();
            }
        }
        let mut first_pos: BTreeMap<usize, usize> = BTreeMap::new();
        for (p, &v) in order.iter().enumerate() {
            if let std::collections::btree_map::Entry::Vacant(e) = first_pos.entry(v) {
                e.insert(p);
                cx.check_value(first_reader[p], k, v, false);
            }
        }
        duplicates(cx, reads[li].txn, k, &order);
        // Future reads: an external read holding the transaction's own append.
        for &i in idx {
            let r = &reads[i];
            if !r.external || incompatible.contains(&i) {
                continue;
            }
            let own = cx.txns[r.txn]
                .mops
                .iter()
                .filter(|m| m.write && m.key == k)
                .map(|m| m.arg);
            let seen: Vec<usize> = own
                .filter(|a| first_pos.get(a).is_some_and(|&p| p < r.values.len()))
                .collect();
            if let Some(&v) = seen.first() {
                cx.check_value(r.txn, k, v, true);
            }
        }
        // Reads that are not prefixes: every element on its own.
        for &i in &incompatible {
            let r = &reads[i];
            let ids: Vec<usize> = r.values.iter().map(|v| cx.vals.intern(v)).collect();
            let mut seen: BTreeSet<usize> = BTreeSet::new();
            for &v in &ids {
                if seen.insert(v) {
                    cx.check_value(r.txn, k, v, r.external);
                }
            }
            duplicates(cx, r.txn, k, &ids);
        }

        // wr edges and intermediate reads: the last element of external reads.
        for &i in idx {
            let r = &reads[i];
            if !r.external || r.values.is_empty() {
                continue;
            }
            let last = if incompatible.contains(&i) {
                cx.vals.intern(&r.values[r.values.len() - 1])
            } else {
                order[r.values.len() - 1]
            };
            if let Writer::One(w, is_last) = cx.writer(k, last) {
                if w == r.txn {
                    continue;
                }
                if !is_last {
                    let (op, wop, key, val) = (cx.op(r.txn), cx.op(w), cx.key(k), cx.val(last));
                    cx.report(TxnAnomalyKind::G1b, &[r.txn, w], k, val.clone(), || {
                        format!(
                            "op {op} read {key} ending in {val}, but op {wop} appended more to \
                             {key} after {val}"
                        )
                    });
                }
                cx.edge(w, r.txn, EdgeKind::Wr, k, Some(last));
            }
        }
        if !compatible {
            continue;
        }
        // ww: consecutive elements (first occurrences) with a unique writer.
        let mut prev: Option<usize> = None;
        for (p, &v) in order.iter().enumerate() {
            if first_pos.get(&v) != Some(&p) {
                continue;
            }
            if let Writer::One(w, _) = cx.writer(k, v) {
                if let Some(p) = prev.filter(|&p| p != w) {
                    cx.edge(p, w, EdgeKind::Ww, k, Some(v));
                }
                prev = Some(w);
            }
        }
        // rw: an external read misses the next element of the order.
        for &i in idx {
            let r = &reads[i];
            if !r.external {
                continue;
            }
            for &v in &order[r.values.len()..] {
                if let Writer::One(w, _) = cx.writer(k, v) {
                    cx.edge(r.txn, w, EdgeKind::Rw, k, Some(v));
                    break;
                }
            }
        }
    }
}

/// Reports `reader`'s read `ids` of `key` if it holds an element more often than
/// transactions (that did not fail) appended it.
fn duplicates(cx: &mut Ctx<'_, '_>, reader: usize, key: usize, ids: &[usize]) {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    for run in sorted.chunk_by(|a, b| a == b) {
        if run.len() > 1 && run.len() > cx.live_writers(key, run[0]) {
            let (op, k, val, n) = (cx.op(reader), cx.key(key), cx.val(run[0]), run.len());
            cx.report(
                TxnAnomalyKind::DuplicateElements,
                &[reader],
                key,
                val.clone(),
                || format!("op {op} read {k} holding {val} {n} times"),
            );
            return;
        }
    }
}

/// Rw-register: value checks, versions ordered by writes-follow-reads and by the initial
/// value, then by what a serial execution would need (within windows of `window`
/// transactions), and (under strict serializability) by real time.
fn rw_register(cx: &mut Ctx<'_, '_>, reads: &[Read<'_>], window: usize) -> serial::Outcome {
    let txns = cx.txns;
    // External reads of non-nil values, by the version they read: (key, value) -> readers.
    let mut readers: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut nil_readers: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    // The external read of each (txn, key), for writes-follow-reads.
    let mut external: BTreeMap<(usize, usize), Option<usize>> = BTreeMap::new();
    for r in reads.iter().filter(|r| r.external) {
        let Some(value) = r.values.first() else {
            nil_readers.entry(r.key).or_default().push(r.txn);
            external.insert((r.txn, r.key), None);
            continue;
        };
        let v = cx.vals.intern(value);
        external.insert((r.txn, r.key), Some(v));
        let Some((w, is_final)) = cx.check_value(r.txn, r.key, v, true) else {
            continue;
        };
        if !is_final {
            let (op, wop, key, val) = (cx.op(r.txn), cx.op(w), cx.key(r.key), cx.val(v));
            cx.report(TxnAnomalyKind::G1b, &[r.txn, w], r.key, val.clone(), || {
                format!("op {op} read {val} of {key}, which op {wop} overwrote within itself")
            });
            continue;
        }
        cx.edge(w, r.txn, EdgeKind::Wr, r.key, Some(v));
        readers.entry((r.key, v)).or_default().push(r.txn);
    }
    // Final writes of each key by committed transactions: (key) -> [(txn, value)].
    let mut finals: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (t, txn) in txns.iter().enumerate() {
        if !cx.committed[t] {
            continue;
        }
        let mut last: BTreeMap<usize, usize> = BTreeMap::new();
        for m in txn.mops.iter().filter(|m| m.write) {
            last.insert(m.key, m.arg);
        }
        for (k, v) in last {
            finals.entry(k).or_default().push((t, v));
        }
    }
    // Writes follow reads: t read version u of k, then wrote v: u's writer -ww-> t, and
    // u's other readers -rw-> t.
    let mut has_pred: BTreeSet<(usize, usize)> = BTreeSet::new(); // (key, txn)
    for (&k, ws) in &finals {
        for &(t, v) in ws {
            let Some(&Some(u)) = external.get(&(t, k)) else {
                continue;
            };
            let Writer::One(w, true) = cx.writer(k, u) else {
                continue;
            };
            if w == t {
                continue;
            }
            has_pred.insert((k, t));
            cx.edge(w, t, EdgeKind::Ww, k, Some(v));
            for &r in readers.get(&(k, u)).map_or(&[][..], |rs| rs.as_slice()) {
                cx.edge(r, t, EdgeKind::Rw, k, Some(v));
            }
        }
    }
    // The initial version precedes every other: readers of nil -rw-> the writers of the
    // versions with no known predecessor (the others follow those by ww edges).
    for (&k, rs) in &nil_readers {
        let Some(ws) = finals.get(&k) else { continue };
        for &(w, v) in ws {
            if has_pred.contains(&(k, w)) {
                continue;
            }
            for &r in rs {
                cx.edge(r, w, EdgeKind::Rw, k, Some(v));
            }
        }
    }
    // The version orders any serial execution would need.
    let per_key: Vec<serial::KeyVersions> = finals
        .iter()
        .map(|(&key, writers)| serial::KeyVersions {
            key,
            writers: writers.clone(),
            versions: readers
                .range((key, 0)..=(key, usize::MAX))
                .map(|(&(_, value), rs)| {
                    let Writer::One(writer, true) = cx.writer(key, value) else {
                        unreachable!("only reads of a final write by one transaction are kept")
                    };
                    serial::Version {
                        writer,
                        value,
                        readers: rs.clone(),
                    }
                })
                .collect(),
        })
        .filter(|kv| kv.writers.len() >= 2 && !kv.versions.is_empty())
        .collect();
    let outcome = serial::infer(&cx.committed, &per_key, window, &mut cx.edges, |e| {
        !e.is_realtime()
    });
    // Real time orders versions under strict serializability: if a's transaction
    // completed before b's was invoked, a's version of k precedes b's, so readers of a's
    // version -rw-> b (realtime-derived). Only the earliest such b are linked; the later
    // ones follow them by realtime edges.
    let ops = cx.ops;
    for (&k, ws) in &finals {
        let mut ok: Vec<(u64, u64, usize, usize)> = ws
            .iter()
            .filter_map(|&(t, v)| {
                let o = &ops[txns[t].op];
                o.ret
                    .filter(|_| txns[t].status == Status::Ok)
                    .map(|ret| (o.call, ret, t, v))
            })
            .collect();
        ok.sort_unstable();
        // suffix_min[i]: the earliest completion among ok[i..].
        let mut suffix_min = vec![u64::MAX; ok.len() + 1];
        for i in (0..ok.len()).rev() {
            suffix_min[i] = suffix_min[i + 1].min(ok[i].1);
        }
        for &(_, ret, a, va) in &ok {
            let Some(rs) = readers.get(&(k, va)) else {
                continue;
            };
            if cx.writer(k, va) != Writer::One(a, true) {
                continue;
            }
            let first = ok.partition_point(|&(call, _, _, _)| call <= ret);
            let bound = suffix_min[first];
            for &(call, _, b, vb) in &ok[first..] {
                if call > bound {
                    break;
                }
                for &r in rs {
                    cx.push_edge(r, b, EdgeKind::Rw, true, k, Some(vb));
                }
            }
        }
    }
    outcome
}

/// Realtime edges between committed transactions: `a -> b` when `a` (ok) completed before
/// `b` was invoked, transitively reduced by a sweep over the events.
fn realtime(cx: &mut Ctx<'_, '_>) {
    let ops = cx.ops;
    // (position, is completion, txn)
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    for (t, txn) in cx.txns.iter().enumerate() {
        if !cx.committed[t] {
            continue;
        }
        let o = &ops[txn.op];
        events.push((o.call, false, t));
        if let Some(ret) = o.ret.filter(|_| txn.status == Status::Ok) {
            events.push((ret, true, t));
        }
    }
    events.sort_unstable();
    // Completed transactions not yet known to precede a later-completed one that itself
    // completed before the current event.
    let mut frontier: Vec<usize> = Vec::new();
    for (_, done, t) in events {
        if done {
            let call = ops[cx.txns[t].op].call;
            frontier.retain(|&f| ops[cx.txns[f].op].ret.is_none_or(|r| r >= call));
            frontier.push(t);
        } else {
            for &f in &frontier {
                cx.edges.push(Edge {
                    from: f as u32,
                    to: t as u32,
                    kind: EdgeKind::Realtime,
                    realtime_derived: false,
                    serial_derived: false,
                    key: None,
                    value: None,
                });
            }
        }
    }
}
