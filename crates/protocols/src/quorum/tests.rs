//! Tests against brute force: every exact formula against a sum over all 2^n failure patterns
//! with the quorums listed explicitly; every intersection verdict against a search over sets
//! and their complements; loads against the LP and the Naor–Wool bound.

use super::*;
use synod_core::Prng;

/// The probability that no quorum of `quorums` is entirely live, summed over all 2^n failure
/// patterns with each pattern's probability as a product (independent of `prob`).
fn brute_fp(n: usize, quorums: &[NodeSet], p: f64) -> f64 {
    let mut total = 0.0;
    for bits in 0u64..(1u64 << n) {
        let live = NodeSet::from_bits(bits);
        if quorums.iter().any(|q| q.is_subset(&live)) {
            continue;
        }
        let mut pr = 1.0;
        for i in 0..n {
            pr *= if live.contains(i) { 1.0 - p } else { p };
        }
        total += pr;
    }
    total
}

/// Small systems of every shape, canaries included.
fn small_systems() -> Vec<QuorumSystem> {
    let mut v = Vec::new();
    for n in 1..=9 {
        v.push(QuorumSystem::majority(n));
    }
    v.push(QuorumSystem::threshold(6, 5));
    v.push(QuorumSystem::minority_canary(6));
    v.push(QuorumSystem::minority_canary(7));
    for (r, c) in [(1, 1), (1, 3), (2, 2), (2, 3), (3, 2), (3, 3), (3, 4)] {
        v.push(QuorumSystem::grid(r, c));
    }
    v.push(QuorumSystem::grid_row_only_canary(3, 3));
    v.push(QuorumSystem::grid_row_only_canary(2, 4));
    v.push(QuorumSystem::projective_plane(2).unwrap());
    v.push(QuorumSystem::projective_plane(3).unwrap());
    for h in 0..=2 {
        v.push(QuorumSystem::tree(h));
    }
    v.push(QuorumSystem::weighted(vec![3, 1, 1, 1, 1], 4));
    v.push(QuorumSystem::weighted(vec![2, 2, 2, 1, 1, 1, 1, 1, 1], 7));
    v.push(QuorumSystem::weighted(vec![2, 1, 1, 1, 1], 3)); // 2T = 6 = W: a canary
    v.push(QuorumSystem::weighted(vec![3, 1], 2)); // 2T = W, yet every quorum holds node 0
    v
}

#[test]
fn exact_failure_matches_brute_force() {
    for sys in small_systems() {
        let qs = sys.minimal_quorums(100_000).unwrap();
        for p in [0.01, 0.1, 0.3, 0.5, 0.8] {
            let exact = sys.failure_exact(p, 24).unwrap();
            let want = brute_fp(sys.n(), &qs, p);
            assert!(
                (exact.fp - want).abs() <= 1e-12 * want.max(1e-300) + 1e-300,
                "{} p={p}: {} vs brute force {want}",
                sys.name(),
                exact.fp
            );
        }
    }
}

#[test]
fn binomial_tail_matches_brute_force_up_to_12() {
    for n in 1..=12 {
        for t in 1..=n {
            let sys = QuorumSystem::threshold(n, t);
            let qs = sys.minimal_quorums(10_000).unwrap();
            for p in [0.01, 0.1, 0.3] {
                let got = sys.failure_exact(p, 0).unwrap();
                assert_eq!(got.method, FpMethod::Exact);
                let want = brute_fp(n, &qs, p);
                assert!(
                    (got.fp - want).abs() <= 1e-11 * want,
                    "n={n} t={t} p={p}: {} vs {want}",
                    got.fp
                );
            }
        }
    }
}

#[test]
fn bigger_grids_and_trees_match_brute_force() {
    for sys in [
        QuorumSystem::grid(4, 4),
        QuorumSystem::grid(3, 5),
        QuorumSystem::grid_row_only_canary(4, 4),
        QuorumSystem::tree(3),
    ] {
        let qs = sys.minimal_quorums(100_000).unwrap();
        for p in [0.01, 0.3] {
            let got = sys.failure_exact(p, 0).unwrap().fp;
            let want = brute_fp(sys.n(), &qs, p);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "{}: {got} vs {want}",
                sys.name()
            );
        }
    }
}

#[test]
fn curriculum_majority_numbers() {
    // Binomial tails worked independently (curriculum C.13): majority of 9 and of 100.
    let m9 = QuorumSystem::majority(9);
    let f = |s: &QuorumSystem, p| s.failure_exact(p, 0).unwrap().fp;
    assert!((f(&m9, 0.01) / 1.2e-8 - 1.0).abs() < 0.02);
    assert!((f(&m9, 0.1) / 8.9e-4 - 1.0).abs() < 0.02);
    assert!((f(&m9, 0.3) / 0.099 - 1.0).abs() < 0.02);
    // P(Bin(100, 0.01) >= 50) ≈ C(100,50)·0.01^50·0.99^50 ≈ 6.2e-72: no underflow.
    let m100 = QuorumSystem::majority(100);
    assert!(
        (f(&m100, 0.01) / 6.2e-72 - 1.0).abs() < 0.02,
        "{}",
        f(&m100, 0.01)
    );
}

