//! Byzantine agreement with oral messages: Lamport, Shostak and Pease's OM(m), and why it needs
//! n > 3f.
//!
//! **Model.** n processes ("generals") in lockstep rounds ([`synod_core::RoundProtocol`], run by
//! [`synod_core::Lockstep`] or explored exhaustively by `synod_check::rounds`): in every round
//! each process sends, then receives every message sent to it in that round, then computes.
//! Links are reliable and *oral*: a receiver knows who sent each message (a sender cannot
//! pretend to be someone else), but there are no signatures, so a process can lie about what
//! others told it and nobody can prove it. Up to f processes are *traitors* (Byzantine
//! failures): they may send anything, or nothing, to anyone, and they collude. Node 0 is the
//! commander ([`COMMANDER`]); it holds an order, a value from a small finite domain `0..k`
//! (binary by default). The others are lieutenants.
//!
//! **Properties** (over [`General`]s, one per process, for any driver):
//! - *IC1* ([`ic1`]): all loyal lieutenants decide the same value;
//! - *IC2* ([`ic2`]): if the commander is loyal, every loyal lieutenant decides its order;
//! - *termination* ([`termination`]): every loyal general decides (here at the end of round
//!   m + 1; the commander "decides" its own order in round 0).
//!
//! **Algorithm: OM(m) (LSP 1982), in its EIG (exponential information gathering) form (Lynch
//! §6.3).** Both describe the same messages and the same decision; this module implements the
//! tree, which fits the round model. A *path* σ = (0, j1, …, jk) is a sequence of distinct
//! processes starting with the commander; it names the sub-instance "OM(m − k) commanded by jk,
//! about what j(k−1) said that … the commander said". A lieutenant i stores val(σ) for every
//! path not containing i, of length at most m + 1:
//!
//! 1. round 0: the commander sends its order to every lieutenant as val(0) (and decides it);
//! 2. call k = 1 … m: lieutenant i records val(σ·j) = x for each message (σ·j, x) received from
//!    j, then *relays*: for every path σ of length k not containing i it sends
//!    (σ·i, val(σ)) to every process outside σ·i. A missing or malformed value counts as the
//!    *default* ([`OralMessages::default`], LSP's RETREAT), and is relayed as such;
//! 3. call m + 1: after recording, i resolves the tree bottom-up and decides resolve(0), where
//!    resolve(σ) = val(σ) for a leaf (length m + 1) and otherwise the *majority* of val(σ) and
//!    resolve(σ·j) for every j outside σ and ≠ i, or the default if no value has a strict
//!    majority. This is exactly LSP's step 3: v_i is what i got from the commander, v_j what i
//!    decided in the OM(m − 1) commanded by j.
//!
//! A message is accepted only if its path fits: the right length for the round, starting with
//! the commander, *ending with the actual sender* (oral messages: nobody can speak for someone
//! else), without repetitions and without the receiver; the first message for a path wins.
//! So whatever a traitor sends, a receiver ends up with, for each path ending in that traitor,
//! either nothing (the default) or one value of the domain: [`OralMessages::forgeries`] lists
//! exactly these choices, which is how the round explorer enumerates *every* traitor behaviour.
//!
//! **Why n ≥ 3f + 1 (LSP's theorem; Lynch §6.4).** OM(m) satisfies IC1 and IC2 with n > 3m and
//! at most m traitors, by induction on m. With a loyal commander (LSP's lemma: OM(m) satisfies
//! IC2 when n > 2f + m), each loyal lieutenant j relays the order as commander of OM(m − 1), so
//! every loyal lieutenant resolves the order for every loyal j, and the loyal values, at least
//! n − 1 − f > f of the n − 1, are a majority. With a traitorous commander, the lieutenants run
//! OM(m − 1) among n − 1 > 3(m − 1) processes with at most m − 1 traitors, so by IC1 and IC2 of
//! OM(m − 1) every loyal lieutenant resolves the same vector, hence the same majority.
//!
//! Conversely no algorithm works with n ≤ 3f: the *three generals* argument. With n = 3 and one
//! traitor, a lieutenant that hears 1 from the commander and "the commander said 0" from the
//! other lieutenant cannot tell a traitorous commander (who told the two lieutenants different
//! things) from a traitorous lieutenant (who lies about what it heard). To satisfy IC2 in the
//! second case it must obey the commander; then in the first case the two lieutenants obey
//! different orders and IC1 fails. Grouping n = 3f processes into three groups of f simulates
//! the three generals, so the bound holds for every f. OM picks "no majority: default", so at
//! n = 3 a traitorous lieutenant breaks IC2 (when the order is not the default) while a
//! traitorous commander cannot break IC1; the canary [`OralMessages::canary_keep_own`] ("no
//! majority: keep the commander's value") fails the other way round: the argument made
//! executable. The lab's `byz-bound` experiment and `crates/lab/tests/byzantine.rs` check both
//! sides: violations at n = 3f (n = 3, f = 1 exhaustively; n = 6, f = 2 with the
//! [`TraitorStrategy`] library), none at n = 3f + 1.
//!
//! **Cost.** m + 1 rounds (optimal: f + 1 rounds are needed even for crashes) and
//! (n−1) + (n−1)(n−2) + … + (n−1)(n−2)…(n−m−1) messages ([`message_count`]), Θ(n^(m+1)),
//! exponential in f. Algorithms with polynomially many messages exist (Lynch ch. 6, Attiya and
//! Welch §5.2), and signed messages remove the n > 3f requirement (LSP's SM(m) tolerates any
//! number of traitors).
//!
//! **Traitors.** A configuration lists its traitors with a [`TraitorStrategy`] each: the
//! traitor runs the honest code and the strategy rewrites each message it sends (lie to some,
//! stay silent, equivocate by receiver, or follow a script). [`TraitorStrategy::library`] lists
//! the strategies swept by the experiment. The round explorer can instead treat a process as a
//! traitor on its own and try every message ([`OralMessages::forgeries`]).
//!
//! **Read:** Lamport, Shostak and Pease, "The Byzantine generals problem", ACM TOPLAS 4(3),
//! 1982 (OM(m), SM(m), the three generals); Lynch, *Distributed Algorithms*, ch. 6 (§6.3 the EIG
//! algorithm for Byzantine agreement, §6.4 the n > 3f lower bound, §6.5 connectivity);
//! Attiya and Welch, *Distributed Computing*, ch. 5 (§5.2 Byzantine failures: the 3f + 1 lower
//! bound and the exponential algorithm); Cachin, Guerraoui and Rodrigues (CGR), *Reliable and
//! Secure Distributed Programming*, ch. 5 (Byzantine consensus and its n > 3f resilience).

