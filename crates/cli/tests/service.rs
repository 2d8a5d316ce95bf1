//! The real service end to end: `synod cluster up`, `synod kv`, killing the leader with
//! SIGKILL, restarting it from its log, `synod cluster down`; and the user-error paths.

mod common;
use common::{json, synod};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn pid_of(dir: &Path, node: &str) -> u32 {
    let text = std::fs::read_to_string(dir.join("cluster.toml")).unwrap();
    let id: u32 = node[1..].parse().unwrap();
    let file: toml::Value = toml::from_str(&text).unwrap();
    file["node"][id as usize]["pid"].as_integer().unwrap() as u32
}

/// Stops the cluster even if the test fails half-way.
struct Down<'a>(&'a str);
impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = synod(&["cluster", "down", "--dir", self.0]);
    }
}

#[test]
fn a_cluster_serves_get_put_cas_and_survives_the_loss_of_its_leader() {
    let dir = std::env::temp_dir().join(format!("synod-service-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let up = synod(&[
        "cluster",
        "up",
        "--nodes",
        "3",
        "--dir",
        d,
        "--heartbeat-ms",
        "50",
        "--election-ms",
        "300",
        "--json",
    ]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let _down = Down(d);
    assert_eq!(json(&up)["nodes"].as_array().unwrap().len(), 3);

    let put = synod(&["kv", "put", "k", "v1", "--dir", d, "--json"]);
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let leader = json(&put)["leader"].as_str().unwrap().to_string();
    let get = synod(&["kv", "get", "k", "--dir", d]);
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "v1");

    // compare-and-set: the right expectation swaps, a wrong one changes nothing (exit 1).
    assert!(synod(&["kv", "cas", "k", "v2", "--from", "v1", "--dir", d])
        .status
        .success());
    let wrong = synod(&["kv", "cas", "k", "v3", "--from", "v1", "--dir", d]);
    assert_eq!(wrong.status.code(), Some(1));
    let absent = synod(&["kv", "cas", "fresh", "x", "--dir", d]);
    assert!(
        absent.status.success(),
        "cas on an absent key without --from"
    );

    // kill -9 the leader: the two others elect a new one and keep serving, with every
    // acknowledged write.
    let pid = pid_of(&dir, &leader);
    assert!(Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let put = synod(&["kv", "put", "k", "v4", "--dir", d, "--json"]);
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    assert_ne!(
        json(&put)["leader"].as_str().unwrap(),
        leader,
        "a new leader"
    );
    let get = synod(&["kv", "get", "fresh", "--dir", d]);
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "x");

    // The old leader restarts from its write-ahead log and catches up.
    let log = std::fs::File::create(dir.join("restart.log")).unwrap();
    let mut back = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args([
            "node",
            "--config",
            &format!("{d}/cluster.toml"),
            "--id",
            &leader,
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let restart_log = std::fs::read_to_string(dir.join("restart.log")).unwrap();
    assert!(
        restart_log.contains("recover"),
        "the restarted replica recovers from its log: {restart_log}"
    );
    let _ = back.kill();
    let _ = back.wait();
}

#[test]
fn user_mistakes_get_one_line_errors() {
    let no_dir = synod(&["kv", "get", "k", "--dir", "/nonexistent/synod"]);
    assert_eq!(no_dir.status.code(), Some(2));
    let err = String::from_utf8_lossy(&no_dir.stderr);
    assert!(err.contains("cluster up"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let no_where = synod(&["kv", "get", "k"]);
    assert_eq!(no_where.status.code(), Some(2));

    let bad_nemesis = synod(&["stress", "--nemesis", "flood"]);
    assert_eq!(bad_nemesis.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_nemesis.stderr).contains("unknown nemesis"));

    let bad_peer = synod(&[
        "node",
        "--id",
        "n0",
        "--listen",
        "127.0.0.1:0",
        "--peer",
        "n1",
    ]);
    assert_eq!(bad_peer.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_peer.stderr).contains("ID=ADDR"));

    // Nobody listens there: a definite failure, said so.
    let refused = synod(&[
        "kv",
        "put",
        "k",
        "v",
        "--cluster",
        "127.0.0.1:1",
        "--timeout",
        "1",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("did not take effect"));
}
