//! `replication-compare`: the kinds of replication side by side (curriculum row 10, C.11 (c)).
//!
//! Every scheme serves the same register (one key of a key-value store; linearizability is
//! local, so one key is what the checkers need) to the same clients under the same fault: the
//! [`SessionClients`] workload (six clients, two per server, each pinned to its home server,
//! half writes of unique values, half reads, 10 ms think time, giving up on an operation after
//! 300 ms and going on as a new client) and a partition that cuts one server off from the others
//! for one second in the middle of the run (n0 of three; for the chain, whose master n0 is the
//! paper's fault-free configuration service, its head n1). After the partition heals and the clients stop, every
//! server answers one final read.
//!
//! Per scheme, over R seeds:
//!
//! - **consistency, as checked**: the share of runs whose client history is linearizable
//!   (Wing–Gong/Lowe search of `synod-consistency`), sequentially consistent (the same search
//!   without real time), causally consistent (the bad-pattern checker of Bouajjani et al.), and
//!   *converged* (the final reads at every server agree: eventual consistency); the column
//!   `achieved` is the strongest level that held on every run;
//! - **availability during the partition**: of the operations invoked while the server was cut
//!   off, on its side and on the majority's, the share answered (before the client gave up);
//! - **latency**: the median time to answer, over operations invoked outside the partition;
//! - **messages per operation**: every message the servers sent (failure-detector heartbeats
//!   and anti-entropy included: they are part of the scheme's cost) over the operations
//!   answered.
//!
//! What theory predicts: consensus-based state machine replication (Multi-Paxos, Raft) and
//! chain replication stay linearizable and give up availability on the minority side (CAP);
//! primary-backup is linearizable only while its failure detector is perfect, and a partition
//! makes it a wrong one, so its backups elect a second primary (split brain); Dynamo with
//! R + W > N on strict quorums keeps reads regular but not linearizable under concurrency, and
//! R = W = 1 stays available and serves stale reads; a CRDT register stays available
//! everywhere and only converges (strong eventual consistency).

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::measure::{run_full, run_seed};
use crate::runner::recorded_history;
use crate::workloads::{describe_register, RegisterService, SessionClients, FINAL_READS};
use crate::LabError;
use serde_json::json;
use synod_consistency::checkers::causal::{check_causal, CausalLevel, CausalOptions};
use synod_consistency::checkers::register_semantics::check_recorded_register_semantics;
use synod_consistency::format::{Recorded, Value as HValue};
use synod_consistency::models::{check_recorded, CheckOptions, Consistency, Model};
use synod_consistency::Budget;
use synod_core::{Duration, History, Instant, ModelHeader, NodeId, Stack};
use synod_protocols::consensus::{MultiPaxos, Raft};
use synod_protocols::link::PerfectLink;
use synod_protocols::register::{Abd, RegisterOp, RegisterRet};
use synod_protocols::replication::chain::Chain;
use synod_protocols::replication::crdt::LwwRegisterStore;
use synod_protocols::replication::dynamo::Dynamo;
use synod_protocols::replication::primary_backup::PrimaryBackup;
use synod_sim::{Cut, Latency, Partition, SimConfig, Timing};

/// Servers per scheme (the chain has one more: its master).
const N: usize = 3;
/// Clients, two per server.
const CLIENTS: usize = 6;
const PARTITION_FROM: Instant = Instant::from_millis(1000);
const PARTITION_UNTIL: Instant = Instant::from_millis(2000);
/// Clients start no operation after this.
const STOP: Instant = Instant::from_millis(2500);
/// When every server answers the final read.
const FINAL_READ: Instant = Instant::from_millis(2800);
const UNTIL: Instant = Instant::from_millis(3200);
const TIMEOUT: Duration = Duration::from_millis(300);
/// Search steps per consistency check before it answers "unknown".
const CHECK_STEPS: u64 = 5_000_000;