use super::NodeSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use synod_core::{
    Ctx, Effect, FirstChoice, Instant, Lockstep, NodeId, RoundCtx, RoundMsg, RoundProtocol, Step,
};

/// A value of the order domain `0..k` (k = [`OralMessages::values`]).
pub type Value = u8;

/// A path of the EIG tree: distinct processes, the commander first.
pub type Path = Vec<NodeId>;

/// The commander: node 0.
pub const COMMANDER: NodeId = NodeId(0);

/// What a traitor does to the messages its honest code sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraitorStrategy {
    /// Sends the *other* value (v + 1 mod k) to the receivers in the set, the honest value to
    /// the rest (`LieToSome(NodeSet::EMPTY)` behaves honestly).
    LieToSome(NodeSet),
    /// Sends nothing: its receivers use the default.
    Silent,
    /// Tells each receiver a value fixed by the receiver alone, (id + shift) mod k, whatever the
    /// truth: with binary values, even receivers hear one value and odd receivers the other.
    Equivocate {
        /// Added to the receiver's id.
        shift: Value,
    },
    /// Explicit values per (round, path, receiver), where path is the message's path (ending
    /// with the traitor) and round the round it is sent in: `Some(v)` sends v, `None` sends
    /// nothing; messages without an entry are sent honestly.
    Scripted(BTreeMap<(u32, Path, NodeId), Option<Value>>),
}

impl TraitorStrategy {
    /// What the traitor sends `to` in round `round` instead of the honest `msg`, with `values`
    /// values.
    pub fn apply(&self, round: u32, to: NodeId, msg: OmMsg, values: u8) -> Option<OmMsg> {
        let k = values.max(1);
        let value = match self {
            TraitorStrategy::LieToSome(set) if set.contains(to) => (msg.value + 1) % k,
            TraitorStrategy::LieToSome(_) => msg.value,
            TraitorStrategy::Silent => return None,
            TraitorStrategy::Equivocate { shift } => {
                ((to.index() + usize::from(*shift)) % usize::from(k)) as Value
            }
            TraitorStrategy::Scripted(script) => match script.get(&(round, msg.path.clone(), to)) {
                Some(Some(v)) => *v,
                Some(None) => return None,
                None => msg.value,
            },
        };
        Some(OmMsg {
            path: msg.path,
            value,
        })
    }

