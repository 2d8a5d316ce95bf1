//! The checkers' entry points: budgets, outcomes, and the P-compositional split.

use crate::search::{self, Found, Frontier, Item, Meter, Stats};
use crate::{History, SequentialSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How much work a check may do before answering [`Outcome::Unknown`].
///
/// There is no wall clock in this crate: work is counted in *steps*, one per candidate
/// operation tried (a call of [`SequentialSpec::accepts`], or of [`SequentialSpec::step`] for
/// an operation that never returned). A driver that wants a time limit sets `cancel` from
/// another thread; the search polls it every 256 steps. In a partitioned check the step limit
/// applies to each part on its own (so that the verdict does not depend on which part a thread
/// took first); the flag stops them all.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// At most this many steps (`None`: no limit).
    pub max_steps: Option<u64>,
    /// Stop as soon as this flag is set (`None`: never).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Budget {
    /// No limit.
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// At most `max_steps` steps.
    pub fn steps(max_steps: u64) -> Budget {
        Budget {
            max_steps: Some(max_steps),
            cancel: None,
        }
    }

    /// The same budget, also stopped when `flag` is set.
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Budget {
        self.cancel = Some(flag);
        self
    }
}

/// A checker's verdict. Operations are named by their index in [`History::ops`].
///
/// The variant names speak of linearizability; [`check_sequential`] answers with the same
/// type, where `Linearizable` reads "sequentially consistent" and `order` is a witness that
/// respects program order instead of real time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// The history is consistent.
    Linearizable {
        /// A witness: the operations in the order they take effect. It holds every operation
        /// that returned and those that never returned but must have taken effect (the others
        /// are left out).
        order: Vec<usize>,
    },
    /// The history is not consistent.
    NotLinearizable {
        /// The longest sequence the search could linearize (in a partitioned check: within the
        /// partition that failed).
        longest_prefix: Vec<usize>,
        /// The operations that returned and could have been linearized next after
        /// `longest_prefix`, none of which the specification accepts there: the place to look.
        culprits: Vec<usize>,
    },
    /// The budget ran out (or the check was cancelled) before a verdict.
    Unknown {
        /// Steps taken.
        steps: u64,
        /// Partial result: the longest sequence linearized before the search stopped (in a
        /// partitioned check: within the first part that did not finish).
        longest_prefix: Vec<usize>,
    },
}

impl Outcome {
    /// `Some(true)` if consistent, `Some(false)` if not, `None` if unknown.
    pub fn holds(&self) -> Option<bool> {
        match self {
            Outcome::Linearizable { .. } => Some(true),
            Outcome::NotLinearizable { .. } => Some(false),
            Outcome::Unknown { .. } => None,
        }
    }

    /// True for [`Outcome::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        self.holds() == Some(true)
    }
}

/// Checks that `history` is linearizable with respect to `spec` (Herlihy & Wing 1990): some
/// order of its operations respects real time (if `a` returned before `b` was called, `a` comes
/// first) and is a legal sequential execution of `spec`. Operations that never returned may be
/// placed anywhere after their call, or left out.
///
/// The search is Wing & Gong's depth-first search over which operation takes effect next,
/// with Lowe's memoisation of configurations (linearized set, spec state) in a hash set.
/// Operations that change nothing (reads, failed compare-and-swaps: see
/// [`SequentialSpec::preserves_state`]) are linearized as soon as they can be, without
/// branching. When every operation names a [`SequentialSpec::partition`], each part is checked
/// on its own (P-compositionality) and the witnesses are merged.
///
/// Cost: linear-ish in the length of a history with few operations in flight at once,
/// exponential in the number of concurrent operations in the worst case (the problem is
/// NP-complete, Gibbons & Korach 1997).
///
/// ```
/// use synod_consistency::specs::{Register, RegisterOp::*, RegisterRet::*};
/// use synod_consistency::{check_linearizable, Budget, Event, History, Outcome};
///
/// // Client 0 writes 1 and is told so; afterwards client 1 reads nothing: stale.
/// let h = History::from_events([
///     Event::Call { client: 0, op: Write(1) },
///     Event::Return { client: 0, ret: WriteOk },
///     Event::Call { client: 1, op: Read },
///     Event::Return { client: 1, ret: ReadOk(None) },
/// ]);
/// let outcome = check_linearizable(&Register::new(), &h, Budget::unlimited());
/// assert_eq!(outcome, Outcome::NotLinearizable { longest_prefix: vec![0], culprits: vec![1] });
/// ```
///
/// # Panics
/// If an operation returns before its call (see [`History::validate`]).
pub fn check_linearizable<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: Budget,
) -> Outcome {
    check_linearizable_with_stats(spec, history, budget).0
}

