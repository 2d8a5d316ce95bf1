//! # synod-node: workbench nodes in Rust
//!
//! A node of `synod workbench` (or of Jepsen's Maelstrom: the protocol is the same) is a
//! process that reads one JSON message per line on stdin and writes one per line on stdout,
//! logging on stderr. This crate is the small runtime that turns a Rust handler into such a
//! process:
//!
//! - [`Message`] and [`Body`]: the envelope `{"src","dest","body"}` and a body with typed
//!   `type` / `msg_id` / `in_reply_to` and the other keys as a `serde_json` map;
//! - [`ErrorCode`] (every code of the protocol, [`ErrorCode::is_definite`]) and [`RpcError`];
//! - [`Node`] (init, handle, optional periodic tick) and [`run`]: a reader thread parses
//!   stdin, the main thread handles messages and ticks, answers `init` with `init_ok`, and
//!   flushes stdout once per batch. A malformed line is logged and skipped, never a panic;
//! - [`Ctx`]: [`Ctx::send`], [`Ctx::reply`], [`Ctx::error`], [`Ctx::rpc`] (the reply, or a
//!   synthetic timeout error, goes to a callback) and [`Ctx::proxy`] (forward a client's
//!   request, relay the answer);
//! - [`Kv`] and [`Tso`]: clients of the workbench's services `lin-kv`, `seq-kv`, `lww-kv`
//!   and `lin-tso`;
//! - [`ProtocolNode`]: runs a synod sans-IO [`synod_core::Protocol`] as a node, its messages
//!   inside bodies and its timers on ticks (the same state machine the simulator and the
//!   model checker drive).
//!
//! The crate's binaries (`src/bin/`) are example nodes for every workload of the workbench,
//! and deliberately broken ones (`broken-*`) that its checkers must catch. Build them with
//! `cargo build --release -p synod-node` and run, e.g.,
//! `synod workbench -w echo --bin target/release/echo --node-count 3 --time-limit 5`.
//!
//! A whole node:
//!
//! ```no_run
//! use synod_node::{Body, Ctx, Message, Node};
//!
//! /// Answers `generate` with ids no other node hands out: its own id and a counter.
//! #[derive(Default)]
//! struct UniqueIds {
//!     next: u64,
//! }
//!
//! impl Node for UniqueIds {
//!     fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
//!         match msg.kind() {
//!             "generate" => {
//!                 self.next += 1;
//!                 let id = format!("{}-{}", ctx.node_id(), self.next);
//!                 ctx.reply(&msg, Body::new("generate_ok").with("id", id));
//!             }
//!             _ => ctx.not_supported(&msg),
//!         }
//!     }
//! }
//!
//! fn main() {
//!     synod_node::run(UniqueIds::default());
//! }
//! ```
//!
//! **Not deterministic, on purpose.** Unlike synod's protocol crates, this one is a driver:
//! it reads the wall clock (RPC timeouts, ticks, protocol time), spawns a thread (stdin) and
//! uses std hash maps, so it carries no `clippy.toml` with the determinism lints. The
//! protocols it runs stay deterministic; only their inputs come from the real world.

#![warn(missing_docs)]

pub mod error;
pub mod kv;
pub mod message;
pub mod node;
pub mod protocol;
#[cfg(test)]
mod testing;

pub use error::{ErrorCode, RpcError};
pub use kv::{is_missing_key, Kv, Tso};
pub use message::{Body, Message};
pub use node::{run, run_on, Ctx, Node, RpcResult};
pub use protocol::{AppIo, ProtocolApp, ProtocolNode};

use std::str::FromStr;

/// The value of the command-line option `name` (`--retry-ms 100` or `--retry-ms=100`, passed
/// by the workbench's `--bin-arg`), or `default` if it is absent. A value that does not parse
/// ends the process with a one-line message (exit status 2).
pub fn arg_or<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let prefix = format!("{name}=");
    let raw = args.iter().enumerate().find_map(|(i, a)| {
        if a == name {
            Some(args.get(i + 1).map_or("", String::as_str))
        } else {
            a.strip_prefix(&prefix)
        }
    });
    match raw {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("error: option {name} wants a value of the right kind, got `{v}`");
            std::process::exit(2)
        }),
    }
}
