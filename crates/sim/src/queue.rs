//! The event queue: a min-heap on (time, insertion sequence).
//!
//! Ties at the same virtual time pop in insertion order, which makes runs deterministic and
//! keeps FIFO channels FIFO. Items sit in a slab so that heap sifts move 16-byte keys, not
//! whole events with their messages.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use synod_core::Instant;

/// A deterministic priority queue of timed items.
pub struct EventQueue<T> {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `item` at `time`.
    #[inline]
    pub fn push(&mut self, time: Instant, item: T) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(item);
                s
            }
            None => {
                self.slab.push(Some(item));
                (self.slab.len() - 1) as u32
            }
        };
        // The tie-breaker packs the insertion sequence (high 32 bits, so equal times pop in
        // insertion order) and the slab slot (low 32 bits).
        assert!(
            self.seq < (1 << 32),
            "more than 2^32 events scheduled in one run"
        );
        let tie = (self.seq << 32) | slot as u64;
        self.seq += 1;
        self.heap.push(Reverse((time.0, tie)));
    }

    /// Removes and returns the earliest item.
    #[inline]
    pub fn pop(&mut self) -> Option<(Instant, T)> {
        let Reverse((time, tie)) = self.heap.pop()?;
        let slot = (tie & 0xFFFF_FFFF) as u32;
        let item = self.slab[slot as usize]
            .take()
            .expect("event queue slot was empty");
        self.free.push(slot);
        Some((Instant(time), item))
    }

    /// The time of the earliest item.
    pub fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((t, _))| Instant(*t))
    }

    /// Number of pending items.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Instant(5), "c");
        q.push(Instant(1), "a");
        q.push(Instant(5), "d");
        q.push(Instant(1), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
    }
}
