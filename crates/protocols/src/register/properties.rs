//! Register properties, as code.
//!
//! The property that matters for a register is a *consistency condition* on the client
//! history (atomic registers are linearizable: Herlihy and Wing 1990; CGR §4.1), judged by a
//! linearizability checker over [`synod_core::History::from_trace`]. The checks here are the
//! simpler ones that need no search:
//!
//! - [`validity`] (safety, any register protocol): a read returns the initial `None` or a value
//!   some client asked to write before the read was answered; a `WriteOk` answers a client that
//!   asked to write.
//! - [`timestamps_unique`] (safety, ABD): no timestamp is ever sent with two different values
//!   (the writer's id in the timestamp makes concurrent writes distinct).
//! - [`timestamp_monotone`] (on two successive states of an ABD server, for the model checker):
//!   a server's stored timestamp never decreases.
//!
//! **Read:** CGR §4.1 (regular and atomic registers: termination, validity, ordering); Lynch
//! §13.1 (atomic objects).

use super::abd::{Abd, AbdMsg, AbdState, Timestamp};
use super::{RegisterReq, RegisterResp};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{EventKind, Property, Protocol, Trace, Verdict};

/// "A read returns a written value" (*validity*, safety): every `ReadOk { value: Some(v) }` is
/// preceded by a `Write` request of `v` (by any client; the read may overlap the write), and
/// every `WriteOk { client }` by a `Write` request of that client. `ReadOk { value: None }`, the
/// initial value, is always valid. The violation is the first response that breaks it.
pub fn validity<P>() -> Property<P>
where
    P: Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    Property::safety("validity", |trace: &Trace<P>| {
        let mut values: BTreeSet<u64> = BTreeSet::new();
        let mut writers: BTreeSet<u64> = BTreeSet::new();
        for (i, e) in trace.events.iter().enumerate() {
            match &e.kind {
                EventKind::Request {
                    req: RegisterReq::Write { client, value },
                    ..
                } => {
                    values.insert(*value);
                    writers.insert(*client);
                }
                EventKind::Indication { node, ind } => match *ind {
                    RegisterResp::ReadOk {
                        client,
                        value: Some(v),
                    } if !values.contains(&v) => {
                        return Verdict::violated_at(
                            i,
                            format!("{node} answered client {client}'s read with {v}, which nobody wrote"),
                        );
                    }
                    RegisterResp::WriteOk { client } if !writers.contains(&client) => {
                        return Verdict::violated_at(
                            i,
                            format!(
                                "{node} answered WriteOk to client {client}, which never wrote"
                            ),
                        );
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Verdict::Holds
    })
}

/// "A timestamp names one value" (safety): no two ABD messages (`QueryReply` or `Store`) carry
/// the same timestamp with different values. Reads the `Send` events, so the trace must be fully
/// recorded. The violation is the first message that disagrees with an earlier one.
pub fn timestamps_unique() -> Property<Abd> {
    Property::safety("timestamps-unique", |trace: &Trace<Abd>| {
        let mut seen: BTreeMap<Timestamp, Option<u64>> = BTreeMap::new();
        for (i, e) in trace.events.iter().enumerate() {
            let EventKind::Send { from, msg, .. } = &e.kind else {
                continue;
            };
            let (AbdMsg::QueryReply { ts, value, .. } | AbdMsg::Store { ts, value, .. }) = *msg
            else {
                continue;
            };
            let first = *seen.entry(ts).or_insert(value);
            if first != value {
                return Verdict::violated_at(
                    i,
                    format!("{from} sent timestamp {ts:?} with value {value:?}, but it was sent earlier with {first:?}"),
                );
            }
        }
        Verdict::Holds
    })
}

/// ABD's trace properties: [`validity`] and [`timestamps_unique`].
pub fn abd_properties() -> Vec<Property<Abd>> {
    vec![validity(), timestamps_unique()]
}

/// True if an ABD server's stored timestamp did not decrease from `before` to `after` (two
/// successive states of the same server; the model checker checks it on every transition).
pub fn timestamp_monotone(before: &AbdState, after: &AbdState) -> bool {
    after.ts >= before.ts
}
