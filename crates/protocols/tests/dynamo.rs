//! Dynamo-style quorums under the simulator: quorum arithmetic against brute force, a
//! hand-worked stale read at R = W = 1, none at R = W = 2 over 100 seeds (judged by a stale-read
//! check written here from the definition), sloppy quorums staying available under a partition,
//! and hinted handoff after it heals.

use synod_core::{Duration, History, Instant, NodeId, Prng};
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterRet};
use synod_protocols::replication::dynamo::{Dynamo, DynamoMsg, ReadRepair};
use synod_sim::{Cut, Latency, Partition, Scripted, SimConfig, Simulation};

type H = History<RegisterOp, RegisterRet>;

/// True if some R-subset and some W-subset of N replicas are disjoint (checked by enumerating
/// every pair of subsets as bit masks).
fn some_quorums_miss(n: usize, r: usize, w: usize) -> bool {
    let subsets = |k: usize| (0u32..1 << n).filter(move |m| m.count_ones() as usize == k);
    subsets(r).any(|a| subsets(w).any(|b| a & b == 0))
}

#[test]
fn quorum_arithmetic_matches_enumeration() {
    for n in 1..=5 {
        for r in 1..=n {
            for w in 1..=n {
                let d = Dynamo::new(n, r, w);
                assert_eq!(
                    d.quorums_overlap(n),
                    !some_quorums_miss(n, r, w),
                    "N={n} R={r} W={w}"
                );
            }
        }
    }
    // Clamping: N is at most the run's size, R and W within 1..=N.
    let d = Dynamo::new(3, 5, 0);
    assert_eq!(
        (d.n_replicas(2), d.read_quorum(2), d.write_quorum(2)),
        (2, 2, 1)
    );
    assert_eq!(
        Dynamo::default().preference_list(5),
        vec![NodeId(0), NodeId(1), NodeId(2)]
    );
    assert_eq!(Dynamo::default().fallbacks(5), vec![NodeId(3), NodeId(4)]);
}

/// Reads that miss a write completed before they were invoked: the read returned the initial
/// value although a write had completed, or the value of a write `w'` that completed before
/// another write `w` began, `w` itself completing before the read began (`w'` was
/// overwritten by then). Written values are unique.
fn stale_reads(h: &H) -> usize {
    let writes: Vec<(u64, Instant, Instant)> = h
        .ops
        .iter()
        .filter_map(|o| match (o.input, &o.completion) {
            (RegisterOp::Write(v), Some((t, _))) => Some((v, o.invoke, *t)),
            _ => None,
        })
        .collect();
    let mut stale = 0;
    for o in &h.ops {
        let (RegisterOp::Read, Some((_, RegisterRet::ReadOk(v)))) = (o.input, &o.completion) else {
            continue;
        };
        let before: Vec<_> = writes.iter().filter(|w| w.2 < o.invoke).collect();
        let missed = match v {
            None => !before.is_empty(),
            Some(v) => match writes.iter().find(|w| w.0 == *v) {
                Some(read) => before.iter().any(|w| read.2 < w.1),
                None => false, // the write is incomplete: concurrent with everything after
            },
        };
        stale += usize::from(missed);
    }
    stale
}

#[test]
fn a_hand_worked_stale_read_at_r1_w1() {
    // Constant 5 ms links. n0 coordinates the write at t = 0: W = 1 is its own store, so it
    // answers at once while its stores to n1 and n2 arrive at 5 ms. n1 coordinates a read at
    // 1 ms: R = 1 is its own (empty) version, answered at once: the initial value, although
    // the write completed a millisecond earlier.
    let mut cfg = SimConfig::new(3, 1);
    cfg.network.latency = Latency::Constant(Duration::from_millis(5));
    cfg.until = Instant::from_secs(1);
    let reqs = vec![
        (
            Instant::ZERO,
            NodeId(0),
            RegisterReq::Write {
                client: 1,
                value: 7,
            },
        ),
        (
            Instant::from_millis(1),
            NodeId(1),
            RegisterReq::Read { client: 2 },
        ),
        (
            Instant::from_millis(20),
            NodeId(2),
            RegisterReq::Read { client: 3 },
        ),
    ];
    let run = |d: Dynamo| {
        let out = Simulation::new(d, cfg.clone())
            .unwrap()
            .with_workload(Scripted(reqs.clone()))
            .run();
        H::from_trace(&out.trace)
    };
    let h = run(Dynamo::new(3, 1, 1));
    let ret = |h: &H, i: usize| h.ops[i].completion.as_ref().map(|(t, r)| (*t, *r));
    assert_eq!(ret(&h, 0), Some((Instant::ZERO, RegisterRet::WriteOk)));
    assert_eq!(
        ret(&h, 1),
        Some((Instant::from_millis(1), RegisterRet::ReadOk(None)))
    );
    // By 20 ms the stores have arrived: the later read sees the write.
    assert_eq!(
        ret(&h, 2),
        Some((Instant::from_millis(20), RegisterRet::ReadOk(Some(7))))
    );
    assert_eq!(stale_reads(&h), 1);
    // R = W = 2: the write waits for one version reply, then one acknowledgement (a round
    // trip each: it completes at 20 ms); the read at 1 ms is concurrent with it, and the one
    // at 20 ms is not preceded by it either (invoked at the instant it completes): no read is
    // stale.
    let h = run(Dynamo::new(3, 2, 2));
    assert_eq!(
        ret(&h, 0),
        Some((Instant::from_millis(20), RegisterRet::WriteOk))
    );
    assert_eq!(stale_reads(&h), 0);
}