/// What is checked of every run: the client history against linearizability, sequential
/// consistency, causal consistency and Lamport's regular register, and whether the final reads
/// agree (converged: eventual consistency).
const CHECKS: [&str; 5] = [
    "linearizable",
    "sequential",
    "causal",
    "regular",
    "converged",
];
const LIN: usize = 0;
const SEQ: usize = 1;
const CAUSAL: usize = 2;
const REGULAR: usize = 3;
const CONVERGED: usize = 4;
/// The chain of levels, strongest first (each implies the next on these histories; regular
/// is not on it: it says nothing of how sessions see each other).
const CHAIN: [usize; 4] = [LIN, SEQ, CAUSAL, CONVERGED];

/// A replication scheme of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    MultiPaxos,
    Raft,
    Abd,
    DynamoR2W2,
    DynamoR1W1,
    CrdtLww,
    PrimaryBackup,
    PrimaryBackupLease,
    Chain,
}

impl Scheme {
    const ALL: [Scheme; 9] = [
        Scheme::PrimaryBackup,
        Scheme::PrimaryBackupLease,
        Scheme::Chain,
        Scheme::MultiPaxos,
        Scheme::Raft,
        Scheme::Abd,
        Scheme::DynamoR2W2,
        Scheme::DynamoR1W1,
        Scheme::CrdtLww,
    ];

    fn name(self) -> &'static str {
        match self {
            Scheme::MultiPaxos => "smr multi-paxos",
            Scheme::Raft => "smr raft",
            Scheme::Abd => "quorum abd (perfect links)",
            Scheme::DynamoR2W2 => "dynamo N3 R2 W2",
            Scheme::DynamoR1W1 => "dynamo N3 R1 W1",
            Scheme::CrdtLww => "crdt lww-register",
            Scheme::PrimaryBackup => "primary-backup (P)",
            Scheme::PrimaryBackupLease => "primary-backup (leases)",
            Scheme::Chain => "chain (master n0)",
        }
    }

    /// Servers, and the one the partition cuts off: the chain's master n0 is the fault-free
    /// service of the paper (replicated by consensus there), so its head n1 is cut off
    /// instead.
    fn cluster(self) -> (usize, NodeId) {
        match self {
            Scheme::Chain => (N + 1, NodeId(1)),
            _ => (N, NodeId(0)),
        }
    }

    /// What theory says of the scheme under this fault (a partition and concurrent
    /// clients): the checks that must hold on every run, and those that must fail on some run.
    fn theory(self) -> (&'static [usize], &'static [usize]) {
        match self {
            // Consensus and atomic quorums: linearizable whatever the partition does.
            Scheme::MultiPaxos | Scheme::Raft | Scheme::Abd => (&[LIN, REGULAR, CONVERGED], &[]),
            // Strict quorums with R + W > N: regular reads. Not linearizable under concurrency
            // without write-back, but whether a run shows it depends on the timing of
            // concurrent operations (quorum-rw measures it), so it is not required here.
            Scheme::DynamoR2W2 => (&[REGULAR], &[]),
            // R + W <= N: stale reads.
            Scheme::DynamoR1W1 => (&[], &[REGULAR, LIN]),
            // Strong eventual consistency only.
            Scheme::CrdtLww => (&[CONVERGED], &[LIN]),
            // A partition makes the heartbeat detector wrong: a second primary (split brain).
            Scheme::PrimaryBackup => (&[], &[LIN]),
            // Leases waited out (bounded drift), majority views; the chain: master-granted
            // leases and epochs.
            Scheme::PrimaryBackupLease | Scheme::Chain => (&[LIN, REGULAR, CONVERGED], &[]),
        }
    }

    fn run(self, seed: u64) -> SchemeRun {
        let (n, cut) = self.cluster();
        let cfg = config(seed, n, cut);
        let clients = SessionClients::new(CLIENTS, Duration::from_millis(10), TIMEOUT, STOP)
            .with_final_reads(FINAL_READ)
            .with_client_cut(vec![cut], PARTITION_FROM, PARTITION_UNTIL);
        match self {
            Scheme::MultiPaxos => measure(MultiPaxos::new(), cfg, clients, cut),
            Scheme::Raft => measure(Raft::new(), cfg, clients, cut),
            Scheme::Abd => measure(
                Stack::new(Abd::new(), PerfectLink::new(Duration::from_millis(50))),
                cfg,
                clients,
                cut,
            ),
            Scheme::DynamoR2W2 => measure(Dynamo::new(3, 2, 2), cfg, clients, cut),
            Scheme::DynamoR1W1 => measure(Dynamo::new(3, 1, 1), cfg, clients, cut),
            Scheme::CrdtLww => measure(LwwRegisterStore::default(), cfg, clients, cut),
            Scheme::PrimaryBackup => measure(PrimaryBackup::perfect(), cfg, clients, cut),
            Scheme::PrimaryBackupLease => measure(PrimaryBackup::with_leases(), cfg, clients, cut),
            Scheme::Chain => measure(Chain::new(), cfg, clients, cut),
        }
    }
}

