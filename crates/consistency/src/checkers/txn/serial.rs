//! Rw-register version orders inferred by assuming serializability (see the module docs of
//! `txn`, "Version orders a serial execution would need").
//!
//! Every external read `R` of a version `v` of key `k` (written by `W`) constrains each
//! other committed writer `U` of `k`: in any serial order explaining the history, `U` comes
//! before `W` or after `R` (else `R` would have read `U`'s version or a later one). When the
//! graph already orders `W` before `U`, that leaves `R` before `U` (an rw edge); when it
//! orders `U` before `R`, it leaves `U` before `W` (a ww edge). Each new edge may settle
//! more constraints, so this runs to a fixed point, stopping as soon as the graph has a
//! cycle (the history is then not serializable, and the edges a serial order would need
//! mean nothing more).
//!
//! Reachability is held as one bitset row per transaction in each direction, indexed by
//! position in a topological order, so a row only has bits on one side of its own position
//! and the first (last) candidate left in a row is a minimal (maximal) one: edges go only to
//! those, the others following by paths. Memory is quadratic in the transactions related at
//! once, so long histories are covered by overlapping windows (of history order); an edge
//! found in one window is kept for the next. Paths leaving a window are not seen, so some
//! orders are missed, never invented.

use super::graph::Edge;
use super::EdgeKind;
use std::collections::{BTreeSet, VecDeque};

/// One version of a key that committed transactions read externally.
pub(crate) struct Version {
    /// Its writer (a transaction index).
    pub(crate) writer: usize,
    /// Its value id.
    pub(crate) value: usize,
    /// The transactions that read it externally (not its writer).
    pub(crate) readers: Vec<usize>,
}

/// What the inference needs of one key.
pub(crate) struct KeyVersions {
    /// The key's id.
    pub(crate) key: usize,
    /// Every committed transaction that wrote the key, with its final value.
    pub(crate) writers: Vec<(usize, usize)>,
    /// The versions read externally.
    pub(crate) versions: Vec<Version>,
}

/// How the inference went.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outcome {
    /// Some window stopped before its fixed point (round limit).
    pub(crate) incomplete: bool,
}

/// The most rounds (reachability recomputations) per window.
const MAX_ROUNDS: usize = 256;

/// A square bit matrix, one row per node.
struct Rows {
    words: usize,
    bits: Vec<u64>,
}

impl Rows {
    fn new(n: usize) -> Rows {
        let words = n.div_ceil(64).max(1);
        Rows {
            words,
            bits: vec![0; words * n],
        }
    }

    fn row(&self, i: usize) -> &[u64] {
        &self.bits[i * self.words..(i + 1) * self.words]
    }

    fn clear(&mut self) {
        self.bits.fill(0);
    }

    /// Row `i` |= row `j` plus bit `j`.
    fn absorb(&mut self, i: usize, j: usize) {
        let w = self.words;
        if i == j {
            return;
        }
        let (a, b) = if i < j {
            let (lo, hi) = self.bits.split_at_mut(j * w);
            (&mut lo[i * w..(i + 1) * w], &hi[..w])
        } else {
            let (lo, hi) = self.bits.split_at_mut(i * w);
            (&mut hi[..w], &lo[j * w..(j + 1) * w])
        };
        for (x, y) in a.iter_mut().zip(b) {
            *x |= *y;
        }
        a[j / 64] |= 1 << (j % 64);
    }
}

fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn unset(bits: &mut [u64], i: usize) {
    bits[i / 64] &= !(1 << (i % 64));
}

/// The lowest set bit at or after word `from`.
fn first(bits: &[u64], from: usize) -> Option<usize> {
    (from..bits.len())
        .find(|&w| bits[w] != 0)
        .map(|w| w * 64 + bits[w].trailing_zeros() as usize)
}

/// The highest set bit at or before word `upto`.
fn last(bits: &[u64], upto: usize) -> Option<usize> {
    (0..=upto.min(bits.len().saturating_sub(1)))
        .rev()
        .find(|&w| bits[w] != 0)
        .map(|w| w * 64 + 63 - bits[w].leading_zeros() as usize)
}

