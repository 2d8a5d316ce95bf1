//! Checking a [`Recorded`] history against a named model: what `synod lin FILE --model M` runs.
//!
//! A recorded history is untyped (function names and [`Value`]s). Each [`Model`] has an
//! adapter that turns every recorded operation into an operation of a typed sequential
//! specification from [`specs`](crate::specs), following Jepsen's conventions:
//!
//! | model | functions (`:f`) | specification |
//! |-------|------------------|---------------|
//! | `register` | `read`, `write v` | [`Register`] (initially `nil`) |
//! | `cas-register` | `read`, `write v`, `cas [old new]` | [`CasRegister`] (initially `nil`) |
//! | `kv` | `read`/`get`, `write`/`put`, `cas`, `append`, each with a `:key` | one [`KvCell`] per key, keys checked in parallel |
//! | `set` | `add v`, `read` (returns the set) | [`Set`] |
//! | `queue` | `enqueue v`, `dequeue` | [`Queue`] (FIFO) |
//! | `counter` | `add n` (`incr`), `read` | [`Counter`] |
//! | `list` | `append v`, `read` (returns the list) | [`List`] (append-only) |
//!
//! Completions: `:ok` operations returned the given value; `:fail` operations certainly did not
//! take effect and are left out, except a failed `cas`, which is a completed compare-and-swap
//! that returned false (its comparison failed, which is a fact about the state the checker must
//! explain); `:info` and never-completed operations stay open to the end: they may have taken
//! effect at any time after their invocation, or never.
//!
//! The check is [`check_linearizable_parts`] (or [`check_sequential`](crate::check_sequential) for
//! [`Consistency::Sequential`]). For `kv`, each key is a part, in key order, checked by up to
//! [`CheckOptions::threads`] threads; a failure reports the lowest failing key, whatever the
//! threads' timing. A failure is explained in terms of the file: the operations that could have
//! come next after the longest linearizable prefix, with their lines, what each returned and
//! what the specification says it would have returned there.

use crate::format::{Completion, Recorded, RecordedOp, Value};
use crate::specs::{
    CasOp, CasRegister, CasRet, CellOp, CellRet, Counter, CounterOp, CounterRet, KvCell, List,
    ListOp, ListRet, PerKey, Queue, QueueOp, QueueRet, Register, RegisterOp, RegisterRet, Set,
    SetOp, SetRet,
};
use crate::{
    check_linearizable_parts, check_sequential_with_stats, Budget, History, Operation, Outcome,
    SequentialSpec, Stats,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The objects a recorded history can be checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// A read/write register.
    Register,
    /// A register with compare-and-swap.
    CasRegister,
    /// A key-value map of compare-and-swap registers (operations carry `:key`).
    Kv,
    /// A set with `add` and whole-set `read`.
    Set,
    /// A FIFO queue.
    Queue,
    /// A counter with `add` and `read`.
    Counter,
    /// An append-only list.
    List,
}

impl Model {
    /// Every model, in the order `--help` lists them.
    pub const ALL: [Model; 7] = [
        Model::CasRegister,
        Model::Register,
        Model::Kv,
        Model::Set,
        Model::Queue,
        Model::Counter,
        Model::List,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Model::Register => "register",
            Model::CasRegister => "cas-register",
            Model::Kv => "kv",
            Model::Set => "set",
            Model::Queue => "queue",
            Model::Counter => "counter",
            Model::List => "list",
        }
    }

    /// The model with this command-line name.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The consistency model a history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    /// Linearizability (Herlihy & Wing 1990): real-time order.
    Linearizable,
    /// Sequential consistency (Lamport 1979): each process's order only.
    Sequential,
}

impl Consistency {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Consistency::Linearizable => "linearizable",
            Consistency::Sequential => "sequential",
        }
    }

    /// The consistency model with this command-line name.
    pub fn from_name(name: &str) -> Option<Consistency> {
        [Consistency::Linearizable, Consistency::Sequential]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// What to check and how much work to allow.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The object.
    pub model: Model,
    /// The consistency model.
    pub consistency: Consistency,
    /// Work limit and cancellation (a driver's time budget sets the flag).
    pub budget: Budget,
    /// Threads for independent parts (keys of a `kv` history); 1 checks them in turn.
    pub threads: usize,
}

