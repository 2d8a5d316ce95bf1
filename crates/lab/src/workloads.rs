//! Default workloads of the catalog's protocols, and the liveness property of the register
//! clients ([`progress_after_faults`]).

use std::collections::BTreeMap;
use synod_consistency::format::Value as HValue;
use synod_consistency::models::{check_recorded, CheckOptions, Model};
use synod_consistency::Budget;
use synod_core::{
    ClientId, ClientOps, Duration, History, Instant, LinkSend, NodeId, Prng, Property, Protocol,
    Trace, Verdict,
};
use synod_protocols::consensus::{MultiPaxos, PaxosRegister, Raft, RaftInd};
use synod_protocols::register::program::RegisterProgram;
use synod_protocols::register::{Abd, RegisterOp, RegisterReq, RegisterRet};
use synod_sim::{Requests, Workload, WorkloadEnv};

/// Link traffic: every node sends `per_node` messages, each to a random peer at a random time
/// in the first half of the run. Payloads are unique (`node × 1_000_000 + k`), which the link
/// properties rely on to tell copies apart.
#[derive(Clone, Copy, Debug)]
pub struct LinkTraffic {
    /// Messages each node sends.
    pub per_node: u32,
}

impl<P: Protocol<Request = LinkSend<u64>>> Workload<P> for LinkTraffic {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        if env.n < 2 {
            return;
        }
        let half = (env.until.0 / 2).max(1);
        for node in 0..env.n as u32 {
            for k in 0..self.per_node {
                let mut to = prng.below(env.n as u64 - 1) as u32;
                if to >= node {
                    to += 1;
                }
                let at = Instant(prng.below(half));
                let payload = node as u64 * 1_000_000 + k as u64;
                out.push((
                    at,
                    NodeId(node),
                    LinkSend {
                        to: NodeId(to),
                        payload,
                    },
                ));
            }
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }
}

/// A burst from one sender to one receiver: `count` messages from `n0` to `n1`, one every
/// `spacing`, starting at time zero. Payloads are `0..count`.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    /// How many messages.
    pub count: u32,
    /// Time between two sends.
    pub spacing: synod_core::Duration,
}

impl<P: Protocol<Request = LinkSend<u64>>> Workload<P> for Burst {
    fn start(&mut self, _env: WorkloadEnv, _prng: &mut Prng, out: &mut Requests<P>) {
        for k in 0..self.count {
            let at = Instant(self.spacing.as_nanos() * k as u64);
            out.push((
                at,
                NodeId(0),
                LinkSend {
                    to: NodeId(1),
                    payload: k as u64,
                },
            ));
        }
    }
}

/// A protocol that serves register clients: [`RegisterReq`] requests in, answers recognised
/// by [`ClientOps::response`], and possibly a refusal that tells the client where to retry.
pub trait RegisterService: ClientOps<Request = RegisterReq, Output = RegisterRet> {
    /// If `ind` turns a client's request away without acting on it: the client and the server
    /// to retry at (`None`: any). The default: no protocol here turns requests away.
    fn redirect(_ind: &Self::Indication) -> Option<(ClientId, Option<NodeId>)> {
        None
    }
}

impl RegisterService for Raft {
    /// A follower's [`RaftInd::Redirect`], naming the leader it knows, if any.
    fn redirect(ind: &RaftInd) -> Option<(ClientId, Option<NodeId>)> {
        match *ind {
            RaftInd::Redirect { client, leader, .. } => Some((client, leader)),
            _ => None,
        }
    }
}

/// Multi-Paxos forwards a request to its leader itself: nothing is turned away.
impl RegisterService for MultiPaxos {}

/// The Paxos register ignores what it cannot serve: nothing is turned away.
impl RegisterService for PaxosRegister {}

/// ABD serves every request (queued while its coordinator is busy): nothing is turned away.
impl RegisterService for Abd {}

/// ABD over a retransmitting link layer serves every request too.
impl<L> RegisterService for synod_core::Stack<Abd, L> where
    L: Protocol<
        Request = LinkSend<synod_protocols::register::AbdMsg>,
        Indication = synod_core::LinkDeliver<synod_protocols::register::AbdMsg>,
    >
{
}

