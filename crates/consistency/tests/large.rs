//! Scale: 10 clients, 1,000 overlapping operations on a correct atomic register are judged
//! linearizable; the same history with one stale read is not.

use synod_consistency::specs::{Register, RegisterOp, RegisterRet};
use synod_consistency::{
    check_linearizable_with_stats, check_sequential, Budget, History, Operation, Outcome,
};
use synod_core::Prng;

type H = History<RegisterOp<u64>, RegisterRet<u64>>;

/// Simulates `clients` clients doing `ops` operations in total on an atomic register: each
/// operation takes effect at a random instant between its call and return; writes write
/// unique values. Up to `clients` operations are in flight at once.
fn atomic_register_history(seed: u64, clients: u64, ops: u64) -> H {
    atomic_register_history_with_crashes(seed, clients, ops, 0)
}

/// As [`atomic_register_history`], but the first `crashes` clients crash early, at a random
/// operation among their first ten: it never returns, and takes effect only half the time.
fn atomic_register_history_with_crashes(seed: u64, clients: u64, ops: u64, crashes: u64) -> H {
    let mut prng = Prng::new(seed);
    let crash_at: Vec<u64> = (0..clients)
        .map(|c| {
            if c < crashes {
                prng.below(10)
            } else {
                u64::MAX
            }
        })
        .collect();
    // (call, effect, ret, client, is_write, returns, takes_effect)
    let mut timed = Vec::new();
    let mut clock = vec![0u64; clients as usize];
    let mut done = vec![0u64; clients as usize];
    let mut k = 0u64;
    while (timed.len() as u64) < ops {
        let c = (k % clients) as usize;
        k += 1;
        if done[c] > crash_at[c] {
            continue; // crashed
        }
        let call = clock[c] + prng.below(20);
        let effect = call + prng.below(100);
        let ret = effect + prng.below(100);
        clock[c] = ret + 1;
        let crashing = done[c] == crash_at[c];
        let takes_effect = !crashing || prng.below(2) == 0;
        done[c] += 1;
        timed.push((
            call,
            effect,
            ret,
            c as u64,
            prng.below(2) == 0,
            !crashing,
            takes_effect,
        ));
    }
    let mut by_effect: Vec<usize> = (0..timed.len()).collect();
    by_effect.sort_by_key(|&i| (timed[i].1, i));
    let mut value: Option<u64> = None;
    let mut h = H::new();
    // Placeholders, all overwritten below.
    h.ops
        .resize(timed.len(), Operation::pending(0, RegisterOp::Read, 0));
    for i in by_effect {
        let (call, _, ret, client, is_write, returns, takes_effect) = timed[i];
        let (op, result) = if is_write {
            if takes_effect {
                value = Some(i as u64);
            }
            (RegisterOp::Write(i as u64), RegisterRet::WriteOk)
        } else {
            (RegisterOp::Read, RegisterRet::ReadOk(value))
        };
        h.ops[i] = Operation {
            client,
            op,
            call,
            ret: returns.then_some((ret, result)),
        };
    }
    h
}

/// The largest number of operations in flight at one time.
fn max_concurrency(h: &H) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for o in &h.ops {
        edges.push((o.call, 1));
        edges.push((o.ret_time().unwrap_or(u64::MAX), -1));
    }
    edges.sort_by_key(|&(t, d)| (t, -d));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        max = max.max(now);
    }
    max as usize
}

/// A read in the middle changed to return a value overwritten before its call: a write `old`
/// returned before another write `newer` was called, which returned before the read's call.
fn corrupt_one_read(h: &H) -> (H, usize) {
    let ret = |i: usize| h.ops[i].ret_time().unwrap_or(u64::MAX);
    let writes: Vec<usize> = (0..h.len())
        .filter(|&i| matches!(h.ops[i].op, RegisterOp::Write(_)) && h.ops[i].is_complete())
        .collect();
    let read = (h.len() / 2..h.len())
        .find(|&i| h.ops[i].op == RegisterOp::Read && h.ops[i].is_complete())
        .expect("a read");
    let call = h.ops[read].call;
    let newer = *writes
        .iter()
        .filter(|&&w| ret(w) < call)
        .max_by_key(|&&w| ret(w))
        .expect("a write before the read");
    let old = *writes
        .iter()
        .filter(|&&w| ret(w) < h.ops[newer].call)
        .max_by_key(|&&w| ret(w))
        .expect("a write before that");
    let mut bad = h.clone();
    bad.ops[read].ret = Some((ret(read), RegisterRet::ReadOk(Some(old as u64))));
    (bad, read)
}

