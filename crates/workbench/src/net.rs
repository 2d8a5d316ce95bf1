//! The simulated network between nodes, clients and services: latency, loss and partitions,
//! all drawn from the run's seed.
//!
//! Every message is routed through [`Network::route`], which decides when it arrives or why
//! it is dropped. Randomness is drawn from one stream per *directed link* (source,
//! destination), derived from the seed, so the k-th message on a link always gets the same
//! latency and loss decision, however the processes' real timing interleaves the links. Loss
//! and partitions apply between nodes only: clients and services are always reachable (as
//! in Maelstrom), with the same latency distribution.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Duration;
use synod_core::Prng;

/// How message latencies are distributed around the mean (`--latency-dist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyDist {
    /// Every message takes exactly the mean.
    Constant,
    /// Uniform on `[0, 2·mean]`.
    Uniform,
    /// Exponential with the given mean.
    Exponential,
}

impl LatencyDist {
    /// Every distribution, by command-line name.
    pub const ALL: [(LatencyDist, &'static str); 3] = [
        (LatencyDist::Constant, "constant"),
        (LatencyDist::Uniform, "uniform"),
        (LatencyDist::Exponential, "exponential"),
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        LatencyDist::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map(|(_, n)| *n)
            .unwrap_or("constant")
    }

    /// The distribution with this command-line name.
    pub fn from_name(name: &str) -> Option<LatencyDist> {
        LatencyDist::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(d, _)| *d)
    }
}

/// The network's fixed parameters.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetOptions {
    /// Mean one-way latency.
    pub latency: Duration,
    /// Its distribution.
    pub dist: LatencyDist,
    /// Probability that a node-to-node message is lost.
    pub loss: f64,
}

impl fmt::Display for NetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "latency {} ms ({}), loss {}",
            self.latency.as_secs_f64() * 1e3,
            self.dist.name(),
            self.loss
        )
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// The network's random loss.
    Loss,
    /// A partition cut the link.
    Partition,
    /// The destination process was down (killed) when the message arrived.
    Down,
}

impl DropReason {
    /// A short name for journals and reports.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::Down => "down",
        }
    }
}

/// What happened to one recorded message, for replaying a run's network from its journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It arrived (or reached a dead node) this long after it was sent.
    After(Duration),
    /// The network lost it.
    Lost,
    /// A partition dropped it (on replay the current cuts decide).
    Cut,
}

/// Recorded fates per directed link (entity indices), in sending order.
pub type Script = BTreeMap<(usize, usize), VecDeque<Fate>>;

/// The network: parameters, per-link random streams and the current cuts.
#[derive(Debug)]
pub struct Network {
    options: NetOptions,
    seed: u64,
    /// Entities: nodes are `0..nodes`, then clients and services.
    entities: usize,
    nodes: usize,
    links: Vec<Option<Prng>>,
    /// `cut[src * nodes + dest]`: messages from node `src` to node `dest` are dropped.
    cut: Vec<bool>,
    /// Recorded fates that override the random draws (a replay), link by link.
    script: Script,
}

/// The stream id of a link's random draws (the core's `Prng::derive` mixes it with the seed).
const LINK_STREAM: u64 = 0x6c69_6e6b_0000_0000;

impl Network {
    /// A network of `nodes` nodes among `entities` entities (nodes first), fully connected.
    pub fn new(options: NetOptions, seed: u64, nodes: usize, entities: usize) -> Network {
        Network {
            options,
            seed,
            entities,
            nodes,
            links: (0..entities * entities).map(|_| None).collect(),
            cut: vec![false; nodes * nodes],
            script: Script::new(),
        }
    }

    /// Replays `script`: each link's next messages get the recorded latencies and losses
    /// (partitions still follow the current cuts); once a link's record runs out, its random
    /// stream takes over.
    pub fn with_script(mut self, script: Script) -> Network {
        self.script = script;
        self
    }

    /// The parameters.
    pub fn options(&self) -> &NetOptions {
        &self.options
    }