/// A register operation as a recorded history reads it: `:write v` / `:read` with its value
/// (`nil` for the empty register), for `synod sim --history`.
pub fn describe_register(
    op: &RegisterOp,
    ret: Option<&RegisterRet>,
) -> (&'static str, HValue, Option<HValue>) {
    let int = |v: u64| HValue::Int(v as i64);
    match op {
        RegisterOp::Write(v) => ("write", int(*v), ret.map(|_| int(*v))),
        RegisterOp::Read => (
            "read",
            HValue::Nil,
            ret.map(|r| match r {
                RegisterRet::ReadOk(Some(v)) => int(*v),
                _ => HValue::Nil,
            }),
        ),
    }
}

/// The most search steps [`linearizable_register`] spends before answering inconclusive.
pub const LINEARIZABILITY_STEPS: u64 = 50_000_000;

/// *Linearizable* (safety, judged on the clients' history): some order of the register
/// operations that respects real time is a legal sequential run of a register starting empty
/// (Herlihy & Wing 1990). Checked by `synod-consistency` on the history `synod sim --history`
/// saves; inconclusive if the check needs more than [`LINEARIZABILITY_STEPS`] steps.
pub fn linearizable_register<P>() -> Property<P>
where
    P: ClientOps<Input = RegisterOp, Output = RegisterRet>,
{
    Property::safety("linearizable", |trace: &Trace<P>| {
        let recorded = crate::runner::recorded_history(trace, describe_register);
        let options = CheckOptions {
            budget: Budget::steps(LINEARIZABILITY_STEPS),
            ..CheckOptions::new(Model::Register)
        };
        match check_recorded(&recorded, &options) {
            Ok(report) => match report.valid {
                Some(true) => Verdict::Holds,
                Some(false) => Verdict::violated(
                    report
                        .anomalies
                        .first()
                        .map_or("not linearizable".to_string(), |a| a.explanation.clone()),
                ),
                None => Verdict::Inconclusive {
                    detail: format!(
                        "the check gave up after {LINEARIZABILITY_STEPS} steps ({} operations)",
                        report.ops
                    ),
                },
            },
            Err(e) => Verdict::Inconclusive {
                detail: format!("history does not fit the register model: {e}"),
            },
        }
    })
}

/// The first client id of the late wave of [`RegisterClients`].
pub const LATE_CLIENTS: u64 = 1_000_000;

/// Register clients for the consensus protocols, in two waves. Each client writes a value of
/// its own (its id) and, once the write is answered, reads; every operation goes to a random
/// server. The *early* wave (`per_node × n` clients) starts at random times before the faults
/// end (before half the run without faults); the *late* wave (`late_per_node × n` clients, ids
/// from [`LATE_CLIENTS`]) starts in the first quarter of the fault-free rest of the run, so
/// [`progress_after_faults`] has operations to judge. A request that is turned away
/// ([`RegisterService::redirect`], Raft's redirect) is sent again `retry` later to the server
/// named (or a random one), at most `max_redirects` times. No operation is sent in the last
/// quarter of the run after the faults, so the protocols have time to answer. A client whose
/// request is lost (sent to a crashed server, or appended by a leader that is deposed before
/// answering) is never answered and stops: an incomplete operation.
#[derive(Clone, Debug)]
pub struct RegisterClients {
    /// Early clients per node.
    pub per_node: u32,
    /// Late clients per node.
    pub late_per_node: u32,
    /// When the scheduled faults end (zero without faults).
    pub faults_end: Instant,
    /// How long a turned-away client waits before retrying.
    pub retry: Duration,
    /// How often one operation may be turned away before its client gives up.
    pub max_redirects: u32,
    /// Reads each client issues, one after the other, after its write (at least one).
    pub reads: u32,
    n: usize,
    /// Per client: reads still to issue after the current one.
    reads_left: BTreeMap<ClientId, u32>,
    stop: Instant,
    /// Per client: its outstanding request and how often it was turned away.
    pending: BTreeMap<ClientId, (RegisterReq, u32)>,
}

impl RegisterClients {
    /// `ops_per_node` operations per node in the early wave (a write and a read per client, so
    /// half as many clients, at least one), two late clients per node, retries after 20 ms, at
    /// most 50 of them per operation.
    pub fn new(ops_per_node: u32, faults_end: Instant) -> RegisterClients {
        RegisterClients {
            per_node: (ops_per_node / 2).max(1),
            late_per_node: 2,
            faults_end,
            retry: Duration::from_millis(20),
            max_redirects: 50,
            reads: 1,
            n: 0,
            reads_left: BTreeMap::new(),
            stop: Instant::ZERO,
            pending: BTreeMap::new(),
        }
    }

