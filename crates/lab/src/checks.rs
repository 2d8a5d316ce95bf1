//! The model-checking catalog: protocols `synod check` can explore exhaustively, each with its
//! default scope (nodes, clients), its network and its `always`/`sometimes`/`eventually`
//! properties over global states.

use crate::workloads::describe_register;
use crate::{LabError, Topic};
use serde_json::{json, Value};
use std::sync::Arc;
use synod_check::Recorder;
use synod_check::{
    check, indices, path_trace, replay, Boundary, CheckOptions, CheckProperty, CheckState,
    ClientProgram, Expectation, Finding, HistEvent, Model, NetworkKind, Progress, StepIndex,
};
use synod_consistency::format::{Completion, Recorded, RecordedOp, Value as HValue};
use synod_consistency::specs::{Register, RegisterOp as SpecOp, RegisterRet as SpecRet};
use synod_core::{
    Event, EventKind, Instant, LinkDeliver, LinkSend, ModelHeader, NodeId, Property, Protocol,
    RunFacts, Trace,
};
use synod_protocols::commit::{self, Outcome, TwoPcIndication, TwoPcRequest, TwoPhaseCommit};
use synod_protocols::consensus::ben_or::{BenOr, BenOrMsg};
use synod_protocols::consensus::chandra_toueg::{self, ChandraToueg, CtInd, Proposals};
use synod_protocols::consensus::multipaxos::{self, MpInd, MultiPaxos};
use synod_protocols::consensus::{self, raft, PaxosRegister, Raft};
use synod_protocols::election::{self, arrangement, BullyRequest, ElectionIndication};
use synod_protocols::link;
use synod_protocols::register::{Abd, RegisterOp, RegisterReq, RegisterResp, RegisterRet};

/// What the user asked `synod check` for.
#[derive(Clone, Debug, Default)]
pub struct CheckSpec {
    /// Number of nodes (`None`: the entry's default).
    pub nodes: Option<usize>,
    /// Number of clients (`None`: the entry's default).
    pub clients: Option<usize>,
    /// Crash budget.
    pub crashes: u8,
    /// Network (`None`: the entry's default).
    pub network: Option<NetworkKind>,
    /// Symmetry reduction.
    pub symmetry: bool,
}

/// A finding, ready to print and save.
#[derive(Clone, Debug)]
pub struct FindingReport {
    /// The property.
    pub property: String,
    /// always, sometimes or eventually.
    pub expectation: String,
    /// Each step, described.
    pub steps: Vec<String>,
    /// The successor indices that replay it.
    pub path: Vec<StepIndex>,
    /// A space-time diagram of the path.
    pub svg: String,
    /// For a run that loops for ever: the step the path's last step returns to.
    pub loop_start: Option<usize>,
    /// The clients' history at the end of the path, for `synod lin` (models with a
    /// [`Model::recorder`]).
    pub history: Option<Recorded>,
}

/// The outcome of `synod check`, independent of the protocol's types.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// The catalog name.
    pub protocol: String,
    /// The model explored.
    pub model: ModelHeader,
    /// Distinct states.
    pub unique_states: u64,
    /// States generated.
    pub total_states: u64,
    /// Deepest level.
    pub max_depth: usize,
    /// Whole space explored?
    pub complete: bool,
    /// Violations (with paths, except `sometimes` never found).
    pub violations: Vec<FindingReport>,
    /// `sometimes` properties found.
    pub discoveries: Vec<FindingReport>,
    /// Bytes of the visited set.
    pub visited_bytes: usize,
    /// The depth at which breadth-first search, its level grown beyond `--max-frontier`,
    /// went on depth-first.
    pub switched_to_dfs_at: Option<usize>,
    /// Were `eventually` properties also checked against fair cycles (runs that go on for
    /// ever)? False when the search was bounded or the cycle search too large.
    pub cycles_checked: bool,
    /// Some state had a successor beyond the model's boundary (see the model header): the
    /// search covered the runs inside it only.
    pub boundary_hit: bool,
}

impl CheckOutcome {
    /// The JSON summary (without timing, which the CLI adds).
    pub fn to_json(&self, trace_files: &[Option<String>]) -> Value {
        json!({
            "protocol": self.protocol,
            "model": self.model.fields().iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "unique_states": self.unique_states,
            "total_states": self.total_states,
            "max_depth": self.max_depth,
            "complete": self.complete,
            "visited_bytes": self.visited_bytes,
            "switched_to_dfs_at": self.switched_to_dfs_at,
            "cycles_checked": self.cycles_checked,
            "boundary_hit": self.boundary_hit,
            "violations": self.violations.iter().zip(trace_files).map(|(v, f)| json!({
                "property": v.property, "expectation": v.expectation, "steps": v.steps.len(), "trace_file": f,
                "loop_start": v.loop_start,
            })).collect::<Vec<_>>(),
            "discoveries": self.discoveries.iter().map(|d| json!({"property": d.property, "steps": d.steps.len()})).collect::<Vec<_>>(),
        })
    }
}

/// A replayed counterexample.
#[derive(Clone, Debug)]
pub struct ReplayOutcome {
    /// Each step, described.
    pub steps: Vec<String>,
    /// The properties that fail in the last state (always), or that never held (eventually).
    pub failing: Vec<String>,
    /// A diagram of the path.
    pub svg: String,
}

