//! "One protocol, many drivers": a synod [`Protocol`] run as a workbench node.
//!
//! The simulator, the model checker and the TCP runtime drive a protocol's state machine; this
//! module is one more driver. [`ProtocolNode`] keeps the protocol's state and applies its
//! effects to the outside world:
//!
//! - **messages** between nodes travel inside bodies, `{"type":"synod","msg":<the message as
//!   serde JSON>}` (the type name is configurable, [`ProtocolNode::with_msg_type`]); node `i`
//!   of the protocol ([`NodeId`]`(i)`) is the `i`-th id of `init`'s `node_ids`;
//! - **timers** become deadlines checked at every tick ([`ProtocolNode::with_tick`], 5 ms by
//!   default); setting a pending timer replaces it, cancelling removes it;
//! - **time** is the time since the process started; **random choices** come from a
//!   [`Prng`] seeded by the clock and the process id;
//! - **requests and indications** are the application's business: a [`ProtocolApp`] turns
//!   client requests into protocol requests ([`AppIo::request`]) and indications into state it
//!   answers clients from.
//!
//! What this driver does not give: stable storage. `Persist` effects are ignored and
//! [`Protocol::recover`] is never called: a node the workbench kills and restarts starts
//! afresh from `init`, so only crash-stop protocols (those whose `Durable` is `()`) keep
//! their guarantees, and only while nodes are not restarted.

use crate::message::{Body, Message};
use crate::node::{Ctx, Node};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use synod_core::{Effect, Input, NodeId, Prng, Protocol};

/// A protocol's request type.
pub type Req<A> = <<A as ProtocolApp>::P as Protocol>::Request;
/// A protocol's indication type.
pub type Ind<A> = <<A as ProtocolApp>::P as Protocol>::Indication;

/// The application around a protocol: builds it, serves clients with it.
pub trait ProtocolApp: Sized + 'static {
    /// The protocol.
    type P: Protocol;

    /// The protocol for a run of `n` nodes in which this one is `me` (called at `init`).
    fn protocol(&mut self, me: NodeId, n: usize) -> Self::P;

    /// A message that is not a protocol message: a client request, a service's reply that
    /// no RPC waits for, ...
    fn on_client(&mut self, io: &mut AppIo<'_, Self>, msg: Message);

    /// The protocol told the layer above something.
    fn on_indication(&mut self, io: &mut AppIo<'_, Self>, ind: Ind<Self>);
}

/// What an application handler may do: talk to the outside through `ctx`, and queue
/// requests for the protocol (stepped as soon as the handler returns).
pub struct AppIo<'a, A: ProtocolApp> {
    /// The node's context: reply to clients, send, call services.
    pub ctx: &'a mut Ctx<ProtocolNode<A>>,
    requests: &'a mut Vec<Req<A>>,
}

impl<A: ProtocolApp> AppIo<'_, A> {
    /// Asks the protocol `req` (stepped once the current handler returns; its indications
    /// come back through [`ProtocolApp::on_indication`]).
    pub fn request(&mut self, req: Req<A>) {
        self.requests.push(req);
    }
}

struct Driver<P: Protocol> {
    protocol: P,
    state: Option<P::State>,
    durable: P::Durable,
    me: NodeId,
    ids: Vec<String>,
    index: HashMap<String, NodeId>,
    timers: BTreeMap<P::Timer, Instant>,
    due: BTreeSet<(Instant, P::Timer)>,
    started: Instant,
    prng: Prng,
    effects: Vec<Effect<P>>,
}

/// A [`Node`] that runs the protocol of a [`ProtocolApp`].
pub struct ProtocolNode<A: ProtocolApp> {
    app: A,
    msg_type: String,
    tick: Duration,
    driver: Option<Driver<A::P>>,
    ignored: u64,
}

