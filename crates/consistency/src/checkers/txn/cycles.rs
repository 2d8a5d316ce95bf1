//! Finding and classifying cycles, one per strongly connected component and class (see
//! the module docs of `txn`).

use super::graph::{Edge, Graph, Search, NONE};
use super::{EdgeKind, TxnAnomalyKind, TxnOptions};

/// A cycle found: its class and its edges (ids into the graph), starting at its smallest
/// node.
pub(crate) struct Found {
    pub(crate) kind: TxnAnomalyKind,
    pub(crate) edges: Vec<u32>,
}

/// What the searches found.
pub(crate) struct Outcome {
    pub(crate) found: Vec<Found>,
    /// The budget ran out somewhere.
    pub(crate) incomplete: bool,
}

/// The nodes of each component.
fn members(comp: &[u32], count: u32) -> Vec<Vec<u32>> {
    let mut m = vec![Vec::new(); count as usize];
    for (v, &c) in comp.iter().enumerate() {
        if c != NONE {
            m[c as usize].push(v as u32);
        }
    }
    m
}

/// Up to `limit` edges inside component `cid` that `pred` accepts, in node then edge order.
fn inside(
    g: &Graph,
    nodes: &[u32],
    comp: &[u32],
    cid: u32,
    limit: usize,
    pred: impl Fn(&Edge) -> bool,
) -> Vec<u32> {
    let mut out = Vec::new();
    for &v in nodes {
        for &eid in &g.out[v as usize] {
            let e = &g.edges[eid as usize];
            if comp[e.to as usize] == cid && pred(e) {
                out.push(eid);
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// `first` followed by `path`, rotated to start at its smallest node.
fn close(g: &Graph, first: u32, path: Vec<u32>) -> Vec<u32> {
    let mut cycle = vec![first];
    cycle.extend(path);
    let start = (0..cycle.len())
        .min_by_key(|&i| g.edges[cycle[i] as usize].from)
        .unwrap_or(0);
    cycle.rotate_left(start);
    cycle
}

fn ww(e: &Edge) -> bool {
    e.kind == EdgeKind::Ww && e.is_observed()
}

fn dependency(e: &Edge) -> bool {
    matches!(e.kind, EdgeKind::Ww | EdgeKind::Wr) && e.is_observed()
}

fn not_realtime(e: &Edge) -> bool {
    !e.is_realtime()
}

fn rw_count(g: &Graph, cycle: &[u32]) -> usize {
    cycle
        .iter()
        .filter(|&&e| g.edges[e as usize].is_rw())
        .count()
}

/// Searches `g` for cycles of every class.
pub(crate) fn search(g: &Graph, options: &TxnOptions) -> Outcome {
    let mut s = Search::new(g.n, options.search_budget);
    let mut found = Vec::new();
    let attempts = options.attempts.max(1);

    // G0: components of ww edges; any ww edge inside lies on a ww cycle.
    let (comp, count) = g.components(ww);
    for (cid, nodes) in members(&comp, count).iter().enumerate() {
        let cid = cid as u32;
        for e in inside(g, nodes, &comp, cid, 1, ww) {
            let edge = &g.edges[e as usize];
            if let Some(p) = s.path(g, edge.to, edge.from, (&comp, cid), ww, |_| false) {
                found.push(Found {
                    kind: TxnAnomalyKind::G0,
                    edges: close(g, e, p),
                });
            }
        }
    }

    // G1c: components of ww and wr edges with a wr edge inside.
    let (dep_comp, count) = g.components(dependency);
    for (cid, nodes) in members(&dep_comp, count).iter().enumerate() {
        let cid = cid as u32;
        let wr = |e: &Edge| dependency(e) && e.kind == EdgeKind::Wr;
        for e in inside(g, nodes, &dep_comp, cid, 1, wr) {
            let edge = &g.edges[e as usize];
            if let Some(p) = s.path(g, edge.to, edge.from, (&dep_comp, cid), dependency, |_| {
                false
            }) {
                found.push(Found {
                    kind: TxnAnomalyKind::G1c,
                    edges: close(g, e, p),
                });
            }
        }
    }

    // G-single and G2: components of all non-realtime edges with an rw edge (or one
    // inferred by assuming serializability) inside.
    let (comp, count) = g.components(not_realtime);
    for (cid, nodes) in members(&comp, count).iter().enumerate() {
        let cid = cid as u32;
        let rw = |e: &Edge| not_realtime(e) && e.is_rw();
        // An rw edge whose ends share a component of dependency edges closes a cycle with
        // that single rw edge.
        let single = inside(g, nodes, &comp, cid, usize::MAX, |e| {
            rw(e)
                && dep_comp[e.from as usize] != NONE
                && dep_comp[e.from as usize] == dep_comp[e.to as usize]
        });
        if let Some(&e) = single.first() {
            let edge = &g.edges[e as usize];
            let dc = dep_comp[edge.from as usize];
            if let Some(p) = s.path(g, edge.to, edge.from, (&dep_comp, dc), dependency, |_| {
                false
            }) {
                found.push(Found {
                    kind: TxnAnomalyKind::GSingle,
                    edges: close(g, e, p),
                });
                continue;
            }
        }
        // Through rw edges first; failing that (a component whose only non-dependency
        // edges are ww edges inferred by assuming serializability), through those.
        let mut best: Option<Vec<u32>> = None;
        let derived_ww = |e: &Edge| not_realtime(e) && e.serial_derived && !e.is_rw();
        let starts = inside(g, nodes, &comp, cid, attempts, rw);
        let starts = if starts.is_empty() {
            inside(g, nodes, &comp, cid, attempts, derived_ww)
        } else {
            starts
        };
        for e in starts {
            let edge = &g.edges[e as usize];
            let Some(p) = s.path(
                g,
                edge.to,
                edge.from,
                (&comp, cid),
                not_realtime,
                Edge::is_rw,
            ) else {
                continue;
            };
            let cycle = close(g, e, p);
            let n = rw_count(g, &cycle);
            if best.as_ref().is_none_or(|b| n < rw_count(g, b)) {
                best = Some(cycle);
            }
            if n == 1 {
                break;
            }
        }
        if let Some(cycle) = best {
            let kind = if rw_count(g, &cycle) == 1 {
                TxnAnomalyKind::GSingle
            } else {
                TxnAnomalyKind::G2
            };
            found.push(Found { kind, edges: cycle });
        }
    }

    // Realtime variants: components of all edges with a realtime (or realtime-derived)
    // edge inside; a cycle through such an edge, with as few rw edges as found.
    let (comp, count) = g.components(|_| true);
    for (cid, nodes) in members(&comp, count).iter().enumerate() {
        let cid = cid as u32;
        let mut best: Option<Vec<u32>> = None;
        for e in inside(g, nodes, &comp, cid, attempts, Edge::is_realtime) {
            let edge = &g.edges[e as usize];
            let Some(p) = s.path(g, edge.to, edge.from, (&comp, cid), |_| true, Edge::is_rw) else {
                continue;
            };
            let cycle = close(g, e, p);
            let n = rw_count(g, &cycle);
            if best.as_ref().is_none_or(|b| n < rw_count(g, b)) {
                best = Some(cycle);
            }
            if n == 0 {
                break;
            }
        }
        if let Some(cycle) = best {
            let has_wr = cycle
                .iter()
                .any(|&e| g.edges[e as usize].kind == EdgeKind::Wr);
            let serial = cycle.iter().any(|&e| g.edges[e as usize].serial_derived);
            // A cycle through an edge inferred by assuming serializability is no evidence
            // of the weaker anomalies: at least G2.
            let kind = match rw_count(g, &cycle) {
                0 if serial => TxnAnomalyKind::G2Realtime,
                0 if has_wr => TxnAnomalyKind::G1cRealtime,
                0 => TxnAnomalyKind::G0Realtime,
                1 => TxnAnomalyKind::GSingleRealtime,
                _ => TxnAnomalyKind::G2Realtime,
            };
            found.push(Found { kind, edges: cycle });
        }
    }

    Outcome {
        found,
        incomplete: s.exhausted,
    }
}
