//! Settings, results and the run folder.
//!
//! A run folder holds `results.json` (the [`Results`]), the client history
//! (`history.edn`, Jepsen's format, and `history.json`, synod's), the message journal
//! (`messages.jsonl`, see [`crate::journal`]), each node's stderr (`n0.log`, ...), a latency
//! plot (`latency.svg`), a space-time diagram of the first messages (`lamport.svg`) and an
//! HTML summary (`index.html`).

use crate::nemesis::Fault;
use crate::net::{LatencyDist, NetOptions};
use crate::process::NodeCommand;
use crate::run::{self, Options, RunError};
use crate::workload::{Topology, WorkloadKind, WorkloadOptions};
use crate::Misbehaviours;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use synod_consistency::format::{to_edn, to_json, Completion};
use synod_viz::{Plot, Report, Series};

/// What to run: [`run::Options`] with friendlier defaults (Maelstrom's).
pub type Settings = Options;

impl Settings {
    /// Maelstrom's defaults for `workload` (by name) and the node program `bin`: one node,
    /// 10 s, 5 requests/s, as many clients as nodes, 0 ms latency, no faults, seed 0, run
    /// folder `store/<workload>/seed-<seed>`.
    pub fn new(workload_name: &str, bin: &str) -> Result<Settings, String> {
        let workload = WorkloadKind::from_name(workload_name).ok_or_else(|| {
            format!(
                "unknown workload {workload_name:?}; workloads: {}",
                WorkloadKind::names()
            )
        })?;
        Ok(Options {
            workload,
            workload_options: WorkloadOptions::default(),
            node: NodeCommand {
                bin: PathBuf::from(bin),
                args: Vec::new(),
            },
            node_count: 1,
            time_limit: Duration::from_secs(10),
            rate: 5.0,
            concurrency: 1,
            net: NetOptions {
                latency: Duration::ZERO,
                dist: LatencyDist::Constant,
                loss: 0.0,
            },
            nemesis: Vec::new(),
            nemesis_interval: Duration::from_secs(10),
            availability: None,
            seed: 0,
            recovery_wait: Duration::from_secs(10),
            op_timeout: Duration::from_secs(5),
            init_timeout: Duration::from_secs(10),
            run_dir: PathBuf::from(format!("store/{workload_name}/seed-0")),
            replay: None,
        })
    }
}

/// Parses `--topology`.
pub fn parse_topology(name: &str) -> Result<Topology, String> {
    Topology::from_name(name).ok_or_else(|| {
        format!("unknown topology {name:?}; topologies: grid, line, tree2, tree3, tree4, total")
    })
}

/// Parses `--nemesis a,b` (empty or `none`: no faults).
pub fn parse_nemesis(list: &str) -> Result<Vec<Fault>, String> {
    let mut out = Vec::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "none")
    {
        let f = Fault::from_name(name)
            .ok_or_else(|| format!("unknown nemesis {name:?}; faults: partition, kill, pause"))?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Parses `--concurrency`: a number, or `Kn` for K times the node count.
pub fn parse_concurrency(s: &str, nodes: usize) -> Result<usize, String> {
    let bad =
        || format!("bad --concurrency {s:?}: give a number like 4, or 2n (twice the node count)");
    let c = match s.strip_suffix('n') {
        Some("") => nodes,
        Some(k) => k.parse::<usize>().map_err(|_| bad())? * nodes,
        None => s.parse::<usize>().map_err(|_| bad())?,
    };
    if c == 0 {
        return Err(bad());
    }
    Ok(c)
}

/// Parses `--availability`: `total` (every operation must succeed) or a fraction in [0, 1].
pub fn parse_availability(s: &str) -> Result<Option<f64>, String> {
    match s {
        "total" => Ok(Some(1.0)),
        "none" | "" => Ok(None),
        _ => match s.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(Some(f)),
            _ => Err(format!(
                "bad --availability {s:?}: give total, none or a fraction between 0 and 1"
            )),
        },
    }
}

