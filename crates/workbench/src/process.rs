//! Node processes: spawning, the threads that carry their stdin/stdout/stderr, and signals.
//!
//! Each node is one child process. Three threads serve it: a reader turns its stdout into
//! [`NodeEvent::Lines`] on the router's channel (ending with [`NodeEvent::Closed`]), a writer
//! drains a queue of lines into its stdin (so a paused or slow node never blocks the router),
//! and a logger appends its stderr to the node's log file. Both directions move lines in
//! batches: the reader sends every complete line it has buffered as one event, and the
//! router hands a writer all the lines a node is due in one go, so a node that writes or
//! receives a burst costs one thread wake-up, not one per line. A killed node is restarted as a
//! new *incarnation*; events carry the incarnation so late lines from a dead process are
//! recognised.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Instant;

/// What a node process did, as seen by its threads.
#[derive(Debug)]
pub enum NodeEvent {
    /// The node wrote lines on stdout.
    Lines {
        /// The node's index.
        node: usize,
        /// Which incarnation of it.
        incarnation: u32,
        /// The lines, in order, without their newlines.
        lines: Vec<String>,
        /// When the reader saw it.
        at: Instant,
    },
    /// The node's stdout closed (it exited, or closed it).
    Closed {
        /// The node's index.
        node: usize,
        /// Which incarnation of it.
        incarnation: u32,
        /// When.
        at: Instant,
    },
}

/// Lines longer than this are cut (and reported): a runaway node must not exhaust memory.
pub const MAX_LINE: usize = 16 << 20;

/// How to start a node.
#[derive(Clone, Debug)]
pub struct NodeCommand {
    /// The executable.
    pub bin: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// One running node process.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    stdin: Option<Sender<Vec<String>>>,
    /// Which incarnation this is (0 for the first start).
    pub incarnation: u32,
}

impl NodeProcess {
    /// Starts incarnation `incarnation` of node `node`, appending its stderr to `log`.
    pub fn spawn(
        cmd: &NodeCommand,
        node: usize,
        incarnation: u32,
        log: &Path,
        events: Sender<NodeEvent>,
    ) -> io::Result<NodeProcess> {
        let mut child = Command::new(&cmd.bin)
            .args(&cmd.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut log_file = OpenOptions::new().create(true).append(true).open(log)?;
        writeln!(
            log_file,
            "=== incarnation {incarnation} (pid {}) ===",
            child.id()
        )?;
        thread::Builder::new()
            .name(format!("n{node}-stdout"))
            .spawn(move || read_lines(stdout, node, incarnation, events))?;
        thread::Builder::new()
            .name(format!("n{node}-stderr"))
            .spawn(move || copy_log(stderr, log_file))?;
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name(format!("n{node}-stdin"))
            .spawn(move || write_lines(stdin, rx))?;
        Ok(NodeProcess {
            child,
            stdin: Some(tx),
            incarnation,
        })
    }

    /// Queues `lines` (without newlines) for the node's stdin, in order. False if the writer
    /// is gone (the process closed its stdin or died).
    pub fn send(&self, lines: Vec<String>) -> bool {
        self.stdin.as_ref().is_some_and(|tx| tx.send(lines).is_ok())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGSTOP (`pause = true`) or SIGCONT.
    pub fn signal_pause(&self, pause: bool) -> io::Result<()> {
        let sig = if pause { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(sig)
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("kill {sig} failed")))
        }
    }

    /// The exit status if the process has exited (`None` if still running).
    pub fn try_exit(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe_exit(status)),
            Ok(None) => None,
            Err(e) => Some(format!("unknown exit ({e})")),
        }
    }

    /// Closes stdin (the polite way to stop a node), waits a little, then kills it.
    pub fn stop(&mut self) {
        self.stdin = None;
        let deadline = Instant::now() + std::time::Duration::from_millis(200);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match status.code() {
        Some(c) => format!("exit code {c}"),
        None => "exited".into(),
    }
}

fn read_lines(
    stdout: std::process::ChildStdout,
    node: usize,
    incarnation: u32,
    events: Sender<NodeEvent>,
) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut buf = Vec::with_capacity(256);
    // Block for one line, then take every complete line already buffered with it.
    while let Some(first) = read_line(&mut reader, &mut buf) {
        let mut lines = vec![first];
        while reader.buffer().contains(&b'\n') {
            match read_line(&mut reader, &mut buf) {
                Some(line) => lines.push(line),
                None => break,
            }
        }
        let at = Instant::now();
        if events
            .send(NodeEvent::Lines {
                node,
                incarnation,
                lines,
                at,
            })
            .is_err()
        {
            return;
        }
    }
    let _ = events.send(NodeEvent::Closed {
        node,
        incarnation,
        at: Instant::now(),
    });
}

/// The next line (without its line ending; cut at [`MAX_LINE`] bytes, the rest skipped), or
/// `None` at the end of the stream.
fn read_line<R: Read>(reader: &mut BufReader<R>, buf: &mut Vec<u8>) -> Option<String> {
    buf.clear();
    match (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', buf)
    {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
        // Skip the rest of the overlong line.
        let mut rest = Vec::new();
        let _ = reader.read_until(b'\n', &mut rest);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Some(String::from_utf8_lossy(buf).into_owned())
}

fn copy_log(mut stderr: std::process::ChildStderr, log: File) {
    let mut out = BufWriter::new(log);
    let mut buf = [0u8; 8192];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = out.flush();
            }
        }
    }
    let _ = out.flush();
}

fn write_lines(stdin: ChildStdin, rx: Receiver<Vec<String>>) {
    let mut out = BufWriter::with_capacity(1 << 16, stdin);
    let write = |out: &mut BufWriter<ChildStdin>, lines: Vec<String>| {
        lines
            .iter()
            .try_for_each(|line| out.write_all(line.as_bytes()).and(out.write_all(b"\n")))
    };
    while let Ok(lines) = rx.recv() {
        if write(&mut out, lines).is_err() {
            return;
        }
        // Batch what is already queued, then flush once.
        while let Ok(lines) = rx.try_recv() {
            if write(&mut out, lines).is_err() {
                return;
            }
        }
        if out.flush().is_err() {
            return;
        }
    }
}
