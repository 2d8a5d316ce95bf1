//! Quality of service of a failure detector (Chen, Toueg and Aguilera), measured on a trace.
//!
//! A detector is judged pair by pair: an observer p (a *correct* process) monitoring another
//! process q. Reading the trace through [`FdView`], p's output about q alternates between
//! *trust* and *suspect* intervals; q is *up* until its first crash (if any). Over the
//! observation window `[from, end)` of the run:
//!
//! - **detection time** T_D: for each q that crashes at time c ≥ `from`, and each correct p
//!   whose suspicion of q is still standing at the end of the run (p's *final* suspicion), the
//!   time from c to the start of that final suspicion (0 if it started before the crash). Pairs
//!   where p does not suspect the crashed q at the end contribute no detection time
//!   (completeness failures are [`super::properties::strong_completeness`]'s business).
//! - **mistake**: a suspicion of q by p that starts, within the window, while q is up.
//! - **mistake duration** T_M: from the start of a mistake to its end: p's `Restore`, q's crash
//!   (from then on the suspicion is right), or the end of the run, whichever comes first.
//! - **mistake recurrence time** T_MR: the time between the starts of two consecutive mistakes
//!   of the same pair.
//! - **query accuracy probability** P_A: the fraction of the time, summed over pairs, during which
//!   q is up and p trusts it, over the total time q is up, both within the window. This is the
//!   time-weighted definition ("a query at a random time while q is up gets a correct answer"),
//!   computed directly rather than as 1 − E(T_M)/E(T_MR), which assumes a steady state.
//!
//! **Read:** Chen, Toueg and Aguilera, "On the quality of service of failure detectors", IEEE
//! Transactions on Computers 51(1), 2002, §2 (the primary metrics T_D, T_MR, T_M and the derived
//! P_A).

use super::properties::FdTrace;
use super::{FdIndication, FdView};
use std::collections::BTreeMap;
use synod_core::{Duration, Instant, NodeId, Trace};

/// A failure detector's quality of service over one run (see the [module docs](self) for the
/// definitions).
#[derive(Clone, Debug, PartialEq)]
pub struct Qos {
    /// Mean detection time T_D, if any crash was detected.
    pub detection_time_mean: Option<Duration>,
    /// Every detection time, one per (correct observer, crashed process) pair that ended
    /// suspected, in (crashed, observer) order.
    pub detection_times: Vec<Duration>,
    /// Mean time between the starts of consecutive mistakes of the same pair (T_MR), if some
    /// pair made two.
    pub mistake_recurrence_mean: Option<Duration>,
    /// Mean mistake duration (T_M), if there was a mistake.
    pub mistake_duration_mean: Option<Duration>,
    /// The fraction of up-time during which observers trusted the processes they monitor (P_A);
    /// 1 when there is no up-time to observe.
    pub query_accuracy: f64,
    /// The number of mistakes.
    pub mistakes: u64,
}

/// A suspicion interval: its start and, unless it is still standing at the end, its end.
type Interval = (Instant, Option<Instant>);

fn mean(xs: &[u64]) -> Option<Duration> {
    if xs.is_empty() {
        return None;
    }
    let sum: u128 = xs.iter().map(|&x| x as u128).sum();
    Some(Duration((sum / xs.len() as u128) as u64))
}

/// Measures the QoS of the detector that produced `trace`, observing from `from` to the end of
/// the run.
pub fn measure<P: FdView>(trace: &Trace<P>, from: Instant) -> Qos {
    let v = FdTrace::of(trace);
    let end = trace.facts.end;
    let n = trace.facts.n;
    // (p, q) -> suspicion intervals [start, end or None if still standing).
    let mut intervals: BTreeMap<(NodeId, NodeId), Vec<Interval>> = BTreeMap::new();
    for &(_, t, p, ind) in &v.events {
        if !trace.facts.correct(p) || p == ind.node() {
            continue;
        }
        let list = intervals.entry((p, ind.node())).or_default();
        let open = matches!(list.last(), Some((_, None)));
        match ind {
            FdIndication::Suspect(_) if !open => list.push((t, None)),
            FdIndication::Restore(_) if open => {
                if let Some(last) = list.last_mut() {
                    last.1 = Some(t);
                }
            }
            _ => {}
        }
    }

    let mut detection_times = Vec::new();
    let mut durations = Vec::new();
    let mut recurrences = Vec::new();
    let mut mistakes = 0u64;
    let (mut up_total, mut trusted_total) = (0u128, 0u128);
    let empty = Vec::new();
    for q in NodeId::all(n) {
        let crash = v.crash[q.index()];
        for p in NodeId::all(n) {
            if p == q || !trace.facts.correct(p) {
                continue;
            }
            let list = intervals.get(&(p, q)).unwrap_or(&empty);
            // Detection time.
            if let (Some(c), Some((start, None))) = (crash, list.last()) {
                if c >= from {
                    detection_times.push(start.saturating_since(c));
                }
            }
            // Mistakes.
            let up_until = crash.map_or(end, |c| c.min(end));
            let mut last_start: Option<Instant> = None;
            for &(start, stop) in list {
                if start < from || start >= end || start >= up_until {
                    continue;
                }
                mistakes += 1;
                let stop = stop.unwrap_or(end).min(up_until);
                durations.push(stop.saturating_since(start).as_nanos());
                if let Some(prev) = last_start {
                    recurrences.push(start.saturating_since(prev).as_nanos());
                }
                last_start = Some(start);
            }
            // Query accuracy over [from, up_until).
            if from < up_until {
                let window = up_until.saturating_since(from).as_nanos() as u128;
                let suspected: u128 = list
                    .iter()
                    .map(|&(s, e)| {
                        let lo = s.max(from);
                        let hi = e.unwrap_or(end).min(up_until);
                        hi.saturating_since(lo).as_nanos() as u128
                    })
                    .sum();
                up_total += window;
                trusted_total += window.saturating_sub(suspected);
            }
        }
    }
    Qos {
        detection_time_mean: mean(
            &detection_times
                .iter()
                .map(|d| d.as_nanos())
                .collect::<Vec<_>>(),
        ),
        detection_times,
        mistake_recurrence_mean: mean(&recurrences),
        mistake_duration_mean: mean(&durations),
        query_accuracy: if up_total == 0 {
            1.0
        } else {
            trusted_total as f64 / up_total as f64
        },
        mistakes,
    }
}
