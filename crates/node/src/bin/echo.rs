//! `echo` workload: answers `echo{echo}` with `echo_ok{echo}`.
//!
//! Demonstrates the smallest node: one [`Node::handle`] and [`synod_node::run`]; the runtime
//! answers `init` and refuses unknown requests with error 10 (`not-supported`).

use synod_node::{Body, Ctx, Message, Node};

struct Echo;

impl Node for Echo {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "echo" => {
                let echo = msg.body.value("echo").cloned();
                ctx.reply(&msg, Body::new("echo_ok").with("echo", echo));
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(Echo);
}
