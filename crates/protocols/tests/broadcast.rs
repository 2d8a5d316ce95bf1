//! Broadcast protocols under the simulator: each keeps the properties of its abstraction over
//! many seeds with senders crashing part-way through a broadcast, and the violations of the
//! weaker ones are exactly where theory puts them (predicted from the crash's dropped messages,
//! not from the protocols). Message counts are checked against the algorithms' formulas.

use synod_core::{
    check_all, DropReason, Duration, EventKind, Instant, NodeId, Prng, Property, Protocol, Ratio,
    Stack, Trace, Verdict,
};
use synod_protocols::broadcast::gossip::GossipMsg;
use synod_protocols::broadcast::properties::{self as bp, violations};
use synod_protocols::broadcast::rb::LazyMsg;
use synod_protocols::broadcast::urb::UrbMsg;
use synod_protocols::broadcast::{
    AllAckUrb, BcastReq, Beb, Data, EagerRb, Gossip, LazyRb, MajorityAckUrb,
};
use synod_protocols::link::PerfectLink;
use synod_sim::{Crash, Scripted, SimConfig, SimOutcome, Simulation, Timing};

const SEEDS: u64 = 50;
const N: usize = 5;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `b` broadcasts at random nodes within 40 ms, plus one broadcast by each of `crashes`
/// distinct nodes, part-way through which it crashes (the crash is queued first at the same
/// instant, so it strikes that broadcast's step). Synchronous, Δ = 20 ms, 1.5 s.
fn config(seed: u64, b: usize, crashes: usize) -> (SimConfig, Scripted<BcastReq>) {
    let mut prng = Prng::derive(seed, 99);
    let mut cfg = SimConfig::new(N, seed);
    cfg.timing = Timing::Synchronous { delta: ms(20) };
    cfg.until = Instant::from_millis(1_500);
    let w = ms(40).as_nanos();
    let mut reqs = Vec::new();
    for i in 0..b {
        let node = NodeId(prng.below(N as u64) as u32);
        reqs.push((Instant(prng.below(w)), node, BcastReq::Broadcast(i as u64)));
    }
    let mut nodes: Vec<NodeId> = NodeId::all(N).collect();
    prng.shuffle(&mut nodes);
    for (k, &node) in nodes.iter().take(crashes).enumerate() {
        let at = Instant(prng.below(w));
        reqs.push((at, node, BcastReq::Broadcast(1000 + k as u64)));
        cfg.faults.crashes.push(Crash {
            node,
            at,
            partial_send: true,
        });
    }
    (cfg, Scripted(reqs))
}

fn run<P: Protocol<Request = BcastReq>>(
    p: P,
    (cfg, w): (SimConfig, Scripted<BcastReq>),
) -> SimOutcome<P> {
    Simulation::new(p, cfg)
        .expect("valid config")
        .with_workload(w)
        .run()
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

fn holds<P: Protocol>(p: Property<P>, t: &Trace<P>) -> bool {
    let v = p.check(t);
    assert!(!matches!(v, Verdict::Inconclusive { .. }), "{v}");
    !v.is_violated()
}

/// How many messages of the crash-struck step were dropped (the step's other messages left).
fn dropped_by_crash<P: Protocol>(t: &Trace<P>) -> usize {
    t.events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Drop {
                    reason: DropReason::SenderCrashed,
                    ..
                }
            )
        })
        .count()
}

fn data_sends<P: Protocol>(t: &Trace<P>, is_data: fn(&P::Msg) -> bool) -> usize {
    t.events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Send { msg, .. } if is_data(msg)))
        .count()
}

#[test]
fn every_algorithm_keeps_its_abstraction_with_two_senders_crashing_midway() {
    for seed in 0..SEEDS {
        let sc = || config(seed, 8, 2);
        assert_holds(&bp::beb_properties(), &run(Beb, sc()), "beb");
        assert_holds(&bp::rb_properties(), &run(EagerRb, sc()), "eager rb");
        assert_holds(
            &bp::rb_properties(),
            &run(LazyRb::new(ms(50), ms(150)), sc()),
            "lazy rb",
        );
        assert_holds(
            &bp::urb_properties(),
            &run(AllAckUrb::new(ms(50), ms(150)), sc()),
            "all-ack urb",
        );
        assert_holds(
            &bp::urb_properties(),
            &run(MajorityAckUrb::new(), sc()),
            "majority-ack urb",
        );
        assert_holds(
            &[bp::no_duplication(), bp::no_creation()],
            &run(Gossip::new(2, 3), sc()),
            "gossip",
        );
    }
}

#[test]
fn beb_breaks_agreement_exactly_when_the_crash_reached_some_but_not_all() {
    // One crash: its broadcast reaches the n - 1 - dropped others, which are correct. Agreement
    // fails iff some correct process got it and some did not; uniform agreement also fails
    // when nobody but the (crashed) sender delivered it.
    let mut broken = 0;
    for seed in 0..SEEDS {
        let out = run(Beb, config(seed, 6, 1));
        let d = dropped_by_crash(&out.trace);
        let partial = d > 0 && d < N - 1;
        assert_eq!(
            !holds(bp::agreement(), &out.trace),
            partial,
            "seed {seed}: dropped {d}"
        );
        assert_eq!(
            !holds(bp::uniform_agreement(), &out.trace),
            d > 0,
            "seed {seed}: dropped {d}"
        );
        assert_eq!(violations(&out.trace).agreement, usize::from(partial));
        broken += usize::from(partial);
    }
    // A proper non-empty subset leaves with probability 14/16.
    assert!(broken > SEEDS as usize / 2, "{broken}");
}

