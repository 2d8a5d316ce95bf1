//! CRDTs: the semilattice laws on random states (and the naive set breaking them), hand-worked
//! merges, strong eventual consistency of the state-based stores over many seeds with a
//! partition, loss, duplication and reordering, and the naive op-based canaries caught.

use std::collections::BTreeSet;
use synod_core::{check_all, Duration, Instant, NodeId, Prng, Ratio};
use synod_protocols::replication::crdt::properties::{check_laws, random_state};
use synod_protocols::replication::crdt::{
    add_wins, crdt_properties, naive_opcounter, naive_set, random_updates, CounterOp, Crdt,
    CrdtStore, GCounter, LwwRegister, MvRegister, NaiveSet, OpStore, OrSet, PnCounter, Replica,
    SetEffect, SetOp, Tag,
};
use synod_sim::{Cut, Partition, Scripted, SimConfig, Simulation, Timing};

const N: usize = 4;
const QUIET: Duration = Duration::from_millis(500);

fn n(i: u32) -> NodeId {
    NodeId(i)
}

#[test]
fn lattice_laws_hold_on_random_states() {
    let mut prng = Prng::new(7);
    check_laws::<GCounter>(&mut prng, 300).unwrap();
    check_laws::<PnCounter>(&mut prng, 300).unwrap();
    check_laws::<OrSet>(&mut prng, 300).unwrap();
    check_laws::<LwwRegister>(&mut prng, 300).unwrap();
    check_laws::<MvRegister>(&mut prng, 300).unwrap();
}

#[test]
fn the_naive_set_breaks_the_laws() {
    // A remove moves its state down: not an inflation, so not a state-based CRDT.
    let err = check_laws::<NaiveSet>(&mut Prng::new(7), 300).unwrap_err();
    assert!(err.contains("not an inflation"), "{err}");
}

#[test]
fn merging_in_any_order_gives_the_same_state() {
    // Five replicas' random states merged in every rotation and in reverse: one result.
    let mut prng = Prng::new(11);
    for _ in 0..50 {
        let states: Vec<OrSet> = (0..5).map(|_| random_state(&mut prng, 3, 20)).collect();
        let fold = |order: &[usize]| {
            let mut s = OrSet::default();
            for &i in order {
                s.merge(&states[i]);
            }
            s
        };
        let reference = fold(&[0, 1, 2, 3, 4]);
        assert_eq!(fold(&[4, 3, 2, 1, 0]), reference);
        assert_eq!(fold(&[2, 4, 1, 0, 3, 2, 4]), reference);
    }
}

#[test]
fn hand_worked_merges() {
    // G-Counter: slots merge by maximum, the value is the sum.
    let mut a = GCounter::default();
    a.apply(n(0), &3);
    let mut b = GCounter::default();
    b.apply(n(0), &1);
    b.apply(n(1), &2);
    a.merge(&b);
    assert_eq!(a.value(), 5);

    // PN-Counter: 4 − 1 at one replica, +2 at another.
    let mut p = PnCounter::default();
    p.apply(n(0), &CounterOp::Inc(4));
    p.apply(n(0), &CounterOp::Dec(1));
    let mut q = PnCounter::default();
    q.apply(n(1), &CounterOp::Inc(2));
    p.merge(&q);
    assert_eq!(p.value(), 5);

    // OR-Set: x added at n0 and seen by n1; n1 removes x while n0 adds x again: add wins.
    let mut s0 = OrSet::default();
    s0.apply(n(0), &SetOp::Add(1));
    let mut s1 = s0.clone();
    s1.apply(n(1), &SetOp::Remove(1));
    assert!(s1.value().is_empty());
    s0.apply(n(0), &SetOp::Add(1));
    let mut m = s0.clone();
    m.merge(&s1);
    assert_eq!(m.value(), BTreeSet::from([1]));
    // A remove that observed both adds cancels the element everywhere.
    m.apply(n(1), &SetOp::Remove(1));
    s0.merge(&m);
    assert!(s0.value().is_empty());

    // LWW: n1 writes having seen n0's write: the later stamp wins; equal counters tie-break by
    // node id.
    let mut r0 = LwwRegister::default();
    r0.apply(n(0), &10);
    let mut r1 = r0.clone();
    r1.apply(n(1), &11);
    r0.merge(&r1);
    assert_eq!(r0.value(), Some(11));
    let (mut x, mut y) = (LwwRegister::default(), LwwRegister::default());
    x.apply(n(2), &20);
    y.apply(n(1), &21);
    x.merge(&y);
    assert_eq!(x.value(), Some(20));

    // MV: concurrent writes are both kept; a write that saw both replaces them.
    let (mut u, mut v) = (MvRegister::default(), MvRegister::default());
    u.apply(n(0), &1);
    v.apply(n(1), &2);
    u.merge(&v);
    assert_eq!(u.value(), BTreeSet::from([1, 2]));
    u.apply(n(2), &3);
    v.merge(&u);
    assert_eq!(v.value(), BTreeSet::from([3]));
}

