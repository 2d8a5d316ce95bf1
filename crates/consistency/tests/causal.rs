//! The causal-consistency checker (`checkers::causal`: CC, CM, CCv by the bad patterns of
//! Bouajjani et al., POPL 2017) against hand-worked examples (one per bad pattern, and the
//! separating examples between the levels), against the definitions written out by brute force
//! (enumerating serializations) on hundreds of small random histories, against the
//! sequential-consistency checker (sequential ⇒ CM and CCv ⇒ CC) and on the seeded
//! linearizable histories of `generate` (linearizable ⇒ every causal level).

use synod_consistency::checkers::causal::{
    check_causal, BadPattern, CausalError, CausalLevel, CausalOptions, CausalReport,
};
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
use synod_consistency::generate::{generate, GenSpec};
use synod_consistency::models::{check_recorded, CheckOptions, Consistency, Model};
use synod_consistency::Budget;
use synod_core::Prng;

// ---- building histories ---------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Ok,
    Fail,
    Info,
}

#[derive(Clone, Debug)]
struct Op {
    process: u64,
    write: bool,
    /// "" for no key (a single register).
    key: &'static str,
    /// A write's value, or what a read returned (`None`: nil).
    value: Option<i64>,
    end: End,
}

fn w(process: u64, key: &'static str, value: i64) -> Op {
    Op {
        process,
        write: true,
        key,
        value: Some(value),
        end: End::Ok,
    }
}

fn r(process: u64, key: &'static str, value: Option<i64>) -> Op {
    Op {
        process,
        write: false,
        key,
        value,
        end: End::Ok,
    }
}

impl Op {
    fn ending(mut self, end: End) -> Op {
        self.end = end;
        self
    }
}

/// The operations one after the other (op `i` called at `2i`, returning at `2i + 1`).
fn history(ops: &[Op]) -> Recorded {
    let value = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
    Recorded {
        ops: ops
            .iter()
            .enumerate()
            .map(|(i, o)| {
                // A write's completion echoes its value; a read's is what it returned.
                let result = value(o.value);
                RecordedOp {
                    process: o.process,
                    f: if o.write { "write" } else { "read" }.into(),
                    key: (!o.key.is_empty()).then(|| Value::Keyword(o.key.into())),
                    value: if o.write { value(o.value) } else { Value::Nil },
                    completion: match o.end {
                        End::Ok => Completion::Ok(result),
                        End::Fail => Completion::Fail(Value::Nil),
                        End::Info => Completion::Unknown(Value::Nil),
                    },
                    call: 2 * i as u64,
                    ret: (o.end != End::Info).then_some(2 * i as u64 + 1),
                    call_nanos: None,
                    ret_nanos: None,
                    line: i + 1,
                }
            })
            .collect(),
        skipped_events: 0,
    }
}

fn check(h: &Recorded) -> CausalReport {
    let report = check_causal(h, &CausalOptions::default()).expect("a differentiated history");
    // Every report is also checked against the definitions.
    let brute = brute_force(h, &Value::Nil);
    assert_eq!(
        levels(&report),
        brute,
        "pattern checker vs brute force on {h:#?}\n{report:#?}"
    );
    report
}

fn levels(r: &CausalReport) -> [bool; 3] {
    CausalLevel::ALL.map(|l| r.holds(l))
}

/// Sequential consistency of a key-value history, by the crate's search.
fn sequential(h: &Recorded) -> bool {
    let options = CheckOptions {
        model: Model::Kv,
        consistency: Consistency::Sequential,
        budget: Budget::unlimited(),
        threads: 1,
    };
    check_recorded(h, &options).unwrap().valid.expect("decided")
}

fn pattern(r: &CausalReport, level: CausalLevel) -> Option<BadPattern> {
    r.verdict(level).violation.as_ref().map(|v| v.pattern)
}

// ---- the definitions, by brute force --------------------------------------------------------

/// CC, CM, CCv by their definitions (Bouajjani et al. §3, with the least causal order
/// `CO = (po ∪ rf)⁺`), enumerating serializations. Writes of unknown outcome may or may not
/// have happened: every choice is tried. For tiny histories only.
fn brute_force(h: &Recorded, initial: &Value) -> [bool; 3] {
    let unknown: Vec<usize> = (0..h.ops.len())
        .filter(|&i| h.ops[i].f == "write" && h.ops[i].is_unknown())
        .collect();
    assert!(
        unknown.len() <= 4,
        "too many unknown writes for brute force"
    );
    let mut result = [false; 3];
    for mask in 0..1u32 << unknown.len() {
        let included = |i: usize| {
            let o = &h.ops[i];
            match (o.f.as_str(), &o.completion) {
                ("write", Completion::Ok(_)) => true,
                ("write", Completion::Unknown(_)) => {
                    mask >> unknown.iter().position(|&u| u == i).unwrap() & 1 == 1
                }
                ("read", Completion::Ok(_)) => true,
                _ => false,
            }
        };
        let ops: Vec<usize> = (0..h.ops.len()).filter(|&i| included(i)).collect();
        if let Some(v) = brute_force_with(h, &ops, initial) {
            for k in 0..3 {
                result[k] |= v[k];
            }
        }
    }
    result
}

