//! The failure-detector abstractions' properties, as code, for any detector ([`FdView`]).
//!
//! Every check reads the trace through [`FdView::fd_event`]: an indication at p that reads as
//! `Suspect(q)` starts "p suspects q", one that reads as `Restore(q)` ends it; repeats change
//! nothing. "p suspects q at time t" means the last such event at p about q at or before t was a
//! `Suspect`.
//!
//! **Correctness** is crash-stop: a correct process never crashed
//! ([`synod_core::RunFacts::correct`]). A process is *crashed at time t* if it has a `Crash`
//! event at or before t (its first crash counts).
//!
//! Liveness properties are judged at the end of the run (so leave time after the last crash
//! for detection) and are [`Verdict::Inconclusive`] rather than violated when the scheduled
//! faults lasted until the end (for completeness) or past the `after` instant (for the eventual
//! accuracy properties). Eventual properties take an `after` instant standing for "eventually";
//! by default three quarters of the run.
//!
//! **Read:** CGR §2.6 (modules "perfect failure detector": PFD1 strong completeness, PFD2 strong
//! accuracy; "eventually perfect failure detector": EPFD1, EPFD2 eventual strong accuracy;
//! "eventual leader detector": ELD1 eventual accuracy, ELD2 eventual agreement); Chandra and
//! Toueg 1996, §2 (the eight classes: strong/weak completeness × (eventual) strong/weak
//! accuracy).

use super::{FdIndication, FdView, Omega, OmegaIndication};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{EventKind, Instant, NodeId, Property, Trace, Verdict};

/// A trace as a failure detector's output: crash times and suspect/restore events.
pub(crate) struct FdTrace {
    /// Per node, when it first crashed.
    pub crash: Vec<Option<Instant>>,
    /// `(event index, time, observer, indication)`, in trace order.
    pub events: Vec<(usize, Instant, NodeId, FdIndication)>,
}

impl FdTrace {
    pub(crate) fn of<P: FdView>(trace: &Trace<P>) -> FdTrace {
        let mut crash = vec![None; trace.facts.n];
        let mut events = Vec::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Crash { node } => {
                    if let Some(slot) = crash.get_mut(node.index()) {
                        slot.get_or_insert(e.time);
                    }
                }
                EventKind::Indication { node, ind } => {
                    if let Some(fd) = P::fd_event(ind) {
                        if fd.node().index() < trace.facts.n {
                            events.push((i, e.time, *node, fd));
                        }
                    }
                }
                _ => {}
            }
        }
        FdTrace { crash, events }
    }

    /// Is `q` crashed at time `t`?
    pub(crate) fn crashed_at(&self, q: NodeId, t: Instant) -> bool {
        matches!(self.crash.get(q.index()), Some(Some(c)) if *c <= t)
    }

    /// The pairs (observer, q) suspected at the end of the run, with the index of the event
    /// that started each suspicion.
    fn suspected_at_end(&self) -> BTreeMap<(NodeId, NodeId), usize> {
        let mut suspected = BTreeMap::new();
        for &(i, _, p, ind) in &self.events {
            match ind {
                FdIndication::Suspect(q) => {
                    suspected.entry((p, q)).or_insert(i);
                }
                FdIndication::Restore(q) => {
                    suspected.remove(&(p, q));
                }
            }
        }
        suspected
    }
}

fn default_after<P: FdView>(trace: &Trace<P>, after: Option<Instant>) -> Instant {
    after.unwrap_or(Instant(trace.facts.end.as_nanos() / 4 * 3))
}

fn correct_nodes<P: synod_core::Protocol>(trace: &Trace<P>) -> Vec<NodeId> {
    NodeId::all(trace.facts.n)
        .filter(|q| trace.facts.correct(*q))
        .collect()
}

