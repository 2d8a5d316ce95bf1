//! [`QuorumSystem`]: the classic constructions and their measures.

use super::lp;
use super::nodeset::{for_each_subset, NodeSet, MAX_NODES};
use super::prob;
use synod_core::Prng;

/// How a system's quorums are defined.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Every set of at least `t` nodes (majority: t = ⌊n/2⌋ + 1; Thomas 1979).
    Threshold {
        /// The quorum size.
        t: usize,
    },
    /// Every set whose votes add up to at least `threshold` (Gifford 1979).
    Weighted {
        /// One vote count per node.
        weights: Vec<u64>,
        /// The votes a quorum needs.
        threshold: u64,
    },
    /// Nodes on a `rows × cols` grid (node `i·cols + j` at row i, column j); a quorum is one
    /// full row ∪ one full column (Maekawa 1985's grid; Naor & Wool's version). With `row_only`
    /// (a canary), a single full row.
    Grid {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// The canary: quorums are rows only (two rows never meet).
        row_only: bool,
    },
    /// The points of the projective plane PG(2, q) (q prime, n = q² + q + 1); the quorums are
    /// its lines, q + 1 points each, any two meeting in exactly one point (Maekawa 1985).
    ProjectivePlane {
        /// The order of the plane.
        q: usize,
        /// The lines, as point sets.
        lines: Vec<NodeSet>,
    },
    /// A complete binary tree of the given height (n = 2^(height+1) − 1, heap order: node i's
    /// children are 2i+1 and 2i+2). A quorum of a leaf is the leaf; of an inner node, the node
    /// with a quorum of one child subtree, or (the node being unavailable) quorums of both
    /// subtrees (Agrawal & El Abbadi 1990/1991).
    Tree {
        /// The height (0: a single node).
        height: u32,
    },
    /// An explicit list of quorums (minimal or not).
    Explicit {
        /// The quorums.
        quorums: Vec<NodeSet>,
    },
}

/// A quorum system over nodes `0..n`: a family of node sets (its quorums) closed upwards, given
/// by a [`Shape`]. "Contains a quorum" is the availability test; the *minimal* quorums are the
/// ones no other quorum is strictly inside.
#[derive(Clone, Debug, PartialEq)]
pub struct QuorumSystem {
    name: String,
    n: usize,
    shape: Shape,
}

/// How an intersection check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intersection {
    /// Every pair of minimal quorums was compared.
    Enumerated {
        /// Minimal quorums.
        quorums: usize,
        /// Pairs compared.
        pairs: u64,
        /// The smallest intersection seen.
        min_meet: usize,
    },
    /// Proved from the construction's parameters (the argument is given).
    Structural(String),
    /// Two disjoint minimal quorums: the witness.
    Violated {
        /// A quorum.
        a: NodeSet,
        /// Another quorum, disjoint from `a`.
        b: NodeSet,
    },
}

impl Intersection {
    /// Whether every two quorums intersect.
    pub fn holds(&self) -> bool {
        !matches!(self, Intersection::Violated { .. })
    }

    /// A short label: `enumerated (P pairs)`, `structural`, `VIOLATED {..} ∩ {..} = ∅`.
    pub fn label(&self) -> String {
        match self {
            Intersection::Enumerated { pairs, .. } => format!("enumerated ({pairs} pairs)"),
            Intersection::Structural(_) => "structural".into(),
            Intersection::Violated { a, b } => format!("VIOLATED {a} ∩ {b} = ∅"),
        }
    }
}

/// How a load was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadMethod {
    /// The uniform strategy over minimal quorums, which meets the lower bound c/n and is
    /// therefore optimal.
    UniformAtBound,
    /// The optimal symmetric strategy, derived recursively (the tree).
    Recursive,
    /// The optimal load, by linear programming over the minimal quorums.
    Lp,
    /// The uniform strategy over minimal quorums (an upper bound on the optimal load).
    Uniform,
}

