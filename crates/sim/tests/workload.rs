//! Workloads: open-loop scripts and closed-loop clients driven by indications.

mod common;

use common::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Duration, EventKind, Instant, NodeId, Prng, Protocol};
use synod_sim::{
    Latency, Requests, Scripted, SimConfig, Simulation, Timing, Workload, WorkloadEnv,
};

/// Clients n1.. call the server n0; the server replies; the client's node indicates `Done(k)`.
struct Rpc;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum RMsg {
    Call(u32),
    Reply(u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Op(u32);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Done(u32);

impl Protocol for Rpc {
    type Msg = RMsg;
    type Timer = ();
    type Request = Op;
    type Indication = Done;
    /// Requests this node has handled.
    type State = u32;
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) -> u32 {
        0
    }
    fn on_message(&self, _s: &mut u32, from: NodeId, m: RMsg, ctx: &mut Ctx<'_, Self>) {
        match m {
            RMsg::Call(k) => ctx.send(from, RMsg::Reply(k)),
            RMsg::Reply(k) => ctx.indicate(Done(k)),
        }
    }
    fn on_timer(&self, _s: &mut u32, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, s: &mut u32, Op(k): Op, ctx: &mut Ctx<'_, Self>) {
        *s += 1;
        ctx.send(NodeId(0), RMsg::Call(k));
    }
}

/// One client per node n1..n{n-1}: each issues `Op(0)` at a random time in the first 10ms, then
/// `Op(k+1)` `think` after it sees `Done(k)`.
struct ClosedLoop {
    think: Duration,
}

impl Workload<Rpc> for ClosedLoop {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<Rpc>) {
        for c in 1..env.n as u32 {
            let t = Instant(prng.below(Duration::from_millis(10).as_nanos()));
            out.push((t, NodeId(c), Op(0)));
        }
    }

    fn on_indication(
        &mut self,
        now: Instant,
        node: NodeId,
        Done(k): &Done,
        _prng: &mut Prng,
        out: &mut Requests<Rpc>,
    ) {
        out.push((now + self.think, node, Op(k + 1)));
    }
}

fn rpc_cfg(seed: u64) -> SimConfig {
    config(
        4,
        seed,
        at_ms(2_000),
        Timing::Asynchronous,
        Latency::Exponential { mean: ms(3) },
    )
}

#[test]
fn a_closed_loop_keeps_exactly_one_request_outstanding_per_client() {
    for think in [Duration::ZERO, ms(5)] {
        for seed in 0..3 {
            let out = Simulation::new(Rpc, rpc_cfg(seed))
                .expect("valid")
                .with_workload(ClosedLoop { think })
                .run();
            // Per client: (next op expected, outstanding op, time its response came).
            let mut clients: BTreeMap<NodeId, (u32, Option<u32>, Option<Instant>)> =
                BTreeMap::new();
            for e in &out.trace.events {
                match &e.kind {
                    EventKind::Request { node, req: Op(k) } => {
                        assert_ne!(*node, NodeId(0), "the server gets no requests");
                        let c = clients.entry(*node).or_insert((0, None, None));
                        assert_eq!(
                            c.1, None,
                            "{node} issued op {k} with op {:?} outstanding",
                            c.1
                        );
                        assert_eq!(*k, c.0, "{node} skipped an op");
                        if let Some(done_at) = c.2 {
                            // The next request comes exactly `think` after the response.
                            assert_eq!(e.time, done_at + think);
                        }
                        *c = (k + 1, Some(*k), None);
                    }
                    EventKind::Indication { node, ind: Done(k) } => {
                        let c = clients.get_mut(node).expect("client");
                        assert_eq!(c.1, Some(*k), "{node}: response to an op not outstanding");
                        c.1 = None;
                        c.2 = Some(e.time);
                    }
                    _ => {}
                }
            }
            assert_eq!(clients.len(), 3);
            for (node, (next, outstanding, _)) in &clients {
                // Many round trips went through, and at the end one op is in flight (or its
                // response came so late that the follow-up falls after the end of the run).
                assert!(*next > 50, "{node} completed only {next} ops");
                let completed = next - outstanding.map_or(0, |_| 1);
                let handled = out.states[node.index()].expect("up");
                assert_eq!(handled, *next);
                assert!(handled - completed <= 1);
            }
            assert_eq!(
                out.stats.requests,
                clients.values().map(|c| c.0 as u64).sum::<u64>()
            );
        }
    }
}

#[test]
fn a_scripted_workload_issues_its_requests_at_their_times() {
    let script = vec![
        (at_ms(5), NodeId(1), Op(10)),
        (at_ms(5), NodeId(2), Op(20)),
        (at_ms(700), NodeId(3), Op(30)),
        (at_ms(3_000), NodeId(1), Op(99)), // after the end: never issued
    ];
    let mut cfg = rpc_cfg(1);
    cfg.faults.add_crash_spec("n2@1ms").expect("spec");
    let out = Simulation::new(Rpc, cfg)
        .expect("valid")
        .with_workload(Scripted(script))
        .run();
    let reqs: Vec<_> = out
        .trace
        .requests()
        .map(|(_, t, n, r)| (t, n, r.clone()))
        .collect();
    // n2 is down at 5ms: its request is lost, not handled.
    assert_eq!(
        reqs,
        vec![
            (at_ms(5), NodeId(1), Op(10)),
            (at_ms(700), NodeId(3), Op(30))
        ]
    );
    assert_eq!((out.stats.requests, out.stats.requests_lost), (2, 1));
}

#[test]
fn request_at_schedules_a_request_directly() {
    let mut sim = Simulation::new(Rpc, rpc_cfg(2)).expect("valid");
    sim.request_at(at_ms(100), NodeId(2), Op(7));
    let out = sim.run();
    let reqs: Vec<_> = out
        .trace
        .requests()
        .map(|(_, t, n, r)| (t, n, r.clone()))
        .collect();
    assert_eq!(reqs, vec![(at_ms(100), NodeId(2), Op(7))]);
    let inds: Vec<_> = out
        .trace
        .indications()
        .map(|(_, _, n, d)| (n, d.clone()))
        .collect();
    assert_eq!(inds, vec![(NodeId(2), Done(7))]);
}
