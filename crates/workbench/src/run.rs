//! One workbench run: start the nodes, route their messages, drive the clients, inject
//! faults, and record everything.
//!
//! The run is one thread (the router) plus three threads per node process (see
//! [`crate::process`]). The router owns a time-ordered queue of future events: message
//! deliveries (after the network's latency), client operations, timeouts and nemesis steps.
//! It sleeps until the next one is due or a node writes a line, whichever comes first.
//!
//! Phases: *init* (each node gets `init` and must answer `init_ok` within 10 s), *set-up*
//! (the workload's set-up requests, e.g. the broadcast topology), *main* (clients issue
//! operations at `--rate` until `--time-limit`, the nemesis injects faults), *final* (faults
//! heal, the network settles for `--recovery-wait`, then each client makes the workload's
//! final request, e.g. a read), *done* (nodes are stopped, the history is checked).

use crate::diagram::Recorder;
use crate::journal::Journal;
use crate::nemesis::{Fault, Nemesis, NemesisStep};
use crate::net::{DropReason, NetOptions, Network};
use crate::process::{NodeCommand, NodeEvent, NodeProcess};
use crate::service::{Service, SERVICE_IDS};
use crate::wire::{self, ErrorCode, Parsed};
use crate::workload::{self, Invocation, Workload, WorkloadKind, WorkloadOptions};
use crate::{Misbehaviour, MisbehaviourKind, Misbehaviours};
use serde_json::{json, Value as Json};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value};
use synod_core::Prng;

/// Everything a run needs to know.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workload.
    pub workload: WorkloadKind,
    /// Workload settings.
    pub workload_options: WorkloadOptions,
    /// How to start a node.
    pub node: NodeCommand,
    /// How many nodes (`n0` … `n(N-1)`).
    pub node_count: usize,
    /// How long clients issue operations.
    pub time_limit: Duration,
    /// Client operations per second, over all clients (0: as fast as replies come).
    pub rate: f64,
    /// How many clients.
    pub concurrency: usize,
    /// The network.
    pub net: NetOptions,
    /// The faults to inject.
    pub nemesis: Vec<Fault>,
    /// Time between nemesis steps.
    pub nemesis_interval: Duration,
    /// The fraction of operations that must succeed, if any (`total` = 1.0).
    pub availability: Option<f64>,
    /// The seed of every random choice.
    pub seed: u64,
    /// How long the network settles after the faults heal, before the final requests.
    pub recovery_wait: Duration,
    /// How long a client waits for a reply.
    pub op_timeout: Duration,
    /// How long a node has to answer `init`.
    pub init_timeout: Duration,
    /// Where the run's files go.
    pub run_dir: PathBuf,
    /// Replay the network of an earlier run: its journal (`messages.jsonl`), whose recorded
    /// latencies and losses each link's messages get, in order.
    pub replay: Option<PathBuf>,
}

/// What happened, before checking.
pub struct Outcome {
    /// The workload that drove the clients: it checks the history.
    pub workload: Box<dyn Workload>,
    /// The client history (operations in invocation order).
    pub history: Recorded,
    /// The event position where the final phase began.
    pub final_from: u64,
    /// Node misbehaviour.
    pub misbehaviour: Misbehaviours,
    /// Node-to-node messages sent.
    pub server_msgs: u64,
    /// Client requests sent (operations, including the final ones).
    pub client_requests: u64,
    /// Every message routed (all entities).
    pub all_msgs: u64,
    /// Messages dropped, by reason.
    pub dropped: BTreeMap<&'static str, u64>,
    /// Faults injected (nemesis steps that started a fault).
    pub faults_injected: u64,
    /// What the nemesis did, in order, with times in ms.
    pub nemesis_log: Vec<(f64, String)>,
    /// Nodes that never answered `init`.
    pub uninitialised: Vec<String>,
    /// From the first `init` to the first `init_ok`.
    pub first_reply: Option<Duration>,
    /// From the start of [`run`] to every node's `init` handed to the network: spawning the
    /// processes and their threads.
    pub startup: Duration,
    /// How long the run took.
    pub elapsed: Duration,
    /// The space-time diagram of the run's first messages (SVG).
    pub diagram: String,
    /// Messages routed while clients issued operations (the main phase), and how long it
    /// lasted: the router's throughput.
    pub main_phase: (u64, Duration),
}

/// Why a run could not happen at all (a user's mistake).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The node program could not be started.
    #[error("cannot start {bin}: {err} (check --bin: it must be an executable file)")]
    Spawn {
        /// The program.
        bin: String,
        /// Why.
        err: std::io::Error,
    },
    /// The run folder could not be written.
    #[error("cannot write the run folder {dir}: {err}")]
    Io {
        /// The folder.
        dir: String,
        /// Why.
        err: std::io::Error,
    },
}

