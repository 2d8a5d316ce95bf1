//! Ben-Or's randomized binary consensus (1983), crash version: agreement without any timing
//! assumption, termination with probability 1.
//!
//! **Model.** n processes, *crash-stop*, at most f of which crash, **n > 2f** (f defaults to
//! the largest such value, ⌊(n − 1)/2⌋; [`BenOr::with_f`] sets a smaller one). *Asynchronous*:
//! no bound on delays, no clocks, no failure detector; this is exactly the model of Fischer,
//! Lynch and Paterson's impossibility, which Ben-Or escapes by letting processes flip coins.
//! *Reliable links*: every message sent between two processes that do not crash is eventually
//! delivered. The protocol sends every message once and never retransmits, because reliable
//! links need no retransmission; it tolerates duplication (each sender counts once per round
//! and phase) and reordering (messages of rounds not reached yet are kept). Over a network
//! that *loses* messages it may block: run it over a retransmitting link of [`crate::link`].
//! Each process proposes one bit, given by the configuration ([`BenOrInputs`]) when it starts;
//! there are no client requests.
//!
//! **Algorithm** (Ben-Or 1983, the crash-failure protocol, as in Aguilera and Toueg's proof).
//! A process keeps an *estimate* x, initially its input, and runs rounds r = 1, 2, 3, …, each
//! of two phases:
//!
//! 1. *Report.* Send [`BenOrMsg::Report`] `(r, x)` to all (itself included) and wait for
//!    reports of round r from n − f processes. If **more than n/2** of them carry the same
//!    value v, send [`BenOrMsg::Propose`] `(r, v)` to all, otherwise `(r, ⊥)`.
//! 2. *Propose.* Wait for proposals of round r from n − f processes. If **at least f + 1**
//!    propose the same v ≠ ⊥, *decide* v. Otherwise, if at least one proposes v ≠ ⊥, adopt
//!    it (x := v); otherwise flip a coin: x := a random bit. Go to round r + 1.
//!
//! "Wait for n − f" never blocks for ever: at least n − f processes are correct, and all of
//! them reach every round the waiting process reaches (a decided process stops taking part,
//! see below). Waiting for *more* could block: the f missing processes may have crashed.
//!
//! A process that decides broadcasts [`BenOrMsg::Decide`] and halts; a process that receives
//! `Decide` before deciding decides the same value, relays `Decide` to all and halts (the eager
//! reliable broadcast of CGR §3.3). Ben-Or's processes run on for ever after deciding, so that
//! the others still get n − f messages per round; halting with a reliably broadcast decision
//! keeps that liveness argument (a halted process that did not crash has told every correct
//! process to decide) and lets a run end.
//!
//! **The coin.** [`BenOr::new`] flips a *local* coin through [`Ctx::choose`]`(2)`: the
//! simulator answers from the process's seeded stream, the model checker tries both answers.
//! With local coins the correct processes must all flip the same value by luck before they
//! can agree, which takes an expected number of rounds exponential in n in the worst case.
//! [`BenOr::common_coin`]`(seed)` gives every process the *same* coin in round r, a bit of a
//! sequence fixed by `seed` in the configuration: it models a *trusted dealer* that
//! distributed the coin flips before the run (Rabin 1983; in practice threshold signatures
//! play the dealer). A common coin matches the value a proposal may have forced on the others
//! with probability 1/2 per round, so the expected number of rounds is constant. The sequence
//! is fixed before the run and the simulator's scheduler does not look at it; an adversary
//! that could read the coins in advance and schedule against them would defeat it.
//!
//! **Why it is safe.** In a round, each process reports once, so at most one value v gets
//! reports from more than n/2 processes: the non-⊥ proposals of a round all carry the same v.
//! *Agreement*: if p decides v in round r, it received f + 1 proposals for v; every process
//! that completes round r hears from n − f proposers, and (n − f) + (f + 1) > n, so it hears
//! one of them and adopts v (nobody proposes another value in round r). In round r + 1 every
//! report is v, every proposal is v, and every process that completes it decides v.
//! *Validity*: if every input is v, every report is v, every process proposes v and decides
//! it in round 1. (With mixed inputs both bits were proposed, so any decision is valid: a coin
//! is only flipped when no value was proposed, and then either bit is somebody's input.)
//! **Why it terminates** (with probability 1). In every round, whatever happened before, there
//! is a positive probability (at least 2^−n with local coins, 1/2 with a common coin) that
//! every correct process ends the round with the same estimate, and then all decide in the
//! next round.
//!
//! **Properties** ([`ben_or_properties`]): *agreement* ([`agreement`]: no two processes, crashed
//! or not, decide differently), *validity* ([`validity`]: a decision is some process's input),
//! *integrity* ([`integrity`]: a process decides at most once) and *termination*, judged at the
//! end of a finite run ([`termination`]: every correct process decided by the horizon; the
//! protocol only promises it with probability 1). On node states: [`decisions_agree`].
//!
//! **Canary.** [`BenOr::canary_decide_on_one`] decides on a *single* proposal for v instead of
//! f + 1: a process that decides can then be the only one to have seen v, the others flip
//! coins, and they may decide the other value.
//!
//! ```
//! use synod_core::check_all;
//! use synod_protocols::consensus::ben_or::{self, BenOr};
//! use synod_sim::{SimConfig, Simulation};
//!
//! let p = BenOr::new(); // inputs split 0/1, local coins
//! let out = Simulation::new(p.clone(), SimConfig::new(5, 3)).unwrap().run();
//! for r in check_all(&ben_or::ben_or_properties(&p), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! ```
//!
//! **Read:** Ben-Or, "Another advantage of free choice: completely asynchronous agreement
//! protocols", PODC 1983; Aguilera and Toueg, "Correctness proof of Ben-Or's randomized
//! consensus algorithm", Distributed Computing 25(5), 2012; Lynch, *Distributed Algorithms*,
//! ch. 21 (asynchronous network consensus: FLP and the randomized way around it); Attiya and
//! Welch, *Distributed Computing*, ch. 14 (randomization: the crash-failure algorithm, common
//! coins); Cachin, Guerraoui and Rodrigues (CGR), ch. 5 (randomized consensus, common coin).

