//! Sequential specifications: what an object does when its operations happen one at a time.

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification: the object's behaviour when operations happen one at a time.
///
/// Linearizability and sequential consistency both ask whether a concurrent history can be
/// explained by *some* sequential execution of this specification; the checkers only ever call
/// the methods below, so a new object (a key-value map, a log, a lock) is one small `impl`.
///
/// Contract:
///
/// 1. `init` and `step` are pure functions of their arguments (the checkers call them many
///    times, in any order, and memoise on `State`);
/// 2. `State` equality must mean "behaves the same from now on": two equal states must accept
///    the same futures. Keep states canonical (e.g. a `BTreeMap` without entries equal to the
///    default) so that the memo table recognises equal configurations;
/// 3. [`accepts`](SequentialSpec::accepts) and [`partition`](SequentialSpec::partition) have
///    sound defaults; override them only with their documented contracts in mind.
///
/// ```
/// use synod_consistency::SequentialSpec;
///
/// /// A one-bit flag that can be set once: `Set` returns whether this call set it.
/// struct Flag;
///
/// impl SequentialSpec for Flag {
///     type State = bool;
///     type Op = ();
///     type Ret = bool;
///     fn init(&self) -> bool { false }
///     fn step(&self, set: &bool, _op: &()) -> (bool, bool) { (true, !*set) }
/// }
///
/// assert_eq!(Flag.step(&false, &()), (true, true));
/// assert_eq!(Flag.accepts(&true, &(), &true), None); // only the first Set may return true
/// ```
pub trait SequentialSpec {
    /// The object's state between operations.
    type State: Clone + Eq + Hash + Debug;
    /// An operation's input, e.g. `Write(3)`.
    type Op: Clone + Eq + Hash + Debug;
    /// An operation's result, e.g. `ReadOk(Some(3))`.
    type Ret: Clone + Eq + Hash + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `op` to `state`; returns the next state and the result the operation must
    /// return.
    ///
    /// The checkers also use `step` for operations that never returned (whose result nobody
    /// saw): their effect, if they took effect at all, is the state `step` returns.
    fn step(&self, state: &Self::State, op: &Self::Op) -> (Self::State, Self::Ret);

    /// Is `ret` an acceptable result for `op` in `state`? If so, the next state.
    ///
    /// The default compares with [`step`](SequentialSpec::step). Override it for
    /// nondeterministic specifications (e.g. a set whose `Pop` may return any element): return
    /// the next state consistent with having returned `ret`, or `None` if no execution of `op`
    /// in `state` returns `ret`. (A specification with several next states for the same `ret`
    /// must be made deterministic first, e.g. by putting the choice into `Ret`.)
    fn accepts(&self, state: &Self::State, op: &Self::Op, ret: &Self::Ret) -> Option<Self::State> {
        let (next, expected) = self.step(state, op);
        (expected == *ret).then_some(next)
    }

    /// Does `op`, having returned `ret`, leave the state unchanged wherever it is accepted? (A
    /// read; a failed compare-and-swap; a dequeue from an empty queue.)
    ///
    /// The checkers linearize such an operation as soon as it is allowed and accepted, without
    /// trying alternatives: moving an operation that changes nothing to the earliest point
    /// where it is allowed and accepted keeps any witness a witness, so this loses nothing
    /// and removes most of the search on read-heavy histories. The default, `false`, is always
    /// sound; answering `true` for an operation that can change the state is not.
    fn preserves_state(&self, op: &Self::Op, ret: &Self::Ret) -> bool {
        let _ = (op, ret);
        false
    }

    /// P-compositionality (Horn & Kroening 2015): which independent part of the object `op`
    /// acts on, if the object is a product of independent parts (a key-value map is a product
    /// of one register per key).
    ///
    /// The default, `None`, means "the whole object". When *every* operation of a history has
    /// `Some` part, [`check_linearizable`](crate::check_linearizable) checks each part's
    /// sub-history on its own (from [`init`](SequentialSpec::init)) and merges the witnesses;
    /// linearizability is local (Herlihy & Wing 1990), so this is exact, and usually much
    /// faster. [`check_sequential`](crate::check_sequential) never partitions: sequential
    /// consistency is not local.
    ///
    /// Contract when returning `Some`: operations on different parts touch disjoint parts of the
    /// state, so they commute and neither's result depends on the other.
    fn partition(&self, op: &Self::Op) -> Option<u64> {
        let _ = op;
        None
    }

    /// May operations that never returned be linearized *just in time*?
    ///
    /// Answer `true` only if every operation, wherever it is accepted, either leaves the state
    /// unchanged (a read, a failed compare-and-swap) or replaces it with a state that does not
    /// depend on the old one (a write, a successful compare-and-swap): a register. Then an
    /// operation that never returned can always be moved later in a witness, past everything
    /// that accepts the state without it, until just before an operation that needs it, or
    /// dropped once something overwrites it. The search then tries such an operation only
    /// where the very next one needs it, which stops a history with many crashed writes from
    /// trying every place for each of them. The default, `false`, is always sound.
    fn lazy_pending(&self) -> bool {
        false
    }

    /// Dead-operation pruning, the producing side: the token of what `op` may make true, e.g.
    /// the value a write or a compare-and-swap stores. See [`needs`](SequentialSpec::needs).
    /// The default, [`Produces::Anything`], is always sound (it turns pruning off for any
    /// history with such an operation).
    fn produces(&self, op: &Self::Op) -> Produces {
        let _ = op;
        Produces::Anything
    }

    /// Dead-operation pruning, the needing side: a token such that, if `op` returning `ret` is
    /// not accepted in some state, only an operation that [`produces`](SequentialSpec::produces)
    /// the same token can lead to a state where it is (a read of `v` needs a write of `v`).
    ///
    /// The search keeps, per token, the operations not yet linearized that produce it. Once
    /// none is left and the current state does not accept a needing operation, that operation
    /// can never be linearized, and the search abandons the branch at once instead of trying
    /// every order of the other operations first. The defaults (`None`) never prune; a wrong
    /// answer here makes the checker reject linearizable histories, so state the token only
    /// when the contract plainly holds.
    fn needs(&self, op: &Self::Op, ret: &Self::Ret) -> Option<u64> {
        let _ = (op, ret);
        None
    }
}

/// What an operation may make true, for dead-operation pruning (see
/// [`SequentialSpec::produces`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Produces {
    /// It never changes the state (a read).
    Nothing,
    /// It may produce states accepting operations that [`needs`](SequentialSpec::needs) this
    /// token, and no others.
    Token(u64),
    /// It may produce any state (an append, whose result depends on the state).
    Anything,
}
