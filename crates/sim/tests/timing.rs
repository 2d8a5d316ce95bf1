//! Timing models: what each model promises about message delays, checked per message from the
//! Send and Deliver events of the trace.

mod common;

use common::*;
use synod_core::{Duration, Instant};
use synod_sim::{Latency, Timing};

/// 4 nodes sending to random peers every ~1ms: thousands of messages per second of run.
fn busy() -> Chatter {
    Chatter::random(ms(1))
}

#[test]
fn synchronous_caps_every_delay_at_delta() {
    let delta = ms(5);
    for latency in [
        // Samples well above Δ: the model must cap them.
        Latency::Uniform {
            lo: ms(1),
            hi: ms(20),
        },
        Latency::Exponential { mean: ms(10) },
        Latency::Normal {
            mean: ms(6),
            sd: ms(3),
        },
    ] {
        for seed in 0..3 {
            let out = run(
                busy(),
                config(
                    4,
                    seed,
                    at_ms(1_000),
                    Timing::Synchronous { delta },
                    latency,
                ),
            );
            let log = MsgLog::of(&out.trace.events);
            let delays = log.delays();
            assert!(delays.len() > 2_000, "{}", delays.len());
            for (id, sent, d) in &delays {
                assert!(
                    *d <= delta,
                    "{latency}: message {id} sent at {sent} took {d} > {delta}"
                );
            }
            // The distributions put mass above Δ, so some delays sit exactly at the cap.
            assert!(
                delays.iter().any(|(_, _, d)| *d == delta),
                "{latency}: nothing capped"
            );
            // No loss configured and Δ-bounded: everything sent early enough was delivered.
            let horizon = Instant::from_millis(1_000 - 5);
            let counts = log.deliver_counts();
            for (id, s) in &log.sends {
                if s.at <= horizon {
                    assert_eq!(counts.get(id), Some(&1), "message {id} lost");
                }
            }
        }
    }
}

#[test]
fn constant_latency_under_synchronous_timing_is_exact() {
    for (d, delta) in [
        (ms(3), ms(10)),
        (ms(10), ms(10)),
        (Duration::from_nanos(1), ms(1)),
    ] {
        let out = run(
            busy(),
            config(
                4,
                11,
                at_ms(500),
                Timing::Synchronous { delta },
                Latency::Constant(d),
            ),
        );
        let delays = MsgLog::of(&out.trace.events).delays();
        assert!(delays.len() > 1_000);
        assert!(
            delays.iter().all(|(_, _, x)| *x == d),
            "a delay differs from {d}"
        );
    }
}

#[test]
fn lockstep_timing_delivers_every_message_half_a_round_later() {
    let round = ms(100);
    let out = run(
        Chatter::broadcast(ms(37)),
        config(
            3,
            5,
            at_ms(2_000),
            Timing::Lockstep { round },
            Latency::Uniform {
                lo: ms(1),
                hi: ms(500),
            },
        ),
    );
    let delays = MsgLog::of(&out.trace.events).delays();
    assert!(delays.len() > 100);
    assert!(delays.iter().all(|(_, _, d)| *d == ms(50)));
}

#[test]
fn partially_synchronous_is_chaotic_before_gst_and_bounded_after() {
    let gst = at_ms(1_000);
    let delta = ms(10);
    // Base latency strictly below Δ: a delay above Δ can only come from the asynchronous stretch
    // that the model applies before GST.
    let latency = Latency::Uniform {
        lo: ms(1),
        hi: ms(8),
    };
    let mut before_over_delta = 0;
    for seed in 0..3 {
        let out = run(
            busy(),
            config(
                4,
                seed,
                at_ms(2_000),
                Timing::PartiallySynchronous { gst, delta },
                latency,
            ),
        );
        let log = MsgLog::of(&out.trace.events);
        let delays = log.delays();
        let (mut before, mut after) = (0, 0);
        for (id, sent, d) in &delays {
            let arrival = *sent + *d;
            if *sent >= gst {
                after += 1;
                assert!(
                    *d <= delta,
                    "message {id} sent at {sent} after GST took {d}"
                );
            } else {
                before += 1;
                assert!(
                    arrival <= gst + delta,
                    "message {id} sent at {sent} before GST arrived at {arrival} > GST+Δ"
                );
                if *d > delta {
                    before_over_delta += 1;
                }
            }
        }
        assert!(before > 2_000 && after > 2_000, "{before} {after}");
        // Without loss, every message is eventually delivered: by GST+Δ for those sent before
        // GST, within Δ for those sent after (up to the end of the run).
        let counts = log.deliver_counts();
        for (id, s) in &log.sends {
            if s.at + delta <= at_ms(2_000) {
                assert_eq!(
                    counts.get(id),
                    Some(&1),
                    "message {id} sent at {} lost",
                    s.at
                );
            }
        }
    }
    assert!(
        before_over_delta > 0,
        "before GST no delay exceeded Δ: the run looked synchronous"
    );
}

