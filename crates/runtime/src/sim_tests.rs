//! Deterministic tests of a whole node (driver, transport, faults, recovery) in turmoil's
//! simulated network: this crate's `net` module swaps tokio's sockets for turmoil's under
//! `cfg(test)`, and turmoil's clock drives tokio's, so every run with the printed seed is the
//! same run.

#[path = "../tests/common/counter.rs"]
mod counter;

use crate::wire::{decode, encode_frame, FrameReader, Hello, HelloReply, Role, VERSION};
use crate::{connect_client, start_on, Config, Handle, Listener, MemStorage};
use counter::{Count, Counter, Ind, Msg};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use synod_core::NodeId;
use tokio::io::AsyncWriteExt;

const SEED: u64 = 0x5eed_0042;
const PORT: u16 = 9000;
const CLUSTER: u64 = 7;

/// Every indication of the run: (node, indication).
type Log = Arc<Mutex<Vec<(NodeId, Ind)>>>;
/// The current incarnation of each node.
type Handles = Arc<Mutex<BTreeMap<NodeId, Handle<Counter>>>>;

struct Cluster {
    sim: turmoil::Sim<'static>,
    log: Log,
    handles: Handles,
}

fn host(id: NodeId) -> String {
    format!("n{}", id.0)
}

fn config(id: NodeId, n: usize) -> Config {
    let peers = NodeId::all(n)
        .filter(|p| *p != id)
        .map(|p| (p, SocketAddr::new(turmoil::lookup(host(p)), PORT)))
        .collect();
    let listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT);
    let mut cfg = Config::new(id, listen, peers);
    cfg.seed = SEED;
    cfg.cluster = CLUSTER;
    cfg
}

impl Cluster {
    /// `n` counter nodes ticking every 10 ms; node `i` keeps its durable state in `storage[i]`.
    fn new(storage: &[MemStorage<Count>]) -> Cluster {
        eprintln!("turmoil seed {SEED:#x}");
        let sim = turmoil::Builder::new()
            .rng_seed(SEED)
            .simulation_duration(Duration::from_secs(3600))
            .build();
        let mut c = Cluster {
            sim,
            log: Log::default(),
            handles: Handles::default(),
        };
        let n = storage.len();
        for (id, s) in NodeId::all(n).zip(storage) {
            let (log, handles, s) = (c.log.clone(), c.handles.clone(), s.clone());
            c.sim.host(host(id), move || {
                let (log, handles, s) = (log.clone(), handles.clone(), s.clone());
                async move {
                    let cfg = config(id, n);
                    let listener = Listener::bind(cfg.listen).await?;
                    let protocol = Counter {
                        period: synod_core::Duration::from_millis(10),
                    };
                    let mut node = start_on(protocol, cfg, listener, s).await?;
                    handles.lock().unwrap().insert(id, node.handle.clone());
                    tokio::spawn(echo_clients(node.clients));
                    while let Some(ind) = node.indications.recv().await {
                        log.lock().unwrap().push((id, ind));
                    }
                    Ok(())
                }
            });
        }
        c
    }

    fn handle(&self, id: NodeId) -> Handle<Counter> {
        self.handles.lock().unwrap()[&id].clone()
    }

    /// The counts `at` heard from `from`, in arrival order.
    fn heard(&self, at: NodeId, from: NodeId) -> Vec<u64> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter_map(|(node, ind)| match ind {
                Ind::Heard(f, k) if *node == at && *f == from => Some(*k),
                _ => None,
            })
            .collect()
    }

    /// Steps the simulation (1 ms a step) until `done`, for at most 20 simulated seconds.
    fn run_until(&mut self, what: &str, mut done: impl FnMut(&Cluster) -> bool) {
        for _ in 0..20_000 {
            if done(self) {
                return;
            }
            self.sim.step().unwrap();
        }
        panic!("not reached within 20 simulated seconds: {what}");
    }

    fn run_for(&mut self, steps: usize) {
        for _ in 0..steps {
            self.sim.step().unwrap();
        }
    }
}