use super::{assert_fits_node_set, NodeSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use synod_core::{stable_hash, Ctx, EventKind, NodeId, Property, Protocol, Trace, Verdict};

/// What each process proposes (its input bit), from the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BenOrInputs {
    /// Process i proposes `i mod 2 == 1`: inputs split 50/50 (one more `false` when n is odd).
    Split,
    /// Every process proposes the same bit.
    All(bool),
    /// Process i proposes `values[i mod values.len()]`.
    Explicit(Vec<bool>),
}

impl BenOrInputs {
    /// What `node` proposes.
    ///
    /// # Panics
    /// For an empty explicit list.
    pub fn value_of(&self, node: NodeId) -> bool {
        let i = node.index();
        match self {
            BenOrInputs::Split => i % 2 == 1,
            BenOrInputs::All(v) => *v,
            BenOrInputs::Explicit(v) => {
                assert!(!v.is_empty(), "BenOrInputs::Explicit: no values");
                v[i % v.len()]
            }
        }
    }

    /// Every bit proposed in a run of `n` processes.
    pub fn values(&self, n: usize) -> BTreeSet<bool> {
        NodeId::all(n).map(|p| self.value_of(p)).collect()
    }
}

/// Where the coin of a round comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BenOrCoin {
    /// Each process flips its own coin ([`Ctx::choose`]`(2)`).
    Local,
    /// Every process uses the same coin in round r: bit 0 of a stable hash of `(seed, r)`. Models
    /// a trusted dealer that handed out the sequence of coin flips before the run.
    Common {
        /// The seed of the shared sequence.
        seed: u64,
    },
}

/// Ben-Or's randomized binary consensus (see the [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BenOr {
    /// What each process proposes.
    pub inputs: BenOrInputs,
    /// Local or common coin.
    pub coin: BenOrCoin,
    /// The number of crashes tolerated; `None`: the largest with n > 2f, ⌊(n − 1)/2⌋.
    pub f: Option<usize>,
    /// CANARY when true: decide on a single proposal for v instead of f + 1.
    pub decide_on_one: bool,
}

impl Default for BenOr {
    fn default() -> BenOr {
        BenOr::new()
    }
}

impl BenOr {
    /// Ben-Or with inputs split 50/50 ([`BenOrInputs::Split`]), local coins and the largest f.
    pub fn new() -> BenOr {
        BenOr {
            inputs: BenOrInputs::Split,
            coin: BenOrCoin::Local,
            f: None,
            decide_on_one: false,
        }
    }

