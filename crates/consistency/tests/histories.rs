//! Hand-made histories with known verdicts.

mod common;

use common::{assert_lin_witness, assert_sc_witness};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use synod_consistency::specs::{
    CasOp, CasRegister, CasRet, Counter, CounterOp, CounterRet, PerKey, Queue, QueueOp, QueueRet,
    Register, RegisterOp, RegisterRet, Set, SetOp, SetRet,
};
use synod_consistency::{
    brute_force_linearizable, brute_force_sequential, check_linearizable,
    check_linearizable_with_stats, check_sequential, Budget, Event, History, HistoryError,
    Operation, Outcome, SequentialSpec,
};

use CasOp::Cas;
use RegisterOp::{Read, Write};
use RegisterRet::{ReadOk, WriteOk};

type RegHistory = History<RegisterOp<u32>, RegisterRet<u32>>;

fn op<O, R>(client: u64, o: O, call: u64, ret: u64, r: R) -> Operation<O, R> {
    Operation::complete(client, o, call, ret, r)
}

fn pending<O, R>(client: u64, o: O, call: u64) -> Operation<O, R> {
    Operation::pending(client, o, call)
}

/// (linearizable, sequentially consistent), with every witness checked and, for small
/// histories, both verdicts confirmed by brute force.
fn verdicts<S: SequentialSpec>(spec: &S, h: &History<S::Op, S::Ret>) -> (bool, bool) {
    let lin = match check_linearizable(spec, h, Budget::unlimited()) {
        Outcome::Linearizable { order } => {
            assert_lin_witness(spec, h, &order);
            true
        }
        Outcome::NotLinearizable {
            longest_prefix,
            culprits,
        } => {
            assert!(!culprits.is_empty());
            assert!(longest_prefix.iter().all(|i| !culprits.contains(i)));
            false
        }
        Outcome::Unknown { .. } => panic!("unlimited budget gave Unknown"),
    };
    let sc = match check_sequential(spec, h, Budget::unlimited()) {
        Outcome::Linearizable { order } => {
            assert_sc_witness(spec, h, &order);
            true
        }
        Outcome::NotLinearizable { .. } => false,
        Outcome::Unknown { .. } => panic!("unlimited budget gave Unknown"),
    };
    assert!(!lin || sc, "linearizable but not sequentially consistent");
    if h.len() <= 8 {
        assert_eq!(brute_force_linearizable(spec, h), lin, "brute force lin");
        assert_eq!(brute_force_sequential(spec, h), sc, "brute force sc");
    }
    (lin, sc)
}

fn reg(ops: Vec<Operation<RegisterOp<u32>, RegisterRet<u32>>>) -> RegHistory {
    History { ops }
}

#[test]
fn empty_history_is_linearizable() {
    let h = reg(vec![]);
    assert_eq!(
        check_linearizable(&Register::new(), &h, Budget::unlimited()),
        Outcome::Linearizable { order: vec![] }
    );
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
}