#[test]
fn reliable_broadcast_is_not_uniform_exactly_when_nothing_of_the_crash_left() {
    // Eager rb, lazy rb and the early-delivering Majority-Ack canary all deliver the sender's
    // own message at once: uniform agreement fails iff every message of the crash step was
    // dropped. The real Majority-Ack never fails it.
    let mut non_uniform = 0;
    for seed in 0..200 {
        let sc = || config(seed, 4, 1);
        let eager = run(EagerRb, sc());
        let all_dropped = dropped_by_crash(&eager.trace) == N - 1;
        non_uniform += usize::from(all_dropped);
        assert!(holds(bp::agreement(), &eager.trace), "seed {seed}");
        assert_eq!(
            !holds(bp::uniform_agreement(), &eager.trace),
            all_dropped,
            "eager, seed {seed}"
        );
        let early = run(MajorityAckUrb::canary_deliver_early(), sc());
        assert_eq!(
            !holds(bp::uniform_agreement(), &early.trace),
            dropped_by_crash(&early.trace) == N - 1,
            "majority-ack canary, seed {seed}"
        );
        if seed < 50 {
            let lazy = run(LazyRb::new(ms(50), ms(150)), sc());
            assert_eq!(
                !holds(bp::uniform_agreement(), &lazy.trace),
                dropped_by_crash(&lazy.trace) == N - 1,
                "lazy, seed {seed}"
            );
            let majority = run(MajorityAckUrb::new(), sc());
            assert!(
                holds(bp::uniform_agreement(), &majority.trace),
                "seed {seed}"
            );
        }
    }
    // 1/16 of 200 runs expected (12.5): the canary is caught.
    assert!(non_uniform >= 3, "{non_uniform}");
}

#[test]
fn message_counts_follow_the_formulas_without_crashes() {
    let b = 8;
    let n = N;
    for seed in 0..10 {
        let sc = || config(seed, b, 0);
        let beb = run(Beb, sc());
        assert_eq!(data_sends(&beb.trace, |_: &Data| true), b * (n - 1));
        let eager = run(EagerRb, sc());
        assert_eq!(data_sends(&eager.trace, |_: &Data| true), b * n * (n - 1));
        let lazy = run(LazyRb::new(ms(50), ms(150)), sc());
        assert_eq!(data_sends(&lazy.trace, LazyMsg::is_data), b * (n - 1));
        let all_ack = run(AllAckUrb::new(ms(50), ms(150)), sc());
        assert_eq!(data_sends(&all_ack.trace, UrbMsg::is_data), b * n * (n - 1));
        let majority = run(MajorityAckUrb::new(), sc());
        assert_eq!(
            data_sends(&majority.trace, UrbMsg::is_data),
            b * n * (n - 1)
        );
        // Everyone delivers everything (n per message).
        let (cb, ce) = (violations(&beb.trace), violations(&eager.trace));
        assert_eq!((cb.messages, cb.deliveries), (b, b * n));
        assert_eq!((ce.messages, ce.deliveries), (b, b * n));
    }
}

#[test]
fn lazy_rb_relays_only_what_came_from_a_crashed_process() {
    // With one crash, lazy rb sends n - 1 per broadcast plus n - 1 per relay, and a relay is of
    // a message got from the crashed process: at most (n - 1) relayers of it.
    for seed in 0..20 {
        let out = run(LazyRb::new(ms(50), ms(150)), config(seed, 6, 1));
        let sends = data_sends(&out.trace, LazyMsg::is_data);
        let broadcasts = out.trace.requests().count();
        let extra = sends - broadcasts * (N - 1);
        assert_eq!(extra % (N - 1), 0, "seed {}", out.seed);
        assert!(extra / (N - 1) <= (N - 1) * broadcasts, "seed {}", out.seed);
    }
}

#[test]
fn gossip_with_full_fanout_and_one_round_is_best_effort() {
    for seed in 0..10 {
        let out = run(Gossip::new(N - 1, 1), config(seed, 8, 0));
        assert_holds(&bp::beb_properties(), &out, "gossip as beb");
        assert_eq!(data_sends(&out.trace, |_: &GossipMsg| true), 8 * (N - 1));
        // Fanout 1, one round: exactly two processes deliver each message.
        let out = run(Gossip::new(1, 1), config(seed, 8, 0));
        let c = violations(&out.trace);
        assert_eq!((c.messages, c.deliveries), (8, 16));
    }
}

#[test]
fn beb_over_a_perfect_link_keeps_its_properties_on_a_lossy_network() {
    for seed in 0..20 {
        let (mut cfg, w) = config(seed, 6, 0);
        cfg.network.loss = Ratio::from_f64(0.2).expect("a probability");
        cfg.network.duplicate = Ratio::from_f64(0.1).expect("a probability");
        let stack = Stack::new(Beb, PerfectLink::<Data>::new(ms(60)));
        let out = run(stack, (cfg, w));
        assert_holds(&bp::beb_properties(), &out, "beb over perfect link");
    }
}

#[test]
fn a_malformed_message_is_ignored() {
    use synod_core::{Ctx, FirstChoice};
    use synod_protocols::broadcast::MsgId;
    let mut fx = Vec::new();
    let mut chooser = FirstChoice;
    let mut ctx: Ctx<'_, EagerRb> = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut chooser);
    let mut s = EagerRb.init(&mut ctx);
    let bad = Data {
        id: MsgId {
            origin: NodeId(7),
            seq: 1,
        },
        payload: 1,
    };
    EagerRb.on_message(&mut s, NodeId(1), bad, &mut ctx);
    let zero = Data {
        id: MsgId {
            origin: NodeId(1),
            seq: 0,
        },
        payload: 1,
    };
    EagerRb.on_message(&mut s, NodeId(1), zero, &mut ctx);
    assert_eq!(s.ignored, 2);
    assert!(ctx.effects().is_empty());
}