#[derive(Debug)]
enum Timed {
    /// A message arrives at `dest`.
    Deliver {
        dest: usize,
        src: usize,
        id: u64,
        body: String,
    },
    /// A client may start its next operation.
    ClientReady(usize),
    /// A client's request `msg_id` has waited long enough.
    ClientTimeout(usize, u64),
    /// The nemesis acts.
    Nemesis,
    /// Phase changes.
    InitDeadline,
    MainEnd,
    FinalStart,
    Restart(usize),
}

struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    items: BTreeMap<u64, Timed>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, at: u64, t: Timed) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq)));
        self.items.insert(self.seq, t);
    }

    fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    fn pop_due(&mut self, now: u64) -> Option<Timed> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                let Reverse((_, seq)) = self.heap.pop().expect("peeked");
                self.items.remove(&seq)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    Setup,
    Main,
    Recovery,
    Final,
    Done,
}

#[derive(Debug)]
enum Pending {
    Init(usize),
    Setup,
    Op(usize),
}

struct Client {
    name: String,
    process: u64,
    rng: Prng,
    next_msg_id: u64,
    pending: BTreeMap<u64, Pending>,
    /// The operation in flight: index into `ops`.
    current: Option<usize>,
    target: usize,
    final_done: bool,
}

struct OpState {
    inv: Invocation,
    op: RecordedOp,
}

struct NodeSlot {
    proc: Option<NodeProcess>,
    incarnation: u32,
    initialised: bool,
    paused: bool,
    exited_reported: bool,
    /// Lines delivered to the node and not yet handed to its writer thread: the router
    /// hands them over in one batch before it next waits (see [`Run::flush_outboxes`]).
    outbox: Vec<String>,
}

/// The router's state.
struct Run<'a> {
    o: &'a Options,
    start: Instant,
    queue: Queue,
    net: Network,
    nodes: Vec<NodeSlot>,
    /// The nodes whose outbox is not empty.
    outbox_nodes: Vec<usize>,
    node_ids: Vec<String>,
    clients: Vec<Client>,
    services: Vec<Service>,
    service_rng: Prng,
    workload: Box<dyn Workload>,
    ops: Vec<OpState>,
    event_pos: u64,
    phase: Phase,
    final_from: u64,
    next_msg: u64,
    journal: Journal,
    recorder: Recorder,
    mis: Misbehaviours,
    server_msgs: u64,
    client_requests: u64,
    all_msgs: u64,
    dropped: BTreeMap<&'static str, u64>,
    nemesis: Nemesis,
    nemesis_log: Vec<(f64, String)>,
    faults_injected: u64,
    setup_waiting: usize,
    first_reply: Option<Duration>,
    main_start: Option<(u64, Instant)>,
    startup: Duration,
    main_phase: (u64, Duration),
    events_tx: mpsc::Sender<NodeEvent>,
    log_dir: PathBuf,
}

