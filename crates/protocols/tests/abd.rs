//! ABD under the simulator: with a minority of servers crashed and heavy-tailed delays, every
//! operation completes and every history is linearizable (checked by brute force); without
//! the write-back, reads invert.

use synod_core::{check_all, Duration, EventKind, Instant, NodeId, Prng, Ratio, Trace, Verdict};
use synod_protocols::register::{
    properties, Abd, AbdState, RegisterOp, RegisterReq, RegisterResp, RegisterRet,
};
use synod_sim::{
    Crash, Latency, Requests, SimConfig, SimOutcome, Simulation, Timing, Workload, WorkloadEnv,
};

const SEEDS: u64 = 200;

// ---- A brute-force linearizability check for register histories ------------------------------

/// One operation of a history. Positions are trace event indices, so "a returned before b was
/// invoked" is exact even when both happen at the same virtual instant.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HOp {
    client: u64,
    input: RegisterOp,
    invoke: usize,
    done: Option<(usize, RegisterRet)>,
}

/// The client operations of a trace (a client has one operation outstanding at a time).
fn history<P>(trace: &Trace<P>) -> Vec<HOp>
where
    P: synod_core::Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    let mut ops: Vec<HOp> = Vec::new();
    for (i, e) in trace.events.iter().enumerate() {
        match &e.kind {
            EventKind::Request { req, .. } => ops.push(HOp {
                client: req.client(),
                input: req.op(),
                invoke: i,
                done: None,
            }),
            EventKind::Indication { ind, .. } => {
                let open = ops
                    .iter_mut()
                    .rev()
                    .find(|o| o.client == ind.client() && o.done.is_none())
                    .unwrap_or_else(|| panic!("response {ind:?} without an open operation"));
                open.done = Some((i, ind.ret()));
            }
            _ => {}
        }
    }
    ops
}

