//! Raft under the simulator: leaders are elected and client commands commit; with crashes,
//! recoveries, partitions, loss and duplication the five safety properties of the paper's
//! Figure 3 hold on every seed and commands commit again once the faults stop; the property
//! checks reject states that break them; and the Figure 8 canary, driven by hand through the
//! paper's schedule, overwrites a committed entry.

use std::collections::BTreeMap;
use synod_core::{
    check_all, Ctx, Duration, Effect, Event, EventKind, FirstChoice, Instant, NodeId, Prng,
    Protocol, Ratio, RunFacts, Trace, Verdict,
};
use synod_protocols::consensus::raft::{
    self, commits_agree, election_safety, leader_append_only, leader_completeness, log_matching,
    logs_match, one_leader_per_term, safety_violation, state_machine_safety, Register,
};
use synod_protocols::consensus::{
    Cmd, Entry, Raft, RaftDurable, RaftInd, RaftMsg, RaftState, Role,
};
use synod_protocols::register::{RegisterReq, RegisterResp};
use synod_sim::{
    Crash, Cut, Partition, Recover, Requests, SimConfig, SimOutcome, Simulation, Timing, Workload,
    WorkloadEnv,
};

// ---- Clients ----------------------------------------------------------------------------------

/// Closed-loop register clients. Client `c` alternates writes of `c * 1000 + k` (its k-th
/// operation) and reads; it sends each operation to a random server, follows redirects (to the
/// named leader, else to a random server, 20 ms later) and sends the next operation 1 ms after
/// the answer, to the server that answered. An operation sent to a crashed server, or appended
/// by a leader that is deposed before answering, is never answered: that client stops.
struct Clients {
    /// `(start, first client id, number of clients, operations each)`.
    waves: Vec<(Instant, u64, u64, u64)>,
    n: usize,
    /// Per client: its next operation's number, the number of operations it makes, and the
    /// request outstanding.
    clients: BTreeMap<u64, (u64, u64, Option<RegisterReq>)>,
}

impl Clients {
    fn new(waves: Vec<(Instant, u64, u64, u64)>) -> Clients {
        Clients {
            waves,
            n: 0,
            clients: BTreeMap::new(),
        }
    }

    fn op(client: u64, k: u64) -> RegisterReq {
        if k.is_multiple_of(2) {
            RegisterReq::Write {
                client,
                value: client * 1000 + k,
            }
        } else {
            RegisterReq::Read { client }
        }
    }
}

impl Workload<Raft> for Clients {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<Raft>) {
        self.n = env.n;
        for &(at, first, count, ops) in &self.waves {
            for c in first..first + count {
                let req = Clients::op(c, 0);
                self.clients.insert(c, (1, ops, Some(req)));
                let node = NodeId(prng.below(env.n as u64) as u32);
                out.push((at + Duration(prng.below(20_000_000)), node, req));
            }
        }
    }

    fn on_indication(
        &mut self,
        now: Instant,
        node: NodeId,
        ind: &RaftInd,
        prng: &mut Prng,
        out: &mut Requests<Raft>,
    ) {
        match *ind {
            RaftInd::Client(resp) => {
                let Some((next, ops, outstanding)) = self.clients.get_mut(&resp.client()) else {
                    return;
                };
                assert!(
                    outstanding.is_some(),
                    "an answer to an idle client: {resp:?}"
                );
                *outstanding = None;
                if *next < *ops {
                    let req = Clients::op(resp.client(), *next);
                    *next += 1;
                    *outstanding = Some(req);
                    out.push((now + Duration::from_millis(1), node, req));
                }
            }
            RaftInd::Redirect { client, leader, .. } => {
                let Some((_, _, Some(req))) = self.clients.get(&client) else {
                    return;
                };
                let to = leader.unwrap_or_else(|| NodeId(prng.below(self.n as u64) as u32));
                out.push((now + Duration::from_millis(20), to, *req));
            }
            _ => {}
        }
    }
}

// ---- Running and judging ----------------------------------------------------------------------

