//! # synod-runtime: any synod protocol over real TCP
//!
//! The simulator and the model checker drive a [`Protocol`](synod_core::Protocol) in virtual
//! time. This crate drives the very same protocol value with real sockets, a real clock and a
//! real disk, on tokio: start one process (or task) per node with [`start`], and the nodes find
//! each other over TCP, persist their durable state in a write-ahead log, and hand indications
//! and client connections to the application.
//!
//! ```no_run
//! # async fn demo<P: synod_core::Protocol>(protocol: P, req: P::Request) -> std::io::Result<()>
//! # where P::Durable: synod_core::Journal {
//! use std::collections::BTreeMap;
//! use synod_core::NodeId;
//! use synod_runtime::{start, Config};
//!
//! let peers = BTreeMap::from([
//!     (NodeId(1), "127.0.0.1:7001".parse().unwrap()),
//!     (NodeId(2), "127.0.0.1:7002".parse().unwrap()),
//! ]);
//! let mut cfg = Config::new(NodeId(0), "127.0.0.1:7000".parse().unwrap(), peers);
//! cfg.data_dir = Some("data/n0".into());
//! let mut node = start(protocol, cfg).await?;
//! node.handle.submit(req).await.expect("running");
//! while let Some(ind) = node.indications.recv().await {
//!     println!("{ind:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! ## Modules
//!
//! * [`node`]: [`start`] / [`start_on`], the [`Running`] node and its [`Handle`]. The contract
//!   this driver keeps is on [`Running`].
//! * `driver`: the one task that owns the protocol state, with its timer table and group commit.
//! * [`transport`]: the listening socket, one reconnecting outgoing connection per peer, and
//!   [`ClientConn`] / [`connect_client`] for application clients.
//! * [`wire`]: frames, the hello handshake, encoding.
//! * [`fault`]: partitions, delays and clock skew injected at run time ([`Faults`]).
//! * [`storage`] and [`wal`]: the [`Storage`] trait, [`MemStorage`] and the on-disk [`FileWal`].
//! * [`config`] and [`stats`]: [`Config`] in, [`Stats`] out.
//!
//! ## The driver contract, in short
//!
//! One task steps the protocol, one input at a time. Inputs are run in batches; a batch's sends
//! and indications are released only after its state is durable (one fsync per batch: group
//! commit), except those recorded before the batch's first `Persist`, which leave before the
//! write. Timers are a table keyed by name. Time is the node's local clock, which the fault
//! layer may skew. Random choices come from a seeded [`Prng`](synod_core::Prng). A restarted
//! node recovers from its storage. Malformed input from the network is counted and dropped.
//! The full statement, point by point against [`Protocol`](synod_core::Protocol)'s contract,
//! is on [`Running`].
//!
//! ## Wire format
//!
//! TCP with `TCP_NODELAY`. Every message is a frame: a `u32` big-endian length, then a
//! [postcard](https://docs.rs/postcard) payload (compact, varint-based serde encoding). A
//! connection opens with a [`wire::Hello`] (magic `SYND`, wire version, cluster id, role: peer
//! `NodeId` or client) answered by `Welcome` or `Reject { reason }`. Peer connections then carry
//! one protocol message per frame, one way; client connections carry opaque application frames
//! both ways. Frames above [`Config::max_frame`] (16 MiB by default) are refused without
//! allocating. See [`wire`].
//!
//! ## Determinism
//!
//! This crate is exempt from the workspace's determinism lints on purpose: it reads clocks,
//! sockets, disks and OS randomness, because that is its job. The protocols it drives stay
//! deterministic; and this crate's own tests swap tokio's sockets for
//! [turmoil](https://docs.rs/turmoil)'s simulated ones, so the transport and driver run in a
//! seeded, reproducible network too.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

/// Prints one log line to stderr, prefixed with the node: `synod n2: ...`.
macro_rules! log {
    ($node:expr, $($arg:tt)+) => {
        eprintln!("synod {}: {}", $node, format_args!($($arg)+))
    };
}
pub(crate) use log;

pub mod config;
mod driver;
pub mod fault;
mod net;
pub mod node;
pub mod stats;
pub mod storage;
pub mod transport;
pub mod wal;
pub mod wire;

#[cfg(test)]
mod sim_tests;

pub use config::Config;
pub use fault::Faults;
pub use node::{start, start_on, Handle, Listener, Running, Stopped};
pub use stats::{Rejections, Stats};
pub use storage::{MemStorage, Storage, Written};
pub use transport::{connect_client, ClientConn, ClientReader, ClientWriter};
pub use wal::{FileWal, WalOptions};
