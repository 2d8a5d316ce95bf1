//! `txn-list-append` workload: strict-serializable transactions over append-only lists, by
//! serial execution at a single owner.
//!
//! Demonstrates the same design as `txn-rw-register` on Elle's favourite data type: the first
//! node of `init` holds every list and runs each `txn{txn:[[f,k,v]…]}` whole, one at a time
//! (`append` adds `v` at the end of list `k`; `r` fills in the whole list, `null` if nothing
//! was ever appended); the other nodes forward with [`Ctx::proxy`]. Forwarded requests that
//! time out (`--timeout-ms`, default 2000) are answered with error 0 (indefinite).

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use synod_node::{Body, Ctx, ErrorCode, Message, Node};

#[derive(Default)]
struct Lists {
    /// Lists by key (the key's JSON text).
    map: HashMap<String, Vec<Value>>,
}

impl Lists {
    fn serve(&mut self, ctx: &mut Ctx<Self>, msg: &Message) {
        if msg.kind() != "txn" {
            return ctx.not_supported(msg);
        }
        let mut txn = match msg.body.get::<Vec<(String, Value, Value)>>("txn") {
            Ok(txn) => txn,
            Err(e) => return ctx.fail(msg, &e),
        };
        if let Some((f, ..)) = txn.iter().find(|(f, ..)| f != "r" && f != "append") {
            let text = format!("unknown micro-op `{f}`");
            return ctx.error(msg, ErrorCode::MalformedRequest, text);
        }
        for (f, k, v) in &mut txn {
            let key = k.to_string();
            if f == "r" {
                *v = self
                    .map
                    .get(&key)
                    .map_or(Value::Null, |l| Value::from(l.clone()));
            } else {
                self.map.entry(key).or_default().push(v.clone());
            }
        }
        ctx.reply(msg, Body::new("txn_ok").with("txn", txn));
    }
}

impl Node for Lists {
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
    synod_node::run(Lists::default());
}
