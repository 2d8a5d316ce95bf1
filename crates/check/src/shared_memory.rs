//! Exhaustive exploration of shared-memory programs: every interleaving, and wait-freedom.
//!
//! A global state of a [`Program`] is every process's local state, the shared memory and what
//! each process has output so far. A successor is one step of one process that has not halted
//! ([`take_step`]); the explorer tries every process in every state, so every interleaving is
//! covered. Crashes need no branches of their own: a crashed process is one that is never
//! scheduled again, and every prefix of every interleaving is explored, so a safety property
//! that holds in every reachable state holds whoever crashes.
//!
//! Safety properties ([`ShmProperty`]) are checked in every reachable state; the first state
//! violating each one is reported with a shortest schedule (breadth-first search). *Wait-freedom*
//! (Herlihy 1991; Lynch ch. 9) asks more: every process halts within a bounded number of its own
//! steps, whatever the others do — including stopping, i.e. crashing. On the finite state graph
//! this is decided exactly: process `p` is wait-free iff no cycle of states in which `p` has not
//! halted contains a step of `p` (otherwise `p` can step for ever, e.g. spinning on a flag
//! another process never sets); the bound is then the longest path counted in `p`'s steps,
//! computed over the strongly connected components. A violation comes with a lasso: a stem from
//! the initial state and a loop in which `p` keeps stepping and never halts.
//!
//! Bounded exploration is not a proof about all programs: a verdict covers this program at this
//! scope (these inputs, this many processes).

use std::collections::BTreeMap;
use std::sync::Arc;
use synod_core::shared_memory::{take_step, Action, ObjectError, Program, StepOf};
use synod_core::stable_hash;

/// A global state of a shared-memory program.
#[derive_where::derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShmState<P: Program> {
    /// Each process's local state.
    pub locals: Vec<P::Local>,
    /// The shared objects.
    pub memory: Vec<P::Object>,
    /// What each process has output so far, in order.
    pub outputs: Vec<Vec<P::Output>>,
}

impl<P: Program> ShmState<P> {
    /// The initial state of `program`.
    pub fn initial(program: &P) -> ShmState<P> {
        let n = program.processes();
        ShmState {
            locals: (0..n).map(|p| program.init(p)).collect(),
            memory: program.memory(),
            outputs: vec![Vec::new(); n],
        }
    }

    /// Has process `p` halted?
    pub fn halted(&self, program: &P, p: usize) -> bool {
        matches!(program.next(p, &self.locals[p]), Action::Halt)
    }

    /// Process `p`'s step from this state: the successor and the step, `Ok(None)` if `p` has
    /// halted, or the object's refusal.
    pub fn step(&self, program: &P, p: usize) -> StepResult<P> {
        let mut next = self.clone();
        let step = take_step(program, p, &mut next.locals[p], &mut next.memory)?;
        Ok(step.map(|s| {
            if let synod_core::shared_memory::ShmStep::Emit { out, .. } = &s {
                next.outputs[p].push(out.clone());
            }
            (next, s)
        }))
    }
}

/// The outcome of one step: the successor and the step, `None` if the process has halted, or an
/// object's refusal.
pub type StepResult<P> = Result<Option<(ShmState<P>, StepOf<P>)>, ObjectError>;

/// A test of a shared-memory state: `Ok` or what is wrong.
pub type StateCheck<P> = dyn Fn(&ShmState<P>) -> Result<(), String> + Send + Sync;

/// A safety property of shared-memory states.
pub struct ShmProperty<P: Program> {
    /// Its name, e.g. `agreement`.
    pub name: String,
    /// `Ok` if the state satisfies it, else what is wrong.
    pub check: Arc<StateCheck<P>>,
}

impl<P: Program> Clone for ShmProperty<P> {
    fn clone(&self) -> Self {
        ShmProperty {
            name: self.name.clone(),
            check: self.check.clone(),
        }
    }
}

