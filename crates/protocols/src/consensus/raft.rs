//! Raft (Ongaro and Ousterhout, 2014): a replicated log, here driving a linearizable register.
//!
//! **Model.** n servers (at most [`NodeSet::MAX_NODES`]), *crash-recovery* with stable storage:
//! a server may crash at any moment and later restart from what it persisted; at most f of them
//! are down or cut off at a time, n ≥ 2f + 1. The network loses, duplicates and reorders
//! messages. *Safety* holds under asynchrony, whatever the timing and however many servers
//! crash. *Liveness* (a leader is elected and commands commit) needs partial synchrony: after
//! some unknown time, messages arrive well within the election timeout and a majority stays up
//! and connected. Randomized election timeouts make split votes unlikely, not impossible.
//! Clients are external: a client operation arrives as a request ([`RegisterReq`]) at one
//! server; the answer is an indication ([`RaftInd::Client`] wrapping a [`RegisterResp`]).
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
//! commit index, the register and the role are volatile: a restarted server is a follower with
//! commit index 0 and an empty register, and re-applies the log as it learns the commit index
//! again (its `Commit` indications repeat, with the same entries).
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
use crate::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{
    ClientId, ClientOps, Ctx, Duration, Effect, EventKind, NodeId, Property, Protocol, Trace,
    Verdict,
};

/// A replicated command: what a log entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Cmd {
    /// Nothing: the entry a new leader appends to commit its predecessors' entries (§8).
    Noop,
    /// Client `client` writes `value` to the register.
    Write {
        /// The client.
        client: u64,
        /// The value.
        value: u64,
    },
    /// Client `client` reads the register.
    Read {
        /// The client.
        client: u64,
    },
}

impl Cmd {
    /// The client that issued the command (`None` for a no-op).
    pub fn client(&self) -> Option<u64> {
        match *self {
            Cmd::Noop => None,
            Cmd::Write { client, .. } | Cmd::Read { client } => Some(client),
        }
    }
}

impl From<RegisterReq> for Cmd {
    fn from(req: RegisterReq) -> Cmd {
        match req {
            RegisterReq::Write { client, value } => Cmd::Write { client, value },
            RegisterReq::Read { client } => Cmd::Read { client },
        }
    }
}

/// One log entry: the term of the leader that created it, and its command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The term in which a leader appended it.
    pub term: u64,
    /// The command.
    pub cmd: Cmd,
}

/// Raft's messages (the paper's two RPCs and their replies).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaftMsg {
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
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: u64,
    },
    /// The answer to `AppendEntries`.
    AppendResp {
        /// The follower's current term.
        term: u64,
        /// Whether the consistency check passed.
        success: bool,
        /// On success, the index of the last entry the message carried (`prev_index` +
        /// number of entries): the follower's log matches the leader's up to there. On failure,
        /// a hint: the follower's last index, capped at `prev_index - 1`.
        index: u64,
    },
}

impl RaftMsg {
    /// The sender's term.
    pub fn term(&self) -> u64 {
        match *self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::Vote { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendResp { term, .. } => term,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaftInd {
    /// The answer to a client: emitted by the leader that created the entry, when it applies it.
    Client(RegisterResp),
    /// The request of `client` arrived at a server that is not the leader: it was not appended.
    /// `leader` is the leader this server knows for its current term, if any.
    Redirect {
        /// The client.
        client: u64,
        /// Where to retry.
        leader: Option<NodeId>,
    },
    /// This server became the leader of `term`.
    BecameLeader {
        /// The term.
        term: u64,
    },
    /// This server applied the entry at `index` (of term `term`) to its register: it knows the
    /// entry is committed. Repeated after a restart, with the same entry.
    Commit {
        /// The log index.
        index: u64,
        /// The entry's term.
        term: u64,
        /// The entry's command.
        cmd: Cmd,
    },
}

/// A server's role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
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
    },
}

/// One Raft server's state: the durable part (term, vote, log) and the volatile one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftState {
    /// The current term (durable).
    pub term: u64,
    /// The candidate this server voted for in `term`, if any (durable).
    pub voted_for: Option<NodeId>,
    /// The log; entry i (1-based) is `log[i - 1]` (durable).
    pub log: Vec<Entry>,
    /// Follower, candidate or leader.
    pub role: Role,
    /// The leader of `term`, once known.
    pub leader: Option<NodeId>,
    /// The highest index known to be committed; entries up to it are applied.
    pub commit: u64,
    /// The register: the value of the last applied write.
    pub value: Option<u64>,
}

