//! The real service: `synod node`, `synod cluster up|down`, `synod kv`, `synod stress`.

use clap::{Args, Subcommand};
use serde_json::json;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use synod_core::NodeId;
use synod_kv::client::{ClientOptions, KvClient, KvError};
use synod_kv::cluster::{alive, signal, spawn_node, ClusterFile};
use synod_kv::server::{ServerOptions, Timing};
use synod_kv::stress::{self, Nemesis, StressOptions};
use synod_lab::LabError;

/// Raft timing flags shared by `node` and `cluster up`.
#[derive(Args, Clone, Copy)]
pub struct TimingArgs {
    /// The leader's heartbeat period, in milliseconds.
    #[arg(long, default_value_t = 100)]
    heartbeat_ms: u64,
    /// The election timeout in milliseconds (followers wait a random time in [T, 2T)).
    #[arg(long, default_value_t = 1000)]
    election_ms: u64,
}

impl TimingArgs {
    fn timing(self) -> Timing {
        Timing {
            heartbeat_ms: self.heartbeat_ms,
            election_ms: self.election_ms,
        }
    }
}

/// `synod node`: run one replica.
#[derive(Args)]
pub struct NodeArgs {
    /// This replica's id: n0, n1, ...
    #[arg(long)]
    id: String,
    /// Read the cluster (addresses, data directories, timing) from this cluster file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["listen", "peer"])]
    config: Option<PathBuf>,
    /// The address to listen on (peers and clients).
    #[arg(long, required_unless_present = "config")]
    listen: Option<SocketAddr>,
    /// Another replica: ID=ADDR (repeat for each).
    #[arg(long, value_name = "ID=ADDR")]
    peer: Vec<String>,
    /// The data directory (write-ahead log). Without it the replica keeps its log in memory.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The cluster id every connection must present.
    #[arg(long, default_value_t = 0)]
    cluster_id: u64,
    /// Do not fsync the log (faster, unsafe across power loss; for measuring the difference).
    #[arg(long)]
    no_fsync: bool,
    #[command(flatten)]
    timing: TimingArgs,
}

/// `synod cluster`: a local cluster in the background.
#[derive(Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    action: ClusterAction,
}

