//! Heartbeat failure detectors: the perfect detector P, the eventually perfect detector ◇P and
//! the fixed-timeout detector, one algorithm with three settings.
//!
//! **Algorithm.** Every process broadcasts `Heartbeat` at start and then every `period` (a
//! periodic timer). For each peer q, a process remembers when q's last heartbeat arrived and
//! keeps one check timer `Check(q)`, re-armed at every heartbeat to fire `timeout(q)` later:
//! when it fires, q has been silent for `timeout(q)` and is suspected (`Suspect(q)`). What
//! happens when a heartbeat from a suspected q arrives is the setting:
//!
//! - [`Heartbeat::perfect`] (`permanent`): nothing, a suspicion is final. This is CGR's
//!   "Exclude on Timeout", with a per-peer timer instead of one global round.
//! - [`Heartbeat::eventually_perfect`] ([`Timeout::Increasing`]): `Restore(q)` and raise q's
//!   timeout (add a step, or double it). This is CGR's "Increasing Timeout", except that the
//!   timeout is kept per peer, as in Chandra and Toueg's ◇P implementation, so one slow link does
//!   not slow down detection of everybody.
//! - [`Heartbeat::fixed`] ([`Timeout::Fixed`], not permanent): `Restore(q)`, timeout unchanged.
//!
//! **Model.** Crash-stop processes; heartbeats travel on the raw network (no retransmission), so
//! losses look like delays.
//! - P is correct under *synchrony* with no loss when `timeout > period + Δ`: consecutive
//!   heartbeats of a live q arrive at most `period + Δ` apart (the first one at most Δ after
//!   start, since all nodes start at time 0 and clocks do not drift). With a shorter timeout, or
//!   delays above the Δ it was sized for, it suspects live processes and never takes it back.
//! - ◇P needs *partial synchrony*: after GST, delays are at most Δ, so each mistake about q raises
//!   q's timeout until it exceeds `period + Δ`, after which q is never suspected again.
//!   [`Increase::Double`] gets there in few mistakes but can make the timeout, hence the detection
//!   time, huge after a chaotic start; [`Increase::Add`] grows linearly.
//! - The fixed detector keeps making mistakes forever if its timeout is below the real inter-arrival
//!   gaps after GST: strong completeness holds, eventual strong accuracy does not.
//!
//! **Properties** (see [`super::properties`]): P: strong completeness, strong accuracy
//! ([`super::properties::perfect_properties`]); ◇P: strong completeness, eventual strong
//! accuracy ([`super::properties::eventually_perfect_properties`]).
//!
//! **Canary.** [`Heartbeat::canary_never_increases`] is an "eventually perfect" detector whose
//! timeout never grows: it is the fixed detector, and eventual strong accuracy catches it.
//!
//! **Read:** CGR §2.6 (module "perfect failure detector", algorithm "Exclude on Timeout"; module
//! "eventually perfect failure detector", algorithm "Increasing Timeout"); Chandra and Toueg 1996,
//! §9 (implementing ◇P in partial synchrony).

use super::{FdIndication, FdView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Duration, Instant, NodeId, Protocol};

/// How a detector's timeout evolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Timeout {
    /// Always the same timeout.
    Fixed(Duration),
    /// Start at `initial`; after each mistake about a peer, raise that peer's timeout by `step`.
    Increasing {
        /// The timeout before any mistake.
        initial: Duration,
        /// How the timeout grows after a mistake.
        step: Increase,
    },
}

/// How a timeout grows after a mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Increase {
    /// Add this much.
    Add(Duration),
    /// Double it.
    Double,
}

impl Timeout {
    /// The timeout every peer starts with.
    pub fn initial(&self) -> Duration {
        match *self {
            Timeout::Fixed(d) | Timeout::Increasing { initial: d, .. } => d,
        }
    }

    /// The timeout after a mistake made with timeout `current`.
    pub fn after_mistake(&self, current: Duration) -> Duration {
        match *self {
            Timeout::Fixed(d) => d,
            Timeout::Increasing {
                step: Increase::Add(d),
                ..
            } => current + d,
            Timeout::Increasing {
                step: Increase::Double,
                ..
            } => current.saturating_mul(2),
        }
    }
}

/// The heartbeat failure detector (P, ◇P or fixed-timeout, by configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Heartbeat {
    /// How often every process broadcasts a heartbeat.
    pub period: Duration,
    /// How long a peer may stay silent before it is suspected, and how that evolves.
    pub timeout: Timeout,
    /// A suspicion is never revoked (the perfect detector). With `false`, a heartbeat from a
    /// suspected process restores it.
    pub permanent: bool,
}

impl Heartbeat {
    fn checked(period: Duration, timeout: Timeout, permanent: bool) -> Heartbeat {
        assert!(
            period > Duration::ZERO,
            "Heartbeat: the period must be above zero"
        );
        assert!(
            timeout.initial() > Duration::ZERO,
            "Heartbeat: the timeout must be above zero"
        );
        Heartbeat {
            period,
            timeout,
            permanent,
        }
    }

