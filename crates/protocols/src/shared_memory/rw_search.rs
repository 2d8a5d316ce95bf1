//! A family of small read/write protocols for 2-process binary consensus, to search exhaustively.
//!
//! Read/write registers have consensus number 1 (Loui & Abu-Amara 1987; Herlihy 1991): no
//! wait-free protocol solves consensus for two processes with registers alone. A proof covers
//! every protocol; synod can only *illustrate* it, by enumerating a finite family and letting the
//! explorer refute each member. The family ([`RwProtocol::family`]): both processes run the same
//! straight-line program of at most `depth` steps, each step either *write my input to my
//! register* or *read the other's register*, then decide by a table from what they saw (their
//! input and each value read: empty, 0 or 1) to {0, 1}. Tables that would break validity in a
//! solo run are left out (a process that has seen no input but its own must decide it), which
//! keeps every table that could possibly work. Straight-line programs are wait-free by
//! construction, so each candidate must fail agreement or validity, and the explorer finds a
//! schedule and inputs showing it.

use synod_core::shared_memory::{Action, Object, ObjectOp, ObjectRet, Program};

/// A step of a candidate's program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RwStep {
    /// Write my input to my register.
    Write,
    /// Read the other process's register.
    Read,
}

/// One candidate protocol, with the inputs of one run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RwProtocol {
    /// The steps each process takes before deciding.
    pub steps: Vec<RwStep>,
    /// Decision per view: index `input * 3^r + Σ code(read_i) * 3^i`, code ⊥ = 0, 0 = 1, 1 = 2.
    pub table: Vec<u8>,
    /// The two processes' inputs (0 or 1).
    pub inputs: [u64; 2],
}

/// A process's progress: steps done and the view so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RwLocal {
    /// Steps done.
    pub pc: u8,
    /// Codes of the values read so far.
    pub reads: Vec<u8>,
    /// Decided.
    pub decided: bool,
}

fn code(v: Option<u64>) -> u8 {
    match v {
        None => 0,
        Some(0) => 1,
        Some(_) => 2,
    }
}

fn view_index(input: u64, reads: &[u8]) -> usize {
    let mut idx = 0usize;
    for (i, &c) in reads.iter().enumerate() {
        idx += c as usize * 3usize.pow(i as u32);
    }
    idx + input as usize * 3usize.pow(reads.len() as u32)
}

impl RwProtocol {
    /// Every candidate with at most `depth` steps (symmetric programs, every validity-respecting
    /// decision table), with inputs `[0, 0]` (set them per run with [`RwProtocol::with_inputs`]).
    pub fn family(depth: usize) -> Vec<RwProtocol> {
        let mut out = Vec::new();
        for len in 0..=depth {
            for mask in 0..(1u32 << len) {
                let steps: Vec<RwStep> = (0..len)
                    .map(|i| {
                        if mask >> i & 1 == 1 {
                            RwStep::Read
                        } else {
                            RwStep::Write
                        }
                    })
                    .collect();
                let r = steps.iter().filter(|s| **s == RwStep::Read).count();
                let views = 2 * 3usize.pow(r as u32);
                // views where the process saw the other input value are free; others forced
                let free: Vec<usize> = (0..views)
                    .filter(|&v| {
                        let input = (v / 3usize.pow(r as u32)) as u8;
                        (0..r).any(|i| {
                            let c = (v / 3usize.pow(i as u32)) % 3;
                            c != 0 && c as u8 - 1 != input
                        })
                    })
                    .collect();
                for bits in 0..(1u64 << free.len()) {
                    let mut table: Vec<u8> = (0..views)
                        .map(|v| (v / 3usize.pow(r as u32)) as u8)
                        .collect();
                    for (k, &v) in free.iter().enumerate() {
                        table[v] = (bits >> k & 1) as u8;
                    }
                    out.push(RwProtocol {
                        steps: steps.clone(),
                        table,
                        inputs: [0, 0],
                    });
                }
            }
        }
        out
    }

    /// The same candidate with other inputs.
    pub fn with_inputs(&self, inputs: [u64; 2]) -> RwProtocol {
        RwProtocol {
            inputs,
            ..self.clone()
        }
    }

    /// A one-line description: its steps and table.
    pub fn describe(&self) -> String {
        let steps: Vec<&str> = self
            .steps
            .iter()
            .map(|s| match s {
                RwStep::Write => "write",
                RwStep::Read => "read",
            })
            .collect();
        format!(
            "[{}] then decide by table {:?}",
            steps.join(", "),
            self.table
        )
    }
}

impl Program for RwProtocol {
    type Object = Object;
    type Local = RwLocal;
    type Output = u64;

    fn processes(&self) -> usize {
        2
    }

    fn memory(&self) -> Vec<Object> {
        vec![Object::single_writer(0), Object::single_writer(1)]
    }

    fn init(&self, _p: usize) -> RwLocal {
        RwLocal {
            pc: 0,
            reads: Vec::new(),
            decided: false,
        }
    }

    fn next(&self, p: usize, l: &RwLocal) -> Action<ObjectOp, u64> {
        match self.steps.get(l.pc as usize) {
            Some(RwStep::Write) => Action::Access {
                object: p,
                op: ObjectOp::Write(self.inputs[p]),
            },
            Some(RwStep::Read) => Action::Access {
                object: 1 - p,
                op: ObjectOp::Read,
            },
            None if !l.decided => {
                Action::Emit(self.table[view_index(self.inputs[p], &l.reads)] as u64)
            }
            None => Action::Halt,
        }
    }

    fn resume(&self, _p: usize, l: &mut RwLocal, ret: Option<ObjectRet>) {
        if (l.pc as usize) < self.steps.len() {
            if self.steps[l.pc as usize] == RwStep::Read {
                l.reads.push(code(ret.and_then(ObjectRet::value)));
            }
            l.pc += 1;
        } else {
            l.decided = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_counts_match_the_free_views() {
        // length 0: 1; W: 1; R: views (x, y) free iff y = 1-x: 2 free -> 4 tables;
        // WW 1, WR 4, RW 4, RR: views (x, y1, y2) free iff some y_i = 1-x: 5 per x -> 2^10.
        assert_eq!(RwProtocol::family(1).len(), 1 + 1 + 4);
        assert_eq!(RwProtocol::family(2).len(), 1 + 1 + 4 + 1 + 4 + 4 + 1024);
    }

    #[test]
    fn forced_entries_decide_the_own_input() {
        for c in RwProtocol::family(2) {
            let r = c.steps.iter().filter(|s| **s == RwStep::Read).count();
            for x in 0..2u64 {
                // a solo run reads only empties: the view (x, ⊥, ..., ⊥) decides x
                assert_eq!(c.table[view_index(x, &vec![0; r])] as u64, x);
            }
        }
    }
}
