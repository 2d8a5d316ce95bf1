//! The runtime: the [`Node`] trait, the [`Ctx`] a handler writes through, and the loop that
//! drives a node over stdin/stdout ([`run`], [`run_on`]).
//!
//! One thread reads stdin, parses each line and feeds a channel; a malformed line is logged
//! to stderr, counted ([`Ctx::malformed_lines`]) and skipped. The main thread owns the node:
//! it answers `init` with `init_ok`, routes replies to the callbacks of the RPCs that asked
//! for them, hands every other message to [`Node::handle`], fires RPC timeouts and
//! [`Node::tick`], and flushes stdout once per batch of messages that were waiting. When stdin
//! closes, the loop ends.

use crate::error::{ErrorCode, RpcError};
use crate::message::{Body, Message};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, BufRead, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A node: what to do at start, on each message and (optionally) periodically.
///
/// The runtime answers `init` itself (after calling [`Node::init`]) and routes RPC replies to
/// their callbacks; everything else reaches [`Node::handle`], including replies nobody waits
/// for any more (late ones, after their RPC timed out), which a handler should ignore.
///
/// ```no_run
/// use synod_node::{Body, Ctx, Message, Node};
///
/// struct Echo;
///
/// impl Node for Echo {
///     fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
///         match msg.kind() {
///             "echo" => {
///                 let echo = msg.body.value("echo").cloned();
///                 ctx.reply(&msg, Body::new("echo_ok").with("echo", echo));
///             }
///             _ => ctx.not_supported(&msg),
///         }
///     }
/// }
///
/// fn main() {
///     synod_node::run(Echo);
/// }
/// ```
pub trait Node: Sized + 'static {
    /// The node learnt its id and its peers ([`Ctx::node_id`], [`Ctx::node_ids`]); `init_ok`
    /// goes out right after this returns.
    fn init(&mut self, _ctx: &mut Ctx<Self>) {}

    /// A message arrived (a client request, a peer's message, a reply nobody waits for).
    fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message);

    /// Called about every [`Node::tick_interval`], even while messages keep arriving.
    fn tick(&mut self, _ctx: &mut Ctx<Self>) {}

    /// How often to call [`Node::tick`] (read once, after [`Node::init`]); `None`, the
    /// default, never ticks.
    fn tick_interval(&self) -> Option<Duration> {
        None
    }
}

/// What an RPC's callback receives: the reply, or the error it carried (an `error` body), or
/// a synthetic [`ErrorCode::Timeout`].
pub type RpcResult = Result<Message, RpcError>;

type Callback<N> = Box<dyn FnOnce(&mut N, &mut Ctx<N>, RpcResult)>;

struct Pending<N> {
    dest: String,
    deadline: Instant,
    callback: Callback<N>,
}

/// What a handler writes through: identity, sending, replying, RPCs.
///
/// Output is buffered and flushed by the runtime after each batch, so a handler never waits
/// on stdout.
pub struct Ctx<N> {
    node_id: String,
    node_ids: Vec<String>,
    next_msg_id: u64,
    out: Box<dyn Write>,
    out_error: Option<io::Error>,
    pending: HashMap<u64, Pending<N>>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    rpc_timeout: Duration,
    started: Instant,
    malformed: Arc<AtomicU64>,
    sent: u64,
}

#[derive(Serialize)]
struct Envelope<'a> {
    src: &'a str,
    dest: &'a str,
    body: &'a Body,
}

