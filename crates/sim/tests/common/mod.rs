//! Small test protocols and trace helpers shared by the simulator's behavioural tests.
//!
//! Every expectation in the tests is derived from the model's definition (the timing model, the
//! fault schedule, the protocol's own logic), never copied from a run's output.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{
    Ctx, DropReason, Duration, Event, EventKind, Instant, MsgId, NodeId, Protocol, Ratio,
};
use synod_sim::{Latency, SimConfig, SimOutcome, Simulation, Timing};

pub const MS: u64 = 1_000_000;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn at_ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

// ---- Chatter: periodic sends, optionally to a random peer with random jitter -----------------

/// Every node sends one `Chat` every `period` (plus a random jitter of up to `jitter_us`
/// microseconds when nonzero), either to every peer or to one random peer, up to `max_ticks`
/// times. Optionally arms a one-shot timer at init.
#[derive(Clone, Debug)]
pub struct Chatter {
    pub period: Duration,
    pub to_all: bool,
    pub jitter_us: u64,
    pub max_ticks: u32,
    pub once_after: Option<Duration>,
}

impl Chatter {
    /// Broadcasts every `period`, no randomness in the protocol itself.
    pub fn broadcast(period: Duration) -> Chatter {
        Chatter {
            period,
            to_all: true,
            jitter_us: 0,
            max_ticks: u32::MAX,
            once_after: None,
        }
    }

    /// Sends to one random peer every `period` plus a random jitter (uses `Ctx::choose`).
    pub fn random(period: Duration) -> Chatter {
        Chatter {
            period,
            to_all: false,
            jitter_us: 500,
            max_ticks: u32::MAX,
            once_after: None,
        }
    }

    fn arm(&self, ctx: &mut Ctx<'_, Self>) {
        let jitter = if self.jitter_us > 0 {
            Duration::from_micros(ctx.choose(self.jitter_us as usize) as u64)
        } else {
            Duration::ZERO
        };
        ctx.set_timer(ChatTimer::Tick, self.period + jitter);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chat {
    pub seq: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChatTimer {
    Tick,
    Once,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChatState {
    pub ticks: u32,
    pub received: u64,
    /// Local time seen at init, then at every handler.
    pub last_now: Instant,
}

impl Protocol for Chatter {
    type Msg = Chat;
    type Timer = ChatTimer;
    type Request = ();
    type Indication = u32;
    type State = ChatState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> ChatState {
        if self.max_ticks > 0 {
            self.arm(ctx);
        }
        if let Some(d) = self.once_after {
            ctx.set_timer(ChatTimer::Once, d);
        }
        ChatState {
            ticks: 0,
            received: 0,
            last_now: ctx.now(),
        }
    }

    fn on_message(&self, s: &mut ChatState, _from: NodeId, m: Chat, ctx: &mut Ctx<'_, Self>) {
        s.received += 1;
        s.last_now = ctx.now();
        ctx.indicate(m.seq);
    }

    fn on_timer(&self, s: &mut ChatState, t: ChatTimer, ctx: &mut Ctx<'_, Self>) {
        s.last_now = ctx.now();
        if t == ChatTimer::Once {
            return;
        }
        s.ticks += 1;
        let msg = Chat { seq: s.ticks };
        if self.to_all {
            ctx.broadcast(msg);
        } else {
            let to = ctx.random_peer();
            ctx.send(to, msg);
        }
        if s.ticks < self.max_ticks {
            self.arm(ctx);
        }
    }

    fn on_request(&self, _s: &mut ChatState, _r: (), _ctx: &mut Ctx<'_, Self>) {}
}

// ---- running -----------------------------------------------------------------------------

pub fn config(n: usize, seed: u64, until: Instant, timing: Timing, latency: Latency) -> SimConfig {
    let mut cfg = SimConfig::new(n, seed);
    cfg.until = until;
    cfg.timing = timing;
    cfg.network.latency = latency;
    cfg.network.loss = Ratio::NEVER;
    cfg.network.duplicate = Ratio::NEVER;
    cfg
}

pub fn run<P: Protocol>(p: P, cfg: SimConfig) -> SimOutcome<P> {
    match Simulation::new(p, cfg) {
        Ok(sim) => sim.run(),
        Err(e) => panic!("config rejected: {e}"),
    }
}

// ---- message bookkeeping from a trace -----------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub from: NodeId,
    pub to: NodeId,
    pub at: Instant,
}

#[derive(Clone, Debug, Default)]
pub struct MsgLog {
    /// Every message handed to the network, by id.
    pub sends: BTreeMap<MsgId, Sent>,
    /// Every delivered copy, in delivery order: (id, time).
    pub delivers: Vec<(MsgId, Instant)>,
    /// Every dropped copy, in order: (id, time, reason).
    pub drops: Vec<(MsgId, Instant, DropReason)>,
    /// Ids the network duplicated.
    pub duplicated: Vec<MsgId>,
}

impl MsgLog {
    pub fn of<P: Protocol>(events: &[Event<P>]) -> MsgLog {
        let mut log = MsgLog::default();
        for e in events {
            match &e.kind {
                EventKind::Send { from, to, id, .. } => {
                    let prev = log.sends.insert(
                        *id,
                        Sent {
                            from: *from,
                            to: *to,
                            at: e.time,
                        },
                    );
                    assert!(prev.is_none(), "message id {id} sent twice");
                }
                EventKind::Deliver { from, to, id, .. } => {
                    let s = log.sends[id];
                    assert_eq!((s.from, s.to), (*from, *to), "deliver of {id} changed ends");
                    log.delivers.push((*id, e.time));
                }
                EventKind::Drop {
                    from,
                    to,
                    id,
                    reason,
                } => {
                    let s = log.sends[id];
                    assert_eq!((s.from, s.to), (*from, *to), "drop of {id} changed ends");
                    log.drops.push((*id, e.time, *reason));
                }
                EventKind::Duplicate { id, .. } => log.duplicated.push(*id),
                _ => {}
            }
        }
        log
    }

    /// (id, send time, delay) for every delivered copy.
    pub fn delays(&self) -> Vec<(MsgId, Instant, Duration)> {
        self.delivers
            .iter()
            .map(|(id, t)| {
                let s = self.sends[id];
                (*id, s.at, *t - s.at)
            })
            .collect()
    }

    /// Deliveries per channel (from, to), in delivery order, as message ids.
    pub fn per_channel(&self) -> BTreeMap<(NodeId, NodeId), Vec<MsgId>> {
        let mut m: BTreeMap<(NodeId, NodeId), Vec<MsgId>> = BTreeMap::new();
        for (id, _) in &self.delivers {
            let s = self.sends[id];
            m.entry((s.from, s.to)).or_default().push(*id);
        }
        m
    }

    /// Number of delivered copies per message id.
    pub fn deliver_counts(&self) -> BTreeMap<MsgId, usize> {
        let mut m = BTreeMap::new();
        for (id, _) in &self.delivers {
            *m.entry(*id).or_insert(0) += 1;
        }
        m
    }
}

/// The events whose line is `node` (sender for sends, receiver for deliveries and drops).
pub fn events_at<P: Protocol>(events: &[Event<P>], node: NodeId) -> Vec<&Event<P>> {
    events
        .iter()
        .filter(|e| e.kind.node() == Some(node))
        .collect()
}

/// Times at which timer `timer` fired at `node`.
pub fn timer_times<P: Protocol>(
    events: &[Event<P>],
    node: NodeId,
    timer: &P::Timer,
) -> Vec<Instant> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Timer { node: n, timer: t } if *n == node && t == timer => Some(e.time),
            _ => None,
        })
        .collect()
}
