//! Local clusters: a cluster file naming every replica, and starting/stopping replica
//! processes (`synod cluster up|down`, and the stress tester).
//!
//! The cluster file (`cluster.toml`) is what `synod node --config`, `synod kv --dir` and
//! `synod cluster down` read:
//!
//! ```toml
//! cluster = 7                     # the id every connection presents
//! heartbeat_ms = 100
//! election_ms = 1000
//! fsync = true
//!
//! [[node]]
//! id = 0
//! addr = "127.0.0.1:7000"         # may be on another machine
//! data = "/tmp/d/n0"              # its write-ahead log
//! pid = 4242                      # set by `cluster up` while it runs
//! ```

use crate::server::Timing;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One replica in a cluster file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Its id (`n{id}`).
    pub id: u32,
    /// Where it listens for peers and clients.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data: Option<PathBuf>,
    /// Its process id, while `cluster up` runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// A cluster file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterFile {
    /// The cluster id.
    pub cluster: u64,
    /// Raft's heartbeat period (ms).
    pub heartbeat_ms: u64,
    /// Raft's election timeout (ms).
    pub election_ms: u64,
    /// Whether replicas fsync their log.
    pub fsync: bool,
    /// CANARY: replicas serve reads without confirming the leadership.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary_unconfirmed_reads: bool,
    /// The replicas, by id.
    pub node: Vec<NodeEntry>,
}

impl ClusterFile {
    /// The name of the file inside a cluster directory.
    pub const NAME: &'static str = "cluster.toml";

    /// Reads a cluster file, checking that the ids are `0..n` in order.
    pub fn read(path: &Path) -> Result<ClusterFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the cluster file {}: {e}", path.display()))?;
        let file: ClusterFile = toml::from_str(&text)
            .map_err(|e| format!("{} is not a cluster file: {e}", path.display()))?;
        if file.node.is_empty() {
            return Err(format!("{} names no node", path.display()));
        }
        for (i, n) in file.node.iter().enumerate() {
            if n.id as usize != i {
                return Err(format!(
                    "{}: nodes must be listed by id from 0; entry {i} has id {}",
                    path.display(),
                    n.id
                ));
            }
        }
        Ok(file)
    }

    /// Reads the cluster file of directory `dir`.
    pub fn read_dir(dir: &Path) -> Result<ClusterFile, String> {
        let path = dir.join(ClusterFile::NAME);
        if !path.exists() {
            return Err(format!(
                "{} has no {}: start a cluster there with `synod cluster up --dir {}`",
                dir.display(),
                ClusterFile::NAME,
                dir.display()
            ));
        }
        ClusterFile::read(&path)
    }

    /// Writes the file atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let text = toml::to_string_pretty(self).map_err(io::Error::other)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// Every replica's address, by id.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.node.iter().map(|n| n.addr).collect()
    }

    /// Raft's timing.
    pub fn timing(&self) -> Timing {
        Timing {
            heartbeat_ms: self.heartbeat_ms,
            election_ms: self.election_ms,
        }
    }

    /// A new local cluster of `n` replicas on loopback ports the OS hands out now, with data
    /// under `dir/n{i}`.
    pub fn local(n: usize, dir: &Path, cluster: u64, timing: Timing) -> io::Result<ClusterFile> {
        let mut node = Vec::with_capacity(n);
        // Hold every listener until all ports are chosen, so no two replicas get the same one.
        let mut held = Vec::with_capacity(n);
        for i in 0..n {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            node.push(NodeEntry {
                id: i as u32,
                addr: l.local_addr()?,
                data: Some(dir.join(format!("n{i}"))),
                pid: None,
            });
            held.push(l);
        }
        Ok(ClusterFile {
            cluster,
            heartbeat_ms: timing.heartbeat_ms,
            election_ms: timing.election_ms,
            fsync: true,
            canary_unconfirmed_reads: false,
            node,
        })
    }
}

/// Starts replica `id` of the cluster file `file` as a child process of `exe` (the `synod`
/// binary), its output appended to `log`, in its own process group (so a terminal's Ctrl-C
/// does not reach it).
pub fn spawn_node(exe: &Path, file: &Path, id: u32, log: &Path) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    Command::new(exe)
        .arg("node")
        .arg("--config")
        .arg(file)
        .arg("--id")
        .arg(format!("n{id}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0)
        .spawn()
}

/// Sends `signal` (a name such as `KILL`, `STOP`, `CONT`, `TERM`) to process `pid`.
pub fn signal(pid: u32, signal: &str) -> io::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("kill -{signal} {pid} failed")))
    }
}

/// True if process `pid` exists and has not exited (a zombie waiting to be reaped counts as
/// gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}
