//! Exact failure probabilities, computed without enumerating quorums, and the brute-force
//! references they are tested against.
//!
//! Each node fails independently with probability `p` (survives with `s = 1 − p`). Every exact
//! formula here sums positive terms only (no inclusion–exclusion), so a tiny failure probability
//! keeps its relative accuracy (majority at n = 100, p = 0.01 is about 6e-72).

use super::nodeset::NodeSet;

/// `ln(k!)` for `k = 0..=n`.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n + 1];
    for k in 1..=n {
        v[k] = v[k - 1] + (k as f64).ln();
    }
    v
}

/// `ln C(n, k)`.
pub fn ln_choose(n: usize, k: usize) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    let f = ln_factorials(n);
    f[n] - f[k] - f[n - k]
}

/// `P(X ≥ k)` for `X ~ Binomial(n, p)`, summed in log space (log-sum-exp), so tails far below
/// `f64::MIN_POSITIVE`'s neighbourhood of ordinary arithmetic (1e-72 and smaller) come out right.
pub fn binomial_tail_ge(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let f = ln_factorials(n);
    let (lp, ls) = (p.ln(), (-p).ln_1p());
    let terms: Vec<f64> = (k..=n)
        .map(|j| f[n] - f[j] - f[n - j] + j as f64 * lp + (n - j) as f64 * ls)
        .collect();
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
    (max + sum.ln()).exp().min(1.0)
}

/// `1 − s^m` for `s = 1 − p`, accurate when `s^m` is close to 1.
fn one_minus_pow(p: f64, m: usize) -> f64 {
    -((m as f64) * (-p).ln_1p()).exp_m1()
}

/// Failure probability of the weighted-voting system: `P(Σ_{live} w_i < threshold)`, by dynamic
/// programming over the distribution of the live weight (positive terms only).
pub fn weighted_failure(weights: &[u64], threshold: u64, p: f64) -> f64 {
    let cap = threshold as usize; // live weights ≥ threshold are all "available": lump them
    let mut dist = vec![0.0f64; cap + 1];
    dist[0] = 1.0;
    let s = 1.0 - p;
    for &w in weights {
        let mut next = vec![0.0f64; cap + 1];
        for (x, &pr) in dist.iter().enumerate() {
            if pr == 0.0 {
                continue;
            }
            next[x] += pr * p;
            let y = (x + w as usize).min(cap);
            next[y] += pr * s;
        }
        dist = next;
    }
    dist[..cap].iter().sum()
}

/// Failure probability of the `rows × cols` grid whose quorums are one full row ∪ one full
/// column: a live quorum exists iff some row is entirely live *and* some column is entirely
/// live. With `row_only` (the canary whose quorums are single rows) only a live row is needed.
///
/// Dynamic programming row by row over (k = how many columns are still entirely live, whether
/// a fully live row has been seen); columns are interchangeable, so k is all that matters. From
/// k, the new row keeps k' ≤ k of those columns live with probability C(k,k') s^k' p^(k−k'); the
/// row is fully live iff k' = k and its other c − k cells are live (probability s^c in total).
/// Failure = (no full row) + (a full row but no full column, k = 0). Positive terms only.
pub fn grid_failure(rows: usize, cols: usize, p: f64, row_only: bool) -> f64 {
    let s = 1.0 - p;
    // state[seen][k]
    let mut state = vec![vec![0.0f64; cols + 1]; 2];
    state[0][cols] = 1.0;
    let choose = |n: usize, k: usize| ln_choose(n, k).exp();
    for _ in 0..rows {
        let mut next = vec![vec![0.0f64; cols + 1]; 2];
        for seen in 0..2 {
            for k in 0..=cols {
                let pr = state[seen][k];
                if pr == 0.0 {
                    continue;
                }
                // Fully live row.
                next[1][k] += pr * s.powi(cols as i32);
                // Not fully live: k' < k of the live columns survive, others arbitrary.
                for (k2, cell) in next[seen].iter_mut().enumerate().take(k) {
                    *cell += pr * choose(k, k2) * s.powi(k2 as i32) * p.powi((k - k2) as i32);
                }
                // k' = k but some other cell dead.
                next[seen][k] += pr * s.powi(k as i32) * one_minus_pow(p, cols - k);
            }
        }
        state = next;
    }
    let no_row: f64 = state[0].iter().sum();
    if row_only {
        no_row
    } else {
        no_row + state[1][0]
    }
}