impl LoadMethod {
    /// `uniform=opt`, `recursive opt`, `LP opt`, `uniform`.
    pub fn label(self) -> &'static str {
        match self {
            LoadMethod::UniformAtBound => "uniform=opt",
            LoadMethod::Recursive => "recursive opt",
            LoadMethod::Lp => "LP opt",
            LoadMethod::Uniform => "uniform",
        }
    }
}

/// A load and how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    /// The busiest node's access probability.
    pub value: f64,
    /// How.
    pub method: LoadMethod,
}

/// How a failure probability was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpMethod {
    /// A closed form or an exact dynamic program.
    Exact,
    /// Exact, by summing over all 2^n failure patterns.
    Enumerated,
    /// Monte Carlo.
    MonteCarlo {
        /// Samples drawn.
        samples: u64,
        /// Samples with no live quorum.
        hits: u64,
    },
}

/// A failure probability `F_p` and how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Failure {
    /// The probability that no quorum is entirely live.
    pub fp: f64,
    /// How.
    pub method: FpMethod,
}

impl Failure {
    /// Whether it is exact (not sampled).
    pub fn is_exact(&self) -> bool {
        !matches!(self.method, FpMethod::MonteCarlo { .. })
    }

    /// For display: `1.2e-08`, or for a Monte Carlo estimate with no hit `<3e-05` (the 95% upper
    /// bound 3/samples).
    pub fn display(&self) -> String {
        match self.method {
            FpMethod::MonteCarlo { samples, hits: 0 } => {
                format!("<{:.0e}", 3.0 / samples as f64)
            }
            _ => sci(self.fp),
        }
    }

    /// Whether `x` is consistent with this value: equal for an exact value (relative 1e-9), and
    /// for a Monte Carlo estimate within 5 standard errors (plus 5/samples for tiny values).
    pub fn consistent_with(&self, x: f64) -> bool {
        match self.method {
            FpMethod::MonteCarlo { samples, .. } => {
                let n = samples as f64;
                let sd = (x * (1.0 - x) / n).sqrt();
                (self.fp - x).abs() <= 5.0 * sd + 5.0 / n
            }
            _ => (self.fp - x).abs() <= 1e-9 * x.abs().max(1e-300),
        }
    }
}

/// A probability in scientific notation with two significant digits (`0` stays `0`).
pub fn sci(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x >= 0.01 {
        format!("{x:.3}")
    } else {
        format!("{x:.1e}")
    }
}

/// `C(n, k)` exactly, if it fits in a u128.
pub fn binomial(n: usize, k: usize) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut r: u128 = 1;
    for i in 1..=k as u128 {
        // r · (n − k + i) / i is C(n − k + i, i), an integer.
        r = r.checked_mul(n as u128 - k as u128 + i)? / i;
    }
    Some(r)
}

impl QuorumSystem {
    fn make(name: impl Into<String>, n: usize, shape: Shape) -> QuorumSystem {
        assert!(
            (1..=MAX_NODES).contains(&n),
            "quorum systems have 1..={MAX_NODES} nodes"
        );
        QuorumSystem {
            name: name.into(),
            n,
            shape,
        }
    }

    /// Majority: every set of ⌊n/2⌋ + 1 nodes.
    pub fn majority(n: usize) -> QuorumSystem {
        Self::make("majority", n, Shape::Threshold { t: n / 2 + 1 })
    }

    /// Every set of at least `t` nodes (`1 ≤ t ≤ n`).
    pub fn threshold(n: usize, t: usize) -> QuorumSystem {
        assert!((1..=n).contains(&t), "threshold must be in 1..=n");
        Self::make(format!("threshold {t}/{n}"), n, Shape::Threshold { t })
    }

    /// The canary: "minority quorums" of ⌊n/2⌋ nodes (n ≥ 2); two disjoint ones exist.
    pub fn minority_canary(n: usize) -> QuorumSystem {
        assert!(n >= 2, "the minority canary needs n >= 2");
        Self::make("minority (canary)", n, Shape::Threshold { t: n / 2 })
    }