impl<N: 'static> Ctx<N> {
    fn new(out: Box<dyn Write>, malformed: Arc<AtomicU64>) -> Ctx<N> {
        Ctx {
            node_id: String::new(),
            node_ids: Vec::new(),
            next_msg_id: 0,
            out,
            out_error: None,
            pending: HashMap::new(),
            deadlines: BinaryHeap::new(),
            rpc_timeout: Duration::from_secs(1),
            started: Instant::now(),
            malformed,
            sent: 0,
        }
    }

    /// This node's id (`n3`); empty before `init`.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Every node of the run, this one included, in the order `init` gave them.
    pub fn node_ids(&self) -> &[String] {
        &self.node_ids
    }

    /// Every other node, in `init` order.
    pub fn peers(&self) -> impl Iterator<Item = &str> + '_ {
        let me = self.node_id.as_str();
        self.node_ids
            .iter()
            .map(String::as_str)
            .filter(move |p| *p != me)
    }

    /// This node's position in [`Ctx::node_ids`] (0 if it is not listed).
    pub fn index(&self) -> usize {
        self.node_ids
            .iter()
            .position(|p| *p == self.node_id)
            .unwrap_or(0)
    }

    /// Time since the node started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Input lines that did not parse so far (each was logged to stderr and skipped).
    pub fn malformed_lines(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Messages this node has sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// RPCs still waiting for a reply.
    pub fn pending_rpcs(&self) -> usize {
        self.pending.len()
    }

    /// A fresh `msg_id` (1, 2, ...), for a request whose reply you route yourself.
    pub fn next_msg_id(&mut self) -> u64 {
        self.next_msg_id += 1;
        self.next_msg_id
    }

    /// The timeout of [`Ctx::rpc`] (1 s unless changed).
    pub fn set_rpc_timeout(&mut self, timeout: Duration) {
        self.rpc_timeout = timeout;
    }

    /// Sends `body` to every other node ([`Ctx::peers`]), as [`Ctx::send`] does: the gossip
    /// step of a state-based CRDT, a flood.
    pub fn send_to_peers(&mut self, body: &Body) {
        let ids = std::mem::take(&mut self.node_ids);
        for id in &ids {
            if *id != self.node_id {
                self.send(id, body);
            }
        }
        self.node_ids = ids;
    }

    /// Sends `body` to `dest` as it is (no `msg_id` is added: see [`Ctx::rpc`]).
    pub fn send(&mut self, dest: &str, body: &Body) {
        if self.out_error.is_some() {
            return;
        }
        let env = Envelope {
            src: &self.node_id,
            dest,
            body,
        };
        let res = serde_json::to_writer(&mut self.out, &env)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match res {
            Ok(()) => self.sent += 1,
            Err(e) => self.out_error = Some(e),
        }
    }

    /// Answers `request` with `body` (its `in_reply_to` is set to the request's `msg_id`). A
    /// request without `msg_id` expects no answer: nothing is sent, a line is logged.
    pub fn reply(&mut self, request: &Message, mut body: Body) {
        let Some(id) = request.body.msg_id else {
            eprintln!(
                "{}: not replying `{}` to a `{}` from {} without msg_id",
                self.node_id,
                body.kind,
                request.kind(),
                request.src
            );
            return;
        };
        body.in_reply_to = Some(id);
        self.send(&request.src, &body);
    }

    /// Answers `request` with the error `code` and `text`.
    pub fn error(&mut self, request: &Message, code: ErrorCode, text: impl Into<String>) {
        self.reply(request, Body::error(code, text));
    }

    /// Answers `request` with `err` (e.g. the result of a failed [`Body::get`], or a
    /// service's error passed on).
    pub fn fail(&mut self, request: &Message, err: &RpcError) {
        self.reply(request, Body::error(err.code, err.text.clone()));
    }

    /// Answers `request` with [`ErrorCode::NotSupported`] if it expects an answer (it has a
    /// `msg_id`), and logs it otherwise.
    pub fn not_supported(&mut self, request: &Message) {
        if request.body.msg_id.is_some() {
            let text = format!("`{}` is not supported", request.kind());
            self.error(request, ErrorCode::NotSupported, text);
        } else {
            eprintln!(
                "{}: ignoring a `{}` from {}",
                self.node_id,
                request.kind(),
                request.src
            );
        }
    }

    /// Sends `body` to `dest` as a request with a fresh `msg_id`, and calls `callback` with
    /// the reply, or with a synthetic [`ErrorCode::Timeout`] error if none comes within the
    /// RPC timeout ([`Ctx::set_rpc_timeout`]). An `error` reply reaches the callback as
    /// `Err`. Returns the `msg_id`.
    pub fn rpc(
        &mut self,
        dest: &str,
        body: Body,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, RpcResult) + 'static,
    ) -> u64 {
        let timeout = self.rpc_timeout;
        self.rpc_with_timeout(dest, body, timeout, callback)
    }

    /// [`Ctx::rpc`] with its own timeout.
    pub fn rpc_with_timeout(
        &mut self,
        dest: &str,
        mut body: Body,
        timeout: Duration,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, RpcResult) + 'static,
    ) -> u64 {
        let id = self.next_msg_id();
        body.msg_id = Some(id);
        body.in_reply_to = None;
        self.send(dest, &body);
        let deadline = Instant::now() + timeout;
        self.pending.insert(
            id,
            Pending {
                dest: dest.to_owned(),
                deadline,
                callback: Box::new(callback),
            },
        );
        self.deadlines.push(Reverse((deadline, id)));
        id
    }

    /// Forwards the client request `request` to `dest` (another node, a service) and relays
    /// whatever comes back (a reply, an error) to the client as the answer to its request; a
    /// timeout is answered with [`ErrorCode::Timeout`] (indefinite: the forwarded operation
    /// may still take effect). Returns the forwarded request's `msg_id`.
    pub fn proxy(&mut self, dest: &str, request: &Message) -> u64 {
        let client = request.src.clone();
        let client_msg_id = request.body.msg_id;
        let body = request.body.clone();
        self.rpc(dest, body, move |_, ctx, res| {
            let mut body = match res {
                Ok(reply) => reply.body,
                Err(e) => Body::error(e.code, e.text),
            };
            if let Some(id) = client_msg_id {
                body.msg_id = None;
                body.in_reply_to = Some(id);
                ctx.send(&client, &body);
            }
        })
    }

    fn take_callback(&mut self, msg: &Message) -> Option<Callback<N>> {
        let id = msg.body.in_reply_to?;
        match self.pending.get(&id) {
            Some(p) if p.dest == msg.src => self.pending.remove(&id).map(|p| p.callback),
            _ => None,
        }
    }

    /// The earliest RPC deadline still pending (stale heap entries are dropped on the way).
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.deadlines.peek().copied() {
            match self.pending.get(&id) {
                Some(p) if p.deadline == at => return Some(at),
                _ => {
                    self.deadlines.pop();
                }
            }
        }
        None
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.out_error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