impl RaftState {
    /// A follower in `term` with log `log` whose first `commit` entries are committed and
    /// applied (no vote, no known leader): handy to build states by hand for property checks.
    ///
    /// # Panics
    /// If `commit` exceeds the log's length.
    pub fn follower(term: u64, log: Vec<Entry>, commit: u64) -> RaftState {
        assert!(commit <= log.len() as u64, "commit beyond the log");
        let value = log[..commit as usize]
            .iter()
            .rev()
            .find_map(|e| match e.cmd {
                Cmd::Write { value, .. } => Some(value),
                _ => None,
            });
        RaftState {
            term,
            voted_for: None,
            log,
            role: Role::Follower,
            leader: None,
            commit,
            value,
        }
    }

    /// The index of the last entry (0 if the log is empty).
    pub fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    /// The term of the last entry (0 if the log is empty).
    pub fn last_term(&self) -> u64 {
        self.log.last().map_or(0, |e| e.term)
    }

    /// The term of the entry at `index` (`Some(0)` for index 0; `None` beyond the log).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            Some(0)
        } else {
            self.log.get((index - 1) as usize).map(|e| e.term)
        }
    }

    /// True if this server is a leader (of its current term).
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The committed (and applied) prefix of the log.
    pub fn committed(&self) -> &[Entry] {
        &self.log[..(self.commit as usize).min(self.log.len())]
    }
}

/// What a Raft server keeps on stable storage: current term, vote and log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RaftDurable {
    /// The current term.
    pub term: u64,
    /// The vote in that term.
    pub voted_for: Option<NodeId>,
    /// The log.
    pub log: Vec<Entry>,
}

/// Raft's configuration (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Raft {
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
    /// CANARY when true: the leader commits any entry stored on a majority, whatever its term
    /// (the unsafe rule of Figure 8).
    pub unsafe_commit: bool,
}

impl Default for Raft {
    fn default() -> Raft {
        Raft::new()
    }
}

