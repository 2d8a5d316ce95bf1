//! How a protocol's durable state is written to a write-ahead log.
//!
//! [`Protocol::durable`](crate::Protocol::durable) returns the whole value a node must find
//! again after a crash. A driver with real disks (the TCP runtime) does not want to rewrite that
//! whole value at every [`Effect::Persist`](crate::Effect::Persist): a Raft log grows by a few
//! entries per step. [`Journal`] says how to turn the previously persisted value into the new
//! one with a few small *records*, which the runtime appends to its log and fsyncs; replaying
//! the records over the last checkpoint rebuilds the value. A type that cannot say (or does not
//! care) answers `None` from [`Journal::diff`], and the runtime writes a whole checkpoint.
//!
//! ```
//! use synod_core::Journal;
//! use serde::{Deserialize, Serialize};
//!
//! /// A durable append-only list and a term.
//! #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! struct Durable { term: u64, items: Vec<u64> }
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! enum Rec { Term(u64), Push(u64) }
//!
//! impl Journal for Durable {
//!     type Record = Rec;
//!     fn diff(old: &Self, new: &Self) -> Option<Vec<Rec>> {
//!         if !new.items.starts_with(&old.items) {
//!             return None; // not an append: write a checkpoint
//!         }
//!         let mut recs: Vec<Rec> = new.items[old.items.len()..].iter().map(|&x| Rec::Push(x)).collect();
//!         if new.term != old.term {
//!             recs.push(Rec::Term(new.term));
//!         }
//!         Some(recs)
//!     }
//!     fn apply(&mut self, rec: Rec) {
//!         match rec { Rec::Term(t) => self.term = t, Rec::Push(x) => self.items.push(x) }
//!     }
//! }
//!
//! let old = Durable { term: 1, items: vec![1] };
//! let new = Durable { term: 2, items: vec![1, 2, 3] };
//! let mut replayed = old.clone();
//! for r in Durable::diff(&old, &new).unwrap() {
//!     replayed.apply(r);
//! }
//! assert_eq!(replayed, new);
//! ```

use crate::Message;

/// A durable value that can be persisted incrementally, as records appended to a log.
///
/// Law: for any `old` and `new`, if `diff(old, new)` is `Some(recs)`, applying `recs` in order
/// to a clone of `old` yields a value equal to `new`.
pub trait Journal: Message + Default {
    /// One log record.
    type Record: Message;

    /// Records that turn `old` (what was last persisted) into `new`; `None` asks the driver to
    /// write `new` whole, as a checkpoint.
    fn diff(old: &Self, new: &Self) -> Option<Vec<Self::Record>>;

    /// Applies one record (replay after a crash).
    fn apply(&mut self, record: Self::Record);
}

/// Implements [`Journal`] for types that are always written whole (every persist is a
/// checkpoint): right for small durable states such as a Paxos acceptor's promise.
#[macro_export]
macro_rules! journal_whole {
    ($($t:ty),* $(,)?) => {
        $(
            impl $crate::Journal for $t {
                type Record = ();
                fn diff(_old: &Self, _new: &Self) -> Option<Vec<()>> {
                    None
                }
                fn apply(&mut self, _record: ()) {}
            }
        )*
    };
}

journal_whole!(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_always_checkpoint() {
        assert_eq!(<() as Journal>::diff(&(), &()), None);
    }
}