/// [`check_linearizable`], also returning the search's counters.
///
/// # Panics
/// If an operation returns before its call (see [`History::validate`]).
pub fn check_linearizable_with_stats<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: Budget,
) -> (Outcome, Stats) {
    if let Err(e) = history.validate() {
        panic!("check_linearizable: {e}");
    }
    let parts = partitions(spec, history);
    let (results, earlier) = in_rounds(parts.len(), &budget, |round, pending| {
        check_parts_serial(spec, history, &parts, pending, round)
    });
    let (outcome, mut stats) = combine(history, results);
    stats.steps += earlier;
    (outcome, stats)
}

/// [`check_linearizable`] for a history split into `parts` by the caller, checked by up to
/// `threads` threads, each part on its own (P-compositionality: the caller promises the parts
/// are independent, as [`SequentialSpec::partition`] describes).
///
/// Parts are numbered by their position in `parts`; that is their priority. The parts are
/// checked in rounds of growing step budgets ([`FIRST_ROUND_STEPS`], then four times more each
/// round): a part that is not decided within a round's budget is tried again, from scratch,
/// in the next one. The first round in which some part fails ends the check, and the verdict
/// names the *lowest-numbered* part that failed in that round: within the round, every part
/// below it runs to the round's budget and the parts above it are abandoned as soon as it
/// fails. Everything is counted in steps, so the reported failure does not depend on the
/// number of threads or their timing, and one hard part that is linearizable does not hide an
/// easy failure in another (a key-value checker lists its keys in key order, and so reports
/// the lowest key among those whose failure is quickest to prove). Repeating unfinished parts
/// costs at most a third more steps than running each once with the final budget.
/// [`Budget::max_steps`] bounds each part's last round; the cancellation flag stops every
/// part.
///
/// Returns the outcome and, for a failure, the failing part's number.
///
/// # Panics
/// If an operation returns before its call, or a part names an operation twice or out of
/// range.
pub fn check_linearizable_parts<S>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    parts: &[Vec<usize>],
    budget: Budget,
    threads: usize,
) -> (Outcome, Option<usize>, Stats)
where
    S: SequentialSpec + Sync,
    S::Op: Sync,
    S::Ret: Sync,
{
    let mut seen = vec![false; history.ops.len()];
    for &i in parts.iter().flatten() {
        assert!(
            !std::mem::replace(&mut seen[i], true),
            "operation {i} in two parts"
        );
    }
    if let Err(e) = history.validate() {
        panic!("check_linearizable_parts: {e}");
    }
    let (results, earlier) = in_rounds(parts.len(), &budget, |round, pending| {
        if threads <= 1 || pending.len() <= 1 {
            check_parts_serial(spec, history, parts, pending, round)
        } else {
            run_parallel(pending.len(), threads, |j, lowest| {
                check_part(
                    spec,
                    history,
                    &parts[pending[j]],
                    Meter::new(round).abandon_after(lowest, j),
                    Order::RealTime,
                )
            })
        }
    });
    let (outcome, mut stats) = combine(history, results);
    stats.steps += earlier;
    let failed = match &outcome {
        Outcome::NotLinearizable {
            culprits,
            longest_prefix,
        } => culprits
            .first()
            .or(longest_prefix.first())
            .and_then(|&i| parts.iter().position(|p| p.contains(&i))),
        _ => None,
    };
    (outcome, failed, stats)
}

/// One part's result.
type PartResult = (Outcome, Stats);

/// The step budget of the first round of a partitioned check (see
/// [`check_linearizable_parts`]).
pub const FIRST_ROUND_STEPS: u64 = 1 << 14;

/// Runs rounds of `run(round_budget, pending_parts)` (which returns one result per pending
/// part, `None` for an abandoned one) with growing step budgets until a round has a failure,
/// every part is decided, the caller's budget is reached or the check is cancelled. Returns
/// each part's last result and the steps spent in earlier rounds on parts that were retried.
fn in_rounds(
    n: usize,
    budget: &Budget,
    mut run: impl FnMut(&Budget, &[usize]) -> Vec<Option<PartResult>>,
) -> (Vec<Option<PartResult>>, u64) {
    let mut results: Vec<Option<PartResult>> = vec![None; n];
    let mut pending: Vec<usize> = (0..n).collect();
    let mut cap = FIRST_ROUND_STEPS;
    let mut earlier = 0u64;
    loop {
        let max = budget.max_steps.map_or(cap, |m| m.min(cap));
        let last = n == 1 || budget.max_steps.is_some_and(|m| m <= cap);
        let round = Budget {
            max_steps: if n == 1 { budget.max_steps } else { Some(max) },
            cancel: budget.cancel.clone(),
        };
        let got = run(&round, &pending);
        let cancelled = budget
            .cancel
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed));
        let mut failed = false;
        let mut retry = Vec::new();
        for (&k, r) in pending.iter().zip(got) {
            let Some(r) = r else { continue };
            match r.0 {
                Outcome::NotLinearizable { .. } => failed = true,
                Outcome::Unknown { .. } if !(last || cancelled) => {
                    earlier += r.1.steps;
                    retry.push(k);
                }
                _ => {}
            }
            results[k] = Some(r);
        }
        if failed || retry.is_empty() {
            return (results, earlier);
        }
        for &k in &retry {
            results[k] = None;
        }
        pending = retry;
        cap = cap.saturating_mul(4);
    }
}