#[test]
fn availability_test_agrees_with_listed_quorums() {
    for sys in small_systems() {
        let qs = sys.minimal_quorums(100_000).unwrap();
        // Minimal quorums are quorums, and removing any node breaks each.
        for q in &qs {
            assert!(sys.contains_quorum(q), "{} {q}", sys.name());
            for i in q.iter() {
                let mut s = *q;
                s.remove(i);
                assert!(
                    !qs.iter().any(|o| o.is_subset(&s)),
                    "{} {q} not minimal",
                    sys.name()
                );
            }
        }
        for bits in 0u64..(1u64 << sys.n()) {
            let s = NodeSet::from_bits(bits);
            assert_eq!(
                sys.contains_quorum(&s),
                qs.iter().any(|q| q.is_subset(&s)),
                "{} {s}",
                sys.name()
            );
        }
        assert_eq!(sys.quorum_count(), Some(qs.len() as u128), "{}", sys.name());
        let c = qs.iter().map(|q| q.len()).min().unwrap();
        assert_eq!(sys.min_quorum_size(), c, "{}", sys.name());
    }
}

#[test]
fn intersection_verdicts_match_complement_search() {
    for sys in small_systems() {
        let by_pairs = sys.check_intersection(100_000);
        let by_complements = sys.disjoint_pair_by_complements();
        assert_eq!(
            by_pairs.holds(),
            by_complements.is_none(),
            "{}: {by_pairs:?} vs {by_complements:?}",
            sys.name()
        );
        // The structural route (no enumeration allowed) reaches the same verdict.
        if !matches!(
            sys.shape(),
            Shape::ProjectivePlane { .. } | Shape::Explicit { .. }
        ) {
            let structural = sys.check_intersection(0);
            assert_eq!(structural.holds(), by_pairs.holds(), "{}", sys.name());
            if let Intersection::Violated { a, b } = structural {
                assert!(a.is_disjoint(&b) && sys.contains_quorum(&a) && sys.contains_quorum(&b));
            }
        }
    }
}

#[test]
fn canaries_are_caught_with_witnesses() {
    for sys in [
        QuorumSystem::minority_canary(9),
        QuorumSystem::minority_canary(100),
        QuorumSystem::grid_row_only_canary(3, 3),
        QuorumSystem::grid_row_only_canary(10, 10),
        QuorumSystem::weighted(vec![2, 1, 1, 1, 1, 1, 1, 1, 1], 5),
    ] {
        match sys.check_intersection(1000) {
            Intersection::Violated { a, b } => {
                assert!(a.is_disjoint(&b), "{}", sys.name());
                assert!(sys.contains_quorum(&a) && sys.contains_quorum(&b));
            }
            other => panic!("{} not caught: {other:?}", sys.name()),
        }
    }
}

#[test]
fn large_systems_are_proved_structurally() {
    for sys in [
        QuorumSystem::majority(100),
        QuorumSystem::tree(6),
        QuorumSystem::weighted((1..=40).collect(), 411), // W = 820
    ] {
        assert!(
            matches!(sys.check_intersection(1000), Intersection::Structural(_)),
            "{}",
            sys.name()
        );
    }
    // Grids and planes are enumerated even at n > 100: n·(lines) pairs are few.
    assert!(matches!(
        QuorumSystem::grid(10, 10).check_intersection(1000),
        Intersection::Enumerated { min_meet: 2, .. }
    ));
    assert!(matches!(
        QuorumSystem::projective_plane(11)
            .unwrap()
            .check_intersection(1000),
        Intersection::Enumerated {
            quorums: 133,
            min_meet: 1,
            ..
        }
    ));
}

#[test]
fn projective_planes_are_planes() {
    for q in [2usize, 3, 5, 7, 11, 13] {
        let sys = QuorumSystem::projective_plane(q).unwrap();
        let n = q * q + q + 1;
        assert_eq!(sys.n(), n);
        let Shape::ProjectivePlane { lines, .. } = sys.shape() else {
            unreachable!()
        };
        assert_eq!(lines.len(), n);
        for (i, a) in lines.iter().enumerate() {
            assert_eq!(a.len(), q + 1);
            for b in &lines[i + 1..] {
                assert_eq!(a.meet(b), 1, "two lines meet in exactly one point");
            }
        }
        // Each point lies on q + 1 lines.
        for pt in 0..n {
            assert_eq!(lines.iter().filter(|l| l.contains(pt)).count(), q + 1);
        }
    }
    assert!(QuorumSystem::projective_plane(4).is_none());
    assert!(QuorumSystem::projective_plane(17).is_none()); // 307 > MAX_NODES
}

