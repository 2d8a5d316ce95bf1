//! An exhaustive explorer for the synchronous round model with crash-stop failures.
//!
//! The general checker ([`crate::check`]) abstracts time away: any message in flight may be
//! delivered next, so it cannot say "every message sent in round r arrives in round r", which
//! is the whole point of the synchronous model and of results such as FloodSet's f + 1 rounds.
//! This module explores a [`RoundProtocol`] in lockstep instead: the only nondeterminism is the
//! adversary's (who crashes, when, and whom a crashing process still reaches) and the answers to
//! [`RoundCtx::choose`].
//!
//! # The model
//!
//! n processes take rounds in lockstep. The call `round(k)` of a process receives every message
//! sent to it by the calls `round(k − 1)` (sorted by sender, each sender's messages in send
//! order, as under [`synod_core::Lockstep`]), computes, records indications and sends its
//! round-k messages. A process that returns [`Step::Halt`] still sends what that call sent, then
//! takes no more rounds (it stays correct and silent).
//!
//! The adversary may crash up to `max_crashes` processes in total. In round k any process that
//! took the step `round(k)` and has not crashed may crash *while sending*: its round-k messages
//! reach an arbitrary subset of their recipients (every subset is explored, from none to all;
//! all of one sender's messages to one recipient in one round travel together), and it takes no
//! further step. Its step `round(k)` happened, so what it indicated there stands (a process that
//! decides and then crashes in the same round has decided, which is what *uniform* agreement
//! speaks about). Recipients that crash in the same round or have halted are not enumerated: they
//! read nothing more.
//!
//! Random choices: a process's step is re-run with every answer to each of its
//! [`RoundCtx::choose`] calls (depth-first over the sequence of answers, as the general checker
//! does), so a protocol that chooses is explored under every outcome. Handlers must be
//! deterministic given their answers (the [driver contract](synod_core::Protocol#driver-contract)).
//! Each process's `ctx.now()` is `round` seconds.
//!
//! # Byzantine processes
//!
//! [`RoundExplorer::byzantine()`] names a set of *traitors* and a *forgery* function. A traitor
//! runs the protocol's own (honest) code, which yields the messages it would send; the explorer
//! then lets the adversary replace each of them, towards each loyal recipient separately, by any
//! of the candidates `forge(round, from, to, &honest)` returns: `None` (the message is not
//! sent) or `Some(m)` (m is sent instead). Every combination of candidates for every loyal
//! recipient is explored, independently per recipient (a traitor may tell every recipient
//! something different), as are the choices of all traitors together (they collude). An empty
//! candidate list stands for the honest message alone.
//!
//! What this covers is up to the forgery function: for a protocol whose recipients accept, from
//! a given sender in a given round, at most one message per "slot" (a path of a relay tree, a
//! position of a vector) and whose honest senders fill every slot, offering every value of the
//! finite domain plus `None` for each honest message explores *every* Byzantine behaviour, since
//! any other message would be ignored or duplicate a slot. Messages between traitors are
//! delivered as the honest code sent them: the coalition needs no lies among itself, and a
//! traitor's own state matters only through the honest messages handed to `forge` (make the
//! candidates depend only on their shape, not their contents, and it does not matter at all).
//! Traitors are not crashed by the crash adversary (silence is one of their choices), the crash
//! budget applies to loyal processes, and properties see no state and no indications of a
//! traitor ([`RoundView::state`], [`RoundView::indications`]): they speak of loyal processes.
//! Counterexamples list, per round, what each traitor sent each loyal recipient next to what its
//! honest code would have sent ([`RoundStep::forged`]).
//!
//! # The search
//!
//! Breadth-first, one round at a time. A global state is what holds *after* every live
//! process's computation of a round: each process's status, state, accumulated indications (with
//! the round of each) and the messages it just sent. Taking the state there (rather than before
//! the computation, with the inboxes) merges every adversary choice that leads to the same
//! computations: for FloodSet many different partial deliveries give the same sets.
//! States are fingerprinted with [`StableHasher`] (a crashed process contributes only its
//! indications; when it crashed or halted is not part of the state), and each round's distinct
//! states are kept in a [`BTreeMap`] from fingerprint to frontier slot, so the exploration, its
//! counts and the counterexample it reports are the same on every run. The number of
//! *executions* is counted exactly without enumerating them: each state carries how many
//! adversary/choice sequences reach it, summed when paths merge.
//!
//! Within one state's expansion, a process's next computation depends only on which senders
//! reach it, so it is computed once per (process, set of senders reaching it) and shared by every
//! crash pattern that yields it.
//!
//! *Symmetry* ([`RoundExplorer::symmetric()`]): when node ids are interchangeable, states that
//! differ by a renaming of the processes are merged. The fingerprint is then the hash of the
//! state renamed so that processes appear in the order of a hash of their own part (recipients
//! of messages renamed too), so two states share it only if one is a renaming of the other
//! (up to hash collisions): sound, and exactly canonical for protocols that broadcast. The
//! states kept are real ones and the counterexample is a real run. It is *your* promise that
//! ids are interchangeable: states, messages and indications name no node, a process's step
//! does not depend on its id or on who sent what (only on the multiset of messages received),
//! and the properties checked do not single out a node. FloodSet qualifies; LCR-style
//! protocols, whose ids are their inputs, do not.
//!
//! # Properties
//!
//! [`RoundProperty::always()`] is judged on every state (after every round's computation),
//! [`RoundProperty::at_end()`] on final states: every process halted or crashed, or the round
//! bound reached. Each sees a [`RoundView`]: per process, whether it crashed or halted, its state
//! (not for crashed processes) and its indications with their rounds. The search stops at the
//! first violation (the first in breadth-first order, so with the fewest rounds) and reports it
//! as a [`RoundCounterexample`]: the initial choices, then for every round who crashed and which
//! recipients still got its messages, and the indications of every process.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use synod_core::{
    Chooser, Ctx, Effect, Instant, Lockstep, NodeId, RoundCtx, RoundMsg, RoundProtocol,
    StableHasher, Step,
};

