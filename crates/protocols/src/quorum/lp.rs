//! The optimal load of a small quorum system, by linear programming (Naor & Wool 1998, §3).
//!
//! The load of a strategy `w` (a probability distribution over quorums) is the access
//! probability of the busiest node, `max_i Σ_{Q ∋ i} w_Q`; the system's load is its minimum over
//! strategies: minimise L subject to `Σ_Q w_Q = 1`, `Σ_{Q ∋ i} w_Q ≤ L`, `w ≥ 0`. With
//! `v = w / L` this is the packing LP `maximise Σ_Q v_Q subject to Σ_{Q ∋ i} v_Q ≤ 1, v ≥ 0`, and
//! `L = 1 / max`. Its origin is feasible, so a one-phase dense simplex (Bland's rule, which
//! cannot cycle) solves it.

use super::nodeset::NodeSet;

/// The optimal load and an optimal strategy (one weight per quorum, summing to 1).
#[derive(Clone, Debug, PartialEq)]
pub struct LpLoad {
    /// The optimal load.
    pub load: f64,
    /// An optimal strategy, aligned with the quorums given.
    pub strategy: Vec<f64>,
    /// Simplex pivots taken.
    pub pivots: usize,
}

const EPS: f64 = 1e-11;

/// Solves the load LP for `quorums` over nodes `0..n`. `None` if there are no quorums or a
/// quorum is empty (the LP is unbounded: an empty quorum costs nothing).
pub fn optimal_load(n: usize, quorums: &[NodeSet]) -> Option<LpLoad> {
    let m = quorums.len();
    if m == 0 || quorums.iter().any(|q| q.is_empty()) {
        return None;
    }
    // Tableau: n rows (one per node), columns = m quorum variables + n slacks + rhs.
    let width = m + n + 1;
    let mut t = vec![vec![0.0f64; width]; n + 1];
    for (j, q) in quorums.iter().enumerate() {
        for i in q.iter() {
            if i < n {
                t[i][j] = 1.0;
            }
        }
    }
    for (i, row) in t.iter_mut().enumerate().take(n) {
        row[m + i] = 1.0;
        row[width - 1] = 1.0;
    }
    // Objective row: reduced costs of "maximise Σ v" are −1 for each quorum variable.
    for x in t[n].iter_mut().take(m) {
        *x = -1.0;
    }
    let mut basis: Vec<usize> = (m..m + n).collect();
    let mut pivots = 0usize;
    // Bland: the lowest-index column with a negative reduced cost enters.
    while let Some(enter) = (0..m + n).find(|&j| t[n][j] < -EPS) {
        // Ratio test; ties broken by the lowest basis index (Bland).
        let mut leave: Option<(usize, f64)> = None;
        for i in 0..n {
            if t[i][enter] > EPS {
                let ratio = t[i][width - 1] / t[i][enter];
                let better = match leave {
                    None => true,
                    Some((l, r)) => {
                        ratio < r - EPS || ((ratio - r).abs() <= EPS && basis[i] < basis[l])
                    }
                };
                if better {
                    leave = Some((i, ratio));
                }
            }
        }
        let (row, _) = leave?; // unbounded: cannot happen with every quorum non-empty
        let pv = t[row][enter];
        for x in t[row].iter_mut() {
            *x /= pv;
        }
        let pivot_row = t[row].clone();
        for (i, r) in t.iter_mut().enumerate() {
            if i != row {
                let factor = r[enter];
                if factor != 0.0 {
                    for (x, &y) in r.iter_mut().zip(&pivot_row) {
                        *x -= factor * y;
                    }
                }
            }
        }
        basis[row] = enter;
        pivots += 1;
        assert!(pivots < 100_000, "simplex did not terminate");
    }
    let total = t[n][width - 1];
    let mut v = vec![0.0f64; m];
    for (i, &b) in basis.iter().enumerate() {
        if b < m {
            v[b] = t[i][width - 1];
        }
    }
    let strategy: Vec<f64> = v.iter().map(|x| x / total).collect();
    Some(LpLoad {
        load: 1.0 / total,
        strategy,
        pivots,
    })
}

/// The load of `strategy` over `quorums`: the busiest node's access probability.
pub fn strategy_load(n: usize, quorums: &[NodeSet], strategy: &[f64]) -> f64 {
    let mut per = vec![0.0f64; n];
    for (q, &w) in quorums.iter().zip(strategy) {
        for i in q.iter() {
            per[i] += w;
        }
    }
    per.into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_triangle() {
        // A single quorum {0}: load 1.
        let l = optimal_load(3, &[NodeSet::of([0])]).unwrap();
        assert!((l.load - 1.0).abs() < 1e-12);
        // Triangle {0,1},{1,2},{0,2}: each node in 2 of 3 quorums; uniform gives 2/3, optimal.
        let qs = [
            NodeSet::of([0, 1]),
            NodeSet::of([1, 2]),
            NodeSet::of([0, 2]),
        ];
        let l = optimal_load(3, &qs).unwrap();
        assert!((l.load - 2.0 / 3.0).abs() < 1e-12, "{}", l.load);
        assert!((strategy_load(3, &qs, &l.strategy) - l.load).abs() < 1e-12);
        assert!((l.strategy.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_dominant_quorum_is_avoided() {
        // {0} and {1,2} and {0,1,2}: the best mix is 1/2 on {0}, 1/2 on {1,2}: load 1/2.
        let qs = [
            NodeSet::of([0]),
            NodeSet::of([1, 2]),
            NodeSet::of([0, 1, 2]),
        ];
        let l = optimal_load(3, &qs).unwrap();
        assert!((l.load - 0.5).abs() < 1e-12);
    }
}
