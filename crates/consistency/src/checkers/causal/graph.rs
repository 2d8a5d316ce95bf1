//! Graph helpers of the causal checker: dense bit matrices (one set of nodes per node),
//! strongly connected components, shortest paths and topological orders.

/// A square matrix of bits, one row per node: row `v` is a set of nodes.
#[derive(Clone, Debug)]
pub(super) struct BitMatrix {
    stride: usize,
    bits: Vec<u64>,
}

impl BitMatrix {
    /// `n` empty rows of `n` bits.
    pub(super) fn new(n: usize) -> BitMatrix {
        let stride = words(n);
        BitMatrix {
            stride,
            bits: vec![0; stride * n],
        }
    }

    /// Row `v`.
    pub(super) fn row(&self, v: usize) -> &[u64] {
        &self.bits[v * self.stride..(v + 1) * self.stride]
    }

    /// Row `v`, mutably.
    pub(super) fn row_mut(&mut self, v: usize) -> &mut [u64] {
        &mut self.bits[v * self.stride..(v + 1) * self.stride]
    }

    /// True if `u` is in row `v`.
    pub(super) fn get(&self, v: usize, u: usize) -> bool {
        get(self.row(v), u)
    }

    /// Row `dst` |= row `src` ∪ {`src`}: everything before `src`, and `src`, is before `dst`.
    pub(super) fn inherit(&mut self, dst: usize, src: usize) {
        let s = self.stride;
        if dst != src {
            let (d, r) = if dst < src {
                let (lo, hi) = self.bits.split_at_mut(src * s);
                (&mut lo[dst * s..dst * s + s], &hi[..s])
            } else {
                let (lo, hi) = self.bits.split_at_mut(dst * s);
                (&mut hi[..s], &lo[src * s..src * s + s])
            };
            for (x, y) in d.iter_mut().zip(r) {
                *x |= *y;
            }
        }
        set(self.row_mut(dst), src);
    }
}

/// Words needed for `n` bits.
pub(super) fn words(n: usize) -> usize {
    n.div_ceil(64)
}

/// True if bit `i` is set.
pub(super) fn get(set: &[u64], i: usize) -> bool {
    set[i / 64] >> (i % 64) & 1 == 1
}

/// Sets bit `i`.
pub(super) fn set(set: &mut [u64], i: usize) {
    set[i / 64] |= 1 << (i % 64);
}

/// The set bits, ascending.
pub(super) fn ones(set: &[u64]) -> impl Iterator<Item = usize> + '_ {
    set.iter().enumerate().flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let b = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(w * 64 + b)
        })
    })
}

/// The bits set in both `a` and `b`, ascending.
pub(super) fn ones_and<'x>(a: &'x [u64], b: &'x [u64]) -> impl Iterator<Item = usize> + 'x {
    a.iter().zip(b).enumerate().flat_map(|(w, (&x, &y))| {
        let mut rest = x & y;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(w * 64 + bit)
        })
    })
}

/// The strongly connected components of the graph with out-edges `adj` (Tarjan's algorithm,
/// iterative), in reverse topological order: if an edge leads from component `a` to a
/// different component `b`, `b` comes first.
pub(super) fn sccs(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let mut index = vec![NONE; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comps = Vec::new();
    let mut next = 0;
    let mut calls: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        calls.push((root, 0));
        while let Some(&(v, i)) = calls.last() {
            if i < adj[v].len() {
                calls.last_mut().expect("a frame").1 += 1;
                let w = adj[v][i];
                if index[w] == NONE {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("v is on the stack");
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    comps.push(comp);
                }
            }
        }
    }
    comps
}

/// A shortest path from `from` to `to` along `adj` through nodes `allowed` accepts, both ends
/// included; for `from == to`, a shortest cycle through `from` (`from` at both ends).
pub(super) fn shortest_path(
    adj: &[Vec<usize>],
    from: usize,
    to: usize,
    allowed: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    const NONE: usize = usize::MAX;
    let mut parent = vec![NONE; adj.len()];
    let mut queue = std::collections::VecDeque::new();
    queue.push_back(from);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if !allowed(w) || parent[w] != NONE || (w == from && w != to) {
                continue;
            }
            parent[w] = v;
            if w == to {
                let mut path = vec![to];
                let mut x = v;
                while x != from {
                    path.push(x);
                    x = parent[x];
                }
                path.push(from);
                path.reverse();
                return Some(path);
            }
            queue.push_back(w);
        }
    }
    None
}

