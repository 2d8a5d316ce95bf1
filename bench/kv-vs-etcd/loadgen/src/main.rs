//! `kv-loadgen`: the load generator of the synod-vs-etcd KV benchmark.
//!
//! ```text
//! kv-loadgen load     --target etcd --endpoints A,B,C --clients K [--conns C]
//!                     [--duration-s 10] [--warmup-s 2] [--keys 1000]
//!                     [--value-min 64] [--value-max 256] [--timeout-ms 5000]
//! kv-loadgen failover --target etcd --endpoints A,B,C [--timeout-ms 100]
//!                     [--backoff-ms 5] [--max-wait-s 30]
//! kv-loadgen leader   --target synod --cluster-id N --endpoints A,B,C [--within-s 10]
//! kv-loadgen healthy  --target synod --cluster-id N --endpoints A,B,C [--within-s 60]
//! ```
//!
//! `--target synod` needs `--cluster-id` (the `cluster` value of the cluster's `cluster.toml`)
//! and the endpoints in node-id order (n0,n1,n2). Each synod load task has its own client and
//! connection: see `synod.rs` for why.
//!
//! `load`: K client tasks put back to back for the warm-up and then the measured duration;
//! only puts that start after the warm-up and finish before the end are counted. Prints one
//! JSON object on stdout (throughput, p50/p90/p99/max latency, errors, own CPU share) and a
//! human summary on stderr.
//!
//! `failover`: one client puts in a loop with a short per-request timeout. Once a put has
//! succeeded it prints `READY` on stdout; the driving script then kills the leader and writes
//! the kill instant (Unix seconds with a fraction, e.g. bash's `$EPOCHREALTIME`) as one line on
//! stdin. The result is the time from that instant to the completion of the first put that was
//! *sent after* the kill and succeeded, printed as one JSON object on stdout.

mod etcd;
mod synod;
mod target;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use target::{Error, Target};

