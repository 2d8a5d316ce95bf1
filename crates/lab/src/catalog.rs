//! The protocol catalog: every protocol `synod sim` can run, grouped by topic.
//!
//! Each entry binds a protocol from `synod-protocols` to its properties, its default workload
//! and its default timing model. Canaries (deliberately broken variants) are listed too, so a
//! user can watch a property check catch them.

use crate::runner::{run_protocol, SimReport, SimSpec};
use crate::workloads::LinkTraffic;
use crate::{LabError, Topic};
use synod_core::{Duration, Instant, NodeId, Prng};
use synod_protocols::election::{self, arrangement, properties as ep, BullyRequest};
use synod_protocols::fd::{self, properties as fp, Increase};
use synod_protocols::link::{self, properties as lp};
use synod_sim::{Idle, Scripted, Timing};

/// One runnable protocol.
#[derive(Clone, Copy)]
pub struct ProtocolEntry {
    /// Unique kebab-case id, e.g. `perfect-link`.
    pub name: &'static str,
    /// Its topic.
    pub topic: Topic,
    /// One line: what it is and what it guarantees.
    pub summary: &'static str,
    /// True for deliberately broken variants whose checks must fail.
    pub canary: bool,
    /// Runs it under a spec.
    pub run: fn(&SimSpec) -> Result<SimReport, LabError>,
}

impl std::fmt::Debug for ProtocolEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProtocolEntry({})", self.name)
    }
}

const RETRANSMIT: Duration = Duration::from_millis(50);
const STUBBORN_PERIOD: Duration = Duration::from_millis(100);

fn traffic(spec: &SimSpec) -> LinkTraffic {
    LinkTraffic {
        per_node: spec.messages,
    }
}

const HB_PERIOD: Duration = Duration::from_millis(50);

fn psync() -> Timing {
    Timing::PartiallySynchronous {
        gst: Instant::from_secs(2),
        delta: Duration::from_millis(20),
    }
}

fn sync() -> Timing {
    Timing::Synchronous {
        delta: Duration::from_millis(20),
    }
}

/// A random arrangement of UIDs for a ring of `n`, drawn from the run's seed.
fn ring_uids(spec: &SimSpec) -> Vec<u64> {
    let mut prng = Prng::derive(spec.seed, 0x5249_4e47);
    arrangement::random(spec.nodes, &mut prng)
}

/// Every catalog entry, in topic order.
pub fn protocols() -> Vec<ProtocolEntry> {
    let mut all = link_protocols();
    all.extend(fd_protocols());
    all.extend(election_protocols());
    all
}

