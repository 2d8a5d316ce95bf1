//! Chandra–Toueg consensus under the simulator: with crashes of a minority (coordinators
//! included), partitions, loss and duplication, processes never disagree, decide a proposed
//! value at most once, and every correct process decides after GST; under plain asynchrony
//! safety still holds; and the canary whose coordinator ignores timestamps decides two values,
//! on a hand-driven schedule and on simulated runs.

use synod_core::{
    check_all, Ctx, Duration, Effect, Event, EventKind, FirstChoice, Instant, NodeId, Property,
    Protocol, Ratio, RunFacts, Trace, Verdict,
};
use synod_protocols::consensus::chandra_toueg::{
    self, agreement, ct_properties, decision_times, decisions_agree,
};
use synod_protocols::consensus::{ChandraToueg, CtInd, CtMsg, CtState, CtTimer, Proposals};
use synod_protocols::fd::HbTimer;
use synod_sim::{Latency, SimConfig, SimOutcome, Simulation, Timing};

const SEEDS: u64 = 100;
const N: usize = 5;
const GST: Instant = Instant::from_secs(3);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ratio(p: f64) -> Ratio {
    Ratio::from_f64(p).expect("a probability")
}

fn run(p: ChandraToueg, cfg: SimConfig) -> SimOutcome<ChandraToueg> {
    Simulation::new(p, cfg).expect("valid config").run()
}

fn assert_holds(props: &[Property<ChandraToueg>], out: &SimOutcome<ChandraToueg>, what: &str) {
    for r in check_all(props, &out.trace) {
        assert_eq!(
            r.verdict,
            Verdict::Holds,
            "{what}, seed {}: {}",
            out.seed,
            r.name
        );
    }
    let states: Vec<Option<&CtState>> = out.states.iter().map(|s| s.as_ref()).collect();
    assert!(decisions_agree(&states), "{what}, seed {}", out.seed);
}

fn proposals(seed: u64) -> Proposals {
    if seed.is_multiple_of(2) {
        Proposals::Distinct
    } else {
        Proposals::Binary
    }
}

/// Two of five processes crash (f = 2 < n/2): one at 0–2 s, sometimes part-way through a send,
/// and round 1's coordinator n1 on every fourth seed from the start. Until 1.5 s the network is
/// cut into minorities {n0, n1} | {n2, n3} | {n4}: nobody can decide before it heals, and every
/// process suspects most others. 5 % loss and duplication.
fn faults(cfg: &mut SimConfig, seed: u64) {
    let f = &mut cfg.faults;
    let victim = seed % 5;
    let partial = if seed.is_multiple_of(3) {
        ":partial"
    } else {
        ""
    };
    f.add_crash_spec(&format!("n{victim}@{}ms{partial}", seed * 20 % 2000))
        .expect("crash");
    let second = if victim == 1 { 3 } else { 1 };
    let when = if seed.is_multiple_of(4) {
        0
    } else {
        100 + seed * 7 % 900
    };
    f.add_crash_spec(&format!("n{second}@{when}ms"))
        .expect("crash");
    f.add_partition_spec("n0,n1|n2,n3|n4@0s..1.5s")
        .expect("partition");
    cfg.network.loss = ratio(0.05);
    cfg.network.duplicate = ratio(0.05);
}

/// Partially synchronous (GST = 3 s, Δ = 20 ms, latency uniform 1..20 ms), the faults, 8 s.
fn partially_synchronous(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = Instant::from_secs(8);
    cfg.timing = Timing::PartiallySynchronous {
        gst: GST,
        delta: ms(20),
    };
    cfg.network.latency = Latency::Uniform {
        lo: ms(1),
        hi: ms(20),
    };
    faults(&mut cfg, seed);
    cfg
}

#[test]
fn every_correct_process_decides_the_same_proposed_value_after_gst() {
    let mut latest = Instant::ZERO;
    let mut rounds = Vec::new();
    for seed in 0..SEEDS {
        let ct = ChandraToueg::new(proposals(seed));
        let out = run(ct.clone(), partially_synchronous(seed));
        assert_eq!(out.stats.crashes, 2, "seed {seed}");
        // Agreement, validity, integrity, and termination by 8 s.
        assert_holds(&ct_properties(&ct), &out, "partial synchrony");
        for t in decision_times(&out.trace).into_iter().flatten() {
            latest = latest.max(t);
        }
        rounds.extend(out.trace.indications().map(|(_, _, _, i)| match i {
            CtInd::Decide { round, .. } => *round,
        }));
    }
    rounds.sort_unstable();
    eprintln!(
        "CT: last decision at {:.3}s, rounds at decision: median {} max {}",
        latest.as_secs_f64(),
        rounds[rounds.len() / 2],
        rounds[rounds.len() - 1]
    );
    // Well before the end of the run: the decision follows GST by a few timeouts.
    assert!(latest < GST + Duration::from_secs(3), "{latest:?}");
}

