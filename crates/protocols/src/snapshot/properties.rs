//! Snapshot properties, judged over a trace independently of the layer's own bookkeeping.
//!
//! The trace says, for every application message, when it was sent and when it was delivered
//! (by its network id), and where each process's [`SnapshotInd::Recorded`] indication sits. A
//! message's *send is recorded* in snapshot k if it was sent before its sender recorded k; its
//! *receipt is recorded* if it was delivered before the receiver recorded k, where a delivery
//! in the very step that records counts as after (the layers record before handling the input
//! that triggers the record). From these positions alone:
//!
//! - **recorded-states** (safety, needs [`Conserved`]): each recorded local state holds what
//!   the trace gives at its record point (initial amount − amounts sent + amounts received),
//!   and each process records snapshots 1, 2, 3, … in order;
//! - **consistent-cut** (safety): for a snapshot every process recorded, no message has its
//!   receipt recorded and its send not;
//! - **channel-states** (safety): for a snapshot complete at every process, each channel's
//!   recorded state is exactly (as a multiset) the messages sent before the sender recorded and
//!   received after the receiver recorded (or never);
//! - **conservation** (safety, needs [`Conserved`]): for a snapshot complete at every process,
//!   recorded amounts plus the amounts in recorded channels equal the invariant total;
//! - **termination** (liveness): every snapshot some process recorded is complete at every
//!   process by the end of the run. Inconclusive if a node crashed (the model is failure-free)
//!   or if messages were still in flight at the end (the run gave it no fair chance).
//!
//! [`audit`] and [`audit_conserved`] return the per-snapshot verdicts the properties are made
//! of, for experiments that count snapshots rather than runs.

use super::{Conserved, Recordable, SnapshotInd, SnapshotLayer};
use std::collections::BTreeMap;
use synod_core::{stable_hash, EventKind, NodeId, Property, Protocol, Trace, Verdict};

/// Which property an issue breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssueKind {
    /// A recorded local state differs from the trace's, or records came out of order.
    State,
    /// A receipt recorded without its send.
    Cut,
    /// A channel's recorded state differs from the messages in transit across the cut.
    Channel,
    /// The recorded total differs from the invariant total.
    Conservation,
}

/// One problem found in one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// The property it breaks.
    pub kind: IssueKind,
    /// The trace event that shows it.
    pub event: Option<usize>,
    /// What is wrong, in one line.
    pub detail: String,
}

/// The verdict on one snapshot of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotAudit {
    /// Its number.
    pub snap: u64,
    /// Processes that recorded their state for it.
    pub recorded_by: usize,
    /// Processes whose part of it is complete.
    pub completed_by: usize,
    /// Control messages (markers, counts) sent for it.
    pub control_messages: u64,
    /// Every recorded state matches the trace (`None`: not judged, no [`Conserved`] view).
    pub states_match: Option<bool>,
    /// A consistent cut (`None`: some process did not record it).
    pub consistent: Option<bool>,
    /// Every channel state exact (`None`: not complete everywhere).
    pub channels_exact: Option<bool>,
    /// Recorded amounts plus channel amounts (`None`: not complete everywhere, or no
    /// [`Conserved`] view).
    pub recorded_total: Option<i64>,
    /// The invariant total (`None`: no [`Conserved`] view).
    pub expected_total: Option<i64>,
    /// The problems found, in the order of the properties.
    pub issues: Vec<Issue>,
}

impl SnapshotAudit {
    /// Complete at every one of `n` processes.
    pub fn complete(&self, n: usize) -> bool {
        self.completed_by == n
    }

    /// Recorded total equals the invariant total (`None` if not judged).
    pub fn conserved(&self) -> Option<bool> {
        Some(self.recorded_total? == self.expected_total?)
    }

    fn first(&self, kind: IssueKind) -> Option<&Issue> {
        self.issues.iter().find(|i| i.kind == kind)
    }
}

/// Everything [`audit`] found in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Number of processes.
    pub n: usize,
    /// Per snapshot some process recorded, in number order.
    pub snapshots: Vec<SnapshotAudit>,
    /// Per process: messages to it still in flight at the end of the run.
    pub in_flight_to: Vec<u64>,
    /// Did any process crash?
    pub crashed: bool,
    /// Index of the run's last event.
    pub last_event: Option<usize>,
}

/// The money view of an application (object-safe, for the audit).
trait Ledger<A: Recordable> {
    fn initial(&self, node: NodeId) -> i64;
    fn recorded(&self, r: &A::Recorded) -> i64;
    fn carried(&self, m: &A::Msg) -> i64;
}

