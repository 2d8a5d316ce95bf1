//! BROKEN `g-set` node: gossips its whole set like `g-set`, but merges a peer's set by
//! *adopting* it instead of taking the union.
//!
//! Replacing looks harmless when every node holds the same set, but it is not a merge: it
//! forgets whatever this node had that the sender had not seen yet. An element added here is
//! erased as soon as a peer's gossip, sent before that peer heard of it, arrives before this
//! node's next gossip round; and elements that did reach some node are erased there by the
//! next set that lacks them. Nothing ever brings them back.
//!
//! The lesson: a replicated state must merge by a join (for a set, union: commutative,
//! associative, idempotent, and never smaller than either side), so that merging can only
//! add information. "Last message wins" is a join only if every message already contains
//! everything, which is what gossip is trying to achieve.
//!
//! With adds at two nodes or more, acknowledged elements vanish from every later read: the
//! set-full checker must report them lost.

use std::collections::BTreeSet;
use std::time::Duration;
use synod_node::{Body, Ctx, Message, Node};

struct ForgetfulSet {
    set: BTreeSet<i64>,
    interval: Duration,
}

impl Node for ForgetfulSet {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("element") {
                Ok(e) => {
                    self.set.insert(e);
                    ctx.reply(&msg, Body::new("add_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => ctx.reply(&msg, Body::new("read_ok").with("value", &self.set)),
            "replicate" => match msg.body.get::<BTreeSet<i64>>("value") {
                // The bug: the peer's set replaces ours instead of joining it.
                Ok(theirs) => self.set = theirs,
                Err(e) => eprintln!("ignoring a malformed replicate from {}: {e}", msg.src),
            },
            _ => ctx.not_supported(&msg),
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        if self.set.is_empty() {
            return;
        }
        let body = Body::new("replicate").with("value", &self.set);
        ctx.send_to_peers(&body);
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.interval)
    }
}

fn main() {
    synod_node::run(ForgetfulSet {
        set: BTreeSet::new(),
        interval: Duration::from_millis(synod_node::arg_or("--interval-ms", 250)),
    });
}
