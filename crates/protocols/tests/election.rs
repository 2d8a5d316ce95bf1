//! Leader election under the simulator: LCR and HS meet their message bounds exactly where the
//! books say, under synchronous and asynchronous timing; the bully algorithm elects the largest
//! live node when its timeout covers a round trip, and splits its brain when it does not; the
//! canaries are caught.

use synod_core::{
    check_all, Duration, Effect, EventKind, FirstChoice, Instant, NodeId, Prng, Property, Protocol,
    Verdict,
};
use synod_protocols::election::{
    arrangement, properties, Bully, BullyMsg, BullyPhase, BullyRequest, BullyTimer,
    ElectionIndication, HirschbergSinclair, HsCanaryRelaySmaller, HsMsg, Lcr, LcrCanaryForwardAll,
    LcrMsg,
};
use synod_sim::{Crash, Latency, Scripted, SimConfig, SimOutcome, Simulation, Timing};

const SEEDS: u64 = 100;
const DELTA: Duration = Duration::from_millis(10);

/// Synchronous timing with Δ = 10 ms (the default latency, 1 to 10 ms, is within it).
fn synchronous(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Synchronous { delta: DELTA };
    cfg.until = Instant::from_secs(3600);
    cfg
}

/// Asynchronous timing: heavy-tailed delays, reordering. The run lasts an hour of virtual time
/// (it ends early when nothing is left to do), so liveness gets its chance.
fn asynchronous(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.until = Instant::from_secs(3600);
    cfg
}

fn run<P: Protocol>(protocol: P, cfg: SimConfig) -> SimOutcome<P> {
    Simulation::new(protocol, cfg).expect("valid config").run()
}

fn assert_all_hold<P: Protocol>(props: &[Property<P>], out: &SimOutcome<P>, what: &str) {
    for r in check_all(props, &out.trace) {
        assert_eq!(r.verdict, Verdict::Holds, "{what}: {}", r.name);
    }
}

/// A random arrangement for `seed`, from a stream of its own.
fn random_uids(n: usize, seed: u64) -> Vec<u64> {
    arrangement::random(n, &mut Prng::derive(seed, 0xE1EC7))
}

/// ⌈log₂ n⌉.
fn ceil_log2(n: u64) -> u64 {
    if n <= 1 {
        0
    } else {
        u64::from(64 - (n - 1).leading_zeros())
    }
}

/// Lynch's HS bound, 8n(1 + ⌈log₂ n⌉).
fn hs_bound(n: usize) -> u64 {
    8 * n as u64 * (1 + ceil_log2(n as u64))
}

fn harmonic(n: usize) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

fn count<P: Protocol>(out: &SimOutcome<P>, f: fn(&P::Msg) -> bool) -> u64 {
    properties::count_id_messages(&out.trace, f)
}

// ---- LCR ------------------------------------------------------------------------------------

#[test]
fn lcr_worst_case_costs_exactly_n_n_plus_1_over_2_in_any_timing() {
    for n in 1..=64usize {
        let uids = arrangement::worst_case_lcr(n);
        for (timing, cfg) in [
            ("sync", synchronous(n, n as u64)),
            ("async", asynchronous(n, n as u64)),
        ] {
            let out = run(Lcr::new(uids.clone()), cfg);
            let what = format!("n={n} {timing}");
            // Node i's UID travels n - i hops: sum over i of (n - i) = n(n+1)/2.
            let expected = (n * (n + 1) / 2) as u64;
            assert_eq!(count(&out, LcrMsg::is_id_message), expected, "{what}");
            // Plus exactly n announcement messages.
            assert_eq!(
                properties::count_messages(&out.trace),
                expected + n as u64,
                "{what}"
            );
            assert_all_hold(&properties::election_properties(uids.clone()), &out, &what);
            // Every node emits Elected exactly once, naming node 0 (UID n).
            let elected: Vec<_> = out
                .trace
                .indications()
                .map(|(_, _, p, i)| (p, i.clone()))
                .collect();
            assert_eq!(elected.len(), n, "{what}");
            assert!(elected.iter().all(|(_, i)| *i
                == ElectionIndication::Elected {
                    leader: NodeId(0),
                    uid: n as u64
                }));
        }
    }
}

#[test]
fn lcr_sorted_arrangement_is_the_best_case() {
    for n in 1..=64usize {
        let out = run(Lcr::new(arrangement::sorted(n)), asynchronous(n, 7));
        // Every UID but the largest dies after one hop; the largest goes round: 2n - 1.
        assert_eq!(
            count(&out, LcrMsg::is_id_message),
            2 * n as u64 - 1,
            "n={n}"
        );
    }
}

