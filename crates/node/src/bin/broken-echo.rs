//! BROKEN `echo` node: answers with a different value (the request's `echo` plus a `!`).
//!
//! The echo checker must report every such reply as a mismatch.

use synod_node::{Body, Ctx, Message, Node};

struct BrokenEcho;

impl Node for BrokenEcho {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "echo" => {
                let echo = msg.body.value("echo").cloned().unwrap_or_default();
                // The bug: a string that differs from whatever was sent, a string included.
                let wrong = format!("{echo}!");
                ctx.reply(&msg, Body::new("echo_ok").with("echo", wrong));
            }
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(BrokenEcho);
}
