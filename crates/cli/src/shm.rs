//! `synod shm PROGRAM`: shared-memory programs, run under a seeded interleaving (with crashes)
//! or checked over every interleaving (`--check`: safety in every state, wait-freedom).

use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use synod_lab::shm::{check, find_shm, shm_programs, simulate, ShmSpec};
use synod_lab::LabError;

/// Arguments of `synod shm`.
#[derive(Args)]
pub struct ShmArgs {
    /// The program (`synod shm list` names them).
    pub program: String,
    /// Explore every interleaving instead of running one: safety in every reachable state, and
    /// wait-freedom (every process halts within a bounded number of its own steps).
    #[arg(long)]
    pub check: bool,
    /// Number of processes (default: the program's).
    #[arg(long)]
    pub processes: Option<usize>,
    /// Consensus inputs, one per process, e.g. 1,0,0 (default: 10, 11, ...; --check then also
    /// tries every binary input vector).
    #[arg(long, value_delimiter = ',')]
    pub inputs: Option<Vec<u64>>,
    /// Register program: operations per process.
    #[arg(long, default_value_t = 3)]
    pub ops: u32,
    /// The seed of the interleaving.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Crash process P after global step S (P@S, repeatable): it takes no step after that.
    #[arg(long = "crash", value_name = "P@S", value_parser = parse_crash)]
    pub crashes: Vec<(usize, usize)>,
    /// Crash this many processes, chosen at random, within the first 20 steps.
    #[arg(long, default_value_t = 0)]
    pub random_crashes: usize,
    /// Bursty scheduler: the process that just stepped keeps going with probability 0.8.
    #[arg(long)]
    pub bursty: bool,
    /// --check: stop after this many states.
    #[arg(long, default_value_t = 2_000_000)]
    pub max_states: usize,
    /// Steps of the run to print (first and last half each).
    #[arg(long, default_value_t = 40)]
    pub show_steps: usize,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

fn parse_crash(s: &str) -> Result<(usize, usize), String> {
    let err = || format!("'{s}' is not P@S (a process number and a global step, e.g. 1@4)");
    let (p, at) = s.split_once('@').ok_or_else(err)?;
    let p = p.trim_start_matches('p');
    Ok((
        p.parse().map_err(|_| err())?,
        at.parse().map_err(|_| err())?,
    ))
}

/// Runs `synod shm`.
pub fn cmd_shm(a: ShmArgs) -> Result<ExitCode, LabError> {
    if a.program == "list" {
        let all = shm_programs();
        if a.json {
            println!(
                "{}",
                json!(all.iter().map(|e| json!({"name": e.name, "summary": e.summary, "processes": e.default_processes})).collect::<Vec<_>>())
            );
        } else {
            for e in all {
                println!("  {:<18} {}", e.name, e.summary);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let entry = find_shm(&a.program)?;
    let spec = ShmSpec {
        processes: a.processes,
        inputs: a.inputs.clone(),
        ops: a.ops,
        seed: a.seed,
        crashes: a.crashes.clone(),
        random_crashes: a.random_crashes,
        bursty: a.bursty,
        max_states: a.max_states,
    };
    if a.check {
        let r = check(&entry, &spec)?;
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&r.to_json()).expect("JSON")
            );
        } else {
            println!("synod shm {} --check", r.program);
            println!("model: {}", r.model);
            println!(
                "explored {} states over {} input vector(s){}",
                r.states,
                r.input_vectors.len().max(1),
                if r.complete {
                    ", complete"
                } else {
                    " (INCOMPLETE: --max-states reached)"
                }
            );
            for (prop, msg, schedule) in &r.violations {
                println!(
                    "\nVIOLATED {prop}: {msg}\nschedule ({} steps):",
                    schedule.len()
                );
                for (i, s) in schedule.iter().enumerate() {
                    println!("  {:>3}. {s}", i + 1);
                }
            }
            if r.violations.is_empty() {
                println!("safety: every property holds in every reachable state");
            }
            for (p, w) in r.wait_freedom.iter().enumerate() {
                match w {
                    Ok(b) => println!("p{p}: wait-free, halts within {b} of its own steps"),
                    Err((stem, cycle)) => {
                        println!("p{p}: NOT wait-free: after");
                        for s in stem {
                            println!("       {s}");
                        }
                        println!("     it can repeat for ever, never halting:");
                        for s in cycle {
                            println!("       {s}");
                        }
                    }
                }
            }
            println!("(bounded exploration: these inputs and this many processes; not a proof for all n)");
        }
        return Ok(if r.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let r = simulate(&entry, &spec)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r.to_json()).expect("JSON")
        );
    } else {
        println!("synod shm {}", r.program);
        println!("model: {}", r.model);
        let half = a.show_steps / 2;
        let total = r.steps.len();
        for (i, s) in r.steps.iter().enumerate() {
            if total <= a.show_steps || i < half || i >= total - half {
                println!("  {:>5}. {s}", i);
            } else if i == half {
                println!(
                    "  ... {} steps not shown (--show-steps) ...",
                    total - 2 * half
                );
            }
        }
        println!();
        for (p, (outs, steps, ended)) in r.processes.iter().enumerate() {
            println!(
                "p{p}: {ended} after {steps} steps; outputs {}",
                if outs.is_empty() {
                    "none".to_string()
                } else {
                    outs.join(", ")
                }
            );
        }
        for j in &r.properties {
            match &j.violation {
                None => println!("{:<14} holds", j.name),
                Some(v) => println!("{:<14} VIOLATED: {v}", j.name),
            }
        }
        println!(
            "reproduce: synod shm {} --seed {}{}",
            r.program,
            a.seed,
            if a.check { " --check" } else { "" }
        );
    }
    let ok = r.properties.iter().all(|j| j.violation.is_none());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
