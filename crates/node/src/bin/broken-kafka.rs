//! BROKEN `kafka` node: each node numbers and stores the messages it receives by itself.
//!
//! Two nodes hand out the same offset of the same key to different messages, and a poll at
//! one node never sees what was sent at another. The kafka checker must report messages
//! sharing an offset (and the writes that polls lose).

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use synod_node::{Body, Ctx, Message, Node};

#[derive(Default)]
struct LocalLogs {
    logs: HashMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
}

impl Node for LocalLogs {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "send" => {
                let key = match msg.body.value("key") {
                    Some(Value::String(s)) => s.clone(),
                    other => other.map_or_else(String::new, Value::to_string),
                };
                let m = msg.body.value("msg").cloned().unwrap_or_default();
                // The bug: this node's own counter, blind to the other nodes' sends.
                let log = self.logs.entry(key).or_default();
                log.push(m);
                let offset = log.len() - 1;
                ctx.reply(&msg, Body::new("send_ok").with("offset", offset));
            }
            "poll" => {
                let offsets: BTreeMap<String, u64> = msg.body.get("offsets").unwrap_or_default();
                let mut msgs = BTreeMap::new();
                for (key, from) in offsets {
                    let Some(log) = self.logs.get(&key) else {
                        continue;
                    };
                    let entries: Vec<(usize, &Value)> =
                        log.iter().enumerate().skip(from as usize).collect();
                    msgs.insert(key, entries);
                }
                ctx.reply(&msg, Body::new("poll_ok").with("msgs", msgs));
            }
            "commit_offsets" => {
                let offsets: BTreeMap<String, u64> = msg.body.get("offsets").unwrap_or_default();
                self.committed.extend(offsets);
                ctx.reply(&msg, Body::new("commit_offsets_ok"));
            }
            "list_committed_offsets" => {
                let keys: Vec<Value> = msg.body.get("keys").unwrap_or_default();
                let offsets: BTreeMap<String, u64> = keys
                    .iter()
                    .map(|k| k.as_str().map_or_else(|| k.to_string(), str::to_owned))
                    .filter_map(|k| self.committed.get(&k).map(|o| (k, *o)))
                    .collect();
                let body = Body::new("list_committed_offsets_ok").with("offsets", offsets);
                ctx.reply(&msg, body);
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(LocalLogs::default());
}
