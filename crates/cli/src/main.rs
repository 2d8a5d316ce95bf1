//! `synod`: distributed-systems theory you can run, break, check and look at.
//!
//! A thin shell over `synod-lab`: it parses flags, injects what the deterministic crates may not
//! touch (the wall clock for progress, OS randomness for an unspecified seed, files), and prints
//! human-readable text or one JSON document (`--json`; headers and progress go to stderr).

mod lin;
mod service;
mod shm;
mod workbench;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use synod_core::{Duration, Instant, Ratio};
use synod_lab::catalog::{find_protocol, protocols, ProtocolEntry};
use synod_lab::experiment::{ClaimVerdict, ExpOptions, Progress};
use synod_lab::experiments::{experiments, find_experiment};
use synod_lab::runner::{DiagramWindow, SimSpec};
use synod_lab::{LabError, Topic};
use synod_sim::{parse_probability, FaultSchedule, Latency, Timing};

/// The model checker and the simulator allocate and free many small states: mimalloc keeps
/// freed memory for reuse instead of returning it to the kernel and faulting it back in.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "synod",
    version,
    about = "Distributed-systems theory, executable: run, break, check and look at protocols",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the protocols and experiments, grouped by topic.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Simulate a protocol under a chosen model and check its properties.
    Sim(Box<SimArgs>),
    /// Run an experiment that reproduces a classic result.
    Experiment(ExperimentArgs),
    /// Run every experiment and a few showcase simulations into one HTML report.
    Tour(TourArgs),
    /// Simulate a protocol across many seeds and tally each property's verdicts.
    Soak(Box<SoakArgs>),
    /// Explore every interleaving, crash and random choice of a protocol at small scope.
    Check(Box<CheckArgs>),
    /// Check a recorded client history (Jepsen EDN or log, synod JSON) for linearizability.
    Lin(Box<lin::LinArgs>),
    /// Shared memory: run a program under a seeded interleaving, or --check every interleaving
    /// (safety and wait-freedom); `synod shm list` names the programs.
    Shm(Box<shm::ShmArgs>),
    /// Run one replica of the Raft key-value service over TCP.
    Node(Box<service::NodeArgs>),
    /// Start (`up`) or stop (`down`) a local cluster of replicas in the background.
    Cluster(service::ClusterArgs),
    /// Get, put or compare-and-set a key in a running cluster.
    Kv(service::KvArgs),
    /// Jepsen-style test: a local cluster, concurrent clients, kill/pause/partition/clock
    /// faults, and the consistency checker on the history.
    Stress(service::StressArgs),
    /// Run your own node program (any language, Maelstrom's JSON-lines protocol) against a
    /// workload, a seeded network and faults, and check what its clients saw.
    Workbench(Box<workbench::WorkbenchArgs>),
    /// Explain a topic: the idea, the commands to try, the books to read.
    Learn {
        /// The topic (omit it for the path through all topics).
        topic: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct SoakArgs {
    #[command(flatten)]
    sim: SimArgs,
    /// How many seeds to run.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed (seeds run from here upwards).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Worker threads (the result does not depend on it).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct SimArgs {
    /// The protocol to run (see `synod list`).
    #[arg(required_unless_present = "replay")]
    protocol: Option<String>,
    /// Replay a counterexample saved by `synod check` (step by step, with a diagram via --svg).
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Number of nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Timing model: sync or sync:DELTA, async, psync:gst=T,delta=D, lockstep or lockstep:ROUND.
    #[arg(long, value_parser = parse_timing)]
    timing: Option<Timing>,
    /// Latency distribution: constant:D, uniform:LO..HI, exp:MEAN, normal:MEAN,SD.
    #[arg(long, value_parser = parse_latency)]
    latency: Option<Latency>,
    /// Probability that the network loses a message (0 to 1).
    #[arg(long, value_parser = parse_ratio, default_value = "0")]
    loss: Ratio,
    /// Probability that the network duplicates a message (0 to 1).
    #[arg(long, value_parser = parse_ratio, default_value = "0")]
    dup: Ratio,
    /// Deliver messages on each channel in send order (no reordering).
    #[arg(long)]
    fifo: bool,
    /// Crash a node: NODE@TIME, e.g. n1@2s (NODE@TIME:partial crashes part-way through a send).
    #[arg(long, value_name = "SPEC")]
    crash: Vec<String>,
    /// Recover a crashed node from stable storage: NODE@TIME.
    #[arg(long, value_name = "SPEC")]
    recover: Vec<String>,
    /// Partition: GROUP|GROUP@FROM..UNTIL (n0,n1|n2@1s..5s) or SENDERS->RECEIVERS@FROM..UNTIL.
    #[arg(long, value_name = "SPEC")]
    partition: Vec<String>,
    /// Omission: NODE:send=P@FROM..UNTIL or NODE:receive=P@FROM..UNTIL.
    #[arg(long, value_name = "SPEC")]
    omission: Vec<String>,
    /// Clock skew: NODE:drift=PPMppm,offset=D.
    #[arg(long, value_name = "SPEC")]
    clock: Vec<String>,
    /// A fault schedule file (TOML, or JSON if it ends in .json).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Chaos: draw crashes (some part-way through a send), recoveries, partitions and omission
    /// windows from the seed, all over by --chaos-until (on top of any other faults; random
    /// loss and duplication stay --loss and --dup, for the whole run).
    #[arg(long)]
    chaos: bool,
    /// When the chaos faults end (default: 60% of --until); progress is judged after it.
    #[arg(long, value_parser = parse_duration, value_name = "T")]
    chaos_until: Option<Duration>,
    /// The run's seed (printed; a fresh one is drawn if omitted).
    #[arg(long)]
    seed: Option<u64>,
    /// End of the run; liveness properties are judged here.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    until: Duration,
    /// Workload size: messages (or operations) per node.
    #[arg(long, default_value_t = 20)]
    messages: u32,
    /// Write a space-time (Lamport) diagram of the run to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Start of the diagram's time window.
    #[arg(long, value_parser = parse_duration)]
    svg_from: Option<Duration>,
    /// End of the diagram's time window.
    #[arg(long, value_parser = parse_duration)]
    svg_to: Option<Duration>,
    /// Colour the diagram by causality relative to event N (its index in the trace, shown in
    /// the diagram's tooltips as "event N"): its causal past, its future, and the events concurrent
    /// with it.
    #[arg(long, value_name = "N", requires = "svg")]
    causal: Option<usize>,
    /// Save the clients' history to FILE for `synod lin` (Jepsen EDN; synod JSON if FILE ends
    /// in .json). Only for protocols that serve clients (e.g. abd, raft).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// The model to check (see `synod list`).
    protocol: String,
    /// Number of nodes (default: the model's).
    #[arg(long)]
    nodes: Option<usize>,
    /// Number of clients (default: the model's).
    #[arg(long)]
    clients: Option<usize>,
    /// How many crashes the adversary may cause.
    #[arg(long, default_value_t = 0)]
    crashes: u8,
    /// Network: unordered, fifo, lossy or duplicating (default: the model's).
    #[arg(long, value_parser = parse_network)]
    network: Option<synod_check::NetworkKind>,
    /// Breadth-first search (the default): shortest counterexamples, parallel.
    #[arg(long, conflicts_with = "dfs")]
    bfs: bool,
    /// Depth-first search: least memory (the visited set and a stack per thread), parallel.
    #[arg(long)]
    dfs: bool,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Symmetry reduction: explore states that differ only by a permutation of interchangeable
    /// nodes once (models with such nodes, e.g. the participants of two-phase-commit).
    #[arg(long)]
    symmetry: bool,
    /// Do not explore beyond this depth (the result is then "bounded", not "verified").
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop after this many unique states.
    #[arg(long)]
    max_states: Option<u64>,
    /// Breadth-first search: when one level holds more states than this, go on depth-first
    /// from it (far less memory and faster on large spaces; counterexamples are still rebuilt
    /// as shortest paths).
    #[arg(long, default_value_t = 100_000)]
    max_frontier: usize,
    /// Folder for counterexample files (JSON to replay with `synod sim --replay`, and SVG).
    #[arg(long, default_value = "synod-check")]
    out: PathBuf,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExperimentArgs {
    /// The experiment to run (see `synod list`).
    id: String,
    /// Seed all runs derive from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Runs (seeds) per configuration.
    #[arg(long)]
    runs: Option<u32>,
    /// A reduced sweep (the claim is still judged).
    #[arg(long)]
    quick: bool,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Also write the result table as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write the experiment's plot as SVG to FILE (more plots: FILE-2.svg, FILE-3.svg, …).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

#[derive(Args)]
struct TourArgs {
    /// Seed for every run of the tour.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder for the report.
    #[arg(long, default_value = "synod-tour")]
    out: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

fn parse_network(s: &str) -> Result<synod_check::NetworkKind, String> {
    s.parse()
}
fn parse_timing(s: &str) -> Result<Timing, String> {
    s.parse()
}
fn parse_latency(s: &str) -> Result<Latency, String> {
    s.parse()
}
fn parse_ratio(s: &str) -> Result<Ratio, String> {
    parse_probability(s).map_err(|e| e.0)
}
fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() >> 1
}

fn at(d: Duration) -> Instant {
    Instant(d.as_nanos())
}

/// A progress bar on a terminal, nothing when piped.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(label: &str) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        pb.set_message(label.to_string());
        Bar(Some(pb))
    }
    fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn set_total(&mut self, total: u64) {
        if let Some(pb) = &self.0 {
            pb.set_length(pb.length().unwrap_or(0) + total);
        }
    }
    fn advance(&mut self, k: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(k);
        }
    }
}

