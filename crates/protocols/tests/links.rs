//! The link protocols under the simulator: every link keeps its properties over many seeds of a
//! lossy, duplicating, reordering network, and every canary is caught.

use synod_core::{
    check_all, Duration, EventKind, Instant, LinkDeliver, LinkSend, NodeId, Prng, Property,
    Protocol, Ratio, Verdict,
};
use synod_protocols::link::{
    dedup_perfect_link, fifo_perfect_link, fifo_perfect_link_canary_no_holdback,
    fifo_stubborn_stack, properties, FairLossLink, PerfectLink, PlMsg, StubbornLink,
};
use synod_sim::{
    Latency, Requests, SimConfig, SimOutcome, Simulation, Timing, Workload, WorkloadEnv,
};

const SEEDS: u64 = 100;
const PERIOD: Duration = Duration::from_millis(100);

/// Every node sends `per_node` unique `u64` payloads to random peers at random times in the
/// first half of the run. Payload `p * 1_000_000 + j` is node p's j-th.
struct UniqueSends {
    per_node: u64,
}

impl<P: Protocol<Request = LinkSend<u64>>> Workload<P> for UniqueSends {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        assert!(env.n > 1, "UniqueSends needs at least two nodes");
        let half = env.until.as_nanos() / 2;
        for p in 0..env.n as u64 {
            for j in 0..self.per_node {
                let k = prng.below(env.n as u64 - 1);
                let to = NodeId(if k >= p { k + 1 } else { k } as u32);
                let at = Instant(prng.below(half));
                let payload = p * 1_000_000 + j;
                out.push((at, NodeId(p as u32), LinkSend { to, payload }));
            }
        }
    }
}

fn ratio(p: f64) -> Ratio {
    Ratio::from_f64(p).expect("a probability")
}

/// 3 to 5 nodes, 4 s, asynchronous timing (heavy-tailed delays, reordering), loss 0.3,
/// duplication 0.1.
fn lossy(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(3 + (seed % 3) as usize, seed);
    cfg.until = Instant::ZERO + Duration::from_secs(4);
    cfg.timing = Timing::Asynchronous;
    cfg.network.loss = ratio(0.3);
    cfg.network.duplicate = ratio(0.1);
    cfg.network.fifo = false;
    cfg
}

fn run<P: Protocol<Request = LinkSend<u64>>>(protocol: P, cfg: SimConfig) -> SimOutcome<P> {
    Simulation::new(protocol, cfg)
        .expect("valid config")
        .with_workload(UniqueSends { per_node: 20 })
        .run()
}

/// Runs seeds `0..SEEDS` and asserts every property holds on every one.
fn all_hold<P>(make: impl Fn() -> P, props: &[Property<P>], cfg: impl Fn(u64) -> SimConfig)
where
    P: Protocol<Request = LinkSend<u64>, Indication = LinkDeliver<u64>>,
{
    for seed in 0..SEEDS {
        let out = run(make(), cfg(seed));
        assert!(out.stats.requests > 0);
        for r in check_all(props, &out.trace) {
            assert_eq!(r.verdict, Verdict::Holds, "seed {seed}: {}", r.name);
        }
    }
}

/// Runs seeds `0..SEEDS`; returns on how many `caught` is violated, asserting that the
/// properties in `others` still hold (the canary breaks exactly what it is meant to break).
fn times_caught<P>(
    make: impl Fn() -> P,
    caught: Property<P>,
    others: &[Property<P>],
    cfg: impl Fn(u64) -> SimConfig,
) -> u64
where
    P: Protocol<Request = LinkSend<u64>, Indication = LinkDeliver<u64>>,
{
    let mut hits = 0;
    for seed in 0..SEEDS {
        let out = run(make(), cfg(seed));
        if caught.check(&out.trace).is_violated() {
            hits += 1;
        }
        for r in check_all(others, &out.trace) {
            assert_eq!(r.verdict, Verdict::Holds, "seed {seed}: {}", r.name);
        }
    }
    eprintln!(
        "canary: {} violated on {hits} of {SEEDS} seeds",
        caught.name
    );
    hits
}

