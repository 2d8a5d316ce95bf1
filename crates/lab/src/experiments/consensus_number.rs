//! `consensus-number`: Herlihy's consensus hierarchy, illustrated by exhaustive search.
//!
//! Herlihy (1991) ranks shared objects by the largest number of processes for which they solve
//! wait-free consensus (with read/write registers alongside): read/write registers 1;
//! test-and-set, fetch-and-add, queues 2; compare-and-swap ∞. For each object this experiment
//! takes the textbook protocol (`synod_protocols::shared_memory::consensus`) and explores every
//! interleaving of its processes for every input vector (`synod_check::shared_memory::explore`),
//! checking agreement and validity in every reachable state and deciding wait-freedom on the
//! state graph. It also searches a family of small read/write protocols for a 2-process one and
//! refutes every candidate.
//!
//! It *illustrates* the hierarchy and does not prove it: a search covers these protocols at
//! these sizes, while the theorem covers every protocol. Its value is the counterexamples: the
//! schedule in which the 3-process test-and-set protocol disagrees, the one in which the waiting
//! read/write protocol spins for ever.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::LabError;
use serde_json::json;
use synod_check::shared_memory::{
    explore, ShmOptions, ShmProperty, ShmReport, ShmState, WaitFreedom,
};
use synod_core::shared_memory::Program;
use synod_core::ModelHeader;
use synod_protocols::shared_memory::{agreement, integrity, validity, Consensus, RwProtocol, Via};

/// What the search found for one protocol over all its input vectors.
struct Outcome {
    states: usize,
    agreement: Result<(), String>,
    validity: Result<(), String>,
    /// `Ok(bound)` if every process is wait-free, else the lasso as text.
    wait_free: Result<usize, String>,
}

