//! BROKEN `g-counter` node on the `lww-kv` service: read-modify-write of one shared key.
//!
//! `add{delta}` reads the key `counter` from `lww-kv` (missing: 0), writes back the value
//! plus `delta`, and acknowledges; `read{}` reads the key. Every node does this to the same
//! key, so the counter loses increments two ways:
//!
//! - two adds that read the same value both write `value + delta`: the second write
//!   overwrites the first instead of adding to it (a lost update, as with any unguarded
//!   read-modify-write);
//! - `lww-kv` is replicas that merge by keeping the write with the latest timestamp. A read
//!   may come from a replica that has not seen the latest writes, and of two writes made
//!   from different replicas only one survives the merge: last writer wins, the other is
//!   dropped, even when they were not concurrent in real time (the replicas' clocks are
//!   skewed).
//!
//! The lesson: a last-writer-wins merge keeps one of two concurrent updates and silently
//! drops the other, so it cannot hold a value built by accumulating them. (A cas would not
//! help here either: each replica checks it against its own, possibly stale, copy.) A counter
//! needs updates that commute, as in `g-counter` (one entry per node, merged by maximum) or
//! `g-counter-seq-kv` (one key per writer, changed by cas on a store that orders writes).
//!
//! With adds at several nodes, final reads fall below the sum of the acknowledged adds: the
//! counter checker must report them out of bounds.

use synod_node::{is_missing_key, Body, Ctx, Kv, Message, Node};

/// The one key every node shares.
const KEY: &str = "counter";

struct LwwCounter {
    kv: Kv,
}

impl Node for LwwCounter {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("delta") {
                Ok(delta) => {
                    self.kv.read(ctx, KEY, move |node, ctx, res| {
                        let current = match res {
                            Ok(v) => v.as_i64().unwrap_or(0),
                            Err(e) if is_missing_key(&e) => 0,
                            Err(e) => return ctx.fail(&msg, &e),
                        };
                        // The bug: whatever was written since this read is overwritten.
                        let kv = node.kv.clone();
                        kv.write(ctx, KEY, current + delta, move |_, ctx, res| match res {
                            Ok(()) => ctx.reply(&msg, Body::new("add_ok")),
                            Err(e) => ctx.fail(&msg, &e),
                        });
                    });
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => {
                self.kv.read(ctx, KEY, move |_, ctx, res| {
                    let value = match res {
                        Ok(v) => v.as_i64().unwrap_or(0),
                        Err(e) if is_missing_key(&e) => 0,
                        Err(e) => return ctx.fail(&msg, &e),
                    };
                    ctx.reply(&msg, Body::new("read_ok").with("value", value));
                });
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(LwwCounter { kv: Kv::lww() });
}