/// The three verdicts for the operations `ops` of `h` (all taking place); `None` if some read
/// cannot be explained at all (it returned a value none of `ops` wrote).
fn brute_force_with(h: &Recorded, ops: &[usize], initial: &Value) -> Option<[bool; 3]> {
    let n = ops.len();
    let o = |a: usize| &h.ops[ops[a]];
    let is_write = |a: usize| o(a).f == "write";
    let returned = |a: usize| match &o(a).completion {
        Completion::Ok(v) => v.clone(),
        _ => unreachable!(),
    };
    // Read-from: the write of the same key and value, or None for the initial value.
    let mut source: Vec<Option<usize>> = vec![None; n];
    for a in (0..n).filter(|&a| !is_write(a)) {
        let v = returned(a);
        if v != *initial {
            source[a] =
                Some((0..n).find(|&b| is_write(b) && o(b).key == o(a).key && o(b).value == v)?);
        }
    }
    // CO = (po ∪ rf)+ by Floyd–Warshall.
    let mut co: Vec<Vec<bool>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    (o(a).process == o(b).process && o(a).call < o(b).call) || source[b] == Some(a)
                })
                .collect()
        })
        .collect();
    #[allow(clippy::needless_range_loop)] // Floyd–Warshall reads co[k] while writing co[a]
    for k in 0..n {
        for a in 0..n {
            for b in 0..n {
                co[a][b] |= co[a][k] && co[k][b];
            }
        }
    }
    if (0..n).any(|a| co[a][a]) {
        return Some([false; 3]);
    }
    // The last write of a's key among `seq`, as a's source would be.
    let last_write = |seq: &[usize], a: usize| {
        seq.iter()
            .rev()
            .copied()
            .find(|&b| is_write(b) && o(b).key == o(a).key)
    };
    // CC: each read on its own, over serializations of its causal past.
    let cc = (0..n).filter(|&a| !is_write(a)).all(|a| {
        let past: Vec<usize> = (0..n).filter(|&b| co[b][a]).collect();
        extensions(&past, &co, &mut |seq| last_write(seq, a) == source[a])
    });
    // CM: each process, one serialization of all writes and its own operations, every one of
    // its reads legal where it stands.
    let mut processes: Vec<u64> = (0..n).map(|a| o(a).process).collect();
    processes.sort_unstable();
    processes.dedup();
    let cm = processes.iter().all(|&p| {
        let view: Vec<usize> = (0..n)
            .filter(|&a| is_write(a) || o(a).process == p)
            .collect();
        extensions(&view, &co, &mut |seq| {
            (0..seq.len())
                .filter(|&i| !is_write(seq[i]))
                .all(|i| last_write(&seq[..i], seq[i]) == source[seq[i]])
        })
    });
    // CCv: one arbitration order of everything; each read returns the arb-last write of its
    // key in its causal past. Only the order of the writes matters, and every linear
    // extension of CO on the writes extends to one on all operations: enumerate the writes'.
    let all: Vec<usize> = (0..n).filter(|&a| is_write(a)).collect();
    let ccv = extensions(&all, &co, &mut |seq| {
        (0..n).filter(|&a| !is_write(a)).all(|a| {
            let visible: Vec<usize> = seq.iter().copied().filter(|&b| co[b][a]).collect();
            last_write(&visible, a) == source[a]
        })
    });
    Some([cc, cm, ccv])
}

/// True if some linear extension of `co` over `items` satisfies `accept`.
fn extensions(items: &[usize], co: &[Vec<bool>], accept: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    fn go(
        left: &mut Vec<usize>,
        seq: &mut Vec<usize>,
        co: &[Vec<bool>],
        accept: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        if left.is_empty() {
            return accept(seq);
        }
        for i in 0..left.len() {
            let a = left[i];
            if left.iter().any(|&b| b != a && co[b][a]) {
                continue;
            }
            left.remove(i);
            seq.push(a);
            let found = go(left, seq, co, accept);
            seq.pop();
            left.insert(i, a);
            if found {
                return true;
            }
        }
        false
    }
    go(&mut items.to_vec(), &mut Vec::new(), co, accept)
}

