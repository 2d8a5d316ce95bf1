//! Strongly connected components of explored state graphs, shared by the liveness search
//! (fair cycles) and the shared-memory explorer (wait-freedom).

/// Strongly connected components (iterative Tarjan) of the subgraph of `edges` induced by the
/// states for which `member` holds, searched from `roots` in order (roots that are not members
/// are skipped). `target` reads an edge's target state. Components come out sinks first
/// (reverse topological order), each listing its states in the order Tarjan pops them.
pub(crate) fn tarjan<E>(
    edges: &[Vec<E>],
    roots: impl IntoIterator<Item = u32>,
    member: impl Fn(u32) -> bool,
    target: impl Fn(&E) -> u32,
) -> Vec<Vec<u32>> {
    const NONE: u32 = u32::MAX;
    let n = edges.len();
    let mut idx = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0u32;
    for root in roots {
        if !member(root) || idx[root as usize] != NONE {
            continue;
        }
        // (state, next edge to look at)
        let mut call: Vec<(u32, usize)> = vec![(root, 0)];
        idx[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut e)) = call.last_mut() {
            let out_edges = &edges[v as usize];
            if *e < out_edges.len() {
                let w = target(&out_edges[*e]);
                *e += 1;
                if !member(w) {
                    continue;
                }
                if idx[w as usize] == NONE {
                    idx[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(idx[w as usize]);
                }
                continue;
            }
            call.pop();
            if let Some(&(u, _)) = call.last() {
                low[u as usize] = low[u as usize].min(low[v as usize]);
            }
            if low[v as usize] == idx[v as usize] {
                let mut c = Vec::new();
                loop {
                    let w = stack.pop().expect("Tarjan stack");
                    on_stack[w as usize] = false;
                    c.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_of_a_small_graph_come_sinks_first() {
        // 0 -> 1 <-> 2 -> 3, 3 -> 3
        let edges: Vec<Vec<u32>> = vec![vec![1], vec![2], vec![1, 3], vec![3]];
        let mut comps = tarjan(&edges, 0..4, |_| true, |&t| t);
        for c in &mut comps {
            c.sort_unstable();
        }
        assert_eq!(comps, vec![vec![3], vec![1, 2], vec![0]]);
        // without state 2, 1 is alone
        let comps = tarjan(&edges, 0..4, |v| v != 2, |&t| t);
        assert_eq!(comps, vec![vec![1], vec![0], vec![3]]);
    }
}
