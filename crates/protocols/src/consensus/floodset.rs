//! FloodSet: consensus in the synchronous round model with crash failures, and its
//! early-deciding variant.
//!
//! **Model.** n processes in lockstep rounds ([`synod_core::RoundProtocol`], run by
//! [`synod_core::Lockstep`] or explored exhaustively by `synod_check::rounds`): in every round
//! each live process sends, then receives every message sent to it in that round, then
//! computes. Links are reliable. Up to f processes may *crash* (crash-stop, f < n): a process
//! that crashes in round r sends its round-r messages to an arbitrary subset of their recipients
//! (possibly none, possibly all) and takes no step afterwards. Every process knows n and f and
//! starts with an input value, a small integer (below [`ValueSet::CAPACITY`]) given per node in
//! the configuration ([`FloodSet::inputs`]).
//!
//! **Round numbering.** A [`RoundProtocol`]'s call `round(k)` receives the messages sent in call
//! `k - 1`, computes, and sends; so call `k` *ends* the k-th round of Lynch's numbering (rounds
//! 1, 2, …), and "decides in round k" below means "decides in the call `round(k)`", that is at
//! the end of Lynch's round k.
//!
//! **Algorithm (Lynch §6.2).** Each process keeps W, the set of values it has seen (initially
//! its input). In each of the rounds 1 to r it broadcasts W and adds every set it receives to W.
//! At the end of round r it decides and halts. *Decision rule:* it decides `min(W)`. Any
//! deterministic choice function of W works, provided every process uses the same one: the
//! proof shows that all processes that reach the end of round r hold the *same* W.
//! [`FloodSet::new`] takes r = f + 1: among f + 1 rounds at least one has no crash, after such a
//! clean round every live process holds the same W (the union of the sets of the processes alive
//! at its start), and no later round can change that, since nothing new appears.
//!
//! **Early deciding ([`FloodSet::early_deciding`]; after Dolev, Reischuk and Strong, "Early
//! stopping in Byzantine agreement", 1990, in the form of Raynal, *Fault-tolerant agreement in
//! synchronous message-passing systems*, 2010).**
//! Most runs have far fewer than f crashes, yet FloodSet always waits f + 1 rounds. The variant
//! lets a process that *sees* a clean round stop early. The exact rule implemented:
//!
//! 1. Every message carries W and a flag `early`. A process counts the processes it heard from in
//!    each round (itself included; n "in round 0").
//! 2. At the end of round k ≥ 1, a process that broadcast `early = true` in round k decides
//!    `min(W)` and halts (it sent nothing more).
//! 3. Otherwise, at the end of round k = r (= f + 1), it decides `min(W)` and halts (FloodSet's
//!    deadline).
//! 4. Otherwise it becomes early if it received a message with `early = true` in round k, or if
//!    it heard from as many processes in round k as in round k − 1 (no new crash seen); it then
//!    broadcasts W with its flag in round k + 1.
//!
//! *Why it is safe.* A process that does not hear from q in round k never hears from q again
//! (q crashed or halted), so the sets of processes heard from only shrink, and equal counts mean
//! equal sets. Suppose p heard from the same set S in rounds k − 1 and k. Every process alive at
//! the end of round k − 1 completed its round-(k − 1) broadcast, so it is in S, so p received its
//! W in round k: W_p now contains every value held by any process still able to send, and no
//! process will ever hold a value outside it (values only travel from live processes). So
//! m = min(W_p) is the smallest value that exists, and will stay so. When p decides, at the end of
//! round k + 1, it completed its round-(k + 1) broadcast: every process alive then received m and
//! the flag, and becomes early itself (or decides at the deadline) with min(W) = m. A process that
//! became early only through a flag it received holds m too, and passes it on the same way; a
//! process that halts after deciding broadcast m to everyone in its last round, so its silence
//! afterwards hides nothing. Hence uniform agreement. *Why it is fast.* Before a process becomes
//! early, every drop in its count is caused by a distinct crash, so with f' actual crashes its
//! counts for rounds 0 to f' + 1 cannot all differ: it becomes early by the end of round f' + 1
//! and decides by round f' + 2; the deadline caps this at f + 1. So every correct process decides
//! by round min(f' + 2, f + 1) ([`early_deciding_bound`]), which the round explorer checks
//! exhaustively for small n and f (`crates/lab/tests/floodset_rounds.rs`).
//!
//! **Properties** (over [`Outcome`]s, one per process, for any driver): *termination* (every
//! correct process decides), *validity* (a decided value is some process's input), *integrity*
//! (a process decides at most once), *agreement* (no two correct processes decide differently)
//! and *uniform agreement* (no two processes decide differently, even one that crashes later).
//! FloodSet with r = f + 1 and the early-deciding variant satisfy all of them; here a process
//! halts when it decides, so a decider never crashes afterwards and agreement is uniform.
//!
//! **The f + 1 lower bound.** No consensus algorithm tolerating f crashes decides in f rounds in
//! every run when n ≥ f + 2 (Lynch §6.7; Attiya and Welch §5.1; Dolev and Strong 1983). The canary [`FloodSet::canary_f_rounds`] stops after f rounds: a chain of f crashes,
//! each process passing the smallest value to just the next one before crashing, leaves two
//! correct processes with different minima. The round explorer finds such a run for every
//! n ≤ 5 and f ≤ n − 2, and exhausts every run of the f + 1-round version.
//!
//! **Read:** Lynch, *Distributed Algorithms*, ch. 6 (§6.2 FloodSet, its correctness proof and
//! its variants; §6.7 the f + 1 lower bound on rounds; the bibliographic notes on early
//! stopping); Attiya and Welch, *Distributed Computing*, ch. 5 (§5.1 consensus with crash
//! failures in synchronous systems and the f + 1 lower bound); Cachin, Guerraoui and Rodrigues
//! (CGR), *Reliable and Secure Distributed Programming*, ch. 5 ("flooding consensus" and
//! "uniform flooding consensus", the same idea over a perfect failure detector); Raynal,
//! *Fault-tolerant agreement in synchronous message-passing systems* (early decision and the
//! min(f' + 2, f + 1) bound).

