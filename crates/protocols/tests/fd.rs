//! Failure detectors under the simulator: each detector keeps the properties of its class in the
//! timing model it was designed for, loses them outside it, and every canary is caught.

use synod_core::{
    check_all, Ctx, Duration, Effect, EventKind, FirstChoice, Instant, NodeId, Property, Protocol,
    Ratio, Verdict,
};
use synod_protocols::fd::{
    properties, qos, FdIndication, FdView, HbMsg, HbState, HbTimer, Heartbeat, Increase, Omega,
    OmegaIndication, PhiAccrual, Status, Swim, SwimIndication, SwimMsg, SwimTimer, Update,
};
use synod_sim::{Latency, SimConfig, SimOutcome, Simulation, Timing};

const SEEDS: u64 = 100;
const PERIOD: Duration = Duration::from_millis(100);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ratio(p: f64) -> Ratio {
    Ratio::from_f64(p).expect("a probability")
}

fn run<P: Protocol>(protocol: P, cfg: SimConfig) -> SimOutcome<P> {
    Simulation::new(protocol, cfg).expect("valid config").run()
}

fn assert_holds<P: Protocol>(props: &[Property<P>], out: &SimOutcome<P>, what: &str) {
    for r in check_all(props, &out.trace) {
        assert_eq!(
            r.verdict,
            Verdict::Holds,
            "{what}, seed {}: {}",
            out.seed,
            r.name
        );
    }
}

/// 4 to 6 nodes, 5 s, synchronous with Δ = 20 ms (latency uniform in 1..20 ms), n1 crashes at
/// 2 s and, with 6 nodes, n4 at 3.3 s.
fn synchronous(seed: u64) -> SimConfig {
    let n = 4 + (seed % 3) as usize;
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = Instant::from_secs(5);
    cfg.timing = Timing::Synchronous { delta: ms(20) };
    cfg.network.latency = Latency::Uniform {
        lo: ms(1),
        hi: ms(20),
    };
    cfg.faults.add_crash_spec("n1@2s").expect("crash spec");
    if n == 6 {
        cfg.faults.add_crash_spec("n4@3.3s").expect("crash spec");
    }
    cfg
}

const GST: Instant = Instant::from_secs(2);

/// 4 to 6 nodes, 10 s, partially synchronous (chaotic before GST = 2 s, Δ = 20 ms after;
/// latency uniform in 1..20 ms), n2 crashes at 4 s.
fn partially_synchronous(seed: u64) -> SimConfig {
    let n = 4 + (seed % 3) as usize;
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = Instant::from_secs(10);
    cfg.timing = Timing::PartiallySynchronous {
        gst: GST,
        delta: ms(20),
    };
    cfg.network.latency = Latency::Uniform {
        lo: ms(1),
        hi: ms(20),
    };
    cfg.faults.add_crash_spec("n2@4s").expect("crash spec");
    cfg
}

// ---- P: the perfect detector needs synchrony -------------------------------------------------

/// Timeout 150 ms > period (100 ms) + Δ (20 ms).
fn perfect() -> Heartbeat {
    Heartbeat::perfect(PERIOD, ms(150))
}

#[test]
fn perfect_detector_is_perfect_under_synchrony() {
    let mut props = properties::perfect_properties();
    props.push(properties::weak_completeness());
    props.push(properties::weak_accuracy());
    for seed in 0..SEEDS {
        let out = run(perfect(), synchronous(seed));
        assert!(out.stats.crashes >= 1);
        assert_holds(&props, &out, "perfect detector, synchrony");
        assert_eq!(
            properties::false_suspicions(&out.trace, Instant::ZERO, Instant::MAX),
            0
        );
    }
}