#[test]
fn asynchronous_delays_are_heavy_tailed_and_reorder_channels() {
    let hi = ms(10);
    let latency = Latency::Uniform { lo: ms(1), hi };
    let out = run(
        busy(),
        config(4, 7, at_ms(10_000), Timing::Asynchronous, latency),
    );
    let log = MsgLog::of(&out.trace.events);
    let delays = log.delays();
    assert!(delays.len() > 3_000, "{}", delays.len());
    let max = delays.iter().map(|(_, _, d)| *d).max().expect("delays");
    assert!(
        max > hi.saturating_mul(10),
        "the largest delay {max} is not above 10× the latency bound {hi}"
    );
    // Most messages are not stretched at all: the median stays within the base distribution.
    let mut sorted: Vec<Duration> = delays.iter().map(|(_, _, d)| *d).collect();
    sorted.sort();
    assert!(sorted[sorted.len() / 2] <= hi);
    // Reordering: on some channel a later-sent message (higher id) is delivered before an
    // earlier one.
    let reordered = log
        .per_channel()
        .values()
        .any(|ids| ids.windows(2).any(|w| w[0] > w[1]));
    assert!(reordered, "no channel reordered under asynchronous timing");
}

#[test]
fn fifo_channels_never_reorder_whatever_the_timing() {
    let latency = Latency::Exponential { mean: ms(5) };
    for timing in [
        Timing::Asynchronous,
        Timing::PartiallySynchronous {
            gst: at_ms(1_000),
            delta: ms(10),
        },
        Timing::Synchronous { delta: ms(10) },
    ] {
        for seed in 0..3 {
            let mut cfg = config(4, seed, at_ms(2_000), timing, latency);
            cfg.network.fifo = true;
            let out = run(busy(), cfg);
            let log = MsgLog::of(&out.trace.events);
            assert!(log.delivers.len() > 2_000);
            for ((from, to), ids) in log.per_channel() {
                // Message ids grow with send time, so send order on a channel is id order.
                assert!(
                    ids.windows(2).all(|w| w[0] < w[1]),
                    "{timing}: channel {from}->{to} delivered out of send order"
                );
            }
            // FIFO does not weaken the timing model's bounds.
            if let Timing::Synchronous { delta } = timing {
                assert!(log.delays().iter().all(|(_, _, d)| *d <= delta));
            }
            if let Timing::PartiallySynchronous { gst, delta } = timing {
                for (_, sent, d) in log.delays() {
                    if sent >= gst {
                        assert!(d <= delta);
                    } else {
                        assert!(sent + d <= gst + delta);
                    }
                }
            }
        }
    }
    // The same runs without FIFO do reorder (so the check above is not vacuous).
    let out = run(
        busy(),
        config(4, 0, at_ms(2_000), Timing::Asynchronous, latency),
    );
    let reordered = MsgLog::of(&out.trace.events)
        .per_channel()
        .values()
        .any(|ids| ids.windows(2).any(|w| w[0] > w[1]));
    assert!(reordered);
}

#[test]
fn timing_and_latency_specs_parse() {
    assert_eq!(
        "sync:5ms".parse::<Timing>(),
        Ok(Timing::Synchronous { delta: ms(5) })
    );
    assert_eq!("async".parse::<Timing>(), Ok(Timing::Asynchronous));
    assert_eq!(
        "psync:gst=2s,delta=10ms".parse::<Timing>(),
        Ok(Timing::PartiallySynchronous {
            gst: Instant::from_secs(2),
            delta: ms(10)
        })
    );
    assert_eq!(
        "lockstep:50ms".parse::<Timing>(),
        Ok(Timing::Lockstep { round: ms(50) })
    );
    assert!("psync:delta=1ms"
        .parse::<Timing>()
        .unwrap_err()
        .contains("gst"));
    assert_eq!(
        "uniform:1ms..10ms".parse::<Latency>(),
        Ok(Latency::Uniform {
            lo: ms(1),
            hi: ms(10)
        })
    );
    assert!("uniform:9ms..1ms"
        .parse::<Latency>()
        .unwrap_err()
        .contains("low end"));
    assert_eq!("7ms".parse::<Latency>(), Ok(Latency::Constant(ms(7))));
}