use serde::{Deserialize, Serialize};
use synod_core::{NodeId, RoundCtx, RoundProtocol, Step};

/// A set of small values (0 to 63), as a bitmask: FloodSet's W.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ValueSet(pub u64);

impl ValueSet {
    /// Values must be below this.
    pub const CAPACITY: u32 = 64;

    /// The empty set.
    pub const EMPTY: ValueSet = ValueSet(0);

    /// The set holding only `v`.
    ///
    /// # Panics
    /// If `v` is not below [`ValueSet::CAPACITY`].
    pub fn only(v: u32) -> ValueSet {
        let mut s = ValueSet::EMPTY;
        s.insert(v);
        s
    }

    /// Adds `v`; returns true if it was not there before.
    ///
    /// # Panics
    /// If `v` is not below [`ValueSet::CAPACITY`].
    pub fn insert(&mut self, v: u32) -> bool {
        assert!(
            v < Self::CAPACITY,
            "ValueSet holds values below {}, not {v}",
            Self::CAPACITY
        );
        let new = self.0 & (1 << v) == 0;
        self.0 |= 1 << v;
        new
    }

    /// Adds every value of `other`.
    pub fn union_with(&mut self, other: ValueSet) {
        self.0 |= other.0;
    }

    /// True if `v` is in the set.
    pub fn contains(self, v: u32) -> bool {
        v < Self::CAPACITY && self.0 & (1 << v) != 0
    }

    /// The smallest value, if any.
    pub fn min(self) -> Option<u32> {
        (self.0 != 0).then(|| self.0.trailing_zeros())
    }

    /// How many values are in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The values, in increasing order.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (0..Self::CAPACITY).filter(move |v| self.contains(*v))
    }
}

impl std::fmt::Debug for ValueSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// FloodSet (or, with [`FloodSet::early_deciding`], its early-deciding variant) as a
/// [`RoundProtocol`]. Node i's input is `inputs[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloodSet {
    /// Node i's input value (below [`ValueSet::CAPACITY`]).
    pub inputs: Vec<u32>,
    /// The number of crashes tolerated.
    pub f: usize,
    /// r: processes broadcast in rounds 1 to r and decide at the end of round r (at the latest,
    /// in the early-deciding variant).
    pub rounds: u32,
    /// True for the early-deciding variant.
    pub early: bool,
}