#[test]
fn lcr_random_arrangements_elect_the_max_with_about_n_h_n_messages() {
    let n = 32;
    let mut total = 0;
    for seed in 0..SEEDS {
        let uids = random_uids(n, seed);
        let out = run(Lcr::new(uids.clone()), asynchronous(n, seed));
        assert_all_hold(
            &properties::election_properties(uids),
            &out,
            &format!("seed {seed}"),
        );
        let ids = count(&out, LcrMsg::is_id_message);
        assert!(ids >= 2 * n as u64 - 1 && ids <= (n * (n + 1) / 2) as u64);
        total += ids;
    }
    // The mean of 100 runs lands within a few percent of n·H_n; 10% leaves room for the
    // spread (single runs range from about 100 to 190).
    let mean = total as f64 / SEEDS as f64;
    let expected = n as f64 * harmonic(n); // 129.9 for n = 32
    assert!(
        (mean - expected).abs() <= 0.10 * expected,
        "mean {mean} UID messages, expected about n·H_n = {expected}"
    );
}

// ---- HS -------------------------------------------------------------------------------------

#[test]
fn hs_stays_within_8n_1_plus_log_n_on_sorted_and_random_rings() {
    for n in 4..=256usize {
        for (name, uids) in [
            ("sorted", arrangement::sorted(n)),
            ("random", random_uids(n, n as u64)),
        ] {
            let out = run(
                HirschbergSinclair::new(uids.clone()),
                synchronous(n, n as u64),
            );
            let what = format!("n={n} {name}");
            let ids = count(&out, HsMsg::is_id_message);
            assert!(ids <= hs_bound(n), "{what}: {ids} > {}", hs_bound(n));
            assert_eq!(
                properties::count_messages(&out.trace),
                ids + n as u64,
                "{what}: plus n announcement messages"
            );
            assert_all_hold(&properties::election_properties(uids), &out, &what);
        }
    }
}

#[test]
fn hs_message_count_does_not_depend_on_timing() {
    for n in [5, 16, 33, 100] {
        let uids = random_uids(n, 1);
        let counts: Vec<u64> = (0..5)
            .flat_map(|seed| {
                [synchronous(n, seed), asynchronous(n, seed)].map(|cfg| {
                    let out = run(HirschbergSinclair::new(uids.clone()), cfg);
                    count(&out, HsMsg::is_id_message)
                })
            })
            .collect();
        assert!(counts.windows(2).all(|w| w[0] == w[1]), "n={n}: {counts:?}");
    }
}

#[test]
fn hs_holds_on_asynchronous_rings() {
    for seed in 0..SEEDS {
        let n = 1 + (seed % 48) as usize;
        let uids = random_uids(n, seed);
        let out = run(HirschbergSinclair::new(uids.clone()), asynchronous(n, seed));
        let what = format!("seed {seed} n={n}");
        assert_all_hold(&properties::election_properties(uids), &out, &what);
        assert!(count(&out, HsMsg::is_id_message) <= hs_bound(n), "{what}");
        assert_eq!(
            out.trace.indications().count(),
            n,
            "{what}: one Elected per node"
        );
    }
}

#[test]
fn hs_on_tiny_rings_where_both_neighbours_are_one_node() {
    for n in 1..=3 {
        for uids in [arrangement::sorted(n), arrangement::worst_case_lcr(n)] {
            let out = run(HirschbergSinclair::new(uids.clone()), asynchronous(n, 3));
            assert_all_hold(
                &properties::election_properties(uids.clone()),
                &out,
                &format!("n={n} {uids:?}"),
            );
        }
    }
}

// ---- Bully ----------------------------------------------------------------------------------

/// Synchronous run of the bully algorithm over `uids`: the node with the largest UID crashes
/// at time 0 and `initiator` is asked to start an election at 1 ms.
fn bully_run(uids: &[u64], initiator: NodeId, timeout: Duration, seed: u64) -> SimOutcome<Bully> {
    let n = uids.len();
    let mut cfg = synchronous(n, seed);
    cfg.faults.crashes.push(Crash {
        node: max_node(uids),
        at: Instant::ZERO,
        partial_send: false,
    });
    Simulation::new(Bully::new(uids.to_vec(), timeout), cfg)
        .expect("valid config")
        .with_workload(Scripted(vec![(
            Instant::from_millis(1),
            initiator,
            BullyRequest::StartElection,
        )]))
        .run()
}

fn max_node(uids: &[u64]) -> NodeId {
    NodeId::all(uids.len())
        .max_by_key(|p| uids[p.index()])
        .unwrap()
}

