//! `unique-ids` workload: `generate` → `generate_ok{id}`, ids unique across the cluster.
//!
//! Demonstrates coordination-free uniqueness: an id is the node's id and a counter local to
//! the node (`"n3-17"`), so it stays unique under any partition. (A node restarted by the
//! workbench also mixes in its start time, so its counter starting again at 1 repeats
//! nothing.)
//!
//! With `--tso` (`--bin-arg --tso`), the other classic design: each id is a timestamp of the
//! `lin-tso` service, a timestamp oracle that hands out strictly increasing numbers, so no
//! two requests, from any node or incarnation, get the same one. The ids are then also
//! ordered (a later `generate` gets a larger id), which the local counter cannot give across
//! nodes. The price: a round trip per id, and ids only while the oracle answers. It is a
//! single point of failure; the workbench never partitions its services, so under its
//! partitions both designs stay available. A `ts` that gets no answer within the RPC timeout
//! is answered with error 0 (indefinite), and no id.

use std::time::{SystemTime, UNIX_EPOCH};
use synod_node::{Body, Ctx, Message, Node, Tso};

struct UniqueIds {
    incarnation: u128,
    next: u64,
    /// Take ids from `lin-tso`.
    tso: bool,
}

impl Node for UniqueIds {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "generate" if self.tso => {
                Tso.ts(ctx, move |_, ctx, res| match res {
                    Ok(ts) => ctx.reply(&msg, Body::new("generate_ok").with("id", ts)),
                    Err(e) => ctx.fail(&msg, &e),
                });
            }
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
        tso: std::env::args().skip(1).any(|a| a == "--tso"),
    });
}
