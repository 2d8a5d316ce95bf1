//! # Kafka-style logs: offsets, polls and committed offsets
//!
//! Maelstrom's `kafka` workload (after Jepsen's `jepsen.tests.kafka`): servers keep one
//! append-only log per *key*; each offset of a log holds at most one message, and offsets
//! may be sparse. Clients `send` a message to a key and learn the offset it was given,
//! `poll` some keys from given offsets, `commit_offsets` (the highest offset of each key
//! they have processed) and `list_committed_offsets`.
//!
//! ## Encoding
//!
//! Each operation of the [`Recorded`] history is one request (`key` is unused):
//!
//! | `f` | invocation value | `:ok` value |
//! |---|---|---|
//! | `send` | `[key, msg]` | the offset (an integer) |
//! | `poll` | `{key: offset}`, the offsets asked from | `{key: [[offset, msg], ...]}` (keys may be missing) |
//! | `commit_offsets` | `{key: offset}` | anything |
//! | `list_committed_offsets` | `[key, ...]` | `{key: offset}` (keys never committed may be missing) |
//!
//! Keys and messages may be any [`Value`] (Maelstrom uses strings and integers), compared
//! exactly. `nil` stands for an empty map in `:ok` values. Other functions are ignored. As
//! everywhere, `:fail` means the request certainly did not take effect and an unknown
//! outcome that it may have, at any time after its invocation.
//!
//! ## What is checked
//!
//! The reference is the strongest model: a linearizable store of append-only logs (every
//! send appends at an offset greater than every offset present, exactly once) whose
//! committed offset of each key only ever advances (a commit sets it to the maximum of its
//! value and the committed one). Every anomaly below is impossible there, so a history
//! valid under that model is never flagged (the property tests hold the checker to that).
//! "Known messages" of a key are the offsets that an `:ok` send was given or that an `:ok`
//! poll returned.
//!
//! - **inconsistent-offsets**: two different messages were seen at one offset of a key (by
//!   `:ok` sends and `:ok` polls together);
//! - **duplicate**: one message of a key was seen at two or more offsets, although at most
//!   one send of it (to that key) did not fail. Messages sent more than once (not failing)
//!   are *ambiguous* ([`KafkaReport::ambiguous_messages`]) and not judged;
//! - **nonmonotonic-poll**: within one poll's list for a key, an offset is not greater than
//!   the one before it;
//! - **poll-below-requested**: a poll returned, for a key it asked from offset `r`, an
//!   offset below `r`;
//! - **poll-skip**: a poll passed over a known message: two consecutive offsets `o1 < o2` of
//!   its list for a key with a known message strictly between them, or, for a key it asked
//!   from `r`, a first offset `o1 >= r` with a known message in `[r, o1)`. In an append-only
//!   log nothing can appear later between offsets that a poll returned side by side, so
//!   this holds whatever the order of the poll and the send;
//! - **lost-write**: an `:ok` send's message was returned by no poll of its key, although
//!   some `:ok` poll asked that key from an offset at or below the send's offset and
//!   returned a greater offset: consumers read past it. (Such a poll also skipped it.)
//!   Maelstrom calls a write lost as soon as any poll saw a greater offset; that is only
//!   sound when consumers read contiguously, so it is reported separately as
//!   [`KafkaReport::unobserved_below_polled`] and does not invalidate the history;
//! - **nonmonotonic-send**: two `:ok` sends of one process to one key, the first completed
//!   before the second was invoked, and the second got an offset not greater than the
//!   first's;
//! - **unexpected-message**: a poll returned a message that no send to that key could have
//!   written: never sent there, only failed sends of it, or first sent (not failing) after
//!   the poll completed;
//! - **committed-behind**: an `:ok` `list_committed_offsets` asked for a key and returned
//!   less than (or nothing, where) an `:ok` commit of that key completed before the list
//!   was invoked had committed;
//! - **committed-regression**: two `:ok` lists of one process, the first completed before
//!   the second was invoked, and the second returned less for a key than the first (or
//!   nothing for a key it asked for);
//! - **committed-ahead**: a list returned an offset `r` for a key greater than every commit
//!   of that key (not failing) invoked before the list completed, and a known message of the
//!   key lies strictly between the greatest such commit (if any) and `r`: nobody committed
//!   that far, and a consumer starting from `r` would skip that message (values that skip
//!   nothing, like a default `0` for a key never committed, or the committed offset plus
//!   one, are tolerated);
//! - **malformed**: an `:ok` operation (or any send, poll, commit or list invocation) whose
//!   value does not have the shape above. Malformed operations are left out of the other
//!   checks.
//!
//! The two committed-offset ordering checks (`committed-behind`, `committed-regression`)
//! assume commits advance the committed offset; servers that overwrite it may switch them
//! off with [`KafkaOptions::committed_monotonic`]. There is no recency requirement: a sent
//! message may stay unpolled forever; such messages are counted in
//! [`KafkaReport::unobserved_count`].
//!
//! ## Cost
//!
//! `O(n log n)` in the number of operations plus the size of the polls' results.
//!
//! ## Example
//!
//! ```
//! use synod_consistency::checkers::kafka::{check_kafka, KafkaAnomalyKind, KafkaOptions};
//! use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
//!
//! let op = |f: &str, value: Value, result: Value, at: u64| RecordedOp {
//!     process: 0,
//!     f: f.into(),
//!     key: None,
//!     value,
//!     completion: Completion::Ok(result),
//!     call: 2 * at,
//!     ret: Some(2 * at + 1),
//!     call_nanos: None,
//!     ret_nanos: None,
//!     line: at as usize + 1,
//! };
//! let k = || Value::Str("k".into());
//! let pair = |o: i64, m: i64| Value::List(vec![Value::Int(o), Value::Int(m)]);
//! let h = Recorded {
//!     ops: vec![
//!         op("send", Value::List(vec![k(), Value::Int(10)]), Value::Int(0), 0),
//!         op("send", Value::List(vec![k(), Value::Int(11)]), Value::Int(1), 1),
//!         op("send", Value::List(vec![k(), Value::Int(12)]), Value::Int(2), 2),
//!         // Polling from 0 returns offsets 0 and 2: offset 1 was skipped, and never seen.
//!         op(
//!             "poll",
//!             Value::Map(vec![(k(), Value::Int(0))]),
//!             Value::Map(vec![(k(), Value::List(vec![pair(0, 10), pair(2, 12)]))]),
//!             3,
//!         ),
//!     ],
//!     skipped_events: 0,
//! };
//! let report = check_kafka(&h, &KafkaOptions::default());
//! assert!(!report.valid);
//! assert_eq!(report.count(KafkaAnomalyKind::PollSkip), 1);
//! assert_eq!(report.count(KafkaAnomalyKind::LostWrite), 1);
//! ```

