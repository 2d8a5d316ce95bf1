//! The recorded-history path (`synod lin`): adapters, parallel keys, budgets, explanations,
//! held to generated histories whose verdict is known by construction and to a brute-force
//! reference written directly over recorded operations.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
use synod_consistency::generate::{generate, GenSpec};
use synod_consistency::models::{check_recorded, CheckOptions, Consistency, Model};
use synod_consistency::Budget;
use synod_core::Prng;

fn opts(model: Model, threads: usize) -> CheckOptions {
    CheckOptions {
        threads,
        ..CheckOptions::new(model)
    }
}

#[test]
fn generated_histories_get_their_known_verdicts() {
    for seed in 0..40u64 {
        let ops = [20, 200, 1000][seed as usize % 3];
        let processes = 2 + (seed as usize % 9);
        let mut spec = GenSpec::register(ops, processes, seed);
        let good = generate(&spec);
        let r = check_recorded(&good, &opts(Model::CasRegister, 1)).unwrap();
        assert_eq!(r.valid, Some(true), "seed {seed}: {:?}", r.anomalies);
        spec.stale_read = true;
        let bad = generate(&spec);
        let r = check_recorded(&bad, &opts(Model::CasRegister, 1)).unwrap();
        assert_eq!(r.valid, Some(false), "seed {seed}: stale read not found");
        assert_eq!(r.anomalies.len(), 1);
        assert!(!r.anomalies[0].ops.is_empty());
    }
}

#[test]
fn plain_register_histories() {
    for seed in 0..10u64 {
        let mut spec = GenSpec::register(300, 4, seed);
        spec.cas_percent = 0;
        assert_eq!(
            check_recorded(&generate(&spec), &opts(Model::Register, 1))
                .unwrap()
                .valid,
            Some(true)
        );
        spec.stale_read = true;
        assert_eq!(
            check_recorded(&generate(&spec), &opts(Model::Register, 1))
                .unwrap()
                .valid,
            Some(false)
        );
    }
}

/// A kv history with stale reads injected on two keys: the lowest of them is reported,
/// whatever the number of threads.
#[test]
fn kv_reports_the_lowest_failing_key_for_any_thread_count() {
    for seed in 0..6u64 {
        let mut merged = Recorded::default();
        let mut bad_keys = Vec::new();
        // Build per-key histories with disjoint processes, then interleave by renumbering.
        for key in 0..6i64 {
            let mut spec = GenSpec::register(150, 3, seed * 100 + key as u64);
            spec.stale_read = (key + seed as i64) % 3 == 1;
            if spec.stale_read {
                bad_keys.push(key);
            }
            let h = generate(&spec);
            for mut op in h.ops {
                op.key = Some(Value::Int(key));
                op.process += 1000 * key as u64;
                // Spread keys over time: key k's events sit at 7 * position + k.
                op.call = op.call * 7 + key as u64;
                op.ret = op.ret.map(|t| t * 7 + key as u64);
                merged.ops.push(op);
            }
        }
        merged.ops.sort_by_key(|o| o.call);
        let lowest = *bad_keys.iter().min().unwrap();
        for threads in [1, 2, 4] {
            let r = check_recorded(&merged, &opts(Model::Kv, threads)).unwrap();
            assert_eq!(r.valid, Some(false));
            assert_eq!(r.parts, 6);
            assert_eq!(
                r.anomalies[0].key.as_deref(),
                Some(lowest.to_string().as_str()),
                "seed {seed}, {threads} threads"
            );
        }
        // Without the bad keys, valid.
        let good = Recorded {
            ops: merged
                .ops
                .iter()
                .filter(|o| !bad_keys.contains(&o.key.as_ref().unwrap().as_int().unwrap()))
                .cloned()
                .collect(),
            skipped_events: 0,
        };
        assert_eq!(
            check_recorded(&good, &opts(Model::Kv, 3)).unwrap().valid,
            Some(true)
        );
    }
}