#[test]
fn safe_under_plain_asynchrony() {
    let mut terminated = 0;
    for seed in 0..SEEDS {
        let ct = ChandraToueg::new(proposals(seed));
        let mut cfg = partially_synchronous(seed);
        cfg.timing = Timing::Asynchronous;
        cfg.network.loss = ratio(0.15);
        cfg.network.duplicate = ratio(0.15);
        let out = run(ct.clone(), cfg);
        let props = [
            agreement(),
            chandra_toueg::validity(ct.proposals.clone()),
            chandra_toueg::integrity(),
        ];
        assert_holds(&props, &out, "asynchrony");
        if chandra_toueg::termination()
            .check(&out.trace)
            .eq(&Verdict::Holds)
        {
            terminated += 1;
        }
    }
    // FLP: nothing guarantees termination here; the detector's growing timeouts usually get
    // there anyway.
    eprintln!("CT under asynchrony: {terminated}/{SEEDS} runs terminated");
}

#[test]
fn a_dead_coordinator_costs_one_round_each() {
    // Crash-free except for the coordinators of rounds 1 and 2 (n1, n2), dead from the start;
    // synchronous: rounds 1 and 2 are nacked after the detector's timeout, n3 decides in round 3.
    for seed in 0..20 {
        let ct = ChandraToueg::new(Proposals::Distinct);
        let mut cfg = SimConfig::new(N, seed);
        cfg.until = Instant::from_secs(2);
        cfg.timing = Timing::Synchronous { delta: ms(10) };
        cfg.faults.add_crash_spec("n1@0s").expect("crash");
        cfg.faults.add_crash_spec("n2@0s").expect("crash");
        let out = run(ct.clone(), cfg);
        assert_holds(&ct_properties(&ct), &out, "dead coordinators");
        for (_, _, node, CtInd::Decide { round, value }) in out.trace.indications() {
            assert!(*round <= 4, "seed {seed}: {node} decided in round {round}");
            assert!([100, 103, 104].contains(value), "seed {seed}: {value}");
        }
    }
}

// ---- The canary -------------------------------------------------------------------------------

type Sent = Vec<(NodeId, NodeId, CtMsg)>;

/// A hand-driven cluster of three processes: every step runs one handler and returns the
/// algorithm's messages (the detector's heartbeats are dropped: suspicions are injected).
struct Cluster {
    p: ChandraToueg,
    states: Vec<CtState>,
    events: Vec<Event<ChandraToueg>>,
    now: Instant,
}

impl Cluster {
    fn new(p: ChandraToueg) -> (Cluster, Sent) {
        let mut sent = Vec::new();
        let mut states = Vec::new();
        for id in NodeId::all(3) {
            let (mut fx, mut ch) = (Vec::new(), FirstChoice);
            states.push(p.init(&mut Ctx::new(id, 3, Instant::ZERO, &mut fx, &mut ch)));
            sent.extend(Cluster::sends(id, fx));
        }
        let c = Cluster {
            p,
            states,
            events: Vec::new(),
            now: Instant::ZERO,
        };
        (c, sent)
    }

    fn sends(from: NodeId, fx: Vec<Effect<ChandraToueg>>) -> Sent {
        fx.into_iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } if !matches!(msg, CtMsg::Fd(_)) => Some((from, to, msg)),
                _ => None,
            })
            .collect()
    }

    fn step(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&ChandraToueg, &mut CtState, &mut Ctx<'_, ChandraToueg>),
    ) -> Sent {
        self.now += ms(1);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(node, 3, self.now, &mut fx, &mut ch);
        f(&self.p, &mut self.states[node.index()], &mut ctx);
        self.p.invariants(&self.states[node.index()]);
        for e in &fx {
            if let Effect::Indicate(ind) = e {
                self.events.push(Event {
                    time: self.now,
                    kind: EventKind::Indication { node, ind: *ind },
                });
            }
        }
        Cluster::sends(node, fx)
    }

    /// Delivers the message from `from` to `to` in `sent`.
    fn deliver(&mut self, sent: &Sent, from: u32, to: u32) -> Sent {
        let (f, t) = (NodeId(from), NodeId(to));
        let msg = sent
            .iter()
            .find(|(a, b, _)| (*a, *b) == (f, t))
            .map(|x| x.2)
            .unwrap_or_else(|| panic!("no message {f} -> {t} in {sent:?}"));
        self.step(t, |p, s, c| p.on_message(s, f, msg, c))
    }

    /// `node`'s detector times out on `q` (long after its last heartbeat).
    fn suspect(&mut self, node: u32, q: u32) -> Sent {
        self.now = Instant::from_secs(1);
        self.step(NodeId(node), |p, s, c| {
            p.on_timer(s, CtTimer::Fd(HbTimer::Check(NodeId(q))), c)
        })
    }

    fn trace(&self) -> Trace<ChandraToueg> {
        Trace {
            events: self.events.clone(),
            facts: RunFacts::fault_free(3, self.now),
        }
    }

    fn decisions(&self) -> Vec<Option<u64>> {
        self.states.iter().map(|s| s.decided).collect()
    }
}