#[test]
fn perfect_detector_without_synchrony_is_not_accurate() {
    // The same detector, sized for Δ = 20 ms, in a run whose delays reach 150 ms: three times
    // the 50 ms margin between the timeout and the period.
    let (mut violated, mut weak_violated) = (0, 0);
    let mut false_suspicions = 0;
    for seed in 0..SEEDS {
        let mut cfg = synchronous(seed);
        cfg.timing = Timing::Synchronous { delta: ms(150) };
        cfg.network.latency = Latency::Uniform {
            lo: ms(1),
            hi: ms(150),
        };
        let out = run(perfect(), cfg);
        let v = properties::strong_accuracy().check(&out.trace);
        if let Verdict::Violated { event, .. } = &v {
            violated += 1;
            // The verdict names a Suspect event.
            let e = &out.trace.events[event.expect("names the event")];
            assert!(matches!(
                e.kind,
                EventKind::Indication {
                    ind: FdIndication::Suspect(_),
                    ..
                }
            ));
        }
        if properties::weak_accuracy().check(&out.trace).is_violated() {
            weak_violated += 1;
        }
        false_suspicions += properties::false_suspicions(&out.trace, Instant::ZERO, Instant::MAX);
        // Completeness does not need synchrony.
        assert_holds(
            &[properties::strong_completeness()],
            &out,
            "perfect, no sync",
        );
    }
    eprintln!(
        "P with delays above its timeout: strong accuracy violated on {violated}/{SEEDS} seeds, \
         weak accuracy on {weak_violated}, {false_suspicions} false suspicions"
    );
    assert!(violated >= 95, "only {violated} seeds caught");
    assert!(
        weak_violated >= 90,
        "weak accuracy: only {weak_violated} seeds caught"
    );
}

#[test]
fn canary_detector_that_never_suspects_is_not_complete() {
    // A "perfect" detector whose timeout is longer than the run never suspects anyone: accurate,
    // trivially, and strong completeness catches it.
    let mut caught = 0;
    for seed in 0..SEEDS {
        let out = run(
            Heartbeat::perfect(PERIOD, Duration::from_secs(3600)),
            synchronous(seed),
        );
        assert_holds(&[properties::strong_accuracy()], &out, "lazy detector");
        if properties::strong_completeness()
            .check(&out.trace)
            .is_violated()
        {
            caught += 1;
        }
        assert!(properties::weak_completeness()
            .check(&out.trace)
            .is_violated());
    }
    assert_eq!(caught, SEEDS);
}

// ---- ◇P: the eventually perfect detector needs partial synchrony ------------------------------

/// Initial timeout 110 ms (below period + Δ = 120 ms, so even after GST it errs a little before
/// settling), raised by 50 ms after each mistake.
fn eventually_perfect() -> Heartbeat {
    Heartbeat::eventually_perfect(PERIOD, ms(110), Increase::Add(ms(50)))
}

#[test]
fn eventually_perfect_detector_under_partial_synchrony() {
    let mut strong_violated = 0;
    let (mut before, mut after) = (0, 0);
    for seed in 0..SEEDS {
        let out = run(eventually_perfect(), partially_synchronous(seed));
        let mut props = properties::eventually_perfect_properties();
        props.push(properties::eventual_weak_accuracy(None));
        assert_holds(&props, &out, "eventually perfect, partial synchrony");
        if properties::strong_accuracy()
            .check(&out.trace)
            .is_violated()
        {
            strong_violated += 1;
        }
        before += properties::false_suspicions(&out.trace, Instant::ZERO, GST);
        after += properties::false_suspicions(&out.trace, GST, Instant::MAX);
    }
    eprintln!(
        "◇P under partial synchrony: strong accuracy violated on {strong_violated}/{SEEDS} seeds; \
         false suspicions {before} before GST, {after} after"
    );
    assert!(strong_violated >= 90, "only {strong_violated} seeds");
    assert!(before > after, "{before} before GST, {after} after");
}

#[test]
fn eventually_perfect_with_doubling_timeout() {
    for seed in 0..SEEDS {
        let out = run(
            Heartbeat::eventually_perfect(PERIOD, ms(110), Increase::Double),
            partially_synchronous(seed),
        );
        assert_holds(
            &properties::eventually_perfect_properties(),
            &out,
            "eventually perfect (doubling)",
        );
    }
}

