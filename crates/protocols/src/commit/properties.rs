//! Atomic commitment's properties, as code: over traces and over node states.
//!
//! A node's decision is its [`TwoPcIndication::Decided`] indication; a participant's vote is
//! the [`TwoPcMsg::Vote`] it sent (so the trace must be fully recorded). Node `n0` is the
//! coordinator, every other node of the run a participant.
//!
//! - [`atomicity`] (safety; CGR's NBAC *agreement*): no node decides Commit while another
//!   decides Abort.
//! - [`commit_validity`] (safety; CGR's NBAC *validity*, first half): a node decides Commit
//!   only if every participant voted Yes before.
//! - [`termination`] (liveness): if the transaction began, every correct node (one that never
//!   crashed) decides by the end of the run. 2PC does not guarantee it: a coordinator crash
//!   blocks the participants that voted Yes.
//!
//! On node states, for the model checker: [`atomic`] and [`all_decided`].
//!
//! **Read:** CGR §6.1 (the NBAC module: termination, abort-validity, commit-validity,
//! integrity, uniform agreement); Bernstein, Hadzilacos and Goodman 1987, §7.2 (AC1 to AC5).

use super::{Outcome, TwoPcIndication, TwoPcMsg, TwoPcRequest, TwoPcState, TwoPhaseCommit, Vote};
use synod_core::{EventKind, NodeId, Property, Trace, Verdict};

/// "All decisions are the same" (*atomicity*, safety): the violation is the first decision
/// that differs from an earlier one.
pub fn atomicity() -> Property<TwoPhaseCommit> {
    Property::safety("atomicity", |trace: &Trace<TwoPhaseCommit>| {
        let mut first: Option<(NodeId, Outcome)> = None;
        for (i, _, node, ind) in trace.indications() {
            let TwoPcIndication::Decided(o) = *ind;
            match first {
                None => first = Some((node, o)),
                Some((by, f)) if f != o => {
                    return Verdict::violated_at(
                        i,
                        format!("{node} decided {o:?}, but {by} had decided {f:?}"),
                    );
                }
                Some(_) => {}
            }
        }
        Verdict::Holds
    })
}

/// "Commit only if everyone voted Yes" (*commit validity*, safety): before any Commit
/// decision, every participant sent a Yes vote. The violation is the first Commit without.
pub fn commit_validity() -> Property<TwoPhaseCommit> {
    Property::safety("commit-validity", |trace: &Trace<TwoPhaseCommit>| {
        let n = trace.facts.n;
        let mut voted_yes = vec![false; n];
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Send {
                    from,
                    msg: TwoPcMsg::Vote(Vote::Yes),
                    ..
                } => {
                    if let Some(slot) = voted_yes.get_mut(from.index()) {
                        *slot = true;
                    }
                }
                EventKind::Indication {
                    node,
                    ind: TwoPcIndication::Decided(Outcome::Commit),
                } => {
                    if let Some(p) = (1..n).find(|&p| !voted_yes[p]) {
                        return Verdict::violated_at(
                            i,
                            format!("{node} decided Commit, but n{p} had not voted Yes"),
                        );
                    }
                }
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// "Every correct node decides" (*termination*, liveness): if a `Begin` request reached the
/// coordinator, every node that never crashed emits a decision by the end of the run. Holds
/// vacuously when no transaction began.
pub fn termination() -> Property<TwoPhaseCommit> {
    Property::liveness("termination", |trace: &Trace<TwoPhaseCommit>| {
        let facts = &trace.facts;
        let began = trace
            .requests()
            .any(|(_, _, node, r)| node == NodeId(0) && *r == TwoPcRequest::Begin);
        if !began {
            return Verdict::Holds;
        }
        let mut decided = vec![false; facts.n];
        for (_, _, node, _) in trace.indications() {
            if let Some(slot) = decided.get_mut(node.index()) {
                *slot = true;
            }
        }
        let blocked: Vec<String> = NodeId::all(facts.n)
            .filter(|&p| facts.correct(p) && !decided[p.index()])
            .map(|p| p.to_string())
            .collect();
        if blocked.is_empty() {
            Verdict::Holds
        } else {
            Verdict::violated(format!(
                "{} correct node(s) never decided by {}: {}",
                blocked.len(),
                facts.end,
                blocked.join(", ")
            ))
        }
    })
}

/// The three properties: [`atomicity`], [`commit_validity`], [`termination`].
pub fn two_pc_properties() -> Vec<Property<TwoPhaseCommit>> {
    vec![atomicity(), commit_validity(), termination()]
}

/// Atomicity on a global state (`states[i]` is node i's state, `None` if it is down): no live
/// node has decided Commit while another has decided Abort.
pub fn atomic(states: &[Option<&TwoPcState>]) -> bool {
    let decided = |o| states.iter().flatten().any(|s| s.decision == Some(o));
    !(decided(Outcome::Commit) && decided(Outcome::Abort))
}

/// Every live participant (`states[1..]`, skipping the `None`s of crashed nodes) has decided.
/// The coordinator (`states[0]`) is not counted (in a run without crashes it decides before
/// any Yes voter can).
pub fn all_decided(states: &[Option<&TwoPcState>]) -> bool {
    states
        .iter()
        .skip(1)
        .flatten()
        .all(|s| s.decision.is_some())
}
