//! Raft (Ongaro and Ousterhout, 2014): a replicated log driving any deterministic
//! [`StateMachine`]: the simulator's experiments replicate a [`Register`], `synod node`
//! replicates the key-value store [`crate::replication::kv::Kv`] over TCP.
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), *crash-recovery* with stable storage:
//! a server may crash at any moment and later restart from what it persisted; at most f of them
//! are down or cut off at a time, n ≥ 2f + 1. The network loses, duplicates and reorders
//! messages. *Safety* holds under asynchrony, whatever the timing and however many servers
//! crash. *Liveness* (a leader is elected and commands commit) needs partial synchrony: after
//! some unknown time, messages arrive well within the election timeout and a majority stays up
//! and connected. Randomized election timeouts make split votes unlikely, not impossible.
//! Clients are external: a client command (`M::Cmd`, for the register a
//! [`RegisterReq`]) arrives as a request at one server; the answer is an indication
//! ([`RaftInd::Client`] wrapping `M::Out`, for the register a
//! [`RegisterResp`](crate::register::RegisterResp)).
//!
//! **Algorithm** (the paper's §5, Figure 2). Every server keeps a current *term*, the candidate
//! it voted for in that term, and a log of [`Entry`]s (a term and a [`Cmd`]). Indices are
//! 1-based; index 0 is the empty prefix, of term 0.
//!
//! - *Election.* A follower or candidate whose election timer fires (no leader heard from)
//!   starts an election: term + 1, votes for itself, sends [`RaftMsg::RequestVote`] with the
//!   index and term of its last entry. A server grants at most one vote per term, and only to a
//!   candidate whose log is at least as *up to date* as its own (higher last term, or same last
//!   term and at least as long). A candidate with votes from a majority (its own included)
//!   becomes leader. The timeout is drawn through [`Ctx::choose`] from
//!   [`Raft::timeout_choices`] evenly spaced values in `[min, max]`.
//! - *Replication.* A new leader sets every follower's `next` to its last index + 1 and `matched`
//!   to 0, appends a no-op entry of its term (§8; [`Raft::noop_on_election`]) and sends
//!   [`RaftMsg::AppendEntries`]: the entries from `next` on (at most [`Raft::max_batch`]), with
//!   the index and term of the entry before them (`prev`) and its commit index. Heartbeats
//!   ([`RaftTimer::Heartbeat`]) resend them, which is also the retransmission over a lossy
//!   network. A follower refuses entries whose `prev` it does not hold (the *consistency
//!   check*), answering with a hint (its last index, capped at `prev - 1`) from which the leader
//!   lowers `next`; otherwise it deletes any entry that *conflicts* with a new one (same index,
//!   other term) and everything after it, appends what it lacks, and acknowledges the index of
//!   the last entry of the message. Entries it already holds are never truncated by a stale or
//!   duplicated message.
//! - *Commit.* The leader commits index N when a majority of `matched` (its own last index
//!   included) is at least N **and log\[N\] is of its current term** (§5.4.2); everything
//!   before N is committed with it. Followers learn the commit index from `commit` in
//!   `AppendEntries`, capped at the last index the message verified. Committed entries are
//!   applied in order to the register; each application is indicated as
//!   [`RaftInd::Commit`]` { index, term, cmd }`.
//! - *Terms.* Any message with a higher term makes the receiver adopt it and become a follower
//!   (a leader stops its heartbeats); a message with a lower term is answered with a refusal
//!   carrying the current term (so a stale leader or candidate steps down), or ignored.
//!
//! **Stable storage.** [`RaftDurable`]: the current term, the vote and the log. A handler that
//! changes any of them records [`Ctx::persist`] *before* its first send, indication or timer, so
//! a vote, an acknowledgement or a new leader's first `AppendEntries` never leaves a server
//! before what it promises is on disk (the driver contract makes `Persist` a barrier). The
//! commit index, the state machine and the role are volatile: a restarted server is a follower
//! with the commit index and state machine of its last snapshot (0 and empty without one), and
//! re-applies the log as it learns the commit index again (its `Commit` indications repeat,
//! with the same entries).
//!
//! **Clients.** A register ([`RegisterReq`]): writes *and reads* go through the log (a read is a
//! log entry too, so it is linearizable without leases). A request at the leader is appended
//! and replicated; the leader answers ([`RaftInd::Client`]) when it applies the entry, if it is
//! still the leader of the entry's term (so it created it). A request at any other server is
//! **redirected, not forwarded**: the server indicates [`RaftInd::Redirect`] with the leader it
//! knows for its current term, if any, and does nothing else, so the operation did not take
//! effect and the client may retry elsewhere ([`ClientOps::response`] does not count a redirect
//! as an answer). Forwarding would need client sessions: a duplicated forward would append a
//! command twice (§8 of the paper, ch. 6.3 of Ongaro's thesis). A command whose leader crashes or
//! is deposed before answering may still be committed by a later leader, unanswered: an
//! incomplete operation, as linearizability allows.
//!
//! **Read-index** ([`Raft::with_read_index`]; Ongaro's thesis §6.4). A command the state
//! machine calls read-only ([`StateMachine::read_only`]) need not be a log entry: the leader
//! records it with the current commit index (at least its no-op's index, so everything earlier
//! leaders committed is included), and answers it from its state machine once (a) a *round* of
//! `AppendEntries` sent **after** the read arrived has been acknowledged by a majority, which
//! proves no newer leader existed when the read arrived, and (b) it has applied that index.
//! Rounds are numbers carried in `AppendEntries` and echoed in `AppendResp`; one round is in
//! flight at a time, and the reads arriving meanwhile share the next one. A leader that steps
//! down answers its waiting reads with [`RaftInd::Redirect`]. Reads by read-index cost one
//! round trip and no disk write; the simulator's register runs keep reads in the log unless
//! asked (the `raft-read-index` catalog entry turns it on; its canary — answering before the
//! round is acknowledged — fails linearizability under partitions).
//!
//! **Log compaction** ([`Raft::with_snapshot_every`]; §7 of the paper). Once `k` applied
//! entries follow the last snapshot, a server replaces them by a snapshot of its state machine
//! (`snap_index`, `snap_term`, `snapshot` in [`RaftState`], durable too). A leader whose
//! follower needs entries it no longer holds sends [`RaftMsg::InstallSnapshot`]; the follower
//! keeps the log after the snapshot if it matches the snapshot's last entry, else drops it. A
//! restarted server starts from its snapshot (commit index = `snap_index`). The durable state
//! is written incrementally ([`synod_core::Journal`]: term/vote changes, truncations and
//! appends as records; a new snapshot as a checkpoint).
//!
//! **Properties** (the paper's Figure 3), as functions over node states (`states[i]` is node
//! i's state, `None` while it is down: [`election_safety`], [`log_matching`],
//! [`leader_completeness`], [`state_machine_safety`], all at once [`safety_violation`]) and over
//! the indications of a run ([`one_leader_per_term`], [`commits_agree`]; as trace properties
//! [`raft_properties`]):
//!
//! 1. *Election safety*: at most one leader per term ([`RaftInd::BecameLeader`]).
//! 2. *Leader append-only*: a leader never overwrites or deletes entries of its log, only
//!    appends ([`leader_append_only`], over two successive states of one server).
//! 3. *Log matching*: if two logs hold an entry with the same index and term, they are
//!    identical up to that index.
//! 4. *Leader completeness*: an entry committed in a term is in the log of every leader of every
//!    later term. Over states: a leader of term t holds the committed prefix of every server
//!    whose term is at most t (that server learned it from a leader of a term at most t).
//! 5. *State-machine safety*: no two servers apply different entries at the same index. Over
//!    states: committed prefixes agree; over the run: all `Commit` indications for an index
//!    carry the same entry.
//!
//! **The Figure 8 canary** ([`Raft::canary_figure8`]). Counting replicas is not enough to
//! commit an entry of an *earlier* term. Five servers S1..S5 (a) S1, leader of term 2,
//! replicates the entry at index 2 to S2 only; (b) S1 crashes, S5 becomes leader of term 3 with
//! the votes of S3, S4 and itself and appends a different entry at index 2, which no one else
//! receives; (c) S5 crashes, S1 becomes leader of term 4 and replicates its term-2 entry to S3:
//! it is now on a majority (S1, S2, S3). The canary commits it there (and may apply it and tell
//! followers). (d) S1 crashes or is cut off; S5 can win term 5 with the votes of S2, S3 and S4
//! (its last entry, of term 3, is more up to date than their term-2 entry) and replicate *its*
//! index 2 over the committed one: two servers apply different commands at index 2, violating
//! state-machine safety (and leader completeness: S5's log lacks a committed entry). The real
//! rule commits only entries of the leader's current term; once one of those is on a majority,
//! S5 can no longer win, and the earlier entries are committed with it (Figure 8(e)). The canary
//! also leaves out the no-op a new leader appends: with it, every acknowledgement a leader of
//! term 4 counts covers its term-4 no-op, and the unsafe rule would only commit what the real
//! one does. A follower of the canary that is asked to overwrite an entry it already knows is
//! committed keeps its log and does not answer (a correct leader never asks), so the violation
//! stays visible in its state.
//!
//! **For the model checker.** [`RaftState`] is a few scalars, the log (a `Vec`), and for a
//! leader two `Vec<u64>` of n entries; no maps, no timestamps. Set
//! [`Raft::with_timeout_choices`]`(1)`: the checker abstracts timer durations away, so more
//! choices only re-run handlers. The no-op entry per election makes logs longer; it can be
//! turned off ([`Raft::with_noop`]) at the price of liveness (an entry of an earlier term is
//! then committed only once a client command of the new term is).
//!
//! A run under the simulator (writes to every server: the leader takes its own, the others
//! redirect):
//!
//! ```
//! use synod_core::{check_all, Duration, Instant, NodeId};
//! use synod_protocols::consensus::raft::{self, Raft, RaftInd};
//! use synod_protocols::register::{RegisterReq, RegisterResp};
//! use synod_sim::{Scripted, SimConfig, Simulation, Timing};
//!
//! let reqs = (0..3)
//!     .map(|i| (Instant::from_secs(1), NodeId(i), RegisterReq::Write { client: i.into(), value: 7 }))
//!     .collect();
//! let mut cfg = SimConfig::new(3, 7);
//! cfg.timing = Timing::Synchronous { delta: Duration::from_millis(10) };
//! let out = Simulation::new(Raft::new(), cfg).unwrap().with_workload(Scripted(reqs)).run();
//! for r in check_all(&raft::raft_properties(), &out.trace) {
//!     assert!(!r.verdict.is_violated(), "{}: {}", r.name, r.verdict);
//! }
//! let answered = out.trace.indications().filter(|(_, _, _, i)| {
//!     matches!(i, RaftInd::Client(RegisterResp::WriteOk { .. }))
//! });
//! assert_eq!(answered.count(), 1);
//! let states: Vec<_> = out.states.iter().map(|s| s.as_ref()).collect();
//! assert_eq!(raft::safety_violation(&states), None);
//! ```
//!
//! **Read:** Ongaro and Ousterhout, "In search of an understandable consensus algorithm"
//! (USENIX ATC 2014): §5 (the algorithm; Figure 2 is the whole protocol on one page, Figure 3
//! its safety properties, Figure 8 and §5.4.2 the commit rule), §8 (clients, the no-op);
//! Ongaro's PhD thesis, "Consensus: bridging theory and practice" (Stanford, 2014), ch. 3 and
//! 6; Howard and Mortier, "Paxos vs Raft: have we reached consensus on distributed consensus?"
//! (PaPoC 2020) and Howard et al., "Raft refloated" (OSR 2015), optional; Kleppmann, *Designing
//! Data-Intensive Applications*, ch. 9 (consensus, total order broadcast and linearizability).

