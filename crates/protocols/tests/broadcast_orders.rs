//! FIFO, causal and total-order broadcast under the simulator, and the two reductions between
//! total-order broadcast and consensus.
//!
//! One reactive workload: broadcasts at random nodes and times, and *replies*: the node chosen
//! for a message (never its origin) broadcasts a reply when it delivers it, up to chains of
//! three, so causal chains across processes exist. The network reorders (latency uniform
//! 1..10 ms). Every protocol is judged by the shared broadcast properties (which read the trace
//! only); the consensus built from TOB by the very properties Chandra–Toueg consensus is judged
//! by. Each canary must be caught by the property it breaks, on at least one seed.

use std::collections::{BTreeMap, BTreeSet};
use synod_core::{check_all, Ctx, Effect, FirstChoice, Instant, NodeId, Prng, Property, Protocol};
use synod_protocols::broadcast::causal::{Causal, CausalMsg};
use synod_protocols::broadcast::fifo::Fifo;
use synod_protocols::broadcast::properties::{self as bp, violations};
use synod_protocols::broadcast::tob::{decode, encode, ConsensusFromTob, Tob};
use synod_protocols::broadcast::{BcastInd, BcastReq, EagerRb, MsgId};
use synod_protocols::consensus::chandra_toueg::{self as ct, Proposals};
use synod_protocols::register::RegisterReq;
use synod_sim::{Requests, SimConfig, SimOutcome, Simulation, Timing, Workload, WorkloadEnv};

const SEEDS: u64 = 50;

// ---- The reactive workload ----------------------------------------------------------------------

/// `count` broadcasts at random nodes in the first `spread`, payloads 1..=count; a message of
/// depth < 2 gets a reply from node `(origin + 1 + payload mod (n-1)) mod n` when that node
/// delivers it (new payloads from 1000 on).
struct Reactive {
    count: u32,
    spread: u64,
    n: usize,
    depth: BTreeMap<u64, u32>,
    replied: BTreeSet<u64>,
    next: u64,
}

impl Reactive {
    fn new(count: u32, spread_ms: u64) -> Reactive {
        Reactive {
            count,
            spread: spread_ms,
            n: 0,
            depth: BTreeMap::new(),
            replied: BTreeSet::new(),
            next: 1000,
        }
    }
}

impl<P: Protocol<Request = BcastReq, Indication = BcastInd>> Workload<P> for Reactive {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        for k in 1..=self.count as u64 {
            let at = Instant::from_millis(prng.below(self.spread));
            let node = NodeId(prng.below(env.n as u64) as u32);
            self.depth.insert(k, 0);
            out.push((at, node, BcastReq::Broadcast(k)));
        }
    }
    fn on_indication(
        &mut self,
        now: Instant,
        node: NodeId,
        ind: &BcastInd,
        _: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let BcastInd::Deliver { id, payload } = *ind;
        let Some(&d) = self.depth.get(&payload) else {
            return;
        };
        let n = self.n as u64;
        let responder = NodeId(((u64::from(id.origin.0) + 1 + payload % (n - 1)) % n) as u32);
        if d < 2 && node == responder && self.replied.insert(payload) {
            self.next += 1;
            self.depth.insert(self.next, d + 1);
            out.push((now, node, BcastReq::Broadcast(self.next)));
        }
    }
}

fn config(n: usize, seed: u64, until_ms: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = Instant::from_millis(until_ms);
    cfg
}

fn run<P: Protocol<Request = BcastReq, Indication = BcastInd>>(
    p: P,
    cfg: SimConfig,
) -> SimOutcome<P> {
    Simulation::new(p, cfg)
        .unwrap()
        .with_workload(Reactive::new(24, 400))
        .run()
}

/// Every property in `props` holds (none violated, none inconclusive) on `out`.
fn assert_holds<P: Protocol>(props: &[Property<P>], out: &SimOutcome<P>, what: &str) {
    for r in check_all(props, &out.trace) {
        assert!(
            !r.verdict.is_violated()
                && !matches!(r.verdict, synod_core::Verdict::Inconclusive { .. }),
            "{what}, seed {}: {} {}",
            out.seed,
            r.name,
            r.verdict
        );
    }
}

fn ordered<P: Protocol<Request = BcastReq, Indication = BcastInd>>() -> Vec<Property<P>> {
    vec![bp::fifo_order(), bp::causal_order(), bp::total_order()]
}

