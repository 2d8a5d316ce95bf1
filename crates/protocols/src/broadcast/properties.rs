//! The broadcast abstractions' properties, as code, for any protocol that speaks the broadcast
//! vocabulary ([`BcastReq`] in, [`BcastInd`] out).
//!
//! Every check reads the trace only: the k-th `Broadcast(v)` request at node p broadcasts
//! `MsgId { origin: p, seq: k }` with payload v (numbered from 1, in trace order), and a
//! `Deliver { id, payload }` indication at q is "q delivers id". Nothing is read from the
//! protocols' states or messages, so one set of checks judges every algorithm of the family.
//!
//! **Correctness** is crash-stop: a process is *correct* if it never crashed (it has no `Crash`
//! event and [`synod_core::RunFacts::correct`] says so); in a crash-stop run that is the same as
//! "not crashed at the end of the run". A crashed process's deliveries still count for the
//! uniform properties and for the ordering properties, which constrain every process.
//!
//! | property | kind | says | abstraction (CGR ch. 3) |
//! |---|---|---|---|
//! | [`validity`] | liveness | a message broadcast by a correct process is delivered by every correct process | beb, rb, urb (BEB1 / RB1 / URB1) |
//! | [`no_duplication`] | safety | no process delivers a message twice | beb, rb, urb (BEB2 / RB2 / URB2) |
//! | [`no_creation`] | safety | a delivered message was broadcast, with that payload | beb, rb, urb (BEB3 / RB3 / URB3) |
//! | [`agreement`] | liveness | if a correct process delivers m, every correct process does | rb (RB4) |
//! | [`uniform_agreement`] | liveness | if any process delivers m (even one that crashed later), every correct process does | urb (URB4) |
//! | [`fifo_order`] | safety | a process delivers a sender's messages in the order it broadcast them, with no gap | FIFO (FRB5) |
//! | [`causal_order`] | safety | if broadcast(m1) happened-before broadcast(m2), nobody delivers m2 without having delivered m1 before | causal (CRB5) |
//! | [`total_order`] | safety | two processes that both deliver m and m' deliver them in the same relative order | total order (TOB, ch. 6) |
//!
//! Liveness properties are judged at the end of the run: let the run be long enough for the
//! last broadcasts and relays to arrive. They are [`Verdict::Inconclusive`] rather than violated
//! when scheduled faults (partitions, omission windows, recoveries: not crashes, which are
//! permanent) lasted until the end of the run.
//!
//! *Happened-before between broadcasts* (for [`causal_order`]) is computed from the trace's
//! requests and deliveries alone: broadcast(m1) → broadcast(m2) if the same process broadcast
//! m1 first, or a process delivered m1 before it broadcast m2, or transitively. (This is the
//! relation of the broadcast abstraction, CGR §3.9; it ignores the protocols' internal
//! messages.) The causal past of each broadcast is kept as a vector (per origin, the highest
//! number in the past): the past is closed downwards per origin, because a process's own
//! earlier broadcasts precede its later ones.
//!
//! For experiments, [`deliveries`] lists what each process delivered and [`violations`] counts
//! the violations of every property in one pass ([`Counts`] says exactly what each field
//! counts).
//!
//! **Read:** CGR §3.2 (best-effort broadcast: BEB1 validity, BEB2 no duplication, BEB3 no
//! creation), §3.3 (regular reliable broadcast: RB4 agreement), §3.4 (uniform reliable
//! broadcast: URB4 uniform agreement), §3.8 (FIFO), §3.9 (causal), §6.1 (total order);
//! Hadzilacos and Toueg, "A modular approach to fault-tolerant broadcasts and related
//! problems" (1994); Kshemkalyani & Singhal ch. 6 (message ordering).

use super::{BcastInd, BcastReq, MsgId};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{EventKind, Instant, NodeId, Property, Protocol, Trace, Verdict};

/// What the checks read from a trace: broadcasts (numbered) and deliveries, in trace order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    /// `(event index, node, id, payload)`: node broadcast id.
    Broadcast(usize, NodeId, MsgId, u64),
    /// `(event index, node, id, payload)`: node delivered id.
    Deliver(usize, NodeId, MsgId, u64),
}

