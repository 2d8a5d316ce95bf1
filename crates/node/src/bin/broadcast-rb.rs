//! `broadcast` workload on a synod protocol: eager reliable broadcast over a perfect link.
//!
//! Demonstrates pillar 1, "one protocol, many drivers": the very state machine the simulator
//! and the model checker run, [`EagerRb`] stacked over [`PerfectLink`] (sequence numbers,
//! acks, retransmission every `--retry-ms`, default 300), driven here by
//! [`ProtocolNode`] over stdin/stdout. Its messages travel as `{"type":"synod","msg":…}`
//! bodies, its retransmission timers fire on the node's ticks. The application part is a
//! few lines: `broadcast{message}` becomes the request `Broadcast(message)`, each
//! `Deliver` indication adds its payload to the set that `read` returns, and `topology` is
//! acknowledged and ignored (eager broadcast relays to every node, n(n − 1) data messages
//! per broadcast, plus their acks). The perfect link makes it correct under partitions:
//! unacknowledged messages are retransmitted until the partition heals.

use std::collections::BTreeSet;
use synod_core::{NodeId, Stack};
use synod_node::{AppIo, Body, Message, ProtocolApp, ProtocolNode};
use synod_protocols::broadcast::{BcastInd, BcastReq, Data, EagerRb};
use synod_protocols::link::PerfectLink;

struct BroadcastApp {
    messages: BTreeSet<u64>,
    retry_ms: u64,
}

impl ProtocolApp for BroadcastApp {
    type P = Stack<EagerRb, PerfectLink<Data>>;

    fn protocol(&mut self, _me: NodeId, _n: usize) -> Self::P {
        let retry = synod_core::Duration::from_millis(self.retry_ms);
        Stack::new(EagerRb, PerfectLink::new(retry))
    }

    fn on_client(&mut self, io: &mut AppIo<'_, Self>, msg: Message) {
        match msg.kind() {
            "broadcast" => match msg.body.u64("message") {
                Ok(m) => {
                    io.request(BcastReq::Broadcast(m));
                    io.ctx.reply(&msg, Body::new("broadcast_ok"));
                }
                Err(e) => io.ctx.fail(&msg, &e),
            },
            "read" => io
                .ctx
                .reply(&msg, Body::new("read_ok").with("messages", &self.messages)),
            "topology" => io.ctx.reply(&msg, Body::new("topology_ok")),
            _ => io.ctx.not_supported(&msg),
        }
    }

    fn on_indication(&mut self, _io: &mut AppIo<'_, Self>, ind: BcastInd) {
        let BcastInd::Deliver { payload, .. } = ind;
        self.messages.insert(payload);
    }
}

fn main() {
    let app = BroadcastApp {
        messages: BTreeSet::new(),
        retry_ms: synod_node::arg_or("--retry-ms", 300),
    };
    synod_node::run(ProtocolNode::new(app));
}
