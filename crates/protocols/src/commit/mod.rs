//! Atomic commitment: the processes of a distributed transaction all commit it or all abort
//! it, and commit only if every one of them voted to.
//!
//! | protocol | failures | timing | guarantees |
//! |---|---|---|---|
//! | [`TwoPhaseCommit`] (Gray; Bernstein, Hadzilacos and Goodman) | crash-recovery with stable storage | asynchronous | agreement (atomicity), commit validity; termination only if the coordinator does not crash (*blocking*) |
//!
//! Two-phase commit is the protocol every database uses, and the textbook example of a
//! *blocking* protocol: a participant that voted Yes has given up its right to abort, and
//! cannot learn the outcome from anyone but the coordinator. If the coordinator crashes after
//! collecting votes and before its decision reaches them, the Yes voters wait, holding their
//! locks, until it recovers. Non-blocking atomic commitment (NBAC, CGR ch. 6) avoids this with
//! consensus and a perfect failure detector, at the price of stronger assumptions.
//!
//! A transaction, under the simulator (every participant votes at random):
//!
//! ```
//! use synod_core::{check_all, Instant, NodeId};
//! use synod_protocols::commit::{properties, TwoPcRequest, TwoPhaseCommit};
//! use synod_sim::{Scripted, SimConfig, Simulation};
//!
//! let begin = vec![(Instant::ZERO, NodeId(0), TwoPcRequest::Begin)];
//! let out = Simulation::new(TwoPhaseCommit::new(3), SimConfig::new(4, 11))
//!     .unwrap()
//!     .with_workload(Scripted(begin))
//!     .run();
//! for r in check_all(&properties::two_pc_properties(), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! let states: Vec<_> = out.states.iter().map(|s| s.as_ref()).collect();
//! assert!(properties::atomic(&states) && properties::all_decided(&states));
//! ```
//!
//! **Read:** Gray, "Notes on data base operating systems", 1978 (two-phase commit);
//! Bernstein, Hadzilacos and Goodman, *Concurrency Control and Recovery in Database Systems*,
//! 1987, ch. 7 (2PC, its failure cases, the blocking theorem, termination protocols); CGR ch. 6
//! (non-blocking atomic commit, and why 2PC is not).

pub mod properties;
pub mod two_phase;

pub use properties::{all_decided, atomic};
pub use two_phase::{
    Outcome, TwoPcDurable, TwoPcIndication, TwoPcMsg, TwoPcRequest, TwoPcState, TwoPhaseCommit,
    Vote,
};
