//! Consistency of the client history as checker properties.
//!
//! The checker keeps every client call and return in the state, so the history is known in each
//! state; these properties judge it with the Wing–Gong/Lowe search of `synod-consistency` (the
//! same checker `synod lin` uses). Many states share a history, so verdicts are memoised by the
//! history's fingerprint.

use crate::fpset::FpSet;
use crate::model::CheckProperty;
use crate::state::{CheckState, HistEvent};
use std::sync::{Arc, RwLock};
use synod_consistency::{
    check_linearizable, check_sequential, Budget, Event, History, SequentialSpec,
};
use synod_core::ClientOps;

/// Converts the state's history into consistency-checker events.
pub fn client_events<P, S>(
    s: &CheckState<P>,
    op: fn(&P::Input) -> S::Op,
    ret: fn(&P::Output) -> S::Ret,
) -> Vec<Event<S::Op, S::Ret>>
where
    P: ClientOps,
    S: SequentialSpec,
{
    s.history
        .iter()
        .filter_map(|e| match e {
            HistEvent::Call { req, .. } => {
                P::invocation(req).map(|(client, i)| Event::Call { client, op: op(&i) })
            }
            HistEvent::Return { ind, .. } => P::response(ind).map(|(client, o)| Event::Return {
                client,
                ret: ret(&o),
            }),
            HistEvent::Note { .. } => None,
        })
        .collect()
}

/// Memoised verdicts by history fingerprint.
#[derive(Default)]
struct Memo {
    good: FpSet,
    bad: FpSet,
}

fn memoised<P, S>(
    name: &'static str,
    spec: S,
    op: fn(&P::Input) -> S::Op,
    ret: fn(&P::Output) -> S::Ret,
    sequential: bool,
) -> CheckProperty<P>
where
    P: ClientOps,
    S: SequentialSpec + Send + Sync + 'static,
{
    let memo = Arc::new(RwLock::new(Memo::default()));
    CheckProperty::always(name, move |_, s: &CheckState<P>| {
        // The raw history is the memo key: no conversion unless the verdict is new.
        let key = s.history.stable();
        {
            let m = memo.read().expect("memo lock");
            if m.good.contains(key) {
                return true;
            }
            if m.bad.contains(key) {
                return false;
            }
        }
        let history = History::from_events(client_events::<P, S>(s, op, ret));
        let outcome = if sequential {
            check_sequential(&spec, &history, Budget::unlimited())
        } else {
            check_linearizable(&spec, &history, Budget::unlimited())
        };
        let ok = outcome.is_linearizable();
        let mut m = memo.write().expect("memo lock");
        if ok {
            m.good.insert(key);
        } else {
            m.bad.insert(key);
        }
        ok
    })
}

/// `always linearizable`: the client history has a linearization legal for `spec`.
pub fn linearizable<P, S>(
    spec: S,
    op: fn(&P::Input) -> S::Op,
    ret: fn(&P::Output) -> S::Ret,
) -> CheckProperty<P>
where
    P: ClientOps,
    S: SequentialSpec + Send + Sync + 'static,
{
    memoised("linearizable", spec, op, ret, false)
}

/// `always sequentially consistent`: some order respecting each client's program order is legal.
pub fn sequentially_consistent<P, S>(
    spec: S,
    op: fn(&P::Input) -> S::Op,
    ret: fn(&P::Output) -> S::Ret,
) -> CheckProperty<P>
where
    P: ClientOps,
    S: SequentialSpec + Send + Sync + 'static,
{
    memoised("sequentially consistent", spec, op, ret, true)
}
