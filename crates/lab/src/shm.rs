//! The shared-memory catalog behind `synod shm`: run a program under a seeded interleaving, or
//! explore every interleaving and decide wait-freedom.
//!
//! Entries are the consensus protocols of Herlihy's hierarchy and natural read/write attempts
//! (`synod_protocols::shared_memory::consensus`), and the register client program that also
//! runs on ABD (`synod_protocols::register::program`).

use crate::registers::{linearizable, shared_memory_history};
use crate::LabError;
use serde_json::{json, Value};
use synod_check::shared_memory::{explore, ShmOptions, ShmProperty, ShmState, WaitFreedom};
use synod_core::shared_memory::Program;
use synod_core::ModelHeader;
use synod_protocols::register::program::{OnSharedMemory, WritersReaders};
use synod_protocols::shared_memory::{agreement, integrity, validity, Consensus, Via};
use synod_sim::shared_memory::{run_shared, Scheduler, ShmSimConfig};

/// What a catalog entry runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShmKind {
    /// Consensus via this object.
    Consensus(Via),
    /// The register client program (one writer, the other processes read) on one register.
    Register,
}

/// A shared-memory program of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct ShmEntry {
    /// Its name on the command line.
    pub name: &'static str,
    /// One line on what it shows.
    pub summary: &'static str,
    /// Processes unless `--processes` says otherwise.
    pub default_processes: usize,
    /// The program.
    pub kind: ShmKind,
}

/// Every shared-memory program, in the hierarchy's order.
pub fn shm_programs() -> Vec<ShmEntry> {
    let e = |name, summary, default_processes, kind| ShmEntry {
        name,
        summary,
        default_processes,
        kind,
    };
    vec![
        e("rw-min-consensus", "registers only: announce, read the other, decide own or min: disagrees (2 processes)", 2, ShmKind::Consensus(Via::ReadWriteMin)),
        e("rw-wait-consensus", "registers only: announce, wait for the other, decide min: agrees but is not wait-free", 2, ShmKind::Consensus(Via::ReadWriteWait)),
        e("tas-consensus", "test-and-set: the winner decides its input, a loser reads the winner's: solves 2, disagrees with 3", 2, ShmKind::Consensus(Via::TestAndSet)),
        e("faa-consensus", "fetch-and-add: who reads 0 won: solves 2, disagrees with 3", 2, ShmKind::Consensus(Via::FetchAndAdd)),
        e("queue-consensus", "queue [win, lose, ...]: who dequeues win won: solves 2, disagrees with 3", 2, ShmKind::Consensus(Via::Queue)),
        e("cas-consensus", "compare-and-swap: the first CAS installs its input: solves any n", 3, ShmKind::Consensus(Via::CompareAndSwap)),
        e("register", "the register client program (p0 writes, the others read) on one atomic register: linearizable, wait-free", 3, ShmKind::Register),
    ]
}