/// Parses `--latency-dist`.
pub fn parse_latency_dist(s: &str) -> Result<LatencyDist, String> {
    LatencyDist::from_name(s).ok_or_else(|| {
        format!("unknown latency distribution {s:?}; distributions: constant, uniform, exponential")
    })
}

/// The settings of an earlier run, read from its folder's `results.json`, with its network
/// replayed from its journal (`messages.jsonl`): the same seed, workload, nodes and faults,
/// and each link's messages get the latencies and losses they had.
pub fn settings_of_run(dir: &std::path::Path) -> Result<Settings, String> {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e} (give a workbench run folder)",
            path.display()
        )
    })?;
    let r: Json = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a results file ({e})", path.display()))?;
    let o = &r["options"];
    let bad = |what: &str| format!("{}: options.{what} is missing or malformed", path.display());
    let str_of = |k: &str| o[k].as_str().map(str::to_string).ok_or_else(|| bad(k));
    let f64_of = |k: &str| o[k].as_f64().ok_or_else(|| bad(k));
    let u64_of = |k: &str| o[k].as_u64().ok_or_else(|| bad(k));
    let mut s = Settings::new(&str_of("workload")?, &str_of("bin")?)?;
    s.node.args = o["bin_args"]
        .as_array()
        .ok_or_else(|| bad("bin_args"))?
        .iter()
        .map(|a| {
            a.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad("bin_args"))
        })
        .collect::<Result<_, _>>()?;
    s.node_count = u64_of("node_count")? as usize;
    s.time_limit = Duration::from_secs_f64(f64_of("time_limit_s")?);
    s.rate = f64_of("rate")?;
    s.concurrency = u64_of("concurrency")? as usize;
    s.net.latency = Duration::from_secs_f64(f64_of("latency_ms")? / 1e3);
    s.net.dist = parse_latency_dist(&str_of("latency_dist")?)?;
    s.net.loss = f64_of("loss")?;
    let nemesis: Vec<String> = o["nemesis"]
        .as_array()
        .ok_or_else(|| bad("nemesis"))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    s.nemesis = parse_nemesis(&nemesis.join(","))?;
    s.nemesis_interval = Duration::from_secs_f64(f64_of("nemesis_interval_s")?);
    s.availability = o["availability"].as_f64();
    s.seed = u64_of("seed")?;
    s.recovery_wait = Duration::from_secs_f64(f64_of("recovery_wait_s")?);
    s.workload_options.topology = parse_topology(&str_of("topology")?)?;
    s.workload_options.key_count = u64_of("key_count")? as usize;
    s.workload_options.isolation =
        synod_consistency::checkers::txn::Isolation::from_name(&str_of("consistency_models")?)
            .ok_or_else(|| bad("consistency_models"))?;
    s.workload_options.max_txn_length = u64_of("max_txn_length")? as usize;
    s.replay = Some(dir.join("messages.jsonl"));
    Ok(s)
}

/// The outcome of a run, as `results.json` and `--json` print it.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// True if the checker, the availability requirement and the nodes' behaviour all hold.
    pub valid: bool,
    /// One line: `valid`, or what failed with counts.
    pub verdict: String,
    /// The workload's name.
    pub workload: &'static str,
    /// Client operations invoked.
    pub ops: usize,
    /// … that succeeded.
    pub ok: usize,
    /// … that definitely failed.
    pub failed: usize,
    /// … whose outcome is unknown (timeouts, indefinite errors).
    pub unknown: usize,
    /// `ok / ops`.
    pub availability: f64,
    /// Node-to-node messages per client request.
    pub msgs_per_op: f64,
    /// Stable latencies (ms) by quantile, where the workload has them.
    pub stable_latencies: Option<Json>,
    /// Message counts.
    pub net: Json,
    /// Faults injected and the nemesis's log.
    pub nemesis: Json,
    /// Node misbehaviour.
    pub misbehaviour: Misbehaviours,
    /// Nodes that never answered `init`.
    pub uninitialised: Vec<String>,
    /// The workload checker's report.
    pub checker: Json,
    /// The seed.
    pub seed: u64,
    /// Nodes.
    pub node_count: usize,
    /// The options of the run (to reproduce it).
    pub options: Json,
    /// From the first `init` sent to the first `init_ok` received, in ms.
    pub first_reply_ms: Option<f64>,
    /// From the start of the run to every node's `init` sent (spawning included), in ms.
    pub startup_ms: f64,
    /// Wall-clock duration of the run, in seconds.
    pub elapsed_s: f64,
    /// How long checking took, in ms.
    pub check_ms: f64,
    /// The run folder.
    pub run_dir: String,
    /// The run whose network this one replayed, if any.
    pub replayed: Option<String>,
}

