//! ABD: an atomic register emulated on a majority of servers (Attiya, Bar-Noy and Dolev),
//! multi-writer by default, with the single-writer, one-phase-read and (unsafe) small-quorum
//! variants the experiments compare.
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), asynchronous message passing,
//! crash-stop, at most f of which crash with **n > 2f** (any minority); *reliable* links (no
//! loss: there are no timers and no retransmissions here, so put ABD over a perfect link, or
//! run it on a network without loss); they may duplicate and reorder. Clients are external: an
//! operation arrives as a request ([`RegisterReq`]) at a server, which becomes its
//! *coordinator*; the answer ([`RegisterResp`]) is an indication at that server (at the writer,
//! for a forwarded single-writer write). Every variant serves this same interface.
//!
//! **Algorithm.** Every server stores a timestamped value `(ts, value)`, timestamps
//! ([`Timestamp`]) being pairs `(seq, writer)` ordered lexicographically (the writer's id breaks
//! ties between concurrent writers), starting from `((0, n0), None)`. A server keeps the larger
//! timestamp it is offered. Each phase is a round trip to a *quorum*, a majority by default
//! (the coordinator counts itself, handling its own part locally):
//!
//! - multi-writer `Write(v)`: *query* every server for its timestamp; at a quorum of replies
//!   take the largest `(seq, _)`; then *store* `((seq + 1, coordinator), v)` at every server; at
//!   a quorum of acknowledgements, answer `WriteOk`.
//! - single-writer `Write(v)` ([`Abd::single_writer`]): the writer's own timestamp is the
//!   largest there is, so it skips the query and stores `((seq + 1, writer), v)` at once: one
//!   round trip. A write that arrives at another server is forwarded to the writer
//!   ([`AbdMsg::Forward`], one more message).
//! - `Read`: *query* every server for its `(ts, value)`; at a quorum take the pair with the
//!   largest timestamp; then *write it back* (store it at every server), and at a quorum of
//!   acknowledgements answer `ReadOk(value)`. The write-back ("read-impose") makes sure that any
//!   later read sees a timestamp at least as large: without it a read that saw a write in
//!   progress could return its value, and a later read return the older one.
//!
//! **Variants** (one [`Abd`] value each; every combination is allowed):
//!
//! | constructor | writes | reads | register |
//! |---|---|---|---|
//! | [`Abd::new`] | query + store (2 round trips) | query + write-back (2) | atomic, multi-writer (CGR "Read-Impose Write-Consult-Majority") |
//! | [`Abd::single_writer`] | store (1 round trip) | query + write-back (2) | atomic, single-writer (CGR "Read-Impose Write-Majority") |
//! | `Abd::single_writer(w).with_write_back(false)` | store (1) | query (1) | *regular* only (CGR "Majority Voting") |
//! | [`Abd::canary_no_write_back`] | query + store (2) | query (1) | regular only: CANARY |
//! | `.with_quorum(k)`, k ≤ n/2 | | | nothing: UNSAFE, two quorums may not intersect |
//!
//! **Cost.** Each phase sends n − 1 requests and gets up to n − 1 replies: a single-writer
//! write costs 2(n − 1) messages (≈ 2n), a multi-writer write or a write-back read 4(n − 1)
//! (≈ 4n), a one-phase read 2(n − 1). Replies that arrive after the quorum still count.
//!
//! Messages carry an operation id (the coordinator's count of operations started,
//! [`AbdState::ops`]), so replies to an earlier operation are ignored; duplicate replies are
//! counted once.
//!
//! **One operation at a time per coordinator.** A client operation that arrives while its
//! server is coordinating another waits in a FIFO queue ([`AbdState::queue`]) and starts when the
//! current one completes; nothing is rejected. (A client has one operation outstanding, so the
//! queue holds at most one entry per other client sending to the same server; it is empty, and
//! costs nothing, in the usual one-client-per-server set-ups.)
//!
//! **Properties.** With majority quorums and write-back reads the register is *atomic*
//! (linearizable): judge it on the client history ([`synod_core::History::from_trace`]) with a
//! linearizability checker, or with `synod_consistency::checkers::register_semantics`, which
//! also tells safe from regular from atomic and counts new/old inversions. Simpler checks in
//! [`super::properties`]: *validity* (reads return written values), *unique timestamps* (no
//! timestamp ever carries two values), and, on states, a server's timestamp never decreases
//! ([`super::properties::timestamp_monotone`]). Every operation whose coordinator stays up
//! completes while a quorum is up (*termination*, wait-free in the sense of CGR): with
//! majorities, while at most f < n/2 servers crash; with more crashed, operations block, which
//! is the price of safety (a partition argument shows no emulation can do better: Attiya and
//! Welch §10.4).
//!
//! **Canary.** [`Abd::canary_no_write_back`]: reads answer right after the query phase. A read
//! concurrent with a write can return the new value while a later read, whose majority has not
//! seen the write yet, returns the old one: a new/old inversion, not linearizable (the register
//! is then only *regular*). Small quorums ([`Abd::with_quorum`]) are the other deliberate
//! break: at n = 5 with quorum 2, a write stored at {n0, n1} and a later read at {n3, n4} miss
//! each other, and the read returns the old value (not even regular).
//!
//! **State size.** [`AbdState`] holds the stored pair, an operation counter, the current
//! operation ([`AbdCoord`]: client, input, phase, the repliers as a [`NodeSet`], and the pair
//! being gathered or stored) and the queue: 136 bytes, and no heap unless operations pile up
//! in the queue.
//!
//! **Read:** Lamport, "On interprocess communication", 1986 (safe, regular, atomic registers);
//! Attiya, Bar-Noy and Dolev, "Sharing memory robustly in message-passing systems", JACM 42(1),
//! 1995; CGR ch. 4, §4.2–4.4 ("Majority Voting" (1,N) regular, "Read-Impose Write-Majority"
//! (1,N) atomic, "Read-Impose Write-Consult-Majority" (N,N) atomic); Lynch ch. 13 (atomic
//! objects) and §17.1 (shared memory emulated on a majority); Attiya and Welch ch. 10
//! (fault-tolerant simulations of read/write objects).