impl<P: Program> ShmProperty<P> {
    /// A property that must hold in every reachable state.
    pub fn always(
        name: impl Into<String>,
        check: impl Fn(&ShmState<P>) -> Result<(), String> + Send + Sync + 'static,
    ) -> ShmProperty<P> {
        ShmProperty {
            name: name.into(),
            check: Arc::new(check),
        }
    }
}

/// A schedule and the steps it produced, from the initial state.
#[derive_where::derive_where(Clone, Debug, PartialEq, Eq)]
pub struct Schedule<P: Program> {
    /// The steps, in order.
    pub steps: Vec<StepOf<P>>,
}

impl<P: Program> Schedule<P> {
    /// Which process took each step.
    pub fn processes(&self) -> Vec<usize> {
        self.steps.iter().map(|s| s.process()).collect()
    }
}

/// A violated safety property.
#[derive_where::derive_where(Clone, Debug)]
pub struct ShmViolation<P: Program> {
    /// The property's name (`illegal-operation` for an object's refusal).
    pub property: String,
    /// What was wrong.
    pub message: String,
    /// A shortest schedule reaching the violating state.
    pub schedule: Schedule<P>,
}

/// Wait-freedom of one process.
#[derive_where::derive_where(Clone, Debug)]
pub enum WaitFreedom<P: Program> {
    /// The process halts within `bound` of its own steps in every execution.
    WaitFree {
        /// The most steps it ever takes.
        bound: usize,
    },
    /// The process can take steps for ever without halting.
    Not {
        /// A schedule from the initial state to the loop.
        stem: Schedule<P>,
        /// A loop (from the stem's last state back to it) with steps of this process and
        /// in which it never halts.
        cycle: Schedule<P>,
    },
}

impl<P: Program> WaitFreedom<P> {
    /// True for [`WaitFreedom::WaitFree`].
    pub fn holds(&self) -> bool {
        matches!(self, WaitFreedom::WaitFree { .. })
    }
}

/// Exploration limits.
#[derive(Clone, Copy, Debug)]
pub struct ShmOptions {
    /// Stop after this many distinct states (the result is then incomplete).
    pub max_states: usize,
    /// Decide wait-freedom (needs the complete state graph).
    pub wait_freedom: bool,
}

impl Default for ShmOptions {
    fn default() -> ShmOptions {
        ShmOptions {
            max_states: 2_000_000,
            wait_freedom: true,
        }
    }
}

/// The result of exploring a program.
#[derive_where::derive_where(Clone, Debug)]
pub struct ShmReport<P: Program> {
    /// Distinct states reached.
    pub states: usize,
    /// Transitions (steps) between them.
    pub transitions: usize,
    /// False when `max_states` stopped the search: the verdicts below then cover only part of
    /// the space, and wait-freedom is not decided.
    pub complete: bool,
    /// The longest shortest schedule (the search's depth).
    pub depth: usize,
    /// The first violation of each violated property, in property order (`illegal-operation`
    /// first if an object refused an operation).
    pub violations: Vec<ShmViolation<P>>,
    /// Per process, wait-freedom (empty if not decided).
    pub wait_freedom: Vec<WaitFreedom<P>>,
}

