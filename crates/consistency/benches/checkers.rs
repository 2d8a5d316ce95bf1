//! Workload checker benchmarks on generated histories: `set-full` on a broadcast-shaped
//! history (thousands of reads, each returning nearly the whole set), and the transaction
//! checker on rw-register histories (serial and from stores that share nothing).
//!
//! ```sh
//! cargo bench -p synod-consistency --bench checkers                  # everything
//! cargo bench -p synod-consistency --bench checkers -- set-full      # one part: set-full, txn
//! cargo bench -p synod-consistency --bench checkers -- --dump FILE   # set-full reports, as JSON
//! cargo bench -p synod-consistency --bench checkers -- --check-txn FILE...  # recorded rw-register runs
//! ```
//!
//! Each case prints the median of three runs. `--dump` writes the set-full reports of many
//! small generated histories (every anomaly kind, with timelines), to compare two versions
//! of the checker.
#![allow(missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time by definition

use std::time::Instant as WallClock;
use synod_consistency::checkers::txn::{check_txn, Isolation, TxnOptions, TxnWorkload};
use synod_consistency::checkers::{check_set_full, SetFullOptions};
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn op(process: u64, f: &str, value: Value, completion: Completion, call: u64) -> RecordedOp {
    let ret = match completion {
        Completion::Unknown(_) => None,
        _ => Some(call + 1),
    };
    RecordedOp {
        process,
        f: f.into(),
        key: None,
        value,
        completion,
        call,
        ret,
        call_nanos: Some(call * 1000),
        ret_nanos: ret.map(|r| r * 1000),
        line: 0,
    }
}

/// A broadcast-shaped set-full history: `adds` integer elements added over the first fifth
/// of the run, `reads` reads spread over all of it, each returning every element added at
/// least a random lag earlier (in add order, as a node's set would), so late reads return
/// nearly everything.
fn broadcast_history(seed: u64, adds: usize, reads: usize) -> Recorded {
    let mut rng = Rng::new(seed);
    let total = adds + reads;
    // Which slots are adds: spread over the first fifth.
    let mut kinds = vec![false; total];
    let span = (total / 5).max(adds);
    let mut placed = 0;
    while placed < adds {
        let i = rng.below(span as u64) as usize;
        if !kinds[i] {
            kinds[i] = true;
            placed += 1;
        }
    }
    let mut ops = Vec::with_capacity(total);
    let mut added: Vec<(u64, i64)> = Vec::new(); // (completion position, element)
    let mut next = 0i64;
    for (i, &is_add) in kinds.iter().enumerate() {
        let call = 2 * i as u64;
        let process = rng.below(25);
        if is_add {
            ops.push(op(
                process,
                "add",
                Value::Int(next),
                Completion::Ok(Value::Nil),
                call,
            ));
            added.push((call + 1, next));
            next += 1;
        } else {
            let lag = rng.below(400);
            let visible: Vec<Value> = added
                .iter()
                .take_while(|&&(ret, _)| ret + lag < call)
                .map(|&(_, x)| Value::Int(x))
                .collect();
            ops.push(op(
                process,
                "read",
                Value::Nil,
                Completion::Ok(Value::List(visible)),
                call,
            ));
        }
    }
    Recorded {
        ops,
        skipped_events: 0,
    }
}

