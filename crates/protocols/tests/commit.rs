//! Two-phase commit under the simulator and by hand: all Yes commits everywhere, any No aborts
//! everywhere, and a coordinator crash between Prepare and decision blocks the Yes voters
//! (termination fails, atomicity holds) until the coordinator recovers.

use synod_core::{
    check_all, Chooser, Ctx, Effect, EventKind, FirstChoice, Instant, NodeId, Protocol, Ratio,
    Verdict,
};
use synod_protocols::commit::{
    all_decided, atomic, properties, Outcome, TwoPcIndication, TwoPcMsg, TwoPcRequest, TwoPcState,
    TwoPhaseCommit, Vote,
};
use synod_sim::{Crash, Recover, Scripted, SimConfig, SimOutcome, Simulation, Timing};

const SEEDS: u64 = 200;

fn config(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.until = Instant::from_secs(3600);
    cfg.network.duplicate = Ratio::from_f64(0.1).unwrap();
    cfg
}

fn run(participants: usize, cfg: SimConfig) -> SimOutcome<TwoPhaseCommit> {
    Simulation::new(TwoPhaseCommit::new(participants), cfg)
        .expect("valid config")
        .with_workload(Scripted(vec![(
            Instant::ZERO,
            NodeId(0),
            TwoPcRequest::Begin,
        )]))
        .run()
}

/// The votes participants sent, per node (`None`: did not vote).
fn votes(out: &SimOutcome<TwoPhaseCommit>) -> Vec<Option<Vote>> {
    let mut v = vec![None; out.trace.facts.n];
    for e in &out.trace.events {
        if let EventKind::Send {
            from,
            msg: TwoPcMsg::Vote(vote),
            ..
        } = &e.kind
        {
            v[from.index()] = Some(*vote);
        }
    }
    v
}

/// Each node's decision, from its indications (at most one each).
fn decisions(out: &SimOutcome<TwoPhaseCommit>) -> Vec<Option<Outcome>> {
    let mut d = vec![None; out.trace.facts.n];
    for (_, _, node, ind) in out.trace.indications() {
        let TwoPcIndication::Decided(o) = *ind;
        assert!(d[node.index()].is_none(), "{node} decided twice");
        d[node.index()] = Some(o);
    }
    d
}

fn states(out: &SimOutcome<TwoPhaseCommit>) -> Vec<Option<&TwoPcState>> {
    out.states.iter().map(|s| s.as_ref()).collect()
}

#[test]
fn all_yes_commits_everywhere_and_any_no_aborts_everywhere() {
    let (mut commits, mut aborts) = (0, 0);
    for seed in 0..SEEDS {
        let k = 1 + (seed % 4) as usize;
        let out = run(k, config(k + 1, seed));
        let what = format!("seed {seed}, {k} participants");
        for r in check_all(&properties::two_pc_properties(), &out.trace) {
            assert_eq!(r.verdict, Verdict::Holds, "{what}: {}", r.name);
        }
        let st = states(&out);
        assert!(atomic(&st) && all_decided(&st), "{what}");
        let v = votes(&out);
        let all_yes = v[1..].iter().all(|x| *x == Some(Vote::Yes));
        let expected = if all_yes {
            commits += 1;
            Outcome::Commit
        } else {
            aborts += 1;
            Outcome::Abort
        };
        assert_eq!(decisions(&out), vec![Some(expected); k + 1], "{what}");
        assert!(st.iter().all(|s| s.unwrap().decision == Some(expected)));
    }
    // Votes are fair coins: both outcomes occur (commit with probability 2^-k).
    assert!(
        commits > 20 && aborts > 20,
        "{commits} commits, {aborts} aborts"
    );
}

/// Answers every choice with `answers[i]` for the i-th call, then 0.
struct Script(Vec<usize>);

impl Chooser for Script {
    fn choose(&mut self, _n: usize) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.0.remove(0)
        }
    }
}