/// A broadcast trace reduced to what the properties need.
struct BcastTrace {
    n: usize,
    steps: Vec<Step>,
    /// Every broadcast message: its payload and the index of its `Request` event.
    sent: BTreeMap<MsgId, (u64, usize)>,
    /// Per node: did it crash during the run?
    crashed: Vec<bool>,
    /// Did scheduled faults (other than crashes) last until the end of the run?
    faults_to_end: bool,
}

impl BcastTrace {
    fn of<P>(trace: &Trace<P>) -> BcastTrace
    where
        P: Protocol<Request = BcastReq, Indication = BcastInd>,
    {
        let n = trace.facts.n;
        let mut crashed: Vec<bool> = (0..n)
            .map(|i| trace.facts.ever_crashed.get(i).copied().unwrap_or(false))
            .collect();
        let mut seq = vec![0u64; n];
        let mut steps = Vec::new();
        let mut sent = BTreeMap::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Crash { node } => {
                    if let Some(c) = crashed.get_mut(node.index()) {
                        *c = true;
                    }
                }
                EventKind::Request {
                    node,
                    req: BcastReq::Broadcast(v),
                } if node.index() < n => {
                    seq[node.index()] += 1;
                    let id = MsgId {
                        origin: *node,
                        seq: seq[node.index()],
                    };
                    sent.insert(id, (*v, i));
                    steps.push(Step::Broadcast(i, *node, id, *v));
                }
                EventKind::Indication {
                    node,
                    ind: BcastInd::Deliver { id, payload },
                } if node.index() < n => {
                    steps.push(Step::Deliver(i, *node, *id, *payload));
                }
                _ => {}
            }
        }
        let faults_to_end =
            trace.facts.faults_end > Instant::ZERO && trace.facts.faults_end >= trace.facts.end;
        BcastTrace {
            n,
            steps,
            sent,
            crashed,
            faults_to_end,
        }
    }

    fn correct(&self, p: NodeId) -> bool {
        !self.crashed[p.index()]
    }

    fn correct_nodes(&self) -> Vec<NodeId> {
        NodeId::all(self.n).filter(|p| self.correct(*p)).collect()
    }

    /// Per node, the set of messages it delivered (at least once).
    fn delivered_sets(&self) -> Vec<BTreeSet<MsgId>> {
        let mut d = vec![BTreeSet::new(); self.n];
        for s in &self.steps {
            if let Step::Deliver(_, p, id, _) = s {
                d[p.index()].insert(*id);
            }
        }
        d
    }

    /// A liveness failure, or inconclusive if scheduled faults lasted until the end.
    fn liveness_failure(&self, detail: String) -> Verdict {
        if self.faults_to_end {
            Verdict::Inconclusive {
                detail: format!("scheduled faults lasted until the end of the run; {detail}"),
            }
        } else {
            Verdict::violated(detail)
        }
    }

    /// Messages in `candidates` (with a witness that delivered or broadcast each) that some
    /// correct process did not deliver: `(message, a correct process that missed it)`.
    fn missed_by_correct(
        &self,
        candidates: impl Iterator<Item = MsgId>,
        delivered: &[BTreeSet<MsgId>],
    ) -> Vec<(MsgId, NodeId)> {
        let correct = self.correct_nodes();
        candidates
            .filter_map(|m| {
                correct
                    .iter()
                    .find(|q| !delivered[q.index()].contains(&m))
                    .map(|q| (m, *q))
            })
            .collect()
    }
}

/// Messages delivered by some process in `from` (every delivering process, or only the correct
/// ones), deduplicated, in id order.
fn delivered_by(t: &BcastTrace, delivered: &[BTreeSet<MsgId>], only_correct: bool) -> Vec<MsgId> {
    let mut all = BTreeSet::new();
    for p in NodeId::all(t.n) {
        if !only_correct || t.correct(p) {
            all.extend(delivered[p.index()].iter().copied());
        }
    }
    all.into_iter().collect()
}

/// *Validity* (liveness; BEB1/RB1/URB1): every message broadcast by a correct process is
/// delivered by every correct process (the sender included) by the end of the run.
pub fn validity<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::liveness("validity", |trace: &Trace<P>| {
        let t = BcastTrace::of(trace);
        let delivered = t.delivered_sets();
        let by_correct = t.sent.keys().copied().filter(|m| t.correct(m.origin));
        let missed = t.missed_by_correct(by_correct, &delivered);
        match missed.first() {
            None => Verdict::Holds,
            Some((m, q)) => t.liveness_failure(format!(
                "{} message(s) broadcast by a correct process not delivered by every correct \
                 process, e.g. {m} (broadcast by {}) never delivered by {q}",
                missed.len(),
                m.origin
            )),
        }
    })
}