    /// Ben-Or with a *common coin* from a trusted dealer: in round r every process uses the
    /// same coin, fixed by `seed` ([`BenOrCoin::Common`]); inputs split 50/50.
    pub fn common_coin(seed: u64) -> BenOr {
        BenOr {
            coin: BenOrCoin::Common { seed },
            ..BenOr::new()
        }
    }

    /// CANARY: decide v on a single proposal for v (instead of f + 1). The deciding process may
    /// be the only one that saw v; the others flip coins and may decide the other value.
    pub fn canary_decide_on_one() -> BenOr {
        BenOr {
            decide_on_one: true,
            ..BenOr::new()
        }
    }

    /// The same protocol with inputs `inputs`.
    pub fn with_inputs(self, inputs: BenOrInputs) -> BenOr {
        BenOr { inputs, ..self }
    }

    /// The same protocol with the coin `coin`.
    pub fn with_coin(self, coin: BenOrCoin) -> BenOr {
        BenOr { coin, ..self }
    }

    /// The same protocol tolerating `f` crashes (a run needs n > 2f: checked when a process
    /// starts).
    pub fn with_f(self, f: usize) -> BenOr {
        BenOr { f: Some(f), ..self }
    }

    /// The number of crashes tolerated in a run of `n` processes.
    pub fn resilience(&self, n: usize) -> usize {
        self.f.unwrap_or(n.saturating_sub(1) / 2)
    }

    /// The coin of round `round`: the common one if configured, else a local flip.
    fn flip(&self, round: u64, ctx: &mut Ctx<'_, Self>) -> bool {
        match self.coin {
            BenOrCoin::Local => ctx.choose(2) == 1,
            BenOrCoin::Common { seed } => common_coin_bit(seed, round),
        }
    }
}

/// The common coin of round `round` for the dealer's sequence `seed`.
pub fn common_coin_bit(seed: u64, round: u64) -> bool {
    stable_hash(&(seed, round)) & 1 == 1
}

/// Ben-Or's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BenOrMsg {
    /// Phase 1: "my estimate in round `round` is `value`".
    Report {
        /// The round.
        round: u64,
        /// The estimate.
        value: bool,
    },
    /// Phase 2: "in round `round` more than n/2 reported `Some(v)`" (or `None`, ⊥: no majority
    /// among the reports I received).
    Propose {
        /// The round.
        round: u64,
        /// The proposal, `None` for ⊥.
        value: Option<bool>,
    },
    /// "Decide `value`" (decided in round `round`): the reliable broadcast of a decision.
    Decide {
        /// The decided bit.
        value: bool,
        /// The round in which the decision was first made.
        round: u64,
    },
}

/// What a process tells the layer above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BenOrInd {
    /// The process decided `value`. `round` is the round of the decision: the process's own
    /// round if it saw f + 1 proposals, or the round carried by the `Decide` it relayed.
    Decide {
        /// The decided bit.
        value: bool,
        /// The round of the decision.
        round: u64,
    },
}

/// Where a process is within its current round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BenOrPhase {
    /// Phase 1: waiting for n − f reports.
    Report,
    /// Phase 2: waiting for n − f proposals.
    Propose,
    /// Decided: halted (it ignores every message).
    Decided,
}

/// The messages of one round received so far: who reported which value, who proposed what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RoundTally {
    /// Who reported `false` (index 0) and `true` (index 1).
    pub reports: [NodeSet; 2],
    /// Who proposed `false` (0), `true` (1) and ⊥ (2).
    pub proposals: [NodeSet; 3],
}

impl RoundTally {
    /// How many processes reported.
    pub fn report_count(&self) -> usize {
        self.reports[0].len() + self.reports[1].len()
    }

    /// How many processes proposed.
    pub fn proposal_count(&self) -> usize {
        self.proposals.iter().map(|s| s.len()).sum()
    }

    /// Records `p`'s report; a second report from `p` is ignored.
    fn report(&mut self, p: NodeId, value: bool) {
        if !self.reports.iter().any(|s| s.contains(p)) {
            self.reports[usize::from(value)].insert(p);
        }
    }

    /// Records `p`'s proposal; a second proposal from `p` is ignored.
    fn propose(&mut self, p: NodeId, value: Option<bool>) {
        if !self.proposals.iter().any(|s| s.contains(p)) {
            self.proposals[value.map_or(2, usize::from)].insert(p);
        }
    }