/// A schedule on one line.
fn schedule_text<P: Program>(steps: &[synod_core::shared_memory::StepOf<P>]) -> String {
    steps
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn consensus_properties<P>(inputs: Vec<u64>) -> Vec<ShmProperty<P>>
where
    P: Program<Output = u64>,
{
    vec![
        ShmProperty::always("agreement", |s: &ShmState<P>| agreement(&s.outputs)),
        ShmProperty::always("validity", move |s: &ShmState<P>| {
            validity(&inputs, &s.outputs)
        }),
        ShmProperty::always("integrity", |s: &ShmState<P>| integrity(&s.outputs)),
    ]
}

/// Explores `make(inputs)` for every input vector, folding the verdicts (the first violation
/// found, in input order, is kept).
fn search<P, F>(n: usize, vectors: &[Vec<u64>], make: F) -> Outcome
where
    P: Program<Output = u64>,
    F: Fn(&[u64]) -> P,
{
    let mut out = Outcome {
        states: 0,
        agreement: Ok(()),
        validity: Ok(()),
        wait_free: Ok(0),
    };
    for inputs in vectors {
        let program = make(inputs);
        assert_eq!(program.processes(), n);
        let report: ShmReport<P> = explore(
            &program,
            &consensus_properties(inputs.clone()),
            ShmOptions::default(),
        );
        assert!(
            report.complete,
            "consensus protocols have small state spaces"
        );
        out.states += report.states;
        for v in &report.violations {
            let text = format!(
                "inputs {inputs:?}: {} after [{}]",
                v.message,
                schedule_text::<P>(&v.schedule.steps)
            );
            let slot = match v.property.as_str() {
                "agreement" => &mut out.agreement,
                _ => &mut out.validity,
            };
            if slot.is_ok() {
                *slot = Err(text);
            }
        }
        for (p, w) in report.wait_freedom.iter().enumerate() {
            match (w, &mut out.wait_free) {
                (WaitFreedom::WaitFree { bound }, Ok(b)) => *b = (*b).max(*bound),
                (WaitFreedom::Not { stem, cycle }, slot @ Ok(_)) => {
                    *slot = Err(format!(
                        "inputs {inputs:?}: p{p} never decides: [{}] then for ever [{}]",
                        schedule_text::<P>(&stem.steps),
                        schedule_text::<P>(&cycle.steps)
                    ))
                }
                _ => {}
            }
        }
    }
    out
}

/// Every binary input vector of length n, and one with distinct inputs.
pub fn input_vectors(n: usize) -> Vec<Vec<u64>> {
    let mut v: Vec<Vec<u64>> = (0..1u64 << n)
        .map(|bits| (0..n).map(|i| bits >> i & 1).collect())
        .collect();
    v.push((0..n as u64).map(|i| 10 + i).collect());
    v
}

fn mark(r: &Result<impl Sized, String>) -> &'static str {
    if r.is_ok() {
        "ok"
    } else {
        "VIOLATION"
    }
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let cas_max = if opts.quick { 4 } else { 5 };
    let depth = 2;
    // (object row, n, protocol, expected to solve)
    let mut cases: Vec<(Via, usize, bool)> = vec![
        (Via::ReadWriteMin, 2, false),
        (Via::ReadWriteWait, 2, false),
        (Via::TestAndSet, 2, true),
        (Via::TestAndSet, 3, false),
        (Via::FetchAndAdd, 2, true),
        (Via::FetchAndAdd, 3, false),
        (Via::Queue, 2, true),
        (Via::Queue, 3, false),
    ];
    for n in 2..=cas_max {
        cases.push((Via::CompareAndSwap, n, true));
    }
    progress.set_total(cases.len() as u64 + 1);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut ok = true;

    // the read/write family: every candidate must fail
    let family = RwProtocol::family(depth);
    let mut refuted = 0usize;
    let mut family_states = 0usize;
    let binary: Vec<[u64; 2]> = vec![[0, 0], [0, 1], [1, 0], [1, 1]];
    for c in &family {
        let vectors: Vec<Vec<u64>> = binary.iter().map(|v| v.to_vec()).collect();
        let o = search(2, &vectors, |inp: &[u64]| c.with_inputs([inp[0], inp[1]]));
        family_states += o.states;
        if o.agreement.is_err() || o.validity.is_err() || o.wait_free.is_err() {
            refuted += 1;
        }
    }
    let none_found = refuted == family.len();
    ok &= none_found;
    rows.push(vec![
        json!("rw-register"),
        json!("2"),
        json!(format!("any of {} shapes ≤ {depth} steps", family.len())),
        json!(family_states),
        json!("-"),
        json!("yes (straight-line)"),
        json!(if none_found {
            "no protocol found (consistent with CN=1)".to_string()
        } else {
            format!("UNEXPECTED: {} candidates solve it", family.len() - refuted)
        }),
    ]);
    notes.push(format!(
        "rw-register search: {} candidate protocols (both processes run the same straight-line program of at most {depth} steps, write-own-input or read-other, then decide by any validity-respecting table), each explored for inputs 00, 01, 10, 11: {refuted} refuted by a schedule",
        family.len()
    ));
    progress.advance(1);

    let mut cas_states = 0usize;
    let mut cas_ok = true;
    for (via, n, solves) in cases {
        let o = search(n, &input_vectors(n), |inp: &[u64]| {
            Consensus::new(via, inp.to_vec())
        });
        let solved = o.agreement.is_ok() && o.validity.is_ok() && o.wait_free.is_ok();
        let expected = solved == solves;
        ok &= expected;
        let cn = match via {
            Via::ReadWriteMin | Via::ReadWriteWait => "CN=1",
            Via::CompareAndSwap => "CN=∞",
            _ => "CN=2",
        };
        let verdict = match (solved, expected) {
            (true, true) => format!("solves ({cn})"),
            (false, true) => format!("fails (consistent with {cn})"),
            (true, false) => "UNEXPECTED: solves".to_string(),
            (false, false) => "UNEXPECTED: fails".to_string(),
        };
        if via == Via::CompareAndSwap {
            cas_states += o.states;
            cas_ok &= solved;
        }
        let wait_free = match &o.wait_free {
            Ok(b) => format!("ok (≤ {b} steps)"),
            Err(_) => "NO".to_string(),
        };
        for r in [&o.agreement, &o.validity, &o.wait_free.clone().map(|_| ())] {
            if let Err(e) = r {
                notes.push(format!("{} n={n} {}: {e}", via.object(), via.protocol()));
                break;
            }
        }
        rows.push(vec![
            json!(via.object()),
            json!(n.to_string()),
            json!(via.protocol()),
            json!(o.states),
            json!(mark(&o.agreement)),
            json!(wait_free),
            json!(verdict),
        ]);
        progress.advance(1);
    }
    let model = ModelHeader::new()
        .with(
            "communication",
            "shared memory (atomic objects + single-writer registers)",
        )
        .with("timing", "asynchronous (every interleaving explored)")
        .with("failures", "crash-stop, any number (wait-freedom)")
        .with("inputs", "every binary vector and one with distinct values")
        .with(
            "search",
            "exhaustive breadth-first, wait-freedom by cycle detection on the state graph",
        );
    Ok(ExperimentReport {
        id: "consensus-number".into(),
        title: "Consensus numbers: which objects solve wait-free consensus for how many processes".into(),
        model,
        columns: columns(&[
            ("object", "object"),
            ("n", "n"),
            ("protocol", "protocol"),
            ("states", "states"),
            ("agreement", "agreement"),
            ("wait_free", "wait-free"),
            ("verdict", "verdict"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "illustrates Herlihy's hierarchy (bounded search, not a proof): no read/write protocol among {} candidates solves 2-process consensus; test-and-set, fetch-and-add and queues solve it for 2 processes and their natural 3-process extensions disagree; compare-and-swap solves it for n = 2..{cas_max} ({cas_states} states, {})",
                family.len(),
                if cas_ok { "no violation" } else { "VIOLATED" }
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Herlihy, 'Wait-free synchronization' (TOPLAS 1991); Herlihy & Shavit ch. 5; Attiya & Welch ch. 15; Lynch ch. 12 (no consensus with read/write registers); Loui & Abu-Amara 1987".into(),
        notes,
        figures: vec![],
    })
}
