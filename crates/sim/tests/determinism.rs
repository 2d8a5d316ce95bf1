//! Determinism: one seed and one configuration determine the whole run.

mod common;

use common::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use synod_core::{Event, EventKind, Ratio};
use synod_sim::{Latency, Recording, SimConfig, Simulation, Timing};

/// A run with every source of randomness switched on: the protocol's own choices (random peer,
/// random jitter), random latency, asynchronous stretching, loss and duplication.
fn noisy(seed: u64, until_ms: u64) -> SimConfig {
    let mut cfg = config(
        5,
        seed,
        at_ms(until_ms),
        Timing::Asynchronous,
        Latency::Exponential { mean: ms(5) },
    );
    cfg.network.loss = Ratio::from_ppm(100_000);
    cfg.network.duplicate = Ratio::from_ppm(100_000);
    cfg
}

#[test]
fn same_seed_and_config_give_identical_runs() {
    for seed in [0, 1, 42, u64::MAX] {
        let a = run(Chatter::random(ms(2)), noisy(seed, 2_000));
        let b = run(Chatter::random(ms(2)), noisy(seed, 2_000));
        // 5 nodes × ~1000 ticks: a run big enough that any nondeterminism would show.
        assert!(a.trace.events.len() > 5_000, "{}", a.trace.events.len());
        assert_eq!(a.trace_hash, b.trace_hash);
        assert!(
            a.trace.events == b.trace.events,
            "seed {seed}: events differ"
        );
        assert_eq!(a.stats, b.stats);
        assert_eq!(a.states, b.states);
        assert_eq!(a.trace.facts, b.trace.facts);
        assert_eq!(a.model.to_string(), b.model.to_string());
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let mut hashes = BTreeSet::new();
    let mut event_counts = BTreeSet::new();
    for seed in 0..50 {
        let out = run(Chatter::random(ms(5)), noisy(seed, 300));
        assert_ne!(out.trace_hash, 0);
        hashes.insert(out.trace_hash);
        event_counts.insert(out.trace.events.len());
    }
    assert_eq!(hashes.len(), 50, "two seeds produced the same trace hash");
    // Not only the hash: the runs themselves differ (loss and duplication change the counts).
    assert!(event_counts.len() > 1);
}

#[test]
fn the_seed_alone_changes_a_run_without_protocol_randomness() {
    // The protocol makes no choices; only the network's latency draws depend on the seed.
    let cfg = |seed| {
        config(
            3,
            seed,
            at_ms(200),
            Timing::Synchronous { delta: ms(10) },
            Latency::Uniform {
                lo: ms(1),
                hi: ms(9),
            },
        )
    };
    let a = run(Chatter::broadcast(ms(10)), cfg(1));
    let b = run(Chatter::broadcast(ms(10)), cfg(2));
    assert_ne!(a.trace_hash, b.trace_hash);
    // …but the same messages are sent: what is sent does not depend on latency here.
    assert_eq!(a.stats.messages_sent, b.stats.messages_sent);
}

#[test]
fn hash_only_gives_the_same_hash_as_full() {
    for seed in 0..10 {
        let full = run(Chatter::random(ms(2)), noisy(seed, 1_000));
        let mut cfg = noisy(seed, 1_000);
        cfg.recording = Recording::HashOnly;
        let hashed = run(Chatter::random(ms(2)), cfg);
        assert_eq!(full.trace_hash, hashed.trace_hash);
        assert!(hashed.trace.events.is_empty(), "HashOnly keeps no events");
        assert_eq!(full.stats, hashed.stats);
        assert_eq!(full.states, hashed.states);
    }
}

#[test]
fn stats_do_not_depend_on_the_recording_level() {
    // `Stats::events` is documented as "counted even when not recorded": a benchmark with
    // `Recording::Off` must count the same run as a fully recorded one.
    for seed in 0..5 {
        let full = run(Chatter::random(ms(2)), noisy(seed, 1_000));
        let mut cfg = noisy(seed, 1_000);
        cfg.recording = Recording::Off;
        let off = run(Chatter::random(ms(2)), cfg);
        assert_eq!(off.trace_hash, 0, "Off does not hash");
        assert!(off.trace.events.is_empty());
        assert_eq!(full.stats.events, full.trace.events.len() as u64);
        assert_eq!(full.stats, off.stats);
        assert_eq!(full.states, off.states);
    }
}

#[test]
fn stats_count_what_the_trace_shows() {
    let out = run(Chatter::random(ms(2)), noisy(9, 1_000));
    let ev = &out.trace.events;
    let count =
        |f: &dyn Fn(&EventKind<Chatter>) -> bool| ev.iter().filter(|e| f(&e.kind)).count() as u64;
    let s = &out.stats;
    assert_eq!(s.events, ev.len() as u64);
    assert_eq!(
        s.messages_sent,
        count(&|k| matches!(k, EventKind::Send { .. }))
    );
    assert_eq!(
        s.messages_delivered,
        count(&|k| matches!(k, EventKind::Deliver { .. }))
    );
    assert_eq!(
        s.messages_dropped,
        count(&|k| matches!(k, EventKind::Drop { .. }))
    );
    assert_eq!(
        s.messages_duplicated,
        count(&|k| matches!(k, EventKind::Duplicate { .. }))
    );
    assert_eq!(
        s.timers_fired,
        count(&|k| matches!(k, EventKind::Timer { .. }))
    );
    assert_eq!(
        s.indications,
        count(&|k| matches!(k, EventKind::Indication { .. }))
    );
    // Chatter indicates once per delivered message.
    assert_eq!(s.indications, s.messages_delivered);
    // 10% loss and 10% duplication were configured: both happened.
    assert!(s.messages_dropped > 0 && s.messages_duplicated > 0);
    // Events are in time order.
    assert!(ev.windows(2).all(|w| w[0].time <= w[1].time));
}

#[test]
fn an_observer_sees_exactly_the_recorded_events() {
    let seen: Rc<RefCell<Vec<Event<Chatter>>>> = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    let mut cfg = noisy(3, 500);
    cfg.recording = Recording::HashOnly;
    let sim = match Simulation::new(Chatter::random(ms(2)), cfg) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let hashed = sim
        .with_observer(move |time, kind| {
            sink.borrow_mut().push(Event {
                time,
                kind: kind.clone(),
            })
        })
        .run();
    let full = run(Chatter::random(ms(2)), noisy(3, 500));
    assert_eq!(hashed.trace_hash, full.trace_hash);
    assert!(
        *seen.borrow() == full.trace.events,
        "observer stream differs from the trace"
    );
}