// ---- FIFO ---------------------------------------------------------------------------------------

#[test]
fn fifo_is_reliable_and_fifo_but_not_causal_and_its_canary_is_caught() {
    let mut causal_broken = 0;
    let mut canary_caught = 0;
    for seed in 0..SEEDS {
        let out = run(Fifo::new(EagerRb), config(4, seed, 1000));
        let mut props = bp::rb_properties();
        props.push(bp::fifo_order());
        assert_holds(&props, &out, "fifo");
        causal_broken += usize::from(violations(&out.trace).causal > 0);
        let out = run(
            Fifo::canary_deliver_on_arrival(EagerRb),
            config(4, seed, 1000),
        );
        assert_holds(&bp::rb_properties(), &out, "fifo canary");
        canary_caught += usize::from(bp::fifo_order().check(&out.trace).is_violated());
    }
    assert!(causal_broken > 0, "FIFO-only never broke causal order");
    assert!(
        canary_caught > 0,
        "the deliver-on-arrival canary was never caught"
    );
}

// ---- Causal -------------------------------------------------------------------------------------

#[test]
fn causal_is_causal_but_not_total_and_its_canary_is_caught() {
    let (mut diverged, mut canary_caught) = (0, 0);
    for seed in 0..SEEDS {
        let mut cfg = config(4, seed, 1000);
        if seed % 2 == 1 {
            // A crash midway: eager relaying keeps agreement among the others.
            cfg.faults
                .add_crash_spec(&format!("n{}@{}ms", seed % 4, 50 + seed * 7))
                .unwrap();
        }
        let out = run(Causal::new(), cfg.clone());
        let mut props = bp::rb_properties();
        props.extend([bp::fifo_order(), bp::causal_order()]);
        assert_holds(&props, &out, "causal");
        diverged += usize::from(violations(&out.trace).total_order > 0);
        let out = run(Causal::canary_no_wait(), cfg);
        assert_holds(&bp::rb_properties(), &out, "causal canary");
        canary_caught += usize::from(bp::causal_order().check(&out.trace).is_violated());
    }
    assert!(
        diverged > 0,
        "causal broadcast never delivered two messages in different orders"
    );
    assert!(canary_caught > 0, "the no-wait canary was never caught");
}

/// A hand-worked run of the handlers: n2 receives n1's reply (stamped [1, 0, 0]: it follows
/// n0#1) before n0#1 itself; it relays it and waits, then delivers both, n0#1 first.
#[test]
fn a_reply_waits_for_the_message_it_answers() {
    let c = Causal::new();
    let mut chooser = FirstChoice;
    let mut fx: Vec<Effect<Causal>> = Vec::new();
    let mut s = c.init(&mut Ctx::new(
        NodeId(2),
        3,
        Instant::ZERO,
        &mut fx,
        &mut chooser,
    ));
    let m1 = CausalMsg {
        id: MsgId {
            origin: NodeId(0),
            seq: 1,
        },
        w: vec![0, 0, 0],
        payload: 10,
    };
    let m2 = CausalMsg {
        id: MsgId {
            origin: NodeId(1),
            seq: 1,
        },
        w: vec![1, 0, 0],
        payload: 20,
    };
    let mut fx = Vec::new();
    c.on_message(
        &mut s,
        NodeId(1),
        m2.clone(),
        &mut Ctx::new(NodeId(2), 3, Instant::ZERO, &mut fx, &mut chooser),
    );
    assert_eq!(
        fx,
        vec![Effect::Send {
            to: NodeId(0),
            msg: m2.clone()
        }],
        "relayed, not delivered"
    );
    let mut fx = Vec::new();
    c.on_message(
        &mut s,
        NodeId(0),
        m1.clone(),
        &mut Ctx::new(NodeId(2), 3, Instant::ZERO, &mut fx, &mut chooser),
    );
    assert_eq!(
        fx,
        vec![
            Effect::Send {
                to: NodeId(1),
                msg: m1.clone()
            },
            Effect::Indicate(BcastInd::Deliver {
                id: m1.id,
                payload: 10
            }),
            Effect::Indicate(BcastInd::Deliver {
                id: m2.id,
                payload: 20
            }),
        ]
    );
    assert_eq!(s.v, vec![1, 1, 0]);
    // A malformed stamp (wrong length) is ignored, not a panic.
    let bad = CausalMsg {
        id: MsgId {
            origin: NodeId(0),
            seq: 2,
        },
        w: vec![1],
        payload: 0,
    };
    let mut fx = Vec::new();
    c.on_message(
        &mut s,
        NodeId(0),
        bad,
        &mut Ctx::new(NodeId(2), 3, Instant::ZERO, &mut fx, &mut chooser),
    );
    assert!(fx.is_empty());
}

