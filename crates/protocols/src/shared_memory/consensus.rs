//! Consensus from shared objects: Herlihy's hierarchy, one protocol per object.
//!
//! Each protocol is the textbook one (Herlihy 1991; Herlihy & Shavit ch. 5): every process first
//! *announces* its input in its own single-writer register, then uses one operation on the
//! object to find out whether it won; the winner decides its own input, a loser decides the
//! winner's announced input.
//!
//! | protocol | object | processes | outcome |
//! |---|---|---|---|
//! | [`Via::TestAndSet`] | test-and-set | 2 | solves consensus: the loser knows the winner is the other one |
//! | [`Via::TestAndSet`] | test-and-set | 3 | *natural extension*: a loser cannot tell which of the others won, adopts the first announced input it sees, and can disagree |
//! | [`Via::Queue`] | queue `[win, lose, …]` | 2 / 3 | as test-and-set: whoever dequeues `win` won |
//! | [`Via::FetchAndAdd`] | fetch-and-add | 2 / 3 | as test-and-set: the one that reads 0 won |
//! | [`Via::CompareAndSwap`] | compare-and-swap | any n | solves it: the first CAS installs its value, every later one returns it |
//! | [`Via::ReadWriteMin`] | registers only | 2 | a natural attempt: announce, read the other's; decide your own if it is empty, else the minimum: disagrees |
//! | [`Via::ReadWriteWait`] | registers only | 2 | another: announce, *wait* for the other's announcement, decide the minimum: agrees, but is not wait-free (the other may have crashed) |
//!
//! The properties are consensus's: *agreement* (no two decisions differ), *validity* (a
//! decision is some process's input) and *wait-free termination* (every process decides within
//! a bounded number of its own steps, whatever the others do; decided by
//! `synod_check::shared_memory::explore`). Agreement and validity are [`agreement`] and
//! [`validity`] below.
//!
//! Model: asynchronous shared memory, atomic objects, any number of crash-stop failures
//! (wait-freedom tolerates n − 1). Read: Herlihy, "Wait-free synchronization", TOPLAS 1991;
//! Herlihy & Shavit ch. 5; Attiya & Welch ch. 15; Lynch ch. 12 (impossibility with read/write
//! registers, Loui & Abu-Amara 1987).

use synod_core::shared_memory::{Action, Object, ObjectOp, ObjectRet, Program};

/// The object a [`Consensus`] protocol relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// A test-and-set bit: who reads 0 won.
    TestAndSet,
    /// A queue initialised with one `win` token and `n − 1` `lose` tokens.
    Queue,
    /// A fetch-and-add counter: who reads 0 won.
    FetchAndAdd,
    /// A compare-and-swap register: the first CAS from empty installs its input.
    CompareAndSwap,
    /// Registers only: announce, read the other's announcement, decide your own if it is
    /// empty, else the minimum (a natural attempt that fails agreement).
    ReadWriteMin,
    /// Registers only: announce, spin until the other's announcement appears, decide the
    /// minimum (agrees, but is not wait-free).
    ReadWriteWait,
}

impl Via {
    /// The object's name, as in Herlihy's table.
    pub fn object(self) -> &'static str {
        match self {
            Via::TestAndSet => "test-and-set",
            Via::Queue => "fifo-queue",
            Via::FetchAndAdd => "fetch-and-add",
            Via::CompareAndSwap => "compare-and-swap",
            Via::ReadWriteMin | Via::ReadWriteWait => "rw-register",
        }
    }

    /// The protocol's short name.
    pub fn protocol(self) -> &'static str {
        match self {
            Via::TestAndSet | Via::FetchAndAdd => "winner-takes-own-value",
            Via::Queue => "dequeue-winner",
            Via::CompareAndSwap => "first-CAS-wins",
            Via::ReadWriteMin => "announce-read-min",
            Via::ReadWriteWait => "announce-wait-min",
        }
    }
}

/// The `win` token in [`Via::Queue`]'s queue.
pub const WIN: u64 = 1;
/// A `lose` token in [`Via::Queue`]'s queue.
pub const LOSE: u64 = 0;

/// What a consensus process outputs: its decision.
pub type Decision = u64;