use super::{assert_fits_node_set, majority, NodeSet};
use crate::register::{RegisterOp, RegisterReq, RegisterRet};
pub use crate::replication::state_machine::{Register, StateMachine};
use derive_where::derive_where;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use synod_core::{
    ClientId, ClientOps, Ctx, Duration, Effect, EventKind, Journal, NodeId, Property, Protocol,
    Trace, Verdict,
};

/// A replicated command: what a log entry holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Cmd<C = RegisterReq> {
    /// Nothing: the entry a new leader appends to commit its predecessors' entries (§8).
    Noop,
    /// A client's command for the state machine.
    Op(C),
}

impl<C> Cmd<C> {
    /// The client's command (`None` for a no-op).
    pub fn op(&self) -> Option<&C> {
        match self {
            Cmd::Noop => None,
            Cmd::Op(c) => Some(c),
        }
    }
}

/// One log entry: the term of the leader that created it, and its command.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry<C = RegisterReq> {
    /// The term in which a leader appended it.
    pub term: u64,
    /// The command.
    pub cmd: Cmd<C>,
}

/// A log entry of the replicated state machine `M`.
pub type EntryOf<M> = Entry<<M as StateMachine>::Cmd>;

/// Raft's messages (the paper's three RPCs and their replies).
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum RaftMsg<M: StateMachine = Register> {
    /// "Vote for me in `term`; my log ends at `last_index`, of term `last_term`."
    RequestVote {
        /// The candidate's term.
        term: u64,
        /// The index of its last entry (0: empty log).
        last_index: u64,
        /// The term of its last entry (0: empty log).
        last_term: u64,
    },
    /// The answer to `RequestVote`.
    Vote {
        /// The voter's current term.
        term: u64,
        /// Whether it voted for the candidate.
        granted: bool,
    },
    /// "Append `entries` after index `prev_index` (of term `prev_term`); I have committed up to
    /// `commit`." With no entries: a heartbeat.
    AppendEntries {
        /// The leader's term.
        term: u64,
        /// The index of the entry just before `entries`.
        prev_index: u64,
        /// Its term.
        prev_term: u64,
        /// The entries, at `prev_index + 1` on.
        entries: Vec<EntryOf<M>>,
        /// The leader's commit index.
        commit: u64,
        /// The leader's read-index round when it sent this (0 when it serves no reads that way):
        /// echoed in the answer, it confirms the leadership a read waits for.
        round: u64,
    },
    /// The answer to `AppendEntries` and `InstallSnapshot`.
    AppendResp {
        /// The follower's current term.
        term: u64,
        /// Whether the consistency check passed.
        success: bool,
        /// On success, the index of the last entry the message carried (`prev_index` +
        /// number of entries): the follower's log matches the leader's up to there. On failure,
        /// a hint: the follower's last index, capped at `prev_index - 1`.
        index: u64,
        /// The round of the message answered.
        round: u64,
    },
    /// "My log up to `index` (whose last entry has term `last_term`) is compacted into this
    /// snapshot of the state machine": sent to a follower that needs entries the leader no
    /// longer keeps (§7 of the paper).
    InstallSnapshot {
        /// The leader's term.
        term: u64,
        /// The last index the snapshot covers.
        index: u64,
        /// The term of that entry.
        last_term: u64,
        /// The state machine after applying entries 1..=index.
        machine: Arc<M>,
        /// The leader's read-index round.
        round: u64,
    },
}

impl<M: StateMachine> RaftMsg<M> {
    /// The sender's term.
    pub fn term(&self) -> u64 {
        match *self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::Vote { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendResp { term, .. }
            | RaftMsg::InstallSnapshot { term, .. } => term,
        }
    }
}

/// Raft's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RaftTimer {
    /// A follower or candidate heard from no leader for a randomized timeout: start an election.
    Election,
    /// A leader's period: resend `AppendEntries` to every follower.
    Heartbeat,
}

/// What a Raft server tells the layer above.
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum RaftInd<M: StateMachine = Register> {
    /// The answer to a client: emitted by the leader that created the entry, when it applies it
    /// (or, for a read-only command served by read-index, once its leadership is confirmed).
    Client(M::Out),
    /// The request of `client` arrived at a server that is not the leader, or a read waiting
    /// for read-index was dropped because its leader stepped down: it did not take effect.
    /// `leader` is the leader this server knows for its current term, if any.
    Redirect {
        /// The client.
        client: u64,
        /// Where to retry.
        leader: Option<NodeId>,
        /// The command that did not take effect (so a server can tell it from the same
        /// client's later commands).
        cmd: M::Cmd,
    },
    /// This server became the leader of `term`.
    BecameLeader {
        /// The term.
        term: u64,
    },
    /// This server applied the entry at `index` (of term `term`) to its state machine: it knows
    /// the entry is committed. Repeated after a restart, with the same entry (from the last
    /// snapshot on).
    Commit {
        /// The log index.
        index: u64,
        /// The entry's term.
        term: u64,
        /// The entry's command.
        cmd: Cmd<M::Cmd>,
    },
}

/// A read-only command waiting at a leader for read-index: it is answered once a heartbeat
/// round sent after it arrived has been acknowledged by a majority (no newer leader existed
/// then) and the state machine has applied `index`.
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PendingRead<M: StateMachine> {
    /// The round whose acknowledgements confirm the leadership.
    pub round: u64,
    /// The commit index when it arrived (at least the leader's first entry of its term).
    pub index: u64,
    /// The command.
    pub cmd: M::Cmd,
}

/// A server's role.
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role<M: StateMachine = Register> {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes in its current term.
    Candidate {
        /// The servers that voted for it in this term (itself included).
        votes: NodeSet,
    },
    /// Leads its current term.
    Leader {
        /// Per server, the index of the next entry to send it.
        next: Vec<u64>,
        /// Per server, the highest index known to match the leader's log (its own slot is
        /// unused: the leader's own last index counts instead).
        matched: Vec<u64>,
        /// The index of this leader's first entry of its term (its no-op): reads wait for it.
        term_start: u64,
        /// The latest read-index round sent (0: none yet).
        round: u64,
        /// Per server, the highest round it acknowledged (own slot unused).
        acked: Vec<u64>,
        /// Read-only commands waiting for their round and index.
        reads: Vec<PendingRead<M>>,
        /// Per server, the last index carried by the AppendEntries (or snapshot) sent to it
        /// whose answer is awaited, if any. Flow control: a client's new entry leaves at once
        /// only to servers with nothing in flight; the others get it, with every entry that
        /// arrived meanwhile, when they answer (heartbeats and read rounds send regardless).
        in_flight: Vec<Option<u64>>,
    },
}

