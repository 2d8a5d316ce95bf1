//! `unique-ids`: `generate{}` → `generate_ok{id}`. No two `:ok` replies may carry equal ids
//! (ids are compared as JSON values: `1` and `"1"` differ).

use super::{field, json_to_value, Invocation, Verdict, Workload};
use serde_json::json;
use std::collections::BTreeMap;
use synod_consistency::format::{Completion, Recorded, Value};
use synod_core::Prng;

/// The unique-ids workload: globally unique ids, available under partitions.
#[derive(Clone, Copy, Debug, Default)]
pub struct UniqueIds;

impl Workload for UniqueIds {
    fn invoke(&mut self, _client: usize, _rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        (!final_phase).then(|| Invocation {
            f: "generate".into(),
            key: None,
            value: Value::Nil,
            body: json!({"type": "generate"}),
        })
    }

    fn complete(
        &mut self,
        _client: usize,
        _inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        Ok(json_to_value(field(reply, "id")?))
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        // Ids keyed by their EDN text, which tells apart values of different types.
        let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.ops.iter().enumerate() {
            if let Completion::Ok(id) = &op.completion {
                seen.entry(id.to_string()).or_default().push(i);
            }
        }
        let ok: usize = seen.values().map(Vec::len).sum();
        let dups: Vec<_> = seen.iter().filter(|(_, ops)| ops.len() > 1).collect();
        let count: usize = dups.iter().map(|(_, ops)| ops.len() - 1).sum();
        let listed: Vec<_> = dups
            .iter()
            .take(32)
            .map(|(id, ops)| json!({"id": id, "ops": ops}))
            .collect();
        Verdict {
            valid: dups.is_empty(),
            failures: if dups.is_empty() {
                Vec::new()
            } else {
                vec![format!("duplicated ids {count}")]
            },
            report: json!({"ok": ok, "distinct_ids": seen.len(), "duplicated_count": count, "duplicated": listed}),
            stable_latencies: None,
        }
    }
}
