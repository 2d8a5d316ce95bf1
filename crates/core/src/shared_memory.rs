//! The shared-memory model: processes that take atomic steps on shared objects.
//!
//! Message passing is one way for processes to communicate; the other classic model lets them
//! share *objects* (Lynch ch. 9; Attiya & Welch ch. 4–5, 10 and 15; Herlihy 1991). A step of a
//! process is one atomic operation on one object — a read or write of a register, a
//! test-and-set, a fetch-and-add, an enqueue, a compare-and-swap — or a local step that only
//! emits an output (a decision, the call or return of a higher-level operation). Asynchrony is
//! the scheduler's freedom to interleave the steps of different processes in any order; a crash
//! is a process that stops taking steps.
//!
//! A shared-memory algorithm is a [`Program`]: a deterministic state machine per process, written
//! once, that says which step a process takes next ([`Program::next`]) and how it absorbs the
//! step's result ([`Program::resume`]). Like a message-passing [`crate::Protocol`], it never
//! sees a clock or randomness; drivers decide the interleaving. The simulator
//! (`synod_sim::shared_memory`) draws a seeded schedule, with crashes; the model checker
//! (`synod_check::shared_memory`) explores every interleaving, checks safety properties in every
//! reachable state and decides *wait-freedom*: whether each process halts within a bounded number
//! of its own steps whatever the others do.
//!
//! Objects implement [`SharedObject`]: a sequential type whose operations are applied atomically.
//! [`Object`] provides the classic ones, enough for Herlihy's consensus hierarchy:
//!
//! | object | operations | consensus number |
//! |---|---|---|
//! | [`Object::Register`] (single- or multi-writer) | read, write | 1 |
//! | [`Object::TestAndSet`] | test-and-set, read | 2 |
//! | [`Object::FetchAndAdd`] | fetch-and-add, read | 2 |
//! | [`Object::Queue`] | enqueue, dequeue | 2 |
//! | [`Object::CompareAndSwap`] | compare-and-swap, read | ∞ |
//!
//! A first program: each process writes its id into its own register, then reads the other's.
//!
//! ```
//! use synod_core::shared_memory::{Action, Object, ObjectOp, ObjectRet, Program};
//!
//! /// Process p: write p+1 to register p, read register 1-p, output what it read.
//! struct WriteThenRead;
//!
//! impl Program for WriteThenRead {
//!     type Object = Object;
//!     type Local = (u8, Option<u64>); // (pc, value read)
//!     type Output = Option<u64>;
//!
//!     fn processes(&self) -> usize { 2 }
//!     fn memory(&self) -> Vec<Object> { vec![Object::register(), Object::register()] }
//!     fn init(&self, _p: usize) -> (u8, Option<u64>) { (0, None) }
//!     fn next(&self, p: usize, l: &(u8, Option<u64>)) -> Action<ObjectOp, Option<u64>> {
//!         match l.0 {
//!             0 => Action::Access { object: p, op: ObjectOp::Write(p as u64 + 1) },
//!             1 => Action::Access { object: 1 - p, op: ObjectOp::Read },
//!             2 => Action::Emit(l.1),
//!             _ => Action::Halt,
//!         }
//!     }
//!     fn resume(&self, _p: usize, l: &mut (u8, Option<u64>), ret: Option<ObjectRet>) {
//!         if let Some(ObjectRet::Value(v)) = ret { l.1 = v; }
//!         l.0 += 1;
//!     }
//! }
//!
//! // Drive it by hand: p0 runs alone, so it reads the empty register 1.
//! let prog = WriteThenRead;
//! let mut memory = prog.memory();
//! let mut local = prog.init(0);
//! let mut outputs = Vec::new();
//! loop {
//!     match prog.next(0, &local) {
//!         Action::Access { object, op } => {
//!             let ret = memory[object].apply(0, &op).expect("a legal operation");
//!             prog.resume(0, &mut local, Some(ret));
//!         }
//!         Action::Emit(out) => { outputs.push(out); prog.resume(0, &mut local, None); }
//!         Action::Halt => break,
//!     }
//! }
//! assert_eq!(outputs, vec![None]);
//! assert_eq!(memory[0], Object::Register { value: Some(1), writer: None });
//! # use synod_core::shared_memory::SharedObject;
//! ```
//!
//! **Read:** Lynch, *Distributed Algorithms*, ch. 9–13 (asynchronous shared memory, consensus
//! impossibility, atomic objects); Attiya & Welch ch. 4, 5 and 15 (wait-free simulations,
//! consensus numbers); Herlihy, "Wait-free synchronization", TOPLAS 1991; Herlihy & Shavit,
//! *The Art of Multiprocessor Programming*, ch. 4–6; Raynal, *Concurrent Programming:
//! Algorithms, Principles, and Foundations*.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::{self, Debug};
use std::hash::Hash;