struct ConservedLedger<'a, A>(&'a A);

impl<A: Conserved> Ledger<A> for ConservedLedger<'_, A> {
    fn initial(&self, node: NodeId) -> i64 {
        self.0.initial_amount(node)
    }
    fn recorded(&self, r: &A::Recorded) -> i64 {
        self.0.recorded_amount(r)
    }
    fn carried(&self, m: &A::Msg) -> i64 {
        self.0.message_amount(m)
    }
}

struct MsgInfo {
    from: NodeId,
    to: NodeId,
    /// Snapshots the sender had recorded when it sent the message.
    send_epoch: u64,
    /// Snapshots the receiver had recorded when it handled the message (`None`: never
    /// delivered).
    recv_epoch: Option<u64>,
    recv_event: usize,
    hash: u64,
    amount: i64,
}

struct RecInfo<'t, R> {
    event: usize,
    state: &'t R,
    replayed: i64,
}

type Channels<M> = Vec<(NodeId, Vec<M>)>;

/// Where a process's part of a snapshot completed, and its recorded channels.
type Done<'t, M> = (usize, &'t Channels<M>);

/// Audits every snapshot of `trace` (recorded states not judged: no money view).
pub fn audit<P: SnapshotLayer>(trace: &Trace<P>) -> Audit {
    audit_impl::<P>(trace, None)
}

/// Audits every snapshot of `trace`, judging recorded states and totals with `app`'s money.
pub fn audit_conserved<P: SnapshotLayer>(trace: &Trace<P>, app: &P::App) -> Audit
where
    P::App: Conserved,
{
    audit_impl::<P>(trace, Some(&ConservedLedger(app)))
}

type AppMsg<P> = <<P as SnapshotLayer>::App as Protocol>::Msg;
type AppRec<P> = <<P as SnapshotLayer>::App as Recordable>::Recorded;