/// *No duplication* (safety; BEB2/RB2/URB2): no process delivers the same message twice. The
/// violation is the second delivery.
pub fn no_duplication<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::safety("no-duplication", |trace: &Trace<P>| {
        let t = BcastTrace::of(trace);
        let mut seen = BTreeSet::new();
        for s in &t.steps {
            if let Step::Deliver(i, p, id, _) = s {
                if !seen.insert((*p, *id)) {
                    return Verdict::violated_at(*i, format!("{p} delivered {id} a second time"));
                }
            }
        }
        Verdict::Holds
    })
}

/// *No creation* (safety; BEB3/RB3/URB3): a delivered message was broadcast before, with the
/// payload delivered (`MsgId { origin: p, seq: k }` is the k-th `Broadcast` request at p). The
/// violation is the first delivery of a message not (yet) broadcast or with another payload.
pub fn no_creation<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::safety("no-creation", |trace: &Trace<P>| {
        let t = BcastTrace::of(trace);
        for s in &t.steps {
            if let Step::Deliver(i, p, id, payload) = s {
                match t.sent.get(id) {
                    Some((v, at)) if *at < *i && v == payload => {}
                    Some((v, at)) if *at < *i => {
                        return Verdict::violated_at(
                            *i,
                            format!("{p} delivered {id} with payload {payload}, but it was broadcast with {v}"),
                        );
                    }
                    _ => {
                        return Verdict::violated_at(
                            *i,
                            format!("{p} delivered {id}, which was never broadcast before"),
                        );
                    }
                }
            }
        }
        Verdict::Holds
    })
}

/// *Agreement* (liveness; RB4): if a correct process delivers a message, every correct process
/// delivers it by the end of the run.
pub fn agreement<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::liveness("agreement", |trace: &Trace<P>| {
        let t = BcastTrace::of(trace);
        let delivered = t.delivered_sets();
        let cand = delivered_by(&t, &delivered, true);
        let missed = t.missed_by_correct(cand.into_iter(), &delivered);
        match missed.first() {
            None => Verdict::Holds,
            Some((m, q)) => t.liveness_failure(format!(
                "{} message(s) delivered by a correct process but not by every correct process, \
                 e.g. {m} never delivered by {q}",
                missed.len()
            )),
        }
    })
}

/// *Uniform agreement* (liveness; URB4): if any process delivers a message (even one that
/// crashed afterwards), every correct process delivers it by the end of the run.
pub fn uniform_agreement<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::liveness("uniform-agreement", |trace: &Trace<P>| {
        let t = BcastTrace::of(trace);
        let delivered = t.delivered_sets();
        let cand = delivered_by(&t, &delivered, false);
        let missed = t.missed_by_correct(cand.into_iter(), &delivered);
        match missed.first() {
            None => Verdict::Holds,
            Some((m, q)) => {
                let who = NodeId::all(t.n)
                    .find(|p| delivered[p.index()].contains(m))
                    .expect("a delivered message has a deliverer");
                t.liveness_failure(format!(
                    "{} message(s) delivered by some process but not by every correct process, \
                     e.g. {m} delivered by {who}{} and never by {q}",
                    missed.len(),
                    if t.correct(who) {
                        ""
                    } else {
                        " (later crashed)"
                    }
                ))
            }
        }
    })
}

/// The ordering checks, run incrementally over the deliveries in trace order.
struct OrderScan {
    /// Per node, per origin: the delivered sequence numbers.
    got: Vec<Vec<BTreeSet<u64>>>,
    /// Per node, per origin: the length of the gap-free prefix of delivered numbers.
    prefix: Vec<Vec<u64>>,
    /// Per node: the causal past of its next broadcast (per origin, the highest number).
    known: Vec<Vec<u64>>,
    /// Per broadcast message: its causal past (itself excluded).
    past: BTreeMap<MsgId, Vec<u64>>,
    /// Per node: its first deliveries, in order.
    order: Vec<Vec<MsgId>>,
    /// Per ordered pair (a, b) with a < b: bit 1 if some process delivered a before b, bit 2
    /// if some process delivered b before a.
    orient: BTreeMap<(MsgId, MsgId), u8>,
}