fn config(n: usize, seed: u64, gst: Instant, until: Instant) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.timing = Timing::PartiallySynchronous {
        gst,
        delta: Duration::from_millis(10),
    };
    cfg.until = until;
    cfg
}

/// Runs step by step, checking the state properties ([`safety_violation`], and leader
/// append-only against the previous step) after every step, then [`judge`]s the run.
fn run_checked(p: Raft, cfg: SimConfig, w: Clients, what: &str) -> SimOutcome<Raft> {
    let n = cfg.n;
    let mut sim = Simulation::new(p, cfg)
        .expect("valid config")
        .with_workload(w);
    let mut leaders: Vec<Option<RaftState>> = vec![None; n];
    let mut steps = 0u64;
    while sim.step() {
        steps += 1;
        let states: Vec<Option<&RaftState>> = NodeId::all(n).map(|i| sim.state(i)).collect();
        for (i, s) in states.iter().enumerate() {
            if let (Some(before), Some(after)) = (&leaders[i], s) {
                assert!(
                    leader_append_only(before, after),
                    "{what}, step {steps}: n{i} rewrote its log as leader"
                );
            }
            leaders[i] = (*s).filter(|s| s.is_leader()).cloned();
        }
        if let Some(bad) = safety_violation(&states) {
            panic!("{what}, step {steps}: {bad} violated: {states:#?}");
        }
    }
    let out = sim.finish();
    judge(&out, what);
    out
}

fn refs(out: &SimOutcome<Raft>) -> Vec<Option<&RaftState>> {
    out.states.iter().map(|s| s.as_ref()).collect()
}

/// The end-of-run verdicts: trace properties, state properties, and the clients' answers.
fn judge(out: &SimOutcome<Raft>, what: &str) {
    for r in check_all(&raft::raft_properties(), &out.trace) {
        assert_eq!(r.verdict, Verdict::Holds, "{what}: {}", r.name);
    }
    let inds: Vec<(NodeId, &RaftInd)> = out
        .trace
        .indications()
        .map(|(_, _, node, ind)| (node, ind))
        .collect();
    assert!(
        commits_agree(inds.iter().copied()) && one_leader_per_term(inds),
        "{what}"
    );
    assert_eq!(safety_violation(&refs(out)), None, "{what}");
    check_answers(out, what);
}

/// The committed log as the run's `Commit` indications show it (they agree: checked before).
fn committed_log(trace: &Trace<Raft>) -> Vec<Entry> {
    let mut log: BTreeMap<u64, Entry> = BTreeMap::new();
    for (_, _, _, ind) in trace.indications() {
        if let RaftInd::Commit { index, term, cmd } = ind {
            log.insert(
                *index,
                Entry {
                    term: *term,
                    cmd: cmd.clone(),
                },
            );
        }
    }
    let entries: Vec<Entry> = log.values().cloned().collect();
    assert!(
        log.keys().copied().eq(1..=entries.len() as u64),
        "committed indices have a gap"
    );
    entries
}