/// Runs a check: spec, options, progress callback.
pub type RunCheck =
    fn(&CheckSpec, &CheckOptions, &mut ProgressFn) -> Result<CheckOutcome, LabError>;

/// Where a check reports its progress.
pub type ProgressFn<'a> = dyn FnMut(&Progress) + 'a;

/// One protocol the checker can explore.
#[derive(Clone, Copy)]
pub struct CheckEntry {
    /// Its name (the same as in the simulation catalog where both exist).
    pub name: &'static str,
    /// Its topic.
    pub topic: Topic,
    /// One line: what is checked.
    pub summary: &'static str,
    /// Default depth bound for models whose state space is infinite (retransmissions, timers).
    pub default_max_depth: Option<usize>,
    /// Runs the check.
    pub run: RunCheck,
    /// Replays a path.
    pub replay: fn(&CheckSpec, &[StepIndex]) -> Result<ReplayOutcome, LabError>,
}

impl std::fmt::Debug for CheckEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckEntry({})", self.name)
    }
}

fn header<P: Protocol>(name: &str, m: &Model<P>, symmetry: bool) -> ModelHeader {
    ModelHeader::new()
        .with("protocol", name)
        .with(
            "timing",
            "asynchronous (every interleaving; timers fire in any order)",
        )
        .with("failures", failures(m))
        .with("links", m.network.name())
        .with("n", m.n)
        .with("clients", m.clients.len())
        .with("symmetry", if symmetry { "on" } else { "off" })
        .with(
            "boundary",
            m.boundary
                .as_ref()
                .map_or("none", |b| b.description.as_str()),
        )
}

