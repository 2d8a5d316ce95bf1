//! Scheduled faults: crashes, recoveries, partitions, omissions and clock skew.
//!
//! Faults come from command-line specs (`n1@2s`, `n0,n1|n2@1s..5s`) or from a schedule file in
//! TOML or JSON; both are validated against the run (node ids, times) before the run starts, so
//! a mistake gets one clear message instead of a surprising run.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use synod_core::{Duration, Instant, NodeId, Ratio};

/// A crash of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// Who crashes.
    pub node: NodeId,
    /// When.
    pub at: Instant,
    /// Crash part-way through the node's first step at or after `at` that sends messages: only a
    /// random subset of that step's messages leaves the node, which then crashes (the round
    /// model's "crash during a send"). A node that never sends again does not crash.
    pub partial_send: bool,
}

/// A recovery of a crashed node from its stable storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recover {
    /// Who recovers.
    pub node: NodeId,
    /// When.
    pub at: Instant,
}

/// Which messages a partition blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Nodes in different groups cannot talk (nodes not listed form one more group).
    Groups(Vec<Vec<NodeId>>),
    /// Messages from any node of `from` to any node of `to` are lost; the other direction works.
    OneWay {
        /// Senders whose messages are cut.
        from: Vec<NodeId>,
        /// Receivers they cannot reach.
        to: Vec<NodeId>,
    },
}

/// A network partition over a time window; it heals at `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// What is cut.
    pub cut: Cut,
    /// When it starts.
    pub from: Instant,
    /// When it heals.
    pub until: Instant,
}

/// Send or receive omission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OmissionKind {
    /// The node fails to send some messages.
    Send,
    /// The node fails to receive some messages.
    Receive,
}

/// A node omitting messages with some probability over a time window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Omission {
    /// The faulty node.
    pub node: NodeId,
    /// Send or receive omission.
    pub kind: OmissionKind,
    /// Probability that each message is omitted.
    pub probability: Ratio,
    /// Start of the window.
    pub from: Instant,
    /// End of the window.
    pub until: Instant,
}

/// A node's clock: `local = offset + real × (1 + drift_ppm / 10⁶)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockSkew {
    /// Rate error in parts per million (positive runs fast).
    pub drift_ppm: i32,
    /// Constant offset added to the local clock.
    pub offset: Duration,
}

/// Every scheduled fault of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultSchedule {
    /// Crashes.
    pub crashes: Vec<Crash>,
    /// Recoveries.
    pub recoveries: Vec<Recover>,
    /// Partitions.
    pub partitions: Vec<Partition>,
    /// Omission windows.
    pub omissions: Vec<Omission>,
    /// Per-node clock drift and offset.
    pub clocks: Vec<(NodeId, ClockSkew)>,
}

/// A mistake in a fault specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError(pub String);

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultError {}

fn err<T>(msg: impl Into<String>) -> Result<T, FaultError> {
    Err(FaultError(msg.into()))
}

fn parse_time(s: &str) -> Result<Instant, FaultError> {
    s.trim()
        .parse::<Duration>()
        .map(|d| Instant(d.as_nanos()))
        .map_err(|e| FaultError(e.to_string()))
}

fn parse_nodes(s: &str) -> Result<Vec<NodeId>, FaultError> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.parse::<NodeId>().map_err(FaultError))
        .collect()
}

/// Reads `A..B` as a window.
fn parse_window(s: &str) -> Result<(Instant, Instant), FaultError> {
    let (a, b) = s.split_once("..").ok_or_else(|| {
        FaultError(format!(
            "'{s}' is not a time window (write FROM..UNTIL, e.g. 1s..5s)"
        ))
    })?;
    Ok((parse_time(a)?, parse_time(b)?))
}

impl FaultSchedule {
    /// Adds a crash from a spec `n1@2s` (or `n1@2s:partial` for a crash during a send).
    pub fn add_crash_spec(&mut self, spec: &str) -> Result<(), FaultError> {
        let help = "write NODE@TIME, e.g. n1@2s (add :partial to crash part-way through a send)";
        let (node, rest) = spec
            .split_once('@')
            .ok_or_else(|| FaultError(format!("bad crash '{spec}': {help}")))?;
        let (time, partial) = match rest.strip_suffix(":partial") {
            Some(t) => (t, true),
            None => (rest, false),
        };
        self.crashes.push(Crash {
            node: node.parse().map_err(FaultError)?,
            at: parse_time(time)?,
            partial_send: partial,
        });
        Ok(())
    }