/// Runs the nodes as `options` says and returns what happened.
pub fn run(options: &Options) -> Result<Outcome, RunError> {
    let began = Instant::now();
    let io = |err| RunError::Io {
        dir: options.run_dir.display().to_string(),
        err,
    };
    std::fs::create_dir_all(&options.run_dir).map_err(io)?;
    let n = options.node_count;
    let c = options.concurrency.max(1);
    let entities = n + c + SERVICE_IDS.len();
    let (tx, rx) = mpsc::channel();
    let node_ids: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    let journal = Journal::create(&options.run_dir.join("messages.jsonl")).map_err(io)?;
    let clients = (0..c)
        .map(|j| Client {
            name: format!("c{j}"),
            process: j as u64,
            rng: Prng::derive(options.seed, 0x636c_0000 + j as u64),
            next_msg_id: 1,
            pending: BTreeMap::new(),
            current: None,
            target: j % n.max(1),
            final_done: false,
        })
        .collect();
    let mut r = Run {
        o: options,
        start: Instant::now(),
        queue: Queue {
            heap: BinaryHeap::new(),
            items: BTreeMap::new(),
            seq: 0,
        },
        net: Network::new(options.net, options.seed, n, entities),
        nodes: Vec::new(),
        outbox_nodes: Vec::new(),
        node_ids,
        clients,
        services: SERVICE_IDS.iter().map(|id| Service::new(id)).collect(),
        service_rng: Prng::derive(options.seed, 0x7376_6300),
        workload: workload::build(options.workload, &options.workload_options),
        ops: Vec::new(),
        event_pos: 0,
        phase: Phase::Init,
        final_from: u64::MAX,
        next_msg: 0,
        journal,
        recorder: Recorder::default(),
        mis: Misbehaviours::default(),
        server_msgs: 0,
        client_requests: 0,
        all_msgs: 0,
        dropped: BTreeMap::new(),
        nemesis: Nemesis::new(&options.nemesis, options.seed, n),
        nemesis_log: Vec::new(),
        faults_injected: 0,
        setup_waiting: 0,
        first_reply: None,
        main_start: None,
        startup: Duration::ZERO,
        main_phase: (0, Duration::ZERO),
        events_tx: tx,
        log_dir: options.run_dir.clone(),
    };
    if let Some(journal) = &options.replay {
        let fates = crate::journal::read_fates(journal).map_err(|err| RunError::Io {
            dir: journal.display().to_string(),
            err,
        })?;
        let mut script = crate::net::Script::new();
        for ((src, dest), f) in fates {
            if let (Some(a), Some(b)) = (r.entity(&src), r.entity(&dest)) {
                script.insert((a, b), f);
            }
        }
        let net = std::mem::replace(
            &mut r.net,
            Network::new(options.net, options.seed, n, entities),
        );
        r.net = net.with_script(script);
    }
    // Each node gets its init as soon as it is started: the first message leaves after one
    // process spawn, not all of them.
    r.start = Instant::now();
    for i in 0..n {
        let p = r.spawn(i, 0)?;
        r.nodes.push(NodeSlot {
            proc: Some(p),
            incarnation: 0,
            initialised: false,
            paused: false,
            exited_reported: false,
            outbox: Vec::new(),
        });
        r.send_init(i);
        // Deliver what is due (with no latency: this init) before the next spawn.
        let now = r.now();
        while let Some(t) = r.queue.pop_due(now) {
            r.on_timed(t);
        }
        r.flush_outboxes();
    }
    r.startup = began.elapsed();
    let deadline = r.at(options.init_timeout);
    r.queue.push(deadline, Timed::InitDeadline);
    r.main_loop(&rx);
    Ok(r.finish())
}

