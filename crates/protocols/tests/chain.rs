//! Chain replication under the simulator: across seeds with random crashes and recoveries of
//! chain nodes and of the master, partitions, 5% loss and 5% duplication, every history is
//! linearizable (checked by brute force, every order of at most 10 operations) and every
//! operation at a node that is up at the end completes once the faults stop; the canary whose
//! tail reads without a lease serves a stale read from a cut-off tail, and the real one does
//! not.

use synod_core::{Duration, EventKind, Instant, NodeId, Prng, Ratio, Trace};
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use synod_protocols::replication::chain::Chain;
use synod_sim::{Requests, SimConfig, SimOutcome, Simulation, Timing, Workload, WorkloadEnv};

// ---- A brute-force linearizability check for register histories ------------------------------

/// One operation; positions are trace event indices.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HOp {
    client: u64,
    node: NodeId,
    input: RegisterOp,
    invoke: usize,
    done: Option<(usize, RegisterRet)>,
}

fn history<P>(trace: &Trace<P>) -> Vec<HOp>
where
    P: synod_core::Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    let mut ops: Vec<HOp> = Vec::new();
    for (i, e) in trace.events.iter().enumerate() {
        match &e.kind {
            EventKind::Request { node, req } => ops.push(HOp {
                client: req.client(),
                node: *node,
                input: req.op(),
                invoke: i,
                done: None,
            }),
            EventKind::Indication { ind, .. } => {
                if let Some(o) = ops
                    .iter_mut()
                    .rev()
                    .find(|o| o.client == ind.client() && o.done.is_none())
                {
                    o.done = Some((i, ind.ret()));
                }
            }
            _ => {}
        }
    }
    ops
}

/// Some order of the completed operations plus any subset of the pending ones respects real
/// time and the register's sequential specification (reads return the last value written,
/// `None` at first).
fn linearizable(ops: &[HOp]) -> bool {
    assert!(ops.len() <= 10, "brute force: {} operations", ops.len());
    fn search(ops: &[HOp], placed: &mut Vec<bool>, value: Option<u64>) -> bool {
        let open = |j: usize, placed: &[bool]| !placed[j] && ops[j].done.is_some();
        if !(0..ops.len()).any(|j| open(j, placed)) {
            return true;
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            let blocked = (0..ops.len()).any(|j| {
                j != i && open(j, placed) && ops[j].done.as_ref().unwrap().0 < ops[i].invoke
            });
            if blocked {
                continue;
            }
            let next = match (ops[i].input, &ops[i].done) {
                (RegisterOp::Write(v), _) => Some(v),
                (RegisterOp::Read, Some((_, RegisterRet::ReadOk(r)))) => {
                    if *r != value {
                        continue;
                    }
                    value
                }
                (RegisterOp::Read, _) => continue, // a pending read has no effect
            };
            placed[i] = true;
            if search(ops, placed, next) {
                return true;
            }
            placed[i] = false;
        }
        false
    }
    search(ops, &mut vec![false; ops.len()], None)
}

#[test]
fn brute_force_checker_on_hand_worked_histories() {
    let w = |v, a, b| HOp {
        client: v,
        node: NodeId(0),
        input: RegisterOp::Write(v),
        invoke: a,
        done: Some((b, RegisterRet::WriteOk)),
    };
    let r = |c, a, b, got| HOp {
        client: c,
        node: NodeId(0),
        input: RegisterOp::Read,
        invoke: a,
        done: Some((b, RegisterRet::ReadOk(got))),
    };
    // write 1 completes, then write 2 completes, then a read returns 1: stale.
    assert!(!linearizable(&[
        w(1, 0, 1),
        w(2, 2, 3),
        r(9, 4, 5, Some(1))
    ]));
    // The same read overlapping write 2: fine.
    assert!(linearizable(&[w(1, 0, 1), w(2, 2, 5), r(9, 3, 6, Some(1))]));
    // A read of nothing after a completed write: not fine.
    assert!(!linearizable(&[w(1, 0, 1), r(9, 2, 3, None)]));
}

// ---- The workload ------------------------------------------------------------------------------

/// `clients` clients; each writes its own id at a random time in `window` at a random node,
/// then reads `reads` times, each at a random node 1 ms after the previous answer.
struct Clients {
    clients: u64,
    reads: u32,
    window: (Instant, Instant),
    left: Vec<u32>,
    n: usize,
}

impl Clients {
    fn new(clients: u64, reads: u32, window: (Instant, Instant)) -> Clients {
        Clients {
            clients,
            reads,
            window,
            left: vec![reads; clients as usize + 1],
            n: 0,
        }
    }
}

impl<P: synod_core::Protocol<Request = RegisterReq, Indication = RegisterResp>> Workload<P>
    for Clients
{
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        for c in 1..=self.clients {
            let span = self.window.1 .0 - self.window.0 .0;
            let at = Instant(self.window.0 .0 + prng.below(span));
            let node = NodeId(prng.below(env.n as u64) as u32);
            out.push((
                at,
                node,
                RegisterReq::Write {
                    client: c,
                    value: c,
                },
            ));
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
        let _ = self.reads;
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &RegisterResp,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let c = ind.client() as usize;
        if self.left[c] > 0 {
            self.left[c] -= 1;
            let node = NodeId(prng.below(self.n as u64) as u32);
            out.push((
                now + Duration::from_millis(1),
                node,
                RegisterReq::Read { client: c as u64 },
            ));
        }
    }
}