use super::{RegisterOp, RegisterReq, RegisterResp};
use crate::consensus::{assert_fits_node_set, majority, NodeSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use synod_core::{Ctx, NodeId, Protocol};

/// A register timestamp `(seq, writer)`, ordered by `seq`, then by the writer's id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    /// The sequence number: one more than the largest seen by the write's query phase.
    pub seq: u64,
    /// The server that coordinated the write.
    pub writer: NodeId,
}

impl Timestamp {
    /// The timestamp of the initial, empty register.
    pub const ZERO: Timestamp = Timestamp {
        seq: 0,
        writer: NodeId(0),
    };
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.seq, self.writer)
    }
}

/// ABD's messages; `op` is the coordinator's operation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AbdMsg {
    /// Phase 1: "send me your timestamped value".
    Query {
        /// The operation.
        op: u64,
    },
    /// The reply to `Query`.
    QueryReply {
        /// The operation.
        op: u64,
        /// The replier's timestamp.
        ts: Timestamp,
        /// The replier's value.
        value: Option<u64>,
    },
    /// Phase 2: "store this timestamped value if it is newer than yours".
    Store {
        /// The operation.
        op: u64,
        /// The timestamp.
        ts: Timestamp,
        /// The value.
        value: Option<u64>,
    },
    /// The reply to `Store`: "I now hold this timestamp or a larger one".
    StoreAck {
        /// The operation.
        op: u64,
    },
    /// Single-writer ABD only: a client's write that arrived at another server, handed to
    /// the writer, which coordinates it and answers the client.
    Forward {
        /// The client.
        client: u64,
        /// The value to write.
        value: u64,
    },
}

/// The phase of the operation a server coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AbdPhase {
    /// Gathering timestamped values from a majority.
    Query,
    /// Storing (writing, or writing back) at a majority.
    Store,
}

/// The operation a server coordinates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbdCoord {
    /// The client it answers.
    pub client: u64,
    /// What the client asked.
    pub input: RegisterOp,
    /// Where the operation is.
    pub phase: AbdPhase,
    /// The servers that replied in this phase (the coordinator included).
    pub replies: NodeSet,
    /// In the query phase, the largest timestamp replied so far; in the store phase, the
    /// timestamp being stored.
    pub ts: Timestamp,
    /// The value that goes with `ts`.
    pub value: Option<u64>,
}

/// One ABD server's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbdState {
    /// The timestamp of the stored value.
    pub ts: Timestamp,
    /// The stored value (`None`: the initial, empty register).
    pub value: Option<u64>,
    /// How many operations this server has started coordinating; the current one's id.
    pub ops: u64,
    /// The operation this server coordinates, if any.
    pub current: Option<AbdCoord>,
    /// Client operations that arrived while another was in progress, oldest first.
    pub queue: Vec<(u64, RegisterOp)>,
}