impl<P: Program> ShmReport<P> {
    /// True if no safety property was violated.
    pub fn safe(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Some(true)` if every process is wait-free, `Some(false)` if one is not, `None` if not
    /// decided.
    pub fn wait_free(&self) -> Option<bool> {
        if self.wait_freedom.is_empty() {
            None
        } else {
            Some(self.wait_freedom.iter().all(|w| w.holds()))
        }
    }

    /// The first process that is not wait-free, with its lasso.
    pub fn first_not_wait_free(&self) -> Option<(usize, &WaitFreedom<P>)> {
        self.wait_freedom
            .iter()
            .enumerate()
            .find(|(_, w)| !w.holds())
    }
}

struct Graph {
    /// Per state: (successor, process that stepped).
    edges: Vec<Vec<(u32, u32)>>,
    /// Per state: its BFS parent and the process that stepped (the root has none).
    parent: Vec<Option<(u32, u32)>>,
    /// Per state: which processes have halted, as a bit set.
    halted: Vec<u64>,
}

/// Explores every interleaving of `program`, checking `properties` in every state and, if asked
/// and the search completes, deciding wait-freedom for every process.
///
/// # Panics
/// If the program has more than 64 processes.
pub fn explore<P: Program>(
    program: &P,
    properties: &[ShmProperty<P>],
    options: ShmOptions,
) -> ShmReport<P> {
    let n = program.processes();
    assert!(
        n <= 64,
        "the shared-memory explorer handles at most 64 processes"
    );
    let root = ShmState::initial(program);
    let mut index: BTreeMap<u64, u32> = BTreeMap::new();
    let mut states: Vec<ShmState<P>> = vec![root.clone()];
    index.insert(stable_hash(&root), 0);
    let mut graph = Graph {
        edges: vec![Vec::new()],
        parent: vec![None],
        halted: vec![0],
    };
    let mut depth_of: Vec<u32> = vec![0];
    let mut violated: Vec<Option<ShmViolation<P>>> = vec![None; properties.len()];
    let mut illegal: Option<ShmViolation<P>> = None;
    let mut transitions = 0usize;
    let mut complete = true;
    let mut head = 0usize;
    let check_props =
        |s: &ShmState<P>, id: u32, violated: &mut Vec<Option<ShmViolation<P>>>, graph: &Graph| {
            for (k, prop) in properties.iter().enumerate() {
                if violated[k].is_some() {
                    continue;
                }
                if let Err(message) = (prop.check)(s) {
                    violated[k] = Some(ShmViolation {
                        property: prop.name.clone(),
                        message,
                        schedule: replay(program, &path_to(graph, id)),
                    });
                }
            }
        };
    check_props(&root, 0, &mut violated, &graph);
    while head < states.len() {
        let id = head as u32;
        head += 1;
        let state = states[id as usize].clone();
        let mut halted = 0u64;
        for p in 0..n {
            match state.step(program, p) {
                Ok(None) => halted |= 1 << p,
                Ok(Some((next, _))) => {
                    transitions += 1;
                    let fp = stable_hash(&next);
                    let target = match index.get(&fp) {
                        Some(&t) => t,
                        None => {
                            if states.len() >= options.max_states {
                                complete = false;
                                continue;
                            }
                            let t = states.len() as u32;
                            index.insert(fp, t);
                            graph.edges.push(Vec::new());
                            graph.parent.push(Some((id, p as u32)));
                            graph.halted.push(0);
                            depth_of.push(depth_of[id as usize] + 1);
                            check_props(&next, t, &mut violated, &graph);
                            states.push(next);
                            t
                        }
                    };
                    graph.edges[id as usize].push((target, p as u32));
                }
                Err(e) => {
                    if illegal.is_none() {
                        let mut path = path_to(&graph, id);
                        path.push(p);
                        illegal = Some(ShmViolation {
                            property: "illegal-operation".into(),
                            message: e.0,
                            schedule: replay(program, &path[..path.len() - 1]),
                        });
                    }
                }
            }
        }
        graph.halted[id as usize] = halted;
    }
    let mut violations: Vec<ShmViolation<P>> = illegal.into_iter().collect();
    violations.extend(violated.into_iter().flatten());
    let wait_freedom = if options.wait_freedom && complete {
        (0..n).map(|p| wait_freedom(program, &graph, p)).collect()
    } else {
        Vec::new()
    };
    ShmReport {
        states: states.len(),
        transitions,
        complete,
        depth: depth_of.iter().copied().max().unwrap_or(0) as usize,
        violations,
        wait_freedom,
    }
}

/// The processes that stepped on the BFS path from the root to `id`.
fn path_to(graph: &Graph, id: u32) -> Vec<usize> {
    let mut path = Vec::new();
    let mut at = id;
    while let Some((parent, p)) = graph.parent[at as usize] {
        path.push(p as usize);
        at = parent;
    }
    path.reverse();
    path
}

/// Re-executes a schedule (the process of each step) from the initial state.
///
/// # Panics
/// If the schedule names a halted process or an operation an object refuses: schedules come
/// from the explorer, which only records legal steps.
pub fn replay<P: Program>(program: &P, processes: &[usize]) -> Schedule<P> {
    let mut state = ShmState::initial(program);
    replay_from(program, &mut state, processes)
}

fn replay_from<P: Program>(
    program: &P,
    state: &mut ShmState<P>,
    processes: &[usize],
) -> Schedule<P> {
    let mut steps = Vec::new();
    for &p in processes {
        let (next, step) = state
            .step(program, p)
            .expect("replayed steps are legal")
            .expect("replayed processes have not halted");
        *state = next;
        steps.push(step);
    }
    Schedule { steps }
}

/// Decides wait-freedom of process `p` on the complete graph.
fn wait_freedom<P: Program>(program: &P, graph: &Graph, p: usize) -> WaitFreedom<P> {
    let live = |s: u32| graph.halted[s as usize] & (1 << p) == 0;
    let comp = sccs(graph, &live);
    // A step of p inside a component of p-live states: p can step for ever.
    for (s, edges) in graph.edges.iter().enumerate() {
        let s = s as u32;
        if !live(s) {
            continue;
        }
        for &(t, q) in edges {
            if q as usize == p && live(t) && comp[s as usize] == comp[t as usize] {
                let stem = path_to(graph, s);
                let mut cycle = vec![p];
                cycle.extend(path_within(graph, t, s, comp[s as usize], &comp));
                let mut state = ShmState::initial(program);
                let stem = replay_from(program, &mut state, &stem);
                let cycle = replay_from(program, &mut state, &cycle);
                return WaitFreedom::Not { stem, cycle };
            }
        }
    }
    // No such loop: the longest path in p-steps, over components in reverse topological order
    // (Tarjan numbers components sinks first).
    let ncomp = comp
        .iter()
        .filter(|&&c| c != u32::MAX)
        .map(|&c| c + 1)
        .max()
        .unwrap_or(0);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); ncomp as usize];
    for (s, &c) in comp.iter().enumerate() {
        if c != u32::MAX {
            members[c as usize].push(s as u32);
        }
    }
    let mut longest = vec![0usize; ncomp as usize];
    for c in 0..ncomp as usize {
        let mut best = 0;
        for &s in &members[c] {
            for &(t, q) in &graph.edges[s as usize] {
                let w = usize::from(q as usize == p);
                let tail = if live(t) && comp[t as usize] as usize != c {
                    longest[comp[t as usize] as usize]
                } else {
                    0
                };
                best = best.max(w + tail);
            }
        }
        longest[c] = best;
    }
    let bound = if live(0) {
        longest[comp[0] as usize]
    } else {
        0
    };
    WaitFreedom::WaitFree { bound }
}

/// Strongly connected components of the subgraph of states where `live` holds, as a
/// component number per state (`u32::MAX` outside), numbered in reverse topological order.
fn sccs(graph: &Graph, live: &dyn Fn(u32) -> bool) -> Vec<u32> {
    let n = graph.edges.len();
    let mut comp = vec![u32::MAX; n];
    let comps = crate::graph::tarjan(&graph.edges, 0..n as u32, live, |e| e.0);
    for (c, members) in comps.iter().enumerate() {
        for &s in members {
            comp[s as usize] = c as u32;
        }
    }
    comp
}

/// A shortest path (processes) from `from` to `to` inside component `c`.
fn path_within(graph: &Graph, from: u32, to: u32, c: u32, comp: &[u32]) -> Vec<usize> {
    let mut prev: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = std::collections::BTreeSet::from([from]);
    while let Some(v) = queue.pop_front() {
        if v == to {
            break;
        }
        for &(w, q) in &graph.edges[v as usize] {
            if comp[w as usize] == c && seen.insert(w) {
                prev.insert(w, (v, q));
                queue.push_back(w);
            }
        }
    }
    let mut path = Vec::new();
    let mut at = to;
    while at != from {
        let (v, q) = prev[&at];
        path.push(q as usize);
        at = v;
    }
    path.reverse();
    path
}

/// Outputs of every process, flattened, for properties over decisions.
pub fn all_outputs<P: Program>(state: &ShmState<P>) -> impl Iterator<Item = (usize, &P::Output)> {
    state
        .outputs
        .iter()
        .enumerate()
        .flat_map(|(p, outs)| outs.iter().map(move |o| (p, o)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::shared_memory::{Object, ObjectOp, ObjectRet};

    /// Process p writes 1 to its flag, then spins until the other's flag is set (if `spin`),
    /// then emits and halts.
    struct Flags {
        spin: bool,
    }

    impl Program for Flags {
        type Object = Object;
        type Local = (u8, Option<u64>);
        type Output = u64;
        fn processes(&self) -> usize {
            2
        }
        fn memory(&self) -> Vec<Object> {
            vec![Object::single_writer(0), Object::single_writer(1)]
        }
        fn init(&self, _p: usize) -> (u8, Option<u64>) {
            (0, None)
        }
        fn next(&self, p: usize, l: &(u8, Option<u64>)) -> Action<ObjectOp, u64> {
            match l.0 {
                0 => Action::Access {
                    object: p,
                    op: ObjectOp::Write(1),
                },
                1 => Action::Access {
                    object: 1 - p,
                    op: ObjectOp::Read,
                },
                2 if self.spin && l.1.is_none() => Action::Access {
                    object: 1 - p,
                    op: ObjectOp::Read,
                },
                2 => Action::Emit(l.1.unwrap_or(0)),
                _ => Action::Halt,
            }
        }
        fn resume(&self, _p: usize, l: &mut (u8, Option<u64>), ret: Option<ObjectRet>) {
            match ret {
                Some(ObjectRet::Value(v)) => {
                    l.1 = v;
                    if l.0 < 2 {
                        l.0 += 1;
                    }
                }
                _ => l.0 += 1,
            }
        }
    }

    #[test]
    fn straight_line_code_is_wait_free_with_its_step_count_as_bound() {
        let r = explore(&Flags { spin: false }, &[], ShmOptions::default());
        assert!(r.complete && r.safe());
        // write, read, emit: three steps each, whatever the interleaving
        for w in &r.wait_freedom {
            assert!(matches!(w, WaitFreedom::WaitFree { bound: 3 }), "{w:?}");
        }
        // interleavings of two 3-step processes: states are pairs of program counters (4 x 4)
        // refined by what was read; at least 16 and the count is deterministic
        assert!(r.states >= 16);
    }

    #[test]
    fn spinning_on_a_flag_is_not_wait_free_and_the_lasso_shows_the_spin() {
        let r = explore(&Flags { spin: true }, &[], ShmOptions::default());
        assert!(r.complete);
        let (p, w) = r.first_not_wait_free().expect("a spinning process");
        let WaitFreedom::Not { stem, cycle } = w else {
            unreachable!()
        };
        // p spins only if the other has not written its flag: the stem never has the other
        // process write, and the loop consists of p's reads of the empty flag.
        assert!(stem.steps.iter().all(|s| s.process() == p));
        assert!(!cycle.steps.is_empty());
        for s in &cycle.steps {
            assert_eq!(s.process(), p);
            assert!(matches!(
                s,
                synod_core::shared_memory::ShmStep::Access {
                    ret: ObjectRet::Value(None),
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_violated_property_comes_with_a_shortest_schedule() {
        // "no process reads the other's flag as set" fails: p0 writes, p1 writes, p0 reads.
        let prop = ShmProperty::always("nobody-sees-a-flag", |s: &ShmState<Flags>| {
            if s.locals.iter().any(|l| l.1.is_some()) {
                Err("a flag was seen".into())
            } else {
                Ok(())
            }
        });
        let r = explore(&Flags { spin: false }, &[prop], ShmOptions::default());
        assert_eq!(r.violations.len(), 1);
        let sched = &r.violations[0].schedule;
        assert_eq!(sched.steps.len(), 3, "{sched:?}");
    }
}