impl Run<'_> {
    fn spawn(&self, node: usize, incarnation: u32) -> Result<NodeProcess, RunError> {
        let log = self.log_dir.join(format!("n{node}.log"));
        NodeProcess::spawn(
            &self.o.node,
            node,
            incarnation,
            &log,
            self.events_tx.clone(),
        )
        .map_err(|err| RunError::Spawn {
            bin: self.o.node.bin.display().to_string(),
            err,
        })
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn at(&self, after: Duration) -> u64 {
        self.now() + after.as_nanos() as u64
    }

    fn n(&self) -> usize {
        self.o.node_count
    }

    /// The entity index of an id, if it exists.
    fn entity(&self, id: &str) -> Option<usize> {
        let num = |s: &str| s.parse::<usize>().ok().filter(|_| !s.starts_with('+'));
        if let Some(i) = id.strip_prefix('n').and_then(num) {
            return (i < self.n()).then_some(i);
        }
        if let Some(j) = id.strip_prefix('c').and_then(num) {
            return (j < self.clients.len()).then_some(self.n() + j);
        }
        SERVICE_IDS
            .iter()
            .position(|s| *s == id)
            .map(|k| self.n() + self.clients.len() + k)
    }

    fn entity_name(&self, e: usize) -> String {
        let (n, c) = (self.n(), self.clients.len());
        if e < n {
            self.node_ids[e].clone()
        } else if e < n + c {
            self.clients[e - n].name.clone()
        } else {
            SERVICE_IDS[e - n - c].to_string()
        }
    }

    fn main_loop(&mut self, rx: &Receiver<NodeEvent>) {
        loop {
            let now = self.now();
            while let Some(t) = self.queue.pop_due(now) {
                self.on_timed(t);
            }
            if self.phase == Phase::Done {
                return;
            }
            let wait = match self.queue.next_at() {
                Some(at) => Duration::from_nanos(at.saturating_sub(self.now())),
                None => Duration::from_millis(50),
            }
            .min(Duration::from_millis(50));
            self.flush_outboxes();
            match rx.recv_timeout(wait) {
                Ok(ev) => {
                    self.on_node_event(ev);
                    // Take whatever else is already there before looking at the clock.
                    for _ in 0..256 {
                        match rx.try_recv() {
                            Ok(ev) => self.on_node_event(ev),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    /// Hands every node the lines delivered to it since the last flush, one batch per node.
    fn flush_outboxes(&mut self) {
        for node in self.outbox_nodes.drain(..) {
            let slot = &mut self.nodes[node];
            let lines = std::mem::take(&mut slot.outbox);
            if let Some(p) = &slot.proc {
                p.send(lines);
            }
        }
    }

    fn ms(&self) -> f64 {
        (self.now() as f64 / 1e4).round() / 1e2
    }

    // ---- nodes ---------------------------------------------------------------------------

    fn send_init(&mut self, node: usize) {
        let c = node % self.clients.len();
        let body = json!({
            "type": "init",
            "node_id": self.node_ids[node],
            "node_ids": self.node_ids,
        });
        self.client_send(c, node, body, Pending::Init(node));
    }

    fn on_node_event(&mut self, ev: NodeEvent) {
        match ev {
            NodeEvent::Lines {
                node,
                incarnation,
                lines,
                ..
            } => {
                for line in lines {
                    if incarnation != self.nodes[node].incarnation {
                        return; // a killed incarnation's last words
                    }
                    self.on_line(node, &line);
                }
            }
            NodeEvent::Closed {
                node, incarnation, ..
            } => {
                let slot = &mut self.nodes[node];
                if incarnation != slot.incarnation || slot.proc.is_none() {
                    return; // killed on purpose
                }
                if self.phase != Phase::Done && !slot.exited_reported {
                    slot.exited_reported = true;
                    let status = slot
                        .proc
                        .as_mut()
                        .and_then(|p| {
                            // Give the exit a moment to be reaped.
                            for _ in 0..20 {
                                if let Some(s) = p.try_exit() {
                                    return Some(s);
                                }
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            None
                        })
                        .unwrap_or_else(|| "closed its stdout".into());
                    let at = self.ms();
                    self.mis.record(Misbehaviour {
                        node: self.node_ids[node].clone(),
                        kind: MisbehaviourKind::EarlyExit,
                        line: String::new(),
                        detail: format!("{status} at {at} ms, before the run ended"),
                    });
                    self.journal
                        .note(self.now(), &format!("n{node} exited: {status}"));
                }
            }
        }
    }

    fn on_line(&mut self, node: usize, line: &str) {
        let me = self.node_ids[node].clone();
        let bad = |kind, detail: String| Misbehaviour {
            node: me.clone(),
            kind,
            line: line.to_string(),
            detail,
        };
        let m = match wire::parse_line(line) {
            Ok(m) => m,
            Err(e) => {
                let kind = match e {
                    wire::WireError::NotJson(_) => MisbehaviourKind::NotJson,
                    wire::WireError::BadField(_) => MisbehaviourKind::BadMessage,
                };
                self.mis.record(bad(
                    kind,
                    format!("{e}; expected one JSON message per line: {{\"src\", \"dest\", \"body\": {{\"type\", ...}}}}"),
                ));
                return;
            }
        };
        if m.src != me {
            self.mis.record(bad(
                MisbehaviourKind::WrongSource,
                format!("\"src\" is {:?}, but this node is {me:?}", m.src),
            ));
        }
        let Some(dest) = self.entity(&m.dest) else {
            self.mis.record(bad(
                MisbehaviourKind::UnknownDestination,
                format!(
                    "no such destination {:?}: nodes are n0..n{}, clients c0..c{}, services {}",
                    m.dest,
                    self.n().saturating_sub(1),
                    self.clients.len().saturating_sub(1),
                    SERVICE_IDS.join(", ")
                ),
            ));
            return;
        };
        let to_client = dest >= self.n() && dest < self.n() + self.clients.len();
        if to_client && m.in_reply_to.is_none() {
            self.mis.record(bad(
                MisbehaviourKind::MissingInReplyTo,
                "a message to a client must be a reply with \"in_reply_to\"".into(),
            ));
            return;
        }
        self.route(node, dest, m);
    }

    /// Sends `m` from entity `src` through the network.
    fn route(&mut self, src: usize, dest: usize, m: Parsed) {
        self.next_msg += 1;
        let id = self.next_msg;
        self.all_msgs += 1;
        let n = self.n();
        if src < n && dest < n {
            self.server_msgs += 1;
        }
        let now = self.now();
        self.journal.send(now, id, &m.src, &m.dest, &m.body);
        self.recorder.send(now, src, dest, id, &m.body);
        match self.net.route(src, dest) {
            Ok(latency) => {
                let at = now + latency.as_nanos() as u64;
                self.queue.push(
                    at,
                    Timed::Deliver {
                        dest,
                        src,
                        id,
                        body: m.body,
                    },
                );
            }
            Err(reason) => self.drop_msg(now, id, reason),
        }
    }

    fn drop_msg(&mut self, now: u64, id: u64, reason: DropReason) {
        *self.dropped.entry(reason.name()).or_default() += 1;
        self.journal.drop_msg(now, id, reason.name());
        let why = match reason {
            DropReason::Loss => synod_core::DropReason::Loss,
            DropReason::Partition => synod_core::DropReason::Partition,
            DropReason::Down => synod_core::DropReason::ReceiverDown,
        };
        self.recorder.drop_msg(now, id, why);
    }

    fn deliver(&mut self, dest: usize, src: usize, id: u64, body: String) {
        let now = self.now();
        let (n, c) = (self.n(), self.clients.len());
        if dest < n {
            if self.nodes[dest].proc.is_none() {
                self.drop_msg(now, id, DropReason::Down);
                return;
            }
            self.journal.deliver(now, id);
            self.recorder.deliver(now, id);
            let src_name = self.entity_name(src);
            let line = wire::envelope_line(id, &src_name, &self.node_ids[dest], &body);
            let slot = &mut self.nodes[dest];
            if slot.outbox.is_empty() {
                self.outbox_nodes.push(dest);
            }
            slot.outbox.push(line);
        } else if dest < n + c {
            self.journal.deliver(now, id);
            self.recorder.deliver(now, id);
            self.on_client_reply(dest - n, src, &body);
        } else {
            self.journal.deliver(now, id);
            self.recorder.deliver(now, id);
            self.on_service(dest - n - c, src, &body);
        }
    }

    // ---- services ------------------------------------------------------------------------

    fn on_service(&mut self, k: usize, caller: usize, body: &str) {
        let req: Json = serde_json::from_str(body).unwrap_or(Json::Null);
        let msg_id = req["msg_id"].as_u64();
        let answer = self.services[k].handle(caller, &req, &mut self.service_rng);
        let Some(msg_id) = msg_id else {
            return; // no msg_id: nothing to reply to
        };
        let body = match answer {
            Ok(mut reply) => {
                reply["in_reply_to"] = json!(msg_id);
                reply.to_string()
            }
            Err((code, text)) => wire::error_body(msg_id, code, &text),
        };
        let src = self.n() + self.clients.len() + k;
        let parsed = Parsed {
            src: SERVICE_IDS[k].to_string(),
            dest: self.entity_name(caller),
            kind: String::new(),
            msg_id: None,
            in_reply_to: Some(msg_id),
            body,
        };
        self.route(src, caller, parsed);
    }

    // ---- clients -------------------------------------------------------------------------

    fn client_send(&mut self, c: usize, node: usize, mut body: Json, why: Pending) -> u64 {
        let client = &mut self.clients[c];
        let msg_id = client.next_msg_id;
        client.next_msg_id += 1;
        body["msg_id"] = json!(msg_id);
        // An init waits for the init deadline, everything else for the operation timeout.
        let timed = !matches!(why, Pending::Init(_));
        client.pending.insert(msg_id, why);
        if timed {
            let at = self.at(self.o.op_timeout);
            self.queue.push(at, Timed::ClientTimeout(c, msg_id));
        }
        let parsed = Parsed {
            src: self.clients[c].name.clone(),
            dest: self.node_ids[node].clone(),
            kind: String::new(),
            msg_id: Some(msg_id),
            in_reply_to: None,
            body: body.to_string(),
        };
        let src = self.n() + c;
        self.route(src, node, parsed);
        msg_id
    }

    fn client_ready(&mut self, c: usize) {
        let final_phase = match self.phase {
            Phase::Main => false,
            Phase::Final if !self.clients[c].final_done => true,
            _ => return,
        };
        if self.clients[c].current.is_some() {
            return;
        }
        let inv = {
            let client = &mut self.clients[c];
            self.workload.invoke(c, &mut client.rng, final_phase)
        };
        if final_phase {
            self.clients[c].final_done = true;
        }
        let Some(inv) = inv else {
            return;
        };
        let call = self.event_pos;
        self.event_pos += 1;
        let op = RecordedOp {
            process: self.clients[c].process,
            f: inv.f.clone(),
            key: inv.key.clone(),
            value: inv.value.clone(),
            completion: Completion::Unknown(Value::Nil),
            call,
            ret: None,
            call_nanos: Some(self.now()),
            ret_nanos: None,
            line: 0,
        };
        let index = self.ops.len();
        let body = inv.body.clone();
        self.ops.push(OpState { inv, op });
        self.clients[c].current = Some(index);
        self.client_requests += 1;
        let target = self.clients[c].target;
        self.client_send(c, target, body, Pending::Op(index));
    }

    /// Schedules client `c`'s next operation after the pause the rate implies.
    fn schedule_next(&mut self, c: usize) {
        let pause = if self.o.rate > 0.0 {
            let mean = self.clients.len() as f64 / self.o.rate;
            // Uniform on [0, 2·mean]: the clients together make `rate` requests a second.
            let u = self.clients[c].rng.unit_f64();
            Duration::from_secs_f64(2.0 * mean * u)
        } else {
            Duration::ZERO
        };
        let at = self.at(pause);
        self.queue.push(at, Timed::ClientReady(c));
    }

    fn on_client_reply(&mut self, c: usize, src: usize, body: &str) {
        let reply: Json = serde_json::from_str(body).unwrap_or(Json::Null);
        let Some(irt) = reply["in_reply_to"].as_u64() else {
            return;
        };
        let Some(why) = self.clients[c].pending.remove(&irt) else {
            return; // a late reply (after its timeout) or a duplicate
        };
        let kind = reply["type"].as_str().unwrap_or("").to_string();
        let from = self.entity_name(src);
        match why {
            Pending::Init(node) => {
                if kind == "init_ok" {
                    self.nodes[node].initialised = true;
                    if self.first_reply.is_none() {
                        self.first_reply = Some(self.start.elapsed());
                    }
                    if self.phase == Phase::Init && self.nodes.iter().all(|s| s.initialised) {
                        self.begin_setup();
                    }
                } else {
                    self.mis.record(Misbehaviour {
                        node: from,
                        kind: MisbehaviourKind::UnexpectedReply,
                        line: body.to_string(),
                        detail: format!("expected init_ok, got {kind:?}"),
                    });
                }
            }
            Pending::Setup => {
                self.setup_waiting = self.setup_waiting.saturating_sub(1);
                if self.setup_waiting == 0 && self.phase == Phase::Setup {
                    self.begin_main();
                }
            }
            Pending::Op(index) => self.complete(c, index, &kind, &reply, body, from),
        }
    }

    fn complete(
        &mut self,
        c: usize,
        index: usize,
        kind: &str,
        reply: &Json,
        raw: &str,
        from: String,
    ) {
        let ok_type = self.workload.ok_type(&self.ops[index].inv);
        let completion = if kind == "error" {
            let code = ErrorCode::from_code(reply["code"].as_i64().unwrap_or(-1));
            let text = reply["text"].as_str().unwrap_or("").to_string();
            let value = Value::Map(vec![
                (Value::Str("code".into()), Value::Int(code.code())),
                (Value::Str("text".into()), Value::Str(text)),
            ]);
            match self.workload.error_result(&self.ops[index].inv, code) {
                Some(v) => Completion::Ok(v),
                None if code.is_definite() => Completion::Fail(value),
                None => Completion::Unknown(value),
            }
        } else if kind == ok_type {
            match self.workload.complete(c, &self.ops[index].inv, reply) {
                Ok(v) => Completion::Ok(v),
                Err(why) => {
                    self.mis.record(Misbehaviour {
                        node: from,
                        kind: MisbehaviourKind::MalformedReply,
                        line: raw.to_string(),
                        detail: why,
                    });
                    Completion::Unknown(Value::Nil)
                }
            }
        } else {
            self.mis.record(Misbehaviour {
                node: from,
                kind: MisbehaviourKind::UnexpectedReply,
                line: raw.to_string(),
                detail: format!("expected {ok_type} or error, got {kind:?}"),
            });
            Completion::Unknown(Value::Nil)
        };
        self.finish_op(c, index, completion);
    }

    fn finish_op(&mut self, c: usize, index: usize, completion: Completion) {
        let unknown = matches!(completion, Completion::Unknown(_));
        let now = self.now();
        let op = &mut self.ops[index].op;
        op.completion = completion;
        if !unknown {
            op.ret = Some(self.event_pos);
            self.event_pos += 1;
        }
        op.ret_nanos = Some(now);
        let (clients, nodes) = (self.clients.len() as u64, self.o.node_count.max(1));
        let client = &mut self.clients[c];
        client.current = None;
        if unknown {
            // Jepsen's rule: a process whose operation may still take effect is never
            // reused; the client continues as a new process, at the next node.
            client.process += clients;
            client.target = (client.target + 1) % nodes;
        }
        if self.phase == Phase::Main {
            self.schedule_next(c);
        }
        self.maybe_done();
    }

    fn on_timeout(&mut self, c: usize, msg_id: u64) {
        let Some(why) = self.clients[c].pending.remove(&msg_id) else {
            return;
        };
        match why {
            Pending::Op(index) => {
                let v = Value::Map(vec![
                    (Value::Str("code".into()), Value::Int(0)),
                    (Value::Str("text".into()), Value::Str("timed out".into())),
                ]);
                self.finish_op(c, index, Completion::Unknown(v));
            }
            Pending::Setup => {
                self.setup_waiting = self.setup_waiting.saturating_sub(1);
                if self.setup_waiting == 0 && self.phase == Phase::Setup {
                    self.begin_main();
                }
            }
            Pending::Init(_) => {}
        }
    }

    // ---- phases --------------------------------------------------------------------------

    fn begin_setup(&mut self) {
        self.phase = Phase::Setup;
        let msgs = self.workload.setup(&self.node_ids);
        self.setup_waiting = msgs.len();
        if msgs.is_empty() {
            self.begin_main();
            return;
        }
        for (k, (node, body)) in msgs.into_iter().enumerate() {
            let c = k % self.clients.len();
            self.client_send(c, node, body, Pending::Setup);
        }
    }

    fn begin_main(&mut self) {
        self.phase = Phase::Main;
        self.main_start = Some((self.all_msgs, Instant::now()));
        self.journal.note(self.now(), "main phase");
        for c in 0..self.clients.len() {
            self.schedule_next(c);
        }
        let end = self.at(self.o.time_limit);
        self.queue.push(end, Timed::MainEnd);
        if !self.o.nemesis.is_empty() {
            let at = self.at(self.o.nemesis_interval);
            self.queue.push(at, Timed::Nemesis);
        }
    }

    fn end_main(&mut self) {
        self.phase = Phase::Recovery;
        if let Some((msgs, at)) = self.main_start {
            self.main_phase = (self.all_msgs - msgs, at.elapsed());
        }
        self.journal.note(self.now(), "main phase over");
        self.heal_all();
        let wait = if self.workload.has_final() {
            self.o.recovery_wait
        } else {
            Duration::ZERO
        };
        let at = self.at(wait);
        self.queue.push(at, Timed::FinalStart);
    }

    fn begin_final(&mut self) {
        self.phase = Phase::Final;
        self.final_from = self.event_pos;
        self.journal.note(self.now(), "final phase");
        self.maybe_done();
    }

    fn maybe_done(&mut self) {
        if self.phase != Phase::Final {
            return;
        }
        // Idle clients make their final request (a client with an operation in flight makes
        // it once that one ends); the run is done when every client is done.
        for c in 0..self.clients.len() {
            self.client_ready(c);
        }
        if self
            .clients
            .iter()
            .all(|c| c.current.is_none() && c.final_done)
        {
            self.phase = Phase::Done;
        }
    }

    // ---- nemesis -------------------------------------------------------------------------

    fn on_nemesis(&mut self) {
        if self.phase != Phase::Main {
            return;
        }
        let step = self.nemesis.next_step();
        self.apply_nemesis(step);
        let at = self.at(self.o.nemesis_interval);
        self.queue.push(at, Timed::Nemesis);
    }

    fn apply_nemesis(&mut self, step: NemesisStep) {
        let step_node = step.clone();
        let note = match step {
            NemesisStep::Partition { name, cuts } => {
                self.faults_injected += 1;
                for (from, to) in &cuts {
                    self.net.cut(from, to);
                }
                format!("partition ({name})")
            }
            NemesisStep::Kill(node) => {
                self.faults_injected += 1;
                if let Some(mut p) = self.nodes[node].proc.take() {
                    p.kill();
                }
                // Lines it had not been handed die with it.
                self.nodes[node].outbox.clear();
                let at = self.at(self.o.nemesis_interval / 2);
                self.queue.push(at, Timed::Restart(node));
                format!("kill -9 n{node}")
            }
            NemesisStep::Pause(node) => {
                self.faults_injected += 1;
                if let Some(p) = &self.nodes[node].proc {
                    let _ = p.signal_pause(true);
                }
                self.nodes[node].paused = true;
                format!("pause n{node} (SIGSTOP)")
            }
            NemesisStep::Heal => {
                self.heal_all();
                "heal".to_string()
            }
        };
        self.nemesis_log.push((self.ms(), note.clone()));
        self.journal.note(self.now(), &format!("nemesis: {note}"));
        match &note[..] {
            n if n.starts_with("partition") || n == "heal" => self.recorder.network(self.now(), n),
            n if n.starts_with("kill") => {
                if let NemesisStep::Kill(node) = step_node {
                    self.recorder.crash(self.now(), node, false);
                }
            }
            _ => {}
        }
    }

    fn heal_all(&mut self) {
        if self.net.partitioned() {
            self.net.heal();
        }
        for i in 0..self.n() {
            if self.nodes[i].paused {
                if let Some(p) = &self.nodes[i].proc {
                    let _ = p.signal_pause(false);
                }
                self.nodes[i].paused = false;
            }
            if self.nodes[i].proc.is_none() {
                self.restart(i);
            }
        }
    }

    fn restart(&mut self, node: usize) {
        if self.nodes[node].proc.is_some() || self.phase == Phase::Done {
            return;
        }
        let inc = self.nodes[node].incarnation + 1;
        match self.spawn(node, inc) {
            Ok(p) => {
                let slot = &mut self.nodes[node];
                slot.proc = Some(p);
                slot.incarnation = inc;
                slot.exited_reported = false;
                self.recorder.crash(self.now(), node, true);
                let note = format!("restart n{node}");
                self.nemesis_log.push((self.ms(), note.clone()));
                self.journal.note(self.now(), &note);
                self.send_init(node);
            }
            Err(e) => {
                self.mis.record(Misbehaviour {
                    node: self.node_ids[node].clone(),
                    kind: MisbehaviourKind::EarlyExit,
                    line: String::new(),
                    detail: format!("could not be restarted: {e}"),
                });
            }
        }
    }

    fn on_timed(&mut self, t: Timed) {
        match t {
            Timed::Deliver {
                dest,
                src,
                id,
                body,
            } => self.deliver(dest, src, id, body),
            Timed::ClientReady(c) => self.client_ready(c),
            Timed::ClientTimeout(c, msg_id) => self.on_timeout(c, msg_id),
            Timed::Nemesis => self.on_nemesis(),
            Timed::InitDeadline => {
                if self.phase == Phase::Init {
                    for i in 0..self.n() {
                        if !self.nodes[i].initialised {
                            self.mis.record(Misbehaviour {
                                node: self.node_ids[i].clone(),
                                kind: MisbehaviourKind::NoInitOk,
                                line: String::new(),
                                detail: format!(
                                    "did not answer init with init_ok (and in_reply_to) within {} s",
                                    self.o.init_timeout.as_secs_f64()
                                ),
                            });
                        }
                    }
                    self.begin_setup();
                }
            }
            Timed::MainEnd => self.end_main(),
            Timed::FinalStart => self.begin_final(),
            Timed::Restart(node) => {
                if self.phase == Phase::Main {
                    self.restart(node);
                }
            }
        }
        if self.phase == Phase::Final {
            self.maybe_done();
        }
    }

    fn finish(mut self) -> Outcome {
        for slot in &mut self.nodes {
            if slot.paused {
                if let Some(p) = &slot.proc {
                    let _ = p.signal_pause(false);
                }
            }
            if let Some(mut p) = slot.proc.take() {
                p.stop();
            }
        }
        self.journal.flush();
        let uninitialised = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.initialised)
            .map(|(i, _)| self.node_ids[i].clone())
            .collect();
        let entities = self.n() + self.clients.len() + SERVICE_IDS.len();
        let mut names = self.node_ids.clone();
        names.extend(self.clients.iter().map(|c| c.name.clone()));
        names.extend(SERVICE_IDS.iter().map(|s| s.to_string()));
        let diagram = self.recorder.svg(
            entities,
            &format!(
                "{}: the first {} messages (seed {})",
                self.o.workload.name(),
                Recorder::MAX_MESSAGES,
                self.o.seed
            ),
            names,
        );
        let mut ops: Vec<RecordedOp> = self.ops.into_iter().map(|o| o.op).collect();
        ops.sort_by_key(|o| o.call);
        for (i, op) in ops.iter_mut().enumerate() {
            op.line = i + 1;
        }
        Outcome {
            workload: self.workload,
            startup: self.startup,
            main_phase: self.main_phase,
            diagram,
            history: Recorded {
                ops,
                skipped_events: 0,
            },
            final_from: self.final_from,
            misbehaviour: self.mis,
            server_msgs: self.server_msgs,
            client_requests: self.client_requests,
            all_msgs: self.all_msgs,
            dropped: self.dropped,
            faults_injected: self.faults_injected,
            nemesis_log: self.nemesis_log,
            uninitialised,
            first_reply: self.first_reply,
            elapsed: self.start.elapsed(),
        }
    }
}