impl CheckOptions {
    /// Linearizability of `model`, unlimited, one thread.
    pub fn new(model: Model) -> CheckOptions {
        CheckOptions {
            model,
            consistency: Consistency::Linearizable,
            budget: Budget::unlimited(),
            threads: 1,
        }
    }
}

/// One operation of the file named in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpRef {
    /// Index in [`Recorded::ops`].
    pub index: usize,
    /// Line of its invocation in the file.
    pub line: usize,
    /// The process that issued it.
    pub process: u64,
    /// The operation as the file said it: `:cas [1 2] -> :fail`.
    pub text: String,
}

/// Why a history is not consistent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// `"not-linearizable"` or `"not-sequential"`.
    pub kind: String,
    /// The key of the failing part (`kv`), in EDN syntax.
    pub key: Option<String>,
    /// How many operations of the part could be linearized before the search got stuck.
    pub prefix_len: usize,
    /// The operations of the part that returned and could have come next, none of which the
    /// model allows there: the place to look.
    pub ops: Vec<OpRef>,
    /// For each of `ops`, what the model would have returned there.
    pub expected: Vec<String>,
    /// One line for a human.
    pub explanation: String,
}

/// The verdict on a recorded history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `Some(true)` consistent, `Some(false)` not, `None` unknown (budget).
    pub valid: Option<bool>,
    /// The model checked.
    pub model: Model,
    /// The consistency model checked.
    pub consistency: Consistency,
    /// Operations in the file (client operations, all completions).
    pub ops: usize,
    /// Operations that failed (`:fail`, not a CAS) and were left out: they did not happen.
    pub failed_ops: usize,
    /// Operations whose outcome is unknown (`:info` or never completed).
    pub unknown_ops: usize,
    /// Independent parts (keys) checked separately.
    pub parts: usize,
    /// Anomalies found (at most one per check: the lowest failing key).
    pub anomalies: Vec<Anomaly>,
    /// A witness order (indices into [`Recorded::ops`]) if consistent; the longest linearized
    /// prefix of the failing or unfinished part otherwise.
    pub order: Vec<usize>,
    /// Search steps taken.
    pub steps: u64,
    /// Distinct configurations memoised.
    pub configurations: u64,
}

/// A history that does not fit the model: which operation, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// The line of the offending operation's invocation.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ModelError {}

/// Checks `recorded` against `options.model` and `options.consistency`.
///
/// ```
/// use synod_consistency::format::parse_edn;
/// use synod_consistency::models::{check_recorded, CheckOptions, Model};
///
/// let h = parse_edn(
///     "{:process 0, :type :invoke, :f :write, :value 1}
///      {:process 0, :type :ok, :f :write, :value 1}
///      {:process 1, :type :invoke, :f :read, :value nil}
///      {:process 1, :type :ok, :f :read, :value 2}",
/// )
/// .unwrap();
/// let report = check_recorded(&h, &CheckOptions::new(Model::CasRegister)).unwrap();
/// assert_eq!(report.valid, Some(false));
/// assert_eq!(report.anomalies[0].ops[0].line, 3); // the read's invocation
/// ```
pub fn check_recorded(recorded: &Recorded, options: &CheckOptions) -> Result<Report, ModelError> {
    match options.model {
        Model::Register => run(&RegisterModel, recorded, options),
        Model::CasRegister => run(&CasModel, recorded, options),
        Model::Kv => run(&KvModel::new(recorded)?, recorded, options),
        Model::Set => run(&SetModel, recorded, options),
        Model::Queue => run(&QueueModel, recorded, options),
        Model::Counter => run(&CounterModel, recorded, options),
        Model::List => run(&ListModel, recorded, options),
    }
}

