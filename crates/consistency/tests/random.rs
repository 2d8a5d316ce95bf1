//! Property tests: the checkers agree with the brute-force definitions on thousands of small
//! random histories, and every witness they give is valid.
//!
//! Two generators, both seeded with `synod_core::Prng`:
//! - *random*: clients call and return with arbitrary results (mostly inconsistent);
//! - *executed*: clients run against a real sequential object whose operations take effect at
//!   a random moment between call and return (always linearizable), then, half the time, one
//!   result is replaced by a random one (often not).
//!
//! Some histories have their timestamps halved so that a return and a call can share a time.

mod common;

use common::{assert_lin_witness, assert_sc_witness};
use synod_consistency::specs::{
    CasOp, CasRegister, CasRet, PerKey, Register, RegisterOp, RegisterRet,
};
use synod_consistency::{
    brute_force_linearizable, brute_force_sequential, check_linearizable, check_sequential, Budget,
    Event, History, Outcome, SequentialSpec,
};
use synod_core::Prng;

/// How to draw operations and results for a spec.
trait Gen: SequentialSpec {
    fn op(&self, prng: &mut Prng) -> Self::Op;
    fn ret(&self, op: &Self::Op, prng: &mut Prng) -> Self::Ret;
}

fn value(prng: &mut Prng) -> u8 {
    prng.below(3) as u8
}

fn maybe_value(prng: &mut Prng) -> Option<u8> {
    match prng.below(4) {
        0 => None,
        _ => Some(value(prng)),
    }
}

impl Gen for Register<u8> {
    fn op(&self, prng: &mut Prng) -> RegisterOp<u8> {
        match prng.below(2) {
            0 => RegisterOp::Read,
            _ => RegisterOp::Write(value(prng)),
        }
    }
    fn ret(&self, op: &RegisterOp<u8>, prng: &mut Prng) -> RegisterRet<u8> {
        match op {
            RegisterOp::Read => RegisterRet::ReadOk(maybe_value(prng)),
            RegisterOp::Write(_) => RegisterRet::WriteOk,
        }
    }
}

impl Gen for CasRegister<u8> {
    fn op(&self, prng: &mut Prng) -> CasOp<u8> {
        match prng.below(3) {
            0 => CasOp::Read,
            1 => CasOp::Write(value(prng)),
            _ => CasOp::Cas {
                from: value(prng),
                to: value(prng),
            },
        }
    }
    fn ret(&self, op: &CasOp<u8>, prng: &mut Prng) -> CasRet<u8> {
        match op {
            CasOp::Read => CasRet::ReadOk(maybe_value(prng)),
            CasOp::Write(_) => CasRet::WriteOk,
            CasOp::Cas { .. } => {
                if prng.below(2) == 0 {
                    CasRet::CasOk
                } else {
                    CasRet::CasFail
                }
            }
        }
    }
}

impl Gen for PerKey<u8, Register<u8>> {
    fn op(&self, prng: &mut Prng) -> (u8, RegisterOp<u8>) {
        (prng.below(2) as u8, Register::new().op(prng))
    }
    fn ret(&self, op: &(u8, RegisterOp<u8>), prng: &mut Prng) -> RegisterRet<u8> {
        Register::new().ret(&op.1, prng)
    }
}

#[derive(Clone)]
enum Client<Op, Ret> {
    Idle,
    Called(Op),
    Effected(Ret),
}