/// A process's program counter and what it has learnt.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConsensusLocal {
    /// Program counter.
    pub pc: u8,
    /// Did it win the object?
    pub won: bool,
    /// Next register a loser looks at (for more than two processes).
    pub look: u8,
    /// The value it will decide, once known.
    pub decide: Option<u64>,
}

/// Consensus among `inputs.len()` processes via one shared object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Consensus {
    /// The object used.
    pub via: Via,
    /// Process `p`'s input.
    pub inputs: Vec<u64>,
}

impl Consensus {
    /// The protocol via `via` with these inputs (one process per input).
    pub fn new(via: Via, inputs: Vec<u64>) -> Consensus {
        Consensus { via, inputs }
    }

    fn n(&self) -> usize {
        self.inputs.len()
    }

    /// Index of the deciding object (after the n announcement registers).
    fn object(&self) -> usize {
        self.n()
    }

    /// The step that tells `p` whether it won.
    fn contend(&self, p: usize) -> ObjectOp {
        match self.via {
            Via::TestAndSet => ObjectOp::TestAndSet,
            Via::Queue => ObjectOp::Dequeue,
            Via::FetchAndAdd => ObjectOp::FetchAndAdd(1),
            Via::CompareAndSwap => ObjectOp::Cas {
                expected: None,
                new: Some(self.inputs[p]),
            },
            Via::ReadWriteMin | Via::ReadWriteWait => ObjectOp::Read,
        }
    }
}

// Program counters.
const ANNOUNCE: u8 = 0;
const CONTEND: u8 = 1;
const LOOK: u8 = 2;
const DECIDE: u8 = 3;
const DONE: u8 = 4;

impl Program for Consensus {
    type Object = Object;
    type Local = ConsensusLocal;
    type Output = Decision;

    fn processes(&self) -> usize {
        self.n()
    }

    fn memory(&self) -> Vec<Object> {
        let mut m: Vec<Object> = (0..self.n()).map(Object::single_writer).collect();
        m.push(match self.via {
            Via::TestAndSet => Object::TestAndSet(false),
            Via::Queue => {
                let mut q = std::collections::VecDeque::from(vec![LOSE; self.n()]);
                q[0] = WIN;
                Object::Queue(q)
            }
            Via::FetchAndAdd => Object::FetchAndAdd(0),
            Via::CompareAndSwap => Object::CompareAndSwap(None),
            // unused by the read/write attempts, which read the other's announcement
            Via::ReadWriteMin | Via::ReadWriteWait => Object::register(),
        });
        m
    }

    fn init(&self, p: usize) -> ConsensusLocal {
        ConsensusLocal {
            // compare-and-swap needs no announcement
            pc: if self.via == Via::CompareAndSwap {
                CONTEND
            } else {
                ANNOUNCE
            },
            won: false,
            look: if p == 0 { 1 } else { 0 },
            decide: None,
        }
    }

    fn next(&self, p: usize, l: &ConsensusLocal) -> Action<ObjectOp, Decision> {
        let rw = matches!(self.via, Via::ReadWriteMin | Via::ReadWriteWait);
        match l.pc {
            ANNOUNCE => Action::Access {
                object: p,
                op: ObjectOp::Write(self.inputs[p]),
            },
            CONTEND if rw => Action::Access {
                object: 1 - p.min(1),
                op: ObjectOp::Read,
            },
            CONTEND => Action::Access {
                object: self.object(),
                op: self.contend(p),
            },
            LOOK => Action::Access {
                object: l.look as usize,
                op: ObjectOp::Read,
            },
            DECIDE => Action::Emit(l.decide.expect("a process decides once it knows its value")),
            _ => Action::Halt,
        }
    }

