//! The link abstractions' properties, as code, for any protocol with the link interface.
//!
//! Every constructor here is generic over a link protocol
//! `P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>`: the same check judges a
//! fair-loss, stubborn, perfect or FIFO link, whichever way it is built. A *request* event at p
//! with `LinkSend { to: q, payload: m }` is "p sends m to q"; an *indication* event at q with
//! `LinkDeliver { from: p, payload: m }` is "q delivers m from p".
//!
//! **Assumption:** the workload sends each payload value at most once in a run (unique
//! payloads), so a payload names a message. Correctness is crash-stop: a correct node never
//! crashed ([`synod_core::RunFacts::correct`]); liveness only constrains messages between
//! correct nodes, and is judged at the end of the run, so leave the run time to deliver what was
//! sent late. A liveness check is [`Verdict::Inconclusive`] rather than violated when scheduled
//! faults (a partition, an omission window) lasted until the end.
//!
//! Read: CGR ch. 2, §2.4 (the modules of fair-loss, stubborn, perfect and FIFO-order links).

use super::{FairLossLink, StubbornLink};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{
    stable_hash, EventKind, Instant, LinkDeliver, LinkSend, Message, NodeId, Property, Protocol,
    Trace, Verdict,
};

/// "Every delivered message was sent" (*no creation*, safety): every delivery of payload m from
/// p at q follows a request at p to send m to q. The verdict names the first delivery without
/// one.
pub fn no_creation<P, M>() -> Property<P>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    Property::safety("no-creation", |trace: &Trace<P>| {
        let mut ids = Payloads::default();
        let mut sent = BTreeSet::new();
        for (i, ev) in link_events(trace) {
            match ev {
                LinkEvent::Send { at, to, payload } => {
                    sent.insert((at, to, ids.intern(payload)));
                }
                LinkEvent::Deliver { at, from, payload } => {
                    if !sent.contains(&(from, at, ids.intern(payload))) {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{at} delivered {payload:?} from {from}, which {from} never sent \
                                 to {at} before"
                            ),
                        );
                    }
                }
            }
        }
        Verdict::Holds
    })
}

/// "No message is delivered twice" (*no duplication*, safety): no node delivers the same
/// payload from the same sender twice. The verdict names the second delivery.
pub fn no_duplication<P, M>() -> Property<P>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    Property::safety("no-duplication", |trace: &Trace<P>| {
        let mut ids = Payloads::default();
        let mut delivered = BTreeSet::new();
        for (i, ev) in link_events(trace) {
            if let LinkEvent::Deliver { at, from, payload } = ev {
                if !delivered.insert((at, from, ids.intern(payload))) {
                    return Verdict::violated_at(
                        i,
                        format!("{at} delivered {payload:?} from {from} a second time"),
                    );
                }
            }
        }
        Verdict::Holds
    })
}

/// "Every message sent between correct nodes arrives" (*reliable delivery*, liveness): every
/// payload a correct p asks to send to a correct q is delivered at q by the end of the run.
pub fn reliable_delivery<P, M>() -> Property<P>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    Property::liveness("reliable-delivery", |trace: &Trace<P>| {
        check_deliveries(trace, Instant::MAX, 1)
    })
}

/// A finite-horizon stand-in for *stubborn delivery* ("delivered infinitely often"), liveness:
/// every payload a correct p asks to send to a correct q in the first half of the run is
/// delivered at q at least twice by its end.
pub fn stubborn_delivery<P, M>() -> Property<P>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    Property::liveness("stubborn-delivery", |trace: &Trace<P>| {
        let half = Instant(trace.facts.end.as_nanos() / 2);
        check_deliveries(trace, half, 2)
    })
}

/// "Messages from one sender arrive in the order sent" (*FIFO delivery*, safety): for each pair
/// (p, q), the payloads q delivers from p appear in the order p requested them. The violation is
/// the delivery of an earlier-sent payload after a later-sent one was delivered. Only first
/// deliveries count (repeats are [`no_duplication`]'s business), and payloads that were never
/// requested are [`no_creation`]'s.
pub fn fifo_delivery<P, M>() -> Property<P>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    Property::safety("fifo-delivery", |trace: &Trace<P>| {
        match scan_fifo(trace, true).1 {
            Some((i, detail)) => Verdict::violated_at(i, detail),
            None => Verdict::Holds,
        }
    })
}