/// What a process does next.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action<Op, Out> {
    /// Apply `op` to object number `object`, atomically; the result comes back through
    /// [`Program::resume`].
    Access {
        /// The object's index in the memory ([`Program::memory`]).
        object: usize,
        /// The operation.
        op: Op,
    },
    /// Output a value without touching shared memory (a decision, the call or the return of a
    /// higher-level operation); one step. [`Program::resume`] follows with `None`.
    Emit(Out),
    /// The process has finished: it takes no more steps.
    Halt,
}

/// A shared-memory algorithm: one deterministic state machine per process.
///
/// The driver contract, for the simulator and the model checker alike:
///
/// 1. the memory starts as [`Program::memory`] and process `p`'s local state as
///    [`Program::init`]`(p)`;
/// 2. a step of process `p` asks [`Program::next`] what `p` does; an access is applied to the
///    object atomically ([`SharedObject::apply`]) and its result handed to [`Program::resume`];
///    an emitted output is recorded and `resume` is called with `None`; after
///    [`Action::Halt`] the process takes no more steps;
/// 3. the scheduler interleaves steps of different processes arbitrarily; a crashed process
///    simply stops taking steps (shared objects keep their state);
/// 4. an operation the object rejects ([`SharedObject::apply`] returns an error, e.g. a write to
///    a single-writer register by another process) is a bug in the program: drivers report it
///    as a violation, with the schedule that led to it.
///
/// `next` must be a pure function of `(p, local)`: the checker calls it to enumerate successors
/// and relies on equal local states behaving alike.
pub trait Program {
    /// The shared objects' type (usually [`Object`]).
    type Object: SharedObject;
    /// A process's local state (its program counter and variables).
    type Local: Clone + Eq + Hash + Debug;
    /// What a process outputs (a decision, an operation's call or return).
    type Output: Clone + Eq + Hash + Debug;

    /// Number of processes.
    fn processes(&self) -> usize;
    /// The shared memory's initial objects, indexed from 0.
    fn memory(&self) -> Vec<Self::Object>;
    /// Process `p`'s initial local state.
    fn init(&self, p: usize) -> Self::Local;
    /// What process `p` does next in local state `local`.
    fn next(
        &self,
        p: usize,
        local: &Self::Local,
    ) -> Action<<Self::Object as SharedObject>::Op, Self::Output>;
    /// Process `p` absorbs the result of its step (`None` after an [`Action::Emit`]).
    fn resume(
        &self,
        p: usize,
        local: &mut Self::Local,
        ret: Option<<Self::Object as SharedObject>::Ret>,
    );
}

/// A shared object: a sequential type whose operations the memory applies atomically.
pub trait SharedObject: Clone + Eq + Hash + Debug {
    /// An operation's input.
    type Op: Clone + Eq + Hash + Debug;
    /// An operation's result.
    type Ret: Clone + Eq + Hash + Debug;
    /// Applies `op` by process `p`, or explains why `p` may not apply it.
    fn apply(&mut self, p: usize, op: &Self::Op) -> Result<Self::Ret, ObjectError>;
}

/// An operation an object does not allow: a bug in the program that issued it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectError(pub String);

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The classic shared objects. Values are `u64`; `None` is a register's initial "nothing
/// written" (⊥).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Object {
    /// A read/write register; `writer: Some(p)` makes it single-writer (only `p` may write).
    Register {
        /// The current value (`None`: never written).
        value: Option<u64>,
        /// The only process allowed to write, for a single-writer register.
        writer: Option<usize>,
    },
    /// A test-and-set bit: `TestAndSet` sets it and returns the old value.
    TestAndSet(bool),
    /// A counter: `FetchAndAdd(k)` adds `k` and returns the old value.
    FetchAndAdd(u64),
    /// A FIFO queue.
    Queue(VecDeque<u64>),
    /// A compare-and-swap register: `Cas` replaces `expected` by `new` and returns the old value.
    CompareAndSwap(Option<u64>),
}