#[test]
fn fixed_short_timeout_is_not_eventually_perfect() {
    // 105 ms < period + Δ: after GST, heartbeat gaps above 105 ms keep happening.
    for (name, make) in [
        (
            "fixed",
            Heartbeat::fixed as fn(Duration, Duration) -> Heartbeat,
        ),
        ("canary-never-increases", Heartbeat::canary_never_increases),
    ] {
        let (mut caught, mut weak_caught) = (0, 0);
        let (mut before, mut after) = (0, 0);
        for seed in 0..SEEDS {
            let out = run(make(PERIOD, ms(105)), partially_synchronous(seed));
            assert_holds(&[properties::strong_completeness()], &out, name);
            if properties::eventual_strong_accuracy(None)
                .check(&out.trace)
                .is_violated()
            {
                caught += 1;
            }
            if properties::eventual_weak_accuracy(None)
                .check(&out.trace)
                .is_violated()
            {
                weak_caught += 1;
            }
            before += properties::false_suspicions(&out.trace, Instant::ZERO, GST);
            after += properties::false_suspicions(&out.trace, GST, Instant::MAX);
        }
        eprintln!(
            "{name} 105 ms: eventual strong accuracy violated on {caught}/{SEEDS} seeds \
             (eventual weak accuracy on {weak_caught}); false suspicions {before} before GST, \
             {after} after"
        );
        assert!(caught >= 90, "{name}: only {caught} seeds caught");
        assert!(weak_caught >= 90, "{name}: only {weak_caught} seeds caught");
    }
}

// ---- QoS: exact numbers on a clockwork run ---------------------------------------------------

#[test]
fn qos_on_a_clockwork_run() {
    // Constant 5 ms latency, heartbeats every 100 ms, fixed timeout 60 ms: every heartbeat
    // arrives at k·100 + 5 ms and the peer is suspected at k·100 + 65 ms, restored 40 ms later.
    // n2 crashes at 2.45 s; its last heartbeat arrived at 2.405 s, so it is suspected for good
    // at 2.465 s: detection time 15 ms.
    let mut cfg = SimConfig::new(3, 1);
    cfg.until = Instant::from_secs(4);
    cfg.timing = Timing::Synchronous { delta: ms(10) };
    cfg.network.latency = Latency::Constant(ms(5));
    cfg.faults.add_crash_spec("n2@2450ms").expect("crash spec");
    let out = run(Heartbeat::fixed(PERIOD, ms(60)), cfg);
    let q = qos::measure(&out.trace, Instant::ZERO);
    // Pairs between correct nodes (n0, n1 both ways): 40 mistakes each (at 65, 165, …, 3965 ms),
    // the last one cut at 4 s after 35 ms. Pairs (n0, n2), (n1, n2): 24 mistakes each (up to
    // 2365 ms).
    assert_eq!(q.mistakes, 2 * 40 + 2 * 24);
    assert_eq!(q.detection_times, vec![ms(15), ms(15)]);
    assert_eq!(q.detection_time_mean, Some(ms(15)));
    assert_eq!(q.mistake_recurrence_mean, Some(ms(100)));
    let total_mistake_ms = 2 * (39 * 40 + 35) + 2 * 24 * 40;
    assert_eq!(
        q.mistake_duration_mean,
        Some(Duration(total_mistake_ms * 1_000_000 / 128))
    );
    let up = 2 * 4000 + 2 * 2450;
    let expected = (up - total_mistake_ms) as f64 / up as f64;
    assert!(
        (q.query_accuracy - expected).abs() < 1e-9,
        "{}",
        q.query_accuracy
    );
    // From 3 s on: only the correct pairs, 10 mistakes each, no crash to detect.
    let late = qos::measure(&out.trace, Instant::from_secs(3));
    assert_eq!(late.mistakes, 20);
    assert!(late.detection_times.is_empty());
    // And the counter agrees with the QoS (every observer counts there, n2 included).
    assert_eq!(
        properties::false_suspicions(&out.trace, Instant::ZERO, Instant::MAX),
        q.mistakes + 2 * 24
    );
}

// ---- φ accrual -------------------------------------------------------------------------------