#[test]
fn thousand_operation_register_history() {
    let h = atomic_register_history(7, 10, 1000);
    let concurrency = max_concurrency(&h);
    assert!(concurrency >= 8, "concurrency {concurrency}");

    let (outcome, stats) = check_linearizable_with_stats(&Register::new(), &h, Budget::unlimited());
    eprintln!("correct: concurrency {concurrency}, {stats:?}");
    match outcome {
        Outcome::Linearizable { order } => assert_eq!(order.len(), 1000),
        other => panic!("{other:?}"),
    }
    assert_eq!(stats.partitions, 1);

    let (bad, read) = corrupt_one_read(&h);
    let (outcome, stats) =
        check_linearizable_with_stats(&Register::new(), &bad, Budget::unlimited());
    eprintln!("corrupted read {read}: {stats:?}");
    match outcome {
        Outcome::NotLinearizable {
            longest_prefix,
            culprits,
        } => {
            eprintln!(
                "longest prefix {} ops, culprits {culprits:?}",
                longest_prefix.len()
            );
            assert!(
                culprits.contains(&read),
                "culprits {culprits:?}, read {read}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn several_seeds_and_sequential_consistency() {
    for seed in 0..5 {
        let h = atomic_register_history(seed, 10, 1000);
        let (outcome, stats) =
            check_linearizable_with_stats(&Register::new(), &h, Budget::unlimited());
        assert!(outcome.is_linearizable(), "seed {seed}: {outcome:?}");
        let (bad, _) = corrupt_one_read(&h);
        let (outcome, bad_stats) =
            check_linearizable_with_stats(&Register::new(), &bad, Budget::unlimited());
        assert_eq!(outcome.holds(), Some(false), "seed {seed}");
        eprintln!("seed {seed}: correct {stats:?}; corrupted {bad_stats:?}");
    }
    // Clients that crash early leave operations that never return, for the rest of the run.
    for seed in 0..5 {
        let h = atomic_register_history_with_crashes(seed, 10, 1000, 3);
        assert_eq!(h.ops.iter().filter(|o| !o.is_complete()).count(), 3);
        let (outcome, stats) =
            check_linearizable_with_stats(&Register::new(), &h, Budget::unlimited());
        assert!(outcome.is_linearizable(), "seed {seed}: {outcome:?}");
        let (bad, _) = corrupt_one_read(&h);
        let (outcome, bad_stats) =
            check_linearizable_with_stats(&Register::new(), &bad, Budget::unlimited());
        assert_eq!(outcome.holds(), Some(false), "seed {seed}");
        eprintln!("crashes, seed {seed}: correct {stats:?}; corrupted {bad_stats:?}");
    }
    // Sequential consistency of a linearizable history: the real-time-first order finds a
    // witness without search.
    let h = atomic_register_history(11, 4, 200);
    let outcome = check_sequential(&Register::new(), &h, Budget::steps(1_000_000));
    assert!(outcome.is_linearizable(), "{outcome:?}");
}

/// Cost against concurrency, for the record (run with `--ignored --nocapture`).
#[test]
#[ignore = "a probe of cost against concurrency; run with --ignored --nocapture"]
fn scale_probe() {
    for (clients, ops, crashes) in [
        (4u64, 50_000u64, 0u64),
        (10, 10_000, 0),
        (10, 10_000, 3),
        (16, 2000, 0),
        (20, 2000, 0),
    ] {
        let h = atomic_register_history_with_crashes(3, clients, ops, crashes);
        let budget = || Budget::steps(50_000_000);
        let (outcome, stats) = check_linearizable_with_stats(&Register::new(), &h, budget());
        let (bad, _) = corrupt_one_read(&h);
        let (bad_outcome, bad_stats) =
            check_linearizable_with_stats(&Register::new(), &bad, budget());
        eprintln!(
            "{clients} clients x {ops} ops, {crashes} crashes (concurrency {}): correct {:?} {stats:?}; corrupted {:?} {bad_stats:?}",
            max_concurrency(&h),
            outcome.holds(),
            bad_outcome.holds()
        );
    }
}
