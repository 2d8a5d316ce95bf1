//! Failure detectors: how a process learns, or guesses, that another one crashed.
//!
//! A failure detector is a local module that outputs, at each process, a guess about which other
//! processes crashed. Chandra and Toueg classified detectors by two kinds of property:
//! *completeness* (crashed processes end up suspected) and *accuracy* (correct processes are not
//! suspected, or not forever). Which class a heartbeat detector belongs to depends on the timing
//! model it runs in, not only on its code: the same "suspect after a timeout" algorithm is a
//! perfect detector under synchrony and a wrong one when delays exceed the timeout.
//!
//! | protocol | class | needs |
//! |---|---|---|
//! | [`Heartbeat::perfect`] (CGR "Exclude on Timeout") | P: strong completeness + strong accuracy | synchrony, timeout > period + Δ, no loss |
//! | [`Heartbeat::eventually_perfect`] (CGR "Increasing Timeout") | ◇P: strong completeness + eventual strong accuracy | partial synchrony |
//! | [`Heartbeat::fixed`] | strong completeness only (not ◇P when the timeout is below the real delays) | anything |
//! | [`PhiAccrual`] (Hayashibara et al.) | a suspicion *level* φ, thresholded | a stationary delay distribution |
//! | [`Swim`] (Das, Gupta and Motivala) | strong completeness (detection in O(1) periods in expectation), few false confirmations (suspicion + incarnations), O(1) messages per member per period | fair-loss network |
//! | [`Omega`] (CGR "Monarchical Eventual Leader Detection") | Ω: eventually every correct process trusts the same correct leader | ◇P, so partial synchrony |
//!
//! Every detector's output can be read as a stream of [`FdIndication`]s ("p now suspects q",
//! "p no longer suspects q") through [`FdView`], so the properties ([`properties`]) and the
//! quality-of-service metrics of Chen, Toueg and Aguilera ([`qos`]) are written once and judge
//! any of them.
//!
//! The perfect detector under synchrony, with a crash, checked against its properties:
//!
//! ```
//! use synod_core::{check_all, Duration, Instant};
//! use synod_protocols::fd::{properties, Heartbeat};
//! use synod_sim::{SimConfig, Simulation, Timing};
//!
//! let mut cfg = SimConfig::new(4, 7);
//! cfg.until = Instant::from_secs(3);
//! cfg.timing = Timing::Synchronous { delta: Duration::from_millis(10) };
//! cfg.faults.add_crash_spec("n2@1s").unwrap();
//! // Heartbeats every 100 ms; suspect after 150 ms of silence (> 100 ms + Δ).
//! let p = Heartbeat::perfect(Duration::from_millis(100), Duration::from_millis(150));
//! let out = Simulation::new(p, cfg).unwrap().run();
//! for report in check_all(&properties::perfect_properties(), &out.trace) {
//!     assert!(!report.verdict.is_violated(), "{}: {}", report.name, report.verdict);
//! }
//! ```
//!
//! Canaries (deliberately broken variants, to show the property checks have teeth):
//! [`Heartbeat::canary_never_increases`] (an "eventually perfect" detector that never raises its
//! timeout, which is just [`Heartbeat::fixed`]), [`Swim::canary_no_refutation`] (suspected members
//! never refute) and [`Omega::canary_fixed_timeout`] (Ω over a detector that is not ◇P).
//!
//! **Read:** Cachin, Guerraoui and Rodrigues, *Introduction to Reliable and Secure Distributed
//! Programming* (CGR), ch. 2, §2.6 (timing assumptions: perfect, eventually perfect failure
//! detection and eventual leader election); Chandra and Toueg, "Unreliable failure detectors for
//! reliable distributed systems", JACM 1996; Hayashibara, Défago, Yared and Katayama, "The φ
//! accrual failure detector", SRDS 2004; Das, Gupta and Motivala, "SWIM: scalable weakly-consistent
//! infection-style process group membership protocol", DSN 2002; Chen, Toueg and Aguilera, "On
//! the quality of service of failure detectors", IEEE ToC 2002.

mod heartbeat;
mod omega;
mod phi;
pub mod properties;
pub mod qos;
mod swim;

pub use heartbeat::{HbMsg, HbPeer, HbState, HbTimer, Heartbeat, Increase, Timeout};
pub use omega::{Omega, OmegaIndication, OmegaState};
pub use phi::{PhiAccrual, PhiPeer, PhiState, PhiTimer};
pub use swim::{
    Gossip, Member, Probe, Status, Swim, SwimIndication, SwimMsg, SwimState, SwimTimer, Update,
    MAX_PIGGYBACK,
};

use serde::{Deserialize, Serialize};
use synod_core::{NodeId, Protocol};

/// What a failure detector tells the layer above, in the books' vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FdIndication {
    /// "I now suspect this process crashed."
    Suspect(NodeId),
    /// "I no longer suspect this process" (eventually perfect detectors revise their guesses).
    Restore(NodeId),
}

impl FdIndication {
    /// The process the indication is about.
    pub fn node(&self) -> NodeId {
        match *self {
            FdIndication::Suspect(q) | FdIndication::Restore(q) => q,
        }
    }
}

/// How to read a detector's indications as suspicions and restorations, so [`properties`] and
/// [`qos`] judge any detector.
///
/// A `Restore(q)` for a process that is not suspected changes nothing; a `Suspect(q)` for a
/// process already suspected changes nothing either.
pub trait FdView: Protocol {
    /// The suspect/restore meaning of `ind`, or `None` if it has none (e.g. SWIM's
    /// `ProbeFailed`).
    fn fd_event(ind: &Self::Indication) -> Option<FdIndication>;
}