#[test]
fn fair_loss_creates_nothing_but_loses() {
    let mut lost = 0;
    for seed in 0..SEEDS {
        let out = run(FairLossLink::<u64>::new(), lossy(seed));
        for r in check_all(&properties::fair_loss_properties(), &out.trace) {
            assert_eq!(r.verdict, Verdict::Holds, "seed {seed}: {}", r.name);
        }
        if properties::reliable_delivery()
            .check(&out.trace)
            .is_violated()
        {
            lost += 1;
        }
    }
    // With loss 0.3 and 60..100 messages per run, some message is lost in every run.
    assert_eq!(lost, SEEDS);
}

#[test]
fn stubborn_link_holds() {
    all_hold(
        || StubbornLink::new(PERIOD),
        &properties::stubborn_properties(),
        lossy,
    );
}

#[test]
fn perfect_link_holds() {
    all_hold(
        || PerfectLink::new(PERIOD),
        &properties::perfect_properties(),
        lossy,
    );
}

#[test]
fn dedup_perfect_link_holds() {
    all_hold(
        || dedup_perfect_link(PERIOD),
        &properties::perfect_properties(),
        lossy,
    );
}

#[test]
fn fifo_perfect_link_holds() {
    all_hold(
        || fifo_perfect_link(PERIOD),
        &properties::fifo_properties(),
        lossy,
    );
}

#[test]
fn fifo_stubborn_stack_holds() {
    all_hold(
        || fifo_stubborn_stack(PERIOD),
        &properties::fifo_properties(),
        lossy,
    );
}

#[test]
fn canary_stubborn_link_that_gives_up_is_caught() {
    let cfg = |seed| {
        let mut cfg = lossy(seed);
        cfg.network.loss = ratio(0.5);
        cfg
    };
    let hits = times_caught(
        || StubbornLink::canary_gives_up(PERIOD, 1),
        properties::stubborn_delivery(),
        &[properties::no_creation()],
        cfg,
    );
    assert!(hits >= 90, "stubborn canary caught on only {hits} seeds");
}

#[test]
fn canary_perfect_link_without_dedup_is_caught() {
    let hits = times_caught(
        || PerfectLink::canary_no_dedup(PERIOD),
        properties::no_duplication(),
        &[properties::no_creation(), properties::reliable_delivery()],
        lossy,
    );
    assert!(hits >= 90, "no-dedup canary caught on only {hits} seeds");
}

#[test]
fn canary_fifo_link_without_holdback_is_caught() {
    let hits = times_caught(
        || fifo_perfect_link_canary_no_holdback(PERIOD),
        properties::fifo_delivery(),
        &properties::perfect_properties(),
        lossy,
    );
    assert!(hits >= 90, "no-holdback canary caught on only {hits} seeds");
}

#[test]
fn counters_see_the_canaries() {
    let out = run(PerfectLink::canary_no_dedup(PERIOD), lossy(1));
    assert!(properties::count_duplicate_deliveries(&out.trace) > 0);
    let out = run(PerfectLink::new(PERIOD), lossy(1));
    assert_eq!(properties::count_duplicate_deliveries(&out.trace), 0);
    let out = run(StubbornLink::new(PERIOD), lossy(1));
    assert!(properties::count_duplicate_deliveries(&out.trace) > 100);
    let mut fifo_violations = 0;
    for seed in 0..20 {
        let out = run(fifo_perfect_link_canary_no_holdback(PERIOD), lossy(seed));
        let count = properties::count_fifo_violations(&out.trace);
        assert_eq!(
            count > 0,
            properties::fifo_delivery().check(&out.trace).is_violated(),
            "seed {seed}"
        );
        fifo_violations += count;
        let out = run(fifo_perfect_link(PERIOD), lossy(seed));
        assert_eq!(properties::count_fifo_violations(&out.trace), 0);
    }
    assert!(fifo_violations > 0);
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = run(fifo_stubborn_stack(PERIOD), lossy(7));
    let b = run(fifo_stubborn_stack(PERIOD), lossy(7));
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.stats, b.stats);
    let mut hashes: Vec<u64> = (0..20)
        .map(|seed| run(PerfectLink::new(PERIOD), lossy(seed)).trace_hash)
        .collect();
    assert_eq!(
        run(PerfectLink::new(PERIOD), lossy(3)).trace_hash,
        hashes[3]
    );
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 20, "two seeds gave the same trace");
}

