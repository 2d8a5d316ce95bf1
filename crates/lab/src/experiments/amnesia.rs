//! `amnesia`: Paxos under crash-recovery, with and without stable storage.
//!
//! The single-decree Paxos register ([`PaxosRegister`]) is model-checked exhaustively (the
//! general checker, `synod_check::check`, on the `synod check paxos` model: 3 servers, 2 clients
//! each writing once then reading, linearizability and agreement) with one crash and crashed
//! servers allowed to recover ([`synod_check::Model::recoveries`]), two ways:
//! [`PaxosRegister::durable`] persists the acceptor's promise and accepted proposal before any
//! message reveals them and restores them on recovery; the canary [`PaxosRegister::amnesiac`]
//! persists nothing and restarts from scratch. Theory: the durable register stays safe, the
//! amnesiac one chooses two values (a server that accepted the chosen value forgets it, and a
//! later proposer's majority of promises reports nothing). The crash-stop register with one
//! crash and no recovery is the baseline. Each counterexample found is replayed by its successor
//! indices ([`synod_check::replay`]) to confirm it.

use crate::checks::paxos_check_model;
use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::LabError;
use serde_json::{json, Value as Json};
use synod_check::{check, indices, replay, CheckOptions, CheckResult, Expectation, Model};
use synod_core::ModelHeader;
use synod_protocols::consensus::paxos::Storage;
use synod_protocols::consensus::PaxosRegister;

/// Servers in the model.
pub const NODES: usize = 3;
/// Clients in the model (client i writes i + 1 at server i, then reads there).
pub const CLIENTS: usize = 2;

/// One configuration of the experiment.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The register.
    pub protocol: PaxosRegister,
    /// The crash budget.
    pub crashes: u8,
    /// May crashed servers recover?
    pub recoveries: bool,
    /// Check agreement (false: only what clients see, linearizability).
    pub agreement: bool,
}

/// The configurations, in table order: the crash-stop baseline, the durable register, the
/// amnesiac one, and the amnesiac one judged by its clients alone.
pub fn configs() -> Vec<Config> {
    let c = |protocol, recoveries, agreement| Config {
        protocol,
        crashes: 1,
        recoveries,
        agreement,
    };
    vec![
        c(PaxosRegister::new(), false, true),
        c(PaxosRegister::durable(), true, true),
        c(PaxosRegister::amnesiac(), true, true),
        c(PaxosRegister::amnesiac(), true, false),
    ]
}

/// The check model of `cfg` (the `synod check paxos` model with its crash settings; without
/// agreement if `cfg.agreement` is false).
pub fn model(cfg: &Config) -> Result<Model<PaxosRegister>, LabError> {
    let mut m = paxos_check_model(cfg.protocol, NODES, CLIENTS, cfg.crashes, cfg.recoveries)?;
    if !cfg.agreement {
        m.properties.retain(|p| p.name != "agreement");
    }
    Ok(m)
}

/// Checks `m` exhaustively (breadth-first, so counterexamples are shortest).
pub fn explore(m: &Model<PaxosRegister>) -> CheckResult<PaxosRegister> {
    check(
        m,
        &CheckOptions {
            threads: 2,
            ..CheckOptions::default()
        },
        &mut |_| {},
    )
}

/// True if replaying the violation of `property` in `r` by its successor indices reaches a state
/// where the property fails.
pub fn replays(m: &Model<PaxosRegister>, r: &CheckResult<PaxosRegister>, property: &str) -> bool {
    let Some(f) = r.violations.iter().find(|f| f.property == property) else {
        return false;
    };
    let Some(p) = m.properties.iter().find(|p| p.name == property) else {
        return false;
    };
    match replay(m, &indices(&f.path)) {
        Ok(steps) => steps
            .last()
            .is_some_and(|s| p.expectation == Expectation::Always && !p.holds(m, &s.state)),
        Err(_) => false,
    }
}

