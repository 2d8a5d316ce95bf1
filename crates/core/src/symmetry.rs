//! Renaming nodes: what symmetry reduction needs from a protocol.
//!
//! Many systems have interchangeable nodes: the participants of two-phase commit, the replicas
//! of a register that no client talks to directly. Two global states that differ only by a
//! permutation of such nodes behave alike, so a model checker needs to explore only one of them.
//! To recognise them it must rename the nodes inside states and messages, which only the protocol
//! knows how to do: that is this trait.

use crate::{NodeId, Protocol};

/// A renaming of node ids: node `i` becomes `map[i]`; ids beyond the map stay as they are.
///
/// Renamings the checker builds are permutations of a group of interchangeable nodes, or (to
/// compute permutation-invariant summaries) the map sending every member of the group to one
/// member: [`Symmetric`] implementations must accept both.
#[derive(Clone, Copy, Debug)]
pub struct Renaming<'a> {
    map: &'a [NodeId],
}

impl<'a> Renaming<'a> {
    /// The renaming `i -> map[i]`.
    pub fn new(map: &'a [NodeId]) -> Renaming<'a> {
        Renaming { map }
    }

    /// The new id of `p`.
    pub fn apply(&self, p: NodeId) -> NodeId {
        self.map.get(p.index()).copied().unwrap_or(p)
    }
}

/// A protocol whose node ids can be renamed consistently, which makes symmetry reduction
/// possible (`synod check --symmetry`).
///
/// Each method returns its argument with every node id `p` it contains replaced by
/// `r.apply(p)`; everything else unchanged. The defaults return a copy, which is right only for
/// types that name no node: override them otherwise.
pub trait Symmetric: Protocol {
    /// Renames the nodes a node's state refers to.
    fn rename_state(&self, s: &Self::State, r: &Renaming<'_>) -> Self::State;

    /// Renames the nodes a message refers to.
    fn rename_msg(&self, m: &Self::Msg, r: &Renaming<'_>) -> Self::Msg;

    /// Renames the nodes a timer refers to (default: none).
    fn rename_timer(&self, t: &Self::Timer, _r: &Renaming<'_>) -> Self::Timer {
        t.clone()
    }

    /// Renames the nodes the durable state refers to (default: none).
    fn rename_durable(&self, d: &Self::Durable, _r: &Renaming<'_>) -> Self::Durable {
        d.clone()
    }

    /// Renames the nodes a request refers to (default: none).
    fn rename_request(&self, q: &Self::Request, _r: &Renaming<'_>) -> Self::Request {
        q.clone()
    }

    /// Renames the nodes an indication refers to (default: none).
    fn rename_indication(&self, i: &Self::Indication, _r: &Renaming<'_>) -> Self::Indication {
        i.clone()
    }
}