/// A history of at most `max_ops` operations by 2–4 clients. `executed`: results come from a
/// real sequential execution (the effect happens at a random moment between call and return);
/// otherwise they are random.
fn generate<S: Gen>(
    spec: &S,
    prng: &mut Prng,
    max_ops: u64,
    executed: bool,
) -> History<S::Op, S::Ret> {
    let clients = prng.range_inclusive(2, 4) as usize;
    let target = prng.range_inclusive(1, max_ops);
    let mut state = spec.init();
    let mut status: Vec<Client<S::Op, S::Ret>> = vec![Client::Idle; clients];
    let mut events = Vec::new();
    let mut issued = 0;
    loop {
        let c = prng.below(clients as u64) as usize;
        match status[c].clone() {
            Client::Idle if issued < target => {
                let op = spec.op(prng);
                events.push(Event::Call {
                    client: c as u64,
                    op: op.clone(),
                });
                issued += 1;
                status[c] = Client::Called(op);
            }
            Client::Idle => {}
            Client::Called(op) if executed => {
                let (next, ret) = spec.step(&state, &op);
                state = next;
                status[c] = Client::Effected(ret);
            }
            Client::Called(op) => {
                if prng.below(3) != 0 {
                    let ret = spec.ret(&op, prng);
                    events.push(Event::Return {
                        client: c as u64,
                        ret,
                    });
                    status[c] = Client::Idle;
                }
            }
            Client::Effected(ret) => {
                events.push(Event::Return {
                    client: c as u64,
                    ret,
                });
                status[c] = Client::Idle;
            }
        }
        let all_idle = status.iter().all(|s| matches!(s, Client::Idle));
        if issued == target && (all_idle || prng.below(5) == 0) {
            break;
        }
    }
    let mut h = History::from_events(events);
    if prng.below(4) == 0 {
        for o in &mut h.ops {
            o.call /= 2;
            if let Some((t, _)) = &mut o.ret {
                *t /= 2;
            }
        }
    }
    h
}

/// Replaces one returned operation's result by a random one.
fn corrupt<S: Gen>(spec: &S, prng: &mut Prng, h: &mut History<S::Op, S::Ret>) {
    let complete: Vec<usize> = (0..h.ops.len())
        .filter(|&i| h.ops[i].is_complete())
        .collect();
    if complete.is_empty() {
        return;
    }
    let i = complete[prng.below(complete.len() as u64) as usize];
    let ret = spec.ret(&h.ops[i].op, prng);
    if let Some((_, r)) = &mut h.ops[i].ret {
        *r = ret;
    }
}

#[derive(Debug, Default)]
struct Tally {
    histories: u64,
    linearizable: u64,
    sequential: u64,
    with_pending: u64,
}

/// Checks one history against the brute-force definitions and the witnesses.
fn agree<S: SequentialSpec>(spec: &S, h: &History<S::Op, S::Ret>, tally: &mut Tally) {
    let lin = match check_linearizable(spec, h, Budget::unlimited()) {
        Outcome::Linearizable { order } => {
            assert_lin_witness(spec, h, &order);
            true
        }
        Outcome::NotLinearizable { culprits, .. } => {
            assert!(!culprits.is_empty(), "{h:?}");
            false
        }
        Outcome::Unknown { .. } => panic!("Unknown without a budget"),
    };
    let sc = match check_sequential(spec, h, Budget::unlimited()) {
        Outcome::Linearizable { order } => {
            assert_sc_witness(spec, h, &order);
            true
        }
        Outcome::NotLinearizable { culprits, .. } => {
            assert!(!culprits.is_empty(), "{h:?}");
            false
        }
        Outcome::Unknown { .. } => panic!("Unknown without a budget"),
    };
    assert_eq!(
        lin,
        brute_force_linearizable(spec, h),
        "linearizability of {h:?}"
    );
    assert_eq!(
        sc,
        brute_force_sequential(spec, h),
        "sequential consistency of {h:?}"
    );
    assert!(
        !lin || sc,
        "linearizable but not sequentially consistent: {h:?}"
    );
    tally.histories += 1;
    tally.linearizable += lin as u64;
    tally.sequential += sc as u64;
    tally.with_pending += h.ops.iter().any(|o| !o.is_complete()) as u64;
}