/// A liveness failure, or inconclusive if scheduled faults lasted until `horizon`.
fn liveness_failure<P: synod_core::Protocol>(
    trace: &Trace<P>,
    horizon: Instant,
    detail: String,
) -> Verdict {
    if trace.facts.faults_end >= horizon && trace.facts.faults_end > Instant::ZERO {
        Verdict::Inconclusive {
            detail: format!("scheduled faults lasted until {horizon} or later; {detail}"),
        }
    } else {
        Verdict::violated(detail)
    }
}

/// Crashed processes not suspected at the end by correct observers: `(crashed, crash time,
/// observers that do not suspect it)`.
fn completeness_misses<P: FdView>(trace: &Trace<P>) -> Vec<(NodeId, Instant, Vec<NodeId>)> {
    let v = FdTrace::of(trace);
    let suspected = v.suspected_at_end();
    let correct = correct_nodes(trace);
    let mut out = Vec::new();
    for q in NodeId::all(trace.facts.n) {
        let Some(c) = v.crash[q.index()] else {
            continue;
        };
        let missing: Vec<NodeId> = correct
            .iter()
            .copied()
            .filter(|p| !suspected.contains_key(&(*p, q)))
            .collect();
        out.push((q, c, missing));
    }
    out
}

/// *Strong completeness* (liveness): every crashed process is suspected by every correct process
/// at the end of the run.
pub fn strong_completeness<P: FdView>() -> Property<P> {
    Property::liveness("strong-completeness", |trace: &Trace<P>| {
        let misses = completeness_misses(trace);
        let bad: Vec<_> = misses.iter().filter(|(_, _, m)| !m.is_empty()).collect();
        let Some((q, c, who)) = bad.first() else {
            return Verdict::Holds;
        };
        let pairs: usize = bad.iter().map(|(_, _, m)| m.len()).sum();
        liveness_failure(
            trace,
            trace.facts.end,
            format!(
                "{pairs} (correct, crashed) pairs without a suspicion at the end, e.g. {} does \
                 not suspect {q}, which crashed at {c}",
                who[0]
            ),
        )
    })
}

/// *Weak completeness* (liveness): every crashed process is suspected by some correct process at
/// the end of the run.
pub fn weak_completeness<P: FdView>() -> Property<P> {
    Property::liveness("weak-completeness", |trace: &Trace<P>| {
        let correct = correct_nodes(trace);
        let misses = completeness_misses(trace);
        if correct.is_empty() {
            return if misses.is_empty() {
                Verdict::Holds
            } else {
                Verdict::Inconclusive {
                    detail: "no correct process to suspect anyone".into(),
                }
            };
        }
        let bad: Vec<_> = misses
            .iter()
            .filter(|(_, _, m)| m.len() == correct.len())
            .collect();
        let Some((q, c, _)) = bad.first() else {
            return Verdict::Holds;
        };
        liveness_failure(
            trace,
            trace.facts.end,
            format!(
                "{} crashed process(es) suspected by no correct process at the end, e.g. {q}, \
                 which crashed at {c}",
                bad.len()
            ),
        )
    })
}

/// *Strong accuracy* (safety): no process is suspected, by any process, before it crashes. The
/// verdict names the first such `Suspect`.
pub fn strong_accuracy<P: FdView>() -> Property<P> {
    Property::safety("strong-accuracy", |trace: &Trace<P>| {
        let v = FdTrace::of(trace);
        for &(i, t, p, ind) in &v.events {
            if let FdIndication::Suspect(q) = ind {
                if !v.crashed_at(q, t) {
                    let when = match v.crash[q.index()] {
                        Some(c) => format!("which crashed only at {c}"),
                        None => "which never crashed".to_string(),
                    };
                    return Verdict::violated_at(i, format!("{p} suspected {q} at {t}, {when}"));
                }
            }
        }
        Verdict::Holds
    })
}