/// The largest number of processes the explorer handles (sets of processes are 64-bit masks).
pub const MAX_NODES: usize = 64;

/// A process's status in a global state, with the round it changed (informative: states that
/// differ only in *when* processes crashed or halted are merged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Takes the next round.
    Running,
    /// Returned [`Step::Halt`] from its step of `round`.
    Halted {
        /// The round it halted in.
        round: u32,
    },
    /// Crashed while sending its messages of `round`.
    Crashed {
        /// The round it crashed in.
        round: u32,
    },
}

impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeStatus::Running => write!(f, "running"),
            NodeStatus::Halted { round } => write!(f, "halted in round {round}"),
            NodeStatus::Crashed { round } => write!(f, "crashed in round {round}"),
        }
    }
}

/// A property judged on the explorer's states.
pub struct RoundProperty<R: RoundProtocol> {
    /// Its name, as reported.
    pub name: String,
    /// True: judged only on final states; false: on every state.
    pub at_end: bool,
    check: Arc<CheckFn<R>>,
}

/// A property's judgement: `Err(why)` when it is broken.
type CheckFn<R> = dyn Fn(&RoundView<'_, R>) -> Result<(), String> + Send + Sync;

impl<R: RoundProtocol> Clone for RoundProperty<R> {
    fn clone(&self) -> Self {
        RoundProperty {
            name: self.name.clone(),
            at_end: self.at_end,
            check: Arc::clone(&self.check),
        }
    }
}

impl<R: RoundProtocol> fmt::Debug for RoundProperty<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoundProperty")
            .field("name", &self.name)
            .field("at_end", &self.at_end)
            .finish_non_exhaustive()
    }
}

impl<R: RoundProtocol> RoundProperty<R> {
    /// A safety property, judged on every state: `check` returns `Err(why)` when it is broken.
    pub fn always(
        name: impl Into<String>,
        check: impl Fn(&RoundView<'_, R>) -> Result<(), String> + Send + Sync + 'static,
    ) -> RoundProperty<R> {
        RoundProperty {
            name: name.into(),
            at_end: false,
            check: Arc::new(check),
        }
    }

    /// A property of how runs end (termination, a decision deadline), judged on final states.
    pub fn at_end(
        name: impl Into<String>,
        check: impl Fn(&RoundView<'_, R>) -> Result<(), String> + Send + Sync + 'static,
    ) -> RoundProperty<R> {
        RoundProperty {
            name: name.into(),
            at_end: true,
            check: Arc::new(check),
        }
    }

    /// Judges `view`.
    pub fn judge(&self, view: &RoundView<'_, R>) -> Result<(), String> {
        (self.check)(view)
    }
}

/// What a property sees of a global state.
pub struct RoundView<'a, R: RoundProtocol> {
    round: u32,
    is_final: bool,
    nodes: &'a [Arc<Slot<R>>],
}

impl<R: RoundProtocol> RoundView<'_, R> {
    /// The round whose computation the state follows.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// True if no process takes another round (all halted or crashed, or the bound reached).
    pub fn is_final(&self) -> bool {
        self.is_final
    }

    /// The number of processes.
    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    /// True if `p` crashed.
    pub fn crashed(&self, p: NodeId) -> bool {
        matches!(self.nodes[p.index()].status, NodeStatus::Crashed { .. })
    }

    /// True if `p` halted.
    pub fn halted(&self, p: NodeId) -> bool {
        matches!(self.nodes[p.index()].status, NodeStatus::Halted { .. })
    }

    /// How many processes crashed so far (at a final state: f', the number of actual crashes).
    pub fn crashes(&self) -> usize {
        self.nodes
            .iter()
            .filter(|s| matches!(s.status, NodeStatus::Crashed { .. }))
            .count()
    }

    /// `p`'s state after its last step, or `None` if it crashed or is a traitor
    /// ([`RoundExplorer::byzantine()`]: a traitor's state is no more than what its honest code
    /// would hold).
    pub fn state(&self, p: NodeId) -> Option<&R::State> {
        let s = &self.nodes[p.index()];
        (!matches!(s.status, NodeStatus::Crashed { .. }) && !s.traitor).then_some(&s.state)
    }

    /// Everything `p` indicated so far, with the round of each, in order (nothing for a
    /// traitor: what its honest code indicated means nothing).
    pub fn indications(&self, p: NodeId) -> &[(u32, R::Indication)] {
        let s = &self.nodes[p.index()];
        if s.traitor {
            &[]
        } else {
            &s.inds
        }
    }

    /// True if `p` is one of the traitors of [`RoundExplorer::byzantine()`].
    pub fn traitor(&self, p: NodeId) -> bool {
        self.nodes[p.index()].traitor
    }

    /// True if `p` is loyal: not a traitor (it may still have crashed).
    pub fn loyal(&self, p: NodeId) -> bool {
        !self.traitor(p)
    }
}

/// A crash in a counterexample: `node` crashed while sending its messages of the round, and only
/// the recipients in `reached` got them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Crash {
    /// The process that crashed.
    pub node: NodeId,
    /// The recipients its last messages reached (possibly none).
    pub reached: Vec<NodeId>,
}

/// The answers a process's step got to its [`RoundCtx::choose`] calls, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choices {
    /// The process.
    pub node: NodeId,
    /// Its answers, in the order asked.
    pub answers: Vec<usize>,
}

/// One round of a counterexample: the fate of the messages of round `round`, then the choices of
/// the steps of round `round + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoundStep {
    /// The round whose messages are delivered.
    pub round: u32,
    /// Who crashed while sending them (every other message arrived).
    pub crashes: Vec<Crash>,
    /// Answers to `choose` in the steps of round `round + 1` (processes that chose nothing are
    /// left out).
    pub choices: Vec<Choices>,
    /// What the traitors sent the loyal recipients in place of their honest messages of round
    /// `round` (empty without traitors).
    pub forged: Vec<Forgery>,
}

