//! The discrete-event simulator.

use crate::config::{NetworkConfig, Recording, Timing};
use crate::faults::{Cut, FaultError, FaultSchedule, OmissionKind};
use crate::queue::EventQueue;
use crate::workload::{Idle, Requests, Workload, WorkloadEnv};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use synod_core::{
    Ctx, DropReason, Duration, Effect, Event, EventKind, Input, Instant, ModelHeader, MsgId,
    NodeId, Prng, Protocol, RunFacts, StableHasher, Trace,
};

/// Everything that defines a run. The same config and seed always give the same trace.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of nodes, `n0..n{n-1}`.
    pub n: usize,
    /// The run's one seed; every random draw derives from it.
    pub seed: u64,
    /// When the run stops (liveness is judged here).
    pub until: Instant,
    /// The timing model.
    pub timing: Timing,
    /// The network.
    pub network: NetworkConfig,
    /// Scheduled faults.
    pub faults: FaultSchedule,
    /// What to record.
    pub recording: Recording,
}

impl SimConfig {
    /// `n` nodes, seed `seed`, 10 s, asynchronous timing, the default network, no faults, full
    /// recording.
    pub fn new(n: usize, seed: u64) -> SimConfig {
        SimConfig {
            n,
            seed,
            until: Instant(Duration::from_secs(10).as_nanos()),
            timing: Timing::Asynchronous,
            network: NetworkConfig::default(),
            faults: FaultSchedule::default(),
            recording: Recording::Full,
        }
    }

    /// The model this run assumes, as printed at its top.
    pub fn model_header(&self) -> ModelHeader {
        let net = &self.network;
        let mut links = format!("fair-loss(loss={},dup={}", net.loss, net.duplicate);
        links.push_str(if net.fifo { ",fifo)" } else { ",reorder)" });
        ModelHeader::new()
            .with("timing", self.timing)
            .with("failures", self.faults.failure_model())
            .with("links", links)
            .with("latency", net.latency)
            .with("n", self.n)
            .with("seed", self.seed)
    }

    /// Checks the configuration; the error says what is wrong and how to fix it.
    pub fn validate(&self) -> Result<(), FaultError> {
        if self.n == 0 {
            return Err(FaultError(
                "a run needs at least one node (--nodes 1 or more)".into(),
            ));
        }
        if self.n > 1 << 20 {
            return Err(FaultError(format!(
                "{} nodes is more than the simulator supports (2^20)",
                self.n
            )));
        }
        if let Timing::Synchronous { delta } | Timing::PartiallySynchronous { delta, .. } =
            self.timing
        {
            if delta == Duration::ZERO {
                return Err(FaultError(
                    "the delay bound delta must be above zero".into(),
                ));
            }
        }
        if self.network.fifo && self.n > 4096 {
            return Err(FaultError(format!(
                "FIFO channels keep one entry per ordered pair: at most 4096 nodes, not {}",
                self.n
            )));
        }
        if let Timing::Lockstep { round } = self.timing {
            if round.as_nanos() < 2 {
                return Err(FaultError(
                    "a lockstep round must be longer than 1ns".into(),
                ));
            }
        }
        self.faults.validate(self.n)
    }
}

/// Counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Trace events (counted even when not recorded).
    pub events: u64,
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Message copies delivered to a node.
    pub messages_delivered: u64,
    /// Message copies lost (any reason).
    pub messages_dropped: u64,
    /// Extra copies made by the network.
    pub messages_duplicated: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Requests handled.
    pub requests: u64,
    /// Requests that reached a crashed node and were lost.
    pub requests_lost: u64,
    /// Indications emitted.
    pub indications: u64,
    /// Crashes.
    pub crashes: u64,
    /// Recoveries.
    pub recoveries: u64,
}

/// The result of a run.
#[derive(Debug)]
pub struct SimOutcome<P: Protocol> {
    /// The seed.
    pub seed: u64,
    /// The model the run assumed.
    pub model: ModelHeader,
    /// The recorded trace (empty events unless recording was [`Recording::Full`]).
    pub trace: Trace<P>,
    /// Hash of every event in order (0 when recording was off).
    pub trace_hash: u64,
    /// Counters.
    pub stats: Stats,
    /// Each node's final state (`None` if it was down at the end).
    pub states: Vec<Option<P::State>>,
}