#[derive(Subcommand)]
enum ClusterAction {
    /// Start a local cluster in the background; returns once a leader is elected.
    Up {
        /// Replicas.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// The cluster's folder: cluster file, data, logs.
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        timing: TimingArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Stop the cluster started in DIR.
    Down {
        /// The cluster's folder.
        #[arg(long)]
        dir: PathBuf,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// `synod kv`: a client.
#[derive(Args)]
pub struct KvArgs {
    #[command(subcommand)]
    op: KvAction,
    /// The cluster's folder (reads its cluster file).
    #[arg(long, global = true, conflicts_with = "cluster")]
    dir: Option<PathBuf>,
    /// The replicas' addresses, comma-separated, in id order (instead of --dir).
    #[arg(long, global = true, value_delimiter = ',')]
    cluster: Vec<SocketAddr>,
    /// The cluster id (with --cluster).
    #[arg(long, global = true, default_value_t = 0)]
    cluster_id: u64,
    /// Give up after this many seconds.
    #[arg(long, global = true, default_value_t = 10)]
    timeout: u64,
    /// Print one JSON document.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum KvAction {
    /// Print the value of KEY.
    Get {
        /// The key.
        key: String,
    },
    /// Set KEY to VALUE.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Set KEY to NEW if it holds --from (if it is absent, without --from).
    Cas {
        /// The key.
        key: String,
        /// The new value.
        new: String,
        /// The value KEY must hold (omit: KEY must be absent).
        #[arg(long)]
        from: Option<String>,
    },
}

/// `synod stress`: Jepsen-style fault testing of a local cluster.
#[derive(Args)]
pub struct StressArgs {
    /// Replicas.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// How long to run the clients and the nemesis (e.g. 30s, 2m).
    #[arg(long, default_value = "30s")]
    time: synod_core::Duration,
    /// Faults: kill, pause, partition, clock (comma-separated), all, or none.
    #[arg(long, default_value = "all")]
    nemesis: String,
    /// The seed for the clients' choices and the fault schedule.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keys the clients work on.
    #[arg(long, default_value_t = 5)]
    keys: usize,
    /// Keep the cluster's data, logs and the history here (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Raft's heartbeat in the replicas (ms).
    #[arg(long, default_value_t = 50)]
    heartbeat_ms: u64,
    /// Raft's election timeout in the replicas (ms).
    #[arg(long, default_value_t = 300)]
    election_ms: u64,
    /// Run a deliberately broken cluster the test must catch: `unconfirmed-reads` (leaders
    /// answer reads without confirming they still lead).
    #[arg(long, value_name = "CANARY")]
    canary: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, LabError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LabError::new(format!("cannot start the async runtime: {e}")))
}

fn parse_id(s: &str) -> Result<NodeId, LabError> {
    s.strip_prefix('n')
        .and_then(|d| d.parse::<u32>().ok())
        .map(NodeId)
        .ok_or_else(|| LabError::new(format!("bad node id `{s}`: use n0, n1, ...")))
}

/// `synod node`.
pub fn cmd_node(a: NodeArgs) -> Result<ExitCode, LabError> {
    let id = parse_id(&a.id)?;
    let opts = match &a.config {
        Some(path) => {
            let file = ClusterFile::read(path).map_err(LabError::new)?;
            let entry = file.node.get(id.index()).ok_or_else(|| {
                LabError::new(format!(
                    "{} has no node {id} ({} nodes)",
                    path.display(),
                    file.node.len()
                ))
            })?;
            ServerOptions {
                id,
                nodes: file.addrs(),
                data_dir: a.data.clone().or_else(|| entry.data.clone()),
                cluster: file.cluster,
                fsync: file.fsync && !a.no_fsync,
                timing: file.timing(),
                request_timeout: Duration::from_secs(2),
                canary_unconfirmed_reads: file.canary_unconfirmed_reads,
            }
        }
        None => {
            let listen = a.listen.expect("clap requires --listen without --config");
            let mut nodes = std::collections::BTreeMap::from([(id.0, listen)]);
            for p in &a.peer {
                let (pid, addr) = p.split_once('=').ok_or_else(|| {
                    LabError::new(format!(
                        "bad --peer `{p}`: use ID=ADDR, e.g. n2=127.0.0.1:7002"
                    ))
                })?;
                let addr: SocketAddr = addr
                    .parse()
                    .map_err(|e| LabError::new(format!("bad address in --peer `{p}`: {e}")))?;
                if nodes.insert(parse_id(pid)?.0, addr).is_some() {
                    return Err(LabError::new(format!("node {pid} is given twice")));
                }
            }
            if nodes.keys().copied().ne(0..nodes.len() as u32) {
                return Err(LabError::new(format!(
                    "the replicas must be n0..n{} with none missing (got {:?})",
                    nodes.len() - 1,
                    nodes.keys().map(|k| format!("n{k}")).collect::<Vec<_>>()
                )));
            }
            ServerOptions {
                id,
                nodes: nodes.into_values().collect(),
                data_dir: a.data.clone(),
                cluster: a.cluster_id,
                fsync: !a.no_fsync,
                timing: a.timing.timing(),
                request_timeout: Duration::from_secs(2),
                canary_unconfirmed_reads: false,
            }
        }
    };
    eprintln!(
        "synod node {id}: listening on {}, {} replicas, data {}, fsync {}, heartbeat {} ms, election {} ms",
        opts.nodes[id.index()],
        opts.nodes.len(),
        opts.data_dir.as_ref().map_or("in memory".into(), |d| d.display().to_string()),
        if opts.fsync { "on" } else { "off" },
        opts.timing.heartbeat_ms,
        opts.timing.election_ms
    );
    runtime()?
        .block_on(synod_kv::server::serve(opts))
        .map_err(|e| LabError::new(format!("node {id} stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// `synod cluster up|down`.
pub fn cmd_cluster(a: ClusterArgs) -> Result<ExitCode, LabError> {
    match a.action {
        ClusterAction::Up {
            nodes,
            dir,
            timing,
            json,
        } => cluster_up(nodes, &dir, timing.timing(), json),
        ClusterAction::Down { dir, json } => cluster_down(&dir, json),
    }
}

fn cluster_up(n: usize, dir: &Path, timing: Timing, json: bool) -> Result<ExitCode, LabError> {
    if !(1..=9).contains(&n) {
        return Err(LabError::new(format!("--nodes {n}: use 1 to 9 replicas")));
    }
    if let Ok(old) = ClusterFile::read_dir(dir) {
        if old.node.iter().any(|e| e.pid.is_some_and(alive)) {
            return Err(LabError::new(format!(
                "a cluster is already running in {}: stop it with `synod cluster down --dir {}`",
                dir.display(),
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| LabError::new(format!("cannot create {}: {e}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| LabError::new(format!("cannot use {}: {e}", dir.display())))?;
    let cluster_id = std::process::id() as u64;
    let mut file = ClusterFile::local(n, &dir, cluster_id, timing)
        .map_err(|e| LabError::new(format!("cannot pick ports: {e}")))?;
    let path = dir.join(ClusterFile::NAME);
    let save = |file: &ClusterFile| {
        file.write(&path)
            .map_err(|e| LabError::new(format!("cannot write {}: {e}", path.display())))
    };
    save(&file)?;
    let exe = std::env::current_exe()
        .map_err(|e| LabError::new(format!("cannot find the synod binary: {e}")))?;
    for i in 0..n {
        let log = dir.join(format!("n{i}.log"));
        let child = spawn_node(&exe, &path, i as u32, &log)
            .map_err(|e| LabError::new(format!("cannot start n{i}: {e}")))?;
        file.node[i].pid = Some(child.id());
    }
    save(&file)?;
    let took = runtime()?
        .block_on(synod_kv::wait_for_leader(
            file.addrs(),
            cluster_id,
            Duration::from_secs(30),
        ))
        .map_err(|e| {
            LabError::new(format!(
                "{e}; the replicas' logs are in {} (stop them with `synod cluster down --dir {}`)",
                dir.display(),
                dir.display()
            ))
        })?;
    if json {
        let nodes: Vec<_> = file
            .node
            .iter()
            .map(|e| json!({"id": format!("n{}", e.id), "addr": e.addr.to_string(), "pid": e.pid}))
            .collect();
        println!(
            "{}",
            json!({"dir": dir, "nodes": nodes, "leader_elected_ms": took.as_millis() as u64})
        );
    } else {
        println!("cluster of {n} up in {}", dir.display());
        for e in &file.node {
            println!("  n{}  {}  pid {}", e.id, e.addr, e.pid.unwrap_or(0));
        }
        println!("leader elected after {} ms", took.as_millis());
        println!(
            "try: synod kv put k v --dir {0}; synod kv get k --dir {0}; synod cluster down --dir {0}",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cluster_down(dir: &Path, json: bool) -> Result<ExitCode, LabError> {
    let mut file = ClusterFile::read_dir(dir).map_err(LabError::new)?;
    let mut stopped = Vec::new();
    for e in &file.node {
        if let Some(pid) = e.pid.filter(|&p| alive(p)) {
            let _ = signal(pid, "CONT");
            let _ = signal(pid, "TERM");
            stopped.push(pid);
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stopped.iter().any(|&p| alive(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &p in stopped.iter().filter(|&&p| alive(p)) {
        let _ = signal(p, "KILL");
    }
    for e in &mut file.node {
        e.pid = None;
    }
    file.write(&dir.join(ClusterFile::NAME))
        .map_err(|e| LabError::new(format!("cannot update the cluster file: {e}")))?;
    if json {
        println!("{}", json!({"dir": dir, "stopped": stopped.len()}));
    } else {
        println!("stopped {} replica(s) in {}", stopped.len(), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `synod kv`.
pub fn cmd_kv(a: KvArgs) -> Result<ExitCode, LabError> {
    let (nodes, cluster) = match (&a.dir, a.cluster.is_empty()) {
        (Some(dir), _) => {
            let f = ClusterFile::read_dir(dir).map_err(LabError::new)?;
            (f.addrs(), f.cluster)
        }
        (None, false) => (a.cluster.clone(), a.cluster_id),
        (None, true) => {
            return Err(LabError::new(
                "say where the cluster is: --dir DIR (from `synod cluster up`) or --cluster ADDR,ADDR,...",
            ))
        }
    };
    // A fresh client id per invocation: its session must not collide with another client's.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let id = nanos ^ (u64::from(std::process::id()) << 40);
    let opts = ClientOptions {
        cluster,
        op_timeout: Duration::from_secs(a.timeout.max(1)),
        ..ClientOptions::default()
    };
    let rt = runtime()?;
    let mut client = KvClient::new(nodes, id, opts);
    let fail = |what: &str, e: KvError| {
        let code = if e.is_indefinite() { 3 } else { 2 };
        eprintln!("synod: kv {what}: {e}");
        Ok(ExitCode::from(code))
    };
    match a.op {
        KvAction::Get { key } => match rt.block_on(client.get(&key)) {
            Ok(v) => {
                if a.json {
                    println!(
                        "{}",
                        json!({"key": key, "value": v, "leader": leader(&client)})
                    );
                } else if let Some(v) = v {
                    println!("{v}");
                } else {
                    eprintln!("synod: kv get: `{key}` is absent");
                    return Ok(ExitCode::from(1));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => fail("get", e),
        },
        KvAction::Put { key, value } => match rt.block_on(client.put(&key, &value)) {
            Ok(()) => {
                if a.json {
                    println!(
                        "{}",
                        json!({"key": key, "value": value, "ok": true, "leader": leader(&client)})
                    );
                } else {
                    println!("ok");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => fail("put", e),
        },
        KvAction::Cas { key, new, from } => {
            match rt.block_on(client.cas(&key, from.as_deref(), &new)) {
                Ok(Ok(())) => {
                    if a.json {
                        println!("{}", json!({"key": key, "swapped": true}));
                    } else {
                        println!("ok");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Err(current)) => {
                    if a.json {
                        println!(
                            "{}",
                            json!({"key": key, "swapped": false, "current": current})
                        );
                    } else {
                        eprintln!(
                            "synod: kv cas: `{key}` holds {}, not {}: nothing changed",
                            current.map_or("nothing".into(), |c| format!("`{c}`")),
                            from.map_or("nothing".into(), |c| format!("`{c}`"))
                        );
                    }
                    Ok(ExitCode::from(1))
                }
                Err(e) => fail("cas", e),
            }
        }
    }
}

fn leader(c: &KvClient) -> Option<String> {
    c.leader().map(|n| n.to_string())
}

/// `synod stress`.
pub fn cmd_stress(a: StressArgs) -> Result<ExitCode, LabError> {
    let nemesis = Nemesis::parse_list(&a.nemesis).map_err(LabError::new)?;
    let canary_unconfirmed_reads = match a.canary.as_deref() {
        None => false,
        Some("unconfirmed-reads") => true,
        Some(other) => {
            return Err(LabError::new(format!(
                "unknown canary `{other}`: the one canary is unconfirmed-reads"
            )))
        }
    };
    let exe = std::env::current_exe()
        .map_err(|e| LabError::new(format!("cannot find the synod binary: {e}")))?;
    let opts = StressOptions {
        nodes: a.nodes,
        clients: a.clients,
        time: Duration::from_nanos(a.time.as_nanos()),
        nemesis,
        seed: a.seed,
        keys: a.keys,
        dir: a.dir,
        exe,
        timing: Timing {
            heartbeat_ms: a.heartbeat_ms,
            election_ms: a.election_ms,
        },
        canary_unconfirmed_reads,
    };
    let chatty = !a.json && std::io::stderr().is_terminal();
    let report = runtime()?
        .block_on(stress::run(opts, |line| {
            if chatty {
                eprintln!("stress: {line}");
            }
        }))
        .map_err(LabError::new)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("a report serializes")
        );
    } else {
        print!("{}", stress::summary(&report));
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