/// A random workload: writes of 1, 2, ... every 30 ms at random nodes, 40 reads at random
/// times and nodes, each operation its own client.
fn random_workload(seed: u64) -> Vec<(Instant, NodeId, RegisterReq)> {
    let mut prng = Prng::derive(seed, 77);
    let mut reqs = Vec::new();
    for k in 0..20u64 {
        let node = NodeId(prng.below(3) as u32);
        reqs.push((
            Instant::from_millis(30 * k),
            node,
            RegisterReq::Write {
                client: k + 1,
                value: k + 1,
            },
        ));
    }
    for k in 0..40u64 {
        let node = NodeId(prng.below(3) as u32);
        let at = Instant(prng.below(Instant::from_millis(620).0));
        reqs.push((at, node, RegisterReq::Read { client: 100 + k }));
    }
    reqs.sort_by_key(|(at, node, _)| (*at, *node));
    reqs
}

fn stale_over_seeds(d: Dynamo, seeds: u64) -> (usize, usize) {
    let (mut stale, mut reads) = (0, 0);
    for seed in 0..seeds {
        let mut cfg = SimConfig::new(3, seed);
        cfg.until = Instant::from_secs(3);
        let out = Simulation::new(d, cfg)
            .unwrap()
            .with_workload(Scripted(random_workload(seed)))
            .run();
        let h = H::from_trace(&out.trace);
        stale += stale_reads(&h);
        reads += h
            .ops
            .iter()
            .filter(|o| o.input == RegisterOp::Read && o.completion.is_some())
            .count();
    }
    (stale, reads)
}

#[test]
fn no_stale_reads_at_r2_w2_and_some_at_r1_w1_over_100_seeds() {
    for repair in [ReadRepair::Off, ReadRepair::Async, ReadRepair::WriteBack] {
        let (stale, reads) = stale_over_seeds(Dynamo::new(3, 2, 2).with_read_repair(repair), 100);
        assert_eq!(stale, 0, "{repair:?}");
        assert!(reads > 3000, "{reads} reads answered");
    }
    let (stale, _) = stale_over_seeds(Dynamo::new(3, 1, 1), 100);
    assert!(stale > 0);
}

/// n = 5, the key's replicas n0..n2; {n0, n3, n4} | {n1, n2} from 0 to 1.5 s (beyond the 1 s deadline); a write at n0
/// at 10 ms, a read (R = 1) at n1 at 2 s.
fn partitioned(
    d: Dynamo,
) -> (
    H,
    Vec<Option<synod_protocols::replication::dynamo::DynamoState>>,
    u64,
) {
    let mut cfg = SimConfig::new(5, 3);
    cfg.network.latency = Latency::Constant(Duration::from_millis(5));
    cfg.until = Instant::from_secs(3);
    cfg.faults.partitions.push(Partition {
        cut: Cut::Groups(vec![
            vec![NodeId(0), NodeId(3), NodeId(4)],
            vec![NodeId(1), NodeId(2)],
        ]),
        from: Instant::ZERO,
        until: Instant::from_millis(1500),
    });
    let reqs = vec![
        (
            Instant::from_millis(10),
            NodeId(0),
            RegisterReq::Write {
                client: 1,
                value: 9,
            },
        ),
        (
            Instant::from_secs(2),
            NodeId(1),
            RegisterReq::Read { client: 2 },
        ),
    ];
    let out = Simulation::new(d, cfg)
        .unwrap()
        .with_workload(Scripted(reqs))
        .run();
    let handoffs = out
        .trace
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                synod_core::EventKind::Deliver {
                    msg: DynamoMsg::Handoff { .. },
                    ..
                }
            )
        })
        .count() as u64;
    (H::from_trace(&out.trace), out.states, handoffs)
}

#[test]
fn a_sloppy_quorum_stays_available_and_hands_off_after_the_heal() {
    let d = Dynamo::new(3, 1, 2)
        .with_sloppy(true)
        .with_read_repair(ReadRepair::Off);
    let (h, states, handoffs) = partitioned(d);
    // The write completes during the partition, on n0 and a fallback (n3 at the first retry).
    let (t, ret) = h.ops[0].completion.unwrap();
    assert_eq!(ret, RegisterRet::WriteOk);
    assert!(t < Instant::from_millis(500), "{t}");
    // After the heal the fallbacks hand the version to n1 and n2 and drop their hints.
    assert!(handoffs >= 2, "{handoffs} handoffs delivered");
    for (i, s) in states.iter().take(3).enumerate() {
        assert_eq!(s.as_ref().unwrap().version.value, Some(9), "n{i}");
    }
    for s in states.iter().flatten() {
        assert!(s.hints.is_empty(), "{:?}", s.hints);
    }
    // n1's own replica now answers the R = 1 read.
    assert_eq!(
        h.ops[1].completion.map(|(_, r)| r),
        Some(RegisterRet::ReadOk(Some(9)))
    );

    // A strict quorum gives up instead: the write is never answered, nothing is handed off,
    // and the read (long after the deadline, R = 1 at n1) returns the initial value: n0's
    // abandoned store never reached n1.
    let (h, states, handoffs) = partitioned(d.with_sloppy(false));
    assert_eq!(h.ops[0].completion, None);
    assert_eq!(handoffs, 0);
    assert_eq!(states[1].as_ref().unwrap().version.value, None);
    assert_eq!(
        h.ops[1].completion.map(|(_, r)| r),
        Some(RegisterRet::ReadOk(None))
    );
}