fn fd_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "perfect-fd",
            topic: Topic::FailureDetectors,
            summary: "P: heartbeats + a fixed timeout above period + delta; never wrong under synchrony (default sync:20ms)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "perfect-fd",
                    fd::Heartbeat::perfect(HB_PERIOD, Duration::from_millis(150)),
                    &fp::perfect_properties(),
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "eventually-perfect-fd",
            topic: Topic::FailureDetectors,
            summary: "<>P: suspect on timeout, restore and raise the timeout on a late heartbeat (default psync:gst=2s)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "eventually-perfect-fd",
                    fd::Heartbeat::eventually_perfect(HB_PERIOD, Duration::from_millis(60), Increase::Add(Duration::from_millis(20))),
                    &fp::eventually_perfect_properties(),
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "fixed-timeout-fd",
            topic: Topic::FailureDetectors,
            summary: "canary: a fixed timeout shorter than period + delta keeps suspecting correct nodes after GST (not <>P)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "fixed-timeout-fd",
                    fd::Heartbeat::canary_never_increases(HB_PERIOD, Duration::from_millis(55)),
                    &fp::eventually_perfect_properties(),
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "phi-accrual-fd",
            topic: Topic::FailureDetectors,
            summary: "phi accrual: suspicion level from the heartbeat inter-arrival distribution, threshold 8",
            canary: false,
            run: |spec| {
                run_protocol(
                    "phi-accrual-fd",
                    fd::PhiAccrual::new(HB_PERIOD, 8.0),
                    &[fp::strong_completeness()],
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "swim",
            topic: Topic::FailureDetectors,
            summary: "SWIM membership: random probes, k indirect probes, suspicion with incarnations, gossip",
            canary: false,
            run: |spec| {
                run_protocol(
                    "swim",
                    fd::Swim::new(Duration::from_millis(200)),
                    &[fp::strong_completeness()],
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
    ]
}

fn election_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "omega",
            topic: Topic::Election,
            summary: "eventual leader: trust the smallest unsuspected id over <>P (default psync:gst=2s)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "omega",
                    fd::Omega::new(HB_PERIOD, Duration::from_millis(60), Increase::Add(Duration::from_millis(20))),
                    &[fp::eventual_leadership(None)],
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "lcr",
            topic: Topic::Election,
            summary: "LCR (Chang-Roberts) on a one-way ring with random UIDs from the seed: forward larger UIDs",
            canary: false,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "lcr",
                    election::Lcr::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "hirschberg-sinclair",
            topic: Topic::Election,
            summary: "Hirschberg-Sinclair on a two-way ring: probes to doubling distances, O(n log n) messages",
            canary: false,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "hirschberg-sinclair",
                    election::HirschbergSinclair::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "bully",
            topic: Topic::Election,
            summary: "Bully: the highest live id wins, decided by timeouts (n0 starts at 10ms; try --crash on the top node)",
            canary: false,
            run: |spec| {
                let uids = arrangement::sorted(spec.nodes);
                run_protocol(
                    "bully",
                    election::Bully::new(uids.clone(), Duration::from_millis(45)),
                    &ep::election_properties(uids),
                    Scripted(vec![(Instant::from_millis(10), NodeId(0), BullyRequest::StartElection)]),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "lcr-forward-all",
            topic: Topic::Election,
            summary: "canary: LCR that forwards every UID without comparing (several leaders, n^2 messages)",
            canary: true,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "lcr-forward-all",
                    election::LcrCanaryForwardAll::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
    ]
}

fn link_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "fair-loss-link",
            topic: Topic::Links,
            summary: "the network itself: may lose, duplicate and reorder, never creates messages",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fair-loss-link",
                    link::FairLossLink::<u64>::new(),
                    &lp::fair_loss_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "stubborn-link",
            topic: Topic::Links,
            summary: "retransmit forever: every message delivered infinitely often (CGR 2.4.3)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "stubborn-link",
                    link::StubbornLink::<u64>::new(STUBBORN_PERIOD),
                    &lp::stubborn_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "perfect-link",
            topic: Topic::Links,
            summary: "retransmit + acknowledge + deduplicate: reliable delivery, no duplication",
            canary: false,
            run: |spec| {
                run_protocol(
                    "perfect-link",
                    link::PerfectLink::<u64>::new(RETRANSMIT),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "dedup-perfect-link",
            topic: Topic::Links,
            summary: "the book's perfect link: eliminate duplicates over a stubborn link (2-level stack)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "dedup-perfect-link",
                    link::dedup_perfect_link::<u64>(STUBBORN_PERIOD),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-perfect-link",
            topic: Topic::Links,
            summary: "sequence numbers + hold-back queue over a perfect link: delivery in send order",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fifo-perfect-link",
                    link::fifo_perfect_link::<u64>(RETRANSMIT),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-stubborn-stack",
            topic: Topic::Links,
            summary: "3-level stack: FIFO over eliminate-duplicates over stubborn over fair-loss",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fifo-stubborn-stack",
                    link::fifo_stubborn_stack::<u64>(STUBBORN_PERIOD),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "stubborn-link-gives-up",
            topic: Topic::Links,
            summary: "canary: a stubborn link that stops after one retransmission (stubborn delivery fails under loss)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "stubborn-link-gives-up",
                    link::StubbornLink::<u64>::canary_gives_up(STUBBORN_PERIOD, 1),
                    &lp::stubborn_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "perfect-link-no-dedup",
            topic: Topic::Links,
            summary: "canary: a perfect link that forgets to deduplicate (no-duplication fails)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "perfect-link-no-dedup",
                    link::PerfectLink::<u64>::canary_no_dedup(RETRANSMIT),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-link-no-holdback",
            topic: Topic::Links,
            summary: "canary: FIFO link that delivers in arrival order (fifo-delivery fails under reordering)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "fifo-link-no-holdback",
                    link::fifo_perfect_link_canary_no_holdback::<u64>(RETRANSMIT),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
    ]
}

/// The entry named `name`, or an error listing the names.
pub fn find_protocol(name: &str) -> Result<ProtocolEntry, LabError> {
    let all = protocols();
    all.iter().find(|e| e.name == name).copied().ok_or_else(|| {
        LabError::new(format!(
            "unknown protocol '{name}' (run `synod list` to see the {} protocols)",
            all.len()
        ))
    })
}
