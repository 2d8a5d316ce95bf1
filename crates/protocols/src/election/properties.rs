//! Leader election's properties, as code, for any protocol that reports
//! [`ElectionIndication::Elected`], plus message counters for the books' complexity claims.
//!
//! An indication event `Elected { leader: l, uid: u }` at node p is "p learned that l, whose UID
//! is u, is the leader". Correctness is crash-stop: a correct node never crashed
//! ([`synod_core::RunFacts::correct`]).
//!
//! - [`unique_leader`] (safety): every `Elected` of every node names the same leader. This is
//!   the right check for the ring algorithms, which elect once. The bully algorithm may elect
//!   again after its coordinator crashes, and then legitimately names a new leader; judge it
//!   with [`unique_leader_after`] from the request that started the last election.
//! - [`leader_is_max_live_uid`] (safety): every `Elected` names the correct node with the
//!   largest UID, and that node's UID. Without crashes (the rings) that is simply the largest
//!   UID. With crashes, "live" means "never crashed in this run", so use it on runs where no
//!   node crashes after it was elected.
//! - [`election_termination`] (liveness): every correct node emits `Elected` by the end of the
//!   run (for the bully algorithm, provided some node was asked to start an election).
//!
//! The counters ([`count_messages`], [`count_id_messages`]) count `Send` events, so they need a
//! fully recorded trace; a message sent to a crashed node counts (it was sent).
//!
//! Read: Lynch, *Distributed Algorithms*, §3.2 (the leader-election problem: exactly one process
//! eventually outputs "leader"; the variant where every process learns the leader's UID).

use super::ElectionIndication;
use synod_core::{EventKind, Instant, NodeId, Property, Protocol, Trace, Verdict};

/// "There is only one leader" (*uniqueness*, safety): every `Elected` indication of every node
/// names the same leader. The violation is the first indication naming a different leader
/// from the first one.
pub fn unique_leader<P>() -> Property<P>
where
    P: Protocol<Indication = ElectionIndication>,
{
    Property::safety("unique-leader", |trace: &Trace<P>| {
        check_unique(trace, Instant::ZERO)
    })
}

/// "After `t`, there is only one leader" (safety): every `Elected` indication emitted at or
/// after `t` names the same leader. For the bully algorithm, pass the time of the
/// `StartElection` request of the last election (after the crash of the old coordinator).
pub fn unique_leader_after<P>(t: Instant) -> Property<P>
where
    P: Protocol<Indication = ElectionIndication>,
{
    Property::safety("unique-leader-after", move |trace: &Trace<P>| {
        check_unique(trace, t)
    })
}

