//! One register client program, two worlds: a shared register and ABD over message passing.
//!
//! [`on_shared_memory`] runs a [`RegisterProgram`] on one atomic shared register under the
//! shared-memory simulator (a seeded interleaving of its clients' steps); [`on_message_passing`]
//! runs the *same* program as clients of a message-passing register protocol (ABD or its
//! variants) under the network simulator. Both return the clients' history in the same type, so
//! the same checkers judge both ([`linearizable`]).

use crate::runner::recorded_from_history;
use crate::workloads::{describe_register, ProgramClients, RegisterService};
use synod_consistency::models::{check_recorded, CheckOptions, Model};
use synod_consistency::Budget;
use synod_core::{Duration, History, Instant, NodeId, Op};
use synod_protocols::register::program::{OnSharedMemory, RegisterEvent, RegisterProgram};
use synod_protocols::register::{RegisterOp, RegisterRet};
use synod_sim::shared_memory::{run_shared, ShmRun, ShmSimConfig};
use synod_sim::{SimConfig, Simulation};

/// A register client history.
pub type RegisterHistory = History<RegisterOp, RegisterRet>;

/// The clients' history of a shared-memory run: client `c` is client id `c + 1` (as on message
/// passing), the global step index is the time.
pub fn shared_memory_history<R: RegisterProgram>(
    run: &ShmRun<OnSharedMemory<R>>,
) -> RegisterHistory {
    let mut ops: Vec<Op<RegisterOp, RegisterRet>> = Vec::new();
    for (c, outs) in run.outputs.iter().enumerate() {
        let mut open: Option<usize> = None;
        for &(step, ev) in outs {
            let at = Instant(step as u64);
            match ev {
                RegisterEvent::Call(input) => {
                    open = Some(ops.len());
                    ops.push(Op {
                        client: c as u64 + 1,
                        node: NodeId(0),
                        input,
                        invoke: at,
                        completion: None,
                    });
                }
                RegisterEvent::Return(ret) => {
                    let i = open.take().expect("a return follows its call");
                    ops[i].completion = Some((at, ret));
                }
            }
        }
    }
    ops.sort_by_key(|o| (o.invoke, o.client));
    History { ops }
}

/// Runs `program` on one shared atomic register (single-writer if the program is) under the
/// shared-memory simulator.
pub fn on_shared_memory<R: RegisterProgram + Clone>(
    program: &R,
    cfg: &ShmSimConfig,
) -> (ShmRun<OnSharedMemory<R>>, RegisterHistory) {
    let run = run_shared(&OnSharedMemory(program.clone()), cfg);
    let h = shared_memory_history(&run);
    (run, h)
}

/// Runs `program` as clients of the register protocol `protocol` under `cfg`, `think` between
/// an answer and the next operation.
pub fn on_message_passing<P, R>(
    protocol: P,
    program: &R,
    cfg: SimConfig,
    think: Duration,
) -> RegisterHistory
where
    P: RegisterService<Input = RegisterOp>,
    R: RegisterProgram + Clone + 'static,
{
    let out = Simulation::new(protocol, cfg)
        .expect("a valid configuration")
        .with_workload(ProgramClients::new(program.clone(), think))
        .run();
    History::from_trace(&out.trace)
}

/// Is the history linearizable as a register? `None` if the check gave up.
pub fn linearizable(history: &RegisterHistory) -> Option<bool> {
    let recorded = recorded_from_history(history, describe_register);
    let options = CheckOptions {
        budget: Budget::steps(1 << 22),
        ..CheckOptions::new(Model::Register)
    };
    check_recorded(&recorded, &options)
        .ok()
        .and_then(|r| r.valid)
}
