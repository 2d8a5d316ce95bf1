//! Each example node, driven over stdin/stdout through a scripted conversation (see
//! `harness`): the right answers, convergence after partitions, and the broken nodes' bugs.

mod harness;

use harness::{ints, Cluster};
use serde_json::{json, Value};
use std::time::Duration;

fn line_topology(c: &mut Cluster, n: usize) {
    let mut topology = serde_json::Map::new();
    for i in 0..n {
        let mut nbs = Vec::new();
        if i > 0 {
            nbs.push(format!("n{}", i - 1));
        }
        if i + 1 < n {
            nbs.push(format!("n{}", i + 1));
        }
        topology.insert(format!("n{i}"), json!(nbs));
    }
    for i in 0..n {
        let r = c.call(i, json!({"type": "topology", "topology": topology}));
        assert_eq!(r["type"], "topology_ok");
    }
}

fn read_messages(c: &mut Cluster, i: usize) -> Vec<i64> {
    let r = c.call(i, json!({"type": "read"}));
    assert_eq!(r["type"], "read_ok", "{r}");
    ints(&r["messages"])
}

fn read_value(c: &mut Cluster, i: usize) -> Value {
    let r = c.call(i, json!({"type": "read"}));
    assert_eq!(r["type"], "read_ok", "{r}");
    r["value"].clone()
}

/// Broadcasts `m` at node `i`.
fn broadcast(c: &mut Cluster, i: usize, m: i64) {
    let r = c.call(i, json!({"type": "broadcast", "message": m}));
    assert_eq!(r["type"], "broadcast_ok", "{r}");
}

#[test]
fn echo_answers_with_what_it_got_and_survives_garbage() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_echo"), &[], 1);
    for v in [json!("hi"), json!(17), json!({"nested": [1, null, "x"]})] {
        let r = c.call(0, json!({"type": "echo", "echo": v}));
        assert_eq!(r["type"], "echo_ok");
        assert_eq!(r["echo"], v);
    }
    c.write_line(0, "this is not json");
    c.write_line(0, r#"{"src":"c1","dest":"n0","body":{"msg_id":3}}"#);
    let r = c.call(0, json!({"type": "echo", "echo": "still here"}));
    assert_eq!(r["echo"], "still here");
    let r = c.call(0, json!({"type": "frobnicate"}));
    assert_eq!(
        (r["type"].as_str(), r["code"].as_i64()),
        (Some("error"), Some(10))
    );
    assert!(c.shutdown(), "the node exits cleanly when stdin closes");
}

#[test]
fn broken_echo_answers_something_else() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-echo"), &[], 1);
    for v in [json!("hi"), json!(17), json!("")] {
        let r = c.call(0, json!({"type": "echo", "echo": v}));
        assert_eq!(r["type"], "echo_ok");
        assert_ne!(r["echo"], v);
    }
}

#[test]
fn unique_ids_are_unique_across_nodes() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_unique-ids"), &[], 3);
    let mut seen = std::collections::HashSet::new();
    for k in 0..60 {
        let r = c.call(k % 3, json!({"type": "generate"}));
        assert_eq!(r["type"], "generate_ok");
        assert!(seen.insert(r["id"].to_string()), "duplicate id {}", r["id"]);
    }
}

#[test]
fn broken_unique_ids_repeat_across_nodes() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-unique-ids"), &[], 2);
    let a: Vec<Value> = (0..3)
        .map(|_| c.call(0, json!({"type": "generate"}))["id"].clone())
        .collect();
    let b: Vec<Value> = (0..3)
        .map(|_| c.call(1, json!({"type": "generate"}))["id"].clone())
        .collect();
    assert!(
        a.iter().any(|x| b.contains(x)),
        "no duplicate between {a:?} and {b:?}"
    );
}

#[test]
fn broadcast_gossips_along_the_topology_and_retries_after_a_partition() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broadcast"), &["--retry-ms", "100"], 3);
    line_topology(&mut c, 3);
    c.cut("n1", "n2");
    broadcast(&mut c, 0, 1);
    broadcast(&mut c, 2, 2);
    assert!(c.eventually(|c| read_messages(c, 1) == vec![1]));
    c.pump(Duration::from_millis(150));
    assert_eq!(read_messages(&mut c, 2), vec![2], "n2 is cut off");
    c.heal();
    for i in 0..3 {
        assert!(
            c.eventually(|c| read_messages(c, i) == vec![1, 2]),
            "n{i} never got both"
        );
    }
    assert_eq!(
        c.msgs_between("n0", "n2"),
        0,
        "n0 and n2 are not neighbours"
    );
}