/// The property a fair-loss link can be checked for on a finite run: no creation.
pub fn fair_loss_properties<M: Message>() -> Vec<Property<FairLossLink<M>>> {
    vec![no_creation()]
}

/// A stubborn link's properties: no creation, stubborn delivery.
pub fn stubborn_properties<M: Message>() -> Vec<Property<StubbornLink<M>>> {
    vec![no_creation(), stubborn_delivery()]
}

/// A perfect link's properties, for any perfect link `P`: no creation, no duplication, reliable
/// delivery.
pub fn perfect_properties<P, M>() -> Vec<Property<P>>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    vec![no_creation(), no_duplication(), reliable_delivery()]
}

/// A FIFO perfect link's properties, for any FIFO link `P`: the perfect link's three plus FIFO
/// delivery.
pub fn fifo_properties<P, M>() -> Vec<Property<P>>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    let mut props = perfect_properties();
    props.push(fifo_delivery());
    props
}

/// Deliveries beyond the first of each (receiver, sender, payload) in `trace`.
pub fn count_duplicate_deliveries<P, M>(trace: &Trace<P>) -> u64
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    let mut ids = Payloads::default();
    let mut delivered = BTreeSet::new();
    let mut dups = 0;
    for (_, ev) in link_events(trace) {
        if let LinkEvent::Deliver { at, from, payload } = ev {
            if !delivered.insert((at, from, ids.intern(payload))) {
                dups += 1;
            }
        }
    }
    dups
}

/// First deliveries in `trace` that come after a later-requested payload from the same sender
/// was already delivered (each is a [`fifo_delivery`] violation).
pub fn count_fifo_violations<P, M>(trace: &Trace<P>) -> u64
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    scan_fifo(trace, false).0
}

// ---- shared machinery ------------------------------------------------------------------------

/// A link-level event of a trace.
enum LinkEvent<'t, M> {
    /// Node `at` asked to send `payload` to `to`.
    Send {
        at: NodeId,
        to: NodeId,
        payload: &'t M,
    },
    /// Node `at` delivered `payload` from `from`.
    Deliver {
        at: NodeId,
        from: NodeId,
        payload: &'t M,
    },
}

/// The requests and indications of `trace`, in order, with their event index.
fn link_events<P, M>(trace: &Trace<P>) -> impl Iterator<Item = (usize, LinkEvent<'_, M>)>
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Request { node, req } => Some((
                i,
                LinkEvent::Send {
                    at: *node,
                    to: req.to,
                    payload: &req.payload,
                },
            )),
            EventKind::Indication { node, ind } => Some((
                i,
                LinkEvent::Deliver {
                    at: *node,
                    from: ind.from,
                    payload: &ind.payload,
                },
            )),
            _ => None,
        })
}

/// Numbers the distinct payloads of a trace, so the checks can key ordered maps by a `usize`
/// (payloads are only `Eq + Hash`). Buckets by stable hash, compares within a bucket.
struct Payloads<'t, M> {
    buckets: BTreeMap<u64, Vec<usize>>,
    values: Vec<&'t M>,
}

impl<M> Default for Payloads<'_, M> {
    fn default() -> Self {
        Payloads {
            buckets: BTreeMap::new(),
            values: Vec::new(),
        }
    }
}

impl<'t, M: Message> Payloads<'t, M> {
    fn intern(&mut self, m: &'t M) -> usize {
        let bucket = self.buckets.entry(stable_hash(m)).or_default();
        if let Some(&id) = bucket.iter().find(|&&id| self.values[id] == m) {
            return id;
        }
        let id = self.values.len();
        self.values.push(m);
        bucket.push(id);
        id
    }

    fn get(&self, id: usize) -> &'t M {
        self.values[id]
    }
}

