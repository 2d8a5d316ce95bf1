//! The search: breadth-first (parallel, level by level) or depth-first, over fingerprints.
//!
//! Determinism: successors are enumerated in a fixed order; in a breadth-first level each
//! worker expands a fixed slice of the frontier, and the candidates are merged in frontier
//! order, so the set of states, their discovery order, the counts and the counterexample
//! reported are the same for any number of threads. A search that finds a violation finishes
//! the level it is in, then stops.
//!
//! Depth-first search runs workers with a stack each over a shared, sharded visited set; an
//! idle worker is handed the bottom half of a busy one's stack. The reachable set does not
//! depend on the order it is explored in, so a *complete* depth-first search reports the same
//! counts and verdicts for any number of threads; one that stops early (at a violation or a
//! bound) reports how far it got, and the path it took, which can vary with more than one
//! thread. Breadth-first search hands over to depth-first search when a level outgrows
//! [`CheckOptions::max_frontier`].

use crate::fpset::{FpSet, ShardedFpSet};
use crate::model::{Expectation, Model};
use crate::state::{CheckState, Step, Successor};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use synod_core::Protocol;

/// Breadth-first or depth-first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Level by level: shortest counterexamples; parallel.
    Bfs,
    /// Depth-first with a stack per worker: least memory; parallel.
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
    /// Breadth-first search keeps a whole level of states in memory: when a level grows beyond
    /// this many states, it goes on depth-first from that level (which needs only the visited
    /// set and a stack per thread). Paths are rebuilt as shortest paths either way.
    pub max_frontier: Option<usize>,
    /// After a complete search, `eventually` properties are also checked against fair cycles
    /// ([`crate::liveness`]), which keeps the edges of the states where the property never held:
    /// at most this many states.
    pub max_cycle_states: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            search: Search::Bfs,
            threads: 1,
            max_depth: None,
            max_states: None,
            max_frontier: Some(100_000),
            max_cycle_states: 2_000_000,
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
    /// For a run that goes on for ever (a fair cycle on which an `eventually` property never
    /// holds): the position in `path` of the state the path's last step returns to.
    pub loop_start: Option<usize>,
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
    /// If breadth-first search handed over to depth-first search because a level exceeded
    /// `max_frontier` states, the depth of that level.
    pub switched_to_dfs_at: Option<usize>,
    /// True if every `eventually` property was also checked against fair cycles (false when
    /// the search was not complete, or more than `max_cycle_states` states had to be kept).
    pub cycles_checked: bool,
    /// Some reachable state had a successor beyond the model's [`Model::boundary`]: the search
    /// covered the runs inside it only.
    pub boundary_hit: bool,
}

