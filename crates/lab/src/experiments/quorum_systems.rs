//! `quorum-systems`: the load–availability trade-off of quorum systems (Naor & Wool 1998).
//!
//! Majority, the √n × √n grid (a row ∪ a column), the projective plane (Maekawa's lines,
//! n = q² + q + 1) and the Agrawal–El Abbadi tree, at five sizes each, plus Gifford's weighted
//! voting and two canaries ("minority quorums" of ⌊n/2⌋ nodes; a grid whose quorums are single
//! rows). For each: the smallest quorum size c, the number of minimal quorums, the load (the
//! busiest node's access probability under the best strategy: the uniform strategy meets the
//! bound c/n for the node-transitive constructions; the tree's optimal symmetric strategy is
//! derived recursively; weighted voting by LP), the Naor–Wool lower bound max(1/c, c/n), and
//! the failure probability `F_p` (no quorum entirely live, nodes failing independently with
//! probability p) at p = 0.01, 0.1, 0.3: exact (binomial tail in log space, dynamic programs for
//! the grid and weighted voting, a recursion for the tree, all 2^n patterns for the small
//! planes) or Monte Carlo (larger planes; common random numbers across p), labelled. Every
//! system's intersection is checked (pairs of minimal quorums when few, the construction's
//! argument otherwise), and the canaries must fail with two disjoint quorums.
//!
//! Theory: load ≥ max(1/c, c/n) ≥ 1/√n, and `F_p ≥ p^c ≥ p^(nL)` (a smallest quorum meets every
//! quorum, so when its c nodes are dead no quorum is live): a low load forces a high failure
//! probability. Majority: load ≈ ½, `F_p → 0` as n grows (p < ½). Grid and plane: load
//! Θ(1/√n), `F_p → 1` (the grid already at these sizes; the plane's expected number of live
//! lines (q² + q + 1)(1 − p)^(q+1) peaks near q = 5 at p = 0.3 and then falls, so its `F_p`
//! rises from n = 31 on).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::run_seed;
use crate::LabError;
use serde_json::{json, Value as Json};
use synod_core::{ModelHeader, Prng};
use synod_protocols::quorum::{lp, Failure, Intersection, QuorumSystem, ReadWriteQuorums, Shape};

/// The failure probabilities of the table.
pub const PS: [f64; 3] = [0.01, 0.1, 0.3];

/// Which family a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Majority.
    Majority,
    /// The square grid.
    Grid,
    /// The projective plane.
    Plane,
    /// The binary tree.
    Tree,
    /// Weighted voting.
    Weighted,
    /// A canary (not a quorum system).
    Canary,
}

/// One measured system.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Its family.
    pub family: Family,
    /// The system.
    pub sys: QuorumSystem,
    /// Its load (`None`: not computed).
    pub load: Option<synod_protocols::quorum::Load>,
    /// F_p for each of [`PS`].
    pub fp: Vec<Failure>,
    /// The intersection verdict.
    pub intersection: Intersection,
}

/// The systems of the table: five sizes of each family (three in `quick` mode for majority and
/// grid, which are exact anyway, the plane and tree keep theirs), weighted voting, canaries.
pub fn systems(quick: bool) -> Vec<(Family, QuorumSystem)> {
    let mut v = Vec::new();
    let sizes: &[usize] = if quick {
        &[9, 25, 100]
    } else {
        &[9, 16, 25, 49, 100]
    };
    for &n in sizes {
        v.push((Family::Majority, QuorumSystem::majority(n)));
    }
    for &n in sizes {
        v.push((
            Family::Grid,
            QuorumSystem::square_grid(n).expect("square sizes"),
        ));
    }
    for q in [2usize, 3, 5, 7, 11] {
        v.push((
            Family::Plane,
            QuorumSystem::projective_plane(q).expect("prime q"),
        ));
    }
    for h in 2..=6u32 {
        v.push((Family::Tree, QuorumSystem::tree(h)));
    }
    v.push((
        Family::Weighted,
        QuorumSystem::weighted(vec![2, 2, 2, 1, 1, 1, 1, 1, 1], 7),
    ));
    v.push((Family::Canary, QuorumSystem::minority_canary(9)));
    v.push((Family::Canary, QuorumSystem::grid_row_only_canary(3, 3)));
    v
}