/// Runs `node` over stdin and stdout until stdin closes, and exits the process with status 0
/// then (1 if stdout broke).
///
/// Stdout belongs to the runtime (a locked, buffered writer): write messages with
/// [`Ctx::send`] and friends, and log with `eprintln!`, never `println!`.
pub fn run<N: Node>(node: N) -> ! {
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let input = io::BufReader::with_capacity(1 << 16, io::stdin());
    match run_on(node, input, out) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("synod-node: stdout failed: {e}");
            std::process::exit(1)
        }
    }
}

/// Runs `node` reading messages from `input` and writing to `output` until `input` ends (the
/// engine behind [`run`], usable in tests and to embed a node).
///
/// # Errors
/// If writing to `output` fails (the other end went away).
pub fn run_on<N: Node>(
    mut node: N,
    input: impl BufRead + Send + 'static,
    output: impl Write + 'static,
) -> io::Result<()> {
    let malformed = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel::<Message>();
    let counter = Arc::clone(&malformed);
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_lines(input, &tx, &counter))?;

    let mut ctx: Ctx<N> = Ctx::new(Box::new(output), malformed);
    let mut initialized = false;
    let mut tick: Option<(Duration, Instant)> = None;
    const IDLE: Duration = Duration::from_secs(3600);
    const BATCH: usize = 1024;
    loop {
        let now = Instant::now();
        let wake = [ctx.next_deadline(), tick.map(|t| t.1)]
            .into_iter()
            .flatten()
            .min();
        let wait = wake.map_or(IDLE, |w| w.saturating_duration_since(now));
        match rx.recv_timeout(wait) {
            Ok(first) => {
                let mut next = Some(first);
                let mut handled = 0;
                while let Some(msg) = next {
                    dispatch(&mut node, &mut ctx, msg, &mut initialized, &mut tick);
                    handled += 1;
                    next = if handled < BATCH {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        fire_due(&mut node, &mut ctx, &mut tick);
        ctx.flush()?;
    }
    ctx.flush()
}

fn read_lines(mut input: impl BufRead, tx: &mpsc::Sender<Message>, malformed: &AtomicU64) {
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                eprintln!("synod-node: reading stdin failed: {e}");
                return;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Message>(&line) {
            Ok(msg) => {
                if tx.send(msg).is_err() {
                    return;
                }
            }
            Err(e) => {
                malformed.fetch_add(1, Ordering::Relaxed);
                let shown = String::from_utf8_lossy(&line);
                eprintln!(
                    "synod-node: skipping a malformed input line ({e}): {}",
                    shown.trim_end()
                );
            }
        }
    }
}

fn dispatch<N: Node>(
    node: &mut N,
    ctx: &mut Ctx<N>,
    msg: Message,
    initialized: &mut bool,
    tick: &mut Option<(Duration, Instant)>,
) {
    if let Some(callback) = ctx.take_callback(&msg) {
        let res = match msg.body.as_error() {
            Some(e) => Err(e),
            None => Ok(msg),
        };
        callback(node, ctx, res);
        return;
    }
    if msg.kind() == "init" {
        if *initialized {
            eprintln!(
                "{}: a second init from {}: answered, state kept",
                ctx.node_id, msg.src
            );
            ctx.reply(&msg, Body::new("init_ok"));
            return;
        }
        let node_id = match msg.body.str("node_id") {
            Ok(id) => id.to_owned(),
            Err(e) => {
                eprintln!("synod-node: bad init: {e}");
                ctx.fail(&msg, &e);
                return;
            }
        };
        let node_ids = match msg.body.get::<Vec<String>>("node_ids") {
            Ok(ids) => ids,
            Err(e) => {
                eprintln!("synod-node: bad init: {e}");
                ctx.fail(&msg, &e);
                return;
            }
        };
        ctx.node_id = node_id;
        ctx.node_ids = node_ids;
        *initialized = true;
        node.init(ctx);
        ctx.reply(&msg, Body::new("init_ok"));
        *tick = node
            .tick_interval()
            .map(|every| (every, Instant::now() + every));
        return;
    }
    if !*initialized {
        eprintln!(
            "synod-node: a `{}` from {} before init",
            msg.kind(),
            msg.src
        );
        if msg.body.msg_id.is_some() {
            ctx.error(
                &msg,
                ErrorCode::TemporarilyUnavailable,
                "not initialized yet",
            );
        }
        return;
    }
    node.handle(ctx, msg);
}

fn fire_due<N: Node>(node: &mut N, ctx: &mut Ctx<N>, tick: &mut Option<(Duration, Instant)>) {
    let now = Instant::now();
    while let Some(at) = ctx.next_deadline() {
        if at > now {
            break;
        }
        let Some(Reverse((_, id))) = ctx.deadlines.pop() else {
            break;
        };
        if let Some(p) = ctx.pending.remove(&id) {
            let text = format!("no reply from {} within the RPC timeout", p.dest);
            (p.callback)(node, ctx, Err(RpcError::new(ErrorCode::Timeout, text)));
        }
    }
    if let Some((every, at)) = *tick {
        if at <= now {
            node.tick(ctx);
            // Ticks do not pile up: the next one is a full interval after this one.
            *tick = Some((every, Instant::now() + every));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{line, of_kind, start, INIT};

    /// Asks n0 something at init and reports what came back to c9.
    struct Asker {
        timeout: Duration,
    }

    impl Node for Asker {
        fn init(&mut self, ctx: &mut Ctx<Self>) {
            ctx.rpc_with_timeout("n0", Body::new("ping"), self.timeout, |_, ctx, res| {
                let b = match res {
                    Ok(m) => Body::new("got").with("kind", m.kind()),
                    Err(e) => Body::new("failed").with("code", e.code.code()),
                };
                ctx.send("c9", &b);
            });
        }
        fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
            ctx.send("c9", &Body::new("unrouted").with("kind", msg.kind()));
        }
    }

    #[test]
    fn rpc_times_out_with_a_synthetic_timeout_error() {
        let (tx, out, h) = start(Asker {
            timeout: Duration::from_millis(30),
        });
        tx.send(line(INIT)).unwrap();
        let started = Instant::now();
        let lines = out.wait_for(|l| !of_kind(l, "failed").is_empty());
        assert!(started.elapsed() >= Duration::from_millis(30));
        let failed = of_kind(&lines, "failed");
        assert_eq!(failed.len(), 1, "{lines:?}");
        assert_eq!(failed[0]["body"]["code"], 0);
        // The ping went out with a msg_id, and init was answered.
        let ping = of_kind(&lines, "ping");
        assert_eq!(ping[0]["dest"], "n0");
        let id = ping[0]["body"]["msg_id"].as_u64().unwrap();
        assert_eq!(of_kind(&lines, "init_ok")[0]["body"]["in_reply_to"], 1);
        // A late reply is no longer routed to the callback: the handler sees it.
        tx.send(line(&format!(
            r#"{{"src":"n0","dest":"n1","body":{{"type":"pong","in_reply_to":{id}}}}}"#
        )))
        .unwrap();
        let lines = out.wait_for(|l| !of_kind(l, "unrouted").is_empty());
        assert_eq!(of_kind(&lines, "unrouted")[0]["body"]["kind"], "pong");
        assert!(of_kind(&lines, "got").is_empty());
        drop(tx);
        h.join().unwrap().unwrap();
    }

    #[test]
    fn rpc_reply_and_error_reach_the_callback() {
        let (tx, out, h) = start(Asker {
            timeout: Duration::from_secs(30),
        });
        tx.send(line(INIT)).unwrap();
        let lines = out.wait_for(|l| !of_kind(l, "ping").is_empty());
        let id = of_kind(&lines, "ping")[0]["body"]["msg_id"]
            .as_u64()
            .unwrap();
        // A reply from the wrong node is not taken for the answer.
        tx.send(line(&format!(
            r#"{{"src":"n2","dest":"n1","body":{{"type":"pong","in_reply_to":{id}}}}}"#
        )))
        .unwrap();
        tx.send(line(&format!(
            r#"{{"src":"n0","dest":"n1","body":{{"type":"error","in_reply_to":{id},"code":22,"text":"no"}}}}"#
        )))
        .unwrap();
        let lines = out.wait_for(|l| !of_kind(l, "failed").is_empty());
        assert_eq!(of_kind(&lines, "failed")[0]["body"]["code"], 22);
        assert_eq!(of_kind(&lines, "unrouted").len(), 1);
        drop(tx);
        h.join().unwrap().unwrap();
    }

    struct Echo;
    impl Node for Echo {
        fn handle(&mut self, ctx: &mut Ctx<Self>, msg: Message) {
            if msg.kind() == "echo" {
                let v = msg.body.value("echo").cloned();
                ctx.reply(&msg, Body::new("echo_ok").with("echo", v));
            } else {
                ctx.not_supported(&msg);
            }
        }
    }

    #[test]
    fn malformed_lines_are_skipped_and_requests_before_init_refused() {
        let (tx, out, h) = start(Echo);
        tx.send(line(
            r#"{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":5,"echo":1}}"#,
        ))
        .unwrap();
        for garbage in ["garbage", "{\"src\":1}", "\u{7f}\u{1}", "", "   "] {
            tx.send(line(garbage)).unwrap();
        }
        tx.send(b"\xff\xfe not utf-8\n".to_vec()).unwrap();
        tx.send(line(INIT)).unwrap();
        tx.send(line(
            r#"{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":6,"echo":"x"}}"#,
        ))
        .unwrap();
        tx.send(line(
            r#"{"src":"c1","dest":"n1","body":{"type":"frob","msg_id":7}}"#,
        ))
        .unwrap();
        drop(tx);
        h.join().unwrap().unwrap();
        let lines = out.lines();
        let replies: Vec<(u64, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l["body"]["in_reply_to"].as_u64().unwrap(),
                    l["body"]["type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            replies,
            vec![(5, "error"), (1, "init_ok"), (6, "echo_ok"), (7, "error")]
        );
        assert_eq!(lines[0]["body"]["code"], 11);
        assert_eq!(lines[2]["body"]["echo"], "x");
        assert_eq!(lines[2]["src"], "n1");
        assert_eq!(lines[2]["dest"], "c1");
        assert_eq!(lines[3]["body"]["code"], 10);
    }

    /// Counts the messages it handled and reports the count at every tick.
    struct Ticker {
        seen: u64,
    }
    impl Node for Ticker {
        fn handle(&mut self, _: &mut Ctx<Self>, _: Message) {
            self.seen += 1;
        }
        fn tick(&mut self, ctx: &mut Ctx<Self>) {
            ctx.send("c0", &Body::new("tick").with("seen", self.seen));
        }
        fn tick_interval(&self) -> Option<Duration> {
            Some(Duration::from_millis(5))
        }
    }

    #[test]
    fn ticks_fire_while_idle_and_while_messages_keep_coming() {
        let (tx, out, h) = start(Ticker { seen: 0 });
        tx.send(line(INIT)).unwrap();
        let lines = out.wait_for(|l| of_kind(l, "tick").len() >= 3);
        assert!(of_kind(&lines, "tick").len() >= 3, "idle ticks");
        // A message every millisecond (more often than the tick) until three more ticks
        // came: they fire between messages, not only when the input falls silent.
        let before = of_kind(&out.lines(), "tick").len();
        let until = Instant::now() + Duration::from_secs(2);
        while of_kind(&out.lines(), "tick").len() < before + 3 && Instant::now() < until {
            tx.send(line(r#"{"src":"n0","dest":"n1","body":{"type":"x"}}"#))
                .unwrap();
            thread::sleep(Duration::from_millis(1));
        }
        let ticks = of_kind(&out.lines(), "tick").len();
        assert!(
            ticks >= before + 3,
            "only {} ticks while messages kept coming",
            ticks - before
        );
        drop(tx);
        h.join().unwrap().unwrap();
    }
}