// ---- Total order from consensus ------------------------------------------------------------------

fn psync(n: usize, seed: u64, until_ms: u64, crashes: &[(u32, u64)]) -> SimConfig {
    let mut cfg = config(n, seed, until_ms);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_millis(300),
        delta: synod_core::Duration::from_millis(20),
    };
    for (p, at) in crashes {
        cfg.faults.add_crash_spec(&format!("n{p}@{at}ms")).unwrap();
    }
    cfg
}

/// Up to two of five processes crash (a minority), the leader n0 among them on some seeds.
fn minority_crashes(seed: u64) -> Vec<(u32, u64)> {
    match seed % 3 {
        0 => vec![],
        1 => vec![(0, 100 + seed % 200)],
        _ => vec![
            ((seed % 5) as u32, 150),
            (((seed + 2) % 5) as u32, 250 + seed % 100),
        ],
    }
}

#[test]
fn the_log_encoding_is_lossless() {
    let id = MsgId {
        origin: NodeId(3),
        seq: 5,
    };
    assert_eq!(
        encode(id, 9),
        RegisterReq::Write {
            client: (3 << 32) + 5,
            value: 9
        }
    );
    assert_eq!(decode(encode(id, u64::MAX), 4), Some((id, u64::MAX)));
    assert_eq!(decode(encode(id, 9), 3), None, "origin outside the run");
    assert_eq!(decode(RegisterReq::Read { client: 5 }, 4), None);
    assert_eq!(
        decode(
            RegisterReq::Write {
                client: 3 << 32,
                value: 1
            },
            4
        ),
        None,
        "seq 0"
    );
}

#[test]
fn tob_from_multipaxos_is_uniform_fifo_causal_and_total_and_its_canary_is_caught() {
    let mut canary_caught = 0;
    for seed in 0..SEEDS {
        let out = run(Tob::new(), psync(5, seed, 2500, &minority_crashes(seed)));
        let mut props = bp::urb_properties();
        props.extend(ordered());
        assert_holds(&props, &out, "tob");
        let c = violations(&out.trace);
        assert!(c.messages >= 24, "seed {seed}: {} messages", c.messages);
        let out = run(Tob::canary_early_self_delivery(), psync(5, seed, 2500, &[]));
        canary_caught += usize::from(bp::total_order().check(&out.trace).is_violated());
    }
    assert!(
        canary_caught > 0,
        "the early-self-delivery canary was never caught"
    );
}

// ---- Consensus from total order ------------------------------------------------------------------

#[test]
fn consensus_from_tob_passes_the_consensus_checks_and_fails_over_causal_broadcast() {
    let mut disagreed = 0;
    for seed in 0..SEEDS {
        let p = ConsensusFromTob::new(Tob::new(), Proposals::Distinct);
        let out = Simulation::new(p.clone(), psync(5, seed, 1500, &minority_crashes(seed)))
            .unwrap()
            .run();
        let props = vec![
            ct::agreement(),
            ct::validity(Proposals::Distinct),
            ct::integrity(),
            ct::termination(),
        ];
        assert_holds(&props, &out, "consensus from tob");
        let decided = out
            .trace
            .indications()
            .filter(|(_, _, p, _)| out.trace.facts.correct(*p))
            .count();
        let correct = NodeId::all(5)
            .filter(|p| out.trace.facts.correct(*p))
            .count();
        assert_eq!(
            decided, correct,
            "seed {seed}: every correct process decides once"
        );
        // The canary: the same reduction over causal broadcast, which does not order
        // concurrent proposals.
        let canary = ConsensusFromTob::new(Causal::new(), Proposals::Distinct);
        let out = Simulation::new(canary, psync(5, seed, 1500, &[]))
            .unwrap()
            .run();
        assert!(
            !ct::validity::<ConsensusFromTob<Causal>>(Proposals::Distinct)
                .check(&out.trace)
                .is_violated()
        );
        disagreed += usize::from(ct::agreement().check(&out.trace).is_violated());
    }
    assert!(
        disagreed > 0,
        "consensus over causal broadcast never disagreed"
    );
}