/// One Raft server's state: the durable part (term, vote, snapshot, log) and the volatile one.
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftState<M: StateMachine = Register> {
    /// The current term (durable).
    pub term: u64,
    /// The candidate this server voted for in `term`, if any (durable).
    pub voted_for: Option<NodeId>,
    /// The last index compacted into `snapshot` (0: none) (durable).
    pub snap_index: u64,
    /// The term of the entry at `snap_index` (durable).
    pub snap_term: u64,
    /// The state machine after applying entries `1..=snap_index` (durable).
    pub snapshot: Arc<M>,
    /// The log after the snapshot: entry `i` is `log[i - snap_index - 1]` (durable).
    pub log: Vec<EntryOf<M>>,
    /// Follower, candidate or leader.
    pub role: Role<M>,
    /// The leader of `term`, once known.
    pub leader: Option<NodeId>,
    /// The highest index known to be committed; entries up to it are applied.
    pub commit: u64,
    /// The state machine after applying entries `1..=commit`.
    pub machine: M,
}

impl<M: StateMachine> RaftState<M> {
    /// A follower in `term` with log `log` (no snapshot) whose first `commit` entries are
    /// committed and applied (no vote, no known leader): handy to build states by hand for
    /// property checks.
    ///
    /// # Panics
    /// If `commit` exceeds the log's length.
    pub fn follower(term: u64, log: Vec<EntryOf<M>>, commit: u64) -> RaftState<M> {
        assert!(commit <= log.len() as u64, "commit beyond the log");
        let mut machine = M::default();
        for e in &log[..commit as usize] {
            if let Cmd::Op(c) = &e.cmd {
                machine.apply(c);
            }
        }
        RaftState {
            term,
            voted_for: None,
            snap_index: 0,
            snap_term: 0,
            snapshot: Arc::new(M::default()),
            log,
            role: Role::Follower,
            leader: None,
            commit,
            machine,
        }
    }

    /// The index of the last entry (0 if the log is empty and nothing is compacted).
    pub fn last_index(&self) -> u64 {
        self.snap_index + self.log.len() as u64
    }

    /// The term of the last entry (0 if there is none).
    pub fn last_term(&self) -> u64 {
        self.log.last().map_or(self.snap_term, |e| e.term)
    }

    /// The entry at `index`, if the log holds it (not compacted, not beyond the end).
    pub fn entry(&self, index: u64) -> Option<&EntryOf<M>> {
        if index <= self.snap_index {
            return None;
        }
        self.log.get((index - self.snap_index - 1) as usize)
    }

    /// The term of the entry at `index` (`Some(0)` for index 0, the snapshot's term at
    /// `snap_index`; `None` beyond the log or inside the snapshot).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snap_index {
            Some(self.snap_term)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    /// True if this server is a leader (of its current term).
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The committed (and applied) entries the log still holds (`snap_index + 1 ..= commit`).
    pub fn committed(&self) -> &[EntryOf<M>] {
        let upto = self.commit.saturating_sub(self.snap_index) as usize;
        &self.log[..upto.min(self.log.len())]
    }
}

/// What a Raft server keeps on stable storage: current term, vote, snapshot and log.
#[derive_where(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct RaftDurable<M: StateMachine = Register> {
    /// The current term.
    pub term: u64,
    /// The vote in that term.
    pub voted_for: Option<NodeId>,
    /// The last index compacted into the snapshot.
    pub snap_index: u64,
    /// Its term.
    pub snap_term: u64,
    /// The state machine at `snap_index`.
    pub snapshot: Arc<M>,
    /// The log after the snapshot.
    pub log: Vec<EntryOf<M>>,
}

/// One record of Raft's write-ahead log (see [`Journal`]): a persist usually appends a few
/// entries, or changes the term and vote; a new snapshot is written as a checkpoint instead.
#[derive_where(Clone, Debug, PartialEq, Eq, Hash)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum RaftRecord<M: StateMachine = Register> {
    /// The term and vote changed.
    HardState {
        /// The current term.
        term: u64,
        /// The vote in that term.
        voted_for: Option<NodeId>,
    },
    /// Delete the entries from `index` on (a conflicting suffix).
    TruncateFrom {
        /// The first index deleted.
        index: u64,
    },
    /// Append entries at the end of the log.
    Append(Vec<EntryOf<M>>),
}

impl<M: StateMachine> Journal for RaftDurable<M> {
    type Record = RaftRecord<M>;

    fn diff(old: &Self, new: &Self) -> Option<Vec<RaftRecord<M>>> {
        if old.snap_index != new.snap_index
            || old.snap_term != new.snap_term
            || !(Arc::ptr_eq(&old.snapshot, &new.snapshot) || old.snapshot == new.snapshot)
        {
            return None; // a new snapshot: a checkpoint
        }
        let mut recs = Vec::new();
        if (old.term, old.voted_for) != (new.term, new.voted_for) {
            recs.push(RaftRecord::HardState {
                term: new.term,
                voted_for: new.voted_for,
            });
        }
        let same = old
            .log
            .iter()
            .zip(&new.log)
            .take_while(|(a, b)| a == b)
            .count();
        if same < old.log.len() {
            recs.push(RaftRecord::TruncateFrom {
                index: new.snap_index + same as u64 + 1,
            });
        }
        if same < new.log.len() {
            recs.push(RaftRecord::Append(new.log[same..].to_vec()));
        }
        Some(recs)
    }

    fn apply(&mut self, record: RaftRecord<M>) {
        match record {
            RaftRecord::HardState { term, voted_for } => {
                self.term = term;
                self.voted_for = voted_for;
            }
            RaftRecord::TruncateFrom { index } => {
                let keep = index.saturating_sub(self.snap_index + 1) as usize;
                self.log.truncate(keep);
            }
            RaftRecord::Append(entries) => self.log.extend(entries),
        }
    }
}

/// Raft's configuration (see the [module documentation](self)), for the state machine `M`.
#[derive_where(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Raft<M: StateMachine = Register> {
    /// The shortest election timeout.
    pub election_timeout_min: Duration,
    /// The longest election timeout.
    pub election_timeout_max: Duration,
    /// How many evenly spaced timeouts in `[min, max]` an election timer draws from (through
    /// [`Ctx::choose`]); 1 always uses `min`.
    pub timeout_choices: u32,
    /// The leader's heartbeat period (well below the election timeout for liveness).
    pub heartbeat: Duration,
    /// The most entries one `AppendEntries` carries (at least 1).
    pub max_batch: usize,
    /// A new leader appends a no-op entry of its term (§8), so earlier entries commit promptly.
    pub noop_on_election: bool,
    /// Read-only commands ([`StateMachine::read_only`]) are answered by read-index (a
    /// heartbeat round confirms the leadership) instead of going through the log.
    pub read_index: bool,
    /// Flow control: a client's new entry leaves at once only to followers with no
    /// AppendEntries in flight; the others get it, batched with the entries that arrived
    /// meanwhile, when they answer (etcd's in-flight limit of one message). Off by default:
    /// the real key-value service turns it on for throughput under many clients.
    pub flow_control: bool,
    /// Compact the log into a snapshot once this many applied entries follow the last one
    /// (0: never).
    pub snapshot_every: u64,
    /// CANARY when true: the leader commits any entry stored on a majority, whatever its term
    /// (the unsafe rule of Figure 8).
    pub unsafe_commit: bool,
    /// CANARY when true: with read-index on, a leader answers a read at once from its state
    /// machine, without confirming that it is still the leader: a deposed leader that has not
    /// heard of its successor serves stale reads.
    pub unconfirmed_reads: bool,
    #[derive_where(skip)]
    machine: std::marker::PhantomData<fn() -> M>,
}

impl Default for Raft {
    fn default() -> Raft {
        Raft::new()
    }
}

impl Raft {
    /// Raft replicating a [`Register`], reads through the log: election timeouts in
    /// 150..300 ms (16 choices), 50 ms heartbeats, batches of 64 entries, the no-op on
    /// election, no snapshots.
    pub fn new() -> Raft {
        Raft::for_machine()
    }

    /// CANARY: the commit rule of the paper's Figure 8, which commits an entry of an earlier term
    /// once it is on a majority, and no no-op on election (which would mask the bug). A committed
    /// entry can then be overwritten: state-machine safety and leader completeness fail (see the
    /// [module documentation](self)).
    pub fn canary_figure8() -> Raft {
        Raft {
            unsafe_commit: true,
            noop_on_election: false,
            ..Raft::new()
        }
    }
}

impl<M: StateMachine> Raft<M> {
    /// Raft replicating the state machine `M`, with [`Raft::new`]'s settings.
    pub fn for_machine() -> Raft<M> {
        Raft {
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            timeout_choices: 16,
            heartbeat: Duration::from_millis(50),
            max_batch: 64,
            noop_on_election: true,
            read_index: false,
            flow_control: false,
            snapshot_every: 0,
            unsafe_commit: false,
            unconfirmed_reads: false,
            machine: std::marker::PhantomData,
        }
    }

