//! Symmetry reduction: states that differ only by a permutation of interchangeable nodes are
//! explored once.
//!
//! The reduction works on fingerprints, not on states: the search keeps exploring the states it
//! actually reached (so every reported path is a real execution that replays step by step), but
//! it files each one in the visited set under the fingerprint of its *symmetry class*. Two
//! states get the same class fingerprint exactly when a permutation of the group maps one onto
//! the other.
//!
//! The class fingerprint is the minimum, over permutations of the group, of the fingerprint of
//! the renamed state. Trying all k! permutations is avoided: each member gets a summary that no
//! permutation can change (its own slot and the messages it sends and receives, with every
//! member's id blurred into one), the members are sorted by summary, and only members with equal
//! summaries are permuted among themselves.
//!
//! **Soundness.** The reduction is exact when the protocol's renaming is correct
//! ([`synod_core::Symmetric`]), nothing else distinguishes the members (no client program and no
//! start request names one, the crash budget treats them alike) and every property is
//! symmetric (it does not single out a member). [`Model::with_node_symmetry`] checks what it
//! can; the properties are the model author's promise.

use crate::model::{Model, NetworkKind};
use crate::state::{CheckState, Envelope, HistEvent, NodeSlot};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use synod_core::{stable_hash, NodeId, Protocol, Renaming, StableHasher, Symmetric};

/// Computes a state's class fingerprint: equal for states related by the symmetry, distinct
/// (up to hash collisions) otherwise.
pub type Symmetry<P> = Arc<dyn Fn(&P, &CheckState<P>) -> u64 + Send + Sync>;

impl<P: Symmetric> Model<P> {
    /// Declares the nodes of `group` interchangeable (e.g. the participants of two-phase
    /// commit). Refused if a client program, a start request or the crash budget tells the
    /// members apart.
    pub fn with_node_symmetry(mut self, group: Vec<NodeId>) -> Result<Model<P>, String> {
        if group.len() < 2 {
            return Err("a symmetry group needs at least two nodes".into());
        }
        if let Some(p) = group.iter().find(|p| p.index() >= self.n) {
            return Err(format!("{p} is not a node of this {}-node model", self.n));
        }
        if let Some(c) = self.clients.iter().find(|c| group.contains(&c.node)) {
            return Err(format!(
                "client {} talks to {}, which makes that node distinguishable",
                c.id, c.node
            ));
        }
        if let Some((p, _)) = self.start.iter().find(|(p, _)| group.contains(p)) {
            return Err(format!("{p} gets a start request, which distinguishes it"));
        }
        if let Some(c) = &self.crashable {
            let inside = group.iter().filter(|p| c.contains(p)).count();
            if inside != 0 && inside != group.len() {
                return Err("the crash budget distinguishes members of the group".into());
            }
        }
        let fifo = self.network == NetworkKind::Fifo;
        self.symmetry = Some(Arc::new(move |protocol: &P, s: &CheckState<P>| {
            class_fingerprint(protocol, s, &group, fifo)
        }));
        Ok(self)
    }
}

fn rename_slot<P: Symmetric>(p: &P, slot: &NodeSlot<P>, r: &Renaming<'_>) -> NodeSlot<P> {
    let mut timers: Vec<P::Timer> = slot.timers.iter().map(|t| p.rename_timer(t, r)).collect();
    timers.sort();
    NodeSlot {
        state: slot.state.as_ref().map(|s| p.rename_state(s, r)),
        durable: p.rename_durable(&slot.durable, r),
        timers,
    }
}

fn rename_env<P: Symmetric>(p: &P, e: &Envelope<P::Msg>, r: &Renaming<'_>) -> Envelope<P::Msg> {
    Envelope {
        from: r.apply(e.from),
        to: r.apply(e.to),
        msg: p.rename_msg(&e.msg, r),
    }
}

fn rename_event<P: Symmetric>(p: &P, e: &HistEvent<P>, r: &Renaming<'_>) -> HistEvent<P> {
    match e {
        HistEvent::Call { client, req } => HistEvent::Call {
            client: *client,
            req: p.rename_request(req, r),
        },
        HistEvent::Return { client, ind } => HistEvent::Return {
            client: *client,
            ind: p.rename_indication(ind, r),
        },
        HistEvent::Note { node, ind } => HistEvent::Note {
            node: r.apply(*node),
            ind: p.rename_indication(ind, r),
        },
    }
}

/// The fingerprint of `s` renamed by `r` (a permutation).
fn renamed_fingerprint<P: Symmetric>(
    p: &P,
    s: &CheckState<P>,
    r: &Renaming<'_>,
    fifo: bool,
) -> u64 {
    let n = s.nodes.len();
    let mut nodes = vec![0u64; n];
    for (i, slot) in s.nodes.iter().enumerate() {
        nodes[r.apply(NodeId(i as u32)).index()] = stable_hash(&rename_slot(p, slot, r));
    }
    let mut net: Vec<(NodeId, NodeId, u64)> = s
        .network
        .iter()
        .map(|e| {
            let e = rename_env(p, e, r);
            (e.from, e.to, stable_hash(&e))
        })
        .collect();
    if fifo {
        // Channels in a canonical order, each keeping its send order.
        net.sort_by_key(|&(from, to, _)| (from, to));
    } else {
        net.sort_by_key(|&(_, _, h)| h);
    }
    let history: Vec<HistEvent<P>> = s.history.iter().map(|e| rename_event(p, e, r)).collect();
    let mut h = StableHasher::default();
    nodes.hash(&mut h);
    for (_, _, x) in &net {
        x.hash(&mut h);
    }
    s.clients.hash(&mut h);
    history.hash(&mut h);
    s.crashes.hash(&mut h);
    h.finish()
}

