//! The Python example nodes (`examples/workbench/python/`), driven like the Rust ones.
//! Skipped, with a note, where no `python3` is on the PATH.

mod harness;

use harness::{ints, Cluster};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

/// The script's path, or `None` (and a note) if Python is missing.
fn script(name: &str) -> Option<String> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("python3 not found: skipping {name}");
        return None;
    }
    Some(format!(
        "{}/../../examples/workbench/python/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

#[test]
fn python_echo() {
    let Some(bin) = script("echo.py") else { return };
    let mut c = Cluster::start(&bin, &[], 1);
    let r = c.call(0, json!({"type": "echo", "echo": {"a": [1, 2]}}));
    assert_eq!(r["type"], "echo_ok");
    assert_eq!(r["echo"], json!({"a": [1, 2]}));
    c.write_line(0, "garbage");
    let r = c.call(0, json!({"type": "nope"}));
    assert_eq!(r["code"], 10);
    assert!(c.shutdown());
}

#[test]
fn python_broadcast_retries_after_a_partition() {
    let Some(bin) = script("broadcast.py") else {
        return;
    };
    let mut c = Cluster::start(&bin, &["--retry-ms", "100"], 3);
    let topology = json!({"n0": ["n1"], "n1": ["n0", "n2"], "n2": ["n1"]});
    for i in 0..3 {
        let r = c.call(i, json!({"type": "topology", "topology": topology}));
        assert_eq!(r["type"], "topology_ok");
    }
    c.cut("n1", "n2");
    for (i, m) in [(0, 1), (2, 2)] {
        let r = c.call(i, json!({"type": "broadcast", "message": m}));
        assert_eq!(r["type"], "broadcast_ok");
    }
    c.pump(Duration::from_millis(150));
    let read = |c: &mut Cluster, i| ints(&c.call(i, json!({"type": "read"}))["messages"]);
    assert_eq!(read(&mut c, 2), vec![2]);
    c.heal();
    for i in 0..3 {
        assert!(c.eventually(|c| read(c, i) == vec![1, 2]), "n{i}");
    }
    assert_eq!(c.msgs_between("n0", "n2"), 0);
}

#[test]
fn python_g_counter_converges() {
    let Some(bin) = script("g_counter.py") else {
        return;
    };
    let mut c = Cluster::start(&bin, &["--interval-ms=20"], 3);
    c.isolate(2);
    for (i, d) in [(0, 1), (1, 2), (2, 4)] {
        let r = c.call(i, json!({"type": "add", "delta": d}));
        assert_eq!(r["type"], "add_ok");
    }
    let read = |c: &mut Cluster, i| c.call(i, json!({"type": "read"}))["value"].clone();
    assert!(c.eventually(|c| read(c, 0) == 3));
    c.heal();
    for i in 0..3 {
        assert!(c.eventually(|c| read(c, i) == 7), "n{i}");
    }
}
