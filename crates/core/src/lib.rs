//! # synod-core: the vocabulary of synod
//!
//! synod makes distributed-systems theory executable. This crate holds the words every other
//! crate speaks: node ids ([`NodeId`]), virtual time ([`Instant`], [`Duration`]), the sans-IO
//! [`Protocol`] trait with its [`Ctx`] and [`Effect`]s, seeded randomness ([`Prng`]), traces
//! ([`Trace`]) and the properties judged over them ([`Property`]). It never touches a clock, a
//! socket or the OS random generator: those come in through a driver.
//!
//! ## A protocol is a state machine
//!
//! Write a protocol once, as handlers that read their inputs and *record* effects. Here is a
//! node that answers every `Ping` with a `Pong` and tells the layer above when a pong returns:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use synod_core::{Ctx, Duration, NodeId, Protocol};
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! enum Msg { Ping(u32), Pong(u32) }
//!
//! struct PingPong;
//!
//! impl Protocol for PingPong {
//!     type Msg = Msg;
//!     type Timer = ();                      // one timer: "ping again"
//!     type Request = NodeId;                // "ping this node"
//!     type Indication = (NodeId, u32);      // "this node answered ping k"
//!     type State = u32;                     // pings sent so far
//!     type Durable = ();                    // crash-stop: nothing to persist
//!
//!     fn init(&self, _ctx: &mut Ctx<'_, Self>) -> u32 { 0 }
//!
//!     fn on_request(&self, sent: &mut u32, to: NodeId, ctx: &mut Ctx<'_, Self>) {
//!         *sent += 1;
//!         ctx.send(to, Msg::Ping(*sent));
//!         ctx.set_timer((), Duration::from_millis(100));
//!     }
//!
//!     fn on_message(&self, _s: &mut u32, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
//!         match msg {
//!             Msg::Ping(k) => ctx.send(from, Msg::Pong(k)),
//!             Msg::Pong(k) => ctx.indicate((from, k)),
//!         }
//!     }
//!
//!     fn on_timer(&self, _s: &mut u32, _t: (), _ctx: &mut Ctx<'_, Self>) {}
//! }
//! # let _ = PingPong;
//! ```
//!
//! ## Drive it by hand
//!
//! A driver builds a [`Ctx`] for each handler call, then applies the effects the handler
//! recorded. Because effects are plain data, a unit test can drive a handler directly and look at
//! what it asked for; no network, no clock:
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! # use synod_core::{Ctx, Duration, NodeId, Protocol};
//! # #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! # enum Msg { Ping(u32), Pong(u32) }
//! # struct PingPong;
//! # impl Protocol for PingPong {
//! #     type Msg = Msg; type Timer = (); type Request = NodeId;
//! #     type Indication = (NodeId, u32); type State = u32; type Durable = ();
//! #     fn init(&self, _ctx: &mut Ctx<'_, Self>) -> u32 { 0 }
//! #     fn on_request(&self, sent: &mut u32, to: NodeId, ctx: &mut Ctx<'_, Self>) {
//! #         *sent += 1; ctx.send(to, Msg::Ping(*sent)); ctx.set_timer((), Duration::from_millis(100));
//! #     }
//! #     fn on_message(&self, _s: &mut u32, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
//! #         match msg { Msg::Ping(k) => ctx.send(from, Msg::Pong(k)), Msg::Pong(k) => ctx.indicate((from, k)) }
//! #     }
//! #     fn on_timer(&self, _s: &mut u32, _t: (), _ctx: &mut Ctx<'_, Self>) {}
//! # }
//! use synod_core::{Effect, FirstChoice, Instant};
//!
//! let mut effects = Vec::new();
//! let mut chooser = FirstChoice;
//! let mut ctx = Ctx::new(NodeId(1), 2, Instant::ZERO, &mut effects, &mut chooser);
//! let mut state = PingPong.init(&mut ctx);
//! PingPong.on_message(&mut state, NodeId(0), Msg::Ping(7), &mut ctx);
//! assert_eq!(effects, vec![Effect::Send { to: NodeId(0), msg: Msg::Pong(7) }]);
//! ```
//!
//! The simulator (`synod-sim`) is such a driver: it owns virtual time, a seeded network with
//! loss, duplication, reordering and partitions, crashes and recoveries, and records a
//! [`Trace`]. The model checker and the TCP runtime are others. All of them keep the
//! [driver contract](Protocol#driver-contract).
//!
//! ## Properties are code
//!
//! An abstraction's guarantees are [`Property`] values judged over a trace. A safety property
//! names the first event that broke it:
//!
//! ```
//! use synod_core::{EventKind, Property, Protocol, Verdict};
//!
//! /// "No node sends a message to itself."
//! fn no_self_sends<P: Protocol>() -> Property<P> {
//!     Property::safety("no-self-sends", |trace| {
//!         for (i, e) in trace.events.iter().enumerate() {
//!             if let EventKind::Send { from, to, .. } = &e.kind {
//!                 if from == to {
//!                     return Verdict::violated_at(i, format!("{from} sent to itself"));
//!                 }
//!             }
//!         }
//!         Verdict::Holds
//!     })
//! }
//! # struct Nop;
//! # impl Protocol for Nop { type Msg=(); type Timer=(); type Request=(); type Indication=(); type State=(); type Durable=();
//! #   fn init(&self, _c: &mut synod_core::Ctx<'_, Self>) {}
//! #   fn on_message(&self, _s: &mut (), _f: synod_core::NodeId, _m: (), _c: &mut synod_core::Ctx<'_, Self>) {}
//! #   fn on_timer(&self, _s: &mut (), _t: (), _c: &mut synod_core::Ctx<'_, Self>) {}
//! #   fn on_request(&self, _s: &mut (), _r: (), _c: &mut synod_core::Ctx<'_, Self>) {} }
//! # let _ = no_self_sends::<Nop>();
//! ```
//!
//! ## Stacking abstractions
//!
//! The books build abstractions in layers: a FIFO perfect link over a perfect link over a
//! stubborn link over the fair-loss network. [`Stack`] composes any protocol with any link
//! protocol ([`LinkSend`] requests, [`LinkDeliver`] indications) without copying code; the
//! link protocols themselves live in `synod-protocols`.
//!
//! ## Rounds
//!
//! Round-based algorithms of the synchronous model implement [`RoundProtocol`] and run through
//! [`Lockstep`], which the simulator's lockstep timing executes exactly.
//!
//! ## Logical time
//!
//! Any protocol can wear a logical clock without changing: [`Clocked`] stamps its messages and
//! indications with a [`LamportClock`] or a [`VectorClock`], and [`Causality`] computes the true
//! happened-before relation of any trace to judge the stamps against (see [`clock`]).
//!
//! ## Shared memory
//!
//! The other execution model: processes taking atomic steps on shared objects (registers,
//! test-and-set, fetch-and-add, queues, compare-and-swap). A shared-memory algorithm is a
//! [`shared_memory::Program`], written once and driven by the simulator's scheduler and by the
//! checker's exhaustive explorer alike; see [`shared_memory`] for a first program.

