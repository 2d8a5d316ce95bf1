//! `synod lin FILE`: check a recorded client history (Jepsen EDN, Jepsen log, synod JSON)
//! against a model and a consistency level.
//!
//! The checker itself is deterministic and clock-free (`synod-consistency`); this shell reads
//! the file, turns `--budget` into a cancellation flag set by a timer thread, measures the
//! elapsed time, and prints text or one JSON document.

use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use synod_consistency::format::{self, Format, Recorded};
use synod_consistency::models::{check_recorded, CheckOptions, Consistency, Model, Report};
use synod_consistency::Budget;
use synod_lab::LabError;

/// Arguments of `synod lin`.
#[derive(Args)]
pub struct LinArgs {
    /// The history file (Jepsen EDN, Jepsen text log, or synod JSON; detected from the
    /// content unless --format says).
    pub file: PathBuf,
    /// The object: cas-register, register, kv, set, queue, counter, list.
    #[arg(long, default_value = "cas-register")]
    pub model: String,
    /// What to check: linearizable or sequential (against --model); or one of the workload
    /// checkers, which need no model: set-full (lost, stale, never-read elements of a set),
    /// set-full-linearizable (stale reads are errors too), counter-bounds, session
    /// (read-your-writes, monotonic reads and writes, writes-follow-reads), register-semantics
    /// (Lamport's safe / regular / atomic levels of a read/write register history with unique
    /// written values, and its new/old inversions), causal, causal-memory, causal-convergence
    /// (CC / CM / CCv by Bouajjani et al.'s bad patterns; read/write histories with unique
    /// values per key).
    #[arg(long, default_value = "linearizable")]
    pub consistency: String,
    /// Give up after this long and answer "unknown" with partial results (e.g. 10s, 500ms, 2m).
    #[arg(long)]
    pub budget: Option<String>,
    /// Threads for checking the keys of a kv history in parallel (default: all cores). The
    /// verdict and the reported key do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// The file format: edn, jepsen-log, json (default: detect).
    #[arg(long)]
    pub format: Option<String>,
    /// Write an HTML timeline of the history (violations highlighted) to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Parses a duration such as `10s`, `500ms`, `2m`, `1.5s`.
pub fn parse_budget(text: &str) -> Result<std::time::Duration, LabError> {
    let bad = || {
        LabError::new(format!(
            "--budget {text:?} is not a duration; write e.g. 10s, 500ms or 2m"
        ))
    };
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Reads and parses a history file, with the file name in every error.
pub fn read_history(path: &PathBuf, fmt: Option<&str>) -> Result<(Recorded, Format), LabError> {
    let format = match fmt {
        None => None,
        Some(name) => Some(
            [Format::Edn, Format::JepsenLog, Format::Json]
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    LabError::new(format!(
                        "unknown --format {name:?}; use edn, jepsen-log or json"
                    ))
                })?,
        ),
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::new(format!("cannot read {}: {e}", path.display())))?;
    format::parse(&text, format).map_err(|e| LabError::new(format!("{}: {e}", path.display())))
}