/// One message of a traitor in a counterexample: what its honest code sent `to`, and what the
/// adversary made it send instead. Messages are shown with their `Debug` form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forgery {
    /// The traitor.
    pub from: NodeId,
    /// The loyal recipient.
    pub to: NodeId,
    /// The message its honest code sent.
    pub honest: String,
    /// The message sent instead, or `None` if nothing was.
    pub sent: Option<String>,
}

impl fmt::Display for Forgery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sent {
            Some(m) if *m == self.honest => {
                write!(f, "traitor {} tells {} {m} (as honest)", self.from, self.to)
            }
            Some(m) => write!(
                f,
                "traitor {} tells {} {m} (honest: {})",
                self.from, self.to, self.honest
            ),
            None => write!(
                f,
                "traitor {} sends {} nothing (honest: {})",
                self.from, self.to, self.honest
            ),
        }
    }
}

/// How one process ended in a counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeOutcome<I> {
    /// The process.
    pub node: NodeId,
    /// Running, halted or crashed.
    pub status: NodeStatus,
    /// What it indicated, with the round of each (nothing for a traitor).
    pub indications: Vec<(u32, I)>,
    /// True if it is a traitor ([`RoundExplorer::byzantine()`]).
    pub traitor: bool,
}

/// A run of the round model that breaks a property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoundCounterexample<I> {
    /// The property broken.
    pub property: String,
    /// Why (the property's message).
    pub message: String,
    /// The round whose computation produced the violating state.
    pub round: u32,
    /// Answers to `choose` in the steps of round 0.
    pub initial_choices: Vec<Choices>,
    /// Rounds 0 to `round - 1`: crashes and partial deliveries, then choices.
    pub steps: Vec<RoundStep>,
    /// Every process at the violating state.
    pub nodes: Vec<NodeOutcome<I>>,
}

fn fmt_choices(f: &mut fmt::Formatter<'_>, round: u32, cs: &[Choices]) -> fmt::Result {
    for c in cs {
        writeln!(f, "  round {round}: {} chose {:?}", c.node, c.answers)?;
    }
    Ok(())
}

impl<I: fmt::Debug> fmt::Display for RoundCounterexample<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "`{}` violated after round {}: {}",
            self.property, self.round, self.message
        )?;
        fmt_choices(f, 0, &self.initial_choices)?;
        for s in &self.steps {
            if s.crashes.is_empty() && s.forged.is_empty() {
                writeln!(f, "  round {}: no crash", s.round)?;
            }
            for c in &s.crashes {
                let reached: Vec<String> = c.reached.iter().map(|p| p.to_string()).collect();
                writeln!(
                    f,
                    "  round {}: {} crashes; its messages reach {}",
                    s.round,
                    c.node,
                    if reached.is_empty() {
                        "nobody".to_string()
                    } else {
                        format!("only {{{}}}", reached.join(", "))
                    }
                )?;
            }
            for g in &s.forged {
                writeln!(f, "  round {}: {g}", s.round)?;
            }
            fmt_choices(f, s.round + 1, &s.choices)?;
        }
        for o in &self.nodes {
            let traitor = if o.traitor { " (traitor)" } else { "" };
            write!(f, "  {}{traitor}: {}", o.node, o.status)?;
            for (r, i) in &o.indications {
                write!(f, "; {i:?} in round {r}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The counts of one round of the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LayerStats {
    /// The round whose computation the states follow.
    pub round: u32,
    /// Distinct states after it.
    pub states: u64,
    /// Successors generated to reach them (with duplicates).
    pub transitions: u64,
}

/// What an exploration found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoundReport<I> {
    /// The number of processes.
    pub n: usize,
    /// The crash budget.
    pub max_crashes: usize,
    /// The traitors whose messages were forged (empty without [`RoundExplorer::byzantine()`]).
    pub traitors: Vec<NodeId>,
    /// The last round explored.
    pub max_round: u32,
    /// True if symmetric states were merged.
    pub symmetric: bool,
    /// Distinct states visited, over all rounds.
    pub states: u64,
    /// Successors generated (with duplicates).
    pub transitions: u64,
    /// Distinct final states.
    pub final_states: u64,
    /// Complete executions (adversary and choice sequences up to a final state), counted with
    /// multiplicity; only those reached before a stop if the search stopped early.
    pub executions: u128,
    /// Per-round counts.
    pub layers: Vec<LayerStats>,
    /// True if every execution was explored (no violation stopped the search).
    pub complete: bool,
    /// The first violation found, if any.
    pub violation: Option<RoundCounterexample<I>>,
}

impl<I> RoundReport<I> {
    /// True if no property was violated.
    pub fn holds(&self) -> bool {
        self.violation.is_none()
    }
}

impl<I: fmt::Debug> fmt::Display for RoundReport<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "round model: n={} crashes≤{}{} rounds≤{}{}: {} states, {} transitions, {} final states, {} executions, {}",
            self.n,
            self.max_crashes,
            if self.traitors.is_empty() {
                String::new()
            } else {
                let t: Vec<String> = self.traitors.iter().map(|p| p.to_string()).collect();
                format!(" traitors {{{}}}", t.join(", "))
            },
            self.max_round,
            if self.symmetric { " (symmetry)" } else { "" },
            self.states,
            self.transitions,
            self.final_states,
            self.executions,
            if self.complete { "complete" } else { "stopped at a violation" }
        )?;
        match &self.violation {
            None => writeln!(f, "no violation"),
            Some(c) => write!(f, "{c}"),
        }
    }
}