/// *Weak accuracy* (safety): some correct process is never suspected by any correct process.
/// The verdict names the `Suspect` that left no correct process unsuspected.
pub fn weak_accuracy<P: FdView>() -> Property<P> {
    Property::safety("weak-accuracy", |trace: &Trace<P>| {
        let v = FdTrace::of(trace);
        let correct: BTreeSet<NodeId> = correct_nodes(trace).into_iter().collect();
        if correct.is_empty() {
            return Verdict::Inconclusive {
                detail: "no correct process".into(),
            };
        }
        let mut tainted = BTreeSet::new();
        for &(i, t, p, ind) in &v.events {
            if let FdIndication::Suspect(q) = ind {
                let counts = p != q && correct.contains(&p) && correct.contains(&q);
                if counts && tainted.insert(q) && tainted.len() == correct.len() {
                    return Verdict::violated_at(
                        i,
                        format!(
                            "{p} suspected {q} at {t}: every correct process has now been \
                             suspected by a correct process"
                        ),
                    );
                }
            }
        }
        Verdict::Holds
    })
}

/// Scans the suspicions among correct processes from `after` on: returns, per correct q, the
/// first reason it is suspected at or after `after` (event index, description), if any.
fn suspicions_from<P: FdView>(
    trace: &Trace<P>,
    after: Instant,
) -> BTreeMap<NodeId, (usize, String)> {
    let v = FdTrace::of(trace);
    let correct: BTreeSet<NodeId> = correct_nodes(trace).into_iter().collect();
    // (p, q) -> (event index, start) of the standing suspicion.
    let mut standing: BTreeMap<(NodeId, NodeId), (usize, Instant)> = BTreeMap::new();
    let mut first: BTreeMap<NodeId, (usize, String)> = BTreeMap::new();
    let mut crossed = false;
    let cross = |standing: &BTreeMap<(NodeId, NodeId), (usize, Instant)>,
                 first: &mut BTreeMap<NodeId, (usize, String)>| {
        for (&(p, q), &(i, t)) in standing {
            first
                .entry(q)
                .or_insert((i, format!("{p} still suspects {q} at {after} (since {t})")));
        }
    };
    for &(i, t, p, ind) in &v.events {
        if !(correct.contains(&p) && correct.contains(&ind.node()) && p != ind.node()) {
            continue;
        }
        if !crossed && t > after {
            crossed = true;
            cross(&standing, &mut first);
        }
        match ind {
            FdIndication::Suspect(q) => {
                if crossed {
                    first
                        .entry(q)
                        .or_insert((i, format!("{p} suspected {q} at {t}, after {after}")));
                }
                standing.entry((p, q)).or_insert((i, t));
            }
            FdIndication::Restore(q) => {
                standing.remove(&(p, q));
            }
        }
    }
    if !crossed {
        cross(&standing, &mut first);
    }
    first
}

/// *Eventual strong accuracy* (liveness): from `after` (default: three quarters of the run) to
/// the end, no correct process is suspected by any correct process; a suspicion that started
/// earlier must have been revoked by `after`.
pub fn eventual_strong_accuracy<P: FdView>(after: Option<Instant>) -> Property<P> {
    Property::liveness("eventual-strong-accuracy", move |trace: &Trace<P>| {
        let after = default_after(trace, after);
        let bad = suspicions_from(trace, after);
        let Some((_, (i, detail))) = bad.iter().next() else {
            return Verdict::Holds;
        };
        let detail = format!(
            "{} correct process(es) suspected by a correct process from {after} on, e.g. {detail}",
            bad.len()
        );
        match liveness_failure(trace, after, detail) {
            Verdict::Violated { detail, .. } => Verdict::violated_at(*i, detail),
            other => other,
        }
    })
}