struct Entry<P: Protocol> {
    state: CheckState<P>,
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

/// What a search found, before paths are rebuilt.
struct Explored {
    stats: Progress,
    /// Which properties were shown (violated, or for `sometimes`, found).
    found: Vec<bool>,
    /// Stopped at a violation.
    stop: bool,
    /// Stopped at a bound (depth, states, frontier).
    bounded: bool,
    /// The depth at which breadth-first search handed over to depth-first.
    switched_at: Option<usize>,
    /// Some state had a successor beyond the model's boundary.
    cut: bool,
    unique: u64,
    visited_bytes: usize,
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
    let initial: Vec<(CheckState<P>, u64)> = model
        .initial_states()
        .into_iter()
        .map(|s| {
            let e = model.ebits_after(0, &s);
            (s, e)
        })
        .collect();
    let ex = match opts.search {
        Search::Bfs => {
            let (ex, rest) = bfs(model, opts, initial, progress);
            match rest {
                // A level outgrew --max-frontier: go on depth-first from it.
                Some((visited, frontier)) => {
                    let sharded = ShardedFpSet::default();
                    for fp in visited.iter() {
                        sharded.insert(fp);
                    }
                    drop(visited);
                    let mut more = dfs(model, opts, sharded, frontier, &ex, progress);
                    more.switched_at = ex.switched_at;
                    more.cut |= ex.cut;
                    more
                }
                None => ex,
            }
        }
        Search::Dfs => {
            let visited = ShardedFpSet::default();
            let mut found = vec![false; model.properties.len()];
            let mut stop = false;
            let mut start = Vec::new();
            let generated = initial.len() as u64;
            for (s, ebits) in initial {
                let key = key_of(model.fingerprint(&s), ebits, has_ev);
                if visited.insert(key) {
                    record(&model.eval(&s), &mut found, &mut stop);
                    start.push(Entry {
                        state: s,
                        ebits,
                        depth: 0,
                    });
                }
            }
            let before = Explored {
                stats: Progress {
                    total_states: generated,
                    ..Progress::default()
                },
                found,
                stop,
                bounded: false,
                switched_at: None,
                cut: false,
                unique: 0,
                visited_bytes: 0,
            };
            dfs(model, opts, visited, start, &before, progress)
        }
    };
    // Every finding is shown by a shortest path, rebuilt by a breadth-first search towards the
    // first state that shows it: the same path whatever the search order and thread count.
    let path_to = |i: usize| rebuild_path(model, Goal::of(model, i), has_ev);
    let complete = !ex.stop && !ex.bounded;
    let mut violations = Vec::new();
    let mut discoveries = Vec::new();
    for (i, p) in model.properties.iter().enumerate() {
        match (p.expectation, ex.found[i]) {
            (Expectation::Sometimes, true) => discoveries.push(Finding {
                property: p.name,
                expectation: p.expectation,
                path: path_to(i),
                loop_start: None,
            }),
            (Expectation::Sometimes, false) => {
                if complete {
                    violations.push(Finding {
                        property: p.name,
                        expectation: p.expectation,
                        path: Vec::new(),
                        loop_start: None,
                    });
                }
            }
            (_, true) => violations.push(Finding {
                property: p.name,
                expectation: p.expectation,
                path: path_to(i),
                loop_start: None,
            }),
            (_, false) => {}
        }
    }
    // Runs that go on for ever: fair cycles that avoid an `eventually` property.
    let mut cycles_checked = complete;
    if complete {
        for (i, p) in model.properties.iter().enumerate() {
            if p.expectation != Expectation::Eventually || ex.found[i] {
                continue;
            }
            match crate::liveness::fair_cycle(model, i, opts.max_cycle_states) {
                crate::liveness::Cycles::None => {}
                crate::liveness::Cycles::TooLarge => cycles_checked = false,
                crate::liveness::Cycles::Found(lasso) => violations.push(Finding {
                    property: p.name,
                    expectation: p.expectation,
                    path: crate::trace::replay(model, &lasso.path).expect("a lasso replays"),
                    loop_start: Some(lasso.loop_start),
                }),
            }
        }
    } else if model.eventually_mask() == 0 {
        cycles_checked = true;
    }
    CheckResult {
        unique_states: ex.unique,
        total_states: ex.stats.total_states,
        max_depth: ex.stats.depth,
        complete,
        violations,
        discoveries,
        visited_bytes: ex.visited_bytes,
        switched_to_dfs_at: ex.switched_at,
        cycles_checked,
        boundary_hit: ex.cut,
    }
}

/// What breadth-first search leaves for depth-first search when a level outgrows the bound.
type Leftover<P> = Option<(FpSet, Vec<Entry<P>>)>;

/// Breadth-first, level by level; each level expanded by `opts.threads` workers and merged in
/// frontier order. Returns the visited set and the frontier if a level outgrew
/// `opts.max_frontier`.
fn bfs<P>(
    model: &Model<P>,
    opts: &CheckOptions,
    initial: Vec<(CheckState<P>, u64)>,
    progress: &mut dyn FnMut(&Progress),
) -> (Explored, Leftover<P>)
where
    P: Protocol + Sync,
    CheckState<P>: Send,
{
    let has_ev = model.eventually_mask() != 0;
    let mut visited = FpSet::default();
    let mut found = vec![false; model.properties.len()];
    let mut stats = Progress::default();
    let mut stop = false;
    let mut bounded = false;
    let mut switched_at = None;
    let mut cut = false;
    let mut frontier = Vec::new();
    for (s, ebits) in initial {
        stats.total_states += 1;
        if visited.insert(key_of(model.fingerprint(&s), ebits, has_ev)) {
            record(&model.eval(&s), &mut found, &mut stop);
            frontier.push(Entry {
                state: s,
                ebits,
                depth: 0,
            });
        }
    }
    stats.unique_states = visited.len() as u64;
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
            cut |= part.cut;
            for terminal_fail in part.terminal {
                for p in terminal_fail {
                    if !found[p] {
                        found[p] = true;
                        stop = true;
                    }
                }
            }
            for cand in part.candidates {
                if !visited.insert(cand.key) {
                    continue;
                }
                record(&cand.eval, &mut found, &mut stop);
                next.push(Entry {
                    state: cand.state,
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
        if !stop && opts.max_frontier.is_some_and(|m| frontier.len() > m) {
            switched_at = Some(depth);
            break;
        }
    }
    let ex = Explored {
        stats,
        found,
        stop,
        bounded,
        switched_at,
        cut,
        unique: visited.len() as u64,
        visited_bytes: visited.bytes(),
    };
    let rest = switched_at.map(|_| (visited, frontier));
    (ex, rest)
}

/// Work shared by depth-first workers: batches of states to explore, and who is waiting.
struct Pool<P: Protocol> {
    batches: Vec<Vec<Entry<P>>>,
    idle: usize,
    done: bool,
}

/// What depth-first workers share.
struct DfsShared<'m, P: Protocol> {
    model: &'m Model<P>,
    opts: &'m CheckOptions,
    threads: usize,
    has_ev: bool,
    visited: ShardedFpSet,
    pool: Mutex<Pool<P>>,
    wake: Condvar,
    /// Workers waiting for work (a cheap hint for the busy ones to share theirs).
    hungry: AtomicUsize,
    /// Some state had a successor beyond the model's boundary.
    cut: AtomicBool,
    stop: AtomicBool,
    bounded: AtomicBool,
    found: AtomicU64,
    generated: AtomicU64,
    deepest: AtomicUsize,
}

impl<P: Protocol> DfsShared<'_, P> {
    /// Takes a batch of work, waiting for one; `None` when the search is over.
    fn take(&self) -> Option<Vec<Entry<P>>> {
        let mut pool = self.pool.lock().expect("pool");
        loop {
            if pool.done || self.stop.load(Ordering::Relaxed) {
                pool.done = true;
                self.wake.notify_all();
                return None;
            }
            if let Some(b) = pool.batches.pop() {
                return Some(b);
            }
            pool.idle += 1;
            if pool.idle == self.threads {
                pool.done = true;
                self.wake.notify_all();
                return None;
            }
            self.hungry.fetch_add(1, Ordering::Relaxed);
            pool = self.wake.wait(pool).expect("pool");
            self.hungry.fetch_sub(1, Ordering::Relaxed);
            pool.idle -= 1;
        }
    }

    fn give(&self, batch: Vec<Entry<P>>) {
        let mut pool = self.pool.lock().expect("pool");
        pool.batches.push(batch);
        self.wake.notify_one();
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let mut pool = self.pool.lock().expect("pool");
        pool.done = true;
        self.wake.notify_all();
    }

    /// Records that the properties in `mask` were shown.
    fn flag(&self, mask: u64, stops: bool) {
        if mask != 0 {
            self.found.fetch_or(mask, Ordering::Relaxed);
            if stops {
                self.halt();
            }
        }
    }

    /// One worker: depth-first from its own stack, sharing half of it when another is hungry.
    fn work(&self, mut progress: Option<&mut dyn FnMut(&Progress)>) {
        let model = self.model;
        let ev_mask = model.eventually_mask();
        let mut succ = Vec::new();
        let mut stack: Vec<Entry<P>> = Vec::new();
        let mut generated = 0u64;
        let mut deepest = 0usize;
        let mut since = 0u32;
        loop {
            let Some(entry) = stack.pop() else {
                match self.take() {
                    Some(batch) => {
                        stack = batch;
                        continue;
                    }
                    None => break,
                }
            };
            if self
                .opts
                .max_depth
                .is_some_and(|d| entry.depth as usize >= d)
            {
                self.bounded.store(true, Ordering::Relaxed);
                continue;
            }
            succ.clear();
            let cut = model.successors(&entry.state, &mut succ);
            if cut {
                self.cut.store(true, Ordering::Relaxed);
            }
            generated += succ.len() as u64;
            deepest = deepest.max(entry.depth as usize);
            if succ.is_empty() && !cut {
                self.flag(ev_mask & !entry.ebits, true);
            }
            for s in succ.drain(..) {
                let ebits = model.ebits_after(entry.ebits, &s.state);
                if !self
                    .visited
                    .insert(key_of(model.fingerprint(&s.state), ebits, self.has_ev))
                {
                    continue;
                }
                let ev = model.eval(&s.state);
                if let Some(p) = ev.always_fail {
                    self.flag(1 << p, true);
                }
                self.flag(ev.sometimes, false);
                stack.push(Entry {
                    state: s.state,
                    ebits,
                    depth: entry.depth + 1,
                });
            }
            since += 1;
            if since.is_multiple_of(256) {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                self.generated.fetch_add(generated, Ordering::Relaxed);
                generated = 0;
                self.deepest.fetch_max(deepest, Ordering::Relaxed);
                if self.hungry.load(Ordering::Relaxed) > 0 && stack.len() >= 2 {
                    // The bottom of the stack holds the shallowest, largest subtrees.
                    let half: Vec<Entry<P>> = stack.drain(..stack.len() / 2).collect();
                    self.give(half);
                }
                if let Some(m) = self.opts.max_states {
                    if since.is_multiple_of(1 << 14) && self.visited.len() as u64 >= m {
                        self.bounded.store(true, Ordering::Relaxed);
                        self.halt();
                        break;
                    }
                }
                if let Some(report) = progress.as_mut() {
                    if since.is_multiple_of(1 << 16) {
                        report(&Progress {
                            total_states: self.generated.load(Ordering::Relaxed),
                            unique_states: self.visited.len() as u64,
                            depth: self.deepest.load(Ordering::Relaxed),
                            queue: stack.len(),
                        });
                    }
                }
            }
        }
        self.generated.fetch_add(generated, Ordering::Relaxed);
        self.deepest.fetch_max(deepest, Ordering::Relaxed);
    }
}

/// Depth-first on `opts.threads` workers with a shared visited set: memory is the visited set
/// and a stack per worker. A complete search finds the same states, counts and verdicts for any
/// number of threads (the reachable set does not depend on the order it is explored in); a
/// search stopped by a violation or a bound reports how far it got, which varies.
fn dfs<P>(
    model: &Model<P>,
    opts: &CheckOptions,
    visited: ShardedFpSet,
    start: Vec<Entry<P>>,
    before: &Explored,
    progress: &mut dyn FnMut(&Progress),
) -> Explored
where
    P: Protocol + Sync,
    CheckState<P>: Send,
{
    let threads = opts.threads.max(1);
    let mut found_before = 0;
    for (i, f) in before.found.iter().enumerate() {
        if *f {
            found_before |= 1 << i;
        }
    }
    let shared = DfsShared {
        model,
        opts,
        threads,
        has_ev: model.eventually_mask() != 0,
        visited,
        pool: Mutex::new(Pool {
            batches: Vec::new(),
            idle: 0,
            done: false,
        }),
        wake: Condvar::new(),
        hungry: AtomicUsize::new(0),
        cut: AtomicBool::new(before.cut),
        stop: AtomicBool::new(before.stop),
        bounded: AtomicBool::new(before.bounded),
        found: AtomicU64::new(found_before),
        generated: AtomicU64::new(before.stats.total_states),
        deepest: AtomicUsize::new(before.stats.depth),
    };
    if !before.stop && !before.bounded {
        shared.give(start);
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| shared.work(None));
            }
            shared.work(Some(progress));
        });
    }
    let found_mask = shared.found.load(Ordering::Relaxed);
    let stats = Progress {
        total_states: shared.generated.load(Ordering::Relaxed),
        unique_states: shared.visited.len() as u64,
        depth: shared.deepest.load(Ordering::Relaxed),
        queue: 0,
    };
    progress(&stats);
    Explored {
        stats,
        found: (0..model.properties.len())
            .map(|i| found_mask & (1 << i) != 0)
            .collect(),
        stop: shared.stop.load(Ordering::Relaxed) && !shared.bounded.load(Ordering::Relaxed),
        bounded: shared.bounded.load(Ordering::Relaxed),
        switched_at: None,
        cut: shared.cut.load(Ordering::Relaxed),
        unique: stats.unique_states,
        visited_bytes: shared.visited.bytes(),
    }
}

