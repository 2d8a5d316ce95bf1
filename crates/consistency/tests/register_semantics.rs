//! Lamport's register hierarchy (`checkers::register_semantics`) against hand-worked examples,
//! against the definitions written out by brute force on thousands of small random histories,
//! and (atomic = linearizable) against the linearizability checkers.

use synod_consistency::checkers::register_semantics::{
    check_recorded_register_semantics, check_register_semantics, Level, SemanticsError,
    SemanticsOptions, Source, Witness,
};
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
use synod_consistency::generate::{generate, GenSpec};
use synod_consistency::specs::{Register, RegisterOp, RegisterOp::*, RegisterRet, RegisterRet::*};
use synod_consistency::{brute_force_linearizable, check_linearizable, Budget, History, Operation};
use synod_core::Prng;

type H = History<RegisterOp<u64>, RegisterRet<u64>>;

fn w(client: u64, v: u64, call: u64, ret: u64) -> Operation<RegisterOp<u64>, RegisterRet<u64>> {
    Operation::complete(client, Write(v), call, ret, WriteOk)
}

fn r(
    client: u64,
    v: Option<u64>,
    call: u64,
    ret: u64,
) -> Operation<RegisterOp<u64>, RegisterRet<u64>> {
    Operation::complete(client, Read, call, ret, ReadOk(v))
}

fn judge(ops: Vec<Operation<RegisterOp<u64>, RegisterRet<u64>>>) -> (H, Level) {
    let h = History { ops };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    (h, s.level())
}

// ---- hand-worked examples -------------------------------------------------------------------

#[test]
fn a_read_after_two_writes_must_see_the_second() {
    // w(1) then w(2) then, with nothing overlapping, a read of 1: not even safe.
    let h = History {
        ops: vec![w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, Some(1), 40, 50)],
    };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    assert!(s.single_writer);
    assert!(!s.safe_ok && !s.regular_ok);
    assert_eq!(s.atomic_ok, Some(false));
    assert_eq!((s.safe_violations, s.regular_violations), (1, 1));
    let v = s.first_safe_violation.clone().unwrap();
    assert_eq!(
        (v.read, v.source, v.last_writes),
        (2, Source::Write(0), vec![1])
    );
    assert!(matches!(s.first_violation(), Some(Witness::NotSafe(_))));
    assert_eq!(s.level(), Level::None);
}

#[test]
fn an_overlapping_read_may_return_anything_if_safe_only() {
    // The read overlaps w(2) and returns the initial value: safe (anything goes under a
    // concurrent write), but neither w(1) (the last before it) nor w(2) (concurrent): not
    // regular. An unwritten value is likewise safe only.
    for v in [None, Some(77)] {
        let (_, level) = judge(vec![w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, v, 25, 35)]);
        assert_eq!(level, Level::Safe, "read of {v:?}");
    }
    // Returning w(1) or w(2) is regular, and alone it is atomic.
    for v in [1, 2] {
        let (_, level) = judge(vec![w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, Some(v), 25, 35)]);
        assert_eq!(level, Level::Atomic, "read of {v}");
    }
}

#[test]
fn new_old_inversion_is_regular_not_atomic() {
    // A long w(2); a read sees it, a later read sees the older w(1).
    let h = History {
        ops: vec![
            w(0, 1, 0, 5),
            w(0, 2, 10, 100),
            r(1, Some(2), 20, 30),
            r(2, Some(1), 40, 50),
            r(3, Some(1), 60, 70),
        ],
    };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    assert!(s.safe_ok && s.regular_ok);
    // (r2, r3) and (r2, r4): two pairs.
    assert_eq!(s.new_old_inversions, 2);
    assert_eq!(s.atomic_ok, Some(false));
    let inv = s.first_inversion.unwrap();
    assert_eq!((inv.first_read, inv.second_read), (2, 3));
    assert_eq!((inv.newer, inv.older), (Source::Write(1), Source::Write(0)));
    assert!(matches!(s.first_violation(), Some(Witness::Inversion(_))));
    assert!(!brute_force_linearizable(&Register::new(), &h));
}

#[test]
fn a_pending_write_is_concurrent_with_every_later_read() {
    let h = History {
        ops: vec![
            w(0, 1, 0, 5),
            Operation::pending(0, Write(2), 10),
            r(1, Some(2), 100, 110),
            r(2, Some(2), 200, 210),
        ],
    };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    assert!(s.single_writer);
    assert_eq!(s.level(), Level::Atomic);
    // A read of the pending write's value that finished before the write was called is not.
    let h = History {
        ops: vec![Operation::pending(0, Write(2), 10), r(1, Some(2), 0, 5)],
    };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    assert_eq!(s.level(), Level::None);
}