/// The explorer: a round protocol, the number of processes, the adversary's crash budget, the
/// last round and the properties.
pub struct RoundExplorer<R: RoundProtocol> {
    /// The algorithm.
    pub protocol: R,
    /// The number of processes (at most [`MAX_NODES`]).
    pub n: usize,
    /// How many processes may crash, in total.
    pub max_crashes: usize,
    /// The last round whose step is taken: states after it are final. Default 64.
    pub max_round: u32,
    /// Merge states that differ by a renaming of the processes (see the
    /// [module documentation](self) for what this asks of the protocol).
    pub symmetric: bool,
    /// The properties judged.
    pub properties: Vec<RoundProperty<R>>,
    /// Byzantine processes and the messages they may send, if any (see
    /// [`RoundExplorer::byzantine()`]).
    pub byzantine: Option<Byzantine<R>>,
}

/// Which messages a traitor may send in place of one of its honest messages `M`:
/// `forge(round, from, to, &honest)` lists the candidates, `None` for "no message".
type ForgeFn<M> = dyn Fn(u32, NodeId, NodeId, &M) -> Vec<Option<M>> + Send + Sync;

/// The Byzantine adversary of a [`RoundExplorer`]: the traitors and the candidates for each of
/// their messages (see the [module documentation](self#byzantine-processes)).
pub struct Byzantine<R: RoundProtocol> {
    /// The traitors, in id order, without repetition.
    pub traitors: Vec<NodeId>,
    forge: Arc<ForgeFn<R::Msg>>,
}

impl<R: RoundProtocol> Byzantine<R> {
    /// Traitors `traitors`, whose every honest message `honest` of round `round` from `from` to a
    /// loyal `to` may be replaced by any of `forge(round, from, to, &honest)` (`None`: nothing
    /// is sent; an empty list: the honest message only).
    pub fn new(
        traitors: impl IntoIterator<Item = NodeId>,
        forge: impl Fn(u32, NodeId, NodeId, &R::Msg) -> Vec<Option<R::Msg>> + Send + Sync + 'static,
    ) -> Byzantine<R> {
        let mut traitors: Vec<NodeId> = traitors.into_iter().collect();
        traitors.sort_unstable();
        traitors.dedup();
        Byzantine {
            traitors,
            forge: Arc::new(forge),
        }
    }

    /// The candidates for the honest message `honest` of round `round` from `from` to `to`.
    pub fn candidates(
        &self,
        round: u32,
        from: NodeId,
        to: NodeId,
        honest: &R::Msg,
    ) -> Vec<Option<R::Msg>> {
        let c = (self.forge)(round, from, to, honest);
        if c.is_empty() {
            vec![Some(honest.clone())]
        } else {
            c
        }
    }
}

impl<R: RoundProtocol> Clone for Byzantine<R> {
    fn clone(&self) -> Self {
        Byzantine {
            traitors: self.traitors.clone(),
            forge: Arc::clone(&self.forge),
        }
    }
}

impl<R: RoundProtocol> fmt::Debug for Byzantine<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Byzantine")
            .field("traitors", &self.traitors)
            .finish_non_exhaustive()
    }
}

/// A traitor's message as a recipient got it: (traitor, honest message, message sent or none).
type Forged<M> = (NodeId, M, Option<M>);

/// A process's part of a global state.
struct Slot<R: RoundProtocol> {
    status: NodeStatus,
    /// True for a traitor (part of the hash, so a traitor is never merged with a loyal process
    /// under symmetry).
    traitor: bool,
    /// Its state after its last step (kept for crashed processes, not part of their hash).
    state: R::State,
    /// The messages of its last step, if they are still to be delivered.
    out: Vec<(NodeId, R::Msg)>,
    /// The stable hash of each message of `out`.
    out_hashes: Vec<u64>,
    /// Its indications, with rounds.
    inds: Vec<(u32, R::Indication)>,
    /// The hash of the status kind, state (unless crashed) and indications.
    base: u64,
    /// `base` and the multiset of `out_hashes`: the rank used to order processes under symmetry.
    summary: u64,
    /// The answers its last step got (for counterexamples).
    answers: Vec<usize>,
    /// What the traitors sent it in place of their honest messages before its last step (for
    /// counterexamples; not part of the hash).
    forged: Vec<Forged<R::Msg>>,
}

/// The status kinds hashed: when a process crashed or halted is not part of the state, but
/// whether it halted in the round just taken (its messages are still to be delivered and it may
/// still crash while sending them) is.
fn status_tag(status: NodeStatus, round: u32) -> u8 {
    match status {
        NodeStatus::Running => 0,
        NodeStatus::Halted { round: r } if r == round => 1,
        NodeStatus::Halted { .. } => 2,
        NodeStatus::Crashed { .. } => 3,
    }
}

impl<R: RoundProtocol> Slot<R> {
    fn new(
        status: NodeStatus,
        traitor: bool,
        round: u32,
        state: R::State,
        out: Vec<(NodeId, R::Msg)>,
        inds: Vec<(u32, R::Indication)>,
        answers: Vec<usize>,
    ) -> Slot<R> {
        let tag = status_tag(status, round);
        let mut h = StableHasher::default();
        tag.hash(&mut h);
        if traitor {
            // Only for traitors, so runs without any hash as before.
            0xB7u8.hash(&mut h);
        }
        if tag != 3 {
            state.hash(&mut h);
        }
        inds.hash(&mut h);
        let base = h.finish();
        let out_hashes: Vec<u64> = out
            .iter()
            .map(|(_, m)| {
                let mut h = StableHasher::default();
                m.hash(&mut h);
                h.finish()
            })
            .collect();
        let mut sorted = out_hashes.clone();
        sorted.sort_unstable();
        let mut h = StableHasher::with_seed(base);
        sorted.hash(&mut h);
        let summary = h.finish();
        Slot {
            status,
            traitor,
            state,
            out,
            out_hashes,
            inds,
            base,
            summary,
            answers,
            forged: Vec::new(),
        }
    }

    /// This process after the delivery phase of `round`, when it did not take the next step:
    /// crashed now, or halted earlier (its messages gone).
    fn settled(&self, status: NodeStatus, round: u32) -> Slot<R> {
        Slot::new(
            status,
            self.traitor,
            round,
            self.state.clone(),
            Vec::new(),
            self.inds.clone(),
            Vec::new(),
        )
    }
}