    /// The library swept by the `byz-bound` experiment for `n` processes and `values` values:
    /// [`Silent`](TraitorStrategy::Silent), [`Equivocate`](TraitorStrategy::Equivocate) with
    /// every shift, and [`LieToSome`](TraitorStrategy::LieToSome) for every set of lieutenants
    /// (the empty set included: an honest-looking traitor). 2^(n−1) + k + 1 strategies.
    ///
    /// # Panics
    /// If `n` is above 20 (the list would be too long to sweep anyway).
    pub fn library(n: usize, values: u8) -> Vec<TraitorStrategy> {
        assert!(
            (1..=20).contains(&n),
            "TraitorStrategy::library: 1 to 20 processes, not {n}"
        );
        let mut lib = vec![TraitorStrategy::Silent];
        lib.extend((0..values).map(|shift| TraitorStrategy::Equivocate { shift }));
        for mask in 0u32..1 << (n - 1) {
            let mut set = NodeSet::EMPTY;
            for b in 0..n - 1 {
                if mask & (1 << b) != 0 {
                    set.insert(NodeId(b as u32 + 1));
                }
            }
            lib.push(TraitorStrategy::LieToSome(set));
        }
        lib
    }
}

/// What a lieutenant does when no value has a strict majority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMajority {
    /// Use the default value (LSP's OM(m)).
    Default,
    /// Keep the value it was told directly for that path (the canary
    /// [`OralMessages::canary_keep_own`]).
    KeepOwn,
}

/// OM(m) as a [`RoundProtocol`]: node 0 commands `order`; m + 1 rounds of relaying; traitors
/// from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OralMessages {
    /// m: the depth of recursion (the number of traitors tolerated when n > 3m).
    pub m: u32,
    /// The commander's order.
    pub order: Value,
    /// k: values are `0..k` (at least 1).
    pub values: u8,
    /// The value used for a missing message and when there is no majority (LSP's RETREAT).
    pub default: Value,
    /// The traitors and what each does (traitors run the honest code, rewritten by their
    /// strategy).
    pub traitors: BTreeMap<NodeId, TraitorStrategy>,
    /// The rule for "no majority".
    pub no_majority: NoMajority,
}

impl OralMessages {
    /// OM(`m`) with the commander ordering `order`, binary values, default 0, no traitors.
    ///
    /// # Panics
    /// If `order` is not 0 or 1.
    pub fn new(m: u32, order: Value) -> OralMessages {
        OralMessages {
            m,
            order,
            values: 2,
            default: 0,
            traitors: BTreeMap::new(),
            no_majority: NoMajority::Default,
        }
        .checked()
    }

    /// The same with values `0..k`.
    ///
    /// # Panics
    /// If `k` is 0, or the order or the default is not below `k`.
    pub fn with_values(mut self, k: u8) -> OralMessages {
        self.values = k;
        self.checked()
    }

    /// The same with `default` as the default value.
    ///
    /// # Panics
    /// If `default` is not below the number of values.
    pub fn with_default(mut self, default: Value) -> OralMessages {
        self.default = default;
        self.checked()
    }

    /// Makes `p` a traitor following `strategy` (replacing any earlier strategy of `p`).
    pub fn traitor(mut self, p: NodeId, strategy: TraitorStrategy) -> OralMessages {
        self.traitors.insert(p, strategy);
        self
    }

    /// Canary: OM(m) whose lieutenants, when no value has a strict majority, keep the value
    /// they were told directly instead of the default. It passes where OM fails at n = 3 (a
    /// traitorous lieutenant cannot make the loyal one disobey) and fails where OM passes (a
    /// traitorous commander splits the lieutenants), the three generals argument; it is wrong
    /// for larger n too (a traitorous commander that causes a tie at the top splits them).
    pub fn canary_keep_own(m: u32, order: Value) -> OralMessages {
        OralMessages {
            no_majority: NoMajority::KeepOwn,
            ..OralMessages::new(m, order)
        }
    }