    /// The same clients, each reading `reads` times in a row after its write (more reads, more
    /// chances to see a new/old inversion).
    pub fn with_reads(mut self, reads: u32) -> RegisterClients {
        self.reads = reads.max(1);
        self
    }

    fn random_node(&self, prng: &mut Prng) -> NodeId {
        NodeId(prng.below(self.n as u64) as u32)
    }

    fn send<P: Protocol<Request = RegisterReq>>(
        &mut self,
        at: Instant,
        to: NodeId,
        req: RegisterReq,
        out: &mut Requests<P>,
    ) {
        self.pending.insert(req.client(), (req, 0));
        out.push((at, to, req));
    }
}

impl<P: RegisterService> Workload<P> for RegisterClients {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        if env.n == 0 {
            return;
        }
        self.n = env.n;
        let early_end = if self.faults_end > Instant::ZERO {
            self.faults_end
        } else {
            Instant(env.until.0 / 2)
        };
        let rest = env.until.saturating_since(self.faults_end).as_nanos();
        self.stop = self.faults_end + Duration(rest / 4 * 3);
        let early = u64::from(self.per_node) * env.n as u64;
        for client in 1..=early {
            let at = Instant(prng.below(early_end.0.max(1)));
            let to = self.random_node(prng);
            self.send::<P>(
                at,
                to,
                RegisterReq::Write {
                    client,
                    value: client,
                },
                out,
            );
        }
        let late = u64::from(self.late_per_node) * env.n as u64;
        for client in LATE_CLIENTS..LATE_CLIENTS + late {
            let at = self.faults_end + Duration(prng.below((rest / 4).max(1)));
            let to = self.random_node(prng);
            self.send::<P>(
                at,
                to,
                RegisterReq::Write {
                    client,
                    value: client,
                },
                out,
            );
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &P::Indication,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        if let Some((client, ret)) = P::response(ind) {
            let Some(&(req, _)) = self.pending.get(&client) else {
                return;
            };
            match (req, ret) {
                (RegisterReq::Write { .. }, RegisterRet::WriteOk) => {
                    self.pending.remove(&client);
                    let at = now + Duration::from_millis(1);
                    if at < self.stop {
                        self.reads_left.insert(client, self.reads - 1);
                        let to = self.random_node(prng);
                        self.send::<P>(at, to, RegisterReq::Read { client }, out);
                    }
                }
                (RegisterReq::Read { .. }, RegisterRet::ReadOk(_)) => {
                    self.pending.remove(&client);
                    let at = now + Duration::from_millis(1);
                    let left = self.reads_left.remove(&client).unwrap_or(0);
                    if left > 0 && at < self.stop {
                        self.reads_left.insert(client, left - 1);
                        let to = self.random_node(prng);
                        self.send::<P>(at, to, RegisterReq::Read { client }, out);
                    }
                }
                _ => {} // a late or repeated answer to an earlier operation
            }
        } else if let Some((client, leader)) = P::redirect(ind) {
            let Some(&(req, tries)) = self.pending.get(&client) else {
                return;
            };
            let at = now + self.retry;
            if tries >= self.max_redirects || at >= self.stop {
                self.pending.remove(&client);
                return;
            }
            let to = leader
                .filter(|l| l.index() < self.n)
                .unwrap_or_else(|| self.random_node(prng));
            self.pending.insert(client, (req, tries + 1));
            out.push((at, to, req));
        }
    }
}

/// *Progress after the faults stop* (liveness, judged at the end of the run): some client
/// operation invoked once the scheduled faults were over (at or after
/// [`synod_core::RunFacts::faults_end`]) was answered by the end of the run. Inconclusive when
/// the faults lasted until the end, or no operation was invoked after them.
pub fn progress_after_faults<P: ClientOps>() -> Property<P> {
    Property::liveness("progress-after-faults", |trace: &Trace<P>| {
        let (faults_end, end) = (trace.facts.faults_end, trace.facts.end);
        if faults_end >= end {
            return Verdict::Inconclusive {
                detail: "faults lasted until the end of the run".into(),
            };
        }
        let history = History::<P::Input, P::Output>::from_trace(trace);
        let late: Vec<_> = history
            .ops
            .iter()
            .filter(|op| op.invoke >= faults_end)
            .collect();
        if late.is_empty() {
            return Verdict::Inconclusive {
                detail: format!(
                    "no client operation was invoked after the faults ended at {faults_end}"
                ),
            };
        }
        if late.iter().any(|op| op.completion.is_some()) {
            Verdict::Holds
        } else {
            Verdict::violated(format!(
                "none of the {} client operations invoked after the faults ended at {faults_end} was answered by {end}",
                late.len()
            ))
        }
    })
}

