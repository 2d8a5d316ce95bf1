//! The dependency graph: edges, strongly connected components (Tarjan, iterative) and
//! searches for paths inside a component.

use super::EdgeKind;
use std::collections::VecDeque;

/// One edge between transactions (indices into the checker's transaction list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    pub(crate) from: u32,
    pub(crate) to: u32,
    pub(crate) kind: EdgeKind,
    /// A ww or rw edge inferred from real time.
    pub(crate) realtime_derived: bool,
    /// A ww or rw edge of a version order inferred by assuming serializability.
    pub(crate) serial_derived: bool,
    /// The key's id.
    pub(crate) key: Option<usize>,
    /// The value's id.
    pub(crate) value: Option<usize>,
}

impl Edge {
    /// A realtime edge, or one derived from real time.
    pub(crate) fn is_realtime(&self) -> bool {
        self.kind == EdgeKind::Realtime || self.realtime_derived
    }

    /// Counts as an anti-dependency when classifying cycles.
    pub(crate) fn is_rw(&self) -> bool {
        self.kind == EdgeKind::Rw
    }

    /// Holds in every execution read committed allows: not inferred from real time or by
    /// assuming serializability.
    pub(crate) fn is_observed(&self) -> bool {
        !self.realtime_derived && !self.serial_derived
    }
}

/// A graph with out-edge lists.
pub(crate) struct Graph {
    pub(crate) n: usize,
    pub(crate) edges: Vec<Edge>,
    /// For each node, the ids of its out-edges, in edge order.
    pub(crate) out: Vec<Vec<u32>>,
}

/// "Not in any component of two or more nodes."
pub(crate) const NONE: u32 = u32::MAX;

impl Graph {
    /// A graph on `n` nodes; self-loops are dropped, and of several edges with the same
    /// endpoints, kind and realtime flag only the first is kept, preferring one not
    /// inferred by assuming serializability.
    pub(crate) fn new(n: usize, mut edges: Vec<Edge>) -> Graph {
        edges.retain(|e| e.from != e.to);
        // Stable: the first justification of each edge survives.
        edges.sort_by_key(|e| (e.from, e.to, e.kind, e.realtime_derived, e.serial_derived));
        edges.dedup_by(|b, a| {
            (a.from, a.to, a.kind, a.realtime_derived) == (b.from, b.to, b.kind, b.realtime_derived)
        });
        let mut out = vec![Vec::new(); n];
        for (i, e) in edges.iter().enumerate() {
            out[e.from as usize].push(i as u32);
        }
        Graph { n, edges, out }
    }

    /// The strongly connected components of the edges `allow` accepts, with two or more
    /// nodes: each node's component (or [`NONE`]) and the number of components. Tarjan's
    /// algorithm with an explicit stack.
    pub(crate) fn components(&self, allow: impl Fn(&Edge) -> bool) -> (Vec<u32>, u32) {
        const UNSEEN: u32 = u32::MAX;
        let n = self.n;
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        let mut comp = vec![NONE; n];
        let mut count = 0u32;
        let mut next = 0u32;
        // (node, position in its out-edge list)
        let mut calls: Vec<(u32, usize)> = Vec::new();
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            calls.push((root as u32, 0));
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root as u32);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
                let vu = v as usize;
                let mut descended = false;
                while *pos < self.out[vu].len() {
                    let e = &self.edges[self.out[vu][*pos] as usize];
                    *pos += 1;
                    if !allow(e) {
                        continue;
                    }
                    let w = e.to as usize;
                    if index[w] == UNSEEN {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w as u32);
                        on_stack[w] = true;
                        calls.push((w as u32, 0));
                        descended = true;
                        break;
                    } else if on_stack[w] {
                        low[vu] = low[vu].min(index[w]);
                    }
                }
                if descended {
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    let p = parent as usize;
                    low[p] = low[p].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let mut members = Vec::new();
                    loop {
                        let w = stack.pop().expect("the root is on the stack");
                        on_stack[w as usize] = false;
                        members.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if members.len() > 1 {
                        for w in members {
                            comp[w as usize] = count;
                        }
                        count += 1;
                    }
                }
            }
        }
        (comp, count)
    }
}

/// Reusable buffers for path searches, and the budget of edge visits they share.
pub(crate) struct Search {
    stamp: Vec<u32>,
    generation: u32,
    dist: Vec<u32>,
    /// The edge by which each node was reached.
    via: Vec<u32>,
    /// Edge visits left.
    pub(crate) budget: u64,
    /// Some search stopped for want of budget.
    pub(crate) exhausted: bool,
}

impl Search {
    pub(crate) fn new(n: usize, budget: u64) -> Search {
        Search {
            stamp: vec![0; n],
            generation: 0,
            dist: vec![0; n],
            via: vec![NONE; n],
            budget,
            exhausted: false,
        }
    }