impl Raft {
    /// Raft with election timeouts in 150..300 ms (16 choices), 50 ms heartbeats, batches of
    /// 64 entries and the no-op on election.
    pub fn new() -> Raft {
        Raft {
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            timeout_choices: 16,
            heartbeat: Duration::from_millis(50),
            max_batch: 64,
            noop_on_election: true,
            unsafe_commit: false,
        }
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

    /// Election timeouts drawn from `[min, max]`.
    ///
    /// # Panics
    /// If `min > max`.
    pub fn with_election_timeout(mut self, min: Duration, max: Duration) -> Raft {
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
    pub fn with_timeout_choices(mut self, k: u32) -> Raft {
        self.timeout_choices = k.max(1);
        self
    }

    /// The heartbeat period.
    pub fn with_heartbeat(mut self, period: Duration) -> Raft {
        self.heartbeat = period;
        self
    }

    /// At most `b` entries per `AppendEntries` (at least 1).
    pub fn with_max_batch(mut self, b: usize) -> Raft {
        self.max_batch = b.max(1);
        self
    }

    /// Whether a new leader appends a no-op entry.
    pub fn with_noop(mut self, on: bool) -> Raft {
        self.noop_on_election = on;
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
        s: &mut RaftState,
        ctx: &mut Ctx<'_, Self>,
        f: impl FnOnce(&mut Node<'_, '_>),
    ) {
        let mut fx: Vec<Effect<Raft>> = Vec::new();
        let dirty = {
            let mut inner = ctx.fork::<Raft>(&mut fx);
            let mut node = Node {
                cfg: self,
                s,
                ctx: &mut inner,
                dirty: false,
            };
            f(&mut node);
            node.dirty
        };
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
struct Node<'x, 'c> {
    cfg: &'x Raft,
    s: &'x mut RaftState,
    ctx: &'x mut Ctx<'c, Raft>,
    dirty: bool,
}

impl Node<'_, '_> {
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

    /// A higher term: adopt it, forget the vote, become a follower.
    fn observe_term(&mut self, term: u64) {
        if term <= self.s.term {
            return;
        }
        self.s.term = term;
        self.s.voted_for = None;
        self.dirty = true;
        self.s.leader = None;
        if self.s.is_leader() {
            self.ctx.cancel_timer(RaftTimer::Heartbeat);
            self.reset_election_timer();
        }
        self.s.role = Role::Follower;
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

    fn append(&mut self, cmd: Cmd) {
        self.s.log.push(Entry {
            term: self.s.term,
            cmd,
        });
        self.dirty = true;
    }

    /// As leader: send `to` the entries from its `next` on.
    fn send_append(&mut self, to: NodeId) {
        let Role::Leader { next, .. } = &self.s.role else {
            return;
        };
        let len = self.s.log.len();
        let start = ((next[to.index()].max(1) - 1) as usize).min(len);
        let end = len.min(start.saturating_add(self.cfg.max_batch));
        let prev_index = start as u64;
        let msg = RaftMsg::AppendEntries {
            term: self.s.term,
            prev_index,
            prev_term: self.s.term_at(prev_index).unwrap_or(0),
            entries: self.s.log[start..end].to_vec(),
            commit: self.s.commit,
        };
        self.ctx.send(to, msg);
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
        }
    }

    /// Commits and applies the entries up to `upto`.
    fn commit_to(&mut self, upto: u64) {
        let upto = upto.min(self.s.last_index());
        while self.s.commit < upto {
            self.s.commit += 1;
            let index = self.s.commit;
            let e = self.s.log[(index - 1) as usize];
            let resp = match e.cmd {
                Cmd::Noop => None,
                Cmd::Write { client, value } => {
                    self.s.value = Some(value);
                    Some(RegisterResp::WriteOk { client })
                }
                Cmd::Read { client } => Some(RegisterResp::ReadOk {
                    client,
                    value: self.s.value,
                }),
            };
            self.ctx.indicate(RaftInd::Commit {
                index,
                term: e.term,
                cmd: e.cmd,
            });
            if let Some(r) = resp {
                if self.s.is_leader() && e.term == self.s.term {
                    self.ctx.indicate(RaftInd::Client(r));
                }
            }
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

    fn on_request(&mut self, req: RegisterReq) {
        if self.s.is_leader() {
            self.append(Cmd::from(req));
            self.broadcast_append();
            self.advance_commit();
        } else {
            self.ctx.indicate(RaftInd::Redirect {
                client: req.client(),
                leader: self.s.leader,
            });
        }
    }

    fn on_message(&mut self, from: NodeId, msg: RaftMsg) {
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
            } => self.on_append(from, term, prev_index, prev_term, &entries, commit),
            RaftMsg::AppendResp {
                term,
                success,
                index,
            } => self.on_append_resp(from, term, success, index),
        }
    }

    fn on_append(
        &mut self,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: &[Entry],
        commit: u64,
    ) {
        if term < self.s.term {
            let refuse = RaftMsg::AppendResp {
                term: self.s.term,
                success: false,
                index: 0,
            };
            self.ctx.send(from, refuse);
            return;
        }
        if self.s.is_leader() {
            return; // two leaders of one term: impossible unless a peer misbehaves
        }
        self.s.role = Role::Follower;
        self.s.leader = Some(from);
        self.reset_election_timer();
        if self.s.term_at(prev_index) != Some(prev_term) {
            let hint = prev_index.saturating_sub(1).min(self.s.last_index());
            let refuse = RaftMsg::AppendResp {
                term,
                success: false,
                index: hint,
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
                self.s.log.truncate((at - 1) as usize);
            }
            self.s.log.extend_from_slice(&entries[k..]);
            self.dirty = true;
        }
        let last_new = prev_index + entries.len() as u64;
        let ack = RaftMsg::AppendResp {
            term,
            success: true,
            index: last_new,
        };
        self.ctx.send(from, ack);
        let target = commit.min(last_new);
        if target > self.s.commit {
            self.commit_to(target);
        }
    }

    fn on_append_resp(&mut self, from: NodeId, term: u64, success: bool, index: u64) {
        if term != self.s.term {
            return;
        }
        let last = self.s.last_index();
        let Role::Leader { next, matched } = &mut self.s.role else {
            return;
        };
        let p = from.index();
        if success {
            let index = index.min(last);
            if index <= matched[p] {
                return; // stale or duplicate
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
            if want < next[p] {
                next[p] = want;
                self.send_append(from);
            }
        }
    }
}

impl Protocol for Raft {
    type Msg = RaftMsg;
    type Timer = RaftTimer;
    type Request = RegisterReq;
    type Indication = RaftInd;
    type State = RaftState;
    type Durable = RaftDurable;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> RaftState {
        self.recover(&RaftDurable::default(), ctx)
    }

    fn on_message(&self, s: &mut RaftState, from: NodeId, msg: RaftMsg, ctx: &mut Ctx<'_, Self>) {
        self.handle(s, ctx, |n| n.on_message(from, msg));
    }

    fn on_timer(&self, s: &mut RaftState, timer: RaftTimer, ctx: &mut Ctx<'_, Self>) {
        self.handle(s, ctx, |n| n.on_timer(timer));
    }

    fn on_request(&self, s: &mut RaftState, req: RegisterReq, ctx: &mut Ctx<'_, Self>) {
        self.handle(s, ctx, |n| n.on_request(req));
    }

    fn durable(&self, s: &RaftState) -> RaftDurable {
        RaftDurable {
            term: s.term,
            voted_for: s.voted_for,
            log: s.log.clone(),
        }
    }

    fn recover(&self, d: &RaftDurable, ctx: &mut Ctx<'_, Self>) -> RaftState {
        assert_fits_node_set("Raft", ctx.n());
        assert!(
            self.election_timeout_min <= self.election_timeout_max,
            "Raft: empty election timeout window"
        );
        let mut s = RaftState {
            term: d.term,
            voted_for: d.voted_for,
            log: d.log.clone(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            value: None,
        };
        self.handle(&mut s, ctx, |n| n.reset_election_timer());
        s
    }

    fn invariants(&self, s: &RaftState) {
        assert!(
            s.commit <= s.last_index(),
            "Raft: commit index {} beyond the log ({} entries)",
            s.commit,
            s.log.len()
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
            Role::Leader { next, matched } => {
                assert!(
                    s.voted_for.is_some() && s.leader == s.voted_for,
                    "Raft: a leader that did not vote for itself"
                );
                assert_eq!(next.len(), matched.len(), "Raft: leader tables disagree");
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

fn live<'a>(states: &'a [Option<&'a RaftState>]) -> impl Iterator<Item = &'a RaftState> + Clone {
    states.iter().flatten().copied()
}

/// *Election safety* on a global state (`states[i]` is node i's state, `None` while it is
/// down): no two live servers are leaders of the same term.
pub fn election_safety(states: &[Option<&RaftState>]) -> bool {
    let mut terms: Vec<u64> = live(states)
        .filter(|s| s.is_leader())
        .map(|s| s.term)
        .collect();
    terms.sort_unstable();
    terms.windows(2).all(|w| w[0] != w[1])
}

/// *Log matching* between two logs: if they hold an entry with the same index and term, they
/// are identical up to that index (checked at the highest such index, which implies the others).
pub fn logs_match(a: &[Entry], b: &[Entry]) -> bool {
    let common = a.len().min(b.len());
    match (0..common).rev().find(|&i| a[i].term == b[i].term) {
        None => true,
        Some(i) => a[..=i] == b[..=i],
    }
}

/// *Log matching* on a global state: every two live servers' logs match ([`logs_match`]).
pub fn log_matching(states: &[Option<&RaftState>]) -> bool {
    let v: Vec<&RaftState> = live(states).collect();
    v.iter()
        .enumerate()
        .all(|(i, a)| v[i + 1..].iter().all(|b| logs_match(&a.log, &b.log)))
}

/// *State-machine safety* on a global state: the committed (applied) prefixes of every two live
/// servers agree, so no two servers applied different entries at the same index.
pub fn state_machine_safety(states: &[Option<&RaftState>]) -> bool {
    let v: Vec<&RaftState> = live(states).collect();
    v.iter().enumerate().all(|(i, a)| {
        v[i + 1..].iter().all(|b| {
            let c = a.committed().len().min(b.committed().len());
            a.log[..c] == b.log[..c]
        })
    })
}

/// *Leader completeness* on a global state: every live leader of term t holds the committed
/// prefix of every live server whose current term is at most t (such a server learned its
/// commit index from a leader of a term at most t, so the entries were committed by then).
pub fn leader_completeness(states: &[Option<&RaftState>]) -> bool {
    live(states).filter(|l| l.is_leader()).all(|l| {
        live(states)
            .filter(|s| s.term <= l.term)
            .all(|s| l.log.starts_with(s.committed()))
    })
}

/// *Leader append-only* across one step of one server: if it is the leader of the same term
/// before and after, its log only grew (`before.log` is a prefix of `after.log`).
pub fn leader_append_only(before: &RaftState, after: &RaftState) -> bool {
    !(before.is_leader() && after.is_leader() && before.term == after.term)
        || after.log.starts_with(&before.log)
}

/// A property over a global state.
type StateCheck = fn(&[Option<&RaftState>]) -> bool;

/// The first of [`election_safety`], [`log_matching`], [`leader_completeness`] and
/// [`state_machine_safety`] that fails on this global state, by name; `None` if all hold.
pub fn safety_violation(states: &[Option<&RaftState>]) -> Option<&'static str> {
    let checks: [(&'static str, StateCheck); 4] = [
        ("election-safety", election_safety),
        ("log-matching", log_matching),
        ("leader-completeness", leader_completeness),
        ("state-machine-safety", state_machine_safety),
    ];
    checks
        .into_iter()
        .find(|(_, check)| !check(states))
        .map(|(name, _)| name)
}

// ---- Properties over indications and traces ---------------------------------------------------

/// Where a run of indications breaks a property (position among them) and how.
type Clash = Option<(usize, String)>;

/// The first two `BecameLeader` of one term by different servers: `(position, detail)`.
fn leader_clash<'a>(inds: impl IntoIterator<Item = (NodeId, &'a RaftInd)>) -> Clash {
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
fn commit_clash<'a>(inds: impl IntoIterator<Item = (NodeId, &'a RaftInd)>) -> Clash {
    let mut applied: BTreeMap<u64, (u64, Cmd, NodeId)> = BTreeMap::new();
    for (i, (node, ind)) in inds.into_iter().enumerate() {
        if let RaftInd::Commit { index, term, cmd } = *ind {
            let (t, c, by) = *applied.entry(index).or_insert((term, cmd, node));
            if (t, c) != (term, cmd) {
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
pub fn one_leader_per_term<'a>(inds: impl IntoIterator<Item = (NodeId, &'a RaftInd)>) -> bool {
    leader_clash(inds).is_none()
}

/// *State-machine safety* over the indications of a run: all [`RaftInd::Commit`]s for one
/// index carry the same entry (term and command), whichever server applied it and however often.
pub fn commits_agree<'a>(inds: impl IntoIterator<Item = (NodeId, &'a RaftInd)>) -> bool {
    commit_clash(inds).is_none()
}

/// Runs `clash` over a trace's indications and reports the violation at its event.
fn trace_verdict(trace: &Trace<Raft>, clash: fn(Vec<(NodeId, &RaftInd)>) -> Clash) -> Verdict {
    let (pos, inds): (Vec<usize>, Vec<(NodeId, &RaftInd)>) = trace
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
pub fn election_safety_property() -> Property<Raft> {
    Property::safety("election-safety", |trace: &Trace<Raft>| {
        trace_verdict(trace, |inds| leader_clash(inds))
    })
}

/// State-machine safety over a trace (safety): no two `Commit` indications for one index carry
/// different entries.
pub fn state_machine_safety_property() -> Property<Raft> {
    Property::safety("state-machine-safety", |trace: &Trace<Raft>| {
        trace_verdict(trace, |inds| commit_clash(inds))
    })
}

/// Raft's trace properties: [`election_safety_property`] and
/// [`state_machine_safety_property`].
pub fn raft_properties() -> Vec<Property<Raft>> {
    vec![election_safety_property(), state_machine_safety_property()]
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(s.value, Some(9));
    }

    #[test]
    fn a_follower_keeps_entries_a_stale_message_would_truncate() {
        let p = Raft::new();
        let mut s = fresh(&p, 1, 3);
        let e = |term, value| Entry {
            term,
            cmd: Cmd::Write { client: 0, value },
        };
        let ae = |entries: Vec<Entry>, commit| RaftMsg::AppendEntries {
            term: 1,
            prev_index: 0,
            prev_term: 0,
            entries,
            commit,
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
            cmd: Cmd::Write {
                client: 0,
                value: 1
            }
        })));
        // A conflicting entry (term 2 at index 2) replaces the uncommitted suffix.
        let ae2 = RaftMsg::AppendEntries {
            term: 2,
            prev_index: 1,
            prev_term: 1,
            entries: vec![e(2, 3)],
            commit: 1,
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
                leader: Some(NodeId(2))
            })]
        );
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