#[test]
fn read_of_a_value_nobody_wrote() {
    // Reference: Herlihy & Wing 1990, §2 (legal sequential histories).
    let h = reg(vec![
        op(0, Write(1), 0, 10, WriteOk),
        op(1, Read, 20, 30, ReadOk(Some(2))),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (false, false));
    assert_eq!(
        check_linearizable(&Register::new(), &h, Budget::unlimited()),
        Outcome::NotLinearizable {
            longest_prefix: vec![0],
            culprits: vec![1]
        }
    );
}

#[test]
fn stale_read_after_a_completed_write() {
    let h = reg(vec![
        op(0, Write(1), 0, 10, WriteOk),
        op(1, Read, 20, 30, ReadOk(None)),
    ]);
    // Sequential consistency may put the other client's read first.
    assert_eq!(verdicts(&Register::new(), &h), (false, true));
    // Not if the same client wrote: program order puts its write first.
    let h = reg(vec![
        op(0, Write(1), 0, 10, WriteOk),
        op(0, Read, 20, 30, ReadOk(None)),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (false, false));
}

#[test]
fn concurrent_read_may_see_old_or_new() {
    for seen in [None, Some(1)] {
        let h = reg(vec![
            op(0, Write(1), 0, 20, WriteOk),
            op(1, Read, 5, 15, ReadOk(seen)),
        ]);
        assert_eq!(
            verdicts(&Register::new(), &h),
            (true, true),
            "read {seen:?}"
        );
    }
}

#[test]
fn new_old_inversion() {
    // Reference: the atomic-register condition (Lamport 1986): once a read returns the new
    // value, no later read returns the old one.
    let inversion = |reader2: u64| {
        reg(vec![
            op(0, Write(1), 0, 100, WriteOk),
            op(1, Read, 10, 20, ReadOk(Some(1))),
            op(reader2, Read, 30, 40, ReadOk(Some(0))),
        ])
    };
    let r = Register::with_initial(0);
    // Two readers: not linearizable, but sequentially consistent.
    assert_eq!(verdicts(&r, &inversion(2)), (false, true));
    // One reader: its program order forbids it too.
    assert_eq!(verdicts(&r, &inversion(1)), (false, false));
    // Overlapping reads: either may go first, so linearizable.
    let h = reg(vec![
        op(0, Write(1), 0, 100, WriteOk),
        op(1, Read, 10, 35, ReadOk(Some(1))),
        op(2, Read, 30, 40, ReadOk(Some(0))),
    ]);
    assert_eq!(verdicts(&r, &h), (true, true));
}

#[test]
fn real_time_order_of_writes() {
    // w1 then w2, both complete; a later read must see 2.
    let mk = |v| {
        reg(vec![
            op(0, Write(1), 0, 10, WriteOk),
            op(1, Write(2), 20, 30, WriteOk),
            op(2, Read, 40, 50, ReadOk(Some(v))),
        ])
    };
    assert_eq!(verdicts(&Register::new(), &mk(2)), (true, true));
    assert_eq!(verdicts(&Register::new(), &mk(1)), (false, true));
    // Concurrent writes: a later read may see either.
    let mk = |v| {
        reg(vec![
            op(0, Write(1), 0, 30, WriteOk),
            op(1, Write(2), 10, 20, WriteOk),
            op(2, Read, 40, 50, ReadOk(Some(v))),
        ])
    };
    assert_eq!(verdicts(&Register::new(), &mk(1)), (true, true));
    assert_eq!(verdicts(&Register::new(), &mk(2)), (true, true));
}

#[test]
fn equal_timestamps_are_concurrent() {
    // The read is called at the instant the write returns: concurrent, so it may see None.
    let h = reg(vec![
        op(0, Write(1), 0, 10, WriteOk),
        op(1, Read, 10, 20, ReadOk(None)),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
}

#[test]
fn cas_register_cases() {
    let c = CasRegister::with_initial(0u32);
    type H = History<CasOp<u32>, CasRet<u32>>;
    // Two concurrent CAS(0 -> x) cannot both succeed.
    let h: H = History {
        ops: vec![
            op(0, Cas { from: 0, to: 1 }, 0, 10, CasRet::CasOk),
            op(1, Cas { from: 0, to: 2 }, 5, 15, CasRet::CasOk),
        ],
    };
    assert_eq!(verdicts(&c, &h), (false, false));
    // One succeeds, one fails: fine.
    let h: H = History {
        ops: vec![
            op(0, Cas { from: 0, to: 1 }, 0, 10, CasRet::CasOk),
            op(1, Cas { from: 0, to: 2 }, 5, 15, CasRet::CasFail),
            op(2, CasOp::Read, 20, 30, CasRet::ReadOk(Some(1))),
        ],
    };
    assert_eq!(verdicts(&c, &h), (true, true));
    // A CAS fails although nothing changed the value before it: not even SC.
    let h: H = History {
        ops: vec![
            op(0, Cas { from: 0, to: 1 }, 0, 10, CasRet::CasFail),
            op(1, CasOp::Read, 20, 30, CasRet::ReadOk(Some(0))),
        ],
    };
    assert_eq!(verdicts(&c, &h), (false, false));
    // A failing CAS concurrent with a write that made it fail: fine.
    let h: H = History {
        ops: vec![
            op(0, CasOp::Write(5), 0, 20, CasRet::WriteOk),
            op(1, Cas { from: 0, to: 1 }, 5, 15, CasRet::CasFail),
            op(2, CasOp::Read, 30, 40, CasRet::ReadOk(Some(5))),
        ],
    };
    assert_eq!(verdicts(&c, &h), (true, true));
    // A successful CAS followed by a read of the old value.
    let h: H = History {
        ops: vec![
            op(0, Cas { from: 0, to: 1 }, 0, 10, CasRet::CasOk),
            op(1, CasOp::Read, 20, 30, CasRet::ReadOk(Some(0))),
        ],
    };
    assert_eq!(verdicts(&c, &h), (false, true));
    // CAS on the empty register fails.
    let h: H = History {
        ops: vec![op(0, Cas { from: 0, to: 1 }, 0, 10, CasRet::CasFail)],
    };
    assert_eq!(verdicts(&CasRegister::new(), &h), (true, true));
}

#[test]
fn incomplete_operations_are_optional() {
    // A write that never returned and nobody saw: leave it out.
    let h = reg(vec![
        pending(0, Write(1), 0),
        op(1, Read, 10, 20, ReadOk(None)),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
    match check_linearizable(&Register::new(), &h, Budget::unlimited()) {
        Outcome::Linearizable { order } => assert_eq!(order, vec![1]),
        other => panic!("{other:?}"),
    }
    // ... or someone saw it, long after its call: it took effect.
    let h = reg(vec![
        pending(0, Write(1), 0),
        op(1, Read, 1000, 1010, ReadOk(Some(1))),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
    match check_linearizable(&Register::new(), &h, Budget::unlimited()) {
        Outcome::Linearizable { order } => assert_eq!(order, vec![0, 1]),
        other => panic!("{other:?}"),
    }
    // Once seen, it stays: a later read of the old value is an inversion.
    let h = reg(vec![
        pending(0, Write(1), 0),
        op(1, Read, 10, 20, ReadOk(Some(1))),
        op(2, Read, 30, 40, ReadOk(None)),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (false, true));
    // It cannot take effect before its call.
    let h = reg(vec![
        op(1, Read, 0, 10, ReadOk(Some(1))),
        pending(0, Write(1), 20),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (false, true));
    // Two pending writes, read in either order by the same client.
    let h = reg(vec![
        pending(0, Write(1), 0),
        pending(1, Write(2), 0),
        op(2, Read, 10, 20, ReadOk(Some(2))),
        op(2, Read, 30, 40, ReadOk(Some(1))),
        op(2, Read, 50, 60, ReadOk(Some(2))),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (false, false));
    let h = reg(vec![
        pending(0, Write(1), 0),
        pending(1, Write(2), 0),
        op(2, Read, 10, 20, ReadOk(Some(2))),
        op(2, Read, 30, 40, ReadOk(Some(1))),
    ]);
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
}

#[test]
fn abandoned_call_may_take_effect_late() {
    // Client 0 gives up on Write(1) and reads None; a read by client 1 later sees 1.
    let h = History::from_events([
        Event::Call {
            client: 0,
            op: Write(1),
        },
        Event::Call {
            client: 0,
            op: Read,
        },
        Event::Return {
            client: 0,
            ret: ReadOk(None),
        },
        Event::Call {
            client: 1,
            op: Read,
        },
        Event::Return {
            client: 1,
            ret: ReadOk(Some(1)),
        },
    ]);
    assert_eq!(h.ops.len(), 3);
    assert!(h.ops[0].ret.is_none());
    assert_eq!(h.ops[1].ret, Some((2, ReadOk(None))));
    // The abandoned write takes effect after client 0's read, like a request that arrived
    // late: linearizable, hence sequentially consistent.
    assert_eq!(verdicts(&Register::new(), &h), (true, true));
    // Had client 0 waited for its write, its read could not miss it.
    let mut waited = h.clone();
    waited.ops[0].ret = Some((0, WriteOk));
    assert_eq!(verdicts(&Register::new(), &waited), (false, false));
}

#[test]
fn from_events_and_errors() {
    let events = vec![
        Event::Call {
            client: 7,
            op: Write(1),
        },
        Event::Call {
            client: 8,
            op: Read,
        },
        Event::Return {
            client: 7,
            ret: WriteOk,
        },
        Event::Return {
            client: 8,
            ret: ReadOk(Some(1)),
        },
    ];
    let h: RegHistory = History::from_events(events.clone());
    assert_eq!(
        h.ops,
        vec![
            op(7, Write(1), 0, 2, WriteOk),
            op(8, Read, 1, 3, ReadOk(Some(1)))
        ]
    );
    assert_eq!(h.to_events(), events);
    let bad: Result<RegHistory, _> = History::try_from_events([Event::Return {
        client: 3,
        ret: WriteOk,
    }]);
    assert_eq!(
        bad,
        Err(HistoryError::UnmatchedReturn {
            position: 0,
            client: 3
        })
    );
    let backwards = reg(vec![op(0, Read, 10, 5, ReadOk(None))]);
    assert!(matches!(
        backwards.validate(),
        Err(HistoryError::ReturnBeforeCall { op: 0, .. })
    ));
}

#[test]
#[should_panic(expected = "returns at 5 before its call at 10")]
fn checkers_refuse_a_return_before_its_call() {
    let backwards = reg(vec![op(0, Read, 10, 5, ReadOk(None))]);
    check_linearizable(&Register::new(), &backwards, Budget::unlimited());
}

#[test]
fn history_json_round_trip() {
    let h = reg(vec![op(0, Write(1), 0, 10, WriteOk), pending(1, Read, 5)]);
    let json = serde_json::to_string(&h).unwrap();
    let back: RegHistory = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h);
    let outcome = check_linearizable(&Register::new(), &h, Budget::unlimited());
    let json = serde_json::to_string(&outcome).unwrap();
    assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), outcome);
}

/// Many concurrent writes, then a read of a value nobody wrote: the search must try every
/// order of the writes before giving up.
fn hard_history(writers: u64) -> RegHistory {
    let mut ops: Vec<_> = (0..writers)
        .map(|c| op(c, Write(c as u32), c, 1000, WriteOk))
        .collect();
    ops.push(op(writers, Read, 2000, 2010, ReadOk(Some(999))));
    reg(ops)
}

#[test]
fn step_budget_gives_unknown() {
    // Without the specification's hints (no dead-read pruning), the search must try every
    // subset of the writes.
    let plain = Unsplit(Register::new());
    let h = hard_history(8);
    let (full, stats) = check_linearizable_with_stats(&plain, &h, Budget::unlimited());
    assert_eq!(full.holds(), Some(false));
    assert!(stats.steps > 100, "{stats:?}");
    match check_linearizable(&plain, &h, Budget::steps(100)) {
        Outcome::Unknown {
            steps,
            longest_prefix,
        } => {
            assert_eq!(steps, 100);
            // Partial result: some of the writes were linearized before the budget ran out.
            assert!(!longest_prefix.is_empty());
            assert!(longest_prefix.iter().all(|&i| i < 8), "{longest_prefix:?}");
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(
        check_linearizable(&plain, &h, Budget::steps(stats.steps)),
        full
    );
}

#[test]
fn cancel_flag_stops_the_search() {
    // Without the register's hints, which would refute this history before any search.
    let flag = Arc::new(AtomicBool::new(true));
    let h = hard_history(8);
    let outcome = check_linearizable(
        &Unsplit(Register::new()),
        &h,
        Budget::unlimited().with_cancel(flag.clone()),
    );
    let stopped = Outcome::Unknown {
        steps: 0,
        longest_prefix: vec![],
    };
    assert_eq!(outcome, stopped);
    let outcome = check_sequential(
        &Unsplit(Register::new()),
        &h,
        Budget::unlimited().with_cancel(flag),
    );
    assert_eq!(outcome, stopped);
    let unset = Arc::new(AtomicBool::new(false));
    let outcome = check_linearizable(
        &Unsplit(Register::new()),
        &h,
        Budget::steps(1 << 30).with_cancel(unset),
    );
    assert_eq!(outcome.holds(), Some(false));
}

#[test]
fn memo_keeps_many_concurrent_writes_cheap() {
    // 13 concurrent writes: 13! orders (6 billion), but only 2^13 linearized sets, each with
    // as many final values as it has writes.
    let h = hard_history(13);
    let plain = Unsplit(Register::new());
    let (outcome, stats) = check_linearizable_with_stats(&plain, &h, Budget::unlimited());
    assert_eq!(outcome.holds(), Some(false));
    assert!(stats.configurations <= 13 << 12, "{stats:?}");
    assert!(stats.configurations > 1 << 12, "{stats:?}");
    // With the register's hints, the read of a value nobody writes is dead from the first
    // write on: the search stops at once, with the same verdict.
    let (hinted, fast) = check_linearizable_with_stats(&Register::new(), &h, Budget::unlimited());
    assert_eq!(hinted.holds(), Some(false));
    assert!(fast.steps <= 13 * 2, "{fast:?}");
}

#[test]
fn counter_set_queue() {
    use CounterOp::*;
    use CounterRet::*;
    let h = History {
        ops: vec![
            op(0, Add(2), 0, 10, AddOk),
            op(1, Add(3), 5, 15, AddOk),
            op(2, CounterOp::Read, 6, 8, CounterRet::ReadOk(3)),
            op(2, CounterOp::Read, 20, 30, CounterRet::ReadOk(5)),
        ],
    };
    assert_eq!(verdicts(&Counter, &h), (true, true));
    let mut bad = h.clone();
    bad.ops[2].ret = Some((8, CounterRet::ReadOk(4)));
    assert_eq!(verdicts(&Counter, &bad), (false, false));

    let s = Set::<u8>::new();
    let h = History {
        ops: vec![
            op(0, SetOp::Insert(1), 0, 10, SetRet::InsertOk(true)),
            op(1, SetOp::Insert(1), 5, 15, SetRet::InsertOk(false)),
            op(2, SetOp::Remove(1), 20, 30, SetRet::RemoveOk(true)),
            op(
                2,
                SetOp::Read,
                40,
                50,
                SetRet::ReadOk(std::collections::BTreeSet::new()),
            ),
        ],
    };
    assert_eq!(verdicts(&s, &h), (true, true));
    let mut bad = h.clone();
    bad.ops[1].ret = Some((15, SetRet::InsertOk(true)));
    // Sequentially, client 1's insert may come after client 2 removed and read.
    assert_eq!(verdicts(&s, &bad), (false, true));

    let q = Queue::<u8>::new();
    let h = History {
        ops: vec![
            op(0, QueueOp::Enqueue(1), 0, 10, QueueRet::EnqueueOk),
            op(1, QueueOp::Enqueue(2), 0, 10, QueueRet::EnqueueOk),
            op(2, QueueOp::Dequeue, 20, 30, QueueRet::DequeueOk(Some(2))),
            op(2, QueueOp::Dequeue, 40, 50, QueueRet::DequeueOk(Some(1))),
            op(2, QueueOp::Dequeue, 60, 70, QueueRet::DequeueOk(None)),
        ],
    };
    assert_eq!(verdicts(&q, &h), (true, true));
    let mut bad = h.clone();
    // Enqueue 2 now starts after enqueue 1 finished: FIFO broken.
    bad.ops[1].call = 15;
    bad.ops[1].ret = Some((18, QueueRet::EnqueueOk));
    assert_eq!(verdicts(&q, &bad), (false, true));
}

/// A nondeterministic object: `Take` removes and returns any element of a bag of numbers.
struct Bag;

impl SequentialSpec for Bag {
    type State = Vec<u8>; // sorted
    type Op = Option<u8>; // Some(x): put x; None: take
    type Ret = Option<u8>; // what Take returned (None: empty); Put returns None

    fn init(&self) -> Vec<u8> {
        Vec::new()
    }

    fn step(&self, state: &Vec<u8>, op: &Option<u8>) -> (Vec<u8>, Option<u8>) {
        let mut next = state.clone();
        match op {
            Some(x) => {
                next.push(*x);
                next.sort_unstable();
                (next, None)
            }
            None => {
                let first = (!next.is_empty()).then(|| next.remove(0));
                (next, first)
            }
        }
    }

    fn accepts(&self, state: &Vec<u8>, op: &Option<u8>, ret: &Option<u8>) -> Option<Vec<u8>> {
        match (op, ret) {
            (None, Some(x)) => {
                let at = state.iter().position(|y| y == x)?;
                let mut next = state.clone();
                next.remove(at);
                Some(next)
            }
            _ => {
                let (next, expected) = self.step(state, op);
                (expected == *ret).then_some(next)
            }
        }
    }
}

#[test]
fn nondeterministic_spec_through_accepts() {
    let h = History {
        ops: vec![
            op(0, Some(1), 0, 10, None),
            op(0, Some(2), 20, 30, None),
            op(1, None, 40, 50, Some(2)), // any element may come out
            op(1, None, 60, 70, Some(1)),
            op(1, None, 80, 90, None),
        ],
    };
    assert_eq!(verdicts(&Bag, &h), (true, true));
    let mut bad = h.clone();
    bad.ops[3].ret = Some((70, Some(2)));
    assert_eq!(verdicts(&Bag, &bad), (false, false));
}

/// `PerKey` without its partition hint, to compare the split check with the whole one.
struct Unsplit<S>(S);

impl<S: SequentialSpec> SequentialSpec for Unsplit<S> {
    type State = S::State;
    type Op = S::Op;
    type Ret = S::Ret;
    fn init(&self) -> S::State {
        self.0.init()
    }
    fn step(&self, state: &S::State, op: &S::Op) -> (S::State, S::Ret) {
        self.0.step(state, op)
    }
    fn accepts(&self, state: &S::State, op: &S::Op, ret: &S::Ret) -> Option<S::State> {
        self.0.accepts(state, op, ret)
    }
}

#[test]
fn per_key_partitions_and_merges_witnesses() {
    let kv = PerKey::<&str, Register<u32>>::new(Register::new());
    let h = History {
        ops: vec![
            op(0, ("x", Write(1)), 0, 10, WriteOk),
            op(1, ("y", Write(2)), 5, 25, WriteOk),
            op(2, ("x", Read), 12, 20, ReadOk(Some(1))),
            op(0, ("y", Read), 11, 30, ReadOk(Some(2))),
            op(2, ("y", Read), 31, 40, ReadOk(Some(2))),
            pending(3, ("z", Write(7)), 0),
            op(1, ("x", Read), 35, 50, ReadOk(Some(1))),
        ],
    };
    let (outcome, stats) = check_linearizable_with_stats(&kv, &h, Budget::unlimited());
    assert_eq!(stats.partitions, 3);
    match &outcome {
        Outcome::Linearizable { order } => assert_lin_witness(&kv, &h, order),
        other => panic!("{other:?}"),
    }
    assert_eq!(verdicts(&kv, &h), verdicts(&Unsplit(kv.clone()), &h));
    // A stale read on one key fails the whole history, culprits in that key's part.
    let mut bad = h.clone();
    bad.ops[4].ret = Some((40, ReadOk(None)));
    match check_linearizable(&kv, &bad, Budget::unlimited()) {
        Outcome::NotLinearizable { culprits, .. } => assert_eq!(culprits, vec![4]),
        other => panic!("{other:?}"),
    }
    assert_eq!(verdicts(&kv, &bad), (false, true));
    assert_eq!(verdicts(&Unsplit(kv), &bad), (false, true));
}

#[test]
fn simulator_histories_convert() {
    use synod_core::{Instant, NodeId};
    let core = synod_core::History {
        ops: vec![
            synod_core::Op {
                client: 4,
                node: NodeId(0),
                input: Write(1u32),
                invoke: Instant::from_millis(1),
                completion: Some((Instant::from_millis(3), WriteOk)),
            },
            synod_core::Op {
                client: 5,
                node: NodeId(1),
                input: Read,
                invoke: Instant::from_millis(2),
                completion: None,
            },
        ],
    };
    let h = History::from_core(&core);
    assert_eq!(
        h.ops,
        vec![
            op(4, Write(1), 1_000_000, 3_000_000, WriteOk),
            pending(5, Read, 2_000_000),
        ]
    );
    assert!(check_linearizable(&Register::new(), &h, Budget::unlimited()).is_linearizable());
}