/// Runs the workbench as `s` says, checks the history and writes the run folder.
pub fn workbench(s: &Settings) -> Result<Results, RunError> {
    let out = run::run(s)?;
    let check_start = std::time::Instant::now();
    let verdict = out.workload.check(&out.history, out.final_from);
    let check_ms = check_start.elapsed().as_secs_f64() * 1e3;
    let ops = out.history.ops.len();
    let count =
        |f: fn(&Completion) -> bool| out.history.ops.iter().filter(|o| f(&o.completion)).count();
    let ok = count(|c| matches!(c, Completion::Ok(_)));
    let failed = count(|c| matches!(c, Completion::Fail(_)));
    let unknown = ops - ok - failed;
    let availability = if ops == 0 {
        0.0
    } else {
        ok as f64 / ops as f64
    };
    let mut failures = verdict.failures.clone();
    if !verdict.valid && failures.is_empty() {
        failures.push("checker failed".into());
    }
    if let Some(need) = s.availability {
        if availability + 1e-12 < need {
            failures.push(format!(
                "availability {:.3} below {need} ({} of {ops} ok)",
                availability, ok
            ));
        }
    }
    if ops == 0 {
        failures.push("no operations completed or even started".into());
    }
    for (kind, n) in &out.misbehaviour.by_kind {
        failures.push(format!("node misbehaviour {kind} {n}"));
    }
    let valid = failures.is_empty();
    let verdict_line = if valid {
        "valid".to_string()
    } else {
        format!("INVALID: {}", failures.join(", "))
    };
    let msgs_per_op = if out.client_requests == 0 {
        0.0
    } else {
        out.server_msgs as f64 / out.client_requests as f64
    };
    let results = Results {
        valid,
        verdict: verdict_line,
        workload: s.workload.name(),
        ops,
        ok,
        failed,
        unknown,
        availability,
        msgs_per_op,
        stable_latencies: verdict.stable_latencies.clone(),
        net: json!({
            "all_msgs": out.all_msgs,
            "server_msgs": out.server_msgs,
            "client_requests": out.client_requests,
            "dropped": out.dropped,
            "main_phase_msgs": out.main_phase.0,
            "main_phase_s": out.main_phase.1.as_secs_f64(),
            "msgs_per_s": if out.main_phase.1.is_zero() { 0.0 } else { out.main_phase.0 as f64 / out.main_phase.1.as_secs_f64() },
        }),
        nemesis: json!({
            "faults_injected": out.faults_injected,
            "log": out.nemesis_log.iter().map(|(t, n)| json!({"t_ms": t, "what": n})).collect::<Vec<_>>(),
        }),
        misbehaviour: out.misbehaviour.clone(),
        uninitialised: out.uninitialised.clone(),
        checker: verdict.report.clone(),
        seed: s.seed,
        node_count: s.node_count,
        options: options_json(s),
        first_reply_ms: out.first_reply.map(|d| d.as_secs_f64() * 1e3),
        startup_ms: out.startup.as_secs_f64() * 1e3,
        elapsed_s: out.elapsed.as_secs_f64(),
        check_ms,
        run_dir: s.run_dir.display().to_string(),
        replayed: s.replay.as_ref().map(|p| p.display().to_string()),
    };
    write_folder(s, &out, &results).map_err(|err| RunError::Io {
        dir: s.run_dir.display().to_string(),
        err,
    })?;
    Ok(results)
}

