//! # synod-lab: experiments, the protocol catalog and the tour
//!
//! This crate ties the protocols (`synod-protocols`) to the simulator (`synod-sim`) and the
//! pictures (`synod-viz`): the [`catalog`] binds each protocol to its properties, default
//! workload and timing; [`experiments`] reproduce classic results and judge a claim against
//! theory; [`tour`] runs them all into one HTML report. The `synod` command is a thin shell
//! over this crate.

#![warn(missing_docs)]

pub mod catalog;
pub mod chaos;
pub mod checks;
mod error;
pub mod experiment;
pub mod experiments;
pub mod learn;
pub mod measure;
pub mod registers;
pub mod runner;
pub mod shm;
pub mod soak;
mod topic;
pub mod tour;
pub mod workloads;

pub use error::LabError;
pub use topic::Topic;