fn min_node(uids: &[u64]) -> NodeId {
    NodeId::all(uids.len())
        .min_by_key(|p| uids[p.index()])
        .unwrap()
}

fn count_bully(out: &SimOutcome<Bully>, which: BullyMsg) -> u64 {
    out.trace
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Send { msg, .. } if *msg == which))
        .count() as u64
}

/// A timeout above the round trip 2Δ = 20 ms.
const SAFE_TIMEOUT: Duration = Duration::from_millis(25);

#[test]
fn bully_from_the_lowest_node_elects_the_highest_live_with_n_squared_messages() {
    for n in 3..=24usize {
        let uids = random_uids(n, n as u64);
        let out = bully_run(&uids, min_node(&uids), SAFE_TIMEOUT, n as u64);
        let what = format!("n={n}");
        assert_all_hold(&properties::election_properties(uids.clone()), &out, &what);
        // Elections: n - 1 from the initiator, then each live node of rank j (from 1 above the
        // initiator) asks the n - 1 - j above it: (n-1)(n-2)/2. Each live node above the
        // initiator answers every live node below it: (n-1)(n-2)/2. Then n - 2 Coordinators.
        let (n64, tri) = (n as u64, ((n - 1) * (n - 2) / 2) as u64);
        assert_eq!(
            count_bully(&out, BullyMsg::Election),
            n64 - 1 + tri,
            "{what}"
        );
        assert_eq!(count_bully(&out, BullyMsg::Answer), tri, "{what}");
        assert_eq!(count_bully(&out, BullyMsg::Coordinator), n64 - 2, "{what}");
        assert_eq!(
            properties::count_messages(&out.trace),
            n64 * n64 - n64 - 1,
            "{what}"
        );
    }
}

#[test]
fn bully_from_the_highest_live_node_costs_n_minus_1_messages() {
    for n in 3..=24usize {
        let uids = random_uids(n, n as u64);
        // The second-highest node is the highest live one.
        let second = NodeId::all(n)
            .filter(|&p| p != max_node(&uids))
            .max_by_key(|p| uids[p.index()])
            .unwrap();
        let out = bully_run(&uids, second, SAFE_TIMEOUT, n as u64);
        let what = format!("n={n}");
        assert_all_hold(&properties::election_properties(uids.clone()), &out, &what);
        // One Election to the crashed highest node, no Answer, n - 2 Coordinators.
        assert_eq!(count_bully(&out, BullyMsg::Election), 1, "{what}");
        assert_eq!(count_bully(&out, BullyMsg::Answer), 0, "{what}");
        assert_eq!(
            count_bully(&out, BullyMsg::Coordinator),
            n as u64 - 2,
            "{what}"
        );
        assert_eq!(properties::count_messages(&out.trace), n as u64 - 1);
    }
}

#[test]
fn bully_with_many_initiators_under_synchrony_holds() {
    for seed in 0..SEEDS {
        let mut prng = Prng::derive(seed, 77);
        let n = 3 + prng.below(10) as usize;
        let uids = random_uids(n, seed);
        let mut cfg = synchronous(n, seed);
        cfg.faults.crashes.push(Crash {
            node: max_node(&uids),
            at: Instant::ZERO,
            partial_send: false,
        });
        // Three start requests at random nodes within the first 100 ms.
        let starts = (0..3)
            .map(|_| {
                let at = Instant::from_millis(prng.below(100));
                // A live node (requests to the crashed one are lost).
                let live: Vec<NodeId> = NodeId::all(n).filter(|&p| p != max_node(&uids)).collect();
                let node = live[prng.below(live.len() as u64) as usize];
                (at, node, BullyRequest::StartElection)
            })
            .collect();
        let out = Simulation::new(Bully::new(uids.clone(), SAFE_TIMEOUT), cfg)
            .expect("valid config")
            .with_workload(Scripted(starts))
            .run();
        assert_all_hold(
            &properties::election_properties(uids),
            &out,
            &format!("seed {seed}"),
        );
    }
}

