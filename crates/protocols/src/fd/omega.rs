//! Ω, the eventual leader detector, from an eventually perfect failure detector.
//!
//! **Algorithm** (CGR "Monarchical Eventual Leader Detection"). Every process runs an eventually
//! perfect detector ([`Heartbeat::eventually_perfect`]) and keeps the set of processes it
//! currently suspects; it trusts the process with the smallest id that it does not suspect
//! (itself at worst) and emits [`OmegaIndication::Trust`] once at start (every process trusts
//! `n0` then) and whenever that choice changes. The detector is embedded by delegation: Ω's
//! state holds the detector's state, Ω's handlers run the detector's handlers in a forked
//! [`Ctx`] and pass its sends and timers through, reacting to its `Suspect`/`Restore`
//! indications.
//!
//! **Model.** Crash-stop processes, at least one correct; partial synchrony (what ◇P needs):
//! heartbeats on the raw network, delays bounded by Δ after an unknown GST. Before GST, the
//! leader may change often and processes may disagree.
//!
//! **Properties** (CGR module "eventual leader detector"), see
//! [`super::properties::eventual_leadership`]:
//! - *eventual accuracy*: there is a time after which every correct process trusts some correct
//!   process;
//! - *eventual agreement*: there is a time after which no two correct processes trust different
//!   correct processes.
//!
//! Once ◇P stops making mistakes and has suspected every crashed process, every correct process
//! trusts the smallest-id correct process forever.
//!
//! **Canary.** [`Omega::canary_fixed_timeout`] runs the same rule over a fixed-timeout detector
//! (not ◇P when the timeout is short): the leader keeps flapping after GST.
//!
//! **Read:** CGR §2.6 (module "eventual leader detector" Ω, algorithm "Monarchical Eventual
//! Leader Detection"); Chandra, Hadzilacos and Toueg, "The weakest failure detector for solving
//! consensus", JACM 1996 (why Ω matters).

use super::{FdIndication, HbMsg, HbState, HbTimer, Heartbeat, Increase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_core::{Ctx, Duration, Effect, NodeId, Protocol};

/// The eventual leader detector Ω over a heartbeat failure detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Omega {
    /// The embedded failure detector (eventually perfect for the real Ω).
    pub detector: Heartbeat,
}

impl Omega {
    /// Ω over [`Heartbeat::eventually_perfect`]`(period, initial_timeout, step)`.
    ///
    /// # Panics
    /// If `period` or `initial_timeout` is zero.
    pub fn new(period: Duration, initial_timeout: Duration, step: Increase) -> Omega {
        Omega {
            detector: Heartbeat::eventually_perfect(period, initial_timeout, step),
        }
    }

    /// CANARY: the same leader rule over [`Heartbeat::fixed`]`(period, timeout)`, which is not
    /// ◇P when `timeout` is below the real heartbeat gaps: the trusted leader keeps changing.
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn canary_fixed_timeout(period: Duration, timeout: Duration) -> Omega {
        Omega {
            detector: Heartbeat::fixed(period, timeout),
        }
    }
}

/// What Ω tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OmegaIndication {
    /// "I now trust this process as the leader."
    Trust(NodeId),
}

/// An Ω node's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OmegaState {
    /// The embedded detector's state.
    pub fd: HbState,
    /// The processes the detector currently suspects.
    pub suspected: BTreeSet<NodeId>,
    /// The process currently trusted.
    pub leader: NodeId,
}

impl Omega {
    /// Applies the detector's effects `fx` to this node, then updates the trusted leader.
    fn run_fd(&self, s: &mut OmegaState, fx: Vec<Effect<Heartbeat>>, ctx: &mut Ctx<'_, Self>) {
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Persist => ctx.persist(),
                Effect::Indicate(FdIndication::Suspect(q)) => {
                    s.suspected.insert(q);
                }
                Effect::Indicate(FdIndication::Restore(q)) => {
                    s.suspected.remove(&q);
                }
            }
        }
        let leader = leader_of(ctx.n(), &s.suspected, ctx.id());
        if leader != s.leader {
            s.leader = leader;
            ctx.indicate(OmegaIndication::Trust(leader));
        }
    }
}

/// The smallest id in `0..n` not in `suspected` (`me` if all smaller ones are).
fn leader_of(n: usize, suspected: &BTreeSet<NodeId>, me: NodeId) -> NodeId {
    NodeId::all(n)
        .find(|q| !suspected.contains(q))
        .unwrap_or(me)
}

impl Protocol for Omega {
    type Msg = HbMsg;
    type Timer = HbTimer;
    type Request = ();
    type Indication = OmegaIndication;
    type State = OmegaState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> OmegaState {
        let mut fx = Vec::new();
        let fd = self.detector.init(&mut ctx.fork(&mut fx));
        let leader = leader_of(ctx.n(), &BTreeSet::new(), ctx.id());
        let mut s = OmegaState {
            fd,
            suspected: BTreeSet::new(),
            leader,
        };
        ctx.indicate(OmegaIndication::Trust(leader));
        self.run_fd(&mut s, fx, ctx);
        s
    }

    fn on_message(&self, s: &mut OmegaState, from: NodeId, msg: HbMsg, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.detector
            .on_message(&mut s.fd, from, msg, &mut ctx.fork(&mut fx));
        self.run_fd(s, fx, ctx);
    }

    fn on_timer(&self, s: &mut OmegaState, timer: HbTimer, ctx: &mut Ctx<'_, Self>) {
        let mut fx = Vec::new();
        self.detector
            .on_timer(&mut s.fd, timer, &mut ctx.fork(&mut fx));
        self.run_fd(s, fx, ctx);
    }

    fn on_request(&self, _s: &mut OmegaState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

    fn invariants(&self, s: &OmegaState) {
        assert!(
            !s.suspected.contains(&s.leader),
            "Omega: trusts {}, which it suspects",
            s.leader
        );
    }
}