/// One delivery's ordering violations.
#[derive(Default)]
struct OrderFindings {
    /// Not first delivery (a duplicate).
    duplicate: bool,
    /// A FIFO gap: an earlier message of the same sender not yet delivered.
    fifo: Option<MsgId>,
    /// A causal gap: a message of its causal past not yet delivered.
    causal: Option<MsgId>,
    /// Messages this delivery puts in the opposite order to another process, newly found.
    total: Vec<MsgId>,
}

impl OrderScan {
    fn new(n: usize) -> OrderScan {
        OrderScan {
            got: vec![vec![BTreeSet::new(); n]; n],
            prefix: vec![vec![0; n]; n],
            known: vec![vec![0; n]; n],
            past: BTreeMap::new(),
            order: vec![Vec::new(); n],
            orient: BTreeMap::new(),
        }
    }

    fn broadcast(&mut self, p: NodeId, id: MsgId) {
        let k = &mut self.known[p.index()];
        self.past.insert(id, k.clone());
        let o = id.origin.index();
        k[o] = k[o].max(id.seq);
    }

    fn deliver(&mut self, p: NodeId, id: MsgId) -> OrderFindings {
        let mut f = OrderFindings::default();
        let (pi, o) = (p.index(), id.origin.index());
        if o >= self.got.len() || !self.got[pi][o].insert(id.seq) {
            f.duplicate = o < self.got.len();
            return f;
        }
        // FIFO: every earlier message of the same origin delivered before.
        if self.prefix[pi][o] + 1 < id.seq {
            f.fifo = Some(MsgId {
                origin: id.origin,
                seq: self.prefix[pi][o] + 1,
            });
        }
        // Causal: every message of the causal past delivered before.
        if let Some(past) = self.past.get(&id) {
            f.causal = past
                .iter()
                .enumerate()
                .find(|(q, hi)| self.prefix[pi][*q] < **hi)
                .map(|(q, _)| MsgId {
                    origin: NodeId(q as u32),
                    seq: self.prefix[pi][q] + 1,
                });
            let k = &mut self.known[pi];
            for (q, hi) in past.iter().enumerate() {
                k[q] = k[q].max(*hi);
            }
        }
        let k = &mut self.known[pi];
        k[o] = k[o].max(id.seq);
        // Advance the gap-free prefix.
        while self.got[pi][o].contains(&(self.prefix[pi][o] + 1)) {
            self.prefix[pi][o] += 1;
        }
        // Total order: against every message delivered here before.
        for &before in &self.order[pi] {
            let (key, bit, other) = if before < id {
                ((before, id), 1u8, 2u8)
            } else {
                ((id, before), 2u8, 1u8)
            };
            let e = self.orient.entry(key).or_insert(0);
            if *e & other != 0 && *e & bit == 0 {
                f.total.push(before);
            }
            *e |= bit;
        }
        self.order[pi].push(id);
        f
    }
}

/// *FIFO order* (safety; FRB5): if a process broadcast m1 before m2, no process delivers m2
/// unless it has already delivered m1. The violation is the first delivery of `p#k` at a process
/// that had not delivered every `p#j`, j < k.
pub fn fifo_order<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::safety("fifo-order", |trace: &Trace<P>| {
        order_check(trace, |i, p, id, f| {
            f.fifo
                .map(|m| Verdict::violated_at(i, format!("{p} delivered {id} before {m}")))
        })
    })
}

/// *Causal order* (safety; CRB5): if broadcast(m1) happened-before broadcast(m2) (same sender
/// in order, or m1 delivered at the sender of m2 before it broadcast m2, or transitively), no
/// process delivers m2 unless it has already delivered m1. The violation is the first such
/// delivery of m2.
pub fn causal_order<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::safety("causal-order", |trace: &Trace<P>| {
        order_check(trace, |i, p, id, f| {
            f.causal.map(|m| {
                Verdict::violated_at(
                    i,
                    format!("{p} delivered {id} before {m}, which is in its causal past"),
                )
            })
        })
    })
}