use super::{push_capped, Interner, DEFAULT_MAX_LISTED};
use crate::format::{Completion, Recorded, RecordedOp, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Options of [`check_kafka`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaOptions {
    /// How many anomalies of each kind the report lists (the counts are always complete).
    pub max_listed: usize,
    /// Check that committed offsets never go backwards (`committed-behind` and
    /// `committed-regression`); on by default.
    pub committed_monotonic: bool,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            max_listed: DEFAULT_MAX_LISTED,
            committed_monotonic: true,
        }
    }
}

/// The kinds of anomaly [`check_kafka`] looks for (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KafkaAnomalyKind {
    /// Two different messages at one offset of a key.
    #[serde(rename = "inconsistent-offsets")]
    InconsistentOffsets,
    /// One message at two or more offsets.
    #[serde(rename = "duplicate")]
    Duplicate,
    /// Offsets not increasing within one poll's list for a key.
    #[serde(rename = "nonmonotonic-poll")]
    NonmonotonicPoll,
    /// A poll returned an offset below the one it asked from.
    #[serde(rename = "poll-below-requested")]
    PollBelowRequested,
    /// A poll passed over a known message.
    #[serde(rename = "poll-skip")]
    PollSkip,
    /// An acknowledged message never polled, though a poll read past it.
    #[serde(rename = "lost-write")]
    LostWrite,
    /// A process's later send to a key got a lower or equal offset.
    #[serde(rename = "nonmonotonic-send")]
    NonmonotonicSend,
    /// A polled message no send could have written.
    #[serde(rename = "unexpected-message")]
    UnexpectedMessage,
    /// A list returned less than a commit completed before it.
    #[serde(rename = "committed-behind")]
    CommittedBehind,
    /// A process's later list returned less than its earlier one.
    #[serde(rename = "committed-regression")]
    CommittedRegression,
    /// A list returned an offset greater than any commit asked for.
    #[serde(rename = "committed-ahead")]
    CommittedAhead,
    /// An operation whose value does not have the expected shape.
    #[serde(rename = "malformed")]
    Malformed,
}

impl KafkaAnomalyKind {
    /// Every kind, in reporting order.
    pub const ALL: [KafkaAnomalyKind; 12] = [
        KafkaAnomalyKind::InconsistentOffsets,
        KafkaAnomalyKind::Duplicate,
        KafkaAnomalyKind::NonmonotonicPoll,
        KafkaAnomalyKind::PollBelowRequested,
        KafkaAnomalyKind::PollSkip,
        KafkaAnomalyKind::LostWrite,
        KafkaAnomalyKind::NonmonotonicSend,
        KafkaAnomalyKind::UnexpectedMessage,
        KafkaAnomalyKind::CommittedBehind,
        KafkaAnomalyKind::CommittedRegression,
        KafkaAnomalyKind::CommittedAhead,
        KafkaAnomalyKind::Malformed,
    ];

    /// The name used in reports: `inconsistent-offsets`, `duplicate`, `nonmonotonic-poll`,
    /// `poll-below-requested`, `poll-skip`, `lost-write`, `nonmonotonic-send`,
    /// `unexpected-message`, `committed-behind`, `committed-regression`, `committed-ahead`,
    /// `malformed`.
    pub fn name(self) -> &'static str {
        match self {
            KafkaAnomalyKind::InconsistentOffsets => "inconsistent-offsets",
            KafkaAnomalyKind::Duplicate => "duplicate",
            KafkaAnomalyKind::NonmonotonicPoll => "nonmonotonic-poll",
            KafkaAnomalyKind::PollBelowRequested => "poll-below-requested",
            KafkaAnomalyKind::PollSkip => "poll-skip",
            KafkaAnomalyKind::LostWrite => "lost-write",
            KafkaAnomalyKind::NonmonotonicSend => "nonmonotonic-send",
            KafkaAnomalyKind::UnexpectedMessage => "unexpected-message",
            KafkaAnomalyKind::CommittedBehind => "committed-behind",
            KafkaAnomalyKind::CommittedRegression => "committed-regression",
            KafkaAnomalyKind::CommittedAhead => "committed-ahead",
            KafkaAnomalyKind::Malformed => "malformed",
        }
    }
}

impl fmt::Display for KafkaAnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a polled message was unexpected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnexpectedMessageCause {
    /// No send of it to that key.
    NeverSent,
    /// Every send of it to that key failed (the first is given).
    OnlyFailedSends {
        /// The first (failed) send.
        send: usize,
    },
    /// Its first send to that key that did not fail was invoked after the poll completed.
    SentAfterPoll {
        /// That send.
        send: usize,
    },
}