async fn echo_clients(mut clients: tokio::sync::mpsc::Receiver<crate::ClientConn>) {
    while let Some(mut conn) = clients.recv().await {
        tokio::spawn(async move {
            while let Ok(Some(frame)) = conn.recv().await {
                if conn.send(&frame).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn storages(n: usize) -> Vec<MemStorage<Count>> {
    (0..n).map(|_| MemStorage::new()).collect()
}

#[test]
fn messages_stop_under_a_partition_and_resume_after_healing() {
    let (n0, n1, n2) = (NodeId(0), NodeId(1), NodeId(2));
    let mut c = Cluster::new(&storages(3));
    c.run_until("every node hears every peer", |c| {
        NodeId::all(3).all(|a| NodeId::all(3).all(|b| a == b || c.heard(a, b).len() >= 3))
    });

    c.handle(n0).faults().partition(n1);
    c.run_for(50); // let messages already past the fault layer land
    let cut = (c.heard(n0, n1).len(), c.heard(n1, n0).len());
    let other = c.heard(n0, n2).len();
    c.run_for(1000);
    assert_eq!((c.heard(n0, n1).len(), c.heard(n1, n0).len()), cut);
    assert!(c.heard(n0, n2).len() >= other + 50, "n2 still reaches n0");
    assert!(c.handle(n0).stats().dropped_by_fault >= 100);

    c.handle(n0).faults().heal(n1);
    c.run_until("the healed link carries messages both ways", |c| {
        c.heard(n0, n1).len() > cut.0 + 5 && c.heard(n1, n0).len() > cut.1 + 5
    });
}

#[test]
fn one_way_faults_and_delays_act_per_direction() {
    let (n0, n1) = (NodeId(0), NodeId(1));
    let mut c = Cluster::new(&storages(2));
    c.run_until("both hear each other", |c| {
        !c.heard(n0, n1).is_empty() && !c.heard(n1, n0).is_empty()
    });
    c.handle(n0).faults().block_outgoing(n1);
    c.run_for(50);
    let (to_n1, to_n0) = (c.heard(n1, n0).len(), c.heard(n0, n1).len());
    c.run_for(500);
    assert_eq!(c.heard(n1, n0).len(), to_n1, "n0 -> n1 is cut");
    assert!(c.heard(n0, n1).len() >= to_n0 + 25, "n1 -> n0 still flows");

    // A 300 ms delay: nothing of n0's arrives for a while after healing, then it flows.
    c.handle(n0).faults().heal(n1);
    c.handle(n0)
        .faults()
        .set_delay(None, synod_core::Duration::from_millis(300));
    c.run_for(250);
    assert_eq!(c.heard(n1, n0).len(), to_n1, "delayed");
    c.run_until("delayed messages arrive", |c| {
        c.heard(n1, n0).len() > to_n1 + 5
    });
}

#[test]
fn a_restarted_node_recovers_its_persisted_count() {
    let (n0, n2) = (NodeId(0), NodeId(2));
    let storage = storages(3);
    let kept = storage[2].clone();
    let mut c = Cluster::new(&storage);
    // Contract point 3, checked at every step: a count is on storage before any peer hears it.
    let durable_first = |c: &Cluster| {
        let stored = kept.get().map_or(0, |d| d.0);
        let heard = c.heard(n0, n2).into_iter().max().unwrap_or(0);
        assert!(
            heard <= stored,
            "n0 heard {heard} but n2 had persisted {stored}"
        );
    };
    c.run_until("n0 hears n2 count to 5", |c| {
        durable_first(c);
        c.heard(n0, n2).len() >= 5
    });

    c.sim.crash(host(n2));
    let at_crash = kept.get().expect("n2 persisted").0;
    assert!(at_crash >= 5);
    c.run_for(100);
    c.sim.bounce(host(n2));
    let started = |c: &Cluster| -> Vec<u64> {
        let log = c.log.lock().unwrap();
        log.iter()
            .filter_map(|(node, ind)| match ind {
                Ind::Started(k) if *node == n2 => Some(*k),
                _ => None,
            })
            .collect()
    };
    c.run_until("n2 restarts", |c| started(c).len() == 2);
    assert_eq!(
        started(&c),
        vec![0, at_crash],
        "init, then recover from storage"
    );
    c.run_until("n0 hears n2 count on from where it stopped", |c| {
        durable_first(c);
        c.heard(n0, n2).last().is_some_and(|k| *k > at_crash + 3)
    });
}

/// Connects to `addr`, sends `hello`, and returns the reply and the connection.
async fn raw_hello(
    addr: SocketAddr,
    hello: &Hello,
) -> (
    HelloReply,
    FrameReader<crate::net::OwnedReadHalf>,
    crate::net::OwnedWriteHalf,
) {
    let stream = crate::net::TcpStream::connect(addr).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut frame = Vec::new();
    encode_frame(hello, &mut frame).unwrap();
    wr.write_all(&frame).await.unwrap();
    let mut reader = FrameReader::new(rd, 1 << 16);
    let reply = reader.next_frame().await.unwrap().expect("a reply");
    (decode(&reply).unwrap(), reader, wr)
}

#[test]
fn bad_hellos_and_bad_frames_are_counted_not_fatal() {
    let (n0, n1) = (NodeId(0), NodeId(1));
    let mut c = Cluster::new(&storages(2));
    let log = c.log.clone();
    c.sim.client("mallory", async move {
        let addr = SocketAddr::new(turmoil::lookup("n0"), PORT);
        let good = Hello::new(CLUSTER, Role::Peer(n1));
        let bad = [
            (
                Hello {
                    version: VERSION + 1,
                    ..good.clone()
                },
                "wire version",
            ),
            (
                Hello {
                    cluster: CLUSTER + 1,
                    ..good.clone()
                },
                "cluster id",
            ),
            (
                Hello::new(CLUSTER, Role::Peer(NodeId(9))),
                "not a node of this cluster",
            ),
            (Hello::new(CLUSTER, Role::Peer(n0)), "own id"),
        ];
        for (hello, why) in bad {
            let (reply, mut reader, _wr) = raw_hello(addr, &hello).await;
            match reply {
                HelloReply::Reject { reason } => assert!(reason.contains(why), "{reason}"),
                welcome => panic!("{hello:?} got {welcome:?}"),
            }
            assert!(
                matches!(reader.next_frame().await, Ok(None)),
                "closed after a reject"
            );
        }

        // Posing as n1: a payload that is no message, then a real one on the same connection.
        let (reply, mut reader, mut wr) = raw_hello(addr, &good).await;
        assert_eq!(reply, HelloReply::Welcome { node: n0 });
        let mut frames = vec![0, 0, 0, 3, 0xff, 0xff, 0xff];
        encode_frame(&Msg::Tick(999), &mut frames).unwrap();
        wr.write_all(&frames).await.unwrap();
        while !log.lock().unwrap().contains(&(n0, Ind::Heard(n1, 999))) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // A 4 GiB length prefix: the node closes the connection.
        wr.write_all(&[0xff; 4]).await.unwrap();
        assert!(
            !matches!(reader.next_frame().await, Ok(Some(_))),
            "closed after oversize"
        );
        Ok(())
    });
    c.sim.run().unwrap();
    let stats = c.handle(n0).stats();
    let r = &stats.rejected;
    assert_eq!(
        (r.version, r.cluster, r.unknown_peer, r.own_id),
        (1, 1, 1, 1)
    );
    assert_eq!(r.total(), 4);
    assert_eq!(stats.frames_malformed, 1);
    assert_eq!(stats.frames_oversized, 1);
}

#[test]
fn clients_exchange_frames_with_the_application() {
    let mut c = Cluster::new(&storages(2));
    c.sim.client("client", async {
        let addr = SocketAddr::new(turmoil::lookup("n1"), PORT);
        let mut conn = connect_client(addr, CLUSTER, Duration::from_secs(1)).await?;
        assert_eq!(conn.node(), NodeId(1));
        for frame in [&b"hello"[..], b"", &[7; 5000]] {
            conn.send(frame).await?;
            assert_eq!(conn.recv().await?.as_deref(), Some(frame));
        }
        let refused = connect_client(addr, CLUSTER + 1, Duration::from_secs(1)).await;
        let err = refused.expect_err("another cluster is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        Ok(())
    });
    c.sim.run().unwrap();
    assert_eq!(c.handle(NodeId(1)).stats().clients_accepted, 1);
}

#[test]
fn a_fast_clock_fires_timers_sooner() {
    let (n0, n1) = (NodeId(0), NodeId(1));
    let mut c = Cluster::new(&storages(2));
    c.run_until("both hear each other", |c| {
        !c.heard(n0, n1).is_empty() && !c.heard(n1, n0).is_empty()
    });
    c.handle(n0).faults().set_clock_rate(2.0);
    c.run_for(20); // the timer set at the old rate fires first
    let (fast, slow) = (c.heard(n1, n0).len(), c.heard(n0, n1).len());
    c.run_for(1000);
    let fast = c.heard(n1, n0).len() - fast;
    let slow = c.heard(n0, n1).len() - slow;
    // 10 ms local periods: about 200 ticks in a simulated second at rate 2, 100 at rate 1
    // (turmoil's 1 ms steps round each timer up a little).
    let ratio = fast as f64 / slow as f64;
    assert!(
        slow >= 90 && (1.7..=2.1).contains(&ratio),
        "{fast} vs {slow}"
    );
}