#[test]
fn add_wins_specification_by_hand() {
    let t = |node, seq| Tag { node: n(node), seq };
    let effects = vec![
        SetEffect::Add {
            elem: 1,
            tag: t(0, 1),
        },
        SetEffect::Add {
            elem: 2,
            tag: t(1, 1),
        },
        SetEffect::Remove {
            elem: 1,
            tags: BTreeSet::from([t(0, 1)]),
        },
        // A concurrent add of 2 the remove did not observe.
        SetEffect::Add {
            elem: 2,
            tag: t(0, 2),
        },
        SetEffect::Remove {
            elem: 2,
            tags: BTreeSet::from([t(1, 1)]),
        },
    ];
    assert_eq!(add_wins(&effects), BTreeSet::from([2]));
}

/// 4 nodes, 4 s, asynchronous, {n0, n1} | {n2, n3} from 0.5 s to 2 s; updates until 2.5 s.
fn config(seed: u64, loss: f64, dup: f64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = Instant::from_secs(4);
    cfg.timing = Timing::Asynchronous;
    cfg.network.loss = Ratio::from_f64(loss).unwrap();
    cfg.network.duplicate = Ratio::from_f64(dup).unwrap();
    cfg.faults.partitions.push(Partition {
        cut: Cut::Groups(vec![vec![n(0), n(1)], vec![n(2), n(3)]]),
        from: Instant::from_millis(500),
        until: Instant::from_secs(2),
    });
    cfg
}

/// Seeds (of `seeds`) on which some property of `make()` was violated, and inconclusive ones.
fn soak<C: Crdt, P: Replica<Data = C, Request = C::Op>>(
    make: impl Fn() -> P,
    seeds: std::ops::Range<u64>,
    loss: f64,
    dup: f64,
) -> (usize, usize) {
    let props = crdt_properties::<P>(QUIET);
    let (mut bad, mut unsure) = (0, 0);
    for seed in seeds {
        let mut prng = Prng::derive(seed, 0xC4D7);
        let updates =
            random_updates::<C>(N, 40, Instant::ZERO, Instant::from_millis(2500), &mut prng);
        let out = Simulation::new(make(), config(seed, loss, dup))
            .unwrap()
            .with_workload(Scripted(updates))
            .run();
        let reports = check_all(&props, &out.trace);
        bad += usize::from(reports.iter().any(|r| r.verdict.is_violated()));
        unsure += usize::from(
            reports
                .iter()
                .any(|r| matches!(r.verdict, synod_core::Verdict::Inconclusive { .. })),
        );
    }
    (bad, unsure)
}

#[test]
fn state_based_stores_converge_under_partition_loss_and_duplication() {
    let seeds = 0..100;
    assert_eq!(
        soak(CrdtStore::<GCounter>::default, seeds.clone(), 0.1, 0.2),
        (0, 0)
    );
    assert_eq!(
        soak(CrdtStore::<PnCounter>::default, seeds.clone(), 0.1, 0.2),
        (0, 0)
    );
    assert_eq!(
        soak(CrdtStore::<OrSet>::default, seeds.clone(), 0.1, 0.2),
        (0, 0)
    );
    assert_eq!(
        soak(CrdtStore::<LwwRegister>::default, seeds.clone(), 0.1, 0.2),
        (0, 0)
    );
    assert_eq!(
        soak(CrdtStore::<MvRegister>::default, 0..30, 0.1, 0.2),
        (0, 0)
    );
    // Gossip to one random peer per round still spreads everything.
    assert_eq!(
        soak(
            || CrdtStore::<OrSet>::default().with_fanout(1),
            0..30,
            0.1,
            0.2
        ),
        (0, 0)
    );
}

#[test]
fn op_based_with_exactly_once_delivery_or_idempotent_effects_converges() {
    // The same op-based store is right when receivers deduplicate...
    assert_eq!(
        soak(
            || OpStore::<PnCounter>::new(Duration::from_millis(50)).with_dedup(),
            0..30,
            0.1,
            0.2
        ),
        (0, 0)
    );
    // ...or when effects are idempotent and commute (the OR-Set's tagged adds and removes).
    assert_eq!(
        soak(
            || OpStore::<OrSet>::new(Duration::from_millis(50)),
            0..30,
            0.1,
            0.2
        ),
        (0, 0)
    );
}

#[test]
fn canaries_are_caught() {
    // Without duplication or loss... the naive counter's retransmissions still double-count
    // when an acknowledgement is cut by the partition; with dup 0.2 nearly every seed fails.
    let (bad, _) = soak(naive_opcounter, 0..30, 0.0, 0.2);
    assert!(bad >= 25, "naive-opcounter violated on only {bad}/30 seeds");
    let (bad, _) = soak(naive_set, 0..30, 0.0, 0.2);
    assert!(bad >= 5, "naive-set violated on only {bad}/30 seeds");
}