#[test]
fn broadcast_batch_converges_over_its_star() {
    let args = ["--interval-ms", "20", "--retry-ms", "100"];
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broadcast-batch"), &args, 4);
    line_topology(&mut c, 4); // acknowledged, ignored
    c.cut("n0", "n3");
    for i in 0..4 {
        broadcast(&mut c, i, 10 + i as i64);
    }
    assert!(c.eventually(|c| read_messages(c, 1) == vec![10, 11, 12]));
    c.heal();
    for i in 0..4 {
        assert!(
            c.eventually(|c| read_messages(c, i) == vec![10, 11, 12, 13]),
            "n{i}"
        );
    }
    let off_star = c
        .node_msgs
        .iter()
        .filter(|(s, d, _)| s != "n0" && d != "n0")
        .count();
    assert_eq!(off_star, 0, "every message goes through the hub");
}

#[test]
fn broadcast_rb_runs_the_synod_protocol_through_a_partition() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broadcast-rb"), &["--retry-ms", "50"], 3);
    let r = c.call(0, json!({"type": "topology", "topology": {}}));
    assert_eq!(r["type"], "topology_ok");
    c.isolate(2);
    broadcast(&mut c, 0, 1);
    broadcast(&mut c, 1, 2);
    assert!(c.eventually(|c| read_messages(c, 0) == vec![1, 2]));
    c.pump(Duration::from_millis(100));
    assert!(read_messages(&mut c, 2).is_empty(), "n2 is isolated");
    c.heal();
    for i in 0..3 {
        assert!(c.eventually(|c| read_messages(c, i) == vec![1, 2]), "n{i}");
    }
    assert!(c.node_msgs.iter().all(|(_, _, t)| t == "synod"));
    let r = c.call(1, json!({"type": "broadcast", "message": -1}));
    assert_eq!(
        r["code"], 12,
        "a negative message is malformed for this node: {r}"
    );
}

#[test]
fn flood_sends_each_broadcast_once_to_every_peer() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_flood"), &[], 4);
    broadcast(&mut c, 0, 7);
    broadcast(&mut c, 2, 8);
    for i in 0..4 {
        assert!(c.eventually(|c| read_messages(c, i) == vec![7, 8]), "n{i}");
    }
    c.pump(Duration::from_millis(50));
    assert_eq!(c.node_msgs.len(), 2 * 3, "n - 1 messages per broadcast");
}

#[test]
fn broken_broadcast_never_gossips() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-broadcast"), &[], 2);
    broadcast(&mut c, 0, 1);
    broadcast(&mut c, 1, 2);
    c.pump(Duration::from_millis(100));
    assert_eq!(read_messages(&mut c, 0), vec![1]);
    assert_eq!(read_messages(&mut c, 1), vec![2]);
    assert!(c.node_msgs.is_empty());
}

#[test]
fn g_set_converges_after_a_partition() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_g-set"), &["--interval-ms", "20"], 3);
    c.isolate(2);
    for (i, e) in [(0, 1), (1, 2), (2, 3), (0, 4)] {
        let r = c.call(i, json!({"type": "add", "element": e}));
        assert_eq!(r["type"], "add_ok");
    }
    assert!(c.eventually(|c| ints(&read_value(c, 1)) == vec![1, 2, 4]));
    assert_eq!(ints(&read_value(&mut c, 2)), vec![3]);
    c.heal();
    for i in 0..3 {
        assert!(
            c.eventually(|c| ints(&read_value(c, i)) == vec![1, 2, 3, 4]),
            "n{i}"
        );
    }
}

fn add(c: &mut Cluster, i: usize, delta: i64) {
    let r = c.call(i, json!({"type": "add", "delta": delta}));
    assert_eq!(r["type"], "add_ok", "{r}");
}