/// Round 1 (coordinator n1): n1 hears n0's estimate, proposes, n0 adopts with timestamp 1 and
/// acks, and n1 decides; its `Decide` is still on its way. Meanwhile n2 suspected n1 and went
/// to round 2, which it coordinates: it hears n0's locked estimate (timestamp 1) besides its own
/// (timestamp 0). The real coordinator proposes the locked value; the canary proposes its own.
fn race(p: ChandraToueg) -> Cluster {
    let (mut c, init) = Cluster::new(p);
    let propose1 = c.deliver(&init, 0, 1); // n1: {n0, n1} → Propose(1)
    let ack_and_est2 = c.deliver(&propose1, 1, 0); // n0 adopts, acks n1, estimate to n2
    let decide = c.deliver(&ack_and_est2, 0, 1); // n1: two acks → decides
    assert!(decide
        .iter()
        .all(|(_, _, m)| matches!(m, CtMsg::Decide { .. })));
    let nack = c.suspect(2, 1); // n2 nacks round 1, enters round 2 as coordinator
    assert!(nack.contains(&(NodeId(2), NodeId(1), CtMsg::Nack { round: 1 })));
    let propose2 = c.deliver(&ack_and_est2, 0, 2); // n2: {n0, n2} → Propose(2)
    let ack2 = c.deliver(&propose2, 2, 0); // n0 adopts, acks n2
    c.deliver(&ack2, 0, 2); // n2: two acks → decides
    for to in [0, 2] {
        c.deliver(&decide, 1, to); // n1's Decide finally arrives
    }
    c
}

#[test]
fn canary_that_ignores_timestamps_decides_two_values() {
    let c = race(ChandraToueg::canary_lowest_timestamp(Proposals::Distinct));
    let d = c.decisions();
    assert_ne!(d[1], d[2], "{d:?}");
    let verdict = agreement::<ChandraToueg>().check(&c.trace());
    assert!(verdict.is_violated(), "{verdict}");
    let states: Vec<Option<&CtState>> = c.states.iter().map(Some).collect();
    assert!(!decisions_agree(&states));
    // Both values were proposed: validity alone does not catch it.
    assert_eq!(
        chandra_toueg::validity::<ChandraToueg>(Proposals::Distinct).check(&c.trace()),
        Verdict::Holds
    );

    // The real coordinator, same schedule: n2 proposes the locked value; one decision.
    let c = race(ChandraToueg::new(Proposals::Distinct));
    let d = c.decisions();
    assert_eq!(d[1], d[2], "{d:?}");
    for r in check_all(&[agreement(), chandra_toueg::integrity()], &c.trace()) {
        assert_eq!(r.verdict, Verdict::Holds, "{}", r.name);
    }
}

/// Round 1's coordinator n1 and n0 are cut off from the majority {n2, n3, n4} at 10–29 ms,
/// around the time n1 decides: a `Decide` (or a proposal) in flight across the cut is dropped,
/// and the majority moves on to round 2, coordinated by n2, with some estimates adopted in
/// round 1 (timestamp 1) and some not (timestamp 0).
fn coordinator_cut_off(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(N, seed);
    cfg.until = Instant::from_secs(4);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_secs(1),
        delta: ms(20),
    };
    cfg.network.latency = Latency::Uniform {
        lo: ms(1),
        hi: ms(20),
    };
    cfg.faults
        .add_partition_spec(&format!("n0,n1|n2,n3,n4@{}ms..2s", 10 + seed % 20))
        .expect("partition");
    cfg
}

#[test]
fn canary_is_caught_by_the_simulator_on_some_seeds() {
    let mut caught = 0;
    for seed in 0..SEEDS {
        let ct = ChandraToueg::canary_lowest_timestamp(Proposals::Distinct);
        if agreement::<ChandraToueg>()
            .check(&run(ct, coordinator_cut_off(seed)).trace)
            .is_violated()
        {
            caught += 1;
        }
        // The real protocol on the same runs: safe, and everybody decides after the heal.
        let ct = ChandraToueg::new(Proposals::Distinct);
        let out = run(ct.clone(), coordinator_cut_off(seed));
        assert_holds(&ct_properties(&ct), &out, "coordinator cut off");
    }
    eprintln!("CT canary caught on {caught}/{SEEDS} seeds");
    assert!(caught >= 5, "caught on only {caught} seeds");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let ct = ChandraToueg::new(Proposals::Binary);
    let a = run(ct.clone(), partially_synchronous(11));
    let b = run(ct, partially_synchronous(11));
    assert_eq!(a.trace_hash, b.trace_hash);
}
