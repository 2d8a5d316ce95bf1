//! `synod shm`: shared-memory programs run and checked from the command line.

mod common;
use common::synod;

use serde_json::Value;
use std::process::Output;

fn doc(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON document")
}

fn user_error(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
}

#[test]
fn three_process_test_and_set_disagrees_and_the_schedule_shows_two_decisions() {
    let out = synod(&[
        "shm",
        "tas-consensus",
        "--check",
        "--processes",
        "3",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "a violation exits 1");
    let j = doc(&out);
    let v = j["violations"].as_array().unwrap();
    let agreement = v
        .iter()
        .find(|v| v["property"] == "agreement")
        .expect("agreement violated");
    let schedule: Vec<&str> = agreement["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    // the schedule ends with two different processes outputting their decisions
    let outputs: Vec<&&str> = schedule.iter().filter(|s| s.contains("output")).collect();
    assert_eq!(outputs.len(), 2, "{schedule:?}");
    assert!(j["complete"].as_bool().unwrap());
    // every process is wait-free: the protocol fails on agreement only
    assert!(j["wait_free"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["wait_free"] == true));
}

#[test]
fn two_process_objects_and_compare_and_swap_solve_consensus() {
    for (program, n) in [
        ("tas-consensus", "2"),
        ("queue-consensus", "2"),
        ("faa-consensus", "2"),
        ("cas-consensus", "4"),
    ] {
        let out = synod(&["shm", program, "--check", "--processes", n, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{program}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let j = doc(&out);
        assert!(j["violations"].as_array().unwrap().is_empty());
        // distinct inputs and every binary vector
        assert_eq!(
            j["input_vectors"].as_array().unwrap().len(),
            1 + (1 << n.parse::<u32>().unwrap())
        );
    }
}

#[test]
fn waiting_for_a_crashed_process_is_not_wait_free() {
    let out = synod(&["shm", "rw-wait-consensus", "--check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = doc(&out);
    assert!(j["violations"].as_array().unwrap().is_empty(), "it agrees");
    let w = j["wait_free"].as_array().unwrap();
    let lasso = w
        .iter()
        .find(|w| w["wait_free"] == false)
        .expect("a process spins");
    for s in lasso["cycle"].as_array().unwrap() {
        assert!(
            s.as_str().unwrap().contains("Read"),
            "the loop only reads: {s}"
        );
    }
    // in a simulation, a crash before announcing leaves the other spinning
    let out = synod(&["shm", "rw-wait-consensus", "--crash", "1@0", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = doc(&out);
    assert_eq!(j["processes"][1]["ended"], "crashed");
    assert_ne!(j["processes"][0]["ended"], "halted");
}

#[test]
fn a_seed_reproduces_a_run_and_the_register_program_is_linearizable() {
    let a = synod(&[
        "shm",
        "register",
        "--processes",
        "4",
        "--seed",
        "9",
        "--random-crashes",
        "1",
        "--json",
    ]);
    let b = synod(&[
        "shm",
        "register",
        "--processes",
        "4",
        "--seed",
        "9",
        "--random-crashes",
        "1",
        "--json",
    ]);
    assert_eq!(a.stdout, b.stdout);
    let j = doc(&a);
    let lin = j["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "linearizable")
        .unwrap();
    assert_eq!(lin["holds"], true);
}

#[test]
fn mistakes_get_one_line() {
    user_error(&synod(&["shm", "paxos-on-a-napkin"]));
    user_error(&synod(&["shm", "tas-consensus", "--crash", "one@two"]));
    user_error(&synod(&["shm", "rw-min-consensus", "--processes", "3"]));
    user_error(&synod(&["shm", "tas-consensus", "--inputs", "1,2,3"]));
    user_error(&synod(&["shm", "tas-consensus", "--crash", "5@1"]));
    assert!(synod(&["shm", "list"]).status.success());
}

#[test]
fn synod_list_names_every_shared_memory_program_and_each_one_runs() {
    let out = synod(&["list", "--json"]);
    assert!(out.status.success());
    let j = doc(&out);
    let programs = j["shm_programs"].as_array().expect("shm_programs");
    assert!(programs.len() >= 7);
    for p in programs {
        let name = p["name"].as_str().unwrap();
        let run = synod(&["shm", name, "--json"]);
        // a verdict (0 holds, 1 violated: rw-min disagrees on some seeds), never a usage error
        assert!(
            matches!(run.status.code(), Some(0 | 1)),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            doc(&run)["steps"].as_array().is_some_and(|s| !s.is_empty()),
            "{name}"
        );
    }
}