/// What one recorded operation becomes.
enum Typed<Op, Ret> {
    /// Left out: it certainly did not happen.
    Skip,
    /// An operation with its result, or `None` if it may or may not have happened.
    Op(Op, Option<Ret>),
}

/// The typed operation an adapter makes of a recorded one.
type TypedOf<S> = Typed<<S as SequentialSpec>::Op, <S as SequentialSpec>::Ret>;

/// How one model reads recorded operations.
trait Adapter {
    type Spec: SequentialSpec + Sync;
    fn spec(&self) -> Self::Spec;
    /// The typed operation, or why this operation does not fit the model.
    fn convert(&self, op: &RecordedOp) -> Result<TypedOf<Self::Spec>, String>;
    /// A result, in EDN-like words.
    fn show(&self, ret: &<Self::Spec as SequentialSpec>::Ret) -> String;
    /// The part (key ordinal) of an operation, for models that are products.
    fn part(&self, _op: &<Self::Spec as SequentialSpec>::Op) -> Option<u32> {
        None
    }
    /// The key of a part, for reports.
    fn part_name(&self, _part: u32) -> Option<String> {
        None
    }
}

fn run<A: Adapter>(
    adapter: &A,
    recorded: &Recorded,
    options: &CheckOptions,
) -> Result<Report, ModelError>
where
    <A::Spec as SequentialSpec>::Op: Sync,
    <A::Spec as SequentialSpec>::Ret: Sync,
{
    let spec = adapter.spec();
    let mut history: History<_, _> = History::new();
    let mut origin: Vec<usize> = Vec::new();
    let (mut failed_ops, mut unknown_ops) = (0, 0);
    for (i, r) in recorded.ops.iter().enumerate() {
        let typed = adapter.convert(r).map_err(|message| ModelError {
            line: r.line,
            message,
        })?;
        match typed {
            Typed::Skip => failed_ops += 1,
            Typed::Op(op, ret) => {
                let ret = match (ret, r.ret) {
                    (Some(ret), Some(t)) => Some((t, ret)),
                    _ => {
                        unknown_ops += 1;
                        None
                    }
                };
                history.ops.push(Operation {
                    client: r.process,
                    op,
                    call: r.call,
                    ret,
                });
                origin.push(i);
            }
        }
    }
    if let Err(e) = history.validate() {
        return Err(ModelError {
            line: 0,
            message: e.to_string(),
        });
    }
    let (outcome, stats, parts) = match options.consistency {
        Consistency::Linearizable => {
            let parts = split(adapter, &history);
            let (outcome, _, stats) = check_linearizable_parts(
                &spec,
                &history,
                &parts,
                options.budget.clone(),
                options.threads,
            );
            (outcome, stats, parts.len())
        }
        Consistency::Sequential => {
            let (o, s): (Outcome, Stats) =
                check_sequential_with_stats(&spec, &history, options.budget.clone());
            (o, s, 1)
        }
    };
    let to_recorded = |v: &[usize]| v.iter().map(|&i| origin[i]).collect::<Vec<usize>>();
    let mut report = Report {
        valid: outcome.holds(),
        model: options.model,
        consistency: options.consistency,
        ops: recorded.ops.len(),
        failed_ops,
        unknown_ops,
        parts,
        anomalies: Vec::new(),
        order: Vec::new(),
        steps: stats.steps,
        configurations: stats.configurations,
    };
    match &outcome {
        Outcome::Linearizable { order } => report.order = to_recorded(order),
        Outcome::Unknown { longest_prefix, .. } => report.order = to_recorded(longest_prefix),
        Outcome::NotLinearizable {
            longest_prefix,
            culprits,
        } => {
            report.order = to_recorded(longest_prefix);
            report.anomalies.push(explain(
                adapter,
                &spec,
                recorded,
                &history,
                &origin,
                longest_prefix,
                culprits,
                options.consistency,
            ));
        }
    }
    Ok(report)
}