    /// Election timeouts drawn from `[min, max]`.
    ///
    /// # Panics
    /// If `min > max`.
    pub fn with_election_timeout(mut self, min: Duration, max: Duration) -> Self {
        assert!(
            min <= max,
            "Raft: election timeout window {min}..{max} is empty"
        );
        self.election_timeout_min = min;
        self.election_timeout_max = max;
        self
    }

    /// Draw election timeouts from `k` evenly spaced values (`k = 1`: always the minimum, no
    /// random choice: what the model checker wants).
    pub fn with_timeout_choices(mut self, k: u32) -> Self {
        self.timeout_choices = k.max(1);
        self
    }

    /// The heartbeat period.
    pub fn with_heartbeat(mut self, period: Duration) -> Self {
        self.heartbeat = period;
        self
    }

    /// At most `b` entries per `AppendEntries` (at least 1).
    pub fn with_max_batch(mut self, b: usize) -> Self {
        self.max_batch = b.max(1);
        self
    }

    /// Whether a new leader appends a no-op entry.
    pub fn with_noop(mut self, on: bool) -> Self {
        self.noop_on_election = on;
        self
    }

    /// Answer read-only commands by read-index (needs the no-op on election, which tells a
    /// new leader what its predecessors committed).
    pub fn with_read_index(mut self, on: bool) -> Self {
        self.read_index = on;
        self
    }

    /// Whether the leader holds new entries back from followers that have not answered its
    /// last AppendEntries (see [`Raft::flow_control`]).
    pub fn with_flow_control(mut self, on: bool) -> Self {
        self.flow_control = on;
        self
    }

    /// Compact the log into a snapshot every `k` applied entries (0: never).
    pub fn with_snapshot_every(mut self, k: u64) -> Self {
        self.snapshot_every = k;
        self
    }

    /// CANARY: read-index without the confirmation round (see [`Raft::unconfirmed_reads`]):
    /// linearizability fails once a partition or a pause deposes a leader that clients still
    /// reach.
    pub fn canary_unconfirmed_reads(mut self) -> Self {
        self.read_index = true;
        self.unconfirmed_reads = true;
        self
    }

    fn draw_timeout(&self, ctx: &mut Ctx<'_, Self>) -> Duration {
        let (lo, hi) = (self.election_timeout_min.0, self.election_timeout_max.0);
        let k = u64::from(self.timeout_choices.max(1));
        if k == 1 || hi <= lo {
            return Duration(lo);
        }
        let c = ctx.choose(k as usize) as u64;
        Duration(lo + ((hi - lo) as u128 * c as u128 / (k - 1) as u128) as u64)
    }

    /// Runs `f` on a node with its own effect list, then records `Persist` first if `f` changed
    /// the durable state, then `f`'s effects in order.
    fn handle(
        &self,
        s: &mut RaftState<M>,
        ctx: &mut Ctx<'_, Self>,
        f: impl FnOnce(&mut Node<'_, '_, M>),
    ) {
        let mut fx: Vec<Effect<Self>> = Vec::new();
        let (dirty, early) = {
            let mut inner = ctx.fork::<Self>(&mut fx);
            let mut node = Node {
                cfg: self,
                s,
                ctx: &mut inner,
                dirty: false,
                early: Vec::new(),
            };
            f(&mut node);
            (node.dirty, node.early)
        };
        // A leader's new entries may reach its followers while its own write is in flight
        // (Ongaro's thesis §10.2.1): they promise nothing about this server's disk, and the
        // leader counts its own copy toward a commit only in later handlers, whose effects
        // wait for this persist.
        for (to, msg) in early {
            ctx.send(to, msg);
        }
        if dirty {
            ctx.persist();
        }
        for e in fx {
            match e {
                Effect::Send { to, msg } => ctx.send(to, msg),
                Effect::SetTimer { timer, after } => ctx.set_timer(timer, after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(timer),
                Effect::Indicate(ind) => ctx.indicate(ind),
                Effect::Persist => ctx.persist(),
            }
        }
    }
}

/// One handler's view of a server: its state, a context recording effects, and whether the
/// durable state changed.
struct Node<'x, 'c, M: StateMachine> {
    cfg: &'x Raft<M>,
    s: &'x mut RaftState<M>,
    ctx: &'x mut Ctx<'c, Raft<M>>,
    dirty: bool,
    /// Sends that may leave before the handler's persist (a leader's own new entries).
    early: Vec<(NodeId, RaftMsg<M>)>,
}

impl<M: StateMachine> Node<'_, '_, M> {
    fn me(&self) -> NodeId {
        self.ctx.id()
    }

    fn n(&self) -> usize {
        self.ctx.n()
    }

    fn reset_election_timer(&mut self) {
        let d = self.cfg.draw_timeout(self.ctx);
        self.ctx.set_timer(RaftTimer::Election, d);
    }

    /// Leaves the leader role (if it had it): stops heartbeats, and tells the clients of reads
    /// still waiting for read-index to retry elsewhere.
    fn step_down(&mut self) {
        if let Role::Leader { reads, .. } = std::mem::replace(&mut self.s.role, Role::Follower) {
            self.ctx.cancel_timer(RaftTimer::Heartbeat);
            self.reset_election_timer();
            for r in reads {
                self.ctx.indicate(RaftInd::Redirect {
                    client: M::client(&r.cmd),
                    leader: None,
                    cmd: r.cmd,
                });
            }
        }
        self.s.role = Role::Follower;
    }

    /// A higher term: adopt it, forget the vote, become a follower.
    fn observe_term(&mut self, term: u64) {
        if term <= self.s.term {
            return;
        }
        self.s.term = term;
        self.s.voted_for = None;
        self.dirty = true;
        self.s.leader = None;
        self.step_down();
    }

    fn start_election(&mut self) {
        let me = self.me();
        self.s.term += 1;
        self.s.voted_for = Some(me);
        self.dirty = true;
        self.s.leader = None;
        self.s.role = Role::Candidate {
            votes: NodeSet::only(me),
        };
        self.reset_election_timer();
        self.ctx.broadcast(RaftMsg::RequestVote {
            term: self.s.term,
            last_index: self.s.last_index(),
            last_term: self.s.last_term(),
        });
        self.check_votes();
    }

    fn check_votes(&mut self) {
        if let Role::Candidate { votes } = self.s.role {
            if votes.len() >= majority(self.n()) {
                self.become_leader();
            }
        }
    }

    fn become_leader(&mut self) {
        let n = self.n();
        self.s.role = Role::Leader {
            next: vec![self.s.last_index() + 1; n],
            matched: vec![0; n],
            term_start: self.s.last_index() + 1,
            round: 0,
            acked: vec![0; n],
            reads: Vec::new(),
            in_flight: vec![None; n],
        };
        self.s.leader = Some(self.me());
        self.ctx.cancel_timer(RaftTimer::Election);
        self.ctx
            .indicate(RaftInd::BecameLeader { term: self.s.term });
        if self.cfg.noop_on_election {
            self.append(Cmd::Noop);
        }
        self.broadcast_append();
        self.ctx.set_timer(RaftTimer::Heartbeat, self.cfg.heartbeat);
        self.advance_commit();
    }

    fn append(&mut self, cmd: Cmd<M::Cmd>) {
        self.s.log.push(Entry {
            term: self.s.term,
            cmd,
        });
        self.dirty = true;
    }

    /// As leader: send `to` the entries from its `next` on, or the snapshot if they are
    /// compacted.
    fn send_append(&mut self, to: NodeId) {
        if let Some(msg) = self.append_msg(to) {
            self.mark_in_flight(to, &msg);
            self.ctx.send(to, msg);
        }
    }

    /// As leader: notes that `to` has `msg` (an AppendEntries or snapshot) to answer.
    fn mark_in_flight(&mut self, to: NodeId, msg: &RaftMsg<M>) {
        if !self.cfg.flow_control {
            return;
        }
        let upto = match msg {
            RaftMsg::AppendEntries {
                prev_index,
                entries,
                ..
            } => prev_index + entries.len() as u64,
            RaftMsg::InstallSnapshot { index, .. } => *index,
            _ => return,
        };
        if let Role::Leader { in_flight, .. } = &mut self.s.role {
            let slot = &mut in_flight[to.index()];
            *slot = Some(slot.map_or(upto, |u| u.max(upto)));
        }
    }

    /// As leader: the message that brings `to` up to date from its `next` on (entries, or the
    /// snapshot if they are compacted).
    fn append_msg(&self, to: NodeId) -> Option<RaftMsg<M>> {
        let Role::Leader { next, round, .. } = &self.s.role else {
            return None;
        };
        let round = *round;
        let prev_index = next[to.index()].max(1) - 1;
        if prev_index < self.s.snap_index {
            return Some(RaftMsg::InstallSnapshot {
                term: self.s.term,
                index: self.s.snap_index,
                last_term: self.s.snap_term,
                machine: self.s.snapshot.clone(),
                round,
            });
        }
        let len = self.s.log.len();
        let start = ((prev_index - self.s.snap_index) as usize).min(len);
        let end = len.min(start.saturating_add(self.cfg.max_batch));
        let prev_index = self.s.snap_index + start as u64;
        Some(RaftMsg::AppendEntries {
            term: self.s.term,
            prev_index,
            prev_term: self.s.term_at(prev_index).unwrap_or(0),
            entries: self.s.log[start..end].to_vec(),
            commit: self.s.commit,
            round,
        })
    }

