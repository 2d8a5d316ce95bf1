//! Scheduled faults: crash-stop, crash-recovery, partitions, omissions, clock drift and offset.

mod common;

use common::*;
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, DropReason, Duration, EventKind, Instant, NodeId, Protocol, Ratio};
use synod_sim::{
    ClockSkew, FaultSchedule, Latency, Omission, OmissionKind, SimConfig, Simulation, Timing,
};

/// Synchronous, Δ = 10ms, latency 1..5ms, no loss: every fault effect is visible and exact.
fn sync_cfg(n: usize, seed: u64, until_ms: u64) -> SimConfig {
    config(
        n,
        seed,
        at_ms(until_ms),
        Timing::Synchronous { delta: ms(10) },
        Latency::Uniform {
            lo: ms(1),
            hi: ms(5),
        },
    )
}

fn with_faults(mut cfg: SimConfig, f: impl FnOnce(&mut FaultSchedule)) -> SimConfig {
    f(&mut cfg.faults);
    cfg
}

// ---- crash-stop ---------------------------------------------------------------------------

#[test]
fn crash_stop_silences_the_node_and_drops_its_mail() {
    let crash = at_ms(500);
    let n1 = NodeId(1);
    let mut p = Chatter::broadcast(ms(10));
    // A one-shot timer pending at the crash, due after it.
    p.once_after = Some(ms(800));
    for seed in 0..3 {
        let cfg = with_faults(sync_cfg(3, seed, 1_500), |f| {
            f.add_crash_spec("n1@500ms").expect("spec")
        });
        let out = run(p.clone(), cfg);
        let ev = &out.trace.events;
        let crashes: Vec<_> = ev
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Crash { .. }))
            .map(|e| (e.time, e.kind.node()))
            .collect();
        assert_eq!(crashes, vec![(crash, Some(n1))]);

        // After the crash nothing happens at n1 but drops of messages sent to it.
        for e in ev.iter().filter(|e| e.time >= crash) {
            match &e.kind {
                EventKind::Crash { .. } => {}
                EventKind::Drop { to, reason, .. } if *to == n1 => {
                    assert_eq!(*reason, DropReason::ReceiverDown)
                }
                k => assert_ne!(k.node(), Some(n1), "at {}: {k:?}", e.time),
            }
        }
        // Before the crash n1 ticked normally (every 10ms, up to but not at 500ms: the crash
        // was scheduled first, so it precedes a tick due at the same instant).
        let ticks = timer_times(ev, n1, &ChatTimer::Tick);
        assert_eq!(ticks.len(), 49);
        assert!(ticks.iter().all(|t| *t < crash));
        // Its one-shot timer never fires; the others' fire at 800ms.
        assert!(timer_times(ev, n1, &ChatTimer::Once).is_empty());
        for p in [NodeId(0), NodeId(2)] {
            assert_eq!(timer_times(ev, p, &ChatTimer::Once), vec![at_ms(800)]);
        }

        // Every message to n1 is delivered iff it arrives before the crash; nothing else is
        // ever dropped.
        let log = MsgLog::of(ev);
        let counts = log.deliver_counts();
        for (id, s) in &log.sends {
            if s.to == n1 && s.at >= crash {
                assert_eq!(counts.get(id), None, "message {id} reached a crashed node");
            } else if s.to != n1 && s.at + ms(10) <= at_ms(1_500) {
                assert_eq!(counts.get(id), Some(&1));
            }
        }
        for (id, t, reason) in &log.drops {
            assert_eq!(*reason, DropReason::ReceiverDown);
            assert_eq!(log.sends[id].to, n1);
            assert!(*t >= crash);
        }
        assert!(log.drops.len() > 100, "the others kept sending to n1");
        assert!(out.states[1].is_none());
        assert!(out.trace.facts.ever_crashed[1] && !out.trace.facts.up_at_end[1]);
        assert_eq!(out.trace.facts.ever_crashed, vec![false, true, false]);
        assert_eq!(out.stats.crashes, 1);
    }
}

