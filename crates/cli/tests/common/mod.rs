//! Shared by the command-line tests: run the built `synod` and read its JSON output.

#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the `synod` binary this test build made.
pub fn synod(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(args)
        .output()
        .expect("synod runs")
}

/// Parses stdout as one JSON document, showing stdout and stderr if it is not one.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