#[test]
fn g_counter_converges_to_the_sum() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_g-counter"), &["--interval-ms", "20"], 3);
    c.isolate(0);
    add(&mut c, 0, 1);
    add(&mut c, 1, 2);
    add(&mut c, 2, 3);
    add(&mut c, 2, 4);
    assert!(c.eventually(|c| read_value(c, 1) == 9));
    assert_eq!(read_value(&mut c, 0), 1, "n0 is isolated");
    c.heal();
    for i in 0..3 {
        assert!(c.eventually(|c| read_value(c, i) == 10), "n{i}");
    }
    let r = c.call(1, json!({"type": "add", "delta": -1}));
    assert_eq!(r["code"], 12, "{r}");
}

#[test]
fn pn_counter_converges_with_decrements() {
    let mut c = Cluster::start(
        env!("CARGO_BIN_EXE_pn-counter"),
        &["--interval-ms", "20"],
        3,
    );
    c.isolate(1);
    add(&mut c, 0, 5);
    add(&mut c, 1, -2);
    add(&mut c, 2, 1);
    add(&mut c, 0, -7);
    assert!(c.eventually(|c| read_value(c, 2) == -1));
    c.heal();
    for i in 0..3 {
        assert!(c.eventually(|c| read_value(c, i) == -3), "n{i}");
    }
}

#[test]
fn broken_g_counter_never_replicates() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-g-counter"), &[], 2);
    add(&mut c, 0, 5);
    add(&mut c, 1, 3);
    c.pump(Duration::from_millis(100));
    assert_eq!(read_value(&mut c, 0), 5);
    assert_eq!(read_value(&mut c, 1), 3);
    assert!(c.node_msgs.is_empty());
}

#[test]
fn lin_kv_proxies_to_the_service() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_lin-kv"), &["--timeout-ms", "100"], 2);
    let r = c.call(0, json!({"type": "read", "key": 1}));
    assert_eq!(r["code"], 20, "{r}");
    let r = c.call(0, json!({"type": "write", "key": 1, "value": 10}));
    assert_eq!(r["type"], "write_ok");
    let r = c.call(1, json!({"type": "read", "key": 1}));
    assert_eq!(
        (r["type"].as_str(), &r["value"]),
        (Some("read_ok"), &json!(10))
    );
    let r = c.call(1, json!({"type": "cas", "key": 1, "from": 10, "to": 11}));
    assert_eq!(r["type"], "cas_ok");
    let r = c.call(0, json!({"type": "cas", "key": 1, "from": 10, "to": 12}));
    assert_eq!(r["code"], 22, "{r}");
    let r = c.call(0, json!({"type": "cas", "key": 2, "from": 0, "to": 1}));
    assert_eq!(r["code"], 20, "{r}");
    assert_eq!(c.call(0, json!({"type": "read", "key": 1}))["value"], 11);
    // The service out of reach: an indefinite timeout, not a made-up answer.
    c.cut("n1", "lin-kv");
    let r = c.call(1, json!({"type": "write", "key": 1, "value": 99}));
    assert_eq!(
        (r["type"].as_str(), r["code"].as_i64()),
        (Some("error"), Some(0))
    );
}

#[test]
fn broken_lin_kv_keeps_a_map_per_node() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-lin-kv"), &[], 2);
    let r = c.call(0, json!({"type": "write", "key": 1, "value": 10}));
    assert_eq!(r["type"], "write_ok");
    assert_eq!(c.call(0, json!({"type": "read", "key": 1}))["value"], 10);
    let r = c.call(1, json!({"type": "read", "key": 1}));
    assert_eq!(r["code"], 20, "a completed write is invisible at n1: {r}");
    let r = c.call(1, json!({"type": "cas", "key": 1, "from": 10, "to": 11}));
    assert_eq!(r["code"], 20, "{r}");
}

