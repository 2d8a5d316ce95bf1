//! A miniature workbench for tests: spawns node processes, answers `init`, routes their
//! messages to each other (dropping those a partition cuts), plays the `lin-kv` service, and
//! lets a test act as a client. Written from the protocol, independently of the library the
//! nodes are built on, so the example nodes are checked before the real workbench exists.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// The longest a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(3);

pub struct Cluster {
    ids: Vec<String>,
    children: Vec<Child>,
    stdins: Vec<ChildStdin>,
    rx: Receiver<(usize, String)>,
    blocked: HashSet<(String, String)>,
    /// The `lin-kv` service's map (keys as JSON text).
    kv: BTreeMap<String, Value>,
    /// Messages addressed to clients, not yet taken.
    inbox: Vec<Value>,
    next_msg_id: u64,
    /// Every node-to-node message routed or dropped: (src, dest, type).
    pub node_msgs: Vec<(String, String, String)>,
}

impl Cluster {
    /// Starts `n` nodes running `program` with `args`, and initializes them.
    pub fn start(program: &str, args: &[&str], n: usize) -> Cluster {
        let ids: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let (tx, rx) = mpsc::channel();
        let mut children = Vec::new();
        let mut stdins = Vec::new();
        for i in 0..n {
            let mut child = Command::new(program)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
            stdins.push(child.stdin.take().unwrap());
            let out = child.stdout.take().unwrap();
            let tx = tx.clone();
            thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { return };
                    if tx.send((i, line)).is_err() {
                        return;
                    }
                }
            });
            children.push(child);
        }
        let mut c = Cluster {
            ids: ids.clone(),
            children,
            stdins,
            rx,
            blocked: HashSet::new(),
            kv: BTreeMap::new(),
            inbox: Vec::new(),
            next_msg_id: 0,
            node_msgs: Vec::new(),
        };
        for i in 0..n {
            let body = json!({"type": "init", "node_id": ids[i], "node_ids": ids});
            let reply = c.call_from("c0", i, body);
            assert_eq!(reply["type"], "init_ok", "n{i} answered init with {reply}");
        }
        c
    }

    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// Writes a raw line to node `i`'s stdin.
    pub fn write_line(&mut self, i: usize, line: &str) {
        let stdin = &mut self.stdins[i];
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn deliver(&mut self, msg: &Value) {
        let dest = msg["dest"].as_str().unwrap();
        let i = self.ids.iter().position(|d| d == dest).unwrap();
        self.write_line(i, &msg.to_string());
    }

    /// Sends `body` from client `client` to node `i` as a request; returns its msg_id.
    pub fn request_from(&mut self, client: &str, i: usize, mut body: Value) -> u64 {
        self.next_msg_id += 1;
        body["msg_id"] = json!(self.next_msg_id);
        let msg = json!({"src": client, "dest": self.ids[i], "body": body});
        self.deliver(&msg);
        self.next_msg_id
    }

    /// Sends `body` from client `client` to node `i` and routes until the answer comes;
    /// returns the answer's body.
    pub fn call_from(&mut self, client: &str, i: usize, body: Value) -> Value {
        let id = self.request_from(client, i, body.clone());
        let until = Instant::now() + PATIENCE;
        loop {
            if let Some(k) = self
                .inbox
                .iter()
                .position(|m| m["dest"] == client && m["body"]["in_reply_to"] == id)
            {
                let m = self.inbox.remove(k);
                assert_eq!(m["src"], self.ids[i], "answer from the wrong node: {m}");
                return m["body"].clone();
            }
            assert!(
                Instant::now() < until,
                "no answer from n{i} to {body} within {PATIENCE:?}"
            );
            self.route_one(Duration::from_millis(20));
        }
    }

    /// [`Cluster::call_from`] from client `c1`.
    pub fn call(&mut self, i: usize, body: Value) -> Value {
        self.call_from("c1", i, body)
    }

    /// Routes messages for `d`.
    pub fn pump(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            self.route_one(left);
        }
    }

    /// Routes until `pred` holds (checked between messages and every 20 ms), or
    /// [`PATIENCE`] runs out; returns whether it held.
    pub fn eventually(&mut self, mut pred: impl FnMut(&mut Cluster) -> bool) -> bool {
        let until = Instant::now() + PATIENCE;
        loop {
            if pred(self) {
                return true;
            }
            if Instant::now() > until {
                return false;
            }
            self.pump(Duration::from_millis(20));
        }
    }

    /// Cuts every link between `a` and `b` (both ways); node names or services.
    pub fn cut(&mut self, a: &str, b: &str) {
        self.blocked.insert((a.into(), b.into()));
        self.blocked.insert((b.into(), a.into()));
    }

    /// Isolates node `i` from every other node.
    pub fn isolate(&mut self, i: usize) {
        for j in 0..self.ids.len() {
            if j != i {
                let (a, b) = (self.ids[i].clone(), self.ids[j].clone());
                self.cut(&a, &b);
            }
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// Routes one message, waiting at most `wait` for it.
    fn route_one(&mut self, wait: Duration) {
        let (from, line) = match self.rx.recv_timeout(wait) {
            Ok(x) => x,
            Err(RecvTimeoutError::Timeout) => return,
            Err(RecvTimeoutError::Disconnected) => panic!("every node exited"),
        };
        let msg: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("n{from} printed a line that is not JSON ({e}): {line}"));
        let src = msg["src"].as_str().expect("src").to_owned();
        let dest = msg["dest"].as_str().expect("dest").to_owned();
        assert_eq!(src, self.ids[from], "n{from} sent as {src}: {line}");
        let kind = msg["body"]["type"].as_str().expect("body type").to_owned();
        let blocked = self.blocked.contains(&(src.clone(), dest.clone()));
        if self.ids.contains(&dest) {
            self.node_msgs.push((src, dest, kind));
            if !blocked {
                self.deliver(&msg);
            }
        } else if dest == "lin-kv" {
            if !blocked {
                let reply = self.lin_kv(&msg["body"]);
                let back = json!({"src": "lin-kv", "dest": src, "body": reply});
                self.deliver(&back);
            }
        } else {
            self.inbox.push(msg);
        }
    }

    /// The linearizable store: one map, one request at a time.
    fn lin_kv(&mut self, body: &Value) -> Value {
        let key = body["key"].to_string();
        let mut reply = match body["type"].as_str().unwrap() {
            "read" => match self.kv.get(&key) {
                Some(v) => json!({"type": "read_ok", "value": v}),
                None => json!({"type": "error", "code": 20, "text": "no such key"}),
            },
            "write" => {
                self.kv.insert(key, body["value"].clone());
                json!({"type": "write_ok"})
            }
            "cas" => match self.kv.get(&key) {
                None if body["create_if_not_exists"] == true => {
                    self.kv.insert(key, body["to"].clone());
                    json!({"type": "cas_ok"})
                }
                None => json!({"type": "error", "code": 20, "text": "no such key"}),
                Some(v) if *v != body["from"] => {
                    json!({"type": "error", "code": 22, "text": "from mismatch"})
                }
                Some(_) => {
                    self.kv.insert(key, body["to"].clone());
                    json!({"type": "cas_ok"})
                }
            },
            other => json!({"type": "error", "code": 10, "text": other}),
        };
        reply["in_reply_to"] = body["msg_id"].clone();
        reply
    }

    /// Node-to-node messages so far between `a` and `b`, either way.
    pub fn msgs_between(&self, a: &str, b: &str) -> usize {
        self.node_msgs
            .iter()
            .filter(|(s, d, _)| (s == a && d == b) || (s == b && d == a))
            .count()
    }

    /// Closes every node's stdin and waits for the processes to exit: true if all exited
    /// by themselves with status 0 within [`PATIENCE`].
    pub fn shutdown(mut self) -> bool {
        self.stdins.clear();
        let until = Instant::now() + PATIENCE;
        let mut clean = true;
        for child in &mut self.children {
            loop {
                match child.try_wait().unwrap() {
                    Some(status) => {
                        clean &= status.success();
                        break;
                    }
                    None if Instant::now() > until => {
                        clean = false;
                        break;
                    }
                    None => thread::sleep(Duration::from_millis(5)),
                }
            }
        }
        clean
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The sorted integers of a JSON array (`messages` of `read_ok`, `value` of a g-set).
pub fn ints(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    out.sort_unstable();
    out
}
