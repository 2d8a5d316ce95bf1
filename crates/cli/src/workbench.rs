//! `synod workbench`: run your own node program (any language, Maelstrom's protocol) against
//! a workload, a seeded network and a nemesis, and check what its clients saw.

use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use synod_consistency::checkers::txn::Isolation;
use synod_lab::LabError;
use synod_workbench::report::{
    parse_availability, parse_concurrency, parse_latency_dist, parse_nemesis, parse_topology,
    settings_of_run,
};
use synod_workbench::{workbench, Settings};

/// `synod workbench`: flags named like Maelstrom's.
#[derive(Args)]
pub struct WorkbenchArgs {
    /// The workload: echo, unique-ids, broadcast, g-set, g-counter, pn-counter, lin-kv,
    /// kafka, txn-rw-register, txn-list-append.
    #[arg(short = 'w', long, required_unless_present = "replay")]
    workload: Option<String>,
    /// The node program (any executable speaking JSON lines on stdin/stdout).
    #[arg(long, required_unless_present = "replay")]
    bin: Option<PathBuf>,
    /// Run an earlier run again (its folder): the same settings and seed, and each link's
    /// messages get the latencies and losses its journal recorded. Other flags but --store
    /// and --json are ignored.
    #[arg(long, value_name = "RUN_DIR")]
    replay: Option<PathBuf>,
    /// An argument for the node program (repeat for several; `--bin-arg=--flag` for ones
    /// that start with a dash).
    #[arg(long = "bin-arg", allow_hyphen_values = true)]
    bin_args: Vec<String>,
    /// Nodes n0 … n(N-1).
    #[arg(long, default_value_t = 1)]
    node_count: usize,
    /// Seconds of client operations.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    /// Client requests per second, over all clients.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Clients: a number, or `Kn` for K per node (default: one per node).
    #[arg(long, default_value = "1n")]
    concurrency: String,
    /// Mean one-way message latency, in ms.
    #[arg(long, default_value_t = 0.0)]
    latency: f64,
    /// Latency distribution: constant, uniform or exponential.
    #[arg(long, default_value = "constant")]
    latency_dist: String,
    /// Probability that a node-to-node message is lost.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Faults: partition, kill, pause (comma-separated) or none.
    #[arg(long, default_value = "none")]
    nemesis: String,
    /// Seconds between nemesis steps (a fault, then a heal, …).
    #[arg(long, default_value_t = 10.0)]
    nemesis_interval: f64,
    /// The fraction of operations that must succeed: total, none or a number in [0, 1].
    #[arg(long, default_value = "none")]
    availability: String,
    /// Broadcast topology: grid, line, tree2, tree3, tree4, total.
    #[arg(long, default_value = "grid")]
    topology: String,
    /// Keys of the key-value workloads.
    #[arg(long, default_value_t = 3)]
    key_count: usize,
    /// The isolation level the txn workloads are checked at: read-uncommitted,
    /// read-committed, serializable, strict-serializable.
    #[arg(long, default_value = "strict-serializable")]
    consistency_models: String,
    /// The most micro-operations in one transaction.
    #[arg(long, default_value_t = 4)]
    max_txn_length: usize,
    /// Seconds the network settles after the faults heal, before the final reads.
    #[arg(long, default_value_t = 10.0)]
    recovery_wait: f64,
    /// The seed of every random choice (client operations, latencies, loss, faults).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where run folders go (each run writes `STORE/WORKLOAD/seed-S-TIME`).
    #[arg(long, default_value = "store")]
    store: PathBuf,
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
}

fn secs(v: f64, flag: &str) -> Result<Duration, LabError> {
    if v.is_finite() && v >= 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(LabError::new(format!(
            "bad {flag} {v}: give a non-negative number of seconds"
        )))
    }
}

