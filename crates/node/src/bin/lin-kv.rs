//! `lin-kv` workload: a linearizable key-value store that keeps nothing itself and proxies
//! every operation to the workbench's `lin-kv` service.
//!
//! Demonstrates RPCs and the service client [`Kv`]: each client request becomes one call to
//! the service, and its callback answers the client (`read_ok`, `write_ok`, `cas_ok`, or the
//! service's error 20 / 22 passed on). Linearizable because the service is and each
//! operation takes effect there, inside its client's request. A call that times out
//! (`--timeout-ms`, default 2000) is answered with error 0, *indefinite*: the operation may
//! still take effect, and the checker must allow for both.

use serde_json::Value;
use std::time::Duration;
use synod_node::{Body, Ctx, Kv, Message, Node};

struct LinKvProxy {
    kv: Kv,
}

impl Node for LinKvProxy {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let timeout = synod_node::arg_or("--timeout-ms", 2000);
        ctx.set_rpc_timeout(Duration::from_millis(timeout));
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        let key = msg.body.value("key").cloned().unwrap_or(Value::Null);
        match msg.kind() {
            "read" => {
                self.kv.read(ctx, key, move |_, ctx, res| match res {
                    Ok(value) => ctx.reply(&msg, Body::new("read_ok").with("value", value)),
                    Err(e) => ctx.fail(&msg, &e),
                });
            }
            "write" => {
                let value = msg.body.value("value").cloned();
                self.kv
                    .write(ctx, key, value, move |_, ctx, res| match res {
                        Ok(()) => ctx.reply(&msg, Body::new("write_ok")),
                        Err(e) => ctx.fail(&msg, &e),
                    });
            }
            "cas" => {
                let from = msg.body.value("from").cloned();
                let to = msg.body.value("to").cloned();
                let create = msg.body.value("create_if_not_exists") == Some(&Value::Bool(true));
                self.kv
                    .cas(ctx, key, from, to, create, move |_, ctx, res| match res {
                        Ok(()) => ctx.reply(&msg, Body::new("cas_ok")),
                        Err(e) => ctx.fail(&msg, &e),
                    });
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(LinKvProxy { kv: Kv::lin() });
}