#[test]
fn bully_re_elects_after_the_coordinator_crashes() {
    let n = 6;
    let uids = arrangement::sorted(n);
    let mut cfg = synchronous(n, 5);
    cfg.faults.crashes.push(Crash {
        node: NodeId(5),
        at: Instant::from_secs(1),
        partial_send: false,
    });
    let restart = Instant::from_millis(1100);
    let out = Simulation::new(Bully::new(uids.clone(), SAFE_TIMEOUT), cfg)
        .expect("valid config")
        .with_workload(Scripted(vec![
            (Instant::ZERO, NodeId(0), BullyRequest::StartElection),
            (restart, NodeId(1), BullyRequest::StartElection),
        ]))
        .run();
    // First n5 is elected, then n4: two leaders over the run, one after the restart.
    assert!(properties::unique_leader::<Bully>()
        .check(&out.trace)
        .is_violated());
    let after: Property<Bully> = properties::unique_leader_after(restart);
    assert_eq!(after.check(&out.trace), Verdict::Holds);
    assert_eq!(
        properties::election_termination::<Bully>().check(&out.trace),
        Verdict::Holds
    );
    for (p, state) in out.states.iter().enumerate().take(5) {
        let state = state.as_ref().expect("n0..n4 are up");
        assert_eq!(state.leader, Some(NodeId(4)), "n{p}");
        assert_eq!(state.phase, BullyPhase::Idle, "n{p}");
    }
}

#[test]
fn bully_with_a_timeout_below_the_real_delays_splits_its_brain() {
    // Messages take 5 to 10 ms (Δ = 10 ms) but nodes wait only 2 ms for an answer: every node
    // that starts an election hears nothing in time and proclaims itself coordinator.
    let bad = Duration::from_millis(2);
    let mut split = 0;
    for seed in 0..SEEDS {
        let n = 5;
        let uids = random_uids(n, seed);
        let mut cfg = synchronous(n, seed);
        cfg.network.latency = Latency::Uniform {
            lo: Duration::from_millis(5),
            hi: Duration::from_millis(10),
        };
        let starts = vec![
            (Instant::ZERO, NodeId(0), BullyRequest::StartElection),
            (Instant::ZERO, NodeId(1), BullyRequest::StartElection),
        ];
        for (timeout, should_split) in [(bad, true), (SAFE_TIMEOUT, false)] {
            let out = Simulation::new(Bully::new(uids.clone(), timeout), cfg.clone())
                .expect("valid config")
                .with_workload(Scripted(starts.clone()))
                .run();
            let verdict = properties::unique_leader::<Bully>().check(&out.trace);
            if should_split {
                assert!(verdict.is_violated(), "seed {seed}: {verdict}");
                split += 1;
                // At some instant two nodes both believe they are the coordinator.
                assert!(two_self_proclaimed_coordinators(&out), "seed {seed}");
            } else {
                assert_all_hold(
                    &properties::election_properties(uids.clone()),
                    &out,
                    &format!("seed {seed} safe timeout"),
                );
            }
        }
    }
    assert_eq!(split, SEEDS);
}

/// True if, at some point of the run, two nodes have each elected themselves and neither has
/// since accepted someone else.
fn two_self_proclaimed_coordinators(out: &SimOutcome<Bully>) -> bool {
    let n = out.trace.facts.n;
    let mut believes = vec![None; n];
    for (_, _, node, ind) in out.trace.indications() {
        let ElectionIndication::Elected { leader, .. } = *ind;
        believes[node.index()] = Some(leader);
        let selves = NodeId::all(n)
            .filter(|p| believes[p.index()] == Some(*p))
            .count();
        if selves >= 2 {
            return true;
        }
    }
    false
}

// ---- Canaries -------------------------------------------------------------------------------

#[test]
fn canary_lcr_that_forwards_every_uid_is_caught() {
    for n in 2..=32usize {
        for uids in [arrangement::worst_case_lcr(n), random_uids(n, n as u64)] {
            let out = run(LcrCanaryForwardAll::new(uids.clone()), asynchronous(n, 1));
            let what = format!("n={n}");
            // Every UID goes all the way round: n² UID messages whatever the arrangement.
            assert_eq!(count(&out, LcrMsg::is_id_message), (n * n) as u64, "{what}");
            let unique = properties::unique_leader::<LcrCanaryForwardAll>().check(&out.trace);
            assert!(unique.is_violated(), "{what}: {unique}");
            let max = properties::leader_is_max_live_uid::<LcrCanaryForwardAll>(uids);
            assert!(max.check(&out.trace).is_violated(), "{what}");
        }
    }
}

#[test]
fn canary_hs_that_relays_smaller_uids_is_caught() {
    for n in 2..=64usize {
        let uids = arrangement::sorted(n);
        let out = run(HsCanaryRelaySmaller::new(uids.clone()), asynchronous(n, 2));
        let unique = properties::unique_leader::<HsCanaryRelaySmaller>().check(&out.trace);
        assert!(unique.is_violated(), "n={n}: {unique}");
        // From n = 5 on, the message bound breaks too (n = 4: 80 messages against 96).
        let ids = count(&out, HsMsg::is_id_message);
        if n >= 5 {
            assert!(ids > hs_bound(n), "n={n}: {ids} <= {}", hs_bound(n));
        }
    }
    // The real protocol, same runs: fine.
    for n in 2..=64usize {
        let uids = arrangement::sorted(n);
        let out = run(HirschbergSinclair::new(uids.clone()), asynchronous(n, 2));
        assert_all_hold(
            &properties::election_properties(uids),
            &out,
            &format!("n={n}"),
        );
    }
}