    fn broadcast_append(&mut self) {
        let me = self.me();
        for p in NodeId::all(self.n()) {
            if p != me {
                self.send_append(p);
            }
        }
    }

    /// As leader: commit the highest index stored on a majority, if it is of the current term
    /// (any term for the canary).
    fn advance_commit(&mut self) {
        let Role::Leader { matched, .. } = &self.s.role else {
            return;
        };
        let me = self.me().index();
        let last = self.s.last_index();
        let mut acked: Vec<u64> = matched
            .iter()
            .enumerate()
            .map(|(i, &m)| if i == me { last } else { m })
            .collect();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let n = acked[majority(acked.len()) - 1];
        if n > self.s.commit && (self.cfg.unsafe_commit || self.s.term_at(n) == Some(self.s.term)) {
            self.commit_to(n);
            self.serve_reads();
        }
    }

    /// Commits and applies the entries up to `upto`, then compacts the log if it is due.
    fn commit_to(&mut self, upto: u64) {
        let upto = upto.min(self.s.last_index());
        while self.s.commit < upto {
            self.s.commit += 1;
            let index = self.s.commit;
            let Some(e) = self.s.entry(index).cloned() else {
                unreachable!("Raft: committing index {index}, which the log does not hold");
            };
            let out = match &e.cmd {
                Cmd::Noop => None,
                Cmd::Op(c) => Some(self.s.machine.apply(c)),
            };
            let mine = self.s.is_leader() && e.term == self.s.term;
            self.ctx.indicate(RaftInd::Commit {
                index,
                term: e.term,
                cmd: e.cmd,
            });
            if let (Some(out), true) = (out, mine) {
                self.ctx.indicate(RaftInd::Client(out));
            }
        }
        if self.cfg.snapshot_every > 0
            && self.s.commit - self.s.snap_index >= self.cfg.snapshot_every
        {
            self.compact();
        }
    }

    /// Replaces the applied entries by a snapshot of the state machine (§7).
    fn compact(&mut self) {
        let upto = self.s.commit;
        let Some(term) = self.s.term_at(upto) else {
            return;
        };
        self.s.log.drain(..(upto - self.s.snap_index) as usize);
        self.s.snap_index = upto;
        self.s.snap_term = term;
        self.s.snapshot = Arc::new(self.s.machine.clone());
        self.dirty = true;
    }

    /// As leader: a read-only command waits for a round of heartbeats sent after it arrived.
    fn read(&mut self, cmd: M::Cmd) {
        let index = self.s.commit;
        let Role::Leader {
            term_start,
            round,
            reads,
            ..
        } = &mut self.s.role
        else {
            return;
        };
        let start_round = reads.iter().all(|r| r.round <= *round);
        let waiting_for_acks = reads.iter().any(|r| r.round == *round);
        // A round already under way was sent before this read arrived: it cannot confirm it.
        // Join the next round; start it now unless one is under way (it starts when that one
        // is confirmed), so at most one round is in flight.
        let r = *round + 1;
        reads.push(PendingRead {
            round: r,
            index: index.max(*term_start),
            cmd,
        });
        if start_round && !waiting_for_acks {
            *round = r;
            self.broadcast_append();
        }
        self.serve_reads();
    }

    /// As leader: answers the reads whose round a majority acknowledged and whose index is
    /// applied; starts the next round if reads wait for it.
    fn serve_reads(&mut self) {
        let me = self.me().index();
        let commit = self.s.commit;
        let Role::Leader {
            round,
            acked,
            reads,
            ..
        } = &mut self.s.role
        else {
            return;
        };
        if reads.is_empty() {
            return;
        }
        let mut heard: Vec<u64> = acked
            .iter()
            .enumerate()
            .map(|(i, &a)| if i == me { *round } else { a })
            .collect();
        heard.sort_unstable_by(|a, b| b.cmp(a));
        let confirmed = heard[majority(heard.len()) - 1];
        let mut ready = Vec::new();
        reads.retain(|r| {
            let go = r.round <= confirmed && r.index <= commit;
            if go {
                ready.push(r.cmd.clone());
            }
            !go
        });
        let next_round = confirmed == *round && reads.iter().any(|r| r.round > *round);
        if next_round {
            *round += 1;
        }
        for cmd in ready {
            let out = self.s.machine.query(&cmd);
            self.ctx.indicate(RaftInd::Client(out));
        }
        if next_round {
            self.broadcast_append();
            self.serve_reads();
        }
    }

    fn on_timer(&mut self, timer: RaftTimer) {
        match timer {
            RaftTimer::Election => {
                if !self.s.is_leader() {
                    self.start_election();
                }
            }
            RaftTimer::Heartbeat => {
                if self.s.is_leader() {
                    self.broadcast_append();
                    self.ctx.set_timer(RaftTimer::Heartbeat, self.cfg.heartbeat);
                }
            }
        }
    }

    fn on_request(&mut self, req: M::Cmd) {
        if !self.s.is_leader() {
            self.ctx.indicate(RaftInd::Redirect {
                client: M::client(&req),
                leader: self.s.leader,
                cmd: req,
            });
        } else if self.cfg.unconfirmed_reads && M::read_only(&req) {
            let out = self.s.machine.query(&req);
            self.ctx.indicate(RaftInd::Client(out));
        } else if self.cfg.read_index && self.cfg.noop_on_election && M::read_only(&req) {
            self.read(req);
        } else {
            self.append(Cmd::Op(req));
            let me = self.me();
            for p in NodeId::all(self.n()).filter(|&p| p != me) {
                let Role::Leader { in_flight, .. } = &self.s.role else {
                    break;
                };
                if in_flight[p.index()].is_some() {
                    continue; // leaves with the entries after it, when `p` answers
                }
                if let Some(msg) = self.append_msg(p) {
                    self.mark_in_flight(p, &msg);
                    self.early.push((p, msg));
                }
            }
            self.advance_commit();
        }
    }

    fn on_message(&mut self, from: NodeId, msg: RaftMsg<M>) {
        if from.index() >= self.n() || from == self.me() {
            return; // not a peer of this run
        }
        self.observe_term(msg.term());
        match msg {
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
            } => {
                let up_to_date =
                    (last_term, last_index) >= (self.s.last_term(), self.s.last_index());
                let free = self.s.voted_for.is_none_or(|v| v == from);
                let granted = term == self.s.term && free && up_to_date;
                if granted {
                    if self.s.voted_for != Some(from) {
                        self.s.voted_for = Some(from);
                        self.dirty = true;
                    }
                    self.reset_election_timer();
                }
                self.ctx.send(
                    from,
                    RaftMsg::Vote {
                        term: self.s.term,
                        granted,
                    },
                );
            }
            RaftMsg::Vote { term, granted } => {
                if term != self.s.term || !granted {
                    return;
                }
                if let Role::Candidate { votes } = &mut self.s.role {
                    if votes.insert(from) {
                        self.check_votes();
                    }
                }
            }
            RaftMsg::AppendEntries {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
                round,
            } => self.on_append(from, term, (prev_index, prev_term), entries, commit, round),
            RaftMsg::InstallSnapshot {
                term,
                index,
                last_term,
                machine,
                round,
            } => self.on_snapshot(from, term, index, last_term, machine, round),
            RaftMsg::AppendResp {
                term,
                success,
                index,
                round,
            } => self.on_append_resp(from, term, success, index, round),
        }
    }

    /// A message from the leader of `term` (or a stale one): true if it is current, after
    /// following that leader.
    fn follow(&mut self, from: NodeId, term: u64, round: u64) -> bool {
        if term < self.s.term {
            let refuse = RaftMsg::AppendResp {
                term: self.s.term,
                success: false,
                index: 0,
                round,
            };
            self.ctx.send(from, refuse);
            return false;
        }
        if self.s.is_leader() {
            return false; // two leaders of one term: impossible unless a peer misbehaves
        }
        self.s.role = Role::Follower;
        self.s.leader = Some(from);
        self.reset_election_timer();
        true
    }

