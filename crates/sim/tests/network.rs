//! The fair-loss network: duplication, loss and the loss filter.

mod common;

use common::*;
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, DropReason, Duration, EventKind, NodeId, Protocol, Ratio};
use synod_sim::{Latency, SimConfig, Simulation, Timing};

/// 50 broadcasts per node, 10ms apart, under Δ = 10ms: everything sent lands before 1s.
fn finite_cfg(seed: u64) -> SimConfig {
    config(
        3,
        seed,
        at_ms(1_000),
        Timing::Synchronous { delta: ms(10) },
        Latency::Uniform {
            lo: ms(1),
            hi: ms(10),
        },
    )
}

fn finite_chatter() -> Chatter {
    let mut c = Chatter::broadcast(ms(10));
    c.max_ticks = 50;
    c
}

#[test]
fn duplicate_probability_one_delivers_every_message_twice() {
    for seed in 0..3 {
        let mut cfg = finite_cfg(seed);
        cfg.network.duplicate = Ratio::ALWAYS;
        let out = run(finite_chatter(), cfg);
        let log = MsgLog::of(&out.trace.events);
        // 3 nodes × 50 ticks × 2 peers.
        assert_eq!(log.sends.len(), 300);
        let counts = log.deliver_counts();
        for id in log.sends.keys() {
            assert_eq!(counts.get(id), Some(&2), "message {id}");
            assert_eq!(log.duplicated.iter().filter(|d| *d == id).count(), 1);
        }
        assert!(log.drops.is_empty());
        let s = &out.stats;
        assert_eq!(
            (s.messages_sent, s.messages_duplicated, s.messages_delivered),
            (300, 300, 600)
        );
        // Each delivered copy reaches the protocol: Chatter counts deliveries.
        let received: u64 = out.states.iter().flatten().map(|s| s.received).sum();
        assert_eq!(received, 600);
        // The copies of a message travel independently: sometimes they arrive at different
        // times.
        let delays = log.delays();
        let differ = log.sends.keys().any(|id| {
            let ds: Vec<_> = delays.iter().filter(|d| d.0 == *id).map(|d| d.2).collect();
            ds[0] != ds[1]
        });
        assert!(differ);
    }
}

#[test]
fn loss_probability_one_delivers_nothing() {
    let mut cfg = finite_cfg(1);
    cfg.network.loss = Ratio::ALWAYS;
    cfg.network.duplicate = Ratio::ALWAYS; // a lost message is not duplicated either
    let out = run(finite_chatter(), cfg);
    let log = MsgLog::of(&out.trace.events);
    assert_eq!(log.sends.len(), 300);
    assert!(log.delivers.is_empty() && log.duplicated.is_empty());
    assert_eq!(log.drops.len(), 300);
    for (id, t, reason) in &log.drops {
        assert_eq!(*reason, DropReason::Loss);
        assert_eq!(*t, log.sends[id].at, "lost at send time");
    }
    assert_eq!(out.stats.messages_delivered, 0);
    assert_eq!(out.stats.messages_dropped, 300);
}

#[test]
fn partial_loss_is_roughly_its_probability() {
    let mut cfg = finite_cfg(2);
    cfg.network.loss = Ratio::from_ppm(300_000);
    let out = run(finite_chatter(), cfg);
    let log = MsgLog::of(&out.trace.events);
    let lost = log.drops.len();
    // 300 trials at p = 0.3: mean 90, sd ≈ 8.
    assert!((50..=130).contains(&lost), "{lost}");
    assert_eq!(lost + log.delivers.len(), 300);
}

// ---- loss filter: data and acknowledgements -----------------------------------------------

/// n0 sends `Data(k)` to every peer every 10ms (50 times); receivers answer `Ack(k)`.
struct DataAck;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum DMsg {
    Data(u32),
    Ack(u32),
}