fn failures<P: Protocol>(m: &Model<P>) -> String {
    if m.max_crashes == 0 {
        return "none".into();
    }
    let kind = if m.recoveries {
        "crash-recovery"
    } else {
        "crash-stop"
    };
    let who = match &m.crashable {
        None => String::new(),
        Some(nodes) => format!(
            " of {}",
            nodes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    format!("{kind}(up to {}{who})", m.max_crashes)
}

fn finding_report<P: Protocol>(name: &str, model: &Model<P>, f: &Finding<P>) -> FindingReport {
    let steps: Vec<String> = f.path.iter().map(|p| p.step.to_string()).collect();
    let svg = if f.path.is_empty() {
        String::new()
    } else {
        let trace = path_trace(model, &f.path);
        synod_viz::lamport::lamport_svg(
            &trace,
            &synod_viz::lamport::DiagramOptions {
                title: format!(
                    "{name}: {} {} — counterexample ({} steps{})",
                    f.expectation.name(),
                    f.property,
                    f.path.len(),
                    match f.loop_start {
                        Some(k) => format!("; then back to step {k}, for ever"),
                        None => String::new(),
                    }
                ),
                ..Default::default()
            },
        )
    };
    FindingReport {
        property: f.property.to_string(),
        expectation: f.expectation.name().to_string(),
        steps,
        path: indices(&f.path),
        svg,
        loop_start: f.loop_start,
        history: match (&model.recorder, f.path.last()) {
            (Some(record), Some(last)) => Some(record(&last.state)),
            _ => None,
        },
    }
}

/// Explores `model` and erases its types.
pub fn run_check<P>(
    name: &str,
    model: &Model<P>,
    spec: &CheckSpec,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckOutcome
where
    P: Protocol + Sync,
    CheckState<P>: Send,
{
    let r = check(model, opts, progress);
    CheckOutcome {
        protocol: name.to_string(),
        model: header(name, model, spec.symmetry),
        unique_states: r.unique_states,
        total_states: r.total_states,
        max_depth: r.max_depth,
        complete: r.complete,
        violations: r
            .violations
            .iter()
            .map(|f| finding_report(name, model, f))
            .collect(),
        discoveries: r
            .discoveries
            .iter()
            .map(|f| finding_report(name, model, f))
            .collect(),
        visited_bytes: r.visited_bytes,
        switched_to_dfs_at: r.switched_to_dfs_at,
        cycles_checked: r.cycles_checked,
        boundary_hit: r.boundary_hit,
    }
}

/// Replays `path` in `model`, describing it and judging its last state.
pub fn replay_check<P: Protocol>(
    name: &str,
    model: &Model<P>,
    path: &[StepIndex],
) -> Result<ReplayOutcome, LabError> {
    let steps = replay(model, path).map_err(LabError::new)?;
    let last = &steps.last().expect("replay returns a non-empty path").state;
    let mut failing = Vec::new();
    for p in &model.properties {
        let bad = match p.expectation {
            Expectation::Always => !p.holds(model, last),
            Expectation::Eventually => !steps.iter().any(|s| p.holds(model, &s.state)),
            Expectation::Sometimes => false,
        };
        if bad {
            failing.push(format!("{} {}", p.expectation.name(), p.name));
        }
    }
    let trace = path_trace(model, &steps);
    let svg = synod_viz::lamport::lamport_svg(
        &trace,
        &synod_viz::lamport::DiagramOptions {
            title: format!("{name}: replayed path ({} steps)", steps.len()),
            ..Default::default()
        },
    );
    Ok(ReplayOutcome {
        steps: steps.iter().map(|s| s.step.to_string()).collect(),
        failing,
        svg,
    })
}

// ---- models ----------------------------------------------------------------------------

fn notes<P: Protocol>(s: &CheckState<P>) -> impl Iterator<Item = (NodeId, &P::Indication)> {
    s.history.iter().filter_map(|e| match e {
        HistEvent::Note { node, ind } => Some((*node, ind)),
        _ => None,
    })
}

fn election_model<P>(protocol: P, n: usize, uids: Vec<u64>) -> Model<P>
where
    P: Protocol<Indication = ElectionIndication>,
{
    let max = (0..n).max_by_key(|&i| uids[i]).map(|i| NodeId(i as u32));
    let mut m = Model::new(protocol, n)
        .property(CheckProperty::always(
            "unique leader",
            |_, s: &CheckState<P>| {
                let mut leaders =
                    notes(s).map(|(_, ElectionIndication::Elected { leader, .. })| *leader);
                match leaders.next() {
                    Some(first) => leaders.all(|l| l == first),
                    None => true,
                }
            },
        ))
        .property(CheckProperty::always(
            "leader has the largest live uid",
            move |_, s: &CheckState<P>| {
                let live_max = (0..s.nodes.len())
                    .filter(|&i| s.nodes[i].state.is_some())
                    .max_by_key(|&i| uids[i])
                    .map(|i| NodeId(i as u32));
                notes(s).all(|(_, ElectionIndication::Elected { leader, .. })| {
                    Some(*leader) == live_max || Some(*leader) == max
                })
            },
        ))
        .property(CheckProperty::sometimes(
            "a leader is elected",
            |_, s: &CheckState<P>| notes(s).next().is_some(),
        ))
        .property(CheckProperty::eventually(
            "every live node learns the leader",
            |_, s: &CheckState<P>| {
                (0..s.nodes.len())
                    .all(|i| s.nodes[i].state.is_none() || notes(s).any(|(n, _)| n.index() == i))
            },
        ));
    m.record = |_| true;
    m
}

fn link_model<P>(protocol: P, n: usize, messages: usize) -> Model<P>
where
    P: Protocol<Request = LinkSend<u64>, Indication = LinkDeliver<u64>>,
{
    let mut m = Model::new(protocol, n)
        .property(CheckProperty::always("no duplication", |_, s: &CheckState<P>| {
            let mut seen = std::collections::BTreeSet::new();
            notes(s).all(|(node, d)| seen.insert((node, d.from, d.payload)))
        }))
        .property(CheckProperty::always("no creation", |_, s: &CheckState<P>| {
            notes(s).all(|(node, d)| {
                s.history.iter().any(|e| matches!(e, HistEvent::Call { req, .. } if req.to == node && req.payload == d.payload))
            })
        }))
        .property(CheckProperty::sometimes("a message is delivered", |_, s: &CheckState<P>| notes(s).next().is_some()));
    m.record = |_| true;
    m.network = NetworkKind::Lossy;
    m.clients = (0..messages)
        .map(|k| ClientProgram {
            id: k as u64,
            node: NodeId(0),
            ops: vec![LinkSend {
                to: NodeId(1),
                payload: k as u64 + 1,
            }],
        })
        .collect();
    m
}

fn apply_spec<P: Protocol>(m: &mut Model<P>, spec: &CheckSpec) {
    m.max_crashes = spec.crashes;
    // Only models that install a symmetry hook accept --symmetry (checked in `run`).
    if let Some(net) = spec.network {
        m.network = net;
    }
}

macro_rules! entry {
    ($name:expr, $topic:expr, $summary:expr, $depth:expr, $build:expr) => {
        CheckEntry {
            name: $name,
            topic: $topic,
            summary: $summary,
            default_max_depth: $depth,
            run: |spec, opts, progress| {
                let model = $build(spec)?;
                if spec.symmetry && model.symmetry.is_none() {
                    return Err(LabError::new(format!(
                        "{} has no interchangeable nodes to reduce (drop --symmetry)",
                        $name
                    )));
                }
                Ok(run_check($name, &model, spec, opts, progress))
            },
            replay: |spec, path| {
                let model = $build(spec)?;
                replay_check($name, &model, path)
            },
        }
    };
}

fn nodes(spec: &CheckSpec, default: usize, min: usize, max: usize) -> Result<usize, LabError> {
    let n = spec.nodes.unwrap_or(default);
    if !(min..=max).contains(&n) {
        return Err(LabError::new(format!(
            "--nodes {n} is out of this model's range {min}..={max} (state spaces grow exponentially)"
        )));
    }
    Ok(n)
}

/// The bound `synod check raft` explores within: Raft's terms grow with every election and its
/// heartbeats add messages for ever, so the reachable space is infinite.
pub const RAFT_MAX_TERM: u64 = 4;
/// Messages in flight at most, in `synod check raft`.
pub const RAFT_MAX_IN_FLIGHT: usize = 4;

/// Raft with two clients, each writing once at its own server (servers other than the leader
/// redirect, so the checker explores invoking each write at every moment, leader or not).
fn raft_model(protocol: Raft, spec: &CheckSpec) -> Result<Model<Raft>, LabError> {
    let n = nodes(spec, 3, 3, 5)?;
    let clients = spec.clients.unwrap_or(2);
    if !(1..=3).contains(&clients) {
        return Err(LabError::new(format!(
            "--clients {clients} is out of range 1..=3"
        )));
    }
    let mut m = Model::new(protocol.with_timeout_choices(1), n)
        .property(CheckProperty::always(
            "state machine safety",
            |_, s: &CheckState<Raft>| raft::state_machine_safety(&s.node_states()),
        ))
        .property(CheckProperty::always(
            "election safety",
            |_, s: &CheckState<Raft>| raft::election_safety(&s.node_states()),
        ))
        .property(CheckProperty::always(
            "log matching",
            |_, s: &CheckState<Raft>| raft::log_matching(&s.node_states()),
        ))
        .property(CheckProperty::sometimes(
            "an entry is committed",
            |_, s: &CheckState<Raft>| {
                s.nodes
                    .iter()
                    .any(|n| n.state.as_ref().is_some_and(|r| r.commit > 0))
            },
        ));
    m.clients = (0..clients)
        .map(|c| ClientProgram {
            id: c as u64,
            node: NodeId((c % n) as u32),
            ops: vec![RegisterReq::Write {
                client: c as u64,
                value: c as u64 + 1,
            }],
        })
        .collect();
    m.response_of = |r: &raft::RaftInd| match r {
        raft::RaftInd::Client(resp) => Some(resp.client()),
        _ => None,
    };
    // Stale messages (from an older term) are ignored by their receiver; delivering them must
    // still remove them, or they would fill the in-flight budget for ever.
    m.recorder = Some(register_recorder());
    m.prune_ignored = false;
    m.boundary = Some(Boundary::new(
        format!("terms <= {RAFT_MAX_TERM}, at most {RAFT_MAX_IN_FLIGHT} messages in flight"),
        |s: &CheckState<Raft>| {
            s.network.len() <= RAFT_MAX_IN_FLIGHT
                && s.nodes
                    .iter()
                    .all(|n| n.state.as_ref().is_none_or(|r| r.term <= RAFT_MAX_TERM))
        },
    ));
    apply_spec(&mut m, spec);
    Ok(m)
}

fn two_pc_model(spec: &CheckSpec) -> Result<Model<TwoPhaseCommit>, LabError> {
    let n = nodes(spec, 3, 2, 5)?;
    let mut m = Model::new(TwoPhaseCommit::new(n - 1), n)
        .property(CheckProperty::always(
            "atomicity",
            |_, s: &CheckState<TwoPhaseCommit>| commit::atomic(&s.node_states()),
        ))
        .property(CheckProperty::sometimes(
            "a transaction commits",
            |_, s: &CheckState<TwoPhaseCommit>| {
                notes(s).any(|(_, TwoPcIndication::Decided(o))| *o == Outcome::Commit)
            },
        ))
        .property(CheckProperty::eventually(
            "every live participant decides",
            |_, s: &CheckState<TwoPhaseCommit>| commit::all_decided(&s.node_states()),
        ));
    m.start = vec![(NodeId(0), TwoPcRequest::Begin)];
    m.record = |_| true;
    apply_spec(&mut m, spec);
    // The lesson is the coordinator's crash: participants that voted yes cannot decide alone.
    m.crashable = Some(vec![NodeId(0)]);
    if spec.symmetry {
        // The participants are interchangeable (and every property treats them alike).
        m = m
            .with_node_symmetry((1..n as u32).map(NodeId).collect())
            .map_err(LabError::new)?;
    }
    Ok(m)
}

/// The round bound of `synod check ben-or`: with local coins a run may go on for ever (every
/// round's coins may disagree), so the checker explores rounds `1..=BEN_OR_MAX_ROUND` only.
pub const BEN_OR_MAX_ROUND: u64 = 2;

/// Ben-Or on 3 processes (f = 1), inputs split (n0: 0, n1: 1, n2: 0), local coins: the checker
/// branches on every coin flip ([`synod_core::Ctx::choose`]), within rounds <= [`BEN_OR_MAX_ROUND`].
fn ben_or_model(protocol: BenOr, spec: &CheckSpec) -> Result<Model<BenOr>, LabError> {
    let n = nodes(spec, 3, 3, 4)?;
    let inputs = protocol.inputs.values(n);
    let mut m = Model::new(protocol, n)
        .property(CheckProperty::always(
            "agreement",
            |_, s: &CheckState<BenOr>| {
                let mut first = None;
                ben_or_decisions(s).all(|v| *first.get_or_insert(v) == v)
            },
        ))
        .property(CheckProperty::always(
            "validity",
            move |_, s: &CheckState<BenOr>| ben_or_decisions(s).all(|v| inputs.contains(&v)),
        ))
        .property(CheckProperty::sometimes(
            "a process decides",
            |_, s: &CheckState<BenOr>| ben_or_decisions(s).next().is_some(),
        ))
        .property(CheckProperty::sometimes(
            "every process decides",
            |_, s: &CheckState<BenOr>| {
                s.nodes
                    .iter()
                    .all(|n| n.state.as_ref().is_some_and(|b| b.decided.is_some()))
            },
        ));
    // Decisions are read from the node states and the `Decide` messages (not recorded as
    // indications: their order would multiply the states).
    m.timers = false;
    m.boundary = Some(Boundary::new(
        format!("rounds <= {BEN_OR_MAX_ROUND}"),
        |s: &CheckState<BenOr>| {
            s.nodes
                .iter()
                .all(|n| n.state.as_ref().is_none_or(|b| b.round <= BEN_OR_MAX_ROUND))
        },
    ));
    apply_spec(&mut m, spec);
    Ok(m)
}

/// Every decision made so far, crashed processes' included: a process broadcasts `Decide` to
/// every other one as it decides, and a copy stays in flight until it is delivered (to a live
/// process, which then decides it too: it shows in that process's state) or for ever (the
/// receiver crashed or halted: an ignored delivery is never taken).
fn ben_or_decisions(s: &CheckState<BenOr>) -> impl Iterator<Item = bool> + '_ {
    s.nodes
        .iter()
        .filter_map(|n| n.state.as_ref().and_then(|b| b.decided.map(|(v, _)| v)))
        .chain(s.in_flight().filter_map(|e| match e.msg {
            BenOrMsg::Decide { value, .. } => Some(value),
            _ => None,
        }))
}

/// The ballot bound of `synod check multi-paxos`: dueling proposers pre-empt each other with
/// ever higher ballots, so the reachable space is infinite.
pub const MULTI_PAXOS_MAX_ROUND: u32 = 3;
/// Messages in flight at most, in `synod check multi-paxos`.
pub const MULTI_PAXOS_MAX_IN_FLIGHT: usize = 6;

/// Multi-Paxos with C clients, client i writing once at server i mod n. `protocol` runs with
/// dueling proposers: under the checker, time does not pass, so the heartbeats of an Ω-led run
/// never time out and n0 would lead for ever; dueling lets every server that holds a command
/// run phase 1, and a pre-empted one retry at once with a higher ballot. Timers are off: the
/// network is reliable, so retransmissions (the tick) would only duplicate messages.
fn multipaxos_model(protocol: MultiPaxos, spec: &CheckSpec) -> Result<Model<MultiPaxos>, LabError> {
    let n = nodes(spec, 3, 2, 3)?;
    let clients = spec.clients.unwrap_or(2);
    if !(1..=2).contains(&clients) {
        return Err(LabError::new(format!(
            "--clients {clients} is out of range 1..=2"
        )));
    }
    let origins: Vec<NodeId> = (0..clients).map(|c| NodeId((c % n) as u32)).collect();
    let mut m = Model::new(protocol, n)
        .property(CheckProperty::always(
            "agreement per slot",
            |_, s: &CheckState<MultiPaxos>| multipaxos::chosen_agree(&s.node_states()),
        ))
        .property(CheckProperty::always(
            "applied logs are prefixes",
            |_, s: &CheckState<MultiPaxos>| multipaxos::applied_prefix(&s.node_states()),
        ))
        .property(CheckProperty::always(
            "validity",
            move |_, s: &CheckState<MultiPaxos>| {
                let called: Vec<(NodeId, RegisterReq)> = s
                    .history
                    .iter()
                    .filter_map(|e| match e {
                        HistEvent::Call { client, req } => Some((origins[*client as usize], *req)),
                        _ => None,
                    })
                    .collect();
                multipaxos::commands_requested(&s.node_states(), |origin, req| {
                    called.contains(&(origin, *req))
                })
            },
        ))
        .property(synod_check::linearizable(
            Register::<u64>::default(),
            spec_op,
            spec_ret,
        ))
        .property(CheckProperty::sometimes(
            "every write is answered",
            |_, s: &CheckState<MultiPaxos>| s.clients.iter().all(|c| !c.waiting && c.next > 0),
        ))
        .property(CheckProperty::sometimes(
            "a pre-empting proposer leads",
            |_, s: &CheckState<MultiPaxos>| {
                s.nodes.iter().any(|n| {
                    n.state.as_ref().is_some_and(|p| {
                        p.phase.is_leading() && p.phase.ballot().is_some_and(|b| b.round >= 2)
                    })
                })
            },
        ));
    m.clients = (0..clients)
        .map(|c| ClientProgram {
            id: c as u64,
            node: NodeId((c % n) as u32),
            ops: vec![RegisterReq::Write {
                client: c as u64,
                value: c as u64 + 1,
            }],
        })
        .collect();
    m.response_of = |r: &MpInd| match r {
        MpInd::Client(resp) => Some(resp.client()),
        _ => None,
    };
    m.timers = false;
    // Messages of an older ballot are ignored by their receiver; delivering them must still
    // remove them, or they would fill the in-flight budget for ever.
    m.recorder = Some(register_recorder());
    m.prune_ignored = false;
    m.boundary = Some(Boundary::new(
        format!(
            "ballot rounds <= {MULTI_PAXOS_MAX_ROUND}, at most {MULTI_PAXOS_MAX_IN_FLIGHT} messages in flight"
        ),
        |s: &CheckState<MultiPaxos>| {
            s.network.len() <= MULTI_PAXOS_MAX_IN_FLIGHT
                && multipaxos::max_ballot_round(&s.node_states()) <= MULTI_PAXOS_MAX_ROUND
        },
    ));
    apply_spec(&mut m, spec);
    Ok(m)
}

/// A run property over indications (a consensus protocol's agreement, validity, integrity) as
/// a checker property: it judges the indications the model records ([`Model::record`]), in the
/// order they happened, crashed processes' included.
fn on_notes<P: Protocol>(p: Property<P>) -> CheckProperty<P> {
    CheckProperty::always(p.name, move |m, s: &CheckState<P>| {
        let trace = Trace {
            events: notes(s)
                .map(|(node, ind)| Event {
                    time: Instant::ZERO,
                    kind: EventKind::Indication {
                        node,
                        ind: ind.clone(),
                    },
                })
                .collect(),
            facts: RunFacts::fault_free(m.n, Instant::ZERO),
        };
        !p.check(&trace).is_violated()
    })
}

/// The round bound of `synod check chandra-toueg`: a suspicion can come at any moment, so the
/// rounds can go on for ever.
pub const CHANDRA_TOUEG_MAX_ROUND: u64 = 3;

/// Chandra-Toueg on 3 processes (f = 1), distinct proposals (n_i proposes 100 + i), with
/// arbitrary suspicions ([`ChandraToueg::with_arbitrary_suspicions`]): a process waiting for the
/// coordinator may suspect it at any moment, a checker branch.
fn chandra_toueg_model(
    protocol: ChandraToueg,
    spec: &CheckSpec,
) -> Result<Model<ChandraToueg>, LabError> {
    let n = nodes(spec, 3, 3, 4)?;
    let proposals = protocol.proposals.clone();
    let mut m = Model::new(protocol.with_arbitrary_suspicions(), n)
        .property(on_notes(chandra_toueg::agreement()))
        .property(on_notes(chandra_toueg::validity(proposals)))
        .property(on_notes(chandra_toueg::integrity()))
        .property(CheckProperty::sometimes(
            "a process decides",
            |_, s: &CheckState<ChandraToueg>| notes(s).next().is_some(),
        ))
        .property(CheckProperty::sometimes(
            "a process decides in round 2 or later",
            |_, s: &CheckState<ChandraToueg>| {
                notes(s).any(|(_, CtInd::Decide { round, .. })| *round >= 2)
            },
        ));
    // Decisions are judged on the recorded indications: a crashed process's decision counts.
    m.record = |_| true;
    m.boundary = Some(Boundary::new(
        format!("rounds <= {CHANDRA_TOUEG_MAX_ROUND}"),
        |s: &CheckState<ChandraToueg>| {
            s.nodes.iter().all(|n| {
                n.state
                    .as_ref()
                    .is_none_or(|c| c.round <= CHANDRA_TOUEG_MAX_ROUND)
            })
        },
    ));
    apply_spec(&mut m, spec);
    Ok(m)
}

fn spec_op(op: &RegisterOp) -> SpecOp<u64> {
    match op {
        RegisterOp::Write(v) => SpecOp::Write(*v),
        RegisterOp::Read => SpecOp::Read,
    }
}

fn spec_ret(ret: &RegisterRet) -> SpecRet<u64> {
    match ret {
        RegisterRet::WriteOk => SpecRet::WriteOk,
        RegisterRet::ReadOk(v) => SpecRet::ReadOk(*v),
    }
}

/// C clients, client i at node i mod n: write i+1, then read.
fn register_clients<P: Protocol<Request = RegisterReq>>(
    n: usize,
    clients: usize,
) -> Vec<ClientProgram<P>> {
    (0..clients)
        .map(|i| ClientProgram {
            id: i as u64,
            node: NodeId((i % n) as u32),
            ops: vec![
                RegisterReq::Write {
                    client: i as u64,
                    value: i as u64 + 1,
                },
                RegisterReq::Read { client: i as u64 },
            ],
        })
        .collect()
}

fn read_some_value<P: Protocol<Indication = RegisterResp>>(s: &CheckState<P>) -> bool {
    s.history.iter().any(|e| {
        matches!(
            e,
            HistEvent::Return {
                ind: RegisterResp::ReadOk { value: Some(_), .. },
                ..
            }
        )
    })
}

/// Writes a state's client history (register operations) as a recorded history, one event
/// per position, for `synod lin`.
fn register_recorder<P>() -> Recorder<P>
where
    P: synod_core::ClientOps<Input = RegisterOp, Output = RegisterRet>,
{
    Arc::new(|s: &CheckState<P>| {
        let mut ops: Vec<RecordedOp> = Vec::new();
        let mut open: std::collections::BTreeMap<u64, (usize, RegisterOp)> = Default::default();
        let mut pos = 0u64;
        for e in s.history.iter() {
            match e {
                HistEvent::Call { req, .. } => {
                    if let Some((client, op)) = P::invocation(req) {
                        let (f, value, _) = describe_register(&op, None);
                        open.insert(client, (ops.len(), op));
                        ops.push(RecordedOp {
                            process: client,
                            f: f.to_string(),
                            key: None,
                            value,
                            completion: Completion::Unknown(HValue::Nil),
                            call: pos,
                            ret: None,
                            call_nanos: None,
                            ret_nanos: None,
                            line: pos as usize + 1,
                        });
                        pos += 1;
                    }
                }
                HistEvent::Return { ind, .. } => {
                    if let Some((client, ret)) = P::response(ind) {
                        if let Some((i, op)) = open.remove(&client) {
                            let (_, _, result) = describe_register(&op, Some(&ret));
                            ops[i].completion = Completion::Ok(result.unwrap_or(HValue::Nil));
                            ops[i].ret = Some(pos);
                            pos += 1;
                        }
                    }
                }
                HistEvent::Note { .. } => {}
            }
        }
        Recorded {
            ops,
            skipped_events: 0,
        }
    })
}

fn register_model<P>(
    protocol: P,
    spec: &CheckSpec,
    default_clients: usize,
) -> Result<Model<P>, LabError>
where
    P: synod_core::ClientOps<Input = RegisterOp, Output = RegisterRet>
        + Protocol<Request = RegisterReq, Indication = RegisterResp>,
{
    let n = nodes(spec, 3, 1, 5)?;
    let clients = spec.clients.unwrap_or(default_clients);
    if !(1..=4).contains(&clients) {
        return Err(LabError::new(format!(
            "--clients {clients} is out of range 1..=4"
        )));
    }
    let mut m = Model::new(protocol, n)
        .property(synod_check::linearizable(
            Register::<u64>::default(),
            spec_op,
            spec_ret,
        ))
        .property(CheckProperty::sometimes(
            "a read returns a written value",
            |_, s: &CheckState<P>| read_some_value(s),
        ));
    m.clients = register_clients(n, clients);
    m.response_of = |r: &RegisterResp| Some(r.client());
    m.answers = |req, resp| {
        matches!(
            (req, resp),
            (RegisterReq::Write { .. }, RegisterResp::WriteOk { .. })
                | (RegisterReq::Read { .. }, RegisterResp::ReadOk { .. })
        )
    };
    m.recorder = Some(register_recorder());
    apply_spec(&mut m, spec);
    Ok(m)
}

fn paxos_model(
    protocol: PaxosRegister,
    spec: &CheckSpec,
) -> Result<Model<PaxosRegister>, LabError> {
    Ok(
        register_model(protocol, spec, 2)?.property(CheckProperty::always(
            "agreement",
            |_, s: &CheckState<PaxosRegister>| consensus::agreement_holds(&s.node_states()),
        )),
    )
}

/// The `paxos` check model (the write-once register with C clients each writing then reading;
/// linearizability, agreement, "a read returns a written value") for `protocol` on `nodes`
/// servers with `clients` clients, a crash budget of `crashes` and, if `recoveries`, crashed
/// servers that may recover from their durable state ([`Model::recoveries`]). With
/// [`PaxosRegister::new`], no crashes and no recoveries, this is the model `synod check paxos`
/// explores.
pub fn paxos_check_model(
    protocol: PaxosRegister,
    nodes: usize,
    clients: usize,
    crashes: u8,
    recoveries: bool,
) -> Result<Model<PaxosRegister>, LabError> {
    let spec = CheckSpec {
        nodes: Some(nodes),
        clients: Some(clients),
        crashes,
        ..CheckSpec::default()
    };
    let mut m = paxos_model(protocol, &spec)?;
    m.recoveries = recoveries;
    Ok(m)
}

/// Every checkable protocol.
pub fn check_entries() -> Vec<CheckEntry> {
    vec![
        entry!("paxos", Topic::Consensus, "single-decree Paxos as a write-once register, C clients each write then read: linearizable, agreement, a value is chosen", None, |spec: &CheckSpec| paxos_model(PaxosRegister::new(), spec)),
        entry!("paxos-forgets-promise", Topic::Consensus, "canary: an acceptor that accepts below its promise; the checker finds two values chosen", None, |spec: &CheckSpec| paxos_model(PaxosRegister::canary_forgets_promise(), spec)),
        entry!("ben-or", Topic::Consensus, "Ben-Or, n=3 (f=1), inputs split 0/1/0, local coins (the checker branches on every flip), within rounds <= 2: agreement (crashed processes included), validity, a process decides; --crashes 1 too", None, |spec: &CheckSpec| ben_or_model(BenOr::new(), spec)),
        entry!("ben-or-decide-on-one", Topic::Consensus, "canary: Ben-Or deciding on a single proposal instead of f+1, n=3, within rounds <= 2; the checker finds two processes deciding differently", None, |spec: &CheckSpec| ben_or_model(BenOr::canary_decide_on_one(), spec)),
        entry!("multi-paxos", Topic::Consensus, "Multi-Paxos, dueling proposers, 2 clients writing once, within ballot rounds <= 3 and 6 messages in flight: agreement per slot, applied logs are prefixes, validity, linearizable", None, |spec: &CheckSpec| multipaxos_model(MultiPaxos::dueling(), spec)),
        entry!("multi-paxos-skip-repropose", Topic::Consensus, "canary: a new Multi-Paxos leader puts no-ops where the promises report accepted values (the skip-repropose flag, here with dueling proposers, same bounds); the checker finds a chosen write overwritten", None, |spec: &CheckSpec| multipaxos_model(MultiPaxos { skip_repropose: true, ..MultiPaxos::dueling() }, spec)),
        entry!("chandra-toueg", Topic::Consensus, "Chandra-Toueg, n=3 (f=1), distinct proposals, every suspicion of a coordinator a checker branch, within rounds <= 3: uniform agreement, validity, integrity; --crashes 1 too", None, |spec: &CheckSpec| chandra_toueg_model(ChandraToueg::new(Proposals::Distinct), spec)),
        entry!("chandra-toueg-lowest-timestamp", Topic::Consensus, "canary: the Chandra-Toueg coordinator adopts the estimate with the lowest timestamp; the checker finds two processes deciding differently", None, |spec: &CheckSpec| chandra_toueg_model(ChandraToueg::canary_lowest_timestamp(Proposals::Distinct), spec)),
        entry!("abd", Topic::SharedMemory, "ABD multi-writer atomic register on majority quorums, C clients each write then read: linearizable", None, |spec: &CheckSpec| register_model(Abd::new(), spec, 2)),
        entry!("abd-no-write-back", Topic::SharedMemory, "canary: ABD reads without write-back; 2 clients cannot show a new/old inversion, so it runs 3: the checker finds a non-linearizable history", None, |spec: &CheckSpec| register_model(Abd::canary_no_write_back(), spec, 3)),
        entry!("raft", Topic::Consensus, "Raft, 2 clients writing once, within terms <= 4 and 3 messages in flight: state machine safety, election safety, log matching", None, |spec: &CheckSpec| raft_model(Raft::new().with_noop(false), spec)),
        entry!("raft-figure8", Topic::Consensus, "canary: Raft committing earlier-term entries by counting replicas (the paper's Figure 8); the checker finds a committed entry overwritten", None, |spec: &CheckSpec| raft_model(Raft::canary_figure8(), spec)),
        entry!("two-phase-commit", Topic::Consensus, "2PC, coordinator n0: atomicity always; with --crashes 1 the blocked participants show as a liveness violation", None, two_pc_model),
        entry!("perfect-link", Topic::Links, "retransmit + ack + dedup over a lossy network: no duplication, no creation (bounded: retransmissions are unbounded)", Some(12), |spec: &CheckSpec| -> Result<_, LabError> {
            let mut m = link_model(link::PerfectLink::<u64>::new(synod_core::Duration::from_millis(50)), nodes(spec, 2, 2, 3)?, spec.clients.unwrap_or(2));
            apply_spec(&mut m, spec);
            Ok(m)
        }),
        entry!("perfect-link-no-dedup", Topic::Links, "canary: the perfect link without duplicate elimination; the checker finds a duplicate delivery", Some(12), |spec: &CheckSpec| -> Result<_, LabError> {
            let mut m = link_model(link::PerfectLink::<u64>::canary_no_dedup(synod_core::Duration::from_millis(50)), nodes(spec, 2, 2, 3)?, spec.clients.unwrap_or(1));
            apply_spec(&mut m, spec);
            Ok(m)
        }),
        entry!("lcr", Topic::Election, "LCR on a one-way ring (worst-case arrangement): unique leader, the largest UID, everyone learns it", None, |spec: &CheckSpec| -> Result<_, LabError> {
            let n = nodes(spec, 3, 2, 5)?;
            let uids = arrangement::worst_case_lcr(n);
            let mut m = election_model(election::Lcr::new(uids.clone()), n, uids);
            apply_spec(&mut m, spec);
            Ok(m)
        }),
        entry!("hirschberg-sinclair", Topic::Election, "Hirschberg-Sinclair on a two-way ring: unique leader, the largest UID, everyone learns it", None, |spec: &CheckSpec| -> Result<_, LabError> {
            let n = nodes(spec, 3, 2, 4)?;
            let uids = arrangement::sorted(n);
            let mut m = election_model(election::HirschbergSinclair::new(uids.clone()), n, uids);
            apply_spec(&mut m, spec);
            Ok(m)
        }),
        entry!("bully", Topic::Election, "Bully under asynchrony (timeouts fire in any order): the checker finds a leader that is not the highest live id, since Bully needs synchrony", None, |spec: &CheckSpec| -> Result<_, LabError> {
            let n = nodes(spec, 3, 2, 4)?;
            let uids = arrangement::sorted(n);
            let mut m = election_model(election::Bully::new(uids.clone(), synod_core::Duration::from_millis(20)), n, uids);
            m.clients = vec![ClientProgram { id: 0, node: NodeId(0), ops: vec![BullyRequest::StartElection] }];
            apply_spec(&mut m, spec);
            Ok(m)
        }),
    ]
}

/// The entry named `name`.
pub fn find_check(name: &str) -> Result<CheckEntry, LabError> {
    let all = check_entries();
    all.iter().find(|e| e.name == name).copied().ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|e| e.name).collect();
        LabError::new(format!(
            "no checkable model '{name}' (models: {})",
            names.join(", ")
        ))
    })
}