/// Every answer is the register's behaviour at the client's entry in the committed log: a
/// client's i-th answer is for its i-th entry there (it sends an operation only after the
/// previous one was answered, and a request is appended at most once), a write answers
/// `WriteOk`, a read returns the value of the last write before it in the log. Since an entry
/// is appended after the operation was invoked and committed before it is answered, this
/// makes the answered operations linearizable in log order.
fn check_answers(out: &SimOutcome<Raft>, what: &str) {
    let log = committed_log(&out.trace);
    // Per client, in log order: (entry, the register value after applying it).
    let mut per_client: BTreeMap<u64, Vec<(Cmd, Option<u64>)>> = BTreeMap::new();
    let mut value = None;
    for e in &log {
        if let Cmd::Op(RegisterReq::Write { value: v, .. }) = e.cmd {
            value = Some(v);
        }
        if let Some(c) = e.cmd.op().map(|r| r.client()) {
            per_client
                .entry(c)
                .or_default()
                .push((e.cmd.clone(), value));
        }
    }
    let mut answers: BTreeMap<u64, Vec<RegisterResp>> = BTreeMap::new();
    for (_, _, _, ind) in out.trace.indications() {
        if let RaftInd::Client(r) = *ind {
            answers.entry(r.client()).or_default().push(r);
        }
    }
    for (c, entries) in &per_client {
        let got = answers.get(c).map_or(&[][..], |a| &a[..]);
        assert!(
            entries.len() <= got.len() + 1,
            "{what}: client {c} has {} entries committed but {} answers",
            entries.len(),
            got.len()
        );
    }
    for (c, got) in &answers {
        let entries = per_client.get(c).map_or(&[][..], |e| &e[..]);
        assert!(
            got.len() <= entries.len(),
            "{what}: client {c} got {} answers for {} committed entries",
            got.len(),
            entries.len()
        );
        for (r, (cmd, after)) in got.iter().zip(entries) {
            match (*r, cmd) {
                (RegisterResp::WriteOk { .. }, Cmd::Op(RegisterReq::Write { .. })) => {}
                (RegisterResp::ReadOk { value, .. }, Cmd::Op(RegisterReq::Read { .. })) => {
                    assert_eq!(value, *after, "{what}: client {c} read a stale value")
                }
                _ => panic!("{what}: client {c}: answer {r:?} for entry {cmd:?}"),
            }
        }
    }
}

fn answers_after(out: &SimOutcome<Raft>, t: Instant) -> usize {
    out.trace
        .indications()
        .filter(|(_, at, _, ind)| *at >= t && matches!(ind, RaftInd::Client(_)))
        .count()
}

// ---- (1) Fault-free: a leader is elected and every command commits ----------------------------

#[test]
fn a_leader_is_elected_and_every_client_command_commits() {
    for n in [3, 5] {
        for seed in 0..20 {
            let what = format!("n={n} seed {seed}");
            let cfg = config(n, seed, Instant::ZERO, Instant::from_secs(4));
            let clients = Clients::new(vec![(Instant::from_millis(500), 1, 4, 6)]);
            let out = run_checked(Raft::new(), cfg, clients, &what);
            let leaders = out
                .trace
                .indications()
                .filter(|(_, _, _, i)| matches!(i, RaftInd::BecameLeader { .. }))
                .count();
            assert!(leaders >= 1, "{what}: no leader");
            assert_eq!(answers_after(&out, Instant::ZERO), 24, "{what}");
            // Quiet at the end: one leader, every log identical and fully committed.
            let st = refs(&out);
            let first = st[0].unwrap();
            assert_eq!(st.iter().flatten().filter(|s| s.is_leader()).count(), 1);
            let last_write = first.log.iter().rev().find_map(|e| match e.cmd {
                Cmd::Op(RegisterReq::Write { value, .. }) => Some(value),
                _ => None,
            });
            for s in st.iter().flatten() {
                assert_eq!(s.log, first.log, "{what}");
                assert_eq!(s.commit, s.log.len() as u64, "{what}");
                assert_eq!(s.machine.value, last_write, "{what}");
            }
        }
    }
}

// ---- (2) Chaos: crashes, recoveries, partitions, loss, duplication ----------------------------

const CHAOS_SEEDS: u64 = 100;

