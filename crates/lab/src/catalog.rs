//! The protocol catalog: every protocol `synod sim` can run, grouped by topic.
//!
//! Each entry binds a protocol from `synod-protocols` to its properties, its default workload
//! and its default timing model. Canaries (deliberately broken variants) are listed too, so a
//! user can watch a property check catch them.

use crate::runner::{run_protocol, SimReport, SimSpec};
use crate::workloads::LinkTraffic;
use crate::{LabError, Topic};
use synod_core::Duration;
use synod_protocols::link::{self, properties as lp};
use synod_sim::Timing;

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

/// Every catalog entry, in topic order.
pub fn protocols() -> Vec<ProtocolEntry> {
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
