//! `synod stress`: a Jepsen-style test of the real service.
//!
//! A local cluster of replica *processes*; `clients` concurrent clients doing gets, puts (each
//! of a unique value) and compare-and-sets on a few keys; a nemesis that, one fault at a time,
//! kills a replica with SIGKILL and restarts it from its log (`kill`), freezes one with
//! SIGSTOP/SIGCONT (`pause`), cuts the cluster in two through the runtime's fault layer
//! (`partition`: CI kernels may lack netem; every other cut puts the current leader on the
//! minority side), or runs a replica's clock fast, slow or forward
//! (`clock`). At the end every fault is healed, a leader is awaited, and every key is read once
//! more. The recorded history (invocation and completion times; definite failures left out,
//! indefinite ones open to the end) is checked for linearizability per key by
//! [`synod_consistency`], and for *lost acknowledged writes*: an acknowledged write that is
//! the last one in real time on its key (every other write to the key finished before it
//! began) whose value the final read does not return.
//!
//! Clients start each operation at the next replica in turn and follow redirects from there
//! (like clients behind a load balancer), so a deposed leader that has not heard of its
//! successor keeps getting requests: that is where stale reads would show.
//!
//! One seed drives the clients' operation choices and the nemesis schedule, and is printed;
//! the processes run in real time, so their interleaving is not reproducible.

use crate::client::{ClientOptions, KvClient, KvError};
use crate::cluster::{signal, spawn_node, ClusterFile};
use crate::proto::Fault;
use crate::server::Timing;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use synod_consistency::format::{event_positions, to_edn, Completion, Recorded, RecordedOp, Value};
use synod_consistency::models::{check_recorded, CheckOptions, Model};
use synod_core::{NodeId, Prng};

/// A kind of fault the nemesis injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nemesis {
    /// SIGKILL a replica, restart it from its log.
    Kill,
    /// SIGSTOP a replica, SIGCONT it later.
    Pause,
    /// Cut the cluster into two sides.
    Partition,
    /// Skew a replica's clock (rate or jump).
    Clock,
}

impl Nemesis {
    /// Every kind.
    pub const ALL: [Nemesis; 4] = [
        Nemesis::Kill,
        Nemesis::Pause,
        Nemesis::Partition,
        Nemesis::Clock,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Nemesis::Kill => "kill",
            Nemesis::Pause => "pause",
            Nemesis::Partition => "partition",
            Nemesis::Clock => "clock",
        }
    }

    /// Parses a comma-separated list (`kill,pause,partition,clock`, or `all`, or `none`).
    pub fn parse_list(s: &str) -> Result<Vec<Nemesis>, String> {
        match s {
            "all" => return Ok(Nemesis::ALL.to_vec()),
            "none" | "" => return Ok(Vec::new()),
            _ => {}
        }
        let mut out = Vec::new();
        for part in s.split(',') {
            let n = Nemesis::ALL
                .into_iter()
                .find(|n| n.name() == part.trim())
                .ok_or_else(|| {
                    format!("unknown nemesis `{part}`: use kill, pause, partition, clock (comma-separated), all or none")
                })?;
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(out)
    }
}

/// How to run a stress test.
#[derive(Clone, Debug)]
pub struct StressOptions {
    /// Replicas (3 or 5).
    pub nodes: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// How long the clients and the nemesis run.
    pub time: Duration,
    /// The faults to inject.
    pub nemesis: Vec<Nemesis>,
    /// The seed for operation choices and the fault schedule.
    pub seed: u64,
    /// Keys the clients work on.
    pub keys: usize,
    /// Where to keep the cluster's data, logs and the history (a fresh folder under the
    /// system's temporary directory if `None`).
    pub dir: Option<PathBuf>,
    /// The `synod` binary that runs replicas.
    pub exe: PathBuf,
    /// Raft's timing in the replicas.
    pub timing: Timing,
    /// CANARY: run replicas that serve reads without confirming the leadership; the test
    /// should then find stale reads.
    pub canary_unconfirmed_reads: bool,
}

