//! The shared-memory simulator: a seeded scheduler over a [`Program`]'s processes, with crashes.
//!
//! Where the message-passing simulator draws latencies, this one draws the *interleaving*: at
//! each step the scheduler picks one process that has neither halted nor crashed and lets it take
//! its next step ([`take_step`]). Asynchrony is exactly this freedom. The scheduler is
//! [`Scheduler::Uniform`] (every runnable process equally likely) or [`Scheduler::Bursty`] (the
//! last process keeps running with some probability, so solo runs and long overlaps both
//! appear). A crash ([`ShmSimConfig::crashes`]) stops a process for good after a given number
//! of global steps; the shared objects keep whatever it wrote.
//!
//! One seed reproduces the whole run: the schedule and crash times come from streams derived
//! from it, and a step's global index is the run's only clock (a history built from a run uses
//! it as time).

use synod_core::shared_memory::{take_step, Program, ShmStep, StepOf};
use synod_core::{ModelHeader, Prng, Ratio};

/// How the next process is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// Uniformly among runnable processes.
    Uniform,
    /// The process that just stepped steps again with probability `stay` (if it can), else a
    /// uniform choice among the runnable ones.
    Bursty {
        /// Probability of running the same process again.
        stay: Ratio,
    },
}

/// A shared-memory run's configuration.
#[derive(Clone, Debug)]
pub struct ShmSimConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// How the next process is chosen.
    pub scheduler: Scheduler,
    /// Stop after this many steps in all (a program that spins for ever is cut here).
    pub max_steps: usize,
    /// Scheduled crashes: process `p` takes no step after global step `at`.
    pub crashes: Vec<(usize, usize)>,
    /// Additionally crash this many distinct processes, chosen at random, each at a random
    /// global step below `max_random_crash_step`.
    pub random_crashes: usize,
    /// Random crashes happen before this global step.
    pub max_random_crash_step: usize,
}

impl ShmSimConfig {
    /// A failure-free run with a uniform scheduler and at most 100,000 steps.
    pub fn new(seed: u64) -> ShmSimConfig {
        ShmSimConfig {
            seed,
            scheduler: Scheduler::Uniform,
            max_steps: 100_000,
            crashes: Vec::new(),
            random_crashes: 0,
            max_random_crash_step: 20,
        }
    }

    /// The model this configuration assumes, for run headers.
    pub fn model(&self, processes: usize) -> ModelHeader {
        let scheduler = match self.scheduler {
            Scheduler::Uniform => "uniform interleaving".to_string(),
            Scheduler::Bursty { stay } => {
                format!("bursty interleaving (stay {:.2})", stay.as_f64())
            }
        };
        let crashes = self.crashes.len() + self.random_crashes;
        ModelHeader::new()
            .with("communication", "shared memory (atomic objects)")
            .with("timing", format!("asynchronous ({scheduler})"))
            .with(
                "failures",
                if crashes == 0 {
                    "none".to_string()
                } else {
                    format!("crash-stop (up to {crashes} of {processes} processes)")
                },
            )
            .with("processes", processes)
            .with("seed", self.seed)
    }
}

/// What happened in a shared-memory run.
#[derive(Clone, Debug)]
pub struct ShmRun<P: Program> {
    /// Every step in order (its index is its global time), crashes included.
    pub steps: Vec<StepOf<P>>,
    /// The memory at the end.
    pub memory: Vec<P::Object>,
    /// What each process output, in order, with the global step at which it did.
    pub outputs: Vec<Vec<(usize, P::Output)>>,
    /// Per process: did it halt?
    pub halted: Vec<bool>,
    /// Per process: did it crash?
    pub crashed: Vec<bool>,
    /// Per process: steps it took.
    pub own_steps: Vec<usize>,
    /// An operation an object refused (a bug in the program), with the step it stopped at.
    pub error: Option<(usize, String)>,
    /// True if the run stopped at `max_steps` with processes still running.
    pub cut: bool,
}

impl<P: Program> ShmRun<P> {
    /// Processes that neither crashed nor halted when the run ended.
    pub fn blocked(&self) -> Vec<usize> {
        (0..self.halted.len())
            .filter(|&p| !self.halted[p] && !self.crashed[p])
            .collect()
    }
}

