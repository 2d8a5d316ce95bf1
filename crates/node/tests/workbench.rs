//! The example nodes under the real workbench: every correct example is judged valid, every
//! broken one is caught by its workload's checker with the anomaly its bug must cause.
//!
//! Runs are short (about 1.5 s of operations) and use faults where the workload promises to
//! survive them, so each test is a small end-to-end check of the router, the network, the
//! nemesis and the checker together.

use std::path::PathBuf;
use std::time::Duration;
use synod_workbench::report::parse_nemesis;
use synod_workbench::{workbench, Results, Settings};

fn run(
    workload: &str,
    bin: &str,
    nodes: usize,
    nemesis: &str,
    tweak: impl FnOnce(&mut Settings),
) -> Results {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "synod-wb-{workload}-{}-{}",
        std::path::Path::new(bin)
            .file_name()
            .unwrap()
            .to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut s = Settings::new(workload, bin).unwrap();
    s.node_count = nodes;
    s.concurrency = nodes;
    s.time_limit = Duration::from_millis(1000);
    s.rate = 60.0;
    s.net.latency = Duration::from_millis(2);
    s.nemesis = parse_nemesis(nemesis).unwrap();
    s.nemesis_interval = Duration::from_millis(400);
    s.recovery_wait = Duration::from_millis(800);
    s.op_timeout = Duration::from_secs(2);
    s.seed = 7;
    s.run_dir = dir.clone();
    tweak(&mut s);
    let r = workbench(&s).unwrap();
    // The run folder has what the issue promises.
    for f in [
        "results.json",
        "history.edn",
        "history.json",
        "messages.jsonl",
        "latency.svg",
        "lamport.svg",
        "index.html",
        "n0.log",
    ] {
        assert!(dir.join(f).is_file(), "{workload}/{bin}: {f} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn valid(r: &Results) {
    assert!(r.valid, "{}: {} ({})", r.workload, r.verdict, r.checker);
    assert!(r.ok > 0, "{}: some operations succeeded", r.workload);
    assert_eq!(r.misbehaviour.count, 0);
}

fn caught(r: &Results, what: &str) {
    assert!(!r.valid, "{}: the broken node passed", r.workload);
    assert!(
        r.verdict.contains(what),
        "{}: expected {what:?} in {:?}",
        r.workload,
        r.verdict
    );
}

#[test]
fn echo_nodes() {
    valid(&run("echo", env!("CARGO_BIN_EXE_echo"), 2, "", |_| {}));
    caught(
        &run("echo", env!("CARGO_BIN_EXE_broken-echo"), 2, "", |_| {}),
        "wrong echo",
    );
}

#[test]
fn unique_id_nodes_under_partitions() {
    let r = run(
        "unique-ids",
        env!("CARGO_BIN_EXE_unique-ids"),
        3,
        "partition",
        |s| s.availability = Some(1.0),
    );
    valid(&r);
    assert!(r.nemesis["faults_injected"].as_u64().unwrap() > 0);
    // Ids from the lin-tso service: strictly increasing numbers, whichever node asks.
    let r = run(
        "unique-ids",
        env!("CARGO_BIN_EXE_unique-ids"),
        3,
        "partition",
        |s| {
            s.availability = Some(1.0);
            s.node.args = vec!["--tso".into()];
        },
    );
    valid(&r);
    assert!(r.nemesis["faults_injected"].as_u64().unwrap() > 0);
    // Each generate cost a round trip to the oracle: about four messages per request
    // (request, ts, ts_ok, reply) where local ids take two.
    let (all, requests) = (
        r.net["all_msgs"].as_u64(),
        r.net["client_requests"].as_u64(),
    );
    assert!(all.unwrap() >= 3 * requests.unwrap(), "{}", r.net);
    caught(
        &run(
            "unique-ids",
            env!("CARGO_BIN_EXE_broken-unique-ids"),
            3,
            "",
            |_| {},
        ),
        "duplicated ids",
    );
}

#[test]
fn broadcast_nodes_under_partitions() {
    let r = run(
        "broadcast",
        env!("CARGO_BIN_EXE_broadcast"),
        5,
        "partition",
        |s| {
            s.node.args = vec!["--retry-ms".into(), "100".into()];
        },
    );
    valid(&r);
    assert!(r.stable_latencies.is_some() && r.msgs_per_op > 0.0);
    let r = run(
        "broadcast",
        env!("CARGO_BIN_EXE_broken-broadcast"),
        5,
        "",
        |_| {},
    );
    caught(&r, "lost");
}

#[test]
fn g_set_and_counter_nodes() {
    valid(&run(
        "g-set",
        env!("CARGO_BIN_EXE_g-set"),
        3,
        "partition",
        |_| {},
    ));
    valid(&run(
        "g-counter",
        env!("CARGO_BIN_EXE_g-counter"),
        3,
        "partition",
        |_| {},
    ));
    valid(&run(
        "pn-counter",
        env!("CARGO_BIN_EXE_pn-counter"),
        3,
        "",
        |_| {},
    ));
    caught(
        &run(
            "g-counter",
            env!("CARGO_BIN_EXE_broken-g-counter"),
            3,
            "",
            |_| {},
        ),
        "out of bounds",
    );
    // Merging gossip by replacement instead of union erases acknowledged elements.
    caught(
        &run("g-set", env!("CARGO_BIN_EXE_broken-g-set"), 3, "", |_| {}),
        "lost",
    );
}

#[test]
fn counters_on_the_kv_services() {
    // Each node's count under its own seq-kv key, changed by cas; reads sync through a
    // scratch write first. Nodes never talk to each other, so partitions change nothing.
    let r = run(
        "g-counter",
        env!("CARGO_BIN_EXE_g-counter-seq-kv"),
        3,
        "partition",
        |_| {},
    );
    valid(&r);
    assert!(r.nemesis["faults_injected"].as_u64().unwrap() > 0);
    assert_eq!(r.net["server_msgs"], 0, "the nodes only talk to seq-kv");
    // Read-modify-write of one lww-kv key: concurrent and cross-replica adds are lost.
    caught(
        &run(
            "g-counter",
            env!("CARGO_BIN_EXE_broken-g-counter-lww-kv"),
            3,
            "",
            |_| {},
        ),
        "out of bounds",
    );
}

#[test]
fn lin_kv_nodes() {
    valid(&run("lin-kv", env!("CARGO_BIN_EXE_lin-kv"), 3, "", |s| {
        s.rate = 120.0
    }));
    // Per-node maps: a read at one node misses a write acknowledged by another.
    let r = run("lin-kv", env!("CARGO_BIN_EXE_broken-lin-kv"), 3, "", |s| {
        s.rate = 120.0;
        s.workload_options.key_count = 1;
    });
    caught(&r, "not linearizable");
}

#[test]
fn a_garbage_printing_node_and_a_dying_node_are_reported_and_the_run_completes() {
    let dir = std::env::temp_dir().join(format!("synod-wb-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.sh");
    std::fs::write(
        &garbage,
        "#!/bin/sh\nwhile read -r line; do echo 'this is not json'; done\n",
    )
    .unwrap();
    let dies = dir.join("dies.sh");
    std::fs::write(&dies, "#!/bin/sh\nread -r line\nexit 3\n").unwrap();
    for f in [&garbage, &dies] {
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(f)
            .status()
            .unwrap();
    }
    let quick = |s: &mut Settings| {
        s.init_timeout = Duration::from_millis(800);
        s.time_limit = Duration::from_millis(500);
        s.op_timeout = Duration::from_millis(300);
    };
    let r = run("echo", garbage.to_str().unwrap(), 1, "", quick);
    assert!(!r.valid);
    assert!(
        r.misbehaviour.by_kind["not-json"] >= 1,
        "{:?}",
        r.misbehaviour
    );
    assert!(r.misbehaviour.by_kind.contains_key("no-init-ok"));
    assert_eq!(r.misbehaviour.examples[0].line, "this is not json");
    assert!(r.verdict.contains("not-json"), "{}", r.verdict);
    let r = run("echo", dies.to_str().unwrap(), 1, "", quick);
    assert!(!r.valid);
    let exit = r
        .misbehaviour
        .examples
        .iter()
        .find(|m| m.kind.name() == "early-exit")
        .expect("exit reported");
    assert!(exit.detail.contains("exit code 3"), "{}", exit.detail);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kafka_nodes() {
    let r = run("kafka", env!("CARGO_BIN_EXE_kafka"), 3, "", |s| {
        s.rate = 120.0
    });
    valid(&r);
    assert!(
        r.checker["polled_offsets"].as_u64().unwrap() > 0,
        "{}",
        r.checker
    );
    // Per-node offsets: two messages at one offset of a key.
    let r = run("kafka", env!("CARGO_BIN_EXE_broken-kafka"), 3, "", |s| {
        s.rate = 120.0;
        s.workload_options.key_count = 1;
    });
    caught(&r, "inconsistent-offsets");
}

#[test]
fn transactional_nodes() {
    for (w, bin) in [
        ("txn-rw-register", env!("CARGO_BIN_EXE_txn-rw-register")),
        ("txn-list-append", env!("CARGO_BIN_EXE_txn-list-append")),
    ] {
        let r = run(w, bin, 3, "", |s| s.rate = 120.0);
        valid(&r);
        assert_eq!(r.checker["isolation"], "strict-serializable");
    }
    // No isolation at all: the list-append checker sees the nodes disagree on orders and
    // finds cycles (it is prohibited from read-committed on).
    let r = run(
        "txn-list-append",
        env!("CARGO_BIN_EXE_broken-txn"),
        3,
        "",
        |s| {
            s.rate = 150.0;
            s.workload_options.key_count = 2;
            s.workload_options.isolation =
                synod_consistency::checkers::txn::Isolation::ReadCommitted;
        },
    );
    assert!(
        !r.valid,
        "no isolation passed read-committed: {}",
        r.checker
    );
    // Registers at strict-serializable: a read at one node misses a write another node
    // completed before the read began (a real-time anomaly), whatever the serial order.
    let r = run(
        "txn-rw-register",
        env!("CARGO_BIN_EXE_broken-txn"),
        3,
        "",
        |s| {
            s.rate = 150.0;
            s.workload_options.key_count = 2;
        },
    );
    assert_eq!(r.checker["isolation"], "strict-serializable");
    assert!(
        !r.valid,
        "no isolation passed strict-serializable: {}",
        r.checker
    );
}

/// Per directed link, which of its messages were lost, in order.
fn losses(journal: &std::path::Path) -> std::collections::BTreeMap<(String, String), Vec<bool>> {
    synod_workbench::journal::read_fates(journal)
        .unwrap()
        .into_iter()
        .map(|(link, fates)| {
            let lost = fates
                .iter()
                .map(|f| *f == synod_workbench::net::Fate::Lost)
                .collect();
            (link, lost)
        })
        .collect()
}

/// Per directed link, in sending order, whether each message was lost (`None`: a partition
/// cut it, which hides its loss draw).
fn loss_draws(
    journal: &std::path::Path,
) -> std::collections::BTreeMap<(String, String), Vec<Option<bool>>> {
    use synod_workbench::net::Fate;
    synod_workbench::journal::read_fates(journal)
        .unwrap()
        .into_iter()
        .map(|(link, fates)| {
            let draws = fates
                .iter()
                .map(|f| match f {
                    Fate::Cut => None,
                    f => Some(*f == Fate::Lost),
                })
                .collect();
            (link, draws)
        })
        .collect()
}

/// Per client (a process number modulo the concurrency, as Jepsen renames processes), the
/// operations it invoked, in order: function, key and value.
fn invocations(run_dir: &std::path::Path, concurrency: u64) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(run_dir.join("history.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut ops: Vec<&serde_json::Value> = doc["ops"].as_array().unwrap().iter().collect();
    ops.sort_by_key(|o| o["call"].as_u64());
    let mut per_client = vec![Vec::new(); concurrency as usize];
    for o in ops {
        let client = o["process"].as_u64().unwrap() % concurrency;
        per_client[client as usize].push(format!("{} {} {}", o["f"], o["key"], o["value"]));
    }
    per_client
}

/// The same seed gives the same client operations, network draws and fault schedule (the
/// nodes run in real time, so how far each client got may differ: prefixes are compared);
/// another seed gives others.
#[test]
fn the_same_seed_gives_the_same_operations_network_draws_and_faults() {
    let dir = std::env::temp_dir().join(format!("synod-wb-seed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // lin-kv draws each client's operations from the client's own stream (broadcast numbers
    // its elements globally, in real-time order), and its nodes only call the service;
    // broadcast nodes talk to each other, so their links show the network's draws.
    let go = |workload: &str, bin: &str, seed: u64, name: &str| {
        let mut s = Settings::new(workload, bin).unwrap();
        s.node_count = 3;
        s.concurrency = 3;
        s.time_limit = Duration::from_millis(1000);
        s.rate = 60.0;
        s.net.loss = 0.2;
        s.nemesis = parse_nemesis("partition,kill").unwrap();
        s.nemesis_interval = Duration::from_millis(160);
        s.recovery_wait = Duration::from_millis(300);
        s.op_timeout = Duration::from_millis(400);
        s.seed = seed;
        s.run_dir = dir.join(name);
        let r = workbench(&s).unwrap();
        let faults: Vec<String> = r.nemesis["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["what"].as_str().unwrap().to_string())
            .collect();
        let journal = dir.join(name).join("messages.jsonl");
        (
            invocations(&dir.join(name), 3),
            loss_draws(&journal),
            faults,
        )
    };
    let kv = env!("CARGO_BIN_EXE_lin-kv");
    let (ops_a, _, faults_a) = go("lin-kv", kv, 21, "a");
    let (ops_b, _, faults_b) = go("lin-kv", kv, 21, "b");
    let (ops_c, _, faults_c) = go("lin-kv", kv, 22, "c");
    let bc = env!("CARGO_BIN_EXE_broadcast");
    let (_, loss_a, _) = go("broadcast", bc, 21, "d");
    let (_, loss_b, _) = go("broadcast", bc, 21, "e");
    let (_, loss_c, _) = go("broadcast", bc, 22, "f");

    let prefix = |x: &[String], y: &[String]| x.iter().zip(y).take_while(|(a, b)| a == b).count();
    let mut same_ops = 0;
    for (a, b) in ops_a.iter().zip(&ops_b) {
        let k = a.len().min(b.len());
        assert_eq!(a[..k], b[..k], "same seed, same operations per client");
        same_ops += k;
    }
    assert!(same_ops >= 20, "compared {same_ops} operations");
    let differ = ops_a
        .iter()
        .zip(&ops_c)
        .any(|(a, c)| prefix(a, c) < a.len().min(c.len()));
    assert!(differ, "another seed, other operations");

    // Faults: the steps taken so far are the same in the same order.
    let k = faults_a.len().min(faults_b.len());
    assert!(k >= 4, "{faults_a:?}");
    assert_eq!(faults_a[..k], faults_b[..k]);
    let kc = faults_a.len().min(faults_c.len());
    assert_ne!(faults_a[..kc], faults_c[..kc], "another seed, other faults");

    // Network: the k-th message on each node-to-node link meets the same loss draw (where
    // neither run had the link cut at that moment: partitions begin in real time).
    let (mut same, mut other) = (0, 0);
    for (link, la) in loss_a
        .iter()
        .filter(|(l, _)| l.0.starts_with('n') && l.1.starts_with('n'))
    {
        let both = |lx: &Vec<Option<bool>>| {
            la.iter()
                .zip(lx)
                .filter_map(|(a, x)| Some((((*a)?), (*x)?)))
                .collect::<Vec<(bool, bool)>>()
        };
        if let Some(lb) = loss_b.get(link) {
            for (a, b) in both(lb) {
                assert_eq!(a, b, "{link:?}");
                same += 1;
            }
        }
        if let Some(lc) = loss_c.get(link) {
            other += both(lc).iter().filter(|(a, c)| a != c).count();
        }
    }
    assert!(same >= 20, "compared {same} node-to-node messages");
    assert!(other > 0, "another seed, other losses");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_replay_gives_each_link_the_recorded_fates_whatever_the_seed() {
    let dir = std::env::temp_dir().join(format!("synod-wb-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut s = Settings::new("broadcast", env!("CARGO_BIN_EXE_broadcast")).unwrap();
    s.node_count = 3;
    s.concurrency = 3;
    s.time_limit = Duration::from_millis(800);
    s.rate = 60.0;
    s.net.loss = 0.3;
    s.recovery_wait = Duration::from_millis(500);
    s.node.args = vec!["--retry-ms".into(), "50".into()];
    s.seed = 11;
    s.run_dir = dir.join("first");
    let first = workbench(&s).unwrap();
    assert!(first.valid, "{}", first.verdict);
    let mut again = synod_workbench::report::settings_of_run(&dir.join("first")).unwrap();
    assert_eq!((again.seed, again.node_count, again.net.loss), (11, 3, 0.3));
    // Another seed would lose other messages; the replay loses the recorded ones.
    again.seed = 12;
    again.run_dir = dir.join("second");
    let second = workbench(&again).unwrap();
    assert!(second.replayed.is_some());
    let (a, b) = (
        losses(&dir.join("first/messages.jsonl")),
        losses(&dir.join("second/messages.jsonl")),
    );
    let mut compared = 0;
    for (link, la) in &a {
        if link.0.starts_with('n') && link.1.starts_with('n') {
            let lb = &b[link];
            let k = la.len().min(lb.len());
            assert_eq!(la[..k], lb[..k], "{link:?}");
            compared += la[..k].iter().filter(|&&l| l).count();
        }
    }
    assert!(compared > 3, "some losses replayed ({compared})");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_synod_protocol_runs_as_a_broadcast_node() {
    // broadcast-rb is synod's eager reliable broadcast over perfect links, driven by the
    // node library's ProtocolNode: the same state machine the simulator runs.
    let r = run(
        "broadcast",
        env!("CARGO_BIN_EXE_broadcast-rb"),
        3,
        "partition",
        |s| s.node.args = vec!["--retry-ms".into(), "100".into()],
    );
    valid(&r);
}

#[test]
fn python_nodes() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/workbench/python");
    for (workload, file, nodes) in [
        ("echo", "echo.py", 1),
        ("broadcast", "broadcast.py", 3),
        ("g-counter", "g_counter.py", 3),
    ] {
        let bin = dir.join(file);
        valid(&run(workload, bin.to_str().unwrap(), nodes, "", |_| {}));
    }
}
