//! `pn-counter` workload: a counter that goes up and down, a state-based CRDT made of two
//! grow-only counters (P for increments, N for decrements).
//!
//! Demonstrates composing CRDTs: `add{delta}` adds `delta` to this node's entry of P if it is
//! positive, `-delta` to its entry of N if negative; the value is ΣP − ΣN. Every
//! `--interval-ms` (default 250) each node sends both maps to every peer, which merges each
//! entry by maximum, as in `g-counter`. Entries are keyed by node id and start time (see
//! `g-counter`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use synod_node::{Body, Ctx, Message, Node};

type Counts = BTreeMap<String, u64>;

struct PnCounter {
    me: String,
    p: Counts,
    n: Counts,
    interval: Duration,
}

fn merge(mine: &mut Counts, theirs: Counts) {
    for (k, v) in theirs {
        let e = mine.entry(k).or_default();
        *e = (*e).max(v);
    }
}

impl Node for PnCounter {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        self.me = format!("{}@{started}", ctx.node_id());
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("delta") {
                Ok(delta) => {
                    let side = if delta >= 0 { &mut self.p } else { &mut self.n };
                    *side.entry(self.me.clone()).or_default() += delta.unsigned_abs();
                    ctx.reply(&msg, Body::new("add_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => {
                let p: u64 = self.p.values().sum();
                let n: u64 = self.n.values().sum();
                let value = i128::from(p) - i128::from(n);
                ctx.reply(&msg, Body::new("read_ok").with("value", value as i64));
            }
            "replicate" => match (msg.body.get::<Counts>("p"), msg.body.get::<Counts>("n")) {
                (Ok(p), Ok(n)) => {
                    merge(&mut self.p, p);
                    merge(&mut self.n, n);
                }
                _ => eprintln!("ignoring a malformed replicate from {}", msg.src),
            },
            _ => ctx.not_supported(&msg),
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        if self.p.is_empty() && self.n.is_empty() {
            return;
        }
        let body = Body::new("replicate").with("p", &self.p).with("n", &self.n);
        ctx.send_to_peers(&body);
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.interval)
    }
}

fn main() {
    synod_node::run(PnCounter {
        me: String::new(),
        p: Counts::new(),
        n: Counts::new(),
        interval: Duration::from_millis(synod_node::arg_or("--interval-ms", 250)),
    });
}
