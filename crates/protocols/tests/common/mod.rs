//! Shared by the replication tests (chain, primary-backup): a brute-force linearizability
//! check for register histories (every order of at most 10 operations), independent of
//! synod-consistency's search, and the register clients that produce those histories.

#![allow(dead_code)]

use synod_core::{Duration, EventKind, Instant, NodeId, Prng, Trace};
use synod_protocols::register::{RegisterOp, RegisterReq, RegisterResp, RegisterRet};
use synod_sim::{Requests, Workload, WorkloadEnv};

// ---- A brute-force linearizability check for register histories ------------------------------

/// One operation; positions are trace event indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HOp {
    pub client: u64,
    pub node: NodeId,
    pub input: RegisterOp,
    pub invoke: usize,
    pub done: Option<(usize, RegisterRet)>,
}

pub fn history<P>(trace: &Trace<P>) -> Vec<HOp>
where
    P: synod_core::Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    let mut ops: Vec<HOp> = Vec::new();
    for (i, e) in trace.events.iter().enumerate() {
        match &e.kind {
            EventKind::Request { node, req } => ops.push(HOp {
                client: req.client(),
                node: *node,
                input: req.op(),
                invoke: i,
                done: None,
            }),
            EventKind::Indication { ind, .. } => {
                if let Some(o) = ops
                    .iter_mut()
                    .rev()
                    .find(|o| o.client == ind.client() && o.done.is_none())
                {
                    o.done = Some((i, ind.ret()));
                }
            }
            _ => {}
        }
    }
    ops
}

/// Some order of the completed operations plus any subset of the pending ones respects real
/// time and the register's sequential specification (reads return the last value written,
/// `None` at first).
pub fn linearizable(ops: &[HOp]) -> bool {
    assert!(ops.len() <= 10, "brute force: {} operations", ops.len());
    fn search(ops: &[HOp], placed: &mut Vec<bool>, value: Option<u64>) -> bool {
        let open = |j: usize, placed: &[bool]| !placed[j] && ops[j].done.is_some();
        if !(0..ops.len()).any(|j| open(j, placed)) {
            return true;
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            let blocked = (0..ops.len()).any(|j| {
                j != i && open(j, placed) && ops[j].done.as_ref().unwrap().0 < ops[i].invoke
            });
            if blocked {
                continue;
            }
            let next = match (ops[i].input, &ops[i].done) {
                (RegisterOp::Write(v), _) => Some(v),
                (RegisterOp::Read, Some((_, RegisterRet::ReadOk(r)))) => {
                    if *r != value {
                        continue;
                    }
                    value
                }
                (RegisterOp::Read, _) => continue, // a pending read has no effect
            };
            placed[i] = true;
            if search(ops, placed, next) {
                return true;
            }
            placed[i] = false;
        }
        false
    }
    search(ops, &mut vec![false; ops.len()], None)
}

#[test]
fn brute_force_checker_on_hand_worked_histories() {
    let w = |v, a, b| HOp {
        client: v,
        node: NodeId(0),
        input: RegisterOp::Write(v),
        invoke: a,
        done: Some((b, RegisterRet::WriteOk)),
    };
    let r = |c, a, b, got| HOp {
        client: c,
        node: NodeId(0),
        input: RegisterOp::Read,
        invoke: a,
        done: Some((b, RegisterRet::ReadOk(got))),
    };
    // write 1 completes, then write 2 completes, then a read returns 1: stale.
    assert!(!linearizable(&[
        w(1, 0, 1),
        w(2, 2, 3),
        r(9, 4, 5, Some(1))
    ]));
    // The same read overlapping write 2: fine.
    assert!(linearizable(&[w(1, 0, 1), w(2, 2, 5), r(9, 3, 6, Some(1))]));
    // A read of nothing after a completed write: not fine.
    assert!(!linearizable(&[w(1, 0, 1), r(9, 2, 3, None)]));
}

// ---- The workload ------------------------------------------------------------------------------

/// `clients` clients; each writes its own id at a random time in `window` at a random node,
/// then reads `reads` times, each at a random node 1 ms after the previous answer.
pub struct Clients {
    pub clients: u64,
    pub reads: u32,
    pub window: (Instant, Instant),
    pub left: Vec<u32>,
    pub n: usize,
}

impl Clients {
    pub fn new(clients: u64, reads: u32, window: (Instant, Instant)) -> Clients {
        Clients {
            clients,
            reads,
            window,
            left: vec![reads; clients as usize + 1],
            n: 0,
        }
    }
}

impl<P: synod_core::Protocol<Request = RegisterReq, Indication = RegisterResp>> Workload<P>
    for Clients
{
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        self.n = env.n;
        for c in 1..=self.clients {
            let span = self.window.1 .0 - self.window.0 .0;
            let at = Instant(self.window.0 .0 + prng.below(span));
            let node = NodeId(prng.below(env.n as u64) as u32);
            out.push((
                at,
                node,
                RegisterReq::Write {
                    client: c,
                    value: c,
                },
            ));
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
        let _ = self.reads;
    }

    fn on_indication(
        &mut self,
        now: Instant,
        _node: NodeId,
        ind: &RegisterResp,
        prng: &mut Prng,
        out: &mut Requests<P>,
    ) {
        let c = ind.client() as usize;
        if self.left[c] > 0 {
            self.left[c] -= 1;
            let node = NodeId(prng.below(self.n as u64) as u32);
            out.push((
                now + Duration::from_millis(1),
                node,
                RegisterReq::Read { client: c as u64 },
            ));
        }
    }
}