/// The parts of a history in priority order: one per key, by key, for product models.
fn split<A: Adapter>(
    adapter: &A,
    history: &History<<A::Spec as SequentialSpec>::Op, <A::Spec as SequentialSpec>::Ret>,
) -> Vec<Vec<usize>> {
    let mut parts: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, o) in history.ops.iter().enumerate() {
        match adapter.part(&o.op) {
            Some(k) => parts.entry(k).or_default().push(i),
            None => return vec![(0..history.ops.len()).collect()],
        }
    }
    if parts.is_empty() {
        return vec![Vec::new()];
    }
    parts.into_values().collect()
}

/// The anomaly of a failed check, in the file's terms.
#[allow(clippy::too_many_arguments)]
fn explain<A: Adapter>(
    adapter: &A,
    spec: &A::Spec,
    recorded: &Recorded,
    history: &History<<A::Spec as SequentialSpec>::Op, <A::Spec as SequentialSpec>::Ret>,
    origin: &[usize],
    prefix: &[usize],
    culprits: &[usize],
    consistency: Consistency,
) -> Anomaly {
    // Replay the prefix to the state where the search got stuck.
    let mut state = spec.init();
    for &i in prefix {
        let o = &history.ops[i];
        state = match &o.ret {
            Some((_, ret)) => spec
                .accepts(&state, &o.op, ret)
                .expect("the prefix is a legal sequential execution"),
            None => spec.step(&state, &o.op).0,
        };
    }
    let key = culprits
        .first()
        .or(prefix.first())
        .and_then(|&i| adapter.part(&history.ops[i].op))
        .and_then(|k| adapter.part_name(k));
    let ops: Vec<OpRef> = culprits
        .iter()
        .map(|&i| op_ref(recorded, origin[i]))
        .collect();
    let expected: Vec<String> = culprits
        .iter()
        .map(|&i| adapter.show(&spec.step(&state, &history.ops[i].op).1))
        .collect();
    let mut explanation = match &key {
        Some(k) => format!("key {k}: "),
        None => String::new(),
    };
    explanation.push_str(&format!(
        "after {} operation(s) in a legal order, nothing can come next: ",
        prefix.len()
    ));
    let parts: Vec<String> = ops
        .iter()
        .zip(&expected)
        .take(4)
        .map(|(o, e)| {
            format!(
                "process {} {} (line {}) where the model gives {e}",
                o.process, o.text, o.line
            )
        })
        .collect();
    explanation.push_str(&parts.join("; "));
    if ops.len() > 4 {
        explanation.push_str(&format!("; and {} more", ops.len() - 4));
    }
    Anomaly {
        kind: match consistency {
            Consistency::Linearizable => "not-linearizable",
            Consistency::Sequential => "not-sequential",
        }
        .to_string(),
        key,
        prefix_len: prefix.len(),
        ops,
        expected,
        explanation,
    }
}

/// A recorded operation, named for a report.
pub fn op_ref(recorded: &Recorded, index: usize) -> OpRef {
    let r = &recorded.ops[index];
    let outcome = match &r.completion {
        Completion::Ok(v) => format!(":ok {v}"),
        Completion::Fail(v) => format!(":fail {v}"),
        Completion::Unknown(_) => ":info".to_string(),
    };
    let key = r
        .key
        .as_ref()
        .map(|k| format!(" key {k}"))
        .unwrap_or_default();
    OpRef {
        index,
        line: r.line,
        process: r.process,
        text: format!(":{}{key} {} -> {outcome}", r.f, r.value),
    }
}

fn wrong_f(model: &str, f: &str, allowed: &str) -> String {
    format!("the {model} model has no operation :{f} (it knows {allowed}); pick another --model")
}

/// The result of an `:ok` operation, the invocation's value for a write.
fn ok_value(op: &RecordedOp) -> Option<&Value> {
    match &op.completion {
        Completion::Ok(v) => Some(v),
        _ => None,
    }
}

fn nil_to_none(v: &Value) -> Option<Value> {
    (!v.is_nil()).then(|| v.clone())
}

fn int_of(v: &Value, what: &str) -> Result<i64, String> {
    v.as_int()
        .ok_or_else(|| format!("{what} must be an integer, found {v}"))
}