/// An operation on an [`Object`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectOp {
    /// Read the value (register, test-and-set bit as 0/1, counter, compare-and-swap register).
    Read,
    /// Write a value (register).
    Write(u64),
    /// Set the bit, returning its old value.
    TestAndSet,
    /// Add to the counter, returning its old value.
    FetchAndAdd(u64),
    /// Append to the queue.
    Enqueue(u64),
    /// Remove the queue's head (`Value(None)` when empty).
    Dequeue,
    /// If the value is `expected`, replace it by `new`; returns the old value either way.
    Cas {
        /// The value expected.
        expected: Option<u64>,
        /// The value to install.
        new: Option<u64>,
    },
}

/// The result of an [`ObjectOp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectRet {
    /// A value: what was read, the old value of a test-and-set (0/1), fetch-and-add or
    /// compare-and-swap, a dequeued element (`None`: the queue was empty).
    Value(Option<u64>),
    /// The operation took effect and returns nothing (write, enqueue).
    Ok,
}

impl ObjectRet {
    /// The value carried, if any.
    pub fn value(self) -> Option<u64> {
        match self {
            ObjectRet::Value(v) => v,
            ObjectRet::Ok => None,
        }
    }
}

impl Object {
    /// An empty multi-writer register.
    pub fn register() -> Object {
        Object::Register {
            value: None,
            writer: None,
        }
    }

    /// An empty register only process `writer` may write.
    pub fn single_writer(writer: usize) -> Object {
        Object::Register {
            value: None,
            writer: Some(writer),
        }
    }

    /// A short name of the object's kind, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Register {
                writer: Some(_), ..
            } => "swmr-register",
            Object::Register { writer: None, .. } => "mwmr-register",
            Object::TestAndSet(_) => "test-and-set",
            Object::FetchAndAdd(_) => "fetch-and-add",
            Object::Queue(_) => "fifo-queue",
            Object::CompareAndSwap(_) => "compare-and-swap",
        }
    }
}

impl SharedObject for Object {
    type Op = ObjectOp;
    type Ret = ObjectRet;

    fn apply(&mut self, p: usize, op: &ObjectOp) -> Result<ObjectRet, ObjectError> {
        let unsupported = |o: &Object| {
            Err(ObjectError(format!(
                "process {p} applied {op:?} to a {}, which does not support it",
                o.kind()
            )))
        };
        match (self, *op) {
            (Object::Register { value, .. }, ObjectOp::Read) => Ok(ObjectRet::Value(*value)),
            (Object::Register { value, writer }, ObjectOp::Write(v)) => match writer {
                Some(w) if *w != p => Err(ObjectError(format!(
                    "process {p} wrote a single-writer register owned by process {w}"
                ))),
                _ => {
                    *value = Some(v);
                    Ok(ObjectRet::Ok)
                }
            },
            (Object::TestAndSet(bit), ObjectOp::TestAndSet) => {
                let old = *bit;
                *bit = true;
                Ok(ObjectRet::Value(Some(old as u64)))
            }
            (Object::TestAndSet(bit), ObjectOp::Read) => Ok(ObjectRet::Value(Some(*bit as u64))),
            (Object::FetchAndAdd(c), ObjectOp::FetchAndAdd(k)) => {
                let old = *c;
                *c = c.wrapping_add(k);
                Ok(ObjectRet::Value(Some(old)))
            }
            (Object::FetchAndAdd(c), ObjectOp::Read) => Ok(ObjectRet::Value(Some(*c))),
            (Object::Queue(q), ObjectOp::Enqueue(v)) => {
                q.push_back(v);
                Ok(ObjectRet::Ok)
            }
            (Object::Queue(q), ObjectOp::Dequeue) => Ok(ObjectRet::Value(q.pop_front())),
            (Object::CompareAndSwap(x), ObjectOp::Cas { expected, new }) => {
                let old = *x;
                if old == expected {
                    *x = new;
                }
                Ok(ObjectRet::Value(old))
            }
            (Object::CompareAndSwap(x), ObjectOp::Read) => Ok(ObjectRet::Value(*x)),
            (o, _) => unsupported(o),
        }
    }
}

/// One step of a shared-memory run, as drivers record it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShmStep<Op, Ret, Out> {
    /// Process `p` applied `op` to `object` and got `ret`.
    Access {
        /// The process.
        p: usize,
        /// The object's index.
        object: usize,
        /// The operation.
        op: Op,
        /// Its result.
        ret: Ret,
    },
    /// Process `p` emitted `out`.
    Emit {
        /// The process.
        p: usize,
        /// The output.
        out: Out,
    },
    /// Process `p` halted.
    Halt {
        /// The process.
        p: usize,
    },
    /// Process `p` crashed: it takes no more steps.
    Crash {
        /// The process.
        p: usize,
    },
}

