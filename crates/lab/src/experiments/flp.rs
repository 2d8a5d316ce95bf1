//! `flp`: the Fischer-Lynch-Paterson construction, executed.
//!
//! FLP (1985): no deterministic protocol solves binary consensus in an asynchronous system with
//! reliable links if one process may crash. The proof has two steps, both about *valence*: the
//! set of decisions still reachable from a configuration. (1) Some initial configuration is
//! *bivalent* (both 0 and 1 are still reachable). (2) From a bivalent configuration, any pending
//! event e can be taken, after some finite schedule not containing e, so that the result is
//! bivalent again. Taking the oldest pending event each time builds a *fair* run (every message
//! is delivered, every process keeps stepping) in which every configuration is bivalent: nobody
//! ever decides.
//!
//! Here the protocol is [`RetryPaxos`] (single-decree Paxos on input bits, every process
//! proposing and retrying, no oracle), always safe and tolerant of one crash among three, and the
//! model checker's successor function is the system. Valence is computed by a bounded search
//! (ballots at most one round beyond the configuration's, a cap on states): a value found
//! reachable really is reachable, so "bivalent" claims are sound; a configuration the bounded
//! search calls univalent might not be, which only makes the adversary's job harder.
//!
//! The run is built as in the proof: keep the pending events (messages in flight, pending
//! timers) in the order they became pending; take the oldest, e; search for a short schedule σ
//! of other events such that e after σ is bivalent; append σ and e. The same model is then checked
//! exhaustively (within a ballot bound) for agreement and validity: safety never fails.

use crate::experiment::{
    columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Figure, Progress,
};
use crate::LabError;
use serde_json::json;
use std::collections::BTreeMap;
use synod_check::{
    check, path_trace, Boundary, CheckOptions, CheckProperty, CheckState, Model, PathStep, Step,
};
use synod_core::{stable_hash, ModelHeader};
use synod_protocols::consensus::retry_paxos::{self, RetryPaxos};

const N: usize = 3;
/// Longest schedule σ tried before the oldest event.
const MAX_DETOUR: usize = 4;

fn model(inputs: &[u8]) -> Model<RetryPaxos> {
    let mut m = Model::new(RetryPaxos::new(inputs.to_vec()), N);
    // Every message can be delivered, even one its receiver ignores: fairness is about delivery.
    m.prune_ignored = false;
    m
}

fn states(s: &CheckState<RetryPaxos>) -> Vec<Option<&retry_paxos::RetryState>> {
    s.node_states()
}

/// Which values are reachable from `s` (bit 0: 0, bit 1: 1). For each live, undecided process
/// p and each majority Q containing p, a *solo schedule* is executed: p's retry timer fires, its
/// Prepare reaches Q, Q's promises reach p, p's Accept reaches Q and their acceptances reach p,
/// and p decides whatever value the promises force (or its input). Every schedule is a real
/// execution, so a value found is reachable: bivalence is never overstated.
struct Valence<'m> {
    model: &'m Model<RetryPaxos>,
    memo: BTreeMap<u64, u8>,
}

/// The successor of `s` whose step matches `want`, if any.
fn take(
    model: &Model<RetryPaxos>,
    s: &CheckState<RetryPaxos>,
    want: impl Fn(&Step<RetryPaxos>) -> bool,
) -> Option<CheckState<RetryPaxos>> {
    let mut succ = Vec::new();
    model.successors(s, &mut succ);
    succ.into_iter().find(|x| want(&x.step)).map(|x| x.state)
}

