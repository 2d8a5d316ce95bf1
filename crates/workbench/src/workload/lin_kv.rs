//! `lin-kv`: `read{key}` → `read_ok{value}`; `write{key,value}` → `write_ok`;
//! `cas{key,from,to}` → `cas_ok` (errors 20 key-does-not-exist, 22 precondition-failed).
//!
//! Checked per key for linearizability by synod-consistency (the `kv` model: independent
//! compare-and-set registers starting empty). A read answered "key does not exist" read
//! nothing (`nil`); a compare-and-set answered 20 or 22 completed and returned false; any
//! other definite error means the operation did not happen; timeouts and indefinite errors
//! leave it open (it may have taken effect at any time after its invocation).

use super::{field, json_to_value, Invocation, Verdict, Workload};
use crate::wire::ErrorCode;
use serde_json::json;
use synod_consistency::format::{Completion, Recorded, Value};
use synod_consistency::models::{check_recorded, CheckOptions, Model};
use synod_core::Prng;

/// The linearizable key-value workload.
#[derive(Clone, Copy, Debug)]
pub struct LinKv {
    keys: usize,
}

impl LinKv {
    /// Operations over `keys` keys (at least 1).
    pub fn new(keys: usize) -> LinKv {
        LinKv { keys: keys.max(1) }
    }
}

/// The error code of a failed operation's value, if it recorded one.
fn fail_code(v: &Value) -> Option<i64> {
    match v {
        Value::Map(m) => m.iter().find_map(|(k, v)| match (k, v) {
            (Value::Str(k), Value::Int(c)) if k == "code" => Some(*c),
            _ => None,
        }),
        _ => None,
    }
}

impl Workload for LinKv {
    fn invoke(&mut self, _client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase {
            return None;
        }
        let key = rng.below(self.keys as u64) as i64;
        let (f, value, body) = match rng.below(3) {
            0 => ("read", Value::Nil, json!({"type": "read", "key": key})),
            1 => {
                let v = rng.below(5) as i64;
                (
                    "write",
                    Value::Int(v),
                    json!({"type": "write", "key": key, "value": v}),
                )
            }
            _ => {
                let (from, to) = (rng.below(5) as i64, rng.below(5) as i64);
                (
                    "cas",
                    Value::List(vec![Value::Int(from), Value::Int(to)]),
                    json!({"type": "cas", "key": key, "from": from, "to": to}),
                )
            }
        };
        Some(Invocation {
            f: f.into(),
            key: Some(Value::Int(key)),
            value,
            body,
        })
    }

    fn error_result(&self, inv: &Invocation, code: ErrorCode) -> Option<Value> {
        (inv.f == "read" && code == ErrorCode::KeyDoesNotExist).then_some(Value::Nil)
    }

    fn complete(
        &mut self,
        _client: usize,
        inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        match inv.f.as_str() {
            "read" => Ok(json_to_value(field(reply, "value")?)),
            _ => Ok(inv.value.clone()),
        }
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        // A compare-and-set that failed for another reason than its comparison did not happen.
        let mut h = history.clone();
        h.ops.retain(|op| match &op.completion {
            Completion::Fail(v) if op.f == "cas" => matches!(fail_code(v), Some(20 | 22)),
            _ => true,
        });
        match check_recorded(&h, &CheckOptions::new(Model::Kv)) {
            Ok(r) => {
                let valid = r.valid == Some(true);
                let failures = match r.valid {
                    Some(true) => Vec::new(),
                    Some(false) => vec![format!("not linearizable ({} key(s))", r.anomalies.len())],
                    None => vec!["linearizability unknown (search budget)".into()],
                };
                Verdict {
                    valid,
                    failures,
                    report: json!({
                        "valid": r.valid,
                        "model": "kv",
                        "consistency": "linearizable",
                        "keys": r.parts,
                        "failed_ops": r.failed_ops,
                        "unknown_ops": r.unknown_ops,
                        "anomalies": r.anomalies.iter().map(|a| json!({"key": a.key, "explanation": a.explanation})).collect::<Vec<_>>(),
                    }),
                    stable_latencies: None,
                }
            }
            Err(e) => Verdict {
                valid: false,
                failures: vec![format!("history does not fit the kv model: {e}")],
                report: json!({"error": e.to_string()}),
                stable_latencies: None,
            },
        }
    }
}
