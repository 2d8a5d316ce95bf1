//! # synod-sim: a deterministic discrete-event simulator
//!
//! The simulator drives any [`synod_core::Protocol`] through virtual time over a seeded,
//! configurable network. One `u64` seed determines everything: latencies, losses, duplications,
//! every node's random choices and the workload; the same seed and configuration produce a
//! byte-identical trace (compare [`SimOutcome::trace_hash`]).
//!
//! The model is a parameter ([`SimConfig`]):
//! - **timing** ([`Timing`]): synchronous with a known bound Δ, asynchronous (unbounded,
//!   heavy-tailed delays), partially synchronous (chaotic until a GST, then Δ-bounded), or
//!   lockstep rounds for [`synod_core::RoundProtocol`]s;
//! - **network** ([`NetworkConfig`]): latency distribution, loss, duplication, FIFO or
//!   reordering; partitions (also one-way) come from the [`FaultSchedule`];
//! - **failures** ([`FaultSchedule`]): crash-stop at a time (also part-way through a send),
//!   crash-recovery from stable storage, send/receive omission, per-node clock drift and offset.
//!
//! ```
//! use synod_sim::{SimConfig, Simulation};
//! # use serde::{Deserialize, Serialize};
//! # use synod_core::{Ctx, NodeId, Protocol};
//! # struct Hello;
//! # impl Protocol for Hello {
//! #   type Msg = u32; type Timer = (); type Request = (); type Indication = u32;
//! #   type State = (); type Durable = ();
//! #   fn init(&self, ctx: &mut Ctx<'_, Self>) { ctx.broadcast(1) }
//! #   fn on_message(&self, _s: &mut (), _f: NodeId, m: u32, ctx: &mut Ctx<'_, Self>) { ctx.indicate(m) }
//! #   fn on_timer(&self, _s: &mut (), _t: (), _c: &mut Ctx<'_, Self>) {}
//! #   fn on_request(&self, _s: &mut (), _r: (), _c: &mut Ctx<'_, Self>) {}
//! # }
//! let cfg = SimConfig::new(3, 42);
//! println!("{}", cfg.model_header()); // timing=asynchronous failures=none … n=3 seed=42
//! let out = Simulation::new(Hello, cfg).unwrap().run();
//! assert_eq!(out.stats.messages_delivered, 6); // every node greets the two others
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod faults;
pub mod queue;
pub mod shared_memory;
mod sim;
pub mod workload;

pub use config::{Latency, NetworkConfig, Recording, Timing};
pub use faults::{
    parse_probability, ClockSkew, Crash, Cut, FaultError, FaultSchedule, Omission, OmissionKind,
    Partition, Recover,
};
pub use sim::{Observer, SimConfig, SimOutcome, Simulation, Stats};
pub use workload::{Idle, Requests, Scripted, Workload, WorkloadEnv};