/// What [`RoundExplorer::expand`] calls with each successor and a way to describe the step.
type Visit<'v, R, T> = dyn FnMut(Vec<Arc<Slot<R>>>, &dyn Fn() -> StepDesc<R>) -> Option<T> + 'v;

/// A step of a counterexample as the search keeps it: the [`RoundStep`] without its
/// forgeries, and the forgeries raw (recipient, then what it got), rendered only if reported.
struct StepDesc<R: RoundProtocol> {
    step: RoundStep,
    forged: Vec<(NodeId, Forged<R::Msg>)>,
}

/// A process's possible next steps (one per sequence of answers to its choices).
type Branches<R> = Rc<Vec<Arc<Slot<R>>>>;

/// A global state in the frontier.
struct GState<R: RoundProtocol> {
    nodes: Vec<Arc<Slot<R>>>,
    /// How many adversary/choice sequences reach it.
    paths: u128,
    trail: Rc<Trail<R>>,
    is_final: bool,
}

/// The steps that led to a state, shared with its ancestors.
enum Trail<R: RoundProtocol> {
    /// The answers to `choose` in the steps of round 0.
    Init(Vec<Choices>),
    /// A round after the parent's.
    Round(Rc<Trail<R>>, StepDesc<R>),
}

/// Advances an odometer (last digit fastest) whose digit `k` ranges over `0..len(k)`; false
/// once it wrapped around to all zeros.
fn advance(digits: &mut [usize], len: impl Fn(usize) -> usize) -> bool {
    for k in (0..digits.len()).rev() {
        digits[k] += 1;
        if digits[k] < len(k) {
            return true;
        }
        digits[k] = 0;
    }
    false
}

/// Answers `choose` from a prefix of answers, then with 0, and records what was asked.
struct Replay<'a> {
    prefix: &'a [usize],
    answers: Vec<usize>,
    arities: Vec<usize>,
}

impl Chooser for Replay<'_> {
    fn choose(&mut self, n: usize) -> usize {
        let i = self.answers.len();
        let a = self.prefix.get(i).copied().unwrap_or(0);
        assert!(
            a < n,
            "a round step asked choose({n}) where it had asked for more answers before: \
             round steps must be deterministic given their answers"
        );
        self.answers.push(a);
        self.arities.push(n);
        a
    }
}

/// Calls `f` with every `k`-element subset of `items`, in lexicographic order of positions.
fn combinations(items: &[usize], k: usize, mut f: impl FnMut(&[usize])) {
    fn go(
        items: &[usize],
        k: usize,
        start: usize,
        cur: &mut Vec<usize>,
        f: &mut dyn FnMut(&[usize]),
    ) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in start..items.len() {
            if items.len() - i < k - cur.len() {
                break;
            }
            cur.push(items[i]);
            go(items, k, i + 1, cur, f);
            cur.pop();
        }
    }
    go(items, k, 0, &mut Vec::with_capacity(k), &mut f);
}

fn bit(i: usize) -> u64 {
    1u64 << i
}

impl<R: RoundProtocol> RoundExplorer<R> {
    /// Explores `protocol` on `n` processes with no crashes, up to round 64, no properties.
    ///
    /// # Panics
    /// If `n` is 0 or above [`MAX_NODES`].
    pub fn new(protocol: R, n: usize) -> RoundExplorer<R> {
        assert!(
            (1..=MAX_NODES).contains(&n),
            "the round explorer handles 1 to {MAX_NODES} processes, not {n}"
        );
        RoundExplorer {
            protocol,
            n,
            max_crashes: 0,
            max_round: 64,
            symmetric: false,
            properties: Vec::new(),
            byzantine: None,
        }
    }

    /// Lets the adversary crash up to `f` processes.
    pub fn crashes(mut self, f: usize) -> Self {
        self.max_crashes = f;
        self
    }

    /// Takes the steps of rounds 0 to `round` at most.
    pub fn max_round(mut self, round: u32) -> Self {
        self.max_round = round;
        self
    }

    /// Merges states that differ by a renaming of the processes (see the
    /// [module documentation](self)).
    pub fn symmetric(mut self, on: bool) -> Self {
        self.symmetric = on;
        self
    }

    /// Adds a property.
    pub fn property(mut self, p: RoundProperty<R>) -> Self {
        self.properties.push(p);
        self
    }

    /// Makes `traitors` Byzantine: each message their honest code sends a loyal process may be
    /// replaced by any of `forge(round, from, to, &honest)` (`None`: nothing is sent), every
    /// combination explored (see the [module documentation](self#byzantine-processes)).
    ///
    /// # Panics
    /// If a traitor is not one of the `n` processes.
    pub fn byzantine(
        mut self,
        traitors: impl IntoIterator<Item = NodeId>,
        forge: impl Fn(u32, NodeId, NodeId, &R::Msg) -> Vec<Option<R::Msg>> + Send + Sync + 'static,
    ) -> Self {
        let b = Byzantine::new(traitors, forge);
        if let Some(t) = b.traitors.iter().find(|t| t.index() >= self.n) {
            panic!("traitor {t} is not one of the {} processes", self.n);
        }
        self.byzantine = Some(b);
        self
    }

    /// True if process `i` is a traitor.
    fn is_traitor(&self, i: usize) -> bool {
        self.byzantine
            .as_ref()
            .is_some_and(|b| b.traitors.iter().any(|t| t.index() == i))
    }