    /// How many processes proposed `v`.
    pub fn proposed(&self, v: bool) -> usize {
        self.proposals[usize::from(v)].len()
    }
}

/// One process's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BenOrState {
    /// The current round (from 1).
    pub round: u64,
    /// Where the process is within the round.
    pub phase: BenOrPhase,
    /// The estimate x (the input until the process adopts or flips something else).
    pub estimate: bool,
    /// The messages received for the current round and later ones (reports of the current
    /// round are dropped once phase 2 starts).
    pub tallies: BTreeMap<u64, RoundTally>,
    /// The decision, once made, with its round.
    pub decided: Option<(bool, u64)>,
}

impl BenOr {
    /// Enters round `r` with estimate `x`: reports it to all, itself included.
    fn enter_round(&self, s: &mut BenOrState, r: u64, x: bool, ctx: &mut Ctx<'_, Self>) {
        s.round = r;
        s.estimate = x;
        s.phase = BenOrPhase::Report;
        s.tallies = s.tallies.split_off(&r);
        s.tallies.entry(r).or_default().report(ctx.id(), x);
        ctx.broadcast(BenOrMsg::Report { round: r, value: x });
    }

    /// Runs the round machine as far as the messages received allow.
    fn advance(&self, s: &mut BenOrState, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.n();
        let f = self.resilience(n);
        let need = n - f;
        loop {
            let r = s.round;
            let t = s.tallies.get(&r).copied().unwrap_or_default();
            match s.phase {
                BenOrPhase::Decided => return,
                BenOrPhase::Report => {
                    if t.report_count() < need {
                        return;
                    }
                    let value = [false, true]
                        .into_iter()
                        .find(|v| 2 * t.reports[usize::from(*v)].len() > n);
                    s.phase = BenOrPhase::Propose;
                    let tally = s.tallies.entry(r).or_default();
                    tally.reports = [NodeSet::EMPTY; 2];
                    tally.propose(ctx.id(), value);
                    ctx.broadcast(BenOrMsg::Propose { round: r, value });
                }
                BenOrPhase::Propose => {
                    if t.proposal_count() < need {
                        return;
                    }
                    let threshold = if self.decide_on_one { 1 } else { f + 1 };
                    if let Some(v) = [false, true]
                        .into_iter()
                        .find(|v| t.proposed(*v) >= threshold)
                    {
                        self.decide(s, v, r, ctx);
                        return;
                    }
                    let x = match [false, true].into_iter().find(|v| t.proposed(*v) >= 1) {
                        Some(v) => v,
                        None => self.flip(r, ctx),
                    };
                    self.enter_round(s, r + 1, x, ctx);
                }
            }
        }
    }

    /// Decides `v` (made in round `round`), tells everybody, and halts.
    fn decide(&self, s: &mut BenOrState, v: bool, round: u64, ctx: &mut Ctx<'_, Self>) {
        if s.decided.is_some() {
            return;
        }
        s.decided = Some((v, round));
        s.phase = BenOrPhase::Decided;
        s.tallies.clear();
        ctx.broadcast(BenOrMsg::Decide { value: v, round });
        ctx.indicate(BenOrInd::Decide { value: v, round });
    }
}

impl Protocol for BenOr {
    type Msg = BenOrMsg;
    type Timer = ();
    type Request = ();
    type Indication = BenOrInd;
    type State = BenOrState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> BenOrState {
        let n = ctx.n();
        assert_fits_node_set("BenOr", n);
        let f = self.resilience(n);
        assert!(
            n > 2 * f,
            "BenOr: tolerating {f} crashes needs more than {} processes, not {n}",
            2 * f
        );
        let mut s = BenOrState {
            round: 0,
            phase: BenOrPhase::Report,
            estimate: false,
            tallies: BTreeMap::new(),
            decided: None,
        };
        self.enter_round(&mut s, 1, self.inputs.value_of(ctx.id()), ctx);
        self.advance(&mut s, ctx);
        s
    }

    fn on_message(&self, s: &mut BenOrState, from: NodeId, msg: BenOrMsg, ctx: &mut Ctx<'_, Self>) {
        if from.index() >= ctx.n() || from == ctx.id() || s.decided.is_some() {
            return; // not a peer of this run, or halted
        }
        match msg {
            BenOrMsg::Decide { value, round } => {
                self.decide(s, value, round, ctx);
                return;
            }
            BenOrMsg::Report { round, value } => {
                let current = round == s.round && s.phase == BenOrPhase::Report;
                if !(current || round > s.round) {
                    return; // stale
                }
                s.tallies.entry(round).or_default().report(from, value);
            }
            BenOrMsg::Propose { round, value } => {
                if round < s.round {
                    return; // stale
                }
                s.tallies.entry(round).or_default().propose(from, value);
            }
        }
        self.advance(s, ctx);
    }

