//! BROKEN `g-counter` / `pn-counter` node: no replication, each node reads its own sum.
//!
//! With adds at two nodes or more, a final read misses the others' increments and falls
//! below what the acknowledged adds allow: the counter checker must report it out of bounds.

use synod_node::{Body, Ctx, Message, Node};

#[derive(Default)]
struct LocalCounter {
    value: i64,
}

impl Node for LocalCounter {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("delta") {
                Ok(delta) => {
                    self.value += delta; // The bug: nobody else ever hears of it.
                    ctx.reply(&msg, Body::new("add_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => ctx.reply(&msg, Body::new("read_ok").with("value", self.value)),
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(LocalCounter::default());
}
