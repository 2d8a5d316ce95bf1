//! Workloads: what the clients ask the nodes, what a correct reply looks like, and how the
//! history is checked.
//!
//! A [`Workload`] generates one request at a time per client ([`Workload::invoke`]), turns a
//! reply body into the operation's result ([`Workload::complete`]), may send set-up messages
//! before the run (the broadcast topology) and one final operation per client after the
//! faults heal (the final reads), and checks the recorded history ([`Workload::check`]).
//! Errors are handled for every workload alike by the runner: a definite error code fails
//! the operation, an indefinite one (or a timeout) leaves it unknown.

mod broadcast;
mod counter;
mod echo;
mod kafka;
mod lin_kv;
mod txn;
mod unique_ids;

use serde_json::Value as Json;
use synod_consistency::checkers::txn::{Isolation, TxnWorkload};
use synod_consistency::format::{Recorded, Value};
use synod_core::Prng;

pub use broadcast::{Broadcast, Topology};
pub use counter::Counter;
pub use echo::Echo;
pub use kafka::Kafka;
pub use lin_kv::LinKv;
pub use txn::Txn;
pub use unique_ids::UniqueIds;

/// The workloads, by command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// `echo`.
    Echo,
    /// `unique-ids`.
    UniqueIds,
    /// `broadcast`.
    Broadcast,
    /// `g-set`.
    GSet,
    /// `g-counter`.
    GCounter,
    /// `pn-counter`.
    PnCounter,
    /// `lin-kv`.
    LinKv,
    /// `kafka`.
    Kafka,
    /// `txn-rw-register`.
    TxnRwRegister,
    /// `txn-list-append`.
    TxnListAppend,
}

impl WorkloadKind {
    /// Every workload with its command-line name.
    pub const ALL: [(WorkloadKind, &'static str); 10] = [
        (WorkloadKind::Echo, "echo"),
        (WorkloadKind::UniqueIds, "unique-ids"),
        (WorkloadKind::Broadcast, "broadcast"),
        (WorkloadKind::GSet, "g-set"),
        (WorkloadKind::GCounter, "g-counter"),
        (WorkloadKind::PnCounter, "pn-counter"),
        (WorkloadKind::LinKv, "lin-kv"),
        (WorkloadKind::Kafka, "kafka"),
        (WorkloadKind::TxnRwRegister, "txn-rw-register"),
        (WorkloadKind::TxnListAppend, "txn-list-append"),
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        WorkloadKind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("echo")
    }

    /// The workload with this command-line name.
    pub fn from_name(name: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
    }

    /// The names, comma-separated (for error messages).
    pub fn names() -> String {
        WorkloadKind::ALL
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Workload settings from the command line.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WorkloadOptions {
    /// The broadcast topology.
    pub topology: Topology,
    /// Keys of the key-value, kafka and transactional workloads.
    pub key_count: usize,
    /// The isolation level the transactional workloads are checked at.
    pub isolation: Isolation,
    /// The most micro-operations in one transaction.
    pub max_txn_length: usize,
}

impl Default for WorkloadOptions {
    fn default() -> WorkloadOptions {
        WorkloadOptions {
            topology: Topology::Grid,
            key_count: 3,
            isolation: Isolation::StrictSerializable,
            max_txn_length: 4,
        }
    }
}

/// Builds the workload `kind`.
pub fn build(kind: WorkloadKind, options: &WorkloadOptions) -> Box<dyn Workload> {
    match kind {
        WorkloadKind::Echo => Box::new(Echo),
        WorkloadKind::UniqueIds => Box::new(UniqueIds),
        WorkloadKind::Broadcast => Box::new(Broadcast::over(options.topology)),
        WorkloadKind::GSet => Box::new(Broadcast::g_set()),
        WorkloadKind::GCounter => Box::new(Counter::new(false)),
        WorkloadKind::PnCounter => Box::new(Counter::new(true)),
        WorkloadKind::LinKv => Box::new(LinKv::new(options.key_count)),
        WorkloadKind::Kafka => Box::new(Kafka::new(options.key_count)),
        WorkloadKind::TxnRwRegister => Box::new(Txn::new(
            TxnWorkload::RwRegister,
            options.isolation,
            options.key_count,
            options.max_txn_length,
        )),
        WorkloadKind::TxnListAppend => Box::new(Txn::new(
            TxnWorkload::ListAppend,
            options.isolation,
            options.key_count,
            options.max_txn_length,
        )),
    }
}

/// A request a client makes: what the history records and what goes on the wire.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The operation's name in the history (`"read"`, `"add"`, ...).
    pub f: String,
    /// Its key, for per-key workloads.
    pub key: Option<Value>,
    /// Its argument in the history.
    pub value: Value,
    /// The request body, without `msg_id` (the client adds it).
    pub body: Json,
}

/// What a checker concluded.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// True if the history is valid.
    pub valid: bool,
    /// What failed, with counts (empty when valid): `["lost 3", "stale 1"]`.
    pub failures: Vec<String>,
    /// The checker's full report, for `results.json`.
    pub report: Json,
    /// Stable latencies in milliseconds, quantile name to value, where the workload has them.
    pub stable_latencies: Option<Json>,
}

/// A workload: its requests, its replies' shapes and its checker.
pub trait Workload: Send {
    /// Set-up requests to send node `i` before the run (with `msg_id` added), given every
    /// node's id; each must be answered before clients start.
    fn setup(&mut self, _node_ids: &[String]) -> Vec<(usize, Json)> {
        Vec::new()
    }

    /// True if clients make a final request after the faults heal (the run then waits for
    /// the network to settle first).
    fn has_final(&self) -> bool {
        false
    }

    /// The next request of client `client` (`final_phase`: the one request each client makes
    /// after the faults heal, or `None` if the workload has none).
    fn invoke(&mut self, client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation>;

    /// The reply type that means success for `inv`.
    fn ok_type(&self, inv: &Invocation) -> String {
        let kind = inv.body["type"].as_str().unwrap_or("");
        format!("{kind}_ok")
    }

    /// An error reply that is really a result: `read` of a missing key (code 20) reads
    /// nothing. `None` (the default) lets the code decide: definite fails, indefinite is
    /// unknown.
    fn error_result(&self, _inv: &Invocation, _code: crate::wire::ErrorCode) -> Option<Value> {
        None
    }

    /// The result of client `client`'s `inv` from a successful reply's body, or what was
    /// wrong with it.
    fn complete(&mut self, client: usize, inv: &Invocation, reply: &Json) -> Result<Value, String>;

    /// Checks the history (`final_from`: the event position where the final phase began).
    fn check(&self, history: &Recorded, final_from: u64) -> Verdict;
}

/// Converts JSON to a history value (objects become maps with string keys).
pub fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(a) => Value::List(a.iter().map(json_to_value).collect()),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Str(k.clone()), json_to_value(v)))
                .collect(),
        ),
    }
}

/// A field of a reply body, or a message naming it.
pub(crate) fn field<'a>(reply: &'a Json, name: &str) -> Result<&'a Json, String> {
    reply
        .get(name)
        .ok_or_else(|| format!("reply has no \"{name}\" field"))
}

/// Nanoseconds to milliseconds, for reports.
pub(crate) fn ms(nanos: u64) -> f64 {
    (nanos as f64 / 1e4).round() / 1e2
}