fn config(seed: u64, n: usize, cut: NodeId) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = UNTIL;
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(10),
    };
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(5),
    };
    cfg.faults.partitions.push(Partition {
        cut: Cut::Groups(vec![vec![cut]]),
        from: PARTITION_FROM,
        until: PARTITION_UNTIL,
    });
    cfg
}

/// What one run of one scheme gave.
#[derive(Clone, Debug, Default)]
struct SchemeRun {
    /// Client operations (final reads excluded) invoked during the partition, and answered in
    /// time: at the cut-off server (the minority side), and at the others.
    in_partition: [(usize, usize); 2],
    /// Answer times of operations invoked outside the partition.
    latencies: Vec<Duration>,
    /// Messages the servers sent.
    messages: u64,
    /// Operations answered.
    answered: usize,
    /// Per check (see [`CHECKS`]): held, violated or undecided (`None`).
    levels: [Option<bool>; 5],
}

/// One consistency check of `recorded`.
fn check(recorded: &Recorded, consistency: Consistency) -> Option<bool> {
    let options = CheckOptions {
        consistency,
        budget: Budget::steps(CHECK_STEPS),
        ..CheckOptions::new(Model::Register)
    };
    check_recorded(recorded, &options).ok()?.valid
}

fn measure<P: RegisterService<Input = RegisterOp>>(
    protocol: P,
    cfg: SimConfig,
    clients: SessionClients,
    cut: NodeId,
) -> SchemeRun {
    let n = cfg.n;
    let out = run_full(protocol, cfg, clients);
    let history = History::<RegisterOp, RegisterRet>::from_trace(&out.trace);
    let mut run = SchemeRun {
        messages: out.stats.messages_sent,
        ..SchemeRun::default()
    };
    let mut finals = Vec::new();
    for op in &history.ops {
        if op.client >= FINAL_READS {
            finals.push(op.completion.as_ref().map(|(_, r)| *r));
            continue;
        }
        let during = op.invoke >= PARTITION_FROM && op.invoke < PARTITION_UNTIL;
        // Invoked early enough in the partition that its client gives up before the heal.
        let judged = during && op.invoke + TIMEOUT <= PARTITION_UNTIL;
        if let Some((at, _)) = &op.completion {
            run.answered += 1;
            if !during {
                run.latencies.push(at.saturating_since(op.invoke));
            }
        }
        if judged {
            // Answered in time: the client had not given up yet (and the partition lasted).
            let in_time = op
                .completion
                .as_ref()
                .is_some_and(|(at, _)| at.saturating_since(op.invoke) < TIMEOUT);
            let side = &mut run.in_partition[usize::from(op.node != cut)];
            side.0 += 1;
            side.1 += usize::from(in_time);
        }
    }
    let recorded = recorded_history(&out.trace, describe_register);
    let converged = finals.len() == n
        && finals.iter().all(|f| f.is_some())
        && finals.windows(2).all(|w| w[0] == w[1]);
    if std::option_env!("SYNOD_DEBUG_RC").is_some() {
        eprintln!(
            "finals {finals:?} causal {:?} seq {:?}",
            check_causal(&recorded, &CausalOptions::default()).map(|r| r.to_string()),
            check(&recorded, Consistency::Sequential)
        );
    }
    run.levels = [
        check(&recorded, Consistency::Linearizable),
        check(&recorded, Consistency::Sequential),
        check_causal(&recorded, &CausalOptions::default())
            .ok()
            .map(|r| r.holds(CausalLevel::Causal)),
        check_recorded_register_semantics(&recorded, &HValue::Nil, &Budget::steps(CHECK_STEPS))
            .ok()
            .map(|r| r.regular_ok),
        Some(converged),
    ];
    run
}