enum Pending<P: Protocol> {
    Deliver {
        from: NodeId,
        to: NodeId,
        id: MsgId,
        msg: P::Msg,
    },
    Timer {
        node: NodeId,
        timer: P::Timer,
        gen: u64,
    },
    Request {
        node: NodeId,
        req: P::Request,
    },
    Crash {
        node: NodeId,
        partial_send: bool,
    },
    Recover {
        node: NodeId,
    },
    Note(String),
    /// A wake-up the workload asked for ([`Workload::poll_wake`]).
    Wake,
}

struct Node<P: Protocol> {
    state: Option<P::State>,
    durable: P::Durable,
    timers: BTreeMap<P::Timer, u64>,
    prng: Prng,
    drift_ppm: i64,
    offset: u64,
    ever_crashed: bool,
    crash_in_next_step: bool,
}

/// A deterministic discrete-event simulation of one protocol.
///
/// Build it with [`Simulation::new`], optionally add a [`Workload`], then [`run`](Self::run) it,
/// or drive it step by step with [`step`](Self::step) for unit tests.
pub struct Simulation<P: Protocol> {
    protocol: P,
    cfg: SimConfig,
    nodes: Vec<Node<P>>,
    queue: EventQueue<Pending<P>>,
    now: Instant,
    net_prng: Prng,
    workload: Box<dyn Workload<P>>,
    workload_prng: Prng,
    loss_filter: Option<fn(&P::Msg) -> bool>,
    fifo_last: Vec<Instant>,
    next_msg_id: MsgId,
    next_timer_gen: u64,
    events: Vec<Event<P>>,
    hasher: StableHasher,
    stats: Stats,
    fx: Vec<Effect<P>>,
    started: bool,
    new_requests: Requests<P>,
    observer: Option<Box<Observer<P>>>,
}

/// A callback that sees every event as it happens (see [`Simulation::with_observer`]).
pub type Observer<P> = dyn FnMut(Instant, &EventKind<P>);

const STREAM_NETWORK: u64 = 1;
const STREAM_WORKLOAD: u64 = 2;
const STREAM_NODE_BASE: u64 = 1 << 32;

impl<P: Protocol> Simulation<P> {
    /// A simulation of `protocol` under `cfg`. Fails if the configuration is impossible (a
    /// fault names a node that does not exist, a window ends before it starts, …).
    pub fn new(protocol: P, cfg: SimConfig) -> Result<Self, FaultError> {
        cfg.validate()?;
        let n = cfg.n;
        let mut nodes: Vec<Node<P>> = (0..n)
            .map(|i| Node {
                state: None,
                durable: P::Durable::default(),
                timers: BTreeMap::new(),
                prng: Prng::derive(cfg.seed, STREAM_NODE_BASE + i as u64),
                drift_ppm: 0,
                offset: 0,
                ever_crashed: false,
                crash_in_next_step: false,
            })
            .collect();
        for (node, skew) in &cfg.faults.clocks {
            nodes[node.index()].drift_ppm = skew.drift_ppm as i64;
            nodes[node.index()].offset = skew.offset.as_nanos();
        }
        let mut queue = EventQueue::new();
        for c in &cfg.faults.crashes {
            queue.push(
                c.at,
                Pending::Crash {
                    node: c.node,
                    partial_send: c.partial_send,
                },
            );
        }
        for r in &cfg.faults.recoveries {
            queue.push(r.at, Pending::Recover { node: r.node });
        }
        for p in &cfg.faults.partitions {
            let what = match &p.cut {
                Cut::Groups(g) => {
                    let groups: Vec<String> = g.iter().map(|g| fmt_nodes(g)).collect();
                    format!("partition {}", groups.join(" | "))
                }
                Cut::OneWay { from, to } => {
                    format!(
                        "partition {} -> {} (one way)",
                        fmt_nodes(from),
                        fmt_nodes(to)
                    )
                }
            };
            queue.push(p.from, Pending::Note(what.clone()));
            queue.push(
                p.until,
                Pending::Note(format!("heal {}", what.trim_start_matches("partition "))),
            );
        }
        let fifo_last = if cfg.network.fifo {
            vec![Instant::ZERO; n * n]
        } else {
            Vec::new()
        };
        Ok(Simulation {
            protocol,
            nodes,
            queue,
            now: Instant::ZERO,
            net_prng: Prng::derive(cfg.seed, STREAM_NETWORK),
            workload: Box::new(Idle),
            workload_prng: Prng::derive(cfg.seed, STREAM_WORKLOAD),
            loss_filter: None,
            fifo_last,
            next_msg_id: 0,
            next_timer_gen: 0,
            events: Vec::new(),
            hasher: StableHasher::default(),
            stats: Stats::default(),
            fx: Vec::new(),
            started: false,
            new_requests: Vec::new(),
            observer: None,
            cfg,
        })
    }