impl Valence<'_> {
    fn of(&mut self, s: &CheckState<RetryPaxos>) -> u8 {
        let key = s.fingerprint();
        if let Some(&v) = self.memo.get(&key) {
            return v;
        }
        let mut found = 0u8;
        for d in retry_paxos::decisions(&states(s)) {
            found |= 1 << d;
        }
        for p in 0..N {
            for other in 0..(1usize << N) {
                let q: Vec<usize> = (0..N)
                    .filter(|&i| i == p || other & (1 << i) != 0)
                    .collect();
                if other & (1 << p) != 0 || q.len() < N / 2 + 1 {
                    continue;
                }
                if let Some(v) = self.solo(s, p, &q) {
                    found |= 1 << v;
                }
            }
        }
        self.memo.insert(key, found);
        found
    }

    fn solo(&self, s: &CheckState<RetryPaxos>, p: usize, q: &[usize]) -> Option<u8> {
        use retry_paxos::RetryMsg;
        use synod_core::NodeId;
        let m = self.model;
        let pid = NodeId(p as u32);
        let mut x = take(
            m,
            s,
            |st| matches!(st, Step::Timer { node, .. } if *node == pid),
        )?;
        let b = x.nodes[p].state.as_ref()?.ballot?;
        let others: Vec<NodeId> = q
            .iter()
            .filter(|&&i| i != p)
            .map(|&i| NodeId(i as u32))
            .collect();
        for &r in &others {
            x = take(
                m,
                &x,
                |st| matches!(st, Step::Deliver { from, to, msg: RetryMsg::Prepare(c) } if *from == pid && *to == r && *c == b),
            )?;
        }
        for &r in &others {
            x = take(
                m,
                &x,
                |st| matches!(st, Step::Deliver { from, to, msg: RetryMsg::Promise(c, _) } if *from == r && *to == pid && *c == b),
            )?;
        }
        let v = x.nodes[p].state.as_ref()?.value?;
        for &r in &others {
            x = take(
                m,
                &x,
                |st| matches!(st, Step::Deliver { from, to, msg: RetryMsg::Accept(c, _) } if *from == pid && *to == r && *c == b),
            )?;
        }
        for &r in &others {
            x = take(
                m,
                &x,
                |st| matches!(st, Step::Deliver { from, to, msg: RetryMsg::Accepted(c) } if *from == r && *to == pid && *c == b),
            )?;
        }
        (x.nodes[p].state.as_ref()?.decided == Some(v)).then_some(v)
    }
}

fn valence_name(v: u8) -> &'static str {
    match v {
        1 => "0-valent (only 0 found)",
        2 => "1-valent (only 1 found)",
        3 => "bivalent",
        _ => "undetermined",
    }
}

/// The identity of a pending event: a message in flight or a pending timer.
fn event_of(step: &Step<RetryPaxos>) -> Option<u64> {
    match step {
        Step::Deliver { from, to, msg } => Some(stable_hash(&(0u8, from, to, msg))),
        Step::Timer { node, .. } => Some(stable_hash(&(1u8, node))),
        _ => None,
    }
}

/// Events pending in `s` (messages in flight, timers), each with a multiplicity.
fn pending(s: &CheckState<RetryPaxos>) -> Vec<u64> {
    let mut out: Vec<u64> = s
        .in_flight()
        .map(|e| stable_hash(&(0u8, e.from, e.to, e.msg)))
        .collect();
    for (i, n) in s.nodes.iter().enumerate() {
        if !n.timers.is_empty() {
            out.push(stable_hash(&(1u8, synod_core::NodeId(i as u32))));
        }
    }
    out
}

struct Run {
    path: Vec<PathStep<RetryPaxos>>,
    /// For each delivered or fired event, how many steps it waited after becoming pending.
    waits: Vec<usize>,
    all_bivalent: bool,
    steps_by_process: [usize; N],
    max_round: u32,
}

