//! The search: breadth-first (parallel, level by level) or depth-first, over fingerprints.
//!
//! Determinism: successors are enumerated in a fixed order; in a breadth-first level each
//! worker expands a fixed slice of the frontier, and the candidates are merged in frontier
//! order, so the set of states, their discovery order, the counts and the counterexample
//! reported are the same for any number of threads. A search that finds a violation finishes
//! the level it is in, then stops.

use crate::fpset::FpSet;
use crate::model::{Expectation, Model};
use crate::state::{CheckState, Step, Successor};
use synod_core::Protocol;

/// Breadth-first or depth-first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Level by level: shortest counterexamples; parallel.
    Bfs,
    /// Depth-first with an explicit stack: least memory; single-threaded.
    Dfs,
}

/// Search options.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// The search order.
    pub search: Search,
    /// Worker threads for breadth-first search.
    pub threads: usize,
    /// Do not explore beyond this depth.
    pub max_depth: Option<usize>,
    /// Stop once this many unique states were found.
    pub max_states: Option<u64>,
    /// Breadth-first search keeps a whole level of full states in memory: stop (bounded) when
    /// a level grows beyond this many states rather than exhaust memory (depth-first search
    /// needs far less).
    pub max_frontier: Option<usize>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            search: Search::Bfs,
            threads: 1,
            max_depth: None,
            max_states: None,
            max_frontier: Some(4_000_000),
        }
    }
}

/// A snapshot of the search's progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// States generated (with duplicates).
    pub total_states: u64,
    /// Distinct states.
    pub unique_states: u64,
    /// Deepest level reached.
    pub depth: usize,
    /// States waiting to be expanded.
    pub queue: usize,
}

/// One step of a path, with the state it led to.
#[derive_where::derive_where(Clone, Debug)]
pub struct PathStep<P: Protocol> {
    /// What happened.
    pub step: Step<P>,
    /// The answers to random choices it took.
    pub choices: Vec<u32>,
    /// The position of this successor in its parent's successor list (the initial state's
    /// position among the initial states, for the first step).
    pub index: usize,
    /// The state after the step.
    pub state: CheckState<P>,
}

/// A property that was violated (or, for `sometimes`, found), with the path that shows it.
#[derive_where::derive_where(Clone, Debug)]
pub struct Finding<P: Protocol> {
    /// The property.
    pub property: &'static str,
    /// Its expectation.
    pub expectation: Expectation,
    /// From an initial state to the state that shows it.
    pub path: Vec<PathStep<P>>,
}

/// The result of a check.
#[derive_where::derive_where(Clone, Debug)]
pub struct CheckResult<P: Protocol> {
    /// Distinct states found.
    pub unique_states: u64,
    /// States generated, duplicates included.
    pub total_states: u64,
    /// Deepest level reached.
    pub max_depth: usize,
    /// True if the whole reachable space was explored (no bound hit, no early stop).
    pub complete: bool,
    /// Violated `always` and `eventually` properties, and `sometimes` properties never found in
    /// a complete search (those without a path).
    pub violations: Vec<Finding<P>>,
    /// `sometimes` properties found, with an example path.
    pub discoveries: Vec<Finding<P>>,
    /// Bytes held by the visited set at the end.
    pub visited_bytes: usize,
    /// True if breadth-first search stopped because a level exceeded `max_frontier`.
    pub frontier_limit_hit: bool,
}

struct Entry<P: Protocol> {
    state: CheckState<P>,
    key: u64,
    ebits: u64,
    depth: u32,
}

/// Evaluated facts about a newly found state.
struct Eval {
    /// Index of the first `always` property that fails here.
    always_fail: Option<usize>,
    /// `sometimes` properties that hold here.
    sometimes: u64,
}

fn key_of(fp: u64, ebits: u64, has_eventually: bool) -> u64 {
    if has_eventually {
        fp ^ ebits.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    } else {
        fp
    }
}