/// Runs one transaction by hand, delivering every message at once in send order; participant
/// i votes `votes[i - 1]` (0 is Yes, 1 is No). Returns the final states and the indications.
fn by_hand(votes: &[usize]) -> (Vec<TwoPcState>, Vec<(NodeId, TwoPcIndication)>) {
    let k = votes.len();
    let n = k + 1;
    let tpc = TwoPhaseCommit::new(k);
    let mut states: Vec<TwoPcState> = NodeId::all(n)
        .map(|id| {
            let (mut fx, mut ch) = (Vec::new(), FirstChoice);
            tpc.init(&mut Ctx::new(id, n, Instant::ZERO, &mut fx, &mut ch))
        })
        .collect();
    let mut inds = Vec::new();
    let mut queue: Vec<(NodeId, NodeId, TwoPcMsg)> = Vec::new();
    let mut apply = |node: NodeId, fx: Vec<Effect<TwoPhaseCommit>>, queue: &mut Vec<_>| {
        for e in fx {
            match e {
                Effect::Send { to, msg } => queue.push((node, to, msg)),
                Effect::Indicate(i) => inds.push((node, i)),
                Effect::Persist => {}
                other => panic!("2PC asked for {other:?}"),
            }
        }
    };
    let mut fx = Vec::new();
    let mut ch = FirstChoice;
    let mut ctx = Ctx::new(NodeId(0), n, Instant::ZERO, &mut fx, &mut ch);
    tpc.on_request(&mut states[0], TwoPcRequest::Begin, &mut ctx);
    apply(NodeId(0), fx, &mut queue);
    while !queue.is_empty() {
        let (from, to, msg) = queue.remove(0);
        let mut fx = Vec::new();
        let mut ch = Script(vec![votes
            .get(to.index().wrapping_sub(1))
            .copied()
            .unwrap_or(0)]);
        let mut ctx = Ctx::new(to, n, Instant::ZERO, &mut fx, &mut ch);
        tpc.on_message(&mut states[to.index()], from, msg, &mut ctx);
        tpc.invariants(&states[to.index()]);
        apply(to, fx, &mut queue);
    }
    (states, inds)
}

#[test]
fn by_hand_all_yes_commits_and_one_no_aborts() {
    let (states, inds) = by_hand(&[0, 0, 0]);
    assert!(states.iter().all(|s| s.decision == Some(Outcome::Commit)));
    assert_eq!(inds.len(), 4);
    assert_eq!(
        inds[0],
        (NodeId(0), TwoPcIndication::Decided(Outcome::Commit))
    );

    for no in 1..=3 {
        let mut votes = vec![0; 3];
        votes[no - 1] = 1;
        let (states, inds) = by_hand(&votes);
        assert!(
            states.iter().all(|s| s.decision == Some(Outcome::Abort)),
            "{votes:?}"
        );
        // The No voter aborted on its own, first.
        assert_eq!(
            inds[0],
            (NodeId(no as u32), TwoPcIndication::Decided(Outcome::Abort))
        );
        assert_eq!(states[no].vote, Some(Vote::No));
        let refs: Vec<Option<&TwoPcState>> = states.iter().map(Some).collect();
        assert!(atomic(&refs) && all_decided(&refs));
    }
}

/// The coordinator crashes 500 µs after `Begin`: its Prepares are out (or, with
/// `partial_send`, only some of them), no vote can be back yet (delays are at least 1 ms).
fn coordinator_crash(
    seed: u64,
    partial_send: bool,
    recover: Option<Instant>,
) -> SimOutcome<TwoPhaseCommit> {
    let k = 3;
    let mut cfg = config(k + 1, seed);
    cfg.faults.crashes.push(Crash {
        node: NodeId(0),
        at: if partial_send {
            Instant::ZERO
        } else {
            Instant(500_000)
        },
        partial_send,
    });
    if let Some(at) = recover {
        cfg.faults.recoveries.push(Recover {
            node: NodeId(0),
            at,
        });
    }
    run(k, cfg)
}