/// One fault, as the nemesis injected it.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRecord {
    /// Seconds since the clients started.
    pub at_s: f64,
    /// The kind.
    pub kind: Nemesis,
    /// What exactly.
    pub detail: String,
}

/// What a stress test found.
#[derive(Clone, Debug, Serialize)]
pub struct StressReport {
    /// The seed.
    pub seed: u64,
    /// Replicas.
    pub nodes: usize,
    /// Clients.
    pub clients: usize,
    /// True if the replicas ran the unconfirmed-reads canary.
    pub canary_unconfirmed_reads: bool,
    /// Client operations recorded (the final reads included).
    pub ops: usize,
    /// Operations that completed `ok`.
    pub ok: usize,
    /// Operations that certainly did not happen (or CAS mismatches).
    pub failed: usize,
    /// Operations whose outcome is unknown.
    pub indefinite: usize,
    /// Faults injected.
    pub faults_injected: usize,
    /// The faults, in order.
    pub faults: Vec<FaultRecord>,
    /// Consistency anomalies found (0 when the history is linearizable).
    pub anomalies: usize,
    /// What the checker said, for a human.
    pub checker: String,
    /// Acknowledged writes the final state lost (see the module documentation).
    pub lost_acknowledged_writes: usize,
    /// True if the history is linearizable and no acknowledged write was lost.
    pub valid: bool,
    /// Where the history (`history.edn`), replica logs and cluster file are.
    pub dir: PathBuf,
    /// Seconds the whole test took.
    pub elapsed_s: f64,
}

/// One client operation as recorded.
#[derive(Clone, Debug)]
struct Rec {
    process: u64,
    f: &'static str,
    key: String,
    value: Value,
    completion: Completion,
    call: u64,
    ret: Option<u64>,
}

/// The recorded history, shared by the client tasks.
#[derive(Clone)]
struct Recorder {
    start: Instant,
    ops: Arc<Mutex<Vec<Rec>>>,
}

impl Recorder {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn push(&self, r: Rec) {
        self.ops.lock().expect("history lock").push(r);
    }
}

/// The replica processes.
struct Procs {
    exe: PathBuf,
    file: PathBuf,
    dir: PathBuf,
    children: Vec<Option<Child>>,
    paused: Vec<bool>,
}

