//! `g-counter` and `pn-counter`: `add{delta}` → `add_ok`; `read{}` → `read_ok{value}`.
//!
//! The counters may be eventually consistent, so only the final reads (one per client,
//! after the faults heal and the network settles) are judged: each must lie within the sums
//! that the `:ok` and unknown adds allow (synod-consistency's counter-bounds checker, which is
//! Jepsen's `counter` for non-negative deltas): at least every add acknowledged before the
//! read began, at most every add that did not fail and began before it ended.

use super::{field, Invocation, Verdict, Workload};
use serde_json::json;
use synod_consistency::checkers::{check_counter, CounterOptions};
use synod_consistency::format::{Recorded, Value};
use synod_core::Prng;

/// The grow-only (`g-counter`) or positive-negative (`pn-counter`) counter workload.
#[derive(Clone, Copy, Debug)]
pub struct Counter {
    negative: bool,
}

impl Counter {
    /// A counter workload; `negative` allows negative deltas (`pn-counter`).
    pub fn new(negative: bool) -> Counter {
        Counter { negative }
    }
}

impl Workload for Counter {
    fn has_final(&self) -> bool {
        true
    }

    fn invoke(&mut self, _client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase || rng.below(2) == 0 {
            return Some(Invocation {
                f: "read".into(),
                key: None,
                value: Value::Nil,
                body: json!({"type": "read"}),
            });
        }
        let delta = if self.negative {
            rng.below(11) as i64 - 5
        } else {
            rng.below(5) as i64
        };
        Some(Invocation {
            f: "add".into(),
            key: None,
            value: Value::Int(delta),
            body: json!({"type": "add", "delta": delta}),
        })
    }

    fn complete(
        &mut self,
        _client: usize,
        inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        if inv.f == "read" {
            field(reply, "value")?
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| "\"value\" is not an integer".to_string())
        } else {
            Ok(Value::Nil)
        }
    }

    fn check(&self, history: &Recorded, final_from: u64) -> Verdict {
        let mut h = history.clone();
        h.ops.retain(|op| op.f != "read" || op.call >= final_from);
        let r = check_counter(&h, &CounterOptions::default());
        let mut failures = Vec::new();
        if r.out_of_bounds_count > 0 {
            failures.push(format!(
                "final reads out of bounds {}",
                r.out_of_bounds_count
            ));
        }
        if r.malformed_count > 0 {
            failures.push(format!("malformed reads {}", r.malformed_count));
        }
        if r.reads == 0 {
            failures.push("no final read succeeded".into());
        }
        Verdict {
            valid: r.valid && r.reads > 0,
            failures,
            report: json!({
                "adds": r.adds,
                "failed_adds": r.failed_adds,
                "final_reads": r.reads,
                "out_of_bounds_count": r.out_of_bounds_count,
                "malformed_count": r.malformed_count,
                "final_read": r.final_read.as_ref().map(|b| json!({"value": b.value, "lower": b.lower.to_string(), "upper": b.upper.to_string()})),
                "anomalies": r.anomalies.iter().take(32).map(|a| a.to_string()).collect::<Vec<_>>(),
            }),
            stable_latencies: None,
        }
    }
}