/// Random faults in the first 3 s of a 5-node run: six crashes, one in each 450 ms slot from
/// 100 ms on, of a random node for 50 to 400 ms (the first one sometimes part-way through a
/// send); two partitions (groups, or one way) isolating a random minority for 100 to 800 ms;
/// loss (5% or, on odd seeds, 15%) and 5% duplication throughout; clocks drifting by up to
/// ±1000 ppm. GST is at 3 s.
fn chaos(seed: u64) -> SimConfig {
    let n = 5;
    let faults_end = Instant::from_secs(3);
    let mut cfg = config(n, seed, faults_end, Instant::from_secs(8));
    let loss = if seed.is_multiple_of(2) { 0.05 } else { 0.15 };
    cfg.network.loss = Ratio::from_f64(loss).unwrap();
    cfg.network.duplicate = Ratio::from_f64(0.05).unwrap();
    let mut prng = Prng::derive(seed, 99);
    let ms =
        |prng: &mut Prng, lo: u64, hi: u64| Duration::from_millis(prng.range_inclusive(lo, hi));
    for k in 0..6u64 {
        let node = NodeId(prng.below(n as u64) as u32);
        let at = Instant::from_millis(100 + 450 * k) + ms(&mut prng, 0, 250);
        // A crash part-way through a send strikes at the node's next sending step, which may
        // come after its recovery time (a partitioned follower sends nothing): then the node
        // stays down. Only the first crash may be partial, so at most one node stays down.
        cfg.faults.crashes.push(Crash {
            node,
            at,
            partial_send: k == 0 && prng.below(2) == 0,
        });
        let back = (at + ms(&mut prng, 50, 400)).min(faults_end);
        cfg.faults.recoveries.push(Recover { node, at: back });
    }
    for k in 0..2u64 {
        let mut nodes: Vec<NodeId> = NodeId::all(n).collect();
        prng.shuffle(&mut nodes);
        let minority = nodes[..1 + prng.below(2) as usize].to_vec();
        let rest = nodes[minority.len()..].to_vec();
        let from = Instant::from_millis(200 + 1300 * k) + ms(&mut prng, 0, 500);
        let until = (from + ms(&mut prng, 100, 800)).min(faults_end);
        let cut = if prng.below(3) == 0 {
            Cut::OneWay {
                from: rest,
                to: minority,
            }
        } else {
            Cut::Groups(vec![minority, rest])
        };
        cfg.faults.partitions.push(Partition { cut, from, until });
    }
    for node in NodeId::all(n) {
        let drift_ppm = prng.range_inclusive(0, 2000) as i32 - 1000;
        cfg.faults.clocks.push((
            node,
            synod_sim::ClockSkew {
                drift_ppm,
                offset: Duration::ZERO,
            },
        ));
    }
    cfg
}

#[test]
fn raft_is_safe_under_chaos_and_makes_progress_once_the_faults_stop() {
    let after = Instant::from_secs(4);
    let mut all_late_done = 0;
    let mut crashes = 0;
    for seed in 0..CHAOS_SEEDS {
        let what = format!("chaos seed {seed}");
        // 5 clients × 30 operations through the faults, 3 clients × 6 operations after them.
        let clients = Clients::new(vec![
            (Instant::from_millis(300), 1, 5, 30),
            (after, 100, 3, 6),
        ]);
        // Small batches on some seeds: followers catch up over many messages.
        let p = Raft::new().with_max_batch([64, 1, 3][seed as usize % 3]);
        let out = run_checked(p, chaos(seed), clients, &what);
        crashes += out.stats.crashes;
        // Progress: commands of the late clients commit, and they are answered.
        let late_committed = committed_log(&out.trace)
            .iter()
            .filter(|e| e.cmd.op().is_some_and(|r| r.client() >= 100))
            .count();
        assert!(
            late_committed > 0,
            "{what}: nothing committed after the faults"
        );
        let late = out
            .trace
            .indications()
            .filter(|(_, _, _, i)| matches!(i, RaftInd::Client(r) if r.client() >= 100))
            .count();
        assert!(late > 0, "{what}: no client answered after the faults");
        if late == 18 {
            all_late_done += 1;
        }
    }
    assert!(
        crashes >= 2 * CHAOS_SEEDS,
        "the faults did strike ({crashes} crashes)"
    );
    // A late client stops if a leader that appended its operation is deposed before answering
    // (a spurious election after a run of lost heartbeats): rare.
    assert!(
        all_late_done >= CHAOS_SEEDS * 9 / 10,
        "only {all_late_done} runs answered every late operation"
    );
}

// ---- (3) The checks have teeth ----------------------------------------------------------------

