//! # synod-consistency: is what the clients saw consistent?
//!
//! A *history* records what clients of a shared object asked and what they were told, with
//! the time of each call and return. A *sequential specification* says what the object does
//! when operations happen one at a time. This crate decides whether a history can be explained
//! by the specification:
//!
//! - [`check_linearizable`]: *linearizability* (Herlihy & Wing 1990): each operation appears
//!   to take effect at one instant between its call and its return;
//! - [`check_sequential`]: *sequential consistency* (Lamport 1979): some single order of all
//!   operations respects each client's own order, whatever the real-time order across clients.
//!
//! Both are one memoised depth-first search (Wing & Gong 1993; Lowe 2017) over which operation
//! takes effect next; they differ only in which operations may go next. Linearizability, being
//! local, also splits a history into independent parts when the specification allows it
//! (Horn & Kroening's P-compositionality, [`SequentialSpec::partition`]). Operations that never
//! returned may or may not have taken effect: the checkers try both. The brute-force
//! [`brute_force_linearizable`] and [`brute_force_sequential`] state the definitions plainly
//! for tiny histories, and the property tests hold the real checkers to them.
//!
//! The crate is deterministic: no clock, no threads, stable hashing. Work is bounded by a step
//! [`Budget`] (and an optional cancellation flag a driver may set from outside).
//!
//! ## Example: the new/old inversion
//!
//! A register is written from 0 to 1 while two reads run one after the other. The first read
//! sees the new value, the second the old one: no single instant of the write explains both,
//! so the history is not linearizable. Each reader is its own client, and sequential
//! consistency lets the write take effect between the two reads in the order "second read,
//! write, first read", so it is sequentially consistent.
//!
//! ```
//! use synod_consistency::specs::{Register, RegisterOp::*, RegisterRet::*};
//! use synod_consistency::{check_linearizable, check_sequential, Budget, History, Operation};
//!
//! let h = History {
//!     ops: vec![
//!         Operation::complete(0, Write(1), 0, 100, WriteOk), // a long write
//!         Operation::complete(1, Read, 10, 20, ReadOk(Some(1))), // sees the new value
//!         Operation::complete(2, Read, 30, 40, ReadOk(Some(0))), // then the old one
//!     ],
//! };
//! let register = Register::with_initial(0);
//! assert_eq!(check_linearizable(&register, &h, Budget::unlimited()).holds(), Some(false));
//! let sc = check_sequential(&register, &h, Budget::unlimited());
//! assert_eq!(sc.holds(), Some(true));
//! ```

#![warn(missing_docs)]

mod brute;
mod check;
pub mod checkers;
pub mod format;
pub mod generate;
mod history;
mod memo;
pub mod models;
mod search;
mod spec;
pub mod specs;
pub mod timeline;

pub use brute::{brute_force_linearizable, brute_force_sequential, BRUTE_FORCE_MAX_OPS};
pub use check::{
    check_linearizable, check_linearizable_parts, check_linearizable_with_stats, check_sequential,
    check_sequential_with_stats, Budget, Outcome, FIRST_ROUND_STEPS,
};
pub use history::{Event, History, HistoryError, Operation};
pub use search::Stats;
pub use spec::{Produces, SequentialSpec};
