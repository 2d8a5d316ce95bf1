//! Seeded generators of client histories, linearizable by construction or with one injected
//! anomaly, for tests and benchmarks.
//!
//! Processes issue operations one at a time against one register (or one register per key).
//! Every operation is given a call time, an instant at which it takes effect, and a return
//! time, with random delays in between; the register is then run in the order of those
//! instants, which fixes every result. The history is linearizable by construction (the
//! instants are a witness). Operations may crash (`:info`): such an operation took effect or
//! not (a coin decides) and its process is replaced by a fresh one, as in Jepsen.
//!
//! The injected anomaly is a *stale read*: a completed read is made to return the value of a
//! write `w_old` although another write `w_new` of the same key started after `w_old` returned
//! and itself returned before the read was called. Written values are unique, so no legal
//! order explains the read: the history is then certainly not linearizable.

use crate::format::{event_positions, Completion, Recorded, RecordedOp, Value};
use synod_core::Prng;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenSpec {
    /// Operations in all.
    pub ops: usize,
    /// Processes issuing them concurrently.
    pub processes: usize,
    /// Keys (1: a single register, no `:key`; more: a key-value history with `:key`).
    pub keys: usize,
    /// Per cent of operations that are reads (the rest split between writes and CAS).
    pub read_percent: u64,
    /// Per cent of operations that are compare-and-swaps (0 for a plain register).
    pub cas_percent: u64,
    /// Per mille of operations that crash (`:info`).
    pub info_permille: u64,
    /// Inject one stale read.
    pub stale_read: bool,
    /// The seed.
    pub seed: u64,
}

impl GenSpec {
    /// A linearizable CAS-register history of `ops` operations by `processes` processes.
    pub fn register(ops: usize, processes: usize, seed: u64) -> GenSpec {
        GenSpec {
            ops,
            processes,
            keys: 1,
            read_percent: 50,
            cas_percent: 20,
            info_permille: 10,
            stale_read: false,
            seed,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write(i64),
    Cas(i64, i64),
}

struct GenOp {
    process: u64,
    key: usize,
    kind: Kind,
    call: u64,
    /// When it takes effect; `None`: never (a crashed operation that did not happen).
    point: Option<u64>,
    /// When it returns; `None`: it crashed (`:info`).
    ret: Option<u64>,
    /// Its result, once the register has run: a read's value, a CAS's success.
    result: Option<i64>,
    cas_ok: bool,
}

/// Generates a history as `spec` says. Deterministic in `spec`.
pub fn generate(spec: &GenSpec) -> Recorded {
    let mut rng = Prng::new(spec.seed);
    let processes = spec.processes.max(1);
    let keys = spec.keys.max(1);
    // Next free time and current id of each process slot.
    let mut free: Vec<u64> = (0..processes as u64).map(|p| p * 3).collect();
    let mut ids: Vec<u64> = (0..processes as u64).collect();
    let mut next_id = processes as u64;
    let mut next_value = 1i64;
    let mut ops: Vec<GenOp> = Vec::with_capacity(spec.ops);
    for _ in 0..spec.ops {
        // The slot that is free first issues the next operation.
        let slot = (0..processes)
            .min_by_key(|&s| (free[s], s))
            .expect("a process");
        let call = free[slot] + rng.range_inclusive(0, 20);
        let effect = call + rng.range_inclusive(1, 40);
        let ret = effect + rng.range_inclusive(1, 40);
        let roll = rng.below(100);
        let key = rng.below(keys as u64) as usize;
        let kind = if roll < spec.read_percent {
            Kind::Read
        } else if roll < spec.read_percent + spec.cas_percent {
            let from = rng.range_inclusive(0, next_value as u64) as i64;
            next_value += 1;
            Kind::Cas(from, next_value - 1)
        } else {
            next_value += 1;
            Kind::Write(next_value - 1)
        };
        let crashed = rng.below(1000) < spec.info_permille;
        let (point, ret_time) = if crashed {
            (rng.below(2).eq(&0).then_some(effect), None)
        } else {
            (Some(effect), Some(ret))
        };
        ops.push(GenOp {
            process: ids[slot],
            key,
            kind,
            call,
            point,
            ret: ret_time,
            result: None,
            cas_ok: false,
        });
        free[slot] = ret + 1;
        if crashed {
            ids[slot] = next_id;
            next_id += 1;
        }
    }
    // Run the registers in the order the operations take effect.
    let mut order: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].point.is_some()).collect();
    order.sort_by_key(|&i| (ops[i].point, i));
    let mut registers: Vec<Option<i64>> = vec![None; keys];
    for i in order {
        let o = &mut ops[i];
        let reg = &mut registers[o.key];
        match o.kind {
            Kind::Read => o.result = *reg,
            Kind::Write(v) => *reg = Some(v),
            Kind::Cas(from, to) => {
                o.cas_ok = *reg == Some(from);
                if o.cas_ok {
                    *reg = Some(to);
                }
            }
        }
    }
    if spec.stale_read {
        inject_stale_read(&mut ops, &mut rng);
    }
    to_recorded(&ops, keys > 1)
}