    fn resume(&self, p: usize, l: &mut ConsensusLocal, ret: Option<ObjectRet>) {
        let mine = self.inputs[p];
        match l.pc {
            ANNOUNCE => l.pc = CONTEND,
            CONTEND => {
                let v = ret.and_then(ObjectRet::value);
                match self.via {
                    Via::TestAndSet | Via::FetchAndAdd => l.won = v == Some(0),
                    Via::Queue => l.won = v == Some(WIN),
                    Via::CompareAndSwap => {
                        l.decide = Some(v.unwrap_or(mine));
                        l.pc = DECIDE;
                        return;
                    }
                    Via::ReadWriteMin => {
                        l.decide = Some(v.map_or(mine, |o| o.min(mine)));
                        l.pc = DECIDE;
                        return;
                    }
                    Via::ReadWriteWait => {
                        // spin: stay here until the other's announcement is there
                        if let Some(o) = v {
                            l.decide = Some(o.min(mine));
                            l.pc = DECIDE;
                        }
                        return;
                    }
                }
                if l.won {
                    l.decide = Some(mine);
                    l.pc = DECIDE;
                } else {
                    l.pc = LOOK;
                }
            }
            LOOK => {
                // a loser adopts the first announced input it finds among the others: with two
                // processes that is the winner's; with more it may be another loser's
                match ret.and_then(ObjectRet::value) {
                    Some(v) => {
                        l.decide = Some(v);
                        l.pc = DECIDE;
                    }
                    None => {
                        let mut next = l.look as usize + 1;
                        if next == p {
                            next += 1;
                        }
                        if next >= self.n() {
                            // nobody announced yet: look again from the first other process
                            next = if p == 0 { 1 } else { 0 };
                        }
                        l.look = next as u8;
                    }
                }
            }
            DECIDE => l.pc = DONE,
            _ => {}
        }
    }
}

/// Agreement: no two decisions differ.
pub fn agreement(outputs: &[Vec<Decision>]) -> Result<(), String> {
    let mut first: Option<(usize, u64)> = None;
    for (p, outs) in outputs.iter().enumerate() {
        for &v in outs {
            match first {
                None => first = Some((p, v)),
                Some((q, w)) if w != v => {
                    return Err(format!("p{q} decided {w} but p{p} decided {v}"));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Validity: every decision is some process's input.
pub fn validity(inputs: &[u64], outputs: &[Vec<Decision>]) -> Result<(), String> {
    for (p, outs) in outputs.iter().enumerate() {
        for v in outs {
            if !inputs.contains(v) {
                return Err(format!(
                    "p{p} decided {v}, which is nobody's input {inputs:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Integrity: a process decides at most once.
pub fn integrity(outputs: &[Vec<Decision>]) -> Result<(), String> {
    match outputs.iter().position(|o| o.len() > 1) {
        Some(p) => Err(format!("p{p} decided {} times", outputs[p].len())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::shared_memory::take_step;

    /// Runs processes to completion in the given order (each runs solo until it halts).
    fn solo_in_order(c: &Consensus, order: &[usize]) -> Vec<Vec<u64>> {
        let mut mem = c.memory();
        let mut outs = vec![Vec::new(); c.inputs.len()];
        for &p in order {
            let mut l = c.init(p);
            while let Some(step) = take_step(c, p, &mut l, &mut mem).unwrap() {
                if let synod_core::shared_memory::ShmStep::Emit { out, .. } = step {
                    outs[p].push(out);
                }
            }
        }
        outs
    }

    #[test]
    fn the_first_process_to_run_alone_wins_with_every_object() {
        for via in [
            Via::TestAndSet,
            Via::Queue,
            Via::FetchAndAdd,
            Via::CompareAndSwap,
        ] {
            let c = Consensus::new(via, vec![10, 20]);
            assert_eq!(
                solo_in_order(&c, &[1, 0]),
                vec![vec![20], vec![20]],
                "{via:?}"
            );
            assert_eq!(
                solo_in_order(&c, &[0, 1]),
                vec![vec![10], vec![10]],
                "{via:?}"
            );
        }
    }

    #[test]
    fn the_read_write_min_attempt_disagrees_when_the_larger_input_runs_first() {
        // p0 (input 10) runs alone: reads nothing, decides 10; p1 then sees 10, decides min 5.
        let c = Consensus::new(Via::ReadWriteMin, vec![10, 5]);
        let outs = solo_in_order(&c, &[0, 1]);
        assert_eq!(outs, vec![vec![10], vec![5]]);
        assert!(agreement(&outs).is_err());
    }
}