impl<P: Protocol> Model<P> {
    fn eventually_mask(&self) -> u64 {
        let mut m = 0;
        for (i, p) in self.properties.iter().enumerate() {
            if p.expectation == Expectation::Eventually {
                m |= 1 << i;
            }
        }
        m
    }

    fn ebits_after(&self, parent: u64, s: &CheckState<P>) -> u64 {
        let mut e = parent;
        for (i, p) in self.properties.iter().enumerate() {
            if p.expectation == Expectation::Eventually && e & (1 << i) == 0 && p.holds(self, s) {
                e |= 1 << i;
            }
        }
        e
    }

    fn eval(&self, s: &CheckState<P>) -> Eval {
        let mut ev = Eval {
            always_fail: None,
            sometimes: 0,
        };
        for (i, p) in self.properties.iter().enumerate() {
            match p.expectation {
                Expectation::Always => {
                    if ev.always_fail.is_none() && !p.holds(self, s) {
                        ev.always_fail = Some(i);
                    }
                }
                Expectation::Sometimes => {
                    if p.holds(self, s) {
                        ev.sometimes |= 1 << i;
                    }
                }
                Expectation::Eventually => {}
            }
        }
        ev
    }
}

/// A target found during the search: the key of the state that shows a property.
#[derive(Clone, Copy)]
struct Target {
    key: u64,
}