fn options_json(s: &Settings) -> Json {
    json!({
        "workload": s.workload.name(),
        "bin": s.node.bin.display().to_string(),
        "bin_args": s.node.args,
        "node_count": s.node_count,
        "time_limit_s": s.time_limit.as_secs_f64(),
        "rate": s.rate,
        "concurrency": s.concurrency,
        "latency_ms": s.net.latency.as_secs_f64() * 1e3,
        "latency_dist": s.net.dist.name(),
        "loss": s.net.loss,
        "nemesis": s.nemesis,
        "nemesis_interval_s": s.nemesis_interval.as_secs_f64(),
        "availability": s.availability,
        "seed": s.seed,
        "recovery_wait_s": s.recovery_wait.as_secs_f64(),
        "topology": s.workload_options.topology.name(),
        "key_count": s.workload_options.key_count,
        "consistency_models": s.workload_options.isolation.name(),
        "max_txn_length": s.workload_options.max_txn_length,
    })
}

fn write_folder(s: &Settings, out: &run::Outcome, r: &Results) -> std::io::Result<()> {
    let dir = &s.run_dir;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
    )?;
    std::fs::write(dir.join("history.edn"), to_edn(&out.history))?;
    std::fs::write(dir.join("history.json"), to_json(&out.history))?;
    // Latency of each completed operation, by invocation time: ok and failed apart.
    let mut by: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for o in &out.history.ops {
        let (Some(call), Some(ret)) = (o.call_nanos, o.ret_nanos) else {
            continue;
        };
        let class = match o.completion {
            Completion::Ok(_) => "ok",
            Completion::Fail(_) => "fail",
            Completion::Unknown(_) => "unknown",
        };
        by.entry(class)
            .or_default()
            .push((call as f64 / 1e9, (ret.saturating_sub(call)) as f64 / 1e6));
    }
    let mut plot = Plot::new(
        &format!("{} latency (seed {})", s.workload.name(), s.seed),
        "time (s)",
        "latency (ms)",
    );
    for (class, points) in by {
        plot = plot.series(Series::scatter(class, points));
    }
    let svg = plot.to_svg();
    std::fs::write(dir.join("latency.svg"), &svg)?;
    std::fs::write(dir.join("lamport.svg"), &out.diagram)?;
    let mut html = Report::new(&format!("synod workbench: {}", s.workload.name()));
    html.section("Verdict")
        .claim(&r.verdict, if r.valid { "HOLDS" } else { "VIOLATED" })
        .table(
            &["ops", "ok", "failed", "unknown", "msgs/op", "faults"].map(String::from),
            &[vec![
                r.ops.to_string(),
                r.ok.to_string(),
                r.failed.to_string(),
                r.unknown.to_string(),
                format!("{:.2}", r.msgs_per_op),
                out.faults_injected.to_string(),
            ]],
        );
    if let Some(lat) = &r.stable_latencies {
        html.paragraph(&format!("Stable latencies (ms): {lat}"));
    }
    if !r.misbehaviour.examples.is_empty() {
        let rows: Vec<Vec<String>> = r
            .misbehaviour
            .examples
            .iter()
            .map(|m| {
                vec![
                    m.node.clone(),
                    m.kind.name().into(),
                    m.detail.clone(),
                    m.line.clone(),
                ]
            })
            .collect();
        html.section("Node misbehaviour")
            .table(&["node", "kind", "what", "line"].map(String::from), &rows);
    }
    html.section("Latency").svg(&svg);
    html.section("Space-time diagram (first messages)")
        .svg(&out.diagram);
    html.section("Checker")
        .preformatted(&serde_json::to_string_pretty(&r.checker).unwrap_or_default());
    html.section("Run")
        .preformatted(&serde_json::to_string_pretty(&r.options).unwrap_or_default());
    std::fs::write(dir.join("index.html"), html.to_html())?;
    Ok(())
}