/// *Eventual weak accuracy* (liveness): some correct process is not suspected by any correct
/// process from `after` (default: three quarters of the run) on.
pub fn eventual_weak_accuracy<P: FdView>(after: Option<Instant>) -> Property<P> {
    Property::liveness("eventual-weak-accuracy", move |trace: &Trace<P>| {
        let after = default_after(trace, after);
        let correct = correct_nodes(trace);
        if correct.is_empty() {
            return Verdict::Inconclusive {
                detail: "no correct process".into(),
            };
        }
        let bad = suspicions_from(trace, after);
        if correct.iter().any(|q| !bad.contains_key(q)) {
            return Verdict::Holds;
        }
        let (_, detail) = &bad[&correct[0]];
        liveness_failure(
            trace,
            after,
            format!(
                "every correct process is suspected by a correct process from {after} on, e.g. \
                 {detail}"
            ),
        )
    })
}

/// The perfect failure detector's properties: strong completeness and strong accuracy.
pub fn perfect_properties<P: FdView>() -> Vec<Property<P>> {
    vec![strong_completeness(), strong_accuracy()]
}

/// The eventually perfect failure detector's properties: strong completeness and eventual strong
/// accuracy (from three quarters of the run).
pub fn eventually_perfect_properties<P: FdView>() -> Vec<Property<P>> {
    vec![strong_completeness(), eventual_strong_accuracy(None)]
}

/// *Eventual leadership* for [`Omega`] (liveness; CGR's eventual accuracy and eventual agreement
/// together): from `after` (default: three quarters of the run) on, every correct process trusts
/// the same correct process, and no correct process changes its mind.
pub fn eventual_leadership(after: Option<Instant>) -> Property<Omega> {
    Property::liveness("eventual-leadership", move |trace: &Trace<Omega>| {
        let end = trace.facts.end;
        let after = after.unwrap_or(Instant(end.as_nanos() / 4 * 3));
        let correct = correct_nodes(trace);
        let mut trusted: BTreeMap<NodeId, NodeId> = BTreeMap::new();
        let mut change: Option<(usize, String)> = None;
        for (i, t, p, OmegaIndication::Trust(l)) in trace.indications() {
            if !trace.facts.correct(p) {
                continue;
            }
            if t > after && change.is_none() {
                change = Some((
                    i,
                    format!("{p} changed its leader to {l} at {t}, after {after}"),
                ));
            }
            if t <= after {
                trusted.insert(p, *l);
            }
        }
        let fail = |detail: String, at: Option<usize>| match liveness_failure(trace, after, detail)
        {
            Verdict::Violated { detail, .. } => Verdict::Violated { event: at, detail },
            other => other,
        };
        if let Some((i, detail)) = change {
            return fail(detail, Some(i));
        }
        let Some(&first) = correct.first() else {
            return Verdict::Inconclusive {
                detail: "no correct process".into(),
            };
        };
        let Some(&leader) = trusted.get(&first) else {
            return fail(format!("{first} trusted nobody by {after}"), None);
        };
        if let Some(p) = correct.iter().find(|p| trusted.get(p) != Some(&leader)) {
            let other = trusted
                .get(p)
                .map_or("nobody".to_string(), |l| l.to_string());
            return fail(
                format!("at {after}, {first} trusts {leader} but {p} trusts {other}"),
                None,
            );
        }
        if !trace.facts.correct(leader) {
            return fail(
                format!("from {after} on, every correct process trusts {leader}, which crashed"),
                None,
            );
        }
        Verdict::Holds
    })
}

/// The number of *false suspicions* in `[from, until)`: `Suspect` events (as read through
/// [`FdView`]) about a process that was not crashed at that time. A `Suspect` that repeats a
/// standing suspicion by the same observer is not counted again.
pub fn false_suspicions<P: FdView>(trace: &Trace<P>, from: Instant, until: Instant) -> u64 {
    let v = FdTrace::of(trace);
    let mut standing = BTreeSet::new();
    let mut count = 0;
    for &(_, t, p, ind) in &v.events {
        match ind {
            FdIndication::Suspect(q) => {
                if standing.insert((p, q)) && from <= t && t < until && !v.crashed_at(q, t) {
                    count += 1;
                }
            }
            FdIndication::Restore(q) => {
                standing.remove(&(p, q));
            }
        }
    }
    count
}