/// Totals of one scheme over the runs.
#[derive(Clone, Debug, Default)]
struct Totals {
    runs: usize,
    /// Per check: runs that held, runs undecided.
    held: [usize; 5],
    undecided: [usize; 5],
    in_partition: [(usize, usize); 2],
    latencies: Vec<Duration>,
    messages: u64,
    answered: usize,
}

impl Totals {
    fn add(&mut self, r: SchemeRun) {
        self.runs += 1;
        for (i, l) in r.levels.iter().enumerate() {
            match l {
                Some(true) => self.held[i] += 1,
                Some(false) => {}
                None => self.undecided[i] += 1,
            }
        }
        for (side, r) in self.in_partition.iter_mut().zip(r.in_partition) {
            side.0 += r.0;
            side.1 += r.1;
        }
        self.latencies.extend(r.latencies);
        self.messages += r.messages;
        self.answered += r.answered;
    }

    /// The strongest level of [`CHAIN`] that held on every run (index into [`CHECKS`]).
    fn achieved(&self) -> Option<usize> {
        CHAIN.into_iter().find(|&i| self.held[i] == self.runs)
    }

    /// Runs on which check `i` was violated (not undecided).
    fn violated(&self, i: usize) -> usize {
        self.runs - self.held[i] - self.undecided[i]
    }

    fn pct(&self, i: usize) -> f64 {
        100.0 * self.held[i] as f64 / self.runs.max(1) as f64
    }

    /// Per cent of the operations invoked during the partition on `side` (0: the cut-off server,
    /// 1: the majority) answered in time.
    fn availability(&self, side: usize) -> f64 {
        let (invoked, answered) = self.in_partition[side];
        100.0 * answered as f64 / invoked.max(1) as f64
    }

    fn median_latency_ms(&mut self) -> Option<f64> {
        self.latencies.sort_unstable();
        self.latencies
            .get(self.latencies.len() / 2)
            .map(|d| d.as_millis_f64())
    }

    fn msgs_per_op(&self) -> f64 {
        self.messages as f64 / self.answered.max(1) as f64
    }
}