/// Parsed `--name value` flags.
struct Args {
    cmd: String,
    flags: Vec<(String, String)>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1);
        let cmd = it
            .next()
            .ok_or("usage: kv-loadgen load|failover --target etcd ...")?;
        let mut flags = Vec::new();
        while let Some(f) = it.next() {
            let name = f
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument `{f}`"))?
                .to_string();
            let v = it
                .next()
                .ok_or_else(|| format!("flag --{name} needs a value"))?;
            flags.push((name, v));
        }
        Ok(Args { cmd, flags })
    }

    fn str(&self, name: &str, default: Option<&str>) -> Result<String, String> {
        match self.flags.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => default
                .map(str::to_string)
                .ok_or_else(|| format!("missing --{name}")),
        }
    }

    fn num<N: std::str::FromStr>(&self, name: &str, default: &str) -> Result<N, String> {
        let s = self.str(name, Some(default))?;
        s.parse()
            .map_err(|_| format!("--{name}: `{s}` is not a valid number"))
    }

    fn endpoints(&self) -> Result<Vec<String>, String> {
        Ok(self
            .str("endpoints", None)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
}

#[tokio::main]
async fn main() {
    let res = async {
        let args = Args::parse()?;
        let target = args.str("target", Some("etcd"))?;
        match target.as_str() {
            "etcd" => dispatch::<etcd::Etcd>(&args).await,
            "synod" => {
                if let Ok(id) = args.str("cluster-id", None) {
                    synod::set_cluster_id(
                        id.parse()
                            .map_err(|_| format!("--cluster-id: `{id}` is not a number"))?,
                    );
                }
                match args.cmd.as_str() {
                    "leader" => {
                        let within = Duration::from_secs_f64(args.num("within-s", "10")?);
                        let i = synod::leader(&args.endpoints()?, within)
                            .await
                            .map_err(|e| e.to_string())?;
                        println!("{i}");
                        Ok(())
                    }
                    "healthy" => {
                        let within = Duration::from_secs_f64(args.num("within-s", "60")?);
                        let took = synod::healthy(&args.endpoints()?, within)
                            .await
                            .map_err(|e| e.to_string())?;
                        eprintln!("synod healthy after {took:?}");
                        Ok(())
                    }
                    _ => dispatch::<synod::Synod>(&args).await,
                }
            }
            other => Err(format!("unknown --target `{other}` (etcd|synod)")),
        }
    }
    .await;
    if let Err(e) = res {
        eprintln!("kv-loadgen: {e}");
        std::process::exit(2);
    }
}

async fn dispatch<T: Target>(args: &Args) -> Result<(), String> {
    match args.cmd.as_str() {
        "load" => load::<T>(args).await,
        "failover" => failover::<T>(args).await,
        other => Err(format!("unknown command `{other}` (load|failover)")),
    }
}

/// Connects, retrying for up to `wait` until one put succeeds (the cluster may still be
/// electing its first leader).
async fn connect_ready<T: Target>(
    endpoints: &[String],
    timeout: Duration,
    wait: Duration,
) -> Result<T, String> {
    let deadline = Instant::now() + wait;
    let mut last: Option<Error> = None;
    while Instant::now() < deadline {
        match T::connect(endpoints, timeout).await {
            Ok(t) => match tokio::time::timeout(timeout, t.put("bench-probe", b"x")).await {
                Ok(Ok(())) => return Ok(t),
                Ok(Err(e)) => last = Some(e),
                Err(_) => last = Some("probe put timed out".into()),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "no put succeeded within {wait:?} against {endpoints:?}: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

/// This process's CPU time (user + system) from `/proc/self/stat`, if readable.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)` field, which may hold spaces: utime and stime are
    // fields 14 and 15 of the whole line, i.e. 12 and 13 after the closing paren.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // CLK_TCK is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// Nearest-rank percentile of sorted microsecond latencies, in milliseconds.
fn pct_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

async fn load<T: Target>(args: &Args) -> Result<(), String> {
    let endpoints = args.endpoints()?;
    let clients: usize = args.num("clients", "1")?;
    let conns: usize = args.num("conns", "1")?;
    let duration = Duration::from_secs_f64(args.num("duration-s", "10")?);
    let warmup = Duration::from_secs_f64(args.num("warmup-s", "2")?);
    let keys: u32 = args.num("keys", "1000")?;
    let vmin: usize = args.num("value-min", "64")?;
    let vmax: usize = args.num("value-max", "256")?;
    let timeout = Duration::from_millis(args.num("timeout-ms", "5000")?);
    let target = args.str("target", Some("etcd"))?;
    if clients == 0 || conns == 0 || keys == 0 || vmin > vmax || vmax == 0 {
        return Err(
            "need --clients, --conns, --keys >= 1 and 1 <= --value-min <= --value-max".into(),
        );
    }
    let conns = conns.min(clients);
    // synod: one client (and connection per server) per task, whatever --conns says.
    let per_task = target == "synod";
    let conns_used = if per_task { clients } else { conns };

    let mut pool = Vec::with_capacity(conns);
    for _ in 0..conns {
        pool.push(connect_ready::<T>(&endpoints, timeout, Duration::from_secs(30)).await?);
    }

    let start = Instant::now();
    let warm_end = start + warmup;
    let end = warm_end + duration;
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let t = pool[i % conns].for_task();
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(0x5eed_0000 + i as u64);
            // ASCII letters: synod's values are strings; etcd gets the same bytes.
            let mut buf: Vec<u8> = (0..vmax).map(|_| rng.gen_range(b'a'..=b'z')).collect();
            let mut lat_us: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut first_err: Option<String> = None;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let key = format!("key-{:06}", rng.gen_range(0..keys));
                let len = rng.gen_range(vmin..=vmax);
                buf[0] = b'a' + (buf[0] - b'a' + 1) % 26;
                let r = t.put(&key, &buf[..len]).await;
                let t1 = Instant::now();
                let counted = t0 >= warm_end && t1 <= end;
                match r {
                    Ok(()) if counted => {
                        lat_us.push((t1 - t0).as_micros().min(u32::MAX as u128) as u32)
                    }
                    Ok(()) => {}
                    Err(e) => {
                        if counted {
                            errors += 1;
                            first_err.get_or_insert_with(|| e.to_string());
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            (lat_us, errors, first_err)
        }));
    }
    tokio::time::sleep_until(warm_end.into()).await;
    let cpu0 = cpu_time();
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = cpu_time();

    let mut lat = Vec::new();
    let mut errors = 0;
    let mut first_err = None;
    for t in tasks {
        let (l, e, fe) = t.await.map_err(|e| format!("client task failed: {e}"))?;
        lat.extend(l);
        errors += e;
        first_err = first_err.or(fe);
    }
    lat.sort_unstable();
    let secs = duration.as_secs_f64();
    let ops = lat.len();
    let cpu_pct = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(100.0 * (b - a).as_secs_f64() / secs),
        _ => None,
    };
    let out = json!({
        "mode": "load",
        "target": target,
        "endpoints": endpoints,
        "clients": clients,
        "conns": conns_used,
        "duration_s": secs,
        "warmup_s": warmup.as_secs_f64(),
        "keys": keys,
        "value_bytes": [vmin, vmax],
        "ops": ops,
        "throughput_ops_s": ops as f64 / secs,
        "p50_ms": pct_ms(&lat, 0.50),
        "p90_ms": pct_ms(&lat, 0.90),
        "p99_ms": pct_ms(&lat, 0.99),
        "max_ms": pct_ms(&lat, 1.0),
        "errors": errors,
        "first_error": first_err,
        "loadgen_cpu_pct_of_one_core": cpu_pct,
        "notes": if per_task {
            format!("{clients} client tasks, each with its own KvClient (its own connection \
                     to each server): synod's client protocol has one outstanding request per \
                     connection, so clients cannot share one")
        } else {
            format!("{clients} client tasks share {conns} client connection(s) round robin, \
                     as etcd's tools/benchmark shares --conns among --clients")
        },
    });
    eprintln!(
        "{target} clients={clients:>3} conns={conns_used}: {:>8.1} puts/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {errors}  loadgen cpu {}",
        ops as f64 / secs,
        pct_ms(&lat, 0.5),
        pct_ms(&lat, 0.99),
        pct_ms(&lat, 1.0),
        cpu_pct.map(|c| format!("{c:.0}%")).unwrap_or_else(|| "?".into()),
    );
    println!("{out}");
    Ok(())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn failover<T: Target>(args: &Args) -> Result<(), String> {
    let endpoints = args.endpoints()?;
    let timeout = Duration::from_millis(args.num("timeout-ms", "100")?);
    let backoff = Duration::from_millis(args.num("backoff-ms", "5")?);
    let max_wait: f64 = args.num("max-wait-s", "30")?;
    let target = args.str("target", Some("etcd"))?;
    let t = connect_ready::<T>(&endpoints, timeout, Duration::from_secs(30)).await?;

    // The kill instant arrives on stdin once the script has killed the leader.
    let (tx, rx) = tokio::sync::watch::channel::<Option<f64>>(None);
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        if let Ok(Some(l)) = lines.next_line().await {
            match l.trim().parse::<f64>() {
                Ok(k) => {
                    let _ = tx.send(Some(k));
                }
                Err(_) => eprintln!("kv-loadgen: bad kill instant `{l}` on stdin"),
            }
        }
    });
    println!("READY");

    let val = [b'v'; 128];
    let mut attempts = 0u64;
    let mut errors = 0u64;
    let mut first_err: Option<String> = None;
    let mut first_err_at: Option<f64> = None;
    loop {
        let sent = unix_now();
        let r = match tokio::time::timeout(timeout, t.put("failover-key", &val)).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {timeout:?}").into()),
        };
        let done = unix_now();
        let kill = *rx.borrow();
        if let Some(k) = kill {
            if sent >= k {
                attempts += 1;
                match &r {
                    Ok(()) => {
                        let out = json!({
                            "mode": "failover",
                            "target": target,
                            "endpoints": endpoints,
                            "request_timeout_ms": timeout.as_secs_f64() * 1e3,
                            "failover_ms": (done - k) * 1e3,
                            "attempts_after_kill": attempts,
                            "errors_after_kill": errors,
                            "first_error_after_kill_ms": first_err_at.map(|e| (e - k) * 1e3),
                            "first_error": first_err,
                        });
                        eprintln!(
                            "{target} failover: first put after kill succeeded {:.0} ms after the kill ({attempts} attempts)",
                            (done - k) * 1e3
                        );
                        println!("{out}");
                        return Ok(());
                    }
                    Err(e) => {
                        errors += 1;
                        first_err.get_or_insert_with(|| e.to_string());
                        first_err_at.get_or_insert(done);
                    }
                }
            }
            if done - k > max_wait {
                return Err(format!(
                    "no put succeeded within {max_wait} s of the kill ({attempts} attempts, last error: {})",
                    r.err().map(|e| e.to_string()).unwrap_or_default()
                ));
            }
        }
        if r.is_err() {
            tokio::time::sleep(backoff).await;
        }
    }
}