/// "The leader is the live node with the largest UID" (safety): whenever a node learns a
/// leader (an `Elected` indication at time t), the named leader has the UID `uids` gives it, no
/// node still up at t has a larger UID, and the leader was not dead from the start. A leader
/// that crashes after winning does not break the property (nothing can prevent that); without
/// crashes it is simply the largest UID. Inconclusive if `uids` does not have one UID per node
/// of the run.
pub fn leader_is_max_live_uid<P>(uids: Vec<u64>) -> Property<P>
where
    P: Protocol<Indication = ElectionIndication>,
{
    Property::safety("leader-is-max-live-uid", move |trace: &Trace<P>| {
        let facts = &trace.facts;
        if uids.len() != facts.n {
            return Verdict::Inconclusive {
                detail: format!(
                    "the property was given {} UIDs for a run of {} nodes",
                    uids.len(),
                    facts.n
                ),
            };
        }
        let mut crashed_at: Vec<Option<Instant>> = vec![None; facts.n];
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Crash { node } => {
                    crashed_at[node.index()].get_or_insert(e.time);
                }
                EventKind::Recover { node } => crashed_at[node.index()] = None,
                EventKind::Indication { node, ind } => {
                    let ElectionIndication::Elected { leader, uid } = *ind;
                    let up = |q: NodeId| crashed_at[q.index()].is_none_or(|c| c > e.time);
                    let larger = NodeId::all(facts.n).find(|&q| up(q) && uids[q.index()] > uid);
                    let dead_from_start = crashed_at[leader.index()] == Some(Instant::ZERO);
                    if uid != uids[leader.index()] || dead_from_start {
                        return Verdict::violated_at(
                            i,
                            format!("{node} elected {leader} with UID {uid}, but {leader}'s UID is {} {}", uids[leader.index()], if dead_from_start { "and it was dead from the start" } else { "" }),
                        );
                    }
                    if let Some(q) = larger {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node} elected {leader} (UID {uid}), but {q} (UID {}) was up with a larger UID",
                                uids[q.index()]
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// "Every correct node learns the leader" (*termination*, liveness): every node that never
/// crashed emits at least one `Elected` indication by the end of the run. Inconclusive rather
/// than violated when scheduled faults lasted until the end.
pub fn election_termination<P>() -> Property<P>
where
    P: Protocol<Indication = ElectionIndication>,
{
    Property::liveness("election-termination", |trace: &Trace<P>| {
        let facts = &trace.facts;
        let mut learned = vec![false; facts.n];
        for (_, _, node, _) in trace.indications() {
            if let Some(slot) = learned.get_mut(node.index()) {
                *slot = true;
            }
        }
        let missing: Vec<String> = NodeId::all(facts.n)
            .filter(|&p| facts.correct(p) && !learned[p.index()])
            .map(|p| p.to_string())
            .collect();
        if missing.is_empty() {
            return Verdict::Holds;
        }
        let detail = format!(
            "{} correct node(s) never learned the leader by {}: {}",
            missing.len(),
            facts.end,
            missing.join(", ")
        );
        if facts.faults_end >= facts.end {
            Verdict::Inconclusive {
                detail: format!("scheduled faults lasted until the end of the run; {detail}"),
            }
        } else {
            Verdict::violated(detail)
        }
    })
}

/// The three election properties for a run whose node i has UID `uids[i]`: [`unique_leader`],
/// [`leader_is_max_live_uid`] and [`election_termination`].
pub fn election_properties<P>(uids: Vec<u64>) -> Vec<Property<P>>
where
    P: Protocol<Indication = ElectionIndication>,
{
    vec![
        unique_leader(),
        leader_is_max_live_uid(uids),
        election_termination(),
    ]
}

/// The number of messages sent in `trace` for which `is_id` is true (e.g.
/// [`super::LcrMsg::is_id_message`]: the messages the books count). Counts `Send` events, so
/// the trace must be fully recorded.
pub fn count_id_messages<P: Protocol>(trace: &Trace<P>, is_id: fn(&P::Msg) -> bool) -> u64 {
    trace
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Send { msg, .. } if is_id(msg)))
        .count() as u64
}

/// The number of messages sent in `trace` (its `Send` events; the trace must be fully
/// recorded).
pub fn count_messages<P: Protocol>(trace: &Trace<P>) -> u64 {
    trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Send { .. }))
        .count() as u64
}

/// The first `Elected` at or after `t` naming a different leader from the first one there.
fn check_unique<P>(trace: &Trace<P>, t: Instant) -> Verdict
where
    P: Protocol<Indication = ElectionIndication>,
{
    let mut first: Option<(NodeId, NodeId)> = None;
    for (i, time, node, ind) in trace.indications() {
        if time < t {
            continue;
        }
        let ElectionIndication::Elected { leader, .. } = *ind;
        match first {
            None => first = Some((node, leader)),
            Some((by, l)) if l != leader => {
                let since = if t == Instant::ZERO {
                    String::new()
                } else {
                    format!(" (since {t})")
                };
                return Verdict::violated_at(
                    i,
                    format!("{node} elected {leader}, but {by} had elected {l}{since}"),
                );
            }
            Some(_) => {}
        }
    }
    Verdict::Holds
}
