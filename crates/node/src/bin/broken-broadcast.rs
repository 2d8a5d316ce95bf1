//! BROKEN `broadcast` node: never gossips, so each node only knows the messages its own
//! clients sent (with two nodes or more, final reads miss the others').
//!
//! The broadcast checker must report those messages as lost (acknowledged, never read).

use std::collections::BTreeSet;
use synod_node::{Body, Ctx, Message, Node};

#[derive(Default)]
struct NoGossip {
    messages: BTreeSet<i64>,
}

impl Node for NoGossip {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "broadcast" => match msg.body.i64("message") {
                Ok(m) => {
                    self.messages.insert(m); // The bug: nobody else ever hears of it.
                    ctx.reply(&msg, Body::new("broadcast_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => ctx.reply(&msg, Body::new("read_ok").with("messages", &self.messages)),
            "topology" => ctx.reply(&msg, Body::new("topology_ok")),
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(NoGossip::default());
}