    /// Adds a recovery from a spec `n1@5s`.
    pub fn add_recover_spec(&mut self, spec: &str) -> Result<(), FaultError> {
        let (node, time) = spec.split_once('@').ok_or_else(|| {
            FaultError(format!(
                "bad recovery '{spec}': write NODE@TIME, e.g. n1@5s"
            ))
        })?;
        self.recoveries.push(Recover {
            node: node.parse().map_err(FaultError)?,
            at: parse_time(time)?,
        });
        Ok(())
    }

    /// Adds a partition from a spec: `n0,n1|n2@1s..5s` (groups) or `n0->n1,n2@1s..5s` (one way).
    pub fn add_partition_spec(&mut self, spec: &str) -> Result<(), FaultError> {
        let help = "write GROUP|GROUP@FROM..UNTIL (e.g. n0,n1|n2@1s..5s) or SENDERS->RECEIVERS@FROM..UNTIL";
        let (what, window) = spec
            .split_once('@')
            .ok_or_else(|| FaultError(format!("bad partition '{spec}': {help}")))?;
        let (from, until) = parse_window(window)?;
        let cut = if let Some((a, b)) = what.split_once("->") {
            Cut::OneWay {
                from: parse_nodes(a)?,
                to: parse_nodes(b)?,
            }
        } else if what.contains('|') {
            Cut::Groups(what.split('|').map(parse_nodes).collect::<Result<_, _>>()?)
        } else {
            return err(format!("bad partition '{spec}': {help}"));
        };
        self.partitions.push(Partition { cut, from, until });
        Ok(())
    }

    /// Adds an omission window from a spec `n2:send=0.5@1s..4s` or `n2:receive=1@0s..2s`.
    pub fn add_omission_spec(&mut self, spec: &str) -> Result<(), FaultError> {
        let help = "write NODE:send=P@FROM..UNTIL or NODE:receive=P@FROM..UNTIL";
        let bad = || FaultError(format!("bad omission '{spec}': {help}"));
        let (what, window) = spec.split_once('@').ok_or_else(bad)?;
        let (node, kind_p) = what.split_once(':').ok_or_else(bad)?;
        let (kind, p) = kind_p.split_once('=').ok_or_else(bad)?;
        let kind = match kind {
            "send" => OmissionKind::Send,
            "receive" | "recv" => OmissionKind::Receive,
            _ => return Err(bad()),
        };
        let (from, until) = parse_window(window)?;
        self.omissions.push(Omission {
            node: node.parse().map_err(FaultError)?,
            kind,
            probability: parse_probability(p)?,
            from,
            until,
        });
        Ok(())
    }

    /// Adds clock skew from a spec `n1:drift=200ppm,offset=5ms` (either part may be left out).
    pub fn add_clock_spec(&mut self, spec: &str) -> Result<(), FaultError> {
        let help = "write NODE:drift=PPMppm,offset=D (e.g. n1:drift=-500ppm,offset=3ms)";
        let bad = || FaultError(format!("bad clock '{spec}': {help}"));
        let (node, args) = spec.split_once(':').ok_or_else(bad)?;
        let mut skew = ClockSkew::default();
        for kv in args.split(',') {
            match kv.split_once('=') {
                Some(("drift", v)) => {
                    skew.drift_ppm = v.trim_end_matches("ppm").parse().map_err(|_| bad())?;
                }
                Some(("offset", v)) => {
                    skew.offset = v
                        .parse()
                        .map_err(|e: synod_core::ParseDurationError| FaultError(e.to_string()))?
                }
                _ => return Err(bad()),
            }
        }
        self.clocks.push((node.parse().map_err(FaultError)?, skew));
        Ok(())
    }