/// The violations of `r`, as `property (k actions)`, or `none`.
fn violations(r: &CheckResult<PaxosRegister>) -> String {
    if r.violations.is_empty() {
        return "none".into();
    }
    r.violations
        .iter()
        .map(|f| {
            format!(
                "{} {} ({} actions)",
                f.expectation.name(),
                f.property,
                f.path.len().saturating_sub(1)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the experiment.
pub fn run(_opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let plan = configs();
    progress.set_total(plan.len() as u64);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for cfg in &plan {
        let m = model(cfg)?;
        let r = explore(&m);
        let replayed: Vec<bool> = r
            .violations
            .iter()
            .map(|f| replays(&m, &r, f.property))
            .collect();
        rows.push(vec![
            json!(cfg.protocol.storage.name()),
            json!(match cfg.protocol.storage {
                Storage::Durable => "promise + accepted",
                Storage::CrashStop | Storage::Amnesiac => "nothing",
            }),
            json!(cfg.crashes),
            json!(cfg.recoveries),
            json!(if cfg.agreement {
                "linearizable, agreement"
            } else {
                "linearizable"
            }),
            json!(r.unique_states),
            json!(r.total_states),
            json!(r.complete),
            json!(violations(&r)),
            if r.violations.is_empty() {
                Json::Null
            } else {
                json!(replayed.iter().all(|&b| b))
            },
        ]);
        results.push((cfg, m, r, replayed));
        progress.advance(1);
    }
    let safe = |r: &CheckResult<PaxosRegister>| r.complete && r.violations.is_empty();
    let caught = |r: &CheckResult<PaxosRegister>, replayed: &[bool], property: &str| {
        r.violations.iter().any(|f| f.property == property) && replayed.iter().all(|&b| b)
    };
    let (baseline, durable, amnesiac, clients) =
        (&results[0], &results[1], &results[2], &results[3]);
    let ok = safe(&baseline.2)
        && safe(&durable.2)
        && caught(&amnesiac.2, &amnesiac.3, "agreement")
        && caught(&clients.2, &clients.3, "linearizable");
    let path = |r: &CheckResult<PaxosRegister>, property: &str| -> String {
        r.violations
            .iter()
            .find(|f| f.property == property)
            .map(|f| {
                f.path
                    .iter()
                    .skip(1)
                    .map(|s| s.step.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_else(|| "none".into())
    };
    let model = ModelHeader::new()
        .with("protocol", "paxos (single-decree write-once register)")
        .with(
            "timing",
            "asynchronous (every interleaving; the general model checker)",
        )
        .with(
            "failures",
            "crash-recovery (up to 1 crash, then any number of recoveries); crash-stop baseline",
        )
        .with("links", "unordered, reliable")
        .with("n", NODES)
        .with(
            "clients",
            format!("{CLIENTS} (client i writes i+1 at n_i, then reads there)"),
        );
    Ok(ExperimentReport {
        id: "amnesia".into(),
        title: "Paxos under crash-recovery: an acceptor that forgets its promise breaks agreement; one that persists it stays safe".into(),
        model,
        columns: columns(&[
            ("variant", "variant"),
            ("persists", "persists"),
            ("crashes", "crashes"),
            ("recoveries", "recoveries"),
            ("properties", "properties"),
            ("unique_states", "unique states"),
            ("total_states", "total states"),
            ("complete", "complete"),
            ("violation", "violation"),
            ("replayed", "replayed"),
        ]),
        rows,
        claim: Claim {
            text: "forgetting a promise on recovery breaks agreement; persisting it before replying keeps Paxos safe".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lamport, \"Paxos made simple\" 2001 (§2.2: an acceptor must remember its promise and what it accepted even if it fails and restarts; §2.5: stable storage, written before the response is sent); CGR ch. 5 (logged consensus: the crash-recovery model, store before you reply); Chandra, Griesemer & Redstone, \"Paxos made live\" 2007 (disk corruption: a replica that lost its state must not vote until it has rebuilt it)".into(),
        notes: vec![
            "durable: every change to the promise or the accepted proposal is persisted (Effect::Persist) before the Promise, Accept or Accepted that reveals it, and a proposer persists its new ballot before its Prepares; recover restores both. amnesiac: persists nothing, recovers as a fresh server. The crash-stop register persists nothing either: under recoveries it is the amnesiac".into(),
            "the search is breadth-first and stops at a violation, so a violating row is incomplete and its counterexample shortest; actions = steps after the initial state; replayed = the path re-executed by its successor indices (synod_check::replay) ends in a state violating the property".into(),
            format!("amnesiac, agreement: {}", path(&amnesiac.2, "agreement")),
            format!("amnesiac, clients only: {}", path(&clients.2, "linearizable")),
        ],
        figures: vec![],
    })
}