    /// Weighted voting: one vote count per node, quorums gather `threshold` votes.
    pub fn weighted(weights: Vec<u64>, threshold: u64) -> QuorumSystem {
        let total: u64 = weights.iter().sum();
        assert!(
            threshold >= 1 && threshold <= total,
            "threshold must be in 1..=total votes"
        );
        let n = weights.len();
        Self::make(
            format!("weighted {threshold}/{total}"),
            n,
            Shape::Weighted { weights, threshold },
        )
    }

    /// The `rows × cols` grid (quorum: one full row ∪ one full column).
    pub fn grid(rows: usize, cols: usize) -> QuorumSystem {
        Self::make(
            format!("grid {rows}x{cols}"),
            rows * cols,
            Shape::Grid {
                rows,
                cols,
                row_only: false,
            },
        )
    }

    /// The `k × k` grid on n = k² nodes, if n is a perfect square.
    pub fn square_grid(n: usize) -> Option<QuorumSystem> {
        let k = (n as f64).sqrt().round() as usize;
        (k * k == n && k > 0).then(|| Self::grid(k, k))
    }

    /// The canary grid whose quorums are single rows (rows ≥ 2 makes two disjoint quorums).
    pub fn grid_row_only_canary(rows: usize, cols: usize) -> QuorumSystem {
        Self::make(
            format!("grid {rows}x{cols} rows only (canary)"),
            rows * cols,
            Shape::Grid {
                rows,
                cols,
                row_only: true,
            },
        )
    }