    /// Reads a schedule file, TOML or JSON by extension (`.json` is JSON, anything else TOML),
    /// and appends its faults.
    pub fn load_file(&mut self, path: &Path) -> Result<(), FaultError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FaultError(format!("cannot read fault file {}: {e}", path.display())))?;
        let file: FaultFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)
                .map_err(|e| FaultError(format!("fault file {}: {e}", path.display())))?
        } else {
            toml::from_str(&text).map_err(|e| {
                let msg = e.message().to_string();
                let line = e
                    .span()
                    .map(|s| text[..s.start].lines().count().max(1))
                    .map(|l| format!(" (line {l})"))
                    .unwrap_or_default();
                FaultError(format!("fault file {}{line}: {msg}", path.display()))
            })?
        };
        file.into_schedule(self)
            .map_err(|e| FaultError(format!("fault file {}: {e}", path.display())))
    }

    /// Checks the schedule against an `n`-node run; returns the first problem found.
    pub fn validate(&self, n: usize) -> Result<(), FaultError> {
        let check = |node: NodeId, what: &str| {
            if node.index() >= n {
                err(format!(
                    "{what} names {node}, but the run has {n} nodes (n0..n{})",
                    n.saturating_sub(1)
                ))
            } else {
                Ok(())
            }
        };
        for c in &self.crashes {
            check(c.node, "a crash")?;
        }
        for r in &self.recoveries {
            check(r.node, "a recovery")?;
            if !self.crashes.iter().any(|c| c.node == r.node && c.at < r.at) {
                return err(format!(
                    "{} recovers at {} but never crashes before that (add --crash {}@T with T < {})",
                    r.node, r.at, r.node, r.at
                ));
            }
        }
        for p in &self.partitions {
            if p.from >= p.until {
                return err(format!(
                    "a partition starts at {} but heals at {}",
                    p.from, p.until
                ));
            }
            let nodes: Vec<NodeId> = match &p.cut {
                Cut::Groups(g) => g.iter().flatten().copied().collect(),
                Cut::OneWay { from, to } => from.iter().chain(to).copied().collect(),
            };
            for node in &nodes {
                check(*node, "a partition")?;
            }
            if let Cut::Groups(g) = &p.cut {
                let mut seen = BTreeSet::new();
                for node in g.iter().flatten() {
                    if !seen.insert(*node) {
                        return err(format!("a partition puts {node} in two groups"));
                    }
                }
            }
        }
        for o in &self.omissions {
            check(o.node, "an omission")?;
            if o.from >= o.until {
                return err(format!(
                    "an omission window starts at {} but ends at {}",
                    o.from, o.until
                ));
            }
        }
        for (node, skew) in &self.clocks {
            check(*node, "a clock skew")?;
            if skew.drift_ppm <= -1_000_000 {
                return err(format!("{node}'s clock drift must be above -1000000ppm"));
            }
        }
        Ok(())
    }

    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.crashes.is_empty()
            && self.recoveries.is_empty()
            && self.partitions.is_empty()
            && self.omissions.is_empty()
            && self.clocks.is_empty()
    }

    /// When the environment stops changing: the last recovery, partition heal or omission
    /// window end. Crash times are not included: a crash-stop is permanent, and properties
    /// already exclude crashed processes, so a late crash does not make liveness undecidable.
    pub fn end(&self) -> Instant {
        let mut end = Instant::ZERO;
        for r in &self.recoveries {
            end = end.max(r.at);
        }
        for p in &self.partitions {
            end = end.max(p.until);
        }
        for o in &self.omissions {
            end = end.max(o.until);
        }
        end
    }

    /// The failure model these faults imply, for the model header.
    pub fn failure_model(&self) -> String {
        let mut kinds = Vec::new();
        if !self.crashes.is_empty() {
            kinds.push(if self.recoveries.is_empty() {
                "crash-stop"
            } else {
                "crash-recovery"
            });
        }
        if !self.omissions.is_empty() {
            kinds.push("omission");
        }
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join("+")
        }
    }
}

/// Reads a probability in `[0, 1]`.
pub fn parse_probability(s: &str) -> Result<Ratio, FaultError> {
    let p: f64 = s.trim().parse().map_err(|_| {
        FaultError(format!(
            "'{s}' is not a probability (write a number from 0 to 1)"
        ))
    })?;
    Ratio::from_f64(p).ok_or_else(|| FaultError(format!("probability {s} is outside 0..1")))
}

