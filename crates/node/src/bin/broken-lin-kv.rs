//! BROKEN `lin-kv` node: each node keeps its own map and never talks to the others.
//!
//! A write at one node is invisible at the others: a later read there returns an old value or
//! `key-does-not-exist`, and a cas there compares against a stale value. The linearizability
//! checker must find keys whose history has no legal order.

use serde_json::Value;
use std::collections::BTreeMap;
use synod_node::{Body, Ctx, ErrorCode, Message, Node};

#[derive(Default)]
struct LocalKv {
    map: BTreeMap<String, Value>,
}

impl Node for LocalKv {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        // Keys are any JSON value; their JSON text keys the map.
        let key = msg
            .body
            .value("key")
            .map_or_else(String::new, Value::to_string);
        match msg.kind() {
            "read" => match self.map.get(&key) {
                Some(v) => {
                    let body = Body::new("read_ok").with("value", v);
                    ctx.reply(&msg, body);
                }
                None => ctx.error(&msg, ErrorCode::KeyDoesNotExist, "no such key"),
            },
            "write" => {
                let value = msg.body.value("value").cloned().unwrap_or_default();
                self.map.insert(key, value);
                ctx.reply(&msg, Body::new("write_ok"));
            }
            "cas" => {
                let from = msg.body.value("from").cloned().unwrap_or_default();
                let to = msg.body.value("to").cloned().unwrap_or_default();
                match self.map.get_mut(&key) {
                    None => ctx.error(&msg, ErrorCode::KeyDoesNotExist, "no such key"),
                    Some(v) if *v != from => {
                        let text = format!("expected {from}, found {v}");
                        ctx.error(&msg, ErrorCode::PreconditionFailed, text);
                    }
                    Some(v) => {
                        *v = to;
                        ctx.reply(&msg, Body::new("cas_ok"));
                    }
                }
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(LocalKv::default());
}