fn w(term: u64, value: u64) -> Entry {
    Entry {
        term,
        cmd: Cmd::Op(RegisterReq::Write { client: 1, value }),
    }
}

fn leader(mut s: RaftState, me: u32) -> RaftState {
    s.voted_for = Some(NodeId(me));
    s.leader = Some(NodeId(me));
    s.role = Role::Leader {
        next: vec![1; 3],
        matched: vec![0; 3],
        term_start: 1,
        round: 0,
        acked: vec![0; 3],
        reads: Vec::new(),
        in_flight: vec![None; 3],
    };
    s
}

#[test]
fn the_state_checks_reject_states_that_break_figure_3() {
    // Log matching: same index and term (index 2, term 2), different histories before it.
    let a = RaftState::<Register>::follower(2, vec![w(1, 10), w(2, 20)], 0);
    let b = RaftState::<Register>::follower(2, vec![w(1, 11), w(2, 20)], 0);
    assert!(!logs_match(&a.log, &b.log));
    assert!(!log_matching(&[Some(&a), Some(&b)]));
    assert!(log_matching(&[Some(&a), None, Some(&a.clone())]));
    assert_eq!(
        safety_violation(&[Some(&a), Some(&b)]),
        Some("log-matching")
    );
    // Divergent suffixes after a common prefix are fine (an uncommitted tail to be replaced).
    let c = RaftState::<Register>::follower(3, vec![w(1, 10), w(3, 30)], 1);
    assert!(log_matching(&[Some(&a), Some(&c)]));

    // State-machine safety: both applied index 1, with different entries.
    let d = RaftState::<Register>::follower(2, vec![w(1, 10)], 1);
    let e = RaftState::<Register>::follower(2, vec![w(2, 20)], 1);
    assert!(
        log_matching(&[Some(&d), Some(&e)]),
        "different terms: log matching is silent"
    );
    assert!(!state_machine_safety(&[Some(&d), Some(&e)]));
    assert!(state_machine_safety(&[Some(&d), None]));
    // Only the committed prefixes count.
    let f = RaftState::<Register>::follower(2, vec![w(2, 20)], 0);
    assert!(state_machine_safety(&[Some(&d), Some(&f)]));

    // Election safety: two leaders of term 2.
    let l1 = leader(RaftState::<Register>::follower(2, vec![w(1, 10)], 0), 0);
    let l2 = leader(RaftState::<Register>::follower(2, vec![w(1, 10)], 0), 1);
    assert!(!election_safety(&[Some(&l1), Some(&l2)]));
    assert!(election_safety(&[Some(&l1), None]));
    let l3 = leader(RaftState::<Register>::follower(3, vec![w(1, 10)], 0), 1);
    assert!(election_safety(&[Some(&l1), Some(&l3)]));
    assert_eq!(
        safety_violation(&[Some(&l1), Some(&l2)]),
        Some("election-safety")
    );

    // Leader completeness: a leader of term 3 lacks what a term-2 server committed…
    let l = leader(RaftState::<Register>::follower(3, vec![w(3, 30)], 0), 0);
    assert!(!leader_completeness(&[Some(&l), Some(&d)]));
    // …but not what a server of a later term committed (a stale leader may lag).
    let later = RaftState::<Register>::follower(4, vec![w(4, 40)], 1);
    assert!(leader_completeness(&[Some(&l), Some(&later)]));

    // Leader append-only: same term, the log lost an entry.
    let before = leader(
        RaftState::<Register>::follower(2, vec![w(1, 10), w(2, 20)], 0),
        0,
    );
    let mut after = before.clone();
    after.log.pop();
    assert!(!leader_append_only(&before, &after));
    assert!(leader_append_only(&after, &before));
}

fn ind_event(i: u64, node: u32, ind: RaftInd) -> Event<Raft> {
    Event {
        time: Instant(i),
        kind: EventKind::Indication {
            node: NodeId(node),
            ind,
        },
    }
}

