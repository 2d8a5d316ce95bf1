//! Point-to-point links: how a process gets a message to another one.
//!
//! Every link here offers the same interface, the one of [`synod_core::link`]: a request
//! [`LinkSend`] ("send `payload` to `to`") and an indication [`LinkDeliver`] ("`payload`
//! arrived from `from`"). What differs is the guarantee, from weakest to strongest:
//!
//! | protocol | guarantees | built over |
//! |---|---|---|
//! | [`FairLossLink`] | fair-loss delivery, finite duplication, no creation | the network |
//! | [`StubbornLink`] | stubborn delivery (every message infinitely often), no creation | fair-loss |
//! | [`PerfectLink`] | reliable delivery, no duplication, no creation | fair-loss (acks + sequence numbers) |
//! | [`DedupPerfectLink`] | reliable delivery, no duplication, no creation | stubborn ([`EliminateDuplicates`]) |
//! | [`FifoPerfectLink`], [`FifoStubbornStack`] | perfect + FIFO delivery | a perfect link ([`FifoLink`]) |
//!
//! The layered ones are [`synod_core::Stack`]s: an upper protocol ([`EliminateDuplicates`],
//! [`FifoLink`]) whose messages are carried, as [`Numbered`] payloads, by a lower link. The
//! properties, as code, are in [`properties`]; they can judge any protocol with the link
//! interface.
//!
//! A FIFO perfect link over a lossy, duplicating, reordering network, checked against its
//! properties:
//!
//! ```
//! use synod_core::{check_all, Duration, Instant, LinkSend, NodeId, Ratio};
//! use synod_protocols::link::{fifo_perfect_link, properties};
//! use synod_sim::{Scripted, SimConfig, Simulation};
//!
//! let mut cfg = SimConfig::new(2, 7);
//! cfg.network.loss = Ratio::from_f64(0.3).unwrap();
//! cfg.network.duplicate = Ratio::from_f64(0.1).unwrap();
//! let sends = (0..10u64)
//!     .map(|k| (Instant(k * 1_000_000), NodeId(0), LinkSend { to: NodeId(1), payload: k }))
//!     .collect();
//! let out = Simulation::new(fifo_perfect_link::<u64>(Duration::from_millis(50)), cfg)
//!     .unwrap()
//!     .with_workload(Scripted(sends))
//!     .run();
//! for report in check_all(&properties::fifo_properties(), &out.trace) {
//!     assert!(!report.verdict.is_violated(), "{}: {}", report.name, report.verdict);
//! }
//! let delivered: Vec<u64> = out.trace.indications().map(|(_, _, _, d)| d.payload).collect();
//! assert_eq!(delivered, (0..10).collect::<Vec<_>>());
//! ```
//!
//! Canaries (deliberately broken variants, to show that the property checks catch them):
//! [`StubbornLink::canary_gives_up`], [`PerfectLink::canary_no_dedup`],
//! [`FifoLink::canary_no_holdback`] and [`fifo_perfect_link_canary_no_holdback`].
//!
//! Read: Cachin, Guerraoui and Rodrigues, *Introduction to Reliable and Secure Distributed
//! Programming* (CGR), ch. 2, section 2.4 "Abstracting communication" (fair-loss, stubborn and
//! perfect links, and FIFO-order perfect links); Lynch, *Distributed Algorithms*, ch. 22 (data
//! link protocols over lossy, reordering channels).

mod dedup;
mod fair_loss;
mod fifo;
mod perfect;
pub mod properties;
mod stubborn;

pub use dedup::{dedup_perfect_link, DedupPerfectLink, DedupState, EliminateDuplicates};
pub use fair_loss::FairLossLink;
pub use fifo::{
    fifo_perfect_link, fifo_perfect_link_canary_no_holdback, fifo_stubborn_stack, FifoLink,
    FifoPerfectLink, FifoState, FifoStubbornStack,
};
pub use perfect::{PerfectLink, PlMsg, PlState, PlTimer};
pub use stubborn::{StubbornLink, StubbornState, StubbornTimer};

pub use synod_core::{LinkDeliver, LinkSend};

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A payload tagged with a sequence number, counted per (sender, receiver) pair.
///
/// Upper link layers ([`EliminateDuplicates`], [`FifoLink`]) send their payloads as `Numbered`
/// messages through the link below: the number tells equal payloads sent twice apart, lets the
/// receiver drop copies, and gives the send order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Numbered<M> {
    /// The sequence number: the sender's `seq`-th message to this receiver, from 0.
    pub seq: u64,
    /// What the layer above asked to send.
    pub payload: M,
}

/// The set of sequence numbers received from one sender, kept small: every number below a
/// contiguous watermark, plus the (usually few) numbers above it that arrived out of order.
///
/// When every message eventually arrives, the out-of-order set drains and the state is a single
/// number, however long the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqWindow {
    below: u64,
    above: BTreeSet<u64>,
}

impl SeqWindow {
    /// An empty window: nothing received yet.
    pub fn new() -> SeqWindow {
        SeqWindow::default()
    }

    /// True if `seq` was received before.
    pub fn contains(&self, seq: u64) -> bool {
        seq < self.below || self.above.contains(&seq)
    }

    /// Records `seq`; returns true if it is new.
    pub fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) {
            return false;
        }
        if seq == self.below {
            self.below += 1;
            while self.above.remove(&self.below) {
                self.below += 1;
            }
        } else {
            self.above.insert(seq);
        }
        true
    }

    /// Every sequence number below this one was received.
    pub fn watermark(&self) -> u64 {
        self.below
    }

    /// How many numbers above the watermark were received (arrived ahead of a gap).
    pub fn out_of_order(&self) -> usize {
        self.above.len()
    }

    /// Panics if the representation is broken (a number at or below the watermark kept in the
    /// out-of-order set).
    pub(crate) fn check(&self) {
        if let Some(&first) = self.above.first() {
            assert!(
                first > self.below,
                "SeqWindow: out-of-order seq {first} not above watermark {}",
                self.below
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SeqWindow;

    #[test]
    fn seq_window_compacts() {
        let mut w = SeqWindow::new();
        assert!(w.insert(2));
        assert!(w.insert(1));
        assert!(!w.insert(2));
        assert_eq!((w.watermark(), w.out_of_order()), (0, 2));
        assert!(w.insert(0));
        assert_eq!((w.watermark(), w.out_of_order()), (3, 0));
        assert!(w.contains(1) && !w.contains(3));
        assert!(!w.insert(0));
        w.check();
    }
}
