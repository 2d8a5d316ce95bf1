//! A node's configuration.

use crate::wire::DEFAULT_MAX_FRAME;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use synod_core::NodeId;

/// How to run one node of a cluster. Build it with [`Config::new`], then set the public fields.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node.
    pub id: NodeId,
    /// The cluster's node count: node ids are `n0..n{n-1}`, as everywhere in synod.
    pub n: usize,
    /// Where to listen for peers and clients (port 0 picks a free port; see
    /// [`crate::Handle::local_addr`]).
    pub listen: SocketAddr,
    /// The address of every other node.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// The directory of the write-ahead log ([`crate::FileWal`]); `None` keeps the durable
    /// state in memory ([`crate::MemStorage`]), lost with the process.
    pub data_dir: Option<PathBuf>,
    /// The cluster id every hello must carry.
    pub cluster: u64,
    /// The largest frame payload accepted or sent, in bytes.
    pub max_frame: usize,
    /// Seeds the node's random choices ([`synod_core::Ctx::choose`]) and reconnect jitter.
    /// Printed at start.
    pub seed: u64,
    /// Whether persists fsync (turn off only to measure what fsync costs).
    pub fsync: bool,
    /// The most inputs stepped per batch, i.e. per group commit.
    pub batch: usize,
    /// The most messages queued per peer while its connection is slow or down; more are dropped.
    pub peer_queue: usize,
}

impl Config {
    /// Node `id` listening on `listen`, with `peers` the addresses of the other nodes (so the
    /// cluster has `peers.len() + 1` nodes), cluster id 0, a fresh random seed, in-memory
    /// storage, fsync on, batches of 256 inputs, 4096 queued messages per peer.
    pub fn new(id: NodeId, listen: SocketAddr, peers: BTreeMap<NodeId, SocketAddr>) -> Config {
        Config {
            id,
            n: peers.len() + 1,
            listen,
            peers,
            data_dir: None,
            cluster: 0,
            max_frame: DEFAULT_MAX_FRAME,
            seed: fresh_seed(),
            fsync: true,
            batch: 256,
            peer_queue: 4096,
        }
    }

    /// Checks the configuration; the error is one line saying what to fix.
    pub fn validate(&self) -> io::Result<()> {
        let bad = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        if self.id.index() >= self.n {
            return bad(format!(
                "node id {} is outside a cluster of {} nodes",
                self.id, self.n
            ));
        }
        for peer in NodeId::all(self.n).filter(|p| *p != self.id) {
            if !self.peers.contains_key(&peer) {
                return bad(format!("no address for peer {peer}"));
            }
        }
        if let Some(extra) = self
            .peers
            .keys()
            .find(|p| p.index() >= self.n || **p == self.id)
        {
            return bad(format!(
                "peer {extra} is not another node of a {}-node cluster",
                self.n
            ));
        }
        if self.batch == 0 || self.peer_queue == 0 || self.max_frame < 64 {
            return bad("batch and peer_queue must be at least 1, max_frame at least 64".into());
        }
        Ok(())
    }
}

/// A seed from the OS's per-process hashing keys: random enough to vary runs, and printed.
fn fresh_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}