    fn on_append(
        &mut self,
        from: NodeId,
        term: u64,
        (mut prev_index, mut prev_term): (u64, u64),
        mut entries: Vec<EntryOf<M>>,
        commit: u64,
        round: u64,
    ) {
        if !self.follow(from, term, round) {
            return;
        }
        let last_new = prev_index + entries.len() as u64;
        if prev_index < self.s.snap_index {
            // Entries up to the snapshot are committed, hence the leader's too: skip them.
            let skip = ((self.s.snap_index - prev_index) as usize).min(entries.len());
            entries.drain(..skip);
            prev_index = self.s.snap_index;
            prev_term = self.s.snap_term;
            if entries.is_empty() && last_new <= self.s.snap_index {
                self.ack(from, term, last_new, round);
                return;
            }
        }
        if self.s.term_at(prev_index) != Some(prev_term) {
            let hint = prev_index.saturating_sub(1).min(self.s.last_index());
            let refuse = RaftMsg::AppendResp {
                term,
                success: false,
                index: hint,
                round,
            };
            self.ctx.send(from, refuse);
            return;
        }
        // The entries this server already holds (same index, same term) stay as they are.
        let mut k = 0;
        while k < entries.len()
            && self.s.term_at(prev_index + 1 + k as u64) == Some(entries[k].term)
        {
            k += 1;
        }
        if k < entries.len() {
            let at = prev_index + 1 + k as u64;
            if at <= self.s.last_index() {
                if at <= self.s.commit {
                    // Overwriting a committed entry: only a canary leader asks for it.
                    return;
                }
                self.s.log.truncate((at - self.s.snap_index - 1) as usize);
            }
            self.s.log.extend(entries.drain(k..));
            self.dirty = true;
        }
        self.ack(from, term, last_new, round);
        let target = commit.min(last_new);
        if target > self.s.commit {
            self.commit_to(target);
        }
    }

    fn ack(&mut self, to: NodeId, term: u64, index: u64, round: u64) {
        let ack = RaftMsg::AppendResp {
            term,
            success: true,
            index,
            round,
        };
        self.ctx.send(to, ack);
    }

    fn on_snapshot(
        &mut self,
        from: NodeId,
        term: u64,
        index: u64,
        last_term: u64,
        machine: Arc<M>,
        round: u64,
    ) {
        if !self.follow(from, term, round) {
            return;
        }
        if index > self.s.commit {
            if self.s.term_at(index) == Some(last_term) {
                // The log goes on after the snapshot: keep what follows (§7).
                self.s.log.drain(..(index - self.s.snap_index) as usize);
            } else {
                self.s.log.clear();
            }
            self.s.snap_index = index;
            self.s.snap_term = last_term;
            self.s.machine = (*machine).clone();
            self.s.snapshot = machine;
            self.s.commit = index;
            self.dirty = true;
        }
        self.ack(from, term, index, round);
    }

    fn on_append_resp(&mut self, from: NodeId, term: u64, success: bool, index: u64, round: u64) {
        if term != self.s.term {
            return;
        }
        let last = self.s.last_index();
        let p = from.index();
        let Role::Leader {
            acked, in_flight, ..
        } = &mut self.s.role
        else {
            return;
        };
        // Entries appended after the last message sent to `p` wait for this answer.
        let withheld = in_flight[p].take().is_some_and(|upto| upto < last);
        if round > acked[p] {
            acked[p] = round;
            self.serve_reads();
        }
        let Role::Leader { next, matched, .. } = &mut self.s.role else {
            return;
        };
        if success {
            let index = index.min(last);
            if index <= matched[p] {
                // Stale or duplicate; still the moment to send what waited for an answer.
                if withheld {
                    self.send_append(from);
                }
                return;
            }
            matched[p] = index;
            next[p] = next[p].max(index + 1);
            let behind = next[p] <= last;
            self.advance_commit();
            if behind {
                self.send_append(from);
            }
        } else {
            let want = next[p].min(index.saturating_add(1)).max(matched[p] + 1);
            if want < next[p] || withheld {
                next[p] = want.min(next[p]);
                self.send_append(from);
            }
        }
    }
}

impl<M: StateMachine> Protocol for Raft<M> {
    type Msg = RaftMsg<M>;
    type Timer = RaftTimer;
    type Request = M::Cmd;
    type Indication = RaftInd<M>;
    type State = RaftState<M>;
    type Durable = RaftDurable<M>;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> RaftState<M> {
        self.recover(&RaftDurable::default(), ctx)
    }

    fn on_message(
        &self,
        s: &mut RaftState<M>,
        from: NodeId,
        msg: RaftMsg<M>,
        ctx: &mut Ctx<'_, Self>,
    ) {
        self.handle(s, ctx, |n| n.on_message(from, msg));
    }

    fn on_timer(&self, s: &mut RaftState<M>, timer: RaftTimer, ctx: &mut Ctx<'_, Self>) {
        self.handle(s, ctx, |n| n.on_timer(timer));
    }

    fn on_request(&self, s: &mut RaftState<M>, req: M::Cmd, ctx: &mut Ctx<'_, Self>) {
        self.handle(s, ctx, |n| n.on_request(req));
    }

    /// The known leader is unreachable (its process is probably gone): a follower shortens its
    /// election timer to a fifth of the usual window, still randomized, instead of waiting out
    /// the full timeout. Only the timing changes, so safety is untouched; a wrong hint costs an
    /// election at worst.
    fn on_peer_unreachable(&self, s: &mut RaftState<M>, peer: NodeId, ctx: &mut Ctx<'_, Self>) {
        if s.leader == Some(peer) && matches!(s.role, Role::Follower) {
            s.leader = None;
            self.handle(s, ctx, |n| {
                let d = n.cfg.draw_timeout(n.ctx);
                n.ctx.set_timer(RaftTimer::Election, Duration(d.0 / 5));
            });
        }
    }

    fn durable(&self, s: &RaftState<M>) -> RaftDurable<M> {
        RaftDurable {
            term: s.term,
            voted_for: s.voted_for,
            snap_index: s.snap_index,
            snap_term: s.snap_term,
            snapshot: s.snapshot.clone(),
            log: s.log.clone(),
        }
    }

    fn recover(&self, d: &RaftDurable<M>, ctx: &mut Ctx<'_, Self>) -> RaftState<M> {
        assert_fits_node_set("Raft", ctx.n());
        assert!(
            self.election_timeout_min <= self.election_timeout_max,
            "Raft: empty election timeout window"
        );
        let mut s = RaftState {
            term: d.term,
            voted_for: d.voted_for,
            snap_index: d.snap_index,
            snap_term: d.snap_term,
            snapshot: d.snapshot.clone(),
            log: d.log.clone(),
            role: Role::Follower,
            leader: None,
            commit: d.snap_index,
            machine: (*d.snapshot).clone(),
        };
        self.handle(&mut s, ctx, |n| n.reset_election_timer());
        s
    }

    fn invariants(&self, s: &RaftState<M>) {
        assert!(
            s.snap_index <= s.commit && s.commit <= s.last_index(),
            "Raft: commit index {} outside snapshot {}..log end {}",
            s.commit,
            s.snap_index,
            s.last_index()
        );
        assert!(
            s.last_term() <= s.term,
            "Raft: an entry of term {} in a server of term {}",
            s.last_term(),
            s.term
        );
        match &s.role {
            Role::Follower => {}
            Role::Candidate { .. } => {
                assert!(s.voted_for.is_some(), "Raft: a candidate that did not vote")
            }
            Role::Leader {
                next,
                matched,
                acked,
                in_flight,
                ..
            } => {
                assert!(
                    s.voted_for.is_some() && s.leader == s.voted_for,
                    "Raft: a leader that did not vote for itself"
                );
                assert!(
                    next.len() == matched.len()
                        && acked.len() == matched.len()
                        && in_flight.len() == matched.len(),
                    "Raft: leader tables disagree"
                );
            }
        }
    }
}

impl ClientOps for Raft {
    type Input = RegisterOp;
    type Output = RegisterRet;

    fn invocation(req: &RegisterReq) -> Option<(ClientId, RegisterOp)> {
        Some((req.client(), req.op()))
    }

    /// Only [`RaftInd::Client`] answers a client: a redirect is not an answer (the operation did
    /// not take effect; the client may retry, as a new operation).
    fn response(ind: &RaftInd) -> Option<(ClientId, RegisterRet)> {
        match ind {
            RaftInd::Client(r) => Some((r.client(), r.ret())),
            _ => None,
        }
    }
}

// ---- Properties over node states --------------------------------------------------------------

fn live<'a, M: StateMachine>(
    states: &'a [Option<&'a RaftState<M>>],
) -> impl Iterator<Item = &'a RaftState<M>> + Clone {
    states.iter().flatten().copied()
}

/// *Election safety* on a global state (`states[i]` is node i's state, `None` while it is
/// down): no two live servers are leaders of the same term.
pub fn election_safety<M: StateMachine>(states: &[Option<&RaftState<M>>]) -> bool {
    let mut terms: Vec<u64> = live(states)
        .filter(|s| s.is_leader())
        .map(|s| s.term)
        .collect();
    terms.sort_unstable();
    terms.windows(2).all(|w| w[0] != w[1])
}

/// *Log matching* between two logs that start at the same index: if they hold an entry with
/// the same index and term, they are identical up to that index (checked at the highest such
/// index, which implies the others).
pub fn logs_match<C: PartialEq>(a: &[Entry<C>], b: &[Entry<C>]) -> bool {
    let common = a.len().min(b.len());
    match (0..common).rev().find(|&i| a[i].term == b[i].term) {
        None => true,
        Some(i) => a[..=i] == b[..=i],
    }
}