/// Where one client of a [`ProgramClients`] workload sends its operations, and when it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Servers its reads go to (one drawn at random per operation).
    pub reads: Vec<NodeId>,
    /// Servers its writes go to (a single-writer register: the writer).
    pub writes: Vec<NodeId>,
    /// When it issues its first operation.
    pub start: Instant,
}

/// Runs a [`RegisterProgram`] against a message-passing register service: client `c` (client
/// id `c + 1`) issues its operations one at a time, each `think` after the previous answer; a
/// client whose operation is never answered stops there. By default client `c` talks to node
/// `c mod n` and starts at a random time below `think`; [`ProgramClients::with_placement`]
/// pins clients to servers and start times. The same program runs on shared memory as
/// [`synod_protocols::register::program::OnSharedMemory`].
#[derive(Clone, Debug)]
pub struct ProgramClients<R> {
    /// The program.
    pub program: R,
    /// Pause between an answer and the client's next operation.
    pub think: Duration,
    placement: Option<Vec<Placement>>,
    n: usize,
    /// Per client: operations done and the last result.
    progress: Vec<(u32, Option<RegisterRet>)>,
    /// Per client: the operation awaiting its answer.
    pending: Vec<Option<RegisterOp>>,
}

impl<R: RegisterProgram> ProgramClients<R> {
    /// `program`'s clients, thinking `think` between operations.
    pub fn new(program: R, think: Duration) -> ProgramClients<R> {
        let clients = program.clients();
        ProgramClients {
            program,
            think,
            placement: None,
            n: 0,
            progress: vec![(0, None); clients],
            pending: vec![None; clients],
        }
    }

    /// The same clients, client `c` placed by `placement[c]`.
    ///
    /// # Panics
    /// If `placement` does not give one non-empty placement per client.
    pub fn with_placement(mut self, placement: Vec<Placement>) -> ProgramClients<R> {
        assert_eq!(
            placement.len(),
            self.progress.len(),
            "one placement per client"
        );
        assert!(
            placement
                .iter()
                .all(|p| !p.reads.is_empty() && !p.writes.is_empty()),
            "every client needs servers"
        );
        self.placement = Some(placement);
        self
    }

    /// Operations the clients have completed so far.
    pub fn completed(&self) -> usize {
        self.progress.iter().map(|(done, _)| *done as usize).sum()
    }

    fn issue<P: Protocol<Request = RegisterReq>>(
        &mut self,
        c: usize,
        at: Instant,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let (done, last) = self.progress[c];
        let Some(op) = self.program.next_op(c, done, last) else {
            return;
        };
        self.pending[c] = Some(op);
        let node = match &self.placement {
            None => NodeId((c % self.n.max(1)) as u32),
            Some(pl) => {
                let servers = match op {
                    RegisterOp::Write(_) => &pl[c].writes,
                    RegisterOp::Read => &pl[c].reads,
                };
                servers[prng.below(servers.len() as u64) as usize]
            }
        };
        out.push((at, node, RegisterReq::new(c as u64 + 1, op)));
    }
}

impl<P: RegisterService, R: RegisterProgram> Workload<P> for ProgramClients<R> {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        if env.n == 0 {
            return;
        }
        for c in 0..self.progress.len() {
            let at = match &self.placement {
                Some(pl) => pl[c].start,
                None => Instant(prng.below(self.think.as_nanos().max(1))),
            };
            self.issue::<P>(c, at, prng, out);
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &P::Indication,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let Some((client, ret)) = P::response(ind) else {
            return;
        };
        let Some(c) = (client as usize)
            .checked_sub(1)
            .filter(|&c| c < self.progress.len())
        else {
            return;
        };
        // only the answer to the outstanding operation counts (not a late or repeated one)
        let answers = matches!(
            (self.pending[c], ret),
            (Some(RegisterOp::Write(_)), RegisterRet::WriteOk)
                | (Some(RegisterOp::Read), RegisterRet::ReadOk(_))
        );
        if !answers {
            return;
        }
        self.pending[c] = None;
        let slot = &mut self.progress[c];
        slot.0 += 1;
        slot.1 = Some(ret);
        self.issue::<P>(c, now + self.think, prng, out);
    }
}