/// Runs the perfect link in the synchronous model (constant 5 ms latency, so the round trip is
/// 10 ms, well under the 50 ms timeout) with loss `p` on data only or on everything, and returns
/// data transmissions per delivered message.
fn transmissions_per_message(p: f64, data_only: bool) -> f64 {
    let mut cfg = SimConfig::new(2, 42);
    cfg.until = Instant::ZERO + Duration::from_secs(20);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(10),
    };
    cfg.network.latency = Latency::Constant(Duration::from_millis(5));
    cfg.network.loss = ratio(p);
    let mut sim = Simulation::new(PerfectLink::<u64>::new(Duration::from_millis(50)), cfg)
        .expect("valid config")
        .with_workload(UniqueSends { per_node: 2000 });
    if data_only {
        sim = sim.with_loss_filter(|m: &PlMsg<u64>| m.is_data());
    }
    let out = sim.run();
    for r in check_all(&properties::perfect_properties(), &out.trace) {
        assert_eq!(r.verdict, Verdict::Holds, "{}", r.name);
    }
    let data = out
        .trace
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Send { msg, .. } if msg.is_data()))
        .count();
    let delivered = out.trace.indications().count();
    assert_eq!(delivered, 4000);
    data as f64 / delivered as f64
}

#[test]
fn perfect_link_costs_one_over_one_minus_p() {
    let p = 0.5;
    let got = transmissions_per_message(p, true);
    let expected = 1.0 / (1.0 - p);
    assert!(
        (got / expected - 1.0).abs() < 0.05,
        "data loss only: {got:.3} transmissions per message, expected {expected:.3}"
    );
    let p = 0.3;
    let got = transmissions_per_message(p, false);
    let expected = 1.0 / ((1.0 - p) * (1.0 - p));
    assert!(
        (got / expected - 1.0).abs() < 0.05,
        "data and ack loss: {got:.3} transmissions per message, expected {expected:.3}"
    );
}

#[test]
fn properties_only_constrain_correct_nodes() {
    let crashy = |seed: u64| {
        let mut cfg = lossy(seed);
        cfg.until = Instant::ZERO + Duration::from_secs(8);
        cfg.faults
            .add_crash_spec("n2@3s")
            .expect("valid crash spec");
        cfg
    };
    let check = |seed: u64, reports: Vec<synod_core::PropertyReport>, out_crashes: u64| {
        assert_eq!(out_crashes, 1);
        for r in reports {
            assert_eq!(r.verdict, Verdict::Holds, "seed {seed}: {}", r.name);
        }
    };
    for seed in 0..20 {
        let out = run(StubbornLink::new(PERIOD), crashy(seed));
        check(
            seed,
            check_all(&properties::stubborn_properties(), &out.trace),
            out.stats.crashes,
        );
        let out = run(PerfectLink::new(PERIOD), crashy(seed));
        check(
            seed,
            check_all(&properties::perfect_properties(), &out.trace),
            out.stats.crashes,
        );
        let out = run(dedup_perfect_link(PERIOD), crashy(seed));
        check(
            seed,
            check_all(&properties::perfect_properties(), &out.trace),
            out.stats.crashes,
        );
        let out = run(fifo_perfect_link(PERIOD), crashy(seed));
        check(
            seed,
            check_all(&properties::fifo_properties(), &out.trace),
            out.stats.crashes,
        );
        let out = run(fifo_stubborn_stack(PERIOD), crashy(seed));
        check(
            seed,
            check_all(&properties::fifo_properties(), &out.trace),
            out.stats.crashes,
        );
    }
    // The crash matters: some message a correct node sent to n2 never arrives (n2 crashed
    // first), so reliable delivery without the correctness filter would fail.
    let unfiltered_misses = (0..20)
        .filter(|&seed| {
            let out = run(PerfectLink::new(PERIOD), crashy(seed));
            let delivered_at_n2: Vec<u64> = out
                .trace
                .indications()
                .filter(|(_, _, node, _)| *node == NodeId(2))
                .map(|(_, _, _, ind)| ind.payload)
                .collect();
            let missed = out.trace.requests().any(|(_, _, node, req)| {
                node != NodeId(2) && req.to == NodeId(2) && !delivered_at_n2.contains(&req.payload)
            });
            missed
        })
        .count();
    assert!(unfiltered_misses > 0, "the crash never cost a message");
}