    fn on_timer(&self, _s: &mut BenOrState, _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, _s: &mut BenOrState, _req: (), _ctx: &mut Ctx<'_, Self>) {}

    fn invariants(&self, s: &BenOrState) {
        assert_eq!(
            s.decided.is_some(),
            s.phase == BenOrPhase::Decided,
            "BenOr: decided and phase disagree"
        );
        if s.decided.is_none() {
            assert!(s.round >= 1, "BenOr: running in round 0");
            assert!(
                s.tallies.keys().next().is_none_or(|r| *r >= s.round),
                "BenOr: a tally of a past round is kept"
            );
        } else {
            assert!(
                s.tallies.is_empty(),
                "BenOr: a halted process keeps tallies"
            );
        }
    }
}

// ---- Properties ---------------------------------------------------------------------------------

/// *Uniform agreement* (safety): no two processes, crashed or not, decide differently. The
/// violation is the first decision that differs from an earlier one.
pub fn agreement<P: Protocol<Indication = BenOrInd>>() -> Property<P> {
    Property::safety("agreement", |trace: &Trace<P>| {
        let mut first: Option<(bool, NodeId)> = None;
        for (i, _, node, BenOrInd::Decide { value, .. }) in trace.indications() {
            match first {
                None => first = Some((*value, node)),
                Some((v, by)) if v != *value => {
                    return Verdict::violated_at(
                        i,
                        format!(
                            "{node} decided {}, but {by} decided {}",
                            u8::from(*value),
                            u8::from(v)
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        Verdict::Holds
    })
}

/// *Validity* (safety): every decision is the input of some process under `inputs` (so when
/// all inputs are v, only v is decided).
pub fn validity<P: Protocol<Indication = BenOrInd>>(inputs: BenOrInputs) -> Property<P> {
    Property::safety("validity", move |trace: &Trace<P>| {
        let allowed = inputs.values(trace.facts.n);
        for (i, _, node, BenOrInd::Decide { value, .. }) in trace.indications() {
            if !allowed.contains(value) {
                return Verdict::violated_at(
                    i,
                    format!("{node} decided {}, which nobody proposed", u8::from(*value)),
                );
            }
        }
        Verdict::Holds
    })
}

/// *Integrity* (safety): no process decides twice.
pub fn integrity<P: Protocol<Indication = BenOrInd>>() -> Property<P> {
    super::decides_once()
}

/// *Termination by the horizon* (liveness, judged at the end of the run): every correct process
/// (one that never crashed) decided. Ben-Or promises termination with probability 1, not by a
/// given time, so a violation here on a short run is bad luck or a bug; a long horizon makes
/// the former vanishingly rare. Inconclusive when scheduled faults lasted until the end.
pub fn termination<P: Protocol<Indication = BenOrInd>>() -> Property<P> {
    Property::liveness("termination", |trace: &Trace<P>| {
        if trace.facts.faults_end >= trace.facts.end {
            return Verdict::Inconclusive {
                detail: "faults lasted until the end of the run".into(),
            };
        }
        let rounds = decision_rounds(trace);
        match NodeId::all(trace.facts.n)
            .find(|p| trace.facts.correct(*p) && rounds[p.index()].is_none())
        {
            Some(p) => Verdict::violated(format!("correct process {p} never decided")),
            None => Verdict::Holds,
        }
    })
}

/// Every property of `p`: [`agreement`], [`validity`] (of its inputs), [`integrity`],
/// [`termination`].
pub fn ben_or_properties(p: &BenOr) -> Vec<Property<BenOr>> {
    vec![
        agreement(),
        validity(p.inputs.clone()),
        integrity(),
        termination(),
    ]
}

/// The round of each process's decision (`None` for those that did not decide), from a run's
/// trace.
pub fn decision_rounds<P: Protocol<Indication = BenOrInd>>(trace: &Trace<P>) -> Vec<Option<u64>> {
    let mut out = vec![None; trace.facts.n];
    for e in &trace.events {
        if let EventKind::Indication {
            node,
            ind: BenOrInd::Decide { round, .. },
        } = &e.kind
        {
            out[node.index()].get_or_insert(*round);
        }
    }
    out
}

/// Agreement on a global state (`states[i]` is process i's state, `None` if it crashed): all
/// decided processes hold the same bit.
pub fn decisions_agree(states: &[Option<&BenOrState>]) -> bool {
    let mut seen = None;
    states
        .iter()
        .flatten()
        .filter_map(|s| s.decided.map(|(v, _)| v))
        .all(|v| *seen.get_or_insert(v) == v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Chooser, Effect, FirstChoice, Instant};

    /// Answers every choice with 1.
    struct Ones;
    impl Chooser for Ones {
        fn choose(&mut self, _n: usize) -> usize {
            1
        }
    }

    fn fresh(p: &BenOr, me: u32, n: usize) -> (BenOrState, Vec<Effect<BenOr>>) {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let s = p.init(&mut Ctx::new(
            NodeId(me),
            n,
            Instant::ZERO,
            &mut fx,
            &mut ch,
        ));
        p.invariants(&s);
        (s, fx)
    }

    fn deliver(
        p: &BenOr,
        s: &mut BenOrState,
        me: u32,
        n: usize,
        from: u32,
        msg: BenOrMsg,
        ch: &mut dyn Chooser,
    ) -> Vec<Effect<BenOr>> {
        let mut fx = Vec::new();
        let mut ctx = Ctx::new(NodeId(me), n, Instant::ZERO, &mut fx, ch);
        p.on_message(s, NodeId(from), msg, &mut ctx);
        p.invariants(s);
        fx
    }

    fn sent(fx: &[Effect<BenOr>]) -> Vec<BenOrMsg> {
        let mut out: Vec<BenOrMsg> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Send { msg, .. } => Some(*msg),
                _ => None,
            })
            .collect();
        out.dedup();
        out
    }

    #[test]
    fn a_round_goes_report_propose_decide() {
        // n = 5, f = 2: wait for 3 reports, 3 proposals; decide on 3 = f + 1 proposals.
        let p = BenOr::new().with_inputs(BenOrInputs::All(true));
        let (mut s, fx) = fresh(&p, 0, 5);
        assert_eq!(
            sent(&fx),
            vec![BenOrMsg::Report {
                round: 1,
                value: true
            }]
        );
        let report = BenOrMsg::Report {
            round: 1,
            value: true,
        };
        assert!(deliver(&p, &mut s, 0, 5, 1, report, &mut FirstChoice).is_empty());
        // A duplicate does not count twice.
        assert!(deliver(&p, &mut s, 0, 5, 1, report, &mut FirstChoice).is_empty());
        let fx = deliver(&p, &mut s, 0, 5, 2, report, &mut FirstChoice);
        let prop = BenOrMsg::Propose {
            round: 1,
            value: Some(true),
        };
        assert_eq!(sent(&fx), vec![prop]);
        assert_eq!(s.phase, BenOrPhase::Propose);
        // A proposal of a later round is kept for later.
        let later = BenOrMsg::Propose {
            round: 2,
            value: None,
        };
        deliver(&p, &mut s, 0, 5, 4, later, &mut FirstChoice);
        assert!(s.tallies.contains_key(&2));
        deliver(&p, &mut s, 0, 5, 1, prop, &mut FirstChoice);
        let fx = deliver(&p, &mut s, 0, 5, 3, prop, &mut FirstChoice);
        assert_eq!(s.decided, Some((true, 1)));
        assert!(fx.contains(&Effect::Indicate(BenOrInd::Decide {
            value: true,
            round: 1
        })));
        assert_eq!(
            sent(&fx),
            vec![BenOrMsg::Decide {
                value: true,
                round: 1
            }]
        );
        // Halted: nothing more.
        assert!(deliver(&p, &mut s, 0, 5, 2, prop, &mut FirstChoice).is_empty());
    }

    #[test]
    fn no_majority_proposes_bottom_and_a_lone_proposal_is_adopted_not_decided() {
        let p = BenOr::new();
        // n0 proposes false (Split), hears one true report: 1 + 1 of 3 needed, no majority of 5.
        let (mut s, _) = fresh(&p, 0, 5);
        let t = BenOrMsg::Report {
            round: 1,
            value: true,
        };
        deliver(&p, &mut s, 0, 5, 1, t, &mut FirstChoice);
        let fx = deliver(&p, &mut s, 0, 5, 3, t, &mut FirstChoice);
        assert_eq!(
            sent(&fx),
            vec![BenOrMsg::Propose {
                round: 1,
                value: None
            }]
        );
        // Proposals ⊥ (own), true, ⊥: one proposal for true is adopted, not decided.
        let bot = BenOrMsg::Propose {
            round: 1,
            value: None,
        };
        let one = BenOrMsg::Propose {
            round: 1,
            value: Some(true),
        };
        deliver(&p, &mut s, 0, 5, 1, one, &mut FirstChoice);
        let fx = deliver(&p, &mut s, 0, 5, 2, bot, &mut FirstChoice);
        assert_eq!((s.round, s.estimate, s.decided), (2, true, None));
        assert_eq!(
            sent(&fx),
            vec![BenOrMsg::Report {
                round: 2,
                value: true
            }]
        );

        // The canary decides on that single proposal.
        let canary = BenOr::canary_decide_on_one();
        let (mut c, _) = fresh(&canary, 0, 5);
        deliver(&canary, &mut c, 0, 5, 1, t, &mut FirstChoice);
        deliver(&canary, &mut c, 0, 5, 3, t, &mut FirstChoice);
        deliver(&canary, &mut c, 0, 5, 1, one, &mut FirstChoice);
        deliver(&canary, &mut c, 0, 5, 2, bot, &mut FirstChoice);
        assert_eq!(c.decided, Some((true, 1)));
    }

    #[test]
    fn all_bottom_flips_the_coin() {
        let bot = BenOrMsg::Propose {
            round: 1,
            value: None,
        };
        let t = BenOrMsg::Report {
            round: 1,
            value: true,
        };
        // Local coin: the chooser's answer becomes the estimate.
        for (answer, want) in [(false, false), (true, true)] {
            let p = BenOr::new();
            let (mut s, _) = fresh(&p, 0, 3);
            // n = 3, f = 1: 2 reports (false, true): no majority, ⊥.
            deliver(&p, &mut s, 0, 3, 1, t, &mut FirstChoice);
            let mut ones = Ones;
            let ch: &mut dyn Chooser = if answer { &mut ones } else { &mut FirstChoice };
            deliver(&p, &mut s, 0, 3, 2, bot, ch);
            assert_eq!((s.round, s.estimate), (2, want));
        }
        // Common coin: the dealer's bit, whatever the chooser says.
        let p = BenOr::common_coin(42);
        let (mut s, _) = fresh(&p, 0, 3);
        deliver(&p, &mut s, 0, 3, 1, t, &mut Ones);
        deliver(&p, &mut s, 0, 3, 2, bot, &mut Ones);
        assert_eq!((s.round, s.estimate), (2, common_coin_bit(42, 1)));
    }

    #[test]
    fn a_decide_message_is_relayed_and_ends_the_process() {
        let p = BenOr::new();
        let (mut s, _) = fresh(&p, 2, 3);
        let fx = deliver(
            &p,
            &mut s,
            2,
            3,
            0,
            BenOrMsg::Decide {
                value: false,
                round: 7,
            },
            &mut FirstChoice,
        );
        assert_eq!(s.decided, Some((false, 7)));
        assert_eq!(fx.len(), 3, "relay to n0 and n1, then indicate: {fx:?}");
    }

    #[test]
    fn one_process_decides_its_input_alone() {
        let p = BenOr::new().with_inputs(BenOrInputs::All(true));
        let (s, fx) = fresh(&p, 0, 1);
        assert_eq!(s.decided, Some((true, 1)));
        assert_eq!(
            fx,
            vec![Effect::Indicate(BenOrInd::Decide {
                value: true,
                round: 1
            })]
        );
    }

    #[test]
    #[should_panic(expected = "needs more than")]
    fn too_many_crashes_is_a_configuration_error() {
        fresh(&BenOr::new().with_f(2), 0, 4);
    }

    #[test]
    fn agreement_on_states() {
        let (a, _) = fresh(&BenOr::new().with_inputs(BenOrInputs::All(true)), 0, 1);
        let (b, _) = fresh(&BenOr::new().with_inputs(BenOrInputs::All(false)), 0, 1);
        let (c, _) = fresh(&BenOr::new(), 0, 3);
        assert!(decisions_agree(&[Some(&a), Some(&c), None]));
        assert!(!decisions_agree(&[Some(&a), Some(&b)]));
    }
}