impl AbdState {
    /// Keeps `(ts, value)` if it is newer than the stored pair.
    fn store(&mut self, ts: Timestamp, value: Option<u64>) {
        if ts > self.ts {
            self.ts = ts;
            self.value = value;
        }
    }
}

/// ABD and its variants (see the [module documentation](self)). Every variant serves the same
/// client interface ([`RegisterReq`] / [`RegisterResp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Abd {
    /// Reads write back the value they return before answering (two round trips). False:
    /// one-phase reads (the multi-writer canary, or the single-writer *regular* register).
    pub write_back: bool,
    /// `Some(w)`: single-writer ABD, server `w` is the only writer and its writes skip the
    /// query phase; writes that arrive at another server are forwarded to `w`. `None`:
    /// multi-writer, every server may coordinate writes.
    pub writer: Option<NodeId>,
    /// Replies each phase waits for, the coordinator included; `None`: a majority,
    /// ⌊n/2⌋ + 1. Anything less is UNSAFE (two quorums need not intersect); it is clamped to
    /// `1..=n` at run time.
    pub quorum: Option<usize>,
}

impl Default for Abd {
    fn default() -> Abd {
        Abd::new()
    }
}

impl Abd {
    /// The correct multi-writer protocol: write-back reads, majority quorums.
    pub fn new() -> Abd {
        Abd {
            write_back: true,
            writer: None,
            quorum: None,
        }
    }

    /// CANARY: reads return the largest-timestamp value of the query phase without writing it
    /// back, which allows new/old inversions (the register is regular, not atomic).
    pub fn canary_no_write_back() -> Abd {
        Abd {
            write_back: false,
            ..Abd::new()
        }
    }

    /// Single-writer ABD (CGR's "Read-Impose Write-Majority", (1,N) atomic): server `writer`
    /// coordinates every write, with one round trip (store at a quorum); reads keep their
    /// write-back.
    pub fn single_writer(writer: NodeId) -> Abd {
        Abd {
            writer: Some(writer),
            ..Abd::new()
        }
    }

    /// The same protocol with (`true`) or without (`false`, one round trip) the reads'
    /// write-back phase. Single-writer without write-back is CGR's "Majority Voting" (1,N)
    /// *regular* register.
    pub fn with_write_back(self, write_back: bool) -> Abd {
        Abd { write_back, ..self }
    }

    /// The same protocol waiting for `k` replies per phase instead of a majority. UNSAFE for
    /// `k <= n/2`: two quorums can miss each other, so a read can miss a completed write.
    pub fn with_quorum(self, k: usize) -> Abd {
        Abd {
            quorum: Some(k),
            ..self
        }
    }

    /// The quorum size used with `n` servers.
    pub fn quorum_size(&self, n: usize) -> usize {
        self.quorum.map_or(majority(n), |k| k.clamp(1, n.max(1)))
    }

    /// A short description: `MWMR|SWMR`, `write-back|one-phase` reads, and the quorum if it
    /// is not a majority.
    pub fn describe(&self) -> String {
        let mut d = format!(
            "{} {}",
            if self.writer.is_some() {
                "SWMR"
            } else {
                "MWMR"
            },
            if self.write_back {
                "write-back"
            } else {
                "one-phase"
            }
        );
        if let Some(k) = self.quorum {
            d.push_str(&format!(" quorum={k}"));
        }
        d
    }

    fn start(&self, s: &mut AbdState, client: u64, input: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        s.ops += 1;
        let me = ctx.id();
        if let (Some(writer), RegisterOp::Write(v)) = (self.writer, input) {
            debug_assert_eq!(writer, me, "only the writer coordinates writes");
            // The single writer's stored timestamp is the largest in the system (it stores
            // each of its writes locally first; nobody else makes timestamps): no query needed.
            let ts = Timestamp {
                seq: s.ts.seq.saturating_add(1),
                writer: me,
            };
            s.current = Some(AbdCoord {
                client,
                input,
                phase: AbdPhase::Store,
                replies: NodeSet::only(me),
                ts,
                value: Some(v),
            });
            s.store(ts, Some(v));
            ctx.broadcast(AbdMsg::Store {
                op: s.ops,
                ts,
                value: Some(v),
            });
        } else {
            s.current = Some(AbdCoord {
                client,
                input,
                phase: AbdPhase::Query,
                replies: NodeSet::only(me),
                ts: s.ts,
                value: s.value,
            });
            ctx.broadcast(AbdMsg::Query { op: s.ops });
        }
        self.progress(s, ctx);
    }