fn run(chain: Chain, cfg: SimConfig, clients: Clients) -> SimOutcome<Chain> {
    Simulation::new(chain, cfg)
        .unwrap()
        .with_workload(clients)
        .run()
}

/// Random faults for `n` nodes (the master n0 included), all over by 3 s.
fn faulty_config(n: usize, seed: u64) -> SimConfig {
    let mut prng = Prng::new(seed ^ 0xC4A1);
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = Instant::from_secs(7);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_secs(3),
        delta: Duration::from_millis(20),
    };
    cfg.network.loss = Ratio::from_ppm(50_000);
    cfg.network.duplicate = Ratio::from_ppm(50_000);
    let mut busy_until = vec![0u64; n];
    for _ in 0..2 + prng.below(3) {
        let node = prng.below(n as u64) as usize;
        let at = 100 + prng.below(2400);
        if at < busy_until[node] {
            continue;
        }
        let back = at + 50 + prng.below(500);
        let partial = if prng.below(4) == 0 { ":partial" } else { "" };
        cfg.faults
            .add_crash_spec(&format!("n{node}@{at}ms{partial}"))
            .unwrap();
        cfg.faults
            .add_recover_spec(&format!("n{node}@{back}ms"))
            .unwrap();
        busy_until[node] = back + 10;
    }
    let cut = 1 + prng.below(n as u64 - 1) as usize;
    let from = 200 + prng.below(2000);
    let others: Vec<String> = (0..n)
        .filter(|&i| i != cut)
        .map(|i| format!("n{i}"))
        .collect();
    cfg.faults
        .add_partition_spec(&format!(
            "n{cut}|{}@{from}ms..{}ms",
            others.join(","),
            from + 100 + prng.below(700)
        ))
        .unwrap();
    cfg
}

#[test]
fn linearizable_and_live_under_crashes_partitions_loss_and_duplication() {
    for seed in 0..80 {
        let n = 3 + (seed % 3) as usize;
        let cfg = faulty_config(n, seed);
        let out = run(
            Chain::new(),
            cfg,
            Clients::new(3, 2, (Instant::ZERO, Instant::from_millis(2500))),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: not linearizable: {h:?}");
        for op in &h {
            if out.states[op.node.index()].is_some() && op.invoke > 0 {
                // Operations whose origin crashed after they arrived are lost with it.
                let origin_crashed_after = out.trace.events[op.invoke..]
                    .iter()
                    .any(|e| matches!(&e.kind, EventKind::Crash { node, .. } if *node == op.node));
                if !origin_crashed_after {
                    assert!(op.done.is_some(), "seed {seed}: {op:?} never answered");
                }
            }
        }
    }
}

/// The tail n2 (of the chain n1, n2; n0 is the master) is cut off 1 s..3 s; client 1 writes
/// before, client 2 writes during the cut at the head, then reads at the old tail.
fn stale_tail(chain: Chain) -> Vec<HOp> {
    let mut cfg = SimConfig::new(3, 1);
    cfg.until = Instant::from_secs(5);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg.faults.add_partition_spec("n2|n0,n1@1s..3s").unwrap();
    let reqs = vec![
        (
            Instant::from_millis(500),
            NodeId(1),
            RegisterReq::Write {
                client: 1,
                value: 1,
            },
        ),
        (
            Instant::from_millis(1500),
            NodeId(1),
            RegisterReq::Write {
                client: 2,
                value: 2,
            },
        ),
        (
            Instant::from_millis(2000),
            NodeId(2),
            RegisterReq::Read { client: 3 },
        ),
    ];
    let out = Simulation::new(chain, cfg)
        .unwrap()
        .with_workload(synod_sim::Scripted(reqs))
        .run();
    history(&out.trace)
}

#[test]
fn the_tail_without_a_lease_serves_stale_reads_and_the_real_one_does_not() {
    let canary = stale_tail(Chain::canary_no_lease());
    assert!(!linearizable(&canary), "canary not caught: {canary:?}");
    // By hand: write 2 completed at 1.5 s (n1, head and now tail), then the old tail said 1.
    assert_eq!(
        canary[2].done.as_ref().map(|d| d.1),
        Some(RegisterRet::ReadOk(Some(1)))
    );
    let real = stale_tail(Chain::new());
    assert!(linearizable(&real), "{real:?}");
    // The read waits for the partition to heal, then sees write 2.
    assert_eq!(
        real[2].done.as_ref().map(|d| d.1),
        Some(RegisterRet::ReadOk(Some(2)))
    );
}

#[test]
fn a_master_crash_costs_availability_not_safety() {
    for seed in 0..20 {
        let mut cfg = SimConfig::new(4, seed);
        cfg.until = Instant::from_secs(6);
        cfg.faults.add_crash_spec("n0@500ms").unwrap();
        cfg.faults.add_crash_spec("n3@700ms").unwrap();
        cfg.faults.add_recover_spec("n0@2s").unwrap();
        cfg.faults.add_recover_spec("n3@2500ms").unwrap();
        let out = run(
            Chain::new(),
            cfg,
            Clients::new(
                3,
                2,
                (Instant::from_millis(100), Instant::from_millis(3000)),
            ),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: {h:?}");
    }
}
