//! The nemesis: which faults to inject, and when.
//!
//! Every `--nemesis-interval` the nemesis alternates between starting a fault and healing
//! everything. Which fault, and which nodes, come from the run's seed:
//!
//! - `partition`: one of *halves* (two random halves cannot talk), *majorities-ring* (each
//!   node sees a majority, no two the same: Jepsen's `majorities-ring`), *one-way* (one
//!   random half cannot send to the other) and *isolate* (one node cut off both ways);
//! - `kill`: kill -9 one node; it is restarted (a new process, which gets `init` again) half
//!   an interval later, or when everything heals;
//! - `pause`: SIGSTOP one node until the heal (SIGCONT).

use synod_core::Prng;

/// A kind of fault (`--nemesis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Network partitions.
    Partition,
    /// kill -9 and restart.
    Kill,
    /// SIGSTOP / SIGCONT.
    Pause,
}

impl Fault {
    /// The fault with this command-line name.
    pub fn from_name(name: &str) -> Option<Fault> {
        match name {
            "partition" => Some(Fault::Partition),
            "kill" => Some(Fault::Kill),
            "pause" => Some(Fault::Pause),
            _ => None,
        }
    }
}

/// What the nemesis does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NemesisStep {
    /// Cut these (from, to) groups, one way each.
    Partition {
        /// The partition's shape.
        name: &'static str,
        /// Each pair: messages from the first group to the second are dropped.
        cuts: Vec<(Vec<usize>, Vec<usize>)>,
    },
    /// kill -9 this node.
    Kill(usize),
    /// SIGSTOP this node.
    Pause(usize),
    /// End every fault.
    Heal,
}

/// The nemesis's schedule.
#[derive(Debug)]
pub struct Nemesis {
    faults: Vec<Fault>,
    rng: Prng,
    n: usize,
    faulty: bool,
}

impl Nemesis {
    /// A nemesis injecting `faults` among `n` nodes.
    pub fn new(faults: &[Fault], seed: u64, n: usize) -> Nemesis {
        Nemesis {
            faults: faults.to_vec(),
            rng: Prng::derive(seed, 0x6e65_6d00),
            n,
            faulty: false,
        }
    }

    /// The next step: a fault after a heal, a heal after a fault.
    pub fn next_step(&mut self) -> NemesisStep {
        if self.faulty || self.faults.is_empty() || self.n == 0 {
            self.faulty = false;
            return NemesisStep::Heal;
        }
        self.faulty = true;
        let fault = self.faults[self.rng.below(self.faults.len() as u64) as usize];
        let node = self.rng.below(self.n as u64) as usize;
        match fault {
            Fault::Kill => NemesisStep::Kill(node),
            Fault::Pause => NemesisStep::Pause(node),
            Fault::Partition => self.partition(),
        }
    }

    fn partition(&mut self) -> NemesisStep {
        let n = self.n;
        let mut nodes: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut nodes);
        let half = n / 2;
        let (a, b) = (nodes[..half].to_vec(), nodes[half..].to_vec());
        match self.rng.below(4) {
            0 => NemesisStep::Partition {
                name: "halves",
                cuts: vec![(a.clone(), b.clone()), (b, a)],
            },
            1 => {
                // Node at ring position i sees the majority of positions around it.
                let m = n / 2 + 1;
                let mut cuts = Vec::new();
                for (pos, &x) in nodes.iter().enumerate() {
                    let sees: Vec<usize> =
                        (0..m).map(|k| nodes[(pos + k + n - m / 2) % n]).collect();
                    let blind: Vec<usize> = nodes
                        .iter()
                        .copied()
                        .filter(|y| !sees.contains(y))
                        .collect();
                    cuts.push((vec![x], blind));
                }
                NemesisStep::Partition {
                    name: "majorities-ring",
                    cuts,
                }
            }
            2 => NemesisStep::Partition {
                name: "one-way",
                cuts: vec![(a, b)],
            },
            _ => {
                let x = nodes[0];
                let rest: Vec<usize> = nodes[1..].to_vec();
                NemesisStep::Partition {
                    name: "isolate",
                    cuts: vec![(vec![x], rest.clone()), (rest, vec![x])],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_alternate_with_heals_and_follow_the_seed() {
        let steps = |seed| {
            let mut n = Nemesis::new(&[Fault::Partition, Fault::Kill, Fault::Pause], seed, 5);
            (0..20).map(|_| n.next_step()).collect::<Vec<_>>()
        };
        let a = steps(1);
        assert_eq!(a, steps(1));
        assert_ne!(a, steps(2));
        for (i, s) in a.iter().enumerate() {
            assert_eq!(i % 2 == 1, *s == NemesisStep::Heal, "{i}: {s:?}");
        }
    }

    #[test]
    fn a_majorities_ring_leaves_each_node_a_majority() {
        let mut nem = Nemesis::new(&[Fault::Partition], 3, 5);
        let mut seen = false;
        for _ in 0..40 {
            if let NemesisStep::Partition {
                name: "majorities-ring",
                cuts,
            } = nem.next_step()
            {
                seen = true;
                for (from, blind) in cuts {
                    assert_eq!(from.len(), 1);
                    assert_eq!(blind.len(), 5 - 3, "sees 3 of 5 (itself included)");
                    assert!(!blind.contains(&from[0]));
                }
            }
        }
        assert!(seen);
    }
}
