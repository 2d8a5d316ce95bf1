//! State machine replication: what a replicated log replicates.
//!
//! Schneider's state machine approach: make every replica a deterministic state machine, agree
//! on one order of commands (a replicated log: [Raft](crate::consensus::raft)), and apply them in
//! that order; replicas that started equal stay equal. [`StateMachine`] is the application side
//! of that bargain: a command type, an answer type, and a deterministic `apply`. The log does not
//! look inside commands; it only needs to know which client issued one (to answer it) and
//! whether a command only reads (a leader may then answer it by the *read-index* protocol
//! instead of appending it to the log).
//!
//! Two machines ship: [`Register`] (the single register the simulator's experiments check) and
//! the key-value store with client sessions [`crate::replication::kv::Kv`] (what `synod node`
//! serves over TCP).
//!
//! **Read:** Schneider, "Implementing fault-tolerant services using the state machine approach:
//! a tutorial" (ACM Computing Surveys, 1990); Ongaro's thesis, ch. 6 (clients, sessions,
//! read-only queries) and ch. 5 (log compaction with snapshots).

use crate::register::{RegisterReq, RegisterResp};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use synod_core::{Message, StateValue};

/// A deterministic state machine, replicated by applying the same commands in the same order.
///
/// The state itself is a [`StateValue`] (the model checker fingerprints it) and serializable
/// (a snapshot of it is persisted and sent to lagging replicas).
pub trait StateMachine: StateValue + Default + Serialize + DeserializeOwned {
    /// A client's command.
    type Cmd: Message;
    /// The answer to a command.
    type Out: Message;

    /// The client that issued `cmd` (answers are addressed to it).
    fn client(cmd: &Self::Cmd) -> u64;

    /// Applies a committed command. Must be deterministic: a function of the state and the
    /// command only.
    fn apply(&mut self, cmd: &Self::Cmd) -> Self::Out;

    /// True if `cmd` never changes the state, so a leader may answer it with [`query`]
    /// after confirming its leadership, without a log entry. The default: no command is
    /// read-only.
    ///
    /// [`query`]: StateMachine::query
    fn read_only(_cmd: &Self::Cmd) -> bool {
        false
    }

    /// Answers a read-only command (one for which [`read_only`](StateMachine::read_only) is
    /// true) from the current state. The default applies it to a copy.
    fn query(&self, cmd: &Self::Cmd) -> Self::Out {
        self.clone().apply(cmd)
    }
}

/// A single read/write register, the object of the simulator's linearizability checks: reads
/// and writes from [`RegisterReq`], answers [`RegisterResp`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Register {
    /// The value of the last write applied (`None` before the first).
    pub value: Option<u64>,
}

impl StateMachine for Register {
    type Cmd = RegisterReq;
    type Out = RegisterResp;

    fn client(cmd: &RegisterReq) -> u64 {
        cmd.client()
    }

    fn apply(&mut self, cmd: &RegisterReq) -> RegisterResp {
        match *cmd {
            RegisterReq::Write { client, value } => {
                self.value = Some(value);
                RegisterResp::WriteOk { client }
            }
            RegisterReq::Read { client } => RegisterResp::ReadOk {
                client,
                value: self.value,
            },
        }
    }

    fn read_only(cmd: &RegisterReq) -> bool {
        matches!(cmd, RegisterReq::Read { .. })
    }

    fn query(&self, cmd: &RegisterReq) -> RegisterResp {
        match *cmd {
            RegisterReq::Read { client } => RegisterResp::ReadOk {
                client,
                value: self.value,
            },
            RegisterReq::Write { client, .. } => RegisterResp::WriteOk { client },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_register_reads_its_last_write() {
        let mut r = Register::default();
        assert_eq!(
            r.apply(&RegisterReq::Read { client: 1 }),
            RegisterResp::ReadOk {
                client: 1,
                value: None
            }
        );
        r.apply(&RegisterReq::Write {
            client: 2,
            value: 7,
        });
        assert_eq!(
            r.query(&RegisterReq::Read { client: 1 }),
            RegisterResp::ReadOk {
                client: 1,
                value: Some(7)
            }
        );
    }
}
