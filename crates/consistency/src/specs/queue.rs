use crate::SequentialSpec;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

/// A FIFO queue, initially empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Queue<V> {
    _values: PhantomData<fn() -> V>,
}

/// An operation on a [`Queue`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QueueOp<V> {
    /// Append an element at the back.
    Enqueue(V),
    /// Take the element at the front.
    Dequeue,
}

/// The result of a [`QueueOp`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QueueRet<V> {
    /// The element is in the queue.
    EnqueueOk,
    /// The element taken (`None`: the queue was empty).
    DequeueOk(Option<V>),
}

impl<V> Queue<V> {
    /// The specification.
    pub fn new() -> Queue<V> {
        Queue {
            _values: PhantomData,
        }
    }
}

impl<V> Default for Queue<V> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<V: Clone + Eq + Hash + Debug> SequentialSpec for Queue<V> {
    type State = VecDeque<V>;
    type Op = QueueOp<V>;
    type Ret = QueueRet<V>;

    fn init(&self) -> VecDeque<V> {
        VecDeque::new()
    }

    fn step(&self, state: &VecDeque<V>, op: &QueueOp<V>) -> (VecDeque<V>, QueueRet<V>) {
        let mut next = state.clone();
        match op {
            QueueOp::Enqueue(v) => {
                next.push_back(v.clone());
                (next, QueueRet::EnqueueOk)
            }
            QueueOp::Dequeue => {
                let front = next.pop_front();
                (next, QueueRet::DequeueOk(front))
            }
        }
    }

    fn preserves_state(&self, _op: &QueueOp<V>, ret: &QueueRet<V>) -> bool {
        matches!(ret, QueueRet::DequeueOk(None))
    }
}