#[test]
fn phi_threshold_trades_detection_time_for_mistakes() {
    let measure = |threshold: f64| {
        let (mut mistakes, mut td, mut tds, mut pa) = (0u64, 0u128, 0u64, 0.0);
        for seed in 0..10 {
            let mut cfg = SimConfig::new(4, seed);
            cfg.until = Instant::from_secs(20);
            cfg.timing = Timing::Synchronous {
                delta: Duration::from_secs(1),
            };
            cfg.network.latency = Latency::Normal {
                mean: ms(30),
                sd: ms(10),
            };
            cfg.network.loss = ratio(0.01);
            cfg.faults.add_crash_spec("n3@15s").expect("crash spec");
            let out = run(PhiAccrual::new(PERIOD, threshold), cfg);
            assert_holds(&[properties::strong_completeness()], &out, "phi");
            let q = qos::measure(&out.trace, Instant::from_secs(2));
            mistakes += q.mistakes;
            for d in &q.detection_times {
                td += d.as_nanos() as u128;
                tds += 1;
            }
            pa += q.query_accuracy / 10.0;
        }
        let td = Duration((td / tds.max(1) as u128) as u64);
        eprintln!(
            "phi threshold {threshold}: {mistakes} mistakes over 10 runs, mean detection time \
             {td}, query accuracy {pa:.5}"
        );
        (mistakes, td, pa)
    };
    let (m1, td1, pa1) = measure(1.0);
    let (m8, td8, pa8) = measure(8.0);
    assert!(m1 > 5 * m8.max(1), "threshold 1: {m1} mistakes, 8: {m8}");
    assert!(td1 < td8, "detection time {td1} (threshold 1) vs {td8} (8)");
    assert!(pa1 < pa8);
}

#[test]
fn phi_grows_with_silence_and_stays_finite() {
    let phi = PhiAccrual::new(PERIOD, 8.0);
    let mut fx: Vec<Effect<PhiAccrual>> = Vec::new();
    let mut chooser = FirstChoice;
    let mut state = {
        let mut ctx = Ctx::new(NodeId(0), 2, Instant::ZERO, &mut fx, &mut chooser);
        phi.init(&mut ctx)
    };
    // Regular heartbeats every 100 ms, ±1 ms.
    for k in 1..=50u64 {
        let t = Instant(k * 100_000_000 + (k % 3) * 1_000_000);
        let mut ctx = Ctx::new(NodeId(0), 2, t, &mut fx, &mut chooser);
        phi.on_message(&mut state, NodeId(1), HbMsg::Heartbeat, &mut ctx);
    }
    let last = state.peers[&NodeId(1)].last;
    let at = |d: u64| phi.phi(&state, NodeId(1), last + ms(d));
    assert!(at(50) < 0.5, "{}", at(50));
    assert!(at(100) < at(130) && at(130) < at(200));
    assert!(at(200) > 8.0);
    let far = at(100_000);
    assert!(far.is_finite() && far > 1e6, "{far}");
    assert_eq!(phi.phi(&state, NodeId(7), last), 0.0);
}

// ---- SWIM --------------------------------------------------------------------------------------

fn swim_cfg(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = Instant::from_secs(10);
    cfg.timing = Timing::Synchronous { delta: ms(10) };
    cfg
}

#[test]
fn swim_confirms_a_crashed_member_everywhere() {
    let mut detection = Vec::new();
    for seed in 0..SEEDS {
        let n = 6 + (seed % 7) as usize;
        let mut cfg = swim_cfg(n, seed);
        cfg.faults.add_crash_spec("n2@3s").expect("crash spec");
        if seed % 2 == 0 {
            cfg.network.loss = ratio(0.05);
        }
        let out = run(Swim::new(PERIOD), cfg);
        assert_holds(&[properties::strong_completeness()], &out, "swim");
        for d in qos::measure(&out.trace, Instant::ZERO).detection_times {
            detection.push(d.as_nanos());
        }
        // Everyone ends up with n2 dead in its own view.
        for (i, s) in out.states.iter().enumerate() {
            if let Some(s) = s {
                assert_eq!(s.members[2].status, Status::Dead, "seed {seed}, n{i}");
            }
        }
    }
    detection.sort_unstable();
    let mean = Duration(detection.iter().sum::<u64>() / detection.len() as u64);
    let max = Duration(detection[detection.len() - 1]);
    eprintln!(
        "swim, one crash, 6..12 members: confirmed everywhere; detection time mean {mean}, max \
         {max} (suspicion timeout 300 ms)"
    );
    assert!(mean < Duration::from_secs(2), "{mean}");
}