/// One window's graph and scratch space.
struct Window {
    /// Local id -> transaction index.
    nodes: Vec<usize>,
    /// Edges (local ids).
    edges: BTreeSet<(u32, u32)>,
    /// Topological position -> local id, and back.
    order: Vec<u32>,
    pos: Vec<u32>,
    /// Descendants and ancestors, rows and bits by topological position.
    desc: Rows,
    anc: Rows,
}

impl Window {
    /// Sorts the nodes topologically and fills the rows; false if the graph has a cycle.
    fn close(&mut self) -> bool {
        let n = self.nodes.len();
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut indeg = vec![0u32; n];
        for &(a, b) in &self.edges {
            out[a as usize].push(b);
            indeg[b as usize] += 1;
        }
        self.order.clear();
        let mut queue: VecDeque<u32> = (0..n as u32).filter(|&v| indeg[v as usize] == 0).collect();
        while let Some(v) = queue.pop_front() {
            self.order.push(v);
            for &w in &out[v as usize] {
                indeg[w as usize] -= 1;
                if indeg[w as usize] == 0 {
                    queue.push_back(w);
                }
            }
        }
        if self.order.len() < n {
            return false;
        }
        for (p, &v) in self.order.iter().enumerate() {
            self.pos[v as usize] = p as u32;
        }
        self.desc.clear();
        self.anc.clear();
        for p in (0..n).rev() {
            let v = self.order[p] as usize;
            for &w in &out[v] {
                self.desc.absorb(p, self.pos[w as usize] as usize);
            }
        }
        let mut inn: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(a, b) in &self.edges {
            inn[b as usize].push(a);
        }
        for p in 0..n {
            let v = self.order[p] as usize;
            for &u in &inn[v] {
                self.anc.absorb(p, self.pos[u as usize] as usize);
            }
        }
        true
    }
}

/// Adds to `edges` the ww and rw edges of rw-register version orders a serial execution
/// would need (see the module docs), relating at most `window` transactions at once.
/// `committed[t]` says which transactions are nodes; only edges for which
/// `use_edge` holds are followed (not the realtime ones).
pub(crate) fn infer(
    committed: &[bool],
    keys: &[KeyVersions],
    window: usize,
    edges: &mut Vec<Edge>,
    use_edge: impl Fn(&Edge) -> bool,
) -> Outcome {
    let mut outcome = Outcome::default();
    let nodes: Vec<usize> = (0..committed.len()).filter(|&t| committed[t]).collect();
    if window < 2 || nodes.len() < 2 || keys.is_empty() {
        return outcome;
    }
    let w = window.min(nodes.len());
    let mut starts = Vec::new();
    let mut s = 0;
    loop {
        if s + w >= nodes.len() {
            starts.push(nodes.len() - w);
            break;
        }
        starts.push(s);
        s += (w / 2).max(1);
    }
    // Transaction -> local id in the current window.
    let mut local = vec![u32::MAX; committed.len()];
    let mut win = Window {
        nodes: Vec::new(),
        edges: BTreeSet::new(),
        order: Vec::new(),
        pos: vec![0; w],
        desc: Rows::new(w),
        anc: Rows::new(w),
    };
    for start in starts {
        win.nodes = nodes[start..start + w].to_vec();
        for (i, &t) in win.nodes.iter().enumerate() {
            local[t] = i as u32;
        }
        win.edges = edges
            .iter()
            .filter(|e| use_edge(e))
            .filter_map(|e| {
                let (a, b) = (local[e.from as usize], local[e.to as usize]);
                (a != u32::MAX && b != u32::MAX && a != b).then_some((a, b))
            })
            .collect();
        let acyclic = run_window(&mut win, keys, &local, edges, &mut outcome);
        for &t in &win.nodes {
            local[t] = u32::MAX;
        }
        if !acyclic {
            // The history is not serializable: a serial order's needs mean nothing more.
            break;
        }
    }
    outcome
}

