//! Soaks: one protocol under one model across many seeds, property verdicts tallied.
//!
//! A simulation samples one behaviour; a soak samples a thousand. Every seed is an independent,
//! reproducible run, so the first violating seed is also a ready-made reproduction.

use crate::catalog::ProtocolEntry;
use crate::experiment::Progress;
use crate::runner::SimSpec;
use crate::LabError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use synod_core::ModelHeader;

/// Verdict counts for one property over a soak.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Seeds where it held.
    pub holds: u64,
    /// Seeds where it was violated.
    pub violated: u64,
    /// Seeds where the run could not decide.
    pub inconclusive: u64,
    /// The first violating seed and the violation, if any.
    pub first_violation: Option<(u64, String)>,
}

/// The outcome of a soak.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// The protocol.
    pub protocol: String,
    /// Seeds run, in order.
    pub seeds: std::ops::Range<u64>,
    /// Per property (in the protocol's order), its tally.
    pub properties: Vec<(String, String, Tally)>,
    /// Total messages delivered over all runs.
    pub messages_delivered: u64,
    /// Total crashes over all runs (partial crashes included).
    pub crashes: u64,
    /// Total recoveries over all runs.
    pub recoveries: u64,
    /// The model of the first seed's run, as the protocol ran it (its default timing where the
    /// spec chose none; the seed's own chaos).
    pub first_model: Option<ModelHeader>,
}

impl SoakReport {
    /// True if no property was violated on any seed.
    pub fn clean(&self) -> bool {
        self.properties.iter().all(|(_, _, t)| t.violated == 0)
    }

    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        json!({
            "protocol": self.protocol,
            "first_seed": self.seeds.start,
            "seeds": self.seeds.end - self.seeds.start,
            "messages_delivered": self.messages_delivered,
            "crashes": self.crashes,
            "recoveries": self.recoveries,
            "first_model": self.first_model.as_ref().map(|m| m.to_string()),
            "properties": self.properties.iter().map(|(name, kind, t)| json!({
                "name": name, "kind": kind, "holds": t.holds, "violated": t.violated,
                "inconclusive": t.inconclusive,
                "first_violation": t.first_violation.as_ref().map(|(s, d)| json!({"seed": s, "detail": d})),
            })).collect::<Vec<_>>(),
        })
    }

    /// The human-readable table.
    pub fn to_text(&self) -> String {
        let n = self.seeds.end - self.seeds.start;
        let mut out = format!(
            "{} seeds ({}..{}), {} messages delivered, {} crashes, {} recoveries\n{:<24} {:<9} {:>8} {:>9} {:>13}  first violation\n",
            n, self.seeds.start, self.seeds.end, self.messages_delivered, self.crashes, self.recoveries, "property", "kind", "holds", "violated", "inconclusive"
        );
        for (name, kind, t) in &self.properties {
            let first = t
                .first_violation
                .as_ref()
                .map(|(s, d)| format!("seed {s}: {d}"))
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "{:<24} {:<9} {:>8} {:>9} {:>13}  {}\n",
                name, kind, t.holds, t.violated, t.inconclusive, first
            ));
        }
        out
    }
}

/// Runs `entry` under `spec` for every seed in `seeds`, on `threads` worker threads. The
/// result does not depend on the thread count: each seed's run is independent and the tallies
/// are merged in seed order.
pub fn soak(
    entry: &ProtocolEntry,
    spec: &SimSpec,
    seeds: std::ops::Range<u64>,
    threads: usize,
    progress: &mut (dyn Progress + Send),
) -> Result<SoakReport, LabError> {
    let mut spec = spec.clone();
    spec.diagram = None;
    progress.set_total(seeds.end - seeds.start);
    let threads = threads.max(1) as u64;
    let all: Vec<u64> = seeds.clone().collect();
    let chunk = (all.len() as u64).div_ceil(threads).max(1) as usize;
    let progress = std::sync::Mutex::new(progress);
    let results: Vec<Result<Vec<(u64, crate::runner::SimReport)>, LabError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = all
                .chunks(chunk)
                .map(|part| {
                    let spec = &spec;
                    let progress = &progress;
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(part.len());
                        for &seed in part {
                            let mut s = spec.clone();
                            s.seed = seed;
                            out.push((seed, (entry.run)(&s)?));
                            progress.lock().expect("progress lock").advance(1);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("soak worker panicked"))
                .collect()
        });
    let mut order: Vec<(String, String)> = Vec::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut delivered, mut crashes, mut recoveries) = (0, 0, 0);
    let mut first_model = None;
    for part in results {
        for (seed, r) in part? {
            delivered += r.stats.messages_delivered;
            crashes += r.stats.crashes;
            recoveries += r.stats.recoveries;
            if first_model.is_none() {
                first_model = Some(r.model.clone());
            }
            for p in &r.properties {
                if !tallies.contains_key(p.name) {
                    order.push((p.name.to_string(), p.kind.name().to_string()));
                }
                let t = tallies.entry(p.name.to_string()).or_default();
                match &p.verdict {
                    synod_core::Verdict::Holds => t.holds += 1,
                    synod_core::Verdict::Violated { detail, .. } => {
                        t.violated += 1;
                        if t.first_violation.is_none() {
                            t.first_violation = Some((seed, detail.clone()));
                        }
                    }
                    synod_core::Verdict::Inconclusive { .. } => t.inconclusive += 1,
                }
            }
        }
    }
    Ok(SoakReport {
        protocol: entry.name.to_string(),
        seeds,
        properties: order
            .into_iter()
            .map(|(name, kind)| {
                let t = tallies.remove(&name).unwrap_or_default();
                (name, kind, t)
            })
            .collect(),
        messages_delivered: delivered,
        crashes,
        recoveries,
        first_model,
    })
}