#![warn(missing_docs)]

pub mod causality;
pub mod clock;
pub mod hash;
pub mod history;
pub mod id;
pub mod journal;
pub mod link;
pub mod lockstep;
pub mod model;
pub mod prng;
pub mod property;
pub mod protocol;
pub mod shared_memory;
pub mod stack;
pub mod symmetry;
pub mod time;
pub mod trace;

pub use causality::Causality;
pub use clock::{
    Clocked, ClockedState, LamportClock, LamportStamp, LogicalClock, VectorClock, VectorStamp,
};
pub use hash::{stable_hash, StableBuildHasher, StableHasher};
pub use history::{ClientId, ClientOps, History, Op};
pub use id::NodeId;
pub use journal::Journal;
pub use link::{LinkDeliver, LinkSend};
pub use lockstep::{Lockstep, LockstepState, NextRound, RoundCtx, RoundMsg, RoundProtocol, Step};
pub use model::ModelHeader;
pub use prng::{Prng, Ratio};
pub use property::{check_all, Property, PropertyKind, PropertyReport, Verdict};
pub use protocol::{step, Chooser, Ctx, Effect, FirstChoice, Input, Message, Protocol, StateValue};
pub use stack::{Layer, Stack, StackState};
pub use symmetry::{Renaming, Symmetric};
pub use time::{Duration, Instant, ParseDurationError};
pub use trace::{DropReason, Event, EventKind, MsgId, RunFacts, Trace};