    /// Uses `w` to generate requests.
    pub fn with_workload(mut self, w: impl Workload<P> + 'static) -> Self {
        self.workload = Box::new(w);
        self
    }

    /// Applies random loss only to messages for which `f` is true (e.g. lose data, never
    /// acknowledgements). Partitions and omissions still apply to every message.
    pub fn with_loss_filter(mut self, f: fn(&P::Msg) -> bool) -> Self {
        self.loss_filter = Some(f);
        self
    }

    /// Calls `f` with every event as it happens, whatever the recording level except
    /// [`Recording::Off`] (with [`Recording::HashOnly`], experiments count what they need over
    /// millions of events without keeping the trace in memory).
    pub fn with_observer(mut self, f: impl FnMut(Instant, &EventKind<P>) + 'static) -> Self {
        self.observer = Some(Box::new(f));
        self
    }

    /// Schedules a request to `node` at `at`.
    pub fn request_at(&mut self, at: Instant, node: NodeId, req: P::Request) {
        self.queue.push(at, Pending::Request { node, req });
    }

    /// The run's configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The protocol being simulated.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// Current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// A node's current state (`None` while it is down).
    pub fn state(&self, node: NodeId) -> Option<&P::State> {
        self.nodes[node.index()].state.as_ref()
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Events recorded so far.
    pub fn events(&self) -> &[Event<P>] {
        &self.events
    }

    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let env = WorkloadEnv {
            n: self.cfg.n,
            until: self.cfg.until,
        };
        let mut reqs = Vec::new();
        self.workload.start(env, &mut self.workload_prng, &mut reqs);
        self.new_requests = reqs;
        self.schedule_workload();
        for i in 0..self.cfg.n {
            let id = NodeId(i as u32);
            // A node whose crash is scheduled at time zero is initially dead: it never starts.
            let dead_at_start = self
                .cfg
                .faults
                .crashes
                .iter()
                .any(|c| c.node == id && c.at == Instant::ZERO && !c.partial_send);
            if dead_at_start {
                self.crash(id);
            } else {
                self.step_node(i, Input::Init);
            }
        }
    }

    /// Processes the next event. Returns false when nothing is left before the end of the run.
    pub fn step(&mut self) -> bool {
        self.start();
        match self.queue.peek_time() {
            Some(t) if t <= self.cfg.until => {}
            _ => return false,
        }
        let (time, item) = self.queue.pop().expect("peeked");
        self.now = time;
        self.dispatch(item);
        true
    }

    /// Runs until `t` (or the end of the run, whichever is first).
    pub fn run_until(&mut self, t: Instant) {
        self.start();
        while let Some(next) = self.queue.peek_time() {
            if next > t || next > self.cfg.until {
                break;
            }
            let (time, item) = self.queue.pop().expect("peeked");
            self.now = time;
            self.dispatch(item);
        }
        self.now = self.now.max(t.min(self.cfg.until));
    }

    /// Runs to the end and returns the outcome.
    pub fn run(mut self) -> SimOutcome<P> {
        self.run_until(self.cfg.until);
        self.finish()
    }