#[test]
fn the_trace_checks_reject_runs_that_break_figure_3() {
    let commit = |term, value| RaftInd::Commit {
        index: 1,
        term,
        cmd: Cmd::Op(RegisterReq::Write { client: 1, value }),
    };
    let mk = |events: Vec<Event<Raft>>| Trace {
        events,
        facts: RunFacts::fault_free(3, Instant(10)),
    };
    // The same entry applied twice (a restart) is fine; a different one at index 1 is not.
    let good = mk(vec![
        ind_event(0, 0, commit(1, 10)),
        ind_event(1, 0, commit(1, 10)),
        ind_event(2, 1, commit(1, 10)),
    ]);
    let bad = mk(vec![
        ind_event(0, 0, commit(1, 10)),
        ind_event(1, 1, RaftInd::BecameLeader { term: 2 }),
        ind_event(2, 2, commit(2, 20)),
    ]);
    let sms = raft::state_machine_safety_property();
    assert_eq!(sms.check(&good), Verdict::Holds);
    let v = sms.check(&bad);
    assert!(v.is_violated(), "{v}");
    assert!(v.to_string().contains("index 1"), "{v}");
    let es = raft::election_safety_property();
    assert_eq!(es.check(&bad), Verdict::Holds);
    let two = mk(vec![
        ind_event(0, 0, RaftInd::BecameLeader { term: 2 }),
        ind_event(1, 0, RaftInd::BecameLeader { term: 3 }),
        ind_event(2, 1, RaftInd::BecameLeader { term: 2 }),
    ]);
    assert!(es.check(&two).is_violated());
    let inds: Vec<(NodeId, RaftInd)> = two
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Indication { node, ind } => Some((*node, ind.clone())),
            _ => None,
        })
        .collect();
    assert!(!one_leader_per_term(inds.iter().map(|(n, i)| (*n, i))));
    assert!(commits_agree(inds.iter().map(|(n, i)| (*n, i))));
}

// ---- (4) Figure 8, by hand ---------------------------------------------------------------------

/// A hand-driven cluster with stable storage: every step runs one handler; messages wait in a
/// pool until the test delivers (or drops) them; timers fire when the test says so.
struct Cluster {
    p: Raft,
    n: usize,
    states: Vec<Option<RaftState>>,
    durable: Vec<RaftDurable>,
    pool: Vec<(NodeId, NodeId, RaftMsg)>,
    events: Vec<Event<Raft>>,
}

impl Cluster {
    fn new(p: Raft, n: usize) -> Cluster {
        let mut c = Cluster {
            p,
            n,
            states: vec![None; n],
            durable: vec![RaftDurable::default(); n],
            pool: Vec::new(),
            events: Vec::new(),
        };
        for i in 0..n {
            c.recover(i as u32);
        }
        c
    }

