//! Node identities.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The identity of a node (a process) in a run: nodes are numbered `0..n` and shown as `n0`,
/// `n1`, … (the same names the Maelstrom protocol uses).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The node's position in `0..n`, for indexing per-node tables.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// All node ids of an `n`-node run, in order.
    pub fn all(n: usize) -> impl Iterator<Item = NodeId> + Clone {
        (0..n as u32).map(NodeId)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl From<u32> for NodeId {
    fn from(i: u32) -> NodeId {
        NodeId(i)
    }
}

impl FromStr for NodeId {
    type Err = String;

    /// Reads `n3` or `3`.
    fn from_str(s: &str) -> Result<NodeId, String> {
        let t = s.trim();
        let digits = t.strip_prefix('n').unwrap_or(t);
        digits
            .parse::<u32>()
            .map(NodeId)
            .map_err(|_| format!("'{s}' is not a node id (write n0, n1, … or 0, 1, …)"))
    }
}