    fn checked(self) -> OralMessages {
        assert!(
            self.values >= 1 && self.order < self.values && self.default < self.values,
            "OralMessages: order {} and default {} must be below the number of values {}",
            self.order,
            self.default,
            self.values
        );
        self
    }

    /// True if `p` is a traitor of this configuration.
    pub fn is_traitor(&self, p: NodeId) -> bool {
        self.traitors.contains_key(&p)
    }

    /// Every message a traitor could usefully send in place of `honest`: nothing, or the same
    /// path with any value of the domain. Since receivers accept at most one value per path
    /// from the path's last process, and honest senders fill every path they may fill, these
    /// choices for every honest message cover every Byzantine behaviour (what the round
    /// explorer's `byzantine` option enumerates).
    pub fn forgeries(&self, honest: &OmMsg) -> Vec<Option<OmMsg>> {
        std::iter::once(None)
            .chain((0..self.values).map(|value| {
                Some(OmMsg {
                    path: honest.path.clone(),
                    value,
                })
            }))
            .collect()
    }

    /// The value `me` resolves for path `sigma` (see the [module documentation](self)).
    fn resolve(
        &self,
        n: usize,
        me: NodeId,
        vals: &BTreeMap<Path, Value>,
        sigma: &mut Path,
    ) -> Value {
        let own = vals.get(sigma).copied().unwrap_or(self.default);
        if sigma.len() > self.m as usize {
            return own;
        }
        let mut counts = vec![0usize; usize::from(self.values)];
        counts[usize::from(own)] += 1;
        let mut total = 1;
        for j in NodeId::all(n) {
            if j != me && !sigma.contains(&j) {
                sigma.push(j);
                let v = self.resolve(n, me, vals, sigma);
                sigma.pop();
                counts[usize::from(v)] += 1;
                total += 1;
            }
        }
        match counts.iter().position(|&c| 2 * c > total) {
            Some(v) => v as Value,
            None => match self.no_majority {
                NoMajority::Default => self.default,
                NoMajority::KeepOwn => own,
            },
        }
    }

    /// Sends `honest`, rewritten by `me`'s strategy if it is a traitor.
    fn emit(&self, me: NodeId, honest: Vec<(NodeId, OmMsg)>, ctx: &mut RoundCtx<'_, '_, Self>) {
        let round = ctx.round();
        let strategy = self.traitors.get(&me);
        for (to, msg) in honest {
            let msg = match strategy {
                None => Some(msg),
                Some(s) => s.apply(round, to, msg, self.values),
            };
            if let Some(msg) = msg {
                ctx.send(to, msg);
            }
        }
    }

    /// Runs OM(m) on `n` processes in lockstep rounds, with the traitors of the configuration:
    /// a direct driver of the round model (the same runs as [`Lockstep`] under lockstep timing
    /// or the round explorer with no adversary), cheap enough to sweep thousands of
    /// configurations.
    pub fn run(&self, n: usize) -> OmRun {
        let mut states: Vec<OmState> = NodeId::all(n).map(|p| self.init(p, n)).collect();
        let mut halted = vec![false; n];
        let mut decisions: Vec<Vec<(u32, Value)>> = vec![Vec::new(); n];
        let mut inboxes: Vec<Vec<(NodeId, OmMsg)>> = vec![Vec::new(); n];
        let mut messages = 0u64;
        for round in 0..=self.m + 1 {
            let mut next: Vec<Vec<(NodeId, OmMsg)>> = vec![Vec::new(); n];
            for i in 0..n {
                if halted[i] {
                    continue;
                }
                let mut effects: Vec<Effect<Lockstep<OralMessages>>> = Vec::new();
                let mut chooser = FirstChoice;
                let now = Instant::from_secs(u64::from(round));
                let me = NodeId(i as u32);
                let mut ctx = Ctx::new(me, n, now, &mut effects, &mut chooser);
                let step = self.round(
                    round,
                    &mut states[i],
                    &inboxes[i],
                    &mut RoundCtx::new(round, &mut ctx),
                );
                for e in effects {
                    match e {
                        Effect::Send {
                            to,
                            msg: RoundMsg { msg, .. },
                        } => {
                            messages += 1;
                            next[to.index()].push((me, msg));
                        }
                        Effect::Indicate(Decision(v)) => decisions[i].push((round, v)),
                        _ => {}
                    }
                }
                halted[i] = step == Step::Halt;
            }
            inboxes = next;
        }
        OmRun {
            generals: decisions
                .into_iter()
                .enumerate()
                .map(|(i, decisions)| General {
                    node: NodeId(i as u32),
                    loyal: !self.is_traitor(NodeId(i as u32)),
                    decisions,
                })
                .collect(),
            messages,
        }
    }

