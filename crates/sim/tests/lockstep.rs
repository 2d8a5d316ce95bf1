//! The lockstep adapter under the simulator: exactly the synchronous round model under
//! `Timing::Lockstep`, visibly not under asynchronous timing, and crashes part-way through a
//! round's broadcast.

mod common;

use common::*;
use std::collections::BTreeSet;
use synod_core::{
    DropReason, EventKind, Lockstep, LockstepState, NextRound, NodeId, RoundCtx, RoundProtocol,
    Step,
};
use synod_sim::{FaultSchedule, Latency, SimConfig, SimOutcome, Timing};

/// Every round, every node broadcasts `(round, id)` and records the inbox it was handed.
struct Roll;

type Inbox = Vec<(NodeId, (u32, NodeId))>;

impl RoundProtocol for Roll {
    type Msg = (u32, NodeId);
    type Indication = ();
    type Request = ();
    /// `state[r]` is the inbox of round `r`.
    type State = Vec<Inbox>;

    fn init(&self, _id: NodeId, _n: usize) -> Vec<Inbox> {
        Vec::new()
    }

    fn round(
        &self,
        round: u32,
        state: &mut Vec<Inbox>,
        inbox: &[(NodeId, (u32, NodeId))],
        ctx: &mut RoundCtx<'_, '_, Self>,
    ) -> Step {
        assert_eq!(round as usize, state.len(), "rounds are taken in order");
        state.push(inbox.to_vec());
        let me = ctx.id();
        ctx.broadcast((round, me));
        Step::Continue
    }
}

type P = Lockstep<Roll>;
type S = LockstepState<Vec<Inbox>, (u32, NodeId)>;

const ROUND_MS: u64 = 100;

fn lockstep_cfg(n: usize, seed: u64, until_ms: u64) -> SimConfig {
    config(
        n,
        seed,
        at_ms(until_ms),
        Timing::Lockstep {
            round: ms(ROUND_MS),
        },
        // Irrelevant under lockstep timing (every message takes half a round), and wild on
        // purpose.
        Latency::Exponential { mean: ms(300) },
    )
}

fn state(out: &SimOutcome<P>, i: usize) -> &S {
    out.states[i].as_ref().expect("node up at the end")
}

/// The inbox round `r` should see if the nodes in `senders` all sent in round `r - 1`.
fn expected_inbox(r: u32, me: NodeId, senders: impl Iterator<Item = NodeId>) -> Inbox {
    if r == 0 {
        return Vec::new();
    }
    senders
        .filter(|p| *p != me)
        .map(|p| (p, (r - 1, p)))
        .collect()
}

#[test]
fn lockstep_timing_is_the_round_model() {
    let n = 5;
    let until = 1_000;
    for seed in 0..3 {
        let out = run(
            Lockstep::new(Roll, ms(ROUND_MS)),
            lockstep_cfg(n, seed, until),
        );
        for i in 0..n {
            let me = NodeId(i as u32);
            let s = state(&out, i);
            assert_eq!(s.late, 0, "{me}: a message arrived after its round");
            // A round starts at every multiple of the round length up to the end of the run.
            let rounds = (until / ROUND_MS + 1) as usize;
            assert_eq!(s.inner.len(), rounds);
            for (r, inbox) in s.inner.iter().enumerate() {
                let want = expected_inbox(r as u32, me, NodeId::all(n));
                assert_eq!(inbox, &want, "{me} round {r}");
            }
        }
        // Rounds start at exact multiples of the round length on every node.
        for e in &out.trace.events {
            if let EventKind::Timer { .. } = e.kind {
                assert_eq!(e.time.as_nanos() % (ROUND_MS * MS), 0);
            }
        }
    }
}

#[test]
fn asynchronous_timing_breaks_the_round_model() {
    let n = 5;
    let mut late = 0;
    let mut incomplete = 0;
    for seed in 0..3 {
        let mut cfg = lockstep_cfg(n, seed, 2_000);
        cfg.timing = Timing::Asynchronous;
        // Latency comparable to the round length.
        cfg.network.latency = Latency::Uniform {
            lo: ms(ROUND_MS / 2),
            hi: ms(ROUND_MS * 3 / 2),
        };
        let out = run(Lockstep::new(Roll, ms(ROUND_MS)), cfg);
        for i in 0..n {
            let me = NodeId(i as u32);
            let s = state(&out, i);
            late += s.late;
            for (r, inbox) in s.inner.iter().enumerate().skip(1) {
                // What did arrive in time is still correct: only previous-round messages.
                assert!(inbox
                    .iter()
                    .all(|(p, (round, q))| p == q && *round == r as u32 - 1));
                if *inbox != expected_inbox(r as u32, me, NodeId::all(n)) {
                    incomplete += 1;
                }
            }
        }
    }
    assert!(late > 0, "no message was late under asynchronous timing");
    assert!(
        incomplete > 0,
        "every round was complete under asynchronous timing"
    );
}