/// True if the register history `ops` (at most 10 operations) is linearizable: some total
/// order of the completed operations, plus any subset of the pending ones, respects real time
/// (an operation that returned before another was invoked comes first) and the sequential
/// register specification (a read returns the last value written, `None` at first). Tries
/// every order, depth first.
fn linearizable(ops: &[HOp]) -> bool {
    assert!(
        ops.len() <= 10,
        "brute force: {} operations is too many",
        ops.len()
    );
    fn search(ops: &[HOp], placed: &mut Vec<bool>, value: Option<u64>) -> bool {
        let unplaced_completed = |j: usize, placed: &[bool]| !placed[j] && ops[j].done.is_some();
        if !(0..ops.len()).any(|j| unplaced_completed(j, placed)) {
            return true; // the pending operations left over did not take effect
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            // i may come next only if no other unplaced completed op returned before i began.
            let blocked = (0..ops.len()).any(|j| {
                j != i
                    && unplaced_completed(j, placed)
                    && ops[j].done.as_ref().unwrap().0 < ops[i].invoke
            });
            if blocked {
                continue;
            }
            let next = match (ops[i].input, &ops[i].done) {
                (RegisterOp::Write(v), _) => Some(v),
                (RegisterOp::Read, Some((_, RegisterRet::ReadOk(r)))) if *r == value => value,
                (RegisterOp::Read, _) => continue, // wrong value, or pending: no effect anyway
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
fn the_brute_force_check_tells_inversions_from_overlaps() {
    let op = |client, input, invoke, done: Option<(usize, RegisterRet)>| HOp {
        client,
        input,
        invoke,
        done,
    };
    let w = RegisterOp::Write(1);
    let new = RegisterRet::ReadOk(Some(1));
    let old = RegisterRet::ReadOk(None);
    // A write overlapping two sequential reads that see new, then old: not linearizable.
    let inversion = vec![
        op(0, w, 0, Some((10, RegisterRet::WriteOk))),
        op(1, RegisterOp::Read, 1, Some((3, new))),
        op(2, RegisterOp::Read, 4, Some((6, old))),
    ];
    assert!(!linearizable(&inversion));
    // Old, then new: fine.
    let fine = vec![
        op(0, w, 0, Some((10, RegisterRet::WriteOk))),
        op(1, RegisterOp::Read, 1, Some((3, old))),
        op(2, RegisterOp::Read, 4, Some((6, new))),
    ];
    assert!(linearizable(&fine));
    // A pending write may have taken effect...
    let pending = vec![
        op(0, w, 0, None),
        op(1, RegisterOp::Read, 1, Some((3, new))),
    ];
    assert!(linearizable(&pending));
    // ...but a read cannot return a value nobody wrote, nor an old value after a completed write.
    assert!(!linearizable(&[op(1, RegisterOp::Read, 0, Some((1, new)))]));
    let stale = vec![
        op(0, w, 0, Some((1, RegisterRet::WriteOk))),
        op(1, RegisterOp::Read, 2, Some((3, old))),
    ];
    assert!(!linearizable(&stale));
}

// ---- Workloads ----------------------------------------------------------------------------------

/// Closed-loop clients: client c sends its operations, one at a time, to `servers[c % len]`,
/// each a read or a write of a fresh value (1, 2, …) with equal chances, after a think time
/// of up to `think`.
struct RandomClients {
    servers: Vec<NodeId>,
    remaining: Vec<usize>,
    think: Duration,
    next_value: u64,
}

impl RandomClients {
    fn new(servers: Vec<NodeId>, ops_per_client: Vec<usize>, think: Duration) -> RandomClients {
        RandomClients {
            servers,
            remaining: ops_per_client,
            think,
            next_value: 1,
        }
    }

    fn next(&mut self, client: u64, now: Instant, prng: &mut Prng, out: &mut Requests<Abd>) {
        let left = &mut self.remaining[client as usize];
        if *left == 0 {
            return;
        }
        *left -= 1;
        let op = if prng.below(2) == 0 {
            self.next_value += 1;
            RegisterOp::Write(self.next_value - 1)
        } else {
            RegisterOp::Read
        };
        let at = now + Duration(prng.below(self.think.as_nanos() + 1));
        let server = self.servers[client as usize % self.servers.len()];
        out.push((at, server, RegisterReq::new(client, op)));
    }
}

impl Workload<Abd> for RandomClients {
    fn start(&mut self, _env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<Abd>) {
        for client in 0..self.remaining.len() as u64 {
            self.next(client, Instant::ZERO, prng, out);
        }
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &RegisterResp,
        prng: &mut Prng,
        out: &mut Requests<Abd>,
    ) {
        self.next(ind.client(), now, prng, out);
    }
}

fn config(n: usize, seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::Asynchronous;
    cfg.until = Instant::from_secs(3600);
    cfg.network.duplicate = Ratio::from_f64(0.1).unwrap();
    cfg
}

fn run<W: Workload<Abd> + 'static>(abd: Abd, cfg: SimConfig, w: W) -> SimOutcome<Abd> {
    Simulation::new(abd, cfg)
        .expect("valid config")
        .with_workload(w)
        .run()
}

fn assert_properties_hold(out: &SimOutcome<Abd>, what: &str) {
    for r in check_all(&properties::abd_properties(), &out.trace) {
        assert_eq!(r.verdict, Verdict::Holds, "{what}: {}", r.name);
    }
}

/// True if some two operations of `ops` overlap in time.
fn concurrent(ops: &[HOp]) -> bool {
    let end = |o: &HOp| o.done.as_ref().map_or(usize::MAX, |d| d.0);
    ops.iter().enumerate().any(|(i, a)| {
        ops.iter()
            .skip(i + 1)
            .any(|b| a.invoke < end(b) && b.invoke < end(a))
    })
}

// ---- ABD ----------------------------------------------------------------------------------------

#[test]
fn abd_with_a_minority_crashed_completes_every_operation_linearizably() {
    let mut overlapping = 0;
    for seed in 0..SEEDS {
        let n = if seed % 2 == 0 { 3 } else { 5 };
        let mut prng = Prng::derive(seed, 0xABD);
        // The clients use the first servers; one of the others crashes early, at a random time.
        let (servers, victim) = if n == 3 {
            (vec![NodeId(0), NodeId(1)], NodeId(2))
        } else {
            let victim = NodeId(3 + prng.below(2) as u32);
            (vec![NodeId(0), NodeId(1), NodeId(2)], victim)
        };
        let mut cfg = config(n, seed);
        cfg.faults.crashes.push(Crash {
            node: victim,
            at: Instant(prng.below(20_000_000)),
            partial_send: false,
        });
        let w = RandomClients::new(servers, vec![3, 3, 2], Duration::from_millis(10));
        let out = run(Abd::new(), cfg, w);
        let what = format!("seed {seed} n={n}");
        assert_properties_hold(&out, &what);
        let ops = history(&out.trace);
        assert_eq!(ops.len(), 8, "{what}");
        assert!(ops.iter().all(|o| o.done.is_some()), "{what}: {ops:?}");
        assert!(linearizable(&ops), "{what}: {ops:#?}");
        if concurrent(&ops) {
            overlapping += 1;
        }
        // Every live server ends idle.
        for s in out.states.iter().flatten() {
            assert!(s.current.is_none() && s.queue.is_empty(), "{what}");
        }
    }
    // The runs do exercise concurrency.
    assert!(
        overlapping > SEEDS / 2,
        "only {overlapping} runs had overlapping operations"
    );
}

#[test]
fn abd_with_a_crashed_coordinator_leaves_one_operation_pending_and_stays_linearizable() {
    let mut pending_runs = 0;
    for seed in 0..SEEDS {
        let mut prng = Prng::derive(seed, 0xC0);
        let mut cfg = config(5, seed);
        // n0 coordinates client 0's operations and crashes in the middle of the workload.
        cfg.faults.crashes.push(Crash {
            node: NodeId(0),
            at: Instant(prng.below(30_000_000)),
            partial_send: prng.below(2) == 0,
        });
        let servers = vec![NodeId(0), NodeId(1), NodeId(2)];
        let out = run(
            Abd::new(),
            cfg,
            RandomClients::new(servers, vec![3, 3, 2], Duration::from_millis(10)),
        );
        let what = format!("seed {seed}");
        assert_properties_hold(&out, &what);
        let ops = history(&out.trace);
        // Clients 1 and 2 use live coordinators: all their operations complete.
        let others: Vec<&HOp> = ops.iter().filter(|o| o.client != 0).collect();
        assert_eq!(others.len(), 5, "{what}");
        assert!(others.iter().all(|o| o.done.is_some()), "{what}");
        if ops.iter().any(|o| o.done.is_none()) {
            pending_runs += 1;
        }
        assert!(linearizable(&ops), "{what}: {ops:#?}");
    }
    assert!(pending_runs > 0);
}

/// A writer (client 0, at n0) writes 1 at time 0 while a reader (client 1) reads at n1 at a
/// random instant of the first `window`, then, as soon as that read returns, reads again at n2.
struct WriteAndTwoReads {
    window: Duration,
    reads_left: u32,
}

impl Workload<Abd> for WriteAndTwoReads {
    fn start(&mut self, _env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<Abd>) {
        out.push((
            Instant::ZERO,
            NodeId(0),
            RegisterReq::Write {
                client: 0,
                value: 1,
            },
        ));
        let at = Instant(prng.below(self.window.as_nanos()));
        out.push((at, NodeId(1), RegisterReq::Read { client: 1 }));
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &RegisterResp,
        _prng: &mut Prng,
        out: &mut Requests<Abd>,
    ) {
        if ind.client() == 1 && self.reads_left > 0 {
            self.reads_left -= 1;
            out.push((now, NodeId(2), RegisterReq::Read { client: 1 }));
        }
    }
}

/// Whether `abd` produced a non-linearizable history on some of `seeds` runs of the
/// write-and-two-reads scenario (n = 3, exponential delays), and on how many.
fn inversions(abd: Abd, seeds: u64) -> u64 {
    let mut bad = 0;
    for seed in 0..seeds {
        let mut cfg = config(3, seed);
        cfg.network.latency = Latency::Exponential {
            mean: Duration::from_millis(5),
        };
        let w = WriteAndTwoReads {
            window: Duration::from_millis(10),
            reads_left: 1,
        };
        let out = run(abd, cfg, w);
        let ops = history(&out.trace);
        assert!(ops.iter().all(|o| o.done.is_some()), "seed {seed}");
        assert_properties_hold(&out, &format!("seed {seed}"));
        if !linearizable(&ops) {
            // The only way to fail: the first read saw the new value, the second the old one.
            let reads: Vec<RegisterRet> = ops
                .iter()
                .filter(|o| o.input == RegisterOp::Read)
                .map(|o| o.done.as_ref().unwrap().1)
                .collect();
            assert_eq!(
                reads,
                vec![RegisterRet::ReadOk(Some(1)), RegisterRet::ReadOk(None)],
                "seed {seed}"
            );
            bad += 1;
        }
    }
    bad
}

#[test]
fn canary_without_write_back_inverts_new_and_old() {
    // The inversion needs the first read's majority to include the writer's own server just
    // after it stored the new value, and the second read's majority to miss it: about 1% of the
    // seeds (11 of these 1000).
    let seeds = 1000;
    let bad = inversions(Abd::canary_no_write_back(), seeds);
    assert!(bad >= 5, "only {bad} new/old inversions in {seeds} seeds");
    // The real protocol, same runs: every history is linearizable.
    assert_eq!(inversions(Abd::new(), seeds), 0);
}

#[test]
fn timestamps_never_go_down_along_a_run() {
    // Replay a run step by step and compare each server's state before and after every step.
    for seed in 0..20 {
        let cfg = config(3, seed);
        let w = RandomClients::new(
            vec![NodeId(0), NodeId(1), NodeId(2)],
            vec![3, 3, 2],
            Duration::ZERO,
        );
        let mut sim = Simulation::new(Abd::new(), cfg)
            .expect("valid config")
            .with_workload(w);
        let snapshot = |sim: &Simulation<Abd>| -> Vec<Option<AbdState>> {
            NodeId::all(3).map(|p| sim.state(p).cloned()).collect()
        };
        let mut before = snapshot(&sim);
        while sim.step() {
            let after = snapshot(&sim);
            for (b, a) in before.iter().zip(&after) {
                if let (Some(b), Some(a)) = (b, a) {
                    assert!(properties::timestamp_monotone(b, a), "seed {seed}");
                }
            }
            before = after;
        }
    }
}