#[test]
fn two_writers_seen_in_opposite_orders_are_regular_without_inversion_but_not_atomic() {
    // w(1) and w(2) overlap; reader A sees 1 then 2, reader B sees 2 then 1, all reads
    // overlapping both writes. The real-time write order is unknown, so there is no inversion,
    // but no single order explains both readers.
    let h = History {
        ops: vec![
            w(0, 1, 0, 100),
            w(1, 2, 0, 100),
            r(2, Some(1), 10, 20),
            r(2, Some(2), 30, 40),
            r(3, Some(2), 10, 20),
            r(3, Some(1), 30, 40),
        ],
    };
    let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
    assert!(!s.single_writer);
    assert!(s.regular_ok);
    assert_eq!(s.new_old_inversions, 0);
    assert_eq!(s.atomic_ok, Some(false));
    assert_eq!(s.first_violation(), Some(Witness::NotLinearizable));
    assert!(!brute_force_linearizable(&Register::new(), &h));
}

#[test]
fn multi_writer_last_writes_are_the_maximal_ones() {
    // w(1) and w(2) overlap, both finish before the read, w(3) precedes both: the read may
    // return 1 or 2 (both last) but not 3 or the initial value.
    for (v, level) in [
        (Some(1), Level::Atomic),
        (Some(2), Level::Atomic),
        (Some(3), Level::None),
        (None, Level::None),
    ] {
        let (_, got) = judge(vec![
            w(9, 3, 0, 1),
            w(0, 1, 5, 20),
            w(1, 2, 10, 30),
            r(2, v, 40, 50),
        ]);
        assert_eq!(got, level, "read of {v:?}");
    }
}

#[test]
fn histories_without_unique_values_are_rejected() {
    let h = History {
        ops: vec![w(0, 1, 0, 1), w(1, 1, 2, 3)],
    };
    assert_eq!(
        check_register_semantics(&h, &SemanticsOptions::default()),
        Err(SemanticsError::DuplicateWrite {
            first: 0,
            second: 1
        })
    );
    let opts = SemanticsOptions {
        initial: Some(1),
        ..SemanticsOptions::default()
    };
    let h = History {
        ops: vec![w(0, 1, 0, 1)],
    };
    assert_eq!(
        check_register_semantics(&h, &opts),
        Err(SemanticsError::WriteOfInitial { op: 0 })
    );
    let h = History {
        ops: vec![w(0, 1, 5, 1)],
    };
    assert_eq!(
        check_register_semantics(&h, &SemanticsOptions::default()),
        Err(SemanticsError::ReturnBeforeCall { op: 0 })
    );
    let op = |f: &str| RecordedOp {
        process: 0,
        f: f.into(),
        key: None,
        value: Value::Nil,
        completion: Completion::Ok(Value::Nil),
        call: 0,
        ret: Some(1),
        call_nanos: None,
        ret_nanos: None,
        line: 1,
    };
    let rec = Recorded {
        ops: vec![op("read"), op("cas")],
        skipped_events: 0,
    };
    let err = check_recorded_register_semantics(&rec, &Value::Nil, &Budget::unlimited());
    assert_eq!(
        err,
        Err(SemanticsError::Unsupported {
            op: 1,
            f: "cas".into()
        })
    );
    assert!(err.unwrap_err().to_string().contains("reads and writes"));
}

// ---- the definitions, by brute force --------------------------------------------------------

type Op = Operation<RegisterOp<u64>, RegisterRet<u64>>;

#[derive(Debug, PartialEq, Eq)]
struct Brute {
    safe_violations: usize,
    regular_violations: usize,
    inversions: u64,
}