impl<A: ProtocolApp> ProtocolNode<A> {
    /// A node running `app`'s protocol.
    pub fn new(app: A) -> ProtocolNode<A> {
        ProtocolNode {
            app,
            msg_type: "synod".to_owned(),
            tick: Duration::from_millis(5),
            driver: None,
            ignored: 0,
        }
    }

    /// Protocol messages travel in bodies of type `msg_type` (default `synod`).
    pub fn with_msg_type(mut self, msg_type: impl Into<String>) -> ProtocolNode<A> {
        self.msg_type = msg_type.into();
        self
    }

    /// Timers are checked every `tick` (default 5 ms): the resolution of protocol timers.
    pub fn with_tick(mut self, tick: Duration) -> ProtocolNode<A> {
        self.tick = tick;
        self
    }

    /// The application.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The application, mutably (e.g. from an RPC callback).
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.app
    }

    /// The protocol's state (`None` before `init`).
    pub fn state(&self) -> Option<&<A::P as Protocol>::State> {
        self.driver.as_ref().and_then(|d| d.state.as_ref())
    }

    /// Peer messages ignored so far (undecodable, or from a sender that is not a node).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Asks the protocol `req` now (for RPC callbacks; handlers use [`AppIo::request`]).
    pub fn request(&mut self, ctx: &mut Ctx<Self>, req: Req<A>) {
        self.pump(ctx, vec![req], Vec::new());
    }

    /// Steps the protocol with `input`, applies its effects and returns its indications.
    fn step(&mut self, ctx: &mut Ctx<Self>, input: Input<A::P>) -> Vec<Ind<A>> {
        let msg_type = &self.msg_type;
        let Some(d) = self.driver.as_mut() else {
            return Vec::new();
        };
        let mut fx = std::mem::take(&mut d.effects);
        let now =
            synod_core::Instant(u64::try_from(d.started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        {
            let mut pctx = synod_core::Ctx::new(d.me, d.ids.len(), now, &mut fx, &mut d.prng);
            synod_core::step(&d.protocol, &mut d.state, &d.durable, input, &mut pctx);
        }
        let mut inds = Vec::new();
        let wall = Instant::now();
        for e in fx.drain(..) {
            match e {
                Effect::Send { to, msg } => match d.ids.get(to.index()) {
                    Some(dest) => ctx.send(dest, &Body::new(msg_type.as_str()).with("msg", msg)),
                    None => eprintln!("{}: protocol sent to unknown node {to}", ctx.node_id()),
                },
                Effect::SetTimer { timer, after } => {
                    let at = wall + Duration::from_nanos(after.0);
                    if let Some(old) = d.timers.insert(timer.clone(), at) {
                        d.due.remove(&(old, timer.clone()));
                    }
                    d.due.insert((at, timer));
                }
                Effect::CancelTimer { timer } => {
                    if let Some(old) = d.timers.remove(&timer) {
                        d.due.remove(&(old, timer));
                    }
                }
                Effect::Indicate(ind) => inds.push(ind),
                // No stable storage here: see the module documentation.
                Effect::Persist => {}
            }
        }
        d.effects = fx;
        inds
    }

    /// Hands indications to the application and steps the requests it queues, until neither
    /// is left.
    fn pump(&mut self, ctx: &mut Ctx<Self>, mut requests: Vec<Req<A>>, mut inds: Vec<Ind<A>>) {
        loop {
            for ind in std::mem::take(&mut inds) {
                let mut io = AppIo {
                    ctx: &mut *ctx,
                    requests: &mut requests,
                };
                self.app.on_indication(&mut io, ind);
            }
            if requests.is_empty() {
                return;
            }
            for req in std::mem::take(&mut requests) {
                inds.extend(self.step(ctx, Input::Request(req)));
            }
        }
    }
}

impl<A: ProtocolApp> Node for ProtocolNode<A> {
    fn init(&mut self, ctx: &mut Ctx<Self>) {
        let mut ids = ctx.node_ids().to_vec();
        if !ids.iter().any(|i| i == ctx.node_id()) {
            eprintln!(
                "{}: init does not list this node among {ids:?}; adding it",
                ctx.node_id()
            );
            ids.push(ctx.node_id().to_owned());
        }
        let me = ids
            .iter()
            .position(|i| i == ctx.node_id())
            .expect("the node was just added");
        let me = NodeId(u32::try_from(me).expect("fewer than 2^32 nodes"));
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), NodeId(i as u32)))
            .collect();
        let protocol = self.app.protocol(me, ids.len());
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32);
        self.driver = Some(Driver {
            protocol,
            state: None,
            durable: Default::default(),
            me,
            ids,
            index,
            timers: BTreeMap::new(),
            due: BTreeSet::new(),
            started: Instant::now(),
            prng: Prng::new(seed),
            effects: Vec::new(),
        });
        let inds = self.step(ctx, Input::Init);
        self.pump(ctx, Vec::new(), inds);
    }

    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
        if msg.kind() != self.msg_type {
            let mut requests = Vec::new();
            let mut io = AppIo {
                ctx: &mut *ctx,
                requests: &mut requests,
            };
            self.app.on_client(&mut io, msg);
            self.pump(ctx, requests, Vec::new());
            return;
        }
        let from = self
            .driver
            .as_ref()
            .and_then(|d| d.index.get(&msg.src).copied());
        let Some(from) = from else {
            self.ignored += 1;
            eprintln!(
                "{}: ignoring a protocol message from {}, not a node",
                ctx.node_id(),
                msg.src
            );
            return;
        };
        match msg.body.get::<<A::P as Protocol>::Msg>("msg") {
            Ok(m) => {
                let inds = self.step(ctx, Input::Message(from, m));
                self.pump(ctx, Vec::new(), inds);
            }
            Err(e) => {
                self.ignored += 1;
                eprintln!(
                    "{}: ignoring a protocol message from {}: {e}",
                    ctx.node_id(),
                    msg.src
                );
            }
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        let now = Instant::now();
        loop {
            let next = self.driver.as_mut().and_then(|d| {
                let first = d.due.first().cloned()?;
                if first.0 > now {
                    return None;
                }
                d.due.remove(&first);
                d.timers.remove(&first.1);
                Some(first.1)
            });
            let Some(timer) = next else {
                return;
            };
            let inds = self.step(ctx, Input::Timer(timer));
            self.pump(ctx, Vec::new(), inds);
        }
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(self.tick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{line, of_kind, start, INIT};
    use std::time::Instant as WallInstant;
    use synod_core::Duration as VDuration;

    /// Pings: a request `to` sends `Ping(k)`; a `Ping` is answered `Pong`; a `Pong` is
    /// indicated. Timers: at init `Late` (40 ms, set twice: replaced), `Cancelled` (10 ms,
    /// cancelled at once) and `Soon` (20 ms); each firing is indicated.
    struct Toy;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    enum Msg {
        Ping(u32),
        Pong(u32),
    }

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    enum Timer {
        Late,
        Cancelled,
        Soon,
    }

    impl Protocol for Toy {
        type Msg = Msg;
        type Timer = Timer;
        type Request = (NodeId, u32);
        type Indication = String;
        type State = ();
        type Durable = ();

        fn init(&self, ctx: &mut synod_core::Ctx<'_, Self>) {
            ctx.set_timer(Timer::Late, VDuration::from_millis(5));
            ctx.set_timer(Timer::Late, VDuration::from_millis(40));
            ctx.set_timer(Timer::Cancelled, VDuration::from_millis(10));
            ctx.cancel_timer(Timer::Cancelled);
            ctx.set_timer(Timer::Soon, VDuration::from_millis(20));
        }
        fn on_message(
            &self,
            _: &mut (),
            from: NodeId,
            m: Msg,
            ctx: &mut synod_core::Ctx<'_, Self>,
        ) {
            match m {
                Msg::Ping(k) => ctx.send(from, Msg::Pong(k)),
                Msg::Pong(k) => ctx.indicate(format!("pong {k} from {from}")),
            }
        }
        fn on_timer(&self, _: &mut (), t: Timer, ctx: &mut synod_core::Ctx<'_, Self>) {
            ctx.indicate(format!("{t:?}"));
        }
        fn on_request(
            &self,
            _: &mut (),
            (to, k): (NodeId, u32),
            ctx: &mut synod_core::Ctx<'_, Self>,
        ) {
            ctx.send(to, Msg::Ping(k));
        }
    }

    /// Client `ping{to,k}` becomes a request; every indication goes to c9 as `ind{text}`.
    struct ToyApp;

    impl ProtocolApp for ToyApp {
        type P = Toy;
        fn protocol(&mut self, me: NodeId, n: usize) -> Toy {
            assert_eq!((me, n), (NodeId(1), 3), "n1 of n0..n2");
            Toy
        }
        fn on_client(&mut self, io: &mut AppIo<'_, Self>, msg: Message) {
            let to = msg.body.u64("to").unwrap() as u32;
            io.request((NodeId(to), msg.body.u64("k").unwrap() as u32));
        }
        fn on_indication(&mut self, io: &mut AppIo<'_, Self>, ind: String) {
            io.ctx.send("c9", &Body::new("ind").with("text", ind));
        }
    }

    fn texts(lines: &[serde_json::Value]) -> Vec<String> {
        of_kind(lines, "ind")
            .iter()
            .map(|l| l["body"]["text"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn drives_messages_requests_timers_and_indications() {
        let (tx, out, h) = start(ProtocolNode::new(ToyApp));
        let t0 = WallInstant::now();
        tx.send(line(INIT)).unwrap();
        // A request becomes a protocol message to n2, inside a `synod` body.
        tx.send(line(
            r#"{"src":"c1","dest":"n1","body":{"type":"ping","msg_id":2,"to":2,"k":7}}"#,
        ))
        .unwrap();
        let lines = out.wait_for(|l| !of_kind(l, "synod").is_empty());
        let ping = of_kind(&lines, "synod")[0];
        assert_eq!(ping["dest"], "n2");
        assert_eq!(ping["body"]["msg"], serde_json::json!({"Ping": 7}));
        // Peers' messages: from a node, decoded; from a non-node or undecodable, ignored.
        for bad in [
            r#"{"src":"c4","dest":"n1","body":{"type":"synod","msg":{"Pong":1}}}"#,
            r#"{"src":"n0","dest":"n1","body":{"type":"synod","msg":{"Pang":1}}}"#,
        ] {
            tx.send(line(bad)).unwrap();
        }
        tx.send(line(
            r#"{"src":"n2","dest":"n1","body":{"type":"synod","msg":{"Pong":7}}}"#,
        ))
        .unwrap();
        tx.send(line(
            r#"{"src":"n0","dest":"n1","body":{"type":"synod","msg":{"Ping":3}}}"#,
        ))
        .unwrap();
        let lines = out.wait_for(|l| texts(l).len() >= 3);
        let pong = of_kind(&lines, "synod")
            .into_iter()
            .find(|l| l["dest"] == "n0")
            .cloned();
        assert_eq!(pong.unwrap()["body"]["msg"], serde_json::json!({"Pong": 3}));
        let texts = texts(&lines);
        assert!(texts.contains(&"pong 7 from n2".to_owned()), "{texts:?}");
        // Timers: Soon, then Late (its second setting: the first would have come before
        // Soon), never Cancelled.
        let timers: Vec<&String> = texts.iter().filter(|t| !t.starts_with("pong")).collect();
        assert_eq!(timers, ["Soon", "Late"]);
        assert!(t0.elapsed() >= std::time::Duration::from_millis(40));
        drop(tx);
        h.join().unwrap().unwrap();
    }
}