    /// Ends the run now and returns the outcome.
    pub fn finish(self) -> SimOutcome<P> {
        let facts = RunFacts {
            n: self.cfg.n,
            // `run` advances to `until`; a run finished early is judged where it stopped.
            end: self.now,
            faults_end: self.cfg.faults.end(),
            ever_crashed: self.nodes.iter().map(|x| x.ever_crashed).collect(),
            up_at_end: self.nodes.iter().map(|x| x.state.is_some()).collect(),
        };
        let trace_hash = match self.cfg.recording {
            Recording::Off => 0,
            _ => self.hasher.finish(),
        };
        SimOutcome {
            seed: self.cfg.seed,
            model: self.cfg.model_header(),
            trace: Trace {
                events: self.events,
                facts,
            },
            trace_hash,
            stats: self.stats,
            states: self.nodes.into_iter().map(|x| x.state).collect(),
        }
    }

    #[inline]
    fn recording(&self) -> bool {
        self.cfg.recording != Recording::Off
    }

    /// Counts an event, building it (and cloning what it carries) only when recording.
    #[inline]
    fn record_with(&mut self, make: impl FnOnce() -> EventKind<P>) {
        if self.recording() {
            self.record(make());
        } else {
            self.stats.events += 1;
        }
    }

    fn record(&mut self, kind: EventKind<P>) {
        self.stats.events += 1;
        if let Some(obs) = self.observer.as_mut() {
            if self.cfg.recording != Recording::Off {
                obs(self.now, &kind);
            }
        }
        match self.cfg.recording {
            Recording::Off => {}
            Recording::HashOnly => {
                self.hasher.write_u64(self.now.0);
                kind.hash(&mut self.hasher);
            }
            Recording::Full => {
                self.hasher.write_u64(self.now.0);
                kind.hash(&mut self.hasher);
                self.events.push(Event {
                    time: self.now,
                    kind,
                });
            }
        }
    }

    fn local_time(&self, i: usize, real: Instant) -> Instant {
        let node = &self.nodes[i];
        if node.drift_ppm == 0 {
            return Instant(real.0 + node.offset);
        }
        let scaled = (real.0 as i128 * (1_000_000 + node.drift_ppm as i128)) / 1_000_000;
        Instant(node.offset + scaled.max(0) as u64)
    }

    fn real_span(&self, i: usize, local: Duration) -> Duration {
        let drift = self.nodes[i].drift_ppm;
        if drift == 0 {
            return local;
        }
        let num = local.0 as u128 * 1_000_000;
        let den = (1_000_000 + drift) as u128;
        Duration(num.div_ceil(den) as u64)
    }

    fn dispatch(&mut self, item: Pending<P>) {
        match item {
            Pending::Deliver { from, to, id, msg } => self.deliver(from, to, id, msg),
            Pending::Timer { node, timer, gen } => {
                let slot = &mut self.nodes[node.index()];
                if slot.state.is_none() || slot.timers.get(&timer) != Some(&gen) {
                    return; // cancelled, replaced, or lost in a crash
                }
                slot.timers.remove(&timer);
                self.stats.timers_fired += 1;
                self.record_with(|| EventKind::Timer {
                    node,
                    timer: timer.clone(),
                });
                self.step_node(node.index(), Input::Timer(timer));
            }
            Pending::Request { node, req } => {
                if self.nodes[node.index()].state.is_none() {
                    self.stats.requests_lost += 1;
                    return;
                }
                self.stats.requests += 1;
                self.record_with(|| EventKind::Request {
                    node,
                    req: req.clone(),
                });
                self.step_node(node.index(), Input::Request(req));
            }
            Pending::Crash { node, partial_send } => {
                let slot = &mut self.nodes[node.index()];
                if slot.state.is_none() {
                    return;
                }
                if partial_send {
                    slot.crash_in_next_step = true;
                } else {
                    self.crash(node);
                }
            }
            Pending::Recover { node } => {
                if self.nodes[node.index()].state.is_some() {
                    return;
                }
                self.stats.recoveries += 1;
                self.record(EventKind::Recover { node });
                self.step_node(node.index(), Input::Recover);
            }
            Pending::Note(note) => self.record(EventKind::Network { note }),
            Pending::Wake => {
                self.workload
                    .on_wake(self.now, &mut self.workload_prng, &mut self.new_requests);
                self.schedule_workload();
            }
        }
    }