/// An anomaly found by [`check_kafka`]; operations are indices into [`Recorded::ops`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KafkaAnomaly {
    /// Two different messages were seen at one offset.
    InconsistentOffsets {
        /// The key.
        key: Value,
        /// The offset.
        offset: i64,
        /// The distinct messages seen there, in order of first sighting.
        messages: Vec<Value>,
        /// For each message, the first operation (send or poll) that saw it there.
        ops: Vec<usize>,
    },
    /// One message, sent (not failing) at most once to its key, was seen at several offsets.
    Duplicate {
        /// The key.
        key: Value,
        /// The message.
        msg: Value,
        /// The offsets it was seen at, ascending.
        offsets: Vec<i64>,
        /// For each offset, the first operation that saw it there.
        ops: Vec<usize>,
    },
    /// A poll's offsets for a key did not increase.
    NonmonotonicPoll {
        /// The poll.
        poll: usize,
        /// The key.
        key: Value,
        /// The offset listed first.
        prev: i64,
        /// The offset listed right after it, not greater.
        next: i64,
    },
    /// A poll returned an offset below the one it asked from.
    PollBelowRequested {
        /// The poll.
        poll: usize,
        /// The key.
        key: Value,
        /// The offset asked from.
        requested: i64,
        /// The (first) offset returned below it.
        offset: i64,
    },
    /// A poll passed over known messages.
    PollSkip {
        /// The poll.
        poll: usize,
        /// The key.
        key: Value,
        /// The offset returned before the gap, or `None` if the gap starts at the offset
        /// asked from (inclusive).
        after: Option<i64>,
        /// The offset asked from, when `after` is `None`.
        requested: Option<i64>,
        /// The offset returned after the gap.
        next: i64,
        /// The first known offset skipped.
        skipped: i64,
        /// How many known offsets the gap holds.
        skipped_count: usize,
        /// An operation that showed the first skipped offset held a message.
        witness: usize,
    },
    /// An acknowledged message no poll of its key returned, although a poll read past it.
    LostWrite {
        /// The key.
        key: Value,
        /// The offset the send was given.
        offset: i64,
        /// The message.
        msg: Value,
        /// The send.
        send: usize,
        /// A poll that asked from at or below `offset` and returned a greater offset.
        poll: usize,
    },
    /// A process's later send to a key got an offset not greater than its earlier one.
    NonmonotonicSend {
        /// The process.
        process: u64,
        /// The key.
        key: Value,
        /// The earlier send.
        first: usize,
        /// Its offset.
        first_offset: i64,
        /// The later send (invoked after `first` completed).
        second: usize,
        /// Its offset.
        second_offset: i64,
    },
    /// A poll returned a message no send could have written.
    UnexpectedMessage {
        /// The first poll that returned it.
        poll: usize,
        /// The key.
        key: Value,
        /// The offset it was returned at.
        offset: i64,
        /// The message.
        msg: Value,
        /// Why it was unexpected.
        cause: UnexpectedMessageCause,
    },
    /// A list returned less than a commit completed before it had committed.
    CommittedBehind {
        /// The list.
        list: usize,
        /// The key.
        key: Value,
        /// What it returned (`None`: the key was missing).
        returned: Option<i64>,
        /// The commit (completed before the list was invoked) with the greatest offset.
        commit: usize,
        /// That commit's offset for the key.
        committed: i64,
    },
    /// A process's later list returned less for a key than its earlier list.
    CommittedRegression {
        /// The process.
        process: u64,
        /// The key.
        key: Value,
        /// The earlier list.
        earlier: usize,
        /// What it returned.
        earlier_offset: i64,
        /// The later list (invoked after `earlier` completed).
        later: usize,
        /// What it returned (`None`: the key was missing).
        later_offset: Option<i64>,
    },
    /// A list returned an offset greater than every commit of the key invoked before the
    /// list completed, passing over a known message.
    CommittedAhead {
        /// The list.
        list: usize,
        /// The key.
        key: Value,
        /// What it returned.
        returned: i64,
        /// The greatest offset committed by then (`None`: no commit of the key by then).
        max_committed: Option<i64>,
        /// The first known offset between `max_committed` and `returned`.
        skipped: i64,
        /// An operation that showed `skipped` held a message.
        witness: usize,
    },
    /// An operation whose value does not have the expected shape.
    Malformed {
        /// The operation.
        op: usize,
        /// The offending value.
        value: Value,
        /// What was expected.
        expected: String,
    },
}

impl KafkaAnomaly {
    /// The anomaly's kind.
    pub fn kind(&self) -> KafkaAnomalyKind {
        match self {
            KafkaAnomaly::InconsistentOffsets { .. } => KafkaAnomalyKind::InconsistentOffsets,
            KafkaAnomaly::Duplicate { .. } => KafkaAnomalyKind::Duplicate,
            KafkaAnomaly::NonmonotonicPoll { .. } => KafkaAnomalyKind::NonmonotonicPoll,
            KafkaAnomaly::PollBelowRequested { .. } => KafkaAnomalyKind::PollBelowRequested,
            KafkaAnomaly::PollSkip { .. } => KafkaAnomalyKind::PollSkip,
            KafkaAnomaly::LostWrite { .. } => KafkaAnomalyKind::LostWrite,
            KafkaAnomaly::NonmonotonicSend { .. } => KafkaAnomalyKind::NonmonotonicSend,
            KafkaAnomaly::UnexpectedMessage { .. } => KafkaAnomalyKind::UnexpectedMessage,
            KafkaAnomaly::CommittedBehind { .. } => KafkaAnomalyKind::CommittedBehind,
            KafkaAnomaly::CommittedRegression { .. } => KafkaAnomalyKind::CommittedRegression,
            KafkaAnomaly::CommittedAhead { .. } => KafkaAnomalyKind::CommittedAhead,
            KafkaAnomaly::Malformed { .. } => KafkaAnomalyKind::Malformed,
        }
    }

