//! Raft's newer features, each checked by independent reasoning: read-index (reads answered
//! after a heartbeat round confirms the leadership, no log entry), log compaction and
//! `InstallSnapshot`, the write-ahead-log [`Journal`] of [`RaftDurable`], and the key-value
//! store with client sessions ([`Kv`]) replicated under the simulator with loss, duplication,
//! partitions and crashes (safety every step, per-key linearizability by brute force,
//! exactly-once application of retried writes).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use synod_core::{
    Ctx, Duration, Effect, FirstChoice, Instant, Journal, NodeId, Prng, Protocol, Ratio,
};
use synod_protocols::consensus::raft::{
    self, leader_append_only, safety_violation, RaftRecord, Register, StateMachine,
};
use synod_protocols::consensus::{
    Cmd, Entry, Raft, RaftDurable, RaftInd, RaftMsg, RaftState, RaftTimer,
};
use synod_protocols::register::{RegisterReq, RegisterResp};
use synod_protocols::replication::kv::{Kv, KvCmd, KvOp, KvOut, KvResult};
use synod_sim::{
    Crash, Cut, Partition, Recover, Requests, SimConfig, Simulation, Timing, Workload, WorkloadEnv,
};

// ---- A hand-stepped cluster, generic over the state machine ----------------------------------

/// Checks the journal law on one persist: `diff(old, new)` is `Some(recs)` whose replay on
/// `old` gives `new`, or `None`, and then the snapshot changed. Returns whether it was `None`.
fn check_journal<M: StateMachine>(old: &RaftDurable<M>, new: &RaftDurable<M>) -> bool {
    let snapshot_changed = (old.snap_index, old.snap_term) != (new.snap_index, new.snap_term)
        || *old.snapshot != *new.snapshot;
    match RaftDurable::diff(old, new) {
        Some(recs) => {
            let mut replay = old.clone();
            for r in recs {
                replay.apply(r);
            }
            assert_eq!(&replay, new, "replaying the journal records");
            false
        }
        None => {
            assert!(
                snapshot_changed,
                "a checkpoint without a new snapshot: {old:?} -> {new:?}"
            );
            true
        }
    }
}

/// Nodes stepped by hand: messages wait in a pool until the test delivers (or drops) them;
/// timers fire when the test says so; every persist is checked against the journal law.
struct Cluster<M: StateMachine> {
    p: Raft<M>,
    n: usize,
    states: Vec<Option<RaftState<M>>>,
    durable: Vec<RaftDurable<M>>,
    pool: Vec<(NodeId, NodeId, RaftMsg<M>)>,
    /// Every indication, in order.
    inds: Vec<(NodeId, RaftInd<M>)>,
    /// Every message delivered to a live node.
    delivered: Vec<(NodeId, NodeId, RaftMsg<M>)>,
    /// The effects of the last step.
    last_fx: Vec<Effect<Raft<M>>>,
    /// Persists checked, and how many of them were checkpoints.
    persists: (usize, usize),
}

impl<M: StateMachine> Cluster<M> {
    fn new(p: Raft<M>, n: usize) -> Self {
        let mut c = Cluster {
            p,
            n,
            states: vec![None; n],
            durable: vec![RaftDurable::default(); n],
            pool: Vec::new(),
            inds: Vec::new(),
            delivered: Vec::new(),
            last_fx: Vec::new(),
            persists: (0, 0),
        };
        for i in 0..n {
            c.recover(i as u32);
        }
        c
    }

