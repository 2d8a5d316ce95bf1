//! Consensus properties for the Paxos write-once register: over traces (for the simulator and
//! the checker's counterexamples) and over node states (for the model checker).
//!
//! Over a trace, what a server decided is visible through the register interface: a
//! `WriteOk { client }` means "the proposal of `client` was chosen" (its value is the one that
//! client asked to write), a `ReadOk { value: Some(v) }` means "the chosen value is v".
//!
//! - [`agreement`] (safety): all decisions visible in the trace agree: every `WriteOk` names the
//!   same client, and every value (read, or written by the client of a `WriteOk`) is the same.
//! - [`validity`] (safety): a read returns only a value some client asked to write, and a
//!   `WriteOk` answers a client that asked to write (shared with every register protocol:
//!   [`crate::register::properties::validity`]).
//!
//! Over node states: [`decided_value`] and [`agreement_holds`].
//!
//! **Read:** CGR §5.1 (the consensus module: termination, validity, integrity, agreement);
//! Lamport, "Paxos made simple", §2.1 (the safety requirements: only a proposed value is
//! chosen, only one value is chosen, a process learns only a chosen value).

use super::{majority, PaxosRegister, PaxosState, Proposal};
use crate::register::{RegisterReq, RegisterResp};
use std::collections::BTreeMap;
use synod_core::{EventKind, NodeId, Property, Protocol, Trace, Verdict};

pub use crate::register::properties::validity;

/// "No two servers decide differently" (*agreement*, safety), as seen by clients: every
/// `WriteOk` names the same client, and all decided values (those read, and those written by
/// the clients of `WriteOk`s) are equal. The violation is the first response that disagrees
/// with an earlier one.
pub fn agreement<P>() -> Property<P>
where
    P: Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    Property::safety("agreement", |trace: &Trace<P>| {
        // The value each client last asked to write.
        let mut written: BTreeMap<u64, u64> = BTreeMap::new();
        // The first winner and the first decided value seen, with who revealed them.
        let mut winner: Option<(u64, NodeId)> = None;
        let mut value: Option<(u64, NodeId)> = None;
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Request {
                    req: RegisterReq::Write { client, value },
                    ..
                } => {
                    written.insert(*client, *value);
                }
                EventKind::Indication { node, ind } => {
                    let v = match *ind {
                        RegisterResp::WriteOk { client } => {
                            match winner {
                                None => winner = Some((client, *node)),
                                Some((c, by)) if c != client => {
                                    return Verdict::violated_at(
                                        i,
                                        format!("{node} chose the write of client {client}, but {by} had chosen the write of client {c}"),
                                    );
                                }
                                Some(_) => {}
                            }
                            written.get(&client).copied()
                        }
                        RegisterResp::ReadOk { value, .. } => value,
                    };
                    let Some(v) = v else { continue };
                    match value {
                        None => value = Some((v, *node)),
                        Some((w, by)) if w != v => {
                            return Verdict::violated_at(
                                i,
                                format!("{node} decided {v}, but {by} had decided {w}"),
                            );
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// The Paxos register's properties: [`agreement`] and [`validity`].
pub fn paxos_properties() -> Vec<Property<PaxosRegister>> {
    vec![agreement(), validity()]
}

/// The value a server decided, if it decided.
pub fn decided_value(s: &PaxosState) -> Option<u64> {
    if s.decided {
        s.accepted.map(|(_, p)| p.value)
    } else {
        None
    }
}

/// Agreement on a global state (`states[i]` is node i's state, `None` if it is down): every
/// decided server, and every proposal accepted by a majority of the servers at the same ballot
/// (a *chosen* proposal, as far as the current states show), hold the same proposal (client
/// and value). The majority is of `states.len()` servers, the crashed ones included.
pub fn agreement_holds(states: &[Option<&PaxosState>]) -> bool {
    let mut seen: Option<Proposal> = None;
    let mut agrees = |p: Proposal| *seen.get_or_insert(p) == p;
    let live = || states.iter().flatten();
    for s in live() {
        if s.decided {
            if let Some((_, p)) = s.accepted {
                if !agrees(p) {
                    return false;
                }
            }
        }
    }
    let quorum = majority(states.len());
    for a in live().filter_map(|s| s.accepted) {
        let count = live().filter(|s| s.accepted == Some(a)).count();
        if count >= quorum && !agrees(a.1) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::{Ballot, NodeSet};

    fn state(accepted: Option<(u32, u64)>, decided: bool) -> PaxosState {
        PaxosState {
            ballot: Ballot {
                round: 9,
                node: NodeId(0),
            },
            proposal: None,
            promises: NodeSet::EMPTY,
            highest: None,
            accepts: NodeSet::EMPTY,
            accepted: accepted.map(|(r, v)| {
                (
                    Ballot {
                        round: r,
                        node: NodeId(0),
                    },
                    Proposal {
                        client: v,
                        value: v,
                    },
                )
            }),
            decided,
        }
    }

    #[test]
    fn agreement_on_states_sees_decisions_and_majorities() {
        let a = state(Some((1, 10)), true);
        let b = state(Some((2, 20)), false);
        let c = state(Some((2, 20)), false);
        assert_eq!(decided_value(&a), Some(10));
        assert_eq!(decided_value(&b), None);
        // 20 is accepted by a majority at ballot 2 while a server decided 10.
        assert!(!agreement_holds(&[Some(&a), Some(&b), Some(&c)]));
        // With the third server down, 20 is accepted by one of three: not chosen.
        assert!(agreement_holds(&[Some(&a), Some(&b), None]));
        let d = state(Some((1, 10)), true);
        assert!(agreement_holds(&[Some(&a), Some(&d), Some(&b)]));
        let e = state(Some((3, 20)), true);
        assert!(!agreement_holds(&[Some(&a), None, Some(&e)]));
    }
}
