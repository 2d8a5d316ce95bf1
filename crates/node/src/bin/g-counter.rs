//! `g-counter` workload: a grow-only counter, a state-based CRDT (one count per node, merged
//! by maximum).
//!
//! Demonstrates the G-Counter of Shapiro et al.: each node counts only its own increments in
//! its own entry of a map; the value is the sum of the entries. Every `--interval-ms`
//! (default 250) each node sends its map to every peer, which keeps the larger count of each
//! entry. Entries only grow, so merging by maximum is idempotent and order-free, and after a
//! partition heals every node converges to the sum of all increments. The entry is keyed by
//! node id *and start time*, so a node restarted by the workbench counts in a fresh entry
//! instead of under its old (larger) count, which peers keep.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use synod_node::{Body, Ctx, ErrorCode, Message, Node};

struct GCounter {
    me: String,
    counts: BTreeMap<String, u64>,
    interval: Duration,
}

impl Node for GCounter {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        self.me = format!("{}@{started}", ctx.node_id());
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("delta") {
                Ok(delta) if delta >= 0 => {
                    *self.counts.entry(self.me.clone()).or_default() += delta as u64;
                    ctx.reply(&msg, Body::new("add_ok"));
                }
                Ok(_) => ctx.error(&msg, ErrorCode::MalformedRequest, "a g-counter only grows"),
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => {
                let value: u64 = self.counts.values().sum();
                ctx.reply(&msg, Body::new("read_ok").with("value", value));
            }
            "replicate" => match msg.body.get::<BTreeMap<String, u64>>("counts") {
                Ok(theirs) => {
                    for (k, v) in theirs {
                        let mine = self.counts.entry(k).or_default();
                        *mine = (*mine).max(v);
                    }
                }
                Err(e) => eprintln!("ignoring a malformed replicate from {}: {e}", msg.src),
            },
            _ => ctx.not_supported(&msg),
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        if self.counts.is_empty() {
            return;
        }
        let body = Body::new("replicate").with("counts", &self.counts);
        ctx.send_to_peers(&body);
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.interval)
    }
}

fn main() {
    synod_node::run(GCounter {
        me: String::new(),
        counts: BTreeMap::new(),
        interval: Duration::from_millis(synod_node::arg_or("--interval-ms", 250)),
    });
}