/// Client ids of one [`SessionClients`] client are `c + 1 + k × SESSION_STRIDE` for its k-th
/// incarnation (a client that gives up on an operation goes on under a new id).
pub const SESSION_STRIDE: u64 = 10_000;

/// The first client id of the final reads of [`SessionClients::with_final_reads`] (one per
/// node: `FINAL_READS + node`).
pub const FINAL_READS: u64 = 9_000_000;

/// One client of [`SessionClients`].
#[derive(Clone, Debug, Default)]
struct Session {
    incarnation: u64,
    writes: u64,
    /// The outstanding request, its deadline and how often it was redirected.
    pending: Option<(RegisterReq, Instant, u32)>,
}

/// Clients with a home server each, to compare replicated stores under one workload. Client
/// `c` talks to server `c mod n` (its session) until [`SessionClients::with_homes`] says
/// otherwise; each operation is a write of a fresh value (with probability
/// `write_percent`%) or a read, the next one `think` after the answer. An operation that is
/// not answered within `timeout` is abandoned: it stays incomplete in the history (it may or
/// may not have taken effect, like Jepsen's `:info`) and the client goes on under a new client
/// id ([`SESSION_STRIDE`]), as Jepsen does with a process that timed out, so one unavailable
/// server does not stop the measurement. A request turned away with a redirect
/// ([`RegisterService::redirect`]) is retried after 10 ms at the server named, within the same
/// deadline. No operation starts at or after `stop`. Values are unique: client `c`'s k-th
/// write writes `(c + 1) × 1_000_000 + k`.
#[derive(Clone, Debug)]
pub struct SessionClients {
    /// Number of clients.
    pub clients: usize,
    /// Pause between an answer (or a give-up) and the next operation.
    pub think: Duration,
    /// How long a client waits for an answer.
    pub timeout: Duration,
    /// Percentage of operations that are writes.
    pub write_percent: u64,
    /// No operation starts at or after this time.
    pub stop: Instant,
    homes: Option<Vec<NodeId>>,
    final_reads: Option<Instant>,
    n: usize,
    sessions: Vec<Session>,
    wakes: Vec<Instant>,
    /// Redirects of each final read so far.
    final_redirects: BTreeMap<ClientId, u32>,
    /// Clients live beside their home server: during `(side, from, until)` a client whose home
    /// is in `side` cannot reach servers outside it, and the other way round.
    cut: Option<(Vec<NodeId>, Instant, Instant)>,
}

impl SessionClients {
    /// `clients` clients, half their operations writes, thinking `think`, giving up after
    /// `timeout`, stopping at `stop`.
    pub fn new(
        clients: usize,
        think: Duration,
        timeout: Duration,
        stop: Instant,
    ) -> SessionClients {
        SessionClients {
            clients,
            think,
            timeout,
            write_percent: 50,
            stop,
            homes: None,
            final_reads: None,
            n: 0,
            sessions: vec![Session::default(); clients],
            wakes: Vec::new(),
            final_redirects: BTreeMap::new(),
            cut: None,
        }
    }

    /// The same clients, client `c` talking to `homes[c]`.
    ///
    /// # Panics
    /// If `homes` does not name one server per client.
    pub fn with_homes(mut self, homes: Vec<NodeId>) -> SessionClients {
        assert_eq!(homes.len(), self.clients, "one home server per client");
        self.homes = Some(homes);
        self
    }

    /// The same clients, plus one read at every server at time `at` (clients
    /// [`FINAL_READS`]` + node`): after the faults heal and the stores settle, do all replicas
    /// answer the same (eventual consistency)? A final read that is redirected is retried at the
    /// server named (so with a leader-based store it is answered by the leader).
    pub fn with_final_reads(mut self, at: Instant) -> SessionClients {
        self.final_reads = Some(at);
        self
    }

    /// The same clients, placed beside their home servers under a partition that cuts `side`
    /// off from the other servers from `from` to `until`: meanwhile a redirect to a server on
    /// the other side is not followed (the client cannot reach it; its operation waits for its
    /// deadline). Without it a client follows every redirect, wherever it leads.
    pub fn with_client_cut(
        mut self,
        side: Vec<NodeId>,
        from: Instant,
        until: Instant,
    ) -> SessionClients {
        self.cut = Some((side, from, until));
        self
    }

