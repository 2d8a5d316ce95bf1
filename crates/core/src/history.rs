//! Client histories: operations with their invocation and completion times.
//!
//! Consistency (linearizability, sequential consistency, …) is judged on what clients observed.
//! A protocol whose requests and indications include client operations implements
//! [`ClientOps`]; [`History::from_trace`] then extracts the history from any trace.

use crate::trace::Trace;
use crate::{Instant, NodeId, Protocol};

/// Identifies a client (a process issuing operations one at a time).
pub type ClientId = u64;

/// A protocol whose requests and indications carry client operations.
pub trait ClientOps: Protocol {
    /// An operation's input, e.g. `Write(3)`, `Read`, `Cas(1, 2)`.
    type Input: Clone + std::fmt::Debug + PartialEq;
    /// An operation's output, e.g. `Ok`, `ReadOk(Some(3))`, `CasFailed`.
    type Output: Clone + std::fmt::Debug;

    /// If `req` is a client invocation: the client and the operation.
    fn invocation(req: &Self::Request) -> Option<(ClientId, Self::Input)>;

    /// If `ind` is a response to a client: the client and the result.
    fn response(ind: &Self::Indication) -> Option<(ClientId, Self::Output)>;
}

/// One client operation.
#[derive(Clone, Debug)]
pub struct Op<I, O> {
    /// Who issued it.
    pub client: ClientId,
    /// The node it was sent to.
    pub node: NodeId,
    /// What was asked.
    pub input: I,
    /// When it was invoked.
    pub invoke: Instant,
    /// The result and when it came back; `None` if it never completed (it may or may not have
    /// taken effect).
    pub completion: Option<(Instant, O)>,
}

/// The operations of a run, in invocation order.
#[derive(Clone, Debug)]
pub struct History<I, O> {
    /// The operations.
    pub ops: Vec<Op<I, O>>,
}

impl<I: Clone + std::fmt::Debug + PartialEq, O: Clone + std::fmt::Debug> History<I, O> {
    /// Pairs each client's invocations with its responses, in order (a client has at most one
    /// operation outstanding; a response with no open invocation is ignored). A client that
    /// sends the operation it is waiting for again (a retry, e.g. after a redirect to the
    /// leader) continues that operation: it was invoked at its first request.
    pub fn from_trace<P>(trace: &Trace<P>) -> History<I, O>
    where
        P: ClientOps<Input = I, Output = O>,
    {
        use crate::trace::EventKind;
        let mut ops: Vec<Op<I, O>> = Vec::new();
        let mut open: std::collections::BTreeMap<ClientId, usize> = Default::default();
        for e in &trace.events {
            match &e.kind {
                EventKind::Request { node, req } => {
                    if let Some((client, input)) = P::invocation(req) {
                        if open.get(&client).is_some_and(|&i| ops[i].input == input) {
                            continue; // a retry of the open operation
                        }
                        open.insert(client, ops.len());
                        ops.push(Op {
                            client,
                            node: *node,
                            input,
                            invoke: e.time,
                            completion: None,
                        });
                    }
                }
                EventKind::Indication { ind, .. } => {
                    if let Some((client, output)) = P::response(ind) {
                        if let Some(i) = open.remove(&client) {
                            ops[i].completion = Some((e.time, output));
                        }
                    }
                }
                _ => {}
            }
        }
        History { ops }
    }
}