#[test]
fn swim_is_eventually_accurate_under_partial_synchrony() {
    // Partial synchrony, n2 crashes at 4 s, and n1 misses 80% of what it should receive between
    // 0.5 s and 1.5 s: it gets suspected, and must refute.
    let mut canary_caught = 0;
    for seed in 0..SEEDS {
        let mut cfg = partially_synchronous(seed);
        cfg.faults
            .add_omission_spec("n1:receive=0.8@0.5s..1.5s")
            .expect("omission spec");
        cfg.network.latency = Latency::Uniform {
            lo: ms(1),
            hi: ms(8),
        };
        cfg.timing = Timing::PartiallySynchronous {
            gst: GST,
            delta: ms(8),
        };
        let out = run(Swim::new(PERIOD), cfg.clone());
        assert_holds(
            &properties::eventually_perfect_properties(),
            &out,
            "swim, partial synchrony",
        );
        let canary = run(Swim::canary_no_refutation(PERIOD), cfg);
        if properties::eventual_strong_accuracy(None)
            .check(&canary.trace)
            .is_violated()
        {
            canary_caught += 1;
        }
    }
    eprintln!("swim without refutation: eventual strong accuracy violated on {canary_caught}/{SEEDS} seeds");
    assert!(canary_caught >= 90, "only {canary_caught}");
}

/// False confirmations (Confirm of a live member, counted by every member) over `seeds` runs of
/// 16 members with 5% loss.
fn swim_false_confirmations(swim: Swim, seeds: u64) -> u64 {
    (0..seeds)
        .map(|seed| {
            let mut cfg = swim_cfg(16, seed);
            cfg.network.loss = ratio(0.05);
            let out = run(swim, cfg);
            properties::false_suspicions(&out.trace, Instant::ZERO, Instant::MAX)
        })
        .sum()
}

#[test]
fn swim_suspicion_reduces_false_confirmations() {
    let with = swim_false_confirmations(Swim::new(PERIOD), 20);
    let without = swim_false_confirmations(
        Swim {
            suspicion: None,
            ..Swim::new(PERIOD)
        },
        20,
    );
    let canary = swim_false_confirmations(Swim::canary_no_refutation(PERIOD), 20);
    eprintln!(
        "swim, 16 members, 5% loss, 20 runs of 10 s: false confirmations {with} with suspicion, \
         {without} without, {canary} with suspicion but no refutation (canary)"
    );
    assert!(
        with * 5 < without,
        "{with} with suspicion vs {without} without"
    );
    assert!(with * 5 < canary, "{with} vs canary {canary}");
}

#[test]
fn swim_sends_a_constant_number_of_messages_per_member_per_period() {
    let per_member = |n: usize| {
        let out = run(Swim::new(PERIOD), swim_cfg(n, 3));
        let mut kinds = std::collections::BTreeMap::<&str, u64>::new();
        for e in &out.trace.events {
            if let EventKind::Send { msg, .. } = &e.kind {
                *kinds.entry(msg.kind()).or_default() += 1;
            }
        }
        let periods = out.trace.facts.end.as_nanos() / PERIOD.as_nanos();
        let rate = out.stats.messages_sent as f64 / (n as u64 * periods) as f64;
        eprintln!("swim n = {n}: {rate:.3} messages per member per period, by kind {kinds:?}");
        rate
    };
    let (small, large) = (per_member(8), per_member(32));
    assert!((small / large - 1.0).abs() < 0.1, "{small} vs {large}");
    assert!(large < 3.0, "{large} per member per period with n = 32");
    // With loss, indirect probes add messages, still O(1) per member.
    let mut cfg = swim_cfg(32, 3);
    cfg.network.loss = ratio(0.05);
    let out = run(Swim::new(PERIOD), cfg);
    let rate = out.stats.messages_sent as f64 / (32 * 100) as f64;
    eprintln!("swim n = 32, 5% loss: {rate:.3} messages per member per period");
    assert!(rate < 4.0);
}