    /// The properties IC1, IC2 and termination on a finished run: the first broken one.
    pub fn judge(&self, generals: &[General]) -> Result<(), String> {
        ic1(generals)?;
        ic2(self.order, generals)?;
        termination(generals)
    }
}

/// A run of [`OralMessages::run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OmRun {
    /// Every process's outcome.
    pub generals: Vec<General>,
    /// The number of messages sent (by everyone, traitors included).
    pub messages: u64,
}

/// A message of OM(m): "val(path) = value", where the path ends with the sender.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OmMsg {
    /// The path of the EIG tree this value is for, ending with the sender.
    pub path: Path,
    /// The value.
    pub value: Value,
}

impl fmt::Debug for OmMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p: Vec<String> = self.path.iter().map(|q| q.0.to_string()).collect();
        write!(f, "v({})={}", p.join(","), self.value)
    }
}

/// A process's state: the values it holds for the paths of the tree, and its decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OmState {
    /// val(σ) for every path σ received (a missing path counts as the default).
    pub vals: BTreeMap<Path, Value>,
    /// The decision, once taken.
    pub decision: Option<Value>,
}

/// The decision indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decision(pub Value);

/// Every path of length `len` (≥ 1) of an n-process tree that avoids `me`, in lexicographic
/// order.
pub fn paths(n: usize, len: usize, me: NodeId) -> Vec<Path> {
    fn go(n: usize, len: usize, me: NodeId, cur: &mut Path, out: &mut Vec<Path>) {
        if cur.len() == len {
            out.push(cur.clone());
            return;
        }
        for j in NodeId::all(n) {
            if j != me && !cur.contains(&j) {
                cur.push(j);
                go(n, len, me, cur, out);
                cur.pop();
            }
        }
    }
    let mut out = Vec::new();
    if len >= 1 && me != COMMANDER {
        go(n, len, me, &mut vec![COMMANDER], &mut out);
    }
    out
}

impl RoundProtocol for OralMessages {
    type Msg = OmMsg;
    type Indication = Decision;
    type Request = ();
    type State = OmState;

    fn init(&self, _id: NodeId, n: usize) -> OmState {
        crate::consensus::assert_fits_node_set("OralMessages", n);
        OmState::default()
    }

    fn round(
        &self,
        round: u32,
        s: &mut OmState,
        inbox: &[(NodeId, OmMsg)],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        let (me, n) = (ctx.id(), ctx.n());
        if me == COMMANDER {
            s.decision = Some(self.order);
            ctx.indicate(Decision(self.order));
            let order = OmMsg {
                path: vec![COMMANDER],
                value: self.order,
            };
            let honest = NodeId::all(n)
                .filter(|&p| p != me)
                .map(|p| (p, order.clone()))
                .collect();
            self.emit(me, honest, ctx);
            return Step::Halt;
        }
        // Record what fits: round `round` brings the paths of length `round`.
        for (from, m) in inbox {
            let fits = m.path.len() == round as usize
                && m.path.first() == Some(&COMMANDER)
                && m.path.last() == Some(from)
                && !m.path.contains(&me)
                && m.value < self.values
                && m.path
                    .iter()
                    .enumerate()
                    .all(|(i, p)| !m.path[..i].contains(p));
            if fits {
                s.vals.entry(m.path.clone()).or_insert(m.value);
            }
        }
        if round > self.m {
            let v = self.resolve(n, me, &s.vals, &mut vec![COMMANDER]);
            s.decision = Some(v);
            ctx.indicate(Decision(v));
            return Step::Halt;
        }
        if round >= 1 {
            let mut honest = Vec::new();
            for sigma in paths(n, round as usize, me) {
                let value = s.vals.get(&sigma).copied().unwrap_or(self.default);
                let mut path = sigma.clone();
                path.push(me);
                for to in NodeId::all(n).filter(|p| !path.contains(p)) {
                    honest.push((
                        to,
                        OmMsg {
                            path: path.clone(),
                            value,
                        },
                    ));
                }
            }
            self.emit(me, honest, ctx);
        }
        Step::Continue
    }
}

