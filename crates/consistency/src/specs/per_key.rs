use crate::spec::Produces;
use crate::SequentialSpec;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// One independent copy of the object `S` per key: operations are `(key, op)`.
///
/// `PerKey<K, Register<V>>` is a key-value store of registers, `PerKey<K, CasRegister<V>>` one
/// with compare-and-swap. Operations on different keys are independent, so
/// [`partition`](SequentialSpec::partition) names the key (by its stable hash) and
/// [`check_linearizable`](crate::check_linearizable) checks each key's sub-history on its own
/// (P-compositionality).
///
/// The state keeps only keys whose object differs from its initial state, so equal stores
/// compare equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PerKey<K, S> {
    inner: S,
    _keys: std::marker::PhantomData<fn() -> K>,
}

impl<K, S: Default> Default for PerKey<K, S> {
    fn default() -> Self {
        PerKey::new(S::default())
    }
}

impl<K, S> PerKey<K, S> {
    /// One copy of `inner` per key.
    pub fn new(inner: S) -> PerKey<K, S> {
        PerKey {
            inner,
            _keys: std::marker::PhantomData,
        }
    }
}

impl<K, S> PerKey<K, S>
where
    K: Clone + Ord + Hash + Debug,
    S: SequentialSpec,
{
    fn update(
        &self,
        state: &BTreeMap<K, S::State>,
        key: &K,
        next: S::State,
    ) -> BTreeMap<K, S::State> {
        let mut map = state.clone();
        if next == self.inner.init() {
            map.remove(key);
        } else {
            map.insert(key.clone(), next);
        }
        map
    }
}

impl<K, S> SequentialSpec for PerKey<K, S>
where
    K: Clone + Ord + Hash + Debug,
    S: SequentialSpec,
{
    type State = BTreeMap<K, S::State>;
    type Op = (K, S::Op);
    type Ret = S::Ret;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, (key, op): &Self::Op) -> (Self::State, S::Ret) {
        let (next, ret) = match state.get(key) {
            Some(s) => self.inner.step(s, op),
            None => self.inner.step(&self.inner.init(), op),
        };
        (self.update(state, key, next), ret)
    }

    fn accepts(
        &self,
        state: &Self::State,
        (key, op): &Self::Op,
        ret: &S::Ret,
    ) -> Option<Self::State> {
        let next = match state.get(key) {
            Some(s) => self.inner.accepts(s, op, ret)?,
            None => self.inner.accepts(&self.inner.init(), op, ret)?,
        };
        Some(self.update(state, key, next))
    }

    fn partition(&self, (key, _): &Self::Op) -> Option<u64> {
        Some(synod_core::stable_hash(key))
    }

    fn preserves_state(&self, (_, op): &Self::Op, ret: &S::Ret) -> bool {
        self.inner.preserves_state(op, ret)
    }

    /// As the inner object: operations on other keys commute with one that never returned.
    fn lazy_pending(&self) -> bool {
        self.inner.lazy_pending()
    }

    /// The inner token, on this key.
    fn produces(&self, (key, op): &Self::Op) -> Produces {
        match self.inner.produces(op) {
            Produces::Token(t) => Produces::Token(synod_core::stable_hash(&(key, t))),
            other => other,
        }
    }

    /// The inner token, on this key (operations on other keys never change this key's state).
    fn needs(&self, (key, op): &Self::Op, ret: &S::Ret) -> Option<u64> {
        let token = self.inner.needs(op, ret)?;
        Some(synod_core::stable_hash(&(key, token)))
    }
}