fn round1(x: f64) -> serde_json::Value {
    json!((x * 10.0).round() / 10.0)
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let runs = opts.runs.unwrap_or(if opts.quick { 4 } else { 20 }).max(1) as u64;
    progress.set_total(Scheme::ALL.len() as u64);
    let mut rows = Vec::new();
    let mut ok = true;
    let mut summary = Vec::new();
    for (si, scheme) in Scheme::ALL.into_iter().enumerate() {
        let mut t = Totals::default();
        for r in 0..runs {
            t.add(scheme.run(run_seed(opts.seed, &[si as u64, r])));
        }
        let achieved = t.achieved();
        let (must_hold, must_fail) = scheme.theory();
        let kept = must_hold.iter().all(|&i| t.held[i] == t.runs)
            && must_fail.iter().all(|&i| t.violated(i) > 0);
        ok &= kept;
        let latency = t.median_latency_ms();
        let names = |list: &[usize]| {
            list.iter()
                .map(|&i| CHECKS[i])
                .collect::<Vec<_>>()
                .join("+")
        };
        summary.push(format!(
            "{} achieves {}{}",
            scheme.name(),
            achieved.map_or("none", |a| CHECKS[a]),
            if must_fail.is_empty() {
                String::new()
            } else {
                format!(" (not {}, as predicted)", names(must_fail))
            }
        ));
        let mut row = vec![
            json!(scheme.name()),
            json!(if must_hold.is_empty() {
                "-".to_string()
            } else {
                names(must_hold)
            }),
            json!(achieved.map_or("none", |a| CHECKS[a])),
        ];
        row.extend((0..CHECKS.len()).map(|i| round1(t.pct(i))));
        row.extend([
            round1(t.availability(0)),
            round1(t.availability(1)),
            latency.map_or(serde_json::Value::Null, round1),
            round1(t.msgs_per_op()),
        ]);
        rows.push(row);
        progress.advance(1);
    }
    let model = ModelHeader::new()
        .with("timing", "synchronous (delta 10ms), latency uniform 1..5ms")
        .with(
            "failures",
            "a partition cutting one server off from the others from 1s to 2s (n0; for the chain its head n1, the master n0 being the paper's fault-free service); no crashes",
        )
        .with("links", "reliable (no loss) outside the partition")
        .with("n", format!("{N} replicas (the chain: {N} plus its master)"))
        .with(
            "clients",
            format!("{CLIENTS} sessions (2 per server), 50% writes, think 10ms, give up after 300ms; one final read per server at 2.8s"),
        )
        .with("runs", runs)
        .with("seed", opts.seed);
    Ok(ExperimentReport {
        id: "replication-compare".into(),
        title: "The kinds of replication under one workload and one partition: the consistency each keeps and what it costs".into(),
        model,
        columns: columns(&[
            ("scheme", "scheme"),
            ("promises", "promises"),
            ("achieved", "achieved"),
            ("linearizable_pct", "linearizable%"),
            ("sequential_pct", "sequential%"),
            ("causal_pct", "causal%"),
            ("regular_pct", "regular%"),
            ("converged_pct", "converged%"),
            ("available_cut_pct", "available_cut%"),
            ("available_rest_pct", "available_rest%"),
            ("latency_median_ms", "latency_p50_ms"),
            ("msgs_per_op", "msgs/op"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "every scheme keeps what theory promises under a partition and concurrent clients, and loses what theory says it loses, as checked over {runs} runs: {}",
                summary.join("; ")
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "van Renesse & Guerraoui, 'Replication techniques for availability' (primary-backup, chain, SMR); Schneider 1990 (state machines); DeCandia et al. 2007 (Dynamo); Shapiro et al. 2011 (CRDTs); Kleppmann, DDIA ch. 5 and 9; Gilbert & Lynch 2002 (CAP)".into(),
        notes: vec![
            "achieved: the strongest of linearizable > sequential > causal > converged (eventual) that held on every run; promises: what theory guarantees the scheme under this fault model (checked on every run); the claim also requires the violations theory predicts (Dynamo and CRDTs not linearizable, R + W <= N not regular) to show up".into(),
            "regular%: Lamport's regular register (every read returns the last write completed before it or a concurrent one; several writers as in register-semantics); converged%: the final reads at every server all answered and agree".into(),
            "available_cut% / available_rest%: of the operations invoked while one server was cut off (early enough that their client gives up before the heal), at that server (the minority side) and at the others (the majority side), the share answered before their client gave up (300ms); clients live beside their home server, so they follow no redirect across the partition".into(),
            "msgs/op: all messages the servers sent (heartbeats of failure detectors and leader oracles, anti-entropy, retransmissions included) over the operations answered".into(),
        ],
        figures: vec![],
    })
}