    fn run(
        &mut self,
        node: u32,
        f: impl FnOnce(&Raft, &mut Option<RaftState>, &RaftDurable, &mut Ctx<'_, Raft>),
    ) {
        let id = NodeId(node);
        let (mut fx, mut ch) = (Vec::new(), FirstChoice);
        let t = Instant(self.events.len() as u64);
        let mut ctx = Ctx::new(id, self.n, t, &mut fx, &mut ch);
        let i = id.index();
        f(&self.p, &mut self.states[i], &self.durable[i], &mut ctx);
        let s = self.states[i].as_ref().expect("a live node");
        self.p.invariants(s);
        for e in fx {
            match e {
                Effect::Send { to, msg } => self.pool.push((id, to, msg)),
                Effect::Indicate(ind) => self.events.push(Event {
                    time: t,
                    kind: EventKind::Indication { node: id, ind },
                }),
                Effect::Persist => self.durable[i] = self.p.durable(s),
                Effect::SetTimer { .. } | Effect::CancelTimer { .. } => {}
            }
        }
    }

    fn step(&mut self, node: u32, f: impl FnOnce(&Raft, &mut RaftState, &mut Ctx<'_, Raft>)) {
        assert!(self.states[node as usize].is_some(), "n{node} is down");
        self.run(node, |p, s, _, c| f(p, s.as_mut().unwrap(), c));
    }

    fn timeout(&mut self, node: u32) {
        self.step(node, |p, s, c| p.on_timer(s, raft::RaftTimer::Election, c));
    }

    fn heartbeat(&mut self, node: u32) {
        self.step(node, |p, s, c| p.on_timer(s, raft::RaftTimer::Heartbeat, c));
    }

    fn write(&mut self, node: u32, client: u64, value: u64) {
        self.step(node, |p, s, c| {
            p.on_request(s, RegisterReq::Write { client, value }, c)
        });
    }

    fn crash(&mut self, node: u32) {
        self.states[node as usize] = None;
    }

    fn recover(&mut self, node: u32) {
        self.run(node, |p, s, d, c| *s = Some(p.recover(d, c)));
    }

    /// Delivers the oldest message from `from` to `to`, if any (to a crashed node it is lost).
    fn deliver(&mut self, from: u32, to: u32) -> bool {
        let (f, t) = (NodeId(from), NodeId(to));
        let Some(k) = self.pool.iter().position(|(a, b, _)| (*a, *b) == (f, t)) else {
            return false;
        };
        let (_, _, msg) = self.pool.remove(k);
        if self.states[t.index()].is_some() {
            self.step(to, |p, s, c| p.on_message(s, f, msg, c));
        }
        true
    }

    /// Delivers messages between `a` and `b`, both ways, until none is left.
    fn exchange(&mut self, a: u32, b: u32) {
        while self.deliver(a, b) || self.deliver(b, a) {}
    }

    /// Elects `node`: it times out until its next term is above the terms of all `voters`
    /// (these attempts' messages are lost), then once more, and exchanges messages with each
    /// voter.
    fn elect(&mut self, node: u32, voters: &[u32]) {
        while voters
            .iter()
            .any(|v| self.state(*v).term > self.state(node).term)
        {
            self.timeout(node);
            self.drop_all_from(node);
        }
        self.timeout(node);
        for v in voters {
            self.deliver(node, *v);
            self.deliver(*v, node);
        }
        assert!(self.state(node).is_leader(), "n{node} was not elected");
        self.pool.clear(); // its first heartbeats are lost
    }

    fn drop_all_from(&mut self, node: u32) {
        self.pool.retain(|(a, _, _)| a.0 != node);
    }

    fn state(&self, node: u32) -> &RaftState {
        self.states[node as usize].as_ref().expect("a live node")
    }

    fn refs(&self) -> Vec<Option<&RaftState>> {
        self.states.iter().map(|s| s.as_ref()).collect()
    }

    fn trace(&self) -> Trace<Raft> {
        Trace {
            events: self.events.clone(),
            facts: RunFacts::fault_free(self.n, Instant(self.events.len() as u64)),
        }
    }

    fn commits(&self, node: u32) -> Vec<(u64, u64)> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Indication {
                    node: at,
                    ind: RaftInd::Commit { index, term, .. },
                } if at == NodeId(node) => Some((index, term)),
                _ => None,
            })
            .collect()
    }
}

/// The schedule of the paper's Figure 8 on S1..S5 = n0..n4 (terms shifted down by one: the
/// paper's index 1, term 1 entry is left out).
fn figure8(p: Raft) -> Cluster {
    let mut c = Cluster::new(p, 5);
    // (a) n0 leads term 1 (votes of n1, n2) and replicates its entry (W10) to n1 only.
    c.elect(0, &[1, 2]);
    c.write(0, 1, 10);
    c.exchange(0, 1);
    c.pool.clear();
    assert_eq!(c.state(1).log, vec![w1(1, 10)]);
    // (b) n0 crashes; n4 leads term 2 (votes of n2, n3), appends W20, which no one receives,
    // and crashes.
    c.crash(0);
    c.elect(4, &[2, 3]);
    c.write(4, 2, 20);
    c.pool.clear();
    c.crash(4);
    // (c) n0 restarts and leads term 3 (votes of n1, n2); it brings n2's log up to date: W10,
    // of term 1, is now on a majority (n0, n1, n2). The canary commits it and tells n1.
    c.recover(0);
    c.elect(0, &[1, 2]);
    c.heartbeat(0);
    c.exchange(0, 1);
    c.exchange(0, 2);
    c.heartbeat(0);
    c.exchange(0, 1);
    c.pool.clear();
    assert_eq!(c.state(2).log, vec![w1(1, 10)]);
    // (d) n0 is cut off (its messages are lost from now on). n4 restarts and leads term 4
    // with the votes of n2 and n3: its last entry (term 2) is more up to date than their W10
    // (term 1). A client writes W30; n4 replicates its log to n2 and n3 and commits it.
    c.recover(4);
    c.elect(4, &[2, 3]);
    c.write(4, 3, 30);
    c.exchange(4, 2);
    c.exchange(4, 3);
    c
}