/// Runs `synod workbench`.
pub fn cmd_workbench(a: WorkbenchArgs) -> Result<ExitCode, LabError> {
    let mut s = match &a.replay {
        Some(dir) => settings_of_run(dir).map_err(LabError::new)?,
        None => settings(&a)?,
    };
    let workload = s.workload.name();
    let bin = s.node.bin.display().to_string();
    if !s.node.bin.is_file() {
        return Err(LabError::new(format!(
            "--bin {bin}: no such file (give the path of your node's executable)"
        )));
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    s.run_dir = a
        .store
        .join(workload)
        .join(format!("seed-{}-{stamp}", s.seed));
    let chatty = !a.json && std::io::stderr().is_terminal();
    if chatty {
        eprintln!(
            "workbench: {workload} on {} node(s) of {bin}, {} client(s), {:.1} s at {} req/s, {}, nemesis {:?}, seed {}{}",
            s.node_count,
            s.concurrency,
            s.time_limit.as_secs_f64(),
            s.rate,
            s.net,
            s.nemesis,
            s.seed,
            match &a.replay {
                Some(d) => format!(", replaying the network of {}", d.display()),
                None => String::new(),
            }
        );
    }
    let r = workbench(&s).map_err(|e| LabError::new(e.to_string()))?;
    if a.json {
        println!("{}", serde_json::to_string(&r).expect("results serialize"));
    } else {
        println!(
            "workbench {} · {} node(s) · seed {} · {}",
            r.workload, r.node_count, r.seed, s.net
        );
        println!(
            "ops {} (ok {}, failed {}, unknown {}) · availability {:.3} · msgs/op {:.2} · faults {}",
            r.ops,
            r.ok,
            r.failed,
            r.unknown,
            r.availability,
            r.msgs_per_op,
            r.nemesis["faults_injected"]
        );
        if let Some(l) = &r.stable_latencies {
            println!("stable latencies (ms): {l}");
        }
        for m in &r.misbehaviour.examples {
            println!("  {} {}: {} | {}", m.node, m.kind.name(), m.detail, m.line);
        }
        println!("run folder: {}", r.run_dir);
        println!("{}", r.verdict);
    }
    Ok(if r.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The settings the flags describe.
fn settings(a: &WorkbenchArgs) -> Result<Settings, LabError> {
    let (Some(workload), Some(bin_path)) = (&a.workload, &a.bin) else {
        return Err(LabError::new(
            "give -w WORKLOAD and --bin NODE (or --replay RUN_DIR)",
        ));
    };
    let bin = bin_path.display().to_string();
    if !bin_path.is_file() {
        return Err(LabError::new(format!(
            "--bin {bin}: no such file (give the path of your node's executable)"
        )));
    }
    if a.node_count == 0 {
        return Err(LabError::new("--node-count must be at least 1"));
    }
    let mut s = Settings::new(workload, &bin).map_err(LabError::new)?;
    s.node.args = a.bin_args.clone();
    s.node_count = a.node_count;
    s.time_limit = secs(a.time_limit, "--time-limit")?;
    if !(a.rate.is_finite() && a.rate >= 0.0) {
        return Err(LabError::new(
            "--rate must be a non-negative number of requests per second",
        ));
    }
    s.rate = a.rate;
    s.concurrency = parse_concurrency(&a.concurrency, a.node_count).map_err(LabError::new)?;
    s.net.latency = secs(a.latency / 1e3, "--latency")?;
    s.net.dist = parse_latency_dist(&a.latency_dist).map_err(LabError::new)?;
    if !(0.0..=1.0).contains(&a.loss) {
        return Err(LabError::new(
            "--loss must be a probability between 0 and 1",
        ));
    }
    s.net.loss = a.loss;
    s.nemesis = parse_nemesis(&a.nemesis).map_err(LabError::new)?;
    s.nemesis_interval =
        secs(a.nemesis_interval, "--nemesis-interval")?.max(Duration::from_millis(100));
    s.availability = parse_availability(&a.availability).map_err(LabError::new)?;
    s.workload_options.topology = parse_topology(&a.topology).map_err(LabError::new)?;
    s.workload_options.key_count = a.key_count.max(1);
    s.workload_options.isolation = Isolation::from_name(&a.consistency_models).ok_or_else(|| {
        LabError::new(format!(
            "unknown --consistency-models {:?}; levels: read-uncommitted, read-committed, serializable, strict-serializable",
            a.consistency_models
        ))
    })?;
    s.workload_options.max_txn_length = a.max_txn_length.max(1);
    s.recovery_wait = secs(a.recovery_wait, "--recovery-wait")?;
    s.seed = a.seed;
    Ok(s)
}