fn audit_impl<P: SnapshotLayer>(trace: &Trace<P>, money: Option<&dyn Ledger<P::App>>) -> Audit {
    let n = trace.facts.n;
    let mut rec_count = vec![0u64; n];
    let mut balance: Vec<i64> = (0..n)
        .map(|i| money.map_or(0, |m| m.initial(NodeId(i as u32))))
        .collect();
    // Per node: an application message delivered in the current step (its receipt is settled
    // when the node's next step starts, so that records in the same step come first).
    let mut pending: Vec<Option<u64>> = vec![None; n];
    let mut msgs: BTreeMap<u64, MsgInfo> = BTreeMap::new();
    let mut flight: BTreeMap<u64, NodeId> = BTreeMap::new();
    let mut records: BTreeMap<u64, Vec<Option<RecInfo<'_, AppRec<P>>>>> = BTreeMap::new();
    let mut completes: BTreeMap<u64, Vec<Option<Done<'_, AppMsg<P>>>>> = BTreeMap::new();
    let mut control: BTreeMap<u64, u64> = BTreeMap::new();
    let mut order_issues: BTreeMap<u64, Issue> = BTreeMap::new();
    let mut crashed = false;

    let settle = |j: usize,
                  pending: &mut [Option<u64>],
                  msgs: &mut BTreeMap<u64, MsgInfo>,
                  balance: &mut [i64],
                  rec_count: &[u64]| {
        if let Some(id) = pending[j].take() {
            if let Some(m) = msgs.get_mut(&id) {
                m.recv_epoch = Some(rec_count[j]);
                balance[j] += m.amount;
            }
        }
    };

    for (idx, ev) in trace.events.iter().enumerate() {
        match &ev.kind {
            EventKind::Init { node }
            | EventKind::Timer { node, .. }
            | EventKind::Request { node, .. }
            | EventKind::Recover { node } => {
                settle(
                    node.index(),
                    &mut pending,
                    &mut msgs,
                    &mut balance,
                    &rec_count,
                );
            }
            EventKind::Crash { node } => {
                settle(
                    node.index(),
                    &mut pending,
                    &mut msgs,
                    &mut balance,
                    &rec_count,
                );
                crashed = true;
            }
            EventKind::Send { from, to, id, msg } => {
                flight.insert(*id, *to);
                if let Some(m) = P::app_message(msg) {
                    let amount = money.map_or(0, |l| l.carried(m));
                    balance[from.index()] -= amount;
                    msgs.insert(
                        *id,
                        MsgInfo {
                            from: *from,
                            to: *to,
                            send_epoch: rec_count[from.index()],
                            recv_epoch: None,
                            recv_event: 0,
                            hash: stable_hash(m),
                            amount,
                        },
                    );
                } else if let Some(k) = P::control_snapshot(msg) {
                    *control.entry(k).or_default() += 1;
                }
            }
            EventKind::Deliver { to, id, msg, .. } => {
                let j = to.index();
                settle(j, &mut pending, &mut msgs, &mut balance, &rec_count);
                flight.remove(id);
                if P::app_message(msg).is_some() {
                    if let Some(m) = msgs.get_mut(id) {
                        if m.recv_epoch.is_none() {
                            m.recv_event = idx;
                            pending[j] = Some(*id);
                        }
                    }
                }
            }
            EventKind::Drop { id, .. } => {
                flight.remove(id);
            }
            EventKind::Indication { node, ind } => match P::snapshot_indication(ind) {
                SnapshotInd::Recorded { snap, state } => {
                    let j = node.index();
                    if *snap != rec_count[j] + 1 {
                        order_issues.entry(*snap).or_insert(Issue {
                            kind: IssueKind::State,
                            event: Some(idx),
                            detail: format!(
                                "{node} recorded snapshot {snap} after snapshot {}",
                                rec_count[j]
                            ),
                        });
                    }
                    rec_count[j] = rec_count[j].max(*snap);
                    let slot = records.entry(*snap).or_insert_with(|| empty(n));
                    if slot[j].is_none() {
                        slot[j] = Some(RecInfo {
                            event: idx,
                            state,
                            replayed: balance[j],
                        });
                    }
                }
                SnapshotInd::Complete { snap, channels } => {
                    let slot = completes.entry(*snap).or_insert_with(|| empty(n));
                    slot[node.index()].get_or_insert((idx, channels));
                }
                SnapshotInd::App(_) => {}
            },
            EventKind::Persist { .. } | EventKind::Duplicate { .. } | EventKind::Network { .. } => {
            }
        }
    }
    for j in 0..n {
        settle(j, &mut pending, &mut msgs, &mut balance, &rec_count);
    }

    let max_snap = records.keys().next_back().copied().unwrap_or(0);
    // Cut violations: a message received before the receiver recorded k and sent after the
    // sender recorded k, i.e. recv_epoch < k <= send_epoch.
    let mut orphans: BTreeMap<u64, Issue> = BTreeMap::new();
    // Expected channel states: a message sent before the sender recorded k (send_epoch < k) and
    // not received before the receiver recorded k (recv_epoch >= k, or never received).
    let mut expected: BTreeMap<(u64, NodeId, NodeId), Vec<u64>> = BTreeMap::new();
    for (id, m) in &msgs {
        if let Some(r) = m.recv_epoch {
            for k in (r + 1)..=m.send_epoch.min(max_snap) {
                orphans.entry(k).or_insert_with(|| Issue {
                    kind: IssueKind::Cut,
                    event: Some(m.recv_event),
                    detail: format!(
                        "snapshot {k}: {} recorded the receipt of message {id} from {}, which {} sent after recording",
                        m.to, m.from, m.from
                    ),
                });
            }
        }
        let hi = m.recv_epoch.unwrap_or(max_snap).min(max_snap);
        for k in (m.send_epoch + 1)..=hi {
            expected.entry((k, m.from, m.to)).or_default().push(m.hash);
        }
    }
    let expected_total: Option<i64> =
        money.map(|l| (0..n).map(|i| l.initial(NodeId(i as u32))).sum());

    let mut snapshots = Vec::new();
    for (&k, recs) in &records {
        let mut issues = Vec::new();
        if let Some(i) = order_issues.remove(&k) {
            issues.push(i);
        }
        let recorded_by = recs.iter().flatten().count();
        let done = completes.get(&k);
        let completed_by = done.map_or(0, |d| d.iter().flatten().count());
        let states_match = money.map(|l| {
            let mut ok = true;
            for (j, r) in recs.iter().enumerate() {
                if let Some(r) = r {
                    let got = l.recorded(r.state);
                    if got != r.replayed {
                        ok = false;
                        if !issues.iter().any(|i: &Issue| i.kind == IssueKind::State) {
                            issues.push(Issue {
                                kind: IssueKind::State,
                                event: Some(r.event),
                                detail: format!(
                                    "snapshot {k}: n{j} recorded {got}, but held {} at its record point",
                                    r.replayed
                                ),
                            });
                        }
                    }
                }
            }
            ok && !issues.iter().any(|i| i.kind == IssueKind::State)
        });
        let consistent = (recorded_by == n).then(|| match orphans.remove(&k) {
            Some(i) => {
                issues.push(i);
                false
            }
            None => true,
        });
        let mut channels_exact = None;
        let mut recorded_total = None;
        if completed_by == n {
            let done = done.expect("complete somewhere");
            let mut exact = true;
            let mut total = 0i64;
            for (j, c) in done.iter().enumerate() {
                let (event, channels) = c.expect("complete everywhere");
                if let Some(r) = &recs[j] {
                    total += money.map_or(0, |l| l.recorded(r.state));
                }
                let to = NodeId(j as u32);
                let mut listed = vec![false; n];
                for (from, ms) in channels.iter() {
                    if from.index() < n {
                        listed[from.index()] = true;
                    }
                    total += ms
                        .iter()
                        .map(|m| money.map_or(0, |l| l.carried(m)))
                        .sum::<i64>();
                    let mut got: Vec<u64> = ms.iter().map(stable_hash).collect();
                    got.sort_unstable();
                    let mut want = expected.remove(&(k, *from, to)).unwrap_or_default();
                    want.sort_unstable();
                    if got != want && exact {
                        exact = false;
                        issues.push(Issue {
                            kind: IssueKind::Channel,
                            event: Some(event),
                            detail: format!(
                                "snapshot {k}: channel {from}->{to} recorded {} message(s), but {} crossed the cut",
                                got.len(),
                                want.len()
                            ),
                        });
                    }
                }
                for (i, l) in listed.iter().enumerate() {
                    let from = NodeId(i as u32);
                    if !l && i != j {
                        let want = expected.remove(&(k, from, to)).unwrap_or_default();
                        if !want.is_empty() && exact {
                            exact = false;
                            issues.push(Issue {
                                kind: IssueKind::Channel,
                                event: Some(event),
                                detail: format!(
                                    "snapshot {k}: channel {from}->{to} not recorded, but {} message(s) crossed the cut",
                                    want.len()
                                ),
                            });
                        }
                    }
                }
            }
            channels_exact = Some(exact);
            if let Some(want) = expected_total {
                recorded_total = Some(total);
                if total != want {
                    let last = done.iter().flatten().map(|(e, _)| *e).max();
                    issues.push(Issue {
                        kind: IssueKind::Conservation,
                        event: last,
                        detail: format!(
                            "snapshot {k}: recorded total {total}, but the invariant total is {want}"
                        ),
                    });
                }
            }
        }
        snapshots.push(SnapshotAudit {
            snap: k,
            recorded_by,
            completed_by,
            control_messages: control.get(&k).copied().unwrap_or(0),
            states_match,
            consistent,
            channels_exact,
            recorded_total,
            expected_total,
            issues,
        });
    }
    let mut in_flight_to = vec![0u64; n];
    for to in flight.values() {
        if to.index() < n {
            in_flight_to[to.index()] += 1;
        }
    }
    Audit {
        n,
        snapshots,
        in_flight_to,
        crashed,
        last_event: trace.events.len().checked_sub(1),
    }
}

