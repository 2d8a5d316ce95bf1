//! A key-value store with client sessions: the state machine `synod node` replicates with Raft.
//!
//! Operations: `get`, `put` and compare-and-set (`cas`, which sets `key` to `to` only if its
//! current value is `from`, `None` meaning absent). Keys and values are strings.
//!
//! **Exactly-once over a lossy network.** A client that timed out does not know whether its
//! write happened; it retries, maybe at another server, and both copies may end up in the log.
//! Applying a `put` twice is not harmless (another client's write may sit between the copies:
//! a read then sees a value come back) and a `cas` applied twice answers "mismatch" to a swap
//! that succeeded. So each client numbers its writes (`seq`, increasing, one outstanding at a
//! time), and the store keeps, per client, the last sequence number it applied with its answer:
//! a repeated command gets the recorded answer and changes nothing (Ongaro's thesis §6.3). The
//! session table is part of the replicated state (in snapshots too), so every replica filters
//! the same duplicates. It holds at most [`Kv::MAX_SESSIONS`] clients; the least recently active
//! is evicted first (a retry from an evicted client could apply twice, as in the thesis).
//! Reads (`get`) carry no session: they are read-only ([`StateMachine::read_only`]) and a Raft
//! leader answers them by read-index, without a log entry.
//!
//! Keys and values are `Arc<str>`: a Raft leader copies and compares its log entries when it
//! persists them, and a shared string makes both a pointer operation.
//!
//! **Read:** Ongaro, "Consensus: bridging theory and practice" (PhD thesis, Stanford, 2014),
//! ch. 6.3 (implementing linearizable semantics) and 6.4 (read-only queries).

use super::state_machine::StateMachine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An operation on the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOp {
    /// Read `key`.
    Get {
        /// The key.
        key: Arc<str>,
    },
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: Arc<str>,
        /// The new value.
        value: Arc<str>,
    },
    /// Set `key` to `to` if its value is `from` (`None`: the key is absent).
    Cas {
        /// The key.
        key: Arc<str>,
        /// The expected current value.
        from: Option<Arc<str>>,
        /// The new value.
        to: Arc<str>,
    },
}

impl KvOp {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

/// A client's command: the operation, the client and (for writes) its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvCmd {
    /// The client.
    pub client: u64,
    /// The client's sequence number for this operation (increasing; one outstanding at a time).
    pub seq: u64,
    /// The operation.
    pub op: KvOp,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvResult {
    /// A `get`'s answer (`None`: absent).
    Value(Option<Arc<str>>),
    /// A `put` was applied.
    Written,
    /// A `cas` found the expected value and swapped it.
    Swapped,
    /// A `cas` found another value (`current`) and changed nothing.
    Mismatch {
        /// The value it found.
        current: Option<Arc<str>>,
    },
    /// The command is older than the client's last applied one: a late duplicate, not applied;
    /// the client has its answer already.
    Stale,
}

/// The answer to a [`KvCmd`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvOut {
    /// The client.
    pub client: u64,
    /// The command's sequence number.
    pub seq: u64,
    /// The result.
    pub result: KvResult,
}

/// What the store remembers of one client: its last applied write and the answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    /// The sequence number of the last applied write.
    pub seq: u64,
    /// Its answer, repeated to a retry.
    pub result: KvResult,
    /// When the client was last active (the store's count of applied writes then).
    pub active: u64,
}

/// The replicated key-value store (see the [module documentation](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Kv {
    /// The data.
    pub data: BTreeMap<Arc<str>, Arc<str>>,
    /// The client sessions.
    pub sessions: BTreeMap<u64, Session>,
    /// Writes applied so far (a logical clock for session eviction).
    pub writes: u64,
}

impl Kv {
    /// The most sessions kept.
    pub const MAX_SESSIONS: usize = 4096;

    fn write(&mut self, op: &KvOp) -> KvResult {
        match op {
            KvOp::Get { key } => KvResult::Value(self.data.get(key).cloned()),
            KvOp::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                KvResult::Written
            }
            KvOp::Cas { key, from, to } => {
                let current = self.data.get(key);
                if current == from.as_ref() {
                    self.data.insert(key.clone(), to.clone());
                    KvResult::Swapped
                } else {
                    KvResult::Mismatch {
                        current: current.cloned(),
                    }
                }
            }
        }
    }

    fn evict_one(&mut self) {
        let oldest = self
            .sessions
            .iter()
            .min_by_key(|(&c, s)| (s.active, c))
            .map(|(&c, _)| c);
        if let Some(c) = oldest {
            self.sessions.remove(&c);
        }
    }
}

