//! Strong eventual consistency, judged from a trace, and the lattice laws, judged on random
//! states.
//!
//! Every replica reports, as indications, the effect of each update it makes
//! ([`CrdtInd::Updated`]) and its value and state digest whenever its state changes (and when it
//! starts or recovers: [`CrdtInd::State`]). So the last `State` of a node is its state at the end
//! of the run, and the `Updated` effects are every update made, with what it observed. From these
//! alone ([`audit`]):
//!
//! - [`convergence`]: at the end, every replica that is up holds the same state (equal digests).
//! - [`updates_reflected`]: at the end, every replica that is up holds the value the data type's
//!   specification ([`Crdt::reference`]) gives for the updates made: all the updates made at
//!   nodes that are up (eventual delivery: every update made at a correct node reaches every
//!   correct replica), and, of each node that is down for good, some prefix of its updates
//!   (those its last gossip carried out). For counters: the sum of the increments minus the
//!   decrements; for the OR-Set: the elements with an add no remove observed; for registers:
//!   the highest-stamped write (LWW) or the writes no other dominates (MV).
//!
//! Both are judged at the end of the run, and only if the run ended at least `quiet` after the
//! last update and the last scheduled fault (a quiet tail in which anti-entropy catches up);
//! otherwise they are inconclusive. Together they give, at quiescence, the convergence half of
//! strong eventual consistency (replicas that delivered the same updates are equal) and its
//! eventual-delivery half.

use super::types::Crdt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use synod_core::{Duration, EventKind, Instant, NodeId, Prng, Property, Protocol, Trace, Verdict};

/// What a CRDT replica tells the layer above.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CrdtInd<E, V, R> {
    /// The replica made an update, with this effect (before its `State`).
    Updated {
        /// The update's effect, as prepared here.
        effect: E,
    },
    /// The replica's state is now this (at start, at recovery, after every change).
    State {
        /// Its value.
        value: V,
        /// Its digest ([`Crdt::digest`]).
        digest: u64,
    },
    /// An answer to a client (stores with a client interface).
    Reply(R),
}

/// An indication as the properties read it.
#[derive(Debug)]
pub enum Observed<'a, C: Crdt> {
    /// An update's effect.
    Updated(&'a C::Effect),
    /// A state report.
    State {
        /// The value.
        value: &'a C::Value,
        /// The digest.
        digest: u64,
    },
}

impl<E, V, R> CrdtInd<E, V, R> {
    /// The indication as the properties read it (`None` for client answers).
    pub fn observe<C: Crdt<Effect = E, Value = V>>(&self) -> Option<Observed<'_, C>> {
        match self {
            CrdtInd::Updated { effect } => Some(Observed::Updated(effect)),
            CrdtInd::State { value, digest } => Some(Observed::State {
                value,
                digest: *digest,
            }),
            CrdtInd::Reply(_) => None,
        }
    }
}

/// A protocol whose nodes are replicas of a [`Crdt`] reporting through [`CrdtInd`]-like
/// indications.
pub trait Replica: Protocol {
    /// The replicated data type.
    type Data: Crdt;

    /// What an indication reports, if anything.
    fn observe(ind: &Self::Indication) -> Option<Observed<'_, Self::Data>>;
}

/// What a trace says about a replicated run.
#[derive(Clone, Debug)]
pub struct Audit<C: Crdt> {
    /// Per node, the effects of the updates made there, in order.
    pub effects: Vec<Vec<C::Effect>>,
    /// Per node, its last reported value and digest.
    pub last: Vec<Option<(C::Value, u64)>>,
    /// When the last update was made.
    pub last_update: Option<Instant>,
}

impl<C: Crdt> Audit<C> {
    /// Every update's effect, node by node.
    pub fn all_effects(&self) -> Vec<C::Effect> {
        self.effects.iter().flatten().cloned().collect()
    }

    /// Updates made.
    pub fn updates(&self) -> usize {
        self.effects.iter().map(Vec::len).sum()
    }
}