/// The entry named `name`, or an error naming the choices.
pub fn find_shm(name: &str) -> Result<ShmEntry, LabError> {
    let all = shm_programs();
    all.iter().find(|e| e.name == name).copied().ok_or_else(|| {
        LabError::new(format!(
            "unknown shared-memory program '{name}' (choose one of: {})",
            all.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// How to run or check a catalog program.
#[derive(Clone, Debug)]
pub struct ShmSpec {
    /// Number of processes (`None`: the entry's default).
    pub processes: Option<usize>,
    /// Consensus inputs (`None`: process p proposes 10 + p; checking then also tries every
    /// binary input vector).
    pub inputs: Option<Vec<u64>>,
    /// Register program: operations per process.
    pub ops: u32,
    /// Simulation: the seed.
    pub seed: u64,
    /// Simulation: scheduled crashes, (process, global step).
    pub crashes: Vec<(usize, usize)>,
    /// Simulation: crash this many random processes early.
    pub random_crashes: usize,
    /// Simulation: bursty scheduler (solo runs) instead of uniform.
    pub bursty: bool,
    /// Check: stop after this many states.
    pub max_states: usize,
}

impl Default for ShmSpec {
    fn default() -> ShmSpec {
        ShmSpec {
            processes: None,
            inputs: None,
            ops: 3,
            seed: 1,
            crashes: Vec::new(),
            random_crashes: 0,
            bursty: false,
            max_states: 2_000_000,
        }
    }
}

impl ShmSpec {
    fn n(&self, e: &ShmEntry) -> Result<usize, LabError> {
        let n = self.processes.unwrap_or(e.default_processes);
        let two_only = matches!(
            e.kind,
            ShmKind::Consensus(Via::ReadWriteMin | Via::ReadWriteWait)
        );
        if two_only && n != 2 {
            return Err(LabError::new(format!(
                "{} is a 2-process protocol (drop --processes or use 2)",
                e.name
            )));
        }
        if !(1..=12).contains(&n) && !two_only {
            return Err(LabError::new(format!(
                "--processes must be between 1 and 12 (got {n})"
            )));
        }
        if let Some(inputs) = &self.inputs {
            if inputs.len() != n {
                return Err(LabError::new(format!(
                    "--inputs gives {} values for {n} processes (give one per process)",
                    inputs.len()
                )));
            }
        }
        Ok(n)
    }

    fn consensus(&self, via: Via, n: usize) -> Consensus {
        Consensus::new(
            via,
            self.inputs
                .clone()
                .unwrap_or_else(|| (0..n as u64).map(|p| 10 + p).collect()),
        )
    }

    fn register(&self, n: usize) -> WritersReaders {
        WritersReaders::single_writer(n.saturating_sub(1), self.ops)
    }
}

/// A property's outcome in a report.
#[derive(Clone, Debug)]
pub struct Judged {
    /// The property.
    pub name: String,
    /// `None` if it holds, else what is wrong.
    pub violation: Option<String>,
}

/// One simulated run.
#[derive(Clone, Debug)]
pub struct ShmSimReport {
    /// The entry's name.
    pub program: String,
    /// The model assumed.
    pub model: ModelHeader,
    /// Every step, in order.
    pub steps: Vec<String>,
    /// Per process: its outputs, steps taken, and how it ended.
    pub processes: Vec<(Vec<String>, usize, &'static str)>,
    /// Properties judged on the run.
    pub properties: Vec<Judged>,
}

fn sim_config(spec: &ShmSpec) -> ShmSimConfig {
    let mut cfg = ShmSimConfig::new(spec.seed);
    cfg.max_steps = 10_000;
    cfg.crashes = spec.crashes.clone();
    cfg.random_crashes = spec.random_crashes;
    if spec.bursty {
        cfg.scheduler = Scheduler::Bursty {
            stay: synod_core::Ratio::from_f64(0.8).expect("a probability"),
        };
    }
    cfg
}

fn simulate_program<P: Program>(
    name: &str,
    program: &P,
    spec: &ShmSpec,
    judge: impl Fn(&synod_sim::shared_memory::ShmRun<P>) -> Vec<Judged>,
) -> ShmSimReport {
    let cfg = sim_config(spec);
    let run = run_shared(program, &cfg);
    let mut properties = judge(&run);
    if let Some((at, e)) = &run.error {
        properties.insert(
            0,
            Judged {
                name: "legal-operations".into(),
                violation: Some(format!("step {at}: {e}")),
            },
        );
    }
    ShmSimReport {
        program: name.to_string(),
        model: cfg.model(program.processes()),
        steps: run.steps.iter().map(ToString::to_string).collect(),
        processes: (0..program.processes())
            .map(|p| {
                let ended = if run.halted[p] {
                    "halted"
                } else if run.crashed[p] {
                    "crashed"
                } else if run.cut {
                    "still running (step limit)"
                } else {
                    "blocked"
                };
                (
                    run.outputs[p]
                        .iter()
                        .map(|(_, o)| format!("{o:?}"))
                        .collect(),
                    run.own_steps[p],
                    ended,
                )
            })
            .collect(),
        properties,
    }
}

/// Runs a catalog program once under a seeded interleaving.
pub fn simulate(entry: &ShmEntry, spec: &ShmSpec) -> Result<ShmSimReport, LabError> {
    let n = spec.n(entry)?;
    if let Some(&(p, _)) = spec.crashes.iter().find(|(p, _)| *p >= n) {
        return Err(LabError::new(format!(
            "--crash names process {p}, but there are {n} (0..{})",
            n - 1
        )));
    }
    Ok(match entry.kind {
        ShmKind::Consensus(via) => {
            let c = spec.consensus(via, n);
            let inputs = c.inputs.clone();
            simulate_program(entry.name, &c, spec, move |run| {
                let outs: Vec<Vec<u64>> = run
                    .outputs
                    .iter()
                    .map(|o| o.iter().map(|(_, v)| *v).collect())
                    .collect();
                let decided_all = (0..n).all(|p| run.crashed[p] || !outs[p].is_empty());
                vec![
                    Judged {
                        name: "agreement".into(),
                        violation: agreement(&outs).err(),
                    },
                    Judged {
                        name: "validity".into(),
                        violation: validity(&inputs, &outs).err(),
                    },
                    Judged {
                        name: "termination".into(),
                        violation: (!decided_all)
                            .then(|| "a correct process never decided in this run".to_string()),
                    },
                ]
            })
        }
        ShmKind::Register => {
            let prog = OnSharedMemory(spec.register(n));
            simulate_program(entry.name, &prog, spec, |run| {
                let h = shared_memory_history(run);
                vec![Judged {
                    name: "linearizable".into(),
                    violation: match linearizable(&h) {
                        Some(true) => None,
                        Some(false) => Some("the clients' history is not linearizable".into()),
                        None => Some("the linearizability check gave up".into()),
                    },
                }]
            })
        }
    })
}

/// The outcome of exploring every interleaving.
#[derive(Clone, Debug)]
pub struct ShmCheckReport {
    /// The entry's name.
    pub program: String,
    /// The model assumed.
    pub model: ModelHeader,
    /// Input vectors explored (consensus).
    pub input_vectors: Vec<Vec<u64>>,
    /// Distinct states, summed over input vectors.
    pub states: usize,
    /// Did every search complete?
    pub complete: bool,
    /// Violated safety properties: (property, what, schedule).
    pub violations: Vec<(String, String, Vec<String>)>,
    /// Per process: `Ok(bound)` if wait-free, else the stem and the loop.
    pub wait_freedom: Vec<Result<usize, Lasso>>,
}

/// A schedule that leads to a loop (both as printed steps): a process that never halts.
pub type Lasso = (Vec<String>, Vec<String>);

fn check_program<P: Program>(
    program: &P,
    props: &[ShmProperty<P>],
    spec: &ShmSpec,
    label: &str,
    out: &mut ShmCheckReport,
) {
    let r = explore(
        program,
        props,
        ShmOptions {
            max_states: spec.max_states,
            wait_freedom: true,
        },
    );
    out.states += r.states;
    out.complete &= r.complete;
    for v in &r.violations {
        if !out.violations.iter().any(|(p, _, _)| *p == v.property) {
            out.violations.push((
                v.property.clone(),
                format!("{label}{}", v.message),
                v.schedule.steps.iter().map(ToString::to_string).collect(),
            ));
        }
    }
    if out.wait_freedom.is_empty() {
        out.wait_freedom = vec![Ok(0); r.wait_freedom.len()];
    }
    for (p, w) in r.wait_freedom.iter().enumerate() {
        match (w, &mut out.wait_freedom[p]) {
            (WaitFreedom::WaitFree { bound }, Ok(b)) => *b = (*b).max(*bound),
            (WaitFreedom::Not { stem, cycle }, slot @ Ok(_)) => {
                *slot = Err((
                    stem.steps.iter().map(ToString::to_string).collect(),
                    cycle.steps.iter().map(ToString::to_string).collect(),
                ))
            }
            _ => {}
        }
    }
}

/// Explores every interleaving of a catalog program (for consensus: with the given inputs, or
/// with distinct inputs and every binary input vector).
pub fn check(entry: &ShmEntry, spec: &ShmSpec) -> Result<ShmCheckReport, LabError> {
    let n = spec.n(entry)?;
    let mut out = ShmCheckReport {
        program: entry.name.to_string(),
        model: ModelHeader::new()
            .with("communication", "shared memory (atomic objects)")
            .with("timing", "asynchronous (every interleaving)")
            .with(
                "failures",
                "crash-stop, any number (a crash is a process never scheduled again)",
            )
            .with("processes", n),
        input_vectors: Vec::new(),
        states: 0,
        complete: true,
        violations: Vec::new(),
        wait_freedom: Vec::new(),
    };
    match entry.kind {
        ShmKind::Consensus(via) => {
            let vectors: Vec<Vec<u64>> = match &spec.inputs {
                Some(v) => vec![v.clone()],
                None => {
                    let mut v: Vec<Vec<u64>> = vec![(0..n as u64).map(|p| 10 + p).collect()];
                    v.extend((0..1u64 << n).map(|bits| (0..n).map(|i| bits >> i & 1).collect()));
                    v
                }
            };
            for inputs in &vectors {
                let c = Consensus::new(via, inputs.clone());
                let ins = inputs.clone();
                let props = vec![
                    ShmProperty::always("agreement", |s: &ShmState<Consensus>| {
                        agreement(&s.outputs)
                    }),
                    ShmProperty::always("validity", move |s: &ShmState<Consensus>| {
                        validity(&ins, &s.outputs)
                    }),
                    ShmProperty::always("integrity", |s: &ShmState<Consensus>| {
                        integrity(&s.outputs)
                    }),
                ];
                check_program(&c, &props, spec, &format!("inputs {inputs:?}: "), &mut out);
            }
            out.input_vectors = vectors;
        }
        ShmKind::Register => {
            let prog = OnSharedMemory(spec.register(n));
            check_program(&prog, &[], spec, "", &mut out);
        }
    }
    Ok(out)
}

impl ShmSimReport {
    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "program": self.program,
            "model": self.model.fields().iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "steps": self.steps,
            "processes": self.processes.iter().enumerate().map(|(p, (outs, steps, ended))| json!({
                "process": p, "outputs": outs, "steps": steps, "ended": ended,
            })).collect::<Vec<_>>(),
            "properties": self.properties.iter().map(|j| json!({
                "name": j.name, "holds": j.violation.is_none(), "violation": j.violation,
            })).collect::<Vec<_>>(),
        })
    }
}

impl ShmCheckReport {
    /// True if no property is violated and every process is wait-free.
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.wait_freedom.iter().all(|w| w.is_ok()) && self.complete
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "program": self.program,
            "model": self.model.fields().iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "input_vectors": self.input_vectors,
            "states": self.states,
            "complete": self.complete,
            "violations": self.violations.iter().map(|(p, m, s)| json!({"property": p, "message": m, "schedule": s})).collect::<Vec<_>>(),
            "wait_free": self.wait_freedom.iter().enumerate().map(|(p, w)| match w {
                Ok(b) => json!({"process": p, "wait_free": true, "bound": b}),
                Err((stem, cycle)) => json!({"process": p, "wait_free": false, "stem": stem, "cycle": cycle}),
            }).collect::<Vec<_>>(),
        })
    }
}
