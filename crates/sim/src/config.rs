//! Simulation parameters: the timing model, the network and what to record.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use synod_core::{Duration, Instant, Prng, Ratio};

/// The timing model: what the run promises about message delays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Every message arrives within a known bound `delta` (latency samples are capped at it).
    Synchronous {
        /// The known delay bound Δ.
        delta: Duration,
    },
    /// No bound: delays follow the latency distribution, and a quarter of messages are slowed
    /// further by a heavy-tailed (Pareto) factor of up to 1000×, so any message may be overtaken
    /// by many later ones. Only fairness holds: a message that is not lost arrives eventually.
    Asynchronous,
    /// Chaotic (as [`Timing::Asynchronous`]) before the global stabilization time `gst`; after
    /// it, every message arrives within `delta`, and one sent before GST arrives by `gst + delta`.
    PartiallySynchronous {
        /// The global stabilization time.
        gst: Instant,
        /// The delay bound after GST.
        delta: Duration,
    },
    /// The lockstep round model: every message arrives exactly half a round after it was sent,
    /// so the [`synod_core::Lockstep`] adapter sees each round's messages before the round ends.
    Lockstep {
        /// The round length.
        round: Duration,
    },
}

impl Timing {
    /// The short name used in the model header.
    pub fn name(&self) -> &'static str {
        match self {
            Timing::Synchronous { .. } => "synchronous",
            Timing::Asynchronous => "asynchronous",
            Timing::PartiallySynchronous { .. } => "partially-synchronous",
            Timing::Lockstep { .. } => "lockstep",
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timing::Synchronous { delta } => write!(f, "synchronous(delta={delta})"),
            Timing::Asynchronous => write!(f, "asynchronous"),
            Timing::PartiallySynchronous { gst, delta } => {
                write!(f, "partially-synchronous(gst={gst},delta={delta})")
            }
            Timing::Lockstep { round } => write!(f, "lockstep(round={round})"),
        }
    }
}

impl FromStr for Timing {
    type Err = String;

    /// Reads `sync`, `sync:10ms`, `async`, `psync:gst=2s,delta=10ms`, `lockstep`, `lockstep:100ms`.
    fn from_str(s: &str) -> Result<Timing, String> {
        let help = "write sync[:DELTA], async, psync:gst=T[,delta=D] or lockstep[:ROUND]";
        let (kind, args) = s.split_once(':').unwrap_or((s, ""));
        let dur = |v: &str| v.parse::<Duration>().map_err(|e| format!("{e}"));
        match kind.trim() {
            "sync" | "synchronous" => Ok(Timing::Synchronous {
                delta: if args.is_empty() {
                    Duration::from_millis(10)
                } else {
                    dur(args)?
                },
            }),
            "async" | "asynchronous" if args.is_empty() => Ok(Timing::Asynchronous),
            "lockstep" => Ok(Timing::Lockstep {
                round: if args.is_empty() {
                    Duration::from_millis(100)
                } else {
                    dur(args)?
                },
            }),
            "psync" | "partially-synchronous" => {
                let mut gst = None;
                let mut delta = Duration::from_millis(10);
                for kv in args.split(',').filter(|x| !x.is_empty()) {
                    match kv.split_once('=') {
                        Some(("gst", v)) => gst = Some(Instant(dur(v)?.as_nanos())),
                        Some(("delta", v)) => delta = dur(v)?,
                        _ => return Err(format!("bad timing '{s}': {help}")),
                    }
                }
                let gst = gst.ok_or_else(|| format!("timing '{s}' needs gst=T: {help}"))?;
                Ok(Timing::PartiallySynchronous { gst, delta })
            }
            _ => Err(format!("unknown timing '{s}': {help}")),
        }
    }
}

/// A message-latency distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// Always the same delay.
    Constant(Duration),
    /// Uniform in `[lo, hi]`.
    Uniform {
        /// Smallest delay.
        lo: Duration,
        /// Largest delay.
        hi: Duration,
    },
    /// Exponential with the given mean (memoryless; heavy reordering).
    Exponential {
        /// The mean delay.
        mean: Duration,
    },
    /// Normal with the given mean and standard deviation, truncated at zero.
    Normal {
        /// The mean delay.
        mean: Duration,
        /// The standard deviation.
        sd: Duration,
    },
}

impl Latency {
    /// Draws one delay.
    pub fn sample(&self, prng: &mut Prng) -> Duration {
        match *self {
            Latency::Constant(d) => d,
            Latency::Uniform { lo, hi } => Duration(prng.range_inclusive(lo.0, hi.0)),
            Latency::Exponential { mean } => {
                let u = prng.open_unit_f64();
                Duration((-(u.ln()) * mean.0 as f64) as u64)
            }
            Latency::Normal { mean, sd } => {
                let x = mean.0 as f64 + prng.standard_normal() * sd.0 as f64;
                Duration(x.max(0.0) as u64)
            }
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Constant(d) => write!(f, "constant:{d}"),
            Latency::Uniform { lo, hi } => write!(f, "uniform:{lo}..{hi}"),
            Latency::Exponential { mean } => write!(f, "exp:{mean}"),
            Latency::Normal { mean, sd } => write!(f, "normal:{mean},{sd}"),
        }
    }
}

impl FromStr for Latency {
    type Err = String;

    /// Reads `5ms` or `constant:5ms`, `uniform:1ms..10ms`, `exp:5ms`, `normal:10ms,2ms`.
    fn from_str(s: &str) -> Result<Latency, String> {
        let help =
            "write constant:D, uniform:LO..HI, exp:MEAN or normal:MEAN,SD (e.g. uniform:1ms..10ms)";
        let bad = || format!("bad latency '{s}': {help}");
        let dur = |v: &str| v.trim().parse::<Duration>().map_err(|_| bad());
        let (kind, args) = match s.split_once(':') {
            Some(x) => x,
            None => return Ok(Latency::Constant(dur(s)?)),
        };
        match kind {
            "constant" | "const" => Ok(Latency::Constant(dur(args)?)),
            "uniform" => {
                let (lo, hi) = args.split_once("..").ok_or_else(bad)?;
                let (lo, hi) = (dur(lo)?, dur(hi)?);
                if lo > hi {
                    return Err(format!(
                        "bad latency '{s}': the low end is above the high end"
                    ));
                }
                Ok(Latency::Uniform { lo, hi })
            }
            "exp" | "exponential" => Ok(Latency::Exponential { mean: dur(args)? }),
            "normal" => {
                let (m, sd) = args.split_once(',').ok_or_else(bad)?;
                Ok(Latency::Normal {
                    mean: dur(m)?,
                    sd: dur(sd)?,
                })
            }
            _ => Err(bad()),
        }
    }
}

/// The fair-loss network every run starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Base delay distribution (shaped further by the timing model).
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: Ratio,
    /// Probability that a message is delivered twice.
    pub duplicate: Ratio,
    /// Deliver messages between each ordered pair in send order (no reordering on a channel).
    pub fifo: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency: Latency::Uniform {
                lo: Duration::from_millis(1),
                hi: Duration::from_millis(10),
            },
            loss: Ratio::NEVER,
            duplicate: Ratio::NEVER,
            fifo: false,
        }
    }
}

/// How much of the run to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recording {
    /// Record every event (properties, diagrams, histories) and hash them.
    Full,
    /// Only hash the events (`trace_hash`), keeping nothing.
    HashOnly,
    /// Neither record nor hash (benchmarks).
    Off,
}
