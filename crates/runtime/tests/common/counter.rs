//! A tiny protocol for the runtime's tests: every node counts timer ticks, persists its count,
//! and only then broadcasts it. Shared by the integration tests and (through `#[path]`) the
//! crate's turmoil tests.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use synod_core::{Ctx, Duration, Journal, NodeId, Protocol};

/// Counts ticks every `period`.
#[derive(Clone, Debug)]
pub struct Counter {
    /// How often a node ticks.
    pub period: Duration,
}

/// The one message: "my count is now k".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    /// The sender's count.
    Tick(u64),
}

/// What a node tells the test.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ind {
    /// The node (re)started with this count.
    Started(u64),
    /// A peer's tick arrived.
    Heard(NodeId, u64),
    /// A request was applied; the count is now this.
    Added(u64),
}

/// A node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// This node's count.
    pub count: u64,
    /// The highest count heard from each peer.
    pub heard: BTreeMap<NodeId, u64>,
}

/// The durable count, journaled as "the count is now k" records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Count(pub u64);

impl Journal for Count {
    type Record = u64;
    fn diff(old: &Count, new: &Count) -> Option<Vec<u64>> {
        (new.0 >= old.0).then(|| vec![new.0])
    }
    fn apply(&mut self, record: u64) {
        self.0 = record;
    }
}

impl Counter {
    fn begin(&self, count: u64, ctx: &mut Ctx<'_, Self>) -> State {
        ctx.indicate(Ind::Started(count));
        ctx.set_timer((), self.period);
        State {
            count,
            heard: BTreeMap::new(),
        }
    }
}

impl Protocol for Counter {
    type Msg = Msg;
    type Timer = ();
    type Request = u64;
    type Indication = Ind;
    type State = State;
    type Durable = Count;

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> State {
        self.begin(0, ctx)
    }

    fn recover(&self, durable: &Count, ctx: &mut Ctx<'_, Self>) -> State {
        self.begin(durable.0, ctx)
    }

    fn on_message(&self, s: &mut State, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
        let Msg::Tick(k) = msg;
        let best = s.heard.entry(from).or_default();
        *best = (*best).max(k);
        ctx.indicate(Ind::Heard(from, k));
    }

    fn on_timer(&self, s: &mut State, _t: (), ctx: &mut Ctx<'_, Self>) {
        s.count += 1;
        ctx.persist();
        ctx.broadcast(Msg::Tick(s.count));
        ctx.set_timer((), self.period);
    }

    fn on_request(&self, s: &mut State, k: u64, ctx: &mut Ctx<'_, Self>) {
        s.count += k;
        ctx.persist();
        ctx.indicate(Ind::Added(s.count));
    }

    fn durable(&self, s: &State) -> Count {
        Count(s.count)
    }
}