impl Procs {
    fn start(&mut self, i: usize) -> Result<(), String> {
        let log = self.dir.join(format!("n{i}.log"));
        let child = spawn_node(&self.exe, &self.file, i as u32, &log)
            .map_err(|e| format!("cannot start replica n{i}: {e}"))?;
        self.children[i] = Some(child);
        Ok(())
    }
    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = signal(c.id(), "KILL");
            let _ = c.wait();
        }
        self.paused[i] = false;
    }
    fn signal(&mut self, i: usize, sig: &str) {
        if let Some(c) = &self.children[i] {
            let _ = signal(c.id(), sig);
            self.paused[i] = sig == "STOP";
        }
    }
    fn stop_all(&mut self) {
        for i in 0..self.children.len() {
            self.signal(i, "CONT");
            self.signal(i, "TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for c in self.children.iter_mut().flatten() {
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = signal(c.id(), "CONT");
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs a stress test; `progress` is called with a line now and then.
pub async fn run(opts: StressOptions, progress: impl Fn(&str)) -> Result<StressReport, String> {
    if !(1..=9).contains(&opts.nodes) {
        return Err(format!(
            "--nodes {}: use 1 to 9 replicas (3 or 5 is typical)",
            opts.nodes
        ));
    }
    if opts.clients == 0 || opts.keys == 0 {
        return Err("--clients and the number of keys must be at least 1".into());
    }
    let began = Instant::now();
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => {
            std::env::temp_dir().join(format!("synod-stress-{}-{}", opts.seed, std::process::id()))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let cluster_id = opts.seed ^ 0x5157_4e4f_4400_0000;
    let mut file = ClusterFile::local(opts.nodes, &dir, cluster_id, opts.timing)
        .map_err(|e| format!("cannot pick ports: {e}"))?;
    file.canary_unconfirmed_reads = opts.canary_unconfirmed_reads;
    let file_path = dir.join(ClusterFile::NAME);
    file.write(&file_path)
        .map_err(|e| format!("cannot write {}: {e}", file_path.display()))?;
    let addrs = file.addrs();
    let mut procs = Procs {
        exe: opts.exe.clone(),
        file: file_path,
        dir: dir.clone(),
        children: (0..opts.nodes).map(|_| None).collect(),
        paused: vec![false; opts.nodes],
    };
    for i in 0..opts.nodes {
        procs.start(i)?;
    }
    crate::wait_for_leader(addrs.clone(), cluster_id, Duration::from_secs(30)).await?;
    progress(&format!(
        "cluster of {} up in {}; seed {}",
        opts.nodes,
        dir.display(),
        opts.seed
    ));

    let rec = Recorder {
        start: Instant::now(),
        ops: Arc::new(Mutex::new(Vec::new())),
    };
    let deadline = rec.start + opts.time;
    let keys: Vec<String> = (0..opts.keys).map(|k| format!("k{k}")).collect();
    let mut tasks = Vec::new();
    for c in 0..opts.clients {
        let (rec, keys, addrs) = (rec.clone(), keys.clone(), addrs.clone());
        let mut prng = Prng::derive(opts.seed, 100 + c as u64);
        let stride = opts.clients as u64;
        tasks.push(tokio::spawn(async move {
            client_loop(
                c as u64, stride, &mut prng, &rec, &keys, addrs, cluster_id, deadline,
            )
            .await
        }));
    }
    let mut faults = Vec::new();
    nemesis(
        &opts,
        &mut procs,
        &addrs,
        cluster_id,
        &rec,
        deadline,
        &mut faults,
    )
    .await?;
    for t in tasks {
        let _ = t.await;
    }
    progress(&format!(
        "{} faults injected; healing and reading every key",
        faults.len()
    ));
    heal(&mut procs, &addrs, cluster_id).await?;
    crate::wait_for_leader(addrs.clone(), cluster_id, Duration::from_secs(30)).await?;
    let final_process = 1_000_000;
    let mut reader = KvClient::new(addrs.clone(), final_process, client_options(cluster_id));
    for key in &keys {
        read_once(&mut reader, final_process, key, &rec).await;
    }
    procs.stop_all();

    let ops = std::mem::take(&mut *rec.ops.lock().expect("history lock"));
    let recorded = to_recorded(&ops);
    std::fs::write(dir.join("history.edn"), to_edn(&recorded))
        .map_err(|e| format!("cannot save the history: {e}"))?;
    let report = check_recorded(&recorded, &CheckOptions::new(Model::Kv))
        .map_err(|e| format!("the recorded history does not fit the kv model: {e}"))?;
    let anomalies = match report.valid {
        Some(true) => 0,
        _ => report.anomalies.len().max(1),
    };
    let checker = match report.valid {
        Some(true) => format!("linearizable ({} keys)", report.parts),
        Some(false) => report
            .anomalies
            .first()
            .map_or("not linearizable".into(), |a| a.explanation.clone()),
        None => "unknown: the checker ran out of budget".into(),
    };
    let lost = lost_acknowledged_writes(&ops, final_process);
    let count = |pred: fn(&Completion) -> bool| ops.iter().filter(|o| pred(&o.completion)).count();
    Ok(StressReport {
        seed: opts.seed,
        nodes: opts.nodes,
        clients: opts.clients,
        canary_unconfirmed_reads: opts.canary_unconfirmed_reads,
        ops: ops.len(),
        ok: count(|c| matches!(c, Completion::Ok(_))),
        failed: count(|c| matches!(c, Completion::Fail(_))),
        indefinite: count(|c| matches!(c, Completion::Unknown(_))),
        faults_injected: faults.len(),
        faults,
        anomalies,
        checker,
        lost_acknowledged_writes: lost,
        valid: anomalies == 0 && lost == 0,
        dir,
        elapsed_s: began.elapsed().as_secs_f64(),
    })
}

fn client_options(cluster: u64) -> ClientOptions {
    ClientOptions {
        cluster,
        attempt_timeout: Duration::from_millis(1000),
        op_timeout: Duration::from_secs(4),
        backoff: Duration::from_millis(20),
        spread: true,
    }
}

fn some_str(v: Option<String>) -> Value {
    v.map_or(Value::Nil, Value::Str)
}

async fn read_once(c: &mut KvClient, process: u64, key: &str, rec: &Recorder) {
    let call = rec.now();
    let got = c.get(key).await;
    let ret = rec.now();
    let completion = match got {
        Ok(v) => Completion::Ok(some_str(v)),
        Err(_) => return, // a read that failed did nothing: leave it out
    };
    rec.push(Rec {
        process,
        f: "read",
        key: key.into(),
        value: Value::Nil,
        completion,
        call,
        ret: Some(ret),
    });
}

/// One client: operations back to back until the deadline. After an indefinite failure the
/// operation stays open forever, so the client continues as a new process (and session).
#[allow(clippy::too_many_arguments)]
async fn client_loop(
    first: u64,
    stride: u64,
    prng: &mut Prng,
    rec: &Recorder,
    keys: &[String],
    addrs: Vec<SocketAddr>,
    cluster: u64,
    deadline: Instant,
) {
    let mut process = first;
    let mut client = KvClient::new(addrs.clone(), process, client_options(cluster));
    let mut last_seen: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let key = keys[prng.below(keys.len() as u64) as usize].clone();
        n += 1;
        let fresh = format!("{process}.{n}");
        let call = rec.now();
        let (f, value, outcome) = match prng.below(10) {
            0..=3 => {
                let r = client.get(&key).await;
                if let Ok(v) = &r {
                    last_seen.insert(key.clone(), v.clone());
                }
                ("read", Value::Nil, r.map(|v| Ok(some_str(v))))
            }
            4..=7 => {
                let r = client.put(&key, &fresh).await;
                (
                    "write",
                    Value::Str(fresh.clone()),
                    r.map(|()| Ok(Value::Str(fresh))),
                )
            }
            _ => {
                let from = last_seen.get(&key).cloned().flatten();
                let pair = Value::List(vec![some_str(from.clone()), Value::Str(fresh.clone())]);
                let r = client.cas(&key, from.as_deref(), &fresh).await;
                let r = r.map(|res| match res {
                    Ok(()) => Ok(pair.clone()),
                    Err(_current) => Err(pair.clone()),
                });
                ("cas", pair, r)
            }
        };
        let ret = rec.now();
        let (completion, ret) = match outcome {
            Ok(Ok(v)) => (Completion::Ok(v), Some(ret)),
            Ok(Err(v)) => (Completion::Fail(v), Some(ret)),
            // Definitely did not happen and observed nothing: not part of the history.
            Err(KvError::Definite(_)) => continue,
            Err(KvError::Indefinite(why)) => (Completion::Unknown(Value::Str(why)), None),
        };
        let open = ret.is_none();
        rec.push(Rec {
            process,
            f,
            key,
            value,
            completion,
            call,
            ret,
        });
        if open {
            process += stride;
            client = KvClient::new(addrs.clone(), process, client_options(cluster));
        }
    }
}

/// Injects faults one at a time until the deadline.
async fn nemesis(
    opts: &StressOptions,
    procs: &mut Procs,
    addrs: &[SocketAddr],
    cluster: u64,
    rec: &Recorder,
    deadline: Instant,
    faults: &mut Vec<FaultRecord>,
) -> Result<(), String> {
    if opts.nemesis.is_empty() {
        tokio::time::sleep_until(deadline.into()).await;
        return Ok(());
    }
    let mut prng = Prng::derive(opts.seed, 1);
    let n = opts.nodes;
    let ms =
        |prng: &mut Prng, lo: u64, hi: u64| Duration::from_millis(prng.range_inclusive(lo, hi));
    let mut admin = KvClient::new(addrs.to_vec(), u64::MAX - 2, client_options(cluster));
    loop {
        let quiet = ms(&mut prng, 500, 1500);
        let kind = opts.nemesis[prng.below(opts.nemesis.len() as u64) as usize];
        let hold = ms(&mut prng, 1000, 3000);
        if Instant::now() + quiet + hold > deadline {
            break;
        }
        tokio::time::sleep(quiet).await;
        let node = prng.below(n as u64) as usize;
        let at_s = rec.start.elapsed().as_secs_f64();
        let detail = match kind {
            Nemesis::Kill => {
                procs.kill(node);
                tokio::time::sleep(hold).await;
                procs.start(node)?;
                format!("kill -9 n{node}, restarted after {hold:?}")
            }
            Nemesis::Pause => {
                procs.signal(node, "STOP");
                tokio::time::sleep(hold).await;
                procs.signal(node, "CONT");
                format!("SIGSTOP n{node} for {hold:?}")
            }
            Nemesis::Partition => {
                let mut all: Vec<usize> = (0..n).collect();
                prng.shuffle(&mut all);
                // Every other partition cuts the current leader off with a minority: the
                // cut that tests what a deposed leader does.
                if prng.below(2) == 0 {
                    if let Some(l) = current_leader(&mut admin, n).await {
                        let at = all.iter().position(|&i| i == l).expect("a node");
                        all.swap(0, at);
                    }
                }
                let k = 1 + prng.below(((n - 1) / 2).max(1) as u64) as usize;
                let (side, rest) = all.split_at(k.min(n));
                let ids = |v: &[usize]| v.iter().map(|&i| NodeId(i as u32)).collect::<Vec<_>>();
                for &i in side {
                    let _ = admin.fault(i, Fault::Isolate(ids(rest))).await;
                }
                for &i in rest {
                    let _ = admin.fault(i, Fault::Isolate(ids(side))).await;
                }
                tokio::time::sleep(hold).await;
                for i in 0..n {
                    let _ = admin.fault(i, Fault::Heal).await;
                }
                format!("partition {:?} | {:?} for {hold:?}", ids(side), ids(rest))
            }
            Nemesis::Clock => {
                let fault = match prng.below(3) {
                    0 => Fault::ClockRate(2.0),
                    1 => Fault::ClockRate(0.5),
                    _ => Fault::ClockJump(prng.range_inclusive(500, 5000)),
                };
                let what = format!("{fault:?} on n{node} for {hold:?}");
                let _ = admin.fault(node, fault).await;
                tokio::time::sleep(hold).await;
                let _ = admin.fault(node, Fault::Heal).await;
                what
            }
        };
        faults.push(FaultRecord { at_s, kind, detail });
    }
    tokio::time::sleep_until(deadline.into()).await;
    Ok(())
}

/// The replica that most recently became leader (the highest term led), as the replicas say.
async fn current_leader(admin: &mut KvClient, n: usize) -> Option<usize> {
    let mut best: Option<(u64, usize)> = None;
    for i in 0..n {
        if let Ok(st) = admin.status(i).await {
            if st.led_term > 0 && best.is_none_or(|(t, _)| st.led_term > t) {
                best = Some((st.led_term, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// Ends every fault: resumes paused replicas, restarts dead ones, heals every link and clock.
async fn heal(procs: &mut Procs, addrs: &[SocketAddr], cluster: u64) -> Result<(), String> {
    for i in 0..procs.children.len() {
        if procs.paused[i] {
            procs.signal(i, "CONT");
        }
        if procs.children[i].is_none() {
            procs.start(i)?;
        }
    }
    let mut admin = KvClient::new(addrs.to_vec(), u64::MAX - 3, client_options(cluster));
    for i in 0..addrs.len() {
        let _ = admin.fault(i, Fault::Heal).await;
    }
    Ok(())
}

fn to_recorded(ops: &[Rec]) -> Recorded {
    let times: Vec<(u64, Option<u64>)> = ops.iter().map(|o| (o.call, o.ret)).collect();
    let (call, ret, by_call) = event_positions(&times);
    let ops = by_call
        .into_iter()
        .enumerate()
        .map(|(line, i)| {
            let o = &ops[i];
            RecordedOp {
                process: o.process,
                f: o.f.into(),
                key: Some(Value::Str(o.key.clone())),
                value: o.value.clone(),
                completion: o.completion.clone(),
                call: call[i],
                ret: ret[i],
                call_nanos: Some(o.call),
                ret_nanos: o.ret,
                line: line + 1,
            }
        })
        .collect();
    Recorded {
        ops,
        skipped_events: 0,
    }
}

/// The written value of a write or successful CAS.
fn written(o: &Rec) -> Option<&Value> {
    match (o.f, &o.value) {
        ("write", v) => Some(v),
        ("cas", Value::List(pair)) if pair.len() == 2 => Some(&pair[1]),
        _ => None,
    }
}

/// Acknowledged writes that are last in real time on their key but whose value the final
/// read (by `final_process`) does not return.
fn lost_acknowledged_writes(ops: &[Rec], final_process: u64) -> usize {
    let finals: BTreeMap<&str, &Value> = ops
        .iter()
        .filter(|o| o.process == final_process)
        .filter_map(|o| match &o.completion {
            Completion::Ok(v) => Some((o.key.as_str(), v)),
            _ => None,
        })
        .collect();
    let writes: Vec<&Rec> = ops
        .iter()
        .filter(|o| written(o).is_some() && !matches!(o.completion, Completion::Fail(_)))
        .collect();
    let mut lost = 0;
    for w in writes
        .iter()
        .filter(|w| matches!(w.completion, Completion::Ok(_)))
    {
        let Some(final_value) = finals.get(w.key.as_str()) else {
            continue;
        };
        let last = writes
            .iter()
            .filter(|o| o.key == w.key && !std::ptr::eq(**o, *w))
            .all(|o| o.ret.is_some_and(|r| r < w.call));
        if last && written(w) != Some(final_value) {
            lost += 1;
        }
    }
    lost
}

/// Writes a human summary of `r`.
pub fn summary(r: &StressReport) -> String {
    let mut s = format!(
        "stress: {} replicas, {} clients, seed {}, {:.1} s\n",
        r.nodes, r.clients, r.seed, r.elapsed_s
    );
    if r.canary_unconfirmed_reads {
        s += "CANARY: leaders answer reads without confirming they still lead\n";
    }
    s += &format!(
        "operations: {} ({} ok, {} failed, {} indefinite)\n",
        r.ops, r.ok, r.failed, r.indefinite
    );
    s += &format!("faults injected: {}\n", r.faults_injected);
    for f in &r.faults {
        s += &format!("  {:>6.1}s  {:<9} {}\n", f.at_s, f.kind.name(), f.detail);
    }
    s += &format!("checker: {}\n", r.checker);
    s += &format!(
        "anomalies: {}   lost acknowledged writes: {}\n",
        r.anomalies, r.lost_acknowledged_writes
    );
    s += &format!(
        "history: {}\n",
        Path::new(&r.dir).join("history.edn").display()
    );
    s += if r.valid {
        "verdict: VALID\n"
    } else {
        "verdict: INVALID\n"
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(process: u64, key: &str, v: &str, call: u64, ret: Option<u64>, ok: bool) -> Rec {
        Rec {
            process,
            f: "write",
            key: key.into(),
            value: Value::Str(v.into()),
            completion: if ok {
                Completion::Ok(Value::Str(v.into()))
            } else {
                Completion::Unknown(Value::Nil)
            },
            call,
            ret,
        }
    }

    fn final_read(key: &str, v: Option<&str>, at: u64) -> Rec {
        Rec {
            process: 99,
            f: "read",
            key: key.into(),
            value: Value::Nil,
            completion: Completion::Ok(v.map_or(Value::Nil, |s| Value::Str(s.into()))),
            call: at,
            ret: Some(at + 1),
        }
    }

    #[test]
    fn the_last_acknowledged_write_must_survive() {
        // a then b, one after the other: b is last; the final read returns a: b was lost.
        let ops = vec![
            w(1, "k", "a", 0, Some(10), true),
            w(2, "k", "b", 20, Some(30), true),
            final_read("k", Some("a"), 100),
        ];
        assert_eq!(lost_acknowledged_writes(&ops, 99), 1);
        // The final read returns b: nothing lost.
        let ops = vec![
            w(1, "k", "a", 0, Some(10), true),
            w(2, "k", "b", 20, Some(30), true),
            final_read("k", Some("b"), 100),
        ];
        assert_eq!(lost_acknowledged_writes(&ops, 99), 0);
        // Concurrent writes: either may win, neither counts as lost.
        let ops = vec![
            w(1, "k", "a", 0, Some(30), true),
            w(2, "k", "b", 10, Some(20), true),
            final_read("k", Some("a"), 100),
        ];
        assert_eq!(lost_acknowledged_writes(&ops, 99), 0);
        // An indefinite write may land any time later: it may have overwritten b.
        let ops = vec![
            w(2, "k", "b", 20, Some(30), true),
            w(3, "k", "c", 0, None, false),
            final_read("k", Some("c"), 100),
        ];
        assert_eq!(lost_acknowledged_writes(&ops, 99), 0);
        // A key that reads as absent after an acknowledged write lost it.
        let ops = vec![
            w(1, "k", "a", 0, Some(10), true),
            final_read("k", None, 100),
        ];
        assert_eq!(lost_acknowledged_writes(&ops, 99), 1);
    }

    #[test]
    fn nemesis_lists_parse_and_reject_unknown_names() {
        assert_eq!(
            Nemesis::parse_list("kill,pause").unwrap(),
            vec![Nemesis::Kill, Nemesis::Pause]
        );
        assert_eq!(Nemesis::parse_list("all").unwrap().len(), 4);
        assert!(Nemesis::parse_list("none").unwrap().is_empty());
        assert!(Nemesis::parse_list("kill,flood")
            .unwrap_err()
            .contains("flood"));
    }

    #[test]
    fn histories_are_ordered_by_time_for_the_checker() {
        let ops = vec![
            w(2, "k", "b", 20, Some(30), true),
            w(1, "k", "a", 0, Some(10), true),
            final_read("k", Some("b"), 100),
        ];
        let rec = to_recorded(&ops);
        let report = check_recorded(&rec, &CheckOptions::new(Model::Kv)).unwrap();
        assert_eq!(report.valid, Some(true));
        // Reading a after b completed is not linearizable: the checker must say so.
        let stale = vec![
            w(1, "k", "a", 0, Some(10), true),
            w(2, "k", "b", 20, Some(30), true),
            final_read("k", Some("a"), 100),
        ];
        let report = check_recorded(&to_recorded(&stale), &CheckOptions::new(Model::Kv)).unwrap();
        assert_eq!(report.valid, Some(false));
    }
}
