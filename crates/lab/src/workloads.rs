//! Default workloads of the catalog's protocols.

use synod_core::{Instant, LinkSend, NodeId, Prng, Protocol};
use synod_sim::{Requests, Workload, WorkloadEnv};

/// Link traffic: every node sends `per_node` messages, each to a random peer at a random time
/// in the first half of the run. Payloads are unique (`node × 1_000_000 + k`), which the link
/// properties rely on to tell copies apart.
#[derive(Clone, Copy, Debug)]
pub struct LinkTraffic {
    /// Messages each node sends.
    pub per_node: u32,
}

impl<P: Protocol<Request = LinkSend<u64>>> Workload<P> for LinkTraffic {
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>) {
        if env.n < 2 {
            return;
        }
        let half = (env.until.0 / 2).max(1);
        for node in 0..env.n as u32 {
            for k in 0..self.per_node {
                let mut to = prng.below(env.n as u64 - 1) as u32;
                if to >= node {
                    to += 1;
                }
                let at = Instant(prng.below(half));
                let payload = node as u64 * 1_000_000 + k as u64;
                out.push((
                    at,
                    NodeId(node),
                    LinkSend {
                        to: NodeId(to),
                        payload,
                    },
                ));
            }
        }
        out.sort_by_key(|(at, node, _)| (*at, *node));
    }
}

/// A burst from one sender to one receiver: `count` messages from `n0` to `n1`, one every
/// `spacing`, starting at time zero. Payloads are `0..count`.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    /// How many messages.
    pub count: u32,
    /// Time between two sends.
    pub spacing: synod_core::Duration,
}

impl<P: Protocol<Request = LinkSend<u64>>> Workload<P> for Burst {
    fn start(&mut self, _env: WorkloadEnv, _prng: &mut Prng, out: &mut Requests<P>) {
        for k in 0..self.count {
            let at = Instant(self.spacing.as_nanos() * k as u64);
            out.push((
                at,
                NodeId(0),
                LinkSend {
                    to: NodeId(1),
                    payload: k as u64,
                },
            ));
        }
    }
}
