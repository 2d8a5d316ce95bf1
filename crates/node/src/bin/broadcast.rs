//! `broadcast` workload: topology-aware gossip with retries.
//!
//! Demonstrates reliable dissemination over a lossy, partitioned network. Each node sends a
//! new message at once to its neighbours in the topology the workbench gave (all peers until
//! a `topology` arrives), except to the one it got it from. A neighbour acknowledges every
//! `gossip{messages}` with `gossip_ok{messages}`; what stays unacknowledged for `--retry-ms`
//! (default 400) is sent again, in one batch per neighbour, until it is. So a partition only
//! delays messages: once it heals, the retries get through and every node reads everything.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use synod_node::{Body, Ctx, Message, Node};

struct Broadcast {
    messages: BTreeSet<i64>,
    neighbors: Vec<String>,
    /// Per neighbour: the messages it has not acknowledged, and when each was last sent.
    unacked: HashMap<String, BTreeMap<i64, Instant>>,
    retry: Duration,
}

impl Broadcast {
    /// Sends messages new to this node to every neighbour but `from` (their sender).
    fn spread(&mut self, ctx: &mut Ctx<Self>, new: &[i64], from: &str) {
        let now = Instant::now();
        let body = Body::new("gossip").with("messages", new);
        for nb in self.neighbors.iter().filter(|nb| *nb != from) {
            let pending = self.unacked.entry(nb.clone()).or_default();
            pending.extend(new.iter().map(|m| (*m, now)));
            ctx.send(nb, &body);
        }
    }
}

impl Node for Broadcast {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        self.neighbors = ctx.peers().map(str::to_owned).collect();
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "topology" => match msg.body.get::<HashMap<String, Vec<String>>>("topology") {
                Ok(mut topology) => {
                    if let Some(nbs) = topology.remove(ctx.node_id()) {
                        self.neighbors = nbs;
                    }
                    ctx.reply(&msg, Body::new("topology_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "broadcast" => match msg.body.i64("message") {
                Ok(m) => {
                    if self.messages.insert(m) {
                        self.spread(ctx, &[m], "");
                    }
                    ctx.reply(&msg, Body::new("broadcast_ok"));
                }
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => ctx.reply(&msg, Body::new("read_ok").with("messages", &self.messages)),
            "gossip" => {
                let Ok(ms) = msg.body.get::<Vec<i64>>("messages") else {
                    eprintln!("ignoring a malformed gossip from {}", msg.src);
                    return;
                };
                ctx.send(&msg.src, &Body::new("gossip_ok").with("messages", &ms));
                let new: Vec<i64> = ms
                    .into_iter()
                    .filter(|m| self.messages.insert(*m))
                    .collect();
                if !new.is_empty() {
                    self.spread(ctx, &new, &msg.src);
                }
            }
            "gossip_ok" => {
                if let (Some(pending), Ok(ms)) = (
                    self.unacked.get_mut(&msg.src),
                    msg.body.get::<Vec<i64>>("messages"),
                ) {
                    for m in ms {
                        pending.remove(&m);
                    }
                }
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        let now = Instant::now();
        for (nb, pending) in &mut self.unacked {
            let due: Vec<i64> = pending
                .iter_mut()
                .filter(|(_, sent)| now.duration_since(**sent) >= self.retry)
                .map(|(m, sent)| {
                    *sent = now;
                    *m
                })
                .collect();
            if !due.is_empty() {
                ctx.send(nb, &Body::new("gossip").with("messages", due));
            }
        }
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.retry / 4)
    }
}

fn main() {
    let retry = Duration::from_millis(synod_node::arg_or("--retry-ms", 400));
    synod_node::run(Broadcast {
        messages: BTreeSet::new(),
        neighbors: Vec::new(),
        unacked: HashMap::new(),
        retry,
    });
}