    /// Runs process `me`'s step of `round` from `state` with `inbox`, once per sequence of
    /// answers to its choices, in lexicographic order of answers. `forged` says what traitors
    /// did to the inbox (for counterexamples).
    fn step_all(
        &self,
        me: usize,
        round: u32,
        state: &R::State,
        inds: &[(u32, R::Indication)],
        inbox: &[(NodeId, R::Msg)],
        forged: &[Forged<R::Msg>],
    ) -> Vec<Arc<Slot<R>>> {
        let traitor = self.is_traitor(me);
        let mut results = Vec::new();
        let mut prefix: Vec<usize> = Vec::new();
        loop {
            let mut st = state.clone();
            let mut effects: Vec<Effect<Lockstep<R>>> = Vec::new();
            let mut replay = Replay {
                prefix: &prefix,
                answers: Vec::new(),
                arities: Vec::new(),
            };
            let step = {
                let mut ctx = Ctx::new(
                    NodeId(me as u32),
                    self.n,
                    Instant::from_secs(u64::from(round)),
                    &mut effects,
                    &mut replay,
                );
                let mut rc = RoundCtx::new(round, &mut ctx);
                self.protocol.round(round, &mut st, inbox, &mut rc)
            };
            let Replay {
                answers, arities, ..
            } = replay;
            let mut out = Vec::new();
            let mut all_inds = inds.to_vec();
            for e in effects {
                match e {
                    Effect::Send {
                        to,
                        msg: RoundMsg { msg, .. },
                    } => {
                        assert!(
                            to.index() < self.n,
                            "n{me} sent to {to} in a run of {} processes",
                            self.n
                        );
                        out.push((to, msg));
                    }
                    Effect::Indicate(i) => all_inds.push((round, i)),
                    // A RoundCtx records nothing else.
                    Effect::SetTimer { .. } | Effect::CancelTimer { .. } | Effect::Persist => {}
                }
            }
            let status = match step {
                Step::Continue => NodeStatus::Running,
                Step::Halt => NodeStatus::Halted { round },
            };
            // The next sequence of answers: bump the last answer that has a successor.
            let next = (0..answers.len())
                .rev()
                .find(|&i| answers[i] + 1 < arities[i])
                .map(|i| {
                    let mut p = answers[..i].to_vec();
                    p.push(answers[i] + 1);
                    p
                });
            let mut slot = Slot::new(status, traitor, round, st, out, all_inds, answers);
            slot.forged = forged.to_vec();
            results.push(Arc::new(slot));
            match next {
                Some(p) => prefix = p,
                None => return results,
            }
        }
    }

    /// Process `me`'s steps of `round` from `slot` with `inbox`, whose entries at the positions
    /// of `holes` come from traitors: once for every combination of their candidates (an
    /// odometer, last hole fastest), each under every answer to its choices.
    fn forged_steps(
        &self,
        me: usize,
        round: u32,
        slot: &Slot<R>,
        inbox: &[(NodeId, R::Msg)],
        holes: &[(usize, Vec<Option<R::Msg>>)],
    ) -> Vec<Arc<Slot<R>>> {
        if holes.is_empty() {
            return self.step_all(me, round, &slot.state, &slot.inds, inbox, &[]);
        }
        let mut results = Vec::new();
        let mut pick = vec![0usize; holes.len()];
        loop {
            let mut got = Vec::with_capacity(inbox.len());
            let mut forged = Vec::with_capacity(holes.len());
            let mut h = 0;
            for (k, (from, m)) in inbox.iter().enumerate() {
                if h < holes.len() && holes[h].0 == k {
                    let sent = holes[h].1[pick[h]].clone();
                    if let Some(x) = &sent {
                        got.push((*from, x.clone()));
                    }
                    forged.push((*from, m.clone(), sent));
                    h += 1;
                } else {
                    got.push((*from, m.clone()));
                }
            }
            results.extend(self.step_all(me, round, &slot.state, &slot.inds, &got, &forged));
            if !advance(&mut pick, |k| holes[k].1.len()) {
                return results;
            }
        }
    }

    /// The fingerprint of the state after the step of `round` with processes `nodes`.
    fn fingerprint(&self, round: u32, nodes: &[Arc<Slot<R>>]) -> u64 {
        let n = nodes.len();
        let mut order: Vec<usize> = (0..n).collect();
        if self.symmetric {
            order.sort_by_key(|&i| (nodes[i].summary, i));
        }
        let mut pos_of = vec![0usize; n];
        for (p, &i) in order.iter().enumerate() {
            pos_of[i] = p;
        }
        let mut h = StableHasher::default();
        h.write_u32(round);
        let mut outs: Vec<(usize, usize)> = Vec::new();
        for &i in &order {
            let s = &nodes[i];
            h.write_u64(s.base);
            outs.clear();
            outs.extend(
                s.out
                    .iter()
                    .enumerate()
                    .map(|(k, (to, _))| (pos_of[to.index()], k)),
            );
            outs.sort_unstable();
            h.write_usize(outs.len());
            for &(to, k) in &outs {
                h.write_usize(to);
                h.write_u64(s.out_hashes[k]);
            }
        }
        h.finish()
    }

    fn is_final(&self, round: u32, nodes: &[Arc<Slot<R>>]) -> bool {
        round >= self.max_round || !nodes.iter().any(|s| s.status == NodeStatus::Running)
    }

    /// Judges the properties on a state; the first broken one with its message.
    fn judge(
        &self,
        round: u32,
        is_final: bool,
        nodes: &[Arc<Slot<R>>],
    ) -> Option<(String, String)> {
        let view = RoundView {
            round,
            is_final,
            nodes,
        };
        self.properties
            .iter()
            .filter(|p| is_final || !p.at_end)
            .find_map(|p| p.judge(&view).err().map(|m| (p.name.clone(), m)))
    }

