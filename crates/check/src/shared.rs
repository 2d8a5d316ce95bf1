//! [`Shared`]: an immutable value shared between states, with its hash computed once.
//!
//! Successive states differ in one node, a message or two and maybe a history event; the rest is
//! the same. A [`crate::CheckState`] therefore holds its parts (each node, each message in
//! flight, the history) as `Shared` values: copying a state copies pointers, a frontier state
//! costs a few hundred bytes whatever the protocol's state size, and a state's fingerprint folds
//! the parts' cached hashes instead of rehashing everything.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;
use synod_core::stable_hash;

/// An immutable, reference-counted value together with its [`stable_hash`].
///
/// Equality compares the hashes first (cheap and almost always decisive), then the values.
/// Hashing a `Shared` writes only the cached hash.
pub struct Shared<T>(Arc<(u64, T)>);

impl<T: Hash> Shared<T> {
    /// Wraps `value`, hashing it once.
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new((stable_hash(&value), value)))
    }

    /// Changes the value (copying it first if another state shares it) and rehashes it.
    pub fn update(&mut self, f: impl FnOnce(&mut T))
    where
        T: Clone,
    {
        let inner = Arc::make_mut(&mut self.0);
        f(&mut inner.1);
        inner.0 = stable_hash(&inner.1);
    }
}

impl<T> Shared<T> {
    /// The value's stable hash.
    pub fn stable(&self) -> u64 {
        self.0 .0
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0 .1
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 .0 == other.0 .0 && (Arc::ptr_eq(&self.0, &other.0) || self.0 .1 == other.0 .1)
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0 .0);
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0 .1.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_rehashes_and_leaves_other_copies_alone() {
        let a = Shared::new(vec![1u32, 2]);
        let mut b = a.clone();
        b.update(|v| v.push(3));
        assert_eq!(*a, vec![1, 2]);
        assert_eq!(*b, vec![1, 2, 3]);
        assert_eq!(b.stable(), stable_hash(&vec![1u32, 2, 3]));
        assert_ne!(a, b);
        assert_eq!(b, Shared::new(vec![1, 2, 3]));
    }
}
