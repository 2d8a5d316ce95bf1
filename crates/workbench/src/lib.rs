//! # synod-workbench: test your own nodes, in any language
//!
//! The workbench runs node programs that speak Maelstrom's protocol (JSON lines on stdin and
//! stdout; see [`wire`]), one process per node, and plays everything around them: the
//! network (latency, loss, partitions: [`net`]), the clients that drive a workload
//! ([`workload`]), the services nodes may call ([`service`]: `lin-kv`, `seq-kv`, `lww-kv`,
//! `lin-tso`) and a nemesis that partitions, kills and pauses nodes ([`nemesis`]). Then it
//! checks the clients' history with synod-consistency's checkers and writes a run folder.
//!
//! Every random choice (client operations, latencies, losses, the fault schedule) comes from
//! one printed seed ([`run::Options::seed`]); the processes' own timing is real. Node
//! misbehaviour (a line that is not JSON, an unknown destination, a reply without
//! `in_reply_to`, an early exit, no `init_ok`) is a [`Misbehaviour`]: reported with the node,
//! the line and what was expected, counted, and it makes the run invalid; it never stops the
//! run.
//!
//! This crate drives real processes and reads the wall clock, so it is not under the
//! determinism lints of the simulator's crates.
//!
//! ```no_run
//! use synod_workbench::{workbench, Settings};
//!
//! let mut s = Settings::new("echo", "./my-node").unwrap();
//! s.node_count = 3;
//! let results = workbench(&s).unwrap();
//! println!("{}", results.verdict);
//! ```

#![warn(missing_docs)]

pub mod diagram;
pub mod journal;
pub mod nemesis;
pub mod net;
pub mod process;
pub mod report;
pub mod run;
pub mod service;
pub mod wire;
pub mod workload;

pub use report::{workbench, Results, Settings};

use serde::Serialize;
use std::collections::BTreeMap;

/// What a node did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MisbehaviourKind {
    /// A stdout line that is not JSON.
    NotJson,
    /// JSON, but not a message (no `src`/`dest`/`body`/`type`, bad `msg_id`).
    BadMessage,
    /// `src` is not the node's own id.
    WrongSource,
    /// `dest` is no node, client or service.
    UnknownDestination,
    /// A message to a client without `in_reply_to`.
    MissingInReplyTo,
    /// A reply of the wrong type (`read_ok` to a `write`).
    UnexpectedReply,
    /// A reply of the right type missing a field, or with a field of the wrong shape.
    MalformedReply,
    /// `init` not answered in time.
    NoInitOk,
    /// The process exited before the run ended.
    EarlyExit,
}

impl MisbehaviourKind {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            MisbehaviourKind::NotJson => "not-json",
            MisbehaviourKind::BadMessage => "bad-message",
            MisbehaviourKind::WrongSource => "wrong-source",
            MisbehaviourKind::UnknownDestination => "unknown-destination",
            MisbehaviourKind::MissingInReplyTo => "missing-in-reply-to",
            MisbehaviourKind::UnexpectedReply => "unexpected-reply",
            MisbehaviourKind::MalformedReply => "malformed-reply",
            MisbehaviourKind::NoInitOk => "no-init-ok",
            MisbehaviourKind::EarlyExit => "early-exit",
        }
    }
}

/// One instance of node misbehaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Misbehaviour {
    /// The node.
    pub node: String,
    /// What kind.
    pub kind: MisbehaviourKind,
    /// The offending line (cut to 200 characters; empty for exits and silence).
    pub line: String,
    /// What was wrong and what was expected.
    pub detail: String,
}

/// All misbehaviour of a run: complete counts, the first few instances of each kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Misbehaviours {
    /// Total count.
    pub count: u64,
    /// Count per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// The first instances (at most [`Misbehaviours::LISTED`] per kind).
    pub examples: Vec<Misbehaviour>,
}

impl Misbehaviours {
    /// How many instances of each kind are kept.
    pub const LISTED: u64 = 5;

    /// Records `m`, keeping it as an example if it is among the first of its kind.
    pub fn record(&mut self, mut m: Misbehaviour) {
        self.count += 1;
        let n = self.by_kind.entry(m.kind.name()).or_default();
        *n += 1;
        if *n <= Misbehaviours::LISTED {
            if m.line.chars().count() > 200 {
                m.line = m.line.chars().take(200).collect::<String>() + "…";
            }
            self.examples.push(m);
        }
    }
}
