//! Faults injected at run time, for Jepsen-style testing without root or netem.
//!
//! A node's [`Faults`] handle (from [`crate::Handle::faults`]) cuts its links to chosen peers
//! (both ways or one way), delays its outgoing messages, and skews its local clock. The transport
//! consults it for every frame and the driver reads the node's clock through it, so a fault takes
//! effect on the next message or step. Messages a partition swallows are counted in
//! [`crate::Stats::dropped_by_fault`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use synod_core::{Duration, Instant, NodeId};

/// The run-time fault controls of one node. Cloning gives another handle to the same faults.
#[derive(Clone, Debug)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    block_out: BTreeSet<NodeId>,
    block_in: BTreeSet<NodeId>,
    delay_all: Duration,
    delay_to: BTreeMap<NodeId, Duration>,
    clock: SkewedClock,
}

impl Faults {
    pub(crate) fn new() -> Faults {
        Faults {
            inner: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, FaultState> {
        // A panic while holding this lock cannot leave the sets half-updated in a way that
        // matters: keep going with whatever is there.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every message to and from `peer` (a symmetric partition of the link).
    pub fn partition(&self, peer: NodeId) {
        let mut s = self.state();
        s.block_out.insert(peer);
        s.block_in.insert(peer);
    }

    /// Drops every message this node sends to `peer` (one way: `peer` still reaches us).
    pub fn block_outgoing(&self, peer: NodeId) {
        self.state().block_out.insert(peer);
    }

    /// Drops every message this node receives from `peer` (one way: we still reach `peer`).
    pub fn block_incoming(&self, peer: NodeId) {
        self.state().block_in.insert(peer);
    }

    /// Restores the link to `peer` in both directions.
    pub fn heal(&self, peer: NodeId) {
        let mut s = self.state();
        s.block_out.remove(&peer);
        s.block_in.remove(&peer);
    }

    /// Delays every message to `peer` (or to every peer, for `None`) by `delay` on top of the
    /// network's own latency. A per-peer delay overrides the all-peers one; `Duration::ZERO`
    /// removes it. Messages to one peer stay in order.
    pub fn set_delay(&self, peer: Option<NodeId>, delay: Duration) {
        let mut s = self.state();
        match peer {
            None => s.delay_all = delay,
            Some(p) if delay == Duration::ZERO => {
                s.delay_to.remove(&p);
            }
            Some(p) => {
                s.delay_to.insert(p, delay);
            }
        }
    }

    /// Makes the node's local clock run at `rate` times real time from now on (`1.5` runs
    /// fast, `0.5` slow). Timers set afterwards fire after `after / rate` of real time.
    ///
    /// # Panics
    /// If `rate` is not a finite number above zero.
    pub fn set_clock_rate(&self, rate: f64) {
        assert!(
            rate.is_finite() && rate > 0.0,
            "a clock rate must be a finite number above zero, not {rate}"
        );
        let now = self.real_elapsed();
        self.state().clock.set_rate(now, rate);
    }

    /// Moves the node's local clock by `by_nanos` (negative: back). The protocol never sees its
    /// clock go backwards: after a jump back the clock stands still until real time catches up.
    /// Pending timers keep their real-time deadlines.
    pub fn jump_clock(&self, by_nanos: i64) {
        self.state().clock.offset_nanos += by_nanos;
    }

    /// Heals every link, removes every delay and sets the clock rate back to 1. The clock keeps
    /// its current reading (it never goes back).
    pub fn clear(&self) {
        let now = self.real_elapsed();
        let mut s = self.state();
        s.block_out.clear();
        s.block_in.clear();
        s.delay_all = Duration::ZERO;
        s.delay_to.clear();
        s.clock.set_rate(now, 1.0);
    }

    pub(crate) fn blocks_outgoing(&self, peer: NodeId) -> bool {
        self.state().block_out.contains(&peer)
    }

    pub(crate) fn blocks_incoming(&self, peer: NodeId) -> bool {
        self.state().block_in.contains(&peer)
    }

    /// The extra delay of messages to `peer`, as a real-time span.
    pub(crate) fn delay_to(&self, peer: NodeId) -> std::time::Duration {
        let s = self.state();
        let d = s.delay_to.get(&peer).copied().unwrap_or(s.delay_all);
        std::time::Duration::from_nanos(d.as_nanos())
    }

    /// The node's local clock now, as the protocol sees it.
    pub(crate) fn local_now(&self) -> Instant {
        let now = self.real_elapsed();
        self.state().clock.now(now)
    }

    /// How much real time a span of `local` clock time takes at the current rate.
    pub(crate) fn real_span(&self, local: Duration) -> std::time::Duration {
        self.state().clock.real_span(local)
    }

    fn real_elapsed(&self) -> std::time::Duration {
        self.state().clock.origin.elapsed()
    }
}

/// A clock that runs at `rate` and carries an offset, read as nanoseconds since the node
/// started, and never goes backwards.
///
/// `local(t) = anchor_local + (t - anchor_real) * rate + offset`: changing the rate re-anchors
/// at the current reading, so the clock bends instead of jumping.
#[derive(Debug)]
struct SkewedClock {
    /// Real time zero (the node's start), from tokio's clock so that it is virtual under a
    /// simulated or paused runtime.
    origin: tokio::time::Instant,
    anchor_real: std::time::Duration,
    anchor_local: f64,
    rate: f64,
    offset_nanos: i64,
    /// The highest reading handed out: readings never go backwards.
    last: u64,
}

impl Default for SkewedClock {
    fn default() -> SkewedClock {
        SkewedClock {
            origin: tokio::time::Instant::now(),
            anchor_real: std::time::Duration::ZERO,
            anchor_local: 0.0,
            rate: 1.0,
            offset_nanos: 0,
            last: 0,
        }
    }
}

impl SkewedClock {
    /// The reading without the offset at real time `real` (since `origin`).
    fn unshifted(&self, real: std::time::Duration) -> f64 {
        let since = real.saturating_sub(self.anchor_real).as_nanos() as f64;
        self.anchor_local + since * self.rate
    }

    fn now(&mut self, real: std::time::Duration) -> Instant {
        let raw = self.unshifted(real) + self.offset_nanos as f64;
        // `as` saturates: negative readings become 0, huge ones u64::MAX.
        self.last = self.last.max(raw as u64);
        Instant(self.last)
    }

    fn set_rate(&mut self, real: std::time::Duration, rate: f64) {
        self.anchor_local = self.unshifted(real);
        self.anchor_real = real;
        self.rate = rate;
    }

    fn real_span(&self, local: Duration) -> std::time::Duration {
        std::time::Duration::from_nanos((local.as_nanos() as f64 / self.rate) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: std::time::Duration = std::time::Duration::from_millis(1);

    #[test]
    fn a_fast_clock_bends_without_jumping() {
        let mut c = SkewedClock::default();
        assert_eq!(c.now(10 * MS), Instant::from_millis(10));
        c.set_rate(10 * MS, 2.0);
        assert_eq!(
            c.now(10 * MS),
            Instant::from_millis(10),
            "no jump at the change"
        );
        assert_eq!(c.now(15 * MS), Instant::from_millis(20));
        assert_eq!(c.real_span(Duration::from_millis(8)), 4 * MS);
        c.set_rate(15 * MS, 0.5);
        assert_eq!(c.now(19 * MS), Instant::from_millis(22));
    }

    #[test]
    fn jumps_move_the_clock_but_never_backwards() {
        let mut c = SkewedClock::default();
        c.offset_nanos += 5_000_000;
        assert_eq!(c.now(MS), Instant::from_millis(6));
        c.offset_nanos -= 10_000_000;
        assert_eq!(c.now(2 * MS), Instant::from_millis(6), "stands still");
        assert_eq!(c.now(10 * MS), Instant::from_millis(6));
        assert_eq!(
            c.now(12 * MS),
            Instant::from_millis(7),
            "real time caught up"
        );
    }

    #[test]
    fn links_are_cut_per_direction_and_healed() {
        let f = Faults::new();
        f.block_outgoing(NodeId(1));
        f.partition(NodeId(2));
        assert!(f.blocks_outgoing(NodeId(1)) && !f.blocks_incoming(NodeId(1)));
        assert!(f.blocks_outgoing(NodeId(2)) && f.blocks_incoming(NodeId(2)));
        f.heal(NodeId(2));
        assert!(!f.blocks_outgoing(NodeId(2)) && !f.blocks_incoming(NodeId(2)));
        f.set_delay(None, Duration::from_millis(3));
        f.set_delay(Some(NodeId(1)), Duration::from_millis(7));
        assert_eq!(f.delay_to(NodeId(1)), 7 * MS);
        assert_eq!(f.delay_to(NodeId(2)), 3 * MS);
        f.clear();
        assert!(!f.blocks_outgoing(NodeId(1)));
        assert_eq!(f.delay_to(NodeId(1)), std::time::Duration::ZERO);
    }
}
