//! The one thing the load generator needs from a KV service: a put.
//!
//! Every target (etcd, synod's Raft KV) implements [`Target`]; the load and
//! failover loops in `main.rs` are generic over it, so both services are driven by the
//! same code, the same key/value distribution and the same timing.

use std::future::Future;

/// Any error a target reports: the load loops only count and print it.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A connected client of a replicated KV service.
///
/// `Clone` must be cheap and must share the underlying connection(s): the load generator
/// opens `--conns` targets and hands clones of them to `--clients` tasks, round robin,
/// the way etcd's own `tools/benchmark` shares `--conns` gRPC connections among
/// `--clients` clients.
pub trait Target: Clone + Send + Sync + 'static {
    /// Opens one connection (or connection pool) to the service at `endpoints`.
    ///
    /// `request_timeout` bounds every later `put`: a put that takes longer fails.
    fn connect(
        endpoints: &[String],
        request_timeout: std::time::Duration,
    ) -> impl Future<Output = Result<Self, Error>> + Send;

    /// The handle one load task uses: by default a clone (sharing the connection). A target
    /// whose connections carry one request at a time (synod) returns a new, independent
    /// client instead, so concurrent tasks do not queue behind each other on one connection.
    fn for_task(&self) -> Self {
        self.clone()
    }

    /// Durably writes `value` under `key`: returns once the write is committed by the
    /// service (a majority has it on disk), or fails.
    fn put(&self, key: &str, value: &[u8]) -> impl Future<Output = Result<(), Error>> + Send;
}
