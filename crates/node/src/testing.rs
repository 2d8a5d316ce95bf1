//! Test support: run a node on a thread with scripted input and captured output.

use crate::node::{run_on, Node};
use std::io::{self, Read, Write};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Input fed line by line from the test, held open until the sender is dropped.
pub struct ChanReader {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let k = out.len().min(self.buf.len() - self.pos);
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

#[derive(Clone, Default)]
pub struct SharedOut(Arc<Mutex<Vec<u8>>>);

impl Write for SharedOut {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedOut {
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Polls until `pred` holds over the output lines (2 s at most).
    pub fn wait_for(&self, pred: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            let lines = self.lines();
            if pred(&lines) || Instant::now() > until {
                return lines;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Starts `node` on a thread; returns the input feeder, the output and the thread.
pub fn start<N: Node + Send>(
    node: N,
) -> (
    mpsc::Sender<Vec<u8>>,
    SharedOut,
    thread::JoinHandle<io::Result<()>>,
) {
    let (tx, rx) = mpsc::channel();
    let out = SharedOut::default();
    let o = out.clone();
    let h = thread::spawn(move || {
        let input = io::BufReader::new(ChanReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        });
        run_on(node, input, o)
    });
    (tx, out, h)
}

pub fn line(s: &str) -> Vec<u8> {
    format!("{s}\n").into_bytes()
}

pub const INIT: &str = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n0","n1","n2"]}}"#;

pub fn of_kind<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["body"]["type"] == kind).collect()
}
