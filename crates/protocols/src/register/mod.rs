//! Registers: a shared variable that clients read and write, emulated by message passing.
//!
//! Every register protocol of synod speaks the same client interface, so one workload, one
//! history extractor ([`synod_core::History::from_trace`], through [`ClientOps`]) and one
//! linearizability checker serve all of them:
//!
//! - a client operation arrives as a request at one server (any server: all nodes are servers,
//!   clients are external): [`RegisterReq::Write`] or [`RegisterReq::Read`];
//! - its answer is an indication emitted by a server: [`RegisterResp::WriteOk`] or
//!   [`RegisterResp::ReadOk`], naming the client; an operation that is never answered is
//!   *incomplete* (it may or may not have taken effect).
//!
//! The register starts empty: a read before any write returns `None`.
//!
//! This interface is the whole contract between a register *client program* and whatever
//! implements the register: an operation is invoked with a [`RegisterOp`] (by a client id), and
//! completes, or not, with a [`RegisterRet`]. Nothing in it names messages, servers' state or
//! quorums, so the same client program (and the same history checks: linearizability, or
//! safe / regular / atomic with `synod_consistency::checkers::register_semantics`) can run
//! against every ABD variant here and against any other implementation of a register, such as
//! a shared-memory one. Clients must write unique values for the register-semantics checks.
//!
//! | protocol | failures | timing | register |
//! |---|---|---|---|
//! | [`Abd`] (Attiya, Bar-Noy and Dolev; multi-writer) | crash-stop, any minority | asynchronous | atomic (linearizable) multi-writer multi-reader |
//! | [`Abd::single_writer`] | crash-stop, any minority | asynchronous | atomic single-writer multi-reader, one-round-trip writes |
//! | `Abd::single_writer(w).with_write_back(false)` | crash-stop, any minority | asynchronous | *regular* only (one-round-trip reads) |
//! | [`crate::consensus::PaxosRegister`] | crash-stop, any minority | asynchronous (safety) | linearizable *write-once* |
//!
//! As client operations ([`ClientOps`]), both protocols have input [`RegisterOp`] and output
//! [`RegisterRet`]; the client id is the requests' and responses' `client` field. A client issues
//! one operation at a time.
//!
//! ABD under the simulator, with a read after a write:
//!
//! ```
//! use synod_core::{History, Instant, NodeId};
//! use synod_protocols::register::{Abd, RegisterOp, RegisterReq, RegisterResp, RegisterRet};
//! use synod_sim::{Scripted, SimConfig, Simulation};
//!
//! let reqs = vec![
//!     (Instant::ZERO, NodeId(0), RegisterReq::Write { client: 1, value: 7 }),
//!     (Instant::from_secs(1), NodeId(2), RegisterReq::Read { client: 2 }),
//! ];
//! let out = Simulation::new(Abd::new(), SimConfig::new(3, 1))
//!     .unwrap()
//!     .with_workload(Scripted(reqs))
//!     .run();
//! let h = History::<RegisterOp, RegisterRet>::from_trace(&out.trace);
//! assert_eq!(h.ops[1].completion.as_ref().unwrap().1, RegisterRet::ReadOk(Some(7)));
//! ```
//!
//! Canary: [`Abd::canary_no_write_back`], whose reads skip the write-back phase: a read can
//! then return a new value and a later read an older one (a *new/old inversion*), which is not
//! linearizable.
//!
//! **Read:** Cachin, Guerraoui and Rodrigues (CGR), ch. 4 (regular and atomic registers; the
//! "read-impose write-majority" algorithms, (1,N) and (N,N)); Attiya, Bar-Noy and Dolev,
//! "Sharing memory robustly in message-passing systems", JACM 42(1), 1995; Lynch, *Distributed
//! Algorithms*, ch. 17 (atomic objects in asynchronous networks); Herlihy and Wing,
//! "Linearizability", TOPLAS 1990.

pub mod abd;
pub mod program;
pub mod properties;

pub use abd::{Abd, AbdCoord, AbdMsg, AbdPhase, AbdState, Timestamp};

use crate::consensus::PaxosRegister;
use serde::{Deserialize, Serialize};
use synod_core::{ClientId, ClientOps};

/// A client operation, as it arrives at a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterReq {
    /// Client `client` writes `value`.
    Write {
        /// The client.
        client: u64,
        /// The value to write.
        value: u64,
    },
    /// Client `client` reads.
    Read {
        /// The client.
        client: u64,
    },
}

impl RegisterReq {
    /// The client that issued the request.
    pub fn client(&self) -> u64 {
        match *self {
            RegisterReq::Write { client, .. } | RegisterReq::Read { client } => client,
        }
    }

    /// The operation, without the client.
    pub fn op(&self) -> RegisterOp {
        match *self {
            RegisterReq::Write { value, .. } => RegisterOp::Write(value),
            RegisterReq::Read { .. } => RegisterOp::Read,
        }
    }

    /// The response that answers this request with `ret`, or `None` if `ret` is not an answer
    /// to it (a read result for a write, say: a peer's bad message).
    pub fn respond(&self, ret: RegisterRet) -> Option<RegisterResp> {
        match (*self, ret) {
            (RegisterReq::Write { client, .. }, RegisterRet::WriteOk) => {
                Some(RegisterResp::WriteOk { client })
            }
            (RegisterReq::Read { client }, RegisterRet::ReadOk(value)) => {
                Some(RegisterResp::ReadOk { client, value })
            }
            _ => None,
        }
    }

    /// The request for `op` by `client`.
    pub fn new(client: u64, op: RegisterOp) -> RegisterReq {
        match op {
            RegisterOp::Write(value) => RegisterReq::Write { client, value },
            RegisterOp::Read => RegisterReq::Read { client },
        }
    }
}

/// The answer to a client, emitted by a server as an indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterResp {
    /// Client `client`'s write took effect.
    WriteOk {
        /// The client.
        client: u64,
    },
    /// Client `client`'s read returned `value` (`None`: nothing was written yet).
    ReadOk {
        /// The client.
        client: u64,
        /// The value read.
        value: Option<u64>,
    },
}

impl RegisterResp {
    /// The client the response is for.
    pub fn client(&self) -> u64 {
        match *self {
            RegisterResp::WriteOk { client } | RegisterResp::ReadOk { client, .. } => client,
        }
    }

    /// The result, without the client.
    pub fn ret(&self) -> RegisterRet {
        match *self {
            RegisterResp::WriteOk { .. } => RegisterRet::WriteOk,
            RegisterResp::ReadOk { value, .. } => RegisterRet::ReadOk(value),
        }
    }
}

/// A register operation's input, as a history sees it ([`ClientOps::Input`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterOp {
    /// Write this value.
    Write(u64),
    /// Read.
    Read,
}

/// A register operation's output, as a history sees it ([`ClientOps::Output`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegisterRet {
    /// The write took effect.
    WriteOk,
    /// The read returned this value (`None`: the initial, empty register).
    ReadOk(Option<u64>),
}

macro_rules! register_client_ops {
    ($ty:ty) => {
        impl ClientOps for $ty {
            type Input = RegisterOp;
            type Output = RegisterRet;

            fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
                Some((req.client(), req.op()))
            }

            fn response(ind: &RegisterResp) -> Option<(ClientId, RegisterRet)> {
                Some((ind.client(), ind.ret()))
            }
        }
    };
}

register_client_ops!(Abd);
register_client_ops!(PaxosRegister);