/// Runs `synod lin`.
pub fn cmd_lin(a: LinArgs) -> Result<ExitCode, LabError> {
    let model = Model::from_name(&a.model).ok_or_else(|| {
        let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
        LabError::new(format!(
            "unknown --model {:?}; use one of {}",
            a.model,
            names.join(", ")
        ))
    })?;
    if WORKLOAD_CHECKS.contains(&a.consistency.as_str()) {
        return cmd_workload_check(&a);
    }
    let consistency = Consistency::from_name(&a.consistency).ok_or_else(|| {
        LabError::new(format!(
            "unknown --consistency {:?}; use linearizable, sequential, {}",
            a.consistency,
            WORKLOAD_CHECKS.join(", ")
        ))
    })?;
    let budget = a.budget.as_deref().map(parse_budget).transpose()?;
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if threads == 0 {
        return Err(LabError::new("--threads must be at least 1"));
    }
    let started = std::time::Instant::now();
    let (recorded, format) = read_history(&a.file, a.format.as_deref())?;
    let cancel = Arc::new(AtomicBool::new(false));
    let options = CheckOptions {
        model,
        consistency,
        budget: Budget::unlimited().with_cancel(cancel.clone()),
        threads,
    };
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let timer = budget.map(|limit| {
        let cancel = cancel.clone();
        let left = limit.saturating_sub(started.elapsed());
        std::thread::spawn(move || {
            if done_rx.recv_timeout(left).is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    });
    let report = check_recorded(&recorded, &options);
    drop(done_tx);
    if let Some(t) = timer {
        let _ = t.join();
    }
    let report = report.map_err(|e| LabError::new(format!("{}: {e}", a.file.display())))?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if let Some(out) = &a.html {
        let html = synod_consistency::timeline::html(&recorded, &report);
        std::fs::write(out, html)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", out.display())))?;
    }
    if a.json {
        print_report_json(&report, format, elapsed_ms, budget);
    } else {
        print_report_text(&a, &report, format, elapsed_ms, budget);
    }
    Ok(match report.valid {
        Some(true) => ExitCode::SUCCESS,
        Some(false) => ExitCode::from(1),
        None => ExitCode::from(3),
    })
}

fn print_report_json(
    report: &Report,
    format: Format,
    elapsed_ms: u64,
    budget: Option<std::time::Duration>,
) {
    let valid = match report.valid {
        Some(b) => json!(b),
        None => json!("unknown"),
    };
    crate::print_json(&json!({
        "valid": valid,
        "model": report.model.name(),
        "consistency": report.consistency.name(),
        "format": format.name(),
        "ops": report.ops,
        "failed_ops": report.failed_ops,
        "unknown_ops": report.unknown_ops,
        "parts": report.parts,
        "anomalies": report.anomalies,
        "order": report.order,
        "steps": report.steps,
        "configurations": report.configurations,
        "budget_ms": budget.map(|b| b.as_millis() as u64),
        "elapsed_ms": elapsed_ms,
    }));
}

fn print_report_text(
    a: &LinArgs,
    report: &Report,
    format: Format,
    elapsed_ms: u64,
    budget: Option<std::time::Duration>,
) {
    println!(
        "history: {} ({}, {} operations: {} failed, {} unknown outcome{})",
        a.file.display(),
        format.name(),
        report.ops,
        report.failed_ops,
        report.unknown_ops,
        if report.parts > 1 {
            format!(", {} keys", report.parts)
        } else {
            String::new()
        }
    );
    println!(
        "model: {} | consistency: {}",
        report.model.name(),
        report.consistency.name()
    );
    match report.valid {
        Some(true) => println!(
            "verdict: {} ({} steps, {} ms)",
            report.consistency.name(),
            report.steps,
            elapsed_ms
        ),
        Some(false) => {
            println!(
                "verdict: NOT {} ({} steps, {} ms)",
                report.consistency.name(),
                report.steps,
                elapsed_ms
            );
            for anomaly in &report.anomalies {
                println!("  {}", anomaly.explanation);
                for (op, expected) in anomaly.ops.iter().zip(&anomaly.expected) {
                    println!(
                        "    line {:>6}  process {:>3}  {}   (model: {expected})",
                        op.line, op.process, op.text
                    );
                }
            }
        }
        None => println!(
            "verdict: unknown: the budget of {} ran out after {} steps; the longest legal prefix found has {} operation(s)",
            budget.map_or("?".to_string(), |b| format!("{b:?}")),
            report.steps,
            report.order.len()
        ),
    }
    if let Some(out) = &a.html {
        println!("timeline: {}", out.display());
    }
}

/// The `--consistency` values served by the workload checkers (no `--model`).
const WORKLOAD_CHECKS: [&str; 8] = [
    "set-full",
    "set-full-linearizable",
    "counter-bounds",
    "session",
    "register-semantics",
    "causal",
    "causal-memory",
    "causal-convergence",
];

/// `synod lin FILE --consistency set-full|set-full-linearizable|counter-bounds|session|
/// register-semantics|causal|causal-memory|causal-convergence`.
fn cmd_workload_check(a: &LinArgs) -> Result<ExitCode, LabError> {
    use synod_consistency::checkers::{
        check_counter, check_sessions, check_set_full, CounterOptions, SessionOptions,
        SetFullOptions,
    };
    let started = std::time::Instant::now();
    let (recorded, format) = read_history(&a.file, a.format.as_deref())?;
    // (valid, one line per anomaly with its operations' lines, summary, full report)
    let (valid, anomalies, summary, report): (
        bool,
        Vec<(String, Vec<usize>)>,
        String,
        serde_json::Value,
    ) = match a.consistency.as_str() {
        "counter-bounds" => {
            let r = check_counter(&recorded, &CounterOptions::default());
            let list = r
                .anomalies
                .iter()
                .map(|x| (x.to_string(), x.ops()))
                .collect();
            (r.valid, list, r.to_string(), json!(r))
        }
        level @ ("causal" | "causal-memory" | "causal-convergence") => {
            use synod_consistency::checkers::causal::{check_causal, CausalLevel, CausalOptions};
            let level = CausalLevel::from_name(level).expect("a causal level name");
            let r = check_causal(&recorded, &CausalOptions::default())
                .map_err(|e| LabError::new(format!("{}: {e}", a.file.display())))?;
            let list = r
                .verdict(level)
                .violation
                .iter()
                .map(|v| (v.to_string(), v.ops.clone()))
                .collect();
            (r.holds(level), list, r.to_string(), json!(r))
        }
        "register-semantics" => {
            use synod_consistency::checkers::register_semantics::{
                check_recorded_register_semantics, Witness,
            };
            let r = check_recorded_register_semantics(
                &recorded,
                &synod_consistency::format::Value::Nil,
                &synod_consistency::Budget::steps(50_000_000),
            )
            .map_err(|e| LabError::new(format!("{}: {e}", a.file.display())))?;
            let list = match r.first_violation() {
                Some(w) => {
                    let ops = match &w {
                        Witness::NotSafe(v) | Witness::NotRegular(v) => {
                            let mut ops = vec![v.read];
                            ops.extend(&v.last_writes);
                            ops
                        }
                        Witness::Inversion(i) => vec![i.first_read, i.second_read],
                        Witness::NotLinearizable => vec![],
                    };
                    vec![(w.to_string(), ops)]
                }
                None => vec![],
            };
            let summary = format!(
                "level: {:?} (safe {}, regular {}, atomic {}; {} new/old inversion(s), {} writes, {} reads, {})",
                r.level(),
                r.safe_ok,
                r.regular_ok,
                r.atomic_ok.map_or("undecided".to_string(), |b| b.to_string()),
                r.new_old_inversions,
                r.writes,
                r.reads,
                if r.single_writer { "single writer" } else { "multi-writer" }
            );
            (r.atomic_ok == Some(true), list, summary, json!(r))
        }
        "session" => {
            let r = check_sessions(&recorded, &SessionOptions::default());
            let list = r
                .anomalies
                .iter()
                .map(|x| (x.to_string(), x.ops()))
                .collect();
            (r.valid, list, r.to_string(), json!(r))
        }
        kind => {
            let options = SetFullOptions {
                linearizable: kind == "set-full-linearizable",
                ..SetFullOptions::default()
            };
            let r = check_set_full(&recorded, &options);
            let list = r
                .anomalies
                .iter()
                .map(|x| (x.to_string(), x.ops()))
                .collect();
            (r.valid, list, r.to_string(), json!(r))
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let lines = |ops: &[usize]| -> Vec<usize> {
        ops.iter()
            .filter_map(|&i| recorded.ops.get(i).map(|o| o.line))
            .collect()
    };
    if a.json {
        let anomalies: Vec<serde_json::Value> = anomalies
            .iter()
            .map(|(text, ops)| json!({"explanation": text, "ops": ops, "lines": lines(ops)}))
            .collect();
        crate::print_json(&json!({
            "valid": valid,
            "model": a.consistency,
            "consistency": a.consistency,
            "format": format.name(),
            "ops": recorded.ops.len(),
            "anomalies": anomalies,
            "report": report,
            "elapsed_ms": elapsed_ms,
        }));
    } else {
        println!(
            "history: {} ({}, {} operations)",
            a.file.display(),
            format.name(),
            recorded.ops.len()
        );
        println!("check: {}", a.consistency);
        println!("{summary}");
        for (text, ops) in &anomalies {
            println!("  {text} (lines {:?})", lines(ops));
        }
        println!(
            "verdict: {} ({elapsed_ms} ms)",
            if valid { "valid" } else { "INVALID" }
        );
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