impl<Op, Ret, Out> ShmStep<Op, Ret, Out> {
    /// The process that took the step.
    pub fn process(&self) -> usize {
        match *self {
            ShmStep::Access { p, .. }
            | ShmStep::Emit { p, .. }
            | ShmStep::Halt { p }
            | ShmStep::Crash { p } => p,
        }
    }
}

impl<Op: Debug, Ret: Debug, Out: Debug> fmt::Display for ShmStep<Op, Ret, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmStep::Access { p, object, op, ret } => {
                write!(f, "p{p}  {op:?} on object {object} -> {ret:?}")
            }
            ShmStep::Emit { p, out } => write!(f, "p{p}  output {out:?}"),
            ShmStep::Halt { p } => write!(f, "p{p}  halts"),
            ShmStep::Crash { p } => write!(f, "p{p}  CRASHES"),
        }
    }
}

/// The step type of a program's runs.
pub type StepOf<P> = ShmStep<
    <<P as Program>::Object as SharedObject>::Op,
    <<P as Program>::Object as SharedObject>::Ret,
    <P as Program>::Output,
>;

/// Takes one step of process `p`: asks the program what `p` does, applies it, and returns the
/// step (`None` if `p` has halted, in which case nothing changes). The one place where a step's
/// semantics is written; both drivers call it.
pub fn take_step<P: Program>(
    program: &P,
    p: usize,
    local: &mut P::Local,
    memory: &mut [P::Object],
) -> Result<Option<StepOf<P>>, ObjectError> {
    match program.next(p, local) {
        Action::Access { object, op } => {
            let Some(obj) = memory.get_mut(object) else {
                return Err(ObjectError(format!(
                    "process {p} accessed object {object}, but the memory has {} objects",
                    memory.len()
                )));
            };
            let ret = obj.apply(p, &op)?;
            program.resume(p, local, Some(ret.clone()));
            Ok(Some(ShmStep::Access { p, object, op, ret }))
        }
        Action::Emit(out) => {
            program.resume(p, local, None);
            Ok(Some(ShmStep::Emit { p, out }))
        }
        Action::Halt => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_follow_their_sequential_specifications() {
        let mut tas = Object::TestAndSet(false);
        assert_eq!(
            tas.apply(0, &ObjectOp::TestAndSet),
            Ok(ObjectRet::Value(Some(0)))
        );
        assert_eq!(
            tas.apply(1, &ObjectOp::TestAndSet),
            Ok(ObjectRet::Value(Some(1)))
        );

        let mut faa = Object::FetchAndAdd(0);
        assert_eq!(
            faa.apply(0, &ObjectOp::FetchAndAdd(2)),
            Ok(ObjectRet::Value(Some(0)))
        );
        assert_eq!(
            faa.apply(1, &ObjectOp::FetchAndAdd(2)),
            Ok(ObjectRet::Value(Some(2)))
        );

        let mut q = Object::Queue(VecDeque::from(vec![7]));
        assert_eq!(q.apply(0, &ObjectOp::Enqueue(8)), Ok(ObjectRet::Ok));
        assert_eq!(
            q.apply(0, &ObjectOp::Dequeue),
            Ok(ObjectRet::Value(Some(7)))
        );
        assert_eq!(
            q.apply(0, &ObjectOp::Dequeue),
            Ok(ObjectRet::Value(Some(8)))
        );
        assert_eq!(q.apply(0, &ObjectOp::Dequeue), Ok(ObjectRet::Value(None)));

        let mut cas = Object::CompareAndSwap(None);
        let first = ObjectOp::Cas {
            expected: None,
            new: Some(4),
        };
        let second = ObjectOp::Cas {
            expected: None,
            new: Some(5),
        };
        assert_eq!(cas.apply(0, &first), Ok(ObjectRet::Value(None)));
        assert_eq!(cas.apply(1, &second), Ok(ObjectRet::Value(Some(4))));
        assert_eq!(cas, Object::CompareAndSwap(Some(4)));
    }

    #[test]
    fn a_single_writer_register_refuses_other_writers_and_kinds_refuse_foreign_ops() {
        let mut r = Object::single_writer(1);
        assert!(r.apply(0, &ObjectOp::Write(3)).is_err());
        assert_eq!(r.apply(1, &ObjectOp::Write(3)), Ok(ObjectRet::Ok));
        assert_eq!(r.apply(0, &ObjectOp::Read), Ok(ObjectRet::Value(Some(3))));
        assert!(Object::TestAndSet(false)
            .apply(0, &ObjectOp::Dequeue)
            .is_err());
    }
}