// ---- the schedule file format --------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFile {
    #[serde(default)]
    crash: Vec<FileCrash>,
    #[serde(default)]
    recover: Vec<FileAt>,
    #[serde(default)]
    partition: Vec<FilePartition>,
    #[serde(default)]
    omission: Vec<FileOmission>,
    #[serde(default)]
    clock: Vec<FileClock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCrash {
    node: String,
    at: String,
    #[serde(default)]
    partial_send: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAt {
    node: String,
    at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePartition {
    #[serde(default)]
    groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    oneway_from: Option<Vec<String>>,
    #[serde(default)]
    oneway_to: Option<Vec<String>>,
    from: String,
    until: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOmission {
    node: String,
    kind: String,
    probability: f64,
    from: String,
    until: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClock {
    node: String,
    #[serde(default)]
    drift_ppm: i32,
    #[serde(default)]
    offset: Option<String>,
}

fn node(s: &str) -> Result<NodeId, FaultError> {
    s.parse().map_err(FaultError)
}

fn nodes(v: &[String]) -> Result<Vec<NodeId>, FaultError> {
    v.iter().map(|s| node(s)).collect()
}

impl FaultFile {
    fn into_schedule(self, s: &mut FaultSchedule) -> Result<(), FaultError> {
        for c in self.crash {
            s.crashes.push(Crash {
                node: node(&c.node)?,
                at: parse_time(&c.at)?,
                partial_send: c.partial_send,
            });
        }
        for r in self.recover {
            s.recoveries.push(Recover {
                node: node(&r.node)?,
                at: parse_time(&r.at)?,
            });
        }
        for p in self.partition {
            let cut =
                match (p.groups, p.oneway_from, p.oneway_to) {
                    (Some(g), None, None) => {
                        Cut::Groups(g.iter().map(|x| nodes(x)).collect::<Result<_, _>>()?)
                    }
                    (None, Some(f), Some(t)) => Cut::OneWay {
                        from: nodes(&f)?,
                        to: nodes(&t)?,
                    },
                    _ => return err(
                        "a partition needs either `groups` or both `oneway_from` and `oneway_to`",
                    ),
                };
            s.partitions.push(Partition {
                cut,
                from: parse_time(&p.from)?,
                until: parse_time(&p.until)?,
            });
        }
        for o in self.omission {
            let kind = match o.kind.as_str() {
                "send" => OmissionKind::Send,
                "receive" => OmissionKind::Receive,
                k => {
                    return err(format!(
                        "omission kind '{k}' is neither 'send' nor 'receive'"
                    ))
                }
            };
            s.omissions.push(Omission {
                node: node(&o.node)?,
                kind,
                probability: Ratio::from_f64(o.probability).ok_or_else(|| {
                    FaultError(format!(
                        "omission probability {} is outside 0..1",
                        o.probability
                    ))
                })?,
                from: parse_time(&o.from)?,
                until: parse_time(&o.until)?,
            });
        }
        for c in self.clock {
            let offset = match c.offset {
                Some(o) => o
                    .parse()
                    .map_err(|e: synod_core::ParseDurationError| FaultError(e.to_string()))?,
                None => Duration::ZERO,
            };
            s.clocks.push((
                node(&c.node)?,
                ClockSkew {
                    drift_ppm: c.drift_ppm,
                    offset,
                },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_validate() {
        let mut s = FaultSchedule::default();
        s.add_crash_spec("n1@2s").unwrap();
        s.add_recover_spec("n1@5s").unwrap();
        s.add_partition_spec("n0,n1|n2@1s..3s").unwrap();
        s.add_partition_spec("n0->n2@1s..3s").unwrap();
        s.add_omission_spec("n2:send=0.5@0s..1s").unwrap();
        s.add_clock_spec("n1:drift=200ppm,offset=5ms").unwrap();
        assert!(s.validate(3).is_ok());
        assert_eq!(s.failure_model(), "crash-recovery+omission");
        assert!(s.validate(2).unwrap_err().0.contains("n2"));
        assert!(FaultSchedule::default().add_crash_spec("n1-2s").is_err());
        let mut bad = FaultSchedule::default();
        bad.add_recover_spec("n0@1s").unwrap();
        assert!(bad.validate(3).unwrap_err().0.contains("never crashes"));
    }

    #[test]
    fn toml_and_json_files() {
        let dir = std::env::temp_dir().join(format!("synod-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = dir.join("f.toml");
        std::fs::write(
            &t,
            "[[crash]]\nnode = \"n1\"\nat = \"2s\"\n[[partition]]\ngroups = [[\"n0\"], [\"n2\"]]\nfrom = \"1s\"\nuntil = \"2s\"\n",
        )
        .unwrap();
        let mut s = FaultSchedule::default();
        s.load_file(&t).unwrap();
        assert_eq!(s.crashes.len(), 1);
        assert_eq!(s.partitions.len(), 1);
        let j = dir.join("f.json");
        std::fs::write(&j, "{\"crash\": [{\"node\": \"n0\", \"at\": \"1s\"}]}").unwrap();
        s.load_file(&j).unwrap();
        assert_eq!(s.crashes.len(), 2);
        std::fs::write(&j, "{not json").unwrap();
        assert!(s.load_file(&j).is_err());
        std::fs::write(&t, "[[crash]]\nnode = \"n1\"\nwhen = \"2s\"\n").unwrap();
        let e = s.load_file(&t).unwrap_err();
        assert!(e.0.contains("line"), "{e}");
    }
}
