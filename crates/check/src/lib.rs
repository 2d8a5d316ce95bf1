//! # synod-check: an exhaustive model checker for synod protocols
//!
//! A simulator samples behaviours; a model checker explores all of them at small scope. This
//! crate drives the same [`synod_core::Protocol`] code as the simulator, but instead of a
//! seeded schedule it branches on everything that could happen next: every deliverable message
//! (and its loss or duplication where the network allows), every pending timer (durations are
//! abstracted away), every crash within a budget, every recovery, every client invocation, and
//! every answer to every [`synod_core::Ctx::choose`].
//!
//! Properties are [`CheckProperty`] values with Stateright's vocabulary: `always` (safety),
//! `sometimes` (reachability, proof the checks are not vacuous) and `eventually` (liveness: on
//! paths that end, and on fair cycles, see [`liveness`]). States are fingerprinted with
//! [`synod_core::StableHasher`] and kept in a compact [`fpset::FpSet`] (all 64 bits in 5 to 8
//! bytes); breadth-first search runs level by level on several threads with results independent
//! of the thread count, depth-first search on a stack per thread. Interchangeable nodes can be
//! explored once ([`symmetry`]); infinite spaces can be bounded ([`Boundary`]). Synchronous
//! round algorithms have their own explorer ([`rounds`]).

#![warn(missing_docs)]

pub mod fpset;
mod graph;
pub mod liveness;
pub mod model;
pub mod props;
pub mod rounds;
pub mod search;
pub mod shared;
pub mod shared_memory;
pub mod state;
pub mod symmetry;
pub mod trace;

pub use model::{
    Boundary, CheckProperty, ClientProgram, Expectation, Model, NetworkKind, Recorder,
};
pub use props::{linearizable, sequentially_consistent};
pub use rounds::{RoundExplorer, RoundProperty, RoundReport, RoundView};
pub use search::{check, CheckOptions, CheckResult, Finding, PathStep, Progress, Search};
pub use shared::Shared;
pub use state::{CheckState, ClientSlot, Envelope, HistEvent, NodeSlot, Step, Successor};
pub use symmetry::Symmetry;
pub use trace::{indices, path_trace, replay, StepIndex};