/// Runs `program` under `cfg`'s schedule.
pub fn run_shared<P: Program>(program: &P, cfg: &ShmSimConfig) -> ShmRun<P> {
    let n = program.processes();
    let mut sched = Prng::derive(cfg.seed, 1);
    let mut faults = Prng::derive(cfg.seed, 2);
    let mut crash_at: Vec<Option<usize>> = vec![None; n];
    for &(p, at) in &cfg.crashes {
        if p < n {
            crash_at[p] = Some(crash_at[p].map_or(at, |c: usize| c.min(at)));
        }
    }
    let mut candidates: Vec<usize> = (0..n).filter(|&p| crash_at[p].is_none()).collect();
    faults.shuffle(&mut candidates);
    for &p in candidates.iter().take(cfg.random_crashes) {
        crash_at[p] = Some(faults.below(cfg.max_random_crash_step.max(1) as u64) as usize);
    }
    let mut locals: Vec<P::Local> = (0..n).map(|p| program.init(p)).collect();
    let mut memory = program.memory();
    let mut run = ShmRun {
        steps: Vec::new(),
        memory: Vec::new(),
        outputs: vec![Vec::new(); n],
        halted: vec![false; n],
        crashed: vec![false; n],
        own_steps: vec![0; n],
        error: None,
        cut: false,
    };
    let mut last: Option<usize> = None;
    let mut runnable: Vec<usize> = Vec::with_capacity(n);
    loop {
        let now = run.steps.len();
        for (p, at) in crash_at.iter().enumerate() {
            if !run.crashed[p] && at.is_some_and(|at| at <= now) {
                run.crashed[p] = true;
                run.steps.push(ShmStep::Crash { p });
            }
        }
        runnable.clear();
        runnable.extend((0..n).filter(|&p| !run.halted[p] && !run.crashed[p]));
        if runnable.is_empty() {
            break;
        }
        if run.steps.len() >= cfg.max_steps {
            run.cut = true;
            break;
        }
        let p = match (cfg.scheduler, last) {
            (Scheduler::Bursty { stay }, Some(q))
                if runnable.contains(&q) && sched.chance(stay) =>
            {
                q
            }
            _ => runnable[sched.below(runnable.len() as u64) as usize],
        };
        match take_step(program, p, &mut locals[p], &mut memory) {
            Ok(Some(step)) => {
                run.own_steps[p] += 1;
                if let ShmStep::Emit { out, .. } = &step {
                    run.outputs[p].push((run.steps.len(), out.clone()));
                }
                run.steps.push(step);
                last = Some(p);
            }
            Ok(None) => {
                run.halted[p] = true;
                run.steps.push(ShmStep::Halt { p });
            }
            Err(e) => {
                run.error = Some((run.steps.len(), e.0));
                break;
            }
        }
    }
    run.memory = memory;
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::shared_memory::{Action, Object, ObjectOp, ObjectRet};

    /// Each process increments a fetch-and-add counter `k` times, then emits its last ticket.
    struct Tickets {
        n: usize,
        k: u64,
    }

    impl Program for Tickets {
        type Object = Object;
        type Local = (u64, u64);
        type Output = u64;
        fn processes(&self) -> usize {
            self.n
        }
        fn memory(&self) -> Vec<Object> {
            vec![Object::FetchAndAdd(0)]
        }
        fn init(&self, _p: usize) -> (u64, u64) {
            (0, 0)
        }
        fn next(&self, _p: usize, l: &(u64, u64)) -> Action<ObjectOp, u64> {
            if l.0 < self.k {
                Action::Access {
                    object: 0,
                    op: ObjectOp::FetchAndAdd(1),
                }
            } else if l.0 == self.k {
                Action::Emit(l.1)
            } else {
                Action::Halt
            }
        }
        fn resume(&self, _p: usize, l: &mut (u64, u64), ret: Option<ObjectRet>) {
            if let Some(r) = ret {
                l.1 = r.value().unwrap_or(0);
            }
            l.0 += 1;
        }
    }

    #[test]
    fn every_increment_is_atomic_whatever_the_schedule() {
        for seed in 0..20 {
            let run = run_shared(&Tickets { n: 4, k: 5 }, &ShmSimConfig::new(seed));
            assert_eq!(run.memory, vec![Object::FetchAndAdd(20)]);
            assert!(run.halted.iter().all(|&h| h));
            assert_eq!(run.own_steps, vec![6; 4]);
        }
    }

    #[test]
    fn a_crashed_process_stops_and_the_same_seed_gives_the_same_run() {
        let mut cfg = ShmSimConfig::new(7);
        cfg.crashes = vec![(1, 3)];
        let a = run_shared(&Tickets { n: 3, k: 5 }, &cfg);
        let b = run_shared(&Tickets { n: 3, k: 5 }, &cfg);
        assert_eq!(a.steps, b.steps);
        assert!(a.crashed[1] && !a.halted[1]);
        assert!(a.own_steps[1] <= 3);
        let Object::FetchAndAdd(total) = a.memory[0] else {
            unreachable!()
        };
        // the two others did all their increments; the crashed one what it did before
        assert_eq!(total, 10 + a.own_steps[1] as u64);
        let other = run_shared(&Tickets { n: 3, k: 5 }, &ShmSimConfig::new(8));
        assert_ne!(
            a.steps, other.steps,
            "different seeds interleave differently"
        );
    }
}