// ---- one hand-worked history per bad pattern ------------------------------------------------

#[test]
fn write_co_init_read_the_classic() {
    // p0: w(x,1) w(y,1); p1: r(y)=1 r(x)=nil. w(x,1) po w(y,1) rf r(y) po r(x).
    let h = history(&[
        w(0, "x", 1),
        w(0, "y", 1),
        r(1, "y", Some(1)),
        r(1, "x", None),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [false; 3]);
    let v = rep.causal.violation.clone().unwrap();
    assert_eq!(v.pattern, BadPattern::WriteCoInitRead);
    assert_eq!(v.ops, vec![0, 1, 2, 3]);
    assert!(v.explanation.contains("→po") && v.explanation.contains("→rf"));
    // A CC pattern breaks every level, with the same witness.
    assert_eq!(rep.causal_memory.violation, Some(v.clone()));
    assert_eq!(rep.causal_convergence.violation, Some(v));
    assert_eq!(rep.counts.write_co_init_read, 1);
    assert_eq!(rep.violations().len(), 1);
    // Reading x first is fine: it is allowed to miss the write.
    let h = history(&[
        w(0, "x", 1),
        w(0, "y", 1),
        r(1, "x", None),
        r(1, "y", Some(1)),
    ]);
    assert_eq!(levels(&check(&h)), [true; 3]);
}

#[test]
fn thin_air_reads() {
    let h = history(&[w(0, "x", 1), r(1, "x", Some(5))]);
    let rep = check(&h);
    assert_eq!(
        pattern(&rep, CausalLevel::Causal),
        Some(BadPattern::ThinAirRead)
    );
    assert_eq!(rep.causal.violation.as_ref().unwrap().ops, vec![1]);
    assert_eq!(rep.counts.thin_air_read, 1);
    // The value of a failed write was never written either.
    let h = history(&[w(0, "x", 5).ending(End::Fail), r(1, "x", Some(5))]);
    let rep = check(&h);
    let v = rep.causal.violation.clone().unwrap();
    assert_eq!(v.pattern, BadPattern::ThinAirRead);
    assert!(v.explanation.contains("only op 0, which failed"), "{v}");
    assert_eq!((rep.writes, rep.reads, rep.left_out), (0, 1, 1));
    // Keys are independent registers: x's value is not y's.
    let h = history(&[w(0, "x", 5), r(1, "y", Some(5))]);
    assert_eq!(
        pattern(&check(&h), CausalLevel::Causal),
        Some(BadPattern::ThinAirRead)
    );
}

#[test]
fn cyclic_co_a_read_from_the_future() {
    // p0: r(x)=1 w(y,1); p1: r(y)=1 w(x,1): each read sees a write that follows it causally.
    let h = history(&[
        r(0, "x", Some(1)),
        w(0, "y", 1),
        r(1, "y", Some(1)),
        w(1, "x", 1),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [false; 3]);
    let v = rep.causal.violation.clone().unwrap();
    assert_eq!(v.pattern, BadPattern::CyclicCo);
    assert_eq!(v.ops, vec![0, 1, 2, 3, 0]);
    assert_eq!(rep.counts.cyclic_co, 4);
    // CF and HB are not looked at on a cyclic causal order.
    assert_eq!((rep.counts.cyclic_cf, rep.counts.cyclic_hb), (0, 0));
    // Even one process reading its own later write.
    let h = history(&[r(0, "x", Some(1)), w(0, "x", 1)]);
    assert_eq!(
        pattern(&check(&h), CausalLevel::Causal),
        Some(BadPattern::CyclicCo)
    );
}

#[test]
fn write_co_read_an_overwritten_value() {
    // p0: w(x,1) w(x,2); p1: r(x)=2 r(x)=1: w(x,1) po w(x,2) rf r(x)=2 po r(x)=1.
    let h = history(&[
        w(0, "x", 1),
        w(0, "x", 2),
        r(1, "x", Some(2)),
        r(1, "x", Some(1)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [false; 3]);
    let v = rep.causal.violation.clone().unwrap();
    assert_eq!(v.pattern, BadPattern::WriteCoRead);
    assert_eq!(v.ops, vec![0, 1, 3]);
    assert_eq!(rep.counts.write_co_read, 1);
    // The same through another key: p1 learns of w(x,2) by reading y.
    let h = history(&[
        w(0, "x", 1),
        w(0, "x", 2),
        w(0, "y", 1),
        r(1, "y", Some(1)),
        r(1, "x", Some(1)),
    ]);
    let rep = check(&h);
    assert_eq!(
        pattern(&rep, CausalLevel::Causal),
        Some(BadPattern::WriteCoRead)
    );
    assert_eq!(rep.causal.violation.unwrap().ops, vec![0, 1, 4]);
}

#[test]
fn cyclic_cf_causal_memory_but_not_convergence() {
    // Two writers each read the other's write after their own: CC and CM (each process has
    // its own view), but no single arbitration order (CCv), and not sequential.
    let h = history(&[
        w(0, "", 1),
        w(1, "", 2),
        r(0, "", Some(2)),
        r(1, "", Some(1)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true, true, false]);
    let v = rep.causal_convergence.violation.clone().unwrap();
    assert_eq!(v.pattern, BadPattern::CyclicCf);
    assert_eq!(v.ops.first(), v.ops.last());
    assert!(v.ops.contains(&0) && v.ops.contains(&1));
    assert_eq!(rep.counts.cyclic_cf, 2);
    let register = CheckOptions {
        model: Model::Register,
        consistency: Consistency::Sequential,
        budget: Budget::unlimited(),
        threads: 1,
    };
    assert_eq!(check_recorded(&h, &register).unwrap().valid, Some(false));
}

#[test]
fn cyclic_hb_one_reader_flip_flops() {
    // p2 reads 1, then 2, then 1 again from two concurrent writers: each read alone is
    // explained (CC), but p2 would need w1 before w2 and w2 before w1 (not CM), and so would
    // a global arbitration order (not CCv).
    let h = history(&[
        w(0, "x", 1),
        w(1, "x", 2),
        r(2, "x", Some(1)),
        r(2, "x", Some(2)),
        r(2, "x", Some(1)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true, false, false]);
    let v = rep.causal_memory.violation.clone().unwrap();
    assert_eq!((v.pattern, v.process), (BadPattern::CyclicHb, Some(2)));
    assert_eq!(v.ops.first(), v.ops.last());
    assert!(v.ops.contains(&0) && v.ops.contains(&1));
    assert_eq!(rep.counts.cyclic_hb, 1);
    assert_eq!(
        pattern(&rep, CausalLevel::CausalConvergence),
        Some(BadPattern::CyclicCf)
    );
    assert_eq!(rep.violations().len(), 2);
}

#[test]
fn write_hb_init_read_convergence_but_not_causal_memory() {
    // p0: w(x,1) w(y,1) w(u,1); p1: w(y,2) w(z,1); p2: r(z)=1 r(x)=nil r(u)=1 r(y)=2.
    // p2's last read returns y=2 with w(y,1) in its causal past (through u), so in p2's view
    // w(y,1) < w(y,2) < w(z,1) < r(z) < r(x), and w(x,1) < w(y,1): p2 read x too early.
    // Under CCv the arbitration w(x,1) w(y,1) w(u,1) w(y,2) w(z,1) explains every read from
    // its causal past (r(x)'s causal past has no write of x).
    let h = history(&[
        w(0, "x", 1),
        w(0, "y", 1),
        w(0, "u", 1),
        w(1, "y", 2),
        w(1, "z", 1),
        r(2, "z", Some(1)),
        r(2, "x", None),
        r(2, "u", Some(1)),
        r(2, "y", Some(2)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true, false, true]);
    let v = rep.causal_memory.violation.clone().unwrap();
    assert_eq!(
        (v.pattern, v.process),
        (BadPattern::WriteHbInitRead, Some(2))
    );
    assert_eq!(v.ops, vec![0, 1, 3, 4, 5, 6]);
    assert!(v.explanation.contains("→(op 8)"), "{v}");
    assert_eq!(rep.counts.write_hb_init_read, 1);
    assert!(!sequential(&h));
}

#[test]
fn write_hb_init_read_with_two_keys() {
    // p0: w(x,1) w(y,1) w(x,2); p1: w(y,2); p2: r(y)=2 r(x)=nil r(x)=2 r(y)=2.
    // p2's last read returns y=2 with w(y,1) in its causal past (through x=2), so p2's view
    // has w(x,1) < w(y,1) < w(y,2) < its first read < its read of x = nil. No conflict cycle:
    // the arbitration w(x,1) w(y,1) w(x,2) w(y,2) explains every read from its causal past.
    let h = history(&[
        w(0, "x", 1),
        w(0, "y", 1),
        w(0, "x", 2),
        w(1, "y", 2),
        r(2, "y", Some(2)),
        r(2, "x", None),
        r(2, "x", Some(2)),
        r(2, "y", Some(2)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true, false, true]);
    let v = rep.causal_memory.violation.unwrap();
    assert_eq!(
        (v.pattern, v.process),
        (BadPattern::WriteHbInitRead, Some(2))
    );
    assert_eq!(v.ops, vec![0, 1, 3, 4, 5]);
    // Without the last read nothing forces w(y,1) before w(y,2) in p2's view.
    let h = Recorded {
        ops: h.ops[..7].to_vec(),
        skipped_events: 0,
    };
    assert_eq!(levels(&check(&h)), [true; 3]);
}

// ---- causal but not sequential --------------------------------------------------------------

#[test]
fn store_buffering_is_causal_but_not_sequential() {
    // p0: w(x,1) r(y)=nil; p1: w(y,1) r(x)=nil (Dekker): no causal path between the writes and
    // the other process's read, so every causal level holds; no single order explains both.
    let h = history(&[w(0, "x", 1), w(1, "y", 1), r(0, "y", None), r(1, "x", None)]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true; 3]);
    assert!(!sequential(&h));
    // Swap one read's value and both become explainable in one order.
    let h = history(&[
        w(0, "x", 1),
        w(1, "y", 1),
        r(0, "y", Some(1)),
        r(1, "x", None),
    ]);
    assert_eq!(levels(&check(&h)), [true; 3]);
    assert!(sequential(&h));
}

#[test]
fn independent_readers_may_disagree_on_concurrent_writes() {
    // Two readers see two concurrent writes in opposite orders: causal memory allows it (no
    // causal order between the writes), CCv and sequential consistency do not.
    let h = history(&[
        w(0, "x", 1),
        w(1, "x", 2),
        r(2, "x", Some(1)),
        r(2, "x", Some(2)),
        r(3, "x", Some(2)),
        r(3, "x", Some(1)),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true, true, false]);
    assert!(!sequential(&h));
}

// ---- inputs -----------------------------------------------------------------------------------

#[test]
fn unknown_writes_happen_when_read() {
    // A write that timed out but was read took place; one nobody read is left out.
    let h = history(&[w(0, "x", 1).ending(End::Info), r(1, "x", Some(1))]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true; 3]);
    assert_eq!((rep.writes, rep.reads, rep.left_out), (1, 1, 0));
    let h = history(&[
        w(0, "x", 1).ending(End::Info),
        r(1, "x", None),
        r(1, "x", None).ending(End::Info),
        r(1, "x", None).ending(End::Fail),
    ]);
    let rep = check(&h);
    assert_eq!(levels(&rep), [true; 3]);
    assert_eq!((rep.writes, rep.reads, rep.left_out), (0, 1, 3));
    // Read, it takes part in the causal order like any write.
    let h = history(&[
        w(0, "x", 1).ending(End::Info),
        w(0, "x", 2),
        r(1, "x", Some(2)),
        r(1, "x", Some(1)),
    ]);
    assert_eq!(
        pattern(&check(&h), CausalLevel::Causal),
        Some(BadPattern::WriteCoRead)
    );
}

#[test]
fn histories_that_are_not_differentiated_are_rejected() {
    let h = history(&[w(0, "x", 1), w(1, "x", 1), r(2, "x", Some(1))]);
    assert_eq!(
        check_causal(&h, &CausalOptions::default()),
        Err(CausalError::DuplicateWrite {
            first: 0,
            second: 1
        })
    );
    let e = check_causal(&h, &CausalOptions::default()).unwrap_err();
    assert!(e.to_string().contains("values must be unique per key"));
    // An unknown write counts (it may have happened); a failed one does not.
    let h = history(&[w(0, "x", 1), w(1, "x", 1).ending(End::Info)]);
    assert!(check_causal(&h, &CausalOptions::default()).is_err());
    let h = history(&[w(0, "x", 1), w(1, "x", 1).ending(End::Fail)]);
    assert!(check_causal(&h, &CausalOptions::default()).is_ok());
    // The same value on two keys is fine.
    let h = history(&[w(0, "x", 1), w(1, "y", 1), r(2, "y", Some(1))]);
    assert_eq!(levels(&check(&h)), [true; 3]);
    // Writing the initial value makes reads of it ambiguous.
    let options = CausalOptions {
        initial: Value::Int(0),
    };
    let h = history(&[w(0, "x", 0)]);
    assert_eq!(
        check_causal(&h, &options),
        Err(CausalError::WriteOfInitial { op: 0 })
    );
    // With initial 0, a read of 0 is a read of the initial value, and nil is thin air.
    let h = history(&[w(0, "x", 1), r(0, "x", Some(0))]);
    let rep = check_causal(&h, &options).unwrap();
    assert_eq!(
        pattern(&rep, CausalLevel::Causal),
        Some(BadPattern::WriteCoInitRead)
    );
    let h = history(&[r(0, "x", None)]);
    let rep = check_causal(&h, &options).unwrap();
    assert_eq!(
        pattern(&rep, CausalLevel::Causal),
        Some(BadPattern::ThinAirRead)
    );
    // Nothing to judge is consistent.
    let rep = check(&Recorded::default());
    assert_eq!((levels(&rep), rep.ops, rep.keys), ([true; 3], 0, 0));
    let h = history(&[
        w(0, "x", 1).ending(End::Fail),
        r(1, "x", None).ending(End::Info),
    ]);
    assert_eq!((levels(&check(&h)), check(&h).left_out), ([true; 3], 2));
    // Only reads and writes.
    let mut h = history(&[w(0, "x", 1)]);
    h.ops[0].f = "cas".into();
    assert_eq!(
        check_causal(&h, &CausalOptions::default()),
        Err(CausalError::Unsupported {
            op: 0,
            f: "cas".into()
        })
    );
}

#[test]
fn reports_serialise_and_read_well() {
    let h = history(&[
        w(0, "x", 1),
        w(1, "x", 2),
        r(2, "x", Some(1)),
        r(2, "x", Some(2)),
        r(2, "x", Some(1)),
    ]);
    let rep = check(&h);
    let text = serde_json::to_string(&rep).unwrap();
    let back: CausalReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, rep);
    assert_eq!(
        rep.to_string(),
        "causal: CC holds, CM VIOLATED (CyclicHB), CCv VIOLATED (CyclicCF); 3 reads, 2 writes, \
         1 keys, 3 processes, 0 left out"
    );
    for l in CausalLevel::ALL {
        assert_eq!(CausalLevel::from_name(l.name()), Some(l));
        assert_eq!(CausalLevel::from_name(l.short()), Some(l));
    }
    assert_eq!(BadPattern::WriteCoInitRead.to_string(), "WriteCOInitRead");
}

// ---- random small histories against the definitions -----------------------------------------

/// A small random read/write history: 2-3 processes, 1-2 keys, 4-9 operations; written values
/// unique; reads return the initial value, a value of some earlier write of their key (now and
/// then of any write: a later one, a failed one), or rarely a value nobody wrote. Some operations fail or time out; a
/// process that timed out is replaced by a fresh one, as in Jepsen.
fn random_small(rng: &mut Prng) -> Recorded {
    const KEYS: [&str; 2] = ["x", "y"];
    let slots = 2 + rng.below(2) as usize;
    let keys = 1 + (rng.below(10) < 3) as usize;
    let n = 4 + rng.below(6) as usize;
    let mut ids: Vec<u64> = (0..slots as u64).collect();
    let mut next_id = slots as u64;
    let mut ops: Vec<Op> = Vec::new();
    let mut next_value = 1;
    for _ in 0..n {
        let slot = rng.below(slots as u64) as usize;
        let key = KEYS[rng.below(keys as u64) as usize];
        let write = rng.below(100) < 35;
        let roll = rng.below(100);
        let end = if write {
            match roll {
                0..=79 => End::Ok,
                80..=89 => End::Info,
                _ => End::Fail,
            }
        } else if roll < 90 {
            End::Ok
        } else {
            End::Info
        };
        let value = if write {
            next_value += 1;
            Some(next_value - 1)
        } else {
            None // filled in below, once every write is known
        };
        ops.push(Op {
            process: ids[slot],
            write,
            key,
            value,
            end,
        });
        if end == End::Info {
            ids[slot] = next_id;
            next_id += 1;
        }
    }
    for i in 0..ops.len() {
        if ops[i].write {
            continue;
        }
        // Mostly writes invoked earlier, now and then any write of the key.
        let anywhere = rng.below(100) < 10;
        let candidates: Vec<i64> = ops
            .iter()
            .enumerate()
            .filter(|&(j, o)| o.write && o.key == ops[i].key && (anywhere || j < i))
            .filter_map(|(_, o)| o.value)
            .collect();
        let roll = rng.below(100);
        ops[i].value = if roll < 2 {
            Some(100)
        } else if roll < 15 || candidates.is_empty() {
            None
        } else {
            Some(candidates[rng.below(candidates.len() as u64) as usize])
        };
    }
    history(&ops)
}

/// A small history of a replicated store: each process reads and writes its own replica and
/// sends its writes to the others, which apply them on arrival, either in causal order
/// (vector clocks) or in any order, and either overwriting or keeping the last writer by
/// Lamport timestamp. Causal delivery with overwriting is causal memory (Ahamad et al.), with
/// last-writer-wins causal convergence; any-order delivery breaks causality.
fn replicated_small(rng: &mut Prng) -> Recorded {
    let procs = 2 + rng.below(2) as usize;
    let keys = 1 + (rng.below(3) == 0) as usize;
    let n = 5 + rng.below(6) as usize;
    let causal_delivery = rng.below(3) != 0;
    let lww = rng.below(2) == 0;
    replicated(rng, n, procs, keys, causal_delivery, lww)
}

/// `n` operations of `procs` processes on `keys` keys of a replicated store (see
/// [`replicated_small`]).
fn replicated(
    rng: &mut Prng,
    n: usize,
    procs: usize,
    keys: usize,
    causal_delivery: bool,
    lww: bool,
) -> Recorded {
    const KEYS: [&str; 4] = ["x", "y", "z", "u"];
    #[derive(Clone)]
    struct Msg {
        to: usize,
        from: usize,
        key: usize,
        value: i64,
        stamp: (u64, usize),
        clock: Vec<u64>,
    }
    // Per replica: key -> (value, stamp); writes applied from each process; Lamport clock.
    let mut store = vec![vec![(None::<i64>, (0u64, 0usize)); keys]; procs];
    let mut applied = vec![vec![0u64; procs]; procs];
    let mut lamport = vec![0u64; procs];
    let mut pending: Vec<Msg> = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    let mut next_value = 1;
    let apply = |store: &mut Vec<(Option<i64>, (u64, usize))>, m: &Msg| {
        let cell = &mut store[m.key];
        if !lww || m.stamp > cell.1 {
            *cell = (Some(m.value), m.stamp);
        }
    };
    while ops.len() < n {
        if !pending.is_empty() && rng.below(100) < 35 {
            let ready: Vec<usize> = (0..pending.len())
                .filter(|&i| {
                    let m = &pending[i];
                    !causal_delivery
                        || (0..procs).all(|k| {
                            if k == m.from {
                                m.clock[k] == applied[m.to][k] + 1
                            } else {
                                m.clock[k] <= applied[m.to][k]
                            }
                        })
                })
                .collect();
            if !ready.is_empty() {
                let m = pending.remove(ready[rng.below(ready.len() as u64) as usize]);
                apply(&mut store[m.to], &m);
                applied[m.to][m.from] += 1;
                lamport[m.to] = lamport[m.to].max(m.stamp.0);
            }
            continue;
        }
        let p = rng.below(procs as u64) as usize;
        let key = rng.below(keys as u64) as usize;
        if rng.below(100) < 40 {
            lamport[p] += 1;
            applied[p][p] += 1;
            let m = Msg {
                to: p,
                from: p,
                key,
                value: next_value,
                stamp: (lamport[p], p),
                clock: applied[p].clone(),
            };
            next_value += 1;
            apply(&mut store[p], &m);
            for to in (0..procs).filter(|&q| q != p) {
                pending.push(Msg { to, ..m.clone() });
            }
            ops.push(w(p as u64, KEYS[key], m.value));
        } else {
            ops.push(r(p as u64, KEYS[key], store[p][key].0));
        }
    }
    history(&ops)
}

#[test]
fn random_small_histories_match_the_definitions() {
    let mut rng = Prng::new(0xCA05A1);
    // Outcomes seen: [CC, CM, CCv] as bits.
    let mut seen = [0usize; 8];
    for round in 0..3000 {
        let h = if round % 2 == 0 {
            random_small(&mut rng)
        } else {
            replicated_small(&mut rng)
        };
        let rep = check(&h); // asserts agreement with the brute force
        let l = levels(&rep);
        seen[l[0] as usize | (l[1] as usize) << 1 | (l[2] as usize) << 2] += 1;
        // Each level's verdict and its witness agree, and CM, CCv imply CC.
        for level in CausalLevel::ALL {
            let v = rep.verdict(level);
            assert_eq!(v.holds, v.violation.is_none());
            if let Some(x) = &v.violation {
                assert!(level.patterns().contains(&x.pattern));
                assert!(rep.counts.of(x.pattern) > 0);
                assert!(x.ops.iter().all(|&i| i < h.ops.len()));
            }
        }
        assert!(rep.causal.holds || (!rep.causal_memory.holds && !rep.causal_convergence.holds));
    }
    // Not causal; causal only; causal and causal memory; all three. (Causal and convergence
    // but not causal memory takes at least 8 operations and 3 keys or processes: see the
    // hand-worked examples.)
    for outcome in [0, 0b001, 0b011, 0b111] {
        assert!(seen[outcome] > 0, "{seen:?}");
    }
    eprintln!("[CC CM CCv] outcomes by bits: {seen:?}");
}

#[test]
fn sequential_histories_are_causal_and_not_conversely() {
    let mut rng = Prng::new(0x5E0);
    let (mut causal_not_sequential, mut sequential_count) = (0, 0);
    for round in 0..300 {
        let h = if round % 2 == 0 {
            random_small(&mut rng)
        } else {
            replicated_small(&mut rng)
        };
        let rep = check_causal(&h, &CausalOptions::default()).unwrap();
        if sequential(&h) {
            sequential_count += 1;
            assert_eq!(levels(&rep), [true; 3], "sequential but not causal: {h:#?}");
        } else if rep.causal.holds {
            causal_not_sequential += 1;
        }
    }
    assert!(sequential_count > 0 && causal_not_sequential > 0);
}

#[test]
fn replicated_stores_meet_their_levels_at_scale() {
    // Causal delivery with overwriting is Ahamad et al.'s causal memory: CM (hence CC). With
    // last-writer-wins on Lamport stamps it is causally convergent: CCv (hence CC). Each
    // breaks the other level now and then (concurrent writes), which the checker must see.
    let mut rng = Prng::new(0xA4A);
    let (mut cm_only, mut ccv_only) = (0, 0);
    for round in 0..120 {
        let n = 30 + rng.below(270) as usize;
        let procs = 2 + rng.below(4) as usize;
        let keys = 1 + rng.below(4) as usize;
        let lww = round % 2 == 1;
        let h = replicated(&mut rng, n, procs, keys, true, lww);
        let rep = check_causal(&h, &CausalOptions::default()).unwrap();
        assert!(rep.causal.holds, "{rep}");
        if lww {
            assert!(rep.causal_convergence.holds, "{rep}");
            ccv_only += !rep.causal_memory.holds as usize;
        } else {
            assert!(rep.causal_memory.holds, "{rep}");
            cm_only += !rep.causal_convergence.holds as usize;
        }
    }
    assert!(cm_only > 0 && ccv_only > 0, "{cm_only} {ccv_only}");
    // Delivery in any order breaks causality itself.
    let broken = (0..60)
        .filter(|_| {
            let h = replicated(&mut rng, 100, 3, 2, false, false);
            !check_causal(&h, &CausalOptions::default())
                .unwrap()
                .causal
                .holds
        })
        .count();
    assert!(broken > 0);
}

// ---- generated histories --------------------------------------------------------------------

#[test]
fn linearizable_generated_histories_are_causal() {
    for seed in 0..100u64 {
        let spec = GenSpec {
            ops: 20 + (seed as usize * 7) % 180,
            processes: 2 + seed as usize % 5,
            keys: 1 + seed as usize % 4,
            read_percent: 50,
            cas_percent: 0,
            info_permille: 50,
            stale_read: false,
            seed,
        };
        let h = generate(&spec);
        let rep = check_causal(&h, &CausalOptions::default()).unwrap();
        assert_eq!(levels(&rep), [true; 3], "seed {seed}: {rep}");
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // measures the checker's wall time, by definition
fn two_thousand_operations_in_well_under_a_second() {
    for (keys, processes) in [(1, 5), (4, 10), (8, 20)] {
        let spec = GenSpec {
            ops: 2000,
            processes,
            keys,
            read_percent: 50,
            cas_percent: 0,
            info_permille: 10,
            stale_read: false,
            seed: 7,
        };
        let h = generate(&spec);
        let started = std::time::Instant::now();
        let rep = check_causal(&h, &CausalOptions::default()).unwrap();
        let elapsed = started.elapsed();
        eprintln!(
            "2,000 ops, {keys} keys, {processes} processes: {elapsed:?} ({rep}; {} view rounds)",
            rep.view_rounds
        );
        assert_eq!(levels(&rep), [true; 3]);
        assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
        // The same history with one read made to return an overwritten value of its own
        // process's earlier write is caught.
        let mut bad = h.clone();
        let (wi, ri) = (0..bad.ops.len())
            .find_map(|i| {
                let o = &bad.ops[i];
                (o.f == "write" && o.is_ok()).then_some(())?;
                // a later ok read by the same process on the same key, after a second ok
                // write of that key by the process.
                let later: Vec<usize> = (i + 1..bad.ops.len())
                    .filter(|&j| bad.ops[j].process == o.process && bad.ops[j].key == o.key)
                    .collect();
                let w2 = later
                    .iter()
                    .position(|&j| bad.ops[j].f == "write" && bad.ops[j].is_ok())?;
                let r = later[w2 + 1..]
                    .iter()
                    .copied()
                    .find(|&j| bad.ops[j].f == "read" && bad.ops[j].is_ok())?;
                Some((i, r))
            })
            .expect("a process writes a key twice and then reads it");
        bad.ops[ri].completion = Completion::Ok(bad.ops[wi].value.clone());
        let rep = check_causal(&bad, &CausalOptions::default()).unwrap();
        assert_eq!(
            pattern(&rep, CausalLevel::Causal),
            Some(BadPattern::WriteCoRead)
        );
    }
}