/// Crash n1 part-way through a send: `n1@250ms:partial` with 100ms rounds.
fn partial_crash_run(seed: u64) -> SimOutcome<P> {
    let mut cfg = lockstep_cfg(4, seed, 800);
    let mut faults = FaultSchedule::default();
    faults.add_crash_spec("n1@250ms:partial").expect("spec");
    cfg.faults = faults;
    run(Lockstep::new(Roll, ms(ROUND_MS)), cfg)
}

#[test]
fn a_partial_send_crash_lets_a_subset_of_one_broadcast_out() {
    let n1 = NodeId(1);
    let others = [NodeId(0), NodeId(2), NodeId(3)];
    // n1's first send at or after 250ms is its round-3 broadcast, at 300ms.
    let crash_round = 3u32;
    let crash_time = at_ms(crash_round as u64 * ROUND_MS);
    let mut sizes = BTreeSet::new();
    for seed in 0..64 {
        let out = partial_crash_run(seed);
        let ev = &out.trace.events;
        let log = MsgLog::of(ev);

        // n1 crashed once, at the end of that step, and stays down.
        let crashes: Vec<_> = ev
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Crash { node } if node == n1))
            .map(|e| e.time)
            .collect();
        assert_eq!(crashes, vec![crash_time], "seed {seed}");
        assert!(out.states[1].is_none());

        // Every broadcast n1 started was complete at the Send level (3 peers per round); the
        // last one is round 3, and nothing is sent by n1 after it.
        let n1_sends: Vec<(u64, u32)> = ev
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Send { from, id, msg, .. } if *from == n1 => Some((*id, msg.round)),
                _ => None,
            })
            .collect();
        assert_eq!(
            n1_sends.len(),
            3 * (crash_round as usize + 1),
            "seed {seed}"
        );
        assert!(ev.iter().all(|e| e.time <= crash_time
            || e.kind.node() != Some(n1)
            || matches!(
                e.kind,
                EventKind::Drop {
                    reason: DropReason::ReceiverDown,
                    ..
                }
            )));

        // Only round-3 messages of n1 may be dropped, and only as `SenderCrashed`.
        let round3: BTreeSet<u64> = n1_sends
            .iter()
            .filter(|(_, r)| *r == crash_round)
            .map(|(id, _)| *id)
            .collect();
        for (id, _, reason) in &log.drops {
            if log.sends[id].from == n1 {
                assert_eq!(*reason, DropReason::SenderCrashed);
                assert!(
                    round3.contains(id),
                    "seed {seed}: an earlier round lost a message"
                );
            } else {
                assert_eq!(*reason, DropReason::ReceiverDown, "seed {seed}");
                assert_eq!(log.sends[id].to, n1);
            }
        }
        let counts = log.deliver_counts();
        let reached: BTreeSet<NodeId> = round3
            .iter()
            .filter(|id| counts.get(id) == Some(&1))
            .map(|id| log.sends[id].to)
            .collect();

        // What the other nodes' inboxes show: n1 in every round up to 3, in round 4 exactly at
        // the nodes its partial broadcast reached, never after.
        for p in others {
            let s = state(&out, p.index());
            assert_eq!(s.late, 0);
            for (r, inbox) in s.inner.iter().enumerate() {
                let r = r as u32;
                let n1_sent_last_round = r >= 1
                    && (r - 1 < crash_round || (r - 1 == crash_round && reached.contains(&p)));
                let senders = others
                    .iter()
                    .copied()
                    .chain(n1_sent_last_round.then_some(n1))
                    .collect::<BTreeSet<_>>();
                assert_eq!(
                    inbox,
                    &expected_inbox(r, p, senders.into_iter()),
                    "seed {seed}: {p} round {r}"
                );
            }
        }
        sizes.insert(reached.len());
    }
    // Each copy leaves independently: over 64 seeds every outcome of a 3-way broadcast shows up,
    // in particular strict nonempty subsets.
    assert!(
        sizes.contains(&1) || sizes.contains(&2),
        "never a strict subset: {sizes:?}"
    );
    assert_eq!(sizes, BTreeSet::from([0, 1, 2, 3]));
}

#[test]
fn a_plain_crash_stops_the_node_between_rounds() {
    let mut cfg = lockstep_cfg(4, 1, 800);
    cfg.faults.add_crash_spec("n1@250ms").expect("spec");
    let out = run(Lockstep::new(Roll, ms(ROUND_MS)), cfg);
    // n1 took rounds 0, 1, 2 (at 0, 100ms, 200ms), all complete; nothing from round 3 on.
    for p in [0usize, 2, 3] {
        let me = NodeId(p as u32);
        for (r, inbox) in state(&out, p).inner.iter().enumerate() {
            let r = r as u32;
            let alive = NodeId::all(4).filter(|q| *q != NodeId(1) || r <= 3);
            assert_eq!(inbox, &expected_inbox(r, me, alive), "{me} round {r}");
        }
    }
    let crash_at: Vec<_> = out
        .trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Crash { .. }))
        .map(|e| e.time)
        .collect();
    assert_eq!(crash_at, vec![at_ms(250)]);
    assert!(!out
        .trace
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Timer { node, timer: NextRound } if node == NodeId(1) && e.time > at_ms(250))));
}