impl FloodSet {
    /// FloodSet tolerating `f` crashes: r = f + 1 rounds, then decide `min(W)`.
    ///
    /// # Panics
    /// If an input is not below [`ValueSet::CAPACITY`].
    pub fn new(inputs: Vec<u32>, f: usize) -> FloodSet {
        for &v in &inputs {
            assert!(
                v < ValueSet::CAPACITY,
                "FloodSet: inputs must be below {}, not {v}",
                ValueSet::CAPACITY
            );
        }
        FloodSet {
            inputs,
            f,
            rounds: f as u32 + 1,
            early: false,
        }
    }

    /// The early-deciding variant tolerating `f` crashes: decides by round min(f' + 2, f + 1)
    /// when f' processes actually crash (the rule is in the [module documentation](self)).
    ///
    /// # Panics
    /// If an input is not below [`ValueSet::CAPACITY`].
    pub fn early_deciding(inputs: Vec<u32>, f: usize) -> FloodSet {
        FloodSet {
            early: true,
            ..FloodSet::new(inputs, f)
        }
    }

    /// The same algorithm with `rounds` rounds instead of f + 1 (the deadline of the
    /// early-deciding variant).
    pub fn with_rounds(mut self, rounds: u32) -> FloodSet {
        self.rounds = rounds;
        self
    }

    /// Canary: FloodSet that stops after f rounds, one too few. With n ≥ f + 2 some run ends in
    /// disagreement (the f + 1 lower bound).
    pub fn canary_f_rounds(inputs: Vec<u32>, f: usize) -> FloodSet {
        FloodSet::new(inputs, f).with_rounds(f as u32)
    }

    /// The set of all inputs.
    pub fn input_set(&self) -> ValueSet {
        let mut s = ValueSet::EMPTY;
        for &v in &self.inputs {
            s.insert(v);
        }
        s
    }
}

/// What a FloodSet process broadcasts each round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FloodMsg {
    /// The sender's W.
    pub w: ValueSet,
    /// Early-deciding variant: the sender decides at the end of this round if it survives it.
    /// Always false in plain FloodSet.
    pub early: bool,
}

/// A FloodSet process's state. It names no node, so processes are interchangeable (the round
/// explorer's symmetry reduction relies on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FloodState {
    /// W: the values seen so far.
    pub w: ValueSet,
    /// The decision, once taken.
    pub decision: Option<u32>,
    /// Early-deciding variant: how many processes (itself included) this process heard from in
    /// the last round (n before round 1). Plain FloodSet leaves it at 0.
    pub heard: u32,
    /// Early-deciding variant: this process broadcast `early = true` in the current round.
    pub early: bool,
}

/// The decision indication: the process decided this value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decide(pub u32);

impl RoundProtocol for FloodSet {
    type Msg = FloodMsg;
    type Indication = Decide;
    type Request = ();
    type State = FloodState;

    fn init(&self, id: NodeId, n: usize) -> FloodState {
        let input = *self.inputs.get(id.index()).unwrap_or_else(|| {
            panic!(
                "FloodSet: no input for {id} ({} inputs for {n} nodes)",
                self.inputs.len()
            )
        });
        FloodState {
            w: ValueSet::only(input),
            decision: None,
            heard: if self.early { n as u32 } else { 0 },
            early: false,
        }
    }

    fn round(
        &self,
        round: u32,
        s: &mut FloodState,
        inbox: &[(NodeId, FloodMsg)],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        let mut got_early = false;
        let mut senders = 0u32;
        let mut last: Option<NodeId> = None;
        for (from, m) in inbox {
            s.w.union_with(m.w);
            got_early |= m.early;
            if last != Some(*from) {
                senders += 1;
                last = Some(*from);
            }
        }
        if round > 0 && (s.early || round >= self.rounds) || self.rounds == 0 {
            let v = s.w.min().expect("W holds at least the input");
            s.decision = Some(v);
            ctx.indicate(Decide(v));
            return Step::Halt;
        }
        if self.early && round > 0 {
            let heard = senders + 1;
            if got_early || heard == s.heard {
                s.early = true;
            }
            s.heard = heard;
        }
        ctx.broadcast(FloodMsg {
            w: s.w,
            early: s.early,
        });
        Step::Continue
    }
}

