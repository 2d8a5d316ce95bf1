//! ABD: an atomic multi-writer register emulated on a majority of servers (Attiya, Bar-Noy and
//! Dolev, in its multi-writer form).
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), crash-stop, any minority of which may
//! crash; asynchronous timing. Channels must be *reliable* (no loss: there are no timers and no
//! retransmissions here, so put ABD over a perfect link, or run it on a network without loss);
//! they may duplicate and reorder. Clients are external: an operation arrives as a request
//! ([`RegisterReq`]) at a server, which becomes its *coordinator*; the answer
//! ([`RegisterResp`]) is an indication at that server.
//!
//! **Algorithm.** Every server stores a timestamped value `(ts, value)`, timestamps
//! ([`Timestamp`]) being pairs `(seq, writer)` ordered lexicographically (the writer's id breaks
//! ties between concurrent writers), starting from `((0, n0), None)`. A server keeps the larger
//! timestamp it is offered. Both operations have two phases, each a round trip to a majority
//! (the coordinator counts itself, handling its own part locally):
//!
//! - `Write(v)`: *query* every server for its timestamp; at a majority of replies take the
//!   largest `(seq, _)`; then *store* `((seq + 1, coordinator), v)` at every server; at a
//!   majority of acknowledgements, answer `WriteOk`.
//! - `Read`: *query* every server for its `(ts, value)`; at a majority take the pair with the
//!   largest timestamp; then *write it back* (store it at every server), and at a majority of
//!   acknowledgements answer `ReadOk(value)`. The write-back ("read-impose") makes sure that any
//!   later read sees a timestamp at least as large: without it a read that saw a write in
//!   progress could return its value, and a later read return the older one.
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
//! **Properties.** The register is *atomic* (linearizable): judge it on the client history
//! ([`synod_core::History::from_trace`]) with a linearizability checker. Simpler checks in
//! [`super::properties`]: *validity* (reads return written values), *unique timestamps* (no
//! timestamp ever carries two values), and, on states, a server's timestamp never decreases
//! ([`super::properties::timestamp_monotone`]). Every operation whose coordinator stays up
//! completes while a majority is up (*termination*, in the wait-free sense of CGR).
//!
//! **Canary.** [`Abd::canary_no_write_back`]: reads answer right after the query phase. A read
//! concurrent with a write can return the new value while a later read, whose majority has not
//! seen the write yet, returns the old one: a new/old inversion, not linearizable (the register
//! is then only *regular*).
//!
//! **State size.** [`AbdState`] holds the stored pair, an operation counter, the current
//! operation ([`AbdCoord`]: client, input, phase, the repliers as a [`NodeSet`], and the pair
//! being gathered or stored) and the queue: 136 bytes, and no heap unless operations pile up
//! in the queue.
//!
//! **Read:** CGR §4.3 and §4.4 (algorithm "Read-Impose Write-Majority" for the (1,N) atomic
//! register and "Read-Impose Write-Consult-Majority" for the (N,N) one, which this is); Attiya,
//! Bar-Noy and Dolev 1995; Lynch §17.1.

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

/// Multi-writer ABD (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Abd {
    /// Reads write back the value they return before answering. False only for the canary.
    pub write_back: bool,
}

impl Default for Abd {
    fn default() -> Abd {
        Abd::new()
    }
}

impl Abd {
    /// The correct protocol.
    pub fn new() -> Abd {
        Abd { write_back: true }
    }

    /// CANARY: reads return the largest-timestamp value of the query phase without writing it
    /// back, which allows new/old inversions (the register is regular, not atomic).
    pub fn canary_no_write_back() -> Abd {
        Abd { write_back: false }
    }

    fn start(&self, s: &mut AbdState, client: u64, input: RegisterOp, ctx: &mut Ctx<'_, Self>) {
        s.ops += 1;
        s.current = Some(AbdCoord {
            client,
            input,
            phase: AbdPhase::Query,
            replies: NodeSet::only(ctx.id()),
            ts: s.ts,
            value: s.value,
        });
        ctx.broadcast(AbdMsg::Query { op: s.ops });
        self.progress(s, ctx);
    }

    /// Moves the current operation on once its phase has a majority (possibly several phases
    /// at once, when the coordinator alone is a majority).
    fn progress(&self, s: &mut AbdState, ctx: &mut Ctx<'_, Self>) {
        let quorum = majority(ctx.n());
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
        let (client, input) = (req.client(), req.op());
        if s.current.is_some() {
            s.queue.push((client, input));
        } else {
            self.start(s, client, input, ctx);
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
}
