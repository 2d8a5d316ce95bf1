//! `broadcast` workload, for the throughput benchmark: forwards every broadcast to all peers.
//!
//! Demonstrates the cheapest possible dissemination and loads the workbench's router: a
//! client's `broadcast` is sent once to every other node as `flood{message}` (no ack, no
//! retry, no relaying), n − 1 node-to-node messages per operation. Correct on a reliable
//! network only: a message lost to a partition is lost for good.

use std::collections::BTreeSet;
use synod_node::{Body, Ctx, Message, Node};

#[derive(Default)]
struct Flood {
    messages: BTreeSet<i64>,
    peers: Vec<String>,
}

impl Node for Flood {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        self.peers = ctx.peers().map(str::to_owned).collect();
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "broadcast" => match msg.body.i64("message") {
                Ok(m) => {
                    self.messages.insert(m);
                    let body = Body::new("flood").with("message", m);
                    for p in &self.peers {
                        ctx.send(p, &body);
                    }
                    ctx.reply(&msg, Body::new("broadcast_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "flood" => {
                if let Ok(m) = msg.body.i64("message") {
                    self.messages.insert(m);
                }
            }
            "read" => ctx.reply(&msg, Body::new("read_ok").with("messages", &self.messages)),
            "topology" => ctx.reply(&msg, Body::new("topology_ok")),
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(Flood::default());
}
