//! `g-counter` workload on the `seq-kv` service: the Gossip Glomers grow-only counter, with
//! no message between nodes at all.
//!
//! **Design.** Each node is the only writer of its own key `count/<node id>` in `seq-kv`.
//! `add{delta}` queues the delta; one compare-and-set at a time moves the key from the value
//! this node last wrote to that value plus every delta queued meanwhile
//! (`create_if_not_exists` while it is 0), and only then are those adds acknowledged. If the
//! cas fails its precondition (the node was restarted and starts from 0 while its key holds
//! its old count, or an earlier cas that timed out did take effect), the node reads its key
//! and retries the same batch from the value read. `read{}` first writes a fresh value (this
//! node's id and a sequence number) to its scratch key `sync/<node id>`, then reads every
//! node's count key (a missing key counts 0) and answers their sum.
//!
//! **Why the counts are exact.** Every change is a cas conditional on the exact current
//! value, and a key only grows, so a batch is added once or not at all, even when a cas times
//! out and is retried from a value read later (no ABA: the value a cas expects never comes
//! back). A batch whose cas timed out is answered with error 0 (indefinite): it may or may
//! not be counted, which the checker allows.
//!
//! **Why a read needs the scratch write, and why it suffices here.** `seq-kv` may serve a read
//! from an old state, so reading the keys straight away may miss adds that other nodes
//! acknowledged long ago, and a final read could stay below the acknowledged sum (drop the
//! scratch write and the counter checker does catch such reads). Sequential consistency
//! alone promises only one total order that respects each caller's own order: in theory it
//! could place another node's acknowledged cas after all of this node's operations, and no
//! read protocol on a bare SC store could bound staleness in real time. This node relies on
//! what the workbench's `seq-kv` promises beyond that (see its `service` module): writes and
//! cas act on the latest state when they arrive, and a caller's reads are never served from
//! before its own last write. So the scratch write, sent after the client's read began, is
//! ordered after every cas that completed before it (every acknowledged add in particular),
//! and the key reads sent after its `write_ok` are served at or after it: their sum counts
//! every add acknowledged before the read began, and no add that was not at least invoked.
//! The value is unique because a store could treat writing the value a key already holds as
//! a no-op and give it no new place in the order.
//!
//! **Faults.** Nodes never talk to each other, and the workbench never partitions its
//! services, so partitions change nothing. A killed node loses only its queued,
//! unacknowledged adds; restarted, it relearns its count through the failed cas. The price:
//! every add and every read costs round trips to `seq-kv`, a single point of failure.

use serde_json::Value;
use std::collections::HashMap;
use synod_node::{is_missing_key, Body, Ctx, ErrorCode, Kv, Message, Node, RpcError};

/// A client's `read` waiting for the count keys.
struct PendingRead {
    request: Message,
    /// Keys not answered yet.
    waiting: usize,
    sum: u64,
    error: Option<RpcError>,
}

struct SeqKvCounter {
    kv: Kv,
    /// The value of this node's key as this node last wrote (or read) it.
    known: u64,
    /// Adds not yet sent to the store.
    queued: Vec<(Message, u64)>,
    /// The batch of the cas in flight, if any.
    in_flight: Option<Vec<(Message, u64)>>,
    /// Scratch writes so far: makes each one unique, and numbers the reads.
    syncs: u64,
    /// Reads waiting for the count keys, by number.
    reads: HashMap<u64, PendingRead>,
}

fn count_key(node: &str) -> String {
    format!("count/{node}")
}