/// Measures one system: load, F_p (exact when possible, else `samples` Monte Carlo draws
/// seeded by `seed`), intersection.
pub fn measure(family: Family, sys: QuorumSystem, samples: u64, seed: u64) -> Measured {
    let load = sys.load(2000);
    let exact: Option<Vec<Failure>> = PS.iter().map(|&p| sys.failure_exact(p, 16)).collect();
    let fp = match exact {
        Some(v) => v,
        None => sys.failure_monte_carlo(&PS, samples, &mut Prng::new(seed)),
    };
    let intersection = sys.check_intersection(3000);
    Measured {
        family,
        sys,
        load,
        fp,
        intersection,
    }
}

fn count_label(c: Option<u128>) -> String {
    match c {
        Some(x) if x <= 1_000_000 => x.to_string(),
        Some(x) => format!("{:.1e}", x as f64),
        None => "-".into(),
    }
}

fn method_label(f: &Failure) -> String {
    use synod_protocols::quorum::FpMethod;
    match f.method {
        FpMethod::Exact => "exact".into(),
        FpMethod::Enumerated => "exact (2^n)".into(),
        FpMethod::MonteCarlo { samples, .. } => format!("MC {samples}"),
    }
}

/// Whether `f` is at least `bound`, allowing Monte Carlo noise (5 standard errors + 5/samples).
fn at_least(f: &Failure, bound: f64) -> bool {
    if f.is_exact() {
        f.fp >= bound * (1.0 - 1e-9)
    } else {
        f.fp >= bound || f.consistent_with(bound)
    }
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let samples: u64 = if opts.quick { 20_000 } else { 200_000 };
    let plan = systems(opts.quick);
    progress.set_total(plan.len() as u64 + 1);
    let mut rows_m = Vec::new();
    for (k, (family, sys)) in plan.into_iter().enumerate() {
        let seed = run_seed(opts.seed, &[k as u64, sys.n() as u64]);
        rows_m.push(measure(family, sys, samples, seed));
        progress.advance(1);
    }

    // LP cross-check of the closed-form loads on the small systems.
    let mut lp_ok = true;
    let mut lp_cells = Vec::new();
    for m in &rows_m {
        if m.family == Family::Canary || m.family == Family::Weighted {
            continue;
        }
        if let (Some(qs), Some(l)) = (m.sys.minimal_quorums(300), m.load) {
            if let Some(opt) = lp::optimal_load(m.sys.n(), &qs) {
                lp_ok &= (opt.load - l.value).abs() < 1e-9;
                lp_cells.push(format!("{} {:.4}", m.sys.name(), opt.load));
            }
        }
    }
    progress.advance(1);

    // The checks.
    let fam = |f: Family| rows_m.iter().filter(move |m| m.family == f);
    let real = || rows_m.iter().filter(|m| m.family != Family::Canary);
    let bound_ok = real().all(|m| {
        m.load
            .is_some_and(|l| l.value >= m.sys.load_lower_bound() - 1e-12)
    });
    let pc_ok = real().all(|m| {
        PS.iter()
            .zip(&m.fp)
            .all(|(&p, f)| at_least(f, p.powi(m.sys.min_quorum_size() as i32)))
    });
    let intersect_ok = real().all(|m| m.intersection.holds());
    let canaries_caught = fam(Family::Canary).count() == 2
        && fam(Family::Canary).all(|m| match m.intersection {
            Intersection::Violated { a, b } => {
                a.is_disjoint(&b) && m.sys.contains_quorum(&a) && m.sys.contains_quorum(&b)
            }
            _ => false,
        });
    let series = |f: Family, k: usize| -> Vec<f64> { fam(f).map(|m| m.fp[k].fp).collect() };
    let loads = |f: Family| -> Vec<f64> {
        fam(f)
            .map(|m| m.load.map_or(f64::NAN, |l| l.value))
            .collect()
    };
    let decreasing = |v: &[f64]| v.windows(2).all(|w| w[1] < w[0]);
    let increasing = |v: &[f64]| v.windows(2).all(|w| w[1] > w[0]);
    let maj_fp1 = series(Family::Majority, 1);
    let maj_fp3 = series(Family::Majority, 2);
    let maj_ok = decreasing(&maj_fp1)
        && decreasing(&maj_fp3)
        && maj_fp3.last().is_some_and(|&x| x < 1e-3)
        && loads(Family::Majority).iter().all(|&l| l > 0.5);
    let grid_fp3 = series(Family::Grid, 2);
    let grid_ok = increasing(&grid_fp3)
        && grid_fp3.last().is_some_and(|&x| x > 0.9)
        && decreasing(&loads(Family::Grid))
        && fam(Family::Grid).all(|m| {
            let l = m.load.map_or(0.0, |l| l.value);
            (l * (m.sys.n() as f64).sqrt() - 2.0).abs() < 0.35
        });
    let plane_fp3 = series(Family::Plane, 2);
    let plane_ok = decreasing(&loads(Family::Plane))
        && plane_fp3.len() >= 3
        && increasing(&plane_fp3[2..])
        && fam(Family::Plane).all(|m| {
            let l = m.load.map_or(0.0, |l| l.value);
            (l * (m.sys.n() as f64).sqrt() - 1.0).abs() < 0.25
        });
    let tree_ok = decreasing(&loads(Family::Tree)) && decreasing(&series(Family::Tree, 2));
    let ok = bound_ok
        && pc_ok
        && intersect_ok
        && canaries_caught
        && maj_ok
        && grid_ok
        && plane_ok
        && tree_ok
        && lp_ok;

    let table: Vec<Vec<Json>> = rows_m
        .iter()
        .map(|m| {
            let mut r = vec![
                json!(m.sys.name()),
                json!(m.sys.n()),
                json!(m.sys.min_quorum_size()),
                json!(count_label(m.sys.quorum_count())),
                m.load.map_or(Json::Null, |l| json!(l.value)),
                m.load.map_or(Json::Null, |l| json!(l.method.label())),
                json!(m.sys.load_lower_bound()),
            ];
            r.extend(m.fp.iter().map(|f| json!(f.display())));
            r.push(json!(method_label(&m.fp[0])));
            r.push(json!(m.intersection.label()));
            r
        })
        .collect();

    let pick = |f: Family, n: usize| rows_m.iter().find(|m| m.family == f && m.sys.n() == n);
    let fp_at =
        |f: Family, n: usize, k: usize| pick(f, n).map_or("?".into(), |m| m.fp[k].display());
    let load_at = |f: Family, n: usize| {
        pick(f, n)
            .and_then(|m| m.load)
            .map_or("?".into(), |l| format!("{:.3}", l.value))
    };
    let (plane_first, plane_last) = (31, 133);
    let claim = format!(
        "Naor–Wool: every system's load ≥ max(1/c, c/n) and F_p ≥ p^c ≥ p^(nL) (checked on every row); \
         majority keeps load ≈ ½ while F_p(0.3) falls to 0 ({} at n=9 → {} at n=100); the grid's load falls like 2/√n ({} → {}) \
         while F_p(0.3) rises toward 1 ({} → {}); the plane's load ≈ 1/√n ({} → {}) with F_p(0.3) rising from n={plane_first} ({} → {}); \
         intersection verified for every system, both canaries caught with disjoint quorums",
        fp_at(Family::Majority, 9, 2),
        fp_at(Family::Majority, 100, 2),
        load_at(Family::Grid, 9),
        load_at(Family::Grid, 100),
        fp_at(Family::Grid, 9, 2),
        fp_at(Family::Grid, 100, 2),
        load_at(Family::Plane, 7),
        load_at(Family::Plane, plane_last),
        fp_at(Family::Plane, plane_first, 2),
        fp_at(Family::Plane, plane_last, 2),
    );

    // Notes.
    let mut notes = vec![
        format!(
            "F_p: each node fails independently with probability p; 'exact' = binomial tail summed in log space (majority), \
             DP over (columns still fully live, full row seen) for the grid (live quorum iff some row AND some column are fully live), \
             DP over live votes (weighted), F_h = F·(F + 2p(1−F)) (tree), a sum over all 2^n patterns (planes with n ≤ 16); \
             'MC N' = N samples with common random numbers across p (seeded), '<x' = no failure seen, x = 3/N the 95% upper bound"
        ),
        "load: the busiest node's access probability under the best strategy; 'uniform=opt' = uniform over minimal quorums, \
         equal to the lower bound c/n hence optimal; tree: with probability α take the root and recurse into one child, else both \
         children: L(h) = 2/(h+2); weighted: LP over the minimal quorums (one-phase simplex, Bland's rule)"
            .into(),
        format!(
            "LP cross-check (optimal load by simplex over the minimal quorums, systems with ≤ 300 of them){}: {}",
            if lp_ok { " = closed forms" } else { " ≠ closed forms (!)" },
            lp_cells.join(", ")
        ),
        "intersection: 'enumerated' compares every pair of minimal quorums (≤ 3000 of them); 'structural' = the construction's argument \
         (majority: 2t > n; tree: induction on the height); canaries: minority quorums of ⌊n/2⌋ and a grid whose quorums are single rows"
            .into(),
        "the tree gets both load → 0 (like 2/log₂ n) and F_p → 0 (geometrically in the height): the trade-off theorem is F_p ≥ p^(nL), \
         not 'no system gets both'; Naor & Wool's Paths system even reaches load O(1/√n) with F_p → 0"
            .into(),
    ];
    // Read/write quorums (R + W > N, 2W > N), checked by enumeration.
    let rw: Vec<String> = [(3, 2, 2), (3, 1, 2), (5, 2, 4), (5, 3, 2), (4, 3, 2)]
        .iter()
        .map(|&(n, r, w)| {
            let q = ReadWriteQuorums::new(n, r, w);
            match q.check_enumerated() {
                Ok(pairs) => format!("N={n} R={r} W={w}: ok ({pairs} pairs)"),
                Err(d) => format!("N={n} R={r} W={w}: {} {} ∩ {} = ∅", d.kind, d.a, d.b),
            }
        })
        .collect();
    notes.push(format!(
        "read/write threshold quorums by enumeration: {}",
        rw.join("; ")
    ));
    if let Some(w) = rows_m.iter().find(|m| m.family == Family::Weighted) {
        if let Shape::Weighted { weights, threshold } = w.sys.shape() {
            notes.push(format!(
                "weighted voting (Gifford): votes {weights:?}, threshold {threshold} of {}: c = {}, F_p(0.3) = {} vs majority of 9's {}",
                weights.iter().sum::<u64>(),
                w.sys.min_quorum_size(),
                w.fp[2].display(),
                fp_at(Family::Majority, 9, 2)
            ));
        }
    }
    let failed: Vec<&str> = [
        (bound_ok, "load bound"),
        (pc_ok, "F_p ≥ p^c"),
        (intersect_ok, "intersection"),
        (canaries_caught, "canaries"),
        (maj_ok, "majority trend"),
        (grid_ok, "grid trend"),
        (plane_ok, "plane trend"),
        (tree_ok, "tree trend"),
        (lp_ok, "LP"),
    ]
    .iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, name)| *name)
    .collect();
    if !failed.is_empty() {
        notes.push(format!("checks failed: {}", failed.join(", ")));
    }

    let model = ModelHeader::new()
        .with(
            "failures",
            "crash-stop, each node independently with probability p",
        )
        .with("membership", "static")
        .with(
            "p",
            PS.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )
        .with("monte carlo", format!("{samples} samples, seeded"));
    Ok(ExperimentReport {
        id: "quorum-systems".into(),
        title: "quorum systems: load vs failure probability (Naor–Wool); majority, grid, projective plane, tree, weighted voting".into(),
        model,
        columns: columns(&[
            ("system", "system"),
            ("n", "n"),
            ("c", "|Q|"),
            ("quorums", "minimal Qs"),
            ("load", "load"),
            ("load_method", "load by"),
            ("load_bound", "max(1/c,c/n)"),
            ("fp_001", "Fp(.01)"),
            ("fp_01", "Fp(.1)"),
            ("fp_03", "Fp(.3)"),
            ("fp_method", "Fp by"),
            ("intersection", "intersection"),
        ]),
        rows: table,
        claim: Claim {
            text: claim,
            verdict: if ok {
                ClaimVerdict::Holds
            } else {
                ClaimVerdict::Unexpected
            },
        },
        read: "Naor & Wool 1998 (load, capacity, availability); Vukolić, Quorum Systems (2012) ch. 2-3; Gifford 1979; Maekawa 1985; \
               Agrawal & El Abbadi 1990; CGR ch. 2 (quorums) and ch. 4 (majority registers); DDIA ch. 5 (quorum reads and writes); \
               Kshemkalyani & Singhal ch. 9 (quorum-based mutual exclusion)"
            .into(),
        notes,
        figures: vec![],
    })
}