/// What no permutation of the group changes about member `g`: its slot and the messages it
/// sends and receives, and its notes in the history, with every member's id blurred into one.
fn summary<P: Symmetric>(p: &P, s: &CheckState<P>, g: NodeId, blur: &Renaming<'_>) -> u64 {
    let mut sent: Vec<u64> = Vec::new();
    let mut got: Vec<u64> = Vec::new();
    for e in s.network.iter() {
        if e.from == g {
            sent.push(stable_hash(&rename_env(p, e, blur)));
        }
        if e.to == g {
            got.push(stable_hash(&rename_env(p, e, blur)));
        }
    }
    sent.sort_unstable();
    got.sort_unstable();
    let notes: Vec<(usize, HistEvent<P>)> = s
        .history
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, HistEvent::Note { node, .. } if *node == g))
        .map(|(i, e)| (i, rename_event(p, e, blur)))
        .collect();
    let mut h = StableHasher::default();
    rename_slot(p, &s.nodes[g.index()], blur).hash(&mut h);
    sent.hash(&mut h);
    got.hash(&mut h);
    notes.hash(&mut h);
    h.finish()
}

/// The class fingerprint of `s` under permutations of `group`.
fn class_fingerprint<P: Symmetric>(p: &P, s: &CheckState<P>, group: &[NodeId], fifo: bool) -> u64 {
    let n = s.nodes.len();
    let identity: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    let mut blur_map = identity.clone();
    for g in group {
        blur_map[g.index()] = group[0];
    }
    let blur = Renaming::new(&blur_map);
    // Members sorted by summary; equal summaries form blocks whose order is open.
    let mut members: Vec<(u64, NodeId)> = group
        .iter()
        .map(|&g| (summary(p, s, g, &blur), g))
        .collect();
    members.sort_unstable();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=members.len() {
        if i == members.len() || members[i].0 != members[start].0 {
            blocks.push((start, i));
            start = i;
        }
    }
    let mut order: Vec<NodeId> = members.iter().map(|&(_, g)| g).collect();
    let mut best = u64::MAX;
    let mut map = identity;
    permute_blocks(&mut order, &blocks, 0, &mut |order| {
        // The member in sorted position j becomes group[j].
        for (j, g) in order.iter().enumerate() {
            map[g.index()] = group[j];
        }
        best = best.min(renamed_fingerprint(p, s, &Renaming::new(&map), fifo));
    });
    best
}

/// Calls `f` with every arrangement of `order` that permutes elements only within `blocks`.
fn permute_blocks(
    order: &mut [NodeId],
    blocks: &[(usize, usize)],
    b: usize,
    f: &mut dyn FnMut(&[NodeId]),
) {
    let Some(&(lo, hi)) = blocks.get(b) else {
        f(order);
        return;
    };
    heap_permutations(order, lo, hi - lo, &mut |order| {
        permute_blocks(order, blocks, b + 1, f)
    });
}

/// Heap's algorithm over `order[lo..lo + k]`, calling `f` once per arrangement.
fn heap_permutations(order: &mut [NodeId], lo: usize, k: usize, f: &mut dyn FnMut(&mut [NodeId])) {
    if k <= 1 {
        f(order);
        return;
    }
    for i in 0..k - 1 {
        heap_permutations(order, lo, k - 1, f);
        if k.is_multiple_of(2) {
            order.swap(lo + i, lo + k - 1);
        } else {
            order.swap(lo, lo + k - 1);
        }
    }
    heap_permutations(order, lo, k - 1, f);
}

impl<P: Protocol> Model<P> {
    /// The fingerprint the search files `s` under: its own, or its symmetry class's.
    pub fn fingerprint(&self, s: &CheckState<P>) -> u64 {
        match &self.symmetry {
            Some(f) => f(&self.protocol, s),
            None => s.fingerprint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{heap_permutations, permute_blocks};
    use std::collections::BTreeSet;
    use synod_core::NodeId;

    #[test]
    fn block_permutations_are_all_arrangements_within_blocks() {
        let mut v: Vec<NodeId> = (0..5).map(NodeId).collect();
        let mut seen = BTreeSet::new();
        permute_blocks(&mut v, &[(0, 3), (3, 5)], 0, &mut |o| {
            seen.insert(o.to_vec());
        });
        assert_eq!(seen.len(), 6 * 2);
        for o in &seen {
            let first: BTreeSet<_> = o[..3].iter().collect();
            assert_eq!(first.len(), 3);
            assert!(o[..3].iter().all(|p| p.0 < 3));
        }
        let mut w: Vec<NodeId> = (0..4).map(NodeId).collect();
        let mut all = BTreeSet::new();
        heap_permutations(&mut w, 0, 4, &mut |o| {
            all.insert(o.to_vec());
        });
        assert_eq!(all.len(), 24);
    }
}