/// *Total order* (safety; TOB): if processes p and q both deliver messages m and m', they
/// deliver them in the same relative order. The violation is the delivery that completes the
/// first pair delivered in opposite orders.
pub fn total_order<P>() -> Property<P>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    Property::safety("total-order", |trace: &Trace<P>| {
        order_check(trace, |i, p, id, f| {
            f.total.first().map(|m| {
                Verdict::violated_at(
                    i,
                    format!("{p} delivered {m} before {id}, another process delivered them the other way round"),
                )
            })
        })
    })
}

fn order_check<P>(
    trace: &Trace<P>,
    judge: impl Fn(usize, NodeId, MsgId, &OrderFindings) -> Option<Verdict>,
) -> Verdict
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let t = BcastTrace::of(trace);
    let mut scan = OrderScan::new(t.n);
    for s in &t.steps {
        match *s {
            Step::Broadcast(_, p, id, _) => scan.broadcast(p, id),
            Step::Deliver(i, p, id, _) => {
                let f = scan.deliver(p, id);
                if let Some(v) = judge(i, p, id, &f) {
                    return v;
                }
            }
        }
    }
    Verdict::Holds
}

/// Best-effort broadcast's properties: [`validity`], [`no_duplication`], [`no_creation`].
pub fn beb_properties<P>() -> Vec<Property<P>>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    vec![validity(), no_duplication(), no_creation()]
}

/// Reliable broadcast's properties: best-effort's plus [`agreement`].
pub fn rb_properties<P>() -> Vec<Property<P>>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let mut v = beb_properties();
    v.push(agreement());
    v
}

/// Uniform reliable broadcast's properties: reliable broadcast's plus [`uniform_agreement`].
pub fn urb_properties<P>() -> Vec<Property<P>>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let mut v = rb_properties();
    v.push(uniform_agreement());
    v
}

/// What each process delivered, in delivery order, with payloads (duplicates included, as
/// delivered). Every node `0..n` has an entry, empty if it delivered nothing.
pub fn deliveries<P>(trace: &Trace<P>) -> BTreeMap<NodeId, Vec<(MsgId, u64)>>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let mut out: BTreeMap<NodeId, Vec<(MsgId, u64)>> = NodeId::all(trace.facts.n)
        .map(|p| (p, Vec::new()))
        .collect();
    for (_, _, node, ind) in trace.indications() {
        let BcastInd::Deliver { id, payload } = *ind;
        out.entry(node).or_default().push((id, payload));
    }
    out
}

/// The messages broadcast in a run: id → payload (the k-th request at p is `p#k`).
pub fn broadcasts<P>(trace: &Trace<P>) -> BTreeMap<MsgId, u64>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    BcastTrace::of(trace)
        .sent
        .into_iter()
        .map(|(id, (v, _))| (id, v))
        .collect()
}

/// Violation counts of one run, for experiments. Every count is over the whole run and is 0
/// exactly when the corresponding property holds (the liveness ones as if the run were long
/// enough: they are not made inconclusive by faults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Distinct messages broadcast.
    pub messages: usize,
    /// Deliveries (duplicates included), over all processes.
    pub deliveries: usize,
    /// Messages broadcast by a correct process that some correct process never delivered
    /// ([`validity`]).
    pub validity: usize,
    /// Deliveries of a message the process had delivered before ([`no_duplication`]).
    pub duplication: usize,
    /// Deliveries of a message never broadcast before, or with another payload
    /// ([`no_creation`]).
    pub creation: usize,
    /// Distinct messages delivered by some correct process but not by every correct process
    /// ([`agreement`]).
    pub agreement: usize,
    /// Distinct messages delivered by some process (crashed ones included) but not by every
    /// correct process ([`uniform_agreement`]; always >= `agreement`).
    pub uniform_agreement: usize,
    /// First deliveries of a message `p#k` at a process that had not delivered every `p#j`,
    /// j < k, before ([`fifo_order`]).
    pub fifo: usize,
    /// First deliveries of a message m2 at a process that had not delivered, before, every
    /// message whose broadcast happened-before m2's ([`causal_order`]; a FIFO violation is also
    /// a causal one, so this is >= `fifo`).
    pub causal: usize,
    /// Unordered pairs of messages {m, m'} that two processes delivered in opposite orders
    /// ([`total_order`]).
    pub total_order: usize,
}