    /// True if a client of `home` can reach server `to` at time `at`.
    fn reachable(&self, home: NodeId, to: NodeId, at: Instant) -> bool {
        match &self.cut {
            Some((side, from, until)) if at >= *from && at < *until => {
                side.contains(&home) == side.contains(&to)
            }
            _ => true,
        }
    }

    fn id(&self, c: usize) -> u64 {
        c as u64 + 1 + self.sessions[c].incarnation * SESSION_STRIDE
    }

    fn home(&self, c: usize) -> NodeId {
        match &self.homes {
            Some(h) => h[c],
            None => NodeId((c % self.n.max(1)) as u32),
        }
    }

    fn issue<P: Protocol<Request = RegisterReq>>(
        &mut self,
        c: usize,
        at: Instant,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        if at >= self.stop {
            return;
        }
        let client = self.id(c);
        let req = if prng.below(100) < self.write_percent {
            let s = &mut self.sessions[c];
            s.writes += 1;
            RegisterReq::Write {
                client,
                value: (c as u64 + 1) * 1_000_000 + s.writes,
            }
        } else {
            RegisterReq::Read { client }
        };
        let deadline = at + self.timeout;
        self.sessions[c].pending = Some((req, deadline, 0));
        self.wakes.push(deadline);
        out.push((at, self.home(c), req));
    }

    /// The session whose current client id is `client`.
    fn session_of(&self, client: ClientId) -> Option<usize> {
        let c = (client.checked_sub(1)? % SESSION_STRIDE) as usize;
        (c < self.clients && self.id(c) == client).then_some(c)
    }
}

impl<P: RegisterService> Workload<P> for SessionClients {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        if env.n == 0 {
            return;
        }
        for c in 0..self.clients {
            let at = Instant(prng.below(self.think.as_nanos().max(1)));
            self.issue::<P>(c, at, prng, out);
        }
        if let Some(at) = self.final_reads {
            for node in 0..env.n {
                let client = FINAL_READS + node as u64;
                out.push((at, NodeId(node as u32), RegisterReq::Read { client }));
            }
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &P::Indication,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        if let Some((client, ret)) = P::response(ind) {
            let Some(c) = self.session_of(client) else {
                return;
            };
            let answers = matches!(
                (self.sessions[c].pending, ret),
                (
                    Some((RegisterReq::Write { .. }, _, _)),
                    RegisterRet::WriteOk
                ) | (
                    Some((RegisterReq::Read { .. }, _, _)),
                    RegisterRet::ReadOk(_)
                )
            );
            if answers {
                self.sessions[c].pending = None;
                self.issue::<P>(c, now + self.think, prng, out);
            }
        } else if let Some((client, leader)) = P::redirect(ind) {
            if client >= FINAL_READS {
                // A final read turned away: retried at the server named, at most 20 times.
                let tries = self.final_redirects.entry(client).or_insert(0);
                *tries += 1;
                if *tries <= 20 {
                    let to = leader
                        .filter(|l| l.index() < self.n)
                        .unwrap_or_else(|| NodeId(prng.below(self.n as u64) as u32));
                    out.push((
                        now + Duration::from_millis(10),
                        to,
                        RegisterReq::Read { client },
                    ));
                }
                return;
            }
            let Some(c) = self.session_of(client) else {
                return;
            };
            let Some((req, deadline, tries)) = self.sessions[c].pending else {
                return;
            };
            let at = now + Duration::from_millis(10);
            let to = leader
                .filter(|l| l.index() < self.n)
                .unwrap_or_else(|| NodeId(prng.below(self.n as u64) as u32));
            if at < deadline && self.reachable(self.home(c), to, at) {
                self.sessions[c].pending = Some((req, deadline, tries + 1));
                out.push((at, to, req));
            }
        }
    }

    fn poll_wake(&mut self) -> Option<Instant> {
        self.wakes.pop()
    }

    fn on_wake(&mut self, now: Instant, prng: &mut Prng, out: &mut Requests<P>) {
        for c in 0..self.clients {
            if let Some((_, deadline, _)) = self.sessions[c].pending {
                if deadline <= now {
                    // Give up: the operation stays open in the history; go on as a new client.
                    self.sessions[c].pending = None;
                    self.sessions[c].incarnation += 1;
                    self.issue::<P>(c, now + self.think, prng, out);
                }
            }
        }
    }
}
