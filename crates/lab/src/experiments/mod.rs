//! The experiment registry.

pub mod link_hierarchy;

use crate::experiment::ExperimentEntry;
use crate::{LabError, Topic};

/// Every experiment, in topic order.
pub fn experiments() -> Vec<ExperimentEntry> {
    vec![ExperimentEntry {
        id: "link-hierarchy",
        topic: Topic::Links,
        summary: "retransmission cost 1/(1-p) vs 1/(1-p)^2; duplicates and reordering at each rung",
        run: link_hierarchy::run,
    }]
}

/// The experiment with id `id`, or an error listing where to find the ids.
pub fn find_experiment(id: &str) -> Result<ExperimentEntry, LabError> {
    let all = experiments();
    all.iter().find(|e| e.id == id).copied().ok_or_else(|| {
        LabError::new(format!(
            "unknown experiment '{id}' (run `synod list` to see the {} experiments)",
            all.len()
        ))
    })
}