/// Makes one completed read return a value that two completed writes of its key, one after
/// the other and both before the read, rule out (in a history too short to have one, appends
/// such a write, write, read at the end). Picks among the latest such reads, so that a
/// checker has most of the history to get through before it can fail.
fn inject_stale_read(ops: &mut Vec<GenOp>, rng: &mut Prng) {
    let writes: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(ops[i].kind, Kind::Write(_)) && ops[i].ret.is_some())
        .collect();
    let reads: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].kind == Kind::Read && ops[i].ret.is_some())
        .collect();
    // The latest reads that can be made stale, up to 16 of them.
    let mut candidates: Vec<(usize, i64)> = Vec::new();
    for &r in reads.iter().rev() {
        if candidates.len() == 16 {
            break;
        }
        let rc = ops[r].call;
        // w_new: a write of the key returned before the read; w_old: one returned before w_new.
        let stale = writes.iter().rev().find_map(|&n| {
            let new = &ops[n];
            if new.key != ops[r].key || new.ret? >= rc {
                return None;
            }
            writes.iter().rev().find_map(|&o| {
                let old = &ops[o];
                match old.kind {
                    Kind::Write(v) if old.key == new.key && old.ret? < new.call => Some(v),
                    _ => None,
                }
            })
        });
        if let Some(v) = stale {
            candidates.push((r, v));
        }
    }
    if candidates.is_empty() {
        // Too short a history: append write(a), write(b), read -> a by one process at the end.
        let end = ops
            .iter()
            .map(|o| o.ret.unwrap_or(o.call) + 1)
            .max()
            .unwrap_or(0);
        let fresh = ops
            .iter()
            .map(|o| match o.kind {
                Kind::Write(v) | Kind::Cas(_, v) => v,
                Kind::Read => 0,
            })
            .max()
            .unwrap_or(0);
        let process = ops.iter().map(|o| o.process).max().unwrap_or(0) + 1;
        for (k, kind) in [Kind::Write(fresh + 1), Kind::Write(fresh + 2), Kind::Read]
            .into_iter()
            .enumerate()
        {
            let t = end + 10 * k as u64;
            ops.push(GenOp {
                process,
                key: 0,
                kind,
                call: t,
                point: Some(t + 1),
                ret: Some(t + 2),
                result: Some(fresh + 1),
                cas_ok: false,
            });
        }
        return;
    }
    let (r, v) = candidates[rng.below(candidates.len() as u64) as usize];
    ops[r].result = Some(v);
}

fn to_recorded(ops: &[GenOp], with_keys: bool) -> Recorded {
    let times: Vec<(u64, Option<u64>)> = ops.iter().map(|o| (o.call, o.ret)).collect();
    let (call_pos, ret_pos, by_call) = event_positions(&times);
    let value_of = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
    let recorded_ops = by_call
        .into_iter()
        .map(|i| {
            let o = &ops[i];
            let (f, value) = match o.kind {
                Kind::Read => ("read", Value::Nil),
                Kind::Write(v) => ("write", Value::Int(v)),
                Kind::Cas(a, b) => ("cas", Value::List(vec![Value::Int(a), Value::Int(b)])),
            };
            let completion = match (o.ret, o.kind) {
                (None, _) => Completion::Unknown(Value::Nil),
                (Some(_), Kind::Read) => Completion::Ok(value_of(o.result)),
                (Some(_), Kind::Cas(..)) if !o.cas_ok => Completion::Fail(value.clone()),
                (Some(_), _) => Completion::Ok(value.clone()),
            };
            RecordedOp {
                process: o.process,
                f: f.to_string(),
                key: with_keys.then_some(Value::Int(o.key as i64)),
                value,
                completion,
                call: call_pos[i],
                ret: ret_pos[i],
                call_nanos: Some(o.call),
                ret_nanos: o.ret,
                line: call_pos[i] as usize + 1,
            }
        })
        .collect();
    Recorded {
        ops: recorded_ops,
        skipped_events: 0,
    }
}