#[test]
fn a_coordinator_crash_after_prepare_blocks_the_yes_voters() {
    let mut blocked_runs = 0;
    for seed in 0..SEEDS {
        let partial = seed % 2 == 1;
        let out = coordinator_crash(seed, partial, None);
        let what = format!("seed {seed} partial={partial}");
        let reports = check_all(&properties::two_pc_properties(), &out.trace);
        let verdict = |name: &str| {
            reports
                .iter()
                .find(|r| r.name == name)
                .unwrap()
                .verdict
                .clone()
        };
        assert_eq!(verdict("atomicity"), Verdict::Holds, "{what}");
        assert_eq!(verdict("commit-validity"), Verdict::Holds, "{what}");
        let st = states(&out);
        assert!(st[0].is_none(), "{what}: the coordinator is down");
        assert!(atomic(&st), "{what}");
        // Nobody committed; No voters aborted on their own; everyone else waits for ever.
        let v = votes(&out);
        for p in 1..=3 {
            let s = st[p].unwrap();
            match v[p] {
                Some(Vote::No) => assert_eq!(s.decision, Some(Outcome::Abort), "{what}"),
                Some(Vote::Yes) => assert_eq!(s.decision, None, "{what}: n{p} cannot decide"),
                None => assert!(
                    partial && s.decision.is_none(),
                    "{what}: n{p} got no Prepare"
                ),
            }
        }
        let waiting = (1..=3).any(|p| v[p] != Some(Vote::No));
        assert_eq!(all_decided(&st), !waiting, "{what}");
        assert_eq!(verdict("termination").is_violated(), waiting, "{what}");
        if waiting {
            blocked_runs += 1;
        }
    }
    assert!(blocked_runs > SEEDS / 2, "{blocked_runs}");
}

#[test]
fn a_recovered_coordinator_aborts_and_unblocks_the_participants() {
    for seed in 0..SEEDS {
        let out = coordinator_crash(seed, seed % 2 == 1, Some(Instant::from_secs(1)));
        let what = format!("seed {seed}");
        // The coordinator logged Begin but no decision: presumed abort on recovery. Every
        // participant that was waiting now decides (the coordinator is not "correct", having
        // crashed, but the participants are, and termination holds for them).
        for r in check_all(&properties::two_pc_properties(), &out.trace) {
            assert_eq!(r.verdict, Verdict::Holds, "{what}: {}", r.name);
        }
        let st = states(&out);
        assert!(
            st.iter()
                .all(|s| s.unwrap().decision == Some(Outcome::Abort)),
            "{what}"
        );
        assert!(all_decided(&st) && atomic(&st));
    }
}

#[test]
fn a_coordinator_that_crashes_after_deciding_resends_its_decision_on_recovery() {
    // All participants vote Yes (FirstChoice); n0 decides Commit, crashes before its
    // Decisions are delivered, recovers, and sends them again.
    let tpc = TwoPhaseCommit::new(2);
    let (mut fx, mut ch) = (Vec::new(), FirstChoice);
    let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
    let mut s = tpc.init(&mut ctx);
    tpc.on_request(&mut s, TwoPcRequest::Begin, &mut ctx);
    tpc.on_message(&mut s, NodeId(1), TwoPcMsg::Vote(Vote::Yes), &mut ctx);
    tpc.on_message(&mut s, NodeId(2), TwoPcMsg::Vote(Vote::Yes), &mut ctx);
    let durable = tpc.durable(&s);
    fx.clear();
    let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
    let s = tpc.recover(&durable, &mut ctx);
    assert_eq!(s.decision, Some(Outcome::Commit));
    assert_eq!(
        fx,
        vec![
            Effect::Send {
                to: NodeId(1),
                msg: TwoPcMsg::Decision(Outcome::Commit)
            },
            Effect::Send {
                to: NodeId(2),
                msg: TwoPcMsg::Decision(Outcome::Commit)
            },
        ]
    );
}

#[test]
fn termination_is_vacuous_without_a_transaction() {
    let out = Simulation::new(TwoPhaseCommit::new(2), config(3, 1))
        .expect("valid config")
        .run();
    for r in check_all(&properties::two_pc_properties(), &out.trace) {
        assert_eq!(r.verdict, Verdict::Holds, "{}", r.name);
    }
    // Nothing began, so nobody decided.
    assert!(!all_decided(&states(&out)));
}
