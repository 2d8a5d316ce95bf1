//! `broadcast` and `g-set`: elements added at one node must reach every read.
//!
//! - `broadcast`: `topology{topology:{node:[neighbours]}}` → `topology_ok` (once per node
//!   before the run); `broadcast{message}` → `broadcast_ok`; `read{}` →
//!   `read_ok{messages:[…]}`.
//! - `g-set`: `add{element}` → `add_ok`; `read{}` → `read_ok{value:[…]}`.
//!
//! Both are checked by synod-consistency's set-full checker (Jepsen's `set-full`): an
//! element whose add succeeded (or that some read saw) is *lost* if reads invoked after it
//! was known stop containing it, *stale* while some read misses it before it is stable. The
//! final reads, one per client after the faults heal and the network settles, make "never
//! read" rare. Reported: stable latencies (quantiles 0, 0.5, 0.95, 0.99, 1, in ms).

use super::{field, json_to_value, ms, Invocation, Verdict, Workload};
use serde_json::json;
use synod_consistency::checkers::{check_set_full, SetFullOptions, TimeUnit};
use synod_consistency::format::{Recorded, Value};
use synod_core::Prng;

/// How the nodes are told to connect (`--topology`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// A square grid: up to four neighbours (Maelstrom's default).
    Grid,
    /// A line: two neighbours.
    Line,
    /// A tree where each node has this many children (2 to 4).
    Tree(u8),
    /// Every other node.
    Total,
}

impl Topology {
    /// The topology with this command-line name (`grid`, `line`, `tree2`..`tree4`, `total`).
    pub fn from_name(name: &str) -> Option<Topology> {
        Some(match name {
            "grid" => Topology::Grid,
            "line" => Topology::Line,
            "tree2" => Topology::Tree(2),
            "tree3" => Topology::Tree(3),
            "tree4" => Topology::Tree(4),
            "total" => Topology::Total,
            _ => return None,
        })
    }

    /// The command-line name.
    pub fn name(self) -> String {
        match self {
            Topology::Grid => "grid".into(),
            Topology::Line => "line".into(),
            Topology::Tree(k) => format!("tree{k}"),
            Topology::Total => "total".into(),
        }
    }

    /// Each node's neighbours, by index.
    pub fn neighbours(self, n: usize) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); n];
        let mut link = |a: usize, b: usize| {
            if a != b && !adj[a].contains(&b) {
                adj[a].push(b);
                adj[b].push(a);
            }
        };
        match self {
            Topology::Grid => {
                let w = (1..=n).find(|w| w * w >= n).unwrap_or(1);
                for i in 0..n {
                    if (i + 1) % w != 0 && i + 1 < n {
                        link(i, i + 1);
                    }
                    if i + w < n {
                        link(i, i + w);
                    }
                }
            }
            Topology::Line => (1..n).for_each(|i| link(i - 1, i)),
            Topology::Tree(k) => (1..n).for_each(|i| link((i - 1) / k as usize, i)),
            Topology::Total => {
                for a in 0..n {
                    for b in a + 1..n {
                        link(a, b);
                    }
                }
            }
        }
        adj.iter_mut().for_each(|v| v.sort_unstable());
        adj
    }
}

/// The broadcast and g-set workloads (they differ only in names).
#[derive(Clone, Debug)]
pub struct Broadcast {
    topology: Option<Topology>,
    add_type: &'static str,
    add_field: &'static str,
    read_field: &'static str,
    next: i64,
}

impl Broadcast {
    /// The `broadcast` workload over `topology`.
    pub fn over(topology: Topology) -> Broadcast {
        Broadcast {
            topology: Some(topology),
            add_type: "broadcast",
            add_field: "message",
            read_field: "messages",
            next: 0,
        }
    }

    /// The `g-set` workload.
    pub fn g_set() -> Broadcast {
        Broadcast {
            topology: None,
            add_type: "add",
            add_field: "element",
            read_field: "value",
            next: 0,
        }
    }
}

