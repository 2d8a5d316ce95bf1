//! Primary-backup under the simulator. With the perfect detector under its model (synchrony,
//! no loss, crash-stop) every history is linearizable and every operation that arrived at a
//! node that stays up completes, across seeds, primary crashes (some part-way through a send)
//! and a backup crash; with ◇P and a partition cutting the primary off, some history is not
//! linearizable (split brain); with leases and majority views, every history is.
//! Linearizability is checked by brute force (every order of at most 10 operations).

use synod_core::{Duration, EventKind, Instant, NodeId, Prng, Trace};
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use synod_protocols::replication::primary_backup::PrimaryBackup;
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

fn run(pb: PrimaryBackup, cfg: SimConfig, clients: Clients) -> SimOutcome<PrimaryBackup> {
    Simulation::new(pb, cfg)
        .unwrap()
        .with_workload(clients)
        .run()
}

fn sync_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(3, seed);
    cfg.until = Instant::from_secs(4);
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(20),
    };
    cfg
}

#[test]
fn perfect_detector_failover_is_linearizable_and_live() {
    for seed in 0..80 {
        let mut prng = Prng::new(seed);
        let mut cfg = sync_config(seed);
        let at = 200 + prng.below(1300);
        let partial = if prng.below(2) == 0 { ":partial" } else { "" };
        cfg.faults
            .add_crash_spec(&format!("n0@{at}ms{partial}"))
            .unwrap();
        if seed % 2 == 0 {
            // A second crash: the new primary or the last backup; one replica survives.
            let second = 1 + prng.below(2);
            cfg.faults
                .add_crash_spec(&format!("n{second}@{}ms", at + 100 + prng.below(800)))
                .unwrap();
        }
        let crashed: Vec<NodeId> = cfg.faults.crashes.iter().map(|c| c.node).collect();
        let out = run(
            PrimaryBackup::perfect(),
            cfg,
            Clients::new(3, 2, (Instant::ZERO, Instant::from_millis(2000))),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: not linearizable: {h:?}");
        for op in &h {
            if !crashed.contains(&op.node) {
                assert!(
                    op.done.is_some(),
                    "seed {seed}: {op:?} at a live node was never answered"
                );
            }
        }
    }
}

fn partition_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(3, seed);
    cfg.until = Instant::from_secs(5);
    cfg.timing = Timing::PartiallySynchronous {
        gst: Instant::from_secs(3),
        delta: Duration::from_millis(20),
    };
    cfg.faults
        .add_partition_spec("n0|n1,n2@1s..2500ms")
        .unwrap();
    cfg
}

/// Writes and reads inside the partition, so both sides of a split brain get clients.
fn partition_clients() -> Clients {
    Clients::new(
        3,
        2,
        (Instant::from_millis(1200), Instant::from_millis(2300)),
    )
}

#[test]
fn eventually_perfect_detector_splits_the_brain() {
    let broken = (0..60)
        .filter(|&seed| {
            let out = run(
                PrimaryBackup::eventually_perfect(),
                partition_config(seed),
                partition_clients(),
            );
            !linearizable(&history(&out.trace))
        })
        .count();
    assert!(broken > 0, "no split brain in 60 seeds");
}

#[test]
fn leases_and_majority_views_stay_linearizable_and_recover() {
    for seed in 0..60 {
        let out = run(
            PrimaryBackup::with_leases(),
            partition_config(seed),
            partition_clients(),
        );
        let h = history(&out.trace);
        assert!(linearizable(&h), "seed {seed}: not linearizable: {h:?}");
        assert!(
            h.iter().all(|op| op.done.is_some()),
            "seed {seed}: an operation was never answered after the partition healed: {h:?}"
        );
    }
}