fn show_opt(v: &Option<Value>) -> String {
    v.as_ref().map_or("nil".to_string(), |v| v.to_string())
}

struct RegisterModel;

impl Adapter for RegisterModel {
    type Spec = Register<Value>;
    fn spec(&self) -> Register<Value> {
        // nil is an ordinary value here: the initial one, and writable.
        Register::with_initial(Value::Nil)
    }
    fn convert(
        &self,
        op: &RecordedOp,
    ) -> Result<Typed<RegisterOp<Value>, RegisterRet<Value>>, String> {
        if op.is_fail() {
            return Ok(Typed::Skip);
        }
        Ok(match op.f.as_str() {
            "read" => Typed::Op(
                RegisterOp::Read,
                ok_value(op).map(|v| RegisterRet::ReadOk(Some(v.clone()))),
            ),
            "write" => Typed::Op(
                RegisterOp::Write(op.value.clone()),
                ok_value(op).map(|_| RegisterRet::WriteOk),
            ),
            f => return Err(wrong_f("register", f, ":read and :write")),
        })
    }
    fn show(&self, ret: &RegisterRet<Value>) -> String {
        match ret {
            RegisterRet::ReadOk(v) => format!("read {}", show_opt(v)),
            RegisterRet::WriteOk => "write ok".to_string(),
        }
    }
}

/// A `:cas` operation's `[old new]`, and whether it succeeded (`None`: unknown). A failed CAS
/// completed: its comparison failed.
fn cas_parts(op: &RecordedOp) -> Result<(Value, Value, Option<bool>), String> {
    let pair = op
        .value
        .as_list()
        .filter(|p| p.len() == 2)
        .ok_or_else(|| format!("a :cas takes [old new], found {}", op.value))?;
    let succeeded = match &op.completion {
        Completion::Ok(_) => Some(true),
        Completion::Fail(_) => Some(false),
        Completion::Unknown(_) => None,
    };
    Ok((pair[0].clone(), pair[1].clone(), succeeded))
}

/// Reads `read`/`write`/`cas` into a compare-and-swap register operation.
fn cas_convert(model: &str, op: &RecordedOp) -> Result<Typed<CasOp<Value>, CasRet<Value>>, String> {
    if op.f == "cas" {
        let (from, to, succeeded) = cas_parts(op)?;
        let ret = succeeded.map(|ok| if ok { CasRet::CasOk } else { CasRet::CasFail });
        return Ok(Typed::Op(CasOp::Cas { from, to }, ret));
    }
    if op.is_fail() {
        return Ok(Typed::Skip);
    }
    Ok(match op.f.as_str() {
        "read" => Typed::Op(
            CasOp::Read,
            ok_value(op).map(|v| CasRet::ReadOk(Some(v.clone()))),
        ),
        "write" => Typed::Op(
            CasOp::Write(op.value.clone()),
            ok_value(op).map(|_| CasRet::WriteOk),
        ),
        f => return Err(wrong_f(model, f, ":read, :write and :cas")),
    })
}

fn cas_show(ret: &CasRet<Value>) -> String {
    match ret {
        CasRet::ReadOk(v) => format!("read {}", show_opt(v)),
        CasRet::WriteOk => "write ok".to_string(),
        CasRet::CasOk => "cas ok".to_string(),
        CasRet::CasFail => "cas fail".to_string(),
    }
}

struct CasModel;