    fn run(
        &mut self,
        node: u32,
        f: impl FnOnce(&Raft<M>, &mut Option<RaftState<M>>, &RaftDurable<M>, &mut Ctx<'_, Raft<M>>),
    ) {
        let id = NodeId(node);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let mut ctx = Ctx::new(id, self.n, Instant::ZERO, &mut fx, &mut ch);
        let i = id.index();
        f(&self.p, &mut self.states[i], &self.durable[i], &mut ctx);
        let s = self.states[i].as_ref().expect("a live node");
        self.p.invariants(s);
        for e in &fx {
            match e {
                Effect::Send { to, msg } => self.pool.push((id, *to, msg.clone())),
                Effect::Indicate(ind) => self.inds.push((id, ind.clone())),
                Effect::Persist => {
                    let new = self.p.durable(s);
                    self.persists.0 += 1;
                    if check_journal(&self.durable[i], &new) {
                        self.persists.1 += 1;
                    }
                    self.durable[i] = new;
                }
                Effect::SetTimer { .. } | Effect::CancelTimer { .. } => {}
            }
        }
        self.last_fx = fx;
    }

    fn step(
        &mut self,
        node: u32,
        f: impl FnOnce(&Raft<M>, &mut RaftState<M>, &mut Ctx<'_, Raft<M>>),
    ) {
        assert!(self.states[node as usize].is_some(), "n{node} is down");
        self.run(node, |p, s, _, c| f(p, s.as_mut().unwrap(), c));
    }

    fn timeout(&mut self, node: u32) {
        self.step(node, |p, s, c| p.on_timer(s, RaftTimer::Election, c));
    }

    fn heartbeat(&mut self, node: u32) {
        self.step(node, |p, s, c| p.on_timer(s, RaftTimer::Heartbeat, c));
    }

    fn request(&mut self, node: u32, req: M::Cmd) {
        self.step(node, |p, s, c| p.on_request(s, req, c));
    }

    fn crash(&mut self, node: u32) {
        self.states[node as usize] = None;
    }

    fn recover(&mut self, node: u32) {
        self.run(node, |p, s, d, c| *s = Some(p.recover(d, c)));
    }

    fn is_up(&self, node: u32) -> bool {
        self.states[node as usize].is_some()
    }

    /// Delivers pool message `k` (to a crashed node it is lost).
    fn deliver_at(&mut self, k: usize) {
        let (f, t, msg) = self.pool.remove(k);
        if self.states[t.index()].is_some() {
            self.delivered.push((f, t, msg.clone()));
            self.step(t.0, |p, s, c| p.on_message(s, f, msg, c));
        }
    }

    /// Delivers the oldest message from `from` to `to` for which `pred` holds, if any.
    fn deliver_where(&mut self, from: u32, to: u32, pred: impl Fn(&RaftMsg<M>) -> bool) -> bool {
        let (f, t) = (NodeId(from), NodeId(to));
        match self
            .pool
            .iter()
            .position(|(a, b, m)| (*a, *b) == (f, t) && pred(m))
        {
            Some(k) => {
                self.deliver_at(k);
                true
            }
            None => false,
        }
    }

    /// Delivers the oldest message from `from` to `to`, if any.
    fn deliver(&mut self, from: u32, to: u32) -> bool {
        self.deliver_where(from, to, |_| true)
    }

    /// Removes the oldest message from `from` to `to` and returns it.
    fn take(&mut self, from: u32, to: u32) -> RaftMsg<M> {
        let k = self
            .pool
            .iter()
            .position(|(a, b, _)| (a.0, b.0) == (from, to))
            .unwrap_or_else(|| panic!("no message n{from} -> n{to}"));
        self.pool.remove(k).2
    }

    /// Puts a message in the pool (a duplicate, a late message, or one made up by the test).
    fn inject(&mut self, from: u32, to: u32, msg: RaftMsg<M>) {
        self.pool.push((NodeId(from), NodeId(to), msg));
    }

    /// Delivers messages between `a` and `b`, both ways, until none is left.
    fn exchange(&mut self, a: u32, b: u32) {
        while self.deliver(a, b) || self.deliver(b, a) {}
    }

    /// Delivers every message, oldest first, until the pool is empty.
    fn settle(&mut self) {
        while !self.pool.is_empty() {
            self.deliver_at(0);
        }
    }

    fn drop_from(&mut self, node: u32) {
        self.pool.retain(|(a, _, _)| a.0 != node);
    }

    fn drop_to(&mut self, node: u32) {
        self.pool.retain(|(_, b, _)| b.0 != node);
    }

    /// Elects `node` with the votes of `voters`: it times out until its next term is above
    /// theirs (those attempts' messages are lost), once more, and exchanges the vote messages.
    /// Its first `AppendEntries` stay in the pool.
    fn elect(&mut self, node: u32, voters: &[u32]) {
        while voters
            .iter()
            .any(|v| self.state(*v).term > self.state(node).term)
        {
            self.timeout(node);
            self.drop_from(node);
        }
        self.drop_from(node);
        self.timeout(node);
        for v in voters {
            assert!(self.deliver(node, *v), "no RequestVote for n{v}");
            assert!(self.deliver(*v, node), "no vote from n{v}");
        }
        assert!(self.state(node).is_leader(), "n{node} was not elected");
    }

    fn state(&self, node: u32) -> &RaftState<M> {
        self.states[node as usize].as_ref().expect("a live node")
    }

    fn refs(&self) -> Vec<Option<&RaftState<M>>> {
        self.states.iter().map(|s| s.as_ref()).collect()
    }

    fn mark(&self) -> usize {
        self.inds.len()
    }

    /// The client answers indicated since `mark`.
    fn answers(&self, mark: usize) -> Vec<(NodeId, M::Out)> {
        self.inds[mark..]
            .iter()
            .filter_map(|(n, i)| match i {
                RaftInd::Client(o) => Some((*n, o.clone())),
                _ => None,
            })
            .collect()
    }

    fn redirects(&self, mark: usize) -> Vec<u64> {
        self.inds[mark..]
            .iter()
            .filter_map(|(_, i)| match i {
                RaftInd::Redirect { client, .. } => Some(*client),
                _ => None,
            })
            .collect()
    }

    fn sent_by(&self, node: u32) -> usize {
        self.pool.iter().filter(|(a, _, _)| a.0 == node).count()
    }
}

fn rd(client: u64) -> RegisterReq {
    RegisterReq::Read { client }
}

fn wr(client: u64, value: u64) -> RegisterReq {
    RegisterReq::Write { client, value }
}

fn read_ok(client: u64, value: Option<u64>) -> RegisterResp {
    RegisterResp::ReadOk { client, value }
}

fn round_of<M: StateMachine>(m: &RaftMsg<M>) -> Option<u64> {
    match m {
        RaftMsg::AppendEntries { round, .. }
        | RaftMsg::AppendResp { round, .. }
        | RaftMsg::InstallSnapshot { round, .. } => Some(*round),
        _ => None,
    }
}

fn is_ae<M: StateMachine>(m: &RaftMsg<M>) -> bool {
    matches!(m, RaftMsg::AppendEntries { .. })
}

fn ri() -> Raft {
    Raft::new().with_read_index(true)
}

// ---- (1) Read-index -----------------------------------------------------------------------------

#[test]
fn a_single_server_answers_a_read_at_once_without_a_log_entry() {
    let mut c = Cluster::new(ri(), 1);
    c.timeout(0);
    c.request(0, wr(1, 9));
    let last = c.state(0).last_index();
    assert_eq!(
        c.state(0).commit,
        last,
        "alone, every entry commits at once"
    );
    let m = c.mark();
    c.request(0, rd(2));
    assert_eq!(c.answers(m), vec![(NodeId(0), read_ok(2, Some(9)))]);
    assert_eq!(c.state(0).last_index(), last, "the read appended nothing");
    assert!(!c.last_fx.contains(&Effect::Persist), "nothing to persist");
    // Through the log (read-index off), the same read does append an entry.
    let mut d = Cluster::new(Raft::new(), 1);
    d.timeout(0);
    let before = d.state(0).last_index();
    d.request(0, rd(2));
    assert_eq!(d.state(0).last_index(), before + 1);
}

#[test]
fn a_read_waits_for_a_round_sent_after_it_arrived() {
    let mut c = Cluster::new(ri(), 3);
    c.elect(0, &[1, 2]);
    c.request(0, wr(1, 10));
    c.settle();
    assert_eq!(c.state(0).machine.value, Some(10));
    let len = c.state(0).last_index();

    // Read A: a round starts; n1's acknowledgement (with the leader's own) is a majority.
    let m = c.mark();
    c.request(0, rd(7));
    assert!(
        c.answers(m).is_empty(),
        "answered before any acknowledgement"
    );
    let ra = c
        .pool
        .iter()
        .filter_map(|(_, _, m)| round_of(m))
        .max()
        .unwrap();
    assert!(ra > 0);
    assert!(c.deliver(0, 1) && c.deliver(0, 2));
    let old_ack_n2 = c.take(2, 0);
    let old_ack_n1 = c.take(1, 0);
    assert_eq!(round_of(&old_ack_n1), Some(ra));
    c.inject(1, 0, old_ack_n1.clone());
    assert!(c.deliver(1, 0));
    assert_eq!(c.answers(m), vec![(NodeId(0), read_ok(7, Some(10)))]);

    // W20 commits with n1 (n2 hears nothing more for now).
    c.request(0, wr(1, 20));
    c.drop_to(2);
    c.exchange(0, 1);
    assert_eq!(c.state(0).machine.value, Some(20), "W20 committed");

    // Read B arrives after W20 committed: a new round starts.
    let m = c.mark();
    c.request(0, rd(8));
    let rb = c
        .pool
        .iter()
        .filter(|(a, _, m)| a.0 == 0 && is_ae(m))
        .filter_map(|(_, _, m)| round_of(m))
        .max()
        .unwrap();
    assert!(rb > ra, "a round sent after B arrived");
    // Acknowledgements of the older round (a late one, a duplicate) do not answer B.
    c.inject(2, 0, old_ack_n2);
    assert!(c.deliver(2, 0));
    c.inject(1, 0, old_ack_n1);
    assert!(c.deliver(1, 0));
    assert!(c.answers(m).is_empty(), "answered on an older round's acks");
    // Read C arrives while B's round is under way: B's round cannot confirm C.
    let sent = c.sent_by(0);
    c.request(0, rd(9));
    assert_eq!(c.sent_by(0), sent, "one round in flight at a time");
    assert!(c.deliver_where(0, 1, |m| round_of(m) == Some(rb)));
    assert!(c.deliver(1, 0));
    assert_eq!(
        c.answers(m),
        vec![(NodeId(0), read_ok(8, Some(20)))],
        "B answered with the write committed before it, C still waits"
    );
    // n2 acknowledges B's round: still not C's.
    assert!(c.deliver_where(0, 2, |m| round_of(m) == Some(rb)));
    assert!(c.deliver(2, 0));
    assert_eq!(c.answers(m).len(), 1);
    // C's round (started once B's was confirmed) reaches n2.
    assert!(c
        .pool
        .iter()
        .any(|(a, b, m)| (a.0, b.0) == (0, 2) && round_of(m).is_some_and(|r| r > rb)));
    c.drop_to(1);
    assert!(c.deliver_where(0, 2, |m| round_of(m).is_some_and(|r| r > rb)));
    assert!(c.deliver(2, 0));
    assert_eq!(c.answers(m)[1], (NodeId(0), read_ok(9, Some(20))));
    assert_eq!(c.state(0).last_index(), len + 1, "only W20 was appended");
    assert_eq!(safety_violation(&c.refs()), None);
}

#[test]
fn a_deposed_leader_never_answers_a_read_with_an_old_value() {
    let mut c = Cluster::new(ri(), 3);
    c.elect(0, &[1, 2]);
    c.request(0, wr(1, 10));
    c.settle();
    c.heartbeat(0);
    c.settle();
    // Read A is served; n2's acknowledgement of its round is held back.
    let m = c.mark();
    c.request(0, rd(7));
    assert!(c.deliver(0, 1) && c.deliver(0, 2));
    let late_ack = c.take(2, 0);
    let dup_ack = c.take(1, 0);
    c.inject(1, 0, dup_ack.clone());
    c.deliver(1, 0);
    assert_eq!(c.answers(m), vec![(NodeId(0), read_ok(7, Some(10)))]);

    // n0 is cut off; n1 leads term 2 with n2's vote and commits W20.
    c.drop_from(0);
    c.drop_to(0);
    c.elect(1, &[2]);
    c.request(1, wr(2, 20));
    c.exchange(1, 2);
    assert_eq!(c.state(1).machine.value, Some(20));
    c.drop_to(0);
    assert!(
        c.state(0).is_leader() && c.state(0).term == 1,
        "n0 does not know"
    );

    // Reads at n0: the late and duplicated acknowledgements of the older round, and its own
    // heartbeats (lost), answer nothing.
    let m = c.mark();
    c.request(0, rd(8));
    c.request(0, rd(9));
    c.inject(2, 0, late_ack);
    c.deliver(2, 0);
    c.inject(1, 0, dup_ack);
    c.deliver(1, 0);
    for _ in 0..3 {
        c.heartbeat(0);
    }
    assert!(c.answers(m).is_empty(), "a stale leader answered a read");
    // n0's heartbeat reaches n1, whose answer carries term 2: the reads are redirected.
    c.drop_from(0);
    c.heartbeat(0);
    assert!(c.deliver(0, 1));
    assert!(c.deliver(1, 0));
    assert!(c.answers(m).is_empty());
    let mut r = c.redirects(m);
    r.sort_unstable();
    assert_eq!(r, vec![8, 9]);
    assert!(!c.state(0).is_leader());
    assert_eq!(c.state(0).term, 2);
}

#[test]
fn a_new_leader_holds_reads_until_its_first_entry_commits() {
    let mut c = Cluster::new(ri(), 3);
    c.elect(0, &[1, 2]);
    c.settle(); // the no-op reaches both
                // W5 reaches n1 only; n0 commits it and answers, but n1 never learns the commit index.
    let m = c.mark();
    c.request(0, wr(1, 5));
    c.drop_to(2);
    c.exchange(0, 1);
    assert_eq!(
        c.answers(m),
        vec![(NodeId(0), RegisterResp::WriteOk { client: 1 })],
        "W5 committed and answered"
    );
    assert!(c.state(1).commit < 2, "n1 does not know W5 is committed");
    assert_eq!(c.state(1).machine.value, None);
    c.crash(0);
    c.pool.clear();
    // n1 leads term 2 (n2 votes: n1's log is more up to date).
    c.elect(1, &[2]);
    let term_start = c.state(1).last_index();
    c.drop_from(1);
    let m = c.mark();
    c.request(1, rd(9));
    // n2 lacks W5: it refuses the round's AppendEntries, which still confirms the round.
    assert!(c.deliver_where(1, 2, is_ae));
    assert!(matches!(
        c.pool.last(),
        Some((_, _, RaftMsg::AppendResp { success: false, .. }))
    ));
    assert!(c.deliver(2, 1));
    assert!(c.state(1).commit < term_start);
    assert!(
        c.answers(m).is_empty(),
        "a read answered before the new leader's no-op committed (the machine says {:?})",
        c.state(1).machine.value
    );
    // The retry carries W5 and the no-op; once acknowledged, the no-op commits.
    c.drop_to(0);
    assert!(c.deliver(1, 2));
    assert!(c.deliver(2, 1));
    assert!(c.state(1).commit >= term_start);
    assert_eq!(c.answers(m), vec![(NodeId(1), read_ok(9, Some(5)))]);
}

// ---- (2) Snapshots ------------------------------------------------------------------------------

/// The register after `k` committed entries of the snapshot tests: index 1 is the no-op, index
/// `i >= 2` the write of `100 + i - 1`.
fn value_at(k: u64) -> Option<u64> {
    (k >= 2).then(|| 100 + k - 1)
}

fn entry_at(i: u64) -> Entry {
    if i == 1 {
        Entry {
            term: 1,
            cmd: Cmd::Noop,
        }
    } else {
        Entry {
            term: 1,
            cmd: Cmd::Op(wr(1, 100 + i - 1)),
        }
    }
}

#[test]
fn snapshots_compact_the_log_and_catch_up_a_lagging_follower() {
    let mut c = Cluster::new(Raft::new().with_snapshot_every(4), 3);
    c.crash(2);
    c.elect(0, &[1]);
    c.settle();
    for k in 1..=10 {
        c.request(0, wr(1, 100 + k));
        c.settle();
    }
    let l = c.state(0).clone();
    assert_eq!(l.commit, 11, "the no-op and 10 writes");
    assert!(l.snap_index >= 8, "compacted: snap_index {}", l.snap_index);
    assert!(l.log.len() < 4);
    assert_eq!(l.last_index(), 11);
    let mut fresh = Register::default();
    for k in 1..=10 {
        fresh.apply(&wr(1, 100 + k));
    }
    assert_eq!(l.machine, fresh);
    assert_eq!(l.snapshot.value, value_at(l.snap_index));
    let expect_log: Vec<Entry> = (l.snap_index + 1..=11).map(entry_at).collect();
    assert_eq!(l.log, expect_log);
    assert!(
        c.persists.1 >= 2,
        "each compaction was persisted as a checkpoint"
    );

    // n2 comes up empty: the entries it needs are compacted, so it gets the snapshot, then
    // the entries after it.
    c.recover(2);
    c.heartbeat(0);
    c.settle();
    let got: Vec<&RaftMsg> = c
        .delivered
        .iter()
        .filter(|(a, b, _)| (a.0, b.0) == (0, 2))
        .map(|(_, _, m)| m)
        .collect();
    assert!(
        matches!(got.first(), Some(RaftMsg::InstallSnapshot { index, .. }) if *index == l.snap_index),
        "{got:?}"
    );
    assert!(got[1..]
        .iter()
        .any(|m| matches!(m, RaftMsg::AppendEntries { entries, .. } if !entries.is_empty())));
    let f = c.state(2);
    assert_eq!(f.commit, 11);
    assert_eq!(f.machine, fresh);
    assert_eq!(f.snap_index, l.snap_index);
    assert_eq!(f.log, l.log);
    assert_eq!(safety_violation(&c.refs()), None);

    // AppendEntries whose prev_index lies inside n2's snapshot are acknowledged, not refused.
    let term = c.state(0).term;
    let ae = |prev: u64, upto: u64| RaftMsg::AppendEntries {
        term,
        prev_index: prev,
        prev_term: 1,
        entries: (prev + 1..=upto).map(entry_at).collect(),
        commit: 11,
        round: 0,
    };
    let cases = [(3, 3), (3, 6), (5, 8), (5, 11)];
    for (prev, upto) in cases {
        c.inject(0, 2, ae(prev, upto));
        assert!(c.deliver(0, 2));
        let resp = c.take(2, 0);
        assert_eq!(
            resp,
            RaftMsg::AppendResp {
                term,
                success: true,
                index: upto,
                round: 0
            },
            "prev {prev} entries up to {upto}"
        );
        assert_eq!(c.state(2).log, l.log, "nothing changed");
    }
    // One that reaches past the log appends the new entry.
    c.inject(0, 2, ae(5, 12));
    assert!(c.deliver(0, 2));
    assert!(matches!(
        c.take(2, 0),
        RaftMsg::AppendResp {
            success: true,
            index: 12,
            ..
        }
    ));
    assert_eq!(c.state(2).last_index(), 12);
    assert_eq!(c.state(2).entry(12), Some(&entry_at(12)));

    // The leader crashes and recovers from what it persisted: the snapshot is its machine.
    c.crash(0);
    c.recover(0);
    let r = c.state(0);
    assert_eq!(r.machine, *r.snapshot);
    assert_eq!(r.commit, r.snap_index);
    assert_eq!(r.snap_index, l.snap_index);
    assert_eq!(r.machine.value, value_at(l.snap_index));
    assert_eq!(r.log, l.log);
}

#[test]
fn a_snapshot_replaces_a_conflicting_suffix_and_keeps_a_matching_one() {
    let e = |t, v| Entry {
        term: t,
        cmd: Cmd::Op(wr(1, v)),
    };
    let ae = |entries: Vec<Entry>| RaftMsg::AppendEntries {
        term: 1,
        prev_index: 0,
        prev_term: 0,
        entries,
        commit: 1,
        round: 0,
    };
    let four = vec![e(1, 1), e(1, 2), e(1, 3), e(1, 4)];
    let snap = |term, index, last_term, v| RaftMsg::InstallSnapshot {
        term,
        index,
        last_term,
        machine: Arc::new(Register { value: Some(v) }),
        round: 5,
    };

    // Conflicting: n2, leader of term 2, has a snapshot up to index 3 whose last entry is of
    // term 2; n1 holds term-1 entries 1..4 (1 committed): all of them go.
    let mut c = Cluster::new(Raft::new(), 3);
    c.inject(0, 1, ae(four.clone()));
    c.deliver(0, 1);
    assert_eq!((c.state(1).log.len(), c.state(1).commit), (4, 1));
    c.inject(2, 1, snap(2, 3, 2, 77));
    c.deliver(2, 1);
    let s = c.state(1);
    assert_eq!((s.snap_index, s.snap_term, s.commit), (3, 2, 3));
    assert!(
        s.log.is_empty(),
        "the term-1 entry 4 follows a conflict: {:?}",
        s.log
    );
    assert_eq!(s.machine.value, Some(77));
    assert_eq!((s.term, s.leader), (2, Some(NodeId(2))));
    assert_eq!(
        c.take(1, 2),
        RaftMsg::AppendResp {
            term: 2,
            success: true,
            index: 3,
            round: 5
        }
    );
    let d = &c.durable[1];
    assert_eq!(
        (d.snap_index, d.snap_term, d.log.len()),
        (3, 2, 0),
        "persisted"
    );

    // Matching: the snapshot's last entry (index 2, term 1) is in n1's log: what follows stays.
    let mut c = Cluster::new(Raft::new(), 3);
    c.inject(0, 1, ae(four.clone()));
    c.deliver(0, 1);
    c.inject(0, 1, snap(1, 2, 1, 2));
    c.deliver(0, 1);
    let s = c.state(1);
    assert_eq!((s.snap_index, s.commit), (2, 2));
    assert_eq!(s.log, four[2..].to_vec());
    assert_eq!(s.last_index(), 4);
    // A snapshot older than the commit index changes nothing, and is acknowledged.
    c.pool.clear();
    let before = c.state(1).clone();
    c.inject(0, 1, snap(1, 1, 1, 1));
    c.deliver(0, 1);
    assert_eq!(c.state(1), &before);
    assert!(matches!(
        c.take(1, 0),
        RaftMsg::AppendResp {
            success: true,
            index: 1,
            ..
        }
    ));
}

// ---- (3) The journal law, and read-index, over random schedules ---------------------------------

/// Random schedules of a hand-stepped 3- or 5-node cluster (snapshots every 2 or 3 entries,
/// read-index on most runs): timeouts, heartbeats, writes, reads, deliveries in any order,
/// losses, duplicates, crashes and recoveries. Every persist satisfies the journal law (checked
/// in [`Cluster::run`]); Raft's state properties hold after every step; and every read answer
/// is the register's value after some committed prefix that includes everything committed
/// anywhere when the read arrived and nothing committed after it was answered.
#[test]
fn random_schedules_keep_the_journal_law_safety_and_fresh_reads() {
    let (mut persists, mut checkpoints, mut reads_answered, mut truncations) = (0, 0, 0, 0);
    for seed in 0..600u64 {
        let mut prng = Prng::new(seed);
        let p = Raft::new()
            .with_snapshot_every(2 + seed % 2)
            .with_read_index(seed % 4 != 0)
            .with_max_batch(1 + (seed % 3) as usize);
        let n = if seed % 3 == 2 { 5 } else { 3 };
        let mut c = Cluster::new(p, n);
        let mut next_value = 1u64;
        let mut max_commit = 0u64;
        let mut committed: BTreeMap<u64, Cmd<RegisterReq>> = BTreeMap::new();
        let mut reads: BTreeMap<u64, u64> = BTreeMap::new(); // client -> max commit at arrival
        let mut next_reader = 1_000u64;
        let mut leaders: Vec<Option<RaftState>> = vec![None; n];
        for _ in 0..120 {
            let node = prng.below(n as u64) as u32;
            let mark = c.mark();
            let before_max = max_commit;
            match prng.below(20) {
                0 if c.is_up(node) => c.timeout(node),
                1 | 2 if c.is_up(node) => c.heartbeat(node),
                3 if c.is_up(node) => {
                    c.request(node, wr(1, next_value));
                    next_value += 1;
                }
                4 if c.is_up(node) => {
                    reads.insert(next_reader, before_max);
                    c.request(node, rd(next_reader));
                    next_reader += 1;
                }
                5 if !c.pool.is_empty() => {
                    let k = prng.below(c.pool.len() as u64) as usize;
                    c.pool.remove(k);
                }
                6 if !c.pool.is_empty() => {
                    let k = prng.below(c.pool.len() as u64) as usize;
                    let m = c.pool[k].clone();
                    c.pool.push(m);
                }
                7 => {
                    let down = (0..n as u32).filter(|i| !c.is_up(*i)).count();
                    if c.is_up(node) && down < (n - 1) / 2 && prng.below(3) == 0 {
                        c.crash(node);
                        leaders[node as usize] = None;
                    } else if !c.is_up(node) {
                        c.recover(node);
                    }
                }
                _ if !c.pool.is_empty() => {
                    let k = prng.below(c.pool.len() as u64) as usize;
                    c.deliver_at(k);
                }
                _ => {}
            }
            // Judge the step.
            let st = c.refs();
            if let Some(bad) = safety_violation(&st) {
                panic!("seed {seed}: {bad} violated: {st:#?}");
            }
            for (i, s) in st.iter().enumerate() {
                if let (Some(b), Some(a)) = (&leaders[i], s) {
                    assert!(
                        leader_append_only(b, a),
                        "seed {seed}: n{i} rewrote its log"
                    );
                }
                leaders[i] = (*s).filter(|s| s.is_leader()).cloned();
            }
            max_commit = max_commit.max(st.iter().flatten().map(|s| s.commit).max().unwrap_or(0));
            for (_, ind) in &c.inds[mark..] {
                match ind {
                    RaftInd::Commit { index, cmd, .. } => {
                        let old = committed.insert(*index, cmd.clone());
                        assert!(old.is_none_or(|o| o == *cmd), "seed {seed}: index {index}");
                    }
                    RaftInd::Redirect { client, .. } => {
                        reads.remove(client);
                    }
                    _ => {}
                }
            }
            for (_, ind) in &c.inds[mark..] {
                let RaftInd::Client(RegisterResp::ReadOk { client, value }) = ind else {
                    continue;
                };
                let from = reads
                    .remove(client)
                    .unwrap_or_else(|| panic!("seed {seed}: an answer to no read"));
                reads_answered += 1;
                let mut ok = Vec::new();
                let mut v = None;
                for k in 1..=max_commit {
                    let cmd = committed
                        .get(&k)
                        .unwrap_or_else(|| panic!("seed {seed}: index {k} never applied"));
                    if let Cmd::Op(RegisterReq::Write { value, .. }) = cmd {
                        v = Some(*value);
                    }
                    if k >= from {
                        ok.push(v);
                    }
                }
                if from == 0 {
                    ok.push(None);
                }
                assert!(
                    ok.contains(value),
                    "seed {seed}: read {client} got {value:?}; committed when it arrived: \
                     {from}, now {max_commit}; allowed {ok:?}"
                );
            }
        }
        persists += c.persists.0;
        checkpoints += c.persists.1;
        truncations += c
            .delivered
            .iter()
            .filter(|(_, _, m)| matches!(m, RaftMsg::InstallSnapshot { .. }))
            .count();
    }
    assert!(persists > 3000, "{persists} persists checked");
    assert!(checkpoints > 100, "{checkpoints} checkpoints");
    assert!(reads_answered > 100, "{reads_answered} reads answered");
    assert!(truncations > 10, "{truncations} snapshots installed");
}

/// Arbitrary (not only reachable) pairs of durable states with the same snapshot: `diff` is
/// `Some` and its records rebuild the new value; with another snapshot, `None`.
#[test]
fn the_journal_law_holds_for_arbitrary_pairs() {
    let mut prng = Prng::new(7);
    let entry = |prng: &mut Prng| Entry {
        term: 1 + prng.below(4),
        cmd: if prng.below(5) == 0 {
            Cmd::Noop
        } else {
            Cmd::Op(wr(prng.below(3), prng.below(4)))
        },
    };
    let mut truncates = 0;
    for _ in 0..4000 {
        let snap_index = prng.below(3) * 5;
        let snapshot = Arc::new(Register {
            value: (snap_index > 0).then_some(snap_index),
        });
        let old = RaftDurable {
            term: prng.below(5),
            voted_for: (prng.below(2) == 0).then(|| NodeId(prng.below(3) as u32)),
            snap_index,
            snap_term: snap_index / 5,
            snapshot: snapshot.clone(),
            log: (0..prng.below(6)).map(|_| entry(&mut prng)).collect(),
        };
        let mut new = old.clone();
        // A suffix cut, a few appends, maybe a new term and vote; maybe a new snapshot.
        let keep = prng.below(new.log.len() as u64 + 1) as usize;
        new.log.truncate(keep);
        for _ in 0..prng.below(4) {
            new.log.push(entry(&mut prng));
        }
        if prng.below(2) == 0 {
            new.term += prng.below(2);
            new.voted_for = (prng.below(2) == 0).then(|| NodeId(prng.below(3) as u32));
        }
        if prng.below(2) == 0 {
            // The same snapshot in a fresh allocation: not a change.
            new.snapshot = Arc::new((*snapshot).clone());
        }
        let resnap = prng.below(5) == 0;
        if resnap {
            new.snap_index += 1 + prng.below(3);
            new.snapshot = Arc::new(Register {
                value: Some(new.snap_index),
            });
        }
        let recs = RaftDurable::diff(&old, &new);
        assert_eq!(recs.is_none(), resnap, "{old:?} -> {new:?}");
        check_journal(&old, &new);
        if let Some(recs) = recs {
            if recs
                .iter()
                .any(|r| matches!(r, RaftRecord::TruncateFrom { .. }))
            {
                truncates += 1;
            }
            if old == new {
                assert!(recs.is_empty(), "no change, no record");
            }
        }
    }
    assert!(truncates > 500);
}

// ---- (4) The key-value store under the simulator ---------------------------------------------

/// One client operation as the clients saw it.
#[derive(Clone, Debug)]
struct OpRec {
    client: u64,
    seq: u64,
    op: KvOp,
    invoked: Instant,
    answer: Option<(Instant, KvResult)>,
}

struct Client {
    id: u64,
    /// Operations issued so far (the sequence number of the current one).
    issued: u64,
    /// The outstanding operation: its record index, where it was last sent, when to retry,
    /// and a leader named by a redirect.
    current: Option<(usize, NodeId, Instant, Option<NodeId>)>,
    /// The last value this client saw per key (for its compare-and-sets).
    seen: BTreeMap<std::sync::Arc<str>, Option<std::sync::Arc<str>>>,
}

/// Closed-loop key-value clients with sessions: each issues `ops` operations (get, put of a
/// unique value, cas from the last value it saw) on random keys; an operation not answered
/// within `timeout` is resent, with the same sequence number, to another server; a redirect
/// sends it 2 ms later to the leader it names (else to another server).
struct KvClients {
    n: usize,
    ops: u64,
    timeout: Duration,
    start: Instant,
    clients: Vec<Client>,
    wakes: Vec<Instant>,
    hist: Rc<RefCell<Vec<OpRec>>>,
}

const KEYS: [&str; 3] = ["x", "y", "z"];

impl KvClients {
    fn new(
        nclients: u64,
        ops: u64,
        timeout: Duration,
        start: Instant,
        hist: Rc<RefCell<Vec<OpRec>>>,
    ) -> Self {
        KvClients {
            n: 0,
            ops,
            timeout,
            start,
            clients: (1..=nclients)
                .map(|id| Client {
                    id,
                    issued: 0,
                    current: None,
                    seen: BTreeMap::new(),
                })
                .collect(),
            wakes: Vec::new(),
            hist,
        }
    }

    fn issue(
        &mut self,
        c: usize,
        at: Instant,
        node: NodeId,
        prng: &mut Prng,
        out: &mut Requests<Raft<Kv>>,
    ) {
        let cl = &mut self.clients[c];
        cl.issued += 1;
        let seq = cl.issued;
        let key: std::sync::Arc<str> = KEYS[prng.below(KEYS.len() as u64) as usize].into();
        let value: std::sync::Arc<str> = format!("c{}.{}", cl.id, seq).into();
        let op = match prng.below(3) {
            0 => KvOp::Get { key },
            1 => KvOp::Put { key, value },
            _ => KvOp::Cas {
                from: cl.seen.get(&key).cloned().flatten(),
                key,
                to: value,
            },
        };
        let mut h = self.hist.borrow_mut();
        h.push(OpRec {
            client: cl.id,
            seq,
            op: op.clone(),
            invoked: at,
            answer: None,
        });
        let deadline = at + self.timeout;
        cl.current = Some((h.len() - 1, node, deadline, None));
        self.wakes.push(deadline);
        out.push((
            at,
            node,
            KvCmd {
                client: cl.id,
                seq,
                op,
            },
        ));
    }
}

impl Workload<Raft<Kv>> for KvClients {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<Raft<Kv>>) {
        self.n = env.n;
        for c in 0..self.clients.len() {
            let at = self.start + Duration::from_millis(prng.below(30));
            let node = NodeId(prng.below(env.n as u64) as u32);
            self.issue(c, at, node, prng, out);
        }
    }

    fn on_indication(
        &mut self,
        now: Instant,
        node: NodeId,
        ind: &RaftInd<Kv>,
        prng: &mut Prng,
        out: &mut Requests<Raft<Kv>>,
    ) {
        match ind {
            RaftInd::Client(KvOut {
                client,
                seq,
                result,
            }) => {
                let Some(c) = self.clients.iter().position(|c| c.id == *client) else {
                    return;
                };
                let Some((h, ..)) = self.clients[c].current else {
                    return; // a late answer to an operation already answered
                };
                let rec = self.hist.borrow()[h].clone();
                if rec.seq != *seq {
                    return; // an answer to an earlier operation (another copy)
                }
                assert_ne!(
                    *result,
                    KvResult::Stale,
                    "client {client} seq {seq}: its outstanding operation answered stale"
                );
                self.hist.borrow_mut()[h].answer = Some((now, result.clone()));
                let cl = &mut self.clients[c];
                let key: std::sync::Arc<str> = rec.op.key().into();
                match (&rec.op, result) {
                    (KvOp::Get { .. }, KvResult::Value(v)) => {
                        cl.seen.insert(key, v.clone());
                    }
                    (KvOp::Put { value, .. }, _)
                    | (KvOp::Cas { to: value, .. }, KvResult::Swapped) => {
                        cl.seen.insert(key, Some(value.clone()));
                    }
                    (KvOp::Cas { .. }, KvResult::Mismatch { current }) => {
                        cl.seen.insert(key, current.clone());
                    }
                    _ => {}
                }
                cl.current = None;
                if cl.issued < self.ops {
                    self.issue(c, now + Duration::from_millis(1), node, prng, out);
                }
            }
            RaftInd::Redirect {
                client,
                leader,
                cmd,
            } => {
                let Some(cl) = self.clients.iter_mut().find(|c| c.id == *client) else {
                    return;
                };
                if cmd.seq != cl.issued {
                    return; // about an earlier operation
                }
                if let Some((_, _, deadline, hint)) = &mut cl.current {
                    let soon = now + Duration::from_millis(2);
                    if soon < *deadline {
                        *deadline = soon;
                        *hint = *leader;
                        self.wakes.push(soon);
                    }
                }
            }
            _ => {}
        }
    }

    fn poll_wake(&mut self) -> Option<Instant> {
        self.wakes.pop()
    }

    fn on_wake(&mut self, now: Instant, prng: &mut Prng, out: &mut Requests<Raft<Kv>>) {
        let n = self.n as u64;
        for cl in &mut self.clients {
            let Some((h, node, deadline, hint)) = &mut cl.current else {
                continue;
            };
            if *deadline > now {
                continue;
            }
            // The same command (same sequence number), elsewhere.
            let to = hint.take().unwrap_or_else(|| {
                NodeId(((u64::from(node.0)) + 1 + prng.below(n - 1)) as u32 % n as u32)
            });
            let rec = self.hist.borrow()[*h].clone();
            *node = to;
            *deadline = now + self.timeout;
            self.wakes.push(*deadline);
            out.push((
                now,
                to,
                KvCmd {
                    client: rec.client,
                    seq: rec.seq,
                    op: rec.op,
                },
            ));
        }
    }
}

/// Per-key linearizability by brute force (Wing and Gong's search, memoised on the set of
/// operations placed and the value): answered operations must take effect between invocation
/// and answer; unanswered writes may take effect at any time after invocation, or never.
fn linearizable(ops: &[OpRec]) -> bool {
    let ops: Vec<&OpRec> = ops
        .iter()
        .filter(|o| o.answer.is_some() || !matches!(o.op, KvOp::Get { .. }))
        .collect();
    assert!(ops.len() <= 30, "history too long for brute force");
    let end = |o: &OpRec| o.answer.as_ref().map_or(Instant(u64::MAX), |a| a.0);
    fn search(
        ops: &[&OpRec],
        end: &dyn Fn(&OpRec) -> Instant,
        done: u32,
        value: Option<std::sync::Arc<str>>,
        failed: &mut BTreeSet<(u32, Option<std::sync::Arc<str>>)>,
    ) -> bool {
        if ops
            .iter()
            .enumerate()
            .all(|(i, o)| done & (1 << i) != 0 || o.answer.is_none())
        {
            return true;
        }
        if failed.contains(&(done, value.clone())) {
            return false;
        }
        for (i, o) in ops.iter().enumerate() {
            if done & (1 << i) != 0 {
                continue;
            }
            // o can go next only if no other remaining operation was answered before o began.
            let blocked = ops
                .iter()
                .enumerate()
                .any(|(j, p)| j != i && done & (1 << j) == 0 && end(p) < o.invoked);
            if blocked {
                continue;
            }
            let res = o.answer.as_ref().map(|a| &a.1);
            let next = match &o.op {
                KvOp::Get { .. } => {
                    (res == Some(&KvResult::Value(value.clone()))).then(|| value.clone())
                }
                KvOp::Put { value: v, .. } => {
                    matches!(res, None | Some(KvResult::Written)).then(|| Some(v.clone()))
                }
                KvOp::Cas { from, to, .. } => {
                    if *from == value {
                        matches!(res, None | Some(KvResult::Swapped)).then(|| Some(to.clone()))
                    } else {
                        let mismatch = KvResult::Mismatch {
                            current: value.clone(),
                        };
                        (res.is_none() || res == Some(&mismatch)).then(|| value.clone())
                    }
                }
            };
            if let Some(v) = next {
                if search(ops, end, done | (1 << i), v, failed) {
                    return true;
                }
            }
        }
        failed.insert((done, value));
        false
    }
    search(&ops, &end, 0, None, &mut BTreeSet::new())
}

#[test]
fn the_linearizability_checker_has_teeth() {
    let op = |client, op, inv: u64, ans: Option<(u64, KvResult)>| OpRec {
        client,
        seq: 1,
        op,
        invoked: Instant(inv),
        answer: ans.map(|(t, r)| (Instant(t), r)),
    };
    let put = |v: &str| KvOp::Put {
        key: "x".into(),
        value: v.into(),
    };
    let get = KvOp::Get { key: "x".into() };
    let val = |v: &str| KvResult::Value(Some(v.into()));
    // a then b, sequential; a read after both sees b, not a.
    let good = [
        op(1, put("a"), 0, Some((1, KvResult::Written))),
        op(2, put("b"), 2, Some((3, KvResult::Written))),
        op(3, get.clone(), 4, Some((5, val("b")))),
    ];
    assert!(linearizable(&good));
    let mut bad = good.clone();
    bad[2].answer = Some((Instant(5), val("a")));
    assert!(!linearizable(&bad), "a stale read");
    // A read concurrent with the write of b may see either.
    let mut conc = good.clone();
    conc[2].invoked = Instant(2);
    conc[2].answer = Some((Instant(5), val("a")));
    assert!(linearizable(&conc));
    // A put answered before another put began cannot be read after it (a resurrected value,
    // what a write applied twice would show).
    let resurrect = [
        op(1, put("a"), 0, Some((1, KvResult::Written))),
        op(2, put("b"), 2, Some((3, KvResult::Written))),
        op(3, get.clone(), 4, Some((5, val("a")))),
    ];
    assert!(!linearizable(&resurrect));
    // An unanswered put may take effect late, but only once: b, a, then b again is not
    // explained.
    let late = [
        op(1, put("a"), 0, None),
        op(2, put("b"), 1, Some((2, KvResult::Written))),
        op(3, get.clone(), 3, Some((4, val("b")))),
        op(4, get.clone(), 5, Some((6, val("a")))),
        op(5, get, 7, Some((8, val("b")))),
    ];
    assert!(
        linearizable(&late[..4]),
        "the pending put of a lands after b"
    );
    assert!(!linearizable(&late), "b again after a: b was written once");
}

/// The committed log (from the `Commit` indications, which agree when state-machine safety
/// holds) replayed with exactly-once semantics computed independently of [`Kv`]'s sessions:
/// a write takes effect at its first occurrence; later copies (same client and sequence number)
/// do nothing. Returns the data after each prefix and the result of each write.
#[allow(clippy::type_complexity)]
fn replay_once(
    log: &[KvCmd],
) -> (
    Vec<BTreeMap<std::sync::Arc<str>, std::sync::Arc<str>>>,
    BTreeMap<(u64, u64), KvResult>,
    usize,
) {
    let mut data: BTreeMap<std::sync::Arc<str>, std::sync::Arc<str>> = BTreeMap::new();
    let mut after = vec![data.clone()];
    let mut results = BTreeMap::new();
    let mut dups = 0;
    for cmd in log {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            results.entry((cmd.client, cmd.seq))
        {
            let r = match &cmd.op {
                KvOp::Get { .. } => panic!("a get in the log: read-index is on"),
                KvOp::Put { key, value } => {
                    data.insert(key.clone(), value.clone());
                    KvResult::Written
                }
                KvOp::Cas { key, from, to } => {
                    let cur = data.get(key).cloned();
                    if cur == *from {
                        data.insert(key.clone(), to.clone());
                        KvResult::Swapped
                    } else {
                        KvResult::Mismatch { current: cur }
                    }
                }
            };
            slot.insert(r);
        } else {
            dups += 1;
        }
        after.push(data.clone());
    }
    (after, results, dups)
}

#[test]
fn the_kv_store_is_safe_linearizable_and_exactly_once_under_faults() {
    let (mut total_ops, mut answered, mut dups_total, mut compacted) = (0, 0, 0, 0);
    let (mut crashes, mut elections) = (0, 0);
    for seed in 0..40u64 {
        let n = if seed % 4 < 2 { 3 } else { 5 };
        let what = format!("seed {seed} (n={n})");
        let mut cfg = SimConfig::new(n, seed);
        cfg.timing = Timing::PartiallySynchronous {
            gst: Instant::from_millis(1500),
            delta: Duration::from_millis(10),
        };
        cfg.until = Instant::from_secs(3);
        cfg.network.loss = Ratio::from_f64(0.05).unwrap();
        cfg.network.duplicate = Ratio::from_f64(0.05).unwrap();
        let mut fp = Prng::derive(seed, 7);
        let victim = NodeId(fp.below(n as u64) as u32);
        let at = Instant::from_millis(400 + fp.below(400));
        let back = at + Duration::from_millis(200 + fp.below(300));
        if seed % 2 == 0 {
            let mut nodes: Vec<NodeId> = NodeId::all(n).collect();
            fp.shuffle(&mut nodes);
            let k = 1 + fp.below((n as u64 - 1) / 2) as usize;
            cfg.faults.partitions.push(Partition {
                cut: Cut::Groups(vec![nodes[..k].to_vec(), nodes[k..].to_vec()]),
                from: at,
                until: back,
            });
        } else {
            cfg.faults.crashes.push(Crash {
                node: victim,
                at,
                partial_send: false,
            });
            cfg.faults.recoveries.push(Recover {
                node: victim,
                at: back,
            });
        }
        let hist = Rc::new(RefCell::new(Vec::new()));
        let p = Raft::<Kv>::for_machine()
            .with_read_index(true)
            .with_snapshot_every(16);
        let mut sim = Simulation::new(p, cfg)
            .expect("valid config")
            .with_workload(KvClients::new(
                3,
                10,
                // Short timeouts on some seeds: retries while the first copy is still on its
                // way, so both copies reach the log.
                Duration::from_millis([6, 12, 80][seed as usize % 3]),
                Instant::from_millis(350),
                hist.clone(),
            ));
        let mut leaders: Vec<Option<RaftState<Kv>>> = vec![None; n];
        let mut steps = 0;
        while sim.step() {
            steps += 1;
            let states: Vec<Option<&RaftState<Kv>>> =
                NodeId::all(n).map(|i| sim.state(i)).collect();
            if let Some(bad) = safety_violation(&states) {
                panic!("{what}, step {steps}: {bad} violated");
            }
            for (i, s) in states.iter().enumerate() {
                if let (Some(b), Some(a)) = (&leaders[i], s) {
                    assert!(leader_append_only(b, a), "{what}: n{i} rewrote its log");
                }
                leaders[i] = (*s).filter(|s| s.is_leader()).cloned();
            }
        }
        let out = sim.finish();
        crashes += out.stats.crashes;
        elections += out
            .trace
            .indications()
            .filter(|(_, _, _, i)| matches!(i, RaftInd::BecameLeader { .. }))
            .count();
        for r in synod_core::check_all(&raft::raft_properties(), &out.trace) {
            assert!(
                !r.verdict.is_violated(),
                "{what}: {}: {}",
                r.name,
                r.verdict
            );
        }

        // (b) Linearizability, key by key.
        let hist = hist.borrow();
        total_ops += hist.len();
        answered += hist.iter().filter(|o| o.answer.is_some()).count();
        for key in KEYS {
            let ops: Vec<OpRec> = hist.iter().filter(|o| o.op.key() == key).cloned().collect();
            assert!(
                linearizable(&ops),
                "{what}: key {key} not linearizable: {ops:#?}"
            );
        }

        // (c) Exactly-once: the committed log, replayed applying each write once, explains
        // every answer and every server's store.
        let mut log: BTreeMap<u64, Cmd<KvCmd>> = BTreeMap::new();
        for (_, _, _, ind) in out.trace.indications() {
            if let RaftInd::Commit { index, cmd, .. } = ind {
                log.insert(*index, cmd.clone());
            }
        }
        assert!(
            log.keys().copied().eq(1..=log.len() as u64),
            "{what}: a committed index was never applied"
        );
        // Index i of the log is position i of `after` (no-ops change nothing).
        let mut cmds = Vec::new();
        let mut pos = vec![0usize];
        for cmd in log.values() {
            if let Cmd::Op(c) = cmd {
                cmds.push(c.clone());
            }
            pos.push(cmds.len());
        }
        let (after, results, dups) = replay_once(&cmds);
        dups_total += dups;
        for o in hist.iter() {
            let Some((_, r)) = &o.answer else { continue };
            if !matches!(o.op, KvOp::Get { .. }) {
                assert_eq!(
                    results.get(&(o.client, o.seq)),
                    Some(r),
                    "{what}: client {} seq {} answered {r:?}",
                    o.client,
                    o.seq
                );
            }
        }
        compacted += out
            .states
            .iter()
            .flatten()
            .filter(|s| s.snap_index > 0)
            .count();
        for (i, s) in out.states.iter().enumerate() {
            let Some(s) = s else { continue };
            assert!(
                s.commit as usize <= log.len(),
                "{what}: n{i} committed an unseen index"
            );
            assert_eq!(
                s.machine.data, after[pos[s.commit as usize]],
                "{what}: n{i}'s store at commit {}",
                s.commit
            );
        }
    }
    assert!(
        answered * 10 >= total_ops * 8,
        "only {answered} of {total_ops} operations answered"
    );
    assert!(
        dups_total > 20,
        "{dups_total} retried writes committed twice: (c) barely tested"
    );
    assert!(compacted > 20, "{compacted} servers compacted their logs");
    assert!(crashes >= 20, "{crashes} crashes");
    assert!(
        elections > 40,
        "{elections} elections: the faults deposed leaders"
    );
}