impl StateMachine for Kv {
    type Cmd = KvCmd;
    type Out = KvOut;

    fn client(cmd: &KvCmd) -> u64 {
        cmd.client
    }

    fn apply(&mut self, cmd: &KvCmd) -> KvOut {
        let out = |result| KvOut {
            client: cmd.client,
            seq: cmd.seq,
            result,
        };
        if Kv::read_only(cmd) {
            return out(self.write(&cmd.op));
        }
        if let Some(s) = self.sessions.get(&cmd.client) {
            if cmd.seq == s.seq {
                return out(s.result.clone());
            }
            if cmd.seq < s.seq {
                return out(KvResult::Stale);
            }
        }
        let result = self.write(&cmd.op);
        self.writes += 1;
        let session = Session {
            seq: cmd.seq,
            result: result.clone(),
            active: self.writes,
        };
        if self.sessions.insert(cmd.client, session).is_none()
            && self.sessions.len() > Kv::MAX_SESSIONS
        {
            self.evict_one();
        }
        out(result)
    }

    fn read_only(cmd: &KvCmd) -> bool {
        matches!(cmd.op, KvOp::Get { .. })
    }

    fn query(&self, cmd: &KvCmd) -> KvOut {
        let result = match &cmd.op {
            KvOp::Get { key } => KvResult::Value(self.data.get(key).cloned()),
            _ => KvResult::Stale, // not a query: answered without effect
        };
        KvOut {
            client: cmd.client,
            seq: cmd.seq,
            result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u64, seq: u64, op: KvOp) -> KvCmd {
        KvCmd { client, seq, op }
    }
    fn put(k: &str, v: &str) -> KvOp {
        KvOp::Put {
            key: k.into(),
            value: v.into(),
        }
    }
    fn get(k: &str) -> KvOp {
        KvOp::Get { key: k.into() }
    }

    #[test]
    fn a_duplicated_put_between_other_writes_is_applied_once() {
        let mut kv = Kv::default();
        kv.apply(&cmd(1, 1, put("k", "a")));
        kv.apply(&cmd(2, 1, put("k", "b")));
        // Client 1's retry of seq 1 lands after client 2's write: it must not resurrect "a".
        let again = kv.apply(&cmd(1, 1, put("k", "a")));
        assert_eq!(again.result, KvResult::Written);
        assert_eq!(
            kv.query(&cmd(3, 0, get("k"))).result,
            KvResult::Value(Some("b".into()))
        );
        // An even older duplicate is stale.
        kv.apply(&cmd(1, 2, put("x", "1")));
        assert_eq!(kv.apply(&cmd(1, 1, put("k", "a"))).result, KvResult::Stale);
    }

    #[test]
    fn a_retried_cas_repeats_its_success() {
        let mut kv = Kv::default();
        let swap = KvOp::Cas {
            key: "k".into(),
            from: None,
            to: "1".into(),
        };
        assert_eq!(kv.apply(&cmd(1, 1, swap.clone())).result, KvResult::Swapped);
        // Applied again (a duplicate in the log) it still reports the swap, not a mismatch.
        assert_eq!(kv.apply(&cmd(1, 1, swap.clone())).result, KvResult::Swapped);
        // A new cas with a wrong expectation reports what it found.
        assert_eq!(
            kv.apply(&cmd(2, 1, swap)).result,
            KvResult::Mismatch {
                current: Some("1".into())
            }
        );
    }

    #[test]
    fn sessions_are_bounded_and_the_least_recent_goes_first() {
        let mut kv = Kv::default();
        for c in 0..(Kv::MAX_SESSIONS as u64 + 10) {
            kv.apply(&cmd(c, 1, put("k", "v")));
        }
        assert_eq!(kv.sessions.len(), Kv::MAX_SESSIONS);
        assert!(!kv.sessions.contains_key(&0));
        assert!(kv.sessions.contains_key(&(Kv::MAX_SESSIONS as u64 + 9)));
    }
}