/// Checks the `pending` parts one after the other in priority order (see
/// [`check_linearizable_parts`]), stopping at the first failure; one result per pending part.
fn check_parts_serial<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    parts: &[Vec<usize>],
    pending: &[usize],
    budget: &Budget,
) -> Vec<Option<PartResult>> {
    let mut results = Vec::with_capacity(pending.len());
    for &k in pending {
        let r = check_part(
            spec,
            history,
            &parts[k],
            Meter::new(budget),
            Order::RealTime,
        );
        let failed = r.0.holds() == Some(false);
        results.push(Some(r));
        if failed {
            break;
        }
    }
    results.resize(pending.len(), None);
    results
}

/// Which order the witness must respect.
enum Order {
    /// Real time: linearizability.
    RealTime,
    /// Each client's program order: sequential consistency.
    Program,
}

/// Checks one part from the initial state.
fn check_part<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    part: &[usize],
    mut meter: Meter<'_>,
    order: Order,
) -> PartResult {
    let mut stats = Stats {
        partitions: 1,
        ..Stats::default()
    };
    let (items, index) = items::<S>(history, part);
    let frontier = match order {
        Order::RealTime => Frontier::real_time(&items),
        Order::Program => Frontier::program_order(&items),
    };
    let found = search::search(spec, &items, frontier, &mut meter, &mut stats);
    (to_outcome(found, &index, meter.steps), stats)
}

/// Runs `job(k, lowest_failed)` for `k in 0..n` on `threads` threads, lowest `k` first. Once
/// job `k` fails, jobs above `k` are skipped (or abandoned by their meter); jobs below `k` run
/// to the end. The results of skipped jobs are `None`.
fn run_parallel<F>(n: usize, threads: usize, job: F) -> Vec<Option<PartResult>>
where
    F: Fn(usize, &AtomicUsize) -> PartResult + Sync,
{
    let next = AtomicUsize::new(0);
    let lowest_failed = AtomicUsize::new(usize::MAX);
    let results: Mutex<Vec<Option<PartResult>>> = Mutex::new(vec![None; n]);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(n) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n || lowest_failed.load(Ordering::Relaxed) < k {
                    break;
                }
                let r = job(k, &lowest_failed);
                if r.0.holds() == Some(false) {
                    lowest_failed.fetch_min(k, Ordering::Relaxed);
                }
                results.lock().expect("no worker panicked")[k] = Some(r);
            });
        }
    });
    results.into_inner().expect("no worker panicked")
}

/// The verdict from the parts' results, in priority order (`None`: not checked): the lowest
/// failing part if any; else unknown if any part is unknown or unchecked; else the merged
/// witness.
fn combine<Op, Ret>(
    history: &History<Op, Ret>,
    results: Vec<Option<PartResult>>,
) -> (Outcome, Stats) {
    let mut stats = Stats::default();
    let mut witnesses: Vec<Vec<usize>> = Vec::with_capacity(results.len());
    let mut unknown: Option<Outcome> = None;
    let mut steps = 0u64;
    for r in results {
        let Some((outcome, s)) = r else {
            continue;
        };
        stats.steps += s.steps;
        stats.configurations += s.configurations;
        stats.partitions += 1;
        stats.largest_partition = stats.largest_partition.max(s.largest_partition);
        steps += s.steps;
        match outcome {
            Outcome::Linearizable { order } => witnesses.push(order),
            Outcome::NotLinearizable { .. } => return (outcome, stats),
            Outcome::Unknown { longest_prefix, .. } => {
                if unknown.is_none() {
                    unknown = Some(Outcome::Unknown {
                        steps: 0,
                        longest_prefix,
                    });
                }
            }
        }
    }
    if let Some(Outcome::Unknown { longest_prefix, .. }) = unknown {
        return (
            Outcome::Unknown {
                steps,
                longest_prefix,
            },
            stats,
        );
    }
    let order = if witnesses.len() == 1 {
        witnesses.pop().expect("one witness")
    } else {
        merge(history, &witnesses)
    };
    (Outcome::Linearizable { order }, stats)
}