    /// The operations involved (indices into [`Recorded::ops`]).
    pub fn ops(&self) -> Vec<usize> {
        match self {
            KafkaAnomaly::InconsistentOffsets { ops, .. } | KafkaAnomaly::Duplicate { ops, .. } => {
                ops.clone()
            }
            KafkaAnomaly::NonmonotonicPoll { poll, .. }
            | KafkaAnomaly::PollBelowRequested { poll, .. } => vec![*poll],
            KafkaAnomaly::PollSkip { poll, witness, .. } => vec![*poll, *witness],
            KafkaAnomaly::LostWrite { send, poll, .. } => vec![*send, *poll],
            KafkaAnomaly::NonmonotonicSend { first, second, .. } => vec![*first, *second],
            KafkaAnomaly::UnexpectedMessage { poll, cause, .. } => match cause {
                UnexpectedMessageCause::NeverSent => vec![*poll],
                UnexpectedMessageCause::OnlyFailedSends { send }
                | UnexpectedMessageCause::SentAfterPoll { send } => vec![*poll, *send],
            },
            KafkaAnomaly::CommittedBehind { list, commit, .. } => vec![*commit, *list],
            KafkaAnomaly::CommittedRegression { earlier, later, .. } => vec![*earlier, *later],
            KafkaAnomaly::CommittedAhead { list, witness, .. } => vec![*list, *witness],
            KafkaAnomaly::Malformed { op, .. } => vec![*op],
        }
    }
}

fn list_ints(xs: &[i64]) -> String {
    let parts: Vec<String> = xs.iter().map(i64::to_string).collect();
    parts.join(", ")
}

fn opt(o: Option<i64>) -> String {
    o.map_or_else(|| "nothing".to_string(), |o| o.to_string())
}

impl fmt::Display for KafkaAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind())?;
        match self {
            KafkaAnomaly::InconsistentOffsets {
                key,
                offset,
                messages,
                ops,
            } => {
                write!(f, "key {key} offset {offset} held ")?;
                for (i, (m, o)) in messages.iter().zip(ops).enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    write!(f, "{m} (op {o})")?;
                }
                Ok(())
            }
            KafkaAnomaly::Duplicate {
                key,
                msg,
                offsets,
                ops,
            } => write!(
                f,
                "message {msg} of key {key} seen at offsets {} (first by ops {})",
                list_ints(offsets),
                ops.iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            KafkaAnomaly::NonmonotonicPoll {
                poll,
                key,
                prev,
                next,
            } => write!(
                f,
                "poll op {poll} listed offset {next} of key {key} right after {prev}"
            ),
            KafkaAnomaly::PollBelowRequested {
                poll,
                key,
                requested,
                offset,
            } => write!(
                f,
                "poll op {poll} asked key {key} from offset {requested} and returned offset {offset}"
            ),
            KafkaAnomaly::PollSkip {
                poll,
                key,
                after,
                requested,
                next,
                skipped,
                skipped_count,
                witness,
            } => {
                match (after, requested) {
                    (Some(a), _) => write!(
                        f,
                        "poll op {poll} returned offsets {a} then {next} of key {key}"
                    )?,
                    (None, r) => write!(
                        f,
                        "poll op {poll} asked key {key} from offset {} and returned {next} first",
                        opt(*r)
                    )?,
                }
                write!(
                    f,
                    ", skipping {skipped_count} known offset(s), first {skipped} (seen by op {witness})"
                )
            }
            KafkaAnomaly::LostWrite {
                key,
                offset,
                msg,
                send,
                poll,
            } => write!(
                f,
                "message {msg} sent to key {key} by op {send} at offset {offset} was never polled, \
                 though poll op {poll} read past it"
            ),
            KafkaAnomaly::NonmonotonicSend {
                process,
                key,
                first,
                first_offset,
                second,
                second_offset,
            } => write!(
                f,
                "process {process} sent to key {key} at offset {first_offset} (op {first}), \
                 then at offset {second_offset} (op {second})"
            ),
            KafkaAnomaly::UnexpectedMessage {
                poll,
                key,
                offset,
                msg,
                cause,
            } => {
                write!(
                    f,
                    "poll op {poll} returned message {msg} at offset {offset} of key {key}, "
                )?;
                match cause {
                    UnexpectedMessageCause::NeverSent => write!(f, "which was never sent there"),
                    UnexpectedMessageCause::OnlyFailedSends { send } => {
                        write!(f, "whose sends all failed (first: op {send})")
                    }
                    UnexpectedMessageCause::SentAfterPoll { send } => write!(
                        f,
                        "first sent by op {send}, invoked after the poll completed"
                    ),
                }
            }
            KafkaAnomaly::CommittedBehind {
                list,
                key,
                returned,
                commit,
                committed,
            } => write!(
                f,
                "list op {list} returned {} for key {key}, though commit op {commit} of offset \
                 {committed} completed before it",
                opt(*returned)
            ),
            KafkaAnomaly::CommittedRegression {
                process,
                key,
                earlier,
                earlier_offset,
                later,
                later_offset,
            } => write!(
                f,
                "process {process} listed committed offset {earlier_offset} of key {key} (op \
                 {earlier}), then {} (op {later})",
                opt(*later_offset)
            ),
            KafkaAnomaly::CommittedAhead {
                list,
                key,
                returned,
                max_committed,
                skipped,
                witness,
            } => write!(
                f,
                "list op {list} returned committed offset {returned} for key {key}, but the \
                 greatest commit by then was {}, and offset {skipped} (seen by op {witness}) \
                 lies between",
                opt(*max_committed)
            ),
            KafkaAnomaly::Malformed {
                op,
                value,
                expected,
            } => write!(f, "op {op} has value {value}, expected {expected}"),
        }
    }
}

