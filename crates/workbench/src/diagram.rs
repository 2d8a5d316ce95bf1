//! The run's space-time (Lamport) diagram: the first messages of the run drawn by synod-viz.
//!
//! The diagram code draws a [`Trace`] of a [`Protocol`]; the workbench's nodes are foreign
//! programs, so [`Wire`] is a protocol with no behaviour whose messages are the bodies'
//! text. Lines are nodes, then clients, then services. Only the first
//! [`Recorder::MAX_MESSAGES`] messages are kept: a diagram of a long run would not be
//! readable (the journal has everything).

use serde::{Deserialize, Serialize};
use synod_core::{Ctx, DropReason, Event, EventKind, Instant, NodeId, Protocol, RunFacts, Trace};
use synod_viz::{lamport_svg, DiagramOptions};

/// A protocol that only names messages: what the workbench's diagrams draw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wire;

/// A message as the diagram shows it: the body's text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label(pub String);

impl Protocol for Wire {
    type Msg = Label;
    type Timer = ();
    type Request = Label;
    type Indication = Label;
    type State = ();
    type Durable = ();

    fn init(&self, _ctx: &mut Ctx<'_, Self>) {}

    fn on_message(&self, _state: &mut (), _from: NodeId, _msg: Label, _ctx: &mut Ctx<'_, Self>) {}

    fn on_timer(&self, _state: &mut (), _timer: (), _ctx: &mut Ctx<'_, Self>) {}

    fn on_request(&self, _state: &mut (), _req: Label, _ctx: &mut Ctx<'_, Self>) {}
}

/// Collects the first messages of a run as trace events.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Vec<Event<Wire>>,
    messages: usize,
    /// The recorded messages by network id: their link and label.
    sent: std::collections::BTreeMap<u64, (NodeId, NodeId, Label)>,
}

impl Recorder {
    /// How many messages a diagram shows.
    pub const MAX_MESSAGES: usize = 400;

    fn full(&self) -> bool {
        self.messages >= Recorder::MAX_MESSAGES
    }

    fn push(&mut self, t: u64, kind: EventKind<Wire>) {
        self.events.push(Event {
            time: Instant(t),
            kind,
        });
    }

    /// A message sent (`id` is its network id).
    pub fn send(&mut self, t: u64, from: usize, to: usize, id: u64, body: &str) {
        if self.full() {
            return;
        }
        self.messages += 1;
        let msg = Label(body.to_string());
        let (from, to) = (node(from), node(to));
        self.sent.insert(id, (from, to, msg.clone()));
        self.push(t, EventKind::Send { from, to, id, msg });
    }

    /// A recorded message's link and label (messages beyond the cap were not recorded: their
    /// fates are skipped too).
    fn known(&self, id: u64) -> Option<(NodeId, NodeId, Label)> {
        self.sent.get(&id).cloned()
    }

    /// A message delivered.
    pub fn deliver(&mut self, t: u64, id: u64) {
        if let Some((from, to, msg)) = self.known(id) {
            self.push(t, EventKind::Deliver { from, to, id, msg });
        }
    }

    /// A message dropped.
    pub fn drop_msg(&mut self, t: u64, id: u64, reason: DropReason) {
        if let Some((from, to, _)) = self.known(id) {
            self.push(
                t,
                EventKind::Drop {
                    from,
                    to,
                    id,
                    reason,
                },
            );
        }
    }

    /// A partition or heal.
    pub fn network(&mut self, t: u64, note: &str) {
        if !self.full() {
            self.push(
                t,
                EventKind::Network {
                    note: note.to_string(),
                },
            );
        }
    }

    /// A node killed (`up = false`) or restarted.
    pub fn crash(&mut self, t: u64, n: usize, up: bool) {
        if !self.full() {
            let node = node(n);
            self.push(
                t,
                if up {
                    EventKind::Recover { node }
                } else {
                    EventKind::Crash { node }
                },
            );
        }
    }

    /// The diagram, with `entities` lines.
    pub fn svg(&self, entities: usize, title: &str, names: Vec<String>) -> String {
        let end = self.events.last().map_or(Instant(0), |e| e.time);
        let trace = Trace {
            events: self.events.clone(),
            facts: RunFacts::fault_free(entities, end),
        };
        let opts = DiagramOptions {
            title: title.to_string(),
            show_timers: false,
            names,
            ..DiagramOptions::default()
        };
        lamport_svg(&trace, &opts)
    }
}

fn node(i: usize) -> NodeId {
    NodeId(i as u32)
}
