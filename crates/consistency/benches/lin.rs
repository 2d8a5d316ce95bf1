//! Linearizability checker benchmarks: generated histories, and corpora of recorded ones.
//!
//! Generated (default): CAS-register histories from [`generate`] of 10 to 100,000 operations
//! by 2 to 100 processes, linearizable by construction or with one stale read injected late;
//! prints time (median of several runs), search steps, memoised configurations and peak memory
//! (resident set high-water mark, reset before each case through `/proc/self/clear_refs`). A
//! case that takes more than a minute is cancelled and reported unknown.
//!
//! ```sh
//! cargo bench -p synod-consistency --bench lin                 # the table
//! cargo bench -p synod-consistency --bench lin -- --quick      # fewer, smaller cases
//! cargo bench -p synod-consistency --bench lin -- --corpus DIR --model cas-register [--csv OUT]
//! ```
//!
//! Corpus mode checks every file of `DIR` (any format `synod lin` reads), prints each verdict
//! and time, and the whole corpus's time (median of 5 passes), for side-by-side comparison with
//! another checker on the same files.
#![allow(missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time by definition

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use std::time::Instant as WallClock;
use synod_consistency::format::{self, Recorded};
use synod_consistency::generate::{generate, GenSpec};
use synod_consistency::models::{check_recorded, CheckOptions, Model, Report};
use synod_consistency::Budget;

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set since the last reset, in MiB (0 if unknown).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Seconds a generated case may take before it is reported unknown.
const CASE_LIMIT_SECS: u64 = 60;

/// Checks `h`; returns the report and the milliseconds the check itself took (the timer
/// thread's start and stop are not counted).
fn check(h: &Recorded, model: Model, threads: usize, limit: Option<u64>) -> (Report, f64) {
    let cancel = Arc::new(AtomicBool::new(false));
    let (done, wait) = mpsc::channel::<()>();
    let timer = limit.map(|secs| {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            if wait.recv_timeout(Duration::from_secs(secs)).is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    });
    let options = CheckOptions {
        threads,
        budget: Budget::unlimited().with_cancel(cancel),
        ..CheckOptions::new(model)
    };
    let started = WallClock::now();
    let report = check_recorded(h, &options).expect("a well-formed history");
    let ms = started.elapsed().as_secs_f64() * 1e3;
    drop(done);
    if let Some(t) = timer {
        let _ = t.join();
    }
    (report, ms)
}

fn generated(quick: bool) {
    let sizes: &[usize] = if quick {
        &[10, 100, 1_000, 10_000]
    } else {
        &[10, 100, 1_000, 10_000, 100_000]
    };
    let procs: &[usize] = &[2, 10, 100];
    println!(
        "{:>8} {:>6} {:>10} {:>8} {:>12} {:>12} {:>14} {:>10}",
        "ops", "procs", "history", "verdict", "median ms", "steps", "configurations", "peak MiB"
    );
    for &ops in sizes {
        for &p in procs {
            for stale in [false, true] {
                let mut spec = GenSpec::register(ops, p, 42);
                spec.stale_read = stale;
                let h = generate(&spec);
                let runs = if ops >= 100_000 || quick { 3 } else { 5 };
                let mut times = Vec::new();
                let mut last = None;
                let mut peak: f64 = 0.0;
                for _ in 0..runs {
                    reset_peak_rss();
                    let (r, ms) = check(&h, Model::CasRegister, 1, Some(CASE_LIMIT_SECS));
                    times.push(ms);
                    peak = peak.max(peak_rss_mib());
                    let gave_up = r.valid.is_none();
                    last = Some(r);
                    if gave_up {
                        break;
                    }
                }
                let r = last.expect("a run");
                if r.valid.is_none() {
                    println!(
                        "{:>8} {:>6} {:>10} {:>8} {:>12} {:>12} {:>14} {:>10.1}",
                        ops,
                        p,
                        if stale { "stale read" } else { "correct" },
                        "unknown",
                        format!(">{CASE_LIMIT_SECS} s"),
                        r.steps,
                        r.configurations,
                        peak
                    );
                    continue;
                }
                let expected = Some(!stale);
                assert_eq!(r.valid, expected, "ops {ops} procs {p} stale {stale}");
                println!(
                    "{:>8} {:>6} {:>10} {:>8} {:>12.2} {:>12} {:>14} {:>10.1}",
                    ops,
                    p,
                    if stale { "stale read" } else { "correct" },
                    if stale { "invalid" } else { "valid" },
                    median(times),
                    r.steps,
                    r.configurations,
                    peak
                );
            }
        }
    }
}

fn corpus(dir: &PathBuf, model: Model, threads: usize, csv: Option<&PathBuf>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a readable corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let histories: Vec<(PathBuf, Recorded)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("readable");
            let (h, _) =
                format::parse(&text, None).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (f, h)
        })
        .collect();
    let mut rows = String::from("file,verdict,ms\n");
    let mut totals = Vec::new();
    for pass in 0..5 {
        let start = WallClock::now();
        for (f, h) in &histories {
            let (r, ms) = check(h, model, threads, None);
            if pass == 0 {
                let verdict = match r.valid {
                    Some(true) => "ok",
                    Some(false) => "illegal",
                    None => "unknown",
                };
                let name = f.file_name().unwrap_or_default().to_string_lossy();
                println!("{name:<40} {verdict:<8} {ms:>10.2} ms  ({} ops)", r.ops);
                rows.push_str(&format!("{name},{verdict},{ms:.3}\n"));
            }
        }
        totals.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "corpus {}: {} files, whole corpus median of 5 passes: {:.1} ms (passes: {:?})",
        dir.display(),
        histories.len(),
        median(totals.clone()),
        totals
            .iter()
            .map(|t| (t * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    if let Some(out) = csv {
        std::fs::write(out, rows).expect("writable CSV");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    if let Some(dir) = flag("--corpus") {
        let model = Model::from_name(&flag("--model").unwrap_or("cas-register".into()))
            .expect("a known --model");
        let threads = flag("--threads").map_or(1, |t| t.parse().expect("a number"));
        corpus(
            &PathBuf::from(dir),
            model,
            threads,
            flag("--csv").map(PathBuf::from).as_ref(),
        );
    } else {
        generated(args.iter().any(|a| a == "--quick"));
    }
}