fn w1(term: u64, value: u64) -> Entry {
    Entry {
        term,
        cmd: Cmd::Op(RegisterReq::Write {
            client: value / 10,
            value,
        }),
    }
}

#[test]
fn figure8_the_canary_overwrites_a_committed_entry() {
    let mut c = figure8(Raft::canary_figure8());
    // n0 and n1 applied W10 at index 1; n4 applied W20 there.
    assert_eq!(c.commits(0), vec![(1, 1)]);
    assert_eq!(c.commits(1), vec![(1, 1)]);
    assert_eq!(c.commits(4), vec![(1, 2), (2, 4)]);
    assert_eq!(
        c.state(2).log,
        vec![w1(2, 20), w1(4, 30)],
        "W10 overwritten"
    );
    let st = c.refs();
    assert!(!state_machine_safety(&st));
    assert!(!leader_completeness(&st), "n4 leads term 4 without W10");
    assert!(log_matching(&st) && election_safety(&st));
    let v = raft::state_machine_safety_property().check(&c.trace());
    assert!(v.is_violated(), "{v}");
    // n1 refuses to overwrite the entry it knows is committed: the violation stays visible.
    let before = c.state(1).clone();
    c.exchange(4, 1);
    assert_eq!(c.state(1).log, before.log);
    assert_eq!(c.state(1).commit, 1);
    // The client of W30 was answered; the client of W10 never was (it was committed in a
    // term after its own, and only the leader of the entry's term answers).
    let answered: Vec<RaftInd> = c
        .trace()
        .indications()
        .filter(|(_, _, _, i)| matches!(i, RaftInd::Client(_)))
        .map(|(_, _, _, i)| i.clone())
        .collect();
    assert_eq!(
        answered,
        vec![RaftInd::Client(RegisterResp::WriteOk { client: 3 })]
    );
}

#[test]
fn figure8_the_real_commit_rule_waits_for_an_entry_of_the_current_term() {
    // The same schedule, the same protocol but for the commit rule (no no-op either).
    let mut c = figure8(Raft::new().with_noop(false));
    assert_eq!(
        c.commits(0),
        vec![],
        "W10 is on a majority but of an earlier term"
    );
    assert_eq!(c.commits(1), vec![]);
    assert_eq!(c.commits(4), vec![(1, 2), (2, 4)]);
    assert_eq!(safety_violation(&c.refs()), None);
    // The partition heals: n0 and n1 drop W10 for n4's log.
    c.exchange(4, 1);
    c.heartbeat(4);
    for i in 0..4 {
        c.exchange(4, i);
    }
    for i in [0, 1, 2, 3] {
        assert_eq!(c.state(i).log, c.state(4).log, "n{i}");
        assert_eq!(c.state(i).commit, 2, "n{i}");
    }
    assert!(!c.state(0).is_leader(), "the leader of term 3 stepped down");
    for r in check_all(&raft::raft_properties(), &c.trace()) {
        assert_eq!(r.verdict, Verdict::Holds, "{}", r.name);
    }
    assert_eq!(safety_violation(&c.refs()), None);
}