fn empty<T>(n: usize) -> Vec<Option<T>> {
    (0..n).map(|_| None).collect()
}

fn first_issue(audit: &Audit, kind: IssueKind) -> Verdict {
    match audit.snapshots.iter().find_map(|s| s.first(kind)) {
        Some(i) => Verdict::Violated {
            event: i.event,
            detail: i.detail.clone(),
        },
        None => Verdict::Holds,
    }
}

/// Each recorded local state is the state the trace gives at its record point, and each
/// process records snapshots in order (safety).
pub fn recorded_states<P>(app: P::App) -> Property<P>
where
    P: SnapshotLayer,
    P::App: Conserved + Clone,
{
    Property::safety("recorded-states", move |t: &Trace<P>| {
        first_issue(&audit_conserved(t, &app), IssueKind::State)
    })
}

/// For every snapshot all processes recorded, the cut is consistent: no receipt is recorded
/// without its send (safety).
pub fn consistent_cut<P: SnapshotLayer>() -> Property<P> {
    Property::safety("consistent-cut", |t: &Trace<P>| {
        first_issue(&audit(t), IssueKind::Cut)
    })
}

/// For every snapshot complete everywhere, each channel's recorded state is exactly the
/// messages sent before the sender recorded and received after the receiver recorded
/// (safety).
pub fn channel_states<P: SnapshotLayer>() -> Property<P> {
    Property::safety("channel-states", |t: &Trace<P>| {
        first_issue(&audit(t), IssueKind::Channel)
    })
}