/// Reads the updates and the last states of `trace` (see the [module documentation](self)).
pub fn audit<P: Replica>(trace: &Trace<P>) -> Audit<P::Data> {
    let n = trace.facts.n;
    let mut a = Audit {
        effects: vec![Vec::new(); n],
        last: vec![None; n],
        last_update: None,
    };
    for e in &trace.events {
        if let EventKind::Indication { node, ind } = &e.kind {
            match P::observe(ind) {
                Some(Observed::Updated(eff)) => {
                    a.effects[node.index()].push(eff.clone());
                    a.last_update = Some(e.time);
                }
                Some(Observed::State { value, digest }) => {
                    a.last[node.index()] = Some((value.clone(), digest));
                }
                None => {}
            }
        }
    }
    a
}

/// Inconclusive unless the run ended at least `quiet` after the last update and the last
/// scheduled fault.
fn quiet_tail<P: Protocol, C: Crdt>(
    trace: &Trace<P>,
    a: &Audit<C>,
    quiet: Duration,
) -> Option<Verdict> {
    let end = trace.facts.end;
    let busy = a
        .last_update
        .unwrap_or(Instant::ZERO)
        .max(trace.facts.faults_end);
    if busy + quiet > end {
        return Some(Verdict::Inconclusive {
            detail: format!(
                "the run ended at {end}, less than {quiet} after the last update or fault ({busy})"
            ),
        });
    }
    if !trace.facts.up_at_end.iter().any(|&u| u) {
        return Some(Verdict::Inconclusive {
            detail: "no replica is up at the end".into(),
        });
    }
    None
}

/// *Convergence* (liveness, judged at the end after a quiet tail of `quiet`): every replica up
/// at the end holds the same state.
pub fn convergence<P: Replica>(quiet: Duration) -> Property<P> {
    Property::liveness("convergence", move |trace: &Trace<P>| {
        let a = audit(trace);
        if let Some(v) = quiet_tail(trace, &a, quiet) {
            return v;
        }
        let up: Vec<(NodeId, &Option<(_, u64)>)> = NodeId::all(trace.facts.n)
            .filter(|id| trace.facts.up_at_end[id.index()])
            .map(|id| (id, &a.last[id.index()]))
            .collect();
        let digests: BTreeSet<Option<u64>> =
            up.iter().map(|(_, l)| l.as_ref().map(|x| x.1)).collect();
        if digests.len() <= 1 && !digests.contains(&None) {
            return Verdict::Holds;
        }
        let states: Vec<String> = up
            .iter()
            .map(|(id, l)| match l {
                Some((v, d)) => format!("{id}: {v:?} (#{:04x})", d & 0xffff),
                None => format!("{id}: never reported"),
            })
            .collect();
        Verdict::violated(format!(
            "{} distinct states at the end, {} after the last update or fault: {}",
            digests.len(),
            quiet,
            states.join(", ")
        ))
    })
}

/// The most combinations of prefixes [`updates_reflected`] tries for nodes down at the end.
pub const MAX_PREFIX_COMBINATIONS: u64 = 100_000;

/// *Updates reflected* (liveness, judged at the end after a quiet tail of `quiet`): every
/// replica up at the end holds the value [`Crdt::reference`] gives for the updates made at the
/// nodes up at the end plus, for each node down at the end, some prefix of its updates.
pub fn updates_reflected<P: Replica>(quiet: Duration) -> Property<P> {
    Property::liveness("updates-reflected", move |trace: &Trace<P>| {
        let a = audit(trace);
        if let Some(v) = quiet_tail(trace, &a, quiet) {
            return v;
        }
        let up = &trace.facts.up_at_end;
        let base: Vec<_> = a
            .effects
            .iter()
            .enumerate()
            .filter(|(i, _)| up[*i])
            .flat_map(|(_, e)| e.iter().cloned())
            .collect();
        let down: Vec<&Vec<_>> = a
            .effects
            .iter()
            .enumerate()
            .filter(|(i, e)| !up[*i] && !e.is_empty())
            .map(|(_, e)| e)
            .collect();
        let combos = down
            .iter()
            .try_fold(1u64, |acc, e| acc.checked_mul(e.len() as u64 + 1))
            .unwrap_or(u64::MAX);
        if combos > MAX_PREFIX_COMBINATIONS {
            return Verdict::Inconclusive {
                detail: format!("{combos} combinations of the down nodes' updates to try"),
            };
        }
        // Every value the specification allows, over the prefixes of the down nodes' updates.
        let mut allowed = BTreeSet::new();
        let mut lens = vec![0usize; down.len()];
        loop {
            let mut effects = base.clone();
            for (d, &l) in down.iter().zip(&lens) {
                effects.extend(d[..l].iter().cloned());
            }
            allowed.insert(P::Data::reference(&effects));
            // Next combination (odometer).
            let mut k = 0;
            while k < lens.len() {
                lens[k] += 1;
                if lens[k] <= down[k].len() {
                    break;
                }
                lens[k] = 0;
                k += 1;
            }
            if k == lens.len() {
                break;
            }
        }
        for id in NodeId::all(trace.facts.n).filter(|id| up[id.index()]) {
            match &a.last[id.index()] {
                Some((v, _)) if allowed.contains(v) => {}
                Some((v, _)) => {
                    let spec = P::Data::reference(&a.all_effects());
                    return Verdict::violated(format!(
                        "{id} holds {v:?}, but the specification gives {spec:?} for the {} updates made",
                        a.updates()
                    ));
                }
                None => return Verdict::violated(format!("{id} never reported its state")),
            }
        }
        Verdict::Holds
    })
}