    /// A path from `from` to `to` through nodes of component `within.1` (of `within.0`) over edges
    /// `allow` accepts, as edge ids: one with the fewest edges that `cost` counts (rw
    /// edges, say), breaking ties by fewest edges found first (0-1 breadth-first search).
    /// `None` if there is none, or the budget ran out.
    pub(crate) fn path(
        &mut self,
        g: &Graph,
        from: u32,
        to: u32,
        within: (&[u32], u32),
        allow: impl Fn(&Edge) -> bool,
        cost: impl Fn(&Edge) -> bool,
    ) -> Option<Vec<u32>> {
        let (comp, cid) = within;
        self.generation += 1;
        let gen = self.generation;
        let mut queue: VecDeque<u32> = VecDeque::new();
        self.stamp[from as usize] = gen;
        self.dist[from as usize] = 0;
        self.via[from as usize] = NONE;
        queue.push_back(from);
        // 0-1 BFS: a node's distance is final when it is popped (it may be pushed twice).
        while let Some(v) = queue.pop_front() {
            if v == to {
                break;
            }
            let d = self.dist[v as usize];
            for &eid in &g.out[v as usize] {
                if self.budget == 0 {
                    self.exhausted = true;
                    return None;
                }
                self.budget -= 1;
                let e = &g.edges[eid as usize];
                let w = e.to as usize;
                if comp[w] != cid || !allow(e) {
                    continue;
                }
                let c = u32::from(cost(e));
                let nd = d + c;
                if self.stamp[w] != gen || nd < self.dist[w] {
                    self.stamp[w] = gen;
                    self.dist[w] = nd;
                    self.via[w] = eid;
                    if c == 0 {
                        queue.push_front(w as u32);
                    } else {
                        queue.push_back(w as u32);
                    }
                }
            }
        }
        if self.stamp[to as usize] != gen {
            return None;
        }
        let mut path = Vec::new();
        let mut v = to;
        while v != from {
            let eid = self.via[v as usize];
            path.push(eid);
            v = g.edges[eid as usize].from;
            if path.len() > g.n {
                unreachable!("the predecessor chain of a search is acyclic");
            }
        }
        path.reverse();
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: u32, to: u32, kind: EdgeKind) -> Edge {
        Edge {
            from,
            to,
            kind,
            realtime_derived: false,
            serial_derived: false,
            key: None,
            value: None,
        }
    }

    #[test]
    fn components_and_paths() {
        // 0 -> 1 -> 2 -> 0 (a cycle), 2 -> 3, 3 -> 4 -> 3 (another), 5 alone.
        let g = Graph::new(
            6,
            vec![
                edge(0, 1, EdgeKind::Ww),
                edge(1, 2, EdgeKind::Rw),
                edge(2, 0, EdgeKind::Wr),
                edge(2, 3, EdgeKind::Ww),
                edge(3, 4, EdgeKind::Ww),
                edge(4, 3, EdgeKind::Ww),
                edge(4, 3, EdgeKind::Ww),
                edge(5, 5, EdgeKind::Ww),
            ],
        );
        assert_eq!(g.edges.len(), 6, "duplicates and self-loops dropped");
        let (comp, count) = g.components(|_| true);
        assert_eq!(count, 2);
        assert_eq!(comp[0], comp[1]);
        assert_eq!(comp[1], comp[2]);
        assert_eq!(comp[3], comp[4]);
        assert_ne!(comp[0], comp[3]);
        assert_eq!(comp[5], NONE);
        // Without rw edges the first cycle breaks.
        let (comp, count) = g.components(|e| e.kind != EdgeKind::Rw);
        assert_eq!(count, 1);
        assert_eq!(comp[0], NONE);

        let (comp, _) = g.components(|_| true);
        let mut s = Search::new(g.n, 1000);
        let p = s
            .path(&g, 1, 0, (&comp, comp[0]), |_| true, |_| false)
            .unwrap();
        let kinds: Vec<EdgeKind> = p.iter().map(|&e| g.edges[e as usize].kind).collect();
        assert_eq!(kinds, vec![EdgeKind::Rw, EdgeKind::Wr]);
        assert!(s
            .path(&g, 0, 3, (&comp, comp[0]), |_| true, |_| false)
            .is_none());
    }

    #[test]
    fn zero_one_search_prefers_fewer_costly_edges() {
        // 0 -rw-> 3 directly, or 0 -ww-> 1 -ww-> 2 -ww-> 3; and back 3 -ww-> 0.
        let g = Graph::new(
            4,
            vec![
                edge(0, 3, EdgeKind::Rw),
                edge(0, 1, EdgeKind::Ww),
                edge(1, 2, EdgeKind::Ww),
                edge(2, 3, EdgeKind::Ww),
                edge(3, 0, EdgeKind::Ww),
            ],
        );
        let (comp, _) = g.components(|_| true);
        let mut s = Search::new(g.n, 1000);
        let p = s
            .path(&g, 0, 3, (&comp, comp[0]), |_| true, Edge::is_rw)
            .unwrap();
        assert_eq!(p.len(), 3);
        let p = s
            .path(&g, 0, 3, (&comp, comp[0]), |_| true, |_| false)
            .unwrap();
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000u32;
        let mut edges: Vec<Edge> = (0..n - 1).map(|i| edge(i, i + 1, EdgeKind::Ww)).collect();
        edges.push(edge(n - 1, 0, EdgeKind::Ww));
        let g = Graph::new(n as usize, edges);
        let (comp, count) = g.components(|_| true);
        assert_eq!(count, 1);
        assert!(comp.iter().all(|&c| c == 0));
    }
}