impl Adapter for CasModel {
    type Spec = CasRegister<Value>;
    fn spec(&self) -> CasRegister<Value> {
        CasRegister::with_initial(Value::Nil)
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<CasOp<Value>, CasRet<Value>>, String> {
        cas_convert("cas-register", op)
    }
    fn show(&self, ret: &CasRet<Value>) -> String {
        cas_show(ret)
    }
}

/// Keys are numbered in [`Elem`] order.
struct KvModel {
    keys: Vec<Value>,
    ordinal: BTreeMap<Elem, u32>,
}

impl KvModel {
    fn new(recorded: &Recorded) -> Result<KvModel, ModelError> {
        let mut all: BTreeMap<Elem, Value> = BTreeMap::new();
        for op in &recorded.ops {
            let key = op.key.as_ref().ok_or_else(|| ModelError {
                line: op.line,
                message: "the kv model needs a :key on every operation; for a single register use --model cas-register".to_string(),
            })?;
            all.entry(Elem::of(key)).or_insert_with(|| key.clone());
        }
        let ordinal = all.keys().cloned().zip(0u32..).collect();
        Ok(KvModel {
            keys: all.into_values().collect(),
            ordinal,
        })
    }
}

impl Adapter for KvModel {
    type Spec = PerKey<u32, KvCell>;
    fn spec(&self) -> Self::Spec {
        PerKey::new(KvCell)
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<(u32, CellOp), CellRet>, String> {
        let key = op.key.as_ref().expect("checked in KvModel::new");
        let k = self.ordinal[&Elem::of(key)];
        let typed = match op.f.as_str() {
            "cas" => {
                let (from, to, succeeded) = cas_parts(op)?;
                let ret = succeeded.map(|ok| if ok { CellRet::CasOk } else { CellRet::CasFail });
                Typed::Op(CellOp::Cas { from, to }, ret)
            }
            _ if op.is_fail() => Typed::Skip,
            "read" | "get" => Typed::Op(
                CellOp::Read,
                ok_value(op).map(|v| CellRet::ReadOk(v.clone())),
            ),
            "write" | "put" => Typed::Op(
                CellOp::Write(op.value.clone()),
                ok_value(op).map(|_| CellRet::WriteOk),
            ),
            "append" => Typed::Op(
                CellOp::Append(op.value.clone()),
                ok_value(op).map(|_| CellRet::AppendOk),
            ),
            f => {
                return Err(wrong_f(
                    "kv",
                    f,
                    ":read/:get, :write/:put, :cas and :append",
                ))
            }
        };
        Ok(match typed {
            Typed::Skip => Typed::Skip,
            Typed::Op(o, r) => Typed::Op((k, o), r),
        })
    }
    fn show(&self, ret: &CellRet) -> String {
        match ret {
            CellRet::ReadOk(v) => format!("read {v}"),
            CellRet::WriteOk => "write ok".to_string(),
            CellRet::CasOk => "cas ok".to_string(),
            CellRet::CasFail => "cas fail".to_string(),
            CellRet::AppendOk => "append ok".to_string(),
        }
    }
    fn part(&self, op: &(u32, CellOp)) -> Option<u32> {
        Some(op.0)
    }
    fn part_name(&self, part: u32) -> Option<String> {
        self.keys.get(part as usize).map(|k| k.to_string())
    }
}

/// A value in a total order: integers numerically, then everything else by its EDN text. It
/// orders kv keys (so "the lowest failing key" means what it says) and set elements (the set
/// specification needs `Ord`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Elem {
    Int(i64),
    Text(String),
}

impl Elem {
    fn of(v: &Value) -> Elem {
        match v {
            Value::Int(i) => Elem::Int(*i),
            other => Elem::Text(other.to_string()),
        }
    }
}

impl std::fmt::Display for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Elem::Int(i) => write!(f, "{i}"),
            Elem::Text(s) => f.write_str(s),
        }
    }
}

struct SetModel;

