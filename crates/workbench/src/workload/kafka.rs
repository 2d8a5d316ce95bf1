//! `kafka`: replicated logs. `send{key,msg}` → `send_ok{offset}`; `poll{offsets}` →
//! `poll_ok{msgs:{key:[[offset,msg],…]}}`; `commit_offsets{offsets}` → `commit_offsets_ok`;
//! `list_committed_offsets{keys}` → `list_committed_offsets_ok{offsets}`.
//!
//! Each client is a producer and a consumer: it sends unique messages to random keys, polls
//! from the offset after the last message it consumed on each key, commits what it consumed,
//! and lists committed offsets. The history is checked by synod-consistency's kafka checker:
//! inconsistent offsets (two messages at one offset), duplicates, skipped or non-monotonic
//! offsets within a poll, polls below the requested offset, lost writes (an acknowledged send
//! that consumers read past), committed offsets going backwards, unexpected messages.

use super::{field, json_to_value, Invocation, Verdict, Workload};
use serde_json::json;
use std::collections::BTreeMap;
use synod_consistency::checkers::kafka::{check_kafka, KafkaAnomalyKind, KafkaOptions};
use synod_consistency::format::{Recorded, Value};
use synod_core::Prng;

/// The kafka workload.
#[derive(Clone, Debug)]
pub struct Kafka {
    keys: usize,
    next_msg: i64,
    /// Per client, per key: the offset of the last message it consumed.
    consumed: BTreeMap<usize, BTreeMap<String, i64>>,
}

impl Kafka {
    /// Logs named `"0"` … over `keys` keys.
    pub fn new(keys: usize) -> Kafka {
        Kafka {
            keys: keys.max(1),
            next_msg: 0,
            consumed: BTreeMap::new(),
        }
    }
}

fn offsets_value(m: &BTreeMap<String, i64>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, o)| (Value::Str(k.clone()), Value::Int(*o)))
            .collect(),
    )
}

impl Workload for Kafka {
    fn invoke(&mut self, client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase {
            return None;
        }
        let key = rng.below(self.keys as u64).to_string();
        let mine = self.consumed.entry(client).or_default();
        Some(match rng.below(10) {
            0..=4 => {
                let msg = self.next_msg;
                self.next_msg += 1;
                Invocation {
                    f: "send".into(),
                    key: None,
                    value: Value::List(vec![Value::Str(key.clone()), Value::Int(msg)]),
                    body: json!({"type": "send", "key": key, "msg": msg}),
                }
            }
            5..=7 => {
                // From the offset after the last consumed message, on every key.
                let from: BTreeMap<String, i64> = (0..self.keys)
                    .map(|k| {
                        let k = k.to_string();
                        let o = mine.get(&k).map_or(0, |o| o + 1);
                        (k, o)
                    })
                    .collect();
                Invocation {
                    f: "poll".into(),
                    key: None,
                    value: offsets_value(&from),
                    body: json!({"type": "poll", "offsets": from}),
                }
            }
            8 if !mine.is_empty() => Invocation {
                f: "commit_offsets".into(),
                key: None,
                value: offsets_value(mine),
                body: json!({"type": "commit_offsets", "offsets": mine}),
            },
            _ => {
                let keys: Vec<String> = (0..self.keys).map(|k| k.to_string()).collect();
                Invocation {
                    f: "list_committed_offsets".into(),
                    key: None,
                    value: Value::List(keys.iter().map(|k| Value::Str(k.clone())).collect()),
                    body: json!({"type": "list_committed_offsets", "keys": keys}),
                }
            }
        })
    }

    fn complete(
        &mut self,
        client: usize,
        inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        match inv.f.as_str() {
            "send" => field(reply, "offset")?
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| "\"offset\" is not an integer".into()),
            "poll" => {
                let msgs = field(reply, "msgs")?
                    .as_object()
                    .ok_or("\"msgs\" is not an object")?;
                let mine = self.consumed.entry(client).or_default();
                for (k, list) in msgs {
                    let list = list.as_array().ok_or("a key's messages are not a list")?;
                    for pair in list {
                        let off = pair
                            .get(0)
                            .and_then(|o| o.as_i64())
                            .ok_or("a message is not [offset, msg]")?;
                        let e = mine.entry(k.clone()).or_insert(off);
                        *e = (*e).max(off);
                    }
                }
                Ok(json_to_value(&serde_json::Value::Object(msgs.clone())))
            }
            "list_committed_offsets" => {
                let o = field(reply, "offsets")?;
                if !o.is_object() {
                    return Err("\"offsets\" is not an object".into());
                }
                Ok(json_to_value(o))
            }
            _ => Ok(Value::Nil),
        }
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        let r = check_kafka(history, &KafkaOptions::default());
        let failures = KafkaAnomalyKind::ALL
            .iter()
            .filter(|k| r.count(**k) > 0)
            .map(|k| format!("{} {}", k.name(), r.count(*k)))
            .collect();
        Verdict {
            valid: r.valid,
            failures,
            report: serde_json::to_value(&r).unwrap_or_default(),
            stable_latencies: None,
        }
    }
}