impl Protocol for DataAck {
    type Msg = DMsg;
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = u32;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> u32 {
        if ctx.id() == NodeId(0) {
            ctx.set_timer((), Duration::from_millis(10));
        }
        0
    }
    fn on_message(&self, _s: &mut u32, from: NodeId, m: DMsg, ctx: &mut Ctx<'_, Self>) {
        if let DMsg::Data(k) = m {
            ctx.send(from, DMsg::Ack(k));
        }
    }
    fn on_timer(&self, s: &mut u32, _t: (), ctx: &mut Ctx<'_, Self>) {
        *s += 1;
        ctx.broadcast(DMsg::Data(*s));
        if *s < 50 {
            ctx.set_timer((), Duration::from_millis(10));
        }
    }
    fn on_request(&self, _s: &mut u32, _r: (), _c: &mut Ctx<'_, Self>) {}
}

fn is_data(m: &DMsg) -> bool {
    matches!(m, DMsg::Data(_))
}

fn is_ack(m: &DMsg) -> bool {
    matches!(m, DMsg::Ack(_))
}

fn kinds(out: &synod_sim::SimOutcome<DataAck>) -> (Vec<(u64, DMsg)>, MsgLog) {
    let sends = out
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Send { id, msg, .. } => Some((*id, msg.clone())),
            _ => None,
        })
        .collect();
    (sends, MsgLog::of(&out.trace.events))
}

#[test]
fn the_loss_filter_limits_loss_to_the_filtered_messages() {
    // Loss 1 on acknowledgements only: every Data arrives, every Ack is lost.
    let mut cfg = finite_cfg(3);
    cfg.network.loss = Ratio::ALWAYS;
    let out = Simulation::new(DataAck, cfg)
        .expect("valid")
        .with_loss_filter(is_ack)
        .run();
    let (sends, log) = kinds(&out);
    let counts = log.deliver_counts();
    let (mut data, mut acks) = (0, 0);
    for (id, m) in &sends {
        match m {
            DMsg::Data(_) => {
                data += 1;
                assert_eq!(counts.get(id), Some(&1), "data {id} lost");
            }
            DMsg::Ack(_) => {
                acks += 1;
                assert_eq!(counts.get(id), None, "ack {id} delivered");
                assert!(log
                    .drops
                    .iter()
                    .any(|d| d.0 == *id && d.2 == DropReason::Loss));
            }
        }
    }
    // 50 rounds × 2 receivers, each answering once.
    assert_eq!((data, acks), (100, 100));

    // Loss 1/2 on data only: some data is lost, every ack of delivered data arrives.
    let mut cfg = finite_cfg(4);
    cfg.network.loss = Ratio::from_ppm(500_000);
    let out = Simulation::new(DataAck, cfg)
        .expect("valid")
        .with_loss_filter(is_data)
        .run();
    let (sends, log) = kinds(&out);
    let counts = log.deliver_counts();
    let lost_data = sends
        .iter()
        .filter(|(id, m)| is_data(m) && !counts.contains_key(id))
        .count();
    assert!(lost_data > 10 && lost_data < 90, "{lost_data}");
    for (id, m) in &sends {
        if is_ack(m) {
            assert_eq!(counts.get(id), Some(&1), "ack {id} lost");
        }
    }
    assert_eq!(
        sends.iter().filter(|(_, m)| is_ack(m)).count(),
        100 - lost_data
    );
    for (id, _, reason) in &log.drops {
        assert_eq!(*reason, DropReason::Loss);
        assert!(sends.iter().any(|(i, m)| i == id && is_data(m)));
    }
}

#[test]
fn the_loss_filter_does_not_exempt_messages_from_partitions() {
    let mut cfg = finite_cfg(5);
    cfg.faults
        .add_partition_spec("n0|n1,n2@0s..2s")
        .expect("spec");
    let out = Simulation::new(DataAck, cfg)
        .expect("valid")
        .with_loss_filter(is_ack)
        .run();
    let (sends, log) = kinds(&out);
    // n0 is cut off: all its data is dropped by the partition, so nobody acks.
    assert_eq!(sends.len(), 100);
    assert!(sends.iter().all(|(_, m)| is_data(m)));
    assert!(log.delivers.is_empty());
    assert!(log.drops.iter().all(|d| d.2 == DropReason::Partition));
}