impl Workload for Broadcast {
    fn setup(&mut self, node_ids: &[String]) -> Vec<(usize, serde_json::Value)> {
        let Some(t) = self.topology else {
            return Vec::new();
        };
        let adj = t.neighbours(node_ids.len());
        let map: serde_json::Map<String, serde_json::Value> = adj
            .iter()
            .enumerate()
            .map(|(i, ns)| {
                let names: Vec<&str> = ns.iter().map(|&j| node_ids[j].as_str()).collect();
                (node_ids[i].clone(), json!(names))
            })
            .collect();
        (0..node_ids.len())
            .map(|i| (i, json!({"type": "topology", "topology": map})))
            .collect()
    }

    fn has_final(&self) -> bool {
        true
    }

    fn invoke(&mut self, _client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase || rng.below(2) == 0 {
            return Some(Invocation {
                f: "read".into(),
                key: None,
                value: Value::Nil,
                body: json!({"type": "read"}),
            });
        }
        let e = self.next;
        self.next += 1;
        let mut body = json!({"type": self.add_type});
        body[self.add_field] = json!(e);
        Some(Invocation {
            f: self.add_type.into(),
            key: None,
            value: Value::Int(e),
            body,
        })
    }

    fn complete(
        &mut self,
        _client: usize,
        inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        if inv.f == "read" {
            let v = field(reply, self.read_field)?;
            if !v.is_array() {
                return Err(format!("\"{}\" is not a list", self.read_field));
            }
            Ok(json_to_value(v))
        } else {
            Ok(Value::Nil)
        }
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        // The set-full checker reads `add` (or `broadcast`) and `read`.
        let r = check_set_full(history, &SetFullOptions::default());
        let mut failures = Vec::new();
        for (name, n) in [
            ("lost", r.lost_count),
            ("unexpected", r.unexpected_count),
            ("duplicated", r.duplicated_count),
            ("malformed reads", r.malformed_count),
        ] {
            if n > 0 {
                failures.push(format!("{name} {n}"));
            }
        }
        if !r.valid && failures.is_empty() {
            failures.push("set-full invalid".into());
        }
        let unit_ms = |v: u64| match r.stable_latencies.unit {
            TimeUnit::Nanos => json!(ms(v)),
            TimeUnit::Events => json!(v),
        };
        let stable = (r.stable_latencies.count > 0).then(|| {
            let mut m = serde_json::Map::new();
            for q in &r.stable_latencies.quantiles {
                m.insert(q.q.to_string(), unit_ms(q.value));
            }
            serde_json::Value::Object(m)
        });
        let report = json!({
            "attempt_count": r.attempt_count,
            "acknowledged_count": r.acknowledged_count,
            "read_count": r.read_count,
            "stable_count": r.stable_count,
            "stale_count": r.stale_count,
            "lost_count": r.lost_count,
            "never_read_count": r.never_read_count,
            "unexpected_count": r.unexpected_count,
            "duplicated_count": r.duplicated_count,
            "malformed_count": r.malformed_count,
            "worst_stale_window_ms": r.worst_stale_window.map(unit_ms),
            "anomalies": r.anomalies.iter().take(32).map(|a| a.to_string()).collect::<Vec<_>>(),
        });
        Verdict {
            valid: r.valid,
            failures,
            report,
            stable_latencies: stable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn degree_ok(t: Topology, n: usize, max: usize) {
        let adj = t.neighbours(n);
        for (i, ns) in adj.iter().enumerate() {
            assert!(ns.len() <= max, "{t:?} n{i}: {ns:?}");
            for &j in ns {
                assert!(adj[j].contains(&i), "{t:?}: symmetric");
            }
        }
        // Connected: a walk from node 0 reaches everyone.
        let mut seen = vec![false; n];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(adj[i].iter().copied());
            }
        }
        assert!(seen.iter().all(|&s| s), "{t:?} connected");
    }

    #[test]
    fn topologies_are_connected_symmetric_and_bounded() {
        for n in [1, 2, 5, 9, 25, 26] {
            degree_ok(Topology::Grid, n, 4);
            degree_ok(Topology::Line, n, 2);
            degree_ok(Topology::Tree(2), n, 3);
            degree_ok(Topology::Tree(4), n, 5);
            degree_ok(Topology::Total, n, n - 1);
        }
        assert_eq!(
            Topology::Grid.neighbours(4),
            vec![vec![1, 2], vec![0, 3], vec![0, 3], vec![1, 2]]
        );
    }
}