// ---- Ω -----------------------------------------------------------------------------------------

fn omega_cfg(seed: u64) -> SimConfig {
    let mut cfg = partially_synchronous(seed);
    cfg.until = Instant::from_secs(12);
    cfg.faults = Default::default();
    cfg.faults.add_crash_spec("n0@4s").expect("crash spec");
    cfg
}

#[test]
fn omega_elects_the_smallest_correct_process() {
    for seed in 0..SEEDS {
        let out = run(
            Omega::new(PERIOD, ms(110), Increase::Add(ms(50))),
            omega_cfg(seed),
        );
        assert_holds(&[properties::eventual_leadership(None)], &out, "omega");
        // Every correct node's last word: trust n1.
        for p in 1..out.trace.facts.n as u32 {
            let last = out
                .trace
                .indications()
                .filter(|(_, _, node, _)| node.0 == p)
                .last()
                .map(|(_, _, _, ind)| *ind);
            assert_eq!(
                last,
                Some(OmegaIndication::Trust(NodeId(1))),
                "seed {seed}, n{p}"
            );
            assert_eq!(
                out.states[p as usize].as_ref().map(|s| s.leader),
                Some(NodeId(1))
            );
        }
    }
}

#[test]
fn canary_omega_over_a_fixed_timeout_is_caught() {
    let mut caught = 0;
    for seed in 0..SEEDS {
        let out = run(
            Omega::canary_fixed_timeout(PERIOD, ms(105)),
            omega_cfg(seed),
        );
        if properties::eventual_leadership(None)
            .check(&out.trace)
            .is_violated()
        {
            caught += 1;
        }
    }
    eprintln!(
        "omega over a 105 ms fixed timeout: eventual leadership violated on {caught}/{SEEDS} seeds"
    );
    assert!(caught >= 90, "only {caught}");
}

// ---- handlers, driven by hand ------------------------------------------------------------------

