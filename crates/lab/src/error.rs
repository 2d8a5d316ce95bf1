//! Errors a user can cause, each a one-line message saying what was wrong and what to do.

use std::fmt;

/// A user-facing error: one line, no backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabError(pub String);

impl LabError {
    /// An error with message `msg`.
    pub fn new(msg: impl Into<String>) -> LabError {
        LabError(msg.into())
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabError {}

impl From<synod_sim::FaultError> for LabError {
    fn from(e: synod_sim::FaultError) -> LabError {
        LabError(e.0)
    }
}
