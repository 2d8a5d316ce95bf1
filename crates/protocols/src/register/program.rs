//! Register client programs: written once, run on shared memory and on message passing.
//!
//! A [`RegisterProgram`] says which operation each client issues next, given how many it has
//! done and what the last one returned. It knows nothing about where the register lives. Two
//! drivers run the same program:
//!
//! - on **shared memory**, [`OnSharedMemory`] turns it into a `synod_core::shared_memory`
//!   [`Program`]: each operation is a call, one atomic step on a register object, and a return;
//! - on **message passing**, the lab's `ProgramClients` workload sends the same operations as
//!   [`super::RegisterReq`]s to a register protocol such as [`super::Abd`], one at a time, each
//!   after the previous answer.
//!
//! Both produce a client history (`synod_core::History<RegisterOp, RegisterRet>`), judged by the
//! same checkers: on an atomic shared register and on ABD it is linearizable; ABD without its
//! read write-back shows new/old inversions. This is Attiya, Bar-Noy and Dolev's point: a
//! majority-quorum emulation lets shared-memory algorithms run unchanged on a message-passing
//! system with crashes (Lynch ch. 17; Attiya & Welch ch. 10).

use super::{RegisterOp, RegisterRet};
use synod_core::shared_memory::{Action, Object, ObjectOp, ObjectRet, Program};

/// A register client program: what each client does next.
pub trait RegisterProgram {
    /// Number of clients.
    fn clients(&self) -> usize;
    /// Client `client`'s next operation after `done` operations, the last of which returned
    /// `last` (`None` before the first); `None` when the client has finished.
    fn next_op(&self, client: usize, done: u32, last: Option<RegisterRet>) -> Option<RegisterOp>;
    /// True if only client 0 ever writes (a single-writer register suffices).
    fn single_writer(&self) -> bool;
}

/// Writers write distinct values, readers read: the workload of register experiments.
///
/// Clients `0..writers` each write `writes` values, client `w`'s `k`-th being
/// `1000 * (w + 1) + k`, each write followed by `writer_reads` reads; clients
/// `writers..writers + readers` each read `reads` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WritersReaders {
    /// Writing clients (one: a single-writer program).
    pub writers: usize,
    /// Reading clients.
    pub readers: usize,
    /// Writes per writer.
    pub writes: u32,
    /// Reads per reader.
    pub reads: u32,
    /// Reads a writer issues after each of its writes.
    pub writer_reads: u32,
}

impl WritersReaders {
    /// The value client `writer` writes in its `k`-th write (from 0).
    pub fn value(writer: usize, k: u32) -> u64 {
        1000 * (writer as u64 + 1) + k as u64
    }

    /// One writer and `readers` readers, `ops` operations each, no reads by the writer.
    pub fn single_writer(readers: usize, ops: u32) -> WritersReaders {
        WritersReaders {
            writers: 1,
            readers,
            writes: ops,
            reads: ops,
            writer_reads: 0,
        }
    }

    /// Operations the program issues in all.
    pub fn total_ops(&self) -> usize {
        self.writers * (self.writes * (1 + self.writer_reads)) as usize
            + self.readers * self.reads as usize
    }
}

impl RegisterProgram for WritersReaders {
    fn clients(&self) -> usize {
        self.writers + self.readers
    }

    fn next_op(&self, client: usize, done: u32, _last: Option<RegisterRet>) -> Option<RegisterOp> {
        if client < self.writers {
            let cycle = 1 + self.writer_reads;
            if done / cycle >= self.writes {
                None
            } else if done.is_multiple_of(cycle) {
                Some(RegisterOp::Write(WritersReaders::value(
                    client,
                    done / cycle,
                )))
            } else {
                Some(RegisterOp::Read)
            }
        } else {
            (done < self.reads).then_some(RegisterOp::Read)
        }
    }

    fn single_writer(&self) -> bool {
        self.writers <= 1
    }
}

/// What a client process outputs on shared memory: the call and the return of each operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterEvent {
    /// The client called this operation.
    Call(RegisterOp),
    /// The operation returned this.
    Return(RegisterRet),
}