/// Runs one handler at node `me` of `n` at time `now` (ms), returning its effects.
fn step<P: Protocol>(
    me: u32,
    n: usize,
    now: u64,
    f: impl FnOnce(&mut Ctx<'_, P>),
) -> Vec<Effect<P>> {
    let mut fx = Vec::new();
    let mut chooser = FirstChoice;
    let mut ctx = Ctx::new(
        NodeId(me),
        n,
        Instant::from_millis(now),
        &mut fx,
        &mut chooser,
    );
    f(&mut ctx);
    fx
}

#[test]
fn heartbeat_handlers_suspect_restore_and_raise_the_timeout() {
    let hb = Heartbeat::eventually_perfect(PERIOD, ms(150), Increase::Add(ms(50)));
    let mut s = HbState::default();
    let init = step::<Heartbeat>(0, 3, 0, |ctx| s = hb.init(ctx));
    assert_eq!(
        init,
        vec![
            Effect::SetTimer {
                timer: HbTimer::Check(NodeId(1)),
                after: ms(150)
            },
            Effect::SetTimer {
                timer: HbTimer::Check(NodeId(2)),
                after: ms(150)
            },
            Effect::Send {
                to: NodeId(1),
                msg: HbMsg::Heartbeat
            },
            Effect::Send {
                to: NodeId(2),
                msg: HbMsg::Heartbeat
            },
            Effect::SetTimer {
                timer: HbTimer::Beat,
                after: PERIOD
            },
        ]
    );
    // n1's check fires: suspect it.
    let fx = step(0, 3, 150, |ctx| {
        hb.on_timer(&mut s, HbTimer::Check(NodeId(1)), ctx)
    });
    assert_eq!(fx, vec![Effect::Indicate(FdIndication::Suspect(NodeId(1)))]);
    // Firing again changes nothing.
    assert!(step(0, 3, 160, |ctx| hb.on_timer(
        &mut s,
        HbTimer::Check(NodeId(1)),
        ctx
    ))
    .is_empty());
    // Its heartbeat arrives: restore it, with a 50 ms longer timeout.
    let fx = step(0, 3, 170, |ctx| {
        hb.on_message(&mut s, NodeId(1), HbMsg::Heartbeat, ctx)
    });
    assert_eq!(
        fx,
        vec![
            Effect::Indicate(FdIndication::Restore(NodeId(1))),
            Effect::SetTimer {
                timer: HbTimer::Check(NodeId(1)),
                after: ms(200)
            },
        ]
    );
    assert_eq!(s.peers[&NodeId(1)].timeout, ms(200));
    // A heartbeat from a stranger, or from itself, is ignored.
    assert!(step(0, 3, 180, |ctx| hb.on_message(
        &mut s,
        NodeId(9),
        HbMsg::Heartbeat,
        ctx
    ))
    .is_empty());
    assert!(step(0, 3, 180, |ctx| hb.on_message(
        &mut s,
        NodeId(0),
        HbMsg::Heartbeat,
        ctx
    ))
    .is_empty());
    // The perfect detector never restores.
    let p = perfect();
    let mut s = HbState::default();
    step::<Heartbeat>(0, 2, 0, |ctx| s = p.init(ctx));
    step(0, 2, 150, |ctx| {
        p.on_timer(&mut s, HbTimer::Check(NodeId(1)), ctx)
    });
    assert!(step(0, 2, 170, |ctx| p.on_message(
        &mut s,
        NodeId(1),
        HbMsg::Heartbeat,
        ctx
    ))
    .is_empty());
    assert_eq!(s.suspected().collect::<Vec<_>>(), vec![NodeId(1)]);
}

fn ping(seq: u64) -> SwimMsg {
    SwimMsg::Ping {
        seq,
        updates: Vec::new(),
    }
}

#[test]
fn swim_handlers_probe_ack_and_refute() {
    let swim = Swim::new(PERIOD);
    let mut s = None;
    // Init at n1 of 5: the first probe goes to the first candidate (FirstChoice): n0.
    let fx = step::<Swim>(1, 5, 0, |ctx| s = Some(swim.init(ctx)));
    let mut s = s.expect("state");
    assert_eq!(
        fx,
        vec![
            Effect::Send {
                to: NodeId(0),
                msg: ping(1)
            },
            Effect::SetTimer {
                timer: SwimTimer::PingTimeout,
                after: ms(20)
            },
            Effect::SetTimer {
                timer: SwimTimer::Tick,
                after: PERIOD
            },
        ]
    );
    // No ack in time: ProbeFailed, and PingReq to three relays (not n0, not n1).
    let fx = step(1, 5, 20, |ctx| {
        swim.on_timer(&mut s, SwimTimer::PingTimeout, ctx)
    });
    assert_eq!(
        fx[0],
        Effect::Indicate(SwimIndication::ProbeFailed(NodeId(0)))
    );
    let relays: Vec<NodeId> = fx[1..]
        .iter()
        .map(|e| match e {
            Effect::Send {
                to,
                msg: SwimMsg::PingReq { seq: 1, target, .. },
            } if *target == NodeId(0) => *to,
            other => panic!("unexpected effect {other:?}"),
        })
        .collect();
    assert_eq!(relays.len(), 3);
    assert!(!relays.contains(&NodeId(0)) && !relays.contains(&NodeId(1)));
    // The period ends without an ack: n0 is suspected (and the suspicion gossiped on the next
    // ping, which again targets n0 with FirstChoice).
    let fx = step(1, 5, 100, |ctx| swim.on_timer(&mut s, SwimTimer::Tick, ctx));
    assert_eq!(fx[0], Effect::Indicate(SwimIndication::Suspect(NodeId(0))));
    assert!(fx.contains(&Effect::SetTimer {
        timer: SwimTimer::Suspicion(NodeId(0)),
        after: ms(300)
    }));
    let suspect0 = Update {
        node: NodeId(0),
        incarnation: 0,
        status: Status::Suspect,
    };
    assert!(fx.iter().any(|e| matches!(e,
        Effect::Send { to, msg: SwimMsg::Ping { updates, .. } }
            if *to == NodeId(0) && updates.contains(&suspect0))));
    // n0's refutation arrives in an ack: Alive with incarnation 1 overrides the suspicion.
    let alive0 = Update {
        node: NodeId(0),
        incarnation: 1,
        status: Status::Alive,
    };
    let fx = step(1, 5, 110, |ctx| {
        swim.on_message(
            &mut s,
            NodeId(0),
            SwimMsg::Ack {
                seq: 2,
                updates: vec![alive0],
            },
            ctx,
        )
    });
    assert_eq!(
        fx,
        vec![
            Effect::Indicate(SwimIndication::Alive(NodeId(0))),
            Effect::CancelTimer {
                timer: SwimTimer::Suspicion(NodeId(0))
            },
            Effect::CancelTimer {
                timer: SwimTimer::PingTimeout
            },
        ]
    );
    assert_eq!(s.members[0].incarnation, 1);
    // Hearing it is suspected makes a member refute with a higher incarnation, in its answer.
    let suspect1 = Update {
        node: NodeId(1),
        incarnation: 0,
        status: Status::Suspect,
    };
    let fx = step(1, 5, 120, |ctx| {
        swim.on_message(
            &mut s,
            NodeId(3),
            SwimMsg::Ping {
                seq: 9,
                updates: vec![suspect1],
            },
            ctx,
        )
    });
    assert_eq!(s.incarnation, 1);
    let Effect::Send {
        to,
        msg: SwimMsg::Ack { seq: 9, updates },
    } = &fx[0]
    else {
        panic!("expected an ack, got {fx:?}");
    };
    assert_eq!(*to, NodeId(3));
    assert!(updates.contains(&Update {
        node: NodeId(1),
        incarnation: 1,
        status: Status::Alive
    }));
    swim.invariants(&s);
}

#[test]
fn swim_ignores_nonsense_from_peers() {
    let swim = Swim::new(PERIOD);
    let mut s = None;
    step::<Swim>(1, 3, 0, |ctx| s = Some(swim.init(ctx)));
    let mut s = s.expect("state");
    let before = s.clone();
    let bogus = Update {
        node: NodeId(42),
        incarnation: 7,
        status: Status::Dead,
    };
    let msgs = [
        SwimMsg::PingReq {
            seq: 1,
            target: NodeId(42),
            updates: vec![bogus],
        },
        SwimMsg::IndirectAck {
            seq: 1,
            origin: NodeId(42),
            updates: vec![bogus],
        },
        SwimMsg::Ack {
            seq: 77,
            updates: vec![bogus],
        },
    ];
    for msg in msgs {
        let fx = step(1, 3, 10, |ctx| swim.on_message(&mut s, NodeId(2), msg, ctx));
        assert!(fx.is_empty(), "{fx:?}");
    }
    assert_eq!(s, before);
    // An indirect ping is answered to the relay whatever the origin claims to be.
    let fx = step(1, 3, 10, |ctx| {
        swim.on_message(
            &mut s,
            NodeId(2),
            SwimMsg::IndirectPing {
                seq: 5,
                origin: NodeId(42),
                updates: Vec::new(),
            },
            ctx,
        )
    });
    assert!(matches!(
        &fx[..],
        [Effect::Send {
            to: NodeId(2),
            msg: SwimMsg::IndirectAck { seq: 5, .. }
        }]
    ));
}

#[test]
fn swim_reads_as_a_failure_detector() {
    assert_eq!(
        Swim::fd_event(&SwimIndication::Confirm(NodeId(3))),
        Some(FdIndication::Suspect(NodeId(3)))
    );
    assert_eq!(
        Swim::fd_event(&SwimIndication::Alive(NodeId(3))),
        Some(FdIndication::Restore(NodeId(3)))
    );
    assert_eq!(Swim::fd_event(&SwimIndication::Suspect(NodeId(3))), None);
    assert_eq!(
        Swim::fd_event(&SwimIndication::ProbeFailed(NodeId(3))),
        None
    );
}

#[test]
fn same_seed_same_trace() {
    let a = run(Swim::new(PERIOD), swim_cfg(8, 5));
    let b = run(Swim::new(PERIOD), swim_cfg(8, 5));
    assert_eq!(a.trace_hash, b.trace_hash);
    let c = run(Swim::new(PERIOD), swim_cfg(8, 6));
    assert_ne!(a.trace_hash, c.trace_hash);
}
