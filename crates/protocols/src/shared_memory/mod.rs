//! Shared-memory algorithms: programs whose processes take atomic steps on shared objects.
//!
//! The execution model lives in `synod_core::shared_memory` (the [`Program`] trait, the classic
//! objects); the simulator (`synod_sim::shared_memory`) draws seeded interleavings with crashes
//! and the model checker (`synod_check::shared_memory`) explores every interleaving and decides
//! wait-freedom. This folder holds the algorithms:
//!
//! - [`consensus`]: consensus from each object of Herlihy's hierarchy (test-and-set, queue,
//!   fetch-and-add, compare-and-swap) and natural read/write attempts that fail;
//! - [`rw_search`]: a finite family of small read/write protocols, to search exhaustively for a
//!   2-process consensus protocol (there is none: registers have consensus number 1);
//! - register clients on shared memory: `crate::register::program` (the same client program
//!   runs on a shared register and on ABD).
//!
//! Model: asynchronous shared memory (any interleaving), atomic objects, crash-stop processes
//! (a crashed process stops taking steps; what it wrote stays). Read: Lynch ch. 9–13; Attiya &
//! Welch ch. 5, 10 and 15; Herlihy 1991; Herlihy & Shavit ch. 4–6.
//!
//! [`Program`]: synod_core::shared_memory::Program

pub mod consensus;
pub mod rw_search;

pub use consensus::{agreement, integrity, validity, Consensus, Via};
pub use rw_search::{RwProtocol, RwStep};
