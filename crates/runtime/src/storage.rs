//! Where a node's durable state goes: the [`Storage`] trait and the in-memory [`MemStorage`].
//! The on-disk implementation is [`crate::FileWal`].

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use synod_core::Journal;

/// Stable storage for one node's [`Protocol::Durable`](synod_core::Protocol::Durable) value.
///
/// The driver calls [`load`](Storage::load) once at start and [`persist`](Storage::persist) at
/// most once per input batch; `persist` must not return before the value would survive a crash
/// of the process (and, for a disk, of the machine, unless the user turned fsync off).
pub trait Storage<D>: Send + 'static {
    /// The last persisted value, or `None` if nothing was ever persisted (the node then starts
    /// with [`Protocol::init`](synod_core::Protocol::init) rather than `recover`).
    fn load(&mut self) -> io::Result<Option<D>>;

    /// Makes `value` the durable state.
    fn persist(&mut self, value: D) -> io::Result<Written>;

    /// Whether [`persist`](Storage::persist) blocks on a device. The driver then runs it on
    /// tokio's blocking pool so the reactor keeps serving sockets; a non-blocking storage is
    /// called inline, which keeps turmoil runs deterministic.
    fn blocks(&self) -> bool;
}

impl<D: 'static> Storage<D> for Box<dyn Storage<D>> {
    fn load(&mut self) -> io::Result<Option<D>> {
        (**self).load()
    }

    fn persist(&mut self, value: D) -> io::Result<Written> {
        (**self).persist(value)
    }

    fn blocks(&self) -> bool {
        (**self).blocks()
    }
}

/// What one [`Storage::persist`] did, for [`crate::Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub bytes: u64,
    /// Whether a whole checkpoint was written (rather than log records, or nothing).
    pub checkpoint: bool,
    /// Whether the write was made durable with an fsync.
    pub synced: bool,
}

/// Storage in memory, shared between clones: keep a clone, drop the node (a simulated crash),
/// start a new node with the clone, and it recovers what the old one persisted.
///
/// It stores the value the way a write-ahead log would rebuild it: by applying the records of
/// [`Journal::diff`] to the previous value (or taking the whole value when `diff` says `None`).
/// A [`Journal`] implementation that breaks its law therefore shows up in tests as a recovered
/// state that differs from the persisted one; `persist` also checks the law and panics on a
/// violation, naming the type.
pub struct MemStorage<D> {
    value: Arc<Mutex<Option<D>>>,
}

impl<D> MemStorage<D> {
    /// Empty storage: a node started on it begins with `init`.
    pub fn new() -> MemStorage<D> {
        MemStorage {
            value: Arc::new(Mutex::new(None)),
        }
    }

    /// The stored value, if any.
    pub fn get(&self) -> Option<D>
    where
        D: Clone,
    {
        self.value.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl<D> Default for MemStorage<D> {
    fn default() -> MemStorage<D> {
        MemStorage::new()
    }
}

impl<D> Clone for MemStorage<D> {
    fn clone(&self) -> MemStorage<D> {
        MemStorage {
            value: Arc::clone(&self.value),
        }
    }
}

impl<D: fmt::Debug> fmt::Debug for MemStorage<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemStorage")
            .field("value", &self.value.lock().map(|v| format!("{v:?}")))
            .finish()
    }
}

impl<D: Journal> Storage<D> for MemStorage<D> {
    fn load(&mut self) -> io::Result<Option<D>> {
        Ok(self.get())
    }

    fn persist(&mut self, value: D) -> io::Result<Written> {
        let mut slot = self.value.lock().unwrap_or_else(|e| e.into_inner());
        let records = slot.as_ref().and_then(|old| D::diff(old, &value));
        let written = match (slot.as_mut(), records) {
            (Some(old), Some(records)) => {
                for r in records {
                    old.apply(r);
                }
                assert!(
                    *old == value,
                    "Journal law broken by {}: replaying diff(old, new) over old does not give new",
                    std::any::type_name::<D>()
                );
                Written::default()
            }
            _ => {
                *slot = Some(value);
                Written {
                    checkpoint: true,
                    ..Written::default()
                }
            }
        };
        Ok(written)
    }

    fn blocks(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    /// A list whose journal only knows appends.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct List(Vec<u32>);

    impl Journal for List {
        type Record = u32;
        fn diff(old: &List, new: &List) -> Option<Vec<u32>> {
            new.0.strip_prefix(&old.0[..]).map(|tail| tail.to_vec())
        }
        fn apply(&mut self, r: u32) {
            self.0.push(r);
        }
    }

    #[test]
    fn clones_share_the_value_across_a_simulated_crash() {
        let mut s = MemStorage::<List>::new();
        let kept = s.clone();
        assert_eq!(s.load().unwrap(), None);
        assert!(s.persist(List(vec![1])).unwrap().checkpoint);
        assert!(!s.persist(List(vec![1, 2])).unwrap().checkpoint);
        assert!(
            s.persist(List(vec![3])).unwrap().checkpoint,
            "not an append"
        );
        drop(s);
        assert_eq!(kept.clone().load().unwrap(), Some(List(vec![3])));
    }

    /// A journal that forgets its records.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct Forgetful(u32);

    impl Journal for Forgetful {
        type Record = ();
        fn diff(_old: &Self, _new: &Self) -> Option<Vec<()>> {
            Some(Vec::new())
        }
        fn apply(&mut self, _r: ()) {}
    }

    #[test]
    #[should_panic(expected = "Journal law broken")]
    fn a_broken_journal_is_caught() {
        let mut s = MemStorage::new();
        s.persist(Forgetful(1)).unwrap();
        s.persist(Forgetful(2)).unwrap();
    }
}