    fn crash(&mut self, node: NodeId) {
        let slot = &mut self.nodes[node.index()];
        slot.state = None;
        slot.timers.clear();
        slot.ever_crashed = true;
        slot.crash_in_next_step = false;
        self.stats.crashes += 1;
        self.record(EventKind::Crash { node });
    }

    fn drop_message(&mut self, from: NodeId, to: NodeId, id: MsgId, reason: DropReason) {
        self.stats.messages_dropped += 1;
        self.record(EventKind::Drop {
            from,
            to,
            id,
            reason,
        });
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, id: MsgId, msg: P::Msg) {
        let reason = if self.nodes[to.index()].state.is_none() {
            Some(DropReason::ReceiverDown)
        } else if self.cut(from, to) {
            Some(DropReason::Partition)
        } else if self.omits(to, OmissionKind::Receive) {
            Some(DropReason::ReceiveOmission)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.drop_message(from, to, id, reason);
            return;
        }
        self.stats.messages_delivered += 1;
        self.record_with(|| EventKind::Deliver {
            from,
            to,
            id,
            msg: msg.clone(),
        });
        self.step_node(to.index(), Input::Message(from, msg));
    }

    fn step_node(&mut self, i: usize, input: Input<P>) {
        let id = NodeId(i as u32);
        if matches!(input, Input::Init) {
            self.record(EventKind::Init { node: id });
        }
        let local_now = self.local_time(i, self.now);
        let n = self.cfg.n;
        let mut fx = std::mem::take(&mut self.fx);
        {
            let slot = &mut self.nodes[i];
            let mut ctx = Ctx::new(id, n, local_now, &mut fx, &mut slot.prng);
            synod_core::step(
                &self.protocol,
                &mut slot.state,
                &slot.durable,
                input,
                &mut ctx,
            );
        }
        // A crash part-way through a send strikes the node's first step that sends: a step that
        // sends nothing (a receive, say) cannot be interrupted mid-send, so the crash waits.
        let partial =
            self.nodes[i].crash_in_next_step && fx.iter().any(|e| matches!(e, Effect::Send { .. }));
        for e in fx.drain(..) {
            self.apply(i, e, partial);
        }
        self.fx = fx;
        if partial {
            self.crash(id);
        }
        self.schedule_workload();
    }

    /// Queues the requests and wake-ups the workload made in its last call.
    fn schedule_workload(&mut self) {
        let n = self.cfg.n;
        for (at, node, req) in std::mem::take(&mut self.new_requests) {
            assert!(node.index() < n, "workload sent a request to {node}");
            self.queue
                .push(at.max(self.now), Pending::Request { node, req });
        }
        while let Some(at) = self.workload.poll_wake() {
            self.queue.push(at.max(self.now), Pending::Wake);
        }
    }

    fn apply(&mut self, i: usize, e: Effect<P>, partial: bool) {
        let id = NodeId(i as u32);
        match e {
            Effect::Send { to, msg } => {
                assert!(
                    to.index() < self.cfg.n,
                    "{id} sent a message to {to}, but the run has {} nodes",
                    self.cfg.n
                );
                self.transmit(id, to, msg, partial);
            }
            Effect::SetTimer { timer, after } => {
                let gen = self.next_timer_gen;
                self.next_timer_gen += 1;
                let at = self.now + self.real_span(i, after);
                self.nodes[i].timers.insert(timer.clone(), gen);
                self.queue.push(
                    at,
                    Pending::Timer {
                        node: id,
                        timer,
                        gen,
                    },
                );
            }
            Effect::CancelTimer { timer } => {
                self.nodes[i].timers.remove(&timer);
            }
            Effect::Indicate(ind) => {
                self.stats.indications += 1;
                self.workload.on_indication(
                    self.now,
                    id,
                    &ind,
                    &mut self.workload_prng,
                    &mut self.new_requests,
                );
                self.record(EventKind::Indication { node: id, ind });
            }
            Effect::Persist => {
                let state = self.nodes[i]
                    .state
                    .as_ref()
                    .expect("persist on a crashed node");
                self.nodes[i].durable = self.protocol.durable(state);
                self.record(EventKind::Persist { node: id });
            }
        }
    }