fn sweep<S: Gen>(spec: &S, seed: u64, n: u64, max_ops: u64) -> Tally {
    let mut random = Tally::default();
    let mut executed = Tally::default();
    let mut corrupted = Tally::default();
    for k in 0..n {
        let mut prng = Prng::derive(seed, k);
        agree(
            spec,
            &generate(spec, &mut prng, max_ops, false),
            &mut random,
        );
        let mut h = generate(spec, &mut prng, max_ops, true);
        agree(spec, &h, &mut executed);
        corrupt(spec, &mut prng, &mut h);
        agree(spec, &h, &mut corrupted);
    }
    eprintln!("random    {random:?}\nexecuted  {executed:?}\ncorrupted {corrupted:?}");
    // The generators cover both verdicts.
    assert_eq!(executed.linearizable, n, "executions are linearizable");
    for t in [&random, &corrupted] {
        assert!(
            t.linearizable > n / 20 && t.linearizable < n * 19 / 20,
            "{t:?}"
        );
        assert!(t.sequential > t.linearizable, "{t:?}");
    }
    assert!(executed.with_pending > n / 10 && random.with_pending > n / 10);
    Tally {
        histories: random.histories + executed.histories + corrupted.histories,
        ..Tally::default()
    }
}

#[test]
fn register_agrees_with_brute_force() {
    let t = sweep(&Register::<u8>::new(), 0x5EED_0001, 2000, 7);
    assert!(t.histories >= 6000);
}

#[test]
fn cas_register_agrees_with_brute_force() {
    let t = sweep(&CasRegister::<u8>::new(), 0x5EED_0002, 2000, 7);
    assert!(t.histories >= 6000);
    let t = sweep(&CasRegister::<u8>::with_initial(0), 0x5EED_0003, 500, 7);
    assert!(t.histories >= 1500);
}

#[test]
fn per_key_partitioned_agrees_with_brute_force() {
    // Two keys: check_linearizable splits the history; brute force does not.
    let t = sweep(&PerKey::<u8, Register<u8>>::default(), 0x5EED_0004, 1000, 8);
    assert!(t.histories >= 3000);
}

/// The spec without its hints (no `preserves_state` reduction, no partitioning).
struct Plain<'a, S>(&'a S);

impl<S: SequentialSpec> SequentialSpec for Plain<'_, S> {
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

/// Histories too long for brute force: the hints (reduction, partitioning) never change a
/// verdict, and every witness is valid.
fn hints_agree<S: Gen>(spec: &S, seed: u64, n: u64, max_ops: u64) {
    let (mut lin, mut total) = (0, 0);
    for k in 0..n {
        let mut prng = Prng::derive(seed, k);
        let mut h = generate(spec, &mut prng, max_ops, true);
        if k % 2 == 1 {
            corrupt(spec, &mut prng, &mut h);
        }
        for sequential in [false, true] {
            let check = |hinted: bool| {
                let budget = Budget::steps(2_000_000);
                match (sequential, hinted) {
                    (false, true) => check_linearizable(spec, &h, budget),
                    (false, false) => check_linearizable(&Plain(spec), &h, budget),
                    (true, true) => check_sequential(spec, &h, budget),
                    (true, false) => check_sequential(&Plain(spec), &h, budget),
                }
            };
            let (hinted, plain) = (check(true), check(false));
            if let Outcome::Linearizable { order } = &hinted {
                if sequential {
                    assert_sc_witness(spec, &h, order);
                } else {
                    assert_lin_witness(spec, &h, order);
                }
            }
            if let (Some(a), Some(b)) = (hinted.holds(), plain.holds()) {
                assert_eq!(a, b, "sequential={sequential}: {h:?}");
                total += 1;
                lin += a as u64;
            }
        }
    }
    eprintln!("{total} verdicts compared, {lin} consistent");
    assert!(total > n && lin > n / 4 && lin < total);
}

#[test]
fn hints_never_change_verdicts() {
    hints_agree(&Register::<u8>::new(), 0x5EED_0005, 300, 30);
    hints_agree(&CasRegister::<u8>::with_initial(0), 0x5EED_0006, 300, 30);
    hints_agree(&PerKey::<u8, Register<u8>>::default(), 0x5EED_0007, 300, 40);
}