#[test]
fn kafka_owner_numbers_every_log_without_gaps() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_kafka"), &[], 3);
    let send = |c: &mut Cluster, i: usize, key: &str, m: i64| {
        let r = c.call(i, json!({"type": "send", "key": key, "msg": m}));
        assert_eq!(r["type"], "send_ok", "{r}");
        r["offset"].as_u64().unwrap()
    };
    assert_eq!(send(&mut c, 1, "k1", 100), 0);
    assert_eq!(send(&mut c, 2, "k1", 101), 1);
    assert_eq!(send(&mut c, 0, "k2", 200), 0);
    assert_eq!(send(&mut c, 2, "k1", 102), 2);
    let r = c.call(
        2,
        json!({"type": "poll", "offsets": {"k1": 1, "k2": 0, "k3": 0}}),
    );
    assert_eq!(r["type"], "poll_ok");
    assert_eq!(
        r["msgs"],
        json!({"k1": [[1, 101], [2, 102]], "k2": [[0, 200]]})
    );
    let r = c.call(1, json!({"type": "commit_offsets", "offsets": {"k1": 2}}));
    assert_eq!(r["type"], "commit_offsets_ok");
    let r = c.call(
        2,
        json!({"type": "list_committed_offsets", "keys": ["k1", "k2"]}),
    );
    assert_eq!(r["offsets"], json!({"k1": 2}));
}

#[test]
fn broken_kafka_gives_one_offset_to_two_messages() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-kafka"), &[], 2);
    let a = c.call(0, json!({"type": "send", "key": "k", "msg": 1}));
    let b = c.call(1, json!({"type": "send", "key": "k", "msg": 2}));
    assert_eq!(a["type"], "send_ok");
    assert_eq!(a["offset"], b["offset"], "both at one offset");
}

fn txn(c: &mut Cluster, i: usize, ops: Value) -> Value {
    let r = c.call(i, json!({"type": "txn", "txn": ops}));
    assert_eq!(r["type"], "txn_ok", "{r}");
    r["txn"].clone()
}

#[test]
fn txn_rw_register_runs_transactions_at_the_owner() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_txn-rw-register"), &[], 3);
    let t = txn(
        &mut c,
        1,
        json!([["r", 1, null], ["w", 1, 10], ["r", 1, null]]),
    );
    assert_eq!(t, json!([["r", 1, null], ["w", 1, 10], ["r", 1, 10]]));
    let t = txn(&mut c, 2, json!([["r", 1, null], ["w", 2, 20]]));
    assert_eq!(t, json!([["r", 1, 10], ["w", 2, 20]]));
    let t = txn(&mut c, 0, json!([["r", 2, null]]));
    assert_eq!(t, json!([["r", 2, 20]]));
    let r = c.call(1, json!({"type": "txn", "txn": [["append", 1, 3]]}));
    assert_eq!(r["code"], 12, "{r}");
}

#[test]
fn txn_list_append_orders_appends_from_every_node() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_txn-list-append"), &[], 3);
    txn(&mut c, 1, json!([["append", 5, 1]]));
    txn(&mut c, 2, json!([["append", 5, 2], ["append", 6, 1]]));
    let t = txn(
        &mut c,
        0,
        json!([
            ["r", 5, null],
            ["append", 5, 3],
            ["r", 5, null],
            ["r", 7, null]
        ]),
    );
    assert_eq!(
        t,
        json!([
            ["r", 5, [1, 2]],
            ["append", 5, 3],
            ["r", 5, [1, 2, 3]],
            ["r", 7, null]
        ])
    );
}

#[test]
fn broken_txn_lets_two_transactions_miss_each_other() {
    let mut c = Cluster::start(env!("CARGO_BIN_EXE_broken-txn"), &[], 2);
    // Write skew: each reads the key the other writes, both see nothing. In any serial order
    // the second would have seen the first's write.
    let t1 = txn(&mut c, 0, json!([["r", "y", null], ["w", "x", 1]]));
    let t2 = txn(&mut c, 1, json!([["r", "x", null], ["w", "y", 1]]));
    assert_eq!(t1[0][2], Value::Null);
    assert_eq!(t2[0][2], Value::Null);
    // Appends at two nodes give two histories of one list, neither a prefix of the other.
    txn(&mut c, 0, json!([["append", "l", 1]]));
    txn(&mut c, 1, json!([["append", "l", 2]]));
    assert_eq!(txn(&mut c, 0, json!([["r", "l", null]]))[0][2], json!([1]));
    assert_eq!(txn(&mut c, 1, json!([["r", "l", null]]))[0][2], json!([2]));
}