/// A client's progress on shared memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientLocal {
    /// Operations completed.
    pub done: u32,
    /// The last result.
    pub last: Option<RegisterRet>,
    /// The operation in progress and, once applied, its result.
    pub current: Option<(RegisterOp, Option<RegisterRet>)>,
}

/// A [`RegisterProgram`] run on one shared register (single-writer if the program is).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OnSharedMemory<R>(pub R);

impl<R: RegisterProgram> Program for OnSharedMemory<R> {
    type Object = Object;
    type Local = ClientLocal;
    type Output = RegisterEvent;

    fn processes(&self) -> usize {
        self.0.clients()
    }

    fn memory(&self) -> Vec<Object> {
        vec![if self.0.single_writer() {
            Object::single_writer(0)
        } else {
            Object::register()
        }]
    }

    fn init(&self, _p: usize) -> ClientLocal {
        ClientLocal {
            done: 0,
            last: None,
            current: None,
        }
    }

    fn next(&self, p: usize, l: &ClientLocal) -> Action<ObjectOp, RegisterEvent> {
        match l.current {
            None => match self.0.next_op(p, l.done, l.last) {
                Some(op) => Action::Emit(RegisterEvent::Call(op)),
                None => Action::Halt,
            },
            Some((RegisterOp::Write(v), None)) => Action::Access {
                object: 0,
                op: ObjectOp::Write(v),
            },
            Some((RegisterOp::Read, None)) => Action::Access {
                object: 0,
                op: ObjectOp::Read,
            },
            Some((_, Some(ret))) => Action::Emit(RegisterEvent::Return(ret)),
        }
    }

    fn resume(&self, p: usize, l: &mut ClientLocal, ret: Option<ObjectRet>) {
        match (l.current, ret) {
            (None, _) => {
                l.current = self.0.next_op(p, l.done, l.last).map(|op| (op, None));
            }
            (Some((op, None)), Some(r)) => {
                let result = match op {
                    RegisterOp::Write(_) => RegisterRet::WriteOk,
                    RegisterOp::Read => RegisterRet::ReadOk(r.value()),
                };
                l.current = Some((op, Some(result)));
            }
            (Some((_, Some(result))), None) => {
                l.last = Some(result);
                l.done += 1;
                l.current = None;
            }
            (current, ret) => unreachable!("resume out of order: {current:?} then {ret:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::shared_memory::{take_step, ShmStep};

    #[test]
    fn writers_can_read_between_their_writes() {
        let p = WritersReaders {
            writers: 2,
            readers: 1,
            writes: 2,
            reads: 3,
            writer_reads: 1,
        };
        let ops: Vec<Option<RegisterOp>> = (0..5).map(|k| p.next_op(1, k, None)).collect();
        use RegisterOp::*;
        assert_eq!(
            ops,
            vec![
                Some(Write(2000)),
                Some(Read),
                Some(Write(2001)),
                Some(Read),
                None
            ]
        );
        assert_eq!(p.next_op(2, 2, None), Some(Read));
        assert_eq!(p.next_op(2, 3, None), None);
        assert_eq!(p.total_ops(), 2 * 4 + 3);
    }

    #[test]
    fn a_solo_client_calls_accesses_and_returns_each_operation() {
        let prog = OnSharedMemory(WritersReaders {
            writers: 1,
            readers: 1,
            writes: 2,
            reads: 1,
            writer_reads: 0,
        });
        let mut mem = prog.memory();
        let mut events = Vec::new();
        for p in 0..2 {
            let mut l = prog.init(p);
            while let Some(step) = take_step(&prog, p, &mut l, &mut mem).unwrap() {
                if let ShmStep::Emit { out, .. } = step {
                    events.push((p, out));
                }
            }
        }
        use RegisterEvent::*;
        assert_eq!(
            events,
            vec![
                (0, Call(RegisterOp::Write(1000))),
                (0, Return(RegisterRet::WriteOk)),
                (0, Call(RegisterOp::Write(1001))),
                (0, Return(RegisterRet::WriteOk)),
                (1, Call(RegisterOp::Read)),
                (1, Return(RegisterRet::ReadOk(Some(1001)))),
            ]
        );
    }
}