    /// The answers of the steps just taken by `nodes` (index, slot), for counterexamples.
    fn choices_of<'s>(nodes: impl Iterator<Item = (usize, &'s Arc<Slot<R>>)>) -> Vec<Choices>
    where
        R: 's,
    {
        nodes
            .filter(|(_, s)| !s.answers.is_empty())
            .map(|(i, s)| Choices {
                node: NodeId(i as u32),
                answers: s.answers.clone(),
            })
            .collect()
    }

    fn counterexample(
        &self,
        round: u32,
        nodes: &[Arc<Slot<R>>],
        trail: &Trail<R>,
        (property, message): (String, String),
    ) -> RoundCounterexample<R::Indication> {
        let mut steps = Vec::new();
        let mut t = trail;
        let initial_choices = loop {
            match t {
                Trail::Init(c) => break c.clone(),
                Trail::Round(parent, desc) => {
                    let mut step = desc.step.clone();
                    step.forged = desc
                        .forged
                        .iter()
                        .map(|(to, (from, honest, sent))| Forgery {
                            from: *from,
                            to: *to,
                            honest: format!("{honest:?}"),
                            sent: sent.as_ref().map(|m| format!("{m:?}")),
                        })
                        .collect();
                    steps.push(step);
                    t = parent;
                }
            }
        };
        steps.reverse();
        RoundCounterexample {
            property,
            message,
            round,
            initial_choices,
            steps,
            nodes: nodes
                .iter()
                .enumerate()
                .map(|(i, s)| NodeOutcome {
                    node: NodeId(i as u32),
                    status: s.status,
                    indications: if s.traitor {
                        Vec::new()
                    } else {
                        s.inds.clone()
                    },
                    traitor: s.traitor,
                })
                .collect(),
        }
    }

    /// Explores every execution and judges the properties; stops at the first violation.
    pub fn explore(&self) -> RoundReport<R::Indication> {
        let n = self.n;
        let mut report = RoundReport {
            n,
            max_crashes: self.max_crashes,
            traitors: self
                .byzantine
                .as_ref()
                .map_or_else(Vec::new, |b| b.traitors.clone()),
            max_round: self.max_round,
            symmetric: self.symmetric,
            states: 0,
            transitions: 0,
            final_states: 0,
            executions: 0,
            layers: Vec::new(),
            complete: false,
            violation: None,
        };

        // Round 0: every process's first step, under every answer to its choices.
        let firsts: Vec<Vec<Arc<Slot<R>>>> = (0..n)
            .map(|i| {
                let st = self.protocol.init(NodeId(i as u32), n);
                self.step_all(i, 0, &st, &[], &[], &[])
            })
            .collect();
        let mut frontier: Vec<GState<R>> = Vec::new();
        let mut index: BTreeMap<u64, usize> = BTreeMap::new();
        let mut transitions = 0u64;
        let mut pick = vec![0usize; n];
        loop {
            let nodes: Vec<Arc<Slot<R>>> =
                (0..n).map(|i| Arc::clone(&firsts[i][pick[i]])).collect();
            transitions += 1;
            let fp = self.fingerprint(0, &nodes);
            if let Some(&k) = index.get(&fp) {
                frontier[k].paths += 1;
            } else {
                let is_final = self.is_final(0, &nodes);
                let trail = Rc::new(Trail::Init(Self::choices_of(nodes.iter().enumerate())));
                if let Some(v) = self.judge(0, is_final, &nodes) {
                    report.violation = Some(self.counterexample(0, &nodes, &trail, v));
                    report.states += index.len() as u64 + 1;
                    report.transitions += transitions;
                    return report;
                }
                index.insert(fp, frontier.len());
                frontier.push(GState {
                    nodes,
                    paths: 1,
                    trail,
                    is_final,
                });
            }
            if !advance(&mut pick, |i| firsts[i].len()) {
                break;
            }
        }
        self.close_layer(&mut report, 0, &frontier, transitions);

        let mut round = 0u32;
        loop {
            if frontier.iter().all(|s| s.is_final) {
                report.complete = true;
                return report;
            }
            let mut next: Vec<GState<R>> = Vec::new();
            let mut index: BTreeMap<u64, usize> = BTreeMap::new();
            let mut transitions = 0u64;
            for s in frontier.iter().filter(|s| !s.is_final) {
                let found = self.expand(round, s, &mut |nodes, step| {
                    transitions += 1;
                    let fp = self.fingerprint(round + 1, &nodes);
                    if let Some(&k) = index.get(&fp) {
                        next[k].paths += s.paths;
                        return None;
                    }
                    let is_final = self.is_final(round + 1, &nodes);
                    let trail = Rc::new(Trail::Round(Rc::clone(&s.trail), step()));
                    if let Some(v) = self.judge(round + 1, is_final, &nodes) {
                        return Some(self.counterexample(round + 1, &nodes, &trail, v));
                    }
                    index.insert(fp, next.len());
                    next.push(GState {
                        nodes,
                        paths: s.paths,
                        trail,
                        is_final,
                    });
                    None
                });
                if let Some(c) = found {
                    report.violation = Some(c);
                    report.states += next.len() as u64 + 1;
                    report.transitions += transitions;
                    return report;
                }
            }
            round += 1;
            frontier = next;
            self.close_layer(&mut report, round, &frontier, transitions);
        }
    }

    fn close_layer(
        &self,
        report: &mut RoundReport<R::Indication>,
        round: u32,
        layer: &[GState<R>],
        transitions: u64,
    ) {
        report.states += layer.len() as u64;
        report.transitions += transitions;
        for s in layer.iter().filter(|s| s.is_final) {
            report.final_states += 1;
            report.executions += s.paths;
        }
        report.layers.push(LayerStats {
            round,
            states: layer.len() as u64,
            transitions,
        });
    }

    /// Calls `visit` with every successor of `s` (the state after the step of `round`), in a
    /// fixed order, and a way to describe the step that led to it; stops when `visit` returns
    /// something.
    fn expand<T>(&self, round: u32, s: &GState<R>, visit: &mut Visit<'_, R, T>) -> Option<T> {
        let n = self.n;
        let nodes = &s.nodes;
        let running: u64 = (0..n)
            .filter(|&i| nodes[i].status == NodeStatus::Running)
            .fold(0, |m, i| m | bit(i));
        // Processes that took this round's step and may crash while sending (traitors do not:
        // silence is one of their own choices).
        let crashable: Vec<usize> = (0..n)
            .filter(|&i| {
                (matches!(nodes[i].status, NodeStatus::Running)
                    || nodes[i].status == NodeStatus::Halted { round })
                    && !nodes[i].traitor
            })
            .collect();
        let crashed = nodes
            .iter()
            .filter(|x| matches!(x.status, NodeStatus::Crashed { .. }))
            .count();
        let budget = self.max_crashes.saturating_sub(crashed);
        // Who sends to whom (recipients that will take the next step).
        let mut senders_to = vec![0u64; n];
        let mut targets_of = vec![0u64; n];
        for (i, x) in nodes.iter().enumerate() {
            for (to, _) in &x.out {
                if running & bit(to.index()) != 0 {
                    senders_to[to.index()] |= bit(i);
                    targets_of[i] |= bit(to.index());
                }
            }
        }
        // What a process becomes when it does not take the next step.
        let crashed_slot: Vec<Option<Arc<Slot<R>>>> = (0..n)
            .map(|i| {
                crashable
                    .contains(&i)
                    .then(|| Arc::new(nodes[i].settled(NodeStatus::Crashed { round }, round + 1)))
            })
            .collect();
        let idle_slot: Vec<Arc<Slot<R>>> = (0..n)
            .map(|i| match nodes[i].status {
                NodeStatus::Halted { round: r } if r == round => {
                    Arc::new(nodes[i].settled(nodes[i].status, round + 1))
                }
                _ => Arc::clone(&nodes[i]),
            })
            .collect();
        // Each receiver's next steps, by the set of senders that reach it.
        let mut cache: BTreeMap<(usize, u64), Branches<R>> = BTreeMap::new();
        // A traitor's messages to a loyal receiver are forged: each is a "hole" of the inbox,
        // filled with every candidate in turn.
        let mut next_steps = |j: usize, reach: u64| -> Branches<R> {
            Rc::clone(cache.entry((j, reach)).or_insert_with(|| {
                let mut inbox = Vec::new();
                let mut holes: Vec<(usize, Vec<Option<R::Msg>>)> = Vec::new();
                for (i, x) in nodes.iter().enumerate() {
                    if reach & bit(i) != 0 {
                        for (to, m) in x.out.iter().filter(|(to, _)| to.index() == j) {
                            let from = NodeId(i as u32);
                            if let (true, false, Some(b)) =
                                (x.traitor, nodes[j].traitor, &self.byzantine)
                            {
                                holes.push((inbox.len(), b.candidates(round, from, *to, m)));
                            }
                            inbox.push((from, m.clone()));
                        }
                    }
                }
                Rc::new(self.forged_steps(j, round + 1, &nodes[j], &inbox, &holes))
            }))
        };

        for size in 0..=budget.min(crashable.len()) {
            let mut result = None;
            combinations(&crashable, size, |crash| {
                if result.is_some() {
                    return;
                }
                let crash_mask = crash.iter().fold(0u64, |m, &c| m | bit(c));
                // Each crasher's possible recipients: running, not crashing now.
                let targets: Vec<Vec<usize>> = crash
                    .iter()
                    .map(|&c| {
                        (0..n)
                            .filter(|&j| targets_of[c] & bit(j) & !crash_mask != 0)
                            .collect()
                    })
                    .collect();
                let mut sub = vec![0usize; crash.len()];
                loop {
                    // Who reaches each receiver under this choice of subsets.
                    let receivers: Vec<(usize, u64)> = (0..n)
                        .filter(|&j| running & bit(j) != 0 && crash_mask & bit(j) == 0)
                        .map(|j| {
                            let mut reach = senders_to[j] & !crash_mask;
                            for (k, &c) in crash.iter().enumerate() {
                                if let Some(t) = targets[k].iter().position(|&x| x == j) {
                                    if sub[k] & (1 << t) != 0 {
                                        reach |= bit(c);
                                    }
                                }
                            }
                            (j, reach)
                        })
                        .collect();
                    let branches: Vec<Branches<R>> = receivers
                        .iter()
                        .map(|&(j, reach)| next_steps(j, reach))
                        .collect();
                    let mut pick = vec![0usize; receivers.len()];
                    loop {
                        let mut next: Vec<Arc<Slot<R>>> = (0..n)
                            .map(|i| match &crashed_slot[i] {
                                Some(c) if crash_mask & bit(i) != 0 => Arc::clone(c),
                                _ => Arc::clone(&idle_slot[i]),
                            })
                            .collect();
                        for (k, &(j, _)) in receivers.iter().enumerate() {
                            next[j] = Arc::clone(&branches[k][pick[k]]);
                        }
                        let describe = || StepDesc {
                            step: RoundStep {
                                round,
                                crashes: crash
                                    .iter()
                                    .enumerate()
                                    .map(|(k, &c)| Crash {
                                        node: NodeId(c as u32),
                                        reached: targets[k]
                                            .iter()
                                            .enumerate()
                                            .filter(|(t, _)| sub[k] & (1 << *t) != 0)
                                            .map(|(_, &j)| NodeId(j as u32))
                                            .collect(),
                                    })
                                    .collect(),
                                choices: Self::choices_of(
                                    receivers
                                        .iter()
                                        .enumerate()
                                        .map(|(k, &(j, _))| (j, &branches[k][pick[k]])),
                                ),
                                forged: Vec::new(),
                            },
                            forged: receivers
                                .iter()
                                .enumerate()
                                .flat_map(|(k, &(j, _))| {
                                    branches[k][pick[k]]
                                        .forged
                                        .iter()
                                        .map(move |g| (NodeId(j as u32), g.clone()))
                                })
                                .collect(),
                        };
                        if let Some(t) = visit(next, &describe) {
                            result = Some(t);
                            return;
                        }
                        // Next combination of choice branches.
                        if !advance(&mut pick, |k| branches[k].len()) {
                            break;
                        }
                    }
                    // Next choice of subsets (odometer over the crashers).
                    if !advance(&mut sub, |k| 1 << targets[k].len()) {
                        break;
                    }
                }
            });
            if result.is_some() {
                return result;
            }
        }
        None
    }
}