/// Quotes `arg` for a POSIX shell if it contains anything but safe characters.
fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.,:=@/+".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

fn cmd_list(json: bool) -> Result<ExitCode, LabError> {
    let protos = protocols();
    let exps = experiments();
    let models = synod_lab::checks::check_entries();
    let shm = synod_lab::shm::shm_programs();
    if json {
        print_json(&json!({
            "shm_programs": shm.iter().map(|e| json!({
                "name": e.name, "topic": Topic::SharedMemory.id(), "summary": e.summary,
                "processes": e.default_processes,
            })).collect::<Vec<_>>(),
            "models": models.iter().map(|m| json!({
                "name": m.name, "topic": m.topic.id(), "summary": m.summary,
            })).collect::<Vec<_>>(),
            "protocols": protos.iter().map(|p| json!({
                "name": p.name, "topic": p.topic.id(), "summary": p.summary, "canary": p.canary,
            })).collect::<Vec<_>>(),
            "experiments": exps.iter().map(|e| json!({
                "id": e.id, "topic": e.topic.id(), "summary": e.summary,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    for t in Topic::ALL {
        let ps: Vec<_> = protos.iter().filter(|p| p.topic == t).collect();
        let es: Vec<_> = exps.iter().filter(|e| e.topic == t).collect();
        let ms: Vec<_> = models.iter().filter(|m| m.topic == t).collect();
        let shared: &[synod_lab::shm::ShmEntry] = if t == Topic::SharedMemory { &shm } else { &[] };
        if ps.is_empty() && es.is_empty() && ms.is_empty() && shared.is_empty() {
            continue;
        }
        println!("{} ({})", t.title(), t.id());
        for p in ps {
            println!("  protocol    {:<24} {}", p.name, p.summary);
        }
        for e in es {
            println!("  experiment  {:<24} {}", e.id, e.summary);
        }
        for m in ms {
            println!("  check       {:<24} {}", m.name, m.summary);
        }
        for e in shared {
            println!("  shm         {:<24} {}", e.name, e.summary);
        }
        println!();
    }
    println!("try: synod sim perfect-link --loss 0.3 --svg run.svg   |   synod experiment link-hierarchy   |   synod tour");
    Ok(ExitCode::SUCCESS)
}

/// Prints the model header first: on stdout for humans, on stderr under `--json`.
fn print_header(json: bool, header: &synod_core::ModelHeader, entry: &ProtocolEntry) {
    if json {
        eprintln!("model: {header}");
    } else {
        println!("model: {header}");
        println!(
            "protocol: {} ({}) — {}",
            entry.name,
            entry.topic.id(),
            entry.summary
        );
    }
}

/// Builds the run's spec from the sim flags, validating every fault spec.
fn build_spec(a: &SimArgs, seed: u64) -> Result<SimSpec, LabError> {
    let mut spec = SimSpec::new(a.nodes, seed);
    spec.until = at(a.until);
    spec.timing = a.timing;
    if let Some(l) = a.latency {
        spec.network.latency = l;
    }
    spec.network.loss = a.loss;
    spec.network.duplicate = a.dup;
    spec.network.fifo = a.fifo;
    spec.messages = a.messages;
    let mut faults = FaultSchedule::default();
    if let Some(f) = &a.faults {
        faults.load_file(f)?;
    }
    for s in &a.crash {
        faults.add_crash_spec(s)?;
    }
    for s in &a.recover {
        faults.add_recover_spec(s)?;
    }
    for s in &a.partition {
        faults.add_partition_spec(s)?;
    }
    for s in &a.omission {
        faults.add_omission_spec(s)?;
    }
    for s in &a.clock {
        faults.add_clock_spec(s)?;
    }
    spec.faults = faults;
    match (a.chaos, a.chaos_until) {
        (false, Some(_)) => {
            return Err(LabError::new(
                "--chaos-until needs --chaos (it says when the chaos faults end)",
            ))
        }
        (false, None) => {}
        (true, t) => {
            let t = t.map_or_else(|| synod_lab::chaos::default_until(spec.until), at);
            if t == Instant::ZERO || t >= spec.until {
                return Err(LabError::new(format!(
                    "--chaos-until {t} must be above 0 and before the end of the run (--until {}), so that progress can be judged after the faults",
                    spec.until
                )));
            }
            spec.chaos = Some(t);
        }
    }
    if a.svg.is_some() {
        spec.diagram = Some(DiagramWindow {
            from: a.svg_from.map(at),
            to: a.svg_to.map(at),
            causal: a.causal,
        });
    }
    // Validate the whole configuration before anything runs (e.g. a crash of a node that
    // does not exist).
    spec.config(Timing::Asynchronous).validate()?;
    Ok(spec)
}

fn cmd_sim(a: SimArgs) -> Result<ExitCode, LabError> {
    if let Some(file) = &a.replay {
        return cmd_replay(file, a.svg.as_deref(), a.json);
    }
    let entry = find_protocol(a.protocol.as_deref().unwrap_or_default())?;
    let seed = a.seed.unwrap_or_else(fresh_seed);
    let spec = build_spec(&a, seed)?;
    synod_lab::catalog::validate(&entry, &spec)?;
    let header = spec.model_header(Timing::Asynchronous);
    print_header(a.json, &header, &entry);
    if let (Some(until), false) = (spec.chaos, a.json) {
        let faults = synod_lab::chaos::chaos(spec.nodes, seed, until);
        println!(
            "chaos faults (the same as flags): {}",
            synod_lab::chaos::describe(&faults).join(" ")
        );
    }
    let report = (entry.run)(&spec)?;
    if let Some(path) = &a.history {
        let history = report.history.as_ref().ok_or_else(|| {
            LabError::new(format!(
                "{} has no clients, so no history to save; drop --history (try abd, raft, multi-paxos or paxos)",
                entry.name
            ))
        })?;
        let text = if path.extension().is_some_and(|e| e == "json") {
            synod_consistency::format::to_json(history)
        } else {
            synod_consistency::format::to_edn(history)
        };
        std::fs::write(path, text)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    if let (Some(path), Some(svg)) = (&a.svg, &report.svg) {
        std::fs::write(path, svg)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    if a.json {
        print_json(&report.to_json());
    } else {
        if report.model != header {
            println!("model: {} (the protocol's default timing)", report.model);
        }
        print!("{}", report.to_text());
        if let Some(p) = &a.svg {
            println!("diagram: {}", p.display());
        }
        if let Some(p) = &a.history {
            println!(
                "history: {} (check it: synod lin {} --model register)",
                p.display(),
                p.display()
            );
        }
        let mut args: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
        if a.seed.is_none() {
            args.push(format!("--seed {seed}"));
        }
        println!("reproduce: synod {}", args.join(" "));
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_soak(a: SoakArgs) -> Result<ExitCode, LabError> {
    let entry = find_protocol(a.sim.protocol.as_deref().unwrap_or_default())?;
    if a.sim.seed.is_some() {
        return Err(LabError::new(
            "soak runs many seeds: use --first-seed and --seeds instead of --seed",
        ));
    }
    if a.seeds == 0 {
        return Err(LabError::new("--seeds must be at least 1"));
    }
    let spec = build_spec(&a.sim, a.first_seed)?;
    synod_lab::catalog::validate(&entry, &spec)?;
    let mut header = spec.model_header(Timing::Asynchronous);
    header.set(
        "seed",
        format!("{}..{}", a.first_seed, a.first_seed + a.seeds),
    );
    if let Some(until) = spec.chaos {
        header.set("faults", synod_lab::chaos::header_value(None, until));
    }
    print_header(a.sim.json, &header, &entry);
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut bar = Bar::new("soak");
    #[allow(clippy::disallowed_methods)] // the CLI injects the wall clock for elapsed time
    let start = std::time::Instant::now();
    let report = synod_lab::soak::soak(
        &entry,
        &spec,
        a.first_seed..a.first_seed + a.seeds,
        threads,
        &mut bar,
    );
    bar.finish();
    let report = report?;
    let elapsed_ms = start.elapsed().as_millis() as u64;
    // The fields of the model the protocol really ran with that differ from the header above
    // (a default timing, links an entry forces, such as FIFO channels for Chandy-Lamport).
    let differing: Vec<(String, String)> = match &report.first_model {
        Some(m) => m
            .fields()
            .iter()
            .filter(|(k, v)| k != "seed" && header.get(k) != Some(v.as_str()))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    if a.sim.json {
        let mut doc = report.to_json();
        doc["model_header"] = json!(header.to_string());
        doc["elapsed_ms"] = json!(elapsed_ms);
        doc["threads"] = json!(threads);
        print_json(&doc);
    } else {
        if !differing.is_empty() {
            let fields: Vec<String> = differing.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "ran with: {} (set by the protocol, as in seed {})",
                fields.join(" "),
                a.first_seed
            );
        }
        print!("{}", report.to_text());
        println!(
            "elapsed: {:.1} s on {threads} thread(s)",
            elapsed_ms as f64 / 1000.0
        );
        if let Some((name, _, t)) = report.properties.iter().find(|(_, _, t)| t.violated > 0) {
            let seed = t.first_violation.as_ref().map(|(s, _)| *s).unwrap_or(0);
            println!(
                "reproduce the first {name} violation: synod sim {} … --seed {seed} (same flags)",
                entry.name
            );
        }
    }
    // Exit 1 when the soak contradicts the catalog: a correct protocol violated a property,
    // or a canary went uncaught on every seed.
    let as_expected = if entry.canary {
        !report.clean()
    } else {
        report.clean()
    };
    Ok(if as_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[allow(clippy::disallowed_methods)] // the CLI injects the wall clock for rates and elapsed time
fn cmd_check(a: CheckArgs) -> Result<ExitCode, LabError> {
    use synod_lab::checks::{find_check, CheckSpec};
    let entry = find_check(&a.protocol)?;
    let spec = CheckSpec {
        nodes: a.nodes,
        clients: a.clients,
        crashes: a.crashes,
        network: a.network,
        symmetry: a.symmetry,
    };
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let opts = synod_check::CheckOptions {
        search: if a.dfs {
            synod_check::Search::Dfs
        } else {
            synod_check::Search::Bfs
        },
        threads,
        max_depth: a.max_depth.or(entry.default_max_depth),
        max_states: a.max_states,
        max_frontier: Some(a.max_frontier),
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut progress = |p: &synod_check::Progress| {
        if tty {
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{} states, {} unique, {:.0} states/s, depth {}, queue {}   ",
                p.total_states,
                p.unique_states,
                p.unique_states as f64 / secs,
                p.depth,
                p.queue
            );
        }
    };
    let outcome = (entry.run)(&spec, &opts, &mut progress)?;
    if tty {
        eprint!("\r{:100}\r", "");
    }
    let elapsed_ms = start.elapsed().as_millis() as u64;
    let mut files = Vec::new();
    if !outcome.violations.is_empty() {
        std::fs::create_dir_all(&a.out)
            .map_err(|e| LabError::new(format!("cannot create {}: {e}", a.out.display())))?;
    }
    for v in &outcome.violations {
        if v.path.is_empty() {
            files.push(None);
            continue;
        }
        let base = a.out.join(format!("{}-{}", entry.name, slug(&v.property)));
        let json_path = base.with_extension("json");
        let doc = json!({
            "synod_counterexample": 1,
            "protocol": entry.name,
            "spec": {"nodes": spec.nodes, "clients": spec.clients, "crashes": spec.crashes,
                     "network": spec.network.map(|n| n.name()), "symmetry": spec.symmetry},
            "property": v.property,
            "expectation": v.expectation,
            "loop_start": v.loop_start,
            "steps": v.path.iter().zip(&v.steps).map(|(i, d)| json!({"index": i.index, "step": d})).collect::<Vec<_>>(),
        });
        std::fs::write(
            &json_path,
            serde_json::to_string_pretty(&doc).expect("JSON"),
        )
        .map_err(|e| LabError::new(format!("cannot write {}: {e}", json_path.display())))?;
        let svg_path = base.with_extension("svg");
        std::fs::write(&svg_path, &v.svg)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", svg_path.display())))?;
        if let Some(history) = &v.history {
            // The counterexample's client history, for `synod lin` (Jepsen EDN).
            let edn_path = base.with_extension("edn");
            std::fs::write(&edn_path, synod_consistency::format::to_edn(history))
                .map_err(|e| LabError::new(format!("cannot write {}: {e}", edn_path.display())))?;
        }
        files.push(Some(json_path.display().to_string()));
    }
    if a.json {
        eprintln!("model: {}", outcome.model);
        let mut doc = outcome.to_json(&files);
        doc["elapsed_ms"] = json!(elapsed_ms);
        doc["threads"] = json!(threads);
        doc["search"] = json!(match (a.dfs, outcome.switched_to_dfs_at) {
            (true, _) => "dfs",
            (false, None) => "bfs",
            (false, Some(_)) => "bfs+dfs",
        });
        print_json(&doc);
    } else {
        println!("model: {}", outcome.model);
        let rate = outcome.unique_states as f64 / (elapsed_ms.max(1) as f64 / 1000.0);
        println!(
            "{} unique states ({} generated), depth {}, {} in {} ms ({:.0} unique states/s, {} thread(s))",
            outcome.unique_states,
            outcome.total_states,
            outcome.max_depth,
            if outcome.complete && outcome.boundary_hit {
                "complete within the boundary: every state inside it explored"
            } else if outcome.complete {
                "complete: every reachable state explored"
            } else if !outcome.violations.is_empty() {
                "stopped at the depth of the first violation"
            } else {
                "bounded: NOT every state explored"
            },
            elapsed_ms,
            rate,
            threads
        );
        for d in &outcome.discoveries {
            println!(
                "  found      sometimes {} (in {} steps)",
                d.property,
                d.steps.len()
            );
        }
        for (v, f) in outcome.violations.iter().zip(&files) {
            if v.path.is_empty() {
                println!(
                    "  VIOLATED   {} {}: never reached in the whole state space",
                    v.expectation, v.property
                );
                continue;
            }
            println!(
                "  VIOLATED   {} {} — counterexample of {} steps:",
                v.expectation,
                v.property,
                v.steps.len()
            );
            for (k, st) in v.steps.iter().enumerate() {
                let mark = if v.loop_start == Some(k) {
                    " <- loop"
                } else {
                    ""
                };
                println!("    {k:>3}. {st}{mark}");
            }
            if let Some(k) = v.loop_start {
                println!(
                    "         ... back in the state after step {k}: a fair run that repeats for ever"
                );
            }
            if let Some(f) = f {
                println!("    saved: {f} (replay: synod sim --replay {f}; diagram beside it)");
            }
        }
        if outcome.violations.is_empty() {
            println!(
                "no violation{}",
                if outcome.complete {
                    ""
                } else {
                    " within the bound"
                }
            );
        }
        if let Some(d) = outcome.switched_to_dfs_at {
            println!(
                "note: level {d} held more than --max-frontier states, so the search went on depth-first from it (counterexamples are still shortest paths, rebuilt afterwards)"
            );
        }
    }
    Ok(if outcome.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_replay(
    path: &std::path::Path,
    svg: Option<&std::path::Path>,
    as_json: bool,
) -> Result<ExitCode, LabError> {
    use synod_lab::checks::{find_check, CheckSpec};
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::new(format!("cannot read {}: {e}", path.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        LabError::new(format!(
            "{} is not a counterexample file: {e}",
            path.display()
        ))
    })?;
    let bad = || {
        LabError::new(format!(
            "{} is not a synod counterexample file (no protocol/steps)",
            path.display()
        ))
    };
    let protocol = doc["protocol"].as_str().ok_or_else(bad)?;
    let entry = find_check(protocol)?;
    let sp = &doc["spec"];
    let spec = CheckSpec {
        nodes: sp["nodes"].as_u64().map(|x| x as usize),
        clients: sp["clients"].as_u64().map(|x| x as usize),
        crashes: sp["crashes"].as_u64().unwrap_or(0) as u8,
        network: match sp["network"].as_str() {
            Some(n) => Some(n.parse().map_err(LabError::new)?),
            None => None,
        },
        symmetry: sp["symmetry"].as_bool().unwrap_or(false),
    };
    let steps: Vec<synod_check::StepIndex> = doc["steps"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|s| {
            s["index"]
                .as_u64()
                .map(|i| synod_check::StepIndex { index: i as usize })
                .ok_or_else(bad)
        })
        .collect::<Result<_, _>>()?;
    let r = (entry.replay)(&spec, &steps)?;
    if let Some(p) = svg {
        std::fs::write(p, &r.svg)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", p.display())))?;
    }
    if as_json {
        print_json(&json!({"protocol": protocol, "steps": r.steps, "failing": r.failing}));
    } else {
        println!("replay of {} ({} steps)", path.display(), r.steps.len());
        for (k, st) in r.steps.iter().enumerate() {
            println!("  {k:>3}. {st}");
        }
        if r.failing.is_empty() {
            println!("no property fails at the end of this path");
        } else {
            println!("fails: {}", r.failing.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_learn(topic: Option<&str>, json: bool) -> Result<ExitCode, LabError> {
    use synod_lab::learn;
    match topic {
        None if json => print_json(&json!({
            "topics": Topic::ALL.iter().map(|t| json!({
                "id": t.id(),
                "title": t.title(),
                "available": learn::page(t.id()).is_some(),
            })).collect::<Vec<_>>(),
        })),
        None => print!("{}", learn::overview_text()),
        Some(id) => {
            let page = learn::page(id).ok_or_else(|| {
                let ids: Vec<&str> = learn::pages().iter().map(|p| p.topic.id()).collect();
                LabError::new(format!("no topic '{id}' (topics: {})", ids.join(", ")))
            })?;
            if json {
                print_json(&page.to_json());
            } else {
                print!("{}", page.to_text());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_experiment(a: ExperimentArgs) -> Result<ExitCode, LabError> {
    let e = find_experiment(&a.id)?;
    let opts = ExpOptions {
        seed: a.seed,
        runs: a.runs,
        quick: a.quick,
    };
    let mut bar = Bar::new(e.id);
    let r = (e.run)(&opts, &mut bar);
    bar.finish();
    let r = r?;
    if let Some(path) = &a.csv {
        std::fs::write(path, r.to_csv())
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(path) = &a.svg {
        if r.figures.is_empty() {
            return Err(LabError::new(format!(
                "experiment {} draws no plot (drop --svg)",
                r.id
            )));
        }
        for (i, f) in r.figures.iter().enumerate() {
            let p = if i == 0 {
                path.clone()
            } else {
                let stem = path.with_extension("");
                PathBuf::from(format!("{}-{}.svg", stem.display(), i + 1))
            };
            std::fs::write(&p, &f.svg)
                .map_err(|e| LabError::new(format!("cannot write {}: {e}", p.display())))?;
        }
    }
    if a.json {
        eprintln!("model: {}", r.model);
        print_json(&r.to_json());
    } else {
        print!("{}", r.to_text());
    }
    Ok(if r.claim.verdict == ClaimVerdict::Unexpected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_tour(a: TourArgs) -> Result<ExitCode, LabError> {
    let mut bar = Bar::new("tour");
    let quiet = a.json;
    let mut on_step = |s: &str| {
        if !quiet {
            eprintln!("running {s}");
        }
    };
    let summary = synod_lab::tour::run_tour(a.seed, &a.out, &mut on_step, &mut bar);
    bar.finish();
    let summary = summary?;
    if a.json {
        print_json(&json!({
            "report": summary.report.display().to_string(),
            "ok": summary.ok(),
            "experiments": summary.experiments.iter().map(|(id, v)| json!({"id": id, "verdict": v.label()})).collect::<Vec<_>>(),
            "simulations": summary.showcases.iter().map(|(p, ok)| json!({"protocol": p, "as_expected": ok})).collect::<Vec<_>>(),
        }));
    } else {
        println!("synod tour (seed {})", a.seed);
        for (id, v) in &summary.experiments {
            println!("  experiment {:<24} {}", id, v.label());
        }
        for (p, ok) in &summary.showcases {
            println!(
                "  simulation {:<24} {}",
                p,
                if *ok { "as expected" } else { "UNEXPECTED" }
            );
        }
        println!("report: {}", summary.report.display());
    }
    Ok(if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    return ExitCode::SUCCESS;
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    return ExitCode::from(2);
                }
                _ => {
                    let text = e.render().to_string();
                    let mut lines = text.lines().map(str::trim);
                    let first = lines.next().unwrap_or("error");
                    let mut first = first.strip_prefix("error: ").unwrap_or(first).to_string();
                    if first.ends_with(':') {
                        // "the following required arguments were not provided:" lists them below.
                        let listed: Vec<&str> = lines
                            .take_while(|l| !l.is_empty() && !l.starts_with("Usage"))
                            .collect();
                        first = format!("{first} {}", listed.join(", "));
                    }
                    eprintln!("synod: {first} (see synod --help)");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let result = match cli.command {
        Command::List { json } => cmd_list(json),
        Command::Sim(a) => cmd_sim(*a),
        Command::Experiment(a) => cmd_experiment(a),
        Command::Tour(a) => cmd_tour(a),
        Command::Soak(a) => cmd_soak(*a),
        Command::Check(a) => cmd_check(*a),
        Command::Lin(a) => lin::cmd_lin(*a),
        Command::Shm(a) => shm::cmd_shm(*a),
        Command::Node(a) => service::cmd_node(*a),
        Command::Cluster(a) => service::cmd_cluster(a),
        Command::Kv(a) => service::cmd_kv(a),
        Command::Stress(a) => service::cmd_stress(a),
        Command::Workbench(a) => workbench::cmd_workbench(*a),
        Command::Learn { topic, json } => cmd_learn(topic.as_deref(), json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("synod: {e}");
            ExitCode::from(2)
        }
    }
}