/// A small set-full history with every kind of trouble: failed and unknown adds, elements
/// lost, stale, duplicated, never added, read before their add, malformed reads, and
/// non-integer elements.
fn messy_history(seed: u64) -> Recorded {
    let mut rng = Rng::new(seed);
    let n = 10 + rng.below(60) as usize;
    let elements: Vec<Value> = (0..12)
        .map(|i| match i % 4 {
            0 | 1 => Value::Int(i as i64 - 3),
            2 => Value::Str(format!("e{i}")),
            _ => Value::List(vec![Value::Int(i as i64)]),
        })
        .collect();
    let mut ops = Vec::new();
    let mut present: Vec<Value> = Vec::new();
    for i in 0..n {
        let call = 2 * i as u64 + rng.below(2);
        let process = rng.below(5);
        if rng.below(3) == 0 {
            let x = elements[rng.below(elements.len() as u64) as usize].clone();
            let completion = match rng.below(6) {
                0 => Completion::Fail(Value::Nil),
                1 => Completion::Unknown(Value::Nil),
                _ => Completion::Ok(Value::Nil),
            };
            if !matches!(completion, Completion::Fail(_)) || rng.below(4) == 0 {
                present.push(x.clone());
            }
            ops.push(op(process, "add", x, completion, call));
        } else {
            let mut seen: Vec<Value> = present
                .iter()
                .filter(|_| rng.below(5) != 0)
                .cloned()
                .collect();
            if rng.below(8) == 0 && !seen.is_empty() {
                let d = seen[rng.below(seen.len() as u64) as usize].clone();
                seen.push(d);
            }
            if rng.below(10) == 0 {
                seen.push(Value::Int(100 + rng.below(3) as i64));
            }
            if rng.below(10) == 0 {
                seen.push(elements[rng.below(elements.len() as u64) as usize].clone());
            }
            let value = match rng.below(20) {
                0 => Value::Int(7),
                1 => Value::Set(seen),
                _ => Value::List(seen),
            };
            let completion = match rng.below(12) {
                0 => Completion::Unknown(Value::Nil),
                1 => Completion::Fail(Value::Nil),
                _ => Completion::Ok(value),
            };
            ops.push(op(process, "read", Value::Nil, completion, call));
        }
    }
    ops.sort_by_key(|o| o.call);
    for (i, o) in ops.iter_mut().enumerate() {
        o.call = 2 * i as u64;
        o.ret = o.ret.map(|_| o.call + 1 + (i as u64 % 3) * 2);
        o.call_nanos = Some(o.call * 1000);
        o.ret_nanos = o.ret.map(|r| r * 1000);
    }
    Recorded {
        ops,
        skipped_events: 0,
    }
}

fn median_ms(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[runs.len() / 2]
}

fn time<T>(f: impl Fn() -> T) -> (T, f64) {
    let mut runs = Vec::new();
    let mut out = None;
    for _ in 0..3 {
        let t = WallClock::now();
        let r = f();
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
        out = Some(r);
    }
    (out.expect("three runs"), median_ms(runs))
}

fn set_full() {
    println!("set-full (median of 3 runs)");
    for (adds, reads) in [(300, 2_000), (3_000, 20_000)] {
        let h = broadcast_history(1, adds, reads);
        let refs: usize = h
            .ops
            .iter()
            .filter_map(|o| match &o.completion {
                Completion::Ok(Value::List(v)) => Some(v.len()),
                _ => None,
            })
            .sum();
        let (r, ms) = time(|| check_set_full(&h, &SetFullOptions::default()));
        println!(
            "  {adds:>5} adds, {reads:>6} reads, {refs:>10} element references: {ms:>9.1} ms  ({} stable, {} stale, valid {})",
            r.stable_count, r.stale_count, r.valid
        );
    }
}