/// The result of [`check_kafka`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaReport {
    /// No anomaly of any kind.
    pub valid: bool,
    /// Send operations (any outcome).
    pub sends: usize,
    /// `:ok` sends.
    pub acknowledged: usize,
    /// Sends that failed.
    pub failed_sends: usize,
    /// `:ok` polls.
    pub polls: usize,
    /// Commit operations that did not fail.
    pub commits: usize,
    /// `:ok` lists of committed offsets.
    pub lists: usize,
    /// Distinct keys sent to, polled, committed or listed.
    pub keys: usize,
    /// Distinct (key, offset) pairs some poll returned.
    pub polled_offsets: usize,
    /// Distinct (key, message) pairs sent more than once (not failing): not judged for
    /// duplicates.
    pub ambiguous_messages: usize,
    /// Acknowledged sends whose message no poll of the key returned (no recency is
    /// required, so this is not an error by itself).
    pub unobserved_count: usize,
    /// Of those, the sends below the greatest offset polled on their key: Maelstrom's "lost
    /// writes", which are errors only if consumers read contiguously (informational).
    pub unobserved_below_polled: usize,
    /// How many anomalies of each kind (complete).
    pub counts: BTreeMap<KafkaAnomalyKind, usize>,
    /// Anomalies, in the order of [`KafkaAnomalyKind::ALL`], at most `max_listed` of each
    /// kind.
    pub anomalies: Vec<KafkaAnomaly>,
}

impl KafkaReport {
    /// How many anomalies of `kind` were found.
    pub fn count(&self, kind: KafkaAnomalyKind) -> usize {
        self.counts.get(&kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for KafkaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kafka: {}; {} sends ({} acknowledged, {} failed), {} polls, {} keys, {} unobserved",
            if self.valid { "valid" } else { "INVALID" },
            self.sends,
            self.acknowledged,
            self.failed_sends,
            self.polls,
            self.keys,
            self.unobserved_count
        )?;
        for (kind, n) in &self.counts {
            if *n > 0 {
                write!(f, ", {n} {kind}")?;
            }
        }
        Ok(())
    }
}

/// A send, parsed.
struct Send {
    op: usize,
    key: usize,
    msg: usize,
    /// The offset of an `:ok` send.
    offset: Option<i64>,
}

/// A poll's result: (key, [(offset, msg)]).
type PollResults = Vec<(usize, Vec<(i64, usize)>)>;

/// An `:ok` poll, parsed.
struct Poll {
    op: usize,
    /// (key, offset asked from).
    requested: Vec<(usize, i64)>,
    /// (key, [(offset, msg)]).
    results: PollResults,
}

/// A list of committed offsets (`:ok`), parsed.
struct List {
    op: usize,
    asked: Vec<usize>,
    returned: Vec<(usize, i64)>,
}

/// Collects anomalies per kind, capped, with complete counts.
struct Sink {
    max: usize,
    lists: BTreeMap<KafkaAnomalyKind, Vec<KafkaAnomaly>>,
    counts: BTreeMap<KafkaAnomalyKind, usize>,
}

impl Sink {
    fn push(&mut self, a: KafkaAnomaly) {
        let kind = a.kind();
        *self.counts.entry(kind).or_default() += 1;
        push_capped(self.lists.entry(kind).or_default(), self.max, a);
    }

    fn malformed(&mut self, op: usize, value: &Value, expected: &str) {
        self.push(KafkaAnomaly::Malformed {
            op,
            value: value.clone(),
            expected: expected.to_string(),
        });
    }
}

/// Dense ids for keys or messages, counting them.
struct Ids {
    interner: Interner<Value>,
    len: usize,
}

impl Default for Ids {
    fn default() -> Self {
        Ids {
            interner: Interner::new(),
            len: 0,
        }
    }
}

impl Ids {
    fn intern(&mut self, v: &Value) -> usize {
        let id = self.interner.intern(v);
        self.len = self.len.max(id + 1);
        id
    }