/// Checks that `history` is sequentially consistent with respect to `spec` (Lamport 1979):
/// some order of its operations respects each client's program order and is a legal sequential
/// execution of `spec`; real time across clients is ignored.
///
/// Program order: a client's operation comes before its later ones, "later" meaning called
/// after it returned. For a client that waits for each result (every client of
/// [`History::from_events`] that never abandons a call) that is simply the order of its calls.
/// Operations that never returned are optional and, if included, may come anywhere after the
/// client's operations that returned before their call, like a lost request that arrives
/// late. With this reading every linearizable history is sequentially consistent.
///
/// The same memoised search as [`check_linearizable`], with program order instead of real
/// time. Sequential consistency is not local, so the history is never partitioned; the search
/// space grows with the product of the clients' history lengths, so keep histories small
/// (model-checker scale) or expect [`Outcome::Unknown`] under a budget.
///
/// # Panics
/// If an operation returns before its call (see [`History::validate`]).
pub fn check_sequential<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: Budget,
) -> Outcome {
    check_sequential_with_stats(spec, history, budget).0
}

/// [`check_sequential`], also returning the search's counters.
///
/// # Panics
/// If an operation returns before its call (see [`History::validate`]).
pub fn check_sequential_with_stats<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    budget: Budget,
) -> (Outcome, Stats) {
    if let Err(e) = history.validate() {
        panic!("check_sequential: {e}");
    }
    let all: Vec<usize> = (0..history.ops.len()).collect();
    check_part(spec, history, &all, Meter::new(&budget), Order::Program)
}

/// The operations `indices` of `history` in call order (ties by index), and the history index
/// of each position.
fn items<'h, S: SequentialSpec>(
    history: &'h History<S::Op, S::Ret>,
    indices: &[usize],
) -> (Vec<Item<'h, S>>, Vec<usize>) {
    let mut index = indices.to_vec();
    index.sort_by_key(|&i| (history.ops[i].call, i));
    assert!(index.len() < u32::MAX as usize, "too many operations");
    let items = index
        .iter()
        .map(|&i| {
            let o = &history.ops[i];
            Item {
                op: &o.op,
                ret: o.ret.as_ref().map(|(_, r)| r),
                call: o.call,
                ret_time: o.ret_time(),
                client: o.client,
            }
        })
        .collect();
    (items, index)
}

fn to_outcome(found: Found, index: &[usize], steps: u64) -> Outcome {
    let map = |ps: Vec<u32>| ps.into_iter().map(|p| index[p as usize]).collect();
    match found {
        Found::Yes(order) => Outcome::Linearizable { order: map(order) },
        Found::No {
            longest_prefix,
            culprits,
        } => {
            let mut culprits: Vec<usize> = map(culprits);
            culprits.sort_unstable();
            Outcome::NotLinearizable {
                longest_prefix: map(longest_prefix),
                culprits,
            }
        }
        Found::Unknown { longest_prefix } => Outcome::Unknown {
            steps,
            longest_prefix: map(longest_prefix),
        },
    }
}

/// The history's parts (history indices), by ascending partition number (the order in which
/// a failure is reported: the lowest failing part); one part unless every operation names its
/// partition and there are several.
fn partitions<S: SequentialSpec>(spec: &S, history: &History<S::Op, S::Ret>) -> Vec<Vec<usize>> {
    let all = || vec![(0..history.ops.len()).collect::<Vec<usize>>()];
    let mut parts: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, o) in history.ops.iter().enumerate() {
        match spec.partition(&o.op) {
            Some(k) => parts.entry(k).or_default().push(i),
            None => return all(),
        }
    }
    if parts.len() <= 1 {
        return all();
    }
    parts.into_values().collect()
}

/// Merges per-partition witnesses into one order that respects real time.
///
/// Each operation gets a linearization point: the latest call among it and the operations
/// before it in its partition's witness. Along a witness the points never decrease, and each
/// lies between the operation's call and its return (a witness respects real time, so nothing
/// before an operation was called after it returned). Sorting all operations by point (ties by
/// partition, then witness position) therefore keeps every witness's order and puts `a` before
/// `b` whenever `a` returned before `b` was called.
fn merge<Op, Ret>(history: &History<Op, Ret>, witnesses: &[Vec<usize>]) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize, usize, usize)> = Vec::new();
    for (w, order) in witnesses.iter().enumerate() {
        let mut point = 0u64;
        for (k, &i) in order.iter().enumerate() {
            point = point.max(history.ops[i].call);
            keyed.push((point, w, k, i));
        }
    }
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, _, _, i)| i).collect()
}