/// Counts every property's violations in one pass over `trace` (see [`Counts`]).
pub fn violations<P>(trace: &Trace<P>) -> Counts
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let t = BcastTrace::of(trace);
    let mut c = Counts {
        messages: t.sent.len(),
        ..Counts::default()
    };
    let mut scan = OrderScan::new(t.n);
    for s in &t.steps {
        match *s {
            Step::Broadcast(_, p, id, _) => scan.broadcast(p, id),
            Step::Deliver(i, p, id, payload) => {
                c.deliveries += 1;
                match t.sent.get(&id) {
                    Some((v, at)) if *at < i && *v == payload => {}
                    _ => c.creation += 1,
                }
                let f = scan.deliver(p, id);
                c.duplication += usize::from(f.duplicate);
                c.fifo += usize::from(f.fifo.is_some());
                c.causal += usize::from(f.causal.is_some());
                c.total_order += f.total.len();
            }
        }
    }
    let delivered = t.delivered_sets();
    let by_correct = t.sent.keys().copied().filter(|m| t.correct(m.origin));
    c.validity = t.missed_by_correct(by_correct, &delivered).len();
    let cand = delivered_by(&t, &delivered, true);
    c.agreement = t.missed_by_correct(cand.into_iter(), &delivered).len();
    let cand = delivered_by(&t, &delivered, false);
    c.uniform_agreement = t.missed_by_correct(cand.into_iter(), &delivered).len();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use synod_core::{Ctx, Event, RunFacts};

    /// A protocol that only exists to type hand-built traces.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Dummy;

    impl Protocol for Dummy {
        type Msg = ();
        type Timer = ();
        type Request = BcastReq;
        type Indication = BcastInd;
        type State = ();
        type Durable = ();
        fn init(&self, _: &mut Ctx<'_, Self>) {}
        fn on_message(&self, _: &mut (), _: NodeId, _: (), _: &mut Ctx<'_, Self>) {}
        fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
        fn on_request(&self, _: &mut (), _: BcastReq, _: &mut Ctx<'_, Self>) {}
    }

    /// A tiny trace language: `b p v` broadcast, `d p o k v` deliver `o#k` with payload v,
    /// `c p` crash.
    enum Ev {
        B(u32, u64),
        D(u32, u32, u64, u64),
        C(u32),
    }
    use Ev::{B, C, D};

    fn trace(n: usize, evs: &[Ev]) -> Trace<Dummy> {
        let mut events = Vec::new();
        let mut facts = RunFacts::fault_free(n, Instant(1_000_000));
        for (i, e) in evs.iter().enumerate() {
            let kind = match *e {
                B(p, v) => EventKind::Request {
                    node: NodeId(p),
                    req: BcastReq::Broadcast(v),
                },
                D(p, o, k, v) => EventKind::Indication {
                    node: NodeId(p),
                    ind: BcastInd::Deliver {
                        id: MsgId {
                            origin: NodeId(o),
                            seq: k,
                        },
                        payload: v,
                    },
                },
                C(p) => {
                    facts.ever_crashed[p as usize] = true;
                    facts.up_at_end[p as usize] = false;
                    EventKind::Crash { node: NodeId(p) }
                }
            };
            events.push(Event {
                time: Instant(i as u64 * 10),
                kind,
            });
        }
        Trace { events, facts }
    }

    fn holds(p: Property<Dummy>, t: &Trace<Dummy>) -> bool {
        let v = p.check(t);
        assert!(!matches!(v, Verdict::Inconclusive { .. }), "{v}");
        !v.is_violated()
    }

    /// Everyone delivers n0's one message.
    fn good3() -> Trace<Dummy> {
        trace(3, &[B(0, 7), D(0, 0, 1, 7), D(1, 0, 1, 7), D(2, 0, 1, 7)])
    }

    #[test]
    fn a_complete_broadcast_satisfies_everything() {
        let t = good3();
        for p in urb_properties::<Dummy>().into_iter().chain([
            fifo_order(),
            causal_order(),
            total_order(),
        ]) {
            assert!(holds(p.clone(), &t), "{}", p.name);
        }
        assert_eq!(
            violations(&t),
            Counts {
                messages: 1,
                deliveries: 3,
                ..Counts::default()
            }
        );
        let d = deliveries(&t);
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[&NodeId(2)],
            vec![(
                MsgId {
                    origin: NodeId(0),
                    seq: 1
                },
                7
            )]
        );
    }

    #[test]
    fn validity_needs_every_correct_process_to_deliver_a_correct_senders_message() {
        // n2 never delivers n0's message: violated.
        let t = trace(3, &[B(0, 7), D(0, 0, 1, 7), D(1, 0, 1, 7)]);
        assert!(!holds(validity(), &t));
        assert_eq!(violations(&t).validity, 1);
        // The same with n2 crashed: holds.
        let t = trace(3, &[B(0, 7), D(0, 0, 1, 7), D(1, 0, 1, 7), C(2)]);
        assert!(holds(validity(), &t));
        // The sender crashed: validity says nothing about its message.
        let t = trace(3, &[B(0, 7), C(0)]);
        assert!(holds(validity(), &t));
    }

    #[test]
    fn a_second_delivery_is_a_duplication() {
        let t = trace(2, &[B(0, 7), D(1, 0, 1, 7), D(0, 0, 1, 7), D(1, 0, 1, 7)]);
        assert_eq!(
            no_duplication::<Dummy>().check(&t),
            Verdict::violated_at(3, "n1 delivered n0#1 a second time")
        );
        assert_eq!(violations(&t).duplication, 1);
        assert!(holds(no_duplication(), &good3()));
    }

    #[test]
    fn creation_is_an_unknown_id_a_wrong_payload_or_a_delivery_before_the_broadcast() {
        // n0's second message was never broadcast.
        let t = trace(2, &[B(0, 7), D(1, 0, 2, 7)]);
        assert!(!holds(no_creation(), &t));
        // Wrong payload.
        let t = trace(2, &[B(0, 7), D(1, 0, 1, 8)]);
        assert!(!holds(no_creation(), &t));
        assert_eq!(violations(&t).creation, 1);
        // Delivered before it was broadcast.
        let t = trace(2, &[D(1, 0, 1, 7), B(0, 7)]);
        assert!(!holds(no_creation(), &t));
        // The second request is #2.
        let t = trace(2, &[B(0, 7), B(0, 9), D(1, 0, 2, 9), D(1, 0, 1, 7)]);
        assert!(holds(no_creation(), &t));
    }

    #[test]
    fn agreement_ignores_crashed_deliverers_uniform_agreement_does_not() {
        // The sender delivers its own message and crashes: nobody else delivers it.
        let t = trace(3, &[B(0, 7), D(0, 0, 1, 7), C(0)]);
        assert!(holds(agreement(), &t));
        assert!(!holds(uniform_agreement(), &t));
        assert!(holds(validity(), &t));
        let c = violations(&t);
        assert_eq!((c.agreement, c.uniform_agreement), (0, 1));
        // A correct process delivers it, another correct one does not: both violated.
        let t = trace(3, &[B(0, 7), D(0, 0, 1, 7), D(1, 0, 1, 7), C(0)]);
        assert!(!holds(agreement(), &t));
        assert!(!holds(uniform_agreement(), &t));
        let c = violations(&t);
        assert_eq!((c.agreement, c.uniform_agreement), (1, 1));
        // Every correct process delivers it: both hold.
        let t = trace(
            3,
            &[B(0, 7), D(0, 0, 1, 7), C(0), D(1, 0, 1, 7), D(2, 0, 1, 7)],
        );
        assert!(holds(agreement(), &t));
        assert!(holds(uniform_agreement(), &t));
    }

    #[test]
    fn liveness_is_inconclusive_when_faults_last_to_the_end() {
        let mut t = trace(3, &[B(0, 7), D(0, 0, 1, 7), D(1, 0, 1, 7)]);
        t.facts.faults_end = t.facts.end;
        assert!(matches!(
            validity::<Dummy>().check(&t),
            Verdict::Inconclusive { .. }
        ));
    }

    #[test]
    fn fifo_needs_each_senders_messages_in_order_without_gaps() {
        let ok = trace(2, &[B(0, 1), B(0, 2), D(1, 0, 1, 1), D(1, 0, 2, 2)]);
        assert!(holds(fifo_order(), &ok));
        let swapped = trace(2, &[B(0, 1), B(0, 2), D(1, 0, 2, 2), D(1, 0, 1, 1)]);
        assert_eq!(
            fifo_order::<Dummy>().check(&swapped),
            Verdict::violated_at(2, "n1 delivered n0#2 before n0#1")
        );
        // A gap is a violation even if the missing message never comes.
        let gap = trace(2, &[B(0, 1), B(0, 2), D(1, 0, 2, 2)]);
        assert!(!holds(fifo_order(), &gap));
        assert_eq!(violations(&swapped).fifo, 1);
        // Different senders are not ordered by FIFO.
        let two = trace(3, &[B(0, 1), B(1, 2), D(2, 1, 1, 2), D(2, 0, 1, 1)]);
        assert!(holds(fifo_order(), &two));
    }

    #[test]
    fn causal_order_follows_deliveries_before_broadcasts_transitively() {
        // n0 broadcasts a; n1 delivers a, then broadcasts b; n2 delivers b first: violated.
        let t = trace(
            3,
            &[
                B(0, 1),
                D(1, 0, 1, 1),
                B(1, 2),
                D(2, 1, 1, 2),
                D(2, 0, 1, 1),
            ],
        );
        assert!(holds(fifo_order(), &t));
        assert_eq!(
            causal_order::<Dummy>().check(&t),
            Verdict::violated_at(
                3,
                "n2 delivered n1#1 before n0#1, which is in its causal past"
            )
        );
        let c = violations(&t);
        assert_eq!((c.fifo, c.causal), (0, 1));
        // The same with n2 delivering a first: holds.
        let t = trace(
            3,
            &[
                B(0, 1),
                D(1, 0, 1, 1),
                B(1, 2),
                D(2, 0, 1, 1),
                D(2, 1, 1, 2),
            ],
        );
        assert!(holds(causal_order(), &t));
        // n1 broadcasts b before delivering a: concurrent, any order is fine.
        let t = trace(
            3,
            &[
                B(0, 1),
                B(1, 2),
                D(1, 0, 1, 1),
                D(2, 1, 1, 2),
                D(2, 0, 1, 1),
            ],
        );
        assert!(holds(causal_order(), &t));
        // Transitive: a → b (n1 delivered a) → c (n2 delivered b, not a); n3 gets c before a.
        let t = trace(
            4,
            &[
                B(0, 1),
                D(1, 0, 1, 1),
                B(1, 2),
                D(2, 1, 1, 2),
                B(2, 3),
                D(3, 1, 1, 2),
                D(3, 2, 1, 3),
                D(3, 0, 1, 1),
            ],
        );
        assert!(holds(fifo_order(), &t));
        assert!(!holds(causal_order(), &t));
        // n2 delivers b before a; n3 delivers b before a and c (whose past holds a only
        // through b) before a.
        assert_eq!(violations(&t).causal, 3);
        // A FIFO violation is a causal one.
        let t = trace(2, &[B(0, 1), B(0, 2), D(1, 0, 2, 2), D(1, 0, 1, 1)]);
        assert!(!holds(causal_order(), &t));
    }

    #[test]
    fn total_order_compares_pairs_delivered_by_two_processes() {
        let same = trace(
            3,
            &[
                B(0, 1),
                B(1, 2),
                D(0, 1, 1, 2),
                D(0, 0, 1, 1),
                D(1, 1, 1, 2),
                D(1, 0, 1, 1),
                D(2, 0, 1, 1),
            ],
        );
        // n2 delivered only one of them: no constraint.
        assert!(holds(total_order(), &same));
        let opposite = trace(
            2,
            &[
                B(0, 1),
                B(1, 2),
                D(0, 0, 1, 1),
                D(0, 1, 1, 2),
                D(1, 1, 1, 2),
                D(1, 0, 1, 1),
            ],
        );
        assert_eq!(
            total_order::<Dummy>().check(&opposite),
            Verdict::violated_at(
                5,
                "n1 delivered n1#1 before n0#1, another process delivered them the other way round"
            )
        );
        assert_eq!(violations(&opposite).total_order, 1);
        // Three processes, two of them disagreeing with the first on the same pair: one pair.
        let t = trace(
            3,
            &[
                B(0, 1),
                B(1, 2),
                D(0, 0, 1, 1),
                D(0, 1, 1, 2),
                D(1, 1, 1, 2),
                D(1, 0, 1, 1),
                D(2, 1, 1, 2),
                D(2, 0, 1, 1),
            ],
        );
        assert_eq!(violations(&t).total_order, 1);
    }
}