/// [`convergence`] and [`updates_reflected`]: strong eventual consistency at the end of a run.
pub fn crdt_properties<P: Replica>(quiet: Duration) -> Vec<Property<P>> {
    vec![convergence(quiet), updates_reflected(quiet)]
}

// ---------------------------------------------------------------------------------------------
// Lattice laws

/// A random reachable state: `replicas` replicas apply `ops` random operations at random
/// replicas, merging a random replica into another now and then; returns one replica.
pub fn random_state<C: Crdt>(prng: &mut Prng, replicas: usize, ops: usize) -> C {
    let replicas = replicas.max(1);
    let mut rs = vec![C::default(); replicas];
    for k in 0..ops {
        let i = prng.below(replicas as u64) as usize;
        if prng.below(4) == 0 {
            let j = prng.below(replicas as u64) as usize;
            let other = rs[j].clone();
            rs[i].merge(&other);
        } else {
            let op = C::sample_op(prng, k as u64);
            rs[i].apply(NodeId(i as u32), &op);
        }
    }
    let i = prng.below(replicas as u64) as usize;
    rs.swap_remove(i)
}

/// Checks the semilattice laws on `trials` triples of random reachable states: merge is
/// commutative, associative and idempotent, its result is an upper bound of both sides, and a
/// random local update is an inflation. Returns the first law broken, with its witnesses.
pub fn check_laws<C: Crdt>(prng: &mut Prng, trials: usize) -> Result<(), String> {
    let join = |a: &C, b: &C| {
        let mut j = a.clone();
        j.merge(b);
        j
    };
    for t in 0..trials {
        let ops = 1 + prng.below(24) as usize;
        let a: C = random_state(prng, 3, ops);
        let b: C = random_state(prng, 3, ops);
        let c: C = random_state(prng, 3, ops);
        if join(&a, &b) != join(&b, &a) {
            return Err(format!(
                "trial {t}: merge not commutative on {a:?} and {b:?}"
            ));
        }
        if join(&join(&a, &b), &c) != join(&a, &join(&b, &c)) {
            return Err(format!(
                "trial {t}: merge not associative on {a:?}, {b:?}, {c:?}"
            ));
        }
        if join(&a, &a) != a {
            return Err(format!("trial {t}: merge not idempotent on {a:?}"));
        }
        let ab = join(&a, &b);
        if !a.leq(&ab) || !b.leq(&ab) {
            return Err(format!(
                "trial {t}: merge not an upper bound of {a:?} and {b:?}"
            ));
        }
        let node = NodeId(prng.below(3) as u32);
        let op = C::sample_op(prng, 1_000 + t as u64);
        let mut up = a.clone();
        up.apply(node, &op);
        if !a.leq(&up) {
            return Err(format!(
                "trial {t}: update {op:?} at {node} is not an inflation of {a:?} (gives {up:?})"
            ));
        }
    }
    Ok(())
}