#[test]
fn a_cancelled_check_is_unknown_with_partial_results() {
    let h = generate(&GenSpec::register(2000, 8, 7));
    let flag = Arc::new(AtomicBool::new(true));
    let options = CheckOptions {
        budget: Budget::unlimited().with_cancel(flag),
        ..CheckOptions::new(Model::CasRegister)
    };
    let r = check_recorded(&h, &options).unwrap();
    assert_eq!(r.valid, None);
    let r = check_recorded(
        &h,
        &CheckOptions {
            budget: Budget::steps(500),
            ..CheckOptions::new(Model::CasRegister)
        },
    )
    .unwrap();
    assert_eq!(r.valid, None);
    assert!(!r.order.is_empty(), "partial result: a legal prefix");
}

fn op(
    process: u64,
    f: &str,
    value: Value,
    completion: Completion,
    call: u64,
    ret: Option<u64>,
) -> RecordedOp {
    RecordedOp {
        process,
        f: f.to_string(),
        key: None,
        value,
        completion,
        call,
        ret,
        call_nanos: None,
        ret_nanos: None,
        line: call as usize + 1,
    }
}

#[test]
fn explanation_names_the_line_and_what_the_model_expected() {
    // write 1 ok; then a read returns 2.
    let h = Recorded {
        ops: vec![
            op(
                0,
                "write",
                Value::Int(1),
                Completion::Ok(Value::Int(1)),
                0,
                Some(1),
            ),
            op(
                1,
                "read",
                Value::Nil,
                Completion::Ok(Value::Int(2)),
                2,
                Some(3),
            ),
        ],
        skipped_events: 0,
    };
    let r = check_recorded(&h, &CheckOptions::new(Model::CasRegister)).unwrap();
    assert_eq!(r.valid, Some(false));
    let a = &r.anomalies[0];
    assert_eq!(a.prefix_len, 1);
    assert_eq!(a.ops[0].line, 3);
    assert_eq!(a.expected, vec!["read 1".to_string()]);
    assert!(a.explanation.contains("line 3"), "{}", a.explanation);
}

#[test]
fn operations_outside_the_model_are_line_numbered_errors() {
    let h = Recorded {
        ops: vec![op(
            0,
            "enqueue",
            Value::Int(1),
            Completion::Ok(Value::Nil),
            4,
            Some(5),
        )],
        skipped_events: 0,
    };
    let e = check_recorded(&h, &CheckOptions::new(Model::CasRegister)).unwrap_err();
    assert_eq!(e.line, 5);
    assert!(e.message.contains("enqueue"), "{e}");
    let e = check_recorded(&h, &CheckOptions::new(Model::Kv)).unwrap_err();
    assert!(e.message.contains(":key"), "{e}");
}

// ---- A brute-force reference over recorded operations --------------------------------------

/// Jepsen's CAS-register semantics stated plainly: some subset of the unknown operations plus
/// every completed one (`:fail` non-CAS operations excluded) in some order that respects real
/// time, run on a register starting at nil, gives every completed operation its result.
fn brute_force(h: &Recorded) -> bool {
    let ops: Vec<&RecordedOp> = h
        .ops
        .iter()
        .filter(|o| !(o.is_fail() && o.f != "cas"))
        .collect();
    let n = ops.len();
    let must: u32 = (0..n)
        .filter(|&i| ops[i].ret.is_some())
        .fold(0, |m, i| m | 1 << i);
    fn go(ops: &[&RecordedOp], used: u32, must: u32, reg: &Value) -> bool {
        if used & must == must {
            return true;
        }
        for i in 0..ops.len() {
            if used & (1 << i) != 0 {
                continue;
            }
            // Real time: every unused completed op must not have returned before i's call.
            let blocked = (0..ops.len()).any(|j| {
                j != i
                    && used & (1 << j) == 0
                    && must & (1 << j) != 0
                    && ops[j].ret.is_some_and(|t| t < ops[i].call)
            });
            if blocked {
                continue;
            }
            let o = ops[i];
            let next = match (o.f.as_str(), &o.completion) {
                ("read", Completion::Ok(v)) if v == reg => Some(reg.clone()),
                ("read", Completion::Ok(_)) => None,
                ("read", _) => Some(reg.clone()),
                ("write", _) => Some(o.value.clone()),
                ("cas", c) => {
                    let pair = o.value.as_list().unwrap();
                    let matches = *reg == pair[0];
                    match c {
                        Completion::Ok(_) if matches => Some(pair[1].clone()),
                        Completion::Fail(_) if !matches => Some(reg.clone()),
                        Completion::Unknown(_) if matches => Some(pair[1].clone()),
                        Completion::Unknown(_) => Some(reg.clone()),
                        _ => None,
                    }
                }
                _ => unreachable!(),
            };
            if let Some(next) = next {
                if go(ops, used | 1 << i, must, &next) {
                    return true;
                }
            }
        }
        false
    }
    go(&ops, 0, must, &Value::Nil)
}

