//! Real TCP on 127.0.0.1: small clusters of real nodes, each with its own listener and storage.

mod common;

use common::counter::{Count, Counter, Ind};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use synod_core::{NodeId, Protocol};
use synod_protocols::consensus::raft::{Raft, RaftInd};
use synod_protocols::register::{RegisterReq, RegisterResp};
use synod_runtime::{start, start_on, Config, FileWal, Handle, Listener, MemStorage, WalOptions};
use tokio::sync::mpsc;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

fn counter() -> Counter {
    Counter {
        period: synod_core::Duration::from_millis(5),
    }
}

/// Binds `n` listeners on free ports and returns each node's configuration.
async fn cluster_configs(n: usize) -> Vec<(Config, Listener)> {
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(
            Listener::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap(),
        );
    }
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    listeners
        .into_iter()
        .zip(NodeId::all(n))
        .map(|(listener, id)| {
            let peers: BTreeMap<_, _> = NodeId::all(n)
                .filter(|p| *p != id)
                .map(|p| (p, addrs[p.index()]))
                .collect();
            let mut cfg = Config::new(id, addrs[id.index()], peers);
            cfg.seed = 42;
            cfg.cluster = 3;
            (cfg, listener)
        })
        .collect()
}

/// Starts one node per configuration and merges their indications into one channel.
async fn start_all<P: Protocol + Clone>(
    protocol: &P,
    configs: Vec<(Config, Listener)>,
    storage: impl Fn(NodeId) -> Box<dyn synod_runtime::Storage<P::Durable>>,
) -> (
    Vec<Handle<P>>,
    mpsc::UnboundedReceiver<(NodeId, P::Indication)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for (cfg, listener) in configs {
        let id = cfg.id;
        let mut node = start_on(protocol.clone(), cfg, listener, storage(id))
            .await
            .unwrap();
        handles.push(node.handle.clone());
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(ind) = node.indications.recv().await {
                let _ = tx.send((id, ind));
            }
        });
    }
    (handles, rx)
}

/// Receives indications until `pick` accepts one, within [`LIMIT`].
async fn wait_for<I, T>(
    rx: &mut mpsc::UnboundedReceiver<I>,
    what: &str,
    mut pick: impl FnMut(&I) -> Option<T>,
) -> T {
    let found = timeout(LIMIT, async {
        while let Some(ind) = rx.recv().await {
            if let Some(t) = pick(&ind) {
                return t;
            }
        }
        panic!("indications ended while waiting for {what}");
    })
    .await;
    found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("synod-rt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_counter_nodes_talk_over_tcp() {
    let configs = cluster_configs(3).await;
    let (handles, mut rx) = start_all(
        &counter(),
        configs,
        |_| Box::new(MemStorage::<Count>::new()),
    )
    .await;
    let mut heard = BTreeMap::new();
    wait_for(&mut rx, "every node to hear every peer", |(at, ind)| {
        if let Ind::Heard(from, _) = ind {
            heard.insert((*at, *from), ());
        }
        (heard.len() == 6).then_some(())
    })
    .await;
    handles[1].submit(1000).await.unwrap();
    let count = wait_for(&mut rx, "the request's answer", |(at, ind)| match ind {
        Ind::Added(k) if *at == NodeId(1) => Some(*k),
        _ => None,
    })
    .await;
    assert!(count > 1000);
    for h in &handles {
        let s = h.stats();
        assert!(
            s.msgs_sent > 0 && s.msgs_received > 0 && s.bytes_sent > 0,
            "{s:?}"
        );
        assert!(
            s.persists > 0 && s.batches > 0 && s.inputs_stepped >= s.batches,
            "{s:?}"
        );
        assert_eq!(s.fsyncs, 0, "memory storage never syncs");
        assert_eq!(s.connects, 2, "one connection per peer, never lost");
        h.shutdown().await;
    }
    assert!(
        handles[0].submit(1).await.is_err(),
        "a stopped node takes no requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_recovers_from_its_write_ahead_log_after_a_crash() {
    let dir = TempDir::new("crash");
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let boot = || {
        let mut cfg = Config::new(NodeId(0), addr, BTreeMap::new());
        cfg.data_dir = Some(dir.0.clone());
        cfg
    };
    let mut node = start(counter(), boot()).await.unwrap();
    let mut rx = node.indications;
    assert_eq!(rx.recv().await, Some(Ind::Started(0)));
    node.handle.submit(500).await.unwrap();
    // Released only after the fsync of the batch that applied it.
    let acknowledged = wait_for(&mut rx, "the request's answer", |ind| match ind {
        Ind::Added(k) => Some(*k),
        _ => None,
    })
    .await;
    let stats = node.handle.stats();
    assert!(stats.fsyncs > 0, "{stats:?}");
    assert!(
        stats.checkpoints >= 1 && stats.storage_bytes > 0,
        "{stats:?}"
    );
    node.handle.crash().await;

    // Independent of the node: read the directory with a fresh FileWal.
    let on_disk = {
        use synod_runtime::Storage;
        let mut wal = FileWal::<Count>::open(&dir.0, WalOptions::default()).unwrap();
        wal.load().unwrap().expect("a persisted count").0
    };
    assert!(
        on_disk >= acknowledged,
        "acknowledged {acknowledged}, on disk {on_disk}"
    );

    node = start(counter(), boot()).await.unwrap();
    let mut rx = node.indications;
    assert_eq!(rx.recv().await, Some(Ind::Started(on_disk)));
    node.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raft_replicates_a_register_over_tcp_with_write_ahead_logs() {
    let dir = TempDir::new("raft");
    let raft = Raft::new();
    let configs = cluster_configs(3).await;
    let wal_dir = dir.0.clone();
    let (handles, mut rx) = start_all(&raft, configs, move |id| {
        let wal = FileWal::open(wal_dir.join(id.to_string()), WalOptions::default()).unwrap();
        Box::new(wal)
    })
    .await;

    // Until a leader answers: every server gets the write; followers redirect.
    let mut attempt = 0;
    let written = loop {
        attempt += 1;
        assert!(attempt < 100, "no leader accepted the write");
        for h in &handles {
            h.submit(RegisterReq::Write {
                client: 1,
                value: 42,
            })
            .await
            .unwrap();
        }
        let answer = timeout(Duration::from_millis(300), async {
            while let Some((_, ind)) = rx.recv().await {
                if let RaftInd::Client(RegisterResp::WriteOk { client: 1 }) = ind {
                    return;
                }
            }
        })
        .await;
        if answer.is_ok() {
            break true;
        }
    };
    assert!(written);
    for h in &handles {
        h.submit(RegisterReq::Read { client: 2 }).await.unwrap();
    }
    let value = wait_for(&mut rx, "a read", |(_, ind)| match ind {
        RaftInd::Client(RegisterResp::ReadOk { client: 2, value }) => Some(*value),
        _ => None,
    })
    .await;
    assert_eq!(value, Some(42));
    let fsyncs: u64 = handles.iter().map(|h| h.stats().fsyncs).sum();
    assert!(fsyncs >= 3, "terms, votes and entries reached the disks");
    for h in &handles {
        h.shutdown().await;
    }
}
