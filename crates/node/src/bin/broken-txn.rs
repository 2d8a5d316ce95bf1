//! BROKEN transactional node (`txn-rw-register` and `txn-list-append`): every node applies
//! each micro-op (`r`, `w`, `append`) to its own local map, one by one, sharing nothing.
//!
//! Transactions at different nodes never see each other's writes. With two nodes or more,
//! one transaction at n0 reads x before another at n1 writes it while the n1 one reads y
//! before the n0 one writes it: a cycle of anti-dependencies (G2, write skew), and lists
//! whose versions no single order explains (appends at n0 and n1 to the same key give lists
//! that are not prefixes of one another: caught from read-committed on).
//!
//! Registers are subtler, and a good lesson in what a checker can know: once every node has
//! written every key, running each node's transactions as one block, node after node,
//! explains every read, so a history of such a run may well *be* serializable. It is caught
//! at serializable only when reads of the initial `nil` pin the nodes' blocks in a cycle, and
//! always at strict-serializable, where a read that misses a write completed before it began
//! is a real-time anomaly.

use serde_json::Value;
use std::collections::HashMap;
use synod_node::{Body, Ctx, Message, Node};

#[derive(Default)]
struct LocalTxn {
    map: HashMap<String, Value>,
}

impl Node for LocalTxn {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        if msg.kind() != "txn" {
            return ctx.not_supported(&msg);
        }
        let mut txn = match msg.body.get::<Vec<(String, Value, Value)>>("txn") {
            Ok(txn) => txn,
            Err(e) => return ctx.fail(&msg, &e),
        };
        for (f, k, v) in &mut txn {
            let key = k.to_string();
            match f.as_str() {
                "r" => *v = self.map.get(&key).cloned().unwrap_or(Value::Null),
                "w" => {
                    self.map.insert(key, v.clone());
                }
                _ => {
                    let list = self
                        .map
                        .entry(key)
                        .or_insert_with(|| Value::from(Vec::<Value>::new()));
                    if let Value::Array(items) = list {
                        items.push(v.clone());
                    }
                }
            }
        }
        ctx.reply(&msg, Body::new("txn_ok").with("txn", txn));
    }
}

fn main() {
    synod_node::run(LocalTxn::default());
}