/// The entries of `a` and `b` at the indexes both logs still hold (after both snapshots).
fn overlap<'a, M: StateMachine>(
    a: &'a RaftState<M>,
    b: &'a RaftState<M>,
) -> (&'a [EntryOf<M>], &'a [EntryOf<M>]) {
    let from = a.snap_index.max(b.snap_index);
    let tail = |s: &'a RaftState<M>| &s.log[((from - s.snap_index) as usize).min(s.log.len())..];
    (tail(a), tail(b))
}

/// *Log matching* on a global state: every two live servers' logs match ([`logs_match`]) on
/// the indexes both still hold.
pub fn log_matching<M: StateMachine>(states: &[Option<&RaftState<M>>]) -> bool {
    let v: Vec<&RaftState<M>> = live(states).collect();
    v.iter().enumerate().all(|(i, a)| {
        v[i + 1..].iter().all(|b| {
            let (x, y) = overlap(a, b);
            logs_match(x, y)
        })
    })
}

/// True if `a` and `b` hold the same entries at every index up to `upto` that both still hold.
fn agree_upto<M: StateMachine>(a: &RaftState<M>, b: &RaftState<M>, upto: u64) -> bool {
    let from = a.snap_index.max(b.snap_index);
    let k = upto.saturating_sub(from) as usize;
    let (x, y) = overlap(a, b);
    x.len().min(k) == y.len().min(k) && x[..x.len().min(k)] == y[..y.len().min(k)]
}

/// *State-machine safety* on a global state: the committed (applied) prefixes of every two live
/// servers agree, so no two servers applied different entries at the same index.
pub fn state_machine_safety<M: StateMachine>(states: &[Option<&RaftState<M>>]) -> bool {
    let v: Vec<&RaftState<M>> = live(states).collect();
    v.iter().enumerate().all(|(i, a)| {
        v[i + 1..]
            .iter()
            .all(|b| agree_upto(a, b, a.commit.min(b.commit)))
    })
}

/// *Leader completeness* on a global state: every live leader of term t holds the committed
/// prefix of every live server whose current term is at most t (such a server learned its
/// commit index from a leader of a term at most t, so the entries were committed by then).
pub fn leader_completeness<M: StateMachine>(states: &[Option<&RaftState<M>>]) -> bool {
    live(states).filter(|l| l.is_leader()).all(|l| {
        live(states)
            .filter(|s| s.term <= l.term)
            .all(|s| l.last_index() >= s.commit && agree_upto(l, s, s.commit))
    })
}

/// *Leader append-only* across one step of one server: if it is the leader of the same term
/// before and after, its log only grew (every entry `before` holds is in `after`, unchanged).
pub fn leader_append_only<M: StateMachine>(before: &RaftState<M>, after: &RaftState<M>) -> bool {
    !(before.is_leader() && after.is_leader() && before.term == after.term)
        || (after.last_index() >= before.last_index()
            && agree_upto(before, after, before.last_index()))
}

/// A property over a global state.
type StateCheck<M> = fn(&[Option<&RaftState<M>>]) -> bool;

/// The first of [`election_safety`], [`log_matching`], [`leader_completeness`] and
/// [`state_machine_safety`] that fails on this global state, by name; `None` if all hold.
pub fn safety_violation<M: StateMachine>(states: &[Option<&RaftState<M>>]) -> Option<&'static str> {
    let checks: [(&'static str, StateCheck<M>); 4] = [
        ("election-safety", election_safety::<M>),
        ("log-matching", log_matching::<M>),
        ("leader-completeness", leader_completeness::<M>),
        ("state-machine-safety", state_machine_safety::<M>),
    ];
    checks
        .into_iter()
        .find(|(_, check)| !check(states))
        .map(|(name, _)| name)
}

// ---- Properties over indications and traces ---------------------------------------------------

/// Where a run of indications breaks a property (position among them) and how.
type Clash = Option<(usize, String)>;

/// Finds where a run's indications break a property.
type ClashFinder<M> = fn(Vec<(NodeId, &RaftInd<M>)>) -> Clash;

/// The first two `BecameLeader` of one term by different servers: `(position, detail)`.
fn leader_clash<'a, M: StateMachine>(
    inds: impl IntoIterator<Item = (NodeId, &'a RaftInd<M>)>,
) -> Clash {
    let mut leaders: BTreeMap<u64, NodeId> = BTreeMap::new();
    for (i, (node, ind)) in inds.into_iter().enumerate() {
        if let RaftInd::BecameLeader { term } = *ind {
            let first = *leaders.entry(term).or_insert(node);
            if first != node {
                return Some((i, format!("{node} and {first} both led term {term}")));
            }
        }
    }
    None
}

/// The first `Commit` that disagrees with an earlier one for the same index.
fn commit_clash<'a, M: StateMachine>(
    inds: impl IntoIterator<Item = (NodeId, &'a RaftInd<M>)>,
) -> Clash {
    let mut applied: BTreeMap<u64, (u64, &'a Cmd<M::Cmd>, NodeId)> = BTreeMap::new();
    for (i, (node, ind)) in inds.into_iter().enumerate() {
        if let RaftInd::Commit { index, term, cmd } = ind {
            let (t, c, by) = *applied.entry(*index).or_insert((*term, cmd, node));
            if (t, c) != (*term, cmd) {
                return Some((
                    i,
                    format!("{node} applied {cmd:?} (term {term}) at index {index}, but {by} had applied {c:?} (term {t})"),
                ));
            }
        }
    }
    None
}

/// *Election safety* over the indications of a run (e.g. the notes a model checker recorded):
/// no two servers indicate [`RaftInd::BecameLeader`] for the same term.
pub fn one_leader_per_term<'a, M: StateMachine>(
    inds: impl IntoIterator<Item = (NodeId, &'a RaftInd<M>)>,
) -> bool {
    leader_clash(inds).is_none()
}

/// *State-machine safety* over the indications of a run: all [`RaftInd::Commit`]s for one
/// index carry the same entry (term and command), whichever server applied it and however often.
pub fn commits_agree<'a, M: StateMachine>(
    inds: impl IntoIterator<Item = (NodeId, &'a RaftInd<M>)>,
) -> bool {
    commit_clash(inds).is_none()
}

/// Runs `clash` over a trace's indications and reports the violation at its event.
fn trace_verdict<M: StateMachine>(trace: &Trace<Raft<M>>, clash: ClashFinder<M>) -> Verdict {
    let (pos, inds): (Vec<usize>, Vec<(NodeId, &RaftInd<M>)>) = trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Indication { node, ind } => Some((i, (*node, ind))),
            _ => None,
        })
        .unzip();
    match clash(inds) {
        None => Verdict::Holds,
        Some((k, detail)) => Verdict::violated_at(pos[k], detail),
    }
}

/// Election safety over a trace (safety): no two servers become leader of the same term.
pub fn election_safety_property<M: StateMachine>() -> Property<Raft<M>> {
    Property::safety("election-safety", |trace: &Trace<Raft<M>>| {
        trace_verdict(trace, |inds| leader_clash(inds))
    })
}

/// State-machine safety over a trace (safety): no two `Commit` indications for one index carry
/// different entries.
pub fn state_machine_safety_property<M: StateMachine>() -> Property<Raft<M>> {
    Property::safety("state-machine-safety", |trace: &Trace<Raft<M>>| {
        trace_verdict(trace, |inds| commit_clash(inds))
    })
}

