//! `echo`: `echo{echo}` → `echo_ok{echo}`. Every `:ok` reply must echo its request's value.

use super::{field, json_to_value, Invocation, Verdict, Workload};
use serde_json::json;
use synod_consistency::format::{Completion, Recorded, Value};
use synod_core::Prng;

/// The echo workload: the first thing a new node must get right.
#[derive(Clone, Copy, Debug, Default)]
pub struct Echo;

impl Workload for Echo {
    fn invoke(&mut self, _client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase {
            return None;
        }
        let text = format!("Please echo {}", rng.below(128));
        Some(Invocation {
            f: "echo".into(),
            key: None,
            value: Value::Str(text.clone()),
            body: json!({"type": "echo", "echo": text}),
        })
    }

    fn complete(
        &mut self,
        _client: usize,
        _inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        Ok(json_to_value(field(reply, "echo")?))
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        let mut wrong = Vec::new();
        let mut ok = 0usize;
        for (i, op) in history.ops.iter().enumerate() {
            if let Completion::Ok(got) = &op.completion {
                ok += 1;
                if *got != op.value {
                    wrong.push(
                        json!({"op": i, "sent": op.value.to_string(), "echoed": got.to_string()}),
                    );
                }
            }
        }
        let failures = if wrong.is_empty() {
            Vec::new()
        } else {
            vec![format!("wrong echo {}", wrong.len())]
        };
        Verdict {
            valid: wrong.is_empty(),
            failures,
            report: json!({"ok": ok, "wrong_echo_count": wrong.len(), "wrong_echoes": wrong.iter().take(32).collect::<Vec<_>>()}),
            stable_latencies: None,
        }
    }
}