/// Runs one window to its fixed point; false if its graph has (or got) a cycle.
fn run_window(
    win: &mut Window,
    keys: &[KeyVersions],
    local: &[u32],
    edges: &mut Vec<Edge>,
    outcome: &mut Outcome,
) -> bool {
    let n = win.nodes.len();
    let words = win.desc.words;
    let mut writers = vec![0u64; words];
    let mut value_at = vec![usize::MAX; n];
    let mut cand = vec![0u64; words];
    for round in 0.. {
        if !win.close() {
            return false;
        }
        if round == MAX_ROUNDS {
            outcome.incomplete = true;
            return true;
        }
        // (from, to, kind, key, value) in local ids.
        let mut found: BTreeSet<(u32, u32, EdgeKind, usize, usize)> = BTreeSet::new();
        for kv in keys {
            let mut present = 0;
            for &(t, v) in &kv.writers {
                let l = local[t];
                if l != u32::MAX {
                    let p = win.pos[l as usize] as usize;
                    set(&mut writers, p);
                    value_at[p] = v;
                    present += 1;
                }
            }
            if present >= 2 {
                for version in &kv.versions {
                    let lw = local[version.writer];
                    if lw == u32::MAX {
                        continue;
                    }
                    let pw = win.pos[lw as usize] as usize;
                    let readers = version.readers.iter().filter_map(|&r| {
                        let l = local[r];
                        (l != u32::MAX && r != version.writer).then(|| win.pos[l as usize] as usize)
                    });
                    // Writers after the version's writer follow its readers too.
                    let mut any_reader = false;
                    for pr in readers.clone() {
                        any_reader = true;
                        let (dw, dr) = (win.desc.row(pw), win.desc.row(pr));
                        let mut nonzero = false;
                        for i in 0..words {
                            cand[i] = dw[i] & writers[i] & !dr[i];
                            nonzero |= cand[i] != 0;
                        }
                        if !nonzero {
                            continue;
                        }
                        unset(&mut cand, pr);
                        let mut from = pw / 64;
                        while let Some(pu) = first(&cand, from) {
                            found.insert((
                                win.order[pr],
                                win.order[pu],
                                EdgeKind::Rw,
                                kv.key,
                                value_at[pu],
                            ));
                            let du = win.desc.row(pu);
                            for i in pu / 64..words {
                                cand[i] &= !du[i];
                            }
                            unset(&mut cand, pu);
                            from = pu / 64;
                        }
                    }
                    if !any_reader {
                        continue;
                    }
                    // Writers before one of its readers precede the version's writer. (One
                    // already after the writer contradicts the read; the rw edges above
                    // close that cycle.)
                    cand.fill(0);
                    for pr in readers {
                        for (c, a) in cand.iter_mut().zip(win.anc.row(pr)) {
                            *c |= *a;
                        }
                    }
                    let (aw, dw) = (win.anc.row(pw), win.desc.row(pw));
                    let mut nonzero = false;
                    for i in 0..words {
                        cand[i] &= writers[i] & !aw[i] & !dw[i];
                        nonzero |= cand[i] != 0;
                    }
                    if !nonzero {
                        continue;
                    }
                    unset(&mut cand, pw);
                    let mut upto = words - 1;
                    while let Some(pu) = last(&cand, upto) {
                        found.insert((
                            win.order[pu],
                            win.order[pw],
                            EdgeKind::Ww,
                            kv.key,
                            version.value,
                        ));
                        let au = win.anc.row(pu);
                        for i in 0..=pu / 64 {
                            cand[i] &= !au[i];
                        }
                        unset(&mut cand, pu);
                        upto = pu / 64;
                    }
                }
            }
            for &(t, _) in &kv.writers {
                let l = local[t];
                if l != u32::MAX {
                    let p = win.pos[l as usize] as usize;
                    unset(&mut writers, p);
                    value_at[p] = usize::MAX;
                }
            }
        }
        // Keep one justification per (from, to, kind): the smallest key, then value.
        let mut new = 0;
        let mut last_pair = None;
        for (a, b, kind, key, value) in found {
            if last_pair == Some((a, b, kind)) {
                continue;
            }
            last_pair = Some((a, b, kind));
            win.edges.insert((a, b));
            edges.push(Edge {
                from: win.nodes[a as usize] as u32,
                to: win.nodes[b as usize] as u32,
                kind,
                realtime_derived: false,
                serial_derived: true,
                key: Some(key),
                value: Some(value),
            });
            new += 1;
        }
        if new == 0 {
            return true;
        }
    }
    true
}