/// The definitions of the module documentation, quantifying over all operations.
fn brute(h: &H) -> Brute {
    let ops = &h.ops;
    let is_write = |o: &Op| matches!(o.op, Write(_));
    let read_value = |o: &Op| match &o.ret {
        Some((_, ReadOk(v))) if o.op == Read => Some(*v),
        _ => None,
    };
    // The write that wrote v, if any; None for the initial value.
    let src = |v: Option<u64>| -> Result<Option<usize>, ()> {
        match v {
            None => Ok(None),
            Some(v) => ops
                .iter()
                .position(|o| o.op == Write(v))
                .map(Some)
                .ok_or(()),
        }
    };
    let older = |a: Result<Option<usize>, ()>, b: Result<Option<usize>, ()>| match (a, b) {
        (Ok(None), Ok(Some(_))) => true,
        (Ok(Some(x)), Ok(Some(y))) => ops[x].precedes(&ops[y]),
        _ => false,
    };
    let mut out = Brute {
        safe_violations: 0,
        regular_violations: 0,
        inversions: 0,
    };
    for rd in ops.iter() {
        let Some(v) = read_value(rd) else { continue };
        let before: Vec<usize> = (0..ops.len())
            .filter(|&i| is_write(&ops[i]) && ops[i].precedes(rd))
            .collect();
        let last: Vec<usize> = before
            .iter()
            .copied()
            .filter(|&i| !before.iter().any(|&j| ops[i].precedes(&ops[j])))
            .collect();
        let conc: Vec<usize> = (0..ops.len())
            .filter(|&i| is_write(&ops[i]) && !ops[i].precedes(rd) && !rd.precedes(&ops[i]))
            .collect();
        let s = src(v);
        let from_last = match s {
            Ok(None) => before.is_empty(),
            Ok(Some(i)) => last.contains(&i),
            Err(()) => false,
        };
        let from_conc = matches!(s, Ok(Some(i)) if conc.contains(&i));
        if !(from_last || from_conc) {
            out.regular_violations += 1;
        }
        if conc.is_empty() && !from_last {
            out.safe_violations += 1;
        }
    }
    for r1 in ops.iter() {
        for r2 in ops.iter() {
            let (Some(v1), Some(v2)) = (read_value(r1), read_value(r2)) else {
                continue;
            };
            if r1.precedes(r2) && older(src(v2), src(v1)) {
                out.inversions += 1;
            }
        }
    }
    out
}

/// A small random history: unique written values, arbitrary read results (the initial value,
/// a written value, or an unwritten one), some operations pending; with `single_writer`, the
/// writes are one client's, one after the other. Times are drawn from a small range so that
/// equal times (concurrency at the boundary) occur.
fn small_history(prng: &mut Prng, single_writer: bool) -> H {
    let n = 1 + prng.below(8) as usize;
    let writes = prng.below(n as u64 + 1) as usize;
    let mut ops = Vec::new();
    let mut t = 0;
    for k in 0..writes {
        let (client, call) = if single_writer {
            (0, t + prng.below(6))
        } else {
            (prng.below(3), prng.below(30))
        };
        let ret = call + prng.below(12);
        t = ret + 1;
        let last = k + 1 == writes;
        if prng.below(8) == 0 && (last || !single_writer) {
            ops.push(Operation::pending(client, Write(k as u64 + 1), call));
        } else {
            ops.push(w(client, k as u64 + 1, call, ret));
        }
    }
    for _ in writes..n {
        let call = prng.below(40);
        let v = match prng.below(10) {
            0 | 1 => None,
            2 => Some(99),
            _ if writes > 0 => Some(1 + prng.below(writes as u64)),
            _ => None,
        };
        if prng.below(10) == 0 {
            ops.push(Operation::pending(3 + prng.below(3), Read, call));
        } else {
            ops.push(r(3 + prng.below(3), v, call, call + prng.below(12)));
        }
    }
    // Shuffle, so that indices do not follow time.
    for i in (1..ops.len()).rev() {
        ops.swap(i, prng.below(i as u64 + 1) as usize);
    }
    History { ops }
}

#[test]
fn the_checker_agrees_with_the_definitions_and_brute_force_linearizability() {
    let mut prng = Prng::new(0x5345_4d41);
    let (mut sw, mut levels) = (0, [0usize; 4]);
    for case in 0..6000 {
        let single = case % 2 == 0;
        let h = small_history(&mut prng, single);
        let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
        let b = brute(&h);
        assert_eq!(
            (
                s.safe_violations,
                s.regular_violations,
                s.new_old_inversions
            ),
            (b.safe_violations, b.regular_violations, b.inversions),
            "case {case}: {h:?}"
        );
        let lin = brute_force_linearizable(&Register::new(), &h);
        assert_eq!(s.atomic_ok, Some(lin), "case {case}: {h:?}");
        // The hierarchy: atomic => regular => safe.
        assert!(!lin || s.regular_ok, "case {case}");
        assert!(!s.regular_ok || s.safe_ok, "case {case}");
        if single {
            assert!(s.single_writer, "case {case}");
        }
        sw += usize::from(s.single_writer);
        levels[s.level() as usize] += 1;
        // Witnesses are genuine.
        if let Some(inv) = s.first_inversion {
            let (a, b) = (&h.ops[inv.first_read], &h.ops[inv.second_read]);
            assert!(a.precedes(b), "case {case}");
        }
        if let Some(v) = &s.first_regular_violation {
            assert_eq!(h.ops[v.read].op, Read);
        }
    }
    // Every level is exercised, in both kinds of history.
    assert!(levels.iter().all(|&c| c > 30), "{levels:?}");
    assert!(sw > 3000 && sw < 5500, "{sw}");
}

