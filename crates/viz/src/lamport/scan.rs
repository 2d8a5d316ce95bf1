//! The first pass over a trace, independent of geometry: every message copy with its fate, and
//! the intervals during which each node was down.

use std::collections::BTreeMap;
use synod_core::{DropReason, EventKind, Instant, MsgId, NodeId, Protocol, Trace};

/// What became of one copy of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// The first delivery of the message.
    Delivered,
    /// A further delivery of an already delivered message (a network duplicate).
    Duplicate,
    /// The network dropped this copy.
    Dropped(DropReason),
    /// Neither delivered nor dropped when the run ended.
    InFlight,
}

/// One copy of a message on its way from sender to receiver.
pub(super) struct Flight<'a, P: Protocol> {
    /// The message's network id.
    pub id: MsgId,
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// When it was sent, if the trace holds the send.
    pub sent: Option<Instant>,
    /// When it was delivered or dropped (the end of the run for a message still in flight).
    pub end: Instant,
    /// What became of it.
    pub fate: Fate,
    /// The message, if the trace holds it.
    pub msg: Option<&'a P::Msg>,
}

/// A node's down time: from its crash to its recovery (`None`: still down when the run ended).
pub(super) type Down = (Instant, Option<Instant>);

/// What the diagram needs to know about a trace before drawing it.
pub(super) struct Scan<'a, P: Protocol> {
    /// Number of node lines (at least `facts.n`, more if events name higher nodes).
    pub n: usize,
    /// Every message copy, in the order its fate was decided.
    pub flights: Vec<Flight<'a, P>>,
    /// Per node, its down intervals in time order.
    pub down: Vec<Vec<Down>>,
    /// The later of the run's recorded end and its last event.
    pub end: Instant,
}

struct SendRecord<'a, P: Protocol> {
    time: Instant,
    from: NodeId,
    to: NodeId,
    msg: &'a P::Msg,
    resolved: bool,
}

impl<'a, P: Protocol> Scan<'a, P> {
    /// Scans `trace` once.
    pub fn new(trace: &'a Trace<P>) -> Scan<'a, P> {
        let n = node_count(trace);
        let end = trace
            .events
            .last()
            .map_or(trace.facts.end, |e| e.time.max(trace.facts.end));
        let (flights, sends) = collect_flights(trace);
        let mut flights = flights;
        flights.extend(in_flight(sends, end));
        Scan {
            n,
            flights,
            down: down_intervals(trace, n),
            end,
        }
    }
}

fn node_count<P: Protocol>(trace: &Trace<P>) -> usize {
    let named = trace
        .events
        .iter()
        .flat_map(|e| match &e.kind {
            EventKind::Send { from, to, .. }
            | EventKind::Deliver { from, to, .. }
            | EventKind::Drop { from, to, .. }
            | EventKind::Duplicate { from, to, .. } => vec![from.index(), to.index()],
            other => other.node().map(NodeId::index).into_iter().collect(),
        })
        .max()
        .map_or(0, |m| m + 1);
    trace.facts.n.max(named)
}

type Sends<'a, P> = BTreeMap<MsgId, SendRecord<'a, P>>;

fn collect_flights<P: Protocol>(trace: &Trace<P>) -> (Vec<Flight<'_, P>>, Sends<'_, P>) {
    let mut sends: Sends<'_, P> = BTreeMap::new();
    let mut deliveries: BTreeMap<MsgId, u32> = BTreeMap::new();
    let mut flights = Vec::new();
    for e in &trace.events {
        match &e.kind {
            EventKind::Send { from, to, id, msg } => {
                sends.insert(
                    *id,
                    SendRecord {
                        time: e.time,
                        from: *from,
                        to: *to,
                        msg,
                        resolved: false,
                    },
                );
            }
            EventKind::Deliver { from, to, id, msg } => {
                let count = deliveries.entry(*id).or_insert(0);
                *count += 1;
                let fate = if *count == 1 {
                    Fate::Delivered
                } else {
                    Fate::Duplicate
                };
                let sent = sends.get_mut(id).map(|s| {
                    s.resolved = true;
                    s.time
                });
                flights.push(Flight {
                    id: *id,
                    from: *from,
                    to: *to,
                    sent,
                    end: e.time,
                    fate,
                    msg: Some(msg),
                });
            }
            EventKind::Drop {
                from,
                to,
                id,
                reason,
            } => {
                let (sent, msg) = sends.get_mut(id).map_or((None, None), |s| {
                    s.resolved = true;
                    (Some(s.time), Some(s.msg))
                });
                flights.push(Flight {
                    id: *id,
                    from: *from,
                    to: *to,
                    sent,
                    end: e.time,
                    fate: Fate::Dropped(*reason),
                    msg,
                });
            }
            _ => {}
        }
    }
    (flights, sends)
}

fn in_flight<P: Protocol>(sends: Sends<'_, P>, end: Instant) -> Vec<Flight<'_, P>> {
    sends
        .into_iter()
        .filter(|(_, s)| !s.resolved)
        .map(|(id, s)| Flight {
            id,
            from: s.from,
            to: s.to,
            sent: Some(s.time),
            end: end.max(s.time),
            fate: Fate::InFlight,
            msg: Some(s.msg),
        })
        .collect()
}

fn down_intervals<P: Protocol>(trace: &Trace<P>, n: usize) -> Vec<Vec<Down>> {
    let mut down: Vec<Vec<Down>> = vec![Vec::new(); n];
    for e in &trace.events {
        match &e.kind {
            EventKind::Crash { node } => {
                let spans = &mut down[node.index()];
                if !matches!(spans.last(), Some((_, None))) {
                    spans.push((e.time, None));
                }
            }
            EventKind::Recover { node } => {
                if let Some(last) = down[node.index()].last_mut() {
                    if last.1.is_none() {
                        last.1 = Some(e.time);
                    }
                }
            }
            _ => {}
        }
    }
    down
}