fn bits(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |i| mask & (1 << i) != 0)
}

fn record(ev: &Eval, found: &mut [bool], stop: &mut bool) {
    if let Some(p) = ev.always_fail {
        if !found[p] {
            found[p] = true;
            *stop = true;
        }
    }
    for p in bits(ev.sometimes) {
        found[p] = true;
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
    terminal: Vec<Vec<usize>>,
    /// Some successor lay beyond the model's boundary.
    cut: bool,
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
        cut: false,
    };
    let mut succ: Vec<Successor<P>> = Vec::new();
    // States this worker already produced in this level: later copies are skipped here rather
    // than cloned, evaluated and merged (the first copy is the one the merge would keep).
    let mut seen = FpSet::with_capacity(slice.len() * 2);
    for entry in slice {
        succ.clear();
        let cut = model.successors(&entry.state, &mut succ);
        part.cut |= cut;
        part.generated += succ.len() as u64;
        if succ.is_empty() && !cut {
            let missing = model.eventually_mask() & !entry.ebits;
            if missing != 0 {
                part.terminal.push(bits(missing).collect());
            }
        }
        for s in succ.drain(..) {
            let ebits = model.ebits_after(entry.ebits, &s.state);
            let key = key_of(model.fingerprint(&s.state), ebits, has_ev);
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

/// What a rebuilt path must end in.
#[derive(Clone, Copy)]
enum Goal {
    /// A state where the property fails (`always`).
    Fails(usize),
    /// A state where it holds (`sometimes`).
    Holds(usize),
    /// A state with no successor on whose path it never held (`eventually`).
    EndsWithout(usize),
}

impl Goal {
    fn of<P: Protocol>(model: &Model<P>, p: usize) -> Goal {
        match model.properties[p].expectation {
            Expectation::Always => Goal::Fails(p),
            Expectation::Sometimes => Goal::Holds(p),
            Expectation::Eventually => Goal::EndsWithout(p),
        }
    }

    /// Is `s`, with key `key`, a goal state, judged when it is found?
    fn reached<P: Protocol>(self, model: &Model<P>, s: &CheckState<P>) -> bool {
        match self {
            Goal::Fails(p) => !model.properties[p].holds(model, s),
            Goal::Holds(p) => model.properties[p].holds(model, s),
            Goal::EndsWithout(_) => false,
        }
    }

    /// Is a state with eventually-bits `ebits` and successors `succ` a goal, judged when it is
    /// expanded?
    fn ended<P: Protocol>(self, ebits: u64, succ: &[Successor<P>], cut: bool) -> bool {
        match self {
            Goal::EndsWithout(p) => succ.is_empty() && !cut && ebits & (1 << p) == 0,
            _ => false,
        }
    }
}

/// Rebuilds a shortest path to a goal state by a second breadth-first search that keeps, for
/// each state, its parent's key and its position among the parent's successors
/// (single-threaded). It visits states in the same order as the main breadth-first search, so it
/// ends in the same state that search reported, whatever the search order or thread count of
/// the search that found the property. The path is then replayed from those positions.
fn rebuild_path<P: Protocol>(model: &Model<P>, goal: Goal, has_ev: bool) -> Vec<PathStep<P>> {
    use std::collections::BTreeMap;
    // key -> (parent key, position among the parent's successors); roots have no parent.
    let mut parent: BTreeMap<u64, (Option<u64>, u32)> = BTreeMap::new();
    let mut frontier: Vec<(u64, u64, CheckState<P>)> = Vec::new();
    let mut target = None;
    for (idx, s) in model.initial_states().into_iter().enumerate() {
        let ebits = model.ebits_after(0, &s);
        let key = key_of(model.fingerprint(&s), ebits, has_ev);
        if parent.contains_key(&key) {
            continue;
        }
        if target.is_none() && goal.reached(model, &s) {
            target = Some(key);
        }
        parent.insert(key, (None, idx as u32));
        frontier.push((key, ebits, s));
    }
    let mut succ = Vec::new();
    'search: while target.is_none() && !frontier.is_empty() {
        let mut next = Vec::new();
        for (key, ebits, s) in &frontier {
            succ.clear();
            let cut = model.successors(s, &mut succ);
            if goal.ended(*ebits, &succ, cut) {
                target = Some(*key);
                break 'search;
            }
            for (idx, x) in succ.drain(..).enumerate() {
                let e = model.ebits_after(*ebits, &x.state);
                let k = key_of(model.fingerprint(&x.state), e, has_ev);
                if parent.contains_key(&k) {
                    continue;
                }
                parent.insert(k, (Some(*key), idx as u32));
                if goal.reached(model, &x.state) {
                    target = Some(k);
                    break 'search;
                }
                next.push((k, e, x.state));
            }
        }
        frontier = next;
    }
    drop(frontier);
    let mut indices = Vec::new();
    let mut k = target;
    while let Some(key) = k {
        let (p, idx) = parent[&key];
        indices.push(crate::trace::StepIndex {
            index: idx as usize,
        });
        k = p;
    }
    indices.reverse();
    if indices.is_empty() {
        return Vec::new();
    }
    crate::trace::replay(model, &indices).expect("a rebuilt path replays")
}
