//! `kafka` workload: replicated logs with offsets, by a single owner.
//!
//! Demonstrates the simplest correct design, and [`Ctx::proxy`]: the first node of `init`
//! owns every log; the others forward each request to it and relay its answer. The owner
//! appends `send{key,msg}` at the next offset of the key's log (0, 1, 2, …: no gaps, no
//! duplicates), `poll{offsets}` returns each requested log from the given offset on,
//! `commit_offsets` keeps the highest offset committed per key, `list_committed_offsets`
//! reports them. Requests forwarded during a partition time out (`--timeout-ms`, default
//! 2000) and are answered with error 0 (indefinite). The owner is a single point of failure:
//! correct under partitions, not under the loss of its memory (kill).

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use synod_node::{Body, Ctx, ErrorCode, Message, Node};

/// A key as the logs name it: a string as is, any other JSON value as its JSON text (the
/// object keys of `poll` and `commit_offsets` are strings either way).
fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Default)]
struct Kafka {
    logs: HashMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
}

impl Kafka {
    /// Serves a request at the owner.
    fn serve(&mut self, ctx: &mut Ctx<Self>, msg: &Message) {
        match msg.kind() {
            "send" => match (msg.body.value("key").map(key_name), msg.body.value("msg")) {
                (Some(key), Some(m)) => {
                    let log = self.logs.entry(key).or_default();
                    log.push(m.clone());
                    let offset = log.len() - 1;
                    ctx.reply(msg, Body::new("send_ok").with("offset", offset));
                }
                _ => ctx.error(
                    msg,
                    ErrorCode::MalformedRequest,
                    "send wants a key and a msg",
                ),
            },
            "poll" => match msg.body.get::<BTreeMap<String, u64>>("offsets") {
                Ok(offsets) => {
                    let mut msgs = BTreeMap::new();
                    for (key, from) in offsets {
                        let Some(log) = self.logs.get(&key) else {
                            continue;
                        };
                        let from = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
                        let entries: Vec<(usize, &Value)> =
                            log.iter().enumerate().skip(from).collect();
                        msgs.insert(key, entries);
                    }
                    ctx.reply(msg, Body::new("poll_ok").with("msgs", msgs));
                }
                Err(e) => ctx.fail(msg, &e),
            },
            "commit_offsets" => match msg.body.get::<BTreeMap<String, u64>>("offsets") {
                Ok(offsets) => {
                    for (key, off) in offsets {
                        let c = self.committed.entry(key).or_default();
                        *c = (*c).max(off);
                    }
                    ctx.reply(msg, Body::new("commit_offsets_ok"));
                }
                Err(e) => ctx.fail(msg, &e),
            },
            "list_committed_offsets" => match msg.body.get::<Vec<Value>>("keys") {
                Ok(keys) => {
                    let offsets: BTreeMap<String, u64> = keys
                        .iter()
                        .map(key_name)
                        .filter_map(|k| self.committed.get(&k).map(|o| (k, *o)))
                        .collect();
                    let body = Body::new("list_committed_offsets_ok").with("offsets", offsets);
                    ctx.reply(msg, body);
                }
                Err(e) => ctx.fail(msg, &e),
            },
            _ => ctx.not_supported(msg),
        }
    }
}

impl Node for Kafka {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let timeout = synod_node::arg_or("--timeout-ms", 2000);
        ctx.set_rpc_timeout(Duration::from_millis(timeout));
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        let owner = ctx.node_ids().first().cloned().unwrap_or_default();
        if ctx.node_id() == owner {
            self.serve(ctx, &msg);
        } else if msg.body.in_reply_to.is_none() {
            ctx.proxy(&owner, &msg);
        }
    }
}

fn main() {
    synod_node::run(Kafka::default());
}
