//! BROKEN `unique-ids` node: a per-node counter without the node id, so two nodes hand out
//! the same ids (with two nodes or more).
//!
//! The unique-ids checker must report the duplicates.

use synod_node::{Body, Ctx, Message, Node};

struct BrokenIds {
    next: u64,
}

impl Node for BrokenIds {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "generate" => {
                self.next += 1;
                ctx.reply(&msg, Body::new("generate_ok").with("id", self.next));
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(BrokenIds { next: 0 });
}