impl SeqKvCounter {
    /// Sends the queued adds as one cas, unless one is in flight already.
    fn flush(&mut self, ctx: &mut Ctx<Self>) {
        if self.in_flight.is_some() || self.queued.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.queued);
        let delta: u64 = batch.iter().map(|(_, d)| d).sum();
        if delta == 0 {
            for (m, _) in &batch {
                ctx.reply(m, Body::new("add_ok"));
            }
            return;
        }
        self.in_flight = Some(batch);
        self.send_cas(ctx, delta);
    }

    fn send_cas(&mut self, ctx: &mut Ctx<Self>, delta: u64) {
        let (from, to) = (self.known, self.known + delta);
        let key = count_key(ctx.node_id());
        self.kv
            .cas(ctx, key, from, to, from == 0, move |node, ctx, res| {
                node.cas_done(ctx, delta, to, res)
            });
    }

    fn cas_done(&mut self, ctx: &mut Ctx<Self>, delta: u64, to: u64, res: Result<(), RpcError>) {
        let batch = self.in_flight.take().unwrap_or_default();
        match res {
            Ok(()) => {
                self.known = to;
                for (m, _) in &batch {
                    ctx.reply(m, Body::new("add_ok"));
                }
            }
            Err(e) if e.code == ErrorCode::PreconditionFailed || is_missing_key(&e) => {
                // Our idea of our own key is wrong: learn it and retry the same batch.
                self.in_flight = Some(batch);
                let key = count_key(ctx.node_id());
                self.kv.read(ctx, key, move |node, ctx, res| {
                    match res.and_then(|v| as_count(&v)) {
                        Ok(v) => node.known = v,
                        Err(e) if is_missing_key(&e) => node.known = 0,
                        Err(e) => eprintln!("reading my count failed ({e}); retrying"),
                    }
                    node.send_cas(ctx, delta);
                });
                return;
            }
            Err(e) => {
                // A timeout may still take effect: the adds are answered as indefinite and
                // the next cas, conditional on `known`, finds out.
                for (m, _) in &batch {
                    ctx.fail(m, &e);
                }
            }
        }
        self.flush(ctx);
    }

    fn read(&mut self, ctx: &mut Ctx<Self>, request: Message) {
        self.syncs += 1;
        let token = format!("{}-{}", ctx.node_id(), self.syncs);
        let scratch = format!("sync/{}", ctx.node_id());
        let id = self.syncs;
        self.kv
            .write(ctx, scratch, token, move |node, ctx, res| match res {
                Ok(()) => node.read_counts(ctx, id, request),
                Err(e) => ctx.fail(&request, &e),
            });
    }

    fn read_counts(&mut self, ctx: &mut Ctx<Self>, id: u64, request: Message) {
        let nodes = ctx.node_ids().to_vec();
        self.reads.insert(
            id,
            PendingRead {
                request,
                waiting: nodes.len(),
                sum: 0,
                error: None,
            },
        );
        for n in &nodes {
            self.kv.read(ctx, count_key(n), move |node, ctx, res| {
                node.count_read(ctx, id, res)
            });
        }
    }

    fn count_read(&mut self, ctx: &mut Ctx<Self>, id: u64, res: Result<Value, RpcError>) {
        let Some(r) = self.reads.get_mut(&id) else {
            return;
        };
        match res.and_then(|v| as_count(&v)) {
            Ok(v) => r.sum += v,
            Err(e) if is_missing_key(&e) => {}
            Err(e) => r.error = Some(e),
        }
        r.waiting -= 1;
        if r.waiting > 0 {
            return;
        }
        if let Some(r) = self.reads.remove(&id) {
            match r.error {
                None => ctx.reply(&r.request, Body::new("read_ok").with("value", r.sum)),
                Some(e) => ctx.fail(&r.request, &e),
            }
        }
    }
}

fn as_count(v: &Value) -> Result<u64, RpcError> {
    v.as_u64()
        .ok_or_else(|| RpcError::malformed(format!("a count that is not a number: {v}")))
}

impl Node for SeqKvCounter {
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        match msg.kind() {
            "add" => match msg.body.i64("delta") {
                Ok(delta) if delta >= 0 => {
                    self.queued.push((msg, delta as u64));
                    self.flush(ctx);
                }
                Ok(_) => ctx.error(&msg, ErrorCode::MalformedRequest, "a g-counter only grows"),
                Err(e) => ctx.fail(&msg, &e),
            },
            "read" => self.read(ctx, msg),
            _ => ctx.not_supported(&msg),
        }
    }
}

fn main() {
    synod_node::run(SeqKvCounter {
        kv: Kv::seq(),
        known: 0,
        queued: Vec::new(),
        in_flight: None,
        syncs: 0,
        reads: HashMap::new(),
    });
}
