//! `synod lin` end to end: histories saved by `synod sim`, the Jepsen formats, errors, budgets.

mod common;
use common::{json, synod};

use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synod-lin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const RUN: [&str; 6] = ["--nodes", "3", "--messages", "10", "--until", "1s"];

/// The ABD canary's broken reads show up in some seeds; the seed the soak names gives a
/// history `synod lin` rejects, while correct ABD on the same seed gives one it accepts.
#[test]
fn sim_histories_of_abd_and_its_canary() {
    let mut args = vec!["soak", "abd-no-write-back", "--seeds", "200", "--json"];
    args.extend(RUN);
    let soak = json(&synod(&args));
    let lin = &soak["properties"][0];
    assert_eq!(lin["name"], "linearizable");
    let seed = lin["first_violation"]["seed"]
        .as_u64()
        .expect("the canary violates linearizability in some seed")
        .to_string();
    for (protocol, expected) in [("abd-no-write-back", false), ("abd", true)] {
        let file = tmp(&format!("{protocol}.edn"));
        let mut args = vec!["sim", protocol, "--seed", &seed, "--history"];
        args.push(file.to_str().unwrap());
        args.extend(RUN);
        args.push("--json");
        let sim = synod(&args);
        assert!(
            sim.status.success(),
            "{}",
            String::from_utf8_lossy(&sim.stderr)
        );
        let out = synod(&[
            "lin",
            file.to_str().unwrap(),
            "--model",
            "register",
            "--json",
        ]);
        let verdict = json(&out);
        assert_eq!(
            verdict["valid"], expected,
            "{protocol} seed {seed}: {verdict}"
        );
        assert_eq!(out.status.code(), Some(if expected { 0 } else { 1 }));
        if !expected {
            assert!(!verdict["anomalies"][0]["ops"]
                .as_array()
                .unwrap()
                .is_empty());
        }
    }
    // The correct ABD across the same seeds: never a violation.
    let mut args = vec!["soak", "abd", "--seeds", "200", "--json"];
    args.extend(RUN);
    let soak = json(&synod(&args));
    assert_eq!(soak["properties"][0]["violated"], 0, "{soak}");
}

#[test]
fn jepsen_log_and_json_formats_and_html() {
    let log = tmp("etcd.log");
    std::fs::write(
        &log,
        "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
         INFO  jepsen.util - 0\t:ok\t:write\t1\n\
         INFO  jepsen.util - 1  :invoke  :cas  [1 4]\n\
         INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
         INFO  jepsen.util - 1\t:ok\t:cas\t[1 4]\n\
         INFO  jepsen.util - 2\t:ok\t:read\t1\n\
         INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
         INFO  jepsen.util - 3\t:fail\t:read\t:timed-out\n\
         INFO  jepsen.util - 4\t:invoke\t:write\t7\n\
         INFO  jepsen.util - 4\t:info\t:write\t:timed-out\n\
         INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
         INFO  jepsen.util - 2\t:ok\t:read\t1\n",
    )
    .unwrap();
    let html = tmp("t.html");
    let out = synod(&[
        "lin",
        log.to_str().unwrap(),
        "--json",
        "--html",
        html.to_str().unwrap(),
    ]);
    let v = json(&out);
    // The last read of 1 comes after the CAS 1 -> 4 returned: not linearizable.
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["format"], "jepsen-log");
    assert_eq!(v["failed_ops"], 1);
    assert_eq!(v["unknown_ops"], 1);
    for field in ["model", "ops", "anomalies", "elapsed_ms"] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("#e53935"),
        "culprits drawn in red"
    );
}

