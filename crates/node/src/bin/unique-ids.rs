//! `unique-ids` workload: `generate` → `generate_ok{id}`, ids unique across the cluster.
//!
//! Demonstrates coordination-free uniqueness: an id is the node's id and a counter local to
//! the node (`"n3-17"`), so it stays unique under any partition. (A node restarted by the
//! workbench also mixes in its start time, so its counter starting again at 1 repeats
//! nothing.)

use std::time::{SystemTime, UNIX_EPOCH};
use synod_node::{Body, Ctx, Message, Node};

struct UniqueIds {
    incarnation: u128,
    next: u64,
}

impl Node for UniqueIds {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "generate" => {
                self.next += 1;
                let id = format!("{}-{}-{}", ctx.node_id(), self.incarnation, self.next);
                ctx.reply(&msg, Body::new("generate_ok").with("id", id));
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    let incarnation = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    synod_node::run(UniqueIds {
        incarnation,
        next: 0,
    });
}