#[test]
fn loads_against_lp_and_bound() {
    // The LP's optimum, independent of the closed forms.
    let cases: Vec<(QuorumSystem, f64)> = vec![
        (QuorumSystem::majority(5), 3.0 / 5.0),
        (QuorumSystem::majority(6), 4.0 / 6.0),
        (QuorumSystem::grid(3, 3), 5.0 / 9.0),
        (QuorumSystem::grid(2, 3), 4.0 / 6.0),
        (QuorumSystem::projective_plane(2).unwrap(), 3.0 / 7.0),
        (QuorumSystem::projective_plane(3).unwrap(), 4.0 / 13.0),
        (QuorumSystem::tree(1), 2.0 / 3.0),
        (QuorumSystem::tree(2), 1.0 / 2.0),
        (QuorumSystem::tree(3), 2.0 / 5.0),
    ];
    for (sys, want) in cases {
        let qs = sys.minimal_quorums(10_000).unwrap();
        let lp = lp::optimal_load(sys.n(), &qs).unwrap();
        assert!(
            (lp.load - want).abs() < 1e-9,
            "{}: LP {}",
            sys.name(),
            lp.load
        );
        let closed = sys.load(0).unwrap();
        assert!((closed.value - lp.load).abs() < 1e-9, "{}", sys.name());
        assert!(lp.load >= sys.load_lower_bound() - 1e-12);
    }
    // Uniform over minimal quorums equals c/n for the node-transitive constructions.
    for sys in [
        QuorumSystem::majority(7),
        QuorumSystem::grid(4, 4),
        QuorumSystem::projective_plane(5).unwrap(),
    ] {
        let qs = sys.minimal_quorums(100_000).unwrap();
        let u = system::uniform_load(sys.n(), &qs);
        assert!((u - sys.load(0).unwrap().value).abs() < 1e-12);
    }
    // Weighted voting: the LP, above the bound; and the bound holds for every small system.
    for sys in small_systems() {
        let l = sys.load(5000).unwrap();
        assert!(
            l.value >= sys.load_lower_bound() - 1e-9,
            "{}: {} < {}",
            sys.name(),
            l.value,
            sys.load_lower_bound()
        );
        let qs = sys.minimal_quorums(100_000).unwrap();
        let lp = lp::optimal_load(sys.n(), &qs).unwrap();
        assert!((lp.load - l.value).abs() < 1e-9, "{}", sys.name());
    }
}

#[test]
fn failure_at_least_p_to_the_c() {
    // Naor–Wool: every quorum meets a smallest one, so killing it kills every quorum, and
    // F_p >= p^c. Only for intersecting systems: the minority canary's F_p falls below.
    for sys in small_systems().into_iter().chain([
        QuorumSystem::majority(100),
        QuorumSystem::grid(10, 10),
        QuorumSystem::tree(6),
    ]) {
        let intersecting = sys.check_intersection(100_000).holds();
        for p in [0.01, 0.1, 0.3] {
            let fp = sys.failure_exact(p, 16).unwrap().fp;
            let bound = p.powi(sys.min_quorum_size() as i32);
            if intersecting {
                assert!(fp >= bound * (1.0 - 1e-9), "{} p={p}", sys.name());
            }
        }
    }
    let canary = QuorumSystem::minority_canary(7);
    assert!(canary.failure_exact(0.01, 0).unwrap().fp < 0.01f64.powi(3));
}

#[test]
fn monte_carlo_agrees_with_exact_and_is_deterministic() {
    let sys = QuorumSystem::grid(5, 5);
    let ps = [0.1, 0.3];
    let a = sys.failure_monte_carlo(&ps, 20_000, &mut Prng::new(7));
    let b = sys.failure_monte_carlo(&ps, 20_000, &mut Prng::new(7));
    assert_eq!(a, b);
    for (est, &p) in a.iter().zip(&ps) {
        let exact = sys.failure_exact(p, 0).unwrap().fp;
        assert!(est.consistent_with(exact), "{est:?} vs {exact}");
    }
    let plane = QuorumSystem::projective_plane(3).unwrap();
    let est = plane.failure_monte_carlo(&[0.3], 20_000, &mut Prng::new(1));
    let exact = plane.failure_exact(0.3, 24).unwrap();
    assert_eq!(exact.method, FpMethod::Enumerated);
    assert!(est[0].consistent_with(exact.fp));
}

#[test]
fn binomials_are_exact() {
    assert_eq!(binomial(9, 5), Some(126));
    assert_eq!(binomial(100, 51), Some(98913082887808032681188722800));
    assert_eq!(binomial(256, 128), None);
    assert_eq!(QuorumSystem::tree(2).quorum_count(), Some(15));
    assert_eq!(QuorumSystem::tree(7).quorum_count(), Some(u128::MAX));
}