/// For every snapshot complete everywhere, recorded amounts plus channel amounts equal the
/// invariant total (safety).
pub fn conservation<P>(app: P::App) -> Property<P>
where
    P: SnapshotLayer,
    P::App: Conserved + Clone,
{
    Property::safety("conservation", move |t: &Trace<P>| {
        first_issue(&audit_conserved(t, &app), IssueKind::Conservation)
    })
}

/// Every snapshot some process recorded is complete at every process by the end of the run
/// (liveness; inconclusive after a crash, or with messages still in flight at the end).
pub fn termination<P: SnapshotLayer>() -> Property<P> {
    Property::liveness("termination", |t: &Trace<P>| {
        let a = audit(t);
        let Some(s) = a.snapshots.iter().find(|s| !s.complete(a.n)) else {
            return Verdict::Holds;
        };
        if a.crashed {
            return Verdict::Inconclusive {
                detail: format!(
                    "snapshot {} incomplete, but a process crashed (the model is failure-free)",
                    s.snap
                ),
            };
        }
        let waiting: u64 = a.in_flight_to.iter().sum();
        if waiting > 0 {
            return Verdict::Inconclusive {
                detail: format!(
                    "snapshot {} incomplete at the end, with {waiting} message(s) still in flight",
                    s.snap
                ),
            };
        }
        Verdict::violated(format!(
            "snapshot {} recorded by {} and complete at {} of {} processes at the end of the run, nothing in flight",
            s.snap, s.recorded_by, s.completed_by, a.n
        ))
    })
}

/// All five: recorded states, consistent cut, channel states, conservation, termination.
pub fn snapshot_properties<P>(app: P::App) -> Vec<Property<P>>
where
    P: SnapshotLayer,
    P::App: Conserved + Clone,
{
    vec![
        recorded_states(app.clone()),
        consistent_cut(),
        channel_states(),
        conservation(app),
        termination(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Bank, ChandyLamport, Schedule};
    use synod_core::{check_all, Duration, Instant};
    use synod_sim::{SimConfig, Simulation};

    fn bank() -> Bank {
        Bank::new(
            1000,
            Duration::from_millis(5),
            100,
            Instant::from_millis(500),
        )
    }

    fn trace() -> Trace<ChandyLamport<Bank>> {
        let layer = ChandyLamport::new(bank()).with_schedule(Schedule {
            initiator: Some(NodeId(1)),
            first: Duration::from_millis(20),
            period: Duration::from_millis(30),
            stop: Instant::from_millis(400),
        });
        let mut cfg = SimConfig::new(3, 9);
        cfg.network.fifo = true;
        cfg.until = Instant::from_secs(20);
        Simulation::new(layer, cfg).unwrap().run().trace
    }

    fn verdicts(t: &Trace<ChandyLamport<Bank>>) -> Vec<(&'static str, bool)> {
        check_all(&snapshot_properties(bank()), t)
            .into_iter()
            .map(|r| (r.name, r.verdict.is_violated()))
            .collect()
    }

    #[test]
    fn a_real_run_passes_and_a_forged_record_is_caught() {
        let mut t = trace();
        assert!(verdicts(&t).iter().all(|(_, bad)| !bad));
        // Forge one recorded balance: the record no longer matches the trace, and the total
        // is off by one; the cut and the channels are untouched.
        let ev = t
            .events
            .iter_mut()
            .find_map(|e| match &mut e.kind {
                EventKind::Indication {
                    ind: SnapshotInd::Recorded { state, .. },
                    ..
                } => Some(state),
                _ => None,
            })
            .unwrap();
        *ev += 1;
        assert_eq!(
            verdicts(&t),
            vec![
                ("recorded-states", true),
                ("consistent-cut", false),
                ("channel-states", false),
                ("conservation", true),
                ("termination", false),
            ]
        );
    }

    #[test]
    fn a_dropped_completion_fails_termination() {
        let mut t = trace();
        let i = t
            .events
            .iter()
            .rposition(|e| {
                matches!(
                    e.kind,
                    EventKind::Indication {
                        ind: SnapshotInd::Complete { .. },
                        ..
                    }
                )
            })
            .unwrap();
        t.events.remove(i);
        let v = verdicts(&t);
        assert_eq!(v.last(), Some(&("termination", true)));
    }
}