/// Checks that every payload sent by a correct node to a correct node at or before `sent_by`
/// was delivered at least `times` times by the end of the run.
fn check_deliveries<P, M>(trace: &Trace<P>, sent_by: Instant, times: u64) -> Verdict
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    let facts = &trace.facts;
    let mut ids = Payloads::default();
    let mut wanted = Vec::new();
    let mut delivered: BTreeMap<(NodeId, NodeId, usize), u64> = BTreeMap::new();
    for (i, ev) in link_events(trace) {
        match ev {
            LinkEvent::Send { at, to, payload } => {
                let time = trace.events[i].time;
                if time <= sent_by && facts.correct(at) && facts.correct(to) {
                    wanted.push((time, at, to, ids.intern(payload)));
                }
            }
            LinkEvent::Deliver { at, from, payload } => {
                *delivered
                    .entry((at, from, ids.intern(payload)))
                    .or_default() += 1;
            }
        }
    }
    let short: Vec<_> = wanted
        .iter()
        .filter_map(|&(time, p, q, id)| {
            let got = delivered.get(&(q, p, id)).copied().unwrap_or(0);
            (got < times).then_some((time, p, q, id, got))
        })
        .collect();
    let Some(&(time, p, q, id, got)) = short.first() else {
        return Verdict::Holds;
    };
    let what = if times == 1 {
        "never delivered".to_string()
    } else {
        format!("delivered fewer than {times} times")
    };
    let detail = format!(
        "{} of {} payloads sent between correct nodes{} were {what}, e.g. {:?} sent by {p} to \
         {q} at {time}, delivered {got} time(s)",
        short.len(),
        wanted.len(),
        if sent_by == Instant::MAX {
            String::new()
        } else {
            format!(" by {sent_by}")
        },
        ids.get(id),
    );
    if facts.faults_end >= facts.end {
        Verdict::Inconclusive {
            detail: format!("scheduled faults lasted until the end of the run; {detail}"),
        }
    } else {
        Verdict::violated(detail)
    }
}

/// Scans for FIFO violations: returns how many (all of them unless `stop_at_first`) and the
/// first one, with its event index and a description.
fn scan_fifo<P, M>(trace: &Trace<P>, stop_at_first: bool) -> (u64, Option<(usize, String)>)
where
    M: Message,
    P: Protocol<Request = LinkSend<M>, Indication = LinkDeliver<M>>,
{
    let mut ids = Payloads::default();
    // (sender, receiver, payload) -> its position among the sender's requests to the receiver.
    let mut rank: BTreeMap<(NodeId, NodeId, usize), u64> = BTreeMap::new();
    let mut requests: BTreeMap<(NodeId, NodeId), u64> = BTreeMap::new();
    // (receiver, sender) -> the highest-ranked payload delivered so far, with its rank.
    let mut highest: BTreeMap<(NodeId, NodeId), (u64, usize)> = BTreeMap::new();
    let mut delivered = BTreeSet::new();
    let mut count = 0;
    let mut first = None;
    for (i, ev) in link_events(trace) {
        match ev {
            LinkEvent::Send { at, to, payload } => {
                let k = requests.entry((at, to)).or_default();
                rank.entry((at, to, ids.intern(payload))).or_insert(*k);
                *k += 1;
            }
            LinkEvent::Deliver { at, from, payload } => {
                let id = ids.intern(payload);
                let Some(&r) = rank.get(&(from, at, id)) else {
                    continue; // never sent: no-creation's business
                };
                if !delivered.insert((at, from, id)) {
                    continue; // a repeat: no-duplication's business
                }
                match highest.get(&(at, from)) {
                    Some(&(top, later)) if r < top => {
                        count += 1;
                        if first.is_none() {
                            first = Some((
                                i,
                                format!(
                                    "{at} delivered {payload:?} from {from} after {:?}, which \
                                     {from} sent later",
                                    ids.get(later)
                                ),
                            ));
                            if stop_at_first {
                                break;
                            }
                        }
                    }
                    _ => {
                        highest.insert((at, from), (r, id));
                    }
                }
            }
        }
    }
    (count, first)
}