    fn transmit(&mut self, from: NodeId, to: NodeId, msg: P::Msg, partial: bool) {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        self.stats.messages_sent += 1;
        self.record_with(|| EventKind::Send {
            from,
            to,
            id,
            msg: msg.clone(),
        });
        let lossy = self.loss_filter.is_none_or(|f| f(&msg));
        let reason = if partial && self.net_prng.below(2) == 0 {
            Some(DropReason::SenderCrashed)
        } else if self.omits(from, OmissionKind::Send) {
            Some(DropReason::SendOmission)
        } else if self.cut(from, to) {
            Some(DropReason::Partition)
        } else if lossy && self.net_prng.chance(self.cfg.network.loss) {
            Some(DropReason::Loss)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.drop_message(from, to, id, reason);
            return;
        }
        if self.net_prng.chance(self.cfg.network.duplicate) {
            self.stats.messages_duplicated += 1;
            self.record(EventKind::Duplicate { from, to, id });
            let at = self.arrival(from, to);
            self.queue.push(
                at,
                Pending::Deliver {
                    from,
                    to,
                    id,
                    msg: msg.clone(),
                },
            );
        }
        let at = self.arrival(from, to);
        self.queue.push(at, Pending::Deliver { from, to, id, msg });
    }

    fn arrival(&mut self, from: NodeId, to: NodeId) -> Instant {
        let now = self.now;
        let base = self.cfg.network.latency.sample(&mut self.net_prng);
        let mut at = match self.cfg.timing {
            Timing::Synchronous { delta } => now + base.min(delta),
            Timing::Asynchronous => now + self.stretch(base),
            Timing::PartiallySynchronous { gst, delta } => {
                if now >= gst {
                    now + base.min(delta)
                } else {
                    (now + self.stretch(base)).min(gst + delta)
                }
            }
            Timing::Lockstep { round } => now + Duration(round.0 / 2),
        };
        if self.cfg.network.fifo {
            let k = from.index() * self.cfg.n + to.index();
            at = at.max(self.fifo_last[k]);
            self.fifo_last[k] = at;
        }
        at
    }

    /// Asynchrony: a quarter of messages are slowed by a Pareto(α = 1.2) factor capped at 1000.
    fn stretch(&mut self, base: Duration) -> Duration {
        if self.net_prng.below(4) != 0 {
            return base;
        }
        let u = self.net_prng.open_unit_f64();
        let factor = u.powf(-1.0 / 1.2).min(1000.0);
        Duration((base.0 as f64 * factor) as u64)
    }

    fn cut(&self, from: NodeId, to: NodeId) -> bool {
        let now = self.now;
        self.cfg.faults.partitions.iter().any(|p| {
            p.from <= now
                && now < p.until
                && match &p.cut {
                    Cut::Groups(groups) => {
                        let group_of = |x: NodeId| groups.iter().position(|g| g.contains(&x));
                        group_of(from) != group_of(to)
                    }
                    Cut::OneWay { from: a, to: b } => a.contains(&from) && b.contains(&to),
                }
        })
    }

    fn omits(&mut self, node: NodeId, kind: OmissionKind) -> bool {
        let now = self.now;
        let p = self
            .cfg
            .faults
            .omissions
            .iter()
            .find(|o| o.node == node && o.kind == kind && o.from <= now && now < o.until)
            .map(|o| o.probability);
        match p {
            Some(p) => self.net_prng.chance(p),
            None => false,
        }
    }
}

fn fmt_nodes(nodes: &[NodeId]) -> String {
    let v: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("{{{}}}", v.join(","))
}