/// Builds a fair run of `len` steps from the bivalent initial state `init`, every
/// configuration bivalent.
fn flp_run(model: &Model<RetryPaxos>, init: CheckState<RetryPaxos>, len: usize) -> Option<Run> {
    let mut val = Valence {
        model,
        memo: BTreeMap::new(),
    };
    let mut path = vec![PathStep {
        step: Step::Init,
        choices: Vec::new(),
        index: 0,
        state: init.clone(),
    }];
    // Pending events, oldest first, with the step they became pending at.
    let mut queue: Vec<(u64, usize)> = pending(&init).into_iter().map(|e| (e, 0)).collect();
    let mut waits = Vec::new();
    let mut steps_by_process = [0usize; N];
    let mut succ = Vec::new();
    while path.len() <= len {
        let here = path.last().expect("non-empty").state.clone();
        let (oldest, _) = *queue.first()?;
        // Breadth-first over short schedules σ avoiding `oldest`, then `oldest` itself.
        let mut frontier: Vec<Vec<PathStep<RetryPaxos>>> = vec![Vec::new()];
        let mut chosen: Option<Vec<PathStep<RetryPaxos>>> = None;
        'search: for _ in 0..=MAX_DETOUR {
            let mut next = Vec::new();
            for sigma in &frontier {
                let at = sigma.last().map_or(&here, |p| &p.state);
                succ.clear();
                model.successors(at, &mut succ);
                for (idx, x) in succ.iter().enumerate() {
                    let mut ext = sigma.clone();
                    ext.push(PathStep {
                        step: x.step.clone(),
                        choices: x.choices.clone(),
                        index: idx,
                        state: x.state.clone(),
                    });
                    if val.of(&x.state) != 3 {
                        continue;
                    }
                    if event_of(&x.step) == Some(oldest) {
                        chosen = Some(ext);
                        break 'search;
                    }
                    next.push(ext);
                }
            }
            frontier = next;
            frontier.truncate(64);
        }
        let ext = chosen?;
        for p in ext {
            let before = pending(&path.last().expect("non-empty").state);
            if let Some(e) = event_of(&p.step) {
                if let Some(k) = queue.iter().position(|(q, _)| *q == e) {
                    waits.push(path.len() - queue[k].1);
                    queue.remove(k);
                }
            }
            match &p.step {
                Step::Deliver { to, .. } => steps_by_process[to.index()] += 1,
                Step::Timer { node, .. } => steps_by_process[node.index()] += 1,
                _ => {}
            }
            // Newly pending events join the back of the queue.
            let mut old: BTreeMap<u64, usize> = BTreeMap::new();
            for e in before {
                *old.entry(e).or_default() += 1;
            }
            let mut now: BTreeMap<u64, usize> = BTreeMap::new();
            for e in pending(&p.state) {
                *now.entry(e).or_default() += 1;
            }
            for (e, c) in now {
                let had = old.get(&e).copied().unwrap_or(0)
                    - usize::from(event_of(&p.step) == Some(e) && old.contains_key(&e));
                for _ in had..c {
                    queue.push((e, path.len() + 1));
                }
            }
            path.push(p);
        }
    }
    let all_bivalent = path.iter().all(|p| val.of(&p.state) == 3);
    let max_round = retry_paxos::max_round(&states(&path.last().expect("non-empty").state));
    Some(Run {
        path,
        waits,
        all_bivalent,
        steps_by_process,
        max_round,
    })
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let len = if opts.quick { 30 } else { 50 };
    progress.set_total(10);
    // (1) The valence of every initial configuration.
    let mut rows = Vec::new();
    let mut bivalent_init = None;
    for bits in 0..(1u8 << N) {
        let inputs: Vec<u8> = (0..N).map(|i| (bits >> i) & 1).collect();
        let m = model(&inputs);
        let init = m.initial_states().remove(0);
        let v = Valence {
            model: &m,
            memo: BTreeMap::new(),
        }
        .of(&init);
        if v == 3 && bivalent_init.is_none() {
            bivalent_init = Some(inputs.clone());
        }
        rows.push(vec![
            json!(format!("{inputs:?}")),
            json!(valence_name(v)),
            json!(null),
        ]);
        progress.advance(1);
    }
    let inputs = bivalent_init.ok_or_else(|| LabError::new("no bivalent initial configuration"))?;
    // (2) The fair, forever-bivalent run.
    let m = model(&inputs);
    let init = m.initial_states().remove(0);
    let run = flp_run(&m, init, len);
    progress.advance(1);
    // (3) Safety: agreement and validity in every state within a ballot bound.
    let mut safety = model(&inputs);
    let inputs_for = inputs.clone();
    safety = safety
        .property(CheckProperty::always(
            "agreement",
            |_, s: &CheckState<RetryPaxos>| retry_paxos::agreement(&s.node_states()),
        ))
        .property(CheckProperty::always(
            "validity",
            move |_, s: &CheckState<RetryPaxos>| {
                retry_paxos::validity(&s.node_states(), &inputs_for)
            },
        ))
        .property(CheckProperty::sometimes(
            "a process decides",
            |_, s: &CheckState<RetryPaxos>| !retry_paxos::decisions(&s.node_states()).is_empty(),
        ));
    safety.prune_ignored = true;
    safety.max_crashes = 1;
    safety.boundary = Some(Boundary::new(
        "ballot rounds <= 2",
        |s: &CheckState<RetryPaxos>| retry_paxos::max_round(&s.node_states()) <= 2,
    ));
    let checked = check(
        &safety,
        &CheckOptions {
            threads: 1,
            ..Default::default()
        },
        &mut |_| {},
    );
    progress.advance(9);
    let safe = checked.complete && checked.violations.is_empty();
    let decides = !checked.discoveries.is_empty();
    let mut figures = Vec::new();
    let mut notes = vec![
        "valence: the decisions reached by solo schedules (one process retries, a majority answers it promptly, it decides); each is a real execution, so bivalence is never overstated".into(),
        format!(
            "safety check: {} unique states with up to 1 crash and ballot rounds <= 2, complete: {}, violations: {}, a process decides in some run: {}",
            checked.unique_states,
            checked.complete,
            checked.violations.len(),
            decides
        ),
    ];
    let ok_run = match &run {
        Some(r) => {
            let max_wait = r.waits.iter().copied().max().unwrap_or(0);
            let undecided = r
                .path
                .iter()
                .all(|p| retry_paxos::decisions(&p.state.node_states()).is_empty());
            rows.push(vec![
                json!(format!("{inputs:?} + fair run of {} steps", r.path.len() - 1)),
                json!(if r.all_bivalent { "bivalent throughout" } else { "NOT bivalent throughout" }),
                json!(format!(
                    "steps per process {:?}; longest wait of an event {} steps; ballot round reached {}",
                    r.steps_by_process, max_wait, r.max_round
                )),
            ]);
            let trace = path_trace(&m, &r.path);
            figures.push(Figure {
                caption: format!(
                    "a fair run of {} steps from inputs {inputs:?} in which every configuration is bivalent",
                    r.path.len() - 1
                ),
                svg: synod_viz::lamport::lamport_svg(
                    &trace,
                    &synod_viz::lamport::DiagramOptions {
                        title: "FLP: a fair run that never decides (RetryPaxos, n=3)".into(),
                        ..Default::default()
                    },
                ),
            });
            notes.push(format!(
                "the run: {}",
                r.path
                    .iter()
                    .skip(1)
                    .map(|p| p.step.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            r.all_bivalent && undecided && r.steps_by_process.iter().all(|&k| k > 0)
        }
        None => {
            rows.push(vec![
                json!(format!("{inputs:?} + fair run")),
                json!("not found"),
                json!(null),
            ]);
            false
        }
    };
    let ok = ok_run && safe && decides && rows[0][1] == valence_name(1);
    let model_header = ModelHeader::new()
        .with(
            "timing",
            "asynchronous (every interleaving; timers fire in any order)",
        )
        .with("failures", "crash-stop (up to 1, in the safety check)")
        .with("links", "reliable (every message eventually delivered)")
        .with("protocol", "retry-paxos (binary, no leader oracle)")
        .with("n", N)
        .with("run_length", len);
    Ok(ExperimentReport {
        id: "flp".into(),
        title: "FLP: a bivalent initial configuration and a fair run that stays bivalent for ever".into(),
        model: model_header,
        columns: columns(&[
            ("configuration", "configuration"),
            ("valence", "valence"),
            ("detail", "detail"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "no deterministic asynchronous protocol tolerating one crash always decides: a bivalent initial configuration exists, and a fair run of {len} steps keeps every configuration bivalent (nobody decides), while agreement and validity hold in every explored state"
            ),
            verdict: if ok {
                ClaimVerdict::Holds
            } else {
                ClaimVerdict::Unexpected
            },
        },
        read: "Fischer, Lynch & Paterson, JACM 1985 (lemmas 2 and 3); Lynch ch. 12 (shared memory) and ch. 21 (networks); Attiya & Welch ch. 5; Aguilera 2010, \"Stumbling over consensus research\"".into(),
        notes,
        figures,
    })
}