    /// The perfect failure detector P: fixed `timeout`, suspicions are permanent. Correct under
    /// synchrony (no loss) when `timeout > period + Δ`.
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn perfect(period: Duration, timeout: Duration) -> Heartbeat {
        Heartbeat::checked(period, Timeout::Fixed(timeout), true)
    }

    /// A fixed-timeout detector that revokes a suspicion when a heartbeat arrives. If `timeout`
    /// is below the real inter-arrival gaps it keeps making mistakes: it is *not* ◇P.
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn fixed(period: Duration, timeout: Duration) -> Heartbeat {
        Heartbeat::checked(period, Timeout::Fixed(timeout), false)
    }

    /// The eventually perfect failure detector ◇P: start with timeout `initial` for every peer;
    /// on a heartbeat from a suspected peer, restore it and raise its timeout by `step`.
    ///
    /// # Panics
    /// If `period` or `initial` is zero.
    pub fn eventually_perfect(period: Duration, initial: Duration, step: Increase) -> Heartbeat {
        Heartbeat::checked(period, Timeout::Increasing { initial, step }, false)
    }

    /// CANARY: an "eventually perfect" detector that forgets to raise its timeout after a
    /// mistake. It is exactly [`Heartbeat::fixed`], and not ◇P when `timeout` is too short.
    ///
    /// # Panics
    /// If `period` or `timeout` is zero.
    pub fn canary_never_increases(period: Duration, timeout: Duration) -> Heartbeat {
        Heartbeat::eventually_perfect(period, timeout, Increase::Add(Duration::ZERO))
    }
}

/// The heartbeat detectors' one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HbMsg {
    /// "I am alive."
    Heartbeat,
}

impl HbMsg {
    /// True for [`HbMsg::Heartbeat`] (e.g. for a simulator loss filter).
    pub fn is_heartbeat(&self) -> bool {
        matches!(self, HbMsg::Heartbeat)
    }
}

/// The heartbeat detectors' timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HbTimer {
    /// Time to broadcast the next heartbeat.
    Beat,
    /// This peer has been silent for its whole timeout (re-armed at each of its heartbeats).
    Check(NodeId),
}

/// What a process knows about one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HbPeer {
    /// When the peer's last heartbeat arrived (local clock; the start time before the first).
    pub last: Instant,
    /// The peer's current timeout.
    pub timeout: Duration,
    /// Is the peer suspected?
    pub suspected: bool,
}

/// A heartbeat detector node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HbState {
    /// Every other process, by id.
    pub peers: BTreeMap<NodeId, HbPeer>,
}

impl HbState {
    /// The processes currently suspected, in id order.
    pub fn suspected(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.peers
            .iter()
            .filter(|(_, p)| p.suspected)
            .map(|(q, _)| *q)
    }
}

impl Protocol for Heartbeat {
    type Msg = HbMsg;
    type Timer = HbTimer;
    type Request = ();
    type Indication = FdIndication;
    type State = HbState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> HbState {
        let now = ctx.now();
        let timeout = self.timeout.initial();
        let peers: BTreeMap<NodeId, HbPeer> = ctx
            .peers()
            .map(|q| {
                (
                    q,
                    HbPeer {
                        last: now,
                        timeout,
                        suspected: false,
                    },
                )
            })
            .collect();
        for &q in peers.keys() {
            ctx.set_timer(HbTimer::Check(q), timeout);
        }
        ctx.broadcast(HbMsg::Heartbeat);
        ctx.set_timer(HbTimer::Beat, self.period);
        HbState { peers }
    }

    fn on_message(&self, s: &mut HbState, from: NodeId, msg: HbMsg, ctx: &mut Ctx<'_, Self>) {
        let HbMsg::Heartbeat = msg;
        // A heartbeat from a node we do not monitor (ourselves, a stranger) is ignored.
        let Some(peer) = s.peers.get_mut(&from) else {
            return;
        };
        peer.last = ctx.now();
        if peer.suspected {
            if self.permanent {
                return; // P: the suspicion is final; no need to watch q any more.
            }
            peer.suspected = false;
            peer.timeout = self.timeout.after_mistake(peer.timeout);
            ctx.indicate(FdIndication::Restore(from));
        }
        ctx.set_timer(HbTimer::Check(from), peer.timeout);
    }

    fn on_timer(&self, s: &mut HbState, timer: HbTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            HbTimer::Beat => {
                ctx.broadcast(HbMsg::Heartbeat);
                ctx.set_timer(HbTimer::Beat, self.period);
            }
            HbTimer::Check(q) => {
                let Some(peer) = s.peers.get_mut(&q) else {
                    return;
                };
                if peer.suspected {
                    return;
                }
                let deadline = peer.last + peer.timeout;
                let now = ctx.now();
                if now >= deadline {
                    peer.suspected = true;
                    ctx.indicate(FdIndication::Suspect(q));
                } else {
                    // Only when driven by hand: the driver re-arms at every heartbeat.
                    ctx.set_timer(HbTimer::Check(q), deadline.saturating_since(now));
                }
            }
        }
    }

    fn on_request(&self, _s: &mut HbState, _req: (), _ctx: &mut Ctx<'_, Self>) {}
}

impl FdView for Heartbeat {
    fn fd_event(ind: &FdIndication) -> Option<FdIndication> {
        Some(*ind)
    }
}
