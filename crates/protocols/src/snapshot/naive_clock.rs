//! The naive clock snapshot: "every process records its state when its local clock reads T".
//!
//! **Model.** The same as Lai–Yang (asynchronous, reliable, any channel order, failure-free),
//! plus local clocks that are meant to agree: each node's clock runs at its own offset and
//! drift (the simulator's per-node clock skew, `FaultSchedule::clocks`).
//!
//! **Algorithm.** Snapshot k is recorded by every process when its *local* clock reads
//! `T_k = first + (k−1)·period`; channel states are taken as in Lai–Yang (messages carry the
//! sender's last snapshot number; a channel's state is the messages sent before the sender's
//! record and received after the receiver's, closed by per-channel counts). What is missing
//! is Lai–Yang's rule that a message sent after its sender recorded forces the receiver to
//! record first. With perfectly synchronised clocks all records happen at the same real
//! instant, and since every message takes some time, the cut is consistent. With clocks skewed
//! by more than a message delay, a process whose clock runs ahead records early and sends;
//! the message reaches a process whose clock is behind, which counts it before recording:
//! its receipt is in the snapshot, its send is not, and the recorded total is off by its
//! amount.
//!
//! **Read:** Lamport, "Time, clocks, and the ordering of events", CACM 21(7), 1978 (why
//! physical clocks do not order events); Kshemkalyani & Singhal §4.1–4.2 (why a global state
//! cannot be read at one "instant"); Lynch §19.1.

use super::{LaiYang, Schedule};

/// The naive clock algorithm around `app`: every process records snapshot k when its local
/// clock reads `schedule.time_of(k)` (the schedule's initiator is ignored: every process runs
/// it).
pub fn naive_clock<A>(app: A, schedule: Schedule) -> LaiYang<A> {
    LaiYang::clock_only(app, schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::properties::audit_conserved;
    use crate::snapshot::Bank;
    use synod_core::{Duration, Instant, NodeId};
    use synod_sim::{ClockSkew, Latency, SimConfig, Simulation, Timing};

    /// Snapshots complete everywhere and, of those, how many conserve the total, with node i's
    /// clock `offset_ms · i` ahead.
    fn run(offset_ms: u64, seed: u64) -> (usize, usize) {
        let bank = Bank::new(
            1000,
            Duration::from_millis(3),
            100,
            Instant::from_millis(900),
        );
        let schedule = Schedule {
            initiator: None,
            first: Duration::from_millis(60),
            period: Duration::from_millis(20),
            stop: Instant::from_millis(700),
        };
        let mut cfg = SimConfig::new(3, seed);
        cfg.timing = Timing::Synchronous {
            delta: Duration::from_millis(10),
        };
        cfg.network.latency = Latency::Uniform {
            lo: Duration::from_millis(1),
            hi: Duration::from_millis(5),
        };
        cfg.until = Instant::from_secs(1);
        for i in 0..3u64 {
            cfg.faults.clocks.push((
                NodeId(i as u32),
                ClockSkew {
                    drift_ppm: 0,
                    offset: Duration::from_millis(offset_ms * i),
                },
            ));
        }
        let out = Simulation::new(naive_clock(bank, schedule), cfg)
            .unwrap()
            .run();
        let a = audit_conserved(&out.trace, &bank);
        let done: Vec<_> = a.snapshots.iter().filter(|s| s.complete(3)).collect();
        let ok = done.iter().filter(|s| s.conserved() == Some(true)).count();
        (done.len(), ok)
    }

    #[test]
    fn agreeing_clocks_take_consistent_snapshots() {
        // Every process records at the same real instant; every message takes >= 1ms.
        for seed in 0..5 {
            let (done, ok) = run(0, seed);
            assert!(done >= 30, "seed {seed}: {done} snapshots");
            assert_eq!(ok, done, "seed {seed}");
        }
    }

    #[test]
    fn clocks_skewed_beyond_a_message_delay_lose_money() {
        // n2 records 20ms (real) before n0: its transfers in between reach n0 (1..5ms) before
        // n0 records, so their receipt is recorded and their send is not.
        let (done, ok) = run(10, 1);
        assert!(done >= 30);
        assert!(ok < done, "{ok} of {done} conserved");
    }
}