// ---- crash-recovery -----------------------------------------------------------------------

/// Counts ticks; persists the count every `persist_every` ticks. `volatile` counts ticks since
/// the last (re)start and is never persisted.
#[derive(Clone)]
struct Counter {
    tick: Duration,
    persist_every: u64,
    once_after: Duration,
    /// On recovery: arm the one-shot timer again after this long (or not at all).
    rearm_once: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum CTimer {
    Tick,
    Once,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CState {
    count: u64,
    volatile: u64,
    recovered_from: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum CInd {
    Recovered(u64),
    OnceFired,
}

impl Protocol for Counter {
    type Msg = ();
    type Timer = CTimer;
    type Request = ();
    type Indication = CInd;
    type State = CState;
    type Durable = u64;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> CState {
        ctx.set_timer(CTimer::Tick, self.tick);
        ctx.set_timer(CTimer::Once, self.once_after);
        CState {
            count: 0,
            volatile: 0,
            recovered_from: None,
        }
    }

    fn on_message(&self, _s: &mut CState, _f: NodeId, _m: (), _c: &mut Ctx<'_, Self>) {}

    fn on_timer(&self, s: &mut CState, t: CTimer, ctx: &mut Ctx<'_, Self>) {
        match t {
            CTimer::Tick => {
                s.count += 1;
                s.volatile += 1;
                if s.count.is_multiple_of(self.persist_every) {
                    ctx.persist();
                }
                ctx.set_timer(CTimer::Tick, self.tick);
            }
            CTimer::Once => ctx.indicate(CInd::OnceFired),
        }
    }

    fn on_request(&self, _s: &mut CState, _r: (), _c: &mut Ctx<'_, Self>) {}

    fn durable(&self, s: &CState) -> u64 {
        s.count
    }

    fn recover(&self, d: &u64, ctx: &mut Ctx<'_, Self>) -> CState {
        ctx.set_timer(CTimer::Tick, self.tick);
        if let Some(after) = self.rearm_once {
            ctx.set_timer(CTimer::Once, after);
        }
        ctx.indicate(CInd::Recovered(*d));
        CState {
            count: *d,
            volatile: 0,
            recovered_from: Some(*d),
        }
    }
}

fn counter_run(rearm_once: Option<Duration>) -> synod_sim::SimOutcome<Counter> {
    let p = Counter {
        tick: ms(10),
        persist_every: 3,
        once_after: ms(1_200),
        rearm_once,
    };
    let cfg = with_faults(sync_cfg(2, 1, 1_500), |f| {
        f.add_crash_spec("n0@505ms").expect("spec");
        f.add_recover_spec("n0@1s").expect("spec");
    });
    run(p, cfg)
}

#[test]
fn crash_recovery_restores_exactly_the_last_persisted_value() {
    let out = counter_run(None);
    let ev = &out.trace.events;
    let n0 = NodeId(0);
    // Ticks at 10ms, 20ms, …, 500ms before the crash at 505ms: 50 of them; the count is
    // persisted whenever it is a multiple of 3, so the last persisted value is 48.
    let ticks_before = 505 / 10;
    let last_persisted = ticks_before / 3 * 3;
    assert_eq!(last_persisted, 48);
    let tick_times = timer_times(ev, n0, &CTimer::Tick);
    assert_eq!(
        tick_times.iter().filter(|t| **t < at_ms(505)).count() as u64,
        ticks_before
    );
    let persists_before = ev
        .iter()
        .filter(|e| {
            e.time < at_ms(505) && matches!(e.kind, EventKind::Persist { node } if node == n0)
        })
        .count() as u64;
    assert_eq!(persists_before, ticks_before / 3);

    // The Recover event comes at 1s, and recover() saw exactly the persisted value.
    let recovers: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Recover { .. }))
        .map(|e| (e.time, e.kind.node()))
        .collect();
    assert_eq!(recovers, vec![(at_ms(1_000), Some(n0))]);
    let recovered: Vec<_> = out
        .trace
        .indications()
        .filter_map(|(_, t, n, ind)| match ind {
            CInd::Recovered(v) => Some((t, n, *v)),
            _ => None,
        })
        .collect();
    assert_eq!(recovered, vec![(at_ms(1_000), n0, last_persisted)]);

    // Nothing ticks while down; after recovery ticks restart from the recovery time (the tick
    // pending at the crash, due at 510ms, is gone).
    assert!(!tick_times
        .iter()
        .any(|t| *t >= at_ms(505) && *t <= at_ms(1_000)));
    let after: Vec<Instant> = tick_times
        .iter()
        .copied()
        .filter(|t| *t > at_ms(1_000))
        .collect();
    assert_eq!(after.first(), Some(&at_ms(1_010)));
    let ticks_after = (1_500 - 1_000) / 10;
    assert_eq!(after.len() as u64, ticks_after);

    // Final state: persisted part carried over, volatile part lost and recounted.
    let s = out.states[0].as_ref().expect("up at the end");
    assert_eq!(s.recovered_from, Some(last_persisted));
    assert_eq!(s.count, last_persisted + ticks_after);
    assert_eq!(s.volatile, ticks_after);
    // The node that never crashed counted every tick.
    let s1 = out.states[1].as_ref().expect("up");
    assert_eq!((s1.count, s1.volatile, s1.recovered_from), (150, 150, None));
    assert_eq!((out.stats.crashes, out.stats.recoveries), (1, 1));
    assert_eq!(out.trace.facts.ever_crashed, vec![true, false]);
    assert_eq!(out.trace.facts.up_at_end, vec![true, true]);
}

#[test]
fn timers_set_before_a_crash_do_not_fire_after_recovery() {
    // The one-shot timer was set at init for 1.2s; the node crashes at 505ms and recovers at 1s.
    let out = counter_run(None);
    assert!(timer_times(&out.trace.events, NodeId(0), &CTimer::Once).is_empty());
    assert_eq!(
        timer_times(&out.trace.events, NodeId(1), &CTimer::Once),
        vec![at_ms(1_200)]
    );
    // Set again by recover() for 300ms later: it fires then, once, and not at the old 1.2s.
    let out = counter_run(Some(ms(300)));
    assert_eq!(
        timer_times(&out.trace.events, NodeId(0), &CTimer::Once),
        vec![at_ms(1_300)]
    );
}

#[test]
fn a_node_is_down_between_crash_and_recovery() {
    let p = Counter {
        tick: ms(10),
        persist_every: 3,
        once_after: ms(1_200),
        rearm_once: None,
    };
    let cfg = with_faults(sync_cfg(2, 1, 1_500), |f| {
        f.add_crash_spec("n0@505ms").expect("spec");
        f.add_recover_spec("n0@1s").expect("spec");
    });
    let mut sim = Simulation::new(p, cfg).expect("valid");
    sim.run_until(at_ms(504));
    assert_eq!(sim.state(NodeId(0)).map(|s| s.count), Some(50));
    sim.run_until(at_ms(505));
    assert!(sim.state(NodeId(0)).is_none());
    sim.run_until(at_ms(999));
    assert!(sim.state(NodeId(0)).is_none());
    assert!(sim.state(NodeId(1)).is_some());
    sim.run_until(at_ms(1_000));
    assert_eq!(sim.state(NodeId(0)).map(|s| s.count), Some(48));
}

// ---- partitions ---------------------------------------------------------------------------

#[test]
fn a_group_partition_cuts_both_directions_during_its_window_and_heals() {
    let (from, until) = (at_ms(1_000), at_ms(2_000));
    let in_window = |t: Instant| from <= t && t < until;
    let group = |n: NodeId| if n == NodeId(2) { 1 } else { 0 };
    for seed in 0..3 {
        let cfg = with_faults(sync_cfg(3, seed, 3_000), |f| {
            f.add_partition_spec("n0,n1|n2@1s..2s").expect("spec")
        });
        let out = run(Chatter::broadcast(ms(10)), cfg);
        let log = MsgLog::of(&out.trace.events);
        let counts = log.deliver_counts();
        let (mut cut_at_send, mut cut_in_flight, mut healed) = (0, 0, 0);
        for (id, s) in &log.sends {
            let cross = group(s.from) != group(s.to);
            let drops: Vec<_> = log.drops.iter().filter(|d| d.0 == *id).collect();
            if !cross {
                assert!(drops.is_empty(), "{}->{} inside a group", s.from, s.to);
                if s.at + ms(10) <= at_ms(3_000) {
                    assert_eq!(counts.get(id), Some(&1));
                }
            } else if in_window(s.at) {
                // Sent across the cut while it stands: dropped at once, both directions.
                assert_eq!(drops.len(), 1);
                assert_eq!((drops[0].1, drops[0].2), (s.at, DropReason::Partition));
                assert_eq!(counts.get(id), None);
                cut_at_send += 1;
            } else if let Some((_, t, reason)) = drops.first() {
                // Sent before the cut, arriving during it.
                assert_eq!(*reason, DropReason::Partition);
                assert!(s.at < from && in_window(*t), "{id}: dropped at {t}");
                cut_in_flight += 1;
            } else if s.at + ms(10) <= at_ms(3_000) {
                // Arrived outside the window: delivered.
                assert_eq!(counts.get(id), Some(&1));
                let t = log
                    .delivers
                    .iter()
                    .find(|d| d.0 == *id)
                    .expect("delivered")
                    .1;
                assert!(!in_window(t));
                if s.at >= until {
                    healed += 1;
                }
            }
        }
        // Both directions were cut (n2 sends to two nodes and receives from two).
        let cut_dirs: std::collections::BTreeSet<_> = log
            .drops
            .iter()
            .map(|d| (group(log.sends[&d.0].from), group(log.sends[&d.0].to)))
            .collect();
        assert_eq!(cut_dirs.len(), 2);
        assert!(cut_at_send > 300 && healed > 300, "{cut_at_send} {healed}");
        // Every drop is one of the two kinds above.
        assert_eq!(cut_at_send + cut_in_flight, log.drops.len());
        // The partition and its heal are events of their own.
        let notes: Vec<_> = out
            .trace
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Network { note } => Some((e.time, note.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), 2);
        assert_eq!((notes[0].0, notes[1].0), (from, until));
        assert!(notes[0].1.starts_with("partition") && notes[1].1.starts_with("heal"));
    }
}

#[test]
fn a_one_way_partition_cuts_only_its_direction() {
    let (from, until) = (at_ms(1_000), at_ms(2_000));
    let cfg = with_faults(sync_cfg(3, 4, 3_000), |f| {
        f.add_partition_spec("n0->n1@1s..2s").expect("spec")
    });
    let out = run(Chatter::broadcast(ms(10)), cfg);
    let log = MsgLog::of(&out.trace.events);
    let counts = log.deliver_counts();
    let mut cut = 0;
    for (id, s) in &log.sends {
        if s.at + ms(10) > at_ms(3_000) {
            continue;
        }
        let dropped = log.drops.iter().find(|d| d.0 == *id);
        if (s.from, s.to) == (NodeId(0), NodeId(1)) {
            match dropped {
                Some((_, t, reason)) => {
                    assert_eq!(*reason, DropReason::Partition);
                    assert!(from <= *t && *t < until);
                    cut += 1;
                }
                None => {
                    assert!(s.at < from || s.at >= until);
                    assert_eq!(counts.get(id), Some(&1));
                }
            }
        } else {
            // n1 -> n0 and everything else flows during the window.
            assert!(dropped.is_none(), "{}->{} dropped", s.from, s.to);
            assert_eq!(counts.get(id), Some(&1));
        }
    }
    assert!(cut >= 100, "{cut}");
}

// ---- omissions ----------------------------------------------------------------------------

#[test]
fn send_omission_with_probability_one_drops_every_send_in_its_window() {
    let (from, until) = (at_ms(1_000), at_ms(2_000));
    let cfg = with_faults(sync_cfg(3, 2, 3_000), |f| {
        f.add_omission_spec("n1:send=1@1s..2s").expect("spec")
    });
    let out = run(Chatter::broadcast(ms(10)), cfg);
    let log = MsgLog::of(&out.trace.events);
    let counts = log.deliver_counts();
    let mut omitted = 0;
    for (id, s) in &log.sends {
        let dropped = log.drops.iter().find(|d| d.0 == *id);
        if s.from == NodeId(1) && from <= s.at && s.at < until {
            assert_eq!(
                dropped.map(|d| (d.1, d.2)),
                Some((s.at, DropReason::SendOmission))
            );
            omitted += 1;
        } else {
            assert!(
                dropped.is_none(),
                "message {id} from {} at {} dropped",
                s.from,
                s.at
            );
            if s.at + ms(10) <= at_ms(3_000) {
                assert_eq!(counts.get(id), Some(&1));
            }
        }
    }
    // n1 broadcasts to 2 peers every 10ms for the 1s window: 100 ticks (1010ms..2000ms
    // excluded at the end, 1000ms included).
    assert_eq!(omitted, 200);
}

#[test]
fn receive_omission_with_probability_one_drops_every_arrival_in_its_window() {
    let (from, until) = (at_ms(1_000), at_ms(2_000));
    let mut cfg = sync_cfg(3, 3, 3_000);
    cfg.faults.omissions.push(Omission {
        node: NodeId(2),
        kind: OmissionKind::Receive,
        probability: Ratio::ALWAYS,
        from,
        until,
    });
    let out = run(Chatter::broadcast(ms(10)), cfg);
    let log = MsgLog::of(&out.trace.events);
    for (id, t, reason) in &log.drops {
        assert_eq!(*reason, DropReason::ReceiveOmission);
        assert_eq!(log.sends[id].to, NodeId(2));
        assert!(from <= *t && *t < until);
    }
    for (id, t) in &log.delivers {
        if log.sends[id].to == NodeId(2) {
            assert!(*t < from || *t >= until, "{id} reached n2 at {t}");
        }
    }
    // Every message is accounted for exactly once (delivered or dropped), and n2 itself kept
    // sending during its window.
    let counts = log.deliver_counts();
    for (id, s) in &log.sends {
        let drops = log.drops.iter().filter(|d| d.0 == *id).count();
        if s.at + ms(10) <= at_ms(3_000) {
            assert_eq!(counts.get(id).copied().unwrap_or(0) + drops, 1);
        }
    }
    assert!(log.drops.len() >= 190, "{}", log.drops.len());
    assert!(log.sends.iter().any(|(id, s)| s.from == NodeId(2)
        && from <= s.at
        && s.at < until
        && counts.get(id) == Some(&1)));
}

#[test]
fn omission_with_probability_half_drops_some_but_not_all() {
    let mut cfg = sync_cfg(3, 8, 2_000);
    cfg.faults
        .add_omission_spec("n0:send=0.5@0s..2s")
        .expect("spec");
    let out = run(Chatter::broadcast(ms(10)), cfg);
    let log = MsgLog::of(&out.trace.events);
    let from_n0 = log.sends.values().filter(|s| s.from == NodeId(0)).count();
    let omitted = log.drops.len();
    assert!(log.drops.iter().all(|d| d.2 == DropReason::SendOmission));
    // 400 trials at p = 1/2: far from both 0 and 400.
    assert!(
        omitted > from_n0 / 4 && omitted < from_n0 * 3 / 4,
        "{omitted}/{from_n0}"
    );
}

// ---- clocks -------------------------------------------------------------------------------

/// One timer of one local second, armed at init; records `ctx.now()` at init and when it fires.
struct OneSecond;

impl Protocol for OneSecond {
    type Msg = ();
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = Vec<Instant>;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> Vec<Instant> {
        ctx.set_timer((), Duration::from_secs(1));
        vec![ctx.now()]
    }
    fn on_message(&self, _s: &mut Vec<Instant>, _f: NodeId, _m: (), _c: &mut Ctx<'_, Self>) {}
    fn on_timer(&self, s: &mut Vec<Instant>, _t: (), ctx: &mut Ctx<'_, Self>) {
        s.push(ctx.now());
    }
    fn on_request(&self, _s: &mut Vec<Instant>, _r: (), _c: &mut Ctx<'_, Self>) {}
}

/// The model: `local = offset + real × (1 + drift_ppm/10⁶)` (rounded down to the nanosecond). A
/// timer of `d` local set at real 0 fires at the first real nanosecond whose local time is at
/// least `offset + d`.
fn first_real_ns_reaching(local: u64, drift_ppm: i64) -> u64 {
    let local_at = |real: u64| (real as i128 * (1_000_000 + drift_ppm as i128) / 1_000_000) as u64;
    // Binary search: local_at is monotone in real.
    let (mut lo, mut hi) = (0u64, 4 * local);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if local_at(mid) >= local {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[test]
fn clock_drift_stretches_local_timers_and_offset_shifts_local_time() {
    let mut cfg = sync_cfg(4, 1, 3_000);
    let fast = ClockSkew {
        drift_ppm: 100_000,
        offset: Duration::ZERO,
    };
    let slow = ClockSkew {
        drift_ppm: -100_000,
        offset: Duration::ZERO,
    };
    cfg.faults.clocks.push((NodeId(1), fast));
    cfg.faults.clocks.push((NodeId(2), slow));
    cfg.faults.add_clock_spec("n3:offset=5s").expect("spec");
    let out = run(OneSecond, cfg);
    let ev = &out.trace.events;
    let fired = |i: u32| timer_times(ev, NodeId(i), &());
    let second = 1_000_000_000u64;

    // n0: a perfect clock.
    assert_eq!(fired(0), vec![Instant(second)]);
    // n1 runs 10% fast: one local second passes in 1/1.1 s ≈ 909ms of real time.
    let t1 = first_real_ns_reaching(second, 100_000);
    assert_eq!(fired(1), vec![Instant(t1)]);
    assert!((909_090_000..=909_091_000).contains(&t1), "{t1}");
    // n2 runs 10% slow: ≈ 1.111s.
    let t2 = first_real_ns_reaching(second, -100_000);
    assert_eq!(fired(2), vec![Instant(t2)]);
    assert!((1_111_111_000..=1_111_112_000).contains(&t2), "{t2}");
    // n3 has a perfect rate but is 5s ahead: same real firing time, local times shifted.
    assert_eq!(fired(3), vec![Instant(second)]);

    let local = |i: usize| out.states[i].clone().expect("up");
    assert_eq!(local(0), vec![Instant(0), Instant(second)]);
    assert_eq!(local(3), vec![Instant(5 * second), Instant(6 * second)]);
    // A drifting node never sees its timer fire early by its own clock, and fires as soon as
    // its clock allows (within a nanosecond of real time, i.e. ≤ 2ns of local time late).
    for i in [1, 2] {
        let l = local(i);
        assert_eq!(l[0], Instant(0));
        assert!(
            l[1] >= Instant(second) && l[1] <= Instant(second + 2),
            "{:?}",
            l[1]
        );
    }
}

#[test]
fn a_node_crashed_at_time_zero_never_starts() {
    let cfg = with_faults(sync_cfg(3, 1, 300), |f| {
        f.add_crash_spec("n2@0s").unwrap();
    });
    let out = run(Chatter::broadcast(ms(10)), cfg);
    let n2 = NodeId(2);
    let mine = events_at(&out.trace.events, n2);
    assert!(
        !mine
            .iter()
            .any(|e| matches!(e.kind, EventKind::Init { .. } | EventKind::Send { .. })),
        "an initially dead node neither starts nor sends"
    );
    assert_eq!(out.stats.crashes, 1, "the crash is counted once");
    assert!(out.trace.facts.ever_crashed[2] && !out.trace.facts.up_at_end[2]);
}