/// Runs the search. `progress` is called after every level (BFS) or every 64k states (DFS).
pub fn check<P>(
    model: &Model<P>,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckResult<P>
where
    P: Protocol + Sync,
    CheckState<P>: Send,
{
    assert!(model.properties.len() <= 64, "at most 64 properties");
    let has_ev = model.eventually_mask() != 0;
    let mut visited = FpSet::default();
    let mut frontier: Vec<Entry<P>> = Vec::new();
    let mut found: Vec<Option<Target>> = vec![None; model.properties.len()];
    let mut stats = Progress::default();
    let mut stop = false;
    let mut bounded = false;
    let mut frontier_limit_hit = false;

    let admit = |s: CheckState<P>,
                 ebits: u64,
                 depth: u32,
                 visited: &mut FpSet,
                 found: &mut Vec<Option<Target>>,
                 stop: &mut bool|
     -> Option<Entry<P>> {
        let key = key_of(s.fingerprint(), ebits, has_ev);
        if !visited.insert(key) {
            return None;
        }
        let ev = model.eval(&s);
        record(&ev, key, found, stop);
        Some(Entry {
            state: s,
            key,
            ebits,
            depth,
        })
    };

    for s in model.initial_states() {
        stats.total_states += 1;
        let ebits = model.ebits_after(0, &s);
        if let Some(e) = admit(s, ebits, 0, &mut visited, &mut found, &mut stop) {
            frontier.push(e);
        }
    }
    stats.unique_states = visited.len() as u64;

    match opts.search {
        Search::Bfs => {
            let mut depth = 0;
            while !frontier.is_empty() && !stop {
                if opts.max_depth.is_some_and(|d| depth >= d) {
                    bounded = true;
                    break;
                }
                if opts.max_states.is_some_and(|m| stats.unique_states >= m) {
                    bounded = true;
                    break;
                }
                let expanded = expand_level(model, &frontier, &visited, opts.threads.max(1));
                let mut next = Vec::new();
                for part in expanded {
                    stats.total_states += part.generated;
                    for (parent_key, terminal_fail) in part.terminal {
                        for p in terminal_fail {
                            if found[p].is_none() {
                                found[p] = Some(Target { key: parent_key });
                                stop = true;
                            }
                        }
                    }
                    for cand in part.candidates {
                        if !visited.insert(cand.key) {
                            continue;
                        }
                        record(&cand.eval, cand.key, &mut found, &mut stop);
                        next.push(Entry {
                            state: cand.state,
                            key: cand.key,
                            ebits: cand.ebits,
                            depth: depth as u32 + 1,
                        });
                    }
                }
                depth += 1;
                stats.unique_states = visited.len() as u64;
                stats.depth = depth;
                stats.queue = next.len();
                progress(&stats);
                frontier = next;
                if opts.max_frontier.is_some_and(|m| frontier.len() > m) {
                    bounded = true;
                    frontier_limit_hit = true;
                    break;
                }
            }
        }
        Search::Dfs => {
            let mut stack = frontier;
            let mut succ = Vec::new();
            let mut since = 0u64;
            while let Some(entry) = stack.pop() {
                if stop {
                    break;
                }
                if opts.max_states.is_some_and(|m| visited.len() as u64 >= m) {
                    bounded = true;
                    break;
                }
                if opts.max_depth.is_some_and(|d| entry.depth as usize >= d) {
                    bounded = true;
                    continue;
                }
                succ.clear();
                model.successors(&entry.state, &mut succ);
                stats.total_states += succ.len() as u64;
                if succ.is_empty() {
                    let missing = model.eventually_mask() & !entry.ebits;
                    for p in bits(missing) {
                        if found[p].is_none() {
                            found[p] = Some(Target { key: entry.key });
                            stop = true;
                        }
                    }
                }
                stats.depth = stats.depth.max(entry.depth as usize);
                for s in succ.drain(..) {
                    let ebits = model.ebits_after(entry.ebits, &s.state);
                    let d = entry.depth + 1;
                    if let Some(e) = admit(s.state, ebits, d, &mut visited, &mut found, &mut stop) {
                        stack.push(e);
                    }
                }
                since += 1;
                if since >= 1 << 16 {
                    since = 0;
                    stats.unique_states = visited.len() as u64;
                    stats.queue = stack.len();
                    progress(&stats);
                }
            }
            stats.unique_states = visited.len() as u64;
            stats.queue = 0;
            progress(&stats);
            frontier = stack;
        }
    }

    let complete = !stop && !bounded && frontier.is_empty();
    let mut violations = Vec::new();
    let mut discoveries = Vec::new();
    for (i, p) in model.properties.iter().enumerate() {
        match (p.expectation, found[i]) {
            (Expectation::Sometimes, Some(t)) => discoveries.push(Finding {
                property: p.name,
                expectation: p.expectation,
                path: rebuild_path(model, t.key, has_ev),
            }),
            (Expectation::Sometimes, None) => {
                if complete {
                    violations.push(Finding {
                        property: p.name,
                        expectation: p.expectation,
                        path: Vec::new(),
                    });
                }
            }
            (_, Some(t)) => violations.push(Finding {
                property: p.name,
                expectation: p.expectation,
                path: rebuild_path(model, t.key, has_ev),
            }),
            (_, None) => {}
        }
    }
    CheckResult {
        unique_states: visited.len() as u64,
        total_states: stats.total_states,
        max_depth: stats.depth,
        complete,
        violations,
        discoveries,
        visited_bytes: visited.bytes(),
        frontier_limit_hit,
    }
}

fn bits(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |i| mask & (1 << i) != 0)
}

fn record(ev: &Eval, key: u64, found: &mut [Option<Target>], stop: &mut bool) {
    if let Some(p) = ev.always_fail {
        if found[p].is_none() {
            found[p] = Some(Target { key });
            *stop = true;
        }
    }
    for p in bits(ev.sometimes) {
        if found[p].is_none() {
            found[p] = Some(Target { key });
        }
    }
}

struct Candidate<P: Protocol> {
    state: CheckState<P>,
    key: u64,
    ebits: u64,
    eval: Eval,
}

struct LevelPart<P: Protocol> {
    generated: u64,
    candidates: Vec<Candidate<P>>,
    /// Terminal states (no successor) with the eventually-properties they never satisfied.
    terminal: Vec<(u64, Vec<usize>)>,
}

