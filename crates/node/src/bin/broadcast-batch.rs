//! `broadcast` workload, efficient: batched gossip over a star, for few messages per operation.
//!
//! Demonstrates trading latency for messages. The first node of `init` is the hub; every
//! other node talks only to it (the workbench's topology is acknowledged and ignored). New
//! messages are not sent at once but queued, and every `--interval-ms` (default 200) each
//! node sends each neighbour one `gossip{messages}` with everything queued for it. A
//! neighbour acknowledges with `gossip_ok`; what stays unacknowledged for `--retry-ms`
//! (default 1000) is sent again, so partitions only delay. A message reaches every node in
//! two hops and at most two intervals; a batch costs 2 messages per link whatever its size,
//! so the cost per broadcast falls as the request rate rises.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use synod_node::{Body, Ctx, Message, Node};

struct Batched {
    messages: BTreeSet<i64>,
    neighbors: Vec<String>,
    /// Per neighbour: messages it has not acknowledged, and when each was last sent
    /// (`None`: queued, not sent yet).
    unacked: HashMap<String, BTreeMap<i64, Option<Instant>>>,
    interval: Duration,
    retry: Duration,
}

impl Batched {
    /// Queues messages new to this node for every neighbour but `from` (their sender).
    fn queue(&mut self, new: &[i64], from: &str) {
        for nb in self.neighbors.iter().filter(|nb| *nb != from) {
            let pending = self.unacked.entry(nb.clone()).or_default();
            pending.extend(new.iter().map(|m| (*m, None)));
        }
    }
}

impl Node for Batched {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let hub = ctx.node_ids().first().cloned().unwrap_or_default();
        self.neighbors = if ctx.node_id() == hub {
            ctx.peers().map(str::to_owned).collect()
        } else {
            vec![hub]
        };
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "topology" => ctx.reply(&msg, Body::new("topology_ok")),
            "broadcast" => match msg.body.i64("message") {
                Ok(m) => {
                    if self.messages.insert(m) {
                        self.queue(&[m], "");
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
                self.queue(&new, &msg.src);
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
                .filter(|(_, sent)| match sent {
                    Some(t) => now.duration_since(*t) >= self.retry,
                    None => true,
                })
                .map(|(m, sent)| {
                    *sent = Some(now);
                    *m
                })
                .collect();
            if !due.is_empty() {
                ctx.send(nb, &Body::new("gossip").with("messages", due));
            }
        }
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.interval)
    }
}

fn main() {
    synod_node::run(Batched {
        messages: BTreeSet::new(),
        neighbors: Vec::new(),
        unacked: HashMap::new(),
        interval: Duration::from_millis(synod_node::arg_or("--interval-ms", 200)),
        retry: Duration::from_millis(synod_node::arg_or("--retry-ms", 1000)),
    });
}