/// Raft's trace properties: [`election_safety_property`] and
/// [`state_machine_safety_property`].
pub fn raft_properties<M: StateMachine>() -> Vec<Property<Raft<M>>> {
    vec![election_safety_property(), state_machine_safety_property()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::RegisterResp;
    use synod_core::{FirstChoice, Instant};

    fn ctx_run(me: u32, n: usize, f: impl FnOnce(&mut Ctx<'_, Raft>)) -> Vec<Effect<Raft>> {
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(NodeId(me), n, Instant::ZERO, &mut fx, &mut ch);
        f(&mut ctx);
        fx
    }

    fn fresh(p: &Raft, me: u32, n: usize) -> RaftState {
        let mut s = None;
        ctx_run(me, n, |c| s = Some(p.init(c)));
        s.unwrap()
    }

    #[test]
    fn a_vote_is_persisted_before_it_is_sent_and_survives_a_crash() {
        let p = Raft::new();
        let mut s = fresh(&p, 1, 3);
        let rv = |term| RaftMsg::RequestVote {
            term,
            last_index: 0,
            last_term: 0,
        };
        let fx = ctx_run(1, 3, |c| p.on_message(&mut s, NodeId(0), rv(1), c));
        assert_eq!(fx[0], Effect::Persist, "{fx:?}");
        let vote = fx
            .iter()
            .position(|e| matches!(e, Effect::Send { .. }))
            .unwrap();
        assert_eq!(
            fx[vote],
            Effect::Send {
                to: NodeId(0),
                msg: RaftMsg::Vote {
                    term: 1,
                    granted: true
                }
            }
        );
        p.invariants(&s);
        // Crash and recover: the vote is still there, so n2 gets no vote in term 1.
        let d = p.durable(&s);
        let mut r = None;
        ctx_run(1, 3, |c| r = Some(p.recover(&d, c)));
        let mut s = r.unwrap();
        assert_eq!((s.term, s.voted_for), (1, Some(NodeId(0))));
        let fx = ctx_run(1, 3, |c| p.on_message(&mut s, NodeId(2), rv(1), c));
        assert!(fx.contains(&Effect::Send {
            to: NodeId(2),
            msg: RaftMsg::Vote {
                term: 1,
                granted: false
            }
        }));
        assert!(!fx.contains(&Effect::Persist), "nothing durable changed");
    }

    #[test]
    fn a_single_server_elects_itself_and_commits_alone() {
        let p = Raft::new();
        let mut s = fresh(&p, 0, 1);
        ctx_run(0, 1, |c| p.on_timer(&mut s, RaftTimer::Election, c));
        assert!(s.is_leader());
        assert_eq!(s.commit, 1, "the no-op");
        let fx = ctx_run(0, 1, |c| {
            p.on_request(
                &mut s,
                RegisterReq::Write {
                    client: 4,
                    value: 9,
                },
                c,
            )
        });
        assert_eq!(fx[0], Effect::Persist);
        assert_eq!(
            fx.last(),
            Some(&Effect::Indicate(RaftInd::Client(RegisterResp::WriteOk {
                client: 4
            })))
        );
        assert_eq!(s.machine.value, Some(9));
    }

    #[test]
    fn a_follower_keeps_entries_a_stale_message_would_truncate() {
        let p = Raft::new();
        let mut s = fresh(&p, 1, 3);
        let e = |term, value| Entry {
            term,
            cmd: Cmd::Op(RegisterReq::Write { client: 0, value }),
        };
        let ae = |entries: Vec<Entry>, commit| RaftMsg::AppendEntries {
            term: 1,
            prev_index: 0,
            prev_term: 0,
            entries,
            commit,
            round: 0,
        };
        ctx_run(1, 3, |c| {
            p.on_message(&mut s, NodeId(0), ae(vec![e(1, 1), e(1, 2)], 0), c)
        });
        assert_eq!(s.log.len(), 2);
        // The older, shorter message arrives late: nothing is lost, nothing persisted.
        let fx = ctx_run(1, 3, |c| {
            p.on_message(&mut s, NodeId(0), ae(vec![e(1, 1)], 1), c)
        });
        assert_eq!(s.log.len(), 2);
        assert!(!fx.contains(&Effect::Persist));
        assert_eq!(s.commit, 1);
        assert!(fx.contains(&Effect::Indicate(RaftInd::Commit {
            index: 1,
            term: 1,
            cmd: Cmd::Op(RegisterReq::Write {
                client: 0,
                value: 1
            })
        })));
        // A conflicting entry (term 2 at index 2) replaces the uncommitted suffix.
        let ae2 = RaftMsg::AppendEntries {
            term: 2,
            prev_index: 1,
            prev_term: 1,
            entries: vec![e(2, 3)],
            commit: 1,
            round: 0,
        };
        let fx = ctx_run(1, 3, |c| p.on_message(&mut s, NodeId(2), ae2, c));
        assert_eq!(fx[0], Effect::Persist);
        assert_eq!(s.log, vec![e(1, 1), e(2, 3)]);
        assert_eq!(s.leader, Some(NodeId(2)));
        // A redirect names that leader.
        let fx = ctx_run(1, 3, |c| {
            p.on_request(&mut s, RegisterReq::Read { client: 5 }, c)
        });
        assert_eq!(
            fx,
            vec![Effect::Indicate(RaftInd::Redirect {
                client: 5,
                leader: Some(NodeId(2)),
                cmd: RegisterReq::Read { client: 5 },
            })]
        );
    }

    #[test]
    fn a_leader_sends_its_new_entries_before_its_own_persist_and_answers_after_it() {
        let p = Raft::new();
        let mut s = fresh(&p, 0, 3);
        ctx_run(0, 3, |c| p.on_timer(&mut s, RaftTimer::Election, c));
        for voter in [1, 2] {
            let vote = RaftMsg::Vote {
                term: 1,
                granted: true,
            };
            ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(voter), vote, c));
        }
        assert!(s.is_leader());
        let fx = ctx_run(0, 3, |c| {
            p.on_request(
                &mut s,
                RegisterReq::Write {
                    client: 4,
                    value: 9,
                },
                c,
            )
        });
        let persist = fx
            .iter()
            .position(|e| *e == Effect::Persist)
            .expect("persisted");
        assert_eq!(persist, 2, "two AppendEntries, then the persist: {fx:?}");
        assert!(fx[..persist]
            .iter()
            .all(|e| matches!(e, Effect::Send { msg: RaftMsg::AppendEntries { entries, .. }, .. } if entries.len() == 2)));
        // A vote, by contrast, is persisted before it is sent (see the first test).
    }

    #[test]
    fn with_flow_control_new_entries_wait_for_the_answer_to_the_last_append() {
        let p = Raft::new().with_flow_control(true);
        let mut s = fresh(&p, 0, 3);
        ctx_run(0, 3, |c| p.on_timer(&mut s, RaftTimer::Election, c));
        for voter in [1, 2] {
            let vote = RaftMsg::Vote {
                term: 1,
                granted: true,
            };
            ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(voter), vote, c));
        }
        assert!(s.is_leader());
        let appends = |fx: &[Effect<Raft>]| -> Vec<(usize, u64, usize)> {
            fx.iter()
                .filter_map(|e| match e {
                    Effect::Send {
                        to,
                        msg:
                            RaftMsg::AppendEntries {
                                prev_index,
                                entries,
                                ..
                            },
                    } => Some((to.index(), *prev_index, entries.len())),
                    _ => None,
                })
                .collect()
        };
        let write = |value| RegisterReq::Write { client: 4, value };
        // The election's AppendEntries (the no-op, entry 1) are in flight: entry 2 waits.
        let fx = ctx_run(0, 3, |c| p.on_request(&mut s, write(9), c));
        assert_eq!(
            fx,
            vec![Effect::Persist],
            "nothing sent while one is in flight"
        );
        // Node 1 takes the no-op: entry 2 leaves for it at once, and only for it.
        let ack = |index| RaftMsg::AppendResp {
            term: 1,
            success: true,
            index,
            round: 0,
        };
        let fx = ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(1), ack(1), c));
        assert_eq!(appends(&fx), vec![(1, 1, 1)], "{fx:?}");
        // Entries 3 and 4 wait for node 1's answer, and then leave together.
        for v in [10, 11] {
            let fx = ctx_run(0, 3, |c| p.on_request(&mut s, write(v), c));
            assert_eq!(appends(&fx), vec![], "{fx:?}");
        }
        let fx = ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(1), ack(2), c));
        assert_eq!(appends(&fx), vec![(1, 2, 2)], "{fx:?}");
        // A stale answer from node 2 (to a heartbeat) still releases what waited for it.
        let fx = ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(2), ack(0), c));
        assert_eq!(appends(&fx), vec![(2, 0, 4)], "{fx:?}");
        // With nothing in flight, a new entry leaves before the persist (§10.2.1).
        let fx = ctx_run(0, 3, |c| p.on_message(&mut s, NodeId(2), ack(4), c));
        assert_eq!(appends(&fx), vec![]);
        let fx = ctx_run(0, 3, |c| p.on_request(&mut s, write(12), c));
        assert_eq!(
            appends(&fx),
            vec![(2, 4, 1)],
            "node 1 still has 3-4 in flight: {fx:?}"
        );
        assert_eq!(fx.last(), Some(&Effect::Persist));
    }

    #[test]
    fn an_unreachable_leader_brings_the_election_forward_and_nothing_else_does() {
        let p = Raft::new();
        let mut s = fresh(&p, 1, 3);
        s.leader = Some(NodeId(0));
        // A hint about a peer that is not the leader changes nothing.
        let fx = ctx_run(1, 3, |c| p.on_peer_unreachable(&mut s, NodeId(2), c));
        assert!(fx.is_empty(), "{fx:?}");
        let fx = ctx_run(1, 3, |c| p.on_peer_unreachable(&mut s, NodeId(0), c));
        let [Effect::SetTimer {
            timer: RaftTimer::Election,
            after,
        }] = fx[..]
        else {
            panic!("one election timer: {fx:?}")
        };
        assert!(
            after < p.election_timeout_min,
            "{after} is sooner than any timeout"
        );
        assert_eq!(s.leader, None);
        assert_eq!(s.term, 0, "no term change, nothing persisted");
    }

    #[test]
    fn timeouts_are_drawn_from_the_window() {
        let p = Raft::new()
            .with_election_timeout(Duration::from_millis(100), Duration::from_millis(200))
            .with_timeout_choices(3);
        struct Last;
        impl synod_core::Chooser for Last {
            fn choose(&mut self, n: usize) -> usize {
                n - 1
            }
        }
        let (mut fx, mut ch) = (Vec::new(), Last);
        let mut ctx = Ctx::new(NodeId(0), 3, Instant::ZERO, &mut fx, &mut ch);
        assert_eq!(p.draw_timeout(&mut ctx), Duration::from_millis(200));
        let one = p.with_timeout_choices(1);
        assert_eq!(one.draw_timeout(&mut ctx), Duration::from_millis(100));
    }
}
