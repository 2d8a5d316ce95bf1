//! Sequential specifications of common objects.
//!
//! Each specification is a small value implementing [`SequentialSpec`](crate::SequentialSpec)
//! with its own operation and result enums. Adding an object is one file: a state that is
//! `Clone + Eq + Hash + Debug` (canonical, so equal behaviour means equal value), an `Op` enum,
//! a `Ret` enum and a `step` function. Then the optional hints: `preserves_state` for the
//! operations that never change the state (reads: a large speed-up on read-heavy histories),
//! `partition` if the object is a product of independent parts (see [`PerKey`]), and `accepts`
//! only if the object is nondeterministic.

mod cas_register;
mod counter;
mod kv_cell;
mod list;
mod per_key;
mod queue;
mod register;
mod set;

pub use cas_register::{CasOp, CasRegister, CasRet};
pub use counter::{Counter, CounterOp, CounterRet};
pub use kv_cell::{CellOp, CellRet, CellState, KvCell};
pub use list::{AppendLog, List, ListOp, ListRet};
pub use per_key::PerKey;
pub use queue::{Queue, QueueOp, QueueRet};
pub use register::{Register, RegisterOp, RegisterRet};
pub use set::{Set, SetOp, SetRet};