fn random_history(rng: &mut Prng, n: usize) -> Recorded {
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    let mut ops = Vec::new();
    let mut t = 0u64;
    let mut busy_until = [0u64; 3];
    for i in 0..n {
        let p = rng.below(3) as usize;
        let call = busy_until[p].max(t) + rng.below(3);
        let ret = call + 1 + rng.below(6);
        t = call;
        busy_until[p] = ret + 1;
        let v = |rng: &mut Prng| {
            let k = rng.below(3) as i64;
            if k == 0 {
                Value::Nil
            } else {
                Value::Int(k)
            }
        };
        let (f, value) = match rng.below(3) {
            0 => ("read", Value::Nil),
            1 => ("write", Value::Int(1 + rng.below(2) as i64)),
            _ => (
                "cas",
                Value::List(vec![v(rng), Value::Int(1 + rng.below(2) as i64)]),
            ),
        };
        let completion = match (rng.below(10), f) {
            (0, _) => Completion::Unknown(Value::Nil),
            (1, _) => Completion::Fail(Value::Nil),
            (_, "read") => Completion::Ok(v(rng)),
            _ => Completion::Ok(value.clone()),
        };
        let unknown = matches!(completion, Completion::Unknown(_));
        events.push((call, false, i));
        if !unknown {
            events.push((ret, true, i));
        }
        ops.push((p as u64 + 10 * i as u64, f, value, completion));
    }
    // Positions: sorted event order.
    events.sort();
    let mut call = vec![0; n];
    let mut retp = vec![None; n];
    for (pos, (_, is_ret, i)) in events.iter().enumerate() {
        if *is_ret {
            retp[*i] = Some(pos as u64);
        } else {
            call[*i] = pos as u64;
        }
    }
    let mut rec: Vec<RecordedOp> = ops
        .into_iter()
        .enumerate()
        .map(|(i, (p, f, value, c))| op(p, f, value, c, call[i], retp[i]))
        .collect();
    rec.sort_by_key(|o| o.call);
    Recorded {
        ops: rec,
        skipped_events: 0,
    }
}

#[test]
fn agrees_with_the_brute_force_reference_on_thousands_of_small_histories() {
    let mut rng = Prng::new(0x11E5);
    let (mut yes, mut no) = (0, 0);
    for round in 0..4000 {
        let n = 1 + (round % 7);
        let h = random_history(&mut rng, n);
        let expected = brute_force(&h);
        let got = check_recorded(&h, &CheckOptions::new(Model::CasRegister))
            .unwrap()
            .valid;
        assert_eq!(got, Some(expected), "round {round}: {h:#?}");
        if expected {
            yes += 1;
        } else {
            no += 1;
        }
    }
    // Both verdicts are well represented, so the agreement means something.
    assert!(yes > 500 && no > 500, "yes {yes}, no {no}");
}

#[test]
fn sequential_consistency_accepts_a_stale_read_that_linearizability_rejects() {
    // write 1 completes, then a later read by another process sees nil (the initial value).
    let h = Recorded {
        ops: vec![
            op(
                0,
                "write",
                Value::Int(1),
                Completion::Ok(Value::Int(1)),
                0,
                Some(1),
            ),
            op(
                1,
                "read",
                Value::Nil,
                Completion::Ok(Value::Nil),
                2,
                Some(3),
            ),
        ],
        skipped_events: 0,
    };
    let lin = check_recorded(&h, &CheckOptions::new(Model::Register)).unwrap();
    assert_eq!(lin.valid, Some(false));
    let sc = check_recorded(
        &h,
        &CheckOptions {
            consistency: Consistency::Sequential,
            ..CheckOptions::new(Model::Register)
        },
    )
    .unwrap();
    assert_eq!(sc.valid, Some(true));
}