/// What one process did in a run, for the consensus properties: whether it crashed and each
/// decision it took, with the round of each (in the order taken).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The process.
    pub node: NodeId,
    /// True if it crashed (it is not *correct*).
    pub crashed: bool,
    /// `(round, value)` for each decision, in order.
    pub decisions: Vec<(u32, u32)>,
}

impl Outcome {
    /// The first decision's value, if any.
    pub fn decided(&self) -> Option<u32> {
        self.decisions.first().map(|&(_, v)| v)
    }
}

fn agree<'a>(what: &str, outcomes: impl Iterator<Item = &'a Outcome>) -> Result<(), String> {
    let mut first: Option<(NodeId, u32)> = None;
    for o in outcomes {
        for &(_, v) in &o.decisions {
            match first {
                None => first = Some((o.node, v)),
                Some((p, w)) if w != v => {
                    return Err(format!(
                        "{what}: {} decided {v} but {p} decided {w}",
                        o.node
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// *Agreement* (safety): no two correct processes decide differently.
pub fn agreement(outcomes: &[Outcome]) -> Result<(), String> {
    agree("agreement", outcomes.iter().filter(|o| !o.crashed))
}

/// *Uniform agreement* (safety): no two processes decide differently, crashed or not.
pub fn uniform_agreement(outcomes: &[Outcome]) -> Result<(), String> {
    agree("uniform agreement", outcomes.iter())
}

/// *Validity* (safety): every decided value is one of the `inputs`.
pub fn validity(inputs: ValueSet, outcomes: &[Outcome]) -> Result<(), String> {
    for o in outcomes {
        for &(_, v) in &o.decisions {
            if !inputs.contains(v) {
                return Err(format!(
                    "validity: {} decided {v}, which is nobody's input {inputs:?}",
                    o.node
                ));
            }
        }
    }
    Ok(())
}

/// *Integrity* (safety): every process decides at most once.
pub fn integrity(outcomes: &[Outcome]) -> Result<(), String> {
    match outcomes.iter().find(|o| o.decisions.len() > 1) {
        Some(o) => Err(format!(
            "integrity: {} decided {} times",
            o.node,
            o.decisions.len()
        )),
        None => Ok(()),
    }
}

/// *Termination* (liveness, judged at the end of a run): every correct process has decided.
pub fn termination(outcomes: &[Outcome]) -> Result<(), String> {
    match outcomes
        .iter()
        .find(|o| !o.crashed && o.decisions.is_empty())
    {
        Some(o) => Err(format!("termination: correct {} never decided", o.node)),
        None => Ok(()),
    }
}

/// Every correct process decided by round `bound` (judged at the end of a run).
pub fn decides_by(outcomes: &[Outcome], bound: u32) -> Result<(), String> {
    for o in outcomes.iter().filter(|o| !o.crashed) {
        match o.decisions.first() {
            None => return Err(format!("correct {} never decided", o.node)),
            Some(&(r, _)) if r > bound => {
                return Err(format!(
                    "{} decided in round {r}, after the bound {bound}",
                    o.node
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The early-deciding bound min(f' + 2, f + 1): the round by which every correct process decides
/// when `crashes` (f') processes actually crashed out of the `f` tolerated.
pub fn early_deciding_bound(f: usize, crashes: usize) -> u32 {
    (crashes as u32 + 2).min(f as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Ctx, Effect, FirstChoice, Instant, Lockstep, RoundMsg};

    /// Runs node `id`'s round `round` by hand and returns its step and effects.
    fn run(
        p: &FloodSet,
        id: u32,
        round: u32,
        s: &mut FloodState,
        inbox: &[(NodeId, FloodMsg)],
    ) -> (Step, Vec<Effect<Lockstep<FloodSet>>>) {
        let mut effects = Vec::new();
        let mut chooser = FirstChoice;
        let n = p.inputs.len();
        let mut ctx = Ctx::new(NodeId(id), n, Instant::ZERO, &mut effects, &mut chooser);
        let step = p.round(round, s, inbox, &mut RoundCtx::new(round, &mut ctx));
        (step, effects)
    }

    #[test]
    fn value_set_basics() {
        let mut s = ValueSet::only(5);
        assert!(s.insert(2));
        assert!(!s.insert(5));
        assert_eq!(s.min(), Some(2));
        assert_eq!(s.len(), 2);
        assert_eq!(format!("{s:?}"), "{2, 5}");
        assert_eq!(ValueSet::EMPTY.min(), None);
        assert!(s.contains(5) && !s.contains(3) && !s.contains(99));
    }

    #[test]
    fn floodset_broadcasts_then_decides_the_minimum() {
        let p = FloodSet::new(vec![4, 1, 7], 1);
        let mut s = p.init(NodeId(0), 3);
        let (step, eff) = run(&p, 0, 0, &mut s, &[]);
        assert_eq!(step, Step::Continue);
        assert_eq!(eff.len(), 2, "broadcast to the two others");
        let m = |w: u64| FloodMsg {
            w: ValueSet(w),
            early: false,
        };
        let (step, _) = run(&p, 0, 1, &mut s, &[(NodeId(2), m(1 << 7))]);
        assert_eq!(step, Step::Continue);
        assert_eq!(s.w.iter().collect::<Vec<_>>(), vec![4, 7]);
        let (step, eff) = run(&p, 0, 2, &mut s, &[(NodeId(1), m(1 << 1 | 1 << 7))]);
        assert_eq!(step, Step::Halt);
        assert_eq!(eff, vec![Effect::Indicate(Decide(1))]);
        assert_eq!(s.decision, Some(1));
    }

    #[test]
    fn early_deciding_without_crashes_decides_in_round_two() {
        let p = FloodSet::early_deciding(vec![3, 1, 2], 2);
        let mut states: Vec<FloodState> = (0..3).map(|i| p.init(NodeId(i), 3)).collect();
        let mut inboxes: Vec<Vec<(NodeId, FloodMsg)>> = vec![Vec::new(); 3];
        for round in 0..=2 {
            let mut next = vec![Vec::new(); 3];
            for i in 0..3u32 {
                let (step, eff) = run(&p, i, round, &mut states[i as usize], &inboxes[i as usize]);
                for e in eff {
                    match e {
                        Effect::Send {
                            to,
                            msg: RoundMsg { msg, .. },
                        } => next[to.index()].push((NodeId(i), msg)),
                        Effect::Indicate(Decide(v)) => {
                            assert_eq!((round, v), (2, 1), "decides 1 in round 2")
                        }
                        _ => {}
                    }
                }
                assert_eq!(step == Step::Halt, round == 2);
            }
            inboxes = next;
        }
        assert!(states.iter().all(|s| s.decision == Some(1)));
    }

    #[test]
    fn properties_judge_outcomes() {
        let o = |node, crashed, decisions: Vec<(u32, u32)>| Outcome {
            node: NodeId(node),
            crashed,
            decisions,
        };
        let good = vec![
            o(0, false, vec![(2, 1)]),
            o(1, true, vec![]),
            o(2, false, vec![(2, 1)]),
        ];
        let inputs = ValueSet(0b111);
        assert!(agreement(&good).is_ok() && uniform_agreement(&good).is_ok());
        assert!(validity(inputs, &good).is_ok() && integrity(&good).is_ok());
        assert!(termination(&good).is_ok() && decides_by(&good, 2).is_ok());
        assert!(decides_by(&good, 1).is_err());
        let split = vec![
            o(0, false, vec![(2, 1)]),
            o(1, true, vec![(1, 0)]),
            o(2, false, vec![(2, 1)]),
        ];
        assert!(agreement(&split).is_ok());
        assert!(uniform_agreement(&split).is_err());
        assert!(validity(ValueSet(0b10), &split).is_err());
        assert!(termination(&[o(0, false, vec![])]).is_err());
        assert!(integrity(&[o(0, false, vec![(1, 1), (2, 1)])]).is_err());
        assert_eq!(early_deciding_bound(3, 0), 2);
        assert_eq!(early_deciding_bound(3, 3), 4);
    }
}
