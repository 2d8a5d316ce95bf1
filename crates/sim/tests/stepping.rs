//! The stepping API: `step`, `run_until`, `state`, `finish`.

mod common;

use common::*;
use synod_core::{EventKind, Instant, NodeId};
use synod_sim::{Latency, SimConfig, Simulation, Timing};

fn cfg(seed: u64) -> SimConfig {
    config(
        3,
        seed,
        at_ms(500),
        Timing::Synchronous { delta: ms(10) },
        Latency::Uniform {
            lo: ms(1),
            hi: ms(10),
        },
    )
}

fn is_input(k: &EventKind<Chatter>) -> bool {
    matches!(k, EventKind::Deliver { .. } | EventKind::Timer { .. })
}

#[test]
fn step_processes_one_event_at_a_time() {
    let mut sim = Simulation::new(Chatter::random(ms(5)), cfg(1)).expect("valid");
    let mut steps = 0;
    let mut last = Instant::ZERO;
    while sim.step() {
        steps += 1;
        let now = sim.now();
        assert!(now >= last, "time went backwards");
        last = now;
        // No faults, no cancelled timers: each queued item is one delivery or one timer, and
        // everything a step records happens at the step's time.
        let ev = sim.events();
        let new: Vec<_> = ev.iter().rev().take_while(|e| e.time == now).collect();
        let inputs = ev.iter().filter(|e| is_input(&e.kind)).count();
        assert_eq!(
            inputs, steps,
            "step {steps} did not process exactly one input"
        );
        assert!(new.iter().any(|e| is_input(&e.kind)));
        assert!(now <= at_ms(500));
    }
    assert!(steps > 200);
    // Stepping to the end and running give the same run.
    let stepped = sim.finish();
    let ran = run(Chatter::random(ms(5)), cfg(1));
    assert_eq!(stepped.trace_hash, ran.trace_hash);
    assert!(stepped.trace.events == ran.trace.events);
    assert_eq!(stepped.stats, ran.stats);
}

#[test]
fn run_until_stops_at_the_given_time() {
    let whole = run(Chatter::random(ms(5)), cfg(2));
    let mut sim = Simulation::new(Chatter::random(ms(5)), cfg(2)).expect("valid");
    let mut prev = 0;
    for t in [0u64, 3, 50, 51, 200, 200, 450] {
        sim.run_until(at_ms(t));
        assert_eq!(sim.now(), at_ms(t));
        let ev = sim.events();
        assert!(
            ev.iter().all(|e| e.time <= at_ms(t)),
            "an event after {t}ms"
        );
        assert!(ev.len() >= prev);
        prev = ev.len();
    }
    // What was processed is exactly the run's prefix up to 450ms, and the next step lands on
    // the run's first event after it.
    let upto = whole
        .trace
        .events
        .iter()
        .take_while(|e| e.time <= at_ms(450))
        .count();
    assert!(sim.events() == &whole.trace.events[..upto]);
    assert!(sim.step());
    assert_eq!(sim.now(), whole.trace.events[upto].time);
    assert!(sim.now() > at_ms(450));
    // Beyond the end of the run, time stops at the end.
    sim.run_until(at_ms(10_000));
    assert_eq!(sim.now(), at_ms(500));
    assert!(!sim.step());
    // Piecewise running is the same run as one go.
    let pieces = sim.finish();
    assert_eq!(pieces.trace_hash, whole.trace_hash);
}

#[test]
fn state_is_none_while_a_node_is_down() {
    let mut c = cfg(3);
    c.faults.add_crash_spec("n1@100ms").expect("spec");
    c.faults.add_recover_spec("n1@300ms").expect("spec");
    let mut sim = Simulation::new(Chatter::broadcast(ms(10)), c).expect("valid");
    // Before the first step nodes have not started.
    assert!(sim.state(NodeId(0)).is_none());
    sim.run_until(at_ms(99));
    let s = sim.state(NodeId(1)).expect("up before the crash");
    assert_eq!(s.ticks, 9);
    sim.run_until(at_ms(100));
    assert!(sim.state(NodeId(1)).is_none());
    assert!(sim.state(NodeId(0)).is_some());
    sim.run_until(at_ms(299));
    assert!(sim.state(NodeId(1)).is_none());
    sim.run_until(at_ms(300));
    // Chatter has no durable state: it recovers from scratch (the default `recover` re-inits).
    let s = sim.state(NodeId(1)).expect("recovered");
    assert_eq!((s.ticks, s.received), (0, 0));
    assert_eq!(s.last_now, at_ms(300));
    sim.run_until(at_ms(395));
    assert_eq!(sim.state(NodeId(1)).map(|s| s.ticks), Some(9));
    let out = sim.finish();
    assert_eq!(out.trace.facts.ever_crashed, vec![false, true, false]);
    assert_eq!(out.trace.facts.up_at_end, vec![true, true, true]);
}

#[test]
fn the_first_step_starts_every_node() {
    let mut sim = Simulation::new(Chatter::broadcast(ms(10)), cfg(4)).expect("valid");
    assert!(sim.events().is_empty());
    assert!(sim.step());
    let inits: Vec<_> = sim
        .events()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Init { node } => Some((e.time, node)),
            _ => None,
        })
        .collect();
    assert_eq!(
        inits,
        NodeId::all(3)
            .map(|n| (Instant::ZERO, n))
            .collect::<Vec<_>>()
    );
    // The first queued item is n0's first tick at 10ms.
    assert_eq!(sim.now(), at_ms(10));
}