/// What one general did in a run: whether it is loyal and each decision it took, with its
/// round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct General {
    /// The process ([`COMMANDER`] is the commander).
    pub node: NodeId,
    /// False for a traitor (its decisions mean nothing).
    pub loyal: bool,
    /// `(round, value)` for each decision, in order.
    pub decisions: Vec<(u32, Value)>,
}

/// *IC1* (safety): all loyal lieutenants decide the same value.
pub fn ic1(generals: &[General]) -> Result<(), String> {
    let mut first: Option<(NodeId, Value)> = None;
    for g in generals.iter().filter(|g| g.loyal && g.node != COMMANDER) {
        for &(_, v) in &g.decisions {
            match first {
                None => first = Some((g.node, v)),
                Some((p, w)) if w != v => {
                    return Err(format!(
                        "IC1: loyal lieutenants {p} and {} decided {w} and {v}",
                        g.node
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// *IC2* (safety): if the commander is loyal, every loyal lieutenant decides its `order`.
pub fn ic2(order: Value, generals: &[General]) -> Result<(), String> {
    if !generals.iter().any(|g| g.node == COMMANDER && g.loyal) {
        return Ok(());
    }
    for g in generals.iter().filter(|g| g.loyal && g.node != COMMANDER) {
        if let Some(&(_, v)) = g.decisions.iter().find(|&&(_, v)| v != order) {
            return Err(format!(
                "IC2: the loyal commander ordered {order} but loyal {} decided {v}",
                g.node
            ));
        }
    }
    Ok(())
}

/// *Termination* (judged at the end of a run): every loyal general decided.
pub fn termination(generals: &[General]) -> Result<(), String> {
    match generals.iter().find(|g| g.loyal && g.decisions.is_empty()) {
        Some(g) => Err(format!("termination: loyal {} never decided", g.node)),
        None => Ok(()),
    }
}

/// The number of messages OM(m) sends on n processes: (n−1) + (n−1)(n−2) + … +
/// (n−1)(n−2)…(n−m−1), the paths of length 2 to m + 2 — Θ(n^(m+1)).
pub fn message_count(n: usize, m: u32) -> u64 {
    let mut total = 0u64;
    let mut term = 1u64;
    for t in 1..=u64::from(m) + 1 {
        term = term.saturating_mul((n as u64).saturating_sub(t));
        total = total.saturating_add(term);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decisions(run: &OmRun) -> Vec<Option<Value>> {
        run.generals
            .iter()
            .map(|g| g.decisions.first().map(|&(_, v)| v))
            .collect()
    }

    #[test]
    fn paths_and_message_counts() {
        assert_eq!(paths(4, 1, NodeId(1)), vec![vec![NodeId(0)]]);
        assert_eq!(
            paths(4, 2, NodeId(1)),
            vec![vec![NodeId(0), NodeId(2)], vec![NodeId(0), NodeId(3)]]
        );
        assert!(paths(4, 2, COMMANDER).is_empty());
        assert_eq!(paths(7, 3, NodeId(6)).len(), 5 * 4);
        assert_eq!(message_count(3, 1), 2 + 2);
        assert_eq!(message_count(4, 1), 3 + 6);
        assert_eq!(message_count(7, 2), 6 + 30 + 120);
        for (n, m) in [(3, 1), (4, 1), (4, 2), (7, 2), (8, 3)] {
            assert_eq!(
                OralMessages::new(m, 1).run(n).messages,
                message_count(n, m),
                "n={n} m={m}"
            );
        }
    }

    #[test]
    fn loyal_runs_obey_the_commander() {
        for order in 0..2 {
            for (n, m) in [(2, 0), (3, 1), (4, 1), (7, 2)] {
                let om = OralMessages::new(m, order);
                let run = om.run(n);
                assert_eq!(decisions(&run), vec![Some(order); n], "n={n} m={m}");
                assert!(om.judge(&run.generals).is_ok());
                assert!(run
                    .generals
                    .iter()
                    .all(|g| g.decisions[0].0 == if g.node == COMMANDER { 0 } else { m + 1 }));
            }
        }
    }

    #[test]
    fn three_generals_a_lying_lieutenant_breaks_ic2() {
        // n2 says the commander said 0: n1 sees a tie and takes the default 0, not the order 1.
        let om = OralMessages::new(1, 1).traitor(
            NodeId(2),
            TraitorStrategy::LieToSome(NodeSet::only(NodeId(1))),
        );
        let run = om.run(3);
        assert_eq!(decisions(&run)[1], Some(0));
        assert!(ic2(1, &run.generals).unwrap_err().contains("IC2"));
        // Four generals: n1 and n3 outvote the liar.
        let om = OralMessages::new(1, 1).traitor(
            NodeId(2),
            TraitorStrategy::LieToSome(NodeSet::only(NodeId(1))),
        );
        let run = om.run(4);
        assert!(om.judge(&run.generals).is_ok(), "{run:?}");
    }

    #[test]
    fn a_traitorous_commander_cannot_split_three_but_the_canary_can() {
        let split = TraitorStrategy::LieToSome(NodeSet::only(NodeId(2)));
        let om = OralMessages::new(1, 1).traitor(COMMANDER, split.clone());
        let run = om.run(3);
        assert_eq!(
            decisions(&run)[1..],
            [Some(0), Some(0)],
            "both take the default"
        );
        assert!(om.judge(&run.generals).is_ok());
        let canary = OralMessages::canary_keep_own(1, 1).traitor(COMMANDER, split);
        let run = canary.run(3);
        assert_eq!(decisions(&run)[1..], [Some(1), Some(0)]);
        assert!(ic1(&run.generals).is_err());
    }

    #[test]
    fn strategies_rewrite_messages() {
        let msg = OmMsg {
            path: vec![COMMANDER, NodeId(1)],
            value: 1,
        };
        let to = NodeId(2);
        let apply = |s: &TraitorStrategy| s.apply(1, to, msg.clone(), 2).map(|m| m.value);
        assert_eq!(apply(&TraitorStrategy::Silent), None);
        assert_eq!(
            apply(&TraitorStrategy::LieToSome(NodeSet::only(to))),
            Some(0)
        );
        assert_eq!(apply(&TraitorStrategy::LieToSome(NodeSet::EMPTY)), Some(1));
        assert_eq!(apply(&TraitorStrategy::Equivocate { shift: 0 }), Some(0));
        assert_eq!(apply(&TraitorStrategy::Equivocate { shift: 1 }), Some(1));
        let mut script = BTreeMap::new();
        script.insert((1, msg.path.clone(), to), None);
        assert_eq!(apply(&TraitorStrategy::Scripted(script.clone())), None);
        script.insert((1, msg.path.clone(), to), Some(0));
        assert_eq!(apply(&TraitorStrategy::Scripted(script)), Some(0));
        assert_eq!(TraitorStrategy::library(4, 2).len(), 1 + 2 + 8);
        assert_eq!(format!("{msg:?}"), "v(0,1)=1");
        let om = OralMessages::new(1, 0).with_values(3);
        assert_eq!(om.forgeries(&msg).len(), 4);
    }

    #[test]
    fn silence_reads_as_the_default_and_bad_paths_are_ignored() {
        let om = OralMessages::new(1, 1).with_values(3).with_default(2);
        let mut s = OmState::default();
        let mut effects = Vec::new();
        let mut chooser = FirstChoice;
        let mut ctx = Ctx::new(NodeId(1), 4, Instant::ZERO, &mut effects, &mut chooser);
        let forged = |path: Vec<u32>, value| OmMsg {
            path: path.into_iter().map(NodeId).collect(),
            value,
        };
        // From n2 but claiming to be the commander's, a wrong round, an out-of-domain value.
        let inbox = vec![
            (NodeId(2), forged(vec![0], 1)),
            (NodeId(2), forged(vec![0, 2], 1)),
            (NodeId(3), forged(vec![0], 7)),
        ];
        om.round(1, &mut s, &inbox, &mut RoundCtx::new(1, &mut ctx));
        assert!(s.vals.is_empty());
        // It relays the default for the commander's missing order.
        assert!(effects.iter().all(|e| matches!(e,
            Effect::Send { msg, .. } if msg.msg.value == 2)));
        assert_eq!(effects.len(), 2);
    }
}
