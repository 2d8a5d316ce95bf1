use crate::SequentialSpec;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use synod_core::stable_hash;

/// An append-only list, initially empty: `Append(v)` adds `v` at the end, `Read` returns the
/// whole list (Jepsen's list-append workload, on one key).
///
/// The state is a persistent list ([`AppendLog`]): appending is O(1) and shares the prefix,
/// and the state hashes in O(1) from a running hash, so long histories do not pay for copying
/// and rehashing the list at every step of the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct List<V> {
    _values: PhantomData<fn() -> V>,
}

/// An operation on a [`List`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ListOp<V> {
    /// Append an element.
    Append(V),
    /// Read the whole list.
    Read,
}

/// The result of a [`ListOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ListRet<V> {
    /// Appended.
    AppendOk,
    /// The elements, oldest first.
    ReadOk(Vec<V>),
}

impl<V> List<V> {
    /// The specification.
    pub fn new() -> List<V> {
        List {
            _values: PhantomData,
        }
    }
}

impl<V> Default for List<V> {
    fn default() -> Self {
        List::new()
    }
}

struct Node<V> {
    value: V,
    prev: Option<Arc<Node<V>>>,
}

/// A persistent append-only list with a running hash: the state of [`List`].
pub struct AppendLog<V> {
    len: usize,
    hash: u64,
    last: Option<Arc<Node<V>>>,
}

impl<V> Clone for AppendLog<V> {
    fn clone(&self) -> Self {
        AppendLog {
            len: self.len,
            hash: self.hash,
            last: self.last.clone(),
        }
    }
}

impl<V: Hash> AppendLog<V> {
    /// The empty list.
    pub fn new() -> Self {
        AppendLog {
            len: 0,
            hash: 0,
            last: None,
        }
    }

    /// The list with `value` appended (the receiver is unchanged; the prefix is shared).
    pub fn push(&self, value: V) -> Self {
        let hash = stable_hash(&(self.hash, stable_hash(&value)));
        AppendLog {
            len: self.len + 1,
            hash,
            last: Some(Arc::new(Node {
                value,
                prev: self.last.clone(),
            })),
        }
    }
}

impl<V: Hash> Default for AppendLog<V> {
    fn default() -> Self {
        AppendLog::new()
    }
}

impl<V> AppendLog<V> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements, newest first.
    pub fn iter_rev(&self) -> impl Iterator<Item = &V> {
        let mut node = self.last.as_deref();
        std::iter::from_fn(move || {
            let n = node?;
            node = n.prev.as_deref();
            Some(&n.value)
        })
    }

    /// True if the elements, oldest first, are `items`.
    pub fn equals(&self, items: &[V]) -> bool
    where
        V: PartialEq,
    {
        items.len() == self.len && self.iter_rev().eq(items.iter().rev())
    }
}

impl<V: PartialEq> PartialEq for AppendLog<V> {
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len || self.hash != other.hash {
            return false;
        }
        let mut a = self.last.as_ref();
        let mut b = other.last.as_ref();
        while let (Some(x), Some(y)) = (a, b) {
            if Arc::ptr_eq(x, y) {
                return true; // a shared prefix
            }
            if x.value != y.value {
                return false;
            }
            a = x.prev.as_ref();
            b = y.prev.as_ref();
        }
        true
    }
}

impl<V: Eq> Eq for AppendLog<V> {}

impl<V> Hash for AppendLog<V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        self.hash.hash(state);
    }
}

impl<V: Debug> Debug for AppendLog<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<&V> = self.iter_rev().collect();
        items.reverse();
        f.debug_list().entries(items).finish()
    }
}

impl<V: Clone + Eq + Hash + Debug> SequentialSpec for List<V> {
    type State = AppendLog<V>;
    type Op = ListOp<V>;
    type Ret = ListRet<V>;

    fn init(&self) -> AppendLog<V> {
        AppendLog::new()
    }

    fn step(&self, state: &AppendLog<V>, op: &ListOp<V>) -> (AppendLog<V>, ListRet<V>) {
        match op {
            ListOp::Append(v) => (state.push(v.clone()), ListRet::AppendOk),
            ListOp::Read => {
                let mut items: Vec<V> = state.iter_rev().cloned().collect();
                items.reverse();
                (state.clone(), ListRet::ReadOk(items))
            }
        }
    }

    fn accepts(
        &self,
        state: &AppendLog<V>,
        op: &ListOp<V>,
        ret: &ListRet<V>,
    ) -> Option<AppendLog<V>> {
        match (op, ret) {
            (ListOp::Append(v), ListRet::AppendOk) => Some(state.push(v.clone())),
            (ListOp::Read, ListRet::ReadOk(items)) => state.equals(items).then(|| state.clone()),
            _ => None,
        }
    }

    fn preserves_state(&self, op: &ListOp<V>, _ret: &ListRet<V>) -> bool {
        matches!(op, ListOp::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_lists_compare_by_content() {
        let a = AppendLog::new().push(1).push(2);
        let b = AppendLog::new().push(1).push(2);
        let c = a.push(3);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, AppendLog::new().push(2).push(1));
        assert!(c.equals(&[1, 2, 3]));
        assert!(!c.equals(&[1, 2]));
        assert_eq!(format!("{c:?}"), "[1, 2, 3]");
        let list = List::<u8>::new();
        assert_eq!(
            list.accepts(&a, &ListOp::Read, &ListRet::ReadOk(vec![1, 2])),
            Some(a.clone())
        );
        assert_eq!(
            list.accepts(&a, &ListOp::Read, &ListRet::ReadOk(vec![2])),
            None
        );
        assert_eq!(
            list.step(&c, &ListOp::Read).1,
            ListRet::ReadOk(vec![1, 2, 3])
        );
    }
}