fn expand_slice<P: Protocol>(
    model: &Model<P>,
    slice: &[Entry<P>],
    visited: &FpSet,
) -> LevelPart<P> {
    let has_ev = model.eventually_mask() != 0;
    let mut part = LevelPart {
        generated: 0,
        candidates: Vec::new(),
        terminal: Vec::new(),
    };
    let mut succ: Vec<Successor<P>> = Vec::new();
    // States this worker already produced in this level: later copies are skipped here rather
    // than cloned, evaluated and merged (the first copy is the one the merge would keep).
    let mut seen = FpSet::with_capacity(slice.len() * 2);
    for entry in slice {
        succ.clear();
        model.successors(&entry.state, &mut succ);
        part.generated += succ.len() as u64;
        if succ.is_empty() {
            let missing = model.eventually_mask() & !entry.ebits;
            if missing != 0 {
                part.terminal.push((entry.key, bits(missing).collect()));
            }
        }
        for s in succ.drain(..) {
            let ebits = model.ebits_after(entry.ebits, &s.state);
            let key = key_of(s.state.fingerprint(), ebits, has_ev);
            if visited.contains(key) || !seen.insert(key) {
                continue;
            }
            let eval = model.eval(&s.state);
            part.candidates.push(Candidate {
                state: s.state,
                key,
                ebits,
                eval,
            });
        }
    }
    part
}

fn expand_level<P>(
    model: &Model<P>,
    frontier: &[Entry<P>],
    visited: &FpSet,
    threads: usize,
) -> Vec<LevelPart<P>>
where
    P: Protocol + Sync,
    CheckState<P>: Send,
{
    if threads <= 1 || frontier.len() < 64 {
        return vec![expand_slice(model, frontier, visited)];
    }
    let chunk = frontier.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = frontier
            .chunks(chunk)
            .map(|slice| scope.spawn(move || expand_slice(model, slice, visited)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("checker worker panicked"))
            .collect()
    })
}

/// Rebuilds the first-discovered path to the state with key `target` by a second
/// breadth-first search that keeps parents (single-threaded; visits states in the same order as
/// the main search, so it finds the same path).
fn rebuild_path<P: Protocol>(model: &Model<P>, target: u64, has_ev: bool) -> Vec<PathStep<P>> {
    use std::collections::BTreeMap;
    // key -> (parent key, index in the parent's successors, step, choices, state)
    let mut parent: BTreeMap<u64, (Option<u64>, PathStep<P>)> = BTreeMap::new();
    let mut frontier: Vec<(u64, u64, CheckState<P>)> = Vec::new();
    for (idx, s) in model.initial_states().into_iter().enumerate() {
        let ebits = model.ebits_after(0, &s);
        let key = key_of(s.fingerprint(), ebits, has_ev);
        if parent.contains_key(&key) {
            continue;
        }
        parent.insert(
            key,
            (
                None,
                PathStep {
                    step: Step::Init,
                    choices: Vec::new(),
                    index: idx,
                    state: s.clone(),
                },
            ),
        );
        frontier.push((key, ebits, s));
    }
    let mut succ = Vec::new();
    while !parent.contains_key(&target) && !frontier.is_empty() {
        let mut next = Vec::new();
        for (key, ebits, s) in &frontier {
            succ.clear();
            model.successors(s, &mut succ);
            for (idx, x) in succ.drain(..).enumerate() {
                let e = model.ebits_after(*ebits, &x.state);
                let k = key_of(x.state.fingerprint(), e, has_ev);
                if parent.contains_key(&k) {
                    continue;
                }
                parent.insert(
                    k,
                    (
                        Some(*key),
                        PathStep {
                            step: x.step,
                            choices: x.choices,
                            index: idx,
                            state: x.state.clone(),
                        },
                    ),
                );
                next.push((k, e, x.state));
                if k == target {
                    break;
                }
            }
            if parent.contains_key(&target) {
                break;
            }
        }
        frontier = next;
    }
    let mut path = Vec::new();
    let mut k = Some(target);
    while let Some(key) = k {
        let Some((p, step)) = parent.remove(&key) else {
            break;
        };
        path.push(step);
        k = p;
    }
    path.reverse();
    path
}