/// A topological order of `nodes` under the edges `preds` (`preds[v]`: the nodes with an edge
/// into `v`, all among `nodes`), by Kahn's algorithm; `Err` with the nodes left over (each
/// has a predecessor among them, so they contain a cycle) if there is a cycle.
pub(super) fn topological(nodes: &[usize], preds: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = preds.len();
    let mut indegree = vec![0usize; n];
    // Successors in one flat array (CSR): start[u]..start[u + 1].
    let mut start = vec![0usize; n + 1];
    for &v in nodes {
        indegree[v] = preds[v].len();
        for &u in &preds[v] {
            start[u + 1] += 1;
        }
    }
    for u in 0..n {
        start[u + 1] += start[u];
    }
    let mut fill = start.clone();
    let mut succs = vec![0usize; start[n]];
    for &v in nodes {
        for &u in &preds[v] {
            succs[fill[u]] = v;
            fill[u] += 1;
        }
    }
    let mut order: Vec<usize> = nodes
        .iter()
        .copied()
        .filter(|&v| indegree[v] == 0)
        .collect();
    let mut head = 0;
    while head < order.len() {
        let v = order[head];
        head += 1;
        for &w in &succs[start[v]..start[v + 1]] {
            indegree[w] -= 1;
            if indegree[w] == 0 {
                order.push(w);
            }
        }
    }
    if order.len() == nodes.len() {
        Ok(order)
    } else {
        Err(nodes.iter().copied().filter(|&v| indegree[v] > 0).collect())
    }
}

/// A cycle among `left` (nodes each of which has a predecessor in `left`, as
/// [`topological`] leaves them): walks back along the least predecessor until a node repeats.
/// Returned in edge order, first node repeated at the end.
pub(super) fn cycle_among(left: &[usize], preds: &[Vec<usize>], n: usize) -> Vec<usize> {
    let mut inside = vec![false; n];
    for &v in left {
        inside[v] = true;
    }
    let mut seen_at = vec![usize::MAX; n];
    let mut walk = Vec::new();
    let mut v = left[0];
    while seen_at[v] == usize::MAX {
        seen_at[v] = walk.len();
        walk.push(v);
        v = preds[v]
            .iter()
            .copied()
            .filter(|&u| inside[u])
            .min()
            .expect("a node left over by Kahn's algorithm has a predecessor left over");
    }
    // walk[seen_at[v]..] is the cycle, backwards.
    let mut cycle: Vec<usize> = walk[seen_at[v]..].to_vec();
    cycle.reverse();
    cycle.push(cycle[0]);
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_helpers() {
        let mut m = BitMatrix::new(70);
        m.inherit(3, 69);
        m.inherit(69, 1);
        m.inherit(3, 69);
        assert!(m.get(3, 69) && m.get(3, 1) && !m.get(3, 3));
        assert_eq!(ones(m.row(3)).collect::<Vec<_>>(), vec![1, 69]);
        assert_eq!(words(64), 1);
        assert_eq!(words(65), 2);
    }

    #[test]
    fn components_paths_and_orders() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 4 alone.
        let adj = vec![vec![1], vec![2], vec![0, 3], vec![], vec![]];
        let comps = sccs(&adj);
        assert!(comps.contains(&vec![0, 1, 2]));
        let pos = |c: &[usize]| comps.iter().position(|x| x == c).unwrap();
        assert!(pos(&[3]) < pos(&[0, 1, 2]));
        assert_eq!(shortest_path(&adj, 0, 3, |_| true), Some(vec![0, 1, 2, 3]));
        assert_eq!(shortest_path(&adj, 1, 1, |_| true), Some(vec![1, 2, 0, 1]));
        assert_eq!(shortest_path(&adj, 3, 0, |_| true), None);
        let preds = vec![vec![2], vec![0], vec![1], vec![2], vec![]];
        let err = topological(&[0, 1, 2, 3, 4], &preds).unwrap_err();
        assert_eq!(err, vec![0, 1, 2, 3]);
        assert_eq!(cycle_among(&err, &preds, 5), vec![1, 2, 0, 1]);
        let preds = vec![vec![], vec![0], vec![0, 1]];
        assert_eq!(topological(&[0, 1, 2], &preds), Ok(vec![0, 1, 2]));
    }
}