/// Rw-register transactions of one to four micro-operations over `keys` keys from
/// `clients` clients, each running atomically at one of `stores` stores that share nothing
/// (one store: a serial, strict serializable store) at a random moment while in flight.
fn register_history(seed: u64, keys: i64, clients: usize, stores: usize, n: usize) -> Recorded {
    let mut rng = Rng::new(seed);
    let mut state: Vec<Vec<Option<i64>>> = vec![vec![None; keys as usize]; stores];
    let mut next = 0i64;
    let mut ops: Vec<RecordedOp> = Vec::new();
    // Per client: the op in flight and whether it has run.
    let mut slots: Vec<Option<(usize, bool)>> = vec![None; clients];
    let mut pos = 0u64;
    let mop = |f: &str, k: i64, v: Value| Value::List(vec![Value::Str(f.into()), Value::Int(k), v]);
    let mut begun = 0;
    while begun < n || slots.iter().any(Option::is_some) {
        let c = rng.below(clients as u64) as usize;
        match slots[c] {
            None if begun < n => {
                let len = 1 + rng.below(4);
                let mops: Vec<Value> = (0..len)
                    .map(|_| {
                        let k = rng.below(keys as u64) as i64;
                        if rng.below(2) == 0 {
                            mop("r", k, Value::Nil)
                        } else {
                            next += 1;
                            mop("w", k, Value::Int(next))
                        }
                    })
                    .collect();
                let mut o = op(
                    c as u64,
                    "txn",
                    Value::List(mops),
                    Completion::Unknown(Value::Nil),
                    pos,
                );
                o.ret = None;
                ops.push(o);
                pos += 1;
                slots[c] = Some((ops.len() - 1, false));
                begun += 1;
            }
            None => {}
            Some((i, false)) => {
                let s = &mut state[c % stores];
                let Value::List(mops) = &ops[i].value else {
                    unreachable!()
                };
                let done: Vec<Value> = mops
                    .iter()
                    .map(|m| {
                        let Value::List(m) = m else { unreachable!() };
                        let (Value::Str(f), Value::Int(k)) = (&m[0], &m[1]) else {
                            unreachable!()
                        };
                        let k = *k as usize;
                        if f == "r" {
                            mop("r", k as i64, s[k].map_or(Value::Nil, Value::Int))
                        } else {
                            let Value::Int(v) = m[2] else { unreachable!() };
                            s[k] = Some(v);
                            mop("w", k as i64, Value::Int(v))
                        }
                    })
                    .collect();
                ops[i].completion = Completion::Ok(Value::List(done));
                slots[c] = Some((i, true));
            }
            Some((i, true)) => {
                ops[i].ret = Some(pos);
                pos += 1;
                slots[c] = None;
            }
        }
    }
    Recorded {
        ops,
        skipped_events: 0,
    }
}

fn txn() {
    println!("txn rw-register at serializable (median of 3 runs)");
    for (keys, stores, n) in [
        (3, 1, 2_000),
        (3, 1, 10_000),
        (32, 1, 10_000),
        (3, 3, 10_000),
        (3, 1, 30_000),
    ] {
        let h = register_history(7, keys, 10, stores, n);
        let on = TxnOptions::new(TxnWorkload::RwRegister, Isolation::Serializable);
        let mut off = on.clone();
        off.inference_window = 0;
        let (r_on, ms_on) = time(|| check_txn(&h, &on));
        let (r_off, ms_off) = time(|| check_txn(&h, &off));
        println!(
            "  {n:>6} txns, {keys:>2} keys, {stores} store(s): {ms_on:>8.1} ms with the inference ({} edges inferred, valid {}), {ms_off:>8.1} ms without (valid {})",
            r_on.edges.serial_derived, r_on.valid, r_off.valid
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        let path = args.get(i + 1).expect("--dump FILE");
        let mut out = Vec::new();
        for seed in 0..400 {
            let h = messy_history(seed);
            for linearizable in [false, true] {
                let options = SetFullOptions {
                    linearizable,
                    timelines: true,
                    max_listed: 3,
                };
                out.push(check_set_full(&h, &options));
            }
        }
        let h = broadcast_history(3, 200, 1_500);
        out.push(check_set_full(
            &h,
            &SetFullOptions {
                timelines: true,
                ..SetFullOptions::default()
            },
        ));
        std::fs::write(
            path,
            serde_json::to_string_pretty(&out).expect("reports serialise"),
        )
        .expect("write the dump");
        println!("{} reports written to {path}", out.len());
        return;
    }
    if args.first().is_some_and(|a| a == "--check-txn") {
        // Recorded rw-register histories: the verdict at serializable with and without
        // the serializability inference.
        for path in &args[1..] {
            let text = std::fs::read_to_string(path).expect("read the history");
            let (h, _) = synod_consistency::format::parse(&text, None).expect("a history");
            let on = TxnOptions::new(TxnWorkload::RwRegister, Isolation::Serializable);
            let mut off = on.clone();
            off.inference_window = 0;
            let (a, b) = (check_txn(&h, &on), check_txn(&h, &off));
            println!("{path}\n  with the inference:    {a}\n  without the inference: {b}");
        }
        return;
    }
    let all = args.is_empty();
    if all || args.iter().any(|a| a == "set-full") {
        set_full();
    }
    if all || args.iter().any(|a| a == "txn") {
        txn();
    }
}
