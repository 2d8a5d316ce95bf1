//! Measurement helpers shared by experiments.

use std::cell::Cell;
use std::rc::Rc;
use synod_core::{EventKind, Protocol};
use synod_sim::{Recording, SimConfig, SimOutcome, Simulation, Workload};

/// Runs `protocol` under `cfg` (events hashed, not kept) and counts the messages sent that
/// satisfy `counted`. Returns the count and the outcome (without events).
pub fn count_sends<P: Protocol>(
    protocol: P,
    mut cfg: SimConfig,
    workload: impl Workload<P> + 'static,
    counted: fn(&P::Msg) -> bool,
) -> (u64, SimOutcome<P>) {
    cfg.recording = Recording::HashOnly;
    let count = Rc::new(Cell::new(0u64));
    let c = Rc::clone(&count);
    let out = Simulation::new(protocol, cfg)
        .expect("experiment configurations are valid")
        .with_workload(workload)
        .with_observer(move |_, e| {
            if let EventKind::Send { msg, .. } = e {
                if counted(msg) {
                    c.set(c.get() + 1);
                }
            }
        })
        .run();
    (count.get(), out)
}

/// Runs `protocol` under `cfg` with full recording and returns the outcome (trace included).
pub fn run_full<P: Protocol>(
    protocol: P,
    mut cfg: SimConfig,
    workload: impl Workload<P> + 'static,
) -> SimOutcome<P> {
    cfg.recording = Recording::Full;
    Simulation::new(protocol, cfg)
        .expect("experiment configurations are valid")
        .with_workload(workload)
        .run()
}

/// Formats an optional duration in milliseconds for a table cell (`null` when absent).
pub fn ms_or_null(d: Option<synod_core::Duration>) -> serde_json::Value {
    match d {
        Some(d) => serde_json::json!(d.as_millis_f64()),
        None => serde_json::Value::Null,
    }
}

/// Least-squares slope of ln(y) against ln(x): the fitted growth exponent of y ~ x^k.
pub fn loglog_slope(points: &[(f64, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The mean of `xs` (`None` if empty).
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// A per-run seed derived from the experiment's seed and the run's coordinates.
pub fn run_seed(base: u64, coords: &[u64]) -> u64 {
    synod_core::stable_hash(&(base, coords))
}
