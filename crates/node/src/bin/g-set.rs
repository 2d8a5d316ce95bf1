//! `g-set` workload: a grow-only set, a state-based CRDT replicated by full-state gossip.
//!
//! Demonstrates anti-entropy: `add{element}` adds locally and answers at once; every
//! `--interval-ms` (default 250) each node sends its whole set to every peer, which merges it
//! by union. Union is commutative, associative and idempotent, so lost, repeated or
//! reordered gossip does no harm and no acks are needed: after a partition heals, the next
//! rounds bring every node the whole set.

use std::collections::BTreeSet;
use std::time::Duration;
use synod_node::{Body, Ctx, Message, Node};

struct GSet {
    set: BTreeSet<i64>,
    interval: Duration,
}

impl Node for GSet {
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
            "replicate" => match msg.body.get::<Vec<i64>>("value") {
                Ok(theirs) => self.set.extend(theirs),
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
    synod_node::run(GSet {
        set: BTreeSet::new(),
        interval: Duration::from_millis(synod_node::arg_or("--interval-ms", 250)),
    });
}
