//! Workloads: the layer above a protocol, issuing its requests.

use synod_core::{Instant, NodeId, Prng, Protocol};

/// What a workload knows about the run.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadEnv {
    /// Number of nodes.
    pub n: usize,
    /// When the run ends.
    pub until: Instant,
}

/// Requests to schedule: `(time, node, request)`.
pub type Requests<P> = Vec<(Instant, NodeId, <P as Protocol>::Request)>;

/// Generates a protocol's requests: all up front (open loop) and/or in reaction to indications
/// (closed loop, e.g. a client that waits for each response). Its randomness comes from its own
/// stream of the run's seed.
pub trait Workload<P: Protocol> {
    /// Requests known at the start of the run.
    fn start(&mut self, env: WorkloadEnv, prng: &mut Prng, out: &mut Requests<P>);

    /// Called for every indication; may schedule more requests (at `now` or later).
    fn on_indication(
        &mut self,
        _now: Instant,
        _node: NodeId,
        _ind: &P::Indication,
        _prng: &mut Prng,
        _out: &mut Requests<P>,
    ) {
    }

    /// A time at which the workload wants [`on_wake`](Workload::on_wake) called, e.g. a
    /// client's deadline for an answer. The simulator polls it after every call into the
    /// workload until it answers `None`; each time returned gets one `on_wake` call (times in
    /// the past are treated as now). Wake-ups are the workload's own business: they are not
    /// trace events. The default never wakes.
    fn poll_wake(&mut self) -> Option<Instant> {
        None
    }

    /// A wake-up asked for through [`poll_wake`](Workload::poll_wake) is due; may schedule
    /// more requests (at `now` or later).
    fn on_wake(&mut self, _now: Instant, _prng: &mut Prng, _out: &mut Requests<P>) {}
}

/// No requests at all (protocols that act on their own, e.g. heartbeats).
#[derive(Clone, Copy, Debug, Default)]
pub struct Idle;

impl<P: Protocol> Workload<P> for Idle {
    fn start(&mut self, _env: WorkloadEnv, _prng: &mut Prng, _out: &mut Requests<P>) {}
}

/// A fixed list of requests.
#[derive(Clone, Debug)]
pub struct Scripted<R>(pub Vec<(Instant, NodeId, R)>);

impl<P: Protocol> Workload<P> for Scripted<P::Request> {
    fn start(&mut self, _env: WorkloadEnv, _prng: &mut Prng, out: &mut Requests<P>) {
        out.append(&mut self.0);
    }
}