    /// The projective plane of prime order `q` (n = q² + q + 1), lines as quorums. `None` if
    /// `q` is not a prime or n would exceed [`MAX_NODES`].
    pub fn projective_plane(q: usize) -> Option<QuorumSystem> {
        let prime = q >= 2
            && (2..q)
                .take_while(|d| d * d <= q)
                .all(|d| !q.is_multiple_of(d));
        let n = q * q + q + 1;
        if !prime || n > MAX_NODES {
            return None;
        }
        // Normalised homogeneous coordinates: (x, y, 1), (x, 1, 0), (1, 0, 0).
        let mut pts: Vec<[usize; 3]> = Vec::with_capacity(n);
        for x in 0..q {
            for y in 0..q {
                pts.push([x, y, 1]);
            }
        }
        for x in 0..q {
            pts.push([x, 1, 0]);
        }
        pts.push([1, 0, 0]);
        // Lines have the same normalised coordinates (duality); point P is on line L iff
        // L · P ≡ 0 (mod q).
        let lines: Vec<NodeSet> = pts
            .iter()
            .map(|l| {
                pts.iter()
                    .enumerate()
                    .filter(|(_, p)| (l[0] * p[0] + l[1] * p[1] + l[2] * p[2]) % q == 0)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        Some(Self::make(
            format!("fpp q={q}"),
            n,
            Shape::ProjectivePlane { q, lines },
        ))
    }

    /// The Agrawal–El Abbadi tree of the given height (n = 2^(height+1) − 1).
    pub fn tree(height: u32) -> QuorumSystem {
        let n = (1usize << (height + 1)) - 1;
        Self::make(format!("tree h={height}"), n, Shape::Tree { height })
    }

    /// An explicit family of quorums over `0..n`.
    pub fn explicit(name: impl Into<String>, n: usize, quorums: Vec<NodeSet>) -> QuorumSystem {
        assert!(
            quorums.iter().all(|q| q.is_subset(&NodeSet::full(n))),
            "quorums must lie in 0..n"
        );
        Self::make(name, n, Shape::Explicit { quorums })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of nodes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Its shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Whether `live` contains a quorum (the availability test), decided from the construction.
    pub fn contains_quorum(&self, live: &NodeSet) -> bool {
        let live = live.and(&NodeSet::full(self.n));
        match &self.shape {
            Shape::Threshold { t } => live.len() >= *t,
            Shape::Weighted { weights, threshold } => {
                live.iter().map(|i| weights[i]).sum::<u64>() >= *threshold
            }
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => {
                let row_full = |i: usize| (0..*cols).all(|j| live.contains(i * cols + j));
                let col_full = |j: usize| (0..*rows).all(|i| live.contains(i * cols + j));
                (0..*rows).any(row_full) && (*row_only || (0..*cols).any(col_full))
            }
            Shape::ProjectivePlane { lines, .. } => lines.iter().any(|l| l.is_subset(&live)),
            Shape::Tree { height } => tree_has(&live, 0, *height),
            Shape::Explicit { quorums } => quorums.iter().any(|q| q.is_subset(&live)),
        }
    }

    /// `c`: the size of a smallest quorum.
    pub fn min_quorum_size(&self) -> usize {
        match &self.shape {
            Shape::Threshold { t } => *t,
            Shape::Weighted { weights, threshold } => {
                let mut w = weights.clone();
                w.sort_unstable_by(|a, b| b.cmp(a));
                let mut sum = 0;
                let mut k = 0;
                for x in w {
                    if sum >= *threshold {
                        break;
                    }
                    sum += x;
                    k += 1;
                }
                k
            }
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => {
                if *row_only {
                    *cols
                } else {
                    rows + cols - 1
                }
            }
            Shape::ProjectivePlane { q, .. } => q + 1,
            Shape::Tree { height } => *height as usize + 1,
            Shape::Explicit { quorums } => quorums.iter().map(|q| q.len()).min().unwrap_or(0),
        }
    }

    /// The Naor–Wool lower bound on the load of any strategy: `max(1/c, c/n)`. (Every quorum
    /// meets a smallest one Q, so Q's c nodes carry total load ≥ 1; every quorum has ≥ c nodes,
    /// so all n nodes carry total load ≥ c.)
    pub fn load_lower_bound(&self) -> f64 {
        let c = self.min_quorum_size() as f64;
        (1.0 / c).max(c / self.n as f64)
    }

    /// The number of minimal quorums, if it fits in a u128 (and, for weighted voting, if n ≤ 20
    /// so that it can be counted).
    pub fn quorum_count(&self) -> Option<u128> {
        match &self.shape {
            Shape::Threshold { t } => binomial(self.n, *t),
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => Some(if *row_only { *rows } else { rows * cols } as u128),
            Shape::ProjectivePlane { lines, .. } => Some(lines.len() as u128),
            // c(0) = 1, c(h) = 2 c(h−1) + c(h−1)² ⇒ c(h) = 2^(2^h) − 1.
            Shape::Tree { height } => {
                if *height <= 7 {
                    let e = 1u32 << height;
                    Some(if e == 128 {
                        u128::MAX
                    } else {
                        (1u128 << e) - 1
                    })
                } else {
                    None
                }
            }
            Shape::Weighted { .. } | Shape::Explicit { .. } => {
                if self.n <= 20 || matches!(self.shape, Shape::Explicit { .. }) {
                    self.minimal_quorums(usize::MAX).map(|v| v.len() as u128)
                } else {
                    None
                }
            }
        }
    }

    /// The minimal quorums, if there are at most `limit` of them (and, for weighted voting,
    /// n ≤ 20). Deterministic order.
    pub fn minimal_quorums(&self, limit: usize) -> Option<Vec<NodeSet>> {
        let n = self.n;
        match &self.shape {
            Shape::Threshold { t } => {
                if binomial(n, *t)? > limit as u128 {
                    return None;
                }
                let mut out = Vec::new();
                for_each_subset(n, *t, |s| out.push(s));
                Some(out)
            }
            Shape::Weighted { weights, threshold } => {
                if n > 20 {
                    return None;
                }
                let mut out = Vec::new();
                for bits in 1u64..(1u64 << n) {
                    let s = NodeSet::from_bits(bits);
                    let w: u64 = s.iter().map(|i| weights[i]).sum();
                    let lightest = s.iter().map(|i| weights[i]).min().unwrap_or(0);
                    if w >= *threshold && w - lightest < *threshold {
                        out.push(s);
                        if out.len() > limit {
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => {
                let (r, c) = (*rows, *cols);
                let row = |i: usize| NodeSet::of((0..c).map(|j| i * c + j));
                let col = |j: usize| NodeSet::of((0..r).map(|i| i * c + j));
                let out: Vec<NodeSet> = if *row_only {
                    (0..r).map(row).collect()
                } else {
                    (0..r)
                        .flat_map(|i| (0..c).map(move |j| (i, j)))
                        .map(|(i, j)| row(i).or(&col(j)))
                        .collect()
                };
                (out.len() <= limit).then_some(out)
            }
            Shape::ProjectivePlane { lines, .. } => (lines.len() <= limit).then(|| lines.clone()),
            Shape::Tree { height } => {
                if self.quorum_count()? > limit as u128 {
                    return None;
                }
                Some(tree_quorums(0, *height))
            }
            Shape::Explicit { quorums } => {
                let mut qs = quorums.clone();
                qs.sort();
                qs.dedup();
                let out: Vec<NodeSet> = qs
                    .iter()
                    .filter(|q| !qs.iter().any(|o| o != *q && o.is_subset(q)))
                    .copied()
                    .collect();
                (out.len() <= limit).then_some(out)
            }
        }
    }

    /// Shrinks a set containing a quorum to a minimal quorum inside it (removing nodes in
    /// ascending order while a quorum remains). `None` if `set` holds no quorum.
    pub fn shrink(&self, set: &NodeSet) -> Option<NodeSet> {
        if !self.contains_quorum(set) {
            return None;
        }
        let mut s = *set;
        for i in set.iter() {
            s.remove(i);
            if !self.contains_quorum(&s) {
                s.insert(i);
            }
        }
        Some(s)
    }

    /// Checks that every two quorums intersect: by comparing every pair of minimal quorums when
    /// there are at most `enumeration_limit`, otherwise from the construction (with a witness of
    /// two disjoint minimal quorums when it fails).
    pub fn check_intersection(&self, enumeration_limit: usize) -> Intersection {
        if let Some(qs) = self.minimal_quorums(enumeration_limit) {
            return check_pairs(&qs);
        }
        let n = self.n;
        let witness = |a: NodeSet, b: NodeSet| {
            let (a, b) = (self.shrink(&a), self.shrink(&b));
            match (a, b) {
                (Some(a), Some(b)) if a.is_disjoint(&b) => Intersection::Violated { a, b },
                _ => unreachable!("witness sets must be disjoint quorums"),
            }
        };
        match &self.shape {
            Shape::Threshold { t } => {
                if 2 * t > n {
                    Intersection::Structural(format!(
                        "|Q1| + |Q2| >= 2t = {} > n = {n}: two quorums share a node",
                        2 * t
                    ))
                } else {
                    witness(NodeSet::of(0..*t), NodeSet::of(*t..2 * t))
                }
            }
            Shape::Weighted { weights, threshold } => {
                let total: u64 = weights.iter().sum();
                if 2 * threshold > total {
                    return Intersection::Structural(format!(
                        "two quorums hold 2T = {} > {total} votes: they share a node",
                        2 * threshold
                    ));
                }
                // Subset sum: a set S with T <= w(S) <= W − T makes S and its complement quorums.
                match subset_with_weight_in(weights, *threshold, total - threshold) {
                    Some(s) => witness(s, s.complement(n)),
                    None => Intersection::Structural(format!(
                        "no split of the {total} votes gives both sides >= {threshold} (subset sum)"
                    )),
                }
            }
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => {
                if *row_only && *rows >= 2 {
                    witness(NodeSet::of(0..*cols), NodeSet::of(*cols..2 * cols))
                } else {
                    Intersection::Structural(format!(
                        "the row of Q1 and the column of Q2 share a cell ({rows}x{cols} grid)"
                    ))
                }
            }
            Shape::ProjectivePlane { .. } => {
                unreachable!("the plane's lines are always few enough to enumerate")
            }
            Shape::Tree { height } => Intersection::Structural(format!(
                "induction on the height ({height}): two quorums holding the root meet there; \
                 otherwise one is a union of quorums of both subtrees and the other holds a \
                 quorum of at least one subtree, which meet by induction (height 0: one node)"
            )),
            Shape::Explicit { .. } => {
                unreachable!("explicit systems are enumerated")
            }
        }
    }

    /// The load: exact for the symmetric constructions, by LP over the minimal quorums when
    /// there are at most `lp_limit`, else the uniform strategy when at most 100,000 minimal
    /// quorums can be listed, else `None`.
    pub fn load(&self, lp_limit: usize) -> Option<Load> {
        let n = self.n as f64;
        let c = self.min_quorum_size() as f64;
        let at_bound = |value: f64| Load {
            value,
            method: LoadMethod::UniformAtBound,
        };
        match &self.shape {
            // Uniform over the minimal quorums: node i is in a fraction c/n of them (each
            // construction is node-transitive), which is the lower bound c/n.
            Shape::Threshold { .. } | Shape::Grid { .. } | Shape::ProjectivePlane { .. } => {
                Some(at_bound(c / n))
            }
            // L(0) = 1; with probability α take the root and recurse into one child (chosen
            // uniformly), else recurse into both: the root carries α, each subtree node
            // (1 − α/2)·L(h−1). Balancing gives L(h) = L(h−1)/(1 + L(h−1)/2) = 2/(h+2), optimal
            // among symmetric strategies, hence optimal (average any strategy over the tree's
            // automorphisms).
            Shape::Tree { height } => Some(Load {
                value: 2.0 / (*height as f64 + 2.0),
                method: LoadMethod::Recursive,
            }),
            Shape::Weighted { .. } | Shape::Explicit { .. } => {
                let qs = self.minimal_quorums(100_000)?;
                if qs.len() <= lp_limit {
                    let l = lp::optimal_load(self.n, &qs)?;
                    Some(Load {
                        value: l.load,
                        method: LoadMethod::Lp,
                    })
                } else {
                    Some(Load {
                        value: uniform_load(self.n, &qs),
                        method: LoadMethod::Uniform,
                    })
                }
            }
        }
    }

    /// The exact failure probability `F_p` (no quorum entirely live, each node failing
    /// independently with probability `p`), if there is an exact method for this shape: the
    /// binomial tail (threshold), a dynamic program (weighted, grid), a recursion (tree), or
    /// enumeration of all 2^n failure patterns when n ≤ `max_enum_n` (≤ 24).
    pub fn failure_exact(&self, p: f64, max_enum_n: usize) -> Option<Failure> {
        let exact = |fp: f64| {
            Some(Failure {
                fp,
                method: FpMethod::Exact,
            })
        };
        match &self.shape {
            // Fails iff fewer than t live, i.e. at least n − t + 1 dead.
            Shape::Threshold { t } => exact(prob::binomial_tail_ge(self.n, self.n - t + 1, p)),
            Shape::Weighted { weights, threshold } => {
                exact(prob::weighted_failure(weights, *threshold, p))
            }
            Shape::Grid {
                rows,
                cols,
                row_only,
            } => exact(prob::grid_failure(*rows, *cols, p, *row_only)),
            Shape::Tree { height } => exact(prob::tree_failure(*height, p)),
            Shape::ProjectivePlane { .. } | Shape::Explicit { .. } => {
                if self.n <= max_enum_n.min(24) {
                    let (fp, _) = prob::enumerated_failure(self.n, p, |s| self.contains_quorum(s));
                    Some(Failure {
                        fp,
                        method: FpMethod::Enumerated,
                    })
                } else {
                    None
                }
            }
        }
    }

    /// Monte Carlo estimates of `F_p` for each `p` in `ps`, from the same `samples` draws
    /// (common random numbers: node i is dead in a sample iff its uniform draw is below p).
    pub fn failure_monte_carlo(&self, ps: &[f64], samples: u64, rng: &mut Prng) -> Vec<Failure> {
        let mut hits = vec![0u64; ps.len()];
        let mut u = vec![0.0f64; self.n];
        for _ in 0..samples {
            for x in u.iter_mut() {
                *x = rng.unit_f64();
            }
            for (k, &p) in ps.iter().enumerate() {
                let live: NodeSet = (0..self.n).filter(|&i| u[i] >= p).collect();
                if !self.contains_quorum(&live) {
                    hits[k] += 1;
                }
            }
        }
        hits.into_iter()
            .map(|h| Failure {
                fp: h as f64 / samples as f64,
                method: FpMethod::MonteCarlo { samples, hits: h },
            })
            .collect()
    }

    /// An exhaustive intersection check that uses only [`QuorumSystem::contains_quorum`]: two
    /// disjoint quorums exist iff some set S and its complement both contain a quorum. For
    /// n ≤ 24; returns a witness pair of disjoint minimal quorums.
    pub fn disjoint_pair_by_complements(&self) -> Option<(NodeSet, NodeSet)> {
        assert!(self.n <= 24, "complement search is for n <= 24");
        for bits in 0u64..(1u64 << self.n) {
            let s = NodeSet::from_bits(bits);
            let c = s.complement(self.n);
            if self.contains_quorum(&s) && self.contains_quorum(&c) {
                return Some((self.shrink(&s)?, self.shrink(&c)?));
            }
        }
        None
    }
}

fn tree_has(live: &NodeSet, node: usize, height: u32) -> bool {
    if height == 0 {
        return live.contains(node);
    }
    let l = tree_has(live, 2 * node + 1, height - 1);
    let r = tree_has(live, 2 * node + 2, height - 1);
    (live.contains(node) && (l || r)) || (l && r)
}

fn tree_quorums(node: usize, height: u32) -> Vec<NodeSet> {
    if height == 0 {
        return vec![NodeSet::of([node])];
    }
    let l = tree_quorums(2 * node + 1, height - 1);
    let r = tree_quorums(2 * node + 2, height - 1);
    let mut out = Vec::with_capacity(l.len() + r.len() + l.len() * r.len());
    for q in l.iter().chain(&r) {
        let mut q = *q;
        q.insert(node);
        out.push(q);
    }
    for a in &l {
        for b in &r {
            out.push(a.or(b));
        }
    }
    out
}

/// Compares every pair of `quorums`.
pub fn check_pairs(quorums: &[NodeSet]) -> Intersection {
    let mut pairs = 0u64;
    let mut min_meet = usize::MAX;
    for (i, a) in quorums.iter().enumerate() {
        for b in &quorums[i..] {
            pairs += 1;
            let m = a.meet(b);
            if m == 0 {
                return Intersection::Violated { a: *a, b: *b };
            }
            min_meet = min_meet.min(m);
        }
    }
    Intersection::Enumerated {
        quorums: quorums.len(),
        pairs,
        min_meet,
    }
}

/// The load of the uniform strategy over `quorums`: the largest fraction of them holding one
/// node.
pub fn uniform_load(n: usize, quorums: &[NodeSet]) -> f64 {
    let mut count = vec![0u64; n];
    for q in quorums {
        for i in q.iter() {
            count[i] += 1;
        }
    }
    count.into_iter().max().unwrap_or(0) as f64 / quorums.len() as f64
}

/// A set of nodes whose weight lies in `lo..=hi`, by subset-sum dynamic programming.
fn subset_with_weight_in(weights: &[u64], lo: u64, hi: u64) -> Option<NodeSet> {
    if lo > hi {
        return None;
    }
    let cap = hi as usize;
    // first[x] = the item that first reached sum x (usize::MAX: unreached), x = 0 reached.
    let mut first = vec![usize::MAX; cap + 1];
    let mut reached = vec![false; cap + 1];
    reached[0] = true;
    for (i, &w) in weights.iter().enumerate() {
        let w = w as usize;
        for x in (w..=cap).rev() {
            if !reached[x] && reached[x - w] {
                reached[x] = true;
                first[x] = i;
            }
        }
    }
    let target = (lo as usize..=cap).find(|&x| reached[x])?;
    let mut s = NodeSet::EMPTY;
    let mut x = target;
    while x > 0 {
        let i = first[x];
        s.insert(i);
        x -= weights[i] as usize;
    }
    Some(s)
}