    fn value(&self, id: usize) -> &Value {
        self.interner.value(id)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// The entries of a map (`nil` is an empty one).
fn entries(v: &Value) -> Option<&[(Value, Value)]> {
    match v {
        Value::Map(m) => Some(m),
        Value::Nil => Some(&[]),
        _ => None,
    }
}

/// `{key: int}` with keys interned.
fn offsets_map(v: &Value, keys: &mut Ids) -> Option<Vec<(usize, i64)>> {
    entries(v)?
        .iter()
        .map(|(k, o)| Some((keys.intern(k), o.as_int()?)))
        .collect()
}

/// `{key: [[offset, msg], ...]}` with keys and messages interned.
fn poll_result(v: &Value, keys: &mut Ids, msgs: &mut Ids) -> Option<PollResults> {
    let mut out = Vec::new();
    for (k, pairs) in entries(v)? {
        let mut list = Vec::new();
        for p in pairs.as_list()? {
            match p.as_list()? {
                [o, m] => list.push((o.as_int()?, msgs.intern(m))),
                _ => return None,
            }
        }
        out.push((keys.intern(k), list));
    }
    Some(out)
}

/// Checks a Kafka-style log history (see the [module docs](self)).
pub fn check_kafka(history: &Recorded, options: &KafkaOptions) -> KafkaReport {
    let ops = &history.ops;
    let mut keys = Ids::default();
    let mut msgs = Ids::default();
    let mut sink = Sink {
        max: options.max_listed,
        lists: BTreeMap::new(),
        counts: BTreeMap::new(),
    };
    let mut sends: Vec<Send> = Vec::new();
    let mut polls: Vec<Poll> = Vec::new();
    // Commits that did not fail: (op, key, offset).
    let mut commits: Vec<(usize, usize, i64)> = Vec::new();
    let mut lists: Vec<List> = Vec::new();
    let mut failed_sends = 0;

    for (i, op) in ops.iter().enumerate() {
        match op.f.as_str() {
            "send" => {
                let parsed = match op.value.as_list() {
                    Some([k, m]) => Some((keys.intern(k), msgs.intern(m))),
                    _ => None,
                };
                let Some((key, msg)) = parsed else {
                    sink.malformed(i, &op.value, "[key, msg]");
                    continue;
                };
                let offset = match &op.completion {
                    Completion::Ok(v) => match v.as_int() {
                        Some(o) => Some(o),
                        None => {
                            sink.malformed(i, v, "an offset");
                            continue;
                        }
                    },
                    Completion::Fail(_) => {
                        failed_sends += 1;
                        None
                    }
                    Completion::Unknown(_) => None,
                };
                sends.push(Send {
                    op: i,
                    key,
                    msg,
                    offset,
                });
            }
            "poll" => {
                let Some(requested) = offsets_map(&op.value, &mut keys) else {
                    sink.malformed(i, &op.value, "{key: offset}");
                    continue;
                };
                if let Completion::Ok(v) = &op.completion {
                    match poll_result(v, &mut keys, &mut msgs) {
                        Some(results) => polls.push(Poll {
                            op: i,
                            requested,
                            results,
                        }),
                        None => sink.malformed(i, v, "{key: [[offset, msg], ...]}"),
                    }
                }
            }
            "commit_offsets" => {
                let Some(offsets) = offsets_map(&op.value, &mut keys) else {
                    sink.malformed(i, &op.value, "{key: offset}");
                    continue;
                };
                if !op.is_fail() {
                    commits.extend(offsets.into_iter().map(|(k, o)| (i, k, o)));
                }
            }
            "list_committed_offsets" => {
                let Some(asked) = op.value.as_list() else {
                    sink.malformed(i, &op.value, "[key, ...]");
                    continue;
                };
                let asked: Vec<usize> = asked.iter().map(|k| keys.intern(k)).collect();
                if let Completion::Ok(v) = &op.completion {
                    match offsets_map(v, &mut keys) {
                        Some(returned) => lists.push(List {
                            op: i,
                            asked,
                            returned,
                        }),
                        None => sink.malformed(i, v, "{key: offset}"),
                    }
                }
            }
            _ => {}
        }
    }
    let nkeys = keys.len();

    // Every sighting of a message at an offset: (key, offset, msg, op).
    let mut sightings: Vec<(usize, i64, usize, usize)> = Vec::new();
    for s in &sends {
        if let Some(o) = s.offset {
            sightings.push((s.key, o, s.msg, s.op));
        }
    }
    for p in &polls {
        for (k, list) in &p.results {
            for &(o, m) in list {
                sightings.push((*k, o, m, p.op));
            }
        }
    }

    // Inconsistent offsets: group by (key, offset); distinct messages in order of first op.
    let mut by_offset = sightings.clone();
    by_offset.sort_by_key(|&(k, o, _, op)| (k, o, op));
    // Known offsets per key, ascending, with a witness op.
    let mut known: Vec<Vec<(i64, usize)>> = vec![Vec::new(); nkeys];
    for group in by_offset.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (k, o, _, first_op) = group[0];
        known[k].push((o, first_op));
        let mut messages: Vec<usize> = Vec::new();
        let mut seen_by: Vec<usize> = Vec::new();
        for &(_, _, m, op) in group {
            if !messages.contains(&m) {
                messages.push(m);
                seen_by.push(op);
            }
        }
        if messages.len() > 1 {
            sink.push(KafkaAnomaly::InconsistentOffsets {
                key: keys.value(k).clone(),
                offset: o,
                messages: messages.iter().map(|&m| msgs.value(m).clone()).collect(),
                ops: seen_by,
            });
        }
    }

    // Sends per (key, msg): not failing, and all.
    let mut live_sends: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut any_sends: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for s in &sends {
        any_sends.entry((s.key, s.msg)).or_insert(s.op);
        if !ops[s.op].is_fail() {
            live_sends.entry((s.key, s.msg)).or_default().push(s.op);
        }
    }
    let ambiguous_messages = live_sends.values().filter(|v| v.len() > 1).count();

    // Duplicates: group by (key, msg); distinct offsets.
    let mut by_msg = sightings;
    by_msg.sort_by_key(|&(k, o, m, op)| (k, m, o, op));
    for group in by_msg.chunk_by(|a, b| (a.0, a.2) == (b.0, b.2)) {
        let (k, _, m, _) = group[0];
        if live_sends.get(&(k, m)).is_some_and(|v| v.len() > 1) {
            continue;
        }
        let mut offsets: Vec<i64> = Vec::new();
        let mut first_ops: Vec<usize> = Vec::new();
        for same in group.chunk_by(|a, b| a.1 == b.1) {
            offsets.push(same[0].1);
            first_ops.push(same.iter().map(|s| s.3).min().unwrap_or(same[0].3));
        }
        if offsets.len() > 1 {
            sink.push(KafkaAnomaly::Duplicate {
                key: keys.value(k).clone(),
                msg: msgs.value(m).clone(),
                offsets,
                ops: first_ops,
            });
        }
    }

    // Per poll: monotonicity, lower bound, skips; and, per key, how far polls read.
    // (key, msg) -> the first poll that returned it, and the offset it returned it at.
    let mut polled: BTreeMap<(usize, usize), (usize, i64)> = BTreeMap::new();
    let mut polled_offsets: Vec<(usize, i64)> = Vec::new();
    // (key, asked from, greatest offset returned, poll).
    let mut reach: Vec<(usize, i64, i64, usize)> = Vec::new();
    let mut max_polled: Vec<Option<i64>> = vec![None; nkeys];
    let count_known = |k: usize, lo: i64, hi: i64| -> (usize, Option<(i64, usize)>) {
        // Known offsets in [lo, hi).
        let list = &known[k];
        let a = list.partition_point(|&(o, _)| o < lo);
        let b = list.partition_point(|&(o, _)| o < hi);
        (b.saturating_sub(a), list.get(a).copied().filter(|_| b > a))
    };
    for p in &polls {
        for (k, list) in &p.results {
            let k = *k;
            let requested = p.requested.iter().find(|(rk, _)| *rk == k).map(|&(_, r)| r);
            for &(o, m) in list {
                polled.entry((k, m)).or_insert((p.op, o));
                polled_offsets.push((k, o));
                max_polled[k] = Some(max_polled[k].map_or(o, |x| x.max(o)));
            }
            let mut monotonic = true;
            for w in list.windows(2) {
                let (prev, next) = (w[0].0, w[1].0);
                if next <= prev {
                    monotonic = false;
                    sink.push(KafkaAnomaly::NonmonotonicPoll {
                        poll: p.op,
                        key: keys.value(k).clone(),
                        prev,
                        next,
                    });
                }
            }
            if let Some(r) = requested {
                if let Some(&(o, _)) = list.iter().find(|&&(o, _)| o < r) {
                    sink.push(KafkaAnomaly::PollBelowRequested {
                        poll: p.op,
                        key: keys.value(k).clone(),
                        requested: r,
                        offset: o,
                    });
                }
                if let Some(top) = list.iter().map(|&(o, _)| o).max() {
                    reach.push((k, r, top, p.op));
                }
            }
            // Skips, only judged in increasing lists (so no gap holds an offset the list
            // itself returned): the gap before the first offset, from the one asked from,
            // and between consecutive offsets.
            if !monotonic {
                continue;
            }
            let mut gaps: Vec<(Option<i64>, i64, i64)> = Vec::new(); // (after, from, next)
            if let (Some(r), Some(&(first, _))) = (requested, list.first()) {
                if first >= r {
                    gaps.push((None, r, first));
                }
            }
            for w in list.windows(2) {
                gaps.push((Some(w[0].0), w[0].0.saturating_add(1), w[1].0));
            }
            for (after, from, next) in gaps {
                let (n, witness) = count_known(k, from, next);
                if let Some((skipped, witness)) = witness {
                    sink.push(KafkaAnomaly::PollSkip {
                        poll: p.op,
                        key: keys.value(k).clone(),
                        after,
                        requested: if after.is_none() { requested } else { None },
                        next,
                        skipped,
                        skipped_count: n,
                        witness,
                    });
                }
            }
        }
    }
    polled_offsets.sort_unstable();
    polled_offsets.dedup();

    // Lost writes: for each key, polls by offset asked from, with the running maximum of
    // the offset they reached (and the poll that reached it).
    reach.sort_by_key(|&(k, r, _, op)| (k, r, op));
    let mut reach_max: Vec<(usize, i64, i64, usize)> = Vec::with_capacity(reach.len());
    for &(k, r, top, op) in &reach {
        match reach_max.last() {
            Some(&(pk, _, ptop, pop)) if pk == k && ptop >= top => {
                reach_max.push((k, r, ptop, pop))
            }
            _ => reach_max.push((k, r, top, op)),
        }
    }
    let mut unobserved_count = 0;
    let mut unobserved_below_polled = 0;
    for s in &sends {
        let Some(o) = s.offset else { continue };
        if polled.contains_key(&(s.key, s.msg)) {
            continue;
        }
        unobserved_count += 1;
        if max_polled[s.key].is_some_and(|m| m > o) {
            unobserved_below_polled += 1;
        }
        // The last poll of this key asked from at or below `o`.
        let idx = reach_max.partition_point(|&(k, r, _, _)| (k, r) <= (s.key, o));
        if let Some(&(k, _, top, poll)) = idx.checked_sub(1).map(|j| &reach_max[j]) {
            if k == s.key && top > o {
                sink.push(KafkaAnomaly::LostWrite {
                    key: keys.value(s.key).clone(),
                    offset: o,
                    msg: msgs.value(s.msg).clone(),
                    send: s.op,
                    poll,
                });
            }
        }
    }

    // Nonmonotonic sends: a process's acknowledged sends to a key, in invocation order.
    let mut by_process: BTreeMap<(u64, usize), Vec<(usize, i64)>> = BTreeMap::new();
    for s in &sends {
        if let Some(o) = s.offset {
            by_process
                .entry((ops[s.op].process, s.key))
                .or_default()
                .push((s.op, o));
        }
    }
    for ((process, k), list) in &by_process {
        for w in list.windows(2) {
            let ((a, oa), (b, ob)) = (w[0], w[1]);
            if precedes(&ops[a], &ops[b]) && ob <= oa {
                sink.push(KafkaAnomaly::NonmonotonicSend {
                    process: *process,
                    key: keys.value(*k).clone(),
                    first: a,
                    first_offset: oa,
                    second: b,
                    second_offset: ob,
                });
            }
        }
    }

    // Unexpected messages, once per (key, msg), at the first poll that returned them.
    let mut first_polls: Vec<(usize, usize, usize, i64)> = polled
        .iter()
        .map(|(&(k, m), &(poll, o))| (poll, k, m, o))
        .collect();
    first_polls.sort_unstable();
    for (poll, k, m, o) in first_polls {
        let cause = match (live_sends.get(&(k, m)), any_sends.get(&(k, m))) {
            (None, None) => Some(UnexpectedMessageCause::NeverSent),
            (None, Some(&send)) => Some(UnexpectedMessageCause::OnlyFailedSends { send }),
            (Some(live), _) => live
                .iter()
                .copied()
                .min_by_key(|&s| ops[s].call)
                .filter(|&s| precedes(&ops[poll], &ops[s]))
                .map(|send| UnexpectedMessageCause::SentAfterPoll { send }),
        };
        if let Some(cause) = cause {
            sink.push(KafkaAnomaly::UnexpectedMessage {
                poll,
                key: keys.value(k).clone(),
                offset: o,
                msg: msgs.value(m).clone(),
                cause,
            });
        }
    }

    // Committed offsets.
    check_committed(ops, &commits, &lists, &keys, &known, options, &mut sink);

    let mut counts = BTreeMap::new();
    let mut anomalies = Vec::new();
    for kind in KafkaAnomalyKind::ALL {
        counts.insert(kind, sink.counts.get(&kind).copied().unwrap_or(0));
        anomalies.extend(sink.lists.remove(&kind).unwrap_or_default());
    }
    KafkaReport {
        valid: anomalies.is_empty(),
        sends: ops.iter().filter(|o| o.f == "send").count(),
        acknowledged: sends.iter().filter(|s| s.offset.is_some()).count(),
        failed_sends,
        polls: polls.len(),
        commits: {
            let mut c: Vec<usize> = commits.iter().map(|c| c.0).collect();
            c.dedup();
            c.len()
        },
        lists: lists.len(),
        keys: nkeys,
        polled_offsets: polled_offsets.len(),
        ambiguous_messages,
        unobserved_count,
        unobserved_below_polled,
        counts,
        anomalies,
    }
}

/// True if `a` completed before `b` was invoked.
fn precedes(a: &RecordedOp, b: &RecordedOp) -> bool {
    super::precedes(a, b)
}

/// The committed-offset checks: behind, regression, ahead.
fn check_committed(
    ops: &[RecordedOp],
    commits: &[(usize, usize, i64)],
    lists: &[List],
    keys: &Ids,
    known: &[Vec<(i64, usize)>],
    options: &KafkaOptions,
    sink: &mut Sink,
) {
    // Per key: ok commits by completion, with the running maximum; live commits by
    // invocation, with the running maximum.
    let nkeys = known.len();
    let mut done: Vec<Vec<(u64, i64, usize)>> = vec![Vec::new(); nkeys];
    let mut invoked: Vec<Vec<(u64, i64)>> = vec![Vec::new(); nkeys];
    for &(op, k, o) in commits {
        if let Some(ret) = ops[op].ret.filter(|_| ops[op].is_ok()) {
            done[k].push((ret, o, op));
        }
        invoked[k].push((ops[op].call, o));
    }
    for list in &mut done {
        list.sort_unstable();
        for i in 1..list.len() {
            if list[i - 1].1 >= list[i].1 {
                list[i].1 = list[i - 1].1;
                list[i].2 = list[i - 1].2;
            }
        }
    }
    for list in &mut invoked {
        list.sort_unstable();
        for i in 1..list.len() {
            list[i].1 = list[i].1.max(list[i - 1].1);
        }
    }
    let returned_of = |l: &List, k: usize| l.returned.iter().find(|r| r.0 == k).map(|r| r.1);
    for l in lists {
        let op = &ops[l.op];
        if options.committed_monotonic {
            for &k in &l.asked {
                let i = done[k].partition_point(|&(ret, _, _)| ret < op.call);
                if let Some(&(_, committed, commit)) = i.checked_sub(1).map(|j| &done[k][j]) {
                    let returned = returned_of(l, k);
                    if returned.is_none_or(|r| r < committed) {
                        sink.push(KafkaAnomaly::CommittedBehind {
                            list: l.op,
                            key: keys.value(k).clone(),
                            returned,
                            commit,
                            committed,
                        });
                    }
                }
            }
        }
        let end = op.ret.unwrap_or(u64::MAX);
        for &(k, r) in &l.returned {
            let i = invoked[k].partition_point(|&(call, _)| call < end);
            let max_committed = i.checked_sub(1).map(|j| invoked[k][j].1);
            if max_committed.is_some_and(|m| r <= m) {
                continue;
            }
            // The first known offset strictly between the greatest commit and `r`.
            let list = &known[k];
            let from = max_committed.map_or(0, |m| list.partition_point(|&(o, _)| o <= m));
            if let Some(&(skipped, witness)) = list.get(from).filter(|&&(o, _)| o < r) {
                sink.push(KafkaAnomaly::CommittedAhead {
                    list: l.op,
                    key: keys.value(k).clone(),
                    returned: r,
                    max_committed,
                    skipped,
                    witness,
                });
            }
        }
    }
    if !options.committed_monotonic {
        return;
    }
    // Regressions within a process: its lists in invocation order.
    let mut by_process: BTreeMap<u64, Vec<&List>> = BTreeMap::new();
    for l in lists {
        by_process.entry(ops[l.op].process).or_default().push(l);
    }
    for (process, ls) in by_process {
        // Per key: the greatest offset returned by a list completed before, and that list.
        let mut best: BTreeMap<usize, (i64, usize)> = BTreeMap::new();
        let mut pending: Vec<&List> = Vec::new();
        for l in ls {
            // Lists of this process completed before `l` was invoked now count.
            pending.retain(|p| {
                if precedes(&ops[p.op], &ops[l.op]) {
                    for &(k, r) in &p.returned {
                        let e = best.entry(k).or_insert((r, p.op));
                        if r > e.0 {
                            *e = (r, p.op);
                        }
                    }
                    false
                } else {
                    true
                }
            });
            for &k in &l.asked {
                if let Some(&(earlier_offset, earlier)) = best.get(&k) {
                    let later_offset = returned_of(l, k);
                    if later_offset.is_none_or(|r| r < earlier_offset) {
                        sink.push(KafkaAnomaly::CommittedRegression {
                            process,
                            key: keys.value(k).clone(),
                            earlier,
                            earlier_offset,
                            later: l.op,
                            later_offset,
                        });
                    }
                }
            }
            pending.push(l);
        }
    }
}