    /// Decides the fate of the next message from `src` to `dest`: its latency, or why it is
    /// dropped.
    pub fn route(&mut self, src: usize, dest: usize) -> Result<Duration, DropReason> {
        let (seed, options) = (self.seed, self.options);
        let link = src * self.entities + dest;
        let rng =
            self.links[link].get_or_insert_with(|| Prng::derive(seed, LINK_STREAM ^ link as u64));
        // Draw both numbers on every message so a link's k-th message always sees the same
        // pair, whatever happened to the earlier ones.
        let lost = rng.unit_f64() < options.loss;
        let u = rng.open_unit_f64();
        let between_nodes = src < self.nodes && dest < self.nodes;
        let recorded = self
            .script
            .get_mut(&(src, dest))
            .and_then(VecDeque::pop_front);
        if between_nodes && self.cut[src * self.nodes + dest] {
            return Err(DropReason::Partition);
        }
        match recorded {
            Some(Fate::After(d)) => return Ok(d),
            Some(Fate::Lost) => return Err(DropReason::Loss),
            Some(Fate::Cut) | None => {}
        }
        if between_nodes && lost {
            return Err(DropReason::Loss);
        }
        let mean = options.latency.as_secs_f64();
        let secs = match options.dist {
            LatencyDist::Constant => mean,
            LatencyDist::Uniform => 2.0 * mean * u,
            LatencyDist::Exponential => -mean * u.ln(),
        };
        Ok(Duration::from_secs_f64(secs.min(60.0)))
    }

    /// Cuts every link from a node in `from` to a node in `to` (one way).
    pub fn cut(&mut self, from: &[usize], to: &[usize]) {
        for &a in from {
            for &b in to {
                if a != b {
                    self.cut[a * self.nodes + b] = true;
                }
            }
        }
    }

    /// Restores every link between nodes.
    pub fn heal(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// True if some link between nodes is cut.
    pub fn partitioned(&self) -> bool {
        self.cut.iter().any(|&c| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(dist: LatencyDist, loss: f64) -> Network {
        let options = NetOptions {
            latency: Duration::from_millis(10),
            dist,
            loss,
        };
        Network::new(options, 7, 3, 5)
    }

    #[test]
    fn a_links_draws_do_not_depend_on_other_links() {
        let mut a = net(LatencyDist::Exponential, 0.2);
        let mut b = net(LatencyDist::Exponential, 0.2);
        let first: Vec<_> = (0..50).map(|_| a.route(0, 1)).collect();
        let interleaved: Vec<_> = (0..50)
            .map(|_| {
                let _ = b.route(1, 0);
                let _ = b.route(2, 4);
                b.route(0, 1)
            })
            .collect();
        assert_eq!(first, interleaved);
    }

    #[test]
    fn distributions_have_the_right_mean_and_shape() {
        for (dist, lo, hi) in [
            (LatencyDist::Constant, 10.0, 10.0),
            (LatencyDist::Uniform, 9.0, 11.0),
            (LatencyDist::Exponential, 9.0, 11.0),
        ] {
            let mut n = net(dist, 0.0);
            let samples: Vec<f64> = (0..20_000)
                .map(|_| n.route(3, 0).unwrap().as_secs_f64() * 1e3)
                .collect();
            let mean = samples.iter().sum::<f64>() / samples.len() as f64;
            assert!(
                (lo - 1e-9..=hi + 1e-9).contains(&mean),
                "{dist:?}: mean {mean}"
            );
            if dist == LatencyDist::Uniform {
                assert!(samples.iter().all(|&s| (0.0..=20.0).contains(&s)));
            }
        }
    }

    #[test]
    fn a_script_overrides_the_draws_until_it_runs_out() {
        let mut n = net(LatencyDist::Constant, 0.0);
        let mut script = Script::new();
        script.insert(
            (0, 1),
            [Fate::After(Duration::from_millis(3)), Fate::Lost, Fate::Cut]
                .into_iter()
                .collect(),
        );
        let mut n2 = net(LatencyDist::Constant, 0.0).with_script(script);
        assert_eq!(n2.route(0, 1), Ok(Duration::from_millis(3)));
        assert_eq!(n2.route(0, 1), Err(DropReason::Loss));
        // A message a partition dropped: no cut now, so the stream decides.
        assert_eq!(n2.route(0, 1), Ok(Duration::from_millis(10)));
        assert_eq!(n2.route(0, 1), n.route(0, 1));
        assert_eq!(n2.route(1, 0), Ok(Duration::from_millis(10)));
    }

    #[test]
    fn loss_and_cuts_apply_between_nodes_only() {
        let mut n = net(LatencyDist::Constant, 1.0);
        assert_eq!(n.route(0, 1), Err(DropReason::Loss));
        assert!(n.route(3, 1).is_ok(), "clients are never lost");
        let mut n = net(LatencyDist::Constant, 0.0);
        n.cut(&[0], &[1, 2]);
        assert!(n.partitioned());
        assert_eq!(n.route(0, 1), Err(DropReason::Partition));
        assert!(n.route(1, 0).is_ok(), "a one-way cut");
        n.heal();
        assert!(n.route(0, 1).is_ok());
        assert!(!n.partitioned());
    }
}