    /// Starts a client operation now, or queues it behind the current one.
    fn accept(&self, s: &mut AbdState, client: u64, input: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        if s.current.is_some() {
            s.queue.push((client, input));
        } else {
            self.start(s, client, input, ctx);
        }
    }

    /// Moves the current operation on once its phase has a quorum (possibly several phases
    /// at once, when the coordinator alone is a quorum).
    fn progress(&self, s: &mut AbdState, ctx: &mut Ctx<'_, Self>) {
        let quorum = self.quorum_size(ctx.n());
        let me = ctx.id();
        loop {
            let Some(c) = s.current.as_mut() else { return };
            if c.replies.len() < quorum {
                return;
            }
            let reply = match (c.phase, c.input) {
                (AbdPhase::Query, RegisterOp::Write(v)) => {
                    c.ts = Timestamp {
                        seq: c.ts.seq.saturating_add(1),
                        writer: me,
                    };
                    c.value = Some(v);
                    None
                }
                (AbdPhase::Query, RegisterOp::Read) if !self.write_back => {
                    Some(RegisterResp::ReadOk {
                        client: c.client,
                        value: c.value,
                    })
                }
                (AbdPhase::Query, RegisterOp::Read) => None,
                (AbdPhase::Store, RegisterOp::Write(_)) => {
                    Some(RegisterResp::WriteOk { client: c.client })
                }
                (AbdPhase::Store, RegisterOp::Read) => Some(RegisterResp::ReadOk {
                    client: c.client,
                    value: c.value,
                }),
            };
            match reply {
                None => {
                    // Query done: store (or write back) at every server, ourselves first.
                    let (ts, value) = (c.ts, c.value);
                    c.phase = AbdPhase::Store;
                    c.replies = NodeSet::only(me);
                    s.store(ts, value);
                    ctx.broadcast(AbdMsg::Store {
                        op: s.ops,
                        ts,
                        value,
                    });
                }
                Some(resp) => {
                    s.current = None;
                    ctx.indicate(resp);
                    if !s.queue.is_empty() {
                        let (client, input) = s.queue.remove(0);
                        self.start(s, client, input, ctx);
                    }
                    return;
                }
            }
        }
    }
}

impl Protocol for Abd {
    type Msg = AbdMsg;
    type Timer = ();
    type Request = RegisterReq;
    type Indication = RegisterResp;
    type State = AbdState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> AbdState {
        assert_fits_node_set("Abd", ctx.n());
        if let Some(w) = self.writer {
            assert!(
                w.index() < ctx.n(),
                "Abd: the writer {w} is not one of the {} servers",
                ctx.n()
            );
        }
        AbdState {
            ts: Timestamp::ZERO,
            value: None,
            ops: 0,
            current: None,
            queue: Vec::new(),
        }
    }

    fn on_message(&self, s: &mut AbdState, from: NodeId, msg: AbdMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() {
            return; // not a server of this run
        }
        match msg {
            AbdMsg::Query { op } => ctx.send(
                from,
                AbdMsg::QueryReply {
                    op,
                    ts: s.ts,
                    value: s.value,
                },
            ),
            AbdMsg::Store { op, ts, value } => {
                s.store(ts, value);
                ctx.send(from, AbdMsg::StoreAck { op });
            }
            AbdMsg::QueryReply { op, ts, value } => {
                let ops = s.ops;
                let Some(c) = s.current.as_mut() else { return };
                if op != ops || c.phase != AbdPhase::Query || !c.replies.insert(from) {
                    return; // stale, or a duplicate
                }
                if ts > c.ts {
                    c.ts = ts;
                    c.value = value;
                }
                self.progress(s, ctx);
            }
            AbdMsg::Forward { client, value } => {
                if self.writer == Some(ctx.id()) {
                    self.accept(s, client, RegisterOp::Write(value), ctx);
                } // else: not ours to coordinate (a confused peer): ignored
            }
            AbdMsg::StoreAck { op } => {
                let ops = s.ops;
                let Some(c) = s.current.as_mut() else { return };
                if op != ops || c.phase != AbdPhase::Store || !c.replies.insert(from) {
                    return;
                }
                self.progress(s, ctx);
            }
        }
    }