#[test]
fn user_mistakes_are_one_line_errors() {
    let missing = synod(&["lin", "/nonexistent/h.edn"]);
    assert_eq!(missing.status.code(), Some(2));
    let good = tmp("good.edn");
    std::fs::write(
        &good,
        "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n",
    )
    .unwrap();
    for args in [
        vec!["lin", good.to_str().unwrap(), "--model", "btree"],
        vec!["lin", good.to_str().unwrap(), "--consistency", "causal+"],
        vec!["lin", good.to_str().unwrap(), "--budget", "soon"],
        vec!["lin", good.to_str().unwrap(), "--model", "queue"],
    ] {
        let out = synod(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A hard history under a tiny budget answers "unknown" (exit 3) promptly, with the partial
/// result; the time assertion allows generous slack, it is not a timing test.
#[test]
fn budget_gives_unknown() {
    // 24 concurrent writes of distinct values, then a failed CAS from each value: no order
    // works (the last write's value would make its CAS succeed), and proving it means trying
    // every subset of the writes with every last value (about 400 million configurations).
    const W: usize = 24;
    let mut text = String::new();
    for p in 0..W {
        text.push_str(&format!(
            "{{:process {p}, :type :invoke, :f :write, :value {p}}}\n"
        ));
    }
    for p in 0..W {
        text.push_str(&format!(
            "{{:process {p}, :type :ok, :f :write, :value {p}}}\n"
        ));
    }
    for p in 0..W {
        let q = 100 + p;
        text.push_str(&format!(
            "{{:process {q}, :type :invoke, :f :cas, :value [{p} 99]}}\n"
        ));
    }
    for p in 0..W {
        let q = 100 + p;
        text.push_str(&format!(
            "{{:process {q}, :type :fail, :f :cas, :value [{p} 99]}}\n"
        ));
    }
    let file = tmp("hard.edn");
    std::fs::write(&file, text).unwrap();
    let started = std::time::Instant::now();
    let out = synod(&["lin", file.to_str().unwrap(), "--budget", "300ms", "--json"]);
    let elapsed = started.elapsed();
    let v = json(&out);
    assert_eq!(v["valid"], "unknown", "{v}");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(v["budget_ms"], 300);
    assert!(v["order"].is_array());
    assert!(elapsed < std::time::Duration::from_secs(60), "{elapsed:?}");
}

#[test]
fn workload_checkers_through_the_cli() {
    // Element 1 is seen, then missing from the last read: lost. The set model agrees.
    let file = tmp("set.edn");
    std::fs::write(
        &file,
        "{:process 0, :type :invoke, :f :add, :value 1}\n\
         {:process 0, :type :ok, :f :add, :value 1}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value #{1}}\n\
         {:process 0, :type :invoke, :f :add, :value 2}\n\
         {:process 0, :type :ok, :f :add, :value 2}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value #{2}}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = synod(&["lin", f, "--consistency", "set-full", "--json"]);
    let v = json(&out);
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(out.status.code(), Some(1));
    assert!(v["anomalies"][0]["explanation"]
        .as_str()
        .unwrap()
        .contains("lost"));
    assert_eq!(
        v["anomalies"][0]["lines"][0], 1,
        "the add of the lost element"
    );
    let out = synod(&["lin", f, "--model", "set", "--json"]);
    assert_eq!(json(&out)["valid"], false);
    // A counter read beyond every possible sum.
    let file = tmp("counter.edn");
    std::fs::write(
        &file,
        "{:process 0, :type :invoke, :f :add, :value 2}\n\
         {:process 0, :type :ok, :f :add, :value 2}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value 5}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let v = json(&synod(&[
        "lin",
        f,
        "--consistency",
        "counter-bounds",
        "--json",
    ]));
    assert_eq!(v["valid"], false, "{v}");
    let v = json(&synod(&["lin", f, "--model", "counter", "--json"]));
    assert_eq!(v["valid"], false, "{v}");
}

/// A model-checker counterexample comes with its clients' history, which `synod lin` reads.
#[test]
fn check_counterexamples_save_their_client_history() {
    let out_dir = tmp("cx");
    let out = synod(&[
        "check",
        "paxos-forgets-promise",
        "--clients",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "a violation is found");
    let edn = out_dir.join("paxos-forgets-promise-agreement.edn");
    assert!(edn.exists(), "history saved beside the counterexample");
    let lin = synod(&[
        "lin",
        edn.to_str().unwrap(),
        "--model",
        "register",
        "--json",
    ]);
    let v = json(&lin);
    assert!(v["valid"].is_boolean(), "{v}");
    assert!(v["ops"].as_u64().unwrap() >= 2, "{v}");
}
