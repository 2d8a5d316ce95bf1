//! Simulator throughput: delivered messages per second of wall time, one core.
//!
//! A flooding protocol with a trivial handler: every node starts with `tokens` messages in
//! flight to random peers, and forwards each message it receives to a random peer. The queue
//! thus holds about `n × tokens` events throughout and every delivery costs one pop, one
//! handler call, one random draw, one latency sample and one push.
//!
//! Run: `cargo bench -p synod-sim --bench throughput` (add `-- --quick` for a short run).
//! Prints, per (nodes, recording), the median of several runs.
#![allow(missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time by definition

use serde::{Deserialize, Serialize};
use std::time::Instant as WallClock;
use synod_core::{Ctx, Duration, Instant, NodeId, Protocol};
use synod_sim::{Latency, Recording, SimConfig, Simulation, Timing};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Token(u32);

struct Flood {
    tokens: u32,
}

impl Protocol for Flood {
    type Msg = Token;
    type Timer = ();
    type Request = ();
    type Indication = ();
    type State = u64;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> u64 {
        for t in 0..self.tokens {
            let to = ctx.random_peer();
            ctx.send(to, Token(t));
        }
        0
    }

    fn on_message(&self, seen: &mut u64, _from: NodeId, m: Token, ctx: &mut Ctx<'_, Self>) {
        *seen += 1;
        let to = ctx.random_peer();
        ctx.send(to, m);
    }

    fn on_timer(&self, _s: &mut u64, _t: (), _c: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _s: &mut u64, _r: (), _c: &mut Ctx<'_, Self>) {}
}

fn run(n: usize, tokens: u32, until: Duration, recording: Recording) -> (u64, f64) {
    let mut cfg = SimConfig::new(n, 7);
    cfg.until = Instant(until.as_nanos());
    cfg.timing = Timing::Synchronous {
        delta: Duration::from_millis(10),
    };
    cfg.network.latency = Latency::Uniform {
        lo: Duration::from_millis(1),
        hi: Duration::from_millis(10),
    };
    cfg.recording = recording;
    let sim = Simulation::new(Flood { tokens }, cfg).expect("valid config");
    let t0 = WallClock::now();
    let out = sim.run();
    let secs = t0.elapsed().as_secs_f64();
    (out.stats.messages_delivered, secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 7 };
    println!("simulator throughput (flooding, trivial handler), median of {reps} runs");
    println!(
        "{:>6} {:>7} {:>10} {:>12} {:>14} {:>10}",
        "nodes", "tokens", "recording", "deliveries", "deliveries/s", "ns/deliv"
    );
    for &(n, tokens) in &[(64usize, 16u32), (1000, 8)] {
        for recording in [Recording::Off, Recording::HashOnly, Recording::Full] {
            // Aim for a few million deliveries per run (fewer when the full trace is kept).
            let secs = match (quick, recording) {
                (true, _) => 2,
                (false, Recording::Full) => 4,
                (false, _) => 10,
            };
            let per_sec_of_virtual = (n as u64 * tokens as u64) * 1000 / 5; // mean latency 5.5ms
            let until = Duration::from_secs(secs * 1_000_000 / per_sec_of_virtual.max(1))
                .max(Duration::from_millis(200));
            let mut rates = Vec::new();
            let mut delivered = 0;
            for _ in 0..reps {
                let (d, s) = run(n, tokens, until, recording);
                delivered = d;
                rates.push(d as f64 / s);
            }
            let rate = median(rates);
            println!(
                "{:>6} {:>7} {:>10} {:>12} {:>14.0} {:>10.1}",
                n,
                tokens,
                format!("{recording:?}"),
                delivered,
                rate,
                1e9 / rate
            );
        }
    }
}