    fn on_timer(&self, _s: &mut AbdState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, s: &mut AbdState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        match (self.writer, req) {
            (Some(writer), RegisterReq::Write { client, value }) if writer != ctx.id() => {
                ctx.send(writer, AbdMsg::Forward { client, value });
            }
            _ => self.accept(s, req.client(), req.op(), ctx),
        }
    }

    fn invariants(&self, s: &AbdState) {
        assert!(
            s.current.is_some() || s.queue.is_empty(),
            "ABD: idle with {} queued operation(s)",
            s.queue.len()
        );
        if let Some(c) = &s.current {
            assert!(
                c.phase == AbdPhase::Query || c.ts <= s.ts,
                "ABD: storing {:?} but holding the older {:?}",
                c.ts,
                s.ts
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    fn run(
        abd: &Abd,
        s: &mut AbdState,
        input: impl FnOnce(&Abd, &mut AbdState, &mut Ctx<'_, Abd>),
    ) -> Vec<Effect<Abd>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
        input(abd, s, &mut ctx);
        abd.invariants(s);
        fx
    }

    #[test]
    fn a_write_queries_then_stores_with_a_larger_timestamp() {
        let abd = Abd::new();
        let mut s = {
            let (mut fx, mut ch) = (Vec::new(), FirstChoice);
            abd.init(&mut Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch))
        };
        assert_eq!(s, dummy());
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 1,
                    value: 5,
                },
                c,
            )
        });
        assert_eq!(fx.len(), 2, "Query to both others");
        // A second operation waits.
        run(&abd, &mut s, |p, s, c| {
            p.on_request(s, RegisterReq::Read { client: 2 }, c)
        });
        assert_eq!(s.queue, vec![(2, RegisterOp::Read)]);
        let big = Timestamp {
            seq: 4,
            writer: NodeId(2),
        };
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(2),
                AbdMsg::QueryReply {
                    op: 1,
                    ts: big,
                    value: Some(9),
                },
                c,
            )
        });
        let mine = Timestamp {
            seq: 5,
            writer: NodeId(0),
        };
        assert_eq!((s.ts, s.value), (mine, Some(5)));
        assert_eq!(
            fx[0],
            Effect::Send {
                to: NodeId(1),
                msg: AbdMsg::Store {
                    op: 1,
                    ts: mine,
                    value: Some(5)
                }
            }
        );
        // A stale ack (another op id) and a query reply in the store phase are ignored.
        let before = s.clone();
        run(&abd, &mut s, |p, s, c| {
            p.on_message(s, NodeId(1), AbdMsg::StoreAck { op: 0 }, c)
        });
        run(&abd, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(1),
                AbdMsg::QueryReply {
                    op: 1,
                    ts: big,
                    value: Some(9),
                },
                c,
            )
        });
        assert_eq!(s, before);
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_message(s, NodeId(1), AbdMsg::StoreAck { op: 1 }, c)
        });
        // WriteOk, then the queued read starts (op 2).
        assert_eq!(fx[0], Effect::Indicate(RegisterResp::WriteOk { client: 1 }));
        assert_eq!(
            fx[1],
            Effect::Send {
                to: NodeId(1),
                msg: AbdMsg::Query { op: 2 }
            }
        );
        assert!(s.queue.is_empty());
        assert_eq!(s.ops, 2);
    }

    fn dummy() -> AbdState {
        AbdState {
            ts: Timestamp::ZERO,
            value: None,
            ops: 0,
            current: None,
            queue: Vec::new(),
        }
    }

    #[test]
    fn a_server_keeps_the_larger_timestamp() {
        let abd = Abd::new();
        let mut s = dummy();
        let t = |seq| Timestamp {
            seq,
            writer: NodeId(1),
        };
        for (ts, v) in [(t(2), 20), (t(1), 10)] {
            let fx = run(&abd, &mut s, |p, s, c| {
                p.on_message(
                    s,
                    NodeId(1),
                    AbdMsg::Store {
                        op: 3,
                        ts,
                        value: Some(v),
                    },
                    c,
                )
            });
            assert_eq!(
                fx,
                vec![Effect::Send {
                    to: NodeId(1),
                    msg: AbdMsg::StoreAck { op: 3 }
                }]
            );
        }
        assert_eq!((s.ts, s.value), (t(2), Some(20)));
    }

    #[test]
    fn one_server_answers_at_once_and_the_canary_skips_the_write_back() {
        for abd in [Abd::new(), Abd::canary_no_write_back()] {
            let (mut fx, mut ch) = (Vec::new(), FirstChoice);
            let mut ctx = Ctx::new(NodeId(0), 1, Instant::ZERO, &mut fx, &mut ch);
            let mut s = abd.init(&mut ctx);
            abd.on_request(
                &mut s,
                RegisterReq::Write {
                    client: 1,
                    value: 3,
                },
                &mut ctx,
            );
            abd.on_request(&mut s, RegisterReq::Read { client: 1 }, &mut ctx);
            assert_eq!(
                fx,
                vec![
                    Effect::Indicate(RegisterResp::WriteOk { client: 1 }),
                    Effect::Indicate(RegisterResp::ReadOk {
                        client: 1,
                        value: Some(3)
                    })
                ]
            );
        }
        // With three servers, the canary's read answers after the query phase.
        let abd = Abd::canary_no_write_back();
        let mut s = dummy();
        run(&abd, &mut s, |p, s, c| {
            p.on_request(s, RegisterReq::Read { client: 4 }, c)
        });
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(1),
                AbdMsg::QueryReply {
                    op: 1,
                    ts: Timestamp::ZERO,
                    value: None,
                },
                c,
            )
        });
        assert_eq!(
            fx,
            vec![Effect::Indicate(RegisterResp::ReadOk {
                client: 4,
                value: None
            })]
        );
    }

    #[test]
    fn the_single_writer_stores_at_once_and_others_forward_its_writes() {
        let abd = Abd::single_writer(NodeId(0));
        let mut s = dummy();
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 1,
                    value: 5,
                },
                c,
            )
        });
        let ts = Timestamp {
            seq: 1,
            writer: NodeId(0),
        };
        // No query: a Store to each of the two others, the value stored locally.
        assert_eq!(fx.len(), 2);
        assert!(fx.iter().all(|e| matches!(
            e,
            Effect::Send {
                msg: AbdMsg::Store {
                    op: 1,
                    value: Some(5),
                    ..
                },
                ..
            }
        )));
        assert_eq!((s.ts, s.value), (ts, Some(5)));
        // One acknowledgement makes a majority of 3 with the writer itself.
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_message(s, NodeId(2), AbdMsg::StoreAck { op: 1 }, c)
        });
        assert_eq!(
            fx,
            vec![Effect::Indicate(RegisterResp::WriteOk { client: 1 })]
        );
        // At another server, a write is handed to the writer and nothing else happens.
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(2), 3, Instant::ZERO, &mut fx, &mut ch);
        let mut other = dummy();
        abd.on_request(
            &mut other,
            RegisterReq::Write {
                client: 7,
                value: 8,
            },
            &mut ctx,
        );
        assert_eq!(other, dummy());
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: NodeId(0),
                msg: AbdMsg::Forward {
                    client: 7,
                    value: 8
                }
            }]
        );
        // The writer coordinates a forwarded write like its own.
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_message(
                s,
                NodeId(2),
                AbdMsg::Forward {
                    client: 7,
                    value: 8,
                },
                c,
            )
        });
        assert_eq!(fx.len(), 2);
        assert_eq!(s.value, Some(8));
        assert_eq!(s.ts.seq, 2);
    }

    #[test]
    fn quorums_default_to_a_majority_and_a_quorum_of_one_answers_alone() {
        assert_eq!(Abd::new().quorum_size(5), 3);
        assert_eq!(Abd::new().quorum_size(4), 3);
        assert_eq!(Abd::new().with_quorum(2).quorum_size(5), 2);
        assert_eq!(Abd::new().with_quorum(9).quorum_size(5), 5);
        assert_eq!(Abd::new().with_quorum(0).quorum_size(5), 1);
        // Quorum 1 at n = 3: the coordinator is a quorum, both phases finish at once.
        let abd = Abd::new().with_quorum(1);
        let mut s = dummy();
        let fx = run(&abd, &mut s, |p, s, c| {
            p.on_request(
                s,
                RegisterReq::Write {
                    client: 1,
                    value: 5,
                },
                c,
            )
        });
        assert_eq!(
            fx.last(),
            Some(&Effect::Indicate(RegisterResp::WriteOk { client: 1 }))
        );
        assert_eq!(fx.len(), 5, "2 queries, 2 stores, the answer");
        assert_eq!(Abd::new().describe(), "MWMR write-back");
        assert_eq!(
            Abd::single_writer(NodeId(0))
                .with_write_back(false)
                .with_quorum(2)
                .describe(),
            "SWMR one-phase quorum=2"
        );
    }
}