// ---- Properties and handlers, directly --------------------------------------------------------

#[test]
fn properties_are_inconclusive_or_vacuous_where_they_should_be() {
    let uids = arrangement::sorted(4);
    let out = run(Lcr::new(uids), asynchronous(4, 1));
    // Wrong number of UIDs: inconclusive, not a false alarm.
    let wrong = properties::leader_is_max_live_uid::<Lcr>(vec![1, 2]).check(&out.trace);
    assert!(matches!(wrong, Verdict::Inconclusive { .. }), "{wrong}");
    // A run without requests elects nobody with the bully algorithm: termination fails.
    let out = run(
        Bully::new(arrangement::sorted(3), SAFE_TIMEOUT),
        synchronous(3, 1),
    );
    assert!(properties::election_termination::<Bully>()
        .check(&out.trace)
        .is_violated());
    assert_eq!(properties::count_messages(&out.trace), 0);
}

#[test]
fn bully_coordinator_is_accepted_and_stops_the_election() {
    let bully = Bully::new(vec![3, 1, 2], SAFE_TIMEOUT);
    let (mut fx, mut ch) = (Vec::new(), FirstChoice);
    let mut ctx = synod_core::Ctx::new(NodeId(1), 3, Instant::ZERO, &mut fx, &mut ch);
    let mut s = bully.init(&mut ctx);
    bully.on_request(&mut s, BullyRequest::StartElection, &mut ctx);
    // n1 (UID 1) asks both larger nodes.
    bully.on_message(&mut s, NodeId(2), BullyMsg::Answer, &mut ctx);
    assert_eq!(s.phase, BullyPhase::AwaitingCoordinator);
    bully.on_message(&mut s, NodeId(0), BullyMsg::Coordinator, &mut ctx);
    // An Election from a larger node makes no sense: counted, ignored.
    bully.on_message(&mut s, NodeId(2), BullyMsg::Election, &mut ctx);
    assert_eq!(
        (s.phase, s.leader, s.unexpected),
        (BullyPhase::Idle, Some(NodeId(0)), 1)
    );
    assert_eq!(
        fx,
        vec![
            Effect::Send {
                to: NodeId(0),
                msg: BullyMsg::Election
            },
            Effect::Send {
                to: NodeId(2),
                msg: BullyMsg::Election
            },
            Effect::CancelTimer {
                timer: BullyTimer::AwaitCoordinator
            },
            Effect::SetTimer {
                timer: BullyTimer::AwaitAnswer,
                after: SAFE_TIMEOUT
            },
            Effect::CancelTimer {
                timer: BullyTimer::AwaitAnswer
            },
            Effect::SetTimer {
                timer: BullyTimer::AwaitCoordinator,
                after: SAFE_TIMEOUT.saturating_mul(2)
            },
            Effect::CancelTimer {
                timer: BullyTimer::AwaitAnswer
            },
            Effect::CancelTimer {
                timer: BullyTimer::AwaitCoordinator
            },
            Effect::Indicate(ElectionIndication::Elected {
                leader: NodeId(0),
                uid: 3
            }),
        ]
    );
}

#[test]
fn lcr_on_a_one_node_ring_elects_itself_through_its_own_channel() {
    let lcr = Lcr::new(vec![42]);
    let (mut fx, mut ch) = (Vec::new(), FirstChoice);
    let mut ctx = synod_core::Ctx::new(NodeId(0), 1, Instant::ZERO, &mut fx, &mut ch);
    let mut s = lcr.init(&mut ctx);
    lcr.on_message(&mut s, NodeId(0), LcrMsg::Uid(42), &mut ctx);
    lcr.on_message(
        &mut s,
        NodeId(0),
        LcrMsg::Elected {
            leader: NodeId(0),
            uid: 42,
        },
        &mut ctx,
    );
    assert_eq!(
        fx,
        vec![
            Effect::Send {
                to: NodeId(0),
                msg: LcrMsg::Uid(42)
            },
            Effect::Indicate(ElectionIndication::Elected {
                leader: NodeId(0),
                uid: 42
            }),
            Effect::Send {
                to: NodeId(0),
                msg: LcrMsg::Elected {
                    leader: NodeId(0),
                    uid: 42
                }
            },
        ]
    );
    assert_eq!(s.elected, Some((NodeId(0), 42)));
}