impl Adapter for SetModel {
    type Spec = Set<Elem>;
    fn spec(&self) -> Set<Elem> {
        Set::new()
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<SetOp<Elem>, SetRet<Elem>>, String> {
        if op.is_fail() {
            return Ok(Typed::Skip);
        }
        Ok(match op.f.as_str() {
            "add" => Typed::Op(
                SetOp::Add(Elem::of(&op.value)),
                ok_value(op).map(|_| SetRet::AddOk),
            ),
            "read" => {
                let ret = match ok_value(op) {
                    None => None,
                    Some(v) => {
                        let items = v.as_list().ok_or_else(|| {
                            format!("a set :read returns a collection, found {v}")
                        })?;
                        Some(SetRet::ReadOk(
                            items.iter().map(Elem::of).collect::<BTreeSet<_>>(),
                        ))
                    }
                };
                Typed::Op(SetOp::Read, ret)
            }
            f => return Err(wrong_f("set", f, ":add and :read")),
        })
    }
    fn show(&self, ret: &SetRet<Elem>) -> String {
        match ret {
            SetRet::ReadOk(s) => {
                let items: Vec<String> = s.iter().map(|e| e.to_string()).collect();
                format!("read #{{{}}}", items.join(" "))
            }
            SetRet::AddOk => "add ok".to_string(),
            other => format!("{other:?}"),
        }
    }
}

struct QueueModel;

impl Adapter for QueueModel {
    type Spec = Queue<Value>;
    fn spec(&self) -> Queue<Value> {
        Queue::new()
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<QueueOp<Value>, QueueRet<Value>>, String> {
        if op.is_fail() {
            return Ok(Typed::Skip);
        }
        Ok(match op.f.as_str() {
            "enqueue" => Typed::Op(
                QueueOp::Enqueue(op.value.clone()),
                ok_value(op).map(|_| QueueRet::EnqueueOk),
            ),
            "dequeue" => Typed::Op(
                QueueOp::Dequeue,
                ok_value(op).map(|v| QueueRet::DequeueOk(nil_to_none(v))),
            ),
            f => return Err(wrong_f("queue", f, ":enqueue and :dequeue")),
        })
    }
    fn show(&self, ret: &QueueRet<Value>) -> String {
        match ret {
            QueueRet::EnqueueOk => "enqueue ok".to_string(),
            QueueRet::DequeueOk(v) => format!("dequeue {}", show_opt(v)),
        }
    }
}

struct CounterModel;

impl Adapter for CounterModel {
    type Spec = Counter;
    fn spec(&self) -> Counter {
        Counter
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<CounterOp, CounterRet>, String> {
        if op.is_fail() {
            return Ok(Typed::Skip);
        }
        Ok(match op.f.as_str() {
            "add" | "incr" => Typed::Op(
                CounterOp::Add(if op.value.is_nil() {
                    1
                } else {
                    int_of(&op.value, "an :add's value")?
                }),
                ok_value(op).map(|_| CounterRet::AddOk),
            ),
            "read" => Typed::Op(
                CounterOp::Read,
                match ok_value(op) {
                    Some(v) => Some(CounterRet::ReadOk(int_of(v, "a counter :read's result")?)),
                    None => None,
                },
            ),
            f => return Err(wrong_f("counter", f, ":add and :read")),
        })
    }
    fn show(&self, ret: &CounterRet) -> String {
        match ret {
            CounterRet::AddOk => "add ok".to_string(),
            CounterRet::ReadOk(n) => format!("read {n}"),
        }
    }
}

struct ListModel;

impl Adapter for ListModel {
    type Spec = List<Value>;
    fn spec(&self) -> List<Value> {
        List::new()
    }
    fn convert(&self, op: &RecordedOp) -> Result<Typed<ListOp<Value>, ListRet<Value>>, String> {
        if op.is_fail() {
            return Ok(Typed::Skip);
        }
        Ok(match op.f.as_str() {
            "append" => Typed::Op(
                ListOp::Append(op.value.clone()),
                ok_value(op).map(|_| ListRet::AppendOk),
            ),
            "read" => {
                let ret = match ok_value(op) {
                    None => None,
                    Some(Value::Nil) => Some(ListRet::ReadOk(Vec::new())),
                    Some(v) => Some(ListRet::ReadOk(
                        v.as_list()
                            .ok_or_else(|| format!("a list :read returns a list, found {v}"))?
                            .to_vec(),
                    )),
                };
                Typed::Op(ListOp::Read, ret)
            }
            f => return Err(wrong_f("list", f, ":append and :read")),
        })
    }
    fn show(&self, ret: &ListRet<Value>) -> String {
        match ret {
            ListRet::AppendOk => "append ok".to_string(),
            ListRet::ReadOk(items) => format!("read {}", Value::List(items.clone())),
        }
    }
}