/// Failure probability of the Agrawal–El Abbadi tree of height `h` (n = 2^(h+1) − 1): with
/// `F_0 = p` (a leaf), `F_h = F·(F + 2p(1 − F))` where `F = F_(h−1)`. This is
/// `1 − [s(1 − F²) + p(1 − F)²]`: a live quorum exists iff the root is live and one subtree has
/// one, or both subtrees have one.
pub fn tree_failure(height: u32, p: f64) -> f64 {
    let mut f = p;
    for _ in 0..height {
        f *= f + 2.0 * p * (1.0 - f);
    }
    f
}

/// The exact failure probability of any system on `n ≤ 24` nodes by enumerating all 2^n live
/// sets: `Σ_{S live, no quorum ⊆ S} s^|S| p^(n−|S|)`. `has_quorum(S)` says whether S contains a
/// quorum. Returns also, per size k, how many live sets of size k hold no quorum (the
/// coefficients of the failure polynomial).
pub fn enumerated_failure(
    n: usize,
    p: f64,
    has_quorum: impl Fn(&NodeSet) -> bool,
) -> (f64, Vec<u64>) {
    assert!(
        n <= 24,
        "enumeration over 2^n failure patterns is for n <= 24"
    );
    let mut blocked = vec![0u64; n + 1];
    for bits in 0u64..(1u64 << n) {
        let live = NodeSet::from_bits(bits);
        if !has_quorum(&live) {
            blocked[bits.count_ones() as usize] += 1;
        }
    }
    (failure_from_counts(&blocked, p), blocked)
}

/// `Σ_k counts[k] s^k p^(n−k)` with n = `counts.len() − 1`.
pub fn failure_from_counts(counts: &[u64], p: f64) -> f64 {
    let n = counts.len() - 1;
    let s = 1.0 - p;
    counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(k, &c)| c as f64 * s.powi(k as i32) * p.powi((n - k) as i32))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tail_by_hand() {
        // n = 3, p = 1/2: P(X >= 2) = 4/8.
        assert!((binomial_tail_ge(3, 2, 0.5) - 0.5).abs() < 1e-15);
        // n = 2, p = 0.1: P(X >= 1) = 1 - 0.81.
        assert!((binomial_tail_ge(2, 1, 0.1) - 0.19).abs() < 1e-15);
        // A far tail: P(X = 100) = p^100 = 1e-200 (no underflow).
        let t = binomial_tail_ge(100, 100, 0.01);
        assert!((t / 1e-200 - 1.0).abs() < 1e-10, "{t}");
    }

    #[test]
    fn tree_failure_by_hand() {
        // Height 1: root r, leaves a, b. Quorums {r,a}, {r,b}, {a,b}: the system fails iff at
        // least two of the three nodes are dead: 3p²s + p³.
        let p: f64 = 0.2;
        let want = 3.0 * p * p * (1.0 - p) + p * p * p;
        assert!((tree_failure(1, p) - want).abs() < 1e-15);
    }

    #[test]
    fn grid_one_by_one_and_one_row() {
        // 1×1: fails iff the node is dead.
        assert!((grid_failure(1, 1, 0.3, false) - 0.3).abs() < 1e-15);
        // 1×c: the row is the only quorum that has a full row, and every column is one cell:
        // available iff all c nodes live.
        let want = 1.0 - 0.7f64.powi(4);
        assert!((grid_failure(1, 4, 0.3, false) - want).abs() < 1e-14);
    }
}