/// A single-writer run: the writer writes 1, 2, ... one after the other, readers read; every
/// operation takes effect at a random instant between its call and return, and each read
/// returns the register's value at its instant (linearizable by construction). Then, in half
/// the histories, some reads are changed to return another value a regular register could
/// return (the last write before it or a concurrent one), which often makes a new/old
/// inversion.
fn executed_single_writer(prng: &mut Prng, readers: u64, ops: usize) -> H {
    let mut free = vec![0u64; readers as usize + 1];
    let mut timed: Vec<(Op, u64)> = Vec::new();
    let mut next = 1;
    for _ in 0..ops {
        let c = prng.below(free.len() as u64) as usize;
        let call = free[c] + prng.below(10);
        let point = call + prng.below(20);
        let ret = point + prng.below(20);
        free[c] = ret + 1;
        let op = if c == 0 {
            next += 1;
            w(0, next - 1, call, ret)
        } else {
            r(c as u64, None, call, ret)
        };
        timed.push((op, point));
    }
    let mut order: Vec<usize> = (0..timed.len()).collect();
    order.sort_by_key(|&i| (timed[i].1, i));
    let mut value = None;
    for i in order {
        match timed[i].0.op {
            Write(v) => value = Some(v),
            Read => timed[i].0.ret.as_mut().unwrap().1 = ReadOk(value),
        }
    }
    let mut h = History {
        ops: timed.into_iter().map(|(o, _)| o).collect(),
    };
    if prng.below(2) == 0 {
        let writes: Vec<Op> = h.ops.iter().filter(|o| o.op != Read).cloned().collect();
        for i in 0..h.ops.len() {
            if h.ops[i].op != Read || prng.below(2) != 0 {
                continue;
            }
            let rd = h.ops[i].clone();
            let mut allowed: Vec<Option<u64>> = Vec::new();
            let before: Vec<&Op> = writes.iter().filter(|x| x.precedes(&rd)).collect();
            match before.last() {
                Some(Operation { op: Write(v), .. }) => allowed.push(Some(*v)),
                _ => allowed.push(None),
            }
            for x in &writes {
                if !x.precedes(&rd) && !rd.precedes(x) {
                    if let Write(v) = x.op {
                        allowed.push(Some(v));
                    }
                }
            }
            let pick = allowed[prng.below(allowed.len() as u64) as usize];
            h.ops[i].ret.as_mut().unwrap().1 = ReadOk(pick);
        }
    }
    h
}

#[test]
fn single_writer_atomic_is_linearizable() {
    let mut prng = Prng::new(0x4c41_4d50);
    let (mut atomic, mut inverted) = (0, 0);
    for case in 0..600 {
        let h = executed_single_writer(&mut prng, 3, 20 + (case % 40));
        let s = check_register_semantics(&h, &SemanticsOptions::default()).unwrap();
        assert!(s.single_writer && s.regular_ok, "case {case}");
        let lin = check_linearizable(&Register::new(), &h, Budget::unlimited()).holds();
        assert_eq!(s.atomic_ok, lin, "case {case}: {h:?}");
        atomic += usize::from(s.atomic_ok == Some(true));
        inverted += usize::from(s.new_old_inversions > 0);
    }
    // Both outcomes occur often: the equivalence is tested both ways.
    assert!(
        atomic > 200 && inverted > 100,
        "{atomic} atomic, {inverted} inverted"
    );
}

#[test]
fn generated_multi_writer_histories_through_the_recorded_path() {
    // The generator's histories are linearizable unless a stale read is injected, which no
    // register can return: regular fails (the read has a later preceding write), atomic too.
    for seed in 0..200 {
        let stale = seed % 2 == 1;
        let spec = GenSpec {
            cas_percent: 0,
            info_permille: 30,
            stale_read: stale,
            ..GenSpec::register(40, 4, seed)
        };
        let rec = generate(&spec);
        let s = check_recorded_register_semantics(&rec, &Value::Nil, &Budget::unlimited()).unwrap();
        if stale {
            assert!(!s.regular_ok, "seed {seed}");
            assert_eq!(s.atomic_ok, Some(false), "seed {seed}");
        } else {
            assert_eq!(s.level(), Level::Atomic, "seed {seed}");
        }
    }
}
